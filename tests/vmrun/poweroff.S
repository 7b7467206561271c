/* SPDX-License-Identifier: MIT */
/* Powers off the ACPI way: SLP_TYP 5 (\_S5) with SLP_EN into PM1a_CNT (0x604). */
#include "mbhdr.h"
_start:
	mov $0x604, %dx
	mov $(5 << 10), %ax
	out %ax, %dx
	mov $(5 << 10 | 1 << 13), %ax
	out %ax, %dx
	EXIT 9
