// SPDX-License-Identifier: GPL-2.0
/*
 * Guest and host state in the VMCS: the controls and host fields every
 * VMCS starts with, power-on state, conversion of segments and control
 * registers between the KVM ABI and the VMCS, and the views of it the
 * core's emulation asks for.  Every function here runs with the vCPU's
 * VMCS current on this CPU (between the backend's vcpu_load and vcpu_put).
 *
 * CR0 and CR4 are split (SDM vol. 3C, 26.3 "Changes to Instruction
 * Behavior in VMX Non-Root Operation"): the bits in the guest/host masks
 * are ours, the guest reads them from the read shadows and a MOV that
 * would change them exits.  We own every CR0 bit but TS, MP, EM, WP and
 * AM: so PE and PG changes exit and EFER.LMA, the "IA-32e mode guest"
 * entry control and the PAE PDPTEs follow them here, CD and NW never
 * reach the hardware (a guest with caches off would run uncached), and NE
 * and the other bits IA32_VMX_CR0_FIXED0 wants set stay set.  Of CR4 the
 * guest owns what needs no help (TSD, DE, PGE, PCE, OSFXSR, OSXMMEXCPT,
 * FSGSBASE); VMXE, which VMX operation needs set, reads as 0.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/io.h>
#include <linux/srcu.h>
#include <asm/cpu_entry_area.h>
#include <asm/desc.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/segment.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>

#include "vmx.h"

#define CR0_GUEST_BITS	(X86_CR0_TS | X86_CR0_MP | X86_CR0_EM | \
			 X86_CR0_WP | X86_CR0_AM)
#define CR4_GUEST_BITS	(X86_CR4_TSD | X86_CR4_DE | X86_CR4_PGE | \
			 X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT | \
			 X86_CR4_FSGSBASE)

/* Segment registers in VMCS order (that of enum vmm_seg), then LDTR, TR. */
#define SEG_LDTR	6
#define SEG_TR		7

static unsigned long seg_field(unsigned long es_field, int seg)
{
	return es_field + 2 * seg;
}

/* ---- Controls and host state ---- */

/*
 * Everything that stays for the VMCS's life.  @io_bitmap_pa: two pages,
 * every port exits; @msr_bitmap_pa: one page, every MSR exits.
 */
void vmx_vmcs_setup(struct vmm_vcpu *vcpu, u64 io_bitmap_pa,
		    u64 msr_bitmap_pa)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	struct desc_ptr idt;
	u64 msr;

	vmcs_write(VMCS_LINK_POINTER, ~0ULL);
	vmcs_write(VMCS_PIN_CTLS, vmx_caps.pin);
	vmcs_write(VMCS_PROC_CTLS, vmx_caps.proc);
	vmcs_write(VMCS_PROC_CTLS2, vmx_caps.proc2);
	vmcs_write(VMCS_EXIT_CTLS, vmx_caps.exit);
	vmcs_write(VMCS_ENTRY_CTLS, vmx_caps.entry);
	vmcs_write(VMCS_EXCEPTION_BITMAP, 0);
	vmcs_write(VMCS_PF_ERR_MASK, 0);
	vmcs_write(VMCS_PF_ERR_MATCH, 0);
	vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
	vmcs_write(VMCS_IO_BITMAP_A, io_bitmap_pa);
	vmcs_write(VMCS_IO_BITMAP_B, io_bitmap_pa + PAGE_SIZE);
	vmcs_write(VMCS_MSR_BITMAP, msr_bitmap_pa);
	vmcs_write(VMCS_EPT_POINTER, to_vmx_vm(vcpu->vm)->eptp);
	if (vmx_caps.vpid)
		vmcs_write(VMCS_VPID, vmx->vpid);
	if (vmx_caps.preempt_timer)
		vmcs_write(VMCS_GUEST_PREEMPT_TIMER, vmx_caps.preempt_timer);
	vmcs_write(VMCS_CR0_MASK, ~(u64)CR0_GUEST_BITS);
	vmcs_write(VMCS_CR4_MASK, ~(u64)CR4_GUEST_BITS);

	/* The MSRs without VMCS fields (vmx_msr.c). */
	vmcs_write(VMCS_ENTRY_MSR_LOAD_ADDR, virt_to_phys(vmx->guest_msrs));
	vmcs_write(VMCS_EXIT_MSR_STORE_ADDR, virt_to_phys(vmx->guest_msrs));
	vmcs_write(VMCS_EXIT_MSR_LOAD_ADDR, virt_to_phys(vmx->host_msrs));
	vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, VMX_NR_AUTO_MSRS);
	vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, VMX_NR_AUTO_MSRS);
	vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, VMX_NR_AUTO_MSRS);

	/*
	 * Host state that is the same on every CPU (28.5).  Data segment
	 * selectors are 0; vmx.c puts back what the task had.
	 */
	vmcs_write(VMCS_HOST_CR0, read_cr0());
	vmcs_write(VMCS_HOST_CS_SEL, __KERNEL_CS);
	vmcs_write(VMCS_HOST_SS_SEL, __KERNEL_DS);
	vmcs_write(VMCS_HOST_DS_SEL, 0);
	vmcs_write(VMCS_HOST_ES_SEL, 0);
	vmcs_write(VMCS_HOST_FS_SEL, 0);
	vmcs_write(VMCS_HOST_GS_SEL, 0);
	vmcs_write(VMCS_HOST_TR_SEL, GDT_ENTRY_TSS * 8);
	store_idt(&idt);
	vmcs_write(VMCS_HOST_IDTR_BASE, idt.address);
	rdmsrl(MSR_IA32_SYSENTER_CS, msr);
	vmcs_write(VMCS_HOST_SYSENTER_CS, msr);
	rdmsrl(MSR_IA32_SYSENTER_EIP, msr);
	vmcs_write(VMCS_HOST_SYSENTER_EIP, msr);
	rdmsrl(MSR_IA32_CR_PAT, msr);
	vmcs_write(VMCS_HOST_PAT, msr);
	rdmsrl(MSR_EFER, msr);
	vmcs_write(VMCS_HOST_EFER, msr);
	vmcs_write(VMCS_HOST_RIP, (unsigned long)vmx_vmexit);
	vmx->host_cr3 = 0;
	vmx->host_cr4 = 0;
	vmx->host_fs_base = 0;
}

/* Host state of the CPU the VMCS was just loaded on (called there). */
void vmx_vmcs_host_cpu(struct vmx_vcpu *vmx, int cpu)
{
	struct desc_ptr gdt;
	u64 msr;

	native_store_gdt(&gdt);
	vmcs_write(VMCS_HOST_GDTR_BASE, gdt.address);
	vmcs_write(VMCS_HOST_TR_BASE,
		   (unsigned long)&get_cpu_entry_area(cpu)->tss.x86_tss);
	rdmsrl(MSR_GS_BASE, msr);
	vmcs_write(VMCS_HOST_GS_BASE, msr);
	rdmsrl(MSR_IA32_SYSENTER_ESP, msr);
	vmcs_write(VMCS_HOST_SYSENTER_ESP, msr);
}

/* ---- Guest state ---- */

static void set_seg(int seg, u16 sel, u64 base, u32 limit, u32 ar)
{
	vmcs_write(seg_field(VMCS_GUEST_ES_SEL, seg), sel);
	vmcs_write(seg_field(VMCS_GUEST_ES_BASE, seg), base);
	vmcs_write(seg_field(VMCS_GUEST_ES_LIMIT, seg), limit);
	vmcs_write(seg_field(VMCS_GUEST_ES_AR, seg), ar);
}

static void seg_from_kvm(int seg, const struct kvm_segment *k)
{
	u32 ar;

	if (k->unusable || !k->present)
		ar = SEG_AR_UNUSABLE;
	else
		ar = (k->type & 0xf) | (k->s & 1) << 4 | (k->dpl & 3) << 5 |
		     SEG_AR_P | (k->avl & 1) << 12 | (k->l & 1) << 13 |
		     (k->db & 1) << 14 | (k->g & 1) << 15;
	set_seg(seg, k->selector, k->base, k->limit, ar);
}

static void seg_to_kvm(struct kvm_segment *k, int seg)
{
	u32 ar = vmcs_read(seg_field(VMCS_GUEST_ES_AR, seg));

	memset(k, 0, sizeof(*k));
	k->selector = vmcs_read(seg_field(VMCS_GUEST_ES_SEL, seg));
	k->base = vmcs_read(seg_field(VMCS_GUEST_ES_BASE, seg));
	k->limit = vmcs_read(seg_field(VMCS_GUEST_ES_LIMIT, seg));
	k->type = SEG_AR_TYPE(ar);
	k->s = !!(ar & SEG_AR_S);
	k->dpl = SEG_AR_DPL(ar);
	k->present = !!(ar & SEG_AR_P);
	k->avl = !!(ar & SEG_AR_AVL);
	k->l = !!(ar & SEG_AR_L);
	k->db = !!(ar & SEG_AR_DB);
	k->g = !!(ar & SEG_AR_G);
	k->unusable = !!(ar & SEG_AR_UNUSABLE);
	if (k->unusable)
		k->present = 0;
}

/* The guest's view of CR0 and CR4: its own bits as they run, ours shadowed. */
u64 vmx_guest_cr0(void)
{
	return (vmcs_read(VMCS_GUEST_CR0) & CR0_GUEST_BITS) |
	       (vmcs_read(VMCS_CR0_SHADOW) & ~(u64)CR0_GUEST_BITS);
}

u64 vmx_guest_cr4(void)
{
	return (vmcs_read(VMCS_GUEST_CR4) & CR4_GUEST_BITS) |
	       (vmcs_read(VMCS_CR4_SHADOW) & ~(u64)CR4_GUEST_BITS);
}

/* EFER as given; LMA decides the "IA-32e mode guest" entry control. */
void vmx_set_efer(struct vmm_vcpu *vcpu, u64 efer)
{
	vmcs_write(VMCS_GUEST_EFER, efer);
	if (efer & EFER_LMA)
		vmcs_set_bits(VMCS_ENTRY_CTLS, ENTRY_IA32E);
	else
		vmcs_clear_bits(VMCS_ENTRY_CTLS, ENTRY_IA32E);
}

/*
 * The four PDPTEs of PAE paging: with EPT, VM entry loads them from the
 * VMCS, not from memory (27.3.2.4), so whoever changes CR0/CR3/CR4 into
 * PAE paging from outside the guest reloads them.
 */
void vmx_load_pdptes(struct vmm_vcpu *vcpu)
{
	u64 cr3 = vmcs_read(VMCS_GUEST_CR3), pdpte[4] = { 0 };
	int i, idx;

	idx = srcu_read_lock(&vcpu->vm->srcu);
	if (vmm_read_guest(vcpu->vm, cr3 & 0xffffffe0, pdpte, sizeof(pdpte)))
		memset(pdpte, 0, sizeof(pdpte));
	srcu_read_unlock(&vcpu->vm->srcu, idx);
	for (i = 0; i < 4; i++)
		vmcs_write(VMCS_GUEST_PDPTE0 + 2 * i, pdpte[i]);
}

static bool pae_paging(u64 cr0, u64 cr4, u64 efer)
{
	return (cr0 & X86_CR0_PG) && (cr4 & X86_CR4_PAE) && !(efer & EFER_LMA);
}

/*
 * A new guest CR0 (KVM_SET_SREGS, or a MOV the guest executed): the read
 * shadow gets the guest's view, the VMCS what runs, and paging changes
 * switch long mode on or off as the CPU would.  0, or -EINVAL where the
 * CPU raises #GP (the caller decides what to do with it).
 */
int vmx_set_cr0(struct vmm_vcpu *vcpu, u64 cr0)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 old = vmx_guest_cr0(), efer = vmcs_read(VMCS_GUEST_EFER);
	u64 cr4 = vmx_guest_cr4(), fixed0, hw;

	if (cr0 >> 32 || ((cr0 & X86_CR0_PG) && !(cr0 & X86_CR0_PE)) ||
	    ((cr0 & X86_CR0_NW) && !(cr0 & X86_CR0_CD)))
		return -EINVAL;
	if ((cr0 & X86_CR0_PG) && !(old & X86_CR0_PG) && (efer & EFER_LME)) {
		if (!(cr4 & X86_CR4_PAE))
			return -EINVAL;
		efer |= EFER_LMA;
		vmx_set_efer(vcpu, efer);
	} else if (!(cr0 & X86_CR0_PG) && (efer & EFER_LMA)) {
		efer &= ~EFER_LMA;
		vmx_set_efer(vcpu, efer);
	}

	/* Unrestricted guest: PE and PG are the guest's to clear (27.3.1.1). */
	fixed0 = vmx_caps.cr0_fixed0 & ~(u64)(X86_CR0_PE | X86_CR0_PG);
	hw = ((cr0 & ~(u64)(X86_CR0_CD | X86_CR0_NW)) | fixed0 | X86_CR0_ET) &
	     vmx_caps.cr0_fixed1;
	vmcs_write(VMCS_CR0_SHADOW, cr0);
	vmcs_write(VMCS_GUEST_CR0, hw);
	if ((cr0 ^ old) & (X86_CR0_PG | X86_CR0_WP | X86_CR0_PE))
		vmx_flush_guest_tlb(vmx);
	if (pae_paging(cr0, cr4, efer))
		vmx_load_pdptes(vcpu);
	return 0;
}

/* A new guest CR4; -EINVAL where the CPU raises #GP. */
int vmx_set_cr4(struct vmm_vcpu *vcpu, u64 cr4)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 efer = vmcs_read(VMCS_GUEST_EFER), cr0 = vmx_guest_cr0();

	/* What we support (no LA57, no VMXE: no nested VMX), and the CPU. */
	if (!vmm_cr4_valid(cr4) || cr4 & ~vmx_caps.cr4_fixed1)
		return -EINVAL;
	if ((efer & EFER_LMA) && !(cr4 & X86_CR4_PAE))
		return -EINVAL;
	vmcs_write(VMCS_CR4_SHADOW, cr4);
	vmcs_write(VMCS_GUEST_CR4, (cr4 | vmx_caps.cr4_fixed0) &
		   vmx_caps.cr4_fixed1);
	vmx_flush_guest_tlb(vmx);
	if (pae_paging(cr0, cr4, efer))
		vmx_load_pdptes(vcpu);
	return 0;
}

/* Power-on state (SDM vol. 3A, 10.1.1, table 10-1), as KVM presents it. */
void vmx_vmcs_reset(struct vmm_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	set_seg(VMM_SEG_CS, 0xf000, 0xffff0000, 0xffff, 0x9b);
	set_seg(VMM_SEG_DS, 0, 0, 0xffff, 0x93);
	set_seg(VMM_SEG_ES, 0, 0, 0xffff, 0x93);
	set_seg(VMM_SEG_SS, 0, 0, 0xffff, 0x93);
	set_seg(VMM_SEG_FS, 0, 0, 0xffff, 0x93);
	set_seg(VMM_SEG_GS, 0, 0, 0xffff, 0x93);
	set_seg(SEG_LDTR, 0, 0, 0xffff, 0x82);
	set_seg(SEG_TR, 0, 0, 0xffff, 0x8b);
	vmcs_write(VMCS_GUEST_GDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, 0xffff);
	vmcs_write(VMCS_GUEST_IDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0xffff);

	vmcs_write(VMCS_ENTRY_CTLS, vmx_caps.entry);
	vmcs_write(VMCS_GUEST_EFER, 0);
	vmcs_write(VMCS_GUEST_CR3, 0);
	vmcs_write(VMCS_GUEST_CR0, 0);	/* so vmx_set_cr0 sees no paging */
	vmcs_write(VMCS_CR0_SHADOW, 0);
	vmcs_write(VMCS_GUEST_CR4, 0);
	vmcs_write(VMCS_CR4_SHADOW, 0);
	vmx_set_cr4(vcpu, 0);
	vmx_set_cr0(vcpu, X86_CR0_NW | X86_CR0_CD | X86_CR0_ET);
	vmx->cr8 = 0;
	vmx->cr2 = 0;
	vmx->dr6 = 0xffff0ff0;
	vmcs_write(VMCS_GUEST_DR7, 0x400);
	vmcs_write(VMCS_GUEST_DEBUGCTL, 0);
	vmcs_write(VMCS_GUEST_PAT, 0x0007040600070406ULL);
	vmcs_write(VMCS_GUEST_SYSENTER_CS, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_ESP, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_EIP, 0);
	vmcs_write(VMCS_GUEST_ACTIVITY, 0);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmcs_write(VMCS_GUEST_PENDING_DBG, 0);
	vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
	vmcs_write(VMCS_TSC_OFFSET, vcpu->vm->tsc_offset);
	vmcs_clear_bits(VMCS_PROC_CTLS, PROC_INTR_WINDOW_EXIT);
	vmx_msrs_init(vmx);
	vmx_flush_guest_tlb(vmx);
}

void vmx_get_sregs(struct vmm_vcpu *vcpu, struct kvm_sregs *sr)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	seg_to_kvm(&sr->es, VMM_SEG_ES);
	seg_to_kvm(&sr->cs, VMM_SEG_CS);
	seg_to_kvm(&sr->ss, VMM_SEG_SS);
	seg_to_kvm(&sr->ds, VMM_SEG_DS);
	seg_to_kvm(&sr->fs, VMM_SEG_FS);
	seg_to_kvm(&sr->gs, VMM_SEG_GS);
	seg_to_kvm(&sr->ldt, SEG_LDTR);
	seg_to_kvm(&sr->tr, SEG_TR);
	sr->gdt.base = vmcs_read(VMCS_GUEST_GDTR_BASE);
	sr->gdt.limit = vmcs_read(VMCS_GUEST_GDTR_LIMIT);
	sr->idt.base = vmcs_read(VMCS_GUEST_IDTR_BASE);
	sr->idt.limit = vmcs_read(VMCS_GUEST_IDTR_LIMIT);
	sr->cr0 = vmx_guest_cr0();
	sr->cr2 = vmx->cr2;
	sr->cr3 = vmcs_read(VMCS_GUEST_CR3);
	sr->cr4 = vmx_guest_cr4();
	sr->cr8 = vmx->cr8;
	sr->efer = vmcs_read(VMCS_GUEST_EFER);
}

void vmx_set_sregs(struct vmm_vcpu *vcpu, const struct kvm_sregs *sr)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	seg_from_kvm(VMM_SEG_ES, &sr->es);
	seg_from_kvm(VMM_SEG_CS, &sr->cs);
	seg_from_kvm(VMM_SEG_SS, &sr->ss);
	seg_from_kvm(VMM_SEG_DS, &sr->ds);
	seg_from_kvm(VMM_SEG_FS, &sr->fs);
	seg_from_kvm(VMM_SEG_GS, &sr->gs);
	seg_from_kvm(SEG_LDTR, &sr->ldt);
	seg_from_kvm(SEG_TR, &sr->tr);
	vmcs_write(VMCS_GUEST_GDTR_BASE, sr->gdt.base);
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, sr->gdt.limit);
	vmcs_write(VMCS_GUEST_IDTR_BASE, sr->idt.base);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, sr->idt.limit);
	vmx->cr2 = sr->cr2;
	vmcs_write(VMCS_GUEST_CR3, sr->cr3);
	/*
	 * The whole state at once, checked by the core: EFER as given (LMA
	 * included), then CR4 and CR0 without the transitions a guest MOV
	 * makes.  What VM entry still refuses comes back as
	 * KVM_EXIT_FAIL_ENTRY.
	 */
	vmx_set_efer(vcpu, sr->efer);
	vmcs_write(VMCS_CR4_SHADOW, sr->cr4);
	vmcs_write(VMCS_GUEST_CR4, (sr->cr4 | vmx_caps.cr4_fixed0) &
		   vmx_caps.cr4_fixed1);
	vmcs_write(VMCS_CR0_SHADOW, sr->cr0);
	vmcs_write(VMCS_GUEST_CR0, ((sr->cr0 & ~(u64)(X86_CR0_CD | X86_CR0_NW)) |
		   (vmx_caps.cr0_fixed0 & ~(u64)(X86_CR0_PE | X86_CR0_PG)) |
		   X86_CR0_ET) & vmx_caps.cr0_fixed1);
	vmx->cr8 = sr->cr8;
	if (pae_paging(sr->cr0, sr->cr4, sr->efer))
		vmx_load_pdptes(vcpu);
	vmx_flush_guest_tlb(vmx);
}

void vmx_get_cpu_mode(struct vmm_vcpu *vcpu, struct vmm_cpu_mode *m)
{
	u32 cs_ar = vmcs_read(VMCS_GUEST_ES_AR + 2 * VMM_SEG_CS);
	int seg;

	m->cr0 = vmx_guest_cr0();
	m->cr3 = vmcs_read(VMCS_GUEST_CR3);
	m->cr4 = vmx_guest_cr4();
	m->efer = vmcs_read(VMCS_GUEST_EFER);
	for (seg = VMM_SEG_ES; seg <= VMM_SEG_GS; seg++)
		m->seg_base[seg] = vmcs_read(seg_field(VMCS_GUEST_ES_BASE, seg));
	m->cs_l = cs_ar & SEG_AR_L;
	m->cs_db = cs_ar & SEG_AR_DB;
}

/* SIPI: real mode, CS = vector << 8 (the core set IP to 0; SDM 8.4.4). */
void vmx_sipi(struct vmm_vcpu *vcpu, u8 vector)
{
	set_seg(VMM_SEG_CS, vector << 8, (u64)vector << 12, 0xffff, 0x9b);
}

void vmx_clear_int_shadow(struct vmm_vcpu *vcpu)
{
	u32 s = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);

	if (s & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
		vmcs_write(VMCS_GUEST_INTERRUPTIBILITY,
			   s & ~(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

u64 vmx_get_cr8(struct vmm_vcpu *vcpu)
{
	return to_vmx(vcpu)->cr8;
}

/* Exit reason, exit qualification, guest-physical address. */
void vmx_get_exit_info(struct vmm_vcpu *vcpu, u64 info[3])
{
	info[0] = vmcs_read(VMCS_EXIT_REASON);
	info[1] = vmcs_read(VMCS_EXIT_QUAL);
	info[2] = vmcs_read(VMCS_GUEST_PHYS_ADDR);
}
