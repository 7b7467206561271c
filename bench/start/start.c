/* SPDX-License-Identifier: MIT */
/*
 * bench/start: what it costs to bring a VM up.
 *
 *  1. start: create VM + 1 MiB RAM + vCPU, run a tiny real-mode guest to
 *     its HLT, destroy; libvm versus the same steps in raw ioctls, rounds
 *     interleaved, median reported. Target: libvm within 5% of raw. The
 *     raw side is measured twice: with the CPUID setup libvm does (the fair
 *     comparison) and without any (the floor).
 *  2. churn: VMs created and destroyed per second (same steps, no run).
 *  3. footprint: host RSS per live VM beyond the guest memory it touched
 *     (one page of code), measured over many VMs. Target: < 1 MiB.
 *
 * vmrun versus QEMU on a multiboot kernel is bench/start/vmrun-vs-qemu.sh.
 * Usage: bench-start [rounds]. Exit: 0, 77 without a KVM device, 1 error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include <libvm/libvm.h>

#define RAM_SIZE (1u << 20)
#define CODE_GPA 0x1000
#define FOOTPRINT_VMS 64

static const unsigned char guest[] = { 0xb0, 0x2a, 0xf4 }; /* mov al, 42; hlt */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *device(void)
{
	const char *d = getenv("LIBVM_DEVICE");

	return d && *d ? d : "/dev/kvm";
}

/* ---- libvm ---- */

struct lvm {
	libvm_vm *vm;
	libvm_vcpu *vcpu;
};

static int libvm_up(struct lvm *l)
{
	libvm_sregs s;
	libvm_regs r = { .rip = CODE_GPA, .rflags = 2 };
	int err;

	if ((err = libvm_vm_create(&l->vm, NULL)))
		return err;
	if ((err = libvm_region_map_ram(NULL, l->vm, 0, RAM_SIZE)) ||
	    (err = libvm_mem_write(l->vm, CODE_GPA, guest, sizeof(guest))) ||
	    (err = libvm_vcpu_create(&l->vcpu, l->vm, 0)) ||
	    (err = libvm_vcpu_get_sregs(l->vcpu, &s)))
		return err;
	s.cs.base = 0;
	s.cs.selector = 0;
	if ((err = libvm_vcpu_set_sregs(l->vcpu, &s)) || (err = libvm_vcpu_set_regs(l->vcpu, &r)))
		return err;
	return 0;
}

static int libvm_start(void)
{
	struct lvm l = { 0 };
	libvm_exit ex;
	int err = libvm_up(&l);

	if (!err)
		err = libvm_vcpu_run(l.vcpu, &ex);
	if (!err && ex.reason != LIBVM_EXIT_HLT)
		err = -EIO;
	if (err)
		fprintf(stderr, "bench-start: libvm: %s (%s)\n", libvm_strerror(err),
			libvm_error_message());
	libvm_vm_destroy(l.vm);
	return err;
}

/* ---- raw ioctls ---- */

struct rvm {
	int kvm, vm, cpu;
	void *ram;
	struct kvm_run *run;
	size_t run_size;
};

static void raw_down(struct rvm *v)
{
	if (v->run && v->run != MAP_FAILED)
		munmap(v->run, v->run_size);
	if (v->cpu >= 0)
		close(v->cpu);
	if (v->ram && v->ram != MAP_FAILED)
		munmap(v->ram, RAM_SIZE);
	if (v->vm >= 0)
		close(v->vm);
	if (v->kvm >= 0)
		close(v->kvm);
}

/* The supported CPUID, fetched once, as a raw VMM would cache it. */
static struct kvm_cpuid2 *raw_cpuid;

static int raw_fetch_cpuid(void)
{
	int kvm = open(device(), O_RDWR | O_CLOEXEC);

	raw_cpuid = calloc(1, sizeof(*raw_cpuid) + 256 * sizeof(raw_cpuid->entries[0]));
	if (kvm < 0 || !raw_cpuid)
		return -1;
	raw_cpuid->nent = 256;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, raw_cpuid) < 0)
		raw_cpuid->nent = 0;
	close(kvm);
	return 0;
}

static int raw_up(struct rvm *v, bool with_cpuid)
{
	struct kvm_sregs s;
	struct kvm_regs r = { .rip = CODE_GPA, .rflags = 2 };
	int sz;

	*v = (struct rvm){ .kvm = -1, .vm = -1, .cpu = -1 };
	v->kvm = open(device(), O_RDWR | O_CLOEXEC);
	if (v->kvm < 0 || (v->vm = ioctl(v->kvm, KVM_CREATE_VM, 0)) < 0)
		return -errno;
	v->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v->ram == MAP_FAILED)
		return -errno;
	memcpy((char *)v->ram + CODE_GPA, guest, sizeof(guest));
	struct kvm_userspace_memory_region m = {
		.memory_size = RAM_SIZE, .userspace_addr = (uintptr_t)v->ram,
	};
	if (ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &m) < 0 ||
	    (v->cpu = ioctl(v->vm, KVM_CREATE_VCPU, 0)) < 0 ||
	    (sz = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0)) <= 0)
		return -errno;
	v->run_size = (size_t)sz;
	if (with_cpuid && raw_cpuid->nent && ioctl(v->cpu, KVM_SET_CPUID2, raw_cpuid) < 0)
		return -errno;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->cpu, 0);
	if (v->run == MAP_FAILED || ioctl(v->cpu, KVM_GET_SREGS, &s) < 0)
		return -errno;
	s.cs.base = 0;
	s.cs.selector = 0;
	if (ioctl(v->cpu, KVM_SET_SREGS, &s) < 0 || ioctl(v->cpu, KVM_SET_REGS, &r) < 0)
		return -errno;
	return 0;
}

static int raw_start(bool with_cpuid)
{
	struct rvm v;
	int err = raw_up(&v, with_cpuid);

	while (!err && ioctl(v.cpu, KVM_RUN, 0) < 0)
		if (errno != EINTR)
			err = -errno;
	if (!err && v.run->exit_reason != KVM_EXIT_HLT)
		err = -EIO;
	if (err)
		fprintf(stderr, "bench-start: raw: %s\n", strerror(-err));
	raw_down(&v);
	return err;
}

/* ---- measurements ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int start_one(int side)
{
	return side == 0 ? libvm_start() : raw_start(side == 2);
}

/*
 * Three sides, rotated each round: libvm; raw ioctls doing the same
 * configuration (KVM_SET_CPUID2 with the supported CPUID, which libvm gives
 * every vCPU by default and any real VMM must do); and the bare minimum of
 * ioctls that still runs the guest (no CPUID at all).
 */
static int bench_start(int rounds)
{
	static double t[3][256];
	double m[3];

	for (int i = 0; i < rounds; i++) {
		for (int k = 0; k < 3; k++) {
			int side = (i + k) % 3;
			double t0 = now();

			if (start_one(side))
				return -1;
			t[side][i] = now() - t0;
		}
	}
	for (int side = 0; side < 3; side++) {
		qsort(t[side], (size_t)rounds, sizeof(double), cmp_double);
		m[side] = t[side][rounds / 2];
	}
	printf("start (create VM + 1 MiB RAM + vCPU, run to HLT, destroy), median of %d:\n"
	       "  libvm %.1f us; raw with CPUID %.1f us, ratio libvm/raw %.3f (target <= 1.05)\n"
	       "  raw without CPUID (guest sees no CPU features) %.1f us, ratio libvm/that %.3f\n",
	       rounds, m[0] * 1e6, m[2] * 1e6, m[0] / m[2], m[1] * 1e6, m[0] / m[1]);
	return 0;
}

static int churn_one(int side)
{
	int err;

	if (side == 0) {
		struct lvm l = { 0 };

		err = libvm_up(&l);
		libvm_vm_destroy(l.vm);
	} else {
		struct rvm v;

		err = raw_up(&v, true);
		raw_down(&v);
	}
	return err;
}

/* Interleaved one by one: the kernel finishes tearing a VM down after its
 * fd is closed, and that deferred work must land on both sides alike. */
static int bench_churn(void)
{
	double spent[2] = { 0, 0 };
	long n = 0;
	double t0 = now();

	do {
		for (int side = 0; side < 2; side++) {
			double t = now();

			if (churn_one(side))
				return -1;
			spent[side] += now() - t;
		}
		n++;
	} while (now() - t0 < 2.0);
	printf("churn: %.0f VMs created+destroyed per second with libvm, %.0f raw, ratio %.3f "
	       "(%ld each, interleaved)\n",
	       (double)n / spent[0], (double)n / spent[1], spent[1] / spent[0], n);
	return 0;
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0, resident = 0;

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int bench_footprint(void)
{
	static struct lvm l[FOOTPRINT_VMS];
	long before, after;
	libvm_exit ex;
	int err = 0;

	/* One VM first so that one-time costs (signal handler, libc buffers)
	 * are not charged to the measured ones. */
	if (libvm_start())
		return -1;
	before = rss_kib();
	for (int i = 0; i < FOOTPRINT_VMS && !err; i++) {
		err = libvm_up(&l[i]);
		if (!err)
			err = libvm_vcpu_run(l[i].vcpu, &ex);
	}
	after = rss_kib();
	for (int i = 0; i < FOOTPRINT_VMS; i++)
		libvm_vm_destroy(l[i].vm);
	if (err || before < 0 || after < 0)
		return -1;
	/* Each VM touched one page of guest RAM (the code). */
	double per_vm = (double)(after - before) / FOOTPRINT_VMS - 4.0;
	printf("footprint: %.1f KiB host RSS per running VM beyond its guest memory "
	       "(%d VMs, target < 1024 KiB)\n", per_vm, FOOTPRINT_VMS);
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 51;

	if (access(device(), R_OK | W_OK) != 0) {
		printf("SKIP: %s is not usable: %s\n", device(), strerror(errno));
		return 77;
	}
	if (rounds < 1 || rounds > 256) {
		fprintf(stderr, "usage: bench-start [rounds 1..256]\n");
		return 1;
	}
	if (raw_fetch_cpuid() || bench_start(rounds) || bench_churn() || bench_footprint())
		return 1;
	return 0;
}
