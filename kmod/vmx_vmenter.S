/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One VM entry: write the host RSP into the VMCS, load the guest's GPRs
 * (RSP, RIP and RFLAGS go by the VMCS), VMLAUNCH or VMRESUME.  A VM exit
 * lands on vmx_vmexit (the VMCS's HOST_RIP) with RSP as written here; the
 * guest's GPRs go back to the array and the host's callee-saved registers
 * come off the stack.  Called with interrupts disabled (SDM vol. 3C, 27
 * "VM Entries", 28.5 "Loading Host State").
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>
#include <asm/segment.h>
#include <asm/unwind_hints.h>

#define VMCS_HOST_RSP	0x6c14

#define GPR(n) (8 * (n))
#define G_RAX	GPR(0)
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
/* int vmx_vmenter_asm(unsigned long *gprs, bool launched) */
SYM_FUNC_START(vmx_vmenter_asm)
	push	%rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	push	%rdi			/* 0(%rsp): gprs, found again at exit */

	mov	$VMCS_HOST_RSP, %eax
	vmwrite	%rsp, %rax
	jbe	.Lfail

	cmpb	$0, %sil		/* ZF: launch; movs keep the flags */
	mov	%rdi, %rax
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
	mov	G_RAX(%rax), %rax

	/* Control comes back at vmx_vmexit, not after these. */
	UNWIND_HINT_SAVE
	jz	.Llaunch
	vmresume
	jmp	.Lfail
.Llaunch:
	vmlaunch
	jmp	.Lfail

SYM_INNER_LABEL(vmx_vmexit, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	push	%rax
	mov	8(%rsp), %rax
	pop	G_RAX(%rax)
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

	/* Guest entries in the return stack buffer must not steer the host. */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT

	xor	%eax, %eax
	jmp	.Lout

.Lfail:
	mov	$1, %eax
.Lout:
	add	$8, %rsp
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
SYM_FUNC_END(vmx_vmenter_asm)

/*
 * void vmx_host_nmi_asm(void): an NMI that ended the guest ("NMI exiting",
 * SDM vol. 3C 26.2) is gone from the CPU's view; hand it to the kernel's
 * NMI entry with the interrupt frame the CPU would have pushed (SS, RSP,
 * RFLAGS, CS, RIP on a 16-byte aligned stack).  Its IRET comes back here.
 */
SYM_FUNC_START(vmx_host_nmi_asm)
	push	%rbp
	mov	%rsp, %rbp
	and	$-16, %rsp
	push	$__KERNEL_DS
	push	%rbp
	pushf
	push	$__KERNEL_CS
	call	asm_exc_nmi_noist
	/* IRET already put RSP back; objtool does not know that. */
	mov	%rbp, %rsp
	pop	%rbp
	RET
SYM_FUNC_END(vmx_host_nmi_asm)
