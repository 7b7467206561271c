// SPDX-License-Identifier: GPL-2.0
/*
 * kmod benchmark: the same raw-ioctl loops on /dev/vmm (our modules) and
 * /dev/kvm (kvm-amd), run inside the nested test VM, one device at a time
 * (both cannot own SVM together).  Two figures per device:
 *   pio_exit_us   guest OUT -> KVM_EXIT_IO -> KVM_RUN again, per exit
 *   start_us      open VM, 2 MiB slot, vCPU, run a real-mode guest to HLT,
 *                 close everything; per VM
 * usage: kmodbench DEVICE TAG   prints "BENCHDATA TAG name value" lines;
 * tests/nested/run.sh --bench-only collects them from the serial console
 * and prints the best figure of each side and the ratio.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PIO_EXITS	3000
#define STARTS		100
#define MEM_SIZE	(2 << 20)

/* out %al, $0x80; jmp back: one exit per iteration */
static const unsigned char loop_code[] = { 0xe6, 0x80, 0xeb, 0xfc };
/* hlt */
static const unsigned char hlt_code[] = { 0xf4 };

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

struct vm {
	int sys, fd, vcpu;
	struct kvm_run *run;
	void *mem;
	int run_size;
};

static int vm_open(struct vm *vm, const char *dev, const unsigned char *code,
		   size_t len)
{
	struct kvm_userspace_memory_region r;
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	vm->sys = open(dev, O_RDWR | O_CLOEXEC);
	if (vm->sys < 0)
		return -1;
	vm->fd = ioctl(vm->sys, KVM_CREATE_VM, 0);
	vm->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->fd < 0 || vm->mem == MAP_FAILED)
		return -1;
	memcpy((char *)vm->mem + 0x1000, code, len);
	r = (struct kvm_userspace_memory_region){
		.slot = 0, .memory_size = MEM_SIZE,
		.userspace_addr = (uintptr_t)vm->mem,
	};
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r))
		return -1;
	vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
	vm->run_size = ioctl(vm->sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu < 0 || vm->run_size < 4096)
		return -1;
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->vcpu, 0);
	if (vm->run == MAP_FAILED)
		return -1;
	if (ioctl(vm->vcpu, KVM_GET_SREGS, &sregs))
		return -1;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vm->vcpu, KVM_SET_SREGS, &sregs))
		return -1;
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0x1000;
	regs.rflags = 2;
	return ioctl(vm->vcpu, KVM_SET_REGS, &regs);
}

static void vm_close(struct vm *vm)
{
	munmap(vm->run, vm->run_size);
	close(vm->vcpu);
	close(vm->fd);
	munmap(vm->mem, MEM_SIZE);
	close(vm->sys);
}

static double bench_pio(const char *dev)
{
	struct vm vm;
	double t0;
	int i;

	if (vm_open(&vm, dev, loop_code, sizeof(loop_code)))
		return -1;
	/* warm up: first exits fault the code page in */
	for (i = 0; i < 50; i++)
		if (ioctl(vm.vcpu, KVM_RUN, 0) || vm.run->exit_reason != KVM_EXIT_IO)
			return -1;
	t0 = now_us();
	for (i = 0; i < PIO_EXITS; i++)
		if (ioctl(vm.vcpu, KVM_RUN, 0) || vm.run->exit_reason != KVM_EXIT_IO)
			return -1;
	t0 = (now_us() - t0) / PIO_EXITS;
	vm_close(&vm);
	return t0;
}

static double bench_start(const char *dev)
{
	double t0 = now_us();
	struct vm vm;
	int i;

	for (i = 0; i < STARTS; i++) {
		if (getenv("KMODBENCH_DEBUG"))
			fprintf(stderr, "start %d\n", i);
		if (vm_open(&vm, dev, hlt_code, sizeof(hlt_code)))
			return -1;
		if (ioctl(vm.vcpu, KVM_RUN, 0) || vm.run->exit_reason != KVM_EXIT_HLT)
			return -1;
		vm_close(&vm);
	}
	return (now_us() - t0) / STARTS;
}

int main(int argc, char **argv)
{
	double pio, start;

	if (argc != 3) {
		fprintf(stderr, "usage: %s DEVICE TAG\n", argv[0]);
		return 2;
	}
	/* One line per figure, at once: a later hang loses nothing. */
	pio = bench_pio(argv[1]);
	printf("BENCHDATA %s pio_exit_us %.2f\n", argv[2], pio);
	fflush(stdout);
	start = bench_start(argv[1]);
	printf("BENCHDATA %s start_us %.2f\n", argv[2], start);
	fflush(stdout);
	return pio < 0 || start < 0;
}
