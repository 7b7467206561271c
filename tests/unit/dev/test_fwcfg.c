/* SPDX-License-Identifier: MIT */
/*
 * fw_cfg: the keys test kernels and firmware read, the file directory, and
 * the guest's select-then-read protocol through the ports.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dev/fwcfg.h"
#include "devtest.h"

static struct libvm__fwcfg fw;

static int setup(void **state)
{
	return libvm__fwcfg_init(&fw, 128ull << 20, 2, 4, "kernel.elf arg1 arg2");
}

static int teardown(void **state)
{
	libvm__fwcfg_fini(&fw);
	return 0;
}

/* The guest's way: outw(key, 0x510), then inb(0x511) n times. */
static void fw_read(struct libvm__fwcfg *f, uint16_t key, void *buf, size_t n)
{
	libvm__fwcfg_access(f, 0, &key, 2, true);
	for (size_t i = 0; i < n; i++)
		libvm__fwcfg_access(f, 1, (uint8_t *)buf + i, 1, false);
}

static uint64_t fw_read_le(struct libvm__fwcfg *f, uint16_t key, int n)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;

	fw_read(f, key, b, (size_t)n);
	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_signature_and_id(void **state)
{
	char sig[5] = { 0 };

	fw_read(&fw, LIBVM__FWCFG_SIGNATURE, sig, 4);
	assert_string_equal(sig, "QEMU");
	/* Traditional interface only: the DMA bit must stay clear. */
	assert_int_equal(fw_read_le(&fw, LIBVM__FWCFG_ID, 4), 1);
}

static void test_machine_keys(void **state)
{
	assert_true(fw_read_le(&fw, LIBVM__FWCFG_RAM_SIZE, 8) == 128ull << 20);
	assert_int_equal(fw_read_le(&fw, LIBVM__FWCFG_NB_CPUS, 2), 2);
	assert_int_equal(fw_read_le(&fw, LIBVM__FWCFG_MAX_CPUS, 2), 4);
}

static void test_cmdline(void **state)
{
	char buf[64];
	uint32_t size = (uint32_t)fw_read_le(&fw, LIBVM__FWCFG_CMDLINE_SIZE, 4);

	assert_int_equal(size, strlen("kernel.elf arg1 arg2") + 1);
	fw_read(&fw, LIBVM__FWCFG_CMDLINE_DATA, buf, size);
	assert_string_equal(buf, "kernel.elf arg1 arg2");
}

static void test_no_cmdline(void **state)
{
	struct libvm__fwcfg f;
	uint8_t b = 0xaa;

	assert_int_equal(libvm__fwcfg_init(&f, 0, 1, 1, NULL), 0);
	assert_int_equal(fw_read_le(&f, LIBVM__FWCFG_CMDLINE_SIZE, 4), 0);
	fw_read(&f, LIBVM__FWCFG_CMDLINE_DATA, &b, 1);
	assert_int_equal(b, 0);
	libvm__fwcfg_fini(&f);
}

static void test_read_past_end_and_reselect(void **state)
{
	uint8_t b[6];
	uint16_t key = LIBVM__FWCFG_SIGNATURE;

	fw_read(&fw, LIBVM__FWCFG_SIGNATURE, b, 6);
	assert_memory_equal(b, "QEMU\0\0", 6); /* zeros past the end */
	/* Selecting again rewinds; a 4-byte read returns 4 stream bytes. */
	libvm__fwcfg_access(&fw, 0, &key, 2, true);
	uint32_t d = 0;
	libvm__fwcfg_access(&fw, 1, &d, 4, false);
	assert_memory_equal(&d, "QEMU", 4);
	/* Unknown and arch-local keys read as zeros; data writes are ignored. */
	assert_true(fw_read_le(&fw, 0x0002, 8) == 0);
	assert_true(fw_read_le(&fw, 0x8000 | LIBVM__FWCFG_NB_CPUS, 2) == 0);
	/* The write-channel bit does not change which item is read. */
	assert_int_equal(fw_read_le(&fw, 0x4000 | LIBVM__FWCFG_NB_CPUS, 2), 2);
	d = 0x12345678;
	libvm__fwcfg_access(&fw, 1, &d, 1, true);
	assert_int_equal(fw_read_le(&fw, LIBVM__FWCFG_NB_CPUS, 2), 2);
}

static void test_file_directory(void **state)
{
	uint8_t dir[4 + 3 * 64];
	char data[16] = { 0 };

	fw_read(&fw, LIBVM__FWCFG_FILE_DIR, dir, 4);
	assert_int_equal(be32(dir), 0);
	assert_int_equal(libvm__fwcfg_add_file(&fw, "opt/zz", "last", 4), 0);
	assert_int_equal(libvm__fwcfg_add_file(&fw, "etc/a", "first!", 6), 0);
	assert_int_equal(libvm__fwcfg_add_file(&fw, "etc/empty", NULL, 0), 0);
	fw_read(&fw, LIBVM__FWCFG_FILE_DIR, dir, sizeof(dir));
	assert_int_equal(be32(dir), 3);
	/* Sorted by name; selectors in the order of addition. */
	assert_string_equal((char *)dir + 4 + 8, "etc/a");
	assert_int_equal(be32(dir + 4), 6);
	assert_int_equal(dir[4 + 4] << 8 | dir[4 + 5], 0x21);
	assert_string_equal((char *)dir + 68 + 8, "etc/empty");
	assert_int_equal(be32(dir + 68), 0);
	assert_string_equal((char *)dir + 132 + 8, "opt/zz");
	assert_int_equal(dir[132 + 4] << 8 | dir[132 + 5], 0x20);
	fw_read(&fw, 0x21, data, 6);
	assert_string_equal(data, "first!");
	fw_read(&fw, 0x20, data, 5);
	assert_memory_equal(data, "last\0", 5);
}

static void test_file_errors(void **state)
{
	char name[80];

	memset(name, 'x', sizeof(name));
	name[56] = 0;
	assert_int_equal(libvm__fwcfg_add_file(&fw, name, "", 0), -EINVAL);
	name[55] = 0;
	assert_int_equal(libvm__fwcfg_add_file(&fw, name, "", 0), 0);
	assert_int_equal(libvm__fwcfg_add_file(&fw, name, "", 0), -EEXIST);
	assert_int_equal(libvm__fwcfg_add_file(&fw, "", "", 0), -EINVAL);
	assert_int_equal(libvm__fwcfg_add_file(&fw, NULL, "", 0), -EINVAL);
	assert_int_equal(libvm__fwcfg_add_file(&fw, "a", NULL, 3), -EINVAL);
}

static void test_file_limit(void **state)
{
	char name[16];
	int err = 0;
	uint32_t n;

	for (n = 0; n <= LIBVM__FWCFG_MAX_FILES && !err; n++) {
		snprintf(name, sizeof(name), "f%u", n);
		err = libvm__fwcfg_add_file(&fw, name, &n, sizeof(n));
	}
	assert_int_equal(err, -ENOSPC);
	assert_int_equal(fw.nr_files, LIBVM__FWCFG_MAX_FILES);
	/* The last selector, 0x3fff, is the last file. */
	assert_int_equal(fw_read_le(&fw, 0x3fff, 4), LIBVM__FWCFG_MAX_FILES - 1);
}

static void test_through_bus(void **state)
{
	libvm_vm *vm = devtest_vm();
	libvm_vcpu *vcpu = devtest_vcpu(vm);
	libvm_fwcfg_options o = LIBVM_FWCFG_OPTIONS_INIT;
	libvm_fwcfg *f = NULL;
	char sig[4];

	assert_int_equal(libvm_fwcfg_attach(&f, vm, NULL), -EINVAL); /* nb_cpus required */
	assert_int_equal(libvm_fwcfg_attach(&f, vm, &o), -EINVAL);
	o.nb_cpus = 3;
	o.max_cpus = 2;
	assert_int_equal(libvm_fwcfg_attach(&f, vm, &o), -EINVAL);
	o.max_cpus = 0; /* means nb_cpus */
	o.ram_size = 64ull << 20;
	assert_int_equal(libvm_fwcfg_attach(&f, vm, &o), 0);
	assert_int_equal(devtest_out(vcpu, 0x510, LIBVM__FWCFG_SIGNATURE, 2), 1);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)devtest_in(vcpu, 0x511, 1);
	assert_memory_equal(sig, "QEMU", 4);
	devtest_out(vcpu, 0x510, LIBVM__FWCFG_NB_CPUS, 2);
	assert_int_equal(devtest_in(vcpu, 0x511, 1), 3);
	assert_int_equal(devtest_in(vcpu, 0x511, 1), 0);
	devtest_out(vcpu, 0x510, LIBVM__FWCFG_MAX_CPUS, 2);
	assert_int_equal(devtest_in(vcpu, 0x511, 1), 3);
	assert_int_equal(libvm_fwcfg_add_file(f, "etc/x", "y", 1), 0);
	assert_int_equal(libvm_fwcfg_add_file(NULL, "etc/x", "y", 1), -EINVAL);
	devtest_out(vcpu, 0x510, 0x20, 2);
	assert_int_equal(devtest_in(vcpu, 0x511, 1), 'y');
	libvm_fwcfg_detach(f);
	devtest_vm_free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_signature_and_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_machine_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmdline, setup, teardown),
		cmocka_unit_test(test_no_cmdline),
		cmocka_unit_test_setup_teardown(test_read_past_end_and_reselect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_limit, setup, teardown),
		cmocka_unit_test(test_through_bus),
	};

	return cmocka_run_group_tests_name("fwcfg", tests, NULL, NULL);
}
