// SPDX-License-Identifier: GPL-2.0
/*
 * Guest MSRs vmm-intel holds: EFER, PAT, FS/GS bases and the SYSENTER
 * MSRs in VMCS guest-state fields (loaded on entry, saved on exit), the
 * TSC as the VMCS's TSC offset, and STAR, LSTAR, CSTAR, SFMASK and
 * KERNEL_GS_BASE, which have no field, in the VM-entry MSR-load list that
 * the VM-exit MSR-store list writes back (SDM vol. 3C, 25.7.2, 25.8.2,
 * 27.4, 28.4); the VM-exit MSR-load list restores the host's.  The same
 * functions serve the guest's RDMSR/WRMSR (every MSR access exits: the
 * MSR bitmap is all ones) and KVM_GET/SET_MSRS.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <asm/msr.h>

#include "vmx.h"

static const u32 vmx_auto_msr_index[VMX_NR_AUTO_MSRS] = {
	[VMX_MSR_STAR] = MSR_STAR,
	[VMX_MSR_LSTAR] = MSR_LSTAR,
	[VMX_MSR_CSTAR] = MSR_CSTAR,
	[VMX_MSR_SFMASK] = MSR_SYSCALL_MASK,
	[VMX_MSR_KERNEL_GS_BASE] = MSR_KERNEL_GS_BASE,
};

/*
 * Both lists: the guest's at power-on (all zero), the host's as they are
 * on every CPU (Linux sets the SYSCALL MSRs alike everywhere); the host's
 * KERNEL_GS_BASE is the task's and is filled in before each entry.
 */
void vmx_msrs_init(struct vmx_vcpu *vmx)
{
	int i;

	for (i = 0; i < VMX_NR_AUTO_MSRS; i++) {
		vmx->guest_msrs[i].index = vmx_auto_msr_index[i];
		vmx->guest_msrs[i].reserved = 0;
		vmx->guest_msrs[i].value = 0;
		vmx->host_msrs[i].index = vmx_auto_msr_index[i];
		vmx->host_msrs[i].reserved = 0;
		rdmsrl(vmx_auto_msr_index[i], vmx->host_msrs[i].value);
	}
}

static int auto_msr(u32 index)
{
	int i;

	for (i = 0; i < VMX_NR_AUTO_MSRS; i++)
		if (vmx_auto_msr_index[i] == index)
			return i;
	return -1;
}

int vmx_get_msr(struct vmm_vcpu *vcpu, u32 index, u64 *data)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	int i = auto_msr(index);

	if (i >= 0) {
		*data = vmx->guest_msrs[i].value;
		return 0;
	}
	switch (index) {
	case MSR_EFER:
		*data = vmcs_read(VMCS_GUEST_EFER);
		break;
	case MSR_FS_BASE:
		*data = vmcs_read(VMCS_GUEST_ES_BASE + 2 * VMM_SEG_FS);
		break;
	case MSR_GS_BASE:
		*data = vmcs_read(VMCS_GUEST_ES_BASE + 2 * VMM_SEG_GS);
		break;
	case MSR_IA32_SYSENTER_CS:
		*data = vmcs_read(VMCS_GUEST_SYSENTER_CS);
		break;
	case MSR_IA32_SYSENTER_ESP:
		*data = vmcs_read(VMCS_GUEST_SYSENTER_ESP);
		break;
	case MSR_IA32_SYSENTER_EIP:
		*data = vmcs_read(VMCS_GUEST_SYSENTER_EIP);
		break;
	case MSR_IA32_CR_PAT:
		*data = vmcs_read(VMCS_GUEST_PAT);
		break;
	case MSR_IA32_TSC:
		*data = rdtsc() + vmcs_read(VMCS_TSC_OFFSET);
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

/* @host: KVM_SET_MSRS, which may set what the guest may not. */
int vmx_set_msr(struct vmm_vcpu *vcpu, u32 index, u64 data, bool host)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	int i = auto_msr(index);

	switch (index) {
	case MSR_EFER:
		if (data & ~(u64)(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX))
			return -EINVAL;
		if (!host) {
			u64 efer = vmcs_read(VMCS_GUEST_EFER);

			/* LME may change only while paging is off (#GP). */
			if (((data ^ efer) & EFER_LME) &&
			    (vmx_guest_cr0() & X86_CR0_PG))
				return -EINVAL;
			/* LMA follows CR0.PG in the guest. */
			data = (data & ~(u64)EFER_LMA) | (efer & EFER_LMA);
		}
		vmx_set_efer(vcpu, data);
		return 0;
	case MSR_STAR:
		break;
	case MSR_SYSCALL_MASK:
		data &= 0xffffffff;
		break;
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_KERNEL_GS_BASE:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		if (!vmm_canonical(data))
			return -EINVAL;
		break;
	case MSR_IA32_SYSENTER_CS:
		data &= 0xffff;
		break;
	case MSR_IA32_CR_PAT:
		if (!vmm_pat_valid(data))
			return -EINVAL;
		vmcs_write(VMCS_GUEST_PAT, data);
		return 0;
	case MSR_IA32_TSC:
		vmcs_write(VMCS_TSC_OFFSET, data - rdtsc());
		return 0;
	default:
		return -EINVAL;
	}
	if (i >= 0) {
		vmx->guest_msrs[i].value = data;
		return 0;
	}
	switch (index) {
	case MSR_FS_BASE:
		vmcs_write(VMCS_GUEST_ES_BASE + 2 * VMM_SEG_FS, data);
		break;
	case MSR_GS_BASE:
		vmcs_write(VMCS_GUEST_ES_BASE + 2 * VMM_SEG_GS, data);
		break;
	case MSR_IA32_SYSENTER_CS:
		vmcs_write(VMCS_GUEST_SYSENTER_CS, data);
		break;
	case MSR_IA32_SYSENTER_ESP:
		vmcs_write(VMCS_GUEST_SYSENTER_ESP, data);
		break;
	case MSR_IA32_SYSENTER_EIP:
		vmcs_write(VMCS_GUEST_SYSENTER_EIP, data);
		break;
	}
	return 0;
}
