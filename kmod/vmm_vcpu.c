// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU file descriptors: creation, power-on state, the shared kvm_run page
 * (mmap), and the per-vCPU ioctls.  GPRs, RIP, RFLAGS and the x87/SSE
 * state are the core's and converted here; segments and control registers
 * are the backend's (get_sregs/set_sregs) after the checks done here.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/tsc.h>

#include "vmm.h"
#include "vmm_irqchip.h"

/* Same bound as KVM's MAX_IO_MSRS. */
#define VMM_MAX_IO_MSRS 256

static vm_fault_t vmm_vcpu_fault(struct vm_fault *vmf)
{
	struct vmm_vcpu *vcpu = vmf->vma->vm_file->private_data;
	struct page *page;

	if (vmf->pgoff == 0)
		page = vcpu->run_page;
	else if (vmf->pgoff == VMM_PIO_PAGE_OFFSET)
		page = vcpu->pio_page;
	else
		return VM_FAULT_SIGBUS;
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct vmm_vcpu_vm_ops = {
	.fault = vmm_vcpu_fault,
};

static int vmm_vcpu_mmap(struct file *filp, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff + vma_pages(vma) > VMM_VCPU_MMAP_PAGES)
		return -EINVAL;
	vma->vm_ops = &vmm_vcpu_vm_ops;
	return 0;
}

static int vmm_vcpu_release(struct inode *inode, struct file *filp)
{
	struct vmm_vcpu *vcpu = filp->private_data;

	/* The vCPU itself lives until the VM goes away. */
	vmm_vm_put(vcpu->vm);
	return 0;
}

static long vmm_vcpu_get_msrs(struct vmm_vcpu *vcpu, void __user *argp,
			      bool set)
{
	struct kvm_msrs __user *umsrs = argp;
	struct kvm_msr_entry e;
	struct kvm_msrs msrs;
	u32 i;
	int ret;

	if (copy_from_user(&msrs, umsrs, sizeof(msrs)))
		return -EFAULT;
	if (msrs.nmsrs >= VMM_MAX_IO_MSRS)
		return -E2BIG;

	for (i = 0; i < msrs.nmsrs; i++) {
		if (copy_from_user(&e, &umsrs->entries[i], sizeof(e)))
			return -EFAULT;
		if (set) {
			ret = vmm_msr_write(vcpu, e.index, e.data, true);
		} else {
			ret = vmm_msr_read(vcpu, e.index, &e.data);
			if (!ret && copy_to_user(&umsrs->entries[i], &e,
						 sizeof(e)))
				return -EFAULT;
		}
		if (ret)
			break;	/* KVM ABI: return how many were processed */
	}
	return i;
}

/*
 * All or nothing: the new table is read whole before it replaces the old
 * one, so a fault halfway leaves the vCPU's CPUID as it was.
 */
static long vmm_vcpu_set_cpuid2(struct vmm_vcpu *vcpu, void __user *argp)
{
	struct kvm_cpuid2 __user *ucpuid = argp;
	struct kvm_cpuid_entry2 *e;
	struct kvm_cpuid2 cpuid;

	if (copy_from_user(&cpuid, ucpuid, sizeof(cpuid)))
		return -EFAULT;
	if (cpuid.nent > VMM_MAX_CPUID_ENTRIES)
		return -E2BIG;
	e = memdup_user(ucpuid->entries, cpuid.nent * sizeof(*e));
	if (IS_ERR(e))
		return PTR_ERR(e);
	memcpy(vcpu->cpuid, e, cpuid.nent * sizeof(*e));
	vcpu->nr_cpuid = cpuid.nent;
	kfree(e);
	return 0;
}

static long vmm_vcpu_get_cpuid2(struct vmm_vcpu *vcpu, void __user *argp)
{
	struct kvm_cpuid2 __user *ucpuid = argp;
	struct kvm_cpuid2 cpuid;
	long ret = 0;

	if (copy_from_user(&cpuid, ucpuid, sizeof(cpuid)))
		return -EFAULT;
	if (cpuid.nent < vcpu->nr_cpuid)
		ret = -E2BIG;
	cpuid.nent = vcpu->nr_cpuid;
	if (copy_to_user(ucpuid, &cpuid, sizeof(cpuid)))
		return -EFAULT;
	if (!ret && copy_to_user(ucpuid->entries, vcpu->cpuid,
				 vcpu->nr_cpuid * sizeof(vcpu->cpuid[0])))
		return -EFAULT;
	return ret;
}

static void vmm_get_regs(struct vmm_vcpu *vcpu, struct kvm_regs *r)
{
	const unsigned long *g = vcpu->gprs;

	r->rax = g[VMM_RAX];
	r->rbx = g[VMM_RBX];
	r->rcx = g[VMM_RCX];
	r->rdx = g[VMM_RDX];
	r->rsi = g[VMM_RSI];
	r->rdi = g[VMM_RDI];
	r->rsp = g[VMM_RSP];
	r->rbp = g[VMM_RBP];
	r->r8 = g[VMM_R8];
	r->r9 = g[VMM_R9];
	r->r10 = g[VMM_R10];
	r->r11 = g[VMM_R11];
	r->r12 = g[VMM_R12];
	r->r13 = g[VMM_R13];
	r->r14 = g[VMM_R14];
	r->r15 = g[VMM_R15];
	r->rip = vcpu->rip;
	r->rflags = vcpu->rflags;
}

static void vmm_set_regs(struct vmm_vcpu *vcpu, const struct kvm_regs *r)
{
	unsigned long *g = vcpu->gprs;

	g[VMM_RAX] = r->rax;
	g[VMM_RBX] = r->rbx;
	g[VMM_RCX] = r->rcx;
	g[VMM_RDX] = r->rdx;
	g[VMM_RSI] = r->rsi;
	g[VMM_RDI] = r->rdi;
	g[VMM_RSP] = r->rsp;
	g[VMM_RBP] = r->rbp;
	g[VMM_R8] = r->r8;
	g[VMM_R9] = r->r9;
	g[VMM_R10] = r->r10;
	g[VMM_R11] = r->r11;
	g[VMM_R12] = r->r12;
	g[VMM_R13] = r->r13;
	g[VMM_R14] = r->r14;
	g[VMM_R15] = r->r15;
	/* A new RIP abandons a half-done I/O instruction (as KVM does). */
	if (vcpu->rip != r->rip)
		vcpu->pending = VMM_PENDING_NONE;
	vcpu->rip = r->rip;
	/* Bit 1 is fixed; VM86 mode is not supported. */
	vcpu->rflags = (r->rflags | X86_EFLAGS_FIXED) & ~X86_EFLAGS_VM;
}

static void vmm_get_sregs(struct vmm_vcpu *vcpu, struct kvm_sregs *sr)
{
	memset(sr, 0, sizeof(*sr));
	vcpu->vm->ops->get_sregs(vcpu, sr);
	sr->apic_base = vcpu->apic_base;
	/* With the LAPIC in the kernel, it has the APIC base and CR8. */
	if (vcpu->lapic) {
		sr->apic_base = vcpu->lapic->base;
		sr->cr8 = vmm_lapic_get_tpr(vcpu) >> 4;
	}
	if (vcpu->pending_irq >= 0)
		set_bit(vcpu->pending_irq,
			(unsigned long *)sr->interrupt_bitmap);
}

#define VMM_EFER_VALID	(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX)

/* CR4 bits a guest may set: VMM_CR4_VALID less what this CPU lacks. */
static u64 vmm_cr4_ok = VMM_CR4_VALID;

void vmm_cr4_setup(void)
{
	static const struct {
		u64 bit;
		int feature;
	} need[] = {
		{ X86_CR4_UMIP, X86_FEATURE_UMIP },
		{ X86_CR4_FSGSBASE, X86_FEATURE_FSGSBASE },
		{ X86_CR4_PCIDE, X86_FEATURE_PCID },
		{ X86_CR4_OSXSAVE, X86_FEATURE_XSAVE },
		{ X86_CR4_SMEP, X86_FEATURE_SMEP },
		{ X86_CR4_SMAP, X86_FEATURE_SMAP },
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(need); i++)
		if (!boot_cpu_has(need[i].feature))
			vmm_cr4_ok &= ~need[i].bit;
}

/*
 * No LA57 among them: the guest page walk of the emulator knows 4-level
 * paging only, and KVM_GET_SUPPORTED_CPUID does not offer 5-level paging.
 */
bool vmm_cr4_valid(u64 cr4)
{
	return !(cr4 & ~vmm_cr4_ok);
}
EXPORT_SYMBOL_GPL(vmm_cr4_valid);

/*
 * MOV to CR4 by the guest (APM 3.1.3, SDM MOV CR): 0, or -EINVAL for the
 * #GP of CPL > 0, a reserved or unsupported bit, PAE cleared in long
 * mode, PCIDE set outside long mode or with CR3[11:0] not zero.
 */
int vmm_cr4_write_check(const struct vmm_cpu_mode *m, unsigned int cpl,
			u64 val)
{
	if (cpl || !vmm_cr4_valid(val))
		return -EINVAL;
	if ((m->efer & EFER_LMA) && !(val & X86_CR4_PAE))
		return -EINVAL;
	if ((val & ~m->cr4 & X86_CR4_PCIDE) &&
	    (!(m->efer & EFER_LMA) || (m->cr3 & 0xfff)))
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_GPL(vmm_cr4_write_check);

/* Reject what the architecture forbids outright, like KVM does. */
bool vmm_sregs_valid(const struct kvm_sregs *sr)
{
	if (sr->cr0 >> 32 || !vmm_cr4_valid(sr->cr4) ||
	    sr->efer & ~(u64)VMM_EFER_VALID)
		return false;
	if ((sr->cr0 & X86_CR0_PG) && !(sr->cr0 & X86_CR0_PE))
		return false;
	if ((sr->cr0 & X86_CR0_NW) && !(sr->cr0 & X86_CR0_CD))
		return false;
	if ((sr->efer & EFER_LME) && (sr->cr0 & X86_CR0_PG)) {
		if (!(sr->cr4 & X86_CR4_PAE) || !(sr->efer & EFER_LMA))
			return false;
		if (sr->cr3 >> boot_cpu_data.x86_phys_bits)
			return false;
	} else if (sr->efer & EFER_LMA) {
		return false;
	}
	if (sr->cr8 > 15)
		return false;
	return true;
}

static int vmm_set_sregs(struct vmm_vcpu *vcpu, const struct kvm_sregs *sr)
{
	int i;

	if (!vmm_sregs_valid(sr))
		return -EINVAL;
	if (vcpu->lapic && vmm_lapic_set_base(vcpu, sr->apic_base, true))
		return -EINVAL;
	vcpu->vm->ops->set_sregs(vcpu, sr);
	vcpu->apic_base = sr->apic_base;
	if (vcpu->lapic)
		vmm_lapic_set_tpr(vcpu, sr->cr8 << 4);
	vcpu->pending_irq = -1;
	for (i = 0; i < 256; i++) {
		if (test_bit(i, (unsigned long *)sr->interrupt_bitmap)) {
			vcpu->pending_irq = i;
			break;
		}
	}
	return 0;
}

/*
 * Power-on state (SDM vol. 3, 10.1; APM vol. 2, 14.1.3), as KVM has it;
 * with @init, the state after an INIT, which keeps the x87/SSE state and
 * the MSRs (APIC base, misc enable, MTRRs).
 */
static void vmm_vcpu_reset_state(struct vmm_vcpu *vcpu, bool init)
{
	memset(vcpu->gprs, 0, sizeof(vcpu->gprs));
	vcpu->gprs[VMM_RDX] = 0x600;	/* reset signature: family 6 */
	vcpu->rip = 0xfff0;
	vcpu->rflags = X86_EFLAGS_FIXED;
	vcpu->pending = VMM_PENDING_NONE;
	vcpu->pending_irq = -1;
	/* The guest registers its kvmclock again after a reset or INIT. */
	vcpu->pv_system_time = 0;
	if (!init) {
		vmm_fpu_reset(vcpu);
		vcpu->pv_wall_clock = 0;

		vcpu->apic_base = 0xfee00000 | BIT(11) |
				  (vcpu->id ? 0 : BIT(8));
		vcpu->misc_enable = 1;	/* fast strings */
		vcpu->mtrr_def_type = 0;
	}
	vcpu->vm->ops->vcpu_reset(vcpu, init);
}

void vmm_vcpu_reset_init(struct vmm_vcpu *vcpu)
{
	vmm_vcpu_reset_state(vcpu, true);
}

void vmm_vcpu_reset(struct vmm_vcpu *vcpu)
{
	vmm_vcpu_reset_state(vcpu, false);
}
EXPORT_SYMBOL_GPL(vmm_vcpu_reset);

static long vmm_vcpu_ioctl_locked(struct vmm_vcpu *vcpu, unsigned int cmd,
				  void __user *argp, unsigned long arg)
{
	const struct vmm_arch_ops *ops = vcpu->vm->ops;
	union {
		struct kvm_regs regs;
		struct kvm_sregs sregs;
		struct kvm_fpu fpu;
		struct kvm_interrupt irq;
		struct kvm_lapic_state lapic;
		struct kvm_mp_state mp;
		struct kvm_vcpu_events events;
		struct kvm_debugregs dbg;
		struct kvm_xsave xsave;
		struct kvm_xcrs xcrs;
	} *u;
	long ret;

	switch (cmd) {
	case KVM_RUN:
		if (arg)
			return -EINVAL;
		return vmm_vcpu_run(vcpu);
	case KVM_GET_MSRS:
		return vmm_vcpu_get_msrs(vcpu, argp, false);
	case KVM_SET_MSRS:
		return vmm_vcpu_get_msrs(vcpu, argp, true);
	case KVM_SET_CPUID2:
		return vmm_vcpu_set_cpuid2(vcpu, argp);
	case KVM_GET_CPUID2:
		return vmm_vcpu_get_cpuid2(vcpu, argp);
	case KVM_NMI:
		if (!vmm_ops_have_events(ops))
			return -ENOTTY;
		return vmm_vcpu_nmi(vcpu);
	case KVM_GET_TSC_KHZ:
		return tsc_khz ? tsc_khz : -EIO;
	case KVM_GET_REGS:
	case KVM_SET_REGS:
	case KVM_GET_SREGS:
	case KVM_SET_SREGS:
	case KVM_GET_FPU:
	case KVM_SET_FPU:
	case KVM_INTERRUPT:
	case KVM_GET_LAPIC:
	case KVM_SET_LAPIC:
	case KVM_GET_MP_STATE:
	case KVM_SET_MP_STATE:
	case KVM_GET_XSAVE:
	case KVM_SET_XSAVE:
	case KVM_GET_XCRS:
	case KVM_SET_XCRS:
		break;
	case KVM_GET_VCPU_EVENTS:
	case KVM_SET_VCPU_EVENTS:
		if (!vmm_ops_have_events(ops))
			return -ENOTTY;
		break;
	case KVM_GET_DEBUGREGS:
	case KVM_SET_DEBUGREGS:
		if (!vmm_ops_have_debugregs(ops))
			return -ENOTTY;
		break;
	default:
		return -ENOTTY;
	}

	u = kzalloc(sizeof(*u), GFP_KERNEL);
	if (!u)
		return -ENOMEM;
	ret = 0;
	switch (cmd) {
	case KVM_GET_REGS:
		vmm_get_regs(vcpu, &u->regs);
		if (copy_to_user(argp, &u->regs, sizeof(u->regs)))
			ret = -EFAULT;
		break;
	case KVM_SET_REGS:
		if (copy_from_user(&u->regs, argp, sizeof(u->regs)))
			ret = -EFAULT;
		else
			vmm_set_regs(vcpu, &u->regs);
		break;
	case KVM_GET_SREGS:
		vmm_get_sregs(vcpu, &u->sregs);
		if (copy_to_user(argp, &u->sregs, sizeof(u->sregs)))
			ret = -EFAULT;
		break;
	case KVM_SET_SREGS:
		if (copy_from_user(&u->sregs, argp, sizeof(u->sregs)))
			ret = -EFAULT;
		else
			ret = vmm_set_sregs(vcpu, &u->sregs);
		break;
	case KVM_GET_FPU:
		vmm_get_fpu(vcpu, &u->fpu);
		if (copy_to_user(argp, &u->fpu, sizeof(u->fpu)))
			ret = -EFAULT;
		break;
	case KVM_SET_FPU:
		if (copy_from_user(&u->fpu, argp, sizeof(u->fpu)))
			ret = -EFAULT;
		else
			vmm_set_fpu(vcpu, &u->fpu);
		break;
	case KVM_INTERRUPT:
		/* With the irqchip in the kernel, interrupts come from it. */
		if (vcpu->lapic)
			ret = -ENXIO;
		else if (copy_from_user(&u->irq, argp, sizeof(u->irq)))
			ret = -EFAULT;
		else if (u->irq.irq >= 256)
			ret = -EINVAL;
		else if (vcpu->pending_irq >= 0)
			ret = -ENXIO;
		else
			vcpu->pending_irq = u->irq.irq;
		break;
	case KVM_GET_LAPIC:
		if (!vcpu->lapic)
			ret = -EINVAL;
		else if (vmm_lapic_get_state(vcpu, &u->lapic) ||
			 copy_to_user(argp, &u->lapic, sizeof(u->lapic)))
			ret = -EFAULT;
		break;
	case KVM_SET_LAPIC:
		if (!vcpu->lapic)
			ret = -EINVAL;
		else if (copy_from_user(&u->lapic, argp, sizeof(u->lapic)))
			ret = -EFAULT;
		else
			ret = vmm_lapic_set_state(vcpu, &u->lapic);
		break;
	case KVM_GET_MP_STATE:
		ret = vmm_get_mp_state(vcpu, &u->mp);
		if (!ret && copy_to_user(argp, &u->mp, sizeof(u->mp)))
			ret = -EFAULT;
		break;
	case KVM_SET_MP_STATE:
		if (copy_from_user(&u->mp, argp, sizeof(u->mp)))
			ret = -EFAULT;
		else
			ret = vmm_set_mp_state(vcpu, &u->mp);
		break;
	case KVM_GET_VCPU_EVENTS:
		ret = vmm_get_vcpu_events(vcpu, &u->events);
		if (!ret && copy_to_user(argp, &u->events, sizeof(u->events)))
			ret = -EFAULT;
		break;
	case KVM_SET_VCPU_EVENTS:
		if (copy_from_user(&u->events, argp, sizeof(u->events)))
			ret = -EFAULT;
		else
			ret = vmm_set_vcpu_events(vcpu, &u->events);
		break;
	case KVM_GET_DEBUGREGS:
		ops->get_debugregs(vcpu, &u->dbg);
		if (copy_to_user(argp, &u->dbg, sizeof(u->dbg)))
			ret = -EFAULT;
		break;
	case KVM_SET_DEBUGREGS:
		if (copy_from_user(&u->dbg, argp, sizeof(u->dbg)))
			ret = -EFAULT;
		else
			ret = ops->set_debugregs(vcpu, &u->dbg);
		break;
	case KVM_GET_XSAVE:
		vmm_get_xsave(vcpu, &u->xsave);
		if (copy_to_user(argp, &u->xsave, sizeof(u->xsave)))
			ret = -EFAULT;
		break;
	case KVM_SET_XSAVE:
		if (copy_from_user(&u->xsave, argp, sizeof(u->xsave)))
			ret = -EFAULT;
		else
			ret = vmm_set_xsave(vcpu, &u->xsave);
		break;
	case KVM_GET_XCRS:
		vmm_get_xcrs(vcpu, &u->xcrs);
		if (copy_to_user(argp, &u->xcrs, sizeof(u->xcrs)))
			ret = -EFAULT;
		break;
	case KVM_SET_XCRS:
		if (copy_from_user(&u->xcrs, argp, sizeof(u->xcrs)))
			ret = -EFAULT;
		else
			ret = vmm_set_xcrs(vcpu, &u->xcrs);
		break;
	}
	kfree(u);
	return ret;
}

static void vmm_vcpu_load(struct vmm_vcpu *vcpu)
{
	if (vcpu->vm->ops->vcpu_load)
		vcpu->vm->ops->vcpu_load(vcpu);
}

static void vmm_vcpu_put(struct vmm_vcpu *vcpu)
{
	if (vcpu->vm->ops->vcpu_put)
		vcpu->vm->ops->vcpu_put(vcpu);
}

static long vmm_vcpu_ioctl(struct file *filp, unsigned int cmd,
			   unsigned long arg)
{
	struct vmm_vcpu *vcpu = filp->private_data;
	long ret;

	if (vcpu->vm->mm != current->mm)
		return -EIO;
	if (mutex_lock_killable(&vcpu->mutex))
		return -EINTR;
	vmm_vcpu_load(vcpu);
	ret = vmm_vcpu_ioctl_locked(vcpu, cmd, (void __user *)arg, arg);
	vmm_vcpu_put(vcpu);
	mutex_unlock(&vcpu->mutex);
	return ret;
}

static const struct file_operations vmm_vcpu_fops = {
	.owner = THIS_MODULE,
	.release = vmm_vcpu_release,
	.unlocked_ioctl = vmm_vcpu_ioctl,
	.mmap = vmm_vcpu_mmap,
	.llseek = noop_llseek,
};

void vmm_vcpu_destroy(struct vmm_vcpu *vcpu)
{
	vmm_lapic_free(vcpu);
	vcpu->vm->ops->vcpu_free(vcpu);
	free_page((unsigned long)vcpu->fpu);
	__free_page(vcpu->pio_page);
	__free_page(vcpu->run_page);
	kfree(vcpu);
	atomic64_dec(&vmm_live_objects);
}

int vmm_vcpu_create(struct vmm_vm *vm, unsigned long id)
{
	struct vmm_vcpu *vcpu;
	struct file *file;
	int i, ret, fd;

	if (id >= VMM_MAX_VCPUS)
		return -EINVAL;

	mutex_lock(&vm->lock);
	ret = -EEXIST;
	for (i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i]->id == id)
			goto out;
	ret = -EINVAL;
	if (vm->nr_vcpus >= VMM_MAX_VCPUS)
		goto out;

	ret = -ENOMEM;
	vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		goto out;
	vcpu->run_page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!vcpu->run_page)
		goto err_vcpu;
	vcpu->pio_page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!vcpu->pio_page)
		goto err_run;
	vcpu->fpu = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vcpu->fpu)
		goto err_pio;
	vcpu->run = page_address(vcpu->run_page);
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->cpu = -1;
	vcpu->pending_irq = -1;
	vcpu->mp_state = KVM_MP_STATE_RUNNABLE;
	mutex_init(&vcpu->mutex);
	rcuwait_init(&vcpu->wait);

	ret = vm->ops->vcpu_create(vcpu);
	if (ret)
		goto err_fpu;
	vmm_vcpu_load(vcpu);
	vmm_vcpu_reset(vcpu);
	vmm_vcpu_put(vcpu);
	if (vm->irqchip) {
		ret = vmm_lapic_create(vcpu);
		if (ret)
			goto err_arch;
		/* Application processors wait for INIT and SIPI. */
		if (id)
			vcpu->mp_state = KVM_MP_STATE_UNINITIALIZED;
	}

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_lapic;
	}
	file = anon_inode_getfile("vmm-vcpu", &vmm_vcpu_fops, vcpu, O_RDWR);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		ret = PTR_ERR(file);
		goto err_lapic;
	}
	atomic64_inc(&vmm_live_objects);
	/* The fd holds a VM reference; the VM owns the vCPU. */
	kref_get(&vm->kref);
	vm->vcpus[vm->nr_vcpus] = vcpu;
	/* Interrupt senders walk vcpus[] without the lock. */
	smp_store_release(&vm->nr_vcpus, vm->nr_vcpus + 1);
	fd_install(fd, file);
	ret = fd;
	goto out;

err_lapic:
	vmm_lapic_free(vcpu);
err_arch:
	vm->ops->vcpu_free(vcpu);
err_fpu:
	free_page((unsigned long)vcpu->fpu);
err_pio:
	__free_page(vcpu->pio_page);
err_run:
	__free_page(vcpu->run_page);
err_vcpu:
	kfree(vcpu);
out:
	mutex_unlock(&vm->lock);
	return ret;
}
