// SPDX-License-Identifier: GPL-2.0
/*
 * The SVM run loop and its exit handlers.
 *
 * The CPUs we run on may lack NRIP save and decode assists (QEMU's SVM
 * model has neither), so the next RIP comes from EXITINFO2 for I/O and
 * from our own decoder for everything else, and MMIO instructions are
 * fetched from guest memory and decoded here.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/moduleparam.h>
#include <linux/io.h>
#include <linux/sched/signal.h>
#include <linux/smp.h>
#include <asm/debugreg.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include <asm/msr.h>

#include "svm.h"
#include "vmm_decode.h"

/* Handler results. */
#define EXIT_CONTINUE	1	/* re-enter the guest */
#define EXIT_USER	0	/* return to userspace, run->exit_reason set */

#define X86_VEC_UD	6
#define X86_VEC_GP	13

static u64 svm_host_xcr0;

static bool trace_exits;
module_param(trace_exits, bool, 0644);
MODULE_PARM_DESC(trace_exits, "log every guest exit (debugging)");

static void svm_inject_exc(struct svm_vcpu *svm, unsigned int vec,
			   bool has_err, u32 err)
{
	struct vmcb *v = svm->vmcb;
	u64 ev = vec | SVM_EVT_TYPE_EXC | SVM_EVT_VALID;

	/* Real mode has no error codes; VMRUN rejects them there. */
	if (has_err && (v->save.cr0 & X86_CR0_PE))
		ev |= SVM_EVT_EV | (u64)err << 32;
	v->control.event_inj = ev;
}

static int svm_internal_error(struct vmm_vcpu *vcpu, u32 suberror)
{
	struct vmcb_control *c = &to_svm(vcpu)->vmcb->control;
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->internal.suberror = suberror;
	run->internal.ndata = 4;
	run->internal.data[0] = c->exit_code;
	run->internal.data[1] = c->exit_info1;
	run->internal.data[2] = c->exit_info2;
	run->internal.data[3] = to_svm(vcpu)->vmcb->save.rip;
	return EXIT_USER;
}

/* Guest code size in bytes: 2, 4 or 8. */
static unsigned int svm_code_mode(struct vmcb_save *s)
{
	if ((s->efer & EFER_LMA) && (s->cs.attrib & BIT(9)))
		return 8;
	if (!(s->cr0 & X86_CR0_PE))
		return 2;
	return s->cs.attrib & BIT(10) ? 4 : 2;
}

static int svm_read_pte(struct vmm_vm *vm, u64 gpa, unsigned int size,
			u64 *pte)
{
	*pte = 0;
	return vmm_read_guest(vm, gpa, pte, size);
}

/*
 * Translate a guest linear address with the guest's own page tables
 * (no access-rights checks: the hardware already fetched this code).
 */
static int svm_gva_to_gpa(struct vmm_vcpu *vcpu, u64 gva, u64 *gpa)
{
	struct vmcb_save *s = &to_svm(vcpu)->vmcb->save;
	u64 pte, addr = GENMASK_ULL(51, 12);
	int level, ret;

	if (!(s->cr0 & X86_CR0_PG)) {
		*gpa = gva & 0xffffffff;
		return 0;
	}
	if (s->efer & EFER_LMA) {
		u64 table = s->cr3 & addr;

		for (level = 3; level >= 0; level--) {
			ret = svm_read_pte(vcpu->vm, table +
					   ((gva >> (12 + 9 * level)) & 511) * 8,
					   8, &pte);
			if (ret || !(pte & 1))
				return -EFAULT;
			if (level == 0 || (level <= 2 && (pte & BIT(7)))) {
				u64 span = 1ULL << (12 + 9 * level);

				*gpa = (pte & addr & ~(span - 1)) |
				       (gva & (span - 1));
				return 0;
			}
			table = pte & addr;
		}
		return -EFAULT;
	}
	if (s->cr4 & X86_CR4_PAE) {
		u64 table;

		ret = svm_read_pte(vcpu->vm, (s->cr3 & 0xffffffe0) +
				   ((gva >> 30) & 3) * 8, 8, &pte);
		if (ret || !(pte & 1))
			return -EFAULT;
		table = pte & addr;
		for (level = 1; level >= 0; level--) {
			ret = svm_read_pte(vcpu->vm, table +
					   ((gva >> (12 + 9 * level)) & 511) * 8,
					   8, &pte);
			if (ret || !(pte & 1))
				return -EFAULT;
			if (level == 0 || (pte & BIT(7))) {
				u64 span = 1ULL << (12 + 9 * level);

				*gpa = (pte & addr & ~(span - 1)) |
				       (gva & (span - 1));
				return 0;
			}
			table = pte & addr;
		}
		return -EFAULT;
	}
	/* Legacy 32-bit paging, 4 MiB pages with CR4.PSE. */
	ret = svm_read_pte(vcpu->vm, (s->cr3 & 0xfffff000) +
			   ((gva >> 22) & 1023) * 4, 4, &pte);
	if (ret || !(pte & 1))
		return -EFAULT;
	if ((pte & BIT(7)) && (s->cr4 & X86_CR4_PSE)) {
		*gpa = (pte & 0xffc00000) | (gva & 0x3fffff);
		return 0;
	}
	ret = svm_read_pte(vcpu->vm, (pte & 0xfffff000) +
			   ((gva >> 12) & 1023) * 4, 4, &pte);
	if (ret || !(pte & 1))
		return -EFAULT;
	*gpa = (pte & 0xfffff000) | (gva & 0xfff);
	return 0;
}

/* Fetch and decode the instruction at CS:RIP. */
static int svm_decode_current(struct vmm_vcpu *vcpu, struct vmm_insn *insn)
{
	struct vmcb_save *s = &to_svm(vcpu)->vmcb->save;
	unsigned int mode = svm_code_mode(s), got = 0;
	u8 bytes[VMM_INSN_MAX_LEN];
	u64 lin = mode == 8 ? s->rip : (u32)(s->cs.base + s->rip);

	while (got < sizeof(bytes)) {
		u64 gva = lin + got, gpa;
		unsigned int n = min_t(unsigned int, sizeof(bytes) - got,
				       PAGE_SIZE - offset_in_page(gva));

		if (mode != 8)
			gva &= 0xffffffff;
		if (svm_gva_to_gpa(vcpu, gva, &gpa) ||
		    vmm_read_guest(vcpu->vm, gpa, bytes + got, n))
			break;
		got += n;
	}
	if (!got)
		return -EFAULT;
	return vmm_decode(bytes, got, mode, insn) ? -EINVAL : 0;
}

static u64 svm_rip_mask(struct vmcb_save *s)
{
	return svm_code_mode(s) == 8 ? ~0ULL : 0xffffffffULL;
}

/* Step over the intercepted instruction (no NRIP save to trust). */
static int svm_skip_insn(struct vmm_vcpu *vcpu)
{
	struct vmcb_save *s = &to_svm(vcpu)->vmcb->save;
	struct vmm_insn insn;

	if (svm_decode_current(vcpu, &insn))
		return svm_internal_error(vcpu,
					  KVM_INTERNAL_ERROR_EMULATION);
	s->rip = (s->rip + insn.len) & svm_rip_mask(s);
	to_svm(vcpu)->vmcb->control.int_state &= ~SVM_INT_SHADOW;
	return EXIT_CONTINUE;
}

static unsigned long svm_get_gpr(struct svm_vcpu *svm, unsigned int reg)
{
	if (reg == SVM_RAX)
		return svm->vmcb->save.rax;
	if (reg == SVM_RSP)
		return svm->vmcb->save.rsp;
	return svm->gprs[reg];
}

static void svm_set_gpr(struct svm_vcpu *svm, unsigned int reg,
			unsigned long val)
{
	if (reg == SVM_RAX)
		svm->vmcb->save.rax = val;
	else if (reg == SVM_RSP)
		svm->vmcb->save.rsp = val;
	else
		svm->gprs[reg] = val;
}

/* Write @val of @size bytes to a register with x86 merge rules. */
static void svm_write_reg(struct svm_vcpu *svm, unsigned int reg, bool high8,
			  unsigned int size, u64 val)
{
	unsigned long old = svm_get_gpr(svm, reg);

	switch (size) {
	case 1:
		if (high8)
			val = (old & ~0xff00UL) | (val & 0xff) << 8;
		else
			val = (old & ~0xffUL) | (val & 0xff);
		break;
	case 2:
		val = (old & ~0xffffUL) | (val & 0xffff);
		break;
	case 4:
		val &= 0xffffffff;	/* 32-bit writes zero-extend */
		break;
	}
	svm_set_gpr(svm, reg, val);
}

/* ---- MSRs ---- */

static bool svm_pat_valid(u64 pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		u8 t = pat >> (8 * i);

		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

int svm_guest_rdmsr(struct vmm_vcpu *vcpu, u32 index, u64 *data)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save *s = &svm->vmcb->save;

	switch (index) {
	case MSR_EFER:
		*data = s->efer & ~EFER_SVME;
		break;
	case MSR_STAR:
		*data = s->star;
		break;
	case MSR_LSTAR:
		*data = s->lstar;
		break;
	case MSR_CSTAR:
		*data = s->cstar;
		break;
	case MSR_SYSCALL_MASK:
		*data = s->sfmask;
		break;
	case MSR_FS_BASE:
		*data = s->fs.base;
		break;
	case MSR_GS_BASE:
		*data = s->gs.base;
		break;
	case MSR_KERNEL_GS_BASE:
		*data = s->kernel_gs_base;
		break;
	case MSR_IA32_SYSENTER_CS:
		*data = s->sysenter_cs;
		break;
	case MSR_IA32_SYSENTER_ESP:
		*data = s->sysenter_esp;
		break;
	case MSR_IA32_SYSENTER_EIP:
		*data = s->sysenter_eip;
		break;
	case MSR_IA32_CR_PAT:
		*data = s->g_pat;
		break;
	case MSR_IA32_TSC:
		*data = rdtsc() + svm->vmcb->control.tsc_offset;
		break;
	case MSR_IA32_APICBASE:
		*data = svm->apic_base;
		break;
	case MSR_IA32_MISC_ENABLE:
		*data = svm->misc_enable;
		break;
	case VMM_MSR_MTRR_DEF_TYPE:
		*data = svm->mtrr_def_type;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

static bool svm_canonical(u64 v)
{
	return (s64)(v << 16) >> 16 == (s64)v;
}

int svm_guest_wrmsr(struct vmm_vcpu *vcpu, u32 index, u64 data, bool host)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save *s = &svm->vmcb->save;

	switch (index) {
	case MSR_EFER:
		if (data & ~(u64)(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX))
			return -EINVAL;
		/* LMA follows CR0.PG in the guest; only the host sets it. */
		if (!host)
			data = (data & ~(u64)EFER_LMA) | (s->efer & EFER_LMA);
		s->efer = data | EFER_SVME;
		break;
	case MSR_STAR:
		s->star = data;
		break;
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		if (!svm_canonical(data))
			return -EINVAL;
		if (index == MSR_LSTAR)
			s->lstar = data;
		else if (index == MSR_CSTAR)
			s->cstar = data;
		else if (index == MSR_FS_BASE)
			s->fs.base = data;
		else if (index == MSR_GS_BASE)
			s->gs.base = data;
		else if (index == MSR_KERNEL_GS_BASE)
			s->kernel_gs_base = data;
		else if (index == MSR_IA32_SYSENTER_ESP)
			s->sysenter_esp = data;
		else
			s->sysenter_eip = data;
		break;
	case MSR_SYSCALL_MASK:
		s->sfmask = data & 0xffffffff;
		break;
	case MSR_IA32_SYSENTER_CS:
		s->sysenter_cs = data & 0xffff;
		break;
	case MSR_IA32_CR_PAT:
		if (!svm_pat_valid(data))
			return -EINVAL;
		s->g_pat = data;
		break;
	case MSR_IA32_TSC:
		svm->vmcb->control.tsc_offset = data - rdtsc();
		break;
	case MSR_IA32_APICBASE:
		svm->apic_base = data;
		break;
	case MSR_IA32_MISC_ENABLE:
		if (!host)
			return -EINVAL;
		svm->misc_enable = data;
		break;
	case VMM_MSR_MTRR_DEF_TYPE:
		if (data & ~0xcffULL)
			return -EINVAL;
		svm->mtrr_def_type = data;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

static int svm_exit_msr(struct vmm_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb *v = svm->vmcb;
	u32 index = svm->gprs[SVM_RCX];
	u64 data;

	if (v->control.exit_info1) {
		data = (v->save.rax & 0xffffffff) |
		       (svm->gprs[SVM_RDX] & 0xffffffff) << 32;
		if (svm_guest_wrmsr(vcpu, index, data, false)) {
			svm_inject_exc(svm, X86_VEC_GP, true, 0);
			return EXIT_CONTINUE;
		}
	} else {
		if (svm_guest_rdmsr(vcpu, index, &data)) {
			svm_inject_exc(svm, X86_VEC_GP, true, 0);
			return EXIT_CONTINUE;
		}
		v->save.rax = data & 0xffffffff;
		svm->gprs[SVM_RDX] = data >> 32;
	}
	return svm_skip_insn(vcpu);
}

/* ---- CPUID: answered from KVM_SET_CPUID2 ---- */

static int svm_exit_cpuid(struct vmm_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	u32 fn = svm->vmcb->save.rax, idx = svm->gprs[SVM_RCX];
	const struct kvm_cpuid_entry2 *e = NULL;
	int i;

	for (i = 0; i < vcpu->nr_cpuid; i++) {
		const struct kvm_cpuid_entry2 *c = &vcpu->cpuid[i];

		if (c->function == fn &&
		    (!(c->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     c->index == idx)) {
			e = c;
			break;
		}
	}
	svm->vmcb->save.rax = e ? e->eax : 0;
	svm->gprs[SVM_RBX] = e ? e->ebx : 0;
	svm->gprs[SVM_RCX] = e ? e->ecx : 0;
	svm->gprs[SVM_RDX] = e ? e->edx : 0;
	return svm_skip_insn(vcpu);
}

/* ---- Port I/O ---- */

/* Copy to or from guest linear memory, page by page. */
static int svm_copy_linear(struct vmm_vcpu *vcpu, u64 lin, void *buf,
			   unsigned int len, bool write)
{
	u8 *p = buf;

	while (len) {
		unsigned int n = min_t(unsigned int, len,
				       PAGE_SIZE - offset_in_page(lin));
		u64 gpa;
		int ret;

		if (svm_gva_to_gpa(vcpu, lin, &gpa))
			return -EFAULT;
		ret = write ? vmm_write_guest(vcpu->vm, gpa, p, n) :
			      vmm_read_guest(vcpu->vm, gpa, p, n);
		if (ret)
			return ret;
		p += n;
		lin += n;
		len -= n;
	}
	return 0;
}

static u64 svm_addr_mask(u32 info)
{
	if (info & BIT(9))
		return ~0ULL;
	return info & BIT(8) ? 0xffffffffULL : 0xffffULL;
}

/* Replace the low address-size bits of a register (A32 zero-extends). */
static void svm_set_addr_reg(struct svm_vcpu *svm, unsigned int reg, u32 info,
			     u64 val)
{
	if (info & BIT(9))
		svm_set_gpr(svm, reg, val);
	else if (info & BIT(8))
		svm_set_gpr(svm, reg, val & 0xffffffff);
	else
		svm_write_reg(svm, reg, false, 2, val);
}

static struct vmcb_seg *svm_seg(struct vmcb_save *s, unsigned int seg)
{
	static const size_t off[] = {
		offsetof(struct vmcb_save, es), offsetof(struct vmcb_save, cs),
		offsetof(struct vmcb_save, ss), offsetof(struct vmcb_save, ds),
		offsetof(struct vmcb_save, fs), offsetof(struct vmcb_save, gs),
	};

	return (struct vmcb_seg *)((u8 *)s + off[seg < 6 ? seg : 3]);
}

/* Linear address of the string operand: DS(or override):rSI / ES:rDI. */
static u64 svm_string_addr(struct svm_vcpu *svm, u32 info, bool in)
{
	struct vmcb_save *s = &svm->vmcb->save;
	unsigned int seg = in ? VMM_SEG_ES : (info >> SVM_IO_SEG_SHIFT) & 7;
	u64 off = svm_get_gpr(svm, in ? SVM_RDI : SVM_RSI) & svm_addr_mask(info);

	if (svm_code_mode(s) == 8)
		return off + (seg >= VMM_SEG_FS ? svm_seg(s, seg)->base : 0);
	return (u32)(svm_seg(s, seg)->base + off);
}

/*
 * Account for @count elements done by INS/OUTS: step rSI/rDI, count rCX
 * down, and leave RIP on the instruction while a REP has more to do.
 */
static void svm_string_done(struct vmm_vcpu *vcpu, u32 info, u32 count,
			    int size, u64 next_rip)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	unsigned int reg = info & SVM_IO_IN ? SVM_RDI : SVM_RSI;
	u64 mask = svm_addr_mask(info);
	u64 step = (u64)((s64)count * size), rcx;

	svm_set_addr_reg(svm, reg, info, svm_get_gpr(svm, reg) + step);
	if (info & SVM_IO_REP) {
		rcx = (svm_get_gpr(svm, SVM_RCX) & mask) - count;
		svm_set_addr_reg(svm, SVM_RCX, info, rcx);
		if (rcx & mask)
			return;
	}
	svm->vmcb->save.rip = next_rip;
}

static int svm_exit_string_io(struct vmm_vcpu *vcpu, unsigned int size)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb *v = svm->vmcb;
	struct kvm_run *run = vcpu->run;
	u32 info = v->control.exit_info1;
	bool in = info & SVM_IO_IN;
	struct vmm_insn insn;
	u32 count = 1;
	u64 lin;

	/*
	 * The address size and segment fields of EXITINFO1 are not filled
	 * by every implementation (QEMU leaves them zero): take both from
	 * the instruction itself.
	 */
	if (svm_decode_current(vcpu, &insn) || insn.map ||
	    (insn.opcode & 0xfc) != 0x6c)
		return svm_internal_error(vcpu, KVM_INTERNAL_ERROR_EMULATION);
	info &= ~(0x3fU << 7);
	info |= (insn.addr_size == 8 ? BIT(9) : insn.addr_size == 4 ?
		 BIT(8) : BIT(7));
	info |= (insn.seg == VMM_SEG_DEFAULT ? VMM_SEG_DS : insn.seg) <<
		SVM_IO_SEG_SHIFT;
	lin = svm_string_addr(svm, info, in);

	if (info & SVM_IO_REP) {
		u64 rcx = svm_get_gpr(svm, SVM_RCX) & svm_addr_mask(info);

		if (!rcx) {
			v->save.rip = v->control.exit_info2;
			return EXIT_CONTINUE;
		}
		/* Backwards strings (DF=1) go one element per exit. */
		if (!(v->save.rflags & X86_EFLAGS_DF)) {
			u64 mask = svm_addr_mask(info);
			u64 off = svm_get_gpr(svm, in ? SVM_RDI : SVM_RSI) &
				  mask;

			count = min_t(u64, rcx, PAGE_SIZE / size);
			/* Stop where rSI/rDI would wrap (16/32-bit). */
			if (mask != ~0ULL)
				count = clamp_t(u64, (mask - off + 1) / size,
						1, count);
		}
	}
	run->exit_reason = KVM_EXIT_IO;
	run->io.port = info >> 16;
	run->io.size = size;
	run->io.count = count;
	run->io.data_offset = VMM_PIO_PAGE_OFFSET * PAGE_SIZE;
	if (in) {
		run->io.direction = KVM_EXIT_IO_IN;
		memset(page_address(vcpu->pio_page), 0, count * size);
		vcpu->pending = VMM_PENDING_PIO_INS;
		vcpu->pending_rip = v->control.exit_info2;
		vcpu->pending_size = size;
		vcpu->pending_count = count;
		vcpu->pending_io_info = info;
		return EXIT_USER;
	}
	run->io.direction = KVM_EXIT_IO_OUT;
	if (svm_copy_linear(vcpu, lin, page_address(vcpu->pio_page),
			    count * size, false))
		return svm_internal_error(vcpu, KVM_INTERNAL_ERROR_EMULATION);
	if (v->save.rflags & X86_EFLAGS_DF)
		svm_string_done(vcpu, info, count, -size,
				v->control.exit_info2);
	else
		svm_string_done(vcpu, info, count, size,
				v->control.exit_info2);
	return EXIT_USER;
}

static int svm_exit_io(struct vmm_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb *v = svm->vmcb;
	struct kvm_run *run = vcpu->run;
	u32 info = v->control.exit_info1;
	unsigned int size = (info >> SVM_IO_SIZE_SHIFT) & 7;
	void *data = page_address(vcpu->pio_page);

	size = size & 4 ? 4 : size & 2 ? 2 : 1;
	if (info & SVM_IO_STR)
		return svm_exit_string_io(vcpu, size);

	run->exit_reason = KVM_EXIT_IO;
	run->io.port = info >> 16;
	run->io.size = size;
	run->io.count = 1;
	run->io.data_offset = VMM_PIO_PAGE_OFFSET * PAGE_SIZE;
	if (info & SVM_IO_IN) {
		run->io.direction = KVM_EXIT_IO_IN;
		memset(data, 0, size);
		vcpu->pending = VMM_PENDING_PIO_IN;
		vcpu->pending_rip = v->control.exit_info2;
		vcpu->pending_size = size;
	} else {
		u64 val = v->save.rax;

		run->io.direction = KVM_EXIT_IO_OUT;
		memcpy(data, &val, size);
		v->save.rip = v->control.exit_info2;
	}
	return EXIT_USER;
}

/* ---- Nested page faults: RAM mapping and MMIO emulation ---- */

static int svm_exit_mmio(struct vmm_vcpu *vcpu, u64 gpa)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save *s = &svm->vmcb->save;
	struct kvm_run *run = vcpu->run;
	struct vmm_insn insn;
	u64 val;

	if (svm_decode_current(vcpu, &insn) || insn.kind == VMM_INSN_OTHER ||
	    insn.mem_size > 8)
		return svm_internal_error(vcpu, KVM_INTERNAL_ERROR_EMULATION);

	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = insn.mem_size;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));

	if (insn.kind == VMM_INSN_LOAD) {
		run->mmio.is_write = 0;
		vcpu->pending = VMM_PENDING_MMIO_READ;
		vcpu->pending_rip = (s->rip + insn.len) & svm_rip_mask(s);
		vcpu->pending_reg = insn.reg;
		vcpu->pending_size = insn.dst_size;
		vcpu->pending_len = insn.mem_size;
		vcpu->pending_sext = insn.sign_extend;
		/* Stash the high-byte flag in the top bit of the register. */
		if (insn.reg_high8)
			vcpu->pending_reg |= 0x80;
		return EXIT_USER;
	}

	if (insn.kind == VMM_INSN_STORE_IMM) {
		val = insn.imm;
	} else {
		val = svm_get_gpr(svm, insn.reg);
		if (insn.reg_high8)
			val >>= 8;
	}
	run->mmio.is_write = 1;
	memcpy(run->mmio.data, &val, insn.mem_size);
	s->rip = (s->rip + insn.len) & svm_rip_mask(s);
	svm->vmcb->control.int_state &= ~SVM_INT_SHADOW;
	return EXIT_USER;
}

static int svm_exit_npf(struct vmm_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	u64 err = svm->vmcb->control.exit_info1;
	u64 gpa = svm->vmcb->control.exit_info2;
	bool write = err & SVM_NPF_WRITE, readonly = false;
	struct page *page;

	page = vmm_gpa_to_page(vcpu->vm, gpa, false, &readonly);
	if (page && !(write && readonly)) {
		if (svm_npt_map(to_svm_vm(vcpu->vm), gpa & PAGE_MASK,
				page_to_phys(page), !readonly))
			return -ENOMEM;
		return EXIT_CONTINUE;
	}
	/* Code or guest page tables outside RAM cannot be emulated. */
	if (err & (SVM_NPF_FETCH | SVM_NPF_GUEST_PT))
		return svm_internal_error(vcpu, KVM_INTERNAL_ERROR_EMULATION);
	return svm_exit_mmio(vcpu, gpa);
}

/* ---- Completion of userspace I/O at the next KVM_RUN ---- */

static void svm_complete_pending(struct vmm_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct kvm_run *run = vcpu->run;
	u64 val = 0;

	switch (vcpu->pending) {
	case VMM_PENDING_PIO_IN:
		memcpy(&val, page_address(vcpu->pio_page),
		       vcpu->pending_size);
		svm_write_reg(svm, SVM_RAX, false, vcpu->pending_size, val);
		break;
	case VMM_PENDING_PIO_INS: {
		u32 info = vcpu->pending_io_info;
		unsigned int bytes = vcpu->pending_count * vcpu->pending_size;
		bool df = svm->vmcb->save.rflags & X86_EFLAGS_DF;

		vcpu->pending = VMM_PENDING_NONE;
		/* A vanished destination drops the data, as on a bus error. */
		svm_copy_linear(vcpu, svm_string_addr(svm, info, true),
				page_address(vcpu->pio_page), bytes, true);
		svm_string_done(vcpu, info, vcpu->pending_count,
				df ? -vcpu->pending_size : vcpu->pending_size,
				vcpu->pending_rip);
		return;
	}
	case VMM_PENDING_MMIO_READ:
		memcpy(&val, run->mmio.data, vcpu->pending_len);
		if (vcpu->pending_sext) {
			unsigned int sh = 64 - 8 * vcpu->pending_len;

			val = (u64)((s64)(val << sh) >> sh);
		}
		svm_write_reg(svm, vcpu->pending_reg & 0x7f,
			      vcpu->pending_reg & 0x80, vcpu->pending_size,
			      val);
		break;
	default:
		return;
	}
	svm->vmcb->save.rip = vcpu->pending_rip;
	svm->vmcb->control.int_state &= ~SVM_INT_SHADOW;
	vcpu->pending = VMM_PENDING_NONE;
}

/* ---- Exit dispatch ---- */

static int svm_handle_exit(struct vmm_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_control *c = &svm->vmcb->control;
	u64 code = c->exit_code;

	if (trace_exits)
		pr_info("exit %#llx info1 %#llx info2 %#llx rip %#llx\n", code,
			c->exit_info1, c->exit_info2, svm->vmcb->save.rip);

	/* An event cut short by the exit is delivered again. */
	if (c->exit_int_info & SVM_EVT_VALID) {
		c->event_inj = c->exit_int_info;
		c->exit_int_info = 0;
	}

	switch (code) {
	case SVM_EXIT_INTR:
	case SVM_EXIT_NMI:
	case SVM_EXIT_SMI:
		return EXIT_CONTINUE;	/* the host takes it after STGI */
	case SVM_EXIT_VINTR:
		return EXIT_CONTINUE;	/* window logic runs before entry */
	case SVM_EXIT_IOIO:
		return svm_exit_io(vcpu);
	case SVM_EXIT_HLT:
		if (svm_skip_insn(vcpu) != EXIT_CONTINUE)
			return EXIT_USER;
		vcpu->run->exit_reason = KVM_EXIT_HLT;
		return EXIT_USER;
	case SVM_EXIT_CPUID:
		return svm_exit_cpuid(vcpu);
	case SVM_EXIT_MSR:
		return svm_exit_msr(vcpu);
	case SVM_EXIT_INVD:
		return svm_skip_insn(vcpu);	/* keep the caches */
	case SVM_EXIT_RDPMC:
		/* No virtual PMU: the host's counters stay the host's. */
		svm_inject_exc(svm, X86_VEC_GP, true, 0);
		return EXIT_CONTINUE;
	case SVM_EXIT_NPF:
		return svm_exit_npf(vcpu);
	case SVM_EXIT_SHUTDOWN:
		/* The VMCB is undefined after a shutdown: start afresh. */
		svm_vcpu_reset(vcpu);
		vcpu->run->exit_reason = KVM_EXIT_SHUTDOWN;
		return EXIT_USER;
	case SVM_EXIT_INVALID:
		vcpu->run->exit_reason = KVM_EXIT_FAIL_ENTRY;
		vcpu->run->fail_entry.hardware_entry_failure_reason = code;
		vcpu->run->fail_entry.cpu = vcpu->cpu;
		return EXIT_USER;
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMMCALL:
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI:
	case SVM_EXIT_CLGI:
	case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA:
	case SVM_EXIT_MONITOR:
	case SVM_EXIT_MWAIT:
	case SVM_EXIT_MWAIT_COND:
	case SVM_EXIT_XSETBV:
	case SVM_EXIT_RDPRU:
		/* No nested SVM, no MONITOR/MWAIT, XCR0 fixed at x87|SSE. */
		svm_inject_exc(svm, X86_VEC_UD, false, 0);
		return EXIT_CONTINUE;
	default:
		if (code >= SVM_EXIT_READ_DR0 && code <= SVM_EXIT_WRITE_DR7) {
			/* DR0-3 belong to the host; not virtualized. */
			svm_inject_exc(svm, X86_VEC_UD, false, 0);
			return EXIT_CONTINUE;
		}
		return svm_internal_error(vcpu, KVM_INTERNAL_ERROR_EMULATION);
	}
}

static bool svm_interruptible(struct svm_vcpu *svm)
{
	struct vmcb *v = svm->vmcb;

	return (v->save.rflags & X86_EFLAGS_IF) &&
	       !(v->control.int_state & SVM_INT_SHADOW) &&
	       !(v->control.event_inj & SVM_EVT_VALID);
}

/* Inject a KVM_INTERRUPT vector, or ask for an exit when it can be. */
static void svm_setup_irq(struct vmm_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_control *c = &svm->vmcb->control;
	bool window;

	if (vcpu->pending_irq >= 0 && svm_interruptible(svm)) {
		c->event_inj = vcpu->pending_irq | SVM_EVT_TYPE_INTR |
			       SVM_EVT_VALID;
		vcpu->pending_irq = -1;
	}
	window = vcpu->pending_irq >= 0 || vcpu->run->request_interrupt_window;
	if (window && !svm_interruptible(svm)) {
		/* A virtual interrupt that exits as soon as IF allows it. */
		c->int_ctl |= SVM_V_IRQ | SVM_V_IGN_TPR |
			      (0xfULL << SVM_V_INTR_PRIO_SHIFT);
		c->intercept_misc1 |= SVM_I1_VINTR;
	} else {
		c->int_ctl &= ~(SVM_V_IRQ | SVM_V_IGN_TPR |
				(0xfULL << SVM_V_INTR_PRIO_SHIFT));
		c->intercept_misc1 &= ~SVM_I1_VINTR;
	}
}

static void svm_enter_guest(struct vmm_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	bool xcr0 = svm_host_xcr0 && svm_host_xcr0 != XFEATURE_MASK_FPSSE;

	/* The user's FPU state is saved; the guest's replaces it. */
	kernel_fpu_begin();
	asm volatile("fxrstorq %0" : : "m" (*svm->fpu));
	if (xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, XFEATURE_MASK_FPSSE);

	asm volatile("clgi" : : : "memory");
	svm_vmrun_asm(svm->vmcb_pa, svm->gprs, svm_host_save_pa());
	asm volatile("stgi" : : : "memory");

	svm->vmcb->control.tlb_control = 0;
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
	if (xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, svm_host_xcr0);
	asm volatile("fxsaveq %0" : "=m" (*svm->fpu));
	kernel_fpu_end();
}

static void svm_post_run(struct vmm_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct kvm_run *run = vcpu->run;

	run->if_flag = !!(svm->vmcb->save.rflags & X86_EFLAGS_IF);
	run->cr8 = svm->vmcb->control.int_ctl & SVM_V_TPR_MASK;
	run->apic_base = svm->apic_base;
	run->ready_for_interrupt_injection = vcpu->pending_irq < 0 &&
					     svm_interruptible(svm);
	run->flags = 0;
}

int svm_vcpu_run(struct vmm_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmm_vm *vm = vcpu->vm;
	struct kvm_run *run = vcpu->run;
	int ret = 0, idx, cpu;

	/* INS completion writes guest memory: slots must stay put. */
	idx = srcu_read_lock(&vm->srcu);
	svm_complete_pending(vcpu);
	srcu_read_unlock(&vm->srcu, idx);
	if (READ_ONCE(run->immediate_exit)) {
		run->exit_reason = KVM_EXIT_INTR;
		ret = -EINTR;
		goto out;
	}

	for (;;) {
		if (signal_pending(current)) {
			run->exit_reason = KVM_EXIT_INTR;
			ret = -EINTR;
			break;
		}
		cond_resched();
		svm_setup_irq(vcpu);

		idx = srcu_read_lock(&vm->srcu);
		local_irq_disable();
		cpu = smp_processor_id();
		if (!svm_this_cpu_ready()) {
			local_irq_enable();
			srcu_read_unlock(&vm->srcu, idx);
			pr_warn_once("CPU %d has no SVM enabled\n", cpu);
			ret = -EIO;
			break;
		}
		WRITE_ONCE(vcpu->cpu, cpu);
		svm_assign_asid(vcpu, cpu);
		svm->vmcb->control.clean = 0;
		svm_enter_guest(vcpu);
		local_irq_enable();

		ret = svm_handle_exit(vcpu);
		srcu_read_unlock(&vm->srcu, idx);
		if (ret < 0)
			break;
		if (ret == EXIT_USER) {
			ret = 0;
			break;
		}
		/* Userspace asked to hear when it may inject. */
		if (run->request_interrupt_window && vcpu->pending_irq < 0 &&
		    svm_interruptible(svm)) {
			run->exit_reason = KVM_EXIT_IRQ_WINDOW_OPEN;
			ret = 0;
			break;
		}
	}
out:
	svm_post_run(vcpu);
	return ret;
}

void svm_exit_setup(void)
{
	if (boot_cpu_has(X86_FEATURE_OSXSAVE))
		svm_host_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
}
