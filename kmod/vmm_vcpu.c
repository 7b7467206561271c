// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU file descriptors: creation, the shared kvm_run page (mmap), and the
 * per-vCPU ioctls.  Register and run semantics are the backend's; this file
 * only validates, copies and serializes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vmm.h"

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
	const struct vmm_arch_ops *ops = vcpu->vm->ops;
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
			ret = ops->set_msr(vcpu, e.index, e.data);
		} else {
			ret = ops->get_msr(vcpu, e.index, &e.data);
			if (!ret && copy_to_user(&umsrs->entries[i], &e,
						 sizeof(e)))
				return -EFAULT;
		}
		if (ret)
			break;	/* KVM ABI: return how many were processed */
	}
	return i;
}

static long vmm_vcpu_set_cpuid2(struct vmm_vcpu *vcpu, void __user *argp)
{
	struct kvm_cpuid2 __user *ucpuid = argp;
	struct kvm_cpuid2 cpuid;

	if (copy_from_user(&cpuid, ucpuid, sizeof(cpuid)))
		return -EFAULT;
	if (cpuid.nent > VMM_MAX_CPUID_ENTRIES)
		return -E2BIG;
	if (copy_from_user(vcpu->cpuid, ucpuid->entries,
			   cpuid.nent * sizeof(vcpu->cpuid[0])))
		return -EFAULT;
	vcpu->nr_cpuid = cpuid.nent;
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

static long vmm_vcpu_ioctl_locked(struct vmm_vcpu *vcpu, unsigned int cmd,
				  void __user *argp, unsigned long arg)
{
	const struct vmm_arch_ops *ops = vcpu->vm->ops;
	union {
		struct kvm_regs regs;
		struct kvm_sregs sregs;
		struct kvm_fpu fpu;
		struct kvm_interrupt irq;
	} *u;
	long ret;

	switch (cmd) {
	case KVM_RUN:
		if (arg)
			return -EINVAL;
		return ops->vcpu_run(vcpu);
	case KVM_GET_MSRS:
		return vmm_vcpu_get_msrs(vcpu, argp, false);
	case KVM_SET_MSRS:
		return vmm_vcpu_get_msrs(vcpu, argp, true);
	case KVM_SET_CPUID2:
		return vmm_vcpu_set_cpuid2(vcpu, argp);
	case KVM_GET_CPUID2:
		return vmm_vcpu_get_cpuid2(vcpu, argp);
	case KVM_GET_REGS:
	case KVM_SET_REGS:
	case KVM_GET_SREGS:
	case KVM_SET_SREGS:
	case KVM_GET_FPU:
	case KVM_SET_FPU:
	case KVM_INTERRUPT:
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
		ops->get_regs(vcpu, &u->regs);
		if (copy_to_user(argp, &u->regs, sizeof(u->regs)))
			ret = -EFAULT;
		break;
	case KVM_SET_REGS:
		if (copy_from_user(&u->regs, argp, sizeof(u->regs)))
			ret = -EFAULT;
		else
			ops->set_regs(vcpu, &u->regs);
		break;
	case KVM_GET_SREGS:
		ops->get_sregs(vcpu, &u->sregs);
		if (copy_to_user(argp, &u->sregs, sizeof(u->sregs)))
			ret = -EFAULT;
		break;
	case KVM_SET_SREGS:
		if (copy_from_user(&u->sregs, argp, sizeof(u->sregs)))
			ret = -EFAULT;
		else
			ret = ops->set_sregs(vcpu, &u->sregs);
		break;
	case KVM_GET_FPU:
		ops->get_fpu(vcpu, &u->fpu);
		if (copy_to_user(argp, &u->fpu, sizeof(u->fpu)))
			ret = -EFAULT;
		break;
	case KVM_SET_FPU:
		if (copy_from_user(&u->fpu, argp, sizeof(u->fpu)))
			ret = -EFAULT;
		else
			ops->set_fpu(vcpu, &u->fpu);
		break;
	case KVM_INTERRUPT:
		if (copy_from_user(&u->irq, argp, sizeof(u->irq)))
			ret = -EFAULT;
		else if (u->irq.irq >= 256)
			ret = -EINVAL;
		else if (vcpu->pending_irq >= 0)
			ret = -ENXIO;
		else
			vcpu->pending_irq = u->irq.irq;
		break;
	}
	kfree(u);
	return ret;
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
	ret = vmm_vcpu_ioctl_locked(vcpu, cmd, (void __user *)arg, arg);
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
	vcpu->vm->ops->vcpu_free(vcpu);
	__free_page(vcpu->pio_page);
	__free_page(vcpu->run_page);
	kfree(vcpu);
	atomic64_dec(&vmm_live_objects);
}

int vmm_vcpu_create(struct vmm_vm *vm, unsigned long id)
{
	struct vmm_vcpu *vcpu;
	int i, ret;

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
	vcpu->run = page_address(vcpu->run_page);
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->cpu = -1;
	vcpu->pending_irq = -1;
	mutex_init(&vcpu->mutex);

	ret = vm->ops->vcpu_create(vcpu);
	if (ret)
		goto err_pio;
	atomic64_inc(&vmm_live_objects);

	/* The fd holds a VM reference; the VM owns the vCPU. */
	kref_get(&vm->kref);
	vm->vcpus[vm->nr_vcpus++] = vcpu;
	ret = anon_inode_getfd("vmm-vcpu", &vmm_vcpu_fops, vcpu,
			       O_RDWR | O_CLOEXEC);
	if (ret < 0) {
		vm->nr_vcpus--;
		/* Never the last reference: the caller holds the VM fd. */
		refcount_dec(&vm->kref.refcount);
		vmm_vcpu_destroy(vcpu);
	}
	goto out;

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
