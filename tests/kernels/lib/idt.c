/*
 * The IDT: 256 interrupt gates to the stubs of entry.S and a C dispatch
 * table. A vector without a handler is a failed check: an exception means
 * the kernel is broken (the frame is printed and it exits), a stray device
 * vector is counted and acknowledged so that the run goes on.
 */
#include "kernel.h"

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

extern char isr_stubs[];
static struct idt_gate idt[256] __attribute__((aligned(16)));
static irq_handler_t handlers[256];
static bool idt_built;

static const char *const exception_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP",
	"#SS", "#GP", "#PF", "15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

static void build(void)
{
	for (unsigned int v = 0; v < 256; v++) {
		uint64_t a = (uint64_t)(uintptr_t)isr_stubs + 16 * v;

		idt[v] = (struct idt_gate){
			.offset_lo = (uint16_t)a,
			.selector = SEL_CODE64,
			/* present, DPL 0, 64-bit interrupt gate (IF cleared on entry) */
			.type_attr = 0x8e,
			.offset_mid = (uint16_t)(a >> 16),
			.offset_hi = (uint32_t)(a >> 32),
		};
	}
	idt_built = true;
}

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };

	/* The boot CPU builds it before any AP exists; APs only load it. */
	if (!idt_built)
		build();
	asm volatile("lidt %0" : : "m"(ptr));
}

void set_handler(uint8_t vector, irq_handler_t h)
{
	handlers[vector] = h;
}

void isr_dispatch(struct irq_frame *f);

void isr_dispatch(struct irq_frame *f)
{
	irq_handler_t h = handlers[f->vector & 0xff];

	if (h) {
		h(f);
		return;
	}
	if (f->vector == APIC_SPURIOUS_VECTOR)
		return; /* no EOI for a spurious interrupt (SDM 10.9) */
	if (f->vector < 32) {
		uint64_t cr2;

		asm volatile("mov %%cr2, %0" : "=r"(cr2));
		report(false, "unexpected exception %s (vector %lu, error code 0x%lx) at rip 0x%lx, "
		       "cr2 0x%lx, rsp 0x%lx", exception_names[f->vector] ? exception_names[f->vector] : "?",
		       f->vector, f->error_code, f->rip, cr2, f->rsp);
		exit(1);
	}
	report(false, "unexpected interrupt, vector %lu", f->vector);
	lapic_eoi();
}
