/* SPDX-License-Identifier: MIT */
/*
 * A multiboot kernel linked low (meson builds it at 0x500, 0x8000,
 * 0x10000, 0x90000 and 0x9dc00, where it ends at the top of conventional
 * memory, 0x9fc00): 8 KiB of image over the places where loaders used to
 * put their own boot data. It checks that the loader put the info struct,
 * the command line, the memory map, the boot GDT and the module elsewhere,
 * that the command line reads "... lowload-ok", and that its last word
 * (a sentinel) arrived intact; then exits with 0 (vmrun status 1), or with
 * the number of the failed check.
 */
#include "mbhdr.h"

/* Exit with \code unless [\base, \base + \len) lies outside the image. */
.macro OUTSIDE base, len, code
	mov \base, %ecx
	lea \len(%ecx), %edx
	cmp $mb_header, %edx
	jbe 9f
	cmp $image_end, %ecx
	jae 9f
	EXIT \code
9:
.endm

_start:
	cmp $0x2BADB002, %eax
	je 1f
	EXIT 2
1:	mov %ebx, %ebp
	OUTSIDE %ebp, 116, 3			/* the info struct */
	testl $4, (%ebp)			/* flags: cmdline given */
	jnz 1f
	EXIT 4
1:	OUTSIDE 16(%ebp), 1, 5			/* the command line */
	OUTSIDE 48(%ebp), 24, 6			/* the memory map */
	OUTSIDE 24(%ebp), 16, 7			/* the module list */
	mov 24(%ebp), %eax
	OUTSIDE (%eax), 1, 8			/* module 0 */
	sgdt gdtr
	OUTSIDE gdtr + 2, 32, 9			/* the boot GDT */
	cmpl $0x5a5aa5a5, sentinel
	je 1f
	EXIT 10
	/* The command line must end with "lowload-ok". */
1:	mov 16(%ebp), %esi
2:	cmpb $0, (%esi)
	je 3f
	inc %esi
	jmp 2b
3:	sub $10, %esi
	mov $want, %edi
	mov $10, %ecx
	cld
	repe cmpsb
	je 4f
	EXIT 11
4:	PUTS msg
	EXIT 0

msg:	.asciz "lowload: boot data placed around the kernel\n"
want:	.ascii "lowload-ok"
	.balign 4
gdtr:	.word 0
	.long 0
	/* 8 KiB in all, the sentinel last. */
	.org 0x2000 - 4
sentinel:
	.long 0x5a5aa5a5
image_end:
