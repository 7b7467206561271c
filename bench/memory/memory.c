/* SPDX-License-Identifier: MIT */
/*
 * bench/memory: what 2 MiB pages are worth to a guest. A guest in flat
 * 32-bit protected mode writes one word to every 4 KiB page of 1 GiB of
 * fresh RAM (the first touch: every page faults into KVM and the host),
 * then does it again (the pages are there: only the TLB reach differs).
 * Two VMs alike but for their RAM: libvm's default (placed for 2 MiB
 * pages, MADV_HUGEPAGE) and LIBVM_REGION_NO_HUGEPAGE (4 KiB pages, what
 * vmrun had before). Rounds interleaved; medians and their ratio.
 *
 * Usage: bench-memory [MiB (default 1024)] [rounds (default 3)]
 * Exit status: 0 measured, 77 no usable KVM device, 1 error.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvm/libvm.h>

#define CODE_GPA 0x1000
#define TOUCH_FROM (2ull << 20) /* above the code */
#define MAX_ROUNDS 32

/*
 * 32-bit code: ecx = pages, edi = TOUCH_FROM;
 * loop: mov [edi], edi; add edi, 4096; dec ecx; jnz loop; hlt
 */
static size_t make_guest(uint8_t *p, uint32_t pages)
{
	size_t i = 0;
	uint32_t from = (uint32_t)TOUCH_FROM;

	p[i++] = 0xb9; memcpy(&p[i], &pages, 4); i += 4;          /* mov ecx, pages */
	p[i++] = 0xbf; memcpy(&p[i], &from, 4); i += 4;           /* mov edi, from */
	size_t loop = i;
	p[i++] = 0x89; p[i++] = 0x3f;                              /* mov [edi], edi */
	p[i++] = 0x81; p[i++] = 0xc7; p[i++] = 0x00; p[i++] = 0x10; p[i++] = 0; p[i++] = 0; /* add edi, 4096 */
	p[i++] = 0x49;                                             /* dec ecx */
	p[i++] = 0x75; p[i] = (uint8_t)(loop - (i + 1)); i++;     /* jnz loop */
	p[i++] = 0xf4;                                             /* hlt */
	return i;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void flat32(libvm_segment *s, uint8_t type, uint16_t sel)
{
	*s = (libvm_segment){ .base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
			      .present = 1, .db = 1, .s = 1, .g = 1 };
}

/* One pass from the code's start to HLT. */
static int pass(libvm_vcpu *v, double *secs)
{
	libvm_regs r = { .rip = CODE_GPA, .rflags = 2 };
	libvm_exit ex;
	double t0;
	int err = libvm_vcpu_set_regs(v, &r);

	if (err)
		return err;
	t0 = now();
	err = libvm_vcpu_run(v, &ex);
	*secs = now() - t0;
	if (!err && ex.reason != LIBVM_EXIT_HLT) {
		fprintf(stderr, "bench-memory: the guest stopped with exit %d, not HLT\n", ex.reason);
		return -EIO;
	}
	return err;
}

/* A VM with @mib MiB of RAM (@flags), run twice: first touch, second touch. */
static int measure(uint32_t mib, uint32_t flags, double *first, double *second)
{
	libvm_region_options o = LIBVM_REGION_OPTIONS_INIT;
	uint8_t code[64];
	size_t len = make_guest(code, (uint32_t)(((uint64_t)mib << 20) - TOUCH_FROM) / 4096);
	libvm_vm *vm;
	libvm_vcpu *v;
	libvm_sregs s;
	int err = libvm_vm_create(&vm, NULL);

	if (err)
		return err;
	o.length = (uint64_t)mib << 20;
	o.flags = flags;
	o.name = "ram";
	if ((err = libvm_region_map(NULL, vm, &o)) ||
	    (err = libvm_mem_write(vm, CODE_GPA, code, len)) ||
	    (err = libvm_vcpu_create(&v, vm, 0)) || (err = libvm_vcpu_get_sregs(v, &s)))
		goto out;
	flat32(&s.cs, 0xb, 0x08);
	flat32(&s.ds, 0x3, 0x10);
	s.es = s.ss = s.fs = s.gs = s.ds;
	s.cr0 = (s.cr0 | 1) & ~(1ull << 31); /* PE, no paging */
	if ((err = libvm_vcpu_set_sregs(v, &s)) || (err = pass(v, first)))
		goto out;
	err = pass(v, second);
out:
	if (err)
		fprintf(stderr, "bench-memory: %s (%s)\n", libvm_strerror(err), libvm_error_message());
	libvm_vm_destroy(vm);
	return err;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	uint32_t mib = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 1024;
	int rounds = argc > 2 ? atoi(argv[2]) : 3;
	double huge1[MAX_ROUNDS], huge2[MAX_ROUNDS], small1[MAX_ROUNDS], small2[MAX_ROUNDS];
	libvm_vm *probe;
	int err;

	if (mib < 4 || mib > 3072 || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: bench-memory [MiB 4..3072] [rounds 1..%d]\n", MAX_ROUNDS);
		return 1;
	}
	err = libvm_vm_create(&probe, NULL);
	if (err) {
		printf("SKIP: cannot create a VM: %s (%s)\n", libvm_strerror(err),
		       libvm_error_message());
		return 77;
	}
	libvm_vm_destroy(probe);
	for (int i = 0; i < rounds; i++) {
		if (measure(mib, 0, &huge1[i], &huge2[i]) ||
		    measure(mib, LIBVM_REGION_NO_HUGEPAGE, &small1[i], &small2[i]))
			return 1;
	}
	double h1 = median(huge1, rounds), s1 = median(small1, rounds);
	double h2 = median(huge2, rounds), s2 = median(small2, rounds);

	printf("memory: a guest writes every 4 KiB page of %u MiB, median of %d interleaved rounds\n",
	       mib, rounds);
	printf("memory: first touch:  2 MiB-ready %.3f s, 4 KiB pages %.3f s, ratio huge/small %.2f\n",
	       h1, s1, h1 / s1);
	printf("memory: second touch: 2 MiB-ready %.3f s, 4 KiB pages %.3f s, ratio huge/small %.2f\n",
	       h2, s2, h2 / s2);
	return 0;
}
