// SPDX-License-Identifier: GPL-2.0
/*
 * Guest state in the VMCB: power-on state and intercepts, conversion of
 * segments and control registers between the KVM ABI and the VMCB, and
 * the views of it the core's emulation asks for (paging mode, segment
 * bases, interrupt shadow, exit information).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/string.h>
#include <asm/msr-index.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>

#include "svm.h"

/* Segments: VMCB attributes are descriptor bits 40-47 and 52-55. */
static void seg_from_kvm(struct vmcb_seg *s, const struct kvm_segment *k)
{
	s->selector = k->selector;
	s->base = k->base;
	s->limit = k->limit;
	if (k->unusable || !k->present)
		s->attrib = 0;
	else
		s->attrib = (k->type & 0xf) | (k->s & 1) << 4 |
			    (k->dpl & 3) << 5 | (k->present & 1) << 7 |
			    (k->avl & 1) << 8 | (k->l & 1) << 9 |
			    (k->db & 1) << 10 | (k->g & 1) << 11;
}

static void seg_to_kvm(struct kvm_segment *k, const struct vmcb_seg *s)
{
	memset(k, 0, sizeof(*k));
	k->selector = s->selector;
	k->base = s->base;
	k->limit = s->limit;
	k->type = s->attrib & 0xf;
	k->s = (s->attrib >> 4) & 1;
	k->dpl = (s->attrib >> 5) & 3;
	k->present = (s->attrib >> 7) & 1;
	k->avl = (s->attrib >> 8) & 1;
	k->l = (s->attrib >> 9) & 1;
	k->db = (s->attrib >> 10) & 1;
	k->g = (s->attrib >> 11) & 1;
	k->unusable = !k->present;
}

static void set_seg(struct vmcb_seg *s, u16 sel, u64 base, u32 limit,
		    u16 attrib)
{
	s->selector = sel;
	s->base = base;
	s->limit = limit;
	s->attrib = attrib;
}

/*
 * Power-on state of what the VMCB holds (APM vol. 2, 14.1.3), as KVM
 * presents it, or after an INIT (@init), and the intercepts every vCPU
 * runs with.
 */
void vmcb_reset(struct vmm_vcpu *vcpu, u64 iopm_pa, u64 msrpm_pa, bool init)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct svm_vm *svm_vm = to_svm_vm(vcpu->vm);
	struct vmcb_control *c = &svm->vmcb->control;
	struct vmcb_save *s = &svm->vmcb->save;
	u64 tsc_offset = c->tsc_offset;

	memset(svm->vmcb, 0, PAGE_SIZE);

	/* CR4 writes are checked: no LA57 and nothing the host lacks. */
	c->intercept_cr = SVM_ICR_WRITE(4);
	/* CR8 is the LAPIC's TPR: its writes go through the LAPIC. */
	if (vcpu->vm->irqchip)
		c->intercept_cr |= SVM_ICR_WRITE(8);
	c->intercept_dr = 0x000f000f;	/* DR0-3: kept in svm->db */
	c->intercept_misc1 = SVM_I1_INTR | SVM_I1_NMI | SVM_I1_SMI |
			     SVM_I1_RDPMC | SVM_I1_CPUID | SVM_I1_INVD | SVM_I1_HLT |
			     SVM_I1_INVLPGA | SVM_I1_IOIO | SVM_I1_MSR |
			     SVM_I1_SHUTDOWN;
	c->intercept_misc2 = SVM_I2_VMRUN | SVM_I2_VMMCALL | SVM_I2_VMLOAD |
			     SVM_I2_VMSAVE | SVM_I2_STGI | SVM_I2_CLGI |
			     SVM_I2_SKINIT | SVM_I2_MONITOR | SVM_I2_MWAIT |
			     SVM_I2_MWAIT_COND | SVM_I2_XSETBV | SVM_I2_RDPRU;
	c->iopm_base_pa = iopm_pa;
	c->msrpm_base_pa = msrpm_pa;
	/* INIT does not touch the TSC. */
	c->tsc_offset = init ? tsc_offset : vcpu->vm->tsc_offset;
	c->int_ctl = SVM_V_INTR_MASKING;
	c->np_control = 1;
	c->n_cr3 = virt_to_phys(svm_vm->npt_root);
	svm->asid_cpu = -1;

	set_seg(&s->cs, 0xf000, 0xffff0000, 0xffff, 0x9b);
	set_seg(&s->ds, 0, 0, 0xffff, 0x93);
	s->es = s->ds;
	s->ss = s->ds;
	s->fs = s->ds;
	s->gs = s->ds;
	set_seg(&s->gdtr, 0, 0, 0xffff, 0);
	set_seg(&s->idtr, 0, 0, 0xffff, 0);
	set_seg(&s->ldtr, 0, 0, 0xffff, 0x82);
	set_seg(&s->tr, 0, 0, 0xffff, 0x8b);
	s->efer = EFER_SVME;
	s->cr0 = X86_CR0_NW | X86_CR0_CD | X86_CR0_ET;
	s->dr6 = 0xffff0ff0;
	s->dr7 = 0x400;
	s->g_pat = 0x0007040600070406ULL;
}

void vmcb_get_sregs(struct vmm_vcpu *vcpu, struct kvm_sregs *sr)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save *s = &svm->vmcb->save;

	seg_to_kvm(&sr->cs, &s->cs);
	seg_to_kvm(&sr->ds, &s->ds);
	seg_to_kvm(&sr->es, &s->es);
	seg_to_kvm(&sr->fs, &s->fs);
	seg_to_kvm(&sr->gs, &s->gs);
	seg_to_kvm(&sr->ss, &s->ss);
	seg_to_kvm(&sr->tr, &s->tr);
	seg_to_kvm(&sr->ldt, &s->ldtr);
	sr->gdt.base = s->gdtr.base;
	sr->gdt.limit = s->gdtr.limit;
	sr->idt.base = s->idtr.base;
	sr->idt.limit = s->idtr.limit;
	sr->cr0 = s->cr0;
	sr->cr2 = s->cr2;
	sr->cr3 = s->cr3;
	sr->cr4 = s->cr4;
	sr->cr8 = svm->vmcb->control.int_ctl & SVM_V_TPR_MASK;
	sr->efer = s->efer & ~EFER_SVME;
}

void vmcb_set_sregs(struct vmm_vcpu *vcpu, const struct kvm_sregs *sr)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save *s = &svm->vmcb->save;
	struct vmcb_control *c = &svm->vmcb->control;

	seg_from_kvm(&s->cs, &sr->cs);
	seg_from_kvm(&s->ds, &sr->ds);
	seg_from_kvm(&s->es, &sr->es);
	seg_from_kvm(&s->fs, &sr->fs);
	seg_from_kvm(&s->gs, &sr->gs);
	seg_from_kvm(&s->ss, &sr->ss);
	seg_from_kvm(&s->tr, &sr->tr);
	seg_from_kvm(&s->ldtr, &sr->ldt);
	s->gdtr.base = sr->gdt.base;
	s->gdtr.limit = sr->gdt.limit;
	s->idtr.base = sr->idt.base;
	s->idtr.limit = sr->idt.limit;
	s->cr0 = sr->cr0;
	s->cr2 = sr->cr2;
	s->cr3 = sr->cr3;
	s->cr4 = sr->cr4;
	s->efer = sr->efer | EFER_SVME;
	s->cpl = (sr->cr0 & X86_CR0_PE) ? sr->ss.dpl : 0;
	c->int_ctl = (c->int_ctl & ~SVM_V_TPR_MASK) | sr->cr8;
	/* New register state: any cached translation is stale. */
	svm->asid_cpu = -1;
}

void vmcb_get_cpu_mode(struct vmm_vcpu *vcpu, struct vmm_cpu_mode *m)
{
	struct vmcb_save *s = &to_svm(vcpu)->vmcb->save;

	m->cr0 = s->cr0;
	m->cr3 = s->cr3;
	m->cr4 = s->cr4;
	m->efer = s->efer;
	m->seg_base[VMM_SEG_ES] = s->es.base;
	m->seg_base[VMM_SEG_CS] = s->cs.base;
	m->seg_base[VMM_SEG_SS] = s->ss.base;
	m->seg_base[VMM_SEG_DS] = s->ds.base;
	m->seg_base[VMM_SEG_FS] = s->fs.base;
	m->seg_base[VMM_SEG_GS] = s->gs.base;
	m->cs_l = s->cs.attrib & VMCB_ATTR_L;
	m->cs_db = s->cs.attrib & VMCB_ATTR_DB;
}

void vmcb_clear_int_shadow(struct vmm_vcpu *vcpu)
{
	to_svm(vcpu)->vmcb->control.int_state &= ~SVM_INT_SHADOW;
}

void vmcb_get_debugregs(struct vmm_vcpu *vcpu, struct kvm_debugregs *d)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	memset(d, 0, sizeof(*d));
	memcpy(d->db, svm->db, sizeof(d->db));
	d->dr6 = svm->vmcb->save.dr6;
	d->dr7 = svm->vmcb->save.dr7;
}

int vmcb_set_debugregs(struct vmm_vcpu *vcpu, const struct kvm_debugregs *d)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	/* Bits 63:32 of DR6 and DR7 are reserved (MBZ). */
	if (d->flags || d->dr6 >> 32 || d->dr7 >> 32)
		return -EINVAL;
	memcpy(svm->db, d->db, sizeof(svm->db));
	svm->vmcb->save.dr6 = (d->dr6 & 0xffff0fffULL) | 0xffff0ff0ULL;
	svm->vmcb->save.dr7 = (d->dr7 & 0xffff2fffULL) | 0x400;
	return 0;
}

u64 vmcb_get_cr8(struct vmm_vcpu *vcpu)
{
	return to_svm(vcpu)->vmcb->control.int_ctl & SVM_V_TPR_MASK;
}

/* Exit code, EXITINFO1, EXITINFO2. */
void vmcb_get_exit_info(struct vmm_vcpu *vcpu, u64 info[3])
{
	struct vmcb_control *c = &to_svm(vcpu)->vmcb->control;

	info[0] = c->exit_code;
	info[1] = c->exit_info1;
	info[2] = c->exit_info2;
}
