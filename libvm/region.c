/* SPDX-License-Identifier: MIT */
/*
 * Guest memory: regions mapped into KVM memory slots, and the bounds-checked
 * host accessors libvm_mem_read/write. The region map is a rangemap keyed
 * by guest-physical address, guarded by vm->mem_lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static int slot_alloc(libvm_vm *vm)
{
	for (uint32_t i = 0; i < vm->nr_slots; i++) {
		if (!(vm->slot_used[i / 64] & (1ull << (i % 64)))) {
			vm->slot_used[i / 64] |= 1ull << (i % 64);
			return (int)i;
		}
	}
	return -ENOSPC;
}

static void slot_free(libvm_vm *vm, uint32_t slot)
{
	vm->slot_used[slot / 64] &= ~(1ull << (slot % 64));
}

static int set_slot(libvm_vm *vm, uint32_t slot, uint32_t flags, uint64_t gpa,
		    uint64_t size, void *host)
{
	struct kvm_userspace_memory_region m = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};

	int r = libvm__bk_set_user_memory_region(vm, &m);

	return r < 0 ? r : 0;
}

static int check_layout(const libvm_vm *vm, const libvm_region_options *o)
{
	if (o->length == 0)
		return libvm__fail(-EINVAL, "region '%s': length is zero", o->name ? o->name : "");
	if ((o->gpa | o->length) & (LIBVM__PAGE_SIZE - 1))
		return libvm__fail(-EINVAL,
				   "region '%s': gpa 0x%llx and length 0x%llx must be 4 KiB aligned",
				   o->name ? o->name : "", (unsigned long long)o->gpa,
				   (unsigned long long)o->length);
	if (!libvm__range_valid(o->gpa, o->length) || o->gpa + o->length > LIBVM__GPA_LIMIT)
		return libvm__fail(-EINVAL,
				   "region '%s': 0x%llx+0x%llx leaves the 52-bit physical address space",
				   o->name ? o->name : "", (unsigned long long)o->gpa,
				   (unsigned long long)o->length);
	if (o->flags & ~LIBVM__REGION_FLAGS)
		return libvm__fail(-EINVAL, "region '%s': unknown flags 0x%x",
				   o->name ? o->name : "", o->flags & ~LIBVM__REGION_FLAGS);
	if ((o->flags & LIBVM_REGION_READONLY) && !vm->has_readonly_mem)
		return libvm__fail(-ENOTSUP, "read-only regions are not supported by %s",
				   vm->device_path);
	if (o->host_addr && ((uintptr_t)o->host_addr & (LIBVM__PAGE_SIZE - 1)))
		return libvm__fail(-EINVAL, "region '%s': host_addr %p is not page aligned",
				   o->name ? o->name : "", o->host_addr);
	if (!o->host_addr && o->fd >= 0 && (o->offset & (LIBVM__PAGE_SIZE - 1)))
		return libvm__fail(-EINVAL, "region '%s': file offset 0x%llx is not page aligned",
				   o->name ? o->name : "", (unsigned long long)o->offset);
	if (o->length > SIZE_MAX)
		return libvm__fail(-EINVAL, "region '%s': too large for this host",
				   o->name ? o->name : "");
	return 0;
}

/*
 * Fresh anonymous memory for a region at @gpa. From 2 MiB up it is placed
 * so that host and guest addresses agree modulo 2 MiB: KVM maps a guest
 * page with a 2 MiB page only where both sides of it are 2 MiB pages, so a
 * misplaced mapping keeps every guest access on 4 KiB pages (a guest
 * touching 1 GiB ran 2-3x slower that way, bench/start). Over-allocate by
 * 2 MiB, keep the congruent part, give the rest back; then advise huge
 * pages (or, with LIBVM_REGION_NO_HUGEPAGE, ask for none).
 */
static void *map_anonymous(uint64_t gpa, uint64_t length, uint32_t flags)
{
	const uint64_t huge = LIBVM__HUGE_PAGE_SIZE;
	int prot = PROT_READ | PROT_WRITE;
	int mflags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	uint8_t *p, *start;
	uint64_t head;

	if ((flags & LIBVM_REGION_NO_HUGEPAGE) || length < huge || length > SIZE_MAX - huge) {
		p = mmap(NULL, length, prot, mflags, -1, 0);
		if (p != MAP_FAILED && (flags & LIBVM_REGION_NO_HUGEPAGE))
			madvise(p, length, MADV_NOHUGEPAGE);
		return p;
	}
	p = mmap(NULL, length + huge, prot, mflags, -1, 0);
	if (p == MAP_FAILED)
		return p;
	/* the first address at or after p that is congruent to gpa */
	head = ((gpa & (huge - 1)) - ((uintptr_t)p & (huge - 1))) & (huge - 1);
	start = p + head;
	if (head)
		munmap(p, head);
	munmap(start + length, huge - head);
	/* Only advice: a kernel without THP refuses it and we run on 4 KiB pages. */
	madvise(start, length, MADV_HUGEPAGE);
	return start;
}

/* Give the region its host memory: caller's, a file mapping, or fresh. */
static int back_region(libvm_region *r, const libvm_region_options *o)
{
	void *p;

	r->host_writable = true;
	if (o->host_addr) {
		r->host = o->host_addr;
		return 0;
	}
	if (o->fd >= 0) {
		struct stat st;

		/* Pages past the end of a file raise SIGBUS when touched, in
		 * libvm_mem_read() as much as in the guest: refuse them. */
		if (fstat(o->fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    (st.st_size < 0 || o->offset > (uint64_t)st.st_size ||
		     o->length > ((uint64_t)st.st_size - o->offset + LIBVM__PAGE_SIZE - 1) /
					 LIBVM__PAGE_SIZE * LIBVM__PAGE_SIZE))
			return libvm__fail(-EINVAL, "region '%s': 0x%llx bytes at file offset 0x%llx go past the end of the file (0x%llx bytes)",
					   r->name, (unsigned long long)o->length,
					   (unsigned long long)o->offset,
					   (unsigned long long)st.st_size);
		p = mmap(NULL, o->length, PROT_READ | PROT_WRITE, MAP_SHARED, o->fd,
			 (off_t)o->offset);
		if (p == MAP_FAILED && errno == EACCES && (o->flags & LIBVM_REGION_READONLY)) {
			/* A read-only file is fine for ROM the guest cannot write. */
			p = mmap(NULL, o->length, PROT_READ, MAP_SHARED, o->fd, (off_t)o->offset);
			r->host_writable = false;
		}
	} else {
		p = map_anonymous(o->gpa, o->length, o->flags);
	}
	if (p == MAP_FAILED) {
		int err = -errno;

		return libvm__fail(err, "region '%s': mmap of 0x%llx bytes failed: %s", r->name,
				   (unsigned long long)o->length, strerror(errno));
	}
	r->host = p;
	r->owns_mapping = true;
	return 0;
}

LIBVM_EXPORT int libvm_region_map(libvm_region **out, libvm_vm *vm,
				  const libvm_region_options *opts)
{
	libvm_region_options o;
	const struct libvm__range *conflict = NULL;
	libvm_region *r;
	bool io_locked;
	int slot, err;

	if (out)
		*out = NULL;
	LIBVM__CHECK_VM(vm, "libvm_region_map");
	if (!opts)
		return libvm__fail(-EINVAL, "libvm_region_map: opts is NULL");
	err = libvm__copy_options(&o, sizeof(o), opts, "libvm_region_options");
	if (err)
		return err;
	if (opts->size < offsetof(libvm_region_options, fd) + sizeof(o.fd))
		o.fd = -1;
	err = check_layout(vm, &o);
	if (err)
		return err;

	r = calloc(1, sizeof(*r));
	if (!r)
		return libvm__fail(-ENOMEM, "libvm_region_map: out of memory");
	r->magic = LIBVM__MAGIC_REGION;
	r->vm = vm;
	r->gpa = o.gpa;
	r->length = o.length;
	r->flags = o.flags;
	snprintf(r->name, sizeof(r->name), "%s", o.name ? o.name : "");

	/* Device maps first, then memory: the order handlers take them in. */
	io_locked = libvm__iobus_rdlock(vm);
	pthread_rwlock_wrlock(&vm->mem_lock);
	/* RAM over an MMIO device would hide it: the guest's accesses would
	 * never exit. A read-only region may overlay one: its writes exit,
	 * and the device gets them (flash that reads like ROM). */
	if (!(o.flags & LIBVM_REGION_READONLY)) {
		const struct libvm__device *d = libvm__iobus_mmio_overlap(vm, o.gpa, o.length);

		if (d) {
			err = libvm__fail(-EEXIST, "region '%s' 0x%llx+0x%llx overlaps MMIO device '%s' 0x%llx+0x%llx",
					  r->name, (unsigned long long)o.gpa,
					  (unsigned long long)o.length, d->name,
					  (unsigned long long)d->base, (unsigned long long)d->length);
			goto unlock;
		}
	}
	err = libvm__rangemap_insert(&vm->regions, o.gpa, o.length, r, &conflict);
	if (err == -EEXIST) {
		const libvm_region *c = conflict->item;

		err = libvm__fail(-EEXIST, "region '%s' 0x%llx+0x%llx overlaps region '%s' 0x%llx+0x%llx",
				  r->name, (unsigned long long)o.gpa, (unsigned long long)o.length,
				  c->name, (unsigned long long)c->gpa, (unsigned long long)c->length);
		goto unlock;
	} else if (err) {
		libvm__fail(err, "libvm_region_map: out of memory");
		goto unlock;
	}
	slot = slot_alloc(vm);
	if (slot < 0) {
		err = libvm__fail(-ENOSPC, "region '%s': all %u memory slots are in use", r->name,
				  vm->nr_slots);
		goto remove;
	}
	r->slot = (uint32_t)slot;
	err = back_region(r, &o);
	if (err)
		goto free_slot;
	err = set_slot(vm, r->slot, (o.flags & LIBVM_REGION_READONLY) ? KVM_MEM_READONLY : 0,
		       o.gpa, o.length, r->host);
	if (err) {
		libvm__fail(err, "region '%s': KVM_SET_USER_MEMORY_REGION failed: %s", r->name,
			    strerror(-err));
		goto unback;
	}
	pthread_rwlock_unlock(&vm->mem_lock);
	if (io_locked)
		libvm__iobus_unlock(vm);
	libvm__log(vm, LIBVM_LOG_DEBUG, "mapped region '%s' at 0x%llx+0x%llx (slot %u)", r->name,
		   (unsigned long long)o.gpa, (unsigned long long)o.length, r->slot);
	if (out)
		*out = r;
	return 0;

unback:
	if (r->owns_mapping)
		munmap(r->host, r->length);
free_slot:
	slot_free(vm, r->slot);
remove:
	libvm__rangemap_remove(&vm->regions, o.gpa);
unlock:
	pthread_rwlock_unlock(&vm->mem_lock);
	if (io_locked)
		libvm__iobus_unlock(vm);
	free(r);
	return err;
}

LIBVM_EXPORT int libvm_region_map_ram(libvm_region **out, libvm_vm *vm, uint64_t gpa,
				      uint64_t length)
{
	libvm_region_options o = LIBVM_REGION_OPTIONS_INIT;

	o.gpa = gpa;
	o.length = length;
	o.name = "ram";
	return libvm_region_map(out, vm, &o);
}

/* Tear down one region; caller holds mem_lock for writing. */
static int region_remove_locked(libvm_region *r)
{
	libvm_vm *vm = r->vm;
	int err = set_slot(vm, r->slot, 0, r->gpa, 0, NULL);

	if (err)
		return libvm__fail(err, "region '%s': deleting its memory slot failed: %s",
				   r->name, strerror(-err));
	libvm__rangemap_remove(&vm->regions, r->gpa);
	slot_free(vm, r->slot);
	if (r->owns_mapping)
		munmap(r->host, r->length);
	libvm__bury(r, sizeof(*r));
	return 0;
}

LIBVM_EXPORT int libvm_region_unmap(libvm_region *region)
{
	libvm_vm *vm;
	int err;

	if (!region)
		return 0;
	if (!libvm__live(region, LIBVM__MAGIC_REGION))
		return libvm__dead(region, LIBVM__MAGIC_REGION, "libvm_region_unmap", "region");
	vm = region->vm;
	pthread_rwlock_wrlock(&vm->mem_lock);
	err = region_remove_locked(region);
	pthread_rwlock_unlock(&vm->mem_lock);
	return err;
}

void libvm__regions_fini(libvm_vm *vm)
{
	/* No slot deletions: closing the VM fd right after drops every slot
	 * at once, and KVM's MMU notifier copes with the memory going first
	 * (as at any process exit). That saves an ioctl per region. */
	for (size_t i = 0; i < vm->regions.n; i++) {
		libvm_region *r = vm->regions.v[i].item;

		if (r->owns_mapping)
			munmap(r->host, r->length);
		libvm__bury(r, sizeof(*r));
	}
	libvm__rangemap_free(&vm->regions);
}

const libvm_region *libvm__ram_overlap(const libvm_vm *vm, uint64_t gpa, uint64_t length)
{
	size_t i, end;

	libvm__rangemap_overlaps(&vm->regions, gpa, length, &i, &end);
	for (; i < end; i++) {
		const libvm_region *r = vm->regions.v[i].item;

		if (!(r->flags & LIBVM_REGION_READONLY))
			return r;
	}
	return NULL;
}

static bool region_live(const libvm_region *region)
{
	return libvm__live(region, LIBVM__MAGIC_REGION);
}

LIBVM_EXPORT uint64_t libvm_region_gpa(const libvm_region *region)
{
	return region_live(region) ? region->gpa : 0;
}

LIBVM_EXPORT uint64_t libvm_region_length(const libvm_region *region)
{
	return region_live(region) ? region->length : 0;
}

LIBVM_EXPORT const char *libvm_region_name(const libvm_region *region)
{
	return region_live(region) ? region->name : "";
}

LIBVM_EXPORT void *libvm_region_volatile_ptr(const libvm_region *region)
{
	return region_live(region) ? region->host : NULL;
}

/* Who writes: the host setting the guest up, or a device on the guest's behalf. */
enum mem_op { MEM_READ, MEM_WRITE, MEM_DMA_WRITE };

/*
 * Walk [gpa, gpa + len) region by region. With copy == false only check
 * that every byte is mapped (and writable, for writes); the copy pass runs
 * after a successful check so that a failing access changes nothing.
 */
static int mem_walk(libvm_vm *vm, uint64_t gpa, void *buf, size_t len, enum mem_op op,
		    bool copy)
{
	bool write = op != MEM_READ;

	uint8_t *p = buf;

	while (len) {
		const struct libvm__range *e = libvm__rangemap_find(&vm->regions, gpa);
		const libvm_region *r;
		uint64_t off, chunk;

		if (!e)
			return libvm__fail(-EFAULT, "guest address 0x%llx is not backed by memory",
					   (unsigned long long)gpa);
		r = e->item;
		if (write && !r->host_writable)
			return libvm__fail(-EACCES, "region '%s' is mapped from a read-only file",
					   r->name);
		/* A device writes as the guest's agent: what the guest's CPU
		 * cannot change (its ROM, its flash) no device may change for
		 * it, or a descriptor pointing there would rewrite firmware and,
		 * for a file mapping, the file on the host. */
		if (op == MEM_DMA_WRITE && (r->flags & LIBVM_REGION_READONLY))
			return libvm__fail(-EACCES, "device write to 0x%llx: region '%s' is read-only",
					   (unsigned long long)gpa, r->name);
		off = gpa - r->gpa;
		chunk = r->length - off;
		if (chunk > len)
			chunk = len;
		if (copy) {
			if (write)
				memcpy((uint8_t *)r->host + off, p, chunk);
			else
				memcpy(p, (const uint8_t *)r->host + off, chunk);
		}
		p += chunk;
		len -= chunk;
		gpa += chunk;
		/* Wrapping past the top of the address space is never backed. */
		if (len && gpa == 0)
			return libvm__fail(-EFAULT, "access wraps around the address space");
	}
	return 0;
}

static int mem_access(libvm_vm *vm, uint64_t gpa, void *buf, size_t len, enum mem_op op)
{
	static const char *const name[] = { "libvm_mem_read", "libvm_mem_write",
					    "libvm_mem_dma_write" };
	int err;

	LIBVM__CHECK_VM(vm, name[op]);
	if (!buf && len)
		return libvm__fail(-EINVAL, "%s: buf is NULL", name[op]);
	if (len == 0)
		return 0;
	if (len - 1 > UINT64_MAX - gpa)
		return libvm__fail(-EFAULT, "access 0x%llx+0x%zx wraps around the address space",
				   (unsigned long long)gpa, len);
	pthread_rwlock_rdlock(&vm->mem_lock);
	err = mem_walk(vm, gpa, buf, len, op, false);
	if (!err)
		err = mem_walk(vm, gpa, buf, len, op, true);
	pthread_rwlock_unlock(&vm->mem_lock);
	return err;
}

LIBVM_EXPORT int libvm_mem_read(libvm_vm *vm, uint64_t gpa, void *buf, size_t len)
{
	return mem_access(vm, gpa, buf, len, MEM_READ);
}

LIBVM_EXPORT int libvm_mem_write(libvm_vm *vm, uint64_t gpa, const void *buf, size_t len)
{
	return mem_access(vm, gpa, (void *)buf, len, MEM_WRITE);
}

LIBVM_EXPORT int libvm_mem_dma_write(libvm_vm *vm, uint64_t gpa, const void *buf, size_t len)
{
	return mem_access(vm, gpa, (void *)buf, len, MEM_DMA_WRITE);
}

LIBVM_EXPORT int libvm_vm_memory_map(libvm_vm *vm, libvm_mem_range *ranges, uint32_t *count)
{
	uint32_t n;
	int err = 0;

	LIBVM__CHECK_VM(vm, "libvm_vm_memory_map");
	if (!count)
		return libvm__fail(-EINVAL, "libvm_vm_memory_map: count is NULL");
	pthread_rwlock_rdlock(&vm->mem_lock);
	n = (uint32_t)vm->regions.n;
	if (ranges && *count < n) {
		err = libvm__fail(-E2BIG, "libvm_vm_memory_map: %u entries needed", n);
	} else if (ranges) {
		for (uint32_t i = 0; i < n; i++) {
			const libvm_region *r = vm->regions.v[i].item;

			ranges[i] = (libvm_mem_range){
				.gpa = r->gpa, .length = r->length, .flags = r->flags,
			};
		}
	}
	*count = n;
	pthread_rwlock_unlock(&vm->mem_lock);
	return err;
}
