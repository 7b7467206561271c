/* SPDX-License-Identifier: MIT */
/*
 * bench/exit: the cost of an exit round trip through libvm's device
 * dispatch versus a hand-written raw KVM ioctl loop, in the same process,
 * on the same guest code, interleaved so that machine noise hits both.
 *
 * The guest (16-bit real mode) does N port writes (or N MMIO stores) and
 * halts. libvm handles every exit inside libvm_vcpu_run() with a registered
 * callback; the raw loop calls KVM_RUN itself and counts the exits.
 *
 * Usage: bench-exit [iterations-per-round] [rounds]
 * Exit status: 0 measured, 77 no KVM device, 1 error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include <libvm/libvm.h>

#define RAM_SIZE 0x10000
#define CODE_GPA 0x1000
#define PORT 0x500
#define MMIO_GPA 0x20000 /* above RAM: every store exits */

/* mov ecx, N; loop: out dx, al | mov [0], al (ds = 0x2000); dec ecx; jnz loop; hlt */
static size_t make_guest(unsigned char *p, uint32_t n, bool mmio)
{
	size_t i = 0;

	if (mmio) {
		/* mov ax, 0x2000; mov ds, ax */
		p[i++] = 0xb8; p[i++] = 0x00; p[i++] = 0x20;
		p[i++] = 0x8e; p[i++] = 0xd8;
	} else {
		/* mov dx, PORT */
		p[i++] = 0xba; p[i++] = PORT & 0xff; p[i++] = PORT >> 8;
	}
	p[i++] = 0x66; p[i++] = 0xb9; /* mov ecx, imm32 */
	memcpy(&p[i], &n, 4);
	i += 4;
	size_t loop = i;
	if (mmio) {
		p[i++] = 0xa2; p[i++] = 0x00; p[i++] = 0x00; /* mov [0], al */
	} else {
		p[i++] = 0xee; /* out dx, al */
	}
	p[i++] = 0x66; p[i++] = 0x49; /* dec ecx */
	p[i++] = 0x75; p[i] = (unsigned char)(loop - (i + 1)); i++; /* jnz loop */
	p[i++] = 0xf4; /* hlt */
	return i;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- libvm path ---- */

static int count_cb(libvm_vcpu *v, uint64_t addr, void *data, uint32_t len, bool w, void *opaque)
{
	(*(uint64_t *)opaque)++;
	return 0;
}

static int libvm_round(uint32_t n, bool mmio, double *secs)
{
	unsigned char code[64];
	size_t len = make_guest(code, n, mmio);
	libvm_vm *vm;
	libvm_vcpu *vcpu;
	libvm_sregs s;
	libvm_regs r = { .rip = CODE_GPA, .rflags = 2 };
	libvm_exit ex;
	uint64_t count = 0;
	int err;

	err = libvm_vm_create(&vm, NULL);
	if (err)
		return err;
	if ((err = libvm_region_map_ram(NULL, vm, 0, RAM_SIZE)) ||
	    (err = libvm_mem_write(vm, CODE_GPA, code, len)) ||
	    (err = libvm_io_register(vm, mmio ? LIBVM_SPACE_MMIO : LIBVM_SPACE_PIO,
				     mmio ? MMIO_GPA : PORT, mmio ? 0x1000 : 1, "bench", count_cb,
				     &count)) ||
	    (err = libvm_vcpu_create(&vcpu, vm, 0)) || (err = libvm_vcpu_get_sregs(vcpu, &s)))
		goto out;
	s.cs.base = 0;
	s.cs.selector = 0;
	if ((err = libvm_vcpu_set_sregs(vcpu, &s)) || (err = libvm_vcpu_set_regs(vcpu, &r)))
		goto out;
	double t0 = now();
	err = libvm_vcpu_run(vcpu, &ex);
	*secs = now() - t0;
	if (!err && (ex.reason != LIBVM_EXIT_HLT || count != n)) {
		fprintf(stderr, "bench-exit: libvm run ended with reason %u after %llu exits\n",
			ex.reason, (unsigned long long)count);
		err = -EIO;
	}
out:
	if (err)
		fprintf(stderr, "bench-exit: libvm: %s (%s)\n", libvm_strerror(err),
			libvm_error_message());
	libvm_vm_destroy(vm);
	return err;
}

/* ---- raw ioctl path ---- */

static int raw_round(uint32_t n, bool mmio, double *secs)
{
	unsigned char code[64];
	size_t len = make_guest(code, n, mmio);
	const char *dev = getenv("LIBVM_DEVICE") ? getenv("LIBVM_DEVICE") : "/dev/kvm";
	int kvm = open(dev, O_RDWR | O_CLOEXEC), vmfd = -1, cpu = -1, err = -EIO;
	void *ram = MAP_FAILED;
	struct kvm_run *run = MAP_FAILED;
	int run_size = 0;
	uint64_t count = 0;

	if (kvm < 0)
		return -errno;
	vmfd = ioctl(kvm, KVM_CREATE_VM, 0);
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vmfd < 0 || ram == MAP_FAILED)
		goto out;
	memcpy((char *)ram + CODE_GPA, code, len);
	struct kvm_userspace_memory_region m = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = RAM_SIZE,
		.userspace_addr = (uintptr_t)ram,
	};
	if (ioctl(vmfd, KVM_SET_USER_MEMORY_REGION, &m) < 0)
		goto out;
	cpu = ioctl(vmfd, KVM_CREATE_VCPU, 0);
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (cpu < 0 || run_size <= 0)
		goto out;
	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
	if (run == MAP_FAILED)
		goto out;
	struct kvm_sregs s;
	struct kvm_regs r = { .rip = CODE_GPA, .rflags = 2 };
	if (ioctl(cpu, KVM_GET_SREGS, &s) < 0)
		goto out;
	s.cs.base = 0;
	s.cs.selector = 0;
	if (ioctl(cpu, KVM_SET_SREGS, &s) < 0 || ioctl(cpu, KVM_SET_REGS, &r) < 0)
		goto out;
	double t0 = now();
	for (;;) {
		if (ioctl(cpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (run->exit_reason == KVM_EXIT_IO && !mmio && run->io.port == PORT)
			count++;
		else if (run->exit_reason == KVM_EXIT_MMIO && mmio)
			count++;
		else
			break;
	}
	*secs = now() - t0;
	err = (run->exit_reason == KVM_EXIT_HLT && count == n) ? 0 : -EIO;
out:
	if (err)
		fprintf(stderr, "bench-exit: raw path failed (exit %u, %llu exits)\n",
			run != MAP_FAILED ? run->exit_reason : 0, (unsigned long long)count);
	if (run != MAP_FAILED)
		munmap(run, (size_t)run_size);
	if (cpu >= 0)
		close(cpu);
	if (ram != MAP_FAILED)
		munmap(ram, RAM_SIZE);
	if (vmfd >= 0)
		close(vmfd);
	close(kvm);
	return err;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int measure(const char *what, bool mmio, uint32_t n, int rounds)
{
	double lib[64], raw[64];

	for (int i = 0; i < rounds; i++) {
		/* Alternate the order so drift does not favour one side. */
		int e1 = (i & 1) ? raw_round(n, mmio, &raw[i]) : libvm_round(n, mmio, &lib[i]);
		int e2 = (i & 1) ? libvm_round(n, mmio, &lib[i]) : raw_round(n, mmio, &raw[i]);

		if (e1 || e2)
			return e1 ? e1 : e2;
	}
	qsort(lib, (size_t)rounds, sizeof(double), cmp_double);
	qsort(raw, (size_t)rounds, sizeof(double), cmp_double);
	double l = lib[rounds / 2] / n * 1e6, r = raw[rounds / 2] / n * 1e6;
	printf("%-5s exit round trip: libvm %.2f us, raw ioctl %.2f us, ratio libvm/raw %.3f "
	       "(median of %d rounds x %u exits)\n", what, l, r, l / r, rounds, n);
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 20000;
	int rounds = argc > 2 ? atoi(argv[2]) : 7;
	const char *dev = getenv("LIBVM_DEVICE") ? getenv("LIBVM_DEVICE") : "/dev/kvm";
	int err;

	if (access(dev, R_OK | W_OK) != 0) {
		printf("SKIP: %s is not usable: %s\n", dev, strerror(errno));
		return 77;
	}
	if (n == 0 || rounds < 1 || rounds > 64) {
		fprintf(stderr, "usage: bench-exit [iterations 1..] [rounds 1..64]\n");
		return 1;
	}
	err = measure("PIO", false, n, rounds);
	if (!err)
		err = measure("MMIO", true, n, rounds);
	return err ? 1 : 0;
}
