/* SPDX-License-Identifier: MIT */
/*
 * A multiboot v1 header with a.out-kludge addresses for the one-page test
 * kernels of this folder: linked at 1 MiB, loaded whole, entered at _start.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00010000 /* addresses in the header */

	.code32
	.section .text
	.globl _start
mb_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
	.long mb_header, mb_header, 0, 0, _start

/* Write the string at \label to COM1. */
.macro PUTS label
	mov $\label, %esi
	mov $0x3f8, %dx
1:	lodsb
	test %al, %al
	jz 2f
	out %al, %dx
	jmp 1b
2:
.endm

/* Leave through the exit device with status (\v << 1) | 1. */
.macro EXIT v
	mov $0xf4, %dx
	mov $\v, %eax
	out %eax, %dx
	hlt
.endm
