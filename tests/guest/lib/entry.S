/*
 * First code of every tiny guest: real mode -> protected mode -> long mode,
 * then guest_start() in C.
 *
 * The host enters at CS:IP = 0x1000:0000 (see abi.h), so until the far jump
 * into protected mode every address is an offset from _start; the GDT and
 * its pointer live in this section for that reason. Page tables are built
 * statically at link time (4 GiB identity map with 2 MiB pages) because on
 * an emulated vCPU a loop filling 2048 entries would cost milliseconds.
 * Nothing here is specific to one backend: it is the architectural sequence
 * from the Intel SDM vol. 3 ch. 9.8 / AMD APM vol. 2 ch. 14.6.
 */
#include "abi.h"

#define CR0_PE		(1 << 0)
#define CR0_NW		(1 << 29)
#define CR0_CD		(1 << 30)
#define CR0_PG		(1 << 31)
#define CR4_PAE		(1 << 5)
#define MSR_EFER	0xc0000080
#define EFER_LME	(1 << 8)
#define PTE_P		(1 << 0)
#define PTE_RW		(1 << 1)
#define PTE_PS		(1 << 7)

	.section .entry, "awx", @progbits
	.code16
	.globl _start
_start:
	cli
	cld
	/* DS = CS so that "sym - _start" addresses the image. */
	mov	%cs, %ax
	mov	%ax, %ds
	movb	$16, entry_trace - _start
	/* 32-bit operand size: load all 32 bits of the GDT base. */
	lgdtl	gdt_ptr - _start
	mov	%cr0, %eax
	/* Caches on (reset leaves CD/NW set), then protection on. */
	and	$~(CR0_CD | CR0_NW), %eax
	or	$CR0_PE, %eax
	mov	%eax, %cr0
	/* The far jump loads a 32-bit CS with base 0: link addresses from here. */
	ljmpl	$GDT_CODE32, $entry32

	.code32
entry32:
	mov	$GDT_DATA, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs
	movb	$32, entry_trace + 1
	/* Long mode needs PAE paging, CR3 loaded, EFER.LME, then CR0.PG. */
	mov	%cr4, %eax
	or	$CR4_PAE, %eax
	mov	%eax, %cr4
	mov	$pml4, %eax
	mov	%eax, %cr3
	/* rdmsr/wrmsr clobber EAX, ECX, EDX only: ESI and EDI (entry state) survive. */
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$EFER_LME, %eax
	wrmsr
	mov	%cr0, %eax
	or	$CR0_PG, %eax
	mov	%eax, %cr0
	/* Paging with LME set makes EFER.LMA 1; a 64-bit CS finishes the switch. */
	ljmp	$GDT_CODE64, $entry64

	.code64
entry64:
	movb	$64, entry_trace + 2
	cmp	$GUEST_MAX_CPUS, %esi
	jae	park
	/* Stack of vCPU i: the top of cpu_stacks[i] (smp_id() relies on it). */
	mov	%esi, %eax
	inc	%eax
	shl	$GUEST_STACK_SHIFT, %eax
	mov	$cpu_stacks, %rsp
	add	%rax, %rsp
	/* guest_start(cpu = ESI, param = EDI); 32-bit xchg zero-extends both. */
	xchg	%esi, %edi
	call	guest_start
park:
	cli
	hlt
	jmp	park

	/* Read by the longmode test: which modes the entry code went through. */
	.globl entry_trace
entry_trace:
	.byte	0, 0, 0, 0

	.balign 8
gdt:
	.quad	0
	.quad	0x00cf9a000000ffff	/* 0x08: 32-bit code, base 0, 4 GiB */
	.quad	0x00cf92000000ffff	/* 0x10: data, base 0, 4 GiB */
	.quad	0x00af9a000000ffff	/* 0x18: 64-bit code (L=1, D=0) */
gdt_end:
gdt_ptr:
	.word	gdt_end - gdt - 1
	.long	gdt

	/* Identity map of the low 4 GiB: PML4[0] -> PDPT[0..3] -> 4 PDs. */
	.section .data.pagetables, "aw"
	.balign	4096
	.globl	pml4
pml4:
	.quad	pdpt + (PTE_P | PTE_RW)
	.fill	511, 8, 0
pdpt:
	.quad	pd + 0x0000 + (PTE_P | PTE_RW)
	.quad	pd + 0x1000 + (PTE_P | PTE_RW)
	.quad	pd + 0x2000 + (PTE_P | PTE_RW)
	.quad	pd + 0x3000 + (PTE_P | PTE_RW)
	.fill	508, 8, 0
pd:
	.set	page, 0
	.rept	2048
	.quad	page + (PTE_P | PTE_RW | PTE_PS)
	.set	page, page + 0x200000
	.endr

	/* No executable stack wanted (silences ld's deprecation note). */
	.section .note.GNU-stack, "", @progbits
