/* SPDX-License-Identifier: MIT */
/*
 * The PC machine (include/libvm/machine.h): the recipe that vmrun used to
 * carry, in the library. The order matters: RAM before the devices (MMIO
 * devices may not overlap it), the irqchip before any vCPU, the PCI bus
 * before the DSDT that describes it, the ACPI tables before the kernel
 * (a PVH kernel is told where the RSDP is), the kernel before vCPU 0 is
 * pointed at its entry.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <libvm/machine.h>

#include "../internal.h"
#include "machine_internal.h"

#define LOW_RAM_LIMIT (3ull << 30)
#define HIGH_RAM_BASE (4ull << 30)
#define DEFAULT_RAM (128ull << 20)
#define DEFAULT_LOAD_ADDR 0x100000ull
#define PM_TIMER_PORT 0x608
#define MAX_MODULES 64u
#define MP_MAX_CPUS 254u

#define KNOWN_FLAGS                                                                    \
	(LIBVM_MACHINE_NO_IRQCHIP | LIBVM_MACHINE_NO_PIT | LIBVM_MACHINE_NO_UART |     \
	 LIBVM_MACHINE_NO_DEBUGEXIT | LIBVM_MACHINE_NO_FWCFG | LIBVM_MACHINE_NO_I8042 | \
	 LIBVM_MACHINE_NO_RTC | LIBVM_MACHINE_NO_PORT80 | LIBVM_MACHINE_NO_TESTDEV |   \
	 LIBVM_MACHINE_NO_ACPI | LIBVM_MACHINE_NO_MPTABLE | LIBVM_MACHINE_PCI |         \
	 LIBVM_MACHINE_NO_PCI | LIBVM_MACHINE_PCI_TESTDEV)

/*
 * A failed step: keep the part's own message and say which step it was.
 * Copied first, since the new message is written into the same buffer.
 */
int libvm__machine_fail(int err, const char *step)
{
	char inner[200];

	snprintf(inner, sizeof(inner), "%s", libvm_error_message());
	return libvm__fail(err, "machine: %s: %s", step, inner[0] ? inner : strerror(-err));
}

static int check_options(libvm_machine_options *o)
{
	uint32_t nvirtio = o->nr_disks + o->nr_nets + o->nr_consoles + o->nr_rngs +
			   !!(o->flags & LIBVM_MACHINE_PCI_TESTDEV);

	if (o->flags & ~KNOWN_FLAGS)
		return libvm__fail(-EINVAL, "machine: unknown flags 0x%x", o->flags & ~KNOWN_FLAGS);
	if (!o->ram_size)
		o->ram_size = DEFAULT_RAM;
	if (!o->ram_below_4g)
		o->ram_below_4g = o->ram_size < LOW_RAM_LIMIT ? o->ram_size : LOW_RAM_LIMIT;
	if ((o->ram_size | o->ram_below_4g) & (LIBVM__PAGE_SIZE - 1))
		return libvm__fail(-EINVAL, "machine: ram_size 0x%llx and ram_below_4g 0x%llx must be multiples of 4 KiB",
				   (unsigned long long)o->ram_size,
				   (unsigned long long)o->ram_below_4g);
	if (o->ram_below_4g > LOW_RAM_LIMIT || o->ram_below_4g > o->ram_size)
		return libvm__fail(-EINVAL, "machine: ram_below_4g 0x%llx is above 3 GiB or ram_size 0x%llx",
				   (unsigned long long)o->ram_below_4g,
				   (unsigned long long)o->ram_size);
	if (o->ram_size - o->ram_below_4g > LIBVM__GPA_LIMIT - HIGH_RAM_BASE)
		return libvm__fail(-EINVAL, "machine: ram_size 0x%llx does not fit the address space",
				   (unsigned long long)o->ram_size);
	if (!o->nr_vcpus)
		o->nr_vcpus = 1;
	if (o->nr_vcpus > 1 && (o->flags & LIBVM_MACHINE_NO_IRQCHIP))
		return libvm__fail(-EINVAL, "machine: %u vCPUs need the irqchip (their start-up "
				   "IPIs go through the LAPICs)", o->nr_vcpus);
	if (o->kernel_path && o->kernel_image)
		return libvm__fail(-EINVAL, "machine: kernel_path and kernel_image are both given");
	if (o->kernel_image && !o->kernel_size)
		return libvm__fail(-EINVAL, "machine: kernel_image has kernel_size 0");
	switch (o->kernel_format) {
	case 0:
	case LIBVM_FORMAT_MULTIBOOT:
	case LIBVM_FORMAT_ELF32:
	case LIBVM_FORMAT_ELF64:
	case LIBVM_FORMAT_PVH:
	case LIBVM_FORMAT_BZIMAGE:
	case LIBVM_FORMAT_FLAT:
		break;
	default:
		return libvm__fail(-EINVAL, "machine: kernel_format %u is not a LIBVM_FORMAT_*",
				   o->kernel_format);
	}
	if (o->nr_modules > MAX_MODULES || (o->nr_modules && !o->modules))
		return libvm__fail(-EINVAL, "machine: %u modules (at most %u, and modules given)",
				   o->nr_modules, MAX_MODULES);
	if (o->initrd_path && o->nr_modules)
		return libvm__fail(-EINVAL, "machine: initrd_path and modules are both given");
	if ((o->nr_modules || o->initrd_path) && !o->kernel_path && !o->kernel_image)
		return libvm__fail(-EINVAL, "machine: modules without a kernel");
	if (o->nr_rngs > 1)
		return libvm__fail(-EINVAL, "machine: %u virtio-rng devices (at most 1)", o->nr_rngs);
	if ((o->nr_disks && !o->disks) || (o->nr_nets && !o->nets) ||
	    (o->nr_consoles && !o->consoles))
		return libvm__fail(-EINVAL, "machine: a virtio device count without its array");
	if ((o->flags & LIBVM_MACHINE_PCI) && (o->flags & LIBVM_MACHINE_NO_PCI))
		return libvm__fail(-EINVAL, "machine: LIBVM_MACHINE_PCI and LIBVM_MACHINE_NO_PCI");
	if (nvirtio && (o->flags & LIBVM_MACHINE_NO_PCI))
		return libvm__fail(-EINVAL, "machine: virtio devices need the PCI bus "
				   "(LIBVM_MACHINE_NO_PCI)");
	if (!o->load_addr)
		o->load_addr = DEFAULT_LOAD_ADDR;
	return 0;
}

static int map_ram(libvm_machine *m, const libvm_machine_options *o)
{
	libvm_region_options r = LIBVM_REGION_OPTIONS_INIT;
	int err;

	r.gpa = 0;
	r.length = o->ram_below_4g;
	r.name = "ram";
	err = libvm_region_map(NULL, m->vm, &r);
	if (err)
		return libvm__machine_fail(err, "map RAM");
	if (o->ram_size > o->ram_below_4g) {
		r.gpa = HIGH_RAM_BASE;
		r.length = o->ram_size - o->ram_below_4g;
		r.name = "ram-high";
		err = libvm_region_map(NULL, m->vm, &r);
		if (err)
			return libvm__machine_fail(err, "map RAM above 4 GiB");
	}
	return 0;
}

/* The in-kernel PIC, IOAPIC, LAPICs and PIT, before any vCPU. A backend
 * without them still runs a single-CPU guest that polls. */
static int create_irqchip(libvm_machine *m, const libvm_machine_options *o)
{
	int err;

	if (o->flags & LIBVM_MACHINE_NO_IRQCHIP)
		return 0;
	err = libvm_irqchip_create(m->vm, (o->flags & LIBVM_MACHINE_NO_PIT) ? 0 :
									 LIBVM_IRQCHIP_PIT);
	if (err == -ENOTSUP && !(o->flags & LIBVM_MACHINE_NO_PIT))
		err = libvm_irqchip_create(m->vm, 0);
	if (err == -ENOTSUP && o->nr_vcpus == 1) {
		libvm__log(m->vm, LIBVM_LOG_WARN, "machine: %s has no in-kernel irqchip: "
			   "no interrupts", libvm_vm_device_path(m->vm));
		return 0;
	}
	if (err == -ENOTSUP)
		return libvm__fail(err, "machine: %u vCPUs need an in-kernel irqchip, which %s lacks",
				   o->nr_vcpus, libvm_vm_device_path(m->vm));
	if (err)
		return libvm__machine_fail(err, "create the irqchip");
	m->irqchip = true;
	return 0;
}

static int attach_legacy(libvm_machine *m, const libvm_machine_options *o)
{
	uint32_t f = o->flags;
	int err;

	if (!(f & LIBVM_MACHINE_NO_UART) && (err = libvm_uart_attach(&m->uart, m->vm, o->uart)))
		return libvm__machine_fail(err, "attach the UART");
	if (!(f & LIBVM_MACHINE_NO_DEBUGEXIT) &&
	    (err = libvm_debugexit_attach(&m->debugexit, m->vm, NULL)))
		return libvm__machine_fail(err, "attach the exit device");
	if (!(f & LIBVM_MACHINE_NO_FWCFG)) {
		libvm_fwcfg_options fo = LIBVM_FWCFG_OPTIONS_INIT;

		fo.nb_cpus = (uint16_t)o->nr_vcpus;
		fo.ram_size = o->ram_size;
		fo.cmdline = m->cmdline;
		if ((err = libvm_fwcfg_attach(&m->fwcfg, m->vm, &fo)))
			return libvm__machine_fail(err, "attach fw_cfg");
	}
	if (!(f & LIBVM_MACHINE_NO_I8042) && (err = libvm_i8042_attach(&m->i8042, m->vm, NULL)))
		return libvm__machine_fail(err, "attach the i8042");
	if (!(f & LIBVM_MACHINE_NO_RTC)) {
		libvm_rtc_options ro = LIBVM_RTC_OPTIONS_INIT;

		/* Its alarm may have to wake a suspended guest: the caller
		 * polls this eventfd (parts.rtc_wake_fd) meanwhile. */
		m->rtc_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (m->rtc_wake_fd < 0)
			return libvm__fail(-errno, "machine: eventfd for the RTC: %s",
					   strerror(errno));
		ro.ram_size = o->ram_size;
		ro.ram_below_4g = o->ram_below_4g;
		ro.wake_fd = m->rtc_wake_fd;
		if ((err = libvm_rtc_attach(&m->rtc, m->vm, &ro)))
			return libvm__machine_fail(err, "attach the RTC");
	}
	if (!(f & LIBVM_MACHINE_NO_PORT80) && (err = libvm_port80_attach(&m->port80, m->vm, NULL)))
		return libvm__machine_fail(err, "attach port 0x80");
	if (!(f & LIBVM_MACHINE_NO_TESTDEV) &&
	    (err = libvm_testdev_attach(&m->testdev, m->vm, NULL)))
		return libvm__machine_fail(err, "attach the pc-testdev");
	if (!(f & LIBVM_MACHINE_NO_ACPI)) {
		/* The 32-bit timer, as the FADT says (TMR_VAL_EXT). */
		libvm_pmtimer_options po = LIBVM_PMTIMER_OPTIONS_INIT;

		po.port = PM_TIMER_PORT;
		po.bits = 32;
		if ((err = libvm_pmtimer_attach(&m->pmtimer, m->vm, &po)))
			return libvm__machine_fail(err, "attach the PM timer");
		if ((err = libvm_acpipm_attach(&m->acpipm, m->vm, NULL)))
			return libvm__machine_fail(err, "attach the ACPI PM blocks");
	}
	return 0;
}

static bool is_linux(uint32_t format)
{
	return format == LIBVM_FORMAT_BZIMAGE || format == LIBVM_FORMAT_PVH;
}

static int attach_pci(libvm_machine *m, const libvm_machine_options *o)
{
	uint32_t nvirtio = o->nr_disks + o->nr_nets + o->nr_consoles + o->nr_rngs +
			   !!(o->flags & LIBVM_MACHINE_PCI_TESTDEV);
	int err;

	if (o->flags & LIBVM_MACHINE_NO_PCI)
		return 0;
	if (!nvirtio && !(o->flags & LIBVM_MACHINE_PCI) && !is_linux(m->kernel_format))
		return 0;
	if ((err = libvm_pci_bus_attach(&m->pci, m->vm, o->pci)))
		return libvm__machine_fail(err, "attach the PCI host bridge");
	m->disks = calloc(o->nr_disks + 1, sizeof(*m->disks));
	m->nets = calloc(o->nr_nets + 1, sizeof(*m->nets));
	m->consoles = calloc(o->nr_consoles + 1, sizeof(*m->consoles));
	if (!m->disks || !m->nets || !m->consoles)
		return libvm__fail(-ENOMEM, "machine: out of memory");
	for (uint32_t i = 0; i < o->nr_disks; i++, m->nr_disks++) {
		if ((err = libvm_virtio_blk_attach(&m->disks[i], m->pci, o->disks[i]))) {
			char step[48];

			snprintf(step, sizeof(step), "attach virtio-blk %u", i);
			return libvm__machine_fail(err, step);
		}
	}
	for (uint32_t i = 0; i < o->nr_nets; i++, m->nr_nets++) {
		if ((err = libvm_virtio_net_attach(&m->nets[i], m->pci, o->nets[i]))) {
			char step[48];

			snprintf(step, sizeof(step), "attach virtio-net %u", i);
			return libvm__machine_fail(err, step);
		}
	}
	for (uint32_t i = 0; i < o->nr_consoles; i++, m->nr_consoles++) {
		if ((err = libvm_virtio_console_attach(&m->consoles[i], m->pci, o->consoles[i]))) {
			char step[48];

			snprintf(step, sizeof(step), "attach virtio-console %u", i);
			return libvm__machine_fail(err, step);
		}
	}
	if (o->nr_rngs && (err = libvm_virtio_rng_attach(&m->rng, m->pci, NULL)))
		return libvm__machine_fail(err, "attach virtio-rng");
	if ((o->flags & LIBVM_MACHINE_PCI_TESTDEV) &&
	    (err = libvm_pci_testdev_attach(&m->pci_testdev, m->pci, 0)))
		return libvm__machine_fail(err, "attach the PCI test device");
	return 0;
}

static int build_tables(libvm_machine *m, const libvm_machine_options *o)
{
	int err;

	if (!(o->flags & LIBVM_MACHINE_NO_ACPI)) {
		libvm_acpi_options ao = LIBVM_ACPI_OPTIONS_INIT;
		uint8_t aml[8192];
		size_t aml_len = 0, isa_len;

		ao.nr_cpus = o->nr_vcpus;
		ao.pm_timer_port = PM_TIMER_PORT;
		ao.flags = LIBVM_ACPI_PM_TIMER_32BIT;
		if (m->pci) {
			/* \_SB.PCI0 with its _PRT, and \_S5 for ACPI power off. */
			aml_len = sizeof(aml) / 2;
			if ((err = libvm_pci_acpi_aml(m->pci, aml, &aml_len)))
				return libvm__machine_fail(err, "describe the PCI bus");
		}
		/* The i8042's keyboard and mouse and the RTC, so that an ACPI OS
		 * finds them in the namespace instead of probing, and S3. */
		isa_len = sizeof(aml) - aml_len;
		if ((err = libvm_acpi_isa_aml(aml + aml_len, &isa_len,
					      (m->i8042 ? LIBVM_ACPI_AML_I8042 : 0) |
					      (m->rtc ? LIBVM_ACPI_AML_RTC : 0) | LIBVM_ACPI_AML_S3)))
			return libvm__machine_fail(err, "describe the ISA devices");
		aml_len += isa_len;
		ao.dsdt_aml = aml;
		ao.dsdt_aml_size = aml_len;
		if ((err = libvm_acpi_build(&m->rsdp, m->vm, &ao)))
			return libvm__machine_fail(err, "build the ACPI tables");
	}
	/* MP 1.4 has 8-bit APIC ids with 0xff reserved: beyond 254 CPUs only
	 * the MADT (with x2APIC entries) can describe them. */
	if (!(o->flags & LIBVM_MACHINE_NO_MPTABLE) && o->nr_vcpus <= MP_MAX_CPUS) {
		libvm_mptable_options mo = LIBVM_MPTABLE_OPTIONS_INIT;

		mo.nr_cpus = o->nr_vcpus;
		if ((err = libvm_mptable_build(&m->mptable, m->vm, &mo)))
			return libvm__machine_fail(err, "build the MP table");
	}
	return 0;
}

/* One CPUID table for every vCPU (libvm sets each one's APIC id). */
static int set_cpu_model(libvm_machine *m, const char *spec)
{
	libvm_cpuid_entry *t;
	uint32_t n = 0;
	int err = libvm_cpuid_build(m->vm, spec, NULL, &n);

	if (err)
		return libvm__machine_fail(err, "the CPU model");
	t = calloc(n ? n : 1, sizeof(*t));
	if (!t)
		return libvm__fail(-ENOMEM, "machine: out of memory");
	err = libvm_cpuid_build(m->vm, spec, t, &n);
	for (uint32_t i = 0; !err && i < m->nr_vcpus; i++)
		err = libvm_vcpu_set_cpuid(m->vcpus[i], t, n);
	free(t);
	return err ? libvm__machine_fail(err, "the CPU model") : 0;
}

static int create_vcpus(libvm_machine *m, const libvm_machine_options *o)
{
	int err;

	m->vcpus = calloc(o->nr_vcpus, sizeof(*m->vcpus));
	if (!m->vcpus)
		return libvm__fail(-ENOMEM, "machine: out of memory");
	for (uint32_t i = 0; i < o->nr_vcpus; i++, m->nr_vcpus++) {
		if ((err = libvm_vcpu_create(&m->vcpus[i], m->vm, i)))
			return libvm__machine_fail(err, "create the vCPUs");
	}
	if (o->cpu && (err = set_cpu_model(m, o->cpu)))
		return err;
	for (uint32_t i = 0; o->hyperv && i < m->nr_vcpus; i++)
		if ((err = libvm_vcpu_enable_hyperv(m->vcpus[i], o->hyperv)))
			return libvm__machine_fail(err, "enable Hyper-V");
	/* Only the boot processor starts at the kernel; the others wait for
	 * the guest's INIT/SIPI in the in-kernel LAPIC. */
	if (m->has_kernel && (err = libvm_boot_apply(m->vcpus[0], &m->boot)))
		return libvm__machine_fail(err, "set vCPU 0's entry state");
	return 0;
}

static void machine_free(libvm_machine *m)
{
	libvm__machine_kernel_fini(m);
	free(m->vcpus);
	free(m->disks);
	free(m->nets);
	free(m->consoles);
	free(m->cmdline);
	if (m->rtc_wake_fd >= 0)
		close(m->rtc_wake_fd);
	libvm__bury(m, sizeof(*m));
}

LIBVM_EXPORT int libvm_machine_create(libvm_machine **out, const libvm_machine_options *opts)
{
	libvm_machine_options o = LIBVM_MACHINE_OPTIONS_INIT;
	libvm_machine *m;
	int err;

	if (!out)
		return libvm__fail(-EINVAL, "libvm_machine_create: out is NULL");
	*out = NULL;
	if (opts && (err = libvm__copy_options(&o, sizeof(o), opts, "libvm_machine_options")))
		return err;
	if ((err = check_options(&o)))
		return err;
	m = calloc(1, sizeof(*m));
	if (!m)
		return libvm__fail(-ENOMEM, "machine: out of memory");
	m->magic = LIBVM__MAGIC_MACHINE;
	m->rtc_wake_fd = -1;
	/* The kernel first: its format decides the platform (PCI for Linux)
	 * and its command line goes to fw_cfg too. */
	if ((err = libvm__machine_kernel_open(m, &o)))
		goto fail;
	if ((err = libvm_vm_create(&m->vm, o.vm))) {
		libvm__machine_fail(err, "create the VM");
		goto fail;
	}
	if ((err = map_ram(m, &o)) || (err = create_irqchip(m, &o)) ||
	    (err = attach_legacy(m, &o)) || (err = attach_pci(m, &o)) ||
	    (err = build_tables(m, &o)) || (err = libvm__machine_kernel_load(m, &o)) ||
	    (err = create_vcpus(m, &o)))
		goto fail;
	libvm__machine_kernel_fini(m);
	*out = m;
	return 0;
fail:
	/* The VM's destroy takes every device and vCPU with it. */
	if (m->vm)
		libvm_vm_destroy(m->vm);
	machine_free(m);
	return err;
}

LIBVM_EXPORT int libvm_machine_destroy(libvm_machine *m)
{
	int err;

	if (!m)
		return 0;
	if (!libvm__live(m, LIBVM__MAGIC_MACHINE))
		return libvm__dead(m, LIBVM__MAGIC_MACHINE, "libvm_machine_destroy", "machine");
	err = libvm_vm_destroy(m->vm);
	if (err)
		return err;
	machine_free(m);
	return 0;
}

LIBVM_EXPORT libvm_vm *libvm_machine_vm(const libvm_machine *m)
{
	return libvm__live(m, LIBVM__MAGIC_MACHINE) ? m->vm : NULL;
}

LIBVM_EXPORT libvm_vcpu *libvm_machine_vcpu(const libvm_machine *m, uint32_t id)
{
	if (!libvm__live(m, LIBVM__MAGIC_MACHINE) || id >= m->nr_vcpus)
		return NULL;
	return m->vcpus[id];
}

LIBVM_EXPORT int libvm_machine_get_parts(const libvm_machine *m, libvm_machine_parts *parts)
{
	libvm_machine_parts p;
	size_t size;

	LIBVM__CHECK_HANDLE(m, LIBVM__MAGIC_MACHINE, "libvm_machine_get_parts", "m", "machine");
	if (!parts)
		return libvm__fail(-EINVAL, "libvm_machine_get_parts: parts is NULL");
	size = parts->size;
	if (size < sizeof(size_t) || size > sizeof(p))
		return libvm__fail(-EINVAL, "libvm_machine_get_parts: size field is %zu, expected %zu "
				   "(use the _INIT macro)", size, sizeof(p));
	p = (libvm_machine_parts){
		.size = size,
		.vm = m->vm,
		.nr_vcpus = m->nr_vcpus,
		.vcpus = m->vcpus,
		.uart = m->uart,
		.debugexit = m->debugexit,
		.fwcfg = m->fwcfg,
		.i8042 = m->i8042,
		.rtc = m->rtc,
		.port80 = m->port80,
		.testdev = m->testdev,
		.pmtimer = m->pmtimer,
		.acpipm = m->acpipm,
		.pci = m->pci,
		.nr_disks = m->nr_disks,
		.disks = m->disks,
		.nr_nets = m->nr_nets,
		.nets = m->nets,
		.nr_consoles = m->nr_consoles,
		.consoles = m->consoles,
		.rng = m->rng,
		.kernel_format = m->kernel_format,
		.rsdp_gpa = m->rsdp,
		.mptable_gpa = m->mptable,
		.boot = m->boot,
		.pci_testdev = m->pci_testdev,
		.rtc_wake_fd = m->rtc_wake_fd,
	};
	memcpy(parts, &p, size);
	return 0;
}

LIBVM_EXPORT int libvm_machine_wake(libvm_machine *m, uint32_t flags)
{
	libvm_boot b;
	int err;

	LIBVM__CHECK_HANDLE(m, LIBVM__MAGIC_MACHINE, "libvm_machine_wake", "m", "machine");
	if (flags & ~LIBVM_MACHINE_WAKE_RTC)
		return libvm__fail(-EINVAL, "libvm_machine_wake: unknown flags 0x%x", flags);
	if (!m->acpipm || !m->rsdp)
		return libvm__fail(-ENOTSUP, "libvm_machine_wake: the machine has no ACPI");
	if ((err = libvm_acpipm_wake(m->acpipm, (flags & LIBVM_MACHINE_WAKE_RTC) ?
						       LIBVM_ACPIPM_WAKE_RTC : 0)) ||
	    (err = libvm_acpi_waking_vector(&b, m->vm, m->rsdp)))
		return libvm__machine_fail(err, "wake the guest");
	for (uint32_t i = 0; i < m->nr_vcpus; i++)
		if ((err = libvm_vcpu_reset(m->vcpus[i], i ? LIBVM_VCPU_RESET_WAIT_SIPI : 0)))
			return libvm__machine_fail(err, "reset a vCPU for the wake");
	if ((err = libvm_boot_apply(m->vcpus[0], &b)))
		return libvm__machine_fail(err, "enter the waking vector");
	return 0;
}
