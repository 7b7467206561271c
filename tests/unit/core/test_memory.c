/* SPDX-License-Identifier: MIT */
/*
 * libvm_mem_read/write bounds checks on a VM with no backend: accesses that
 * cross adjacent regions work, anything touching a gap or wrapping fails
 * with -EFAULT and changes nothing; device (DMA) writes refuse ROM.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "../fakevm.h"

struct fixture {
	libvm_vm *vm;
	libvm_region *low, *mid, *far;
};

static int setup(void **state)
{
	static struct fixture f;

	f.vm = fakevm_new(NULL);
	f.low = fakevm_ram(f.vm, 0x0, 0x2000, "low");
	f.mid = fakevm_ram(f.vm, 0x2000, 0x1000, "mid"); /* adjacent */
	f.far = fakevm_ram(f.vm, 0x10000, 0x1000, "far"); /* after a gap */
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	libvm_vm_destroy(f->vm);
	return 0;
}

static void test_read_write_inside(void **state)
{
	struct fixture *f = *state;
	char out[6] = { 0 };

	assert_int_equal(libvm_mem_write(f->vm, 0x10, "hello", 6), 0);
	assert_memory_equal((char *)libvm_region_volatile_ptr(f->low) + 0x10, "hello", 6);
	assert_int_equal(libvm_mem_read(f->vm, 0x10, out, 6), 0);
	assert_string_equal(out, "hello");
}

static void test_access_crossing_regions(void **state)
{
	struct fixture *f = *state;
	char buf[8] = "ABCDEFGH", out[8];

	assert_int_equal(libvm_mem_write(f->vm, 0x1ffc, buf, 8), 0);
	assert_memory_equal((char *)libvm_region_volatile_ptr(f->low) + 0x1ffc, "ABCD", 4);
	assert_memory_equal(libvm_region_volatile_ptr(f->mid), "EFGH", 4);
	assert_int_equal(libvm_mem_read(f->vm, 0x1ffc, out, 8), 0);
	assert_memory_equal(out, buf, 8);
}

static void test_gap_fails_and_writes_nothing(void **state)
{
	struct fixture *f = *state;
	char big[0x100];
	char *mid_end = (char *)libvm_region_volatile_ptr(f->mid) + 0xff0;

	memset(mid_end, 0x5a, 0x10);
	memset(big, 0x11, sizeof(big));
	/* Starts in RAM, runs into the gap after 'mid'. */
	assert_int_equal(libvm_mem_write(f->vm, 0x2ff0, big, sizeof(big)), -EFAULT);
	for (int i = 0; i < 0x10; i++)
		assert_int_equal((unsigned char)mid_end[i], 0x5a);
	assert_non_null(strstr(libvm_error_message(), "0x3000"));
	/* Wholly outside any region. */
	assert_int_equal(libvm_mem_read(f->vm, 0x5000, big, 1), -EFAULT);
	/* Just past the last region. */
	assert_int_equal(libvm_mem_read(f->vm, 0x10fff, big, 2), -EFAULT);
	assert_int_equal(libvm_mem_read(f->vm, 0x10fff, big, 1), 0);
}

static void test_wrap_and_edges(void **state)
{
	struct fixture *f = *state;
	char b[16];

	assert_int_equal(libvm_mem_read(f->vm, UINT64_MAX - 3, b, 8), -EFAULT);
	assert_int_equal(libvm_mem_read(f->vm, UINT64_MAX, b, 1), -EFAULT);
	/* Zero length is a no-op that succeeds anywhere. */
	assert_int_equal(libvm_mem_read(f->vm, 0xdead0000, b, 0), 0);
	assert_int_equal(libvm_mem_write(f->vm, 0x0, NULL, 0), 0);
	assert_int_equal(libvm_mem_read(f->vm, 0x0, NULL, 4), -EINVAL);
	assert_int_equal(libvm_mem_read(NULL, 0x0, b, 4), -EINVAL);
}

static void test_readonly_file_backing(void **state)
{
	struct fixture *f = *state;
	char b[4] = { 1, 2, 3, 4 };

	f->far->host_writable = false;
	assert_int_equal(libvm_mem_write(f->vm, 0x10000, b, 4), -EACCES);
	assert_non_null(strstr(libvm_error_message(), "far"));
	assert_int_equal(libvm_mem_read(f->vm, 0x10000, b, 4), 0);
	f->far->host_writable = true;
}

/*
 * ROM: the host fills it (libvm_mem_write), a device writing for the guest
 * may not (libvm_mem_dma_write), not even partly, while RAM next to it
 * takes device writes as before.
 */
static void test_dma_write_refuses_rom(void **state)
{
	struct fixture *f = *state;
	char *mid = libvm_region_volatile_ptr(f->mid);
	char b[8] = "ROMBYTES", out[8];

	f->mid->flags = LIBVM_REGION_READONLY;
	assert_int_equal(libvm_mem_write(f->vm, 0x2000, b, 8), 0);
	assert_memory_equal(mid, "ROMBYTES", 8);
	assert_int_equal(libvm_mem_dma_write(f->vm, 0x2000, "devwrite", 8), -EACCES);
	assert_non_null(strstr(libvm_error_message(), "'mid' is read-only"));
	assert_memory_equal(mid, "ROMBYTES", 8);
	/* Straddling RAM and ROM: the RAM half is not written either. */
	memset(out, 0, sizeof(out));
	assert_int_equal(libvm_mem_write(f->vm, 0x1ffc, out, 4), 0);
	assert_int_equal(libvm_mem_dma_write(f->vm, 0x1ffc, "abcdefgh", 8), -EACCES);
	assert_int_equal(libvm_mem_read(f->vm, 0x1ffc, out, 8), 0);
	assert_memory_equal(out, "\0\0\0\0ROMB", 8);
	/* RAM, gaps and arguments as for libvm_mem_write(). */
	assert_int_equal(libvm_mem_dma_write(f->vm, 0x10, "dma", 4), 0);
	assert_int_equal(libvm_mem_read(f->vm, 0x10, out, 4), 0);
	assert_string_equal(out, "dma");
	assert_int_equal(libvm_mem_dma_write(f->vm, 0x5000, b, 1), -EFAULT);
	assert_int_equal(libvm_mem_dma_write(f->vm, 0x5000, NULL, 0), 0);
	assert_int_equal(libvm_mem_dma_write(NULL, 0x10, b, 1), -EINVAL);
	assert_int_equal(libvm_mem_dma_write(f->vm, 0x10, NULL, 1), -EINVAL);
	f->mid->flags = 0;
}

static void test_memory_map_listing(void **state)
{
	struct fixture *f = *state;
	libvm_mem_range r[3];
	uint32_t n = 0;

	assert_int_equal(libvm_vm_memory_map(f->vm, NULL, &n), 0);
	assert_int_equal(n, 3);
	n = 2;
	assert_int_equal(libvm_vm_memory_map(f->vm, r, &n), -E2BIG);
	assert_int_equal(n, 3);
	assert_int_equal(libvm_vm_memory_map(f->vm, r, &n), 0);
	assert_int_equal(r[0].gpa, 0);
	assert_int_equal(r[1].gpa, 0x2000);
	assert_int_equal(r[2].gpa, 0x10000);
	assert_int_equal(r[2].length, 0x1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_write_inside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_crossing_regions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_fails_and_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrap_and_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_file_backing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_write_refuses_rom, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_map_listing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
