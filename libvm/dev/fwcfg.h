/* SPDX-License-Identifier: MIT */
/*
 * fw_cfg model (QEMU docs/specs/fw_cfg.rst, traditional interface): plain
 * state and pure functions, no KVM.
 */
#ifndef LIBVM_DEV_FWCFG_H
#define LIBVM_DEV_FWCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Selector keys (spec, "Selector (Control) Register" and the key list). */
#define LIBVM__FWCFG_SIGNATURE 0x0000
#define LIBVM__FWCFG_ID 0x0001
#define LIBVM__FWCFG_RAM_SIZE 0x0003
#define LIBVM__FWCFG_NB_CPUS 0x0005
#define LIBVM__FWCFG_MAX_CPUS 0x000f
#define LIBVM__FWCFG_CMDLINE_SIZE 0x0014
#define LIBVM__FWCFG_CMDLINE_DATA 0x0015
#define LIBVM__FWCFG_FILE_DIR 0x0019
#define LIBVM__FWCFG_FILE_FIRST 0x0020
#define LIBVM__FWCFG_WRITE_CHANNEL 0x4000
#define LIBVM__FWCFG_ARCH_LOCAL 0x8000
#define LIBVM__FWCFG_ENTRY_MASK 0x3fff

#define LIBVM__FWCFG_ID_TRADITIONAL 0x1 /* bit 1 (DMA) deliberately clear */
#define LIBVM__FWCFG_NAME_MAX 56        /* including the NUL */
#define LIBVM__FWCFG_MAX_FILES (LIBVM__FWCFG_ENTRY_MASK + 1 - LIBVM__FWCFG_FILE_FIRST)
#define LIBVM__FWCFG_DIR_ENTRY 64       /* be32 size, be16 select, be16 0, name[56] */
#define LIBVM__FWCFG_CMDLINE_MAX (1u << 20)

struct libvm__fwcfg_file {
	char name[LIBVM__FWCFG_NAME_MAX];
	uint8_t *data;
	uint32_t size;
};

struct libvm__fwcfg {
	uint16_t selector;   /* as the guest wrote it */
	uint32_t offset;     /* read position in the selected item */

	uint64_t ram_size;
	uint16_t nb_cpus;
	uint16_t max_cpus;
	char *cmdline;       /* NUL-terminated copy, or NULL */
	uint32_t cmdline_size; /* strlen + 1, or 0 */

	/* Files in the order added: file i has selector FILE_FIRST + i. */
	struct libvm__fwcfg_file *files;
	uint32_t nr_files;
	uint32_t cap_files;
	uint8_t *dir;        /* the FILE_DIR item, sorted by name */
	uint32_t dir_size;
	bool dir_dirty;      /* files added since dir was built */

	uint8_t scalar[8];   /* scratch for the integer items */
};

/* Fill @f; copies @cmdline. 0, -EINVAL, or -ENOMEM. */
int libvm__fwcfg_init(struct libvm__fwcfg *f, uint64_t ram_size, uint16_t nb_cpus,
		      uint16_t max_cpus, const char *cmdline);
void libvm__fwcfg_fini(struct libvm__fwcfg *f);

/* Add a file (copied). 0, -EINVAL, -EEXIST, -ENOSPC or -ENOMEM. */
int libvm__fwcfg_add_file(struct libvm__fwcfg *f, const char *name, const void *data,
			  size_t len);

/*
 * A guest access. @offset 0 is the selector port (a write selects an item
 * and rewinds it), @offset 1 the data port (reads return the next bytes of
 * the item, 0 past its end; writes are ignored). Reads at either port read
 * data, as in QEMU. Returns 0.
 */
int libvm__fwcfg_access(struct libvm__fwcfg *f, uint32_t offset, void *data, uint32_t len,
			bool is_write);

/*
 * Saved state (docs/snapshot.md, "fw_cfg" version 1): the selected item and
 * the read position in it, with the device's contents described (CPU
 * counts, RAM size, command line and file sizes) so that a load into a
 * device configured otherwise is refused (-EINVAL) instead of handing the
 * guest another item under its read position.
 */
#define LIBVM__FWCFG_STATE_VERSION 1
struct libvm_state_writer;
void libvm__fwcfg_save(const struct libvm__fwcfg *f, struct libvm_state_writer *w);
int libvm__fwcfg_load(struct libvm__fwcfg *f, const void *data, size_t len, uint32_t version);

#endif
