// SPDX-License-Identifier: GPL-2.0
/*
 * Guest-side generator: seeded random instruction streams run on a
 * KVM-compatible device, with their exits written down so that two devices
 * (/dev/kvm with kvm-amd, /dev/vmm with ours) can be compared program by
 * program. Each program gets a fresh VM (2 MiB of RAM) in one of five
 * modes, real mode, 32-bit protected and 64-bit long mode at CPL0, 32-bit
 * and 64-bit at CPL3, with a GDT, a TSS and an IDT whose every vector
 * lands on "mov al, vector; hlt" (real mode: the IVT likewise),
 * and a stream of 8-40 instructions drawn from templates: ALU and moves,
 * stack, port I/O, MMIO through FS (base 0x10000000, unbacked) in every
 * width, stores to a data page, CR reads and writes, WRMSR/RDMSR, CPUID,
 * RDTSC, INT n, UD2, jumps, CLI/STI, division, and random bytes; then hlt.
 *
 * Each run stops at HLT, a shutdown, an error exit or after 64 exits and
 * is written as one line: the program's seed and mode, its exits (port or
 * address, size, direction, data), how it ended, and, when the program
 * reads nothing that legitimately differs between the modules (CPUID,
 * RDTSC, RDMSR, CR reads), a hash of its registers and data page.
 *
 * usage: guestfuzz run DEVICE SEED COUNT OUT   write COUNT programs' lines
 *        guestfuzz compare A B                  compare two OUT files
 *        guestfuzz show SEED INDEX              print one program's bytes
 * Half the programs ("agree") use only templates whose result both modules
 * must produce alike; the others also use CR and MSR accesses, CPUID,
 * RDTSC, hypercalls and random bytes, where the modules differ by design.
 * compare prints each difference with the program (hex) and a summary;
 * exit 1 when an agree program differs (beyond one side stopping at an
 * emulation gap with the same exits before it), else 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define RAM (2u << 20)
#define CODE 0x10000u      /* the stream */
#define GDT 0x500u
#define IDT 0x2000u
#define HANDLERS 0x3000u   /* 256 x { mov al, v; hlt; nop } */
#define TSS 0x4000u
#define DATA 0x5000u       /* the data page programs store into */
#define STACK 0x8000u
#define PML4 0x9000u       /* identity map of 1 GiB, 2 MiB pages, user */
#define FS_BASE 0x10000000u
#define MAX_EXITS 64
#define CODE_MAX 1024

enum mode { REAL, PROT, LONG, PROT3, LONG3, NMODES };
static const char *const mode_name[NMODES] = { "real", "prot", "long", "prot-cpl3",
					       "long-cpl3" };

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

static uint32_t below(struct rng *r, uint32_t n)
{
	return (uint32_t)(rnd(r) % n);
}

/* --- generating a program --------------------------------------------- */

struct prog {
	enum mode mode;
	uint8_t code[CODE_MAX];
	size_t len;
	bool nondet; /* reads something that legitimately differs */
	bool agree;  /* built only from templates both modules must agree on */
};

static void emit(struct prog *p, const void *b, size_t n)
{
	if (p->len + n <= CODE_MAX - 16) {
		memcpy(p->code + p->len, b, n);
		p->len += n;
	}
}

static void emit1(struct prog *p, uint8_t b)
{
	emit(p, &b, 1);
}

/* An immediate of the operand size: 2 bytes in real mode, else 4. */
static void imm(struct prog *p, uint32_t v)
{
	emit(p, &v, p->mode == REAL ? 2 : 4);
}

/* A memory operand [disp]: 16-bit (mod 00 rm 110), 32-bit (mod 00 rm 101),
 * 64-bit absolute (mod 00 rm 100, SIB 25: not RIP-relative). */
static void modrm_abs(struct prog *p, unsigned reg, uint32_t disp)
{
	if (p->mode == REAL) {
		emit1(p, (uint8_t)(reg << 3 | 6));
		emit(p, &disp, 2);
	} else if (p->mode == LONG || p->mode == LONG3) {
		emit1(p, (uint8_t)(reg << 3 | 4));
		emit1(p, 0x25);
		emit(p, &disp, 4);
	} else {
		emit1(p, (uint8_t)(reg << 3 | 5));
		emit(p, &disp, 4);
	}
}

static bool is64(const struct prog *p)
{
	return p->mode == LONG || p->mode == LONG3;
}

static void mov_reg_imm(struct prog *p, unsigned reg, uint32_t v)
{
	emit1(p, (uint8_t)(0xb8 + reg));
	imm(p, v);
}

static uint32_t interesting(struct rng *r)
{
	static const uint32_t v[] = {
		0, 1, 0x80000000, 0xffffffff, 0x7fffffff, 0x11, 0x60000010, 0x80000011,
		0x80010033, 0x20, 0x620, 0x1000, 0x3000, 0x100, 0x500, 0xd01, 0x10000,
	};

	return below(r, 3) ? (uint32_t)rnd(r) : v[below(r, sizeof(v) / sizeof(v[0]))];
}

/*
 * Templates the two modules may legitimately answer differently, so an
 * "agree" program never uses them: CR writes and reads, MSRs and
 * CPUID/RDTSC (which MSRs exist, and whether a write is intercepted and
 * checked by the module or left to the CPU, differ by design; so do the
 * values), VMMCALL/VMCALL (KVM's hypercall ABI returns an error in RAX,
 * ours raises #UD), and random bytes (which may be any of these).
 */
static bool may_differ(unsigned template_no)
{
	return (template_no >= 12 && template_no <= 16) || template_no >= 23;
}

static void gen_insn(struct rng *r, struct prog *p)
{
	static const uint8_t ports[] = { 0x80, 0xf8, 0x70, 0x71, 0x61, 0x40, 0x43, 0x20, 0x21,
					 0x60, 0x64, 0xe9 };
	static const uint32_t msrs[] = {
		0xc0000080, 0xc0000081, 0xc0000082, 0xc0000084, 0xc0000100, 0xc0000101,
		0xc0000102, 0x174, 0x175, 0x176, 0x1b, 0x10, 0x277, 0x6e0, 0xc0010117,
		0x3a, 0x8b, 0x12345, 0x40000000,
	};
	unsigned reg = below(r, 8), sz, t;
	uint32_t off = below(r, 0x1000 - 8);

	do
		t = below(r, 24);
	while (p->agree && may_differ(t));
	switch (t) {
	case 0: /* ALU eAX, imm */
		emit1(p, (uint8_t)(0x05 + 8 * below(r, 8)));
		imm(p, interesting(r));
		break;
	case 1:
		mov_reg_imm(p, reg == 4 ? 0 : reg, interesting(r));
		break;
	case 2: /* ALU r/m, r (register form) */
		emit1(p, (uint8_t)(0x01 + 8 * below(r, 8)));
		emit1(p, (uint8_t)(0xc0 | below(r, 64)) & (uint8_t)~0x04);
		break;
	case 3: /* push / pop a register that is not the stack pointer */
		emit1(p, (uint8_t)(below(r, 2) ? 0x50 + (reg == 4 ? 0 : reg) :
				    0x58 + (reg == 4 ? 3 : reg)));
		break;
	case 4: /* port output */
		if (below(r, 2)) {
			emit1(p, below(r, 2) ? 0xe6 : 0xe7);
			emit1(p, ports[below(r, sizeof(ports))]);
		} else {
			emit1(p, 0xba);
			imm(p, below(r, 2) ? 0x3f8 + below(r, 8) : 0x500 + below(r, 0x100));
			emit1(p, (uint8_t)(0xee + below(r, 2)));
		}
		break;
	case 5: /* port input */
		emit1(p, below(r, 2) ? 0xe4 : 0xe5);
		emit1(p, ports[below(r, sizeof(ports))]);
		break;
	case 6: /* MMIO store through FS */
	case 7: {
		static const uint8_t st[] = { 0x88, 0x89, 0x89, 0xc6, 0xc7 };
		uint8_t opc = st[below(r, sizeof(st))];

		emit1(p, 0x64);
		sz = below(r, 3);
		if (sz == 1)
			emit1(p, 0x66);
		if (sz == 2 && is64(p) && opc != 0x88 && opc != 0xc6)
			emit1(p, 0x48);
		emit1(p, opc);
		modrm_abs(p, opc >= 0xc6 ? 0 : below(r, 8), below(r, 0x2000));
		if (opc == 0xc6)
			emit1(p, (uint8_t)rnd(r));
		else if (opc == 0xc7) /* imm16 for a 16-bit operand, else imm32 */
			emit(p, (uint32_t[]){ (uint32_t)rnd(r) },
			     (p->mode == REAL) != (sz == 1) ? 2 : 4);
		break;
	}
	case 8: /* MMIO load through FS: mov, movzx, movsx, movsxd */
	case 9: {
		static const uint8_t ld[] = { 0x8a, 0x8b, 0xb6, 0xb7, 0xbe, 0xbf, 0x63 };
		uint8_t opc = ld[below(r, sizeof(ld))];

		if (opc == 0x63 && !is64(p))
			opc = 0x8b;
		emit1(p, 0x64);
		if (below(r, 4) == 0)
			emit1(p, 0x66);
		if (is64(p) && below(r, 2))
			emit1(p, 0x48);
		if (opc >= 0xb6 && opc <= 0xbf)
			emit1(p, 0x0f);
		emit1(p, opc);
		modrm_abs(p, reg, below(r, 0x2000));
		break;
	}
	case 10: /* a read-modify-write of MMIO (add/or/xchg/test): emulator territory */
		emit1(p, 0x64);
		emit1(p, (uint8_t[]){ 0x01, 0x09, 0x87, 0x85, 0x31 }[below(r, 5)]);
		modrm_abs(p, reg, below(r, 0x2000));
		break;
	case 11: /* RAM stores and loads on the data page */
		emit1(p, below(r, 2) ? 0x89 : 0x8b);
		modrm_abs(p, reg, DATA + off);
		break;
	case 12: /* control register write from a register set just before */
		mov_reg_imm(p, 0, interesting(r));
		emit1(p, 0x0f);
		emit1(p, 0x22);
		emit1(p, (uint8_t)(0xc0 | (uint8_t[]){ 0, 3, 4, 0, 2 }[below(r, 5)] << 3));
		break;
	case 13: /* control register read */
		emit1(p, 0x0f);
		emit1(p, 0x20);
		emit1(p, (uint8_t)(0xc0 | (uint8_t[]){ 0, 2, 3, 4 }[below(r, 4)] << 3 | below(r, 8)));
		p->nondet = true; /* CR0's ET/NE, CR4's bits: the modules differ */
		break;
	case 14: /* wrmsr */
	case 15: {
		uint32_t msr = msrs[below(r, sizeof(msrs) / 4)], v = interesting(r);

		/* EFER.LME with paging off freezes a QEMU TCG host at the next
		 * VMRUN (see ioctlfuzz.c): LME stays as the mode has it. */
		if (msr == 0xc0000080)
			v = is64(p) ? v | 0x100 : v & ~0x100u;
		mov_reg_imm(p, 1, msr);
		mov_reg_imm(p, 0, v);
		mov_reg_imm(p, 2, below(r, 4) ? 0 : interesting(r));
		emit1(p, 0x0f);
		emit1(p, below(r, 3) ? 0x30 : 0x32);
		if (p->code[p->len - 1] == 0x32)
			p->nondet = true;
		break;
	}
	case 16:
		mov_reg_imm(p, 0, below(r, 2) ? below(r, 0x20) : 0x80000000 + below(r, 0x20));
		emit1(p, 0x0f);
		emit1(p, below(r, 3) ? 0xa2 : 0x31); /* cpuid / rdtsc */
		p->nondet = true;
		break;
	case 17: /* int n, int3, ud2, into-like faults */
		switch (below(r, 4)) {
		case 0: emit1(p, 0xcd); emit1(p, (uint8_t)rnd(r)); break;
		case 1: emit1(p, 0xcc); break;
		case 2: emit1(p, 0x0f); emit1(p, 0x0b); break;
		default: emit1(p, 0xf4); break;
		}
		break;
	case 18: /* a short jump forward over random bytes */
		sz = below(r, 4);
		emit1(p, 0xeb);
		emit1(p, (uint8_t)sz);
		for (unsigned i = 0; i < sz; i++)
			emit1(p, (uint8_t)rnd(r));
		break;
	case 19:
		emit1(p, (uint8_t[]){ 0xfa, 0xfb, 0x9c, 0x9d, 0x90, 0xf5, 0xf8, 0xf9 }[below(r, 8)]);
		break;
	case 20: /* division, perhaps by zero */
		mov_reg_imm(p, 1, below(r, 2) ? 0 : interesting(r));
		emit1(p, 0xf7);
		emit1(p, (uint8_t)(0xf1 | below(r, 2) << 3)); /* div/idiv ecx */
		break;
	case 21: /* load segment registers / descriptor tables from RAM */
		if (below(r, 2)) {
			emit1(p, 0x8e); /* mov sreg, ax */
			emit1(p, (uint8_t)(0xc0 | (uint8_t[]){ 0, 3, 4, 5 }[below(r, 4)] << 3));
		} else {
			emit1(p, 0x0f);
			emit1(p, 0x01);
			modrm_abs(p, below(r, 2) ? 2 : 3, DATA + off); /* lgdt / lidt */
		}
		break;
	case 22: /* string port I/O, or (not in agree programs) vmmcall / vmcall */
		sz = below(r, p->agree ? 2 : 4);
		if (sz == 0) /* a few elements: rep outsb from DS:[E]SI */
			mov_reg_imm(p, 1, 1 + below(r, 8));
		emit(p, (uint8_t[][3]){ { 0xf3, 0x6e, 0x90 }, { 0x6c, 0x90, 0x90 },
					{ 0x0f, 0x01, 0xd9 }, { 0x0f, 0x01, 0xc1 } }[sz], 3);
		break;
	default: /* random bytes */
		for (unsigned i = 0, n = 1 + below(r, 3); i < n; i++)
			emit1(p, (uint8_t)rnd(r));
		break;
	}
}

static void gen(uint64_t seed, uint32_t index, struct prog *p)
{
	struct rng r = { (seed + 1) * 0x9e3779b97f4a7c15ull ^ ((uint64_t)index + 1) * 0xd1b54a32d192ed03ull };

	memset(p, 0, sizeof(*p));
	rnd(&r);
	p->mode = (enum mode)below(&r, NMODES);
	p->agree = below(&r, 2);
	for (unsigned i = 0, n = 8 + below(&r, 33); i < n; i++)
		gen_insn(&r, p);
	emit1(p, 0xf4);
	emit1(p, 0xf4);
}

/* --- the machine ------------------------------------------------------- */

struct vm {
	int sys, fd, vcpu;
	struct kvm_run *run;
	long run_size;
	uint8_t *mem;
};

static uint64_t seg_desc(uint32_t base, uint32_t limit, unsigned type, unsigned dpl, bool l,
			 bool db, bool g)
{
	return (uint64_t)(limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 |
	       (uint64_t)type << 40 | 1ull << 44 | (uint64_t)dpl << 45 | 1ull << 47 |
	       (uint64_t)((limit >> 16) & 0xf) << 48 | (uint64_t)l << 53 | (uint64_t)db << 54 |
	       (uint64_t)g << 55 | (uint64_t)(base >> 24) << 56;
}

static void kseg(struct kvm_segment *s, uint16_t sel, uint32_t base, uint32_t limit,
		 unsigned type, unsigned dpl, bool l, bool db, bool g)
{
	*s = (struct kvm_segment){ .base = base, .limit = limit, .selector = sel,
				   .type = (uint8_t)type, .present = 1, .dpl = (uint8_t)dpl,
				   .db = db, .s = 1, .l = l, .g = g };
}

/* Tables, handlers and page tables in guest memory. */
static void lay_out(uint8_t *m, enum mode mode)
{
	uint64_t *gdt = (uint64_t *)(m + GDT);
	bool lm = mode == LONG || mode == LONG3;

	memset(m, 0, RAM);
	/* Real mode: IVT entry v to 0000:0400+4v, "mov al, v; hlt" there. */
	for (int v = 0; v < 256; v++) {
		((uint32_t *)m)[v] = 0x400 + 4 * v;
		m[0x400 + 4 * v] = 0xb0;
		m[0x401 + 4 * v] = (uint8_t)v;
		m[0x402 + 4 * v] = 0xf4;
		m[0x403 + 4 * v] = 0x90;
	}
	gdt[1] = seg_desc(0, 0xfffff, 0xb, 0, false, true, true);  /* 0x08 code32 */
	gdt[2] = seg_desc(0, 0xfffff, 0x3, 0, false, true, true);  /* 0x10 data */
	gdt[3] = seg_desc(0, 0xfffff, 0xb, 0, true, false, true);  /* 0x18 code64 */
	gdt[4] = seg_desc(0, 0xfffff, 0xb, 3, false, true, true);  /* 0x20 code32 DPL3 */
	gdt[5] = seg_desc(0, 0xfffff, 0x3, 3, false, true, true);  /* 0x28 data DPL3 */
	gdt[6] = seg_desc(0, 0xfffff, 0xb, 3, true, false, true);  /* 0x30 code64 DPL3 */
	/* 0x38: the TSS. Available (9), not busy, in 32-bit modes: QEMU 7.2's
	 * TCG aborts the whole emulated host ("invalid tss type") when a
	 * 32-bit guest at CPL3 takes an interrupt with a busy TR. */
	gdt[7] = seg_desc(TSS, 0x67, lm ? 0xb : 0x9, 0, false, false, false);
	gdt[8] = 0;                                                /* its upper half */
	/* TSS: the stack for CPL3 -> CPL0 (ESP0/SS0, or RSP0). */
	if (lm) {
		*(uint64_t *)(m + TSS + 4) = STACK - 0x800;
	} else {
		*(uint32_t *)(m + TSS + 4) = STACK - 0x800;
		*(uint32_t *)(m + TSS + 8) = 0x10;
	}
	/* IDT: every vector to its own "mov al, v; hlt" at CPL0, DPL3 gates
	 * so that INT n from CPL3 arrives too. */
	for (int v = 0; v < 256; v++) {
		uint32_t h = HANDLERS + 4 * v;

		m[h] = 0xb0;
		m[h + 1] = (uint8_t)v;
		m[h + 2] = 0xf4;
		m[h + 3] = 0x90;
		if (lm) {
			uint64_t *g = (uint64_t *)(m + IDT + 16 * v);

			g[0] = (h & 0xffff) | (uint64_t)0x18 << 16 | (uint64_t)0xee << 40 |
			       (uint64_t)(h >> 16) << 48;
			g[1] = 0;
		} else {
			uint64_t *g = (uint64_t *)(m + IDT + 8 * v);

			*g = (h & 0xffff) | (uint64_t)0x08 << 16 | (uint64_t)0xee << 40 |
			     (uint64_t)(h >> 16) << 48;
		}
	}
	/* 1 GiB identity map: PML4 -> PDPT -> PD of 2 MiB pages, all user. */
	*(uint64_t *)(m + PML4) = (PML4 + 0x1000) | 7;
	*(uint64_t *)(m + PML4 + 0x1000) = (PML4 + 0x2000) | 7;
	for (int i = 0; i < 512; i++)
		((uint64_t *)(m + PML4 + 0x2000))[i] = ((uint64_t)i << 21) | 0x87;
}

static int set_mode(struct vm *vm, enum mode mode)
{
	struct kvm_sregs s;
	struct kvm_regs g;
	bool lm = mode == LONG || mode == LONG3, cpl3 = mode == PROT3 || mode == LONG3;
	unsigned dpl = cpl3 ? 3 : 0;


	if (ioctl(vm->vcpu, KVM_GET_SREGS, &s))
		return -errno;
	memset(&g, 0, sizeof(g));
	g.rip = CODE;
	g.rsp = STACK;
	g.rflags = 2;
	if (mode == REAL) {
		/* CS:IP = 1000:0000 is the stream at 0x10000; data at DS = 0. */
		s.cs.base = CODE;
		s.cs.selector = CODE >> 4;
		g.rip = 0;
		s.ds.base = s.es.base = s.ss.base = s.gs.base = 0;
		s.ds.selector = s.es.selector = s.ss.selector = s.gs.selector = 0;
		/* FS reaches the MMIO hole: its hidden base only (unreal mode). */
		s.fs.base = FS_BASE;
		s.fs.limit = 0xffff;
	} else {
		uint16_t cs = lm ? (cpl3 ? 0x33 : 0x18) : (cpl3 ? 0x23 : 0x08);
		uint16_t ds = cpl3 ? 0x2b : 0x10;

		kseg(&s.cs, cs, 0, 0xffffffff, 0xb, dpl, lm, !lm, true);
		kseg(&s.ds, ds, 0, 0xffffffff, 0x3, dpl, false, true, true);
		s.es = s.gs = s.ss = s.ds;
		s.fs = s.ds;
		s.fs.base = FS_BASE;
		s.tr = (struct kvm_segment){ .base = TSS, .limit = 0x67, .selector = 0x38,
					     .type = lm ? 0xb : 0x9, .present = 1 };
		s.gdt.base = GDT;
		s.gdt.limit = 0x47;
		s.idt.base = IDT;
		s.idt.limit = lm ? 0xfff : 0x7ff;
		s.cr0 = 0x60000011 & ~0x60000000u; /* PE, ET */
		if (lm) {
			s.cr0 |= 0x80000000; /* PG */
			s.cr3 = PML4;
			s.cr4 = 0x20;        /* PAE */
			s.efer = 0x500;      /* LME, LMA */
		} else {
			s.cr3 = 0;
			s.cr4 = 0;
			s.efer = 0;
		}
		/* IOPL stays 0: port I/O and CLI/STI fault at CPL3. */
	}
	if (ioctl(vm->vcpu, KVM_SET_SREGS, &s))
		return -errno;
	if (ioctl(vm->vcpu, KVM_SET_REGS, &g))
		return -errno;
	return 0;
}

static int vm_up(struct vm *vm, const char *dev)
{
	struct kvm_userspace_memory_region m = { .memory_size = RAM };

	memset(vm, 0, sizeof(*vm));
	vm->sys = vm->fd = vm->vcpu = -1;
	vm->sys = open(dev, O_RDWR | O_CLOEXEC);
	if (vm->sys < 0)
		return -errno;
	vm->run_size = ioctl(vm->sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	vm->fd = ioctl(vm->sys, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		return -errno;
	vm->mem = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->mem == MAP_FAILED)
		return -errno;
	m.userspace_addr = (uintptr_t)vm->mem;
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &m))
		return -errno;
	vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu < 0)
		return -errno;
	vm->run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu, 0);
	if (vm->run == MAP_FAILED)
		return -errno;
	/* The device's own supported CPUID (long mode needs it on kvm-amd). */
	{
		struct {
			struct kvm_cpuid2 h;
			struct kvm_cpuid_entry2 e[100];
		} c = { .h.nent = 100 };

		if (ioctl(vm->sys, KVM_GET_SUPPORTED_CPUID, &c) == 0)
			ioctl(vm->vcpu, KVM_SET_CPUID2, &c);
	}
	return 0;
}

static void vm_down(struct vm *vm)
{
	if (vm->run && vm->run != MAP_FAILED)
		munmap(vm->run, (size_t)vm->run_size);
	if (vm->mem && vm->mem != MAP_FAILED)
		munmap(vm->mem, RAM);
	if (vm->vcpu >= 0)
		close(vm->vcpu);
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->sys >= 0)
		close(vm->sys);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* Consecutive port accesses of one kind, written as one entry. */
struct io_run {
	uint16_t port;
	uint8_t size;
	bool out;
	uint32_t n;        /* elements */
	uint32_t bytes;    /* of data[] kept (OUT) */
	uint8_t data[64];
};

static size_t io_flush(struct io_run *io, char *line, size_t at, size_t cap)
{
	if (!io->n || at >= cap - 160)
		return at;
	at += (size_t)snprintf(line + at, cap - at, " io:%x/%u%s*%u", io->port, io->size,
			       io->out ? "w" : "r", io->n);
	if (io->out) {
		at += (size_t)snprintf(line + at, cap - at, "=");
		for (uint32_t i = 0; i < io->bytes; i++)
			at += (size_t)snprintf(line + at, cap - at, "%02x", io->data[i]);
	}
	io->n = 0;
	io->bytes = 0;
	return at;
}

/* Run one program; append its line to @out. */
static int run_one(const char *dev, uint64_t seed, uint32_t index, FILE *out)
{
	struct prog p;
	struct vm vm;
	char line[8192];
	size_t at = 0;
	const char *end = "exits";
	int err, nexits = 0;
	struct io_run io = { 0 };

	gen(seed, index, &p);
	err = vm_up(&vm, dev);
	if (err) {
		vm_down(&vm);
		return err;
	}
	lay_out(vm.mem, p.mode);
	memcpy(vm.mem + CODE, p.code, p.len);
	err = set_mode(&vm, p.mode);
	at += (size_t)snprintf(line + at, sizeof(line) - at, "%u %s%s", index, mode_name[p.mode],
			       p.agree ? " agree" : "");
	if (err) {
		end = "setup-refused";
		goto done;
	}
	while (nexits++ < MAX_EXITS && at < sizeof(line) - 256) {
		struct kvm_run *run = vm.run;
		int r;

		alarm(1);
		r = ioctl(vm.vcpu, KVM_RUN, 0);
		alarm(0);
		if (r < 0) {
			end = errno == EINTR ? "hang" : "run-error";
			break;
		}
		if (run->exit_reason == KVM_EXIT_IO) {
			uint8_t *d = (uint8_t *)run + run->io.data_offset;
			uint32_t n = run->io.size * run->io.count;
			bool out = run->io.direction == KVM_EXIT_IO_OUT;

			/*
			 * A module may deliver string I/O one element per exit
			 * or many per exit (count): consecutive accesses of one
			 * port, width and direction are one entry, so both read
			 * alike: the bytes written, or how many elements read.
			 */
			if (!io.n || io.port != run->io.port || io.size != run->io.size ||
			    io.out != out) {
				at = io_flush(&io, line, at, sizeof(line));
				io = (struct io_run){ .port = run->io.port, .size = run->io.size,
						      .out = out };
			}
			io.n += run->io.count;
			for (uint32_t i = 0; out && i < n && io.bytes < sizeof(io.data); i++)
				io.data[io.bytes++] = d[i];
			if (!out)
				memset(d, 0x5a, n);
			continue;
		}
		at = io_flush(&io, line, at, sizeof(line));
		if (run->exit_reason == KVM_EXIT_MMIO) {
			at += (size_t)snprintf(line + at, sizeof(line) - at, " mmio:%llx/%u%s",
					       (unsigned long long)run->mmio.phys_addr, run->mmio.len,
					       run->mmio.is_write ? "w" : "r");
			if (run->mmio.is_write) {
				at += (size_t)snprintf(line + at, sizeof(line) - at, "=");
				for (uint32_t i = 0; i < run->mmio.len && i < 8; i++)
					at += (size_t)snprintf(line + at, sizeof(line) - at, "%02x",
							       run->mmio.data[i]);
			} else {
				for (uint32_t i = 0; i < 8; i++)
					run->mmio.data[i] = (uint8_t)(run->mmio.phys_addr + i * 0x11);
			}
			continue;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_HLT: end = "hlt"; break;
		case KVM_EXIT_SHUTDOWN: end = "shutdown"; break;
		case KVM_EXIT_FAIL_ENTRY: end = "fail-entry"; break;
		case KVM_EXIT_INTERNAL_ERROR: end = "internal-error"; break;
		default:
			at += (size_t)snprintf(line + at, sizeof(line) - at, " reason-%u",
					       run->exit_reason);
			end = "other";
			break;
		}
		break;
	}
done:
	at = io_flush(&io, line, at, sizeof(line));
	at += (size_t)snprintf(line + at, sizeof(line) - at, " | %s", end);
	if (strcmp(end, "setup-refused")) {
		struct kvm_regs g;

		if (ioctl(vm.vcpu, KVM_GET_REGS, &g) == 0) {
			/* Where it ended; for a stop, the instruction it stopped at. */
			at += (size_t)snprintf(line + at, sizeof(line) - at, " rip=%llx",
					       (unsigned long long)g.rip);
			if (strcmp(end, "hlt")) {
				uint64_t off = g.rip - (p.mode == REAL ? 0 : CODE);

				if (off < p.len) {
					at += (size_t)snprintf(line + at, sizeof(line) - at, " at=");
					for (uint64_t i = off; i < off + 6 && i < p.len; i++)
						at += (size_t)snprintf(line + at, sizeof(line) - at,
								       "%02x", p.code[i]);
				}
			} else if (!p.nondet) {
				uint64_t h = 0xcbf29ce484222325ull;

				/* Flags as the programs can make them (CF..OF, DF, IF). */
				g.rflags &= 0xed5 | 0x200;
				h = fnv(h, &g, sizeof(g));
				h = fnv(h, vm.mem + DATA, 0x1000);
				at += (size_t)snprintf(line + at, sizeof(line) - at, " state=%016llx",
						       (unsigned long long)h);
			}
		}
	}
	fprintf(out, "%s\n", line);
	vm_down(&vm);
	return 0;
}

/* --- comparing two runs ------------------------------------------------ */

static char **read_lines(const char *path, uint32_t *n)
{
	FILE *f = fopen(path, "r");
	char **v = NULL, buf[8192];
	uint32_t cap = 0;

	*n = 0;
	if (!f)
		return NULL;
	while (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = 0;
		if (*n == cap) {
			cap = cap ? 2 * cap : 1024;
			v = realloc(v, cap * sizeof(*v));
		}
		v[(*n)++] = strdup(buf);
	}
	fclose(f);
	return v;
}

static const char *field(const char *line, const char *key)
{
	const char *p = strstr(line, key);

	return p ? p + strlen(key) : "";
}

static void show(uint64_t seed, uint32_t index)
{
	struct prog p;

	gen(seed, index, &p);
	printf("  program %u (%s, %zu bytes):", index, mode_name[p.mode], p.len);
	for (size_t i = 0; i < p.len; i++)
		printf(" %02x", p.code[i]);
	printf("\n");
}

static int compare(const char *a, const char *b)
{
	uint32_t na, nb, same = 0, gap = 0, differ = 0, expected = 0, shown = 0;
	char **la = read_lines(a, &na), **lb = read_lines(b, &nb);
	uint64_t seed = 0;
	uint32_t first = 0;

	if (!la || !lb) {
		printf("compare: cannot read %s or %s\n", a, b);
		return 1;
	}
	if (na && sscanf(la[0], "# seed %llu", (unsigned long long *)&seed) == 1)
		first = 1;
	for (uint32_t i = first; i < na && i < nb; i++) {
		const char *ea = field(la[i], "| "), *eb = field(lb[i], "| ");
		bool gap_a = !strncmp(ea, "internal-error", 14) || !strncmp(ea, "other", 5) ||
			     !strncmp(ea, "fail-entry", 10) || !strncmp(ea, "run-error", 9);
		bool gap_b = !strncmp(eb, "internal-error", 14) || !strncmp(eb, "other", 5) ||
			     !strncmp(eb, "fail-entry", 10) || !strncmp(eb, "run-error", 9);

		if (!strcmp(la[i], lb[i])) {
			same++;
			continue;
		}
		/* One side could not go on (an emulation gap or an entry it
		 * refused): the exits before that point must still agree. */
		if (gap_a || gap_b) {
			size_t pa = (size_t)(strstr(la[i], " | ") - la[i]);
			size_t pb = (size_t)(strstr(lb[i], " | ") - lb[i]);
			size_t n = pa < pb ? pa : pb;

			if (!strncmp(la[i], lb[i], n)) {
				gap++;
				if (shown++ < 40) {
					printf("GAP %s\n    %s\n    %s\n", gap_a ? "A" : "B", la[i], lb[i]);
					show(seed, i - first);
				}
				continue;
			}
		}
		/* Programs that use what the modules answer differently by
		 * design (see may_differ()) are told apart, not failed. */
		if (!strstr(la[i], " agree ")) {
			expected++;
			if (shown++ < 40)
				printf("EXPECTED (uses a template that may differ)\n    %s\n    %s\n",
				       la[i], lb[i]);
			continue;
		}
		differ++;
		if (shown++ < 40) {
			printf("DIFFER\n    %s\n    %s\n", la[i], lb[i]);
			show(seed, i - first);
		}
	}
	printf("compare: %u programs, %u the same, %u where one side stopped (an emulation or entry gap, same exits before it), %u different where they may differ, %u different where they must agree\n",
	       na - first, same, gap, expected, differ);
	return differ ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 6 && !strcmp(argv[1], "run")) {
		struct sigaction sa = { .sa_handler = on_alarm };
		uint64_t seed = strtoull(argv[3], NULL, 0);
		uint32_t count = (uint32_t)strtoul(argv[4], NULL, 0);
		FILE *out = fopen(argv[5], "w");
		time_t t0 = time(NULL);

		if (!out)
			return 1;
		sigaction(SIGALRM, &sa, NULL);
		setvbuf(out, NULL, _IOLBF, 0);
		fprintf(out, "# seed %llu device %s\n", (unsigned long long)seed, argv[2]);
		for (uint32_t i = 0; i < count; i++) {
			int err = run_one(argv[2], seed, i, out);

			if (err) {
				printf("guestfuzz: %s: %s\n", argv[2], strerror(-err));
				return 1;
			}
		}
		fclose(out);
		printf("guestfuzz: %s seed %llu: %u programs in %ld s\n", argv[2],
		       (unsigned long long)seed, count, (long)(time(NULL) - t0));
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "compare"))
		return compare(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "show")) {
		show(strtoull(argv[2], NULL, 0), (uint32_t)strtoul(argv[3], NULL, 0));
		return 0;
	}
	fprintf(stderr, "usage: %s run DEVICE SEED COUNT OUT | compare A B | show SEED INDEX\n",
		argv[0]);
	return 2;
}
