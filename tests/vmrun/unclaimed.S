/* SPDX-License-Identifier: MIT */
/*
 * Ports and MMIO no device claims: reads give all-ones of every width and
 * writes are ignored, and the guest goes on (a PC bus with nothing there).
 */
#include "mbhdr.h"
_start:
	mov $0x1234, %dx
	mov $0x5a, %al
	out %al, %dx
	in %dx, %al
	cmp $0xff, %al
	jne 9f
	in %dx, %ax
	cmp $0xffff, %ax
	jne 9f
	in %dx, %eax
	cmp $0xffffffff, %eax
	jne 9f
	/* 0xd0000000: neither RAM nor a device in vmrun's machine. */
	movl $0x12345678, 0xd0000000
	mov 0xd0000000, %eax
	cmp $0xffffffff, %eax
	jne 9f
	EXIT 0
9:	EXIT 1
