/*
 * Long-mode entry: the library's 16 -> 32 -> 64-bit switch left the CPU in
 * 64-bit mode with paging, PAE and EFER.LMA, running on the 64-bit code
 * selector. The host cross-checks the same facts from the vCPU's registers.
 */
#include "guest.h"

#define MSR_EFER	0xc0000080
#define EFER_LME	(1ull << 8)
#define EFER_LMA	(1ull << 10)
#define CR0_PE		(1ull << 0)
#define CR0_PG		(1ull << 31)
#define CR4_PAE		(1ull << 5)

int guest_main(unsigned int cpu, uint32_t param)
{
	uint64_t efer = rdmsr(MSR_EFER);
	uint64_t cr0 = read_cr0(), cr4 = read_cr4();
	volatile uint64_t one = 1;
	uint64_t wide;

	report(entry_trace[0] == 16 && entry_trace[1] == 32 && entry_trace[2] == 64,
	       "entry went through real, protected and long mode");
	report((efer & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA),
	       "EFER.LME and EFER.LMA set (efer=0x%lx)", efer);
	report((cr0 & (CR0_PE | CR0_PG)) == (CR0_PE | CR0_PG), "CR0.PE and CR0.PG set");
	report(cr4 & CR4_PAE, "CR4.PAE set");
	report(read_cr3() == (uintptr_t)pml4, "CR3 is the static PML4");
	report(read_cs() == GDT_CODE64, "CS is the 64-bit code selector");
	/* Only a 64-bit operand size keeps bit 40; compatibility mode would not. */
	wide = one << 40;
	report(wide == 0x10000000000ull, "64-bit arithmetic");
	return 0;
}
