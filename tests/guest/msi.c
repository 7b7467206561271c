/*
 * MSIs through the in-kernel LAPIC. The guest enables its LAPIC, installs
 * handlers for the vectors of testdata.h and, for each phase, tells the
 * host which one it is (a port write) and halts until an interrupt comes:
 * an MSI route's eventfd written by another host thread, the same route
 * with a new vector, an IOAPIC pin (the irqchip's default routes survive
 * the MSI routes), and a PCI device's MSI-X vector that libvm sends through
 * its own route and irqfd -- then masked (the message pends, the PBA shows
 * it) and unmasked with new data (the pending message goes out with it).
 */
#include "guest.h"
#include "testdata.h"

#define LAPIC 0xfee00000ull
#define LAPIC_TPR 0x80
#define LAPIC_SVR 0xf0
#define LAPIC_LVT0 0x350
#define IOAPIC 0xfec00000ull
#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc

/* Written by the handlers below: how many interrupts came, the last vector. */
volatile uint32_t irq_count, irq_vector;

/*
 * One stub per vector: save RAX, note the vector, EOI the LAPIC (the
 * address does not fit a sign-extended disp32, hence the register).
 */
asm(".text\n"
    "isr_common:\n"
    "	movl %eax, irq_vector(%rip)\n"
    "	incl irq_count(%rip)\n"
    "	movl $0xfee000b0, %eax\n"
    "	movl $0, (%rax)\n"
    "	popq %rax\n"
    "	iretq\n"
    "isr_41: pushq %rax; movl $0x41, %eax; jmp isr_common\n"
    "isr_42: pushq %rax; movl $0x42, %eax; jmp isr_common\n"
    "isr_43: pushq %rax; movl $0x43, %eax; jmp isr_common\n"
    "isr_44: pushq %rax; movl $0x44, %eax; jmp isr_common\n"
    "isr_45: pushq %rax; movl $0x45, %eax; jmp isr_common\n");
void isr_41(void), isr_42(void), isr_43(void), isr_44(void), isr_45(void);

struct gate {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, reserved;
} __attribute__((packed));

static struct gate idt[256] __attribute__((aligned(16)));

static void set_gate(unsigned int vec, void (*fn)(void))
{
	uint64_t a = (uint64_t)fn;

	idt[vec] = (struct gate){
		.off0 = (uint16_t)a, .sel = GDT_CODE64, .type = 0x8e, /* present interrupt gate */
		.off1 = (uint16_t)(a >> 16), .off2 = (uint32_t)(a >> 32),
	};
}

static void load_idt(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint64_t)idt };

	set_gate(MSI_VEC_ROUTE, isr_41);
	set_gate(MSI_VEC_UPDATED, isr_42);
	set_gate(MSI_VEC_IOAPIC, isr_43);
	set_gate(MSI_VEC_PCI, isr_44);
	set_gate(MSI_VEC_PCI_NEW, isr_45);
	asm volatile("lidt %0" : : "m"(idtr));
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(IOAPIC, reg);
	mmio_write32(IOAPIC + 0x10, v);
}

/* Halt with interrupts on until one arrives after @before; IF is clear after. */
static void wait_irq(uint32_t before)
{
	/* STI's shadow covers the HLT: no interrupt slips in between. */
	while (irq_count == before)
		asm volatile("sti; hlt; cli" : : : "memory");
}

static void phase(uint32_t n, uint32_t vector, const char *what)
{
	uint32_t before = irq_count;

	outl(MSI_PHASE_PORT, n);
	wait_irq(before);
	report(irq_vector == vector && irq_count == before + 1, "%s (vector 0x%x, %u interrupt%s)",
	       what, irq_vector, irq_count - before, irq_count - before == 1 ? "" : "s");
}

static uint32_t cfg_read32(uint32_t reg)
{
	outl(PCI_ADDR, 0x80000000u | MSI_PCI_SLOT << 11 | (reg & 0xfc));
	return inl(PCI_DATA);
}

static void cfg_write16(uint32_t reg, uint16_t v)
{
	outl(PCI_ADDR, 0x80000000u | MSI_PCI_SLOT << 11 | (reg & 0xfc));
	outw(PCI_DATA + (reg & 2), v);
}

int guest_main(unsigned int cpu, uint32_t param)
{
	uint64_t bar;
	uint32_t cap, before;

	load_idt();
	/* LAPIC on, nothing blocked by priority; the PICs and LINT0 (where
	 * KVM wires the PIC at reset) out of the way. */
	mmio_write32(LAPIC + LAPIC_SVR, 0x1ff);
	mmio_write32(LAPIC + LAPIC_TPR, 0);
	mmio_write32(LAPIC + LAPIC_LVT0, 1u << 16);
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	/* IOAPIC pin: fixed, physical destination 0, edge, active high. */
	ioapic_write(0x10 + 2 * MSI_IOAPIC_PIN + 1, 0);
	ioapic_write(0x10 + 2 * MSI_IOAPIC_PIN, MSI_VEC_IOAPIC);

	phase(MSI_PHASE_ROUTE, MSI_VEC_ROUTE, "an MSI route's eventfd woke the halted vCPU");
	phase(MSI_PHASE_UPDATED, MSI_VEC_UPDATED, "the updated route raised its new vector");
	phase(MSI_PHASE_IOAPIC, MSI_VEC_IOAPIC, "an IOAPIC pin still works beside MSI routes");

	/* The PCI device: memory decoding on, MSI-X on, vector 0 programmed
	 * and unmasked (libvm routes it then). */
	bar = cfg_read32(0x10) & ~0xfull;
	if (!report(bar && bar != 0xfffffff0, "the device's BAR 0 is at 0x%lx", bar))
		return 1;
	cfg_write16(0x04, 0x0006);
	cap = cfg_read32(0x34) & 0xff;
	if (!report((cfg_read32(cap) & 0xff) == 0x11, "MSI-X capability at 0x%x", cap))
		return 1;
	cfg_write16(cap + 2, 0x8000);
	mmio_write32(bar + 0, MSI_ADDR);
	mmio_write32(bar + 4, 0);
	mmio_write32(bar + 8, MSI_VEC_PCI);
	mmio_write32(bar + 12, 0);
	phase(MSI_PHASE_PCI, MSI_VEC_PCI, "the device's MSI-X vector arrived");

	/* Masked: the host's notify (inside this port write) only pends. */
	mmio_write32(bar + 12, 1);
	before = irq_count;
	outl(MSI_PHASE_PORT, MSI_PHASE_PCI_MASKED);
	asm volatile("sti; nop; nop; nop; cli" : : : "memory");
	report(irq_count == before, "a masked vector does not interrupt");
	report(mmio_read32(bar + 0x800) & 1, "its pending bit is set");
	/* New data, then unmask: the pending message goes out with it. */
	mmio_write32(bar + 8, MSI_VEC_PCI_NEW);
	mmio_write32(bar + 12, 0);
	wait_irq(before);
	report(irq_vector == MSI_VEC_PCI_NEW && irq_count == before + 1,
	       "unmasking sent the pending message with the new data (vector 0x%x)", irq_vector);
	report(!(mmio_read32(bar + 0x800) & 1), "its pending bit is clear");
	return 0;
}
