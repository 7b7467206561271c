/*
 * longmode: after the guest's own checks, read the vCPU's state from the
 * host side and confirm the same facts: EFER.LMA, a 64-bit CS, paging with
 * PAE, CR3 pointing at the image's PML4, RIP inside the image.
 */
#include <inttypes.h>

#include "check.h"
#include "scenarios.h"
#include "vm.h"

#define EFER_LME	(1ull << 8)
#define EFER_LMA	(1ull << 10)
#define CR0_PE		(1ull << 0)
#define CR0_PG		(1ull << 31)
#define CR4_PAE		(1ull << 5)

static void check_state(struct guest_vm *g, struct guest_cpu *c)
{
	uint64_t image_end = GUEST_LOAD_ADDR + g->image_size;
	uint64_t pml4e = 0;
	libvm_sregs s;
	libvm_regs r;
	int rc;

	rc = libvm_vcpu_get_sregs(c->vcpu, &s);
	if (!check(rc == 0, "get_sregs: %s", libvm_strerror(rc)))
		return;
	check((s.efer & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA),
	      "EFER 0x%" PRIx64 " has LME and LMA", s.efer);
	check(s.cs.l == 1 && s.cs.db == 0 && s.cs.selector == GDT_CODE64,
	      "CS is 64-bit code: selector 0x%x L=%u D=%u", s.cs.selector, s.cs.l, s.cs.db);
	check((s.cr0 & (CR0_PE | CR0_PG)) == (CR0_PE | CR0_PG), "CR0 0x%" PRIx64 " has PE and PG",
	      s.cr0);
	check(s.cr4 & CR4_PAE, "CR4 0x%" PRIx64 " has PAE", s.cr4);
	check(s.cr3 % 4096 == 0 && s.cr3 >= GUEST_LOAD_ADDR && s.cr3 < image_end,
	      "CR3 0x%" PRIx64 " is a page inside the image", s.cr3);
	rc = libvm_mem_read(g->vm, s.cr3 & ~0xfffull, &pml4e, sizeof(pml4e));
	check(rc == 0 && (pml4e & 1), "PML4[0] = 0x%" PRIx64 " is present", pml4e);

	rc = libvm_vcpu_get_regs(c->vcpu, &r);
	if (check(rc == 0, "get_regs: %s", libvm_strerror(rc)))
		check(r.rip >= GUEST_LOAD_ADDR && r.rip < image_end,
		      "RIP 0x%" PRIx64 " is inside the image", r.rip);
}

int scenario_longmode(const char *image)
{
	struct guest_vm g;
	int rc = guest_vm_create(&g, "vm0", image, 1, 0);

	if (rc)
		return rc;
	if (guest_cpu_run_to_exit(&g.cpu[0]))
		check_state(&g, &g.cpu[0]);
	check_guest_passed(&g.cpu[0]);
	guest_vm_destroy(&g);
	return RUNNER_PASS;
}
