/* SPDX-License-Identifier: MIT */
/*
 * The KVM backend: the operations of backend.h as ioctls on the device
 * (/dev/kvm, or our /dev/vmm, which speaks a subset of the same ABI), the
 * VM fd and each vCPU's fd with its mmap()ed struct kvm_run. This is the
 * only file of the library that calls ioctl() on them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

struct kvm_vm {
	int sys_fd;      /* the device */
	int vm_fd;
	size_t run_size; /* mmap size of a vCPU's kvm_run page */
};

struct kvm_vcpu {
	int fd;
};

static struct kvm_vm *K(const libvm_vm *vm)
{
	return vm->bk;
}

static int xioctl(int fd, unsigned long req, const void *arg)
{
	int r = ioctl(fd, req, arg);

	return r < 0 ? -errno : r;
}

static int kvm_vm_open(libvm_vm *vm, const char *path)
{
	struct kvm_vm *k = calloc(1, sizeof(*k));
	int version, sz;

	if (!k)
		return libvm__fail(-ENOMEM, "libvm_vm_create: out of memory");
	k->sys_fd = k->vm_fd = -1;
	vm->bk = k;
	k->sys_fd = open(path, O_RDWR | O_CLOEXEC);
	if (k->sys_fd < 0) {
		int err = -errno;

		return libvm__fail(err, "cannot open %s: %s", path, strerror(-err));
	}
	version = ioctl(k->sys_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION)
		return libvm__fail(-ENOTSUP, "%s speaks KVM API version %d, libvm needs %d",
				   path, version, KVM_API_VERSION);
	sz = ioctl(k->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(struct kvm_run))
		return libvm__fail(-ENOTSUP, "%s reports a vCPU mmap size of %d", path, sz);
	k->run_size = (size_t)sz;
	k->vm_fd = ioctl(k->sys_fd, KVM_CREATE_VM, 0);
	if (k->vm_fd < 0) {
		int err = -errno;

		return libvm__fail(err, "KVM_CREATE_VM on %s failed: %s", path, strerror(-err));
	}
	return 0;
}

static void kvm_vm_close(libvm_vm *vm)
{
	struct kvm_vm *k = K(vm);

	if (!k)
		return;
	if (k->vm_fd >= 0)
		close(k->vm_fd);
	if (k->sys_fd >= 0)
		close(k->sys_fd);
	free(k);
	vm->bk = NULL;
}

static int kvm_check_extension(const libvm_vm *vm, long ext)
{
	int r = ioctl(K(vm)->vm_fd, KVM_CHECK_EXTENSION, ext);

	/* Some backends only answer on the system fd. */
	if (r < 0)
		r = ioctl(K(vm)->sys_fd, KVM_CHECK_EXTENSION, ext);
	return r < 0 ? 0 : r;
}

static int kvm_get_supported_cpuid(const libvm_vm *vm, struct kvm_cpuid2 *c)
{
	return xioctl(K(vm)->sys_fd, KVM_GET_SUPPORTED_CPUID, c);
}

/* The device number: the same module answers the same for every VM. */
static int kvm_device_id(const libvm_vm *vm, uint64_t *id)
{
	struct stat st;

	if (fstat(K(vm)->sys_fd, &st) < 0 || !S_ISCHR(st.st_mode))
		return -ENOENT;
	*id = (uint64_t)st.st_rdev;
	return 0;
}

static int kvm_set_tss_addr(libvm_vm *vm, uint64_t addr)
{
	return ioctl(K(vm)->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)addr) < 0 ? -errno : 0;
}

static int kvm_vcpu_create(libvm_vcpu *vcpu)
{
	struct kvm_vcpu *k = calloc(1, sizeof(*k));

	if (!k)
		return libvm__fail(-ENOMEM, "libvm_vcpu_create: out of memory");
	k->fd = ioctl(K(vcpu->vm)->vm_fd, KVM_CREATE_VCPU, (unsigned long)vcpu->id);
	if (k->fd < 0) {
		int err = -errno;

		free(k);
		return libvm__fail(err, "KVM_CREATE_VCPU %u failed: %s", vcpu->id, strerror(-err));
	}
	vcpu->bk = k;
	return 0;
}

static int kvm_vcpu_map(libvm_vcpu *vcpu)
{
	struct kvm_vcpu *k = vcpu->bk;
	void *p = mmap(NULL, K(vcpu->vm)->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, k->fd, 0);

	if (p == MAP_FAILED) {
		int err = -errno;

		return libvm__fail(err, "vCPU %u: mmap of the run page failed: %s", vcpu->id,
				   strerror(-err));
	}
	vcpu->run = p;
	return 0;
}

static void kvm_vcpu_destroy(libvm_vcpu *vcpu)
{
	struct kvm_vcpu *k = vcpu->bk;

	if (vcpu->run)
		munmap(vcpu->run, K(vcpu->vm)->run_size);
	vcpu->run = NULL;
	if (k)
		close(k->fd);
	free(k);
	vcpu->bk = NULL;
}

static void *kvm_vcpu_coalesced_ring(libvm_vcpu *vcpu, uint32_t page)
{
	size_t off = (size_t)page * 4096;

	if (!vcpu->run || !page || off + 4096 > K(vcpu->vm)->run_size)
		return NULL;
	return (char *)vcpu->run + off;
}

static int kvm_vcpu_run(libvm_vcpu *vcpu)
{
	return xioctl(((struct kvm_vcpu *)vcpu->bk)->fd, KVM_RUN, NULL);
}

/* The one-pointer operations, each the ioctl of the same name. */
#define KVM_VM_OP(name, req, type)                                                     \
	static int kvm_##name(libvm_vm *vm, type *arg)                                 \
	{                                                                              \
		return xioctl(K(vm)->vm_fd, req, arg);                                 \
	}
#define KVM_VCPU_OP(name, req, type)                                                   \
	static int kvm_##name(libvm_vcpu *vcpu, type *arg)                             \
	{                                                                              \
		return xioctl(((struct kvm_vcpu *)vcpu->bk)->fd, req, arg);            \
	}
LIBVM__BACKEND_VM_OPS(KVM_VM_OP)
LIBVM__BACKEND_VCPU_OPS(KVM_VCPU_OP)

#define KVM_ENTRY(name, req, type) .name = kvm_##name,

const struct libvm__backend libvm__backend_kvm = {
	.name = "kvm",
	.vm_open = kvm_vm_open,
	.vm_close = kvm_vm_close,
	.check_extension = kvm_check_extension,
	.get_supported_cpuid = kvm_get_supported_cpuid,
	.device_id = kvm_device_id,
	.set_tss_addr = kvm_set_tss_addr,
	.vcpu_create = kvm_vcpu_create,
	.vcpu_map = kvm_vcpu_map,
	.vcpu_coalesced_ring = kvm_vcpu_coalesced_ring,
	.vcpu_destroy = kvm_vcpu_destroy,
	.vcpu_run = kvm_vcpu_run,
	LIBVM__BACKEND_VM_OPS(KVM_ENTRY)
	LIBVM__BACKEND_VCPU_OPS(KVM_ENTRY)
};
