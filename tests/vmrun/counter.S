/* SPDX-License-Identifier: MIT */
/*
 * Counts in memory and prints each count on COM1 every 50 ms of PM timer
 * time, then exits with 0 at the 120th: a guest to snapshot, restore and
 * migrate mid-run. "START" is printed only at boot, so a restored run that
 * prints it again has restarted instead of carrying on. The count lives in
 * RAM at 0x200000 (beyond the image), the pacing in the PM timer (32 bits
 * at 0x608, as vmrun sets it up), the rest in registers.
 */
#include "mbhdr.h"

#define COUNT 0x200000
#define LINES 120
#define TICKS_50MS 178977 /* 3.579545 MHz */

_start:
	mov $0x180000, %esp
	PUTS start_msg
next:
	mov $0x608, %dx
	in %dx, %eax
	mov %eax, %ebx
1:	in %dx, %eax
	sub %ebx, %eax
	cmp $TICKS_50MS, %eax
	jb 1b
	incl COUNT
	PUTS count_msg
	mov COUNT, %eax
	call puthex
	mov $0x3f8, %dx
	mov $'\n', %al
	out %al, %dx
	cmpl $LINES, COUNT
	jb next
	PUTS done_msg
	EXIT 0

/* Print %eax as 8 hex digits. */
puthex:
	mov %eax, %ecx
	mov $8, %edi
	mov $0x3f8, %dx
1:	rol $4, %ecx
	mov %ecx, %eax
	and $0xf, %eax
	mov hexdigits(%eax), %al
	out %al, %dx
	dec %edi
	jnz 1b
	ret

start_msg: .asciz "START\n"
count_msg: .asciz "COUNT "
done_msg: .asciz "DONE\n"
hexdigits: .ascii "0123456789abcdef"
