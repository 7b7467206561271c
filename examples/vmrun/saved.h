/* SPDX-License-Identifier: MIT */
/*
 * What vmrun keeps in a snapshot (the application's bytes of
 * include/libvm/snapshot.h) to build the same machine again: the options
 * that make the machine, and the kernel's format (the kernel file itself
 * is not needed to restore, its image being in the saved memory).
 */
#ifndef VMRUN_SAVED_H
#define VMRUN_SAVED_H

#include <stddef.h>

#include "options.h"

/* The bytes for @o and @kernel_format (malloc'ed into *@data). 0 or -ENOMEM. */
int saved_encode(const struct vmrun_options *o, int kernel_format, void **data, size_t *len);

/*
 * The options of a restored VM: the saved ones with those of @argv (the
 * command line as given, unparsed) on top; disks or modules given there
 * replace the saved lists. @o receives them, *@kernel_format the saved
 * format. The strings @o points to live until saved_free(@keep).
 * Returns -1 to go on (as vmrun_parse_options()), or an exit status.
 */
int saved_options(struct vmrun_options *o, int *kernel_format, const void *data, size_t len,
		  int argc, char **argv, void **keep);
void saved_free(void *keep);

#endif
