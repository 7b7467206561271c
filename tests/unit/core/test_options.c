/* SPDX-License-Identifier: MIT */
/*
 * Option validation: VM options (size field, kick signal, device path and
 * LIBVM_DEVICE) and region options (length, alignment, address space,
 * flags, overlap) are refused with a clear error before the backend is
 * touched.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../fakevm.h"

static void test_vm_options_size(void **state)
{
	libvm_vm_options o = LIBVM_VM_OPTIONS_INIT;
	libvm_vm *vm = (libvm_vm *)0x1;

	o.size = 3;
	assert_int_equal(libvm_vm_create(&vm, &o), -EINVAL);
	assert_null(vm);
	assert_non_null(strstr(libvm_error_message(), "size field"));
	o.size = sizeof(o) + 64; /* from a newer header than this library */
	assert_int_equal(libvm_vm_create(&vm, &o), -EINVAL);
}

static void test_vm_options_kick_signal(void **state)
{
	libvm_vm_options o = LIBVM_VM_OPTIONS_INIT;
	libvm_vm *vm;

	o.kick_signal = SIGKILL;
	assert_int_equal(libvm_vm_create(&vm, &o), -EINVAL);
	o.kick_signal = 100000;
	assert_int_equal(libvm_vm_create(&vm, &o), -EINVAL);
	o.kick_signal = -1;
	assert_int_equal(libvm_vm_create(&vm, &o), -EINVAL);
}

static void test_vm_device_path(void **state)
{
	libvm_vm_options o = LIBVM_VM_OPTIONS_INIT;
	libvm_vm *vm;

	o.device_path = "/nonexistent/kvm-device";
	assert_int_equal(libvm_vm_create(&vm, &o), -ENOENT);
	assert_non_null(strstr(libvm_error_message(), "/nonexistent/kvm-device"));
	/* A file that is not a KVM device. */
	o.device_path = "/dev/null";
	assert_int_equal(libvm_vm_create(&vm, &o), -ENOTSUP);
	assert_non_null(strstr(libvm_error_message(), "/dev/null"));
}

static void test_vm_device_env(void **state)
{
	libvm_vm *vm;
	libvm_vm_options o = LIBVM_VM_OPTIONS_INIT;

	setenv("LIBVM_DEVICE", "/nonexistent/from-env", 1);
	assert_int_equal(libvm_vm_create(&vm, NULL), -ENOENT);
	assert_non_null(strstr(libvm_error_message(), "/nonexistent/from-env"));
	/* "" is the default too: the environment first. */
	o.device_path = "";
	assert_int_equal(libvm_vm_create(&vm, &o), -ENOENT);
	assert_non_null(strstr(libvm_error_message(), "/nonexistent/from-env"));
	setenv("LIBVM_DEVICE", "fake", 1);
	assert_int_equal(libvm_vm_create(&vm, &o), 0);
	assert_string_equal(libvm_vm_device_path(vm), "fake");
	libvm_vm_destroy(vm);
	setenv("LIBVM_DEVICE", "/nonexistent/from-env", 1);
	/* An explicit path wins over the environment. */
	o.device_path = "/nonexistent/explicit";
	assert_int_equal(libvm_vm_create(&vm, &o), -ENOENT);
	assert_non_null(strstr(libvm_error_message(), "/nonexistent/explicit"));
	unsetenv("LIBVM_DEVICE");
}

/* The fake backend's device path: its keys, and LIBVM_DEVICE reaching it. */
static void test_vm_fake_backend(void **state)
{
	libvm_vm_options o = LIBVM_VM_OPTIONS_INIT;
	libvm_vm *vm;

	o.device_path = "fake:bogus=1";
	assert_int_equal(libvm_vm_create(&vm, &o), -EINVAL);
	assert_string_equal(libvm_error_message(), "fake backend: unknown key 'bogus'");
	o.device_path = "fake:irqchip";
	assert_int_equal(libvm_vm_create(&vm, &o), -EINVAL);
	assert_string_equal(libvm_error_message(), "fake backend: 'irqchip' has no value");
	o.device_path = "fake:slots=x";
	assert_int_equal(libvm_vm_create(&vm, &o), -EINVAL);
	o.device_path = "fake:slots=0";
	assert_int_equal(libvm_vm_create(&vm, &o), -EINVAL);
	/* Only "fake" and "fake:" name it; anything else is a device file. */
	o.device_path = "fakery";
	assert_int_equal(libvm_vm_create(&vm, &o), -ENOENT);
	setenv("LIBVM_DEVICE", "fake:max_vcpus=3,irqchip=0", 1);
	assert_int_equal(libvm_vm_create(&vm, NULL), 0);
	unsetenv("LIBVM_DEVICE");
	assert_int_equal(libvm_vm_max_vcpus(vm), 3);
	assert_int_equal(libvm_has(vm, LIBVM_CAP_IRQCHIP), 0);
	assert_int_equal(libvm_has(vm, LIBVM_CAP_IRQFD), 1);
	assert_int_equal(libvm_irqchip_create(vm, 0), -ENOTSUP);
	libvm_vm_destroy(vm);
}

static int map(libvm_vm *vm, uint64_t gpa, uint64_t len, uint32_t flags)
{
	libvm_region_options o = LIBVM_REGION_OPTIONS_INIT;

	o.gpa = gpa;
	o.length = len;
	o.flags = flags;
	o.name = "new";
	return libvm_region_map(NULL, vm, &o);
}

static void test_region_layout_checks(void **state)
{
	libvm_vm *vm = fakevm_new(NULL);
	libvm_region_options o = LIBVM_REGION_OPTIONS_INIT;

	assert_int_equal(map(vm, 0x1000, 0, 0), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "zero"));
	assert_int_equal(map(vm, 0x1001, 0x1000, 0), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "aligned"));
	assert_int_equal(map(vm, 0x1000, 0x1800, 0), -EINVAL);
	assert_int_equal(map(vm, 0xfffffffffffff000ull, 0x2000, 0), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "address space"));
	assert_int_equal(map(vm, 1ull << 52, 0x1000, 0), -EINVAL);
	assert_int_equal(map(vm, 0x1000, 0x1000, 0x80), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "flags"));

	o.gpa = 0x1000;
	o.length = 0x1000;
	o.host_addr = (void *)0x1234;
	assert_int_equal(libvm_region_map(NULL, vm, &o), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "host_addr"));
	o.host_addr = NULL;
	o.fd = 0;
	o.offset = 12;
	assert_int_equal(libvm_region_map(NULL, vm, &o), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "offset"));
	o.size = 1;
	assert_int_equal(libvm_region_map(NULL, vm, &o), -EINVAL);
	assert_int_equal(fakevm_nr_regions(vm), 0);
	assert_int_equal(libvm__fake_vm(vm)->calls[LIBVM__FAKE_set_user_memory_region], 0);
	libvm_vm_destroy(vm);
}

static void test_region_readonly_needs_backend(void **state)
{
	libvm_vm *vm = fakevm_new("readonly=0");

	assert_int_equal(map(vm, 0x1000, 0x1000, LIBVM_REGION_READONLY), -ENOTSUP);
	libvm_vm_destroy(vm);
}

static void test_region_overlap_names_both(void **state)
{
	libvm_vm *vm = fakevm_new(NULL);
	libvm_region *out = (libvm_region *)0x1;
	libvm_region_options o = LIBVM_REGION_OPTIONS_INIT;

	fakevm_ram(vm, 0x0, 0x10000, "ram");
	o.gpa = 0xf000;
	o.length = 0x2000;
	o.name = "rom";
	assert_int_equal(libvm_region_map(&out, vm, &o), -EEXIST);
	assert_null(out);
	assert_string_equal(libvm_error_message(),
			    "region 'rom' 0xf000+0x2000 overlaps region 'ram' 0x0+0x10000");
	/* The failed call left the map as it was. */
	assert_int_equal(fakevm_nr_regions(vm), 1);
	libvm_vm_destroy(vm);
}

static void test_region_backend_failure_rolls_back(void **state)
{
	libvm_vm *vm = fakevm_new("slots=1");
	struct libvm__fake_vm *f = libvm__fake_vm(vm);

	/* The backend refuses the slot: the region must not stay in the map
	 * nor keep its slot (the only one: the next map needs it). */
	f->fail[LIBVM__FAKE_set_user_memory_region] = -EBADF;
	assert_int_equal(map(vm, 0x1000, 0x1000, 0), -EBADF);
	assert_non_null(strstr(libvm_error_message(), "KVM_SET_USER_MEMORY_REGION failed"));
	assert_int_equal(fakevm_nr_regions(vm), 0);
	f->fail[LIBVM__FAKE_set_user_memory_region] = 0;
	assert_int_equal(map(vm, 0x1000, 0x1000, 0), 0);
	assert_int_equal(f->slot[0].guest_phys_addr, 0x1000);
	assert_int_equal(f->slot[0].memory_size, 0x1000);
	assert_int_equal(map(vm, 0x3000, 0x1000, 0), -ENOSPC);
	libvm_vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vm_options_size),
		cmocka_unit_test(test_vm_options_kick_signal),
		cmocka_unit_test(test_vm_device_path),
		cmocka_unit_test(test_vm_device_env),
		cmocka_unit_test(test_vm_fake_backend),
		cmocka_unit_test(test_region_layout_checks),
		cmocka_unit_test(test_region_readonly_needs_backend),
		cmocka_unit_test(test_region_overlap_names_both),
		cmocka_unit_test(test_region_backend_failure_rolls_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
