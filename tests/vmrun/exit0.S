/* SPDX-License-Identifier: MIT */
/* Checks the multiboot magic, prints a line, exits with 0 (vmrun status 1). */
#include "mbhdr.h"
_start:
	cmp $0x2BADB002, %eax
	jne 3f
	PUTS msg
	EXIT 0
3:	EXIT 5
msg:	.asciz "exit0: hello\n"
