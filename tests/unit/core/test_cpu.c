/* SPDX-License-Identifier: MIT */
/*
 * CPU models over a made-up supported-CPUID table: the hypervisor bit is
 * always added, models keep only their own features, +/- and =on/off
 * work left to right, and unknown names, unsupported features and bad
 * syntax are refused with a message that names them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <libvm/cpu.h>

#include "cpu/cpu_internal.h"
#include "../fakevm.h"

/* sse2 lm nx syscall fpu..., sse3 cx16 x2apic avx xsave popcnt sse4.x
 * ssse3, avx2, lahf_lm rdtscp, and the KVM leaves with kvmclock. */
static const libvm_cpuid_entry sup[] = {
	{ .function = 0, .eax = 0xd },
	{ .function = 1, .ecx = 0x1cb82201u | (1u << 19), .edx = 0x078bfbffu },
	{ .function = 7, .flags = LIBVM_CPUID_FLAG_INDEXED, .ebx = 1u << 5 },
	{ .function = 0x40000000u, .eax = 0x40000001u },
	{ .function = 0x40000001u, .eax = 0x01007efbu },
	{ .function = 0x80000001u, .ecx = 1u << 0, .edx = (1u << 11) | (1u << 20) | (1u << 27) | (1u << 29) },
};
#define N (sizeof(sup) / sizeof(sup[0]))

static libvm_cpuid_entry out[N];

static int build(const char *spec, bool deadline)
{
	memset(out, 0, sizeof(out));
	return libvm__cpuid_build(sup, N, deadline, spec, "fake", out);
}

static void test_host(void **state)
{
	assert_int_equal(build(NULL, false), 0);
	assert_true(out[1].ecx & (1u << 31));          /* hypervisor added */
	assert_false(out[1].ecx & (1u << 24));         /* no deadline without LAPIC */
	assert_int_equal(out[1].edx, sup[1].edx);      /* the rest as supported */
	assert_int_equal(out[2].ebx, sup[2].ebx);
	assert_int_equal(out[4].eax, sup[4].eax);
	assert_int_equal(build("host", true), 0);
	assert_true(out[1].ecx & (1u << 24));
}

static void test_baseline(void **state)
{
	assert_int_equal(build("baseline", false), 0);
	assert_true(out[1].ecx & 1);                   /* sse3 */
	assert_false(out[1].ecx & (1u << 28));         /* avx gone */
	assert_false(out[1].ecx & (1u << 23));         /* popcnt gone */
	assert_int_equal(out[2].ebx, 0);               /* leaf 7 cleared */
	assert_false(out[5].edx & (1u << 27));         /* rdtscp gone */
	assert_true(out[5].edx & (1u << 29));          /* lm kept */
	assert_true(out[4].eax & (1u << 3));           /* kvmclock2 kept */
	assert_false(out[4].eax & (1u << 9));          /* pv tlb flush dropped */
	assert_int_equal(build("x86-64-v2,+avx2", false), 0);
	assert_true(out[1].ecx & (1u << 23));
	assert_true(out[2].ebx & (1u << 5));
	/* v3 needs bmi1 etc., which the table lacks. */
	assert_int_equal(build("x86-64-v3", false), -ENOTSUP);
	assert_non_null(strstr(libvm_error_message(), "needs"));
}

static void test_features(void **state)
{
	assert_int_equal(build("host,-avx,rdtscp=off,-hypervisor", false), 0);
	assert_false(out[1].ecx & (1u << 28));
	assert_false(out[5].edx & (1u << 27));
	assert_false(out[1].ecx & (1u << 31));
	assert_int_equal(build("baseline,+avx,-avx,avx=on", false), 0);
	assert_true(out[1].ecx & (1u << 28));
	assert_int_equal(build("host,-kvmclock,-kvmclock2", false), 0);
	assert_int_equal(out[4].eax & 9, 0);
}

static void test_errors(void **state)
{
	assert_int_equal(build("pentium", false), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "pentium"));
	assert_int_equal(build("host,+frobnicate", false), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "frobnicate"));
	assert_int_equal(build("host,+avx512f", false), -ENOTSUP);
	assert_non_null(strstr(libvm_error_message(), "avx512f"));
	assert_int_equal(build("host,", false), -EINVAL);
	assert_int_equal(build("host,avx=maybe", false), -EINVAL);
	assert_int_equal(build("host,+avx=on", false), -EINVAL);
	/* Removing an unsupported feature is fine. */
	assert_int_equal(build("host,-avx512f", false), 0);
}

static void test_public(void **state)
{
	libvm_vm *vm = fakevm_new("cpuid=0");
	libvm_cpuid_entry t[N];
	uint32_t n = 0;

	assert_int_equal(libvm_cpuid_build(NULL, "host", NULL, &n), -EINVAL);
	assert_int_equal(libvm_cpuid_build(vm, "host", NULL, NULL), -EINVAL);
	assert_int_equal(libvm_cpuid_build(vm, "host", NULL, &n), -ENOTSUP);
	vm->cpuid = (libvm_cpuid_entry *)sup;
	vm->cpuid_count = N;
	assert_int_equal(libvm_cpuid_build(vm, "host", NULL, &n), 0);
	assert_int_equal(n, N);
	n = 2;
	assert_int_equal(libvm_cpuid_build(vm, "host", t, &n), -E2BIG);
	assert_int_equal(n, N);
	assert_int_equal(libvm_cpuid_build(vm, "baseline", t, &n), 0);
	assert_true(t[1].ecx & (1u << 31));
	assert_string_equal(libvm_cpu_model_name(0), "host");
	assert_null(libvm_cpu_model_name(100));
	assert_string_equal(libvm_cpu_feature_name(0), "fpu");
	assert_null(libvm_cpu_feature_name(100000));
	vm->cpuid = NULL;
	vm->cpuid_count = 0;
	libvm_vm_destroy(vm);
}

/* libvm_vcpu_reset(): the INIT state through the backend's registers. */
static void test_reset(void **state)
{
	libvm_vm *vm = fakevm_new(NULL);
	libvm_vcpu *v = fakevm_vcpu(vm, 0);
	libvm_regs r = { .rip = 0x1234, .rflags = 0x202, .rax = 7 };
	libvm_sregs s;

	(void)state;
	assert_int_equal(libvm_vcpu_set_regs(v, &r), 0);
	assert_int_equal(libvm_vcpu_reset(v, 0), 0);
	assert_int_equal(libvm_vcpu_get_regs(v, &r), 0);
	assert_int_equal(r.rip, 0xfff0);
	assert_int_equal(r.rflags, 0x2);
	assert_int_equal(r.rax, 0);
	assert_int_equal(libvm_vcpu_get_sregs(v, &s), 0);
	assert_int_equal(s.cs.selector, 0xf000);
	assert_int_equal(s.cs.base, 0xffff0000ull);
	assert_int_equal(s.cr0, 0x60000010ull);
	assert_int_equal(s.efer, 0);
	/* Waiting for a SIPI needs the in-kernel LAPIC, which this VM lacks. */
	assert_int_equal(libvm_vcpu_reset(v, LIBVM_VCPU_RESET_WAIT_SIPI), -ENOTSUP);
	assert_int_equal(libvm_vcpu_reset(v, 0x80), -EINVAL);
	assert_int_equal(libvm_vcpu_reset(NULL, 0), -EINVAL);
	libvm_vm_destroy(vm);
}

static uint32_t count_leaf(const struct libvm__fake_vcpu *fv, uint32_t fn)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < fv->nr_cpuid; i++)
		n += fv->cpuid[i].function == fn;
	return n;
}

static const struct kvm_cpuid_entry2 *leaf_of(const struct libvm__fake_vcpu *fv, uint32_t fn)
{
	for (uint32_t i = 0; i < fv->nr_cpuid; i++)
		if (fv->cpuid[i].function == fn)
			return &fv->cpuid[i];
	return NULL;
}

/*
 * libvm_vcpu_enable_hyperv() on the fake's Hyper-V: the Hyper-V leaves at
 * 0x40000000 with the features asked for, KVM's signature moved to
 * 0x40000100; called again (other features), the same layout with the new
 * features, not Hyper-V's signature moved over KVM's.
 */
static void test_hyperv(void **state)
{
	libvm_vm *vm = fakevm_new("hyperv=1");
	libvm_vcpu *v = fakevm_vcpu(vm, 0);
	struct libvm__fake_vcpu *fv = libvm__fake_vcpu(v);
	const struct kvm_cpuid_entry2 *e;

	(void)state;
	for (int round = 0; round < 2; round++) {
		uint32_t want = round ? LIBVM_HV_RELAXED : LIBVM_HV_TIME | LIBVM_HV_VPINDEX;

		assert_int_equal(libvm_vcpu_enable_hyperv(v, want), 0);
		for (uint32_t fn = 0x40000000u; fn <= 0x40000007u; fn++)
			assert_int_equal(count_leaf(fv, fn), 1);
		assert_int_equal(count_leaf(fv, 0x40000008u), 0);
		assert_int_equal(count_leaf(fv, 0x40000100u), 1);
		assert_int_equal(count_leaf(fv, 0x40000101u), 1);
		e = leaf_of(fv, 0x40000000u);
		assert_int_equal(e->ebx, 0x756e694c); /* "Linu" of "Linux KVM Hv" */
		assert_int_equal(e->eax, 0x40000007u);
		e = leaf_of(fv, 0x40000100u);
		assert_int_equal(e->ebx, 0x4b4d564b); /* "KVMK" of "KVMKVMKVM" */
		assert_int_equal(e->eax, 0x40000101u);
		assert_int_equal(leaf_of(fv, 0x40000101u)->eax, 1); /* kvmclock */
		e = leaf_of(fv, 0x40000003u);
		assert_int_equal(e->eax, round ? 1u << 5 : 1u << 5 | 1u << 1 | 1u << 9 | 1u << 6);
		assert_int_equal(leaf_of(fv, 0x40000004u)->eax, round ? 1u << 5 : 0);
	}
	assert_int_equal(libvm_vcpu_enable_hyperv(v, LIBVM_HV_SYNIC), -EINVAL); /* needs vpindex */
	assert_int_equal(libvm_vcpu_enable_hyperv(v, LIBVM_HV_SYNIC | LIBVM_HV_VPINDEX), 0);
	libvm_vm_destroy(vm);

	/* Without Hyper-V in the backend. */
	vm = fakevm_new(NULL);
	v = fakevm_vcpu(vm, 0);
	assert_int_equal(libvm_vcpu_enable_hyperv(v, LIBVM_HV_RELAXED), -ENOTSUP);
	libvm_vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_baseline),
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_public),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_hyperv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
