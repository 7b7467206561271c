/* SPDX-License-Identifier: MIT */
/*
 * The options rule: a zero field means its default. For every options
 * struct of the public headers:
 *
 * - its _options_init() gives exactly what the INIT macro gives, writes
 *   no more than the size it is told (an older, shorter struct), and
 *   refuses NULL and sizes it does not know;
 * - a zero-filled struct differs from the defaults only in the fields
 *   documented as exceptions (file descriptors, where 0 is stdin), so a
 *   field added later with a non-zero default fails here;
 * - zero-filled (with .size, the exceptions set to -1, and the fields
 *   documented as required), it gives the device or object the defaults
 *   describe: the usual ports, IRQs, windows and counts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <libvm/devices.h>
#include <libvm/load.h>
#include <libvm/pci.h>
#include <libvm/virtio.h>

#include "../dev/devtest.h"

/* Fields whose zero is a value, not the default (byte ranges). */
struct exception {
	size_t off, len;
};

#define EXC(type, field) { offsetof(type, field), sizeof(((type *)0)->field) }

static void check_struct(const char *name, const void *macro, size_t size,
			 int (*init)(void *, size_t), const struct exception *exc, size_t nexc)
{
	unsigned char a[512], zero[512];

	assert_true(size <= sizeof(a));
	/* The function equals the macro. */
	memset(a, 0xa5, sizeof(a));
	assert_int_equal(init(a, size), 0);
	if (memcmp(a, macro, size)) {
		print_error("%s_init() differs from its INIT macro\n", name);
		fail();
	}
	assert_int_equal(a[size], 0xa5);
	/* A shorter struct (an older header): only its bytes, its size. */
	memset(a, 0xa5, sizeof(a));
	assert_int_equal(init(a, sizeof(size_t)), 0);
	assert_int_equal(*(size_t *)a, sizeof(size_t));
	assert_int_equal(a[sizeof(size_t)], 0xa5);
	/* Sizes it does not know; NULL. */
	assert_int_equal(init(a, sizeof(size_t) - 1), -EINVAL);
	assert_int_equal(init(a, size + 1), -EINVAL);
	assert_int_equal(init(NULL, size), -EINVAL);
	/* Zero-filled vs the defaults: equal but for the exceptions. */
	memset(zero, 0, sizeof(zero));
	memcpy(zero, &size, sizeof(size));
	for (size_t i = 0; i < size; i++) {
		bool excepted = false;

		for (size_t e = 0; e < nexc; e++)
			excepted |= i >= exc[e].off && i < exc[e].off + exc[e].len;
		if (!excepted && zero[i] != ((const unsigned char *)macro)[i]) {
			print_error("%s: byte %zu of a zero-filled struct is not its default\n",
				    name, i);
			fail();
		}
	}
}

#define CHECK_STRUCT(type, macro, ...)                                                 \
	do {                                                                           \
		static const type m_ = macro;                                          \
		static const struct exception exc_[] = { { 0, 0 }, __VA_ARGS__ };     \
		check_struct(#type, &m_, sizeof(type),                                 \
			     (int (*)(void *, size_t))type##_init, exc_,               \
			     sizeof(exc_) / sizeof(exc_[0]));                          \
	} while (0)

static void test_init_functions_and_exceptions(void **state)
{
	(void)state;
	CHECK_STRUCT(libvm_vm_options, LIBVM_VM_OPTIONS_INIT);
	CHECK_STRUCT(libvm_region_options, LIBVM_REGION_OPTIONS_INIT,
		     EXC(libvm_region_options, fd));
	CHECK_STRUCT(libvm_vm_run_options, LIBVM_VM_RUN_OPTIONS_INIT);
	CHECK_STRUCT(libvm_uart_options, LIBVM_UART_OPTIONS_INIT,
		     EXC(libvm_uart_options, output_fd), EXC(libvm_uart_options, input_fd));
	CHECK_STRUCT(libvm_debugexit_options, LIBVM_DEBUGEXIT_OPTIONS_INIT);
	CHECK_STRUCT(libvm_fwcfg_options, LIBVM_FWCFG_OPTIONS_INIT);
	CHECK_STRUCT(libvm_i8042_options, LIBVM_I8042_OPTIONS_INIT);
	CHECK_STRUCT(libvm_rtc_options, LIBVM_RTC_OPTIONS_INIT);
	CHECK_STRUCT(libvm_port80_options, LIBVM_PORT80_OPTIONS_INIT);
	CHECK_STRUCT(libvm_testdev_options, LIBVM_TESTDEV_OPTIONS_INIT);
	CHECK_STRUCT(libvm_pmtimer_options, LIBVM_PMTIMER_OPTIONS_INIT);
	CHECK_STRUCT(libvm_acpipm_options, LIBVM_ACPIPM_OPTIONS_INIT);
	CHECK_STRUCT(libvm_pci_bus_options, LIBVM_PCI_BUS_OPTIONS_INIT);
	CHECK_STRUCT(libvm_pci_dev_options, LIBVM_PCI_DEV_OPTIONS_INIT);
	CHECK_STRUCT(libvm_virtio_rng_options, LIBVM_VIRTIO_RNG_OPTIONS_INIT);
	CHECK_STRUCT(libvm_virtio_blk_options, LIBVM_VIRTIO_BLK_OPTIONS_INIT);
	CHECK_STRUCT(libvm_virtio_net_options, LIBVM_VIRTIO_NET_OPTIONS_INIT);
	CHECK_STRUCT(libvm_virtio_console_options, LIBVM_VIRTIO_CONSOLE_OPTIONS_INIT,
		     EXC(libvm_virtio_console_options, input_fd),
		     EXC(libvm_virtio_console_options, output_fd));
	CHECK_STRUCT(libvm_load_options, LIBVM_LOAD_OPTIONS_INIT);
	CHECK_STRUCT(libvm_acpi_options, LIBVM_ACPI_OPTIONS_INIT);
	CHECK_STRUCT(libvm_mptable_options, LIBVM_MPTABLE_OPTIONS_INIT);
}

static int nop(libvm_vcpu *v, uint64_t a, void *d, uint32_t l, bool w, void *o)
{
	return 0;
}

/* Does a device claim @addr in @space? */
static bool claimed(libvm_vm *vm, enum libvm_space space, uint64_t addr)
{
	int err = libvm_io_register(vm, space, addr, 1, "probe", nop, NULL);

	if (!err)
		libvm_io_unregister(vm, space, addr);
	return err == -EEXIST;
}

/* Zero-filled, with .size set. */
#define ZERO(type, var)                                                                \
	type var;                                                                      \
	memset(&var, 0, sizeof(var));                                                  \
	var.size = sizeof(var)

static void test_zero_filled_devices(void **state)
{
	libvm_vm *vm = devtest_vm();
	libvm_vcpu *v;
	struct libvm__fake_vm *f = libvm__fake_vm(vm);
	libvm_uart *uart;
	libvm_debugexit *dx;
	libvm_fwcfg *fw;
	libvm_i8042 *kbd;
	libvm_rtc *rtc;
	libvm_port80 *p80;
	libvm_testdev *td;
	libvm_pmtimer *pm;
	libvm_acpipm *acpi;
	ZERO(libvm_uart_options, uo);
	ZERO(libvm_debugexit_options, dxo);
	ZERO(libvm_fwcfg_options, fwo);
	ZERO(libvm_i8042_options, ko);
	ZERO(libvm_rtc_options, ro);
	ZERO(libvm_port80_options, p80o);
	ZERO(libvm_testdev_options, tdo);
	ZERO(libvm_pmtimer_options, pmo);
	ZERO(libvm_acpipm_options, ao);

	(void)state;
	assert_int_equal(libvm_irqchip_create(vm, 0), 0);
	v = devtest_vcpu(vm);
	uo.output_fd = uo.input_fd = -1;
	assert_int_equal(libvm_uart_attach(&uart, vm, &uo), 0);
	assert_true(claimed(vm, LIBVM_SPACE_PIO, 0x3f8) && claimed(vm, LIBVM_SPACE_PIO, 0x3ff));
	assert_false(claimed(vm, LIBVM_SPACE_PIO, 0x0));
	/* IRQ 4: OUT2, then the transmitter-empty interrupt. */
	devtest_out(v, 0x3fc, 0x08, 1);
	devtest_out(v, 0x3f9, 0x02, 1);
	assert_int_equal(f->irq_level[4], 1);
	assert_int_equal(libvm_debugexit_attach(&dx, vm, &dxo), 0);
	assert_true(claimed(vm, LIBVM_SPACE_PIO, 0xf4) && claimed(vm, LIBVM_SPACE_PIO, 0xf7));
	/* fw_cfg's CPU count is required: no default. */
	assert_int_equal(libvm_fwcfg_attach(&fw, vm, &fwo), -EINVAL);
	fwo.nb_cpus = 1;
	assert_int_equal(libvm_fwcfg_attach(&fw, vm, &fwo), 0);
	assert_true(claimed(vm, LIBVM_SPACE_PIO, 0x510) && claimed(vm, LIBVM_SPACE_PIO, 0x511));
	assert_int_equal(libvm_i8042_attach(&kbd, vm, &ko), 0);
	assert_true(claimed(vm, LIBVM_SPACE_PIO, 0x60) && claimed(vm, LIBVM_SPACE_PIO, 0x64));
	assert_int_equal(libvm_rtc_attach(&rtc, vm, &ro), 0);
	assert_true(claimed(vm, LIBVM_SPACE_PIO, 0x70) && claimed(vm, LIBVM_SPACE_PIO, 0x71));
	assert_int_equal(libvm_port80_attach(&p80, vm, &p80o), 0);
	assert_true(claimed(vm, LIBVM_SPACE_PIO, 0x80));
	assert_int_equal(libvm_testdev_attach(&td, vm, &tdo), 0);
	assert_true(claimed(vm, LIBVM_SPACE_PIO, 0xe0) && claimed(vm, LIBVM_SPACE_PIO, 0x2017));
	assert_true(claimed(vm, LIBVM_SPACE_MMIO, 0xff000000) &&
		    claimed(vm, LIBVM_SPACE_MMIO, 0xff00ffff));
	assert_false(claimed(vm, LIBVM_SPACE_MMIO, 0xff010000));
	assert_int_equal(libvm_pmtimer_attach(&pm, vm, &pmo), 0);
	assert_true(claimed(vm, LIBVM_SPACE_PIO, 0x608) && claimed(vm, LIBVM_SPACE_PIO, 0x60b));
	assert_true(devtest_in(v, 0x608, 4) < (1u << 24)); /* 24 bits */
	assert_int_equal(libvm_acpipm_attach(&acpi, vm, &ao), 0);
	assert_true(claimed(vm, LIBVM_SPACE_PIO, 0x600) && claimed(vm, LIBVM_SPACE_PIO, 0x605));
	/* S5 is SLP_TYP 5: SLP_EN with it powers off. */
	devtest_out(v, 0x604, 5u << 10 | 1u << 13, 2);
	assert_int_equal(v->end_reason, LIBVM_EXIT_POWEROFF);
	devtest_vm_free(vm);
}

static void test_zero_filled_pci_and_virtio(void **state)
{
	libvm_vm *vm = devtest_vm();
	libvm_pci_bus *bus;
	libvm_pci_dev *dev;
	libvm_virtio_rng *rng;
	libvm_virtio_blk *blk;
	libvm_virtio_net *net;
	libvm_virtio_console *con;
	ZERO(libvm_pci_bus_options, bo);
	ZERO(libvm_pci_dev_options, dopt);
	ZERO(libvm_virtio_rng_options, rngo);
	ZERO(libvm_virtio_blk_options, blko);
	ZERO(libvm_virtio_net_options, neto);
	ZERO(libvm_virtio_console_options, cono);

	(void)state;
	assert_int_equal(libvm_pci_bus_attach(&bus, vm, &bo), 0);
	assert_true(claimed(vm, LIBVM_SPACE_PIO, 0xcf8) && claimed(vm, LIBVM_SPACE_PIO, 0xcff));
	assert_true(claimed(vm, LIBVM_SPACE_MMIO, 0xc0000000) &&
		    claimed(vm, LIBVM_SPACE_MMIO, 0xdfffffff));
	assert_false(claimed(vm, LIBVM_SPACE_MMIO, 0xe0000000));
	assert_int_equal(libvm_pci_dev_add(&dev, bus, &dopt), 0);
	assert_int_equal(libvm_pci_dev_slot(dev), 1); /* the first free one */
	assert_int_equal(libvm_pci_dev_bar_addr(dev, 0), 0);
	assert_int_equal(libvm_virtio_rng_attach(&rng, bus, &rngo), 0);
	/* The disk's file and the tap's name are required. */
	assert_int_equal(libvm_virtio_blk_attach(&blk, bus, &blko), -EINVAL);
	assert_int_equal(libvm_virtio_net_attach(&net, bus, &neto), -EINVAL);
	cono.input_fd = cono.output_fd = -1;
	assert_int_equal(libvm_virtio_console_attach(&con, bus, &cono), 0);
	devtest_vm_free(vm);
}

static void test_zero_filled_core(void **state)
{
	libvm_vm *vm;
	libvm_region *r;
	libvm_exit ex;
	uint64_t rsdp = 0;
	ZERO(libvm_vm_options, vo);
	ZERO(libvm_region_options, rgo);
	ZERO(libvm_vm_run_options, runo);
	ZERO(libvm_acpi_options, acpio);
	ZERO(libvm_mptable_options, mpo);

	(void)state;
	setenv("LIBVM_DEVICE", "fake", 1);
	assert_int_equal(libvm_vm_create(&vm, &vo), 0);
	unsetenv("LIBVM_DEVICE");
	assert_string_equal(libvm_vm_device_path(vm), "fake");
	/* Where and how long are required; fd is the exception. */
	rgo.length = 1 << 20;
	rgo.fd = -1;
	assert_int_equal(libvm_region_map(&r, vm, &rgo), 0);
	assert_int_equal(libvm_region_gpa(r), 0);
	assert_non_null(libvm_region_volatile_ptr(r));
	/* One CPU in the firmware tables, at their usual places. */
	assert_int_equal(libvm_acpi_build(&rsdp, vm, &acpio), 0);
	assert_int_equal(rsdp, LIBVM_ACPI_DEFAULT_GPA);
	assert_int_equal(libvm_mptable_build(&rsdp, vm, &mpo), 0);
	assert_int_equal(rsdp, LIBVM_MPTABLE_DEFAULT_GPA);
	fakevm_vcpu(vm, 0);
	assert_int_equal(libvm_vm_run(vm, &runo, &ex, NULL), 0);
	assert_int_equal(ex.reason, LIBVM_EXIT_HLT);
	assert_int_equal(libvm_vm_destroy(vm), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_functions_and_exceptions),
		cmocka_unit_test(test_zero_filled_devices),
		cmocka_unit_test(test_zero_filled_pci_and_virtio),
		cmocka_unit_test(test_zero_filled_core),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
