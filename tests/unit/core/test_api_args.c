/* SPDX-License-Identifier: MIT */
/*
 * Argument checking of every public function: NULL handles, NULL output
 * pointers, bad sizes, counts, flags and ids get -EINVAL (or a documented
 * neutral value) and a message, never a crash.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../fakevm.h"

static int nop(libvm_vcpu *v, uint64_t a, void *d, uint32_t l, bool w, void *o)
{
	return 0;
}

static void test_vm_calls(void **state)
{
	libvm_vm *vm = fakevm_new("max_vcpus=4,cpuid=0");
	libvm_mem_range r;
	uint32_t n = 1;
	char b[4];

	assert_int_equal(libvm_vm_create(NULL, NULL), -EINVAL);
	libvm_vm_destroy(NULL);
	assert_int_equal(libvm_has(NULL, LIBVM_CAP_IRQCHIP), -EINVAL);
	assert_int_equal(libvm_has(vm, (enum libvm_cap)999), -EINVAL);
	assert_null(libvm_vm_device_path(NULL));
	assert_string_equal(libvm_vm_device_path(vm), "fake:max_vcpus=4,cpuid=0");
	assert_int_equal(libvm_vm_max_vcpus(NULL), -EINVAL);
	assert_int_equal(libvm_vm_max_vcpus(vm), 4);
	assert_int_equal(libvm_vm_memory_map(NULL, &r, &n), -EINVAL);
	assert_int_equal(libvm_vm_memory_map(vm, &r, NULL), -EINVAL);
	assert_int_equal(libvm_mem_read(NULL, 0, b, 4), -EINVAL);
	assert_int_equal(libvm_mem_write(NULL, 0, b, 4), -EINVAL);
	assert_int_equal(libvm_vm_supported_cpuid(NULL, NULL, &n), -EINVAL);
	assert_int_equal(libvm_vm_supported_cpuid(vm, NULL, NULL), -EINVAL);
	assert_int_equal(libvm_vm_supported_cpuid(vm, NULL, &n), -ENOTSUP);
	libvm_vm_destroy(vm);
}

static void test_region_calls(void **state)
{
	libvm_vm *vm = fakevm_new(NULL);
	libvm_region_options o = LIBVM_REGION_OPTIONS_INIT;

	assert_int_equal(libvm_region_map(NULL, NULL, &o), -EINVAL);
	assert_int_equal(libvm_region_map(NULL, vm, NULL), -EINVAL);
	assert_int_equal(libvm_region_map_ram(NULL, NULL, 0, 0x1000), -EINVAL);
	assert_int_equal(libvm_region_unmap(NULL), 0);
	assert_int_equal(libvm_region_gpa(NULL), 0);
	assert_int_equal(libvm_region_length(NULL), 0);
	assert_string_equal(libvm_region_name(NULL), "");
	assert_null(libvm_region_volatile_ptr(NULL));
	libvm_vm_destroy(vm);
}

static void test_io_calls(void **state)
{
	assert_int_equal(libvm_io_register(NULL, LIBVM_SPACE_PIO, 0, 1, "x", nop, NULL), -EINVAL);
	assert_int_equal(libvm_io_unregister(NULL, LIBVM_SPACE_PIO, 0), -EINVAL);
}

static void test_vcpu_calls(void **state)
{
	libvm_vm *vm = fakevm_new("max_vcpus=4");
	libvm_vcpu *v = fakevm_vcpu(vm, 0), *out = (libvm_vcpu *)0x1;
	libvm_regs regs;
	libvm_sregs sregs;
	libvm_fpu fpu;
	libvm_msr msr = { .index = 0x10 };
	libvm_cpuid_entry cpuid = { 0 };
	libvm_exit ex;

	assert_int_equal(libvm_vcpu_create(NULL, vm, 0), -EINVAL);
	assert_int_equal(libvm_vcpu_create(&out, NULL, 0), -EINVAL);
	assert_null(out);
	assert_int_equal(libvm_vcpu_create(&out, vm, 4), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "out of range"));
	libvm_vcpu_destroy(NULL);
	assert_int_equal(libvm_vcpu_id(NULL), 0);
	assert_null(libvm_vcpu_vm(NULL));
	assert_ptr_equal(libvm_vcpu_vm(v), vm);

	assert_int_equal(libvm_vcpu_get_regs(NULL, &regs), -EINVAL);
	assert_int_equal(libvm_vcpu_get_regs(v, NULL), -EINVAL);
	assert_int_equal(libvm_vcpu_set_regs(NULL, &regs), -EINVAL);
	assert_int_equal(libvm_vcpu_set_regs(v, NULL), -EINVAL);
	assert_int_equal(libvm_vcpu_get_sregs(NULL, &sregs), -EINVAL);
	assert_int_equal(libvm_vcpu_get_sregs(v, NULL), -EINVAL);
	assert_int_equal(libvm_vcpu_set_sregs(NULL, &sregs), -EINVAL);
	assert_int_equal(libvm_vcpu_set_sregs(v, NULL), -EINVAL);
	assert_int_equal(libvm_vcpu_get_fpu(NULL, &fpu), -EINVAL);
	assert_int_equal(libvm_vcpu_get_fpu(v, NULL), -EINVAL);
	assert_int_equal(libvm_vcpu_set_fpu(NULL, &fpu), -EINVAL);
	assert_int_equal(libvm_vcpu_set_fpu(v, NULL), -EINVAL);
	/* With a valid pointer the backend is asked, and its error comes back. */
	libvm__fake_vm(vm)->fail[LIBVM__FAKE_get_regs] = -EBADF;
	assert_int_equal(libvm_vcpu_get_regs(v, &regs), -EBADF);
	assert_string_equal(libvm_error_message(), "vCPU 0: KVM_GET_REGS failed: Bad file descriptor");
	libvm__fake_vm(vm)->fail[LIBVM__FAKE_get_regs] = 0;
	assert_int_equal(libvm_vcpu_get_regs(v, &regs), 0);
	assert_int_equal(regs.rip, 0xfff0);

	assert_int_equal(libvm_vcpu_get_msrs(NULL, &msr, 1), -EINVAL);
	assert_int_equal(libvm_vcpu_get_msrs(v, NULL, 1), -EINVAL);
	assert_int_equal(libvm_vcpu_get_msrs(v, &msr, 0), -EINVAL);
	assert_int_equal(libvm_vcpu_set_msrs(v, &msr, 257), -EINVAL);
	assert_int_equal(libvm_vcpu_set_cpuid(NULL, &cpuid, 1), -EINVAL);
	assert_int_equal(libvm_vcpu_set_cpuid(v, NULL, 1), -EINVAL);
	assert_int_equal(libvm_vcpu_set_cpuid(v, &cpuid, 0), -EINVAL);
	assert_int_equal(libvm_vcpu_set_cpuid(v, &cpuid, 100000), -EINVAL);

	assert_int_equal(libvm_vcpu_run(NULL, &ex), -EINVAL);
	assert_int_equal(libvm_vcpu_run(v, NULL), -EINVAL);
	assert_int_equal(libvm_vcpu_complete_read(NULL, "x", 1), -EINVAL);
	assert_int_equal(libvm_vcpu_complete_read(v, NULL, 1), -EINVAL);
	assert_int_equal(libvm_vcpu_complete_read(v, "x", 1), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "no unhandled read"));
	assert_int_equal(libvm_vcpu_stop(NULL), -EINVAL);
	assert_int_equal(libvm_vcpu_end_run(NULL, LIBVM_EXIT_GUEST_EXIT, 1), -EINVAL);
	assert_int_equal(libvm_vcpu_end_run(v, LIBVM_EXIT_HLT, 1), -EINVAL);
	libvm_vm_destroy(vm);
}

static void test_irq_calls(void **state)
{
	libvm_vm *vm = fakevm_new(NULL);

	assert_int_equal(libvm_irqchip_create(NULL, 0), -EINVAL);
	assert_int_equal(libvm_irqchip_create(vm, 0x100), -EINVAL);
	assert_int_equal(libvm_irq_set(NULL, 4, true), -EINVAL);
	assert_int_equal(libvm_irq_set(vm, 4, true), -ENOTSUP);
	assert_int_equal(libvm_irqchip_create(vm, 0), 0);
	assert_int_equal(libvm_irq_set(vm, 24, true), -EINVAL);
	assert_int_equal(libvm_irq_set(vm, 4, true), 0);
	assert_int_equal(libvm__fake_vm(vm)->irq_level[4], 1);
	assert_int_equal(libvm_msi_send(NULL, 0xfee00000, 0x30), -EINVAL);
	assert_int_equal(libvm_irqfd_add(NULL, 3, 4), -EINVAL);
	assert_int_equal(libvm_irqfd_add(vm, -1, 4), -EINVAL);
	assert_int_equal(libvm_irqfd_remove(vm, -1, 4), -EINVAL);
	assert_int_equal(libvm_ioeventfd_add(NULL, LIBVM_SPACE_PIO, 0x10, 1, 3, 0, 0), -EINVAL);
	assert_int_equal(libvm_ioeventfd_add(vm, LIBVM_SPACE_PIO, 0x10, 3, 3, 0, 0), -EINVAL);
	assert_int_equal(libvm_ioeventfd_add(vm, LIBVM_SPACE_PIO, 0x10, 0, 3, 0, 0), -EINVAL);
	assert_int_equal(libvm_ioeventfd_add(vm, LIBVM_SPACE_PIO, 0x10000, 1, 3, 0, 0), -EINVAL);
	assert_int_equal(libvm_ioeventfd_add(vm, LIBVM_SPACE_PIO, 0x10, 1, 3, 0x8, 0), -EINVAL);
	assert_int_equal(libvm_ioeventfd_remove(vm, (enum libvm_space)5, 0x10, 1, 3, 0, 0), -EINVAL);
	libvm_vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vm_calls),
		cmocka_unit_test(test_region_calls),
		cmocka_unit_test(test_io_calls),
		cmocka_unit_test(test_vcpu_calls),
		cmocka_unit_test(test_irq_calls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
