/* SPDX-License-Identifier: MIT */
/*
 * The loaders' view of guest memory: range checks against the memory map,
 * writes through a callback, the adapter over a real VM, and the pieces
 * every loader shares (options, module placement, the memory map handed
 * to the guest, the boot information area).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "load_internal.h"

static int vm_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	return libvm_mem_write(ctx, gpa, buf, len);
}

int libvm__gm_from_vm(struct libvm__guest_mem *gm, libvm_vm *vm)
{
	libvm_mem_range *r = NULL;
	uint32_t n = 0;
	int err;

	memset(gm, 0, sizeof(*gm));
	LIBVM__CHECK_VM(vm, "libvm_load");
	/* Regions may come and go between the two calls: retry on -E2BIG. */
	for (int tries = 0; tries < 8; tries++) {
		err = libvm_vm_memory_map(vm, NULL, &n);
		if (err)
			return err;
		free(r);
		r = calloc(n ? n : 1, sizeof(*r));
		if (!r)
			return libvm__fail(-ENOMEM, "out of memory for the memory map");
		err = libvm_vm_memory_map(vm, r, &n);
		if (err != -E2BIG)
			break;
	}
	if (err) {
		free(r);
		return err;
	}
	gm->write = vm_write;
	gm->ctx = vm;
	gm->ranges = r;
	gm->nranges = n;
	return 0;
}

int libvm__load_on_vm(libvm__loader *load, libvm_boot *boot, libvm_vm *vm, const void *image,
		      size_t size, const libvm_load_options *opts)
{
	struct libvm__guest_mem gm;
	int err = libvm__gm_from_vm(&gm, vm);

	if (err)
		return err;
	err = load(boot, &gm, image, size, opts);
	libvm__gm_fini(&gm);
	return err;
}

void libvm__gm_fini(struct libvm__guest_mem *gm)
{
	free((void *)gm->ranges);
	gm->ranges = NULL;
	gm->nranges = 0;
}

bool libvm__gm_inside(const struct libvm__guest_mem *gm, uint64_t gpa, uint64_t len,
		      bool ram_only)
{
	uint64_t end;

	if (!libvm__add_ok(gpa, len, &end))
		return false;
	/* Walk the sorted ranges; adjacent ones form one stretch. */
	for (uint32_t i = 0; i < gm->nranges; i++) {
		const libvm_mem_range *r = &gm->ranges[i];
		uint64_t rend = r->gpa + r->length;

		if (ram_only && (r->flags & LIBVM_REGION_READONLY))
			continue;
		if (gpa < r->gpa || gpa > rend || (gpa == rend && len))
			continue;
		if (end <= rend)
			return true;
		/* Continue into the ranges that follow without a gap. */
		gpa = rend;
	}
	return false;
}

int libvm__gm_check(const struct libvm__guest_mem *gm, uint64_t gpa, uint64_t len,
		    bool ram_only, const char *what)
{
	if (libvm__gm_inside(gm, gpa, len, ram_only))
		return 0;
	return libvm__fail(-EFAULT, "%s 0x%llx+0x%llx is outside guest %s", what,
			   (unsigned long long)gpa, (unsigned long long)len,
			   ram_only ? "RAM" : "memory");
}

int libvm__gm_write(const struct libvm__guest_mem *gm, uint64_t gpa, const void *buf,
		    uint64_t len)
{
	const uint8_t *p = buf;

	/* size_t may be narrower than the length on 32-bit hosts. */
	while (len) {
		size_t chunk = len > (1u << 30) ? (1u << 30) : (size_t)len;
		int err = gm->write(gm->ctx, gpa, p, chunk);

		if (err)
			return err;
		gpa += chunk;
		p += chunk;
		len -= chunk;
	}
	return 0;
}

int libvm__gm_zero(const struct libvm__guest_mem *gm, uint64_t gpa, uint64_t len)
{
	static const uint8_t zeroes[4096];

	while (len) {
		size_t chunk = len > sizeof(zeroes) ? sizeof(zeroes) : (size_t)len;
		int err = gm->write(gm->ctx, gpa, zeroes, chunk);

		if (err)
			return err;
		gpa += chunk;
		len -= chunk;
	}
	return 0;
}

int libvm__load_options(libvm_load_options *o, const libvm_load_options *opts)
{
	int err;

	if (!opts) {
		*o = (libvm_load_options)LIBVM_LOAD_OPTIONS_INIT;
		return 0;
	}
	err = libvm__copy_options(o, sizeof(*o), opts, "libvm_load_options");
	if (err)
		return err;
	if (o->nr_modules > LIBVM__MAX_MODULES)
		return libvm__fail(-E2BIG, "%u modules given; at most %u", o->nr_modules,
				   LIBVM__MAX_MODULES);
	if (o->nr_modules && !o->modules)
		return libvm__fail(-EINVAL, "nr_modules is %u but modules is NULL", o->nr_modules);
	for (uint32_t i = 0; i < o->nr_modules; i++)
		if (o->modules[i].size && !o->modules[i].data)
			return libvm__fail(-EINVAL, "module %u: data is NULL", i);
	if (o->flags & ~LIBVM_LOAD_NO_PVH)
		return libvm__fail(-EINVAL, "unknown load flags 0x%x", o->flags & ~LIBVM_LOAD_NO_PVH);
	return 0;
}

/*
 * What a kernel may not claim although it is RAM: the firmware tables
 * (ACPI, MP) that a launcher writes before loading, and which the memory
 * map reports as reserved. Everything else the loaders write besides the
 * kernel is placed afterwards, around it (libvm__boot_layout()).
 */
static int check_reserved(uint64_t gpa, uint64_t len, const char *what, uint32_t idx)
{
	if (libvm__overlaps(gpa, len, LIBVM_FW_AREA_GPA, LIBVM_FW_AREA_SIZE))
		return libvm__fail(-EEXIST,
				   "%s %u at 0x%llx+0x%llx overlaps the firmware table area 0x%llx+0x%llx (reserved in the memory map)",
				   what, idx, (unsigned long long)gpa, (unsigned long long)len,
				   (unsigned long long)LIBVM_FW_AREA_GPA,
				   (unsigned long long)LIBVM_FW_AREA_SIZE);
	return 0;
}

/* Ranges the boot data must avoid, sorted by start. */
struct busy {
	uint64_t gpa, end;
};

static int busy_cmp(const void *a, const void *b)
{
	const struct busy *x = a, *y = b;

	return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

static bool busy_free(const struct busy *b, uint32_t n, uint64_t gpa, uint64_t len)
{
	for (uint32_t i = 0; i < n; i++)
		if (gpa < b[i].end && b[i].gpa < gpa + len)
			return false;
	return true;
}

/* Lowest @align-aligned place for @len bytes below 4 GiB, above @floor. */
static bool busy_find(const struct libvm__guest_mem *gm, const struct busy *b, uint32_t n,
		      uint64_t len, uint64_t align, uint64_t floor, uint64_t *out)
{
	for (uint32_t r = 0; r < gm->nranges; r++) {
		const libvm_mem_range *m = &gm->ranges[r];
		uint64_t end = m->gpa + m->length, cur;

		if (m->flags & LIBVM_REGION_READONLY)
			continue;
		if (end > 0x100000000ull)
			end = 0x100000000ull;
		cur = (m->gpa < floor ? floor : m->gpa);
		cur = (cur + align - 1) & ~(align - 1);
		for (uint32_t i = 0; i < n && cur + len <= end; i++) {
			if (b[i].end <= cur)
				continue;
			if (b[i].gpa >= cur + len)
				break;
			cur = (b[i].end + align - 1) & ~(align - 1);
		}
		if (cur + len <= end) {
			*out = cur;
			return true;
		}
	}
	return false;
}

#define LEGACY_LOW_END 0x500ull /* real-mode IVT and BIOS data area */
#define EBDA_START 0x9fc00ull
#define HIGH_MEMORY 0x100000ull

int libvm__boot_layout(const struct libvm__guest_mem *gm, const struct libvm__load_seg *segs,
		       uint32_t nsegs, const libvm_load_options *o, const uint64_t *mod_gpas,
		       bool info, bool long64, struct libvm__layout *out)
{
	const struct {
		bool want;
		uint64_t pref, len, align;
		const char *name;
		uint64_t *slot;
	} items[] = {
		{ true, LIBVM_BOOT_GDT_GPA, LIBVM_BOOT_GDT_SIZE, 16, "the boot GDT", &out->gdt },
		{ info, LIBVM_BOOT_INFO_GPA, LIBVM_BOOT_INFO_SIZE, LIBVM__PAGE_SIZE,
		  "the boot information area", &out->info },
		{ long64, LIBVM_BOOT_PAGETABLE_GPA, LIBVM_BOOT_PAGETABLE_SIZE, LIBVM__PAGE_SIZE,
		  "the boot page tables", &out->pt },
	};
	uint32_t nmods = o && mod_gpas ? o->nr_modules : 0, n = 0;
	struct busy *b = calloc((size_t)nsegs + nmods + 5, sizeof(*b));

	if (!b)
		return libvm__fail(-ENOMEM, "out of memory for the boot layout");
	memset(out, 0, sizeof(*out));
	b[n++] = (struct busy){ 0, LEGACY_LOW_END };
	b[n++] = (struct busy){ EBDA_START, HIGH_MEMORY };
	for (uint32_t i = 0; i < nsegs; i++)
		if (segs[i].memsz)
			b[n++] = (struct busy){ segs[i].gpa, segs[i].gpa + segs[i].memsz };
	for (uint32_t i = 0; i < nmods; i++)
		if (o->modules[i].size)
			b[n++] = (struct busy){ mod_gpas[i], mod_gpas[i] + o->modules[i].size };
	for (size_t k = 0; k < sizeof(items) / sizeof(items[0]); k++) {
		uint64_t at = items[k].pref;

		if (!items[k].want)
			continue;
		qsort(b, n, sizeof(*b), busy_cmp);
		if (!libvm__gm_inside(gm, at, items[k].len, true) ||
		    !busy_free(b, n, at, items[k].len)) {
			if (!busy_find(gm, b, n, items[k].len, items[k].align, LEGACY_LOW_END, &at)) {
				free(b);
				return libvm__fail(-ENOSPC,
						   "no room for %s (0x%llx bytes) in RAM below 4 GiB beside the kernel and its modules",
						   items[k].name, (unsigned long long)items[k].len);
			}
		}
		*items[k].slot = at;
		b[n++] = (struct busy){ at, at + items[k].len };
	}
	free(b);
	return 0;
}

struct seg_key {
	uint64_t gpa, len;
	uint32_t idx;
};

static int seg_key_cmp(const void *a, const void *b)
{
	const struct seg_key *x = a, *y = b;

	if (x->gpa != y->gpa)
		return x->gpa < y->gpa ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

int libvm__segs_check(const struct libvm__guest_mem *gm, const struct libvm__load_seg *segs,
		      uint32_t n, bool long64, uint64_t *start, uint64_t *end)
{
	struct seg_key *keys;
	uint64_t lo = UINT64_MAX, hi = 0;
	uint32_t nkeys = 0;
	int err;

	for (uint32_t i = 0; i < n; i++) {
		const struct libvm__load_seg *s = &segs[i];
		uint64_t e;

		if (s->filesz > s->memsz)
			return libvm__fail(-EINVAL, "segment %u: file size 0x%llx exceeds memory size 0x%llx",
					   i, (unsigned long long)s->filesz,
					   (unsigned long long)s->memsz);
		if (!libvm__add_ok(s->gpa, s->memsz, &e))
			return libvm__fail(-EFAULT, "segment %u: 0x%llx+0x%llx wraps around",
					   i, (unsigned long long)s->gpa,
					   (unsigned long long)s->memsz);
		if (!libvm__gm_inside(gm, s->gpa, s->memsz, true))
			return libvm__fail(-EFAULT, "segment %u: 0x%llx+0x%llx is outside guest RAM",
					   i, (unsigned long long)s->gpa,
					   (unsigned long long)s->memsz);
		err = check_reserved(s->gpa, s->memsz, "segment", i);
		if (err)
			return err;
		if (s->memsz && s->gpa < lo)
			lo = s->gpa;
		if (s->memsz && e > hi)
			hi = e;
	}
	if (hi == 0)
		return libvm__fail(-EINVAL, "the image has nothing to load");
	/* Overlaps: sort by address and compare neighbours, so that a hostile
	 * image with 65535 segments costs n log n, not n^2. */
	keys = calloc(n, sizeof(*keys));
	if (!keys)
		return libvm__fail(-ENOMEM, "out of memory for %u segments", n);
	for (uint32_t i = 0; i < n; i++)
		if (segs[i].memsz)
			keys[nkeys++] = (struct seg_key){ segs[i].gpa, segs[i].memsz, i };
	qsort(keys, nkeys, sizeof(*keys), seg_key_cmp);
	err = 0;
	for (uint32_t i = 1; i < nkeys && !err; i++) {
		const struct seg_key *a = &keys[i - 1], *b = &keys[i];

		if (libvm__overlaps(a->gpa, a->len, b->gpa, b->len)) {
			const struct seg_key *first = a->idx < b->idx ? a : b;
			const struct seg_key *second = a->idx < b->idx ? b : a;

			err = libvm__fail(-EINVAL,
					  "segment %u at 0x%llx+0x%llx overlaps segment %u at 0x%llx+0x%llx",
					  second->idx, (unsigned long long)second->gpa,
					  (unsigned long long)second->len, first->idx,
					  (unsigned long long)first->gpa,
					  (unsigned long long)first->len);
		}
	}
	free(keys);
	if (err)
		return err;
	*start = lo;
	*end = hi;
	return 0;
}

int libvm__segs_write(const struct libvm__guest_mem *gm, const struct libvm__load_seg *segs,
		      uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		int err = libvm__gm_write(gm, segs[i].gpa, segs[i].src, segs[i].filesz);

		if (!err)
			err = libvm__gm_zero(gm, segs[i].gpa + segs[i].filesz,
					     segs[i].memsz - segs[i].filesz);
		if (err)
			return err;
	}
	return 0;
}

int libvm__modules_place(const struct libvm__guest_mem *gm, const libvm_load_options *o,
			 uint64_t kernel_end, bool long64, uint64_t *gpas, uint64_t *end)
{
	uint64_t next = kernel_end, last = 0;
	int err;

	for (uint32_t i = 0; i < o->nr_modules; i++) {
		uint64_t size = o->modules[i].size, e;

		/* Multiboot 0.6.96 3.1.2 flag 0: modules on 4 KiB boundaries. */
		if (!libvm__add_ok(next, LIBVM__PAGE_SIZE - 1, &next))
			return libvm__fail(-EFAULT, "module %u: no room after the kernel", i);
		next &= ~(LIBVM__PAGE_SIZE - 1);
		/* A low kernel's modules skip the legacy hole (EBDA, video,
		 * BIOS), which the memory map reports as reserved. */
		if (next < HIGH_MEMORY && next + size > EBDA_START)
			next = HIGH_MEMORY;
		if (!libvm__add_ok(next, size, &e) || e > 0xffffffffull)
			return libvm__fail(-EFAULT, "module %u (0x%llx bytes) does not fit below 4 GiB",
					   i, (unsigned long long)size);
		if (!libvm__gm_inside(gm, next, size, true))
			return libvm__fail(-EFAULT,
					   "module %u at 0x%llx+0x%llx is outside guest RAM",
					   i, (unsigned long long)next, (unsigned long long)size);
		err = check_reserved(next, size, "module", i);
		if (err)
			return err;
		gpas[i] = next;
		last = e;
		next = e;
	}
	*end = last;
	return 0;
}

int libvm__modules_write(const struct libvm__guest_mem *gm, const libvm_load_options *o,
			 const uint64_t *gpas)
{
	for (uint32_t i = 0; i < o->nr_modules; i++) {
		int err = libvm__gm_write(gm, gpas[i], o->modules[i].data, o->modules[i].size);

		if (err)
			return err;
	}
	return 0;
}

static int mmap_add(struct libvm__mmap_entry *out, uint32_t *n, uint32_t max, uint64_t addr,
		    uint64_t len, uint32_t type)
{
	if (!len)
		return 0;
	/* Merge with the previous entry when it is adjacent and alike. */
	if (*n && out[*n - 1].type == type && out[*n - 1].addr + out[*n - 1].len == addr) {
		out[*n - 1].len += len;
		return 0;
	}
	if (*n == max)
		return libvm__fail(-E2BIG, "the memory map needs more than %u entries", max);
	out[(*n)++] = (struct libvm__mmap_entry){ .addr = addr, .len = len, .type = type };
	return 0;
}


int libvm__memory_map(const struct libvm__guest_mem *gm, struct libvm__mmap_entry *out,
		      uint32_t max)
{
	uint32_t n = 0;
	int err = 0;

	for (uint32_t i = 0; i < gm->nranges && !err; i++) {
		uint64_t a = gm->ranges[i].gpa, e = a + gm->ranges[i].length;

		if (gm->ranges[i].flags & LIBVM_REGION_READONLY) {
			err = mmap_add(out, &n, max, a, e - a, 2);
			continue;
		}
		/* Split at the EBDA and at 1 MiB: the legacy hole and the BIOS
		 * area (where the firmware tables live) are reserved. */
		if (a < EBDA_START) {
			uint64_t m = e < EBDA_START ? e : EBDA_START;

			err = mmap_add(out, &n, max, a, m - a, 1);
			a = m;
		}
		if (!err && a < HIGH_MEMORY && a < e) {
			uint64_t m = e < HIGH_MEMORY ? e : HIGH_MEMORY;

			err = mmap_add(out, &n, max, a, m - a, 2);
			a = m;
		}
		if (!err && a < e)
			err = mmap_add(out, &n, max, a, e - a, 1);
	}
	return err ? err : (int)n;
}

uint64_t libvm__info_alloc(struct libvm__info_area *ia, uint64_t len, uint64_t align)
{
	uint64_t at = (ia->used + align - 1) & ~(align - 1);

	if (at > sizeof(ia->buf) || len > sizeof(ia->buf) - at)
		return 0;
	ia->used = at + len;
	return ia->base + at;
}

void *libvm__info_ptr(struct libvm__info_area *ia, uint64_t gpa)
{
	return ia->buf + (gpa - ia->base);
}

uint64_t libvm__info_str(struct libvm__info_area *ia, const char *s)
{
	size_t len = strlen(s) + 1;
	uint64_t gpa = libvm__info_alloc(ia, len, 1);

	if (gpa)
		memcpy(libvm__info_ptr(ia, gpa), s, len);
	return gpa;
}
