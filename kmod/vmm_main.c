// SPDX-License-Identifier: GPL-2.0
/*
 * vmm core: the /dev/vmm misc device, backend registration and VM file
 * descriptors.  The ioctl numbers and structures are KVM's, so userspace
 * written for /dev/kvm drives this device unchanged (a documented subset).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/cpumask.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/smp.h>
#include <linux/uaccess.h>
#include <asm/msr.h>

#include "vmm.h"
#include "vmm_irqchip.h"

static DEFINE_MUTEX(vmm_backend_lock);
static const struct vmm_arch_ops *vmm_backend;

/* VMs, vCPUs and slots alive; must be zero when the module goes away. */
atomic64_t vmm_live_objects = ATOMIC64_INIT(0);

u64 vmm_nr_live_objects(void)
{
	return atomic64_read(&vmm_live_objects);
}
EXPORT_SYMBOL_GPL(vmm_nr_live_objects);

int vmm_register_backend(const struct vmm_arch_ops *ops)
{
	int ret = 0;

	mutex_lock(&vmm_backend_lock);
	if (vmm_backend)
		ret = -EBUSY;
	else
		vmm_backend = ops;
	mutex_unlock(&vmm_backend_lock);
	if (!ret)
		pr_info("backend %s registered\n", ops->name);
	return ret;
}
EXPORT_SYMBOL_GPL(vmm_register_backend);

void vmm_unregister_backend(const struct vmm_arch_ops *ops)
{
	mutex_lock(&vmm_backend_lock);
	if (vmm_backend == ops)
		vmm_backend = NULL;
	mutex_unlock(&vmm_backend_lock);
}
EXPORT_SYMBOL_GPL(vmm_unregister_backend);

static void vmm_kick_noop(void *info)
{
}

/*
 * Force this VM's vCPUs out of guest mode: any interrupt ends guest mode
 * (the backends always exit on external interrupts).  Only the CPUs
 * running one of its vCPUs get an IPI, so a loop of slot deletions does
 * not storm the host.  The caller changed what the vCPUs must see (e.g.
 * the TLB generation) before the call; a vCPU that enters guest mode after
 * our look at its mode sees the change itself (both sides order with a
 * full barrier, vmm_guest_mode_enter()).  Caller holds vm->lock (the vCPU
 * array is stable).
 */
void vmm_kick_vm_cpus(struct vmm_vm *vm)
{
	cpumask_var_t mask;
	int i;

	lockdep_assert_held(&vm->lock);
	if (!zalloc_cpumask_var(&mask, GFP_KERNEL)) {
		on_each_cpu(vmm_kick_noop, NULL, 1);
		return;
	}
	/* Pairs with the barrier in vmm_guest_mode_enter(). */
	smp_mb();
	for (i = 0; i < vm->nr_vcpus; i++) {
		struct vmm_vcpu *vcpu = vm->vcpus[i];

		if (READ_ONCE(vcpu->mode) == VMM_IN_GUEST_MODE)
			cpumask_set_cpu(READ_ONCE(vcpu->cpu), mask);
	}
	preempt_disable();
	/* The CPU we run on runs no vCPU now; the others get the IPI. */
	cpumask_clear_cpu(smp_processor_id(), mask);
	if (!cpumask_empty(mask)) {
		this_cpu_add(vmm_stats[VMM_STAT_SLOT_KICK_IPIS],
			     cpumask_weight(mask));
		smp_call_function_many(mask, vmm_kick_noop, NULL, true);
	}
	preempt_enable();
	free_cpumask_var(mask);
}
EXPORT_SYMBOL_GPL(vmm_kick_vm_cpus);

/*
 * @ops: the VM's backend, or on /dev/vmm the registered one (NULL: none
 * loaded, the core's answers).
 */
static long vmm_check_extension(const struct vmm_arch_ops *ops, long ext)
{
	switch (ext) {
	case KVM_CAP_IRQCHIP:
	case KVM_CAP_PIT2:
	case KVM_CAP_PIT_STATE2:
	case KVM_CAP_IRQ_INJECT_STATUS:
	case KVM_CAP_SIGNAL_MSI:
	case KVM_CAP_IRQFD:
	case KVM_CAP_IRQFD_RESAMPLE:
	case KVM_CAP_TSC_DEADLINE_TIMER:
	case KVM_CAP_USER_NMI:
	case KVM_CAP_VCPU_EVENTS:
	case KVM_CAP_IRQ_ROUTING:
		if (ops && !vmm_ops_have_events(ops))
			return 0;
		break;
	case KVM_CAP_DEBUGREGS:
		if (ops && !vmm_ops_have_debugregs(ops))
			return 0;
		break;
	}

	switch (ext) {
	case KVM_CAP_USER_MEMORY:
	case KVM_CAP_EXT_CPUID:
	case KVM_CAP_IMMEDIATE_EXIT:
	case KVM_CAP_READONLY_MEM:
	case KVM_CAP_CHECK_EXTENSION_VM:
	case KVM_CAP_IRQCHIP:
	case KVM_CAP_PIT2:
	case KVM_CAP_PIT_STATE2:
	case KVM_CAP_IRQ_INJECT_STATUS:
	case KVM_CAP_SIGNAL_MSI:
	case KVM_CAP_IRQFD:
	case KVM_CAP_IRQFD_RESAMPLE:
	case KVM_CAP_IOEVENTFD:
	case KVM_CAP_IOEVENTFD_ANY_LENGTH:
	case KVM_CAP_TSC_DEADLINE_TIMER:
	case KVM_CAP_MP_STATE:
	case KVM_CAP_USER_NMI:
	case KVM_CAP_VCPU_EVENTS:
	case KVM_CAP_GET_TSC_KHZ:
	case KVM_CAP_DEBUGREGS:
		return 1;
	case KVM_CAP_XSAVE:
	case KVM_CAP_XCRS:
		return !!vmm_xfeatures;
	case KVM_CAP_IRQ_ROUTING:
		return VMM_MAX_IRQ_ROUTES;
	case KVM_CAP_NR_VCPUS:
	case KVM_CAP_MAX_VCPUS:
	case KVM_CAP_MAX_VCPU_ID:
		return VMM_MAX_VCPUS;
	case KVM_CAP_NR_MEMSLOTS:
		return VMM_MAX_SLOTS;
	default:
		return 0;
	}
}

static void vmm_vm_free(struct kref *kref)
{
	struct vmm_vm *vm = container_of(kref, struct vmm_vm, kref);
	const struct vmm_arch_ops *ops = vm->ops;
	int i;

	/* Interrupt sources first: they reach into the vCPUs. */
	vmm_irqchip_quiesce(vm);
	for (i = 0; i < vm->nr_vcpus; i++)
		vmm_vcpu_destroy(vm->vcpus[i]);
	vmm_irqchip_destroy(vm);
	vmm_io_bus_free_all(vm);
	vmm_mem_free_all(vm);
	ops->vm_destroy(vm);
	cleanup_srcu_struct(&vm->srcu);
	mmdrop(vm->mm);
	kfree(vm);
	atomic64_dec(&vmm_live_objects);
	module_put(ops->owner);
}

void vmm_vm_put(struct vmm_vm *vm)
{
	kref_put(&vm->kref, vmm_vm_free);
}

static int vmm_vm_release(struct inode *inode, struct file *filp)
{
	vmm_vm_put(filp->private_data);
	return 0;
}

static long vmm_irq_line_ioctl(struct vmm_vm *vm, void __user *argp,
			       bool status)
{
	struct kvm_irq_level l;

	if (copy_from_user(&l, argp, sizeof(l)))
		return -EFAULT;
	if (!vm->irqchip)
		return -ENXIO;
	l.status = vmm_irq_line(vm, VMM_IRQ_SRC_USER, l.irq, l.level);
	if (status && copy_to_user(argp, &l, sizeof(l)))
		return -EFAULT;
	return 0;
}

static long vmm_set_gsi_routing_ioctl(struct vmm_vm *vm, void __user *argp)
{
	struct kvm_irq_routing __user *ur = argp;
	struct kvm_irq_routing_entry *e;
	struct kvm_irq_routing r;
	long ret;

	if (copy_from_user(&r, ur, sizeof(r)))
		return -EFAULT;
	if (r.flags || r.nr > VMM_MAX_IRQ_ROUTES)
		return -EINVAL;
	e = vmemdup_user(ur->entries, array_size(r.nr, sizeof(*e)));
	if (IS_ERR(e))
		return PTR_ERR(e);
	ret = vmm_set_gsi_routing(vm, e, r.nr);
	kvfree(e);
	return ret;
}

static long vmm_signal_msi_ioctl(struct vmm_vm *vm, void __user *argp)
{
	struct kvm_msi msi;

	if (copy_from_user(&msi, argp, sizeof(msi)))
		return -EFAULT;
	if (msi.flags || memchr_inv(msi.pad, 0, sizeof(msi.pad)))
		return -EINVAL;
	return vmm_irq_msi(vm, (u64)msi.address_hi << 32 | msi.address_lo,
			   msi.data);
}

/* The irqchip and PIT state ioctls: copy in, act, copy out. */
static long vmm_vm_state_ioctl(struct vmm_vm *vm, unsigned int cmd,
			       void __user *argp)
{
	union {
		struct kvm_irqchip chip;
		struct kvm_pit_state2 pit;
		struct kvm_pit_config pit_config;
		struct kvm_irqfd irqfd;
		struct kvm_ioeventfd ioeventfd;
	} *u;
	long ret;

	u = kzalloc(sizeof(*u), GFP_KERNEL);
	if (!u)
		return -ENOMEM;
	ret = -EFAULT;
	switch (cmd) {
	case KVM_GET_IRQCHIP:
		if (copy_from_user(&u->chip, argp, sizeof(u->chip)))
			break;
		ret = vmm_get_irqchip(vm, &u->chip);
		if (!ret && copy_to_user(argp, &u->chip, sizeof(u->chip)))
			ret = -EFAULT;
		break;
	case KVM_SET_IRQCHIP:
		if (!copy_from_user(&u->chip, argp, sizeof(u->chip)))
			ret = vmm_set_irqchip(vm, &u->chip);
		break;
	case KVM_GET_PIT2:
		ret = vmm_pit_get_state(vm, &u->pit);
		if (!ret && copy_to_user(argp, &u->pit, sizeof(u->pit)))
			ret = -EFAULT;
		break;
	case KVM_SET_PIT2:
		if (!copy_from_user(&u->pit, argp, sizeof(u->pit)))
			ret = vmm_pit_set_state(vm, &u->pit);
		break;
	case KVM_CREATE_PIT2:
		if (copy_from_user(&u->pit_config, argp,
				   sizeof(u->pit_config)))
			break;
		mutex_lock(&vm->lock);
		ret = vmm_pit_create(vm, &u->pit_config);
		mutex_unlock(&vm->lock);
		break;
	case KVM_IRQFD:
		if (!copy_from_user(&u->irqfd, argp, sizeof(u->irqfd)))
			ret = vmm_irqfd(vm, &u->irqfd);
		break;
	case KVM_IOEVENTFD:
		if (!copy_from_user(&u->ioeventfd, argp, sizeof(u->ioeventfd)))
			ret = vmm_ioeventfd(vm, &u->ioeventfd);
		break;
	}
	kfree(u);
	return ret;
}

static long vmm_vm_ioctl(struct file *filp, unsigned int cmd,
			 unsigned long arg)
{
	struct vmm_vm *vm = filp->private_data;
	void __user *argp = (void __user *)arg;
	struct kvm_userspace_memory_region region;
	long ret;

	if (vm->mm != current->mm)
		return -EIO;

	switch (cmd) {
	case KVM_CREATE_VCPU:
		return vmm_vcpu_create(vm, arg);
	case KVM_SET_USER_MEMORY_REGION:
		if (copy_from_user(&region, argp, sizeof(region)))
			return -EFAULT;
		return vmm_mem_set_region(vm, &region);
	case KVM_GET_DIRTY_LOG: {
		struct kvm_dirty_log log;

		if (copy_from_user(&log, argp, sizeof(log)))
			return -EFAULT;
		return vmm_get_dirty_log(vm, &log);
	}
	case KVM_CREATE_IRQCHIP:
		/* No injection in this backend: nothing could deliver. */
		if (!vmm_ops_have_events(vm->ops))
			return -ENOTTY;
		mutex_lock(&vm->lock);
		ret = vmm_irqchip_create(vm);
		mutex_unlock(&vm->lock);
		return ret;
	case KVM_IRQ_LINE:
		return vmm_irq_line_ioctl(vm, argp, false);
	case KVM_IRQ_LINE_STATUS:
		return vmm_irq_line_ioctl(vm, argp, true);
	case KVM_SET_GSI_ROUTING:
		return vmm_set_gsi_routing_ioctl(vm, argp);
	case KVM_SIGNAL_MSI:
		return vmm_signal_msi_ioctl(vm, argp);
	case KVM_GET_IRQCHIP:
	case KVM_SET_IRQCHIP:
	case KVM_GET_PIT2:
	case KVM_SET_PIT2:
	case KVM_CREATE_PIT2:
	case KVM_IRQFD:
	case KVM_IOEVENTFD:
		return vmm_vm_state_ioctl(vm, cmd, argp);
	case KVM_CHECK_EXTENSION:
		return vmm_check_extension(vm->ops, arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations vmm_vm_fops = {
	.owner = THIS_MODULE,
	.release = vmm_vm_release,
	.unlocked_ioctl = vmm_vm_ioctl,
	.llseek = noop_llseek,
};

static int vmm_create_vm(unsigned long type)
{
	const struct vmm_arch_ops *ops;
	struct vmm_vm *vm;
	struct vmm_slots *slots;
	int ret;

	if (type)
		return -EINVAL;

	mutex_lock(&vmm_backend_lock);
	ops = vmm_backend;
	if (ops && !try_module_get(ops->owner))
		ops = NULL;
	mutex_unlock(&vmm_backend_lock);
	if (!ops)
		return -ENODEV;

	ret = -ENOMEM;
	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		goto err_module;
	slots = kzalloc(sizeof(*slots), GFP_KERNEL_ACCOUNT);
	if (!slots)
		goto err_vm;
	RCU_INIT_POINTER(vm->slots, slots);

	spin_lock_init(&vm->irqfd_lock);
	mutex_init(&vm->irqfd_mutex);
	INIT_LIST_HEAD(&vm->irqfds);
	INIT_LIST_HEAD(&vm->resamplers);
	INIT_LIST_HEAD(&vm->ioeventfds);
	kref_init(&vm->kref);
	mutex_init(&vm->lock);
	mutex_init(&vm->dirty_lock);
	vm->ops = ops;
	vm->mm = current->mm;
	mmgrab(vm->mm);
	/* The guest's TSC counts from 0 at VM creation, on every vCPU. */
	vm->tsc_offset = -rdtsc();
	ret = init_srcu_struct(&vm->srcu);
	if (ret)
		goto err_slots;
	ret = ops->vm_init(vm);
	if (ret)
		goto err_srcu;

	atomic64_inc(&vmm_live_objects);
	ret = anon_inode_getfd("vmm-vm", &vmm_vm_fops, vm, O_RDWR | O_CLOEXEC);
	if (ret < 0)
		vmm_vm_put(vm);	/* frees everything, drops the module */
	return ret;

err_srcu:
	cleanup_srcu_struct(&vm->srcu);
err_slots:
	mmdrop(vm->mm);
	kfree(slots);
err_vm:
	kfree(vm);
err_module:
	module_put(ops->owner);
	return ret;
}

static long vmm_get_msr_index_list(void __user *argp)
{
	struct kvm_msr_list __user *ulist = argp;
	const struct vmm_arch_ops *ops;
	struct kvm_msr_list list;
	long ret = 0;

	if (copy_from_user(&list, ulist, sizeof(list)))
		return -EFAULT;
	mutex_lock(&vmm_backend_lock);
	ops = vmm_backend;
	if (!ops) {
		ret = -ENODEV;
		goto out;
	}
	if (list.nmsrs < vmm_nr_msrs)
		ret = -E2BIG;
	list.nmsrs = vmm_nr_msrs;
	if (copy_to_user(ulist, &list, sizeof(list)))
		ret = -EFAULT;
	else if (!ret && copy_to_user(ulist->indices, vmm_msr_list,
				      vmm_nr_msrs * sizeof(u32)))
		ret = -EFAULT;
out:
	mutex_unlock(&vmm_backend_lock);
	return ret;
}

static long vmm_get_supported_cpuid(void __user *argp)
{
	struct kvm_cpuid2 __user *ucpuid = argp;
	struct kvm_cpuid_entry2 *e;
	struct kvm_cpuid2 cpuid;
	long ret;
	int n;

	if (copy_from_user(&cpuid, ucpuid, sizeof(cpuid)))
		return -EFAULT;
	e = kcalloc(VMM_MAX_CPUID_ENTRIES, sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	mutex_lock(&vmm_backend_lock);
	n = vmm_backend ? vmm_supported_cpuid(e, VMM_MAX_CPUID_ENTRIES) :
			  -ENODEV;
	mutex_unlock(&vmm_backend_lock);
	ret = n;
	if (n < 0)
		goto out;
	ret = -E2BIG;
	if (cpuid.nent < n)
		goto out;
	cpuid.nent = n;
	ret = -EFAULT;
	if (copy_to_user(ucpuid, &cpuid, sizeof(cpuid)) ||
	    copy_to_user(ucpuid->entries, e, n * sizeof(*e)))
		goto out;
	ret = 0;
out:
	kfree(e);
	return ret;
}

static long vmm_dev_ioctl(struct file *filp, unsigned int cmd,
			  unsigned long arg)
{
	switch (cmd) {
	case KVM_GET_API_VERSION:
		return arg ? -EINVAL : KVM_API_VERSION;
	case KVM_CREATE_VM:
		return vmm_create_vm(arg);
	case KVM_CHECK_EXTENSION: {
		long ret;

		mutex_lock(&vmm_backend_lock);
		ret = vmm_check_extension(vmm_backend, arg);
		mutex_unlock(&vmm_backend_lock);
		return ret;
	}
	case KVM_GET_VCPU_MMAP_SIZE:
		return arg ? -EINVAL : VMM_VCPU_MMAP_PAGES * PAGE_SIZE;
	case KVM_GET_MSR_INDEX_LIST:
		return vmm_get_msr_index_list((void __user *)arg);
	case KVM_GET_SUPPORTED_CPUID:
		return vmm_get_supported_cpuid((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations vmm_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = vmm_dev_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice vmm_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vmm",
	.fops = &vmm_dev_fops,
	.mode = 0600,
};

static int __init vmm_init(void)
{
	int ret;

	vmm_fpu_setup();
	vmm_cr4_setup();
	vmm_pvclock_setup();
	ret = vmm_eventfd_init();
	if (ret)
		return ret;
	ret = misc_register(&vmm_misc);
	if (ret) {
		pr_err("cannot register /dev/vmm: %d\n", ret);
		vmm_eventfd_exit();
		return ret;
	}
	vmm_stats_init();
	pr_info("/dev/vmm ready (KVM API %d subset)\n", KVM_API_VERSION);
	return 0;
}

static void __exit vmm_exit(void)
{
	u64 live = vmm_nr_live_objects();

	misc_deregister(&vmm_misc);
	vmm_stats_exit();
	vmm_eventfd_exit();
	/* Cannot happen while files hold the module; say so if it does. */
	if (live)
		pr_err("leak: %llu objects still alive at unload\n", live);
	else
		pr_info("unloaded, no objects left\n");
}

module_init(vmm_init);
module_exit(vmm_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("libvm hypervisor core (KVM-compatible /dev/vmm)");
MODULE_AUTHOR("libvm developers");
