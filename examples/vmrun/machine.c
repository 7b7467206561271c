/* SPDX-License-Identifier: MIT */
/*
 * See machine.h. The layout is what QEMU-style test kernels expect: RAM
 * from physical 0 (split at 3 GiB when larger, the rest above 4 GiB, so the
 * IOAPIC, LAPIC and the test device's window stay free), COM1, the exit
 * device, fw_cfg with the real CPU count, i8042, RTC, port 0x80, the
 * pc-testdev, an ACPI PM timer and PM1a blocks (power off) that the FADT
 * describes. Linux kernels (bzImage, ELF) and --disk/--net/--rng also get
 * a PCI host bridge with the virtio devices on it, described to the guest
 * in the DSDT, since Linux finds PCI buses only there when ACPI is present.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "machine.h"

#define LOW_RAM_LIMIT (3ull << 30)
#define HIGH_RAM_BASE (4ull << 30)
#define PM_TIMER_PORT 0x608

static int fail(int err, const char *what)
{
	fprintf(stderr, "vmrun: %s: %s (%s)\n", what, libvm_strerror(err), libvm_error_message());
	return err;
}

/* A whole file in memory, read-only; caller munmaps. */
static int map_file(const char *path, void **data, size_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		int err = -errno;

		fprintf(stderr, "vmrun: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		fprintf(stderr, "vmrun: %s: not a regular, non-empty file\n", path);
		close(fd);
		return -EINVAL;
	}
	*size = (size_t)st.st_size;
	*data = mmap(NULL, *size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (*data == MAP_FAILED) {
		fprintf(stderr, "vmrun: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	return 0;
}

static int map_ram(struct machine *m, uint64_t mem)
{
	uint64_t low = mem < LOW_RAM_LIMIT ? mem : LOW_RAM_LIMIT;
	int err;

	/* Round to pages; --mem is at least 1 MiB. */
	low &= ~0xfffull;
	err = libvm_region_map_ram(NULL, m->vm, 0, low);
	if (err)
		return fail(err, "map RAM");
	if (mem > LOW_RAM_LIMIT) {
		err = libvm_region_map_ram(NULL, m->vm, HIGH_RAM_BASE, (mem - low) & ~0xfffull);
		if (err)
			return fail(err, "map RAM above 4 GiB");
	}
	return 0;
}

static int attach_devices(struct machine *m, const struct vmrun_options *o)
{
	libvm_uart_options uo = LIBVM_UART_OPTIONS_INIT;
	libvm_fwcfg_options fo = LIBVM_FWCFG_OPTIONS_INIT;
	libvm_rtc_options ro = LIBVM_RTC_OPTIONS_INIT;
	libvm_pmtimer_options po = LIBVM_PMTIMER_OPTIONS_INIT;
	int err;

	m->serial_fd = -1;
	if (!strcmp(o->serial, "stdio")) {
		m->serial_fd = STDOUT_FILENO;
	} else if (strcmp(o->serial, "none") != 0) {
		m->serial_fd = open(o->serial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (m->serial_fd < 0) {
			fprintf(stderr, "vmrun: --serial %s: %s\n", o->serial, strerror(errno));
			return -errno;
		}
		m->serial_owned = true;
	}
	uo.output_fd = m->serial_fd;
	if ((err = libvm_uart_attach(&m->uart, m->vm, &uo)))
		return fail(err, "attach the UART");
	if ((err = libvm_debugexit_attach(&m->debugexit, m->vm, NULL)))
		return fail(err, "attach the exit device");
	fo.nb_cpus = (uint16_t)o->smp;
	fo.ram_size = o->mem;
	fo.cmdline = o->cmdline;
	if ((err = libvm_fwcfg_attach(&m->fwcfg, m->vm, &fo)))
		return fail(err, "attach fw_cfg");
	if ((err = libvm_i8042_attach(&m->i8042, m->vm, NULL)))
		return fail(err, "attach the i8042");
	ro.ram_size = o->mem;
	m->rtc_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ro.wake_fd = m->rtc_wake_fd;
	if ((err = libvm_rtc_attach(&m->rtc, m->vm, &ro)))
		return fail(err, "attach the RTC");
	if ((err = libvm_port80_attach(&m->port80, m->vm, NULL)))
		return fail(err, "attach port 0x80");
	if ((err = libvm_testdev_attach(&m->testdev, m->vm, NULL)))
		return fail(err, "attach the pc-testdev");
	po.port = PM_TIMER_PORT;
	po.bits = 32;
	if ((err = libvm_pmtimer_attach(&m->pmtimer, m->vm, &po)))
		return fail(err, "attach the PM timer");
	if ((err = libvm_acpipm_attach(&m->acpipm, m->vm, NULL)))
		return fail(err, "attach the ACPI PM blocks");
	return 0;
}

static int attach_pci(struct machine *m, const struct vmrun_options *o)
{
	libvm_virtio_blk_options bo = LIBVM_VIRTIO_BLK_OPTIONS_INIT;
	libvm_virtio_net_options no = LIBVM_VIRTIO_NET_OPTIONS_INIT;
	bool linux_kernel = m->kernel_format == LIBVM_FORMAT_BZIMAGE ||
			    m->kernel_format == LIBVM_FORMAT_PVH;
	int err;

	if (!linux_kernel && !o->nr_disks && !o->tap && !o->rng && !o->pci_testdev)
		return 0;
	if ((err = libvm_pci_bus_attach(&m->pci, m->vm, NULL)))
		return fail(err, "attach the PCI host bridge");
	for (uint32_t i = 0; i < o->nr_disks; i++) {
		bo.path = o->disks[i].path;
		bo.flags = o->disks[i].readonly ? LIBVM_VIRTIO_BLK_READONLY : 0;
		if ((err = libvm_virtio_blk_attach(&m->disks[i], m->pci, &bo)))
			return fail(err, o->disks[i].path);
	}
	if (o->tap) {
		no.tap = o->tap;
		if ((err = libvm_virtio_net_attach(&m->net, m->pci, &no)))
			return fail(err, "--net");
	}
	if (o->rng && (err = libvm_virtio_rng_attach(&m->rng, m->pci, NULL)))
		return fail(err, "attach virtio-rng");
	if (o->pci_testdev && (err = libvm_pci_testdev_attach(&m->pci_testdev, m->pci, 0)))
		return fail(err, "attach the PCI test device");
	return 0;
}

static int build_tables(struct machine *m, const struct vmrun_options *o)
{
	libvm_acpi_options ao = LIBVM_ACPI_OPTIONS_INIT;
	libvm_mptable_options mo = LIBVM_MPTABLE_OPTIONS_INIT;
	uint8_t aml[8192];
	size_t aml_len = 0, isa_len;
	int err;

	ao.nr_cpus = o->smp;
	ao.pm_timer_port = PM_TIMER_PORT;
	ao.flags = LIBVM_ACPI_PM_TIMER_32BIT;
	if (m->pci) {
		/* \_SB.PCI0 with its _PRT, and \_S5 for ACPI power off. */
		aml_len = sizeof(aml) / 2;
		if ((err = libvm_pci_acpi_aml(m->pci, aml, &aml_len)))
			return fail(err, "describe the PCI bus");
	}
	/* The i8042's keyboard and mouse and the RTC, so that an ACPI OS
	 * finds them in the namespace instead of probing. */
	isa_len = sizeof(aml) - aml_len;
	if ((err = libvm_acpi_isa_aml(aml + aml_len, &isa_len,
				      LIBVM_ACPI_AML_I8042 | LIBVM_ACPI_AML_RTC | LIBVM_ACPI_AML_S3)))
		return fail(err, "describe the ISA devices");
	aml_len += isa_len;
	ao.dsdt_aml = aml;
	ao.dsdt_aml_size = aml_len;
	if ((err = libvm_acpi_build(&m->rsdp, m->vm, &ao)))
		return fail(err, "build the ACPI tables");
	/* MP 1.4 has 8-bit APIC ids with 0xff reserved: beyond 254 CPUs only
	 * the MADT (with x2APIC entries) can describe them. */
	if (o->smp > 254)
		return 0;
	mo.nr_cpus = o->smp;
	if ((err = libvm_mptable_build(NULL, m->vm, &mo)))
		return fail(err, "build the MP table");
	return 0;
}

static int load_kernel(struct machine *m, const struct vmrun_options *o)
{
	libvm_load_module mods[VMRUN_MAX_MODULES];
	void *mod_data[VMRUN_MAX_MODULES] = { 0 };
	size_t mod_size[VMRUN_MAX_MODULES] = { 0 };
	libvm_load_options lo = LIBVM_LOAD_OPTIONS_INIT;
	enum vmrun_format fmt = o->format;
	void *image;
	size_t size;
	int err;

	err = map_file(o->kernel, &image, &size);
	if (err)
		return err;
	for (uint32_t i = 0; i < o->nr_modules; i++) {
		err = map_file(o->modules[i].path, &mod_data[i], &mod_size[i]);
		if (err)
			goto out;
		mods[i] = (libvm_load_module){
			.data = mod_data[i], .size = mod_size[i], .string = o->modules[i].string,
		};
	}
	if (fmt == VMRUN_FORMAT_AUTO) {
		switch (libvm_load_detect(image, size)) {
		case LIBVM_FORMAT_MULTIBOOT:
			fmt = VMRUN_FORMAT_MULTIBOOT;
			break;
		case LIBVM_FORMAT_ELF32:
		case LIBVM_FORMAT_ELF64:
		case LIBVM_FORMAT_PVH:
			fmt = VMRUN_FORMAT_ELF;
			break;
		case LIBVM_FORMAT_BZIMAGE:
			fmt = VMRUN_FORMAT_BZIMAGE;
			break;
		default:
			fmt = VMRUN_FORMAT_FLAT;
			break;
		}
	}
	lo.kernel_name = o->kernel;
	lo.cmdline = o->cmdline;
	if (!lo.cmdline && (fmt == VMRUN_FORMAT_BZIMAGE ||
			    m->kernel_format == LIBVM_FORMAT_PVH))
		lo.cmdline = VMRUN_LINUX_CMDLINE;
	lo.rsdp_gpa = m->rsdp;
	lo.modules = mods;
	lo.nr_modules = o->nr_modules;
	switch (fmt) {
	case VMRUN_FORMAT_MULTIBOOT:
		err = libvm_load_multiboot(&m->boot, m->vm, image, size, &lo);
		break;
	case VMRUN_FORMAT_ELF:
		err = libvm_load_elf(&m->boot, m->vm, image, size, &lo);
		break;
	case VMRUN_FORMAT_BZIMAGE:
		err = libvm_load_bzimage(&m->boot, m->vm, image, size, &lo);
		break;
	default:
		err = libvm_load_flat(&m->boot, m->vm, image, size, o->load_addr);
		break;
	}
	if (err)
		fail(err, o->kernel);
out:
	for (uint32_t i = 0; i < o->nr_modules; i++)
		if (mod_data[i])
			munmap(mod_data[i], mod_size[i]);
	munmap(image, size);
	return err;
}

/* The kernel's format decides the platform (a PCI bus for Linux). */
static int detect_kernel(struct machine *m, const struct vmrun_options *o)
{
	void *image;
	size_t size;
	int err = map_file(o->kernel, &image, &size);

	if (err)
		return err;
	m->kernel_format = libvm_load_detect(image, size);
	munmap(image, size);
	if (o->format == VMRUN_FORMAT_MULTIBOOT || o->format == VMRUN_FORMAT_FLAT)
		m->kernel_format = LIBVM_FORMAT_UNKNOWN;
	return 0;
}

/* --cpu: one table for every vCPU (libvm sets each one's APIC id). */
static int set_cpu_model(struct machine *m, const char *spec)
{
	libvm_cpuid_entry *t;
	uint32_t n = 0;
	int err = libvm_cpuid_build(m->vm, spec, NULL, &n);

	if (err)
		return fail(err, "--cpu");
	t = calloc(n, sizeof(*t));
	if (!t)
		return fail(-ENOMEM, "--cpu");
	err = libvm_cpuid_build(m->vm, spec, t, &n);
	for (uint32_t i = 0; !err && i < m->nr_vcpus; i++)
		err = libvm_vcpu_set_cpuid(m->vcpus[i], t, n);
	free(t);
	return err ? fail(err, "--cpu") : 0;
}

/* --verbose: libvm's diagnostics up to the level asked for. */
static void log_to_stderr(int level, const char *message, void *opaque)
{
	const struct vmrun_options *o = opaque;

	if (level <= LIBVM_LOG_WARN + (int)o->verbose)
		fprintf(stderr, "vmrun: libvm: %s\n", message);
}

int machine_build(struct machine *m, const struct vmrun_options *o)
{
	libvm_vm_options vo = LIBVM_VM_OPTIONS_INIT;
	int err;

	memset(m, 0, sizeof(*m));
	m->serial_fd = -1;
	m->rtc_wake_fd = -1;
	vo.device_path = o->device;
	if (o->verbose) {
		vo.log = log_to_stderr;
		vo.log_opaque = (void *)o;
	}
	if ((err = libvm_vm_create(&m->vm, &vo)))
		return fail(err, "create the VM");
	if ((err = map_ram(m, o->mem)))
		return err;
	/* Interrupt controllers before any vCPU. Without them (a backend
	 * that has none), single-CPU polling guests still run. */
	err = libvm_irqchip_create(m->vm, LIBVM_IRQCHIP_PIT);
	if (err == -ENOTSUP)
		err = libvm_irqchip_create(m->vm, 0);
	if (!err)
		m->irqchip = true;
	else if (err != -ENOTSUP)
		return fail(err, "create the irqchip");
	else if (o->smp > 1) {
		fprintf(stderr, "vmrun: --smp %u needs an in-kernel irqchip, which %s lacks\n",
			o->smp, libvm_vm_device_path(m->vm));
		return -ENOTSUP;
	}
	if ((err = detect_kernel(m, o)))
		return err;
	if ((err = attach_devices(m, o)) || (err = attach_pci(m, o)) ||
	    (err = build_tables(m, o)) || (err = load_kernel(m, o)))
		return err;
	for (uint32_t i = 0; i < o->smp; i++) {
		if ((err = libvm_vcpu_create(&m->vcpus[i], m->vm, i)))
			return fail(err, "create a vCPU");
		m->nr_vcpus++;
	}
	if (o->cpu && (err = set_cpu_model(m, o->cpu)))
		return err;
	for (uint32_t i = 0; o->hyperv && i < m->nr_vcpus; i++)
		if ((err = libvm_vcpu_enable_hyperv(m->vcpus[i], o->hyperv)))
			return fail(err, "--hyperv");
	/* Only the boot processor starts at the kernel; the others wait for
	 * the guest's INIT/SIPI in the in-kernel LAPIC. */
	if ((err = libvm_boot_apply(m->vcpus[0], &m->boot)))
		return fail(err, "set the entry state");
	return 0;
}

int machine_resume(struct machine *m, bool by_rtc)
{
	libvm_boot b;
	int err;

	if ((err = libvm_acpipm_wake(m->acpipm, by_rtc ? LIBVM_ACPIPM_WAKE_RTC : 0)) ||
	    (err = libvm_acpi_waking_vector(&b, m->vm, m->rsdp)))
		return fail(err, "wake the guest");
	for (uint32_t i = 0; i < m->nr_vcpus; i++)
		if ((err = libvm_vcpu_reset(m->vcpus[i], i ? LIBVM_VCPU_RESET_WAIT_SIPI : 0)))
			return fail(err, "reset a vCPU for the wake");
	if ((err = libvm_boot_apply(m->vcpus[0], &b)))
		return fail(err, "enter the waking vector");
	return 0;
}

void machine_dump_vcpu(struct machine *m, uint32_t id)
{
	libvm_regs r;
	libvm_sregs s;

	if (id >= m->nr_vcpus || libvm_vcpu_get_regs(m->vcpus[id], &r) ||
	    libvm_vcpu_get_sregs(m->vcpus[id], &s))
		return;
	fprintf(stderr,
		"vCPU %u state:\n"
		" rip %016" PRIx64 " rflags %08" PRIx64 " rsp %016" PRIx64 "\n"
		" rax %016" PRIx64 " rbx %016" PRIx64 " rcx %016" PRIx64 " rdx %016" PRIx64 "\n"
		" rsi %016" PRIx64 " rdi %016" PRIx64 " rbp %016" PRIx64 "\n"
		" cs %04x base %" PRIx64 " l %u db %u  ss %04x  ds %04x\n"
		" cr0 %08" PRIx64 " cr2 %016" PRIx64 " cr3 %016" PRIx64 " cr4 %08" PRIx64
		" efer %" PRIx64 "\n"
		" gdt %" PRIx64 "/%x idt %" PRIx64 "/%x\n",
		id, r.rip, r.rflags, r.rsp, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp,
		s.cs.selector, s.cs.base, s.cs.l, s.cs.db, s.ss.selector, s.ds.selector, s.cr0,
		s.cr2, s.cr3, s.cr4, s.efer, s.gdt.base, s.gdt.limit, s.idt.base, s.idt.limit);
}

void machine_destroy(struct machine *m)
{
	/* Devices before the bus they sit on. */
	libvm_pci_testdev_detach(m->pci_testdev);
	libvm_virtio_rng_detach(m->rng);
	libvm_virtio_net_detach(m->net);
	for (uint32_t i = 0; i < VMRUN_MAX_DISKS; i++)
		libvm_virtio_blk_detach(m->disks[i]);
	libvm_pci_bus_detach(m->pci);
	libvm_acpipm_detach(m->acpipm);
	libvm_pmtimer_detach(m->pmtimer);
	libvm_testdev_detach(m->testdev);
	libvm_port80_detach(m->port80);
	libvm_rtc_detach(m->rtc);
	libvm_i8042_detach(m->i8042);
	libvm_fwcfg_detach(m->fwcfg);
	libvm_debugexit_detach(m->debugexit);
	libvm_uart_detach(m->uart);
	libvm_vm_destroy(m->vm);
	if (m->serial_owned)
		close(m->serial_fd);
	if (m->rtc_wake_fd >= 0)
		close(m->rtc_wake_fd);
	memset(m, 0, sizeof(*m));
}
