// SPDX-License-Identifier: GPL-2.0
/*
 * kmod benchmark: the same raw-ioctl loops on /dev/vmm (our modules) and
 * /dev/kvm (kvm-amd), run inside the nested test VM, one device at a time
 * (both cannot own SVM together).  Three figures per device:
 *   pio_exit_us   guest OUT -> KVM_EXIT_IO -> KVM_RUN again, per exit
 *   start_us      open VM, 2 MiB slot, vCPU, run a real-mode guest to HLT,
 *                 close everything; per VM
 *   irqfd_us      another thread writes an irqfd (an MSI route) while the
 *                 vCPU sleeps in HLT in the kernel -> the guest's handler
 *                 runs its first instruction, an OUT (median of 200)
 * usage: kmodbench DEVICE TAG   prints "BENCHDATA TAG name value" lines;
 * tests/nested/run.sh --bench-only collects them from the serial console
 * and prints the best figure of each side and the ratio.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PIO_EXITS	3000
#define STARTS		100
#define IRQS		200
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

/*
 * 32-bit guest for irqfd_us: 8259s masked, LAPIC enabled, IDT at 0x500
 * (all vectors to the handler at 0x1800), out 0x60, then hlt forever.
 * Handler: out 0x70; EOI; iret.
 */
static const unsigned char irq_code[] = {
	0xb0, 0xff, 0xe6, 0x21, 0xe6, 0xa1,
	0xc7, 0x05, 0xf0, 0x00, 0xe0, 0xfe, 0xff, 0x01, 0x00, 0x00,
	0xfb, 0xe6, 0x60, 0xf4, 0xeb, 0xfd,
};
static const unsigned char irq_handler[] = {
	0xe6, 0x70,
	0xc7, 0x05, 0xb0, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00,
	0xcf,
};

struct irq_bench {
	int efd;
	volatile double sent[IRQS];
	volatile int done;	/* handlers seen by the vCPU thread */
	volatile int stop;
};

static void *irq_sender(void *arg)
{
	struct irq_bench *b = arg;
	struct timespec gap = { 0, 2000000 };	/* the guest is back in HLT */
	sigset_t alrm;
	int i;

	/* SIGALRM is for the vCPU thread. */
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, NULL);

	for (i = 0; i < IRQS && !b->stop; i++) {
		/*
		 * One interrupt at a time: a second MSI sent before the guest
		 * took the first would merge with it in the IRR.
		 */
		while (b->done < i && !b->stop)
			nanosleep(&gap, NULL);
		nanosleep(&gap, NULL);
		b->sent[i] = now_us();
		if (eventfd_write(b->efd, 1))
			break;
	}
	return NULL;
}

static void on_alarm(int sig)
{
	(void)sig;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double bench_irqfd(const char *dev)
{
	struct kvm_irq_routing *rt;
	struct kvm_irqfd ifd;
	struct kvm_sregs s;
	struct kvm_regs r;
	struct irq_bench b = { .efd = -1 };
	double lat[IRQS];
	pthread_t th;
	struct vm vm;
	int i, n = 0;
	uint8_t *mem;

	memset(&vm, 0, sizeof(vm));
	vm.sys = open(dev, O_RDWR | O_CLOEXEC);
	vm.fd = ioctl(vm.sys, KVM_CREATE_VM, 0);
	if (vm.fd < 0 || ioctl(vm.fd, KVM_CREATE_IRQCHIP, 0))
		return -1;
	vm.mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mem = vm.mem;
	memcpy(mem + 0x1000, irq_code, sizeof(irq_code));
	memcpy(mem + 0x1800, irq_handler, sizeof(irq_handler));
	((uint64_t *)(mem + 0x400))[1] = 0x00cf9b000000ffffULL;
	((uint64_t *)(mem + 0x400))[2] = 0x00cf93000000ffffULL;
	for (i = 0x20; i < 256; i++) {
		((uint32_t *)(mem + 0x500))[2 * i] = 0x1800 | 8 << 16;
		((uint32_t *)(mem + 0x500))[2 * i + 1] = 0x8e00;
	}
	struct kvm_userspace_memory_region mr = {
		.memory_size = MEM_SIZE, .userspace_addr = (uintptr_t)vm.mem,
	};
	if (ioctl(vm.fd, KVM_SET_USER_MEMORY_REGION, &mr))
		return -1;
	vm.vcpu = ioctl(vm.fd, KVM_CREATE_VCPU, 0);
	vm.run_size = ioctl(vm.sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	vm.run = mmap(NULL, vm.run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      vm.vcpu, 0);
	if (vm.vcpu < 0 || vm.run == MAP_FAILED || ioctl(vm.vcpu, KVM_GET_SREGS, &s))
		return -1;
	s.cs = (struct kvm_segment){ .limit = 0xffffffff, .selector = 8,
				     .type = 0xb, .present = 1, .s = 1, .g = 1,
				     .db = 1 };
	s.ds = s.cs;
	s.ds.selector = 0x10;
	s.ds.type = 3;
	s.es = s.fs = s.gs = s.ss = s.ds;
	s.cr0 = 0x11;
	s.gdt.base = 0x400;
	s.gdt.limit = 0x17;
	s.idt.base = 0x500;
	s.idt.limit = 0x7ff;
	memset(&r, 0, sizeof(r));
	r.rip = 0x1000;
	r.rflags = 2;
	r.rsp = 0x8000;
	if (ioctl(vm.vcpu, KVM_SET_SREGS, &s) || ioctl(vm.vcpu, KVM_SET_REGS, &r))
		return -1;
	/* GSI 0-23 to the IOAPIC as KVM's defaults, GSI 24: MSI vector 0x30 */
	rt = calloc(1, sizeof(*rt) + 25 * sizeof(rt->entries[0]));
	for (i = 0; i < 24; i++) {
		rt->entries[i].gsi = i;
		rt->entries[i].type = KVM_IRQ_ROUTING_IRQCHIP;
		rt->entries[i].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		rt->entries[i].u.irqchip.pin = i;
	}
	rt->entries[24].gsi = 24;
	rt->entries[24].type = KVM_IRQ_ROUTING_MSI;
	rt->entries[24].u.msi.address_lo = 0xfee00000;
	rt->entries[24].u.msi.data = 0x30;
	rt->nr = 25;
	i = ioctl(vm.fd, KVM_SET_GSI_ROUTING, rt);
	free(rt);
	b.efd = eventfd(0, 0);
	ifd = (struct kvm_irqfd){ .fd = b.efd, .gsi = 24 };
	if (i || ioctl(vm.fd, KVM_IRQFD, &ifd))
		return -1;
	/* To the first HLT. */
	if (ioctl(vm.vcpu, KVM_RUN, 0) || vm.run->exit_reason != KVM_EXIT_IO ||
	    vm.run->io.port != 0x60)
		return -1;
	/* A lost interrupt ends the figure (KVM_RUN -EINTR), not the run. */
	sigaction(SIGALRM, &(struct sigaction){ .sa_handler = on_alarm }, NULL);
	alarm(60);
	pthread_create(&th, NULL, irq_sender, &b);
	for (n = 0; n < IRQS; n++) {
		if (ioctl(vm.vcpu, KVM_RUN, 0) ||
		    vm.run->exit_reason != KVM_EXIT_IO || vm.run->io.port != 0x70)
			break;
		lat[n] = now_us() - b.sent[n];
		b.done = n + 1;
	}
	alarm(0);
	b.stop = 1;
	pthread_join(th, NULL);
	close(b.efd);
	vm_close(&vm);
	if (n < IRQS)
		return -1;
	qsort(lat, IRQS, sizeof(lat[0]), cmp_double);
	return lat[IRQS / 2];
}

static int has_irqchip(const char *dev)
{
	int sys = open(dev, O_RDWR | O_CLOEXEC), r;

	r = sys < 0 ? 0 : ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) > 0;
	if (sys >= 0)
		close(sys);
	return r;
}

int main(int argc, char **argv)
{
	double pio, start, irq;

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
	/* vmm-intel has no in-kernel irqchip: no third figure there. */
	if (!has_irqchip(argv[1])) {
		printf("# %s: irqfd_us left out: no in-kernel irqchip\n", argv[2]);
		return pio < 0 || start < 0;
	}
	irq = bench_irqfd(argv[1]);
	printf("BENCHDATA %s irqfd_us %.2f\n", argv[2], irq);
	fflush(stdout);
	return pio < 0 || start < 0 || irq < 0;
}
