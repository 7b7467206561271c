/* SPDX-License-Identifier: MIT */
/* Asks the i8042 for a reset (command 0xFE to port 0x64). */
#include "mbhdr.h"
_start:
	mov $0xfe, %al
	out %al, $0x64
	EXIT 9
