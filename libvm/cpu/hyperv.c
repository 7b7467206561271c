/* SPDX-License-Identifier: MIT */
/*
 * Hyper-V enlightenments, opt-in per vCPU: the CPUID leaves 0x40000000 -
 * 0x4000000A as the backend reports them (KVM_GET_SUPPORTED_HV_CPUID),
 * kept to the features asked for by QEMU's hv_* names, with KVM's own
 * leaves moved to 0x40000100 (where guests that look past Hyper-V find
 * them, as Linux's kvm_cpuid_base() does), and SynIC enabled on the vCPU
 * when asked (KVM_CAP_HYPERV_SYNIC2). The MSRs themselves (guest OS id,
 * hypercall page, VP index, VP runtime, reference counter and TSC page,
 * SynIC, synthetic timers) are KVM's; what reaches userspace comes back
 * from libvm_vcpu_run() as LIBVM_EXIT_HYPERV. Bit positions: Microsoft's
 * Hypervisor Top-Level Functional Specification (TLFS) 6.0, section 2.4.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/kvm.h>

#include <libvm/cpu.h>

#include "../internal.h"

#define HV_BASE 0x40000000u
#define KVM_MOVED_BASE 0x40000100u
#define HV_FEATURES 0x40000003u
#define HV_RECOMMEND 0x40000004u

enum { EAX, EBX, ECX, EDX };

struct hv_feature {
	const char *name;
	uint32_t flag;
	/* Bits it sets: 0x40000003 EAX and EDX, 0x40000004 EAX. */
	uint32_t feat_eax, feat_edx, rec_eax;
	uint32_t needs; /* other LIBVM_HV_* it cannot work without */
};

static const struct hv_feature hv_features[] = {
	{ "hv_relaxed", LIBVM_HV_RELAXED, 0, 0, 1u << 5, 0 },
	{ "hv_vapic", LIBVM_HV_VAPIC, 1u << 4, 0, 1u << 3, 0 },
	{ "hv_time", LIBVM_HV_TIME, (1u << 1) | (1u << 9), 0, 0, 0 },
	{ "hv_vpindex", LIBVM_HV_VPINDEX, 1u << 6, 0, 0, 0 },
	{ "hv_runtime", LIBVM_HV_RUNTIME, 1u << 0, 0, 0, 0 },
	{ "hv_synic", LIBVM_HV_SYNIC, 1u << 2, 0, 0, LIBVM_HV_VPINDEX },
	{ "hv_stimer", LIBVM_HV_STIMER, 1u << 3, 0, 0, LIBVM_HV_SYNIC | LIBVM_HV_TIME },
	{ "hv_stimer_direct", LIBVM_HV_STIMER_DIRECT, 0, 1u << 19, 0, LIBVM_HV_STIMER },
	{ "hv_reset", LIBVM_HV_RESET, 1u << 7, 0, 0, 0 },
	{ "hv_frequencies", LIBVM_HV_FREQUENCIES, 1u << 11, 1u << 8, 0, 0 },
	{ "hv_crash", LIBVM_HV_CRASH, 0, 1u << 10, 0, 0 },
};

#define NHV (sizeof(hv_features) / sizeof(hv_features[0]))
/* AccessHypercallMsrs (guest OS id, hypercall page): every feature uses them. */
#define HV_HYPERCALL_MSRS (1u << 5)

LIBVM_EXPORT int libvm_hyperv_parse(const char *spec, uint32_t *features)
{
	const char *p = spec;

	if (!spec || !features)
		return libvm__fail(-EINVAL, "libvm_hyperv_parse: %s is NULL", spec ? "features" : "spec");
	*features = 0;
	if (!strcmp(spec, "all")) {
		for (size_t i = 0; i < NHV; i++)
			*features |= hv_features[i].flag;
		return 0;
	}
	while (*p) {
		size_t len = strcspn(p, ",");
		size_t i;

		for (i = 0; i < NHV; i++)
			if (strlen(hv_features[i].name) == len && !strncmp(hv_features[i].name, p, len))
				break;
		if (i == NHV)
			return libvm__fail(-EINVAL, "Hyper-V feature \"%.*s\" is unknown", (int)len, p);
		*features |= hv_features[i].flag;
		p += len;
		if (*p == ',' && !*++p)
			return libvm__fail(-EINVAL, "Hyper-V features \"%s\": empty name at the end", spec);
	}
	return 0;
}

LIBVM_EXPORT const char *libvm_hyperv_feature_name(uint32_t i)
{
	return i < NHV ? hv_features[i].name : NULL;
}

/* KVM_GET_SUPPORTED_HV_CPUID on the vCPU (KVM_CAP_HYPERV_CPUID). Caller frees. */
static struct kvm_cpuid2 *supported_hv(libvm_vcpu *vcpu)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 64 * sizeof(c->entries[0]));

	if (!c)
		return NULL;
	c->nent = 64;
	if (libvm__bk_get_supported_hv_cpuid(vcpu, c) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

static struct kvm_cpuid_entry2 *leaf(struct kvm_cpuid2 *c, uint32_t fn)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn)
			return &c->entries[i];
	return NULL;
}

LIBVM_EXPORT int libvm_vcpu_enable_hyperv(libvm_vcpu *vcpu, uint32_t features)
{
	struct kvm_cpuid2 *hv = NULL, *cur = NULL;
	struct kvm_cpuid_entry2 *f, *r;
	uint32_t want_eax = HV_HYPERCALL_MSRS, want_edx = 0, want_rec = 0, all = 0, n = 0;
	bool again = false;
	int err = 0;

	LIBVM__CHECK_VCPU(vcpu, "libvm_vcpu_enable_hyperv");
	for (size_t i = 0; i < NHV; i++)
		all |= hv_features[i].flag;
	if (features & ~all)
		return libvm__fail(-EINVAL, "libvm_vcpu_enable_hyperv: unknown features 0x%x",
				   features & ~all);
	for (size_t i = 0; i < NHV; i++) {
		const struct hv_feature *h = &hv_features[i];

		if (!(features & h->flag))
			continue;
		if ((features & h->needs) != h->needs)
			return libvm__fail(-EINVAL, "Hyper-V feature %s needs %s%s%s", h->name,
					   h->needs & LIBVM_HV_VPINDEX ? "hv_vpindex " : "",
					   h->needs & LIBVM_HV_SYNIC ? "hv_synic " : "",
					   h->needs & (LIBVM_HV_TIME | LIBVM_HV_STIMER) ?
						   "hv_time/hv_stimer" : "");
		want_eax |= h->feat_eax;
		want_edx |= h->feat_edx;
		want_rec |= h->rec_eax;
	}
	if (libvm__check_extension(vcpu->vm, KVM_CAP_HYPERV_CPUID) <= 0 || !(hv = supported_hv(vcpu)))
		return libvm__fail(-ENOTSUP, "%s does not report Hyper-V CPUID (KVM_GET_SUPPORTED_HV_CPUID)",
				   vcpu->vm->device_path);
	f = leaf(hv, HV_FEATURES);
	r = leaf(hv, HV_RECOMMEND);
	if (!f || !r || (f->eax & want_eax) != want_eax || (f->edx & want_edx) != want_edx) {
		err = libvm__fail(-ENOTSUP, "%s lacks Hyper-V features (EAX 0x%x, EDX 0x%x asked; 0x%x, 0x%x offered)",
				  vcpu->vm->device_path, want_eax, want_edx, f ? f->eax : 0,
				  f ? f->edx : 0);
		goto out;
	}
	/* The vCPU's present CPUID, less whatever sits at 0x400000xx. */
	cur = calloc(1, sizeof(*cur) + (LIBVM__MAX_CPUID + 64) * sizeof(cur->entries[0]));
	if (!cur) {
		err = libvm__fail(-ENOMEM, "libvm_vcpu_enable_hyperv: out of memory");
		goto out;
	}
	cur->nent = LIBVM__MAX_CPUID;
	if ((err = libvm__bk_get_cpuid2(vcpu, cur)) < 0) {
		err = libvm__fail(err, "vCPU %u: KVM_GET_CPUID2 failed: %s", vcpu->id,
				  strerror(-err));
		goto out;
	}
	/* Enabled before: KVM's leaves sit at 0x40000100 already, and those
	 * at 0x400000xx are the Hyper-V ones of then, replaced below. */
	for (uint32_t i = 0; i < cur->nent; i++)
		if (cur->entries[i].function == KVM_MOVED_BASE)
			again = true;
	for (uint32_t i = 0; i < cur->nent; i++) {
		struct kvm_cpuid_entry2 e = cur->entries[i];

		if (e.function >= HV_BASE && e.function < HV_BASE + 0x100) {
			/* KVM's signature and features move up a page. */
			if (again || e.function > HV_BASE + 1)
				continue;
			e.function += KVM_MOVED_BASE - HV_BASE;
			if (e.function == KVM_MOVED_BASE)
				e.eax = KVM_MOVED_BASE + 1;
		}
		cur->entries[n++] = e;
	}
	for (uint32_t i = 0; i < hv->nent; i++) {
		struct kvm_cpuid_entry2 e = hv->entries[i];

		if (e.function == HV_BASE) {
			/* The highest leaf kept (the nested and debugger ones go). */
			uint32_t max = HV_BASE;

			for (uint32_t j = 0; j < hv->nent; j++)
				if (hv->entries[j].function < HV_BASE + 8 &&
				    hv->entries[j].function > max)
					max = hv->entries[j].function;
			e.eax = max;
		} else if (e.function == HV_FEATURES) {
			e.eax &= want_eax;
			e.edx &= want_edx;
			e.ebx = 0; /* no partition privileges beyond these */
		} else if (e.function == HV_RECOMMEND) {
			e.eax &= want_rec;
		} else if (e.function >= HV_BASE + 8) {
			continue; /* nested (enlightened VMCS) leaves: not offered */
		}
		cur->entries[n++] = e;
	}
	/* KVM takes at most 256 entries: leaves the backend reports empty
	 * (all four registers 0) are the first to go, a guest reads them as
	 * 0 anyway. */
	for (uint32_t i = 0; n > LIBVM__MAX_CPUID && i < n;) {
		struct kvm_cpuid_entry2 *e = &cur->entries[i];

		if (!e->eax && !e->ebx && !e->ecx && !e->edx && e->function != HV_BASE + 5) {
			memmove(e, e + 1, (n - i - 1) * sizeof(*e));
			n--;
		} else {
			i++;
		}
	}
	cur->nent = n;
	if ((err = libvm__bk_set_cpuid2(vcpu, cur)) < 0) {
		err = libvm__fail(err, "vCPU %u: KVM_SET_CPUID2 with Hyper-V leaves failed: %s",
				  vcpu->id, strerror(-err));
		goto out;
	}
	err = 0;
	if (features & LIBVM_HV_SYNIC) {
		struct kvm_enable_cap cap = { .cap = KVM_CAP_HYPERV_SYNIC2 };

		if ((err = libvm__bk_enable_cap(vcpu, &cap)) < 0)
			err = libvm__fail(err == -EINVAL ? -ENOTSUP : err,
					  "vCPU %u: enabling SynIC (KVM_CAP_HYPERV_SYNIC2) failed: %s",
					  vcpu->id, strerror(-err));
		else
			err = 0;
	}
out:
	free(cur);
	free(hv);
	return err;
}

LIBVM_EXPORT int libvm_vcpu_hyperv_result(libvm_vcpu *vcpu, uint64_t result)
{
	LIBVM__CHECK_VCPU(vcpu, "libvm_vcpu_hyperv_result");
	if (vcpu->run->exit_reason != KVM_EXIT_HYPERV ||
	    vcpu->run->hyperv.type != KVM_EXIT_HYPERV_HCALL)
		return libvm__fail(-EINVAL, "vCPU %u: its last exit was no Hyper-V hypercall",
				   vcpu->id);
	vcpu->run->hyperv.u.hcall.result = result;
	return 0;
}
