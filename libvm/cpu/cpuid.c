/* SPDX-License-Identifier: MIT */
/*
 * CPU models: a CPUID table from a model name plus features by name,
 * limited by what the backend supports (KVM_GET_SUPPORTED_CPUID).
 *
 * Feature names and bit positions are the architectural ones (Intel SDM
 * vol. 2A "CPUID", AMD APM vol. 3 appendix E, the KVM paravirtual leaves
 * of Documentation/virt/kvm/x86/cpuid.rst), spelled as Linux's
 * /proc/cpuinfo and QEMU's -cpu option spell them. The models are the
 * x86-64 psABI levels plus a "baseline" close to QEMU's qemu64: a feature
 * set every x86-64 host of a pool shares, so a VM can be given the same
 * CPU wherever it runs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/kvm.h>

#include <libvm/cpu.h>

#include "../internal.h"
#include "cpu_internal.h"

enum { EAX, EBX, ECX, EDX };

#define F_LIBVM 1u /* libvm provides it whatever the backend reports */
#define F_PV 2u    /* KVM paravirtual: models keep it when the backend has it */

struct feature {
	const char *name;
	uint32_t leaf, sub;
	uint8_t reg, bit;
	uint8_t flags;
};

#define KVM_LEAF 0x40000001u

static const struct feature features[] = {
	/* CPUID.1:EDX */
	{ "fpu", 1, 0, EDX, 0, 0 }, { "vme", 1, 0, EDX, 1, 0 }, { "de", 1, 0, EDX, 2, 0 },
	{ "pse", 1, 0, EDX, 3, 0 }, { "tsc", 1, 0, EDX, 4, 0 }, { "msr", 1, 0, EDX, 5, 0 },
	{ "pae", 1, 0, EDX, 6, 0 }, { "mce", 1, 0, EDX, 7, 0 }, { "cx8", 1, 0, EDX, 8, 0 },
	{ "apic", 1, 0, EDX, 9, 0 }, { "sep", 1, 0, EDX, 11, 0 }, { "mtrr", 1, 0, EDX, 12, 0 },
	{ "pge", 1, 0, EDX, 13, 0 }, { "mca", 1, 0, EDX, 14, 0 }, { "cmov", 1, 0, EDX, 15, 0 },
	{ "pat", 1, 0, EDX, 16, 0 }, { "pse36", 1, 0, EDX, 17, 0 }, { "clflush", 1, 0, EDX, 19, 0 },
	{ "mmx", 1, 0, EDX, 23, 0 }, { "fxsr", 1, 0, EDX, 24, 0 }, { "sse", 1, 0, EDX, 25, 0 },
	{ "sse2", 1, 0, EDX, 26, 0 }, { "ss", 1, 0, EDX, 27, 0 }, { "ht", 1, 0, EDX, 28, 0 },
	/* CPUID.1:ECX */
	{ "sse3", 1, 0, ECX, 0, 0 }, { "pclmulqdq", 1, 0, ECX, 1, 0 },
	{ "monitor", 1, 0, ECX, 3, 0 }, { "vmx", 1, 0, ECX, 5, 0 }, { "ssse3", 1, 0, ECX, 9, 0 },
	{ "fma", 1, 0, ECX, 12, 0 }, { "cx16", 1, 0, ECX, 13, 0 }, { "pdcm", 1, 0, ECX, 15, 0 },
	{ "pcid", 1, 0, ECX, 17, 0 }, { "sse4.1", 1, 0, ECX, 19, 0 },
	{ "sse4.2", 1, 0, ECX, 20, 0 }, { "x2apic", 1, 0, ECX, 21, 0 },
	{ "movbe", 1, 0, ECX, 22, 0 }, { "popcnt", 1, 0, ECX, 23, 0 },
	{ "tsc-deadline", 1, 0, ECX, 24, 0 }, { "aes", 1, 0, ECX, 25, 0 },
	{ "xsave", 1, 0, ECX, 26, 0 }, { "avx", 1, 0, ECX, 28, 0 }, { "f16c", 1, 0, ECX, 29, 0 },
	{ "rdrand", 1, 0, ECX, 30, 0 }, { "hypervisor", 1, 0, ECX, 31, F_LIBVM },
	/* CPUID.7.0:EBX, ECX, EDX */
	{ "fsgsbase", 7, 0, EBX, 0, 0 }, { "tsc_adjust", 7, 0, EBX, 1, 0 },
	{ "bmi1", 7, 0, EBX, 3, 0 }, { "hle", 7, 0, EBX, 4, 0 }, { "avx2", 7, 0, EBX, 5, 0 },
	{ "smep", 7, 0, EBX, 7, 0 }, { "bmi2", 7, 0, EBX, 8, 0 }, { "erms", 7, 0, EBX, 9, 0 },
	{ "invpcid", 7, 0, EBX, 10, 0 }, { "rtm", 7, 0, EBX, 11, 0 },
	{ "avx512f", 7, 0, EBX, 16, 0 }, { "avx512dq", 7, 0, EBX, 17, 0 },
	{ "rdseed", 7, 0, EBX, 18, 0 }, { "adx", 7, 0, EBX, 19, 0 }, { "smap", 7, 0, EBX, 20, 0 },
	{ "avx512ifma", 7, 0, EBX, 21, 0 }, { "clflushopt", 7, 0, EBX, 23, 0 },
	{ "clwb", 7, 0, EBX, 24, 0 }, { "avx512cd", 7, 0, EBX, 28, 0 },
	{ "sha-ni", 7, 0, EBX, 29, 0 }, { "avx512bw", 7, 0, EBX, 30, 0 },
	{ "avx512vl", 7, 0, EBX, 31, 0 },
	{ "avx512vbmi", 7, 0, ECX, 1, 0 }, { "umip", 7, 0, ECX, 2, 0 }, { "pku", 7, 0, ECX, 3, 0 },
	{ "waitpkg", 7, 0, ECX, 5, 0 }, { "avx512vbmi2", 7, 0, ECX, 6, 0 },
	{ "gfni", 7, 0, ECX, 8, 0 }, { "vaes", 7, 0, ECX, 9, 0 },
	{ "vpclmulqdq", 7, 0, ECX, 10, 0 }, { "avx512vnni", 7, 0, ECX, 11, 0 },
	{ "avx512bitalg", 7, 0, ECX, 12, 0 }, { "avx512-vpopcntdq", 7, 0, ECX, 14, 0 },
	{ "la57", 7, 0, ECX, 16, 0 }, { "rdpid", 7, 0, ECX, 22, 0 },
	{ "movdiri", 7, 0, ECX, 27, 0 }, { "movdir64b", 7, 0, ECX, 28, 0 },
	{ "fsrm", 7, 0, EDX, 4, 0 }, { "md-clear", 7, 0, EDX, 10, 0 },
	{ "serialize", 7, 0, EDX, 14, 0 }, { "spec-ctrl", 7, 0, EDX, 26, 0 },
	{ "stibp", 7, 0, EDX, 27, 0 }, { "arch-capabilities", 7, 0, EDX, 29, 0 },
	{ "ssbd", 7, 0, EDX, 31, 0 },
	/* CPUID.0xD.1:EAX */
	{ "xsaveopt", 0xd, 1, EAX, 0, 0 }, { "xsavec", 0xd, 1, EAX, 1, 0 },
	{ "xgetbv1", 0xd, 1, EAX, 2, 0 }, { "xsaves", 0xd, 1, EAX, 3, 0 },
	/* CPUID.0x80000001:ECX, EDX */
	{ "lahf_lm", 0x80000001u, 0, ECX, 0, 0 }, { "cmp_legacy", 0x80000001u, 0, ECX, 1, 0 },
	{ "svm", 0x80000001u, 0, ECX, 2, 0 }, { "extapic", 0x80000001u, 0, ECX, 3, 0 },
	{ "cr8legacy", 0x80000001u, 0, ECX, 4, 0 }, { "abm", 0x80000001u, 0, ECX, 5, 0 },
	{ "sse4a", 0x80000001u, 0, ECX, 6, 0 }, { "misalignsse", 0x80000001u, 0, ECX, 7, 0 },
	{ "3dnowprefetch", 0x80000001u, 0, ECX, 8, 0 }, { "osvw", 0x80000001u, 0, ECX, 9, 0 },
	{ "xop", 0x80000001u, 0, ECX, 11, 0 }, { "fma4", 0x80000001u, 0, ECX, 16, 0 },
	{ "tbm", 0x80000001u, 0, ECX, 21, 0 }, { "topoext", 0x80000001u, 0, ECX, 22, 0 },
	{ "syscall", 0x80000001u, 0, EDX, 11, 0 }, { "nx", 0x80000001u, 0, EDX, 20, 0 },
	{ "mmxext", 0x80000001u, 0, EDX, 22, 0 }, { "fxsr_opt", 0x80000001u, 0, EDX, 25, 0 },
	{ "pdpe1gb", 0x80000001u, 0, EDX, 26, 0 }, { "rdtscp", 0x80000001u, 0, EDX, 27, 0 },
	{ "lm", 0x80000001u, 0, EDX, 29, 0 },
	/* KVM paravirtual features, CPUID.0x40000001:EAX */
	{ "kvmclock", KVM_LEAF, 0, EAX, 0, F_PV }, { "kvm-nopiodelay", KVM_LEAF, 0, EAX, 1, F_PV },
	{ "kvm-mmu", KVM_LEAF, 0, EAX, 2, F_PV }, { "kvmclock2", KVM_LEAF, 0, EAX, 3, F_PV },
	{ "kvm-asyncpf", KVM_LEAF, 0, EAX, 4, F_PV },
	{ "kvm-steal-time", KVM_LEAF, 0, EAX, 5, F_PV },
	{ "kvm-pv-eoi", KVM_LEAF, 0, EAX, 6, F_PV }, { "kvm-pv-unhalt", KVM_LEAF, 0, EAX, 7, F_PV },
	{ "kvm-pv-tlb-flush", KVM_LEAF, 0, EAX, 9, F_PV },
	{ "kvm-asyncpf-vmexit", KVM_LEAF, 0, EAX, 10, F_PV },
	{ "kvm-pv-ipi", KVM_LEAF, 0, EAX, 11, F_PV },
	{ "kvm-poll-control", KVM_LEAF, 0, EAX, 12, F_PV },
	{ "kvm-pv-sched-yield", KVM_LEAF, 0, EAX, 13, F_PV },
	{ "kvm-asyncpf-int", KVM_LEAF, 0, EAX, 14, F_PV },
	{ "kvm-msi-ext-dest-id", KVM_LEAF, 0, EAX, 15, F_PV },
	{ "kvmclock-stable-bit", KVM_LEAF, 0, EAX, 24, F_PV },
};

#define NFEATURES (sizeof(features) / sizeof(features[0]))

/* The leaves (and registers) a model other than "host" rewrites whole. */
static const struct {
	uint32_t leaf, sub;
	uint8_t regmask; /* 1 << EAX ... */
} feature_regs[] = {
	{ 1, 0, 1 << ECX | 1 << EDX },
	{ 7, 0, 1 << EBX | 1 << ECX | 1 << EDX },
	{ 7, 1, 1 << EAX },
	{ 0xd, 1, 1 << EAX },
	{ 0x80000001u, 0, 1 << ECX | 1 << EDX },
	{ KVM_LEAF, 0, 1 << EAX },
};

/* x86-64 psABI level 1 plus what a PC guest relies on (APIC, MSR, PAE ...). */
#define V1 "fpu", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", "sep", \
	   "mtrr", "pge", "mca", "cmov", "pat", "pse36", "clflush", "mmx", "fxsr", "sse", \
	   "sse2", "syscall", "nx", "lm", "x2apic"
#define BASELINE V1, "sse3", "cx16", "lahf_lm"
#define V2 BASELINE, "popcnt", "sse4.1", "sse4.2", "ssse3"
#define V3 V2, "avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"

/* KVM paravirtual features a non-host model keeps where the backend has
 * them: the clocks, EOI, unhalt and steal time that every KVM since 3.x
 * offers, as QEMU's kvm64-era defaults do. */
static const char *const pv_keep[] = {
	"kvmclock", "kvm-nopiodelay", "kvmclock2", "kvm-asyncpf", "kvm-steal-time",
	"kvm-pv-eoi", "kvm-pv-unhalt", "kvmclock-stable-bit", NULL,
};

static const char *const model_baseline[] = { BASELINE, NULL };
static const char *const model_v2[] = { V2, NULL };
static const char *const model_v3[] = { V3, NULL };

static const struct {
	const char *name;
	const char *const *features; /* NULL: everything the backend has */
} models[] = {
	{ "host", NULL },
	{ "baseline", model_baseline },
	{ "x86-64-v2", model_v2 },
	{ "x86-64-v3", model_v3 },
};

#define NMODELS (sizeof(models) / sizeof(models[0]))

LIBVM_EXPORT const char *libvm_cpu_model_name(uint32_t i)
{
	return i < NMODELS ? models[i].name : NULL;
}

LIBVM_EXPORT const char *libvm_cpu_feature_name(uint32_t i)
{
	return i < NFEATURES ? features[i].name : NULL;
}

static const struct feature *find_feature(const char *name, size_t len)
{
	for (size_t i = 0; i < NFEATURES; i++)
		if (strlen(features[i].name) == len && !strncmp(features[i].name, name, len))
			return &features[i];
	return NULL;
}

static libvm_cpuid_entry *find_leaf(libvm_cpuid_entry *t, uint32_t n, uint32_t leaf, uint32_t sub)
{
	for (uint32_t i = 0; i < n; i++)
		if (t[i].function == leaf &&
		    (!(t[i].flags & LIBVM_CPUID_FLAG_INDEXED) || t[i].index == sub))
			return &t[i];
	return NULL;
}

static uint32_t *reg_of(libvm_cpuid_entry *e, uint8_t reg)
{
	switch (reg) {
	case EAX:
		return &e->eax;
	case EBX:
		return &e->ebx;
	case ECX:
		return &e->ecx;
	default:
		return &e->edx;
	}
}

/* Does the backend's table (@sup) have @f? */
static bool supported(const libvm_cpuid_entry *sup, uint32_t n, const struct feature *f)
{
	libvm_cpuid_entry *e = find_leaf((libvm_cpuid_entry *)sup, n, f->leaf, f->sub);

	if (f->flags & F_LIBVM)
		return true;
	return e && (*reg_of(e, f->reg) >> f->bit & 1);
}

/* Set or clear @f in @t; a leaf the table lacks has nothing to set. */
static void set_feature(libvm_cpuid_entry *t, uint32_t n, const struct feature *f, bool on)
{
	libvm_cpuid_entry *e = find_leaf(t, n, f->leaf, f->sub);

	if (!e)
		return;
	if (on)
		*reg_of(e, f->reg) |= 1u << f->bit;
	else
		*reg_of(e, f->reg) &= ~(1u << f->bit);
}

int libvm__cpuid_build(const libvm_cpuid_entry *sup, uint32_t nsup, bool deadline,
		       const char *spec, const char *backend, libvm_cpuid_entry *t)
{
	const char *p = spec && *spec ? spec : "host";
	size_t mlen = strcspn(p, ",");
	size_t m;

	for (m = 0; m < NMODELS; m++)
		if (strlen(models[m].name) == mlen && !strncmp(models[m].name, p, mlen))
			break;
	if (m == NMODELS)
		return libvm__fail(-EINVAL, "CPU model \"%.*s\" is unknown (host, baseline, x86-64-v2, x86-64-v3)",
				   (int)mlen, p);
	memcpy(t, sup, nsup * sizeof(*t));
	if (models[m].features) {
		/* Only the model's own features in the feature leaves. */
		for (size_t i = 0; i < sizeof(feature_regs) / sizeof(feature_regs[0]); i++) {
			libvm_cpuid_entry *e = find_leaf(t, nsup, feature_regs[i].leaf,
							 feature_regs[i].sub);

			for (uint8_t r = EAX; e && r <= EDX; r++)
				if (feature_regs[i].regmask & (1u << r))
					*reg_of(e, r) = 0;
		}
		for (const char *const *name = models[m].features; *name; name++) {
			const struct feature *f = find_feature(*name, strlen(*name));

			if (!supported(sup, nsup, f))
				return libvm__fail(-ENOTSUP, "CPU model %s needs %s, which %s lacks",
						   models[m].name, f->name, backend);
			set_feature(t, nsup, f, true);
		}
		for (const char *const *name = pv_keep; *name; name++) {
			const struct feature *f = find_feature(*name, strlen(*name));

			if (supported(sup, nsup, f))
				set_feature(t, nsup, f, true);
		}
	}
	/* A VMM's guest is told it runs on one (SDM: CPUID.1:ECX[31] is
	 * reserved for this); the in-kernel LAPIC's TSC-deadline timer is
	 * reported by KVM as a capability, not in its supported list. */
	set_feature(t, nsup, find_feature("hypervisor", 10), true);
	if (deadline)
		set_feature(t, nsup, find_feature("tsc-deadline", 12), true);

	p += mlen;
	while (*p == ',') {
		const char *item = ++p;
		size_t len = strcspn(item, ",");
		const char *eq = memchr(item, '=', len);
		size_t nlen = eq ? (size_t)(eq - item) : len;
		const struct feature *f;
		bool on = true;

		p += len;
		if (nlen && (*item == '+' || *item == '-')) {
			on = *item == '+';
			item++;
			nlen--;
			if (eq)
				return libvm__fail(-EINVAL, "CPU spec item \"%.*s\": +/- and =on/off together",
						   (int)len, item - 1);
		} else if (eq) {
			size_t vlen = len - nlen - 1;

			if (vlen == 2 && !strncmp(eq + 1, "on", 2))
				on = true;
			else if (vlen == 3 && !strncmp(eq + 1, "off", 3))
				on = false;
			else
				return libvm__fail(-EINVAL, "CPU spec item \"%.*s\": want on or off",
						   (int)len, item);
		}
		if (!nlen)
			return libvm__fail(-EINVAL, "CPU spec \"%s\": empty feature name", spec);
		f = find_feature(item, nlen);
		if (!f)
			return libvm__fail(-EINVAL, "CPU feature \"%.*s\" is unknown", (int)nlen, item);
		if (on && !supported(sup, nsup, f))
			return libvm__fail(-ENOTSUP, "CPU feature %s is not supported by %s", f->name,
					   backend);
		set_feature(t, nsup, f, on);
	}
	if (*p)
		return libvm__fail(-EINVAL, "CPU spec \"%s\": bad syntax", spec);
	return 0;
}

bool libvm__cpu_deadline(libvm_vm *vm)
{
	return vm->has_irqchip && libvm__check_extension(vm, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
}

LIBVM_EXPORT int libvm_cpuid_build(libvm_vm *vm, const char *spec, libvm_cpuid_entry *entries,
				   uint32_t *count)
{
	libvm_cpuid_entry *t;
	int err;

	LIBVM__CHECK_VM(vm, "libvm_cpuid_build");
	if (!count)
		return libvm__fail(-EINVAL, "libvm_cpuid_build: count is NULL");
	if (!vm->cpuid_count)
		return libvm__fail(-ENOTSUP, "%s does not report its supported CPUID",
				   vm->device_path);
	t = calloc(vm->cpuid_count, sizeof(*t));
	if (!t)
		return libvm__fail(-ENOMEM, "libvm_cpuid_build: out of memory");
	err = libvm__cpuid_build(vm->cpuid, vm->cpuid_count, libvm__cpu_deadline(vm), spec,
				 vm->device_path, t);
	if (!err && (!entries || *count < vm->cpuid_count)) {
		uint32_t cap = *count;

		*count = vm->cpuid_count;
		if (entries)
			err = libvm__fail(-E2BIG, "libvm_cpuid_build: %u entries needed, room for %u",
					  vm->cpuid_count, cap);
	} else if (!err) {
		memcpy(entries, t, vm->cpuid_count * sizeof(*t));
		*count = vm->cpuid_count;
	}
	free(t);
	return err;
}
