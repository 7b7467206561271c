/* SPDX-License-Identifier: MIT */
/*
 * The fake backend (see backend_fake.h): KVM's answers without a kernel,
 * for unit tests. Each operation counts its call, fails when the test said
 * so, then checks its arguments as KVM would and records the outcome.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_fake.h"

/* The run struct and the port data page after it, as KVM lays them out. */
#define FAKE_PIO_OFFSET 4096u
#define FAKE_RUN_SIZE (2 * 4096u)

static struct libvm__fake_vm *F(const libvm_vm *vm)
{
	return vm->bk;
}

struct libvm__fake_vm *libvm__fake_vm(libvm_vm *vm)
{
	return vm && vm->backend == &libvm__backend_fake ? vm->bk : NULL;
}

struct libvm__fake_vcpu *libvm__fake_vcpu(libvm_vcpu *vcpu)
{
	return vcpu && vcpu->vm->backend == &libvm__backend_fake ? vcpu->bk : NULL;
}

/* Count a call of @op; its injected failure, or 0 to go on. */
static int enter(struct libvm__fake_vm *f, enum libvm__fake_op op)
{
	int err;

	pthread_mutex_lock(&f->lock);
	f->calls[op]++;
	err = f->fail[op];
	pthread_mutex_unlock(&f->lock);
	return err;
}

#define ENTER(f, op)                                                                   \
	do {                                                                           \
		int err_ = enter((f), LIBVM__FAKE_##op);                               \
		if (err_)                                                              \
			return err_;                                                   \
	} while (0)

/* "fake" or "fake:key=value,...": the configuration, or -EINVAL. */
static int parse_config(struct libvm__fake_config *c, const char *path)
{
	static const struct {
		const char *key;
		size_t off;
		bool is_bool;
	} keys[] = {
#define NUM(k) { #k, offsetof(struct libvm__fake_config, k), false }
#define FLAG(k) { #k, offsetof(struct libvm__fake_config, k), true }
		NUM(max_vcpus), NUM(slots), NUM(routing), FLAG(irqchip), FLAG(pit),
		FLAG(readonly), FLAG(irqfd), FLAG(ioeventfd), FLAG(msi), FLAG(immediate_exit),
		FLAG(tsc_deadline), FLAG(cpuid), FLAG(hyperv),
#undef NUM
#undef FLAG
	};
	const char *p = path + 4;

	*c = (struct libvm__fake_config){
		.max_vcpus = 8, .slots = 32, .routing = 4096, .irqchip = true, .pit = true,
		.readonly = true, .irqfd = true, .ioeventfd = true, .msi = true,
		.immediate_exit = true, .tsc_deadline = true, .cpuid = true,
	};
	if (*p == ':')
		p++;
	else if (*p)
		return libvm__fail(-EINVAL, "fake backend: '%s' is not fake[:KEY=VALUE,...]", path);
	while (*p) {
		size_t klen = strcspn(p, "=,");
		char *end;
		unsigned long v;
		size_t i;

		if (p[klen] != '=')
			return libvm__fail(-EINVAL, "fake backend: '%.*s' has no value", (int)klen, p);
		v = strtoul(p + klen + 1, &end, 0);
		if (end == p + klen + 1 || (*end && *end != ','))
			return libvm__fail(-EINVAL, "fake backend: bad value for '%.*s'", (int)klen, p);
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strlen(keys[i].key) == klen && !strncmp(keys[i].key, p, klen))
				break;
		if (i == sizeof(keys) / sizeof(keys[0]))
			return libvm__fail(-EINVAL, "fake backend: unknown key '%.*s'", (int)klen, p);
		if (keys[i].is_bool)
			*(bool *)((char *)c + keys[i].off) = v != 0;
		else
			*(uint32_t *)((char *)c + keys[i].off) = (uint32_t)v;
		p = *end ? end + 1 : end;
	}
	if (c->max_vcpus == 0 || c->slots == 0 || c->slots > LIBVM__MAX_SLOTS)
		return libvm__fail(-EINVAL, "fake backend: max_vcpus must be > 0, slots 1..%u",
				   LIBVM__MAX_SLOTS);
	return 0;
}

static int fake_vm_open(libvm_vm *vm, const char *path)
{
	struct libvm__fake_vm *f = calloc(1, sizeof(*f));
	int err;

	if (!f)
		return libvm__fail(-ENOMEM, "libvm_vm_create: out of memory");
	pthread_mutex_init(&f->lock, NULL);
	vm->bk = f;
	err = parse_config(&f->cfg, path);
	if (err)
		return err;
	f->calls[LIBVM__FAKE_vm_open]++;
	return 0;
}

static void fake_vm_close(libvm_vm *vm)
{
	struct libvm__fake_vm *f = F(vm);

	if (!f)
		return;
	free(f->routes);
	pthread_mutex_destroy(&f->lock);
	free(f);
	vm->bk = NULL;
}

static int fake_check_extension(const libvm_vm *vm, long ext)
{
	const struct libvm__fake_config *c = &F(vm)->cfg;

	if (enter(F(vm), LIBVM__FAKE_check_extension))
		return 0;
	switch (ext) {
	case KVM_CAP_MAX_VCPUS:
	case KVM_CAP_NR_VCPUS:
		return (int)c->max_vcpus;
	case KVM_CAP_NR_MEMSLOTS:
		return (int)c->slots;
	case KVM_CAP_IRQ_ROUTING:
		return (int)c->routing;
	case KVM_CAP_IRQCHIP:
		return c->irqchip;
	case KVM_CAP_PIT2:
		return c->pit;
	case KVM_CAP_READONLY_MEM:
		return c->readonly;
	case KVM_CAP_IRQFD:
		return c->irqfd;
	case KVM_CAP_IOEVENTFD:
		return c->ioeventfd;
	case KVM_CAP_SIGNAL_MSI:
		return c->msi;
	case KVM_CAP_IMMEDIATE_EXIT:
		return c->immediate_exit;
	case KVM_CAP_TSC_DEADLINE_TIMER:
		return c->tsc_deadline;
	case KVM_CAP_EXT_CPUID:
		return c->cpuid;
	case KVM_CAP_SET_TSS_ADDR:
		return 1;
	case KVM_CAP_HYPERV_CPUID:
	case KVM_CAP_HYPERV_SYNIC2:
		return c->hyperv;
	default:
		return 0;
	}
}

static int fake_get_supported_cpuid(const libvm_vm *vm, struct kvm_cpuid2 *c)
{
	static const struct kvm_cpuid_entry2 leaves[] = {
		{ .function = 0, .eax = 1, .ebx = 0x68747541, .ecx = 0x444d4163, .edx = 0x69746e65 },
		{ .function = 1, .eax = 0x00a00f11, .ecx = 1u << 31, .edx = 1u << 0 | 1u << 4 },
		{ .function = 0x80000000u, .eax = 0x80000000u },
		/* With hyperv=1: KVM's own leaves, "KVMKVMKVM\0\0\0", kvmclock. */
		{ .function = 0x40000000u, .eax = 0x40000001u, .ebx = 0x4b4d564b,
		  .ecx = 0x564b4d56, .edx = 0x4d },
		{ .function = 0x40000001u, .eax = 1 },
	};
	const uint32_t n = sizeof(leaves) / sizeof(leaves[0]) - (F(vm)->cfg.hyperv ? 0 : 2);

	ENTER(F(vm), get_supported_cpuid);
	if (!F(vm)->cfg.cpuid)
		return -ENOTTY;
	if (c->nent < n)
		return -E2BIG;
	memcpy(c->entries, leaves, n * sizeof(leaves[0]));
	c->nent = n;
	return 0;
}

static int fake_device_id(const libvm_vm *vm, uint64_t *id)
{
	/* Never cached: each fake VM has its own configuration. */
	return -ENOENT;
}

static int fake_set_tss_addr(libvm_vm *vm, uint64_t addr)
{
	ENTER(F(vm), set_tss_addr);
	F(vm)->tss_addr = addr;
	return 0;
}

static int fake_vcpu_create(libvm_vcpu *vcpu)
{
	struct libvm__fake_vm *f = F(vcpu->vm);
	struct libvm__fake_vcpu *v;
	int err = enter(f, LIBVM__FAKE_vcpu_create);

	if (err)
		return libvm__fail(err, "KVM_CREATE_VCPU %u failed: %s", vcpu->id, strerror(-err));
	if (vcpu->id >= f->cfg.max_vcpus)
		return libvm__fail(-EINVAL, "KVM_CREATE_VCPU %u failed: %s", vcpu->id,
				   strerror(EINVAL));
	v = calloc(1, sizeof(*v));
	if (!v)
		return libvm__fail(-ENOMEM, "libvm_vcpu_create: out of memory");
	/* KVM's reset state, as far as libvm looks at it. */
	v->regs.rflags = 2;
	v->regs.rip = 0xfff0;
	v->sregs.cs.selector = 0xf000;
	v->sregs.cs.base = 0xffff0000;
	v->sregs.cr0 = 0x60000010;
	v->sregs.apic_base = 0xfee00900;
	vcpu->bk = v;
	pthread_mutex_lock(&f->lock);
	f->vcpus_created++;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static int fake_vcpu_map(libvm_vcpu *vcpu)
{
	int err = enter(F(vcpu->vm), LIBVM__FAKE_vcpu_map);

	if (err)
		return libvm__fail(err, "vCPU %u: mmap of the run page failed: %s", vcpu->id,
				   strerror(-err));
	vcpu->run = calloc(1, FAKE_RUN_SIZE);
	if (!vcpu->run)
		return libvm__fail(-ENOMEM, "vCPU %u: out of memory for the run page", vcpu->id);
	return 0;
}

static void fake_vcpu_destroy(libvm_vcpu *vcpu)
{
	free(vcpu->run);
	vcpu->run = NULL;
	free(vcpu->bk);
	vcpu->bk = NULL;
}

static int fake_vcpu_run(libvm_vcpu *vcpu)
{
	struct libvm__fake_vcpu *v = vcpu->bk;

	ENTER(F(vcpu->vm), vcpu_run);
	if (v->run_fn)
		return v->run_fn(vcpu, vcpu->run, v->run_opaque);
	if (__atomic_load_n(&vcpu->run->immediate_exit, __ATOMIC_SEQ_CST))
		return -EINTR;
	vcpu->run->exit_reason = KVM_EXIT_HLT;
	return 0;
}

void *libvm__fake_io_data(struct kvm_run *run)
{
	return (uint8_t *)run + run->io.data_offset;
}

void libvm__fake_exit_io(struct kvm_run *run, uint16_t port, bool out, uint8_t size,
			 uint32_t count, const void *data)
{
	run->exit_reason = KVM_EXIT_IO;
	run->io.port = port;
	run->io.direction = out ? KVM_EXIT_IO_OUT : KVM_EXIT_IO_IN;
	run->io.size = size;
	run->io.count = count;
	run->io.data_offset = FAKE_PIO_OFFSET;
	if (out && data)
		memcpy(libvm__fake_io_data(run), data, (size_t)size * count);
}

void libvm__fake_exit_mmio(struct kvm_run *run, uint64_t gpa, bool write, uint32_t len,
			   const void *data)
{
	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.is_write = write;
	run->mmio.len = len;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (write && data)
		memcpy(run->mmio.data, data, len > 8 ? 8 : len);
}

/* --- VM operations ------------------------------------------------------ */

static int fake_set_user_memory_region(libvm_vm *vm, const struct kvm_userspace_memory_region *m)
{
	struct libvm__fake_vm *f = F(vm);
	int err = 0;

	ENTER(f, set_user_memory_region);
	if (m->slot >= f->cfg.slots || (m->flags & ~(uint32_t)KVM_MEM_READONLY) ||
	    ((m->flags & KVM_MEM_READONLY) && !f->cfg.readonly) ||
	    ((m->guest_phys_addr | m->memory_size | m->userspace_addr) & 4095))
		return -EINVAL;
	pthread_mutex_lock(&f->lock);
	for (uint32_t i = 0; i < f->cfg.slots && m->memory_size; i++) {
		const struct kvm_userspace_memory_region *o = &f->slot[i];

		if (i != m->slot && o->memory_size &&
		    m->guest_phys_addr < o->guest_phys_addr + o->memory_size &&
		    o->guest_phys_addr < m->guest_phys_addr + m->memory_size)
			err = -EEXIST;
	}
	if (!err)
		f->slot[m->slot] = *m;
	pthread_mutex_unlock(&f->lock);
	return err;
}

static int fake_create_irqchip(libvm_vm *vm, void *arg)
{
	struct libvm__fake_vm *f = F(vm);
	int err = 0;

	ENTER(f, create_irqchip);
	pthread_mutex_lock(&f->lock);
	if (!f->cfg.irqchip)
		err = -ENOTTY;
	else if (f->irqchip)
		err = -EEXIST;
	else if (f->vcpus_created)
		err = -EINVAL;
	else
		f->irqchip = true;
	pthread_mutex_unlock(&f->lock);
	return err;
}

static int fake_create_pit2(libvm_vm *vm, const struct kvm_pit_config *c)
{
	struct libvm__fake_vm *f = F(vm);
	int err = 0;

	ENTER(f, create_pit2);
	pthread_mutex_lock(&f->lock);
	if (!f->cfg.pit)
		err = -ENOTTY;
	else if (f->pit)
		err = -EEXIST;
	else if (!f->irqchip)
		err = -ENOENT;
	else
		f->pit = true;
	pthread_mutex_unlock(&f->lock);
	return err;
}

static int fake_irq_line(libvm_vm *vm, const struct kvm_irq_level *l)
{
	struct libvm__fake_vm *f = F(vm);
	int err = 0;

	ENTER(f, irq_line);
	pthread_mutex_lock(&f->lock);
	if (!f->irqchip) {
		err = -ENXIO;
	} else if (l->irq >= 24) {
		err = -EINVAL;
	} else if (f->irq_level[l->irq] != !!l->level) {
		f->irq_level[l->irq] = !!l->level;
		f->irq_changes++;
	}
	pthread_mutex_unlock(&f->lock);
	return err;
}

static int fake_signal_msi(libvm_vm *vm, const struct kvm_msi *m)
{
	struct libvm__fake_vm *f = F(vm);
	int r = 1;

	ENTER(f, signal_msi);
	pthread_mutex_lock(&f->lock);
	if (!f->cfg.msi) {
		r = -ENOTTY;
	} else if (!f->irqchip) {
		r = -EINVAL;
	} else {
		f->msis++;
		f->last_msi = *m;
	}
	pthread_mutex_unlock(&f->lock);
	return r;
}

static bool routed(const struct libvm__fake_vm *f, uint32_t gsi)
{
	for (uint32_t i = 0; i < f->nr_routes; i++)
		if (f->routes[i].gsi == gsi)
			return true;
	return false;
}

static int fake_set_gsi_routing(libvm_vm *vm, const struct kvm_irq_routing *t)
{
	struct libvm__fake_vm *f = F(vm);
	struct kvm_irq_routing_entry *e;
	int err = 0;

	ENTER(f, set_gsi_routing);
	if (!f->cfg.routing)
		return -ENOTTY;
	if (t->nr > f->cfg.routing || t->flags)
		return -EINVAL;
	for (uint32_t i = 0; i < t->nr; i++)
		if (t->entries[i].gsi >= f->cfg.routing)
			return -EINVAL;
	e = malloc((t->nr ? t->nr : 1) * sizeof(*e));
	if (!e)
		return -ENOMEM;
	memcpy(e, t->entries, t->nr * sizeof(*e));
	pthread_mutex_lock(&f->lock);
	if (!f->irqchip) {
		err = -EINVAL;
		free(e);
	} else {
		free(f->routes);
		f->routes = e;
		f->nr_routes = t->nr;
		for (uint32_t i = 0; i < f->nr_irqfds; i++)
			if (!routed(f, f->irqfd[i].gsi))
				f->routes_dropped_under_irqfd++;
	}
	pthread_mutex_unlock(&f->lock);
	return err;
}

static int fake_irqfd(libvm_vm *vm, const struct kvm_irqfd *q)
{
	struct libvm__fake_vm *f = F(vm);
	int err = 0;
	uint32_t i;

	ENTER(f, irqfd);
	if (!f->cfg.irqfd)
		return -ENOTTY;
	pthread_mutex_lock(&f->lock);
	for (i = 0; i < f->nr_irqfds; i++)
		if (f->irqfd[i].fd == (int)q->fd && f->irqfd[i].gsi == q->gsi)
			break;
	if (!f->irqchip) {
		err = -EINVAL;
	} else if (q->flags & KVM_IRQFD_FLAG_DEASSIGN) {
		if (i < f->nr_irqfds)
			f->irqfd[i] = f->irqfd[--f->nr_irqfds];
		/* KVM says nothing when there is nothing to deassign. */
	} else if (i < f->nr_irqfds) {
		err = -EBUSY;
	} else if (f->nr_irqfds == LIBVM__FAKE_MAX_FDS) {
		err = -ENOSPC;
	} else {
		f->irqfd[f->nr_irqfds].fd = (int)q->fd;
		f->irqfd[f->nr_irqfds++].gsi = q->gsi;
	}
	pthread_mutex_unlock(&f->lock);
	return err;
}

static bool same_ioeventfd(const struct kvm_ioeventfd *a, const struct kvm_ioeventfd *b)
{
	uint32_t mask = ~(uint32_t)KVM_IOEVENTFD_FLAG_DEASSIGN;

	return a->addr == b->addr && a->len == b->len && a->fd == b->fd &&
	       (a->flags & mask) == (b->flags & mask) &&
	       (!(a->flags & KVM_IOEVENTFD_FLAG_DATAMATCH) || a->datamatch == b->datamatch);
}

static int fake_ioeventfd(libvm_vm *vm, const struct kvm_ioeventfd *q)
{
	struct libvm__fake_vm *f = F(vm);
	int err = 0;
	uint32_t i;

	ENTER(f, ioeventfd);
	if (!f->cfg.ioeventfd)
		return -ENOTTY;
	pthread_mutex_lock(&f->lock);
	for (i = 0; i < f->nr_ioeventfds; i++)
		if (same_ioeventfd(&f->ioeventfd[i], q))
			break;
	if (q->flags & KVM_IOEVENTFD_FLAG_DEASSIGN) {
		if (i < f->nr_ioeventfds)
			f->ioeventfd[i] = f->ioeventfd[--f->nr_ioeventfds];
		else
			err = -ENOENT;
	} else if (i < f->nr_ioeventfds) {
		err = -EEXIST;
	} else if (f->nr_ioeventfds == LIBVM__FAKE_MAX_FDS) {
		err = -ENOSPC;
	} else {
		f->ioeventfd[f->nr_ioeventfds++] = *q;
	}
	pthread_mutex_unlock(&f->lock);
	return err;
}

/* --- vCPU operations ---------------------------------------------------- */

#define V(vcpu) ((struct libvm__fake_vcpu *)(vcpu)->bk)

/* Copy of a whole state struct in or out: get_regs, set_sregs, ... */
#define FAKE_STATE(get, set, type, field)                                              \
	static int fake_##get(libvm_vcpu *vcpu, type *s)                               \
	{                                                                              \
		ENTER(F(vcpu->vm), get);                                               \
		*s = V(vcpu)->field;                                                   \
		return 0;                                                              \
	}                                                                              \
	static int fake_##set(libvm_vcpu *vcpu, const type *s)                         \
	{                                                                              \
		ENTER(F(vcpu->vm), set);                                               \
		V(vcpu)->field = *s;                                                   \
		return 0;                                                              \
	}
FAKE_STATE(get_regs, set_regs, struct kvm_regs, regs)
FAKE_STATE(get_sregs, set_sregs, struct kvm_sregs, sregs)
FAKE_STATE(get_fpu, set_fpu, struct kvm_fpu, fpu)

/* KVM_GET_MSRS/KVM_SET_MSRS: in order, stopping at the first refused. */
static int fake_get_msrs(libvm_vcpu *vcpu, struct kvm_msrs *m)
{
	struct libvm__fake_vcpu *v = V(vcpu);
	uint32_t n;

	ENTER(F(vcpu->vm), get_msrs);
	for (n = 0; n < m->nmsrs; n++) {
		if (v->refuse_msr && m->entries[n].index == v->refuse_msr)
			break;
		for (uint32_t i = 0; i < v->nr_msrs; i++)
			if (v->msr[i].index == m->entries[n].index)
				m->entries[n].data = v->msr[i].data;
	}
	return (int)n;
}

static int fake_set_msrs(libvm_vcpu *vcpu, const struct kvm_msrs *m)
{
	struct libvm__fake_vcpu *v = V(vcpu);
	uint32_t n;

	ENTER(F(vcpu->vm), set_msrs);
	for (n = 0; n < m->nmsrs; n++) {
		uint32_t index = m->entries[n].index;
		uint32_t i;

		if (v->refuse_msr && index == v->refuse_msr)
			break;
		for (i = 0; i < v->nr_msrs && v->msr[i].index != index; i++)
			;
		if (i == v->nr_msrs) {
			if (i == LIBVM__FAKE_MAX_MSRS)
				break;
			v->msr[v->nr_msrs++].index = index;
		}
		v->msr[i].data = m->entries[n].data;
	}
	return (int)n;
}

static int fake_set_cpuid2(libvm_vcpu *vcpu, const struct kvm_cpuid2 *c)
{
	struct libvm__fake_vcpu *v = V(vcpu);

	ENTER(F(vcpu->vm), set_cpuid2);
	if (c->nent > LIBVM__MAX_CPUID)
		return -E2BIG;
	memcpy(v->cpuid, c->entries, c->nent * sizeof(c->entries[0]));
	v->nr_cpuid = c->nent;
	return 0;
}

static int fake_set_guest_debug(libvm_vcpu *vcpu, const struct kvm_guest_debug *g)
{
	ENTER(F(vcpu->vm), set_guest_debug);
	V(vcpu)->debug = *g;
	return 0;
}

static int fake_get_cpuid2(libvm_vcpu *vcpu, struct kvm_cpuid2 *c)
{
	struct libvm__fake_vcpu *v = V(vcpu);

	ENTER(F(vcpu->vm), get_cpuid2);
	if (c->nent < v->nr_cpuid)
		return -E2BIG;
	memcpy(c->entries, v->cpuid, v->nr_cpuid * sizeof(c->entries[0]));
	c->nent = v->nr_cpuid;
	return 0;
}

/* With hyperv=1: what kvm-amd reports (signature "Linux KVM Hv", every
 * feature bit libvm asks for, leaves up to 0x4000000A). */
static int fake_get_supported_hv_cpuid(libvm_vcpu *vcpu, struct kvm_cpuid2 *c)
{
	static const struct kvm_cpuid_entry2 leaves[] = {
		{ .function = 0x40000000u, .eax = 0x4000000au, .ebx = 0x756e694c,
		  .ecx = 0x564b2078, .edx = 0x7648204d },
		{ .function = 0x40000001u, .eax = 0x31237648 },
		{ .function = 0x40000002u },
		{ .function = 0x40000003u, .eax = 0x0fff, .edx = 1u << 8 | 1u << 10 | 1u << 19 },
		{ .function = 0x40000004u, .eax = 0x3f },
		{ .function = 0x40000005u, .eax = 0xffffffffu },
		{ .function = 0x40000006u },
		{ .function = 0x40000007u },
		{ .function = 0x40000008u },
		{ .function = 0x40000009u },
		{ .function = 0x4000000au },
	};
	const uint32_t n = sizeof(leaves) / sizeof(leaves[0]);

	ENTER(F(vcpu->vm), get_supported_hv_cpuid);
	if (!F(vcpu->vm)->cfg.hyperv)
		return -ENOTTY;
	if (c->nent < n)
		return -E2BIG;
	memcpy(c->entries, leaves, sizeof(leaves));
	c->nent = n;
	return 0;
}

static int fake_enable_cap(libvm_vcpu *vcpu, const struct kvm_enable_cap *cap)
{
	ENTER(F(vcpu->vm), enable_cap);
	return cap->cap == KVM_CAP_HYPERV_SYNIC2 && F(vcpu->vm)->cfg.hyperv ? 0 : -EINVAL;
}

const struct libvm__backend libvm__backend_fake = {
	.name = "fake",
	.vm_open = fake_vm_open,
	.vm_close = fake_vm_close,
	.check_extension = fake_check_extension,
	.get_supported_cpuid = fake_get_supported_cpuid,
	.device_id = fake_device_id,
	.set_tss_addr = fake_set_tss_addr,
	.vcpu_create = fake_vcpu_create,
	.vcpu_map = fake_vcpu_map,
	.vcpu_destroy = fake_vcpu_destroy,
	.vcpu_run = fake_vcpu_run,
	.set_user_memory_region = fake_set_user_memory_region,
	.create_irqchip = fake_create_irqchip,
	.create_pit2 = fake_create_pit2,
	.irq_line = fake_irq_line,
	.signal_msi = fake_signal_msi,
	.set_gsi_routing = fake_set_gsi_routing,
	.irqfd = fake_irqfd,
	.ioeventfd = fake_ioeventfd,
	.get_regs = fake_get_regs,
	.set_regs = fake_set_regs,
	.get_sregs = fake_get_sregs,
	.set_sregs = fake_set_sregs,
	.get_fpu = fake_get_fpu,
	.set_fpu = fake_set_fpu,
	.get_msrs = fake_get_msrs,
	.set_msrs = fake_set_msrs,
	.set_cpuid2 = fake_set_cpuid2,
	.set_guest_debug = fake_set_guest_debug,
	.get_cpuid2 = fake_get_cpuid2,
	.get_supported_hv_cpuid = fake_get_supported_hv_cpuid,
	.enable_cap = fake_enable_cap,
};
