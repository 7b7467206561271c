/* SPDX-License-Identifier: MIT */
/* Spins forever: only vmrun's --timeout ends it. */
#include "mbhdr.h"
_start:
	jmp _start
