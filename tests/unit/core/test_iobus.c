/* SPDX-License-Identifier: MIT */
/*
 * Device buses: registration rules, dispatch to the right handler with the
 * right address, width and data, unhandled accesses, handler errors, and
 * the refusal to re-enter the bus from inside a handler.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "../fakevm.h"

struct seen {
	uint64_t addr;
	uint32_t len;
	bool is_write;
	uint8_t data[8];
	int calls;
	int ret;
	libvm_vm *vm; /* set: try to register from inside */
	int inner;
};

static int handler(libvm_vcpu *vcpu, uint64_t addr, void *data, uint32_t len, bool is_write,
		   void *opaque)
{
	struct seen *s = opaque;

	s->calls++;
	s->addr = addr;
	s->len = len;
	s->is_write = is_write;
	memcpy(s->data, data, len);
	if (!is_write)
		memset(data, 0x42, len);
	if (s->vm)
		s->inner = libvm_io_register(s->vm, LIBVM_SPACE_PIO, 0x9000, 1, "inner", handler, s);
	return s->ret;
}

static void test_register_rules(void **state)
{
	libvm_vm *vm = fakevm_new(NULL);
	struct seen s = { 0 };

	assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_PIO, 0x3f8, 8, "uart", handler, &s), 0);
	assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_PIO, 0x3ff, 1, "x", handler, &s),
			 -EEXIST);
	assert_string_equal(libvm_error_message(),
			    "port range 'x' 0x3ff+0x1 overlaps 'uart' 0x3f8+0x8");
	/* The same numbers in the other space do not collide. */
	assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_MMIO, 0x3f8, 8, "m", handler, &s), 0);
	assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_PIO, 0xffff, 2, "x", handler, &s),
			 -EINVAL);
	assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_PIO, 0x10000, 1, "x", handler, &s),
			 -EINVAL);
	assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_PIO, 0xffff, 1, "x", handler, &s), 0);
	assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_PIO, 0x100, 0, "x", handler, &s),
			 -EINVAL);
	assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_MMIO, UINT64_MAX, 2, "x", handler, &s),
			 -EINVAL);
	assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_PIO, 0x100, 1, "x", NULL, &s), -EINVAL);
	assert_int_equal(libvm_io_register(vm, (enum libvm_space)7, 0x100, 1, "x", handler, &s),
			 -EINVAL);
	assert_int_equal(libvm_io_unregister(vm, LIBVM_SPACE_PIO, 0x3f9), -ENOENT);
	assert_int_equal(libvm_io_unregister(vm, LIBVM_SPACE_PIO, 0x3f8), 0);
	assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_PIO, 0x3ff, 1, "x", handler, &s), 0);
	libvm_vm_destroy(vm);
}

static void test_dispatch(void **state)
{
	libvm_vm *vm = fakevm_new(NULL);
	struct seen a = { 0 }, b = { 0 };
	uint64_t v = 0x1122334455667788ull;
	uint8_t rd[8];

	assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_MMIO, 0xd0000000, 0x1000, "a", handler, &a), 0);
	assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_MMIO, 0xd0001000, 0x1000, "b", handler, &b), 0);
	assert_int_equal(libvm__iobus_dispatch(vm, LIBVM_SPACE_MMIO, NULL, 0xd0001ff8, &v, 8, true), 1);
	assert_int_equal(a.calls, 0);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.addr, 0xd0001ff8);
	assert_int_equal(b.len, 8);
	assert_true(b.is_write);
	assert_memory_equal(b.data, &v, 8);
	/* Reads arrive preset to all-ones and return what the handler wrote. */
	assert_int_equal(libvm__iobus_dispatch(vm, LIBVM_SPACE_MMIO, NULL, 0xd0000002, rd, 2, false), 1);
	assert_int_equal(a.data[0], 0xff);
	assert_int_equal(a.data[1], 0xff);
	assert_int_equal(rd[0], 0x42);
	/* Nobody at this address. */
	assert_int_equal(libvm__iobus_dispatch(vm, LIBVM_SPACE_MMIO, NULL, 0xd0002000, rd, 1, false), 0);
	assert_int_equal(libvm__iobus_dispatch(vm, LIBVM_SPACE_PIO, NULL, 0xd0000000, rd, 1, false), 0);
	/* A failing handler's error comes back. */
	a.ret = -EIO;
	assert_int_equal(libvm__iobus_dispatch(vm, LIBVM_SPACE_MMIO, NULL, 0xd0000000, rd, 1, true), -EIO);
	libvm_vm_destroy(vm);
}

static void test_no_register_from_handler(void **state)
{
	libvm_vm *vm = fakevm_new(NULL);
	struct seen s = { 0 };
	uint8_t d = 0;

	s.vm = vm;
	assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_PIO, 0x80, 1, "post", handler, &s), 0);
	assert_int_equal(libvm__iobus_dispatch(vm, LIBVM_SPACE_PIO, NULL, 0x80, &d, 1, true), 1);
	assert_int_equal(s.inner, -EDEADLK);
	/* Outside the handler the same call works. */
	assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_PIO, 0x9000, 1, "x", handler, &s), 0);
	libvm_vm_destroy(vm);
}

/* Only the handler's own VM is locked: another VM's devices may change. */
static void test_register_other_vm_from_handler(void **state)
{
	libvm_vm *vm = fakevm_new(NULL), *other = fakevm_new(NULL);
	struct seen s = { 0 };
	uint8_t d = 0;

	s.vm = other;
	assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_PIO, 0x80, 1, "post", handler, &s), 0);
	assert_int_equal(libvm__iobus_dispatch(vm, LIBVM_SPACE_PIO, NULL, 0x80, &d, 1, true), 1);
	assert_int_equal(s.inner, 0);
	assert_int_equal(libvm__iobus_dispatch(other, LIBVM_SPACE_PIO, NULL, 0x9000, &d, 1, true), 1);
	libvm_vm_destroy(other);
	libvm_vm_destroy(vm);
}

static void test_many_ranges(void **state)
{
	libvm_vm *vm = fakevm_new(NULL);
	static struct seen s[256];
	uint8_t d;

	for (int i = 0; i < 256; i++)
		assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_PIO, (uint64_t)(i * 16), 8, "r",
						   handler, &s[i]), 0);
	for (int i = 0; i < 256; i++) {
		assert_int_equal(libvm__iobus_dispatch(vm, LIBVM_SPACE_PIO, NULL,
						       (uint64_t)(i * 16 + 7), &d, 1, true), 1);
		assert_int_equal(libvm__iobus_dispatch(vm, LIBVM_SPACE_PIO, NULL,
						       (uint64_t)(i * 16 + 8), &d, 1, true), 0);
		assert_int_equal(s[i].calls, 1);
	}
	libvm_vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_rules),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_no_register_from_handler),
		cmocka_unit_test(test_register_other_vm_from_handler),
		cmocka_unit_test(test_many_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
