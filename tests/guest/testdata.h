/*
 * Values a guest program and its host scenario (runner/scenario_*.c) must
 * agree on: what the guest writes, where, and what the host answers. One
 * header for both sides, so the two can never drift apart silently.
 */
#ifndef GUEST_TESTDATA_H
#define GUEST_TESTDATA_H

/* pio: one write and one read of each width at TESTDEV_PORT + offset. */
#define PIO_OUTB_OFF		0
#define PIO_OUTB_VAL		0xa5
#define PIO_OUTW_OFF		2
#define PIO_OUTW_VAL		0xbeef
#define PIO_OUTL_OFF		4
#define PIO_OUTL_VAL		0x12345678
#define PIO_INB_OFF		1
#define PIO_INW_OFF		6
#define PIO_INL_OFF		4
/* Then string I/O: rep outsb of these bytes, rep insw of PIO_INSW_COUNT words. */
#define PIO_OUTSB_OFF		0
#define PIO_OUTSB_0		0x11
#define PIO_OUTSB_1		0x22
#define PIO_OUTSB_2		0x33
#define PIO_OUTSB_BYTES		{ PIO_OUTSB_0, PIO_OUTSB_1, PIO_OUTSB_2 }
#define PIO_INSW_OFF		6
#define PIO_INSW_COUNT		2

/* mmio: one write and one read of each width at TESTDEV_MMIO_BASE + offset. */
#define MMIO_W8_OFF		0x010
#define MMIO_W8_VAL		0x5a
#define MMIO_W16_OFF		0x022
#define MMIO_W16_VAL		0xc0de
#define MMIO_W32_OFF		0x034
#define MMIO_W32_VAL		0xfeedf00d
#define MMIO_W64_OFF		0x048
#define MMIO_W64_VAL		0x0123456789abcdefull
#define MMIO_R8_OFF		0x101
#define MMIO_R16_OFF		0x202
#define MMIO_R32_OFF		0x304
#define MMIO_R64_OFF		0xff8	/* the last 8 bytes of the device */

/* hlt: RAX at the HLT, the RAX and mailbox word the host sets while halted. */
#define HLT_RAX_AT_HLT		0x48a17ed0ull
#define HLT_RAX_FROM_HOST	0x600dcafe12345678ull
#define HLT_MAILBOX_VAL		0x4b1d

/* stop: the guest's "I am spinning now" write and the host's release word. */
#define STOP_SPINNING		0x5b1
#define STOP_RELEASE		0x2e1ea5e

/* rom: what the host puts in the read-only region and what the guest writes. */
#define ROM_WORD0		0x524f4d30	/* "0MOR" */
#define ROM_WORD1		0x0badf00d
#define ROM_WORD2		0x13579bdf
#define ROM_WRITE_OFF		8
#define ROM_WRITE_VAL		0xdeadbeef

/* smp: the byte each vCPU writes to TESTDEV_PORT + its index. */
#define SMP_CPU_TAG(cpu)	(0xc0 + (cpu))

/* multivm: the host's EDI parameter of VM i; the guest echoes it. */
#define MULTIVM_COUNT		4
#define MULTIVM_PARAM(i)	(0x7e570000u + 0x1111u * (i))
#define MULTIVM_ECHO_OFF	8	/* mailbox offset the guest copies the parameter to */

/*
 * msi: the guest writes each phase number (32-bit) to MSI_PHASE_PORT and
 * waits for the vector the host raises for it: an MSI route's eventfd
 * (phase 1), the same after the host changed the route (2), an IOAPIC pin
 * through libvm_irq_set() (3), and a PCI device's MSI-X vector the guest
 * programmed, sent by libvm through irqfd (4), then masked, pending and
 * unmasked with a new message (5).
 */
#define MSI_PHASE_PORT		TESTDEV_PORT
#define MSI_ADDR		0xfee00000u	/* physical destination APIC 0 */
#define MSI_VEC_ROUTE		0x41
#define MSI_VEC_UPDATED		0x42
#define MSI_VEC_IOAPIC		0x43
#define MSI_VEC_PCI		0x44
#define MSI_VEC_PCI_NEW		0x45
#define MSI_IOAPIC_PIN		5
#define MSI_PCI_SLOT		2
#define MSI_PHASE_ROUTE		1
#define MSI_PHASE_UPDATED	2
#define MSI_PHASE_IOAPIC	3
#define MSI_PHASE_PCI		4
#define MSI_PHASE_PCI_MASKED	5

#endif /* GUEST_TESTDATA_H */
