// SPDX-License-Identifier: GPL-2.0
/*
 * Guest MSRs, the part both backends share: the list KVM_GET_MSR_INDEX_LIST
 * reports, the MSRs with no hardware state behind them (APIC_BASE,
 * MISC_ENABLE, MTRRdefType: stored only), and RDMSR/WRMSR emulation.
 * MSRs the hardware keeps (EFER, the syscall MSRs, segment bases, PAT,
 * TSC) go to the backend's get_msr/set_msr.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bits.h>
#include <asm/kvm_para.h>
#include <asm/msr-index.h>

#include "vmm.h"
#include "vmm_irqchip.h"

const u32 vmm_msr_list[] = {
	MSR_EFER, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK,
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE,
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_IA32_CR_PAT, MSR_IA32_TSC, MSR_IA32_APICBASE,
	MSR_IA32_MISC_ENABLE, VMM_MSR_MTRR_DEF_TYPE, MSR_IA32_TSC_DEADLINE,
	MSR_KVM_WALL_CLOCK, MSR_KVM_SYSTEM_TIME, MSR_KVM_WALL_CLOCK_NEW,
	MSR_KVM_SYSTEM_TIME_NEW,
};

const unsigned int vmm_nr_msrs = ARRAY_SIZE(vmm_msr_list);

/* Memory types 0, 1, 4, 5, 6, 7 in each of the eight entries. */
bool vmm_pat_valid(u64 pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		u8 t = pat >> (8 * i);

		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}
EXPORT_SYMBOL_GPL(vmm_pat_valid);

/*
 * MSRs Linux (and other guests) read or write at boot on the CPU models
 * we present, that have nothing behind them here: they read as 0 and
 * writes are dropped, as KVM has them (arch/x86/kvm/x86.c's list), so
 * the guest takes no unchecked #GP.  No host value is ever shown.
 */
static bool vmm_msr_quiet(u32 index)
{
	switch (index) {
	case MSR_IA32_PLATFORM_ID:
	case MSR_IA32_EBL_CR_POWERON:
	case MSR_IA32_UCODE_REV:	/* AMD's patch level too */
	case MSR_IA32_PERF_CTL:
	case MSR_P6_PERFCTR0:
	case MSR_P6_PERFCTR1:
	case MSR_P6_EVNTSEL0:
	case MSR_P6_EVNTSEL1:
	case MSR_IA32_LASTBRANCHFROMIP:
	case MSR_IA32_LASTBRANCHTOIP:
	case MSR_IA32_LASTINTFROMIP:
	case MSR_IA32_LASTINTTOIP:
	case MSR_RAPL_POWER_UNIT:
	case MSR_PP0_ENERGY_STATUS:
	case MSR_PP1_ENERGY_STATUS:
	case MSR_PKG_ENERGY_STATUS:
	case MSR_DRAM_ENERGY_STATUS:
	case MSR_K7_EVNTSEL0 ... MSR_K7_EVNTSEL3:
	case MSR_K7_PERFCTR0 ... MSR_K7_PERFCTR3:
	case MSR_K7_HWCR:
	case MSR_AMD64_SYSCFG:
	case MSR_AMD64_NB_CFG:
	case MSR_K8_INT_PENDING_MSG:
	case MSR_FAM10H_MMIO_CONF_BASE:
	case MSR_K8_TSEG_ADDR:
	case MSR_K8_TSEG_MASK:
	case MSR_AMD64_DC_CFG:
	case MSR_AMD64_TW_CFG:
	case MSR_AMD64_BU_CFG2:
	case MSR_F15H_EX_CFG:
	case MSR_AMD64_DE_CFG:
		return true;
	}
	return false;
}

int vmm_msr_read(struct vmm_vcpu *vcpu, u32 index, u64 *data)
{
	int ret;

	switch (index) {
	case MSR_IA32_APICBASE:
		*data = vcpu->lapic ? vcpu->lapic->base : vcpu->apic_base;
		return 0;
	case MSR_MTRRcap:
		/* No variable or fixed ranges: guests leave MTRRs alone. */
		*data = 0;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		*data = vcpu->misc_enable;
		return 0;
	case VMM_MSR_MTRR_DEF_TYPE:
		*data = vcpu->mtrr_def_type;
		return 0;
	default:
		if (vmm_msr_quiet(index)) {
			*data = 0;
			return 0;
		}
		if (vmm_pvclock_msr(index))
			return vmm_pvclock_rdmsr(vcpu, index, data);
		/* x2APIC registers and TSC deadline, else the hardware's. */
		ret = vmm_lapic_rdmsr(vcpu, index, data);
		if (ret != -ENOENT)
			return ret;
		return vcpu->vm->ops->get_msr(vcpu, index, data);
	}
}

/* @host: KVM_SET_MSRS, which may set what the guest may not. */
int vmm_msr_write(struct vmm_vcpu *vcpu, u32 index, u64 data, bool host)
{
	int ret;

	switch (index) {
	case MSR_IA32_APICBASE:
		if (vcpu->lapic)
			return vmm_lapic_set_base(vcpu, data, host);
		if (!vmm_apic_base_valid(data))
			return -EINVAL;
		vcpu->apic_base = data;
		return 0;
	case MSR_MTRRcap:
		return host && !data ? 0 : -EINVAL;	/* read-only */
	case MSR_IA32_MISC_ENABLE:
		if (!host)
			return -EINVAL;
		vcpu->misc_enable = data;
		return 0;
	case VMM_MSR_MTRR_DEF_TYPE:
		if (data & ~0xcffULL)
			return -EINVAL;
		vcpu->mtrr_def_type = data;
		return 0;
	case MSR_IA32_TSC:
		ret = vcpu->vm->ops->set_msr(vcpu, index, data, host);
		/* kvmclock's TSC timestamp goes with the guest's TSC. */
		if (!ret)
			vmm_pvclock_update(vcpu);
		return ret;
	default:
		if (vmm_msr_quiet(index))
			return 0;
		if (vmm_pvclock_msr(index))
			return vmm_pvclock_wrmsr(vcpu, index, data);
		ret = vmm_lapic_wrmsr(vcpu, index, data, host);
		if (ret != -ENOENT)
			return ret;
		return vcpu->vm->ops->set_msr(vcpu, index, data, host);
	}
}

/* RDMSR by the guest: 0 done (RIP not moved), -EINVAL: inject #GP. */
int vmm_emulate_rdmsr(struct vmm_vcpu *vcpu)
{
	u64 data;

	if (vmm_msr_read(vcpu, vcpu->gprs[VMM_RCX], &data))
		return -EINVAL;
	vcpu->gprs[VMM_RAX] = data & 0xffffffff;
	vcpu->gprs[VMM_RDX] = data >> 32;
	return 0;
}
EXPORT_SYMBOL_GPL(vmm_emulate_rdmsr);

/* WRMSR by the guest: 0 done (RIP not moved), -EINVAL: inject #GP. */
int vmm_emulate_wrmsr(struct vmm_vcpu *vcpu)
{
	u64 data = (vcpu->gprs[VMM_RAX] & 0xffffffff) |
		   (vcpu->gprs[VMM_RDX] & 0xffffffff) << 32;

	return vmm_msr_write(vcpu, vcpu->gprs[VMM_RCX], data, false);
}
EXPORT_SYMBOL_GPL(vmm_emulate_wrmsr);
