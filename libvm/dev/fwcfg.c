/* SPDX-License-Identifier: MIT */
/*
 * fw_cfg, QEMU's firmware configuration device, through its traditional
 * x86 I/O interface: a 16-bit selector at 0x510 and a byte-wide data port
 * at 0x511 (QEMU docs/specs/fw_cfg.rst). Test kernels read their CPU count
 * and RAM size here; firmware reads the command line and named files.
 * Integers are little-endian except in the file directory, which the spec
 * makes big-endian. No DMA interface, so FW_CFG_ID says "traditional" only.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../state.h"
#include "common.h"
#include "fwcfg.h"

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

int libvm__fwcfg_init(struct libvm__fwcfg *f, uint64_t ram_size, uint16_t nb_cpus,
		      uint16_t max_cpus, const char *cmdline)
{
	memset(f, 0, sizeof(*f));
	f->ram_size = ram_size;
	f->nb_cpus = nb_cpus;
	f->max_cpus = max_cpus;
	if (cmdline) {
		size_t len = strlen(cmdline);

		if (len >= LIBVM__FWCFG_CMDLINE_MAX)
			return libvm__fail(-EINVAL, "fw_cfg: command line of %zu bytes is over 1 MiB",
					   len);
		f->cmdline = strdup(cmdline);
		if (!f->cmdline)
			return libvm__fail(-ENOMEM, "fw_cfg: out of memory");
		f->cmdline_size = (uint32_t)len + 1; /* the NUL is part of it */
	}
	/* An empty directory is still a directory: a count of 0. */
	f->dir = calloc(1, 4);
	if (!f->dir) {
		free(f->cmdline);
		return libvm__fail(-ENOMEM, "fw_cfg: out of memory");
	}
	f->dir_size = 4;
	return 0;
}

void libvm__fwcfg_fini(struct libvm__fwcfg *f)
{
	for (uint32_t i = 0; i < f->nr_files; i++)
		free(f->files[i].data);
	free(f->files);
	free(f->dir);
	free(f->cmdline);
	memset(f, 0, sizeof(*f));
}

static int by_name(const void *a, const void *b)
{
	const struct libvm__fwcfg_file *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* Rebuild the FILE_DIR item. QEMU lists files sorted by name; firmware
 * only searches it, but matching the order costs nothing. */
static int build_dir(struct libvm__fwcfg *f)
{
	uint32_t n = f->nr_files, size = 4 + n * LIBVM__FWCFG_DIR_ENTRY;
	const struct libvm__fwcfg_file **order = malloc((n ? n : 1) * sizeof(*order));
	uint8_t *dir = calloc(1, size);

	if (!order || !dir) {
		free(order);
		free(dir);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++)
		order[i] = &f->files[i];
	qsort(order, n, sizeof(*order), by_name);

	put_be(dir, n, 4);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *e = dir + 4 + i * LIBVM__FWCFG_DIR_ENTRY;
		/* Selectors follow the order of addition, not the sorted
		 * order, so adding a file never renumbers another. */
		uint32_t index = (uint32_t)(order[i] - f->files);

		put_be(e, order[i]->size, 4);
		put_be(e + 4, LIBVM__FWCFG_FILE_FIRST + index, 2);
		/* e[6..7] reserved, zero */
		memcpy(e + 8, order[i]->name, LIBVM__FWCFG_NAME_MAX);
	}
	free(order);
	free(f->dir);
	f->dir = dir;
	f->dir_size = size;
	return 0;
}

int libvm__fwcfg_add_file(struct libvm__fwcfg *f, const char *name, const void *data,
			  size_t len)
{
	struct libvm__fwcfg_file *file;
	size_t name_len;

	if (!name || (!data && len))
		return libvm__fail(-EINVAL, "fw_cfg: %s is NULL", name ? "data" : "name");
	name_len = strlen(name);
	if (name_len == 0 || name_len >= LIBVM__FWCFG_NAME_MAX)
		return libvm__fail(-EINVAL, "fw_cfg: file name '%.60s' is not 1 to %d bytes", name,
				   LIBVM__FWCFG_NAME_MAX - 1);
	if (len > UINT32_MAX)
		return libvm__fail(-EINVAL, "fw_cfg: file '%s' of %zu bytes is 4 GiB or more", name,
				   len);
	for (uint32_t i = 0; i < f->nr_files; i++)
		if (!strcmp(f->files[i].name, name))
			return libvm__fail(-EEXIST, "fw_cfg: file '%s' already exists", name);
	if (f->nr_files >= LIBVM__FWCFG_MAX_FILES)
		return libvm__fail(-ENOSPC, "fw_cfg: all %d file selectors are taken",
				   LIBVM__FWCFG_MAX_FILES);
	if (f->nr_files == f->cap_files) {
		uint32_t cap = f->cap_files ? f->cap_files * 2 : 8;
		struct libvm__fwcfg_file *files = realloc(f->files, cap * sizeof(*files));

		if (!files)
			return libvm__fail(-ENOMEM, "fw_cfg: out of memory");
		f->files = files;
		f->cap_files = cap;
	}
	file = &f->files[f->nr_files];
	memset(file, 0, sizeof(*file));
	memcpy(file->name, name, name_len);
	if (len) {
		file->data = malloc(len);
		if (!file->data)
			return libvm__fail(-ENOMEM, "fw_cfg: out of memory");
		memcpy(file->data, data, len);
	}
	file->size = (uint32_t)len;
	f->nr_files++;
	/* Rebuilt when the guest next selects it: adding many files stays
	 * linear, and a guest reading the directory sees one snapshot. */
	f->dir_dirty = true;
	return 0;
}

/* The bytes of the selected item; size 0 for keys nobody defined. */
static const uint8_t *item(struct libvm__fwcfg *f, uint32_t *size)
{
	uint16_t key = f->selector & LIBVM__FWCFG_ENTRY_MASK;

	*size = 0;
	/* The write-channel bit only matters to writes, which this device
	 * ignores; x86 arch-local keys (ACPI tables, e820, ...) are not
	 * provided. */
	if (f->selector & LIBVM__FWCFG_ARCH_LOCAL)
		return NULL;
	switch (key) {
	case LIBVM__FWCFG_SIGNATURE:
		*size = 4;
		return (const uint8_t *)"QEMU";
	case LIBVM__FWCFG_ID:
		put_le(f->scalar, LIBVM__FWCFG_ID_TRADITIONAL, 4);
		*size = 4;
		return f->scalar;
	case LIBVM__FWCFG_RAM_SIZE:
		put_le(f->scalar, f->ram_size, 8);
		*size = 8;
		return f->scalar;
	case LIBVM__FWCFG_NB_CPUS:
		put_le(f->scalar, f->nb_cpus, 2);
		*size = 2;
		return f->scalar;
	case LIBVM__FWCFG_MAX_CPUS:
		put_le(f->scalar, f->max_cpus, 2);
		*size = 2;
		return f->scalar;
	case LIBVM__FWCFG_CMDLINE_SIZE:
		put_le(f->scalar, f->cmdline_size, 4);
		*size = 4;
		return f->scalar;
	case LIBVM__FWCFG_CMDLINE_DATA:
		*size = f->cmdline_size;
		return (const uint8_t *)f->cmdline;
	case LIBVM__FWCFG_FILE_DIR:
		*size = f->dir_size;
		return f->dir;
	default:
		if (key >= LIBVM__FWCFG_FILE_FIRST && (uint32_t)(key - LIBVM__FWCFG_FILE_FIRST) < f->nr_files) {
			const struct libvm__fwcfg_file *file =
				&f->files[key - LIBVM__FWCFG_FILE_FIRST];

			*size = file->size;
			return file->data;
		}
		return NULL;
	}
}

int libvm__fwcfg_access(struct libvm__fwcfg *f, uint32_t offset, void *data, uint32_t len,
			bool is_write)
{
	uint8_t *out = data;
	const uint8_t *p;
	uint32_t size;

	if (is_write) {
		/* Only the selector is writable: a 16-bit register, set by an
		 * outw (or outb, taking the byte as QEMU does). Data writes
		 * were dropped from the spec (QEMU 2.4) and are ignored. */
		if (offset == 0) {
			uint16_t sel = 0;

			memcpy(&sel, data, len >= 2 ? 2 : 1);
			f->selector = sel;
			f->offset = 0;
			/* Out of memory keeps the previous directory: stale,
			 * but consistent. */
			if (!(sel & LIBVM__FWCFG_ARCH_LOCAL) &&
			    (sel & LIBVM__FWCFG_ENTRY_MASK) == LIBVM__FWCFG_FILE_DIR && f->dir_dirty &&
			    build_dir(f) == 0)
				f->dir_dirty = false;
		}
		return 0;
	}
	p = item(f, &size);
	/* A wider read returns successive bytes in address order. */
	for (uint32_t i = 0; i < len; i++) {
		out[i] = f->offset < size ? p[f->offset] : 0;
		if (f->offset < UINT32_MAX)
			f->offset++;
	}
	return 0;
}

/* What the guest can read, summed up: the files' names and sizes. */
static uint64_t files_digest(const struct libvm__fwcfg *f)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (uint32_t i = 0; i < f->nr_files; i++) {
		const struct libvm__fwcfg_file *file = &f->files[i];

		for (size_t k = 0; k < sizeof(file->name) && file->name[k]; k++)
			h = (h ^ (uint8_t)file->name[k]) * 1099511628211ull;
		for (int k = 0; k < 4; k++)
			h = (h ^ (uint8_t)(file->size >> (8 * k))) * 1099511628211ull;
	}
	return h;
}

void libvm__fwcfg_save(const struct libvm__fwcfg *f, struct libvm_state_writer *w)
{
	libvm__enc_u16(w, f->selector);
	libvm__enc_u32(w, f->offset);
	libvm__enc_u64(w, f->ram_size);
	libvm__enc_u16(w, f->nb_cpus);
	libvm__enc_u16(w, f->max_cpus);
	libvm__enc_u32(w, f->cmdline_size);
	libvm__enc_u32(w, f->nr_files);
	libvm__enc_u64(w, files_digest(f));
}

int libvm__fwcfg_load(struct libvm__fwcfg *f, const void *data, size_t len, uint32_t version)
{
	struct libvm__dec d;
	uint16_t selector, nb_cpus, max_cpus;
	uint32_t offset, cmdline_size, nr_files;
	uint64_t ram_size, digest;
	int err;

	(void)version;
	libvm__dec_init(&d, data, len);
	selector = libvm__dec_u16(&d);
	offset = libvm__dec_u32(&d);
	ram_size = libvm__dec_u64(&d);
	nb_cpus = libvm__dec_u16(&d);
	max_cpus = libvm__dec_u16(&d);
	cmdline_size = libvm__dec_u32(&d);
	nr_files = libvm__dec_u32(&d);
	digest = libvm__dec_u64(&d);
	err = libvm__dec_done(&d, "fw_cfg");
	if (err)
		return err;
	if (ram_size != f->ram_size || nb_cpus != f->nb_cpus || max_cpus != f->max_cpus ||
	    cmdline_size != f->cmdline_size || nr_files != f->nr_files ||
	    digest != files_digest(f))
		return libvm__fail(-EINVAL, "fw_cfg: the snapshot's device had other contents (%u CPUs, %llu bytes of RAM, a %u-byte command line, %u files; this one %u, %llu, %u, %u)",
				   nb_cpus, (unsigned long long)ram_size, cmdline_size, nr_files,
				   f->nb_cpus, (unsigned long long)f->ram_size, f->cmdline_size,
				   f->nr_files);
	/* A guest half-way through the directory reads the same one on. */
	if (!(selector & LIBVM__FWCFG_ARCH_LOCAL) &&
	    (selector & LIBVM__FWCFG_ENTRY_MASK) == LIBVM__FWCFG_FILE_DIR && f->dir_dirty) {
		if (build_dir(f))
			return libvm__fail(-ENOMEM, "fw_cfg: out of memory");
		f->dir_dirty = false;
	}
	f->selector = selector;
	f->offset = offset;
	return 0;
}

struct libvm_fwcfg {
	uint32_t magic;
	libvm_vm *vm;
	pthread_mutex_t lock;
	struct libvm__devrange range;
	struct libvm__fwcfg st;
};

static int fwcfg_io(libvm_vcpu *vcpu, uint64_t addr, void *data, uint32_t len, bool is_write,
		    void *opaque)
{
	libvm_fwcfg *f = opaque;

	/* One lock for selector and stream: the guest's select-then-read is
	 * its own business, but the state must stay consistent. */
	pthread_mutex_lock(&f->lock);
	libvm__fwcfg_access(&f->st, (uint32_t)(addr - f->range.base), data, len, is_write);
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static int fwcfg_state_save(libvm_state_writer *w, void *opaque)
{
	libvm_fwcfg *f = opaque;

	pthread_mutex_lock(&f->lock);
	libvm__fwcfg_save(&f->st, w);
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static int fwcfg_state_load(const void *data, size_t len, uint32_t version, void *opaque)
{
	libvm_fwcfg *f = opaque;
	int err;

	pthread_mutex_lock(&f->lock);
	err = libvm__fwcfg_load(&f->st, data, len, version);
	pthread_mutex_unlock(&f->lock);
	return err;
}

/* What libvm_vm_destroy() calls for a device still attached. */
static void fwcfg_release(void *dev)
{
	libvm_fwcfg_detach(dev);
}

LIBVM_EXPORT int libvm_fwcfg_attach(libvm_fwcfg **out, libvm_vm *vm,
				    const libvm_fwcfg_options *opts)
{
	libvm_fwcfg_options o = LIBVM_FWCFG_OPTIONS_INIT;
	libvm_fwcfg *f;
	int err;

	if (!out || !opts)
		return libvm__fail(-EINVAL, "libvm_fwcfg_attach: %s is NULL", out ? "opts" : "out");
	LIBVM__CHECK_VM(vm, "libvm_fwcfg_attach");
	err = libvm__dev_options(&o, sizeof(o), opts, "libvm_fwcfg_attach");
	if (err)
		return err;
	if (!o.port)
		o.port = 0x510;
	if (!o.nb_cpus)
		return libvm__fail(-EINVAL, "fw_cfg: nb_cpus is 0; pass the number of vCPUs");
	if (!o.max_cpus)
		o.max_cpus = o.nb_cpus;
	if (o.max_cpus < o.nb_cpus)
		return libvm__fail(-EINVAL, "fw_cfg: max_cpus %u is below nb_cpus %u", o.max_cpus,
				   o.nb_cpus);
	if (!libvm__dev_ports_ok(o.port, 2))
		return libvm__fail(-EINVAL, "fw_cfg: ports 0x%x+2 go past 0xffff", o.port);
	f = calloc(1, sizeof(*f));
	if (!f)
		return libvm__fail(-ENOMEM, "fw_cfg: out of memory");
	f->magic = LIBVM__MAGIC_FWCFG;
	err = libvm__fwcfg_init(&f->st, o.ram_size, o.nb_cpus, o.max_cpus, o.cmdline);
	if (err) {
		free(f);
		return err;
	}
	f->vm = vm;
	pthread_mutex_init(&f->lock, NULL);
	f->range = (struct libvm__devrange){ LIBVM_SPACE_PIO, o.port, 2, "fw_cfg", fwcfg_io };
	err = libvm__dev_register(vm, &f->range, 1, f, fwcfg_release);
	if (!err) {
		err = libvm__state_add(vm, LIBVM__FWCFG_STATE_VERSION, 0, fwcfg_state_save,
				       fwcfg_state_load, NULL, f, "fw_cfg@0x%x", o.port);
		if (err)
			libvm__dev_unregister(vm, &f->range, 1, f);
	}
	if (err) {
		libvm__fwcfg_fini(&f->st);
		pthread_mutex_destroy(&f->lock);
		free(f);
		return err;
	}
	*out = f;
	return 0;
}

LIBVM_EXPORT void libvm_fwcfg_detach(libvm_fwcfg *fwcfg)
{
	if (!libvm__live(fwcfg, LIBVM__MAGIC_FWCFG) ||
	    !libvm__dev_unregister(fwcfg->vm, &fwcfg->range, 1, fwcfg))
		return;
	libvm__fwcfg_fini(&fwcfg->st);
	pthread_mutex_destroy(&fwcfg->lock);
	libvm__bury(fwcfg, sizeof(*fwcfg));
}

LIBVM_EXPORT int libvm_fwcfg_add_file(libvm_fwcfg *fwcfg, const char *name, const void *data,
				      size_t len)
{
	int err;

	LIBVM__CHECK_HANDLE(fwcfg, LIBVM__MAGIC_FWCFG, "libvm_fwcfg_add_file", "fwcfg", "fw_cfg");
	pthread_mutex_lock(&fwcfg->lock);
	err = libvm__fwcfg_add_file(&fwcfg->st, name, data, len);
	pthread_mutex_unlock(&fwcfg->lock);
	return err;
}
