/* SPDX-License-Identifier: MIT */
/*
 * The vCPU and VM state a guest can observe beyond the registers of
 * vcpu.c: XSAVE, XCRs, MSRs, the LAPIC, pending events, MP state, debug
 * registers; the PICs, the IOAPIC, the PIT and the kvmclock. Public
 * accessors for each, and the snapshot's encoding of a whole vCPU and a
 * whole VM (docs/snapshot.md, "vcpu" and "vm" sections): tagged records
 * holding KVM's own structs (x86-64, little-endian; the KVM ABI keeps their
 * layout), applied on restore in the order the state depends on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/kvm.h>

#include "internal.h"
#include "state.h"
#include "vmstate.h"

/* MSRs that act when written instead of holding state: writing kvmclock's
 * wall clock MSRs makes the backend write the time into guest memory at
 * the address written. They are never saved. */
#define MSR_KVM_WALL_CLOCK 0x11u
#define MSR_KVM_WALL_CLOCK_NEW 0x4b564d00u
/* Set after the LAPIC: its meaning depends on the timer mode. */
#define MSR_IA32_TSC_DEADLINE 0x6e0u
/* LAPIC register offsets (Intel SDM vol. 3, 11.5.4). */
#define LAPIC_LVTT 0x320
#define LAPIC_TMICT 0x380
#define LAPIC_TMCCT 0x390

/* A backend operation's result as libvm's: 0, or the error with a message
 * (-ENOTSUP for one the backend does not have). */
static int vcpu_res(libvm_vcpu *vcpu, int r, const char *what)
{
	if (r >= 0)
		return 0;
	return libvm__fail(r == -ENOTTY ? -ENOTSUP : r, "vCPU %u: %s failed: %s", vcpu->id, what,
			   strerror(-r));
}

static int vm_res(int r, const char *what)
{
	if (r >= 0)
		return 0;
	return libvm__fail(r == -ENOTTY ? -ENOTSUP : r, "%s failed: %s", what, strerror(-r));
}

#define vcpu_req(vcpu, op, arg, what) vcpu_res(vcpu, libvm__bk_##op(vcpu, arg), what)
#define vm_req(vm, op, arg, what) vm_res(libvm__bk_##op(vm, arg), what)

static int need_cap(libvm_vm *vm, long cap, const char *name)
{
	if (libvm__check_extension(vm, cap) > 0)
		return 0;
	return libvm__fail(-ENOTSUP, "%s does not have %s", vm->device_path, name);
}

#define ARGS(vcpu, p, fn)                                                            \
	do {                                                                         \
		LIBVM__CHECK_VCPU(vcpu, fn);                                         \
		if (!(p))                                                            \
			return libvm__fail(-EINVAL, "%s: %s is NULL", fn, #p);       \
	} while (0)

/* ------------------------------------------------------------------ */
/* XSAVE and XCRs                                                      */
/* ------------------------------------------------------------------ */

/* The XSAVE area's size for this backend, or 0 without XSAVE. */
uint32_t libvm__xsave_size(libvm_vm *vm)
{
	int big = libvm__check_extension(vm, KVM_CAP_XSAVE2);

	if (big > (int)sizeof(struct kvm_xsave))
		return (uint32_t)big;
	return libvm__check_extension(vm, KVM_CAP_XSAVE) > 0 ? sizeof(struct kvm_xsave) : 0;
}

static int get_xsave(libvm_vcpu *vcpu, void *buf, uint32_t size)
{
	/* KVM_GET_XSAVE2 takes the area's whole size; plain KVM_GET_XSAVE
	 * the 4 KiB struct. Both want a buffer that big. */
	if (size > sizeof(struct kvm_xsave))
		return vcpu_req(vcpu, get_xsave2, buf, "KVM_GET_XSAVE2");
	return vcpu_req(vcpu, get_xsave, buf, "KVM_GET_XSAVE");
}

LIBVM_EXPORT int libvm_vcpu_get_xsave(libvm_vcpu *vcpu, void *buf, uint32_t *size)
{
	uint32_t need;
	void *tmp;
	int err;

	ARGS(vcpu, size, "libvm_vcpu_get_xsave");
	need = libvm__xsave_size(vcpu->vm);
	if (!need)
		return need_cap(vcpu->vm, KVM_CAP_XSAVE, "KVM_CAP_XSAVE");
	if (!buf || *size < need) {
		*size = need;
		return libvm__fail(-E2BIG, "libvm_vcpu_get_xsave: the area has %u bytes", need);
	}
	/* Aligned scratch: the caller's buffer may be any address. */
	tmp = aligned_alloc(64, need);
	if (!tmp)
		return libvm__fail(-ENOMEM, "libvm_vcpu_get_xsave: out of memory");
	err = get_xsave(vcpu, tmp, need);
	if (!err)
		memcpy(buf, tmp, need);
	free(tmp);
	*size = need;
	return err;
}

LIBVM_EXPORT int libvm_vcpu_set_xsave(libvm_vcpu *vcpu, const void *buf, uint32_t size)
{
	uint32_t need;
	void *tmp;
	int err;

	ARGS(vcpu, buf, "libvm_vcpu_set_xsave");
	need = libvm__xsave_size(vcpu->vm);
	if (!need)
		return need_cap(vcpu->vm, KVM_CAP_XSAVE, "KVM_CAP_XSAVE");
	if (size != need)
		return libvm__fail(-EINVAL, "libvm_vcpu_set_xsave: %u bytes given, the area has %u",
				   size, need);
	tmp = aligned_alloc(64, need);
	if (!tmp)
		return libvm__fail(-ENOMEM, "libvm_vcpu_set_xsave: out of memory");
	memcpy(tmp, buf, need);
	err = vcpu_req(vcpu, set_xsave, tmp, "KVM_SET_XSAVE");
	free(tmp);
	return err;
}

LIBVM_EXPORT int libvm_vcpu_get_xcrs(libvm_vcpu *vcpu, libvm_xcr *xcrs, uint32_t *count)
{
	struct kvm_xcrs k;
	int err;

	ARGS(vcpu, xcrs, "libvm_vcpu_get_xcrs");
	if (!count)
		return libvm__fail(-EINVAL, "libvm_vcpu_get_xcrs: count is NULL");
	if ((err = need_cap(vcpu->vm, KVM_CAP_XCRS, "KVM_CAP_XCRS")))
		return err;
	memset(&k, 0, sizeof(k));
	if ((err = vcpu_req(vcpu, get_xcrs, &k, "KVM_GET_XCRS")))
		return err;
	if (k.nr_xcrs > KVM_MAX_XCRS || *count < k.nr_xcrs)
		return libvm__fail(-EINVAL, "libvm_vcpu_get_xcrs: %u XCRs, room for %u", k.nr_xcrs,
				   *count);
	for (uint32_t i = 0; i < k.nr_xcrs; i++)
		xcrs[i] = (libvm_xcr){ .index = k.xcrs[i].xcr, .value = k.xcrs[i].value };
	*count = k.nr_xcrs;
	return 0;
}

LIBVM_EXPORT int libvm_vcpu_set_xcrs(libvm_vcpu *vcpu, const libvm_xcr *xcrs, uint32_t count)
{
	struct kvm_xcrs k;
	int err;

	ARGS(vcpu, xcrs, "libvm_vcpu_set_xcrs");
	if (count == 0 || count > KVM_MAX_XCRS)
		return libvm__fail(-EINVAL, "libvm_vcpu_set_xcrs: count %u is not in 1..%d", count,
				   KVM_MAX_XCRS);
	if ((err = need_cap(vcpu->vm, KVM_CAP_XCRS, "KVM_CAP_XCRS")))
		return err;
	memset(&k, 0, sizeof(k));
	k.nr_xcrs = count;
	for (uint32_t i = 0; i < count; i++) {
		k.xcrs[i].xcr = xcrs[i].index;
		k.xcrs[i].value = xcrs[i].value;
	}
	return vcpu_req(vcpu, set_xcrs, &k, "KVM_SET_XCRS");
}

/* ------------------------------------------------------------------ */
/* MSRs                                                                */
/* ------------------------------------------------------------------ */

/* The backend's list, less what is never saved; *out malloc'ed. */
static int msr_index_list(libvm_vm *vm, uint32_t **out, uint32_t *count)
{
	uint32_t n = 64;

	for (;;) {
		struct kvm_msr_list *l = calloc(1, sizeof(*l) + n * sizeof(l->indices[0]));
		uint32_t kept = 0;

		if (!l)
			return libvm__fail(-ENOMEM, "MSR list: out of memory");
		l->nmsrs = n;
		int err = vm->backend->get_msr_index_list ? vm->backend->get_msr_index_list(vm, l) :
							       -ENOTTY;

		if (err < 0) {
			free(l);
			if (err == -E2BIG && n < 0x10000) {
				n *= 4;
				continue;
			}
			return libvm__fail(err == -ENOTTY ? -ENOTSUP : err,
					   "KVM_GET_MSR_INDEX_LIST failed: %s", strerror(-err));
		}
		*out = malloc((l->nmsrs ? l->nmsrs : 1) * sizeof(**out));
		if (!*out) {
			free(l);
			return libvm__fail(-ENOMEM, "MSR list: out of memory");
		}
		for (uint32_t i = 0; i < l->nmsrs; i++)
			if (l->indices[i] != MSR_KVM_WALL_CLOCK &&
			    l->indices[i] != MSR_KVM_WALL_CLOCK_NEW)
				(*out)[kept++] = l->indices[i];
		*count = kept;
		free(l);
		return 0;
	}
}

LIBVM_EXPORT int libvm_vcpu_msr_list(libvm_vm *vm, uint32_t *indices, uint32_t *count)
{
	uint32_t *list, n;
	int err;

	LIBVM__CHECK_VM(vm, "libvm_vcpu_msr_list");
	if (!count)
		return libvm__fail(-EINVAL, "libvm_vcpu_msr_list: count is NULL");
	err = msr_index_list(vm, &list, &n);
	if (err)
		return err;
	if (indices && *count < n)
		err = libvm__fail(-E2BIG, "libvm_vcpu_msr_list: %u MSRs", n);
	else if (indices)
		memcpy(indices, list, n * sizeof(*list));
	*count = n;
	free(list);
	return err;
}

/*
 * Read the MSRs of @list that the vCPU has: KVM_GET_MSRS stops at the first
 * it refuses (MSRs of features this vCPU's CPUID lacks), which is dropped
 * and the rest read on. Fills @k (room for @n) and returns how many.
 */
static int read_msrs(libvm_vcpu *vcpu, const uint32_t *list, uint32_t n, struct kvm_msrs *k)
{
	struct kvm_msrs *t = calloc(1, sizeof(*t) + (n ? n : 1) * sizeof(t->entries[0]));
	uint32_t done = 0;

	if (!t)
		return libvm__fail(-ENOMEM, "MSRs: out of memory");
	for (uint32_t i = 0; i < n; i++)
		k->entries[i] = (struct kvm_msr_entry){ .index = list[i] };
	while (done < n) {
		int got;

		t->nmsrs = n - done;
		memcpy(t->entries, &k->entries[done], (n - done) * sizeof(t->entries[0]));
		got = libvm__bk_get_msrs(vcpu, t);
		if (got < 0) {
			int err = got;

			free(t);
			return libvm__fail(err, "vCPU %u: KVM_GET_MSRS failed: %s", vcpu->id,
					   strerror(-err));
		}
		memcpy(&k->entries[done], t->entries, (uint32_t)got * sizeof(t->entries[0]));
		done += (uint32_t)got;
		if (done < n) {
			/* Drop the refused one and read on. */
			memmove(&k->entries[done], &k->entries[done + 1],
				(n - done - 1) * sizeof(k->entries[0]));
			n--;
		}
	}
	free(t);
	return (int)n;
}

/* Write @n MSRs; one the backend refuses is logged and skipped. */
static int write_msrs(libvm_vcpu *vcpu, struct kvm_msr_entry *e, uint32_t n)
{
	struct kvm_msrs *k = calloc(1, sizeof(*k) + n * sizeof(k->entries[0]));
	uint32_t done = 0;

	if (!k)
		return libvm__fail(-ENOMEM, "MSRs: out of memory");
	while (done < n) {
		int put;

		k->nmsrs = n - done;
		memcpy(k->entries, e + done, (n - done) * sizeof(*e));
		put = libvm__bk_set_msrs(vcpu, k);
		if (put < 0) {
			int err = put;

			free(k);
			return libvm__fail(err, "vCPU %u: KVM_SET_MSRS failed: %s", vcpu->id,
					   strerror(-err));
		}
		done += (uint32_t)put;
		if (done < n) {
			libvm__log(vcpu->vm, LIBVM_LOG_WARN, "vCPU %u: the backend refused MSR 0x%x = 0x%llx; skipped",
				   vcpu->id, e[done].index, (unsigned long long)e[done].data);
			done++;
		}
	}
	free(k);
	return 0;
}

/* ------------------------------------------------------------------ */
/* LAPIC, events, MP state, debug registers                            */
/* ------------------------------------------------------------------ */

LIBVM_EXPORT int libvm_vcpu_get_lapic(libvm_vcpu *vcpu, libvm_lapic *lapic)
{
	ARGS(vcpu, lapic, "libvm_vcpu_get_lapic");
	if (!vcpu->vm->has_irqchip)
		return libvm__fail(-ENOTSUP, "libvm_vcpu_get_lapic: the VM has no irqchip");
	_Static_assert(sizeof(struct kvm_lapic_state) == sizeof(libvm_lapic), "LAPIC page");
	return vcpu_req(vcpu, get_lapic, (struct kvm_lapic_state *)lapic, "KVM_GET_LAPIC");
}

LIBVM_EXPORT int libvm_vcpu_set_lapic(libvm_vcpu *vcpu, const libvm_lapic *lapic)
{
	struct kvm_lapic_state k;

	ARGS(vcpu, lapic, "libvm_vcpu_set_lapic");
	if (!vcpu->vm->has_irqchip)
		return libvm__fail(-ENOTSUP, "libvm_vcpu_set_lapic: the VM has no irqchip");
	memcpy(k.regs, lapic->regs, sizeof(k.regs));
	return vcpu_req(vcpu, set_lapic, &k, "KVM_SET_LAPIC");
}

LIBVM_EXPORT int libvm_vcpu_get_events(libvm_vcpu *vcpu, libvm_vcpu_events *ev)
{
	struct kvm_vcpu_events k;
	int err;

	ARGS(vcpu, ev, "libvm_vcpu_get_events");
	if ((err = need_cap(vcpu->vm, KVM_CAP_VCPU_EVENTS, "KVM_CAP_VCPU_EVENTS")))
		return err;
	memset(&k, 0, sizeof(k));
	if ((err = vcpu_req(vcpu, get_vcpu_events, &k, "KVM_GET_VCPU_EVENTS")))
		return err;
	memset(ev, 0, sizeof(*ev));
	ev->exception_injected = k.exception.injected;
	ev->exception_nr = k.exception.nr;
	ev->exception_has_error_code = k.exception.has_error_code;
	ev->exception_pending = k.exception.pending;
	ev->exception_error_code = k.exception.error_code;
	ev->interrupt_injected = k.interrupt.injected;
	ev->interrupt_nr = k.interrupt.nr;
	ev->interrupt_soft = k.interrupt.soft;
	ev->interrupt_shadow = k.interrupt.shadow;
	ev->nmi_injected = k.nmi.injected;
	ev->nmi_pending = k.nmi.pending;
	ev->nmi_masked = k.nmi.masked;
	ev->sipi_vector = k.sipi_vector;
	ev->flags = k.flags;
	ev->smi_smm = k.smi.smm;
	ev->smi_pending = k.smi.pending;
	ev->smi_smm_inside_nmi = k.smi.smm_inside_nmi;
	ev->smi_latched_init = k.smi.latched_init;
	ev->triple_fault_pending = k.triple_fault.pending;
	ev->exception_has_payload = k.exception_has_payload;
	ev->exception_payload = k.exception_payload;
	return 0;
}

LIBVM_EXPORT int libvm_vcpu_set_events(libvm_vcpu *vcpu, const libvm_vcpu_events *ev)
{
	struct kvm_vcpu_events k;
	int err;

	ARGS(vcpu, ev, "libvm_vcpu_set_events");
	if ((err = need_cap(vcpu->vm, KVM_CAP_VCPU_EVENTS, "KVM_CAP_VCPU_EVENTS")))
		return err;
	memset(&k, 0, sizeof(k));
	k.exception.injected = ev->exception_injected;
	k.exception.nr = ev->exception_nr;
	k.exception.has_error_code = ev->exception_has_error_code;
	k.exception.pending = ev->exception_pending;
	k.exception.error_code = ev->exception_error_code;
	k.interrupt.injected = ev->interrupt_injected;
	k.interrupt.nr = ev->interrupt_nr;
	k.interrupt.soft = ev->interrupt_soft;
	k.interrupt.shadow = ev->interrupt_shadow;
	k.nmi.injected = ev->nmi_injected;
	k.nmi.pending = ev->nmi_pending;
	k.nmi.masked = ev->nmi_masked;
	k.sipi_vector = ev->sipi_vector;
	k.flags = ev->flags;
	k.smi.smm = ev->smi_smm;
	k.smi.pending = ev->smi_pending;
	k.smi.smm_inside_nmi = ev->smi_smm_inside_nmi;
	k.smi.latched_init = ev->smi_latched_init;
	k.triple_fault.pending = ev->triple_fault_pending;
	k.exception_has_payload = ev->exception_has_payload;
	k.exception_payload = ev->exception_payload;
	return vcpu_req(vcpu, set_vcpu_events, &k, "KVM_SET_VCPU_EVENTS");
}

LIBVM_EXPORT int libvm_vcpu_get_mp_state(libvm_vcpu *vcpu, uint32_t *state)
{
	struct kvm_mp_state k = { 0 };
	int err;

	ARGS(vcpu, state, "libvm_vcpu_get_mp_state");
	if ((err = need_cap(vcpu->vm, KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE")) ||
	    (err = vcpu_req(vcpu, get_mp_state, &k, "KVM_GET_MP_STATE")))
		return err;
	*state = k.mp_state;
	return 0;
}

LIBVM_EXPORT int libvm_vcpu_set_mp_state(libvm_vcpu *vcpu, uint32_t state)
{
	struct kvm_mp_state k = { .mp_state = state };
	int err;

	LIBVM__CHECK_VCPU(vcpu, "libvm_vcpu_set_mp_state");
	if ((err = need_cap(vcpu->vm, KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE")))
		return err;
	return vcpu_req(vcpu, set_mp_state, &k, "KVM_SET_MP_STATE");
}

LIBVM_EXPORT int libvm_vcpu_get_debugregs(libvm_vcpu *vcpu, libvm_debugregs *regs)
{
	struct kvm_debugregs k;
	int err;

	ARGS(vcpu, regs, "libvm_vcpu_get_debugregs");
	if ((err = need_cap(vcpu->vm, KVM_CAP_DEBUGREGS, "KVM_CAP_DEBUGREGS")))
		return err;
	memset(&k, 0, sizeof(k));
	if ((err = vcpu_req(vcpu, get_debugregs, &k, "KVM_GET_DEBUGREGS")))
		return err;
	memset(regs, 0, sizeof(*regs));
	memcpy(regs->db, k.db, sizeof(regs->db));
	regs->dr6 = k.dr6;
	regs->dr7 = k.dr7;
	regs->flags = k.flags;
	return 0;
}

LIBVM_EXPORT int libvm_vcpu_set_debugregs(libvm_vcpu *vcpu, const libvm_debugregs *regs)
{
	struct kvm_debugregs k;
	int err;

	ARGS(vcpu, regs, "libvm_vcpu_set_debugregs");
	if ((err = need_cap(vcpu->vm, KVM_CAP_DEBUGREGS, "KVM_CAP_DEBUGREGS")))
		return err;
	memset(&k, 0, sizeof(k));
	memcpy(k.db, regs->db, sizeof(k.db));
	k.dr6 = regs->dr6;
	k.dr7 = regs->dr7;
	k.flags = regs->flags;
	return vcpu_req(vcpu, set_debugregs, &k, "KVM_SET_DEBUGREGS");
}

/* ------------------------------------------------------------------ */
/* PICs, IOAPIC, PIT, clock                                            */
/* ------------------------------------------------------------------ */

static int irqchip_args(libvm_vm *vm, const void *p, const char *fn)
{
	LIBVM__CHECK_VM(vm, fn);
	if (!p)
		return libvm__fail(-EINVAL, "%s: state is NULL", fn);
	if (!vm->has_irqchip)
		return libvm__fail(-ENOTSUP, "%s: the VM has no irqchip", fn);
	return 0;
}

LIBVM_EXPORT int libvm_vm_get_pic(libvm_vm *vm, uint32_t which, libvm_pic_state *pic)
{
	struct kvm_irqchip k = { .chip_id = which };
	int err = irqchip_args(vm, pic, "libvm_vm_get_pic");

	if (err)
		return err;
	if (which > 1)
		return libvm__fail(-EINVAL, "libvm_vm_get_pic: PIC %u (0 master, 1 slave)", which);
	if ((err = vm_req(vm, get_irqchip, &k, "KVM_GET_IRQCHIP")))
		return err;
	memset(pic, 0, sizeof(*pic));
	_Static_assert(offsetof(libvm_pic_state, reserved) == sizeof(struct kvm_pic_state),
		       "PIC fields");
	memcpy(pic, &k.chip.pic, sizeof(k.chip.pic));
	return 0;
}

LIBVM_EXPORT int libvm_vm_set_pic(libvm_vm *vm, uint32_t which, const libvm_pic_state *pic)
{
	struct kvm_irqchip k = { .chip_id = which };
	int err = irqchip_args(vm, pic, "libvm_vm_set_pic");

	if (err)
		return err;
	if (which > 1)
		return libvm__fail(-EINVAL, "libvm_vm_set_pic: PIC %u (0 master, 1 slave)", which);
	memcpy(&k.chip.pic, pic, sizeof(k.chip.pic));
	return vm_req(vm, set_irqchip, &k, "KVM_SET_IRQCHIP");
}

LIBVM_EXPORT int libvm_vm_get_ioapic(libvm_vm *vm, libvm_ioapic_state *io)
{
	struct kvm_irqchip k = { .chip_id = KVM_IRQCHIP_IOAPIC };
	int err = irqchip_args(vm, io, "libvm_vm_get_ioapic");

	if (err || (err = vm_req(vm, get_irqchip, &k, "KVM_GET_IRQCHIP")))
		return err;
	memset(io, 0, sizeof(*io));
	io->base_address = k.chip.ioapic.base_address;
	io->ioregsel = k.chip.ioapic.ioregsel;
	io->id = k.chip.ioapic.id;
	io->irr = k.chip.ioapic.irr;
	for (int i = 0; i < 24; i++)
		io->redirtbl[i] = k.chip.ioapic.redirtbl[i].bits;
	return 0;
}

LIBVM_EXPORT int libvm_vm_set_ioapic(libvm_vm *vm, const libvm_ioapic_state *io)
{
	struct kvm_irqchip k = { .chip_id = KVM_IRQCHIP_IOAPIC };
	int err = irqchip_args(vm, io, "libvm_vm_set_ioapic");

	if (err)
		return err;
	k.chip.ioapic.base_address = io->base_address;
	k.chip.ioapic.ioregsel = io->ioregsel;
	k.chip.ioapic.id = io->id;
	k.chip.ioapic.irr = io->irr;
	for (int i = 0; i < 24; i++)
		k.chip.ioapic.redirtbl[i].bits = io->redirtbl[i];
	return vm_req(vm, set_irqchip, &k, "KVM_SET_IRQCHIP");
}

static int pit_args(libvm_vm *vm, const void *p, const char *fn)
{
	LIBVM__CHECK_VM(vm, fn);
	if (!p)
		return libvm__fail(-EINVAL, "%s: pit is NULL", fn);
	if (!vm->has_pit)
		return libvm__fail(-ENOTSUP, "%s: the VM has no in-kernel PIT", fn);
	return need_cap(vm, KVM_CAP_PIT_STATE2, "KVM_CAP_PIT_STATE2");
}

LIBVM_EXPORT int libvm_vm_get_pit(libvm_vm *vm, libvm_pit_state *pit)
{
	struct kvm_pit_state2 k;
	int err = pit_args(vm, pit, "libvm_vm_get_pit");

	if (err)
		return err;
	memset(&k, 0, sizeof(k));
	if ((err = vm_req(vm, get_pit2, &k, "KVM_GET_PIT2")))
		return err;
	memset(pit, 0, sizeof(*pit));
	for (int i = 0; i < 3; i++) {
		const struct kvm_pit_channel_state *c = &k.channels[i];

		pit->channels[i] = (libvm_pit_channel){
			.count = c->count, .latched_count = c->latched_count,
			.count_latched = c->count_latched, .status_latched = c->status_latched,
			.status = c->status, .read_state = c->read_state,
			.write_state = c->write_state, .write_latch = c->write_latch,
			.rw_mode = c->rw_mode, .mode = c->mode, .bcd = c->bcd, .gate = c->gate,
			.count_load_time = c->count_load_time,
		};
	}
	pit->flags = k.flags;
	return 0;
}

LIBVM_EXPORT int libvm_vm_set_pit(libvm_vm *vm, const libvm_pit_state *pit)
{
	struct kvm_pit_state2 k;
	int err = pit_args(vm, pit, "libvm_vm_set_pit");

	if (err)
		return err;
	memset(&k, 0, sizeof(k));
	for (int i = 0; i < 3; i++) {
		const libvm_pit_channel *c = &pit->channels[i];

		k.channels[i] = (struct kvm_pit_channel_state){
			.count = c->count, .latched_count = c->latched_count,
			.count_latched = c->count_latched, .status_latched = c->status_latched,
			.status = c->status, .read_state = c->read_state,
			.write_state = c->write_state, .write_latch = c->write_latch,
			.rw_mode = c->rw_mode, .mode = c->mode, .bcd = c->bcd, .gate = c->gate,
			.count_load_time = c->count_load_time,
		};
	}
	k.flags = pit->flags;
	return vm_req(vm, set_pit2, &k, "KVM_SET_PIT2");
}

LIBVM_EXPORT int libvm_vm_get_clock(libvm_vm *vm, libvm_clock *clock)
{
	struct kvm_clock_data k;
	int err;

	LIBVM__CHECK_VM(vm, "libvm_vm_get_clock");
	if (!clock)
		return libvm__fail(-EINVAL, "libvm_vm_get_clock: clock is NULL");
	if ((err = need_cap(vm, KVM_CAP_ADJUST_CLOCK, "KVM_CAP_ADJUST_CLOCK")))
		return err;
	memset(&k, 0, sizeof(k));
	if ((err = vm_req(vm, get_clock, &k, "KVM_GET_CLOCK")))
		return err;
	memset(clock, 0, sizeof(*clock));
	clock->ns = k.clock;
	clock->flags = k.flags;
	clock->realtime = k.realtime;
	clock->host_tsc = k.host_tsc;
	return 0;
}

LIBVM_EXPORT int libvm_vm_set_clock(libvm_vm *vm, const libvm_clock *clock)
{
	struct kvm_clock_data k;
	int err;

	LIBVM__CHECK_VM(vm, "libvm_vm_set_clock");
	if (!clock)
		return libvm__fail(-EINVAL, "libvm_vm_set_clock: clock is NULL");
	if ((err = need_cap(vm, KVM_CAP_ADJUST_CLOCK, "KVM_CAP_ADJUST_CLOCK")))
		return err;
	memset(&k, 0, sizeof(k));
	k.clock = clock->ns;
	return vm_req(vm, set_clock, &k, "KVM_SET_CLOCK");
}

/* ------------------------------------------------------------------ */
/* Snapshot encoding: a whole vCPU                                     */
/* ------------------------------------------------------------------ */

/* A record: tag, length, bytes. */
static void record(struct libvm_state_writer *w, uint32_t tag, const void *p, uint32_t len)
{
	libvm__enc_u32(w, tag);
	libvm__enc_u32(w, len);
	libvm__enc_bytes(w, p, len);
}

int libvm__vcpu_state_save(libvm_vcpu *vcpu, struct libvm_state_writer *w)
{
	libvm_vm *vm = vcpu->vm;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint32_t xsize = libvm__xsave_size(vm), *list = NULL, nlist = 0;
	struct kvm_msrs *msrs = NULL;
	void *buf = NULL;
	int err, n;

	if ((err = vcpu_req(vcpu, get_regs, &regs, "KVM_GET_REGS")) ||
	    (err = vcpu_req(vcpu, get_sregs, &sregs, "KVM_GET_SREGS")))
		return err;
	record(w, LIBVM__VCPU_REC_REGS, &regs, sizeof(regs));
	record(w, LIBVM__VCPU_REC_SREGS, &sregs, sizeof(sregs));
	if (xsize) {
		buf = aligned_alloc(64, xsize);
		if (!buf)
			return libvm__fail(-ENOMEM, "vCPU state: out of memory");
		err = get_xsave(vcpu, buf, xsize);
		if (!err)
			record(w, LIBVM__VCPU_REC_XSAVE, buf, xsize);
		free(buf);
	} else {
		struct kvm_fpu fpu;

		err = vcpu_req(vcpu, get_fpu, &fpu, "KVM_GET_FPU");
		if (!err)
			record(w, LIBVM__VCPU_REC_FPU, &fpu, sizeof(fpu));
	}
	if (err)
		return err;
	if (libvm__check_extension(vm, KVM_CAP_XCRS) > 0) {
		struct kvm_xcrs x;

		memset(&x, 0, sizeof(x));
		if ((err = vcpu_req(vcpu, get_xcrs, &x, "KVM_GET_XCRS")))
			return err;
		record(w, LIBVM__VCPU_REC_XCRS, &x, sizeof(x));
	}
	if ((err = msr_index_list(vm, &list, &nlist)))
		return err;
	msrs = calloc(1, sizeof(*msrs) + (nlist + 1) * sizeof(msrs->entries[0]));
	if (!msrs) {
		free(list);
		return libvm__fail(-ENOMEM, "vCPU state: out of memory");
	}
	n = read_msrs(vcpu, list, nlist, msrs);
	free(list);
	if (n < 0) {
		free(msrs);
		return n;
	}
	libvm__enc_u32(w, LIBVM__VCPU_REC_MSRS);
	libvm__enc_u32(w, 4 + 16 * (uint32_t)n);
	libvm__enc_u32(w, (uint32_t)n);
	for (int i = 0; i < n; i++) {
		libvm__enc_u32(w, msrs->entries[i].index);
		libvm__enc_u32(w, 0);
		libvm__enc_u64(w, msrs->entries[i].data);
	}
	free(msrs);
	if (vm->has_irqchip) {
		struct kvm_lapic_state lapic;

		if ((err = vcpu_req(vcpu, get_lapic, &lapic, "KVM_GET_LAPIC")))
			return err;
		record(w, LIBVM__VCPU_REC_LAPIC, &lapic, sizeof(lapic));
	}
	if (libvm__check_extension(vm, KVM_CAP_VCPU_EVENTS) > 0) {
		struct kvm_vcpu_events ev;

		memset(&ev, 0, sizeof(ev));
		if ((err = vcpu_req(vcpu, get_vcpu_events, &ev, "KVM_GET_VCPU_EVENTS")))
			return err;
		record(w, LIBVM__VCPU_REC_EVENTS, &ev, sizeof(ev));
	}
	if (libvm__check_extension(vm, KVM_CAP_MP_STATE) > 0) {
		struct kvm_mp_state mp;

		if ((err = vcpu_req(vcpu, get_mp_state, &mp, "KVM_GET_MP_STATE")))
			return err;
		record(w, LIBVM__VCPU_REC_MP_STATE, &mp, sizeof(mp));
	}
	if (libvm__check_extension(vm, KVM_CAP_DEBUGREGS) > 0) {
		struct kvm_debugregs d;

		memset(&d, 0, sizeof(d));
		if ((err = vcpu_req(vcpu, get_debugregs, &d, "KVM_GET_DEBUGREGS")))
			return err;
		record(w, LIBVM__VCPU_REC_DEBUGREGS, &d, sizeof(d));
	}
	return 0;
}

/* The records of one section, found and size-checked. */
struct records {
	const uint8_t *p[LIBVM__REC_MAX];
	uint32_t len[LIBVM__REC_MAX];
};

static int parse_records(const void *data, size_t len, struct records *r, const uint32_t *sizes,
			 const char *what)
{
	struct libvm__dec d;

	memset(r, 0, sizeof(*r));
	libvm__dec_init(&d, data, len);
	while (d.pos < d.len) {
		uint32_t tag = libvm__dec_u32(&d), n = libvm__dec_u32(&d);

		if (d.short_read || n > d.len - d.pos)
			return libvm__fail(-EINVAL, "%s: a record runs past the end of the section",
					   what);
		if (tag == 0 || tag >= LIBVM__REC_MAX || !sizes[tag])
			return libvm__fail(-ENOTSUP, "%s: record type %u is unknown (saved by a newer libvm?)",
					   what, tag);
		if (r->p[tag])
			return libvm__fail(-EINVAL, "%s: record type %u appears twice", what, tag);
		if (sizes[tag] != UINT32_MAX && n != sizes[tag])
			return libvm__fail(-EINVAL, "%s: record type %u has %u bytes, %u expected",
					   what, tag, n, sizes[tag]);
		r->p[tag] = d.p + d.pos;
		r->len[tag] = n;
		d.pos += n;
	}
	return 0;
}

static const uint32_t vcpu_sizes[LIBVM__REC_MAX] = {
	[LIBVM__VCPU_REC_REGS] = sizeof(struct kvm_regs),
	[LIBVM__VCPU_REC_SREGS] = sizeof(struct kvm_sregs),
	[LIBVM__VCPU_REC_FPU] = sizeof(struct kvm_fpu),
	[LIBVM__VCPU_REC_XSAVE] = UINT32_MAX,
	[LIBVM__VCPU_REC_XCRS] = sizeof(struct kvm_xcrs),
	[LIBVM__VCPU_REC_MSRS] = UINT32_MAX,
	[LIBVM__VCPU_REC_LAPIC] = sizeof(struct kvm_lapic_state),
	[LIBVM__VCPU_REC_EVENTS] = sizeof(struct kvm_vcpu_events),
	[LIBVM__VCPU_REC_MP_STATE] = sizeof(struct kvm_mp_state),
	[LIBVM__VCPU_REC_DEBUGREGS] = sizeof(struct kvm_debugregs),
};

int libvm__vcpu_state_check(libvm_vcpu *vcpu, const void *data, size_t len)
{
	char what[32];
	struct records r;
	uint32_t xsize = libvm__xsave_size(vcpu->vm);
	int err;

	snprintf(what, sizeof(what), "vCPU %u", vcpu->id);
	if ((err = parse_records(data, len, &r, vcpu_sizes, what)))
		return err;
	if (!r.p[LIBVM__VCPU_REC_REGS] || !r.p[LIBVM__VCPU_REC_SREGS] ||
	    !r.p[LIBVM__VCPU_REC_MSRS] || (!r.p[LIBVM__VCPU_REC_XSAVE] && !r.p[LIBVM__VCPU_REC_FPU]))
		return libvm__fail(-EINVAL, "%s: registers, MSRs or FPU state are missing", what);
	if (r.p[LIBVM__VCPU_REC_XSAVE] && r.len[LIBVM__VCPU_REC_XSAVE] != xsize)
		return libvm__fail(-EINVAL, "%s: the snapshot's XSAVE area has %u bytes, this backend's %u",
				   what, r.len[LIBVM__VCPU_REC_XSAVE], xsize);
	if (r.len[LIBVM__VCPU_REC_MSRS] < 4 ||
	    libvm__le32(r.p[LIBVM__VCPU_REC_MSRS]) > 0x10000 ||
	    r.len[LIBVM__VCPU_REC_MSRS] != 4 + 16 * libvm__le32(r.p[LIBVM__VCPU_REC_MSRS]))
		return libvm__fail(-EINVAL, "%s: the MSR record is malformed", what);
	if (r.p[LIBVM__VCPU_REC_LAPIC] && !vcpu->vm->has_irqchip)
		return libvm__fail(-EINVAL, "%s: the snapshot has LAPIC state and this VM no irqchip",
				   what);
	if (!r.p[LIBVM__VCPU_REC_LAPIC] && vcpu->vm->has_irqchip)
		return libvm__fail(-EINVAL, "%s: the snapshot has no LAPIC state and this VM an irqchip",
				   what);
	if ((r.p[LIBVM__VCPU_REC_XCRS] && libvm__check_extension(vcpu->vm, KVM_CAP_XCRS) <= 0) ||
	    (r.p[LIBVM__VCPU_REC_EVENTS] &&
	     libvm__check_extension(vcpu->vm, KVM_CAP_VCPU_EVENTS) <= 0) ||
	    (r.p[LIBVM__VCPU_REC_MP_STATE] &&
	     libvm__check_extension(vcpu->vm, KVM_CAP_MP_STATE) <= 0) ||
	    (r.p[LIBVM__VCPU_REC_DEBUGREGS] &&
	     libvm__check_extension(vcpu->vm, KVM_CAP_DEBUGREGS) <= 0) ||
	    (r.p[LIBVM__VCPU_REC_XSAVE] && !xsize))
		return libvm__fail(-ENOTSUP, "%s: %s lacks a state call the snapshot needs (XSAVE, XCRs, vCPU events, MP state or debug registers)",
				   what, vcpu->vm->device_path);
	return 0;
}

int libvm__vcpu_state_load(libvm_vcpu *vcpu, const void *data, size_t len)
{
	struct records r;
	struct kvm_sregs sregs;
	struct kvm_msr_entry *msrs, deadline = { 0 };
	bool has_deadline = false;
	uint32_t nmsrs, kept = 0;
	int err;

	if ((err = libvm__vcpu_state_check(vcpu, data, len)))
		return err;
	parse_records(data, len, &r, vcpu_sizes, "vCPU");
	/* QEMU's order (kvm_arch_put_registers): what later state is read
	 * against comes first. */
	if ((err = vcpu_req(vcpu, set_regs, (void *)r.p[LIBVM__VCPU_REC_REGS], "KVM_SET_REGS")))
		return err;
	if (r.p[LIBVM__VCPU_REC_XSAVE]) {
		void *buf = aligned_alloc(64, r.len[LIBVM__VCPU_REC_XSAVE]);

		if (!buf)
			return libvm__fail(-ENOMEM, "vCPU state: out of memory");
		memcpy(buf, r.p[LIBVM__VCPU_REC_XSAVE], r.len[LIBVM__VCPU_REC_XSAVE]);
		err = vcpu_req(vcpu, set_xsave, buf, "KVM_SET_XSAVE");
		free(buf);
	} else {
		struct kvm_fpu fpu;

		memcpy(&fpu, r.p[LIBVM__VCPU_REC_FPU], sizeof(fpu));
		err = vcpu_req(vcpu, set_fpu, &fpu, "KVM_SET_FPU");
	}
	if (err)
		return err;
	if (r.p[LIBVM__VCPU_REC_XCRS]) {
		struct kvm_xcrs x;

		memcpy(&x, r.p[LIBVM__VCPU_REC_XCRS], sizeof(x));
		if ((err = vcpu_req(vcpu, set_xcrs, &x, "KVM_SET_XCRS")))
			return err;
	}
	memcpy(&sregs, r.p[LIBVM__VCPU_REC_SREGS], sizeof(sregs));
	/* A pending interrupt is in the events, which come later; set here
	 * too, it would be injected twice. */
	if (r.p[LIBVM__VCPU_REC_EVENTS])
		memset(sregs.interrupt_bitmap, 0, sizeof(sregs.interrupt_bitmap));
	if ((err = vcpu_req(vcpu, set_sregs, &sregs, "KVM_SET_SREGS")))
		return err;
	nmsrs = libvm__le32(r.p[LIBVM__VCPU_REC_MSRS]);
	msrs = calloc(nmsrs ? nmsrs : 1, sizeof(*msrs));
	if (!msrs)
		return libvm__fail(-ENOMEM, "vCPU state: out of memory");
	for (uint32_t i = 0; i < nmsrs; i++) {
		const uint8_t *e = r.p[LIBVM__VCPU_REC_MSRS] + 4 + 16 * i;
		struct kvm_msr_entry m = { .index = libvm__le32(e), .data = libvm__le64(e + 8) };

		if (m.index == MSR_KVM_WALL_CLOCK || m.index == MSR_KVM_WALL_CLOCK_NEW)
			continue; /* never saved; a hostile file gets nothing written */
		if (m.index == MSR_IA32_TSC_DEADLINE) {
			deadline = m;
			has_deadline = true;
			continue;
		}
		msrs[kept++] = m;
	}
	err = write_msrs(vcpu, msrs, kept);
	free(msrs);
	if (err)
		return err;
	if (r.p[LIBVM__VCPU_REC_MP_STATE]) {
		struct kvm_mp_state mp;

		memcpy(&mp, r.p[LIBVM__VCPU_REC_MP_STATE], sizeof(mp));
		if ((err = vcpu_req(vcpu, set_mp_state, &mp, "KVM_SET_MP_STATE")))
			return err;
	}
	if (r.p[LIBVM__VCPU_REC_LAPIC]) {
		struct kvm_lapic_state lapic;
		uint32_t lvtt, tmcct;

		memcpy(&lapic, r.p[LIBVM__VCPU_REC_LAPIC], sizeof(lapic));
		/*
		 * KVM restarts the timer from the saved current count, and a
		 * one-shot whose count ran out (0) it fires again at once. Its
		 * initial count reads 0 after the restore instead (what stops a
		 * one-shot): a guest waits for no second interrupt of it.
		 */
		lvtt = libvm__le32((const uint8_t *)lapic.regs + LAPIC_LVTT);
		tmcct = libvm__le32((const uint8_t *)lapic.regs + LAPIC_TMCCT);
		if (((lvtt >> 17) & 3) == 0 && tmcct == 0)
			libvm__put32((uint8_t *)lapic.regs + LAPIC_TMICT, 0);
		if ((err = vcpu_req(vcpu, set_lapic, &lapic, "KVM_SET_LAPIC")))
			return err;
	}
	if (has_deadline && (err = write_msrs(vcpu, &deadline, 1)))
		return err;
	if (r.p[LIBVM__VCPU_REC_EVENTS]) {
		struct kvm_vcpu_events ev;

		memcpy(&ev, r.p[LIBVM__VCPU_REC_EVENTS], sizeof(ev));
		if ((err = vcpu_req(vcpu, set_vcpu_events, &ev, "KVM_SET_VCPU_EVENTS")))
			return err;
	}
	if (r.p[LIBVM__VCPU_REC_DEBUGREGS]) {
		struct kvm_debugregs dr;

		memcpy(&dr, r.p[LIBVM__VCPU_REC_DEBUGREGS], sizeof(dr));
		if ((err = vcpu_req(vcpu, set_debugregs, &dr, "KVM_SET_DEBUGREGS")))
			return err;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Snapshot encoding: the VM                                           */
/* ------------------------------------------------------------------ */

#define PIT_HZ 1193182ull

/*
 * The PIT as a restore must see it. KVM restarts channel 0's count from
 * the start whenever its state is set (kvm_pit_load_count): a one-shot
 * (modes 0, 1, 4, 5) would fire again in full, even one that already
 * fired and that the guest has left for dead (how Linux and our pit test
 * stop the PIT). So the saved count of a running one-shot is what is left
 * of it (the guest reads the same value, and it fires when it would have),
 * and one that ran out is marked done (*@done bit 0): the restore lets it
 * fire at once, before the interrupt controllers' state overwrites the
 * edge it left (pit_restore()).
 */
static void pit_for_restore(libvm_vm *vm, struct kvm_pit_state2 *pit, uint32_t *done)
{
	struct kvm_pit_channel_state *c = &pit->channels[0];
	struct timespec ts;
	uint64_t count = c->count ? c->count : 0x10000, elapsed, ticks;
	int64_t now;

	*done = 0;
	(void)vm;
	if (c->mode != 0 && c->mode != 1 && c->mode != 4 && c->mode != 5)
		return;
	/* count_load_time is the kernel's ktime_get(): CLOCK_MONOTONIC. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	elapsed = now > c->count_load_time ? (uint64_t)(now - c->count_load_time) : 0;
	ticks = elapsed / 1000000000ull * PIT_HZ + elapsed % 1000000000ull * PIT_HZ / 1000000000ull;
	if (ticks >= count)
		*done = 1;
	else
		c->count = (uint32_t)(count - ticks);
}

int libvm__vm_state_save(libvm_vm *vm, struct libvm_state_writer *w)
{
	struct libvm__msi_route *routes;
	uint32_t n;
	int err;

	if (vm->has_irqchip) {
		for (uint32_t chip = 0; chip < 3; chip++) {
			struct kvm_irqchip k = { .chip_id = chip };

			if ((err = vm_req(vm, get_irqchip, &k, "KVM_GET_IRQCHIP")))
				return err;
			record(w, LIBVM__VM_REC_PIC_MASTER + chip, &k, sizeof(k));
		}
	}
	if (vm->has_pit) {
		struct kvm_pit_state2 pit;
		uint8_t done[4];
		uint32_t d;

		memset(&pit, 0, sizeof(pit));
		if ((err = vm_req(vm, get_pit2, &pit, "KVM_GET_PIT2")))
			return err;
		pit_for_restore(vm, &pit, &d);
		record(w, LIBVM__VM_REC_PIT, &pit, sizeof(pit));
		libvm__put32(done, d);
		record(w, LIBVM__VM_REC_PIT_DONE, done, sizeof(done));
	}
	if (libvm__check_extension(vm, KVM_CAP_ADJUST_CLOCK) > 0) {
		struct kvm_clock_data c;

		memset(&c, 0, sizeof(c));
		if ((err = vm_req(vm, get_clock, &c, "KVM_GET_CLOCK")))
			return err;
		record(w, LIBVM__VM_REC_CLOCK, &c, sizeof(c));
	}
	if ((err = libvm__msi_routes_copy(vm, &routes, &n)))
		return err;
	libvm__enc_u32(w, LIBVM__VM_REC_MSI_ROUTES);
	libvm__enc_u32(w, 4 + 16 * n);
	libvm__enc_u32(w, n);
	for (uint32_t i = 0; i < n; i++) {
		libvm__enc_u32(w, routes[i].gsi);
		libvm__enc_u32(w, routes[i].data);
		libvm__enc_u64(w, routes[i].addr);
	}
	free(routes);
	return 0;
}

static const uint32_t vm_sizes[LIBVM__REC_MAX] = {
	[LIBVM__VM_REC_PIC_MASTER] = sizeof(struct kvm_irqchip),
	[LIBVM__VM_REC_PIC_SLAVE] = sizeof(struct kvm_irqchip),
	[LIBVM__VM_REC_IOAPIC] = sizeof(struct kvm_irqchip),
	[LIBVM__VM_REC_PIT] = sizeof(struct kvm_pit_state2),
	[LIBVM__VM_REC_CLOCK] = sizeof(struct kvm_clock_data),
	[LIBVM__VM_REC_MSI_ROUTES] = UINT32_MAX,
	[LIBVM__VM_REC_PIT_DONE] = 4,
};

int libvm__vm_state_check(libvm_vm *vm, const void *data, size_t len)
{
	struct records r;
	int err = parse_records(data, len, &r, vm_sizes, "VM state");
	bool chips = r.p[LIBVM__VM_REC_PIC_MASTER] && r.p[LIBVM__VM_REC_PIC_SLAVE] &&
		     r.p[LIBVM__VM_REC_IOAPIC];

	if (err)
		return err;
	if (chips != vm->has_irqchip || (!chips && (r.p[LIBVM__VM_REC_PIC_MASTER] ||
						    r.p[LIBVM__VM_REC_PIC_SLAVE] ||
						    r.p[LIBVM__VM_REC_IOAPIC])))
		return libvm__fail(-EINVAL, "VM state: the snapshot's VM %s an irqchip, this one %s",
				   chips ? "has" : "has no", vm->has_irqchip ? "has" : "has not");
	if (!!r.p[LIBVM__VM_REC_PIT] != vm->has_pit)
		return libvm__fail(-EINVAL, "VM state: the snapshot's VM %s an in-kernel PIT, this one %s",
				   r.p[LIBVM__VM_REC_PIT] ? "has" : "has no",
				   vm->has_pit ? "has" : "has not");
	for (uint32_t chip = 0; chips && chip < 3; chip++)
		if (libvm__le32(r.p[LIBVM__VM_REC_PIC_MASTER + chip]) != chip)
			return libvm__fail(-EINVAL, "VM state: irqchip record %u names chip %u", chip,
					   libvm__le32(r.p[LIBVM__VM_REC_PIC_MASTER + chip]));
	if (r.p[LIBVM__VM_REC_CLOCK] && libvm__check_extension(vm, KVM_CAP_ADJUST_CLOCK) <= 0)
		return libvm__fail(-ENOTSUP, "VM state: %s cannot set the guest's clock",
				   vm->device_path);
	if (!r.p[LIBVM__VM_REC_MSI_ROUTES] || r.len[LIBVM__VM_REC_MSI_ROUTES] < 4 ||
	    libvm__le32(r.p[LIBVM__VM_REC_MSI_ROUTES]) > 0x10000 ||
	    r.len[LIBVM__VM_REC_MSI_ROUTES] != 4 + 16 * libvm__le32(r.p[LIBVM__VM_REC_MSI_ROUTES]))
		return libvm__fail(-EINVAL, "VM state: the MSI route record is missing or malformed");
	return 0;
}

/*
 * KVM_SET_PIT2 for a restore. A one-shot still counting was saved with
 * what was left of it; it starts from now (our module honours the load
 * time, KVM starts from now whatever it is). A spent one cannot be loaded
 * without its timer (KVM arms channel 0 on every load, and the
 * HPET-legacy flag that would stop it also stops every later one), so it
 * is loaded with a count of 1: it fires at once into the controllers,
 * whose saved state, set right after, overwrites the edge; the channel
 * is then spent as it was, its counter wrapping, and the guest's next
 * programming arms it as usual. The caller sets the PIC, the IOAPIC and
 * the LAPICs after this.
 */
static int pit_restore(libvm_vm *vm, const uint8_t *rec, bool done)
{
	struct kvm_pit_state2 pit;
	struct kvm_pit_channel_state *c = &pit.channels[0];
	struct timespec ts;
	int err;

	memcpy(&pit, rec, sizeof(pit));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (c->mode == 0 || c->mode == 1 || c->mode == 4 || c->mode == 5)
		c->count_load_time = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	if (!done || (pit.flags & KVM_PIT_FLAGS_HPET_LEGACY) || !vm->has_irqchip)
		return vm_req(vm, set_pit2, &pit, "KVM_SET_PIT2");
	c->count = 1;
	if ((err = vm_req(vm, set_pit2, &pit, "KVM_SET_PIT2")))
		return err;
	/* Its edge reaches the PIC's IRR (masked or not) within
	 * microseconds; wait for it, at most 20 ms. */
	for (int i = 0; i < 200; i++) {
		struct kvm_irqchip k = { .chip_id = KVM_IRQCHIP_PIC_MASTER };

		if ((err = vm_req(vm, get_irqchip, &k, "KVM_GET_IRQCHIP")))
			return err;
		if (k.chip.pic.irr & 1)
			return 0;
		nanosleep(&(struct timespec){ .tv_nsec = 100000 }, NULL);
	}
	libvm__log(vm, LIBVM_LOG_DEBUG, "restore: the spent PIT one-shot did not fire within 20 ms");
	return 0;
}

int libvm__vm_state_load(libvm_vm *vm, const void *data, size_t len, enum libvm__vm_phase phase)
{
	struct records r;
	int err = libvm__vm_state_check(vm, data, len);

	if (err)
		return err;
	parse_records(data, len, &r, vm_sizes, "VM state");
	switch (phase) {
	case LIBVM__VM_PHASE_ROUTES: {
		uint32_t n = libvm__le32(r.p[LIBVM__VM_REC_MSI_ROUTES]);
		struct libvm__msi_route *routes = calloc(n ? n : 1, sizeof(*routes));

		if (!routes)
			return libvm__fail(-ENOMEM, "VM state: out of memory");
		for (uint32_t i = 0; i < n; i++) {
			const uint8_t *e = r.p[LIBVM__VM_REC_MSI_ROUTES] + 4 + 16 * i;

			routes[i] = (struct libvm__msi_route){
				.gsi = libvm__le32(e), .data = libvm__le32(e + 4),
				.addr = libvm__le64(e + 8),
			};
		}
		err = libvm__msi_routes_replace(vm, routes, n);
		free(routes);
		return err;
	}
	case LIBVM__VM_PHASE_IRQCHIP:
		/* The PIT first: a spent one-shot's edge must come before
		 * the controllers' state overwrites it. */
		if (r.p[LIBVM__VM_REC_PIT] &&
		    (err = pit_restore(vm, r.p[LIBVM__VM_REC_PIT],
				       r.p[LIBVM__VM_REC_PIT_DONE] &&
				       (libvm__le32(r.p[LIBVM__VM_REC_PIT_DONE]) & 1))))
			return err;
		for (uint32_t chip = 0; vm->has_irqchip && chip < 3; chip++) {
			struct kvm_irqchip k;

			memcpy(&k, r.p[LIBVM__VM_REC_PIC_MASTER + chip], sizeof(k));
			if ((err = vm_req(vm, set_irqchip, &k, "KVM_SET_IRQCHIP")))
				return err;
		}
		return 0;
	case LIBVM__VM_PHASE_CLOCK:
		if (r.p[LIBVM__VM_REC_CLOCK]) {
			struct kvm_clock_data c, saved;

			memcpy(&saved, r.p[LIBVM__VM_REC_CLOCK], sizeof(saved));
			memset(&c, 0, sizeof(c));
			c.clock = saved.clock; /* as if the VM had paused */
			return vm_req(vm, set_clock, &c, "KVM_SET_CLOCK");
		}
		return 0;
	}
	return libvm__fail(-EINVAL, "VM state: unknown phase %d", (int)phase);
}
