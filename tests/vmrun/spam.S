/* SPDX-License-Identifier: MIT */
/* Writes 'A' to COM1 for ever, never waiting: fills any slow reader. */
#include "mbhdr.h"
_start:
	mov $0x3f8, %dx
	mov $'A', %al
1:	out %al, %dx
	jmp 1b
