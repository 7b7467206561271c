/*
 * CPU models from the guest's side: each argument "+name" must be set in
 * CPUID and "-name" clear, for the features named in the table below (the
 * bit positions of the Intel SDM / AMD APM CPUID tables). vmrun's --cpu
 * builds the CPUID; meson passes the expectations that go with it.
 */
#include "kernel.h"

static const struct {
	const char *name;
	uint32_t leaf;
	int reg; /* 1 EBX, 2 ECX, 3 EDX */
	int bit;
} bits[] = {
	{ "sse2", 1, 3, 26 }, { "sse3", 1, 2, 0 }, { "cx16", 1, 2, 13 },
	{ "sse4.2", 1, 2, 20 }, { "x2apic", 1, 2, 21 }, { "popcnt", 1, 2, 23 },
	{ "xsave", 1, 2, 26 }, { "avx", 1, 2, 28 }, { "hypervisor", 1, 2, 31 },
	{ "avx2", 7, 1, 5 }, { "bmi2", 7, 1, 8 }, { "lahf_lm", 0x80000001, 2, 0 },
	{ "nx", 0x80000001, 3, 20 }, { "rdtscp", 0x80000001, 3, 27 }, { "lm", 0x80000001, 3, 29 },
};

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool want = a[0] == '+', found = false;

		for (size_t j = 0; j < sizeof(bits) / sizeof(bits[0]); j++) {
			uint32_t r[4];

			if (strcmp(bits[j].name, a + 1))
				continue;
			found = true;
			cpuid(bits[j].leaf, 0, r);
			report(((r[bits[j].reg] >> bits[j].bit) & 1) == want, "%s is %s", a + 1,
			       want ? "set" : "clear");
		}
		if (!found)
			report(false, "argument \"%s\" names a feature of the table", a);
	}
	return 0;
}
