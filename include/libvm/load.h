/* SPDX-License-Identifier: MIT */
/*
 * libvm guest loaders and firmware tables.
 *
 * A loader copies a kernel image (flat binary, ELF32/ELF64 with an optional
 * PVH note, multiboot v1) into guest RAM together with the boot data its
 * format defines, and describes the entry state in a libvm_boot struct;
 * libvm_boot_apply() then puts a vCPU into that state. The firmware builders
 * write ACPI tables (RSDP, RSDT, XSDT, FADT, FACS, DSDT, MADT) and an Intel
 * MP table so that a guest finds its CPUs and the IOAPIC.
 *
 * Every header field, offset and size of an image is treated as hostile:
 * it is checked against the file and against guest RAM before anything is
 * written, so a rejected image leaves guest memory untouched. Errors:
 * -ENOEXEC not this format; -EINVAL malformed (segments that overlap each
 * other included); -EFAULT a part would land outside guest RAM; -EEXIST a
 * part overlaps the firmware table area; -ENOSPC no free RAM below 4 GiB is
 * left for the boot data; -E2BIG the boot data does not fit its area;
 * -ENOTSUP a feature the image requires that libvm does not offer.
 * libvm_error_message() names the field.
 *
 * Guest-physical layout used by the loaders and tables (RAM from 0):
 *
 *   0xe0000-0xeffff  ACPI tables (RSDP first, found by scanning)
 *   0xf0000-0xf0fff  MP table (floating pointer first)
 *   >= kernel end    modules, each page aligned, right after the kernel
 *                    (a kernel that ends below 1 MiB: from 1 MiB on when
 *                    they would reach the legacy hole at 0x9fc00)
 *
 * The boot data (GDT, information struct with memory map and command
 * lines, the Linux zero page, page tables for 64-bit entry) is placed once
 * the kernel's segments and modules are known, in RAM below 4 GiB that
 * none of them uses and outside the legacy areas (below 0x500, and
 * 0x9fc00-0xfffff): each piece at its traditional address below
 * (LIBVM_BOOT_*_GPA) when that is free, else at the lowest free place.
 * So a kernel may load anywhere in RAM except the firmware table area
 * 0xe0000-0xfffff; libvm_boot tells where the boot data went (gdt_base,
 * cr3, info_gpa). Traditional places:
 *
 *   0x00500-0x0053f  GDT written for protected/long-mode entry
 *   0x07000-0x08fff  boot information: multiboot info struct or PVH
 *                    start_info, memory map, module list, command lines
 *   0x09000-0x0efff  identity page tables (4 GiB, 2 MiB pages) for 64-bit
 *                    entry only
 *
 * Thread rules: the loaders and builders take the VM's memory map once and
 * write through libvm_mem_write(); do not change the VM's regions while
 * they run. libvm_boot_apply() follows the vCPU register accessor rules.
 */
#ifndef LIBVM_LOAD_H
#define LIBVM_LOAD_H

#include <libvm/libvm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The layout above: preferred places of the boot data, and the fixed
 * firmware areas. */
#define LIBVM_BOOT_GDT_GPA        0x500ull
#define LIBVM_BOOT_GDT_SIZE       0x40ull
#define LIBVM_BOOT_INFO_GPA       0x7000ull
#define LIBVM_BOOT_INFO_SIZE      0x2000ull
#define LIBVM_BOOT_PAGETABLE_GPA  0x9000ull
#define LIBVM_BOOT_PAGETABLE_SIZE 0x6000ull
#define LIBVM_FW_AREA_GPA         0xe0000ull
#define LIBVM_FW_AREA_SIZE        0x20000ull
#define LIBVM_ACPI_DEFAULT_GPA    0xe0000ull
#define LIBVM_ACPI_MAX_SIZE       0x10000ull
#define LIBVM_MPTABLE_DEFAULT_GPA 0xf0000ull
#define LIBVM_MPTABLE_MAX_SIZE    0x10000ull

/* Value of EAX at a multiboot v1 entry (Multiboot 0.6.96, 3.2). */
#define LIBVM_MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u
/* Magic of the PVH start_info struct that EBX points to at a PVH entry. */
#define LIBVM_PVH_START_INFO_MAGIC 0x336ec578u

/** Image formats libvm_load_detect() recognizes. */
enum libvm_image_format {
	LIBVM_FORMAT_UNKNOWN = 0,   /* no known header: maybe a flat binary */
	LIBVM_FORMAT_ELF32 = 1,
	LIBVM_FORMAT_ELF64 = 2,
	LIBVM_FORMAT_MULTIBOOT = 3, /* multiboot v1 header in the first 8 KiB */
	LIBVM_FORMAT_BZIMAGE = 4,   /* Linux boot protocol ("HdrS"): libvm_load_bzimage() */
	LIBVM_FORMAT_PVH = 5,       /* ELF32/ELF64 with a PVH entry note (a Linux vmlinux) */
	LIBVM_FORMAT_FLAT = 6,      /* a flat binary: never detected (UNKNOWN is), for forcing */
};

/** CPU modes a boot state can start in. */
enum libvm_boot_mode {
	LIBVM_BOOT_REAL16 = 1,  /* real mode; CS = code_selector, IP = entry */
	LIBVM_BOOT_PROT32 = 2,  /* flat 32-bit protected mode, paging off */
	LIBVM_BOOT_LONG64 = 3,  /* 64-bit mode, CR3 = cr3 (identity map) */
};

/**
 * struct libvm_boot - the entry state a loader computed.
 * @mode:          enum libvm_boot_mode.
 * @format:        enum libvm_image_format of the image that produced it
 *                 (LIBVM_FORMAT_UNKNOWN for a flat binary).
 * @entry:         RIP. Real mode: the offset inside CS.
 * @code_selector: CS. Real mode: the segment (base = selector << 4).
 *                 Protected/long mode: a GDT selector whose descriptor the
 *                 loader wrote at @gdt_base, matching the hidden state
 *                 libvm_boot_apply() loads.
 * @data_selector: DS, ES, FS, GS and SS, same rules.
 * @gdt_base, @gdt_limit: GDTR (0/0 in real mode).
 * @cr3:           page-table root for LIBVM_BOOT_LONG64, else 0.
 * @rax .. @rsp:   initial general registers (e.g. EAX = 0x2BADB002 and EBX
 *                 = the info struct for multiboot). Others start at 0.
 * @kernel_start, @kernel_end: guest-physical span the kernel occupies
 *                 (file contents and zeroed bss).
 * @info_gpa:      the boot information struct (multiboot info, PVH
 *                 start_info), or 0.
 * @modules_end:   end of the last module placed, or 0 without modules.
 *
 * A plain struct: a launcher may adjust it (say, another RSP) before
 * calling libvm_boot_apply(), and a later loader fills the same fields.
 */
typedef struct libvm_boot {
	uint32_t mode;
	uint32_t format;
	uint64_t entry;
	uint16_t code_selector;
	uint16_t data_selector;
	uint16_t gdt_limit;
	uint16_t reserved0;
	uint64_t gdt_base;
	uint64_t cr3;
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
	uint64_t kernel_start;
	uint64_t kernel_end;
	uint64_t info_gpa;
	uint64_t modules_end;
	uint64_t reserved[8];
} libvm_boot;

/**
 * struct libvm_load_module - one boot module.
 * @data:   the module's bytes (copied into the guest).
 * @size:   byte count; 0 is allowed (an empty module).
 * @string: the module's string (multiboot "mod string"), or NULL for "".
 */
typedef struct libvm_load_module {
	const void *data;
	uint64_t size;
	const char *string;
} libvm_load_module;

/* libvm_load_options.flags */
#define LIBVM_LOAD_NO_PVH (1u << 0) /* ELF: ignore a PVH note, use e_entry */

/**
 * struct libvm_load_options - what a loader passes to the kernel.
 * @size:        sizeof(libvm_load_options); set by LIBVM_LOAD_OPTIONS_INIT.
 * @kernel_name: multiboot: the first word of the command line (argv[0] of
 *               test kernels); NULL means "kernel". Not used for ELF.
 * @cmdline:     the arguments (multiboot: after the name; PVH: the whole
 *               command line), or NULL for none.
 * @modules:     @nr_modules modules, placed after the kernel in this order.
 * @nr_modules:  0 .. 64.
 * @flags:       LIBVM_LOAD_* flags.
 * @rsdp_gpa:    PVH: the RSDP address for start_info (libvm_acpi_build()'s
 *               result), or 0.
 *
 * Fields are only ever appended; the library reads no further than @size.
 */
typedef struct libvm_load_options {
	size_t size;
	const char *kernel_name;
	const char *cmdline;
	const libvm_load_module *modules;
	uint32_t nr_modules;
	uint32_t flags;
	uint64_t rsdp_gpa;
} libvm_load_options;

#define LIBVM_LOAD_OPTIONS_INIT LIBVM__OPTIONS_INIT(libvm_load_options, libvm_load_options_init)

/** libvm_load_options_init() - the defaults; see libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_load_options_init(libvm_load_options *opts, size_t size);

/**
 * libvm_load_detect() - guess the format of @image (@size bytes).
 *
 * A multiboot header wins over the ELF header that usually carries it; an
 * ELF with a PVH note is LIBVM_FORMAT_PVH (load it with libvm_load_elf()).
 * Thread: any. Returns: an enum libvm_image_format (LIBVM_FORMAT_UNKNOWN
 * when nothing matched), or -EINVAL for a NULL image.
 */
LIBVM_EXPORT int libvm_load_detect(const void *image, size_t size);

/**
 * libvm_load_flat() - copy a flat binary to @gpa.
 * @boot:  receives the entry state: real mode at CS:IP = (gpa >> 4):(gpa &
 *         0xf) when the image ends at or below 1 MiB, else flat 32-bit
 *         protected mode at @gpa (with the GDT at LIBVM_BOOT_GDT_GPA).
 * @vm:    the VM.
 * @image: the bytes; @size: their count (non-zero).
 * @gpa:   where the first byte goes.
 *
 * Returns: 0; -EINVAL; -EFAULT when [gpa, gpa + size) is not all RAM.
 */
LIBVM_EXPORT int libvm_load_flat(libvm_boot *boot, libvm_vm *vm, const void *image,
				 size_t size, uint64_t gpa);

/**
 * libvm_load_elf() - load an ELF32 (i386) or ELF64 (x86-64) executable.
 * @boot:  receives the entry state.
 * @vm:    the VM.
 * @image: the file; @size: its length.
 * @opts:  options (cmdline, modules, rsdp_gpa for PVH), or NULL.
 *
 * PT_LOAD segments go to their physical addresses (p_paddr), bss zeroed.
 * With a PVH note (Xen ELF note XEN_ELFNOTE_PHYS32_ENTRY) and without
 * LIBVM_LOAD_NO_PVH, the kernel is entered at that address in flat 32-bit
 * mode with EBX = a PVH start_info (version 1: command line, modules, memory
 * map, RSDP). Otherwise an ELF32 is entered at e_entry in flat 32-bit mode
 * and an ELF64 at e_entry in 64-bit mode with the low 4 GiB identity-mapped
 * (page tables at LIBVM_BOOT_PAGETABLE_GPA, CS = 0x18, DS = 0x10); e_entry
 * is translated from p_vaddr to p_paddr through the segment containing it
 * and must be below 4 GiB. Only the PVH entry has a way to hand over a
 * command line and modules: without it (no note, or LIBVM_LOAD_NO_PVH) a
 * @cmdline or modules in @opts are refused with -EINVAL rather than
 * dropped. @boot->format is LIBVM_FORMAT_PVH, _ELF64 or _ELF32 by the entry
 * taken. Returns: see the top of this file.
 */
LIBVM_EXPORT int libvm_load_elf(libvm_boot *boot, libvm_vm *vm, const void *image,
				size_t size, const libvm_load_options *opts);

/**
 * libvm_load_multiboot() - load a multiboot v1 kernel (Multiboot 0.6.96).
 * @boot:  receives the entry state: flat 32-bit protected mode, paging
 *         off, CS = 0x08, DS..SS = 0x10, EAX = 0x2BADB002, EBX = the info
 *         struct at LIBVM_BOOT_INFO_GPA.
 * @vm:    the VM.
 * @image: the file; @size: its length.
 * @opts:  kernel name, arguments and modules, or NULL.
 *
 * The header is searched in the first 8 KiB; with flag 16 its a.out-kludge
 * addresses say where the file goes, else the image must be ELF. The info
 * struct carries mem_lower/mem_upper, a memory map, the command line
 * "kernel_name cmdline", the boot loader name "libvm" and the modules.
 * Returns: see the top of this file; -ENOTSUP for header flags 3-15.
 */
LIBVM_EXPORT int libvm_load_multiboot(libvm_boot *boot, libvm_vm *vm, const void *image,
				      size_t size, const libvm_load_options *opts);

/**
 * libvm_load_bzimage() - load a Linux bzImage (x86 boot protocol 2.12+).
 * @boot:  receives the entry state: 64-bit mode at the kernel's startup_64
 *         (load address + 0x200), the low 4 GiB identity-mapped (page
 *         tables at LIBVM_BOOT_PAGETABLE_GPA), CS = 0x10 and DS..SS = 0x18
 *         as the boot protocol names them, RSI = the boot_params.
 * @vm:    the VM.
 * @image: the bzImage file; @size: its length.
 * @opts:  @cmdline (the whole kernel command line, at most the header's
 *         cmdline_size and 4095 bytes), at most one module (the initrd),
 *         @rsdp_gpa (given to protocol 2.14+ kernels as acpi_rsdp_addr);
 *         @kernel_name and @flags are not used. NULL for none.
 *
 * The setup header is checked field by field (boot_flag 0xaa55, "HdrS",
 * version >= 2.12, setup_sects within the file, syssize within the file,
 * LOADED_HIGH, XLF_KERNEL_64, init_size, kernel_alignment, pref_address).
 * The protected-mode kernel goes to pref_address (16 MiB when a
 * relocatable kernel prefers an address outside 1 MiB .. 4 GiB), and
 * [load, load + init_size) must be RAM clear of the boot areas. The
 * boot_params "zero page" is at LIBVM_BOOT_INFO_GPA, the command line
 * right after it (LIBVM_BOOT_INFO_GPA + 0x1000); the e820 map comes from
 * the VM's memory map (RAM below 0x9fc00 and from 1 MiB usable, the legacy
 * hole and ROM reserved). The initrd goes page aligned as high as possible
 * below initrd_addr_max and 4 GiB, above the kernel's init_size area.
 * The real-mode setup code is not run: the kernel must have a 64-bit entry.
 * Returns: see the top of this file; -ENOTSUP for protocols before 2.12, a
 * zImage, or a kernel without 64-bit entry; -E2BIG for a command line
 * longer than the kernel takes or an initrd that does not fit.
 */
LIBVM_EXPORT int libvm_load_bzimage(libvm_boot *boot, libvm_vm *vm, const void *image,
				    size_t size, const libvm_load_options *opts);

/**
 * libvm_boot_apply() - put @vcpu into the entry state @boot describes.
 *
 * Sets the general registers (RFLAGS = 0x2: interrupts off) and the
 * segment and control registers. Protected and long mode: CS is a flat
 * execute/read code segment (type 0xb; 32-bit, or 64-bit with L=1), the
 * data segments flat read/write (type 0x3), limit 4 GiB; CR0.PE on and, in
 * long mode, CR0.PG, CR4.PAE, EFER.LME/LMA and CR3. Real mode: base =
 * selector << 4, limit 0xffff. TR is a busy 32-bit TSS as the CPU needs.
 * The vCPU must not be running. Returns: 0; -EINVAL for NULL arguments or
 * an unknown mode; or the backend's error.
 */
LIBVM_EXPORT int libvm_boot_apply(libvm_vcpu *vcpu, const libvm_boot *boot);

/* ------------------------------------------------------------------ */
/* Firmware tables                                                     */
/* ------------------------------------------------------------------ */

/* libvm_acpi_options.flags */
#define LIBVM_ACPI_PM_TIMER_32BIT (1u << 0) /* the PM timer counts 32 bits, not 24 */

/**
 * struct libvm_acpi_options - what the ACPI tables describe.
 * @size:          sizeof(libvm_acpi_options); set by LIBVM_ACPI_OPTIONS_INIT.
 * @nr_cpus:       CPUs; one enabled LAPIC per CPU with APIC id = ACPI
 *                 processor UID = vCPU id 0 .. nr_cpus - 1. 1 .. 1024; 0
 *                 means 1.
 * @flags:         LIBVM_ACPI_* flags.
 * @gpa:           where the tables go (64-byte aligned, for the FACS); 0 means
 *                 LIBVM_ACPI_DEFAULT_GPA, where a guest's RSDP scan of
 *                 0xe0000-0xfffff finds it.
 * @pm1a_evt_port: PM1a event block (4 ports); 0 means 0x600.
 * @pm1a_cnt_port: PM1a control block (2 ports); 0 means 0x604.
 * @pm_timer_port: PM timer (4 ports); 0 means 0x608.
 * @sci_irq:       ISA IRQ of the SCI (level, active high); 0 means 9.
 * @ioapic_id:     the IOAPIC's id (0, as the in-kernel IOAPIC resets to).
 *                 NB: libvm_mptable_build() defaults to nr_cpus instead,
 *                 as QEMU does: see docs/loaders.md, "The IOAPIC's id".
 * @ioapic_addr:   the IOAPIC's base; 0 means 0xfec00000. Its GSI base is 0.
 * @dsdt_aml:      AML byte code (a TermList, e.g. Scope(\_SB) { Device(PCI0)
 *                 ... } as iasl compiles it) that becomes the body of the
 *                 DSDT, or NULL for an empty DSDT. Copied; not checked.
 * @dsdt_aml_size: its length; all tables together stay within
 *                 LIBVM_ACPI_MAX_SIZE.
 *
 * Fields are only ever appended; the library reads no further than @size.
 */
typedef struct libvm_acpi_options {
	size_t size;
	uint32_t nr_cpus;
	uint32_t flags;
	uint64_t gpa;
	uint16_t pm1a_evt_port;
	uint16_t pm1a_cnt_port;
	uint16_t pm_timer_port;
	uint8_t sci_irq;
	uint8_t ioapic_id;
	uint32_t ioapic_addr;
	uint32_t reserved0;
	const void *dsdt_aml;
	uint64_t dsdt_aml_size;
} libvm_acpi_options;

#define LIBVM_ACPI_OPTIONS_INIT LIBVM__OPTIONS_INIT(libvm_acpi_options, libvm_acpi_options_init)

/** libvm_acpi_options_init() - the defaults; see libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_acpi_options_init(libvm_acpi_options *opts, size_t size);

/**
 * libvm_acpi_build() - write ACPI 6.0 tables into guest memory.
 * @rsdp_gpa: receives the RSDP's address (may be NULL).
 * @vm:       the VM.
 * @opts:     what to describe, or NULL for one CPU and the defaults.
 *
 * Tables: RSDP (revision 2) -> RSDT and XSDT -> FADT (revision 6: PM1a
 * blocks, PM timer, SCI, FACS, DSDT; SMI_CMD 0 so the system is always in
 * ACPI mode), MADT (all LAPICs, x2APIC entries for ids >= 255, the IOAPIC,
 * overrides IRQ0 -> GSI2 and SCI level/active-high, LINT1 NMI), a DSDT
 * (empty unless @opts gives AML) and a FACS. All checksums valid. They occupy at most
 * LIBVM_ACPI_MAX_SIZE bytes and must lie in guest memory (RAM or ROM).
 * Returns: 0; -EINVAL for bad options; -EFAULT when the tables would leave
 * guest memory.
 */
LIBVM_EXPORT int libvm_acpi_build(uint64_t *rsdp_gpa, libvm_vm *vm,
				  const libvm_acpi_options *opts);

/**
 * libvm_acpi_waking_vector() - the entry state of a guest waking from ACPI
 * S3: the waking vector the guest's OS put in the FACS, found through the
 * tables from @rsdp_gpa (libvm_acpi_build()'s result), as real mode at
 * CS:IP = (vector >> 4):(vector & 0xf). Apply it to the boot vCPU after
 * libvm_vcpu_reset(). Thread: any, while the guest does not run.
 * Returns: 0; -EINVAL for NULL arguments, a missing signature or a vector
 * outside the first MiB; -ENOENT without FADT or FACS; -EFAULT when a
 * table lies outside guest memory; -ENOTSUP when the guest asked for a
 * protected-mode wake (X_Firmware_Waking_Vector).
 */
LIBVM_EXPORT int libvm_acpi_waking_vector(libvm_boot *boot, libvm_vm *vm, uint64_t rsdp_gpa);

/* libvm_acpi_isa_aml() flags */
#define LIBVM_ACPI_AML_I8042 (1u << 0) /* \_SB.KBD_ (PNP0303) and \_SB.MOU_ (PNP0F13) */
#define LIBVM_ACPI_AML_RTC (1u << 1)   /* \_SB.RTC_ (PNP0B00, ports 0x70-0x71, IRQ 8) */
#define LIBVM_ACPI_AML_S3 (1u << 2)    /* \_S3 = { 1, 1 }: suspend to RAM offered */

/**
 * libvm_acpi_isa_aml() - AML describing the PC's ISA devices, for the DSDT.
 * @buf:   where to write it, or NULL (with *@len 0) to ask for the size.
 * @len:   in: room in @buf; out: bytes written (or needed).
 * @flags: LIBVM_ACPI_AML_* flags: which devices and objects.
 *
 * A TermList (a Scope (\_SB) with the devices, and \_S3 at the root) to
 * append to other AML, e.g. libvm_pci_acpi_aml()'s, in
 * libvm_acpi_options.dsdt_aml. Thread: any.
 * Returns: 0; -EINVAL for NULL @len or unknown flags; -E2BIG when @buf is
 * too small (*@len holds the size needed).
 */
LIBVM_EXPORT int libvm_acpi_isa_aml(void *buf, size_t *len, uint32_t flags);

/**
 * struct libvm_mptable_options - what the MP table describes.
 * @size:        sizeof(libvm_mptable_options); set by the INIT macro.
 * @nr_cpus:     CPUs, APIC ids 0 .. nr_cpus - 1 (1 .. 254; 0 means 1); CPU 0
 *               is the BSP.
 * @gpa:         where the floating pointer goes (16-byte aligned), the
 *               configuration table right after it; 0 means
 *               LIBVM_MPTABLE_DEFAULT_GPA.
 * @ioapic_id:   the IOAPIC's id; 0 means nr_cpus (MP 1.4 wants APIC ids
 *               unique). NB: the ACPI MADT's default is 0; see
 *               docs/loaders.md, "The IOAPIC's id".
 * @ioapic_addr: 0 means 0xfec00000.
 */
typedef struct libvm_mptable_options {
	size_t size;
	uint32_t nr_cpus;
	uint32_t ioapic_id;
	uint64_t gpa;
	uint32_t ioapic_addr;
	uint32_t reserved0;
} libvm_mptable_options;

#define LIBVM_MPTABLE_OPTIONS_INIT \
	LIBVM__OPTIONS_INIT(libvm_mptable_options, libvm_mptable_options_init)

/** libvm_mptable_options_init() - the defaults; see libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_mptable_options_init(libvm_mptable_options *opts, size_t size);

/**
 * libvm_mptable_build() - write an Intel MP 1.4 table: floating pointer,
 * configuration table with one processor entry per CPU, an ISA bus, the
 * IOAPIC, ISA IRQ 0-15 assignments (IRQ0 on pin 2, ExtINT on pin 0) and
 * LINT0 ExtINT / LINT1 NMI.
 * @table_gpa: receives the floating pointer's address (may be NULL).
 * @vm:        the VM whose RAM receives it.
 * @opts:      options, or NULL for the defaults (1 CPU).
 * Returns: 0; -EINVAL for bad options; -EFAULT outside guest memory.
 */
LIBVM_EXPORT int libvm_mptable_build(uint64_t *table_gpa, libvm_vm *vm,
				     const libvm_mptable_options *opts);

#ifdef __cplusplus
}
#endif

#endif /* LIBVM_LOAD_H */
