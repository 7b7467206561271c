/* SPDX-License-Identifier: MIT */
/*
 * vmrun's bytes in a snapshot (see saved.h). Layout: "VMRUN\0\0\0", u32
 * version 1, u32 the kernel's format (LIBVM_FORMAT_*), u32 the number of
 * arguments, then the arguments, each NUL-terminated: the machine's
 * options as vmrun_machine_args() writes them, so that a later vmrun
 * parses them with the options it knows then.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "saved.h"

#define MAGIC "VMRUN\0\0\0"

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int saved_encode(const struct vmrun_options *o, int kernel_format, void **data, size_t *len)
{
	int n;
	char **args = vmrun_machine_args(o, false, false, &n);
	size_t size = 20;
	uint8_t *p;

	if (!args)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		size += strlen(args[i]) + 1;
	p = malloc(size);
	if (!p) {
		vmrun_free_args(args);
		return -ENOMEM;
	}
	memcpy(p, MAGIC, 8);
	put32(p + 8, 1);
	put32(p + 12, (uint32_t)kernel_format);
	put32(p + 16, (uint32_t)n);
	*len = 20;
	for (int i = 0; i < n; i++) {
		size_t k = strlen(args[i]) + 1;

		memcpy(p + *len, args[i], k);
		*len += k;
	}
	vmrun_free_args(args);
	*data = p;
	return 0;
}

/* What saved_options() hands out and saved_free() releases. */
struct keep {
	char **argv;      /* the merged command line (its strings) */
	char **machine;   /* vmrun_machine_args() of the saved options */
	char *copy;       /* the saved arguments */
};

void saved_free(void *keep)
{
	struct keep *k = keep;

	if (!k)
		return;
	for (char **a = k->argv; a && *a; a++)
		free(*a);
	free(k->argv);
	vmrun_free_args(k->machine);
	free(k->copy);
	free(k);
}

/* @argv's strings, copied (parsing writes into them). */
static char **dup_args(int argc, char **argv, int skip_from, int extra)
{
	char **v = calloc((size_t)(argc + extra + 1), sizeof(*v));

	for (int i = skip_from; v && i < argc; i++)
		if (!(v[i - skip_from + extra] = strdup(argv[i])))
			return NULL;
	return v;
}

int saved_options(struct vmrun_options *o, int *kernel_format, const void *data, size_t len,
		  int argc, char **argv, void **keep_out)
{
	const uint8_t *p = data;
	struct vmrun_options saved, given;
	struct keep *k = calloc(1, sizeof(*k));
	char **sargv, **gargv;
	uint32_t n;
	size_t at = 20;
	int status, nm;

	*keep_out = k;
	if (!k)
		return VMRUN_STATUS_ERROR;
	if (len < 20 || memcmp(p, MAGIC, 8) || get32(p + 8) != 1 || get32(p + 16) > 1000) {
		fprintf(stderr, "vmrun: the snapshot was not written by vmrun (or by a newer one)\n");
		return VMRUN_STATUS_ERROR;
	}
	*kernel_format = (int)get32(p + 12);
	n = get32(p + 16);
	/* The saved arguments, behind a program name, as an argv. */
	k->copy = malloc(len - 20 + 1);
	sargv = calloc(n + 2, sizeof(*sargv));
	if (!k->copy || !sargv) {
		free(sargv);
		return VMRUN_STATUS_ERROR;
	}
	memcpy(k->copy, p + 20, len - 20);
	k->copy[len - 20] = '\0';
	sargv[0] = argv[0];
	for (uint32_t i = 0; i < n; i++) {
		size_t l;

		if (at >= len) {
			free(sargv);
			fprintf(stderr, "vmrun: the snapshot's vmrun options are cut short\n");
			return VMRUN_STATUS_ERROR;
		}
		sargv[1 + i] = k->copy + (at - 20);
		l = strlen(sargv[1 + i]);
		at += l + 1;
	}
	status = vmrun_parse_options(&saved, (int)n + 1, sargv);
	free(sargv);
	if (status >= 0) {
		fprintf(stderr, "vmrun: the snapshot's vmrun options do not parse\n");
		return VMRUN_STATUS_ERROR;
	}
	/* What the command line gives, parsed on a copy. */
	gargv = dup_args(argc, argv, 0, 0);
	if (!gargv)
		return VMRUN_STATUS_ERROR;
	status = vmrun_parse_options(&given, argc, gargv);
	for (char **a = gargv; *a; a++)
		free(*a);
	free(gargv);
	if (status >= 0)
		return status;
	if (given.kernel) {
		fprintf(stderr, "vmrun: a restored VM's kernel is the snapshot's: give no KERNEL\n");
		return VMRUN_STATUS_ERROR;
	}
	/* Saved machine first, then the command line: its options win. */
	k->machine = vmrun_machine_args(&saved, given.nr_disks > 0, given.nr_modules > 0, &nm);
	if (!k->machine)
		return VMRUN_STATUS_ERROR;
	k->argv = dup_args(argc, argv, 1, nm + 1);
	if (!k->argv || !(k->argv[0] = strdup(argv[0])))
		return VMRUN_STATUS_ERROR;
	for (int i = 0; i < nm; i++)
		if (!(k->argv[1 + i] = strdup(k->machine[i])))
			return VMRUN_STATUS_ERROR;
	return vmrun_parse_options(o, argc - 1 + nm + 1, k->argv);
}
