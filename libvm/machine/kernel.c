/* SPDX-License-Identifier: MIT */
/*
 * The PC machine's kernel: read from a file (mapped read-only) or taken
 * from memory, its format detected from the header unless forced, its
 * modules read the same way, and each handed to the loader of its format
 * (libvm/load/). Files are only kept open while the machine is built.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../internal.h"
#include "machine_internal.h"

/* A whole file in memory, read-only; the caller munmap()s it. */
static int map_file(const char *path, const char *what, const void **data, size_t *size)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0 || fstat(fd, &st) < 0) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		return libvm__fail(err, "machine: %s %s: %s", what, path, strerror(-err));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return libvm__fail(-EINVAL, "machine: %s %s is not a regular file", what, path);
	}
	*size = (size_t)st.st_size;
	if (!*size) {
		/* An empty module is allowed; mmap() of 0 bytes is not. */
		close(fd);
		*data = NULL;
		return 0;
	}
	p = mmap(NULL, *size, PROT_READ, MAP_PRIVATE, fd, 0);
	err = -errno;
	close(fd);
	if (p == MAP_FAILED)
		return libvm__fail(err, "machine: %s %s: %s", what, path, strerror(-err));
	*data = p;
	return 0;
}

int libvm__machine_kernel_open(libvm_machine *m, const libvm_machine_options *o)
{
	const char *cmdline = o->cmdline;
	int err;

	m->kernel_format = LIBVM_FORMAT_UNKNOWN;
	if (o->kernel_path) {
		err = map_file(o->kernel_path, "kernel", &m->image, &m->image_size);
		if (err)
			return err;
		m->image_mapped = m->image != NULL;
		if (!m->image_size)
			return libvm__fail(-ENOEXEC, "machine: kernel %s is empty", o->kernel_path);
	} else if (o->kernel_image) {
		m->image = o->kernel_image;
		m->image_size = o->kernel_size;
	}
	m->has_kernel = m->image != NULL;
	if (m->has_kernel) {
		int f = libvm_load_detect(m->image, m->image_size);
		bool elf = f == LIBVM_FORMAT_ELF32 || f == LIBVM_FORMAT_ELF64 ||
			   f == LIBVM_FORMAT_PVH;

		m->kernel_format = o->kernel_format;
		if (!m->kernel_format)
			m->kernel_format = f > 0 ? (uint32_t)f : LIBVM_FORMAT_FLAT;
		/* Any ELF format asked for: the flavour the image has (a PVH
		 * note makes it a Linux kernel). */
		else if (elf && (m->kernel_format == LIBVM_FORMAT_ELF32 ||
				 m->kernel_format == LIBVM_FORMAT_ELF64 ||
				 m->kernel_format == LIBVM_FORMAT_PVH))
			m->kernel_format = (uint32_t)f;
	}
	if (!cmdline && (m->kernel_format == LIBVM_FORMAT_BZIMAGE ||
			 m->kernel_format == LIBVM_FORMAT_PVH))
		cmdline = LIBVM_MACHINE_LINUX_CMDLINE;
	if (cmdline) {
		m->cmdline = strdup(cmdline);
		if (!m->cmdline)
			return libvm__fail(-ENOMEM, "machine: out of memory");
	}
	return 0;
}

void libvm__machine_kernel_fini(libvm_machine *m)
{
	if (m->image_mapped)
		munmap((void *)m->image, m->image_size);
	m->image_mapped = false;
	m->image = NULL;
	m->image_size = 0;
}

/* The modules as the loaders take them; file ones mapped (@mapped[i]). */
static int read_modules(const libvm_machine_options *o, libvm_load_module *mods,
			bool *mapped, uint32_t *n)
{
	libvm_machine_module initrd = { .path = o->initrd_path };
	const libvm_machine_module *src = o->initrd_path ? &initrd : o->modules;
	uint32_t count = o->initrd_path ? 1 : o->nr_modules;

	for (*n = 0; *n < count; (*n)++) {
		const libvm_machine_module *s = &src[*n];
		libvm_load_module *d = &mods[*n];

		*d = (libvm_load_module){ .string = s->string };
		if (s->path) {
			const void *data;
			size_t size;
			int err = map_file(s->path, o->initrd_path ? "initrd" : "module", &data,
					   &size);

			if (err)
				return err;
			d->data = data;
			d->size = size;
			mapped[*n] = data != NULL;
		} else {
			if (!s->data && s->size)
				return libvm__fail(-EINVAL, "machine: module %u has no path and no data",
						   *n);
			d->data = s->data;
			d->size = s->size;
		}
	}
	return 0;
}

int libvm__machine_kernel_load(libvm_machine *m, const libvm_machine_options *o)
{
	libvm_load_module mods[64];
	bool mapped[64] = { false };
	libvm_load_options lo = LIBVM_LOAD_OPTIONS_INIT;
	uint32_t n = 0;
	int err;

	if (!m->has_kernel)
		return 0;
	err = read_modules(o, mods, mapped, &n);
	if (err)
		goto out;
	lo.kernel_name = o->kernel_name ? o->kernel_name : o->kernel_path;
	lo.cmdline = m->cmdline;
	lo.rsdp_gpa = m->rsdp;
	lo.modules = mods;
	lo.nr_modules = n;
	switch (m->kernel_format) {
	case LIBVM_FORMAT_MULTIBOOT:
		err = libvm_load_multiboot(&m->boot, m->vm, m->image, m->image_size, &lo);
		break;
	case LIBVM_FORMAT_ELF32:
	case LIBVM_FORMAT_ELF64:
	case LIBVM_FORMAT_PVH:
		err = libvm_load_elf(&m->boot, m->vm, m->image, m->image_size, &lo);
		break;
	case LIBVM_FORMAT_BZIMAGE:
		err = libvm_load_bzimage(&m->boot, m->vm, m->image, m->image_size, &lo);
		break;
	default:
		/* A command line still reaches it through fw_cfg. */
		if (n) {
			err = libvm__fail(-EINVAL, "a flat binary takes no modules");
			break;
		}
		err = libvm_load_flat(&m->boot, m->vm, m->image, m->image_size, o->load_addr);
		break;
	}
	if (err)
		libvm__machine_fail(err, o->kernel_path ? o->kernel_path : "load the kernel");
out:
	for (uint32_t i = 0; i < n; i++)
		if (mapped[i])
			munmap((void *)mods[i].data, mods[i].size);
	return err;
}
