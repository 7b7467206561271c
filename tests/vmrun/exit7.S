/* SPDX-License-Identifier: MIT */
/* Exits with 7: vmrun's status must be (7 << 1) | 1 = 15. */
#include "mbhdr.h"
_start:
	EXIT 7
