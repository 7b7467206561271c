/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One guest entry: VMSAVE host, VMLOAD guest, VMRUN, VMSAVE guest, VMLOAD
 * host.  Called with GIF clear (CLGI), so neither interrupts nor NMIs can
 * run while FS/GS/TR/KERNEL_GS_BASE and the syscall MSRs hold guest values.
 * VMRUN saves and #VMEXIT restores RAX, RSP, RIP, RFLAGS, CR0/3/4, EFER,
 * GDTR/IDTR and ES/CS/SS/DS; every other GPR is switched here.  IF is set
 * across VMRUN because, with V_INTR_MASKING, the host's IF at VMRUN decides
 * whether physical interrupts end the guest (APM vol. 2, 15.21.1).
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>

#define GPR(n) (8 * (n))
#define G_RCX	GPR(1)
#define G_RDX	GPR(2)
#define G_RBX	GPR(3)
#define G_RBP	GPR(5)
#define G_RSI	GPR(6)
#define G_RDI	GPR(7)
#define G_R8	GPR(8)
#define G_R9	GPR(9)
#define G_R10	GPR(10)
#define G_R11	GPR(11)
#define G_R12	GPR(12)
#define G_R13	GPR(13)
#define G_R14	GPR(14)
#define G_R15	GPR(15)

	.text
/* void svm_vmrun_asm(u64 vmcb_pa, unsigned long *gprs, u64 host_save_pa) */
SYM_FUNC_START(svm_vmrun_asm)
	push	%rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	push	%rsi			/* 16(%rsp): gprs */
	push	%rdi			/*  8(%rsp): guest VMCB */
	push	%rdx			/*  0(%rsp): host save area */

	mov	%rdx, %rax
	vmsave	%rax

	mov	%rsi, %rax
	mov	G_RCX(%rax), %rcx
	mov	G_RDX(%rax), %rdx
	mov	G_RBX(%rax), %rbx
	mov	G_RBP(%rax), %rbp
	mov	G_RSI(%rax), %rsi
	mov	G_RDI(%rax), %rdi
	mov	G_R8(%rax), %r8
	mov	G_R9(%rax), %r9
	mov	G_R10(%rax), %r10
	mov	G_R11(%rax), %r11
	mov	G_R12(%rax), %r12
	mov	G_R13(%rax), %r13
	mov	G_R14(%rax), %r14
	mov	G_R15(%rax), %r15

	mov	8(%rsp), %rax
	vmload	%rax
	sti
	vmrun	%rax
	cli
	vmsave	%rax

	/* Guest entries in the return stack buffer must not steer the host. */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT

	mov	16(%rsp), %rax
	mov	%rcx, G_RCX(%rax)
	mov	%rdx, G_RDX(%rax)
	mov	%rbx, G_RBX(%rax)
	mov	%rbp, G_RBP(%rax)
	mov	%rsi, G_RSI(%rax)
	mov	%rdi, G_RDI(%rax)
	mov	%r8, G_R8(%rax)
	mov	%r9, G_R9(%rax)
	mov	%r10, G_R10(%rax)
	mov	%r11, G_R11(%rax)
	mov	%r12, G_R12(%rax)
	mov	%r13, G_R13(%rax)
	mov	%r14, G_R14(%rax)
	mov	%r15, G_R15(%rax)

	pop	%rax
	vmload	%rax
	add	$16, %rsp

	/* Leave no guest values in scratch registers. */
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d

	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET
SYM_FUNC_END(svm_vmrun_asm)
