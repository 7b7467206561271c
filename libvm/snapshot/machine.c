/* SPDX-License-Identifier: MIT */
/*
 * The "machine" section: what a VM is made of -- its memory map, its vCPUs
 * with the CPUID each one was given, whether it has the in-kernel irqchip
 * and PIT, and its devices with their state versions. A snapshot is only
 * restored into a VM built the same way; the comparison says what differs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../state.h"
#include "machine.h"

#define MACHINE_VM_IRQCHIP 1u
#define MACHINE_VM_PIT 2u
/* Bounds a hostile file cannot push us past. */
#define MAX_REGIONS 4096u
#define MAX_VCPUS 4096u
#define MAX_CPUID 1024u
#define MAX_DEVICES 4096u

void libvm__machine_free(struct libvm__machine *m)
{
	for (uint32_t i = 0; m->vcpus && i < m->nr_vcpus; i++)
		free(m->vcpus[i].cpuid);
	free(m->vcpus);
	free(m->regions);
	free(m->devices);
	memset(m, 0, sizeof(*m));
}

static int add_device(struct libvm__state_entry *e, void *arg)
{
	struct libvm__machine *m = arg;
	struct libvm__mdev *d = &m->devices[m->nr_devices++];

	snprintf(d->name, sizeof(d->name), "%s", e->name);
	d->version = e->version;
	return 0;
}

int libvm__machine_describe(libvm_vm *vm, struct libvm__machine *m)
{
	memset(m, 0, sizeof(*m));
	pthread_rwlock_rdlock(&vm->mem_lock);
	m->nr_regions = (uint32_t)vm->regions.n;
	m->regions = calloc(m->nr_regions ? m->nr_regions : 1, sizeof(*m->regions));
	for (uint32_t i = 0; m->regions && i < m->nr_regions; i++) {
		const libvm_region *r = vm->regions.v[i].item;

		m->regions[i] = (struct libvm__mregion){ r->gpa, r->length, r->flags };
	}
	pthread_rwlock_unlock(&vm->mem_lock);
	if (!m->regions)
		goto nomem;

	pthread_mutex_lock(&vm->vcpu_lock);
	m->vcpus = calloc(vm->max_vcpus, sizeof(*m->vcpus));
	for (uint32_t i = 0; m->vcpus && i < vm->max_vcpus; i++) {
		const libvm_vcpu *v = vm->vcpus[i];
		struct libvm__mvcpu *mv;

		if (!v)
			continue;
		mv = &m->vcpus[m->nr_vcpus++];
		mv->id = v->id;
		mv->ncpuid = v->cpuid_count;
		mv->cpuid = malloc((v->cpuid_count ? v->cpuid_count : 1) * sizeof(*mv->cpuid));
		if (!mv->cpuid) {
			pthread_mutex_unlock(&vm->vcpu_lock);
			goto nomem;
		}
		memcpy(mv->cpuid, v->cpuid, v->cpuid_count * sizeof(*mv->cpuid));
	}
	pthread_mutex_unlock(&vm->vcpu_lock);
	if (!m->vcpus)
		goto nomem;

	m->vm_flags = (vm->has_irqchip ? MACHINE_VM_IRQCHIP : 0) | (vm->has_pit ? MACHINE_VM_PIT : 0);
	pthread_mutex_lock(&vm->states.lock);
	m->devices = calloc(vm->states.count ? vm->states.count : 1, sizeof(*m->devices));
	pthread_mutex_unlock(&vm->states.lock);
	if (!m->devices)
		goto nomem;
	/* Devices registered meanwhile would not fit; none is (no vCPU
	 * runs, and attach happens while building the machine). */
	libvm__states_each(vm, add_device, m);
	return 0;
nomem:
	libvm__machine_free(m);
	return libvm__fail(-ENOMEM, "snapshot: out of memory");
}

void libvm__machine_encode(const struct libvm__machine *m, struct libvm_state_writer *w)
{
	libvm__enc_u32(w, m->nr_regions);
	for (uint32_t i = 0; i < m->nr_regions; i++) {
		libvm__enc_u64(w, m->regions[i].gpa);
		libvm__enc_u64(w, m->regions[i].length);
		libvm__enc_u32(w, m->regions[i].flags);
		libvm__enc_u32(w, 0);
	}
	libvm__enc_u32(w, m->nr_vcpus);
	for (uint32_t i = 0; i < m->nr_vcpus; i++) {
		const struct libvm__mvcpu *v = &m->vcpus[i];

		libvm__enc_u32(w, v->id);
		libvm__enc_u32(w, v->ncpuid);
		for (uint32_t k = 0; k < v->ncpuid; k++) {
			const libvm_cpuid_entry *e = &v->cpuid[k];

			libvm__enc_u32(w, e->function);
			libvm__enc_u32(w, e->index);
			libvm__enc_u32(w, e->flags);
			libvm__enc_u32(w, e->eax);
			libvm__enc_u32(w, e->ebx);
			libvm__enc_u32(w, e->ecx);
			libvm__enc_u32(w, e->edx);
			libvm__enc_u32(w, 0);
		}
	}
	libvm__enc_u32(w, m->vm_flags);
	libvm__enc_u32(w, m->nr_devices);
	for (uint32_t i = 0; i < m->nr_devices; i++) {
		size_t n = strlen(m->devices[i].name);

		libvm__enc_u8(w, (uint8_t)n);
		libvm__enc_bytes(w, m->devices[i].name, n);
		libvm__enc_u32(w, m->devices[i].version);
	}
}

static int malformed(const char *what)
{
	return libvm__fail(-EBADMSG, "snapshot is corrupted: its machine description is malformed (%s)",
			   what);
}

int libvm__machine_decode(struct libvm__machine *m, const void *p, size_t len)
{
	struct libvm__dec d;

	memset(m, 0, sizeof(*m));
	libvm__dec_init(&d, p, len);
	m->nr_regions = libvm__dec_u32(&d);
	if (m->nr_regions > MAX_REGIONS)
		return malformed("region count");
	m->regions = calloc(m->nr_regions ? m->nr_regions : 1, sizeof(*m->regions));
	if (!m->regions)
		goto nomem;
	for (uint32_t i = 0; i < m->nr_regions; i++) {
		m->regions[i].gpa = libvm__dec_u64(&d);
		m->regions[i].length = libvm__dec_u64(&d);
		m->regions[i].flags = libvm__dec_u32(&d);
		libvm__dec_u32(&d);
	}
	m->nr_vcpus = libvm__dec_u32(&d);
	if (m->nr_vcpus > MAX_VCPUS || d.short_read) {
		libvm__machine_free(m);
		return malformed("vCPU count");
	}
	m->vcpus = calloc(m->nr_vcpus ? m->nr_vcpus : 1, sizeof(*m->vcpus));
	if (!m->vcpus)
		goto nomem;
	for (uint32_t i = 0; i < m->nr_vcpus; i++) {
		struct libvm__mvcpu *v = &m->vcpus[i];

		v->id = libvm__dec_u32(&d);
		v->ncpuid = libvm__dec_u32(&d);
		if (v->ncpuid > MAX_CPUID || d.short_read) {
			libvm__machine_free(m);
			return malformed("CPUID count");
		}
		v->cpuid = calloc(v->ncpuid ? v->ncpuid : 1, sizeof(*v->cpuid));
		if (!v->cpuid)
			goto nomem;
		for (uint32_t k = 0; k < v->ncpuid; k++) {
			libvm_cpuid_entry *e = &v->cpuid[k];

			e->function = libvm__dec_u32(&d);
			e->index = libvm__dec_u32(&d);
			e->flags = libvm__dec_u32(&d);
			e->eax = libvm__dec_u32(&d);
			e->ebx = libvm__dec_u32(&d);
			e->ecx = libvm__dec_u32(&d);
			e->edx = libvm__dec_u32(&d);
			libvm__dec_u32(&d);
		}
	}
	m->vm_flags = libvm__dec_u32(&d);
	m->nr_devices = libvm__dec_u32(&d);
	if (m->nr_devices > MAX_DEVICES || d.short_read) {
		libvm__machine_free(m);
		return malformed("device count");
	}
	m->devices = calloc(m->nr_devices ? m->nr_devices : 1, sizeof(*m->devices));
	if (!m->devices)
		goto nomem;
	for (uint32_t i = 0; i < m->nr_devices; i++) {
		uint8_t n = libvm__dec_u8(&d);

		if (n >= LIBVM_STATE_NAME_MAX) {
			libvm__machine_free(m);
			return malformed("device name");
		}
		libvm__dec_bytes(&d, m->devices[i].name, n);
		m->devices[i].version = libvm__dec_u32(&d);
	}
	if (d.short_read || d.pos != d.len) {
		libvm__machine_free(m);
		return malformed(d.short_read ? "too short" : "bytes left over");
	}
	return 0;
nomem:
	libvm__machine_free(m);
	return libvm__fail(-ENOMEM, "snapshot: out of memory");
}

static const struct libvm__mdev *find_dev(const struct libvm__machine *m, const char *name)
{
	for (uint32_t i = 0; i < m->nr_devices; i++)
		if (!strcmp(m->devices[i].name, name))
			return &m->devices[i];
	return NULL;
}

/*
 * Fields that name the host CPU the backend happened to answer on rather
 * than a feature (some backends pass the host's x2APIC id through): leaf
 * 1's APIC id (libvm sets it per vCPU anyway), leaves 0xB and 0x1F's
 * x2APIC id in EDX, and AMD's extended APIC id in leaf 0x8000001E EAX.
 */
static void volatile_masks(const libvm_cpuid_entry *e, uint32_t *eax, uint32_t *ebx,
			   uint32_t *edx)
{
	*eax = *ebx = *edx = 0xffffffffu;
	if (e->function == 1)
		*ebx = 0x00ffffffu;
	else if (e->function == 0xb || e->function == 0x1f)
		*edx = 0;
	else if (e->function == 0x8000001eu)
		*eax = 0;
}

static int cmp_cpuid(const struct libvm__mvcpu *s, const struct libvm__mvcpu *v)
{
	if (s->ncpuid != v->ncpuid)
		return libvm__fail(-EINVAL, "snapshot does not match this VM: vCPU %u has %u CPUID leaves in the snapshot, %u here",
				   v->id, s->ncpuid, v->ncpuid);
	for (uint32_t k = 0; k < s->ncpuid; k++) {
		const libvm_cpuid_entry *a = &s->cpuid[k], *b = &v->cpuid[k];
		uint32_t ma, mb, md;

		volatile_masks(a, &ma, &mb, &md);
		if (a->function != b->function || a->index != b->index ||
		    a->flags != b->flags || ((a->eax ^ b->eax) & ma) || ((a->ebx ^ b->ebx) & mb) ||
		    a->ecx != b->ecx || ((a->edx ^ b->edx) & md))
			return libvm__fail(-EINVAL, "snapshot does not match this VM: vCPU %u's CPUID leaf 0x%x.%u is %08x %08x %08x %08x in the snapshot, %08x %08x %08x %08x here (another CPU model or host)",
					   v->id, a->function, a->index, a->eax, a->ebx, a->ecx,
					   a->edx, b->eax, b->ebx, b->ecx, b->edx);
	}
	return 0;
}

int libvm__machine_compare(const struct libvm__machine *s, const struct libvm__machine *v,
			   libvm_vm *vm)
{
	for (uint32_t i = 0; i < s->nr_regions || i < v->nr_regions; i++) {
		const struct libvm__mregion *a = i < s->nr_regions ? &s->regions[i] : NULL;
		const struct libvm__mregion *b = i < v->nr_regions ? &v->regions[i] : NULL;

		if (!a || !b || a->gpa != b->gpa || a->length != b->length || a->flags != b->flags)
			return libvm__fail(-EINVAL, "snapshot does not match this VM: memory region %u is %s0x%llx+0x%llx in the snapshot, %s0x%llx+0x%llx here",
					   i, a && (a->flags & LIBVM_REGION_READONLY) ? "read-only " : "",
					   a ? (unsigned long long)a->gpa : 0,
					   a ? (unsigned long long)a->length : 0,
					   b && (b->flags & LIBVM_REGION_READONLY) ? "read-only " : "",
					   b ? (unsigned long long)b->gpa : 0,
					   b ? (unsigned long long)b->length : 0);
	}
	/* Before CPUID, which the irqchip changes (the TSC deadline bit). */
	if (s->vm_flags != v->vm_flags)
		return libvm__fail(-EINVAL, "snapshot does not match this VM: the snapshot's VM %s an irqchip%s, this one %s%s",
				   s->vm_flags & MACHINE_VM_IRQCHIP ? "has" : "has no",
				   s->vm_flags & MACHINE_VM_PIT ? " with a PIT" : "",
				   v->vm_flags & MACHINE_VM_IRQCHIP ? "has one" : "has none",
				   v->vm_flags & MACHINE_VM_PIT ? " with a PIT" : "");
	if (s->nr_vcpus != v->nr_vcpus)
		return libvm__fail(-EINVAL, "snapshot does not match this VM: %u vCPUs in the snapshot, %u here",
				   s->nr_vcpus, v->nr_vcpus);
	for (uint32_t i = 0; i < s->nr_vcpus; i++) {
		int err;

		if (s->vcpus[i].id != v->vcpus[i].id)
			return libvm__fail(-EINVAL, "snapshot does not match this VM: it has vCPU %u where this VM has vCPU %u",
					   s->vcpus[i].id, v->vcpus[i].id);
		if ((err = cmp_cpuid(&s->vcpus[i], &v->vcpus[i])))
			return err;
	}
	for (uint32_t i = 0; i < s->nr_devices; i++)
		if (!find_dev(v, s->devices[i].name))
			return libvm__fail(-EINVAL, "snapshot does not match this VM: it has device '%s', which this VM lacks",
					   s->devices[i].name);
	for (uint32_t i = 0; i < v->nr_devices; i++) {
		const struct libvm__mdev *d = find_dev(s, v->devices[i].name);
		struct libvm__state_entry *e;

		if (!d)
			return libvm__fail(-EINVAL, "snapshot does not match this VM: this VM has device '%s', which the snapshot lacks",
					   v->devices[i].name);
		/* The versions: refused now, before anything is read. */
		pthread_mutex_lock(&vm->states.lock);
		for (e = vm->states.head; e && strcmp(e->name, d->name); e = e->next)
			;
		if (e && (d->version > e->version || d->version < e->min_version)) {
			uint32_t lo = e->min_version, hi = e->version;

			pthread_mutex_unlock(&vm->states.lock);
			return libvm__fail(-ENOTSUP, "snapshot has device '%s' at state version %u; this libvm reads %u .. %u%s",
					   d->name, d->version, lo, hi,
					   d->version > hi ? " (the snapshot is from a newer libvm)" : "");
		}
		pthread_mutex_unlock(&vm->states.lock);
	}
	return 0;
}
