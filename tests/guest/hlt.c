/*
 * HLT exit: the guest halts with a known RAX; the host sees a HLT exit,
 * changes RAX and a mailbox word while the vCPU is halted, and resumes it.
 * The guest then checks it came back after the HLT with the host's values.
 */
#include "guest.h"
#include "testdata.h"

int guest_main(unsigned int cpu, uint32_t param)
{
	volatile uint32_t *mailbox = (volatile uint32_t *)GUEST_MAILBOX;
	uint64_t rax = HLT_RAX_AT_HLT;

	/* Interrupts are off, so only the host can make this HLT return. */
	asm volatile("hlt" : "+a"(rax) : : "memory");
	report(rax == HLT_RAX_FROM_HOST, "resumed after HLT with the host's RAX (0x%lx)", rax);
	report(*mailbox == HLT_MAILBOX_VAL, "mailbox written while halted (0x%x)", *mailbox);
	return 0;
}
