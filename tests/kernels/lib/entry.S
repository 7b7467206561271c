/*
 * First code of a test kernel: the multiboot v1 header, the 32-bit entry
 * the boot loader jumps to, the switch to 64-bit long mode shared by the
 * boot CPU and the APs, the INIT/SIPI trampoline and the interrupt stubs.
 *
 * The header uses the a.out-kludge address fields (flag 16) so that the
 * same ELF64 file boots on QEMU's -kernel loader (which refuses x86-64 ELF
 * files without them) and on libvm's. Page tables are static data: an
 * identity map of the low 4 GiB with 2 MiB pages, built by the assembler,
 * because filling 2048 entries in a loop costs milliseconds on an emulated
 * vCPU. The mode switch is the architectural sequence of the Intel SDM
 * vol. 3 section 9.8.5 / AMD APM vol. 2 section 14.6.
 */
#include "layout.h"

#define MB_FLAG_PAGE_ALIGN	(1 << 0)	/* modules on page boundaries */
#define MB_FLAG_MEMORY		(1 << 1)	/* mem_lower/upper and the map */
#define MB_FLAG_AOUT_KLUDGE	(1 << 16)	/* load from the address fields */
#define MB_FLAGS		(MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY | MB_FLAG_AOUT_KLUDGE)

#define CR0_PE		(1 << 0)
#define CR0_MP		(1 << 1)
#define CR0_ET		(1 << 4)
#define CR0_NE		(1 << 5)
#define CR0_WP		(1 << 16)
#define CR0_NW		(1 << 29)
#define CR0_CD		(1 << 30)
#define CR0_PG		(1 << 31)
#define CR4_PAE		(1 << 5)
#define MSR_EFER	0xc0000080
#define EFER_LME	(1 << 8)
#define PTE_P		(1 << 0)
#define PTE_RW		(1 << 1)
#define PTE_PWT		(1 << 3)
#define PTE_PCD		(1 << 4)
#define PTE_PS		(1 << 7)

	.section .multiboot, "a"
	.balign 4
	.globl mb_header
mb_header:
	.long	MULTIBOOT_HEADER_MAGIC
	.long	MB_FLAGS
	.long	-(MULTIBOOT_HEADER_MAGIC + MB_FLAGS)
	.long	mb_header		/* header_addr */
	.long	__image_start		/* load_addr */
	.long	__data_end		/* load_end_addr */
	.long	__image_end		/* bss_end_addr */
	.long	entry32			/* entry_addr */

	.section .text.entry, "ax"
	.code32
	.globl entry32
entry32:
	/* Multiboot entry state (spec 3.2): flat segments, paging off,
	 * interrupts off, EAX = magic, EBX = info. Keep what the loader gave
	 * so that the multiboot test can check it. */
	cli
	cld
	mov	%eax, mb_magic
	mov	%ebx, mb_info_addr
	mov	%cs, %eax
	mov	%eax, boot_cs
	mov	%ds, %eax
	mov	%eax, boot_ds
	mov	%cr0, %eax
	mov	%eax, boot_cr0
	/* ESP is undefined at a multiboot entry (spec 3.2): a stack first. */
	mov	$bsp_stack + BSP_STACK_SIZE, %esp
	pushf
	pop	%eax
	mov	%eax, boot_eflags
	/* The loader's GDT may be anywhere, even in memory we reuse. */
	lgdt	gdt_ptr
	ljmp	$SEL_CODE32, $1f
1:	mov	$SEL_DATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	%eax, %fs
	mov	%eax, %gs
	mov	$kernel_start, %esi
	jmp	to_long_mode

	/* APs arrive from the trampoline with CS = SEL_CODE32 and our GDT. */
	.globl ap_entry32
ap_entry32:
	mov	$SEL_DATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	%eax, %fs
	mov	%eax, %gs
	/* A stack slot per arrival: several APs may run this at once. */
	mov	$1, %eax
	lock xadd %eax, ap_arrivals
	cmp	$MAX_CPUS - 1, %eax
	jae	ap_park32
	inc	%eax
	imul	$AP_STACK_SIZE, %eax
	lea	ap_stacks(%eax), %esp
	mov	$ap_start, %esi
	/* fall through */

/*
 * ESI = the 64-bit C function to call, ESP = its stack. CR4, EFER and CR0
 * get whole known values rather than bits ORed into what was there: the
 * loader's values are unspecified (multiboot 3.2) and an AP's are INIT's
 * (CD and NW set). CR0: paging, protection, WP, native FPU errors (NE).
 */
to_long_mode:
	mov	$CR4_PAE, %eax
	mov	%eax, %cr4
	mov	$pml4, %eax
	mov	%eax, %cr3
	mov	$MSR_EFER, %ecx
	mov	$EFER_LME, %eax
	xor	%edx, %edx
	wrmsr
	mov	$(CR0_PG | CR0_WP | CR0_NE | CR0_ET | CR0_MP | CR0_PE), %eax
	mov	%eax, %cr0
	ljmp	$SEL_CODE64, $long64

ap_park32:
	/* More CPUs than stacks: this one stays out of the way. */
	cli
	hlt
	jmp	ap_park32

	.code64
long64:
	mov	$SEL_DATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	and	$~0xf, %rsp
	call	*%rsi
1:	cli
	hlt
	jmp	1b

/*
 * The INIT/SIPI trampoline, copied to TRAMPOLINE_ADDR by smp.c. An AP
 * starts it in real mode at CS:IP = (vector << 8):0, so it addresses its
 * own data relative to its start with DS = CS. It only enters protected
 * mode; ap_entry32 in the image does the rest.
 */
	.code16
	.globl trampoline_start, trampoline_end
trampoline_start:
	cli
	cld
	mov	%cs, %ax
	mov	%ax, %ds
	/* 32-bit operand size: all 32 bits of the GDT base. */
	lgdtl	tramp_gdt_ptr - trampoline_start
	mov	%cr0, %eax
	/* INIT leaves CD and NW set; run cached like the boot CPU. */
	and	$~(CR0_CD | CR0_NW), %eax
	or	$CR0_PE, %eax
	mov	%eax, %cr0
	ljmpl	$SEL_CODE32, $ap_entry32
	.balign 4
tramp_gdt_ptr:
	.word	gdt_end - gdt - 1
	.long	gdt
trampoline_end:

/*
 * Interrupt stubs, one per vector, each in a 16-byte slot so that the stub
 * of vector v is at isr_stubs + 16 * v. Vectors whose exceptions push an
 * error code (SDM vol. 3 table 6-1) get none pushed here; the others push
 * 0 so that every frame has the same shape.
 */
	.code64
	.text
	.balign 16
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	.if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
	push	$0
	.endif
	push	$vec
	jmp	isr_common
	.set vec, vec + 1
	.endr

isr_common:
	push	%rax
	push	%rcx
	push	%rdx
	push	%rbx
	push	%rbp
	push	%rsi
	push	%rdi
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	/* 15 registers + vector + error code + the CPU's 5 words: the stack
	 * the CPU aligned to 16 is aligned again for the call. */
	mov	%rsp, %rdi
	cld
	call	isr_dispatch
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rdi
	pop	%rsi
	pop	%rbp
	pop	%rbx
	pop	%rdx
	pop	%rcx
	pop	%rax
	add	$16, %rsp
	iretq

	.data
	.balign 8
	.globl gdt
gdt:
	.quad	0
	.quad	0x00cf9a000000ffff	/* SEL_CODE32: flat 32-bit code */
	.quad	0x00cf92000000ffff	/* SEL_DATA: flat data */
	.quad	0x00af9a000000ffff	/* SEL_CODE64: 64-bit code (L=1) */
gdt_end:
	.balign 8
	.globl gdt_ptr
gdt_ptr:
	.word	gdt_end - gdt - 1
	.quad	gdt

	.globl mb_magic, mb_info_addr, boot_cs, boot_ds, boot_cr0, boot_eflags, ap_arrivals
mb_magic:	.long 0
mb_info_addr:	.long 0
boot_cs:	.long 0
boot_ds:	.long 0
boot_cr0:	.long 0
boot_eflags:	.long 0
ap_arrivals:	.long 0

/* Identity map of 0-4 GiB with 2 MiB pages; the top GiB (LAPIC, IOAPIC,
 * the test device window) uncached, as device memory must be. */
	.balign 4096
	.globl pml4
pml4:
	.quad	pdpt + PTE_P + PTE_RW
	.fill	511, 8, 0
pdpt:
	.quad	pd + 0x0000 + PTE_P + PTE_RW
	.quad	pd + 0x1000 + PTE_P + PTE_RW
	.quad	pd + 0x2000 + PTE_P + PTE_RW
	.quad	pd + 0x3000 + PTE_P + PTE_RW
	.fill	508, 8, 0
pd:
	.set i, 0
	.rept 2048
	.if i >= 1536
	.quad	(i << 21) + PTE_P + PTE_RW + PTE_PS + PTE_PCD + PTE_PWT
	.else
	.quad	(i << 21) + PTE_P + PTE_RW + PTE_PS
	.endif
	.set i, i + 1
	.endr

	.bss
	.balign 16
	.globl bsp_stack, ap_stacks
bsp_stack:
	.skip	BSP_STACK_SIZE
ap_stacks:
	.skip	AP_STACK_SIZE * MAX_CPUS
