/* SPDX-License-Identifier: MIT */
/*
 * The PC machine on the fake backend: the default PC (RAM, every legacy
 * device at its port, ACPI and MP tables, one vCPU), the RAM split around
 * the 4 GiB hole, devices left out, PCI when virtio devices or a Linux
 * kernel need it, a kernel from memory and from a file with vCPU 0 at its
 * entry, fw_cfg telling the CPU count and the command line, every bad
 * option refused with a message, a failing step leaving nothing behind,
 * and the handles' lifetime. (vmrun, built on it, boots the test kernels
 * on a real KVM: the kernels and vmrun suites.)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <libvm/machine.h>

#include "../dev/devtest.h"

static libvm_vm_options fake_vm = { .size = sizeof(libvm_vm_options), .device_path = "fake" };

static libvm_machine_options options(void)
{
	libvm_machine_options o = LIBVM_MACHINE_OPTIONS_INIT;

	o.vm = &fake_vm;
	return o;
}

static libvm_machine_parts parts_of(libvm_machine *m)
{
	libvm_machine_parts p = LIBVM_MACHINE_PARTS_INIT;

	assert_int_equal(libvm_machine_get_parts(m, &p), 0);
	return p;
}

static int nop(libvm_vcpu *v, uint64_t a, void *d, uint32_t l, bool w, void *o)
{
	return 0;
}

static bool claimed(libvm_vm *vm, enum libvm_space space, uint64_t addr)
{
	int err = libvm_io_register(vm, space, addr, 1, "probe", nop, NULL);

	if (!err)
		libvm_io_unregister(vm, space, addr);
	return err == -EEXIST;
}

/* fw_cfg item @key as a little-endian number of @len bytes. */
static uint64_t fwcfg_item(libvm_vcpu *v, uint16_t key, uint32_t len)
{
	uint64_t x = 0;

	devtest_out(v, 0x510, key, 2);
	for (uint32_t i = 0; i < len; i++)
		x |= (uint64_t)devtest_in(v, 0x511, 1) << (8 * i);
	return x;
}

static void test_default_pc(void **state)
{
	libvm_machine_options o = options();
	libvm_machine *m;
	libvm_machine_parts p;
	libvm_mem_range r[4];
	uint32_t n = 4;
	char sig[5] = { 0 };

	(void)state;
	assert_int_equal(libvm_machine_create(&m, &o), 0);
	p = parts_of(m);
	assert_ptr_equal(p.vm, libvm_machine_vm(m));
	assert_int_equal(p.nr_vcpus, 1);
	assert_ptr_equal(p.vcpus[0], libvm_machine_vcpu(m, 0));
	assert_null(libvm_machine_vcpu(m, 1));
	assert_non_null(p.uart);
	assert_non_null(p.debugexit);
	assert_non_null(p.fwcfg);
	assert_non_null(p.i8042);
	assert_non_null(p.rtc);
	assert_non_null(p.port80);
	assert_non_null(p.testdev);
	assert_non_null(p.pmtimer);
	assert_non_null(p.acpipm);
	assert_null(p.pci); /* no virtio, no Linux */
	assert_int_equal(p.kernel_format, LIBVM_FORMAT_UNKNOWN);
	assert_int_equal(p.rsdp_gpa, LIBVM_ACPI_DEFAULT_GPA);
	assert_int_equal(p.mptable_gpa, LIBVM_MPTABLE_DEFAULT_GPA);
	/* 128 MiB of RAM from 0, nothing else. */
	assert_int_equal(libvm_vm_memory_map(p.vm, r, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].gpa, 0);
	assert_int_equal(r[0].length, 128u << 20);
	/* The devices at their ports; the irqchip with its PIT. */
	assert_true(claimed(p.vm, LIBVM_SPACE_PIO, 0x3f8));
	assert_true(claimed(p.vm, LIBVM_SPACE_PIO, 0xf4));
	assert_true(claimed(p.vm, LIBVM_SPACE_PIO, 0x60));
	assert_true(claimed(p.vm, LIBVM_SPACE_PIO, 0x70));
	assert_true(claimed(p.vm, LIBVM_SPACE_PIO, 0x80));
	assert_true(claimed(p.vm, LIBVM_SPACE_PIO, 0xe0));
	assert_true(claimed(p.vm, LIBVM_SPACE_PIO, 0x604));
	assert_true(claimed(p.vm, LIBVM_SPACE_PIO, 0x608));
	assert_true(claimed(p.vm, LIBVM_SPACE_MMIO, 0xff000000));
	assert_false(claimed(p.vm, LIBVM_SPACE_PIO, 0xcf8));
	assert_true(libvm__fake_vm(p.vm)->irqchip);
	assert_true(libvm__fake_vm(p.vm)->pit);
	/* fw_cfg: the signature, one CPU, the RAM size. */
	devtest_out(p.vcpus[0], 0x510, 0, 2);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)devtest_in(p.vcpus[0], 0x511, 1);
	assert_string_equal(sig, "QEMU");
	assert_int_equal(fwcfg_item(p.vcpus[0], 0x05, 2), 1);
	assert_int_equal(fwcfg_item(p.vcpus[0], 0x03, 8), 128u << 20);
	assert_int_equal(libvm_machine_destroy(m), 0);
	/* Its handles are gone with it. */
	assert_int_equal(libvm_machine_destroy(m), -EBADF);
	assert_int_equal(libvm_machine_get_parts(m, &p), -EBADF);
	assert_null(libvm_machine_vm(m));
	assert_int_equal(libvm_vm_destroy(p.vm), -EBADF);
	libvm_uart_detach(p.uart); /* a no-op */
	assert_int_equal(libvm_machine_destroy(NULL), 0);
}

static void test_ram_layout_and_smp(void **state)
{
	libvm_machine_options o = options();
	libvm_machine *m;
	libvm_machine_parts p;
	libvm_mem_range r[4];
	uint32_t n = 4;

	(void)state;
	o.ram_size = 5ull << 30;
	o.nr_vcpus = 3;
	assert_int_equal(libvm_machine_create(&m, &o), 0);
	p = parts_of(m);
	assert_int_equal(libvm_vm_memory_map(p.vm, r, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].gpa, 0);
	assert_int_equal(r[0].length, 3ull << 30);
	assert_int_equal(r[1].gpa, 4ull << 30);
	assert_int_equal(r[1].length, 2ull << 30);
	assert_int_equal(p.nr_vcpus, 3);
	assert_non_null(libvm_machine_vcpu(m, 2));
	assert_int_equal(fwcfg_item(p.vcpus[0], 0x05, 2), 3);
	assert_int_equal(libvm_machine_destroy(m), 0);

	/* An explicit split: 1 GiB low, the rest high. */
	o.ram_below_4g = 1ull << 30;
	o.ram_size = 2ull << 30;
	o.nr_vcpus = 1;
	n = 4;
	assert_int_equal(libvm_machine_create(&m, &o), 0);
	assert_int_equal(libvm_vm_memory_map(libvm_machine_vm(m), r, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].length, 1ull << 30);
	assert_int_equal(r[1].length, 1ull << 30);
	assert_int_equal(libvm_machine_destroy(m), 0);
}

static void test_parts_left_out(void **state)
{
	libvm_machine_options o = options();
	libvm_machine *m;
	libvm_machine_parts p;

	(void)state;
	o.flags = LIBVM_MACHINE_NO_UART | LIBVM_MACHINE_NO_DEBUGEXIT | LIBVM_MACHINE_NO_FWCFG |
		  LIBVM_MACHINE_NO_I8042 | LIBVM_MACHINE_NO_RTC | LIBVM_MACHINE_NO_PORT80 |
		  LIBVM_MACHINE_NO_TESTDEV | LIBVM_MACHINE_NO_ACPI | LIBVM_MACHINE_NO_MPTABLE |
		  LIBVM_MACHINE_NO_IRQCHIP;
	assert_int_equal(libvm_machine_create(&m, &o), 0);
	p = parts_of(m);
	assert_null(p.uart);
	assert_null(p.debugexit);
	assert_null(p.fwcfg);
	assert_null(p.i8042);
	assert_null(p.rtc);
	assert_null(p.port80);
	assert_null(p.testdev);
	assert_null(p.pmtimer);
	assert_null(p.acpipm);
	assert_int_equal(p.rsdp_gpa, 0);
	assert_int_equal(p.mptable_gpa, 0);
	assert_false(libvm__fake_vm(p.vm)->irqchip);
	/* Every port is free for the embedder's own devices. */
	assert_false(claimed(p.vm, LIBVM_SPACE_PIO, 0x3f8));
	assert_false(claimed(p.vm, LIBVM_SPACE_PIO, 0xf4));
	assert_false(claimed(p.vm, LIBVM_SPACE_PIO, 0x510));
	assert_int_equal(libvm_machine_destroy(m), 0);
}

static void test_pci_and_virtio(void **state)
{
	libvm_machine_options o = options();
	libvm_virtio_console_options con = LIBVM_VIRTIO_CONSOLE_OPTIONS_INIT;
	const libvm_virtio_console_options *consoles[] = { &con, &con };
	libvm_machine *m;
	libvm_machine_parts p;

	(void)state;
	o.nr_rngs = 1;
	o.consoles = consoles;
	o.nr_consoles = 2;
	assert_int_equal(libvm_machine_create(&m, &o), 0);
	p = parts_of(m);
	assert_non_null(p.pci);
	assert_non_null(p.rng);
	assert_int_equal(p.nr_consoles, 2);
	assert_non_null(p.consoles[0]);
	assert_non_null(p.consoles[1]);
	assert_true(claimed(p.vm, LIBVM_SPACE_PIO, 0xcf8));
	assert_int_equal(libvm_machine_destroy(m), 0);
	/* A bus on request, without devices. */
	o = options();
	o.flags = LIBVM_MACHINE_PCI;
	assert_int_equal(libvm_machine_create(&m, &o), 0);
	assert_non_null(parts_of(m).pci);
	assert_int_equal(libvm_machine_destroy(m), 0);
}

/* The PCI test device, the RTC's wake eventfd, a CPU model for every vCPU,
 * and the wake from S3 refused where it cannot be done. */
static void test_pc_extras(void **state)
{
	libvm_machine_options o = options();
	libvm_machine *m;
	libvm_machine_parts p;

	(void)state;
	o.flags = LIBVM_MACHINE_PCI_TESTDEV;
	o.nr_vcpus = 2;
	o.cpu = "host,-fpu";
	assert_int_equal(libvm_machine_create(&m, &o), 0);
	p = parts_of(m);
	assert_non_null(p.pci);
	assert_non_null(p.pci_testdev);
	assert_true(p.rtc_wake_fd >= 0);
	for (uint32_t i = 0; i < 2; i++) {
		struct libvm__fake_vcpu *f = libvm__fake_vcpu(p.vcpus[i]);
		bool leaf1 = false;

		for (uint32_t j = 0; j < f->nr_cpuid; j++)
			if (f->cpuid[j].function == 1) {
				leaf1 = true;
				assert_int_equal(f->cpuid[j].edx & 1, 0); /* -fpu */
			}
		assert_true(leaf1);
	}
	assert_int_equal(libvm_machine_wake(m, 0x80), -EINVAL);
	/* No waking vector in the FACS: the guest never suspended. */
	assert_int_equal(libvm_machine_wake(m, LIBVM_MACHINE_WAKE_RTC), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "Firmware_Waking_Vector"));
	assert_int_equal(libvm_machine_destroy(m), 0);
	assert_int_equal(libvm_machine_wake(m, 0), -EBADF);
	assert_int_equal(libvm_machine_wake(NULL, 0), -EINVAL);

	o = options();
	o.flags = LIBVM_MACHINE_NO_ACPI | LIBVM_MACHINE_NO_RTC;
	o.cpu = "no-such-cpu";
	assert_int_equal(libvm_machine_create(&m, &o), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "CPU model"));
	o.cpu = NULL;
	assert_int_equal(libvm_machine_create(&m, &o), 0);
	p = parts_of(m);
	assert_int_equal(p.rtc_wake_fd, -1);
	assert_int_equal(libvm_machine_wake(m, 0), -ENOTSUP);
	assert_int_equal(libvm_machine_destroy(m), 0);
	o.flags = LIBVM_MACHINE_NO_PCI | LIBVM_MACHINE_PCI_TESTDEV;
	assert_int_equal(libvm_machine_create(&m, &o), -EINVAL);
}

/* A flat binary from memory and from a file: where it lands, where vCPU 0
 * starts, the command line in fw_cfg. */
static void test_kernel(void **state)
{
	static const uint8_t code[] = { 0x66, 0xb8, 0x34, 0x12, 0x00, 0x00, 0xf4 };
	libvm_machine_options o = options();
	libvm_machine *m;
	libvm_machine_parts p;
	libvm_regs regs;
	uint8_t back[sizeof(code)];
	char path[] = "/tmp/libvm-machine-XXXXXX";
	int fd;

	(void)state;
	o.kernel_image = code;
	o.kernel_size = sizeof(code);
	o.load_addr = 0x8000;
	o.cmdline = "hello=1";
	assert_int_equal(libvm_machine_create(&m, &o), 0);
	p = parts_of(m);
	/* No header: a flat binary, below 1 MiB so real mode at 0x800:0. */
	assert_int_equal(p.kernel_format, LIBVM_FORMAT_FLAT);
	assert_int_equal(libvm_mem_read(p.vm, 0x8000, back, sizeof(back)), 0);
	assert_memory_equal(back, code, sizeof(code));
	assert_int_equal(libvm_vcpu_get_regs(p.vcpus[0], &regs), 0);
	assert_int_equal(regs.rip, 0);
	assert_int_equal(p.boot.mode, LIBVM_BOOT_REAL16);
	assert_int_equal(fwcfg_item(p.vcpus[0], 0x14, 4), sizeof("hello=1"));
	assert_int_equal(libvm_machine_destroy(m), 0);

	/* The same from a file, forced flat, at 1 MiB: protected mode. */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, code, sizeof(code)), (ssize_t)sizeof(code));
	close(fd);
	o = options();
	o.kernel_path = path;
	o.kernel_format = LIBVM_FORMAT_FLAT;
	assert_int_equal(libvm_machine_create(&m, &o), 0);
	p = parts_of(m);
	assert_int_equal(libvm_mem_read(p.vm, 0x100000, back, sizeof(back)), 0);
	assert_memory_equal(back, code, sizeof(code));
	assert_int_equal(libvm_vcpu_get_regs(p.vcpus[0], &regs), 0);
	assert_int_equal(regs.rip, 0x100000);
	assert_int_equal(p.boot.mode, LIBVM_BOOT_PROT32);
	assert_int_equal(libvm_machine_destroy(m), 0);
	/* A flat binary takes no modules. */
	o.initrd_path = path;
	assert_int_equal(libvm_machine_create(&m, &o), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), ": a flat binary takes no modules"));
	unlink(path);
	/* A file that is not there. */
	o = options();
	o.kernel_path = "/nonexistent/kernel";
	assert_int_equal(libvm_machine_create(&m, &o), -ENOENT);
	assert_string_equal(libvm_error_message(),
			    "machine: kernel /nonexistent/kernel: No such file or directory");
	assert_null(m);
}

static void test_bad_options(void **state)
{
	static const libvm_machine_module mod = { .data = "x", .size = 1 };
	libvm_machine_options o;
	libvm_machine *m = (libvm_machine *)0x1;

	(void)state;
	assert_int_equal(libvm_machine_create(NULL, NULL), -EINVAL);
	o = options();
	o.size = 3;
	assert_int_equal(libvm_machine_create(&m, &o), -EINVAL);
	assert_null(m);
#define BAD(field, value, text)                                                        \
	do {                                                                           \
		o = options();                                                         \
		o.field = value;                                                       \
		assert_int_equal(libvm_machine_create(&m, &o), -EINVAL);               \
		assert_non_null(strstr(libvm_error_message(), text));                  \
	} while (0)
	BAD(flags, 1u << 31, "unknown flags");
	BAD(ram_size, 0x1001, "multiples of 4 KiB");
	BAD(ram_below_4g, 4ull << 30, "above 3 GiB");
	BAD(ram_size, 1ull << 52, "does not fit");
	BAD(kernel_format, 99, "not a LIBVM_FORMAT_*");
	BAD(nr_modules, 65, "modules");
	BAD(nr_rngs, 2, "at most 1");
	BAD(nr_disks, 1, "without its array");
	BAD(kernel_image, "x", "kernel_size 0");
	o = options();
	o.nr_vcpus = 2;
	o.flags = LIBVM_MACHINE_NO_IRQCHIP;
	assert_int_equal(libvm_machine_create(&m, &o), -EINVAL);
	o = options();
	o.flags = LIBVM_MACHINE_PCI | LIBVM_MACHINE_NO_PCI;
	assert_int_equal(libvm_machine_create(&m, &o), -EINVAL);
	o = options();
	o.flags = LIBVM_MACHINE_NO_PCI;
	o.nr_rngs = 1;
	assert_int_equal(libvm_machine_create(&m, &o), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "need the PCI bus"));
	o = options();
	o.kernel_path = "/x";
	o.kernel_image = "x";
	o.kernel_size = 1;
	assert_int_equal(libvm_machine_create(&m, &o), -EINVAL);
	o = options();
	o.modules = &mod;
	o.nr_modules = 1;
	assert_int_equal(libvm_machine_create(&m, &o), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "modules without a kernel"));
	o.initrd_path = "/x";
	assert_int_equal(libvm_machine_create(&m, &o), -EINVAL);
	/* More vCPUs than the backend has. */
	o = options();
	o.nr_vcpus = 9; /* the fake's default is 8 */
	assert_int_equal(libvm_machine_create(&m, &o), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "machine: create the vCPUs: "));
	assert_null(m);
}

/* A step that fails half-way leaves nothing behind (ASan checks the rest). */
static void test_failing_step(void **state)
{
	libvm_machine_options o = options();
	libvm_uart_options uo = LIBVM_UART_OPTIONS_INIT;
	libvm_machine *m = (libvm_machine *)0x1;

	(void)state;
	uo.port = 0xf0; /* 0xf0..0xf7 takes the exit device's 0xf4 */
	o.uart = &uo;
	assert_int_equal(libvm_machine_create(&m, &o), -EEXIST);
	assert_null(m);
	assert_non_null(strstr(libvm_error_message(), "machine: attach the exit device: "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_pc),
		cmocka_unit_test(test_ram_layout_and_smp),
		cmocka_unit_test(test_parts_left_out),
		cmocka_unit_test(test_pci_and_virtio),
		cmocka_unit_test(test_pc_extras),
		cmocka_unit_test(test_kernel),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_failing_step),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
