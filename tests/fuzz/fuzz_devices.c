/* SPDX-License-Identifier: MIT */
/*
 * Every built-in device model's register interface at once: UART, test
 * exit device, fw_cfg (with files), i8042, CMOS RTC, port 0x80, pc-testdev
 * (ports, IRQ ports and its RAM-like MMIO window), PM timer and the ACPI
 * PM1a blocks, attached to a VM on the fake backend and driven through the
 * real I/O bus: port and MMIO accesses of every width near each device's
 * ports (and anywhere), host-side UART input, fw_cfg files added while
 * the guest reads.
 *
 * Invariants: the exit device ends the run with (v << 1) | 1 for what was
 * written; a run ends only with a reason a device may give (exit, reset,
 * power-off, S3 suspend); the testdev
 * window reads back what was last written; unclaimed ports are nobody's.
 */
#include <errno.h>

#include "fuzz.h"
#include "fakevm.h"

#include <libvm/devices.h>

#define WIN 0xff000000ull
#define WIN_LEN 0x10000u

static uint8_t shadow[WIN_LEN];
static uint64_t uart_bytes;

static void uart_out(const uint8_t *data, size_t len, void *opaque)
{
	(void)data;
	(void)opaque;
	uart_bytes += len;
}

/* Device ports the fuzzer aims at: base, span. */
static const struct {
	uint16_t base, span;
} ports[] = {
	{ 0x3f8, 8 }, { 0xf4, 4 }, { 0x510, 2 }, { 0x60, 5 }, { 0x70, 2 }, { 0x80, 1 },
	{ 0xe0, 8 }, { 0x2000, 24 }, { 0x608, 4 }, { 0x600, 6 }, { 0x2f8, 8 },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t lens[4] = { 1, 2, 4, 8 };
	libvm_uart_options uo = LIBVM_UART_OPTIONS_INIT;
	libvm_fwcfg_options fo = LIBVM_FWCFG_OPTIONS_INIT;
	libvm_rtc_options ro = LIBVM_RTC_OPTIONS_INIT;
	libvm_pmtimer_options po = LIBVM_PMTIMER_OPTIONS_INIT;
	struct fin f = { data, size };
	libvm_vcpu *vcpu;
	libvm_uart *uart;
	libvm_fwcfg *fw;
	libvm_debugexit *dx;
	libvm_i8042 *kbd;
	libvm_rtc *rtc;
	libvm_port80 *p80;
	libvm_testdev *td;
	libvm_pmtimer *pmt;
	libvm_acpipm *pm;
	libvm_vm *vm = fakevm_new(NULL);
	uint8_t cfg = fin_u8(&f);
	unsigned steps = 0, files = 0;
	int err = 0;

	if (libvm_irqchip_create(vm, 0))
		abort();
	vcpu = fakevm_vcpu(vm, 0);
	memset(shadow, 0, sizeof(shadow));
	uo.output = uart_out;
	fo.nb_cpus = (uint16_t)(1 + cfg % 8);
	fo.ram_size = (uint64_t)fin_u32(&f) << 12;
	fo.cmdline = cfg & 0x10 ? "console=ttyS0 fuzz" : NULL;
	ro.ram_size = fo.ram_size;
	po.bits = cfg & 0x20 ? 32 : 24;
	err |= libvm_uart_attach(&uart, vm, &uo);
	err |= libvm_fwcfg_attach(&fw, vm, &fo);
	err |= libvm_debugexit_attach(&dx, vm, NULL);
	err |= libvm_i8042_attach(&kbd, vm, NULL);
	err |= libvm_rtc_attach(&rtc, vm, &ro);
	err |= libvm_port80_attach(&p80, vm, NULL);
	err |= libvm_testdev_attach(&td, vm, NULL);
	err |= libvm_pmtimer_attach(&pmt, vm, &po);
	err |= libvm_acpipm_attach(&pm, vm, NULL);
	if (err)
		fuzz_fail("attaching the devices failed: %s", libvm_error_message());

	while (f.n && steps++ < 8192) {
		uint8_t op = fin_u8(&f);
		uint32_t len = lens[(op >> 4) & 3];
		bool wr = op & 0x80;
		uint64_t v = fin_u64(&f), before = v;
		int r;

		vcpu->end_reason = 0;
		switch (op & 7) {
		case 0:
		case 1:
		case 2: { /* a device's ports */
			unsigned k = fin_u8(&f) % (sizeof(ports) / sizeof(ports[0]));
			uint16_t port = (uint16_t)(ports[k].base + fin_u8(&f) % (ports[k].span + 3));

			if (len == 8)
				len = 4;
			r = libvm__iobus_dispatch(vm, LIBVM_SPACE_PIO, vcpu, port, &v, len, wr);
			if (r < 0)
				fuzz_fail("port 0x%x: handler error %d", port, r);
			if (wr && port >= 0xf4 && port < 0xf8 && r == 1) {
				uint64_t want = ((before & ((1ull << (8 * len)) - 1)) << 1) | 1;

				if (vcpu->end_reason != LIBVM_EXIT_GUEST_EXIT || vcpu->end_code != want)
					fuzz_fail("exit device: reason %u code 0x%llx for 0x%llx",
						  vcpu->end_reason, (unsigned long long)vcpu->end_code,
						  (unsigned long long)before);
			}
			break;
		}
		case 3: { /* any port */
			uint16_t port = fin_u16(&f);

			libvm__iobus_dispatch(vm, LIBVM_SPACE_PIO, vcpu, port, &v, len == 8 ? 4 : len,
					      wr);
			break;
		}
		case 4: { /* the testdev window is RAM-like */
			uint32_t off = fin_u16(&f) % WIN_LEN;

			if (off > WIN_LEN - len)
				off = WIN_LEN - len;
			r = libvm__iobus_dispatch(vm, LIBVM_SPACE_MMIO, vcpu, WIN + off, &v, len, wr);
			if (r != 1)
				fuzz_fail("testdev window 0x%x: %d", off, r);
			if (wr)
				memcpy(shadow + off, &before, len);
			else if (memcmp(&v, shadow + off, len))
				fuzz_fail("testdev window 0x%x+%u reads back something else", off, len);
			break;
		}
		case 5: { /* the host types into the UART */
			size_t n;
			const uint8_t *p = fin_take(&f, fin_u8(&f), &n);

			libvm_uart_input(uart, p, n);
			break;
		}
		case 6: { /* fw_cfg files appear */
			char name[56];
			size_t n;
			const uint8_t *p = fin_take(&f, fin_u8(&f), &n);

			snprintf(name, sizeof(name), "etc/fuzz-%u", files++ % 40);
			err = libvm_fwcfg_add_file(fw, name, p, n);
			if (err && err != -EEXIST && err != -ENOSPC)
				fuzz_fail("fwcfg_add_file: %d", err);
			break;
		}
		default:
			(void)libvm_port80_last(p80);
			(void)libvm_uart_poll_input(uart);
			break;
		}
		/* ACPI PM1a may also put the machine to sleep (S3: SUSPEND). */
		if (vcpu->end_reason && vcpu->end_reason != LIBVM_EXIT_GUEST_EXIT &&
		    vcpu->end_reason != LIBVM_EXIT_RESET && vcpu->end_reason != LIBVM_EXIT_POWEROFF &&
		    vcpu->end_reason != LIBVM_EXIT_SUSPEND)
			fuzz_fail("run ended with reason %u", vcpu->end_reason);
	}
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "%u steps, %llu bytes out of the UART, last POST code %d\n", steps,
			(unsigned long long)uart_bytes, libvm_port80_last(p80));
	libvm_vm_destroy(vm); /* the devices go with it */
	return 0;
}
