// SPDX-License-Identifier: GPL-2.0
/*
 * Guest MSRs the VMCB holds: EFER, the SYSCALL and SYSENTER MSRs, FS/GS
 * and KERNEL_GS bases, PAT, and the TSC (as the VMCB's TSC offset).  The
 * same functions serve the guest's RDMSR/WRMSR (through the core's
 * vmm_msr_read/write, which keeps the MSRs without hardware state) and
 * KVM_GET/SET_MSRS.  Every MSR access by the guest is intercepted (the
 * MSR permission map is all ones), so nothing here is visible unchecked.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <asm/msr.h>

#include "svm.h"

int svm_get_msr(struct vmm_vcpu *vcpu, u32 index, u64 *data)
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
	default:
		return -EINVAL;
	}
	return 0;
}

/* @host: KVM_SET_MSRS, which may set what the guest may not. */
int svm_set_msr(struct vmm_vcpu *vcpu, u32 index, u64 data, bool host)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save *s = &svm->vmcb->save;

	switch (index) {
	case MSR_EFER:
		if (data & ~(u64)(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX))
			return -EINVAL;
		if (!host) {
			/* LME may change only while paging is off (APM 3.1.7). */
			if (((data ^ s->efer) & EFER_LME) &&
			    (s->cr0 & X86_CR0_PG))
				return -EINVAL;
			/* LMA follows CR0.PG in the guest. */
			data = (data & ~(u64)EFER_LMA) | (s->efer & EFER_LMA);
		}
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
		if (!vmm_canonical(data))
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
		if (!vmm_pat_valid(data))
			return -EINVAL;
		s->g_pat = data;
		break;
	case MSR_IA32_TSC:
		svm->vmcb->control.tsc_offset = data - rdtsc();
		break;
	default:
		return -EINVAL;
	}
	return 0;
}
