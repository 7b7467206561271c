/* SPDX-License-Identifier: MIT */
/*
 * An exception with an empty IDT: the #DE cannot be delivered (#GP), nor
 * can that (#DF): a triple fault. (A divide error rather than INT3, which
 * the instruction emulator of a nested KVM does not deliver.)
 */
#include "mbhdr.h"
_start:
	lidt idt_null
	xor %edx, %edx
	xor %ecx, %ecx
	mov $1, %eax
	div %ecx
	EXIT 9
	.p2align 3
idt_null:
	.word 0
	.long 0
