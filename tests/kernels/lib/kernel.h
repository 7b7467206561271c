/*
 * The test-kernel library: what a test kernel (tests/kernels/<name>.c)
 * gets. A kernel defines main(); the library enters it on the boot CPU in
 * 64-bit long mode with the low 4 GiB identity-mapped, an IDT in place, the
 * legacy PIC masked and the multiboot command line split into argv. main's
 * return value goes to exit(). See docs/test-kernels.md.
 *
 * Console output, printf and the string functions are the tiny-guest
 * library's (tests/guest/lib), compiled into every kernel: guest.h declares
 * them, together with report() and exit(), which this library implements
 * for kernels (SMP-safe, with the kvm-unit-tests style SUMMARY line).
 */
#ifndef KERNEL_KERNEL_H
#define KERNEL_KERNEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest.h"
#include "layout.h"
#include "multiboot.h"

/* ------------------------------------------------------------------ */
/* The platform (DESIGN.md section 3; QEMU's pc machine uses the same)  */
/* ------------------------------------------------------------------ */

#define COM1_PORT		0x3f8
#define COM1_IRQ		4
#define EXITDEV_PORT		0xf4	/* isa-debug-exit: status (v << 1) | 1 */
#define FWCFG_PORT_SEL		0x510	/* 16-bit selector */
#define FWCFG_PORT_DATA		0x511	/* byte-wide data */
#define TESTDEV_SCRATCH		0xe0	/* pc-testdev: 4-byte scratch register */
#define TESTDEV_FLUSH		0xe4	/* pc-testdev: write sink (QEMU: page flush) */
#define TESTDEV_IRQ_PORT(n)	(0x2000 + (n))	/* outb v: ISA IRQ n level = (v != 0) */
#define TESTDEV_IORAM		0xff000000ull
#define TESTDEV_IORAM_SIZE	0x10000
#define LAPIC_DEFAULT_BASE	0xfee00000ull
#define IOAPIC_DEFAULT_BASE	0xfec00000ull
#define PMTIMER_HZ		3579545u

/* fw_cfg selectors (QEMU docs/specs/fw_cfg.rst); values little-endian. */
#define FW_CFG_SIGNATURE	0x0000
#define FW_CFG_ID		0x0001
#define FW_CFG_RAM_SIZE		0x0003
#define FW_CFG_NB_CPUS		0x0005
#define FW_CFG_MAX_CPUS		0x000f
#define FW_CFG_CMDLINE_SIZE	0x0014
#define FW_CFG_CMDLINE_DATA	0x0015
#define FW_CFG_FILE_DIR		0x0019

/* ------------------------------------------------------------------ */
/* Entry                                                               */
/* ------------------------------------------------------------------ */

/* Provided by each kernel; argv[0] is the kernel's name (the first word). */
int main(int argc, char **argv);

#define MAX_ARGS 32
extern int kargc;
extern char *kargv[MAX_ARGS + 1];

/* What entry32 saw: EAX, EBX, CS, DS, CR0 and EFLAGS at the multiboot entry. */
extern uint32_t mb_magic, mb_info_addr, boot_cs, boot_ds, boot_cr0, boot_eflags;
/* The image's bounds (linker script). */
extern char __image_start[], __image_end[];

/* The multiboot info, or NULL when EAX did not carry the loader magic. */
const struct mb_info *mb_info(void);
/* The whole command line as the loader gave it ("" when none). */
const char *mb_cmdline(void);
/*
 * The settings module: KEY=VALUE lines in the first boot module (the
 * kvm-unit-tests convention for NR_CPUS, MEMSIZE, ...). Returns the value
 * as a string the caller must not keep past the next call, or NULL.
 */
const char *setting(const char *key);
bool setting_u64(const char *key, uint64_t *out);

/* ------------------------------------------------------------------ */
/* Checks                                                              */
/* ------------------------------------------------------------------ */

/*
 * report() (declared in guest.h) prints "PASS: ..." or "FAIL: ..." and
 * counts; report_skip() prints "SKIP: ..." for a check that cannot apply
 * here. exit() prints "SUMMARY: N tests, M failures" and writes the code
 * to the exit device; with failures, or no tests at all, the code is 1
 * whatever main returned. All of them may run on any CPU.
 */
void report_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void report_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
unsigned int report_failures(void);
/* Print the SUMMARY line without ending; returns 0, or 1 after failures. */
int report_summary(void);

/* A spinlock for the console and shared counters. */
typedef struct { volatile uint32_t v; } spinlock_t;
void spin_lock(spinlock_t *l);
void spin_unlock(spinlock_t *l);
extern spinlock_t console_lock;

/* Parse a decimal or 0x-prefixed number; false when @s is not one. */
bool parse_u64(const char *s, uint64_t *out);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
bool str_ends_with(const char *s, const char *suffix);

/* ------------------------------------------------------------------ */
/* CPU                                                                 */
/* ------------------------------------------------------------------ */

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	asm volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
		     : "a"(leaf), "c"(sub));
}

static inline void wrmsr(uint32_t index, uint64_t v)
{
	asm volatile("wrmsr" : : "c"(index), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
		     : "memory");
}

static inline void irq_enable(void)
{
	asm volatile("sti" : : : "memory");
}

static inline void irq_disable(void)
{
	asm volatile("cli" : : : "memory");
}

/* STI's one-instruction shadow makes "sti; hlt" wait without a lost wakeup. */
static inline void safe_halt(void)
{
	asm volatile("sti; hlt" : : : "memory");
}

static inline uint64_t read_rflags(void)
{
	uint64_t v;

	asm volatile("pushf; pop %0" : "=r"(v));
	return v;
}

/* The frame isr_common builds (entry.S): pushed registers, then the CPU's. */
struct irq_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*irq_handler_t)(struct irq_frame *f);

/* Install @h for @vector (NULL: back to the default, which reports a
 * failure). Handlers of device interrupts send their own EOI. */
void set_handler(uint8_t vector, irq_handler_t h);
void idt_load(void);

/* ------------------------------------------------------------------ */
/* ACPI (RSDP scan, RSDT/XSDT, MADT, FADT) and the PM timer            */
/* ------------------------------------------------------------------ */

struct acpi_platform {
	bool found;		/* an RSDP with a valid checksum */
	uint64_t rsdp;
	uint8_t revision;
	bool madt_found, fadt_found;
	uint32_t lapic_addr;
	uint32_t nr_cpus;	/* enabled (or online-capable) processors */
	uint32_t apic_ids[MAX_CPUS];
	bool too_many_cpus;	/* more than MAX_CPUS listed */
	uint32_t ioapic_addr;
	uint8_t ioapic_id;
	uint32_t ioapic_gsi_base;
	uint32_t nr_ioapics;
	uint32_t isa_gsi[16];	/* ISA IRQ -> GSI, after the overrides */
	uint16_t isa_flags[16];	/* MPS INTI flags of the override, 0 = bus default */
	uint32_t pm_tmr_port;	/* 0 when the FADT has none */
	bool pm_tmr_32bit;	/* FADT flag TMR_VAL_EXT */
	uint8_t pm_tmr_len;
	uint8_t fadt_revision;
};

extern struct acpi_platform acpi;

/* Find and parse the tables once; later calls return the same answer. */
bool acpi_init(void);
/* Find the table with @sig through the XSDT (or RSDT); NULL when absent. */
const void *acpi_find_table(const char *sig);
bool acpi_checksum_ok(const void *p, uint32_t len);

/* PM timer ticks (3.579545 MHz), widened to 64 bits across wraps as long
 * as it is read at least once per wrap (4.7 s at 24 bits). The timer
 * helpers keep state: call them from one CPU (the boot CPU). */
uint64_t pmtimer_now(void);
uint32_t pmtimer_read(void);
/* Microseconds since @start (a pmtimer_now() value). */
uint64_t pmtimer_us_since(uint64_t start);
/* Wait @us microseconds by the PM timer (needs acpi_init()). */
void delay_us(uint64_t us);
/*
 * With interrupts enabled, wait until *@count reaches @n (a handler counts)
 * or @timeout_ms pass by the PM timer; interrupts are off again on return.
 * Returns whether the count was reached.
 */
bool irq_wait(volatile uint32_t *count, uint32_t n, unsigned int timeout_ms);

/* A 16-bit read of low memory (BIOS data area) that gcc does not flag. */
uint16_t low_read16(uintptr_t a);

/* ------------------------------------------------------------------ */
/* The MP table (Intel MultiProcessor Specification 1.4)              */
/* ------------------------------------------------------------------ */

struct mp_platform {
	bool found;		/* a floating pointer with a valid checksum */
	uint64_t floating;
	uint32_t config;	/* configuration table address, 0 = none */
	bool config_ok;		/* "PCMP" with a valid checksum */
	uint32_t lapic_addr;
	uint32_t nr_cpus;	/* enabled processor entries */
	uint32_t apic_ids[MAX_CPUS];
	uint32_t bsp_count;	/* entries with the BP flag */
	uint32_t bsp_id;
	uint32_t nr_ioapics;
	uint8_t ioapic_id;
	uint32_t ioapic_addr;
	int irq0_pin;		/* IOAPIC pin of ISA IRQ 0, -1 when not listed */
};

extern struct mp_platform mp;
bool mptable_init(void);

/* ------------------------------------------------------------------ */
/* fw_cfg                                                              */
/* ------------------------------------------------------------------ */

void fwcfg_select(uint16_t key);
void fwcfg_read(void *buf, uint32_t len);
/* Little-endian integer items (CPU count, RAM size). */
uint64_t fwcfg_read_le(uint16_t key, uint32_t len);
bool fwcfg_present(void);	/* the "QEMU" signature */

/* ------------------------------------------------------------------ */
/* LAPIC, IOAPIC, PIC                                                  */
/* ------------------------------------------------------------------ */

#define APIC_ID		0x20
#define APIC_VERSION	0x30
#define APIC_TPR	0x80
#define APIC_PPR	0xa0
#define APIC_EOI	0xb0
#define APIC_SVR	0xf0
#define APIC_ISR	0x100
#define APIC_TMR	0x180
#define APIC_IRR	0x200
#define APIC_ESR	0x280
#define APIC_ICR_LO	0x300
#define APIC_ICR_HI	0x310
#define APIC_LVT_TIMER	0x320
#define APIC_LVT_LINT0	0x350
#define APIC_LVT_LINT1	0x360
#define APIC_LVT_ERROR	0x370
#define APIC_TIMER_ICR	0x380
#define APIC_TIMER_CCR	0x390
#define APIC_TIMER_DCR	0x3e0

#define APIC_LVT_MASKED		(1u << 16)
#define APIC_TIMER_ONESHOT	(0u << 17)
#define APIC_TIMER_PERIODIC	(1u << 17)
#define APIC_TIMER_TSC_DEADLINE	(2u << 17)
#define APIC_SPURIOUS_VECTOR	0xff

#define MSR_IA32_APIC_BASE	0x1b
#define MSR_IA32_TSC_DEADLINE	0x6e0

/* Enable this CPU's LAPIC (xAPIC mode) with TPR 0 and LINT0/1 masked. */
void lapic_init(void);
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t v);
uint32_t lapic_id(void);
void lapic_eoi(void);
/* Send an IPI: @icr_lo to the CPU with APIC id @dest; waits until sent. */
void lapic_ipi(uint32_t dest, uint32_t icr_lo);

#define IOAPIC_ID	0x00
#define IOAPIC_VERSION	0x01
#define IOAPIC_REDIR(n)	(0x10 + 2 * (n))

#define IOAPIC_MASKED		(1ull << 16)
#define IOAPIC_LEVEL		(1ull << 15)
#define IOAPIC_REMOTE_IRR	(1ull << 14)
#define IOAPIC_ACTIVE_LOW	(1ull << 13)
#define IOAPIC_PENDING		(1ull << 12)

uint32_t ioapic_read(uint32_t reg);
void ioapic_write(uint32_t reg, uint32_t v);
uint64_t ioapic_redir(unsigned int pin);
void ioapic_set_redir(unsigned int pin, uint64_t v);
/* Route @gsi to @vector on the CPU with APIC id @dest, fixed delivery,
 * physical destination; @flags: IOAPIC_LEVEL, IOAPIC_ACTIVE_LOW, MASKED. */
void ioapic_route(unsigned int gsi, uint8_t vector, uint32_t dest, uint64_t flags);
void ioapic_mask(unsigned int gsi, bool masked);
/* The GSI of ISA IRQ @irq (MADT overrides applied; identity without ACPI). */
unsigned int isa_irq_to_gsi(unsigned int irq);

/* Mask both 8259s so that nothing arrives through them. */
void pic_mask_all(void);

/* ------------------------------------------------------------------ */
/* SMP                                                                 */
/* ------------------------------------------------------------------ */

/*
 * Start every processor the MADT lists (other than the caller) with
 * INIT-SIPI-SIPI through the trampoline, waiting up to @timeout_ms for each
 * to check in. An AP enables its LAPIC, runs ap_main (when set) and then
 * halts. Returns the number of CPUs online, the caller included.
 */
unsigned int smp_boot(unsigned int timeout_ms);
extern void (*volatile ap_main)(unsigned int cpu);
/* Per CPU index (the MADT order): online flag and the APIC id it read. */
extern volatile bool cpu_online[MAX_CPUS];
extern volatile uint32_t cpu_apic_id[MAX_CPUS];
extern volatile uint32_t cpus_online;

#endif /* KERNEL_KERNEL_H */
