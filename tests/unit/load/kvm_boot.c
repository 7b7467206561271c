/* SPDX-License-Identifier: MIT */
/*
 * The loaders on a real VM (needs /dev/kvm; exits 77 without it): a
 * multiboot a.out-kludge kernel checks its entry state (EAX magic, EBX info
 * struct, mem_lower, argv[0], CS after a far jump through the loader's GDT,
 * the first module), an ELF64 kernel runs 64-bit code under the identity
 * page tables, and a flat binary starts in real mode. Each guest reports
 * values with 32-bit OUTs to port 0x500; ACPI and MP tables are built into
 * the same VMs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvm/libvm.h>
#include <libvm/load.h>

#define REPORT_PORT 0x500
#define RAM (4u << 20)

static uint32_t seen[16];
static unsigned nseen;
static int failures;

static int report(libvm_vcpu *vcpu, uint64_t port, void *data, uint32_t len, bool is_write,
		  void *opaque)
{
	if (is_write && len == 4 && nseen < 16)
		memcpy(&seen[nseen++], data, 4);
	return 0;
}

static void check(int err, const char *what)
{
	if (err < 0) {
		fprintf(stderr, "kvm_boot: %s: %s (%s)\n", what, libvm_strerror(err),
			libvm_error_message());
		exit(err == -ENOENT || err == -EACCES ? 77 : 1);
	}
}

static void expect(const char *test, unsigned i, uint32_t want)
{
	if (i >= nseen || seen[i] != want) {
		fprintf(stderr, "kvm_boot: %s: report %u is 0x%x, want 0x%x (%u reports)\n", test,
			i, i < nseen ? seen[i] : 0, want, nseen);
		failures++;
	}
}

static libvm_vm *new_vm(void)
{
	libvm_vm *vm;

	check(libvm_vm_create(&vm, NULL), "create VM");
	check(libvm_region_map_ram(NULL, vm, 0, RAM), "map RAM");
	check(libvm_io_register(vm, LIBVM_SPACE_PIO, REPORT_PORT, 4, "report", report, NULL),
	      "register report port");
	nseen = 0;
	return vm;
}

static void run_to_hlt(libvm_vm *vm, const libvm_boot *boot, const char *test)
{
	libvm_vcpu *vcpu;
	libvm_exit ex;

	check(libvm_vcpu_create(&vcpu, vm, 0), "create vCPU");
	check(libvm_boot_apply(vcpu, boot), "apply boot state");
	check(libvm_vcpu_run(vcpu, &ex), "run");
	if (ex.reason != LIBVM_EXIT_HLT) {
		fprintf(stderr, "kvm_boot: %s: exit reason %u, want HLT\n", test, ex.reason);
		failures++;
	}
}

/* 32-bit code at file offset 0x20 (assembled from the sequence in comments). */
static const uint8_t mb_code[] = {
	0x66, 0xba, 0x00, 0x05,             /* mov $0x500, %dx */
	0xef,                               /* out %eax, %dx: the magic */
	0x89, 0xd8, 0xef,                   /* mov %ebx, %eax; out: info address */
	0xea, 0x2f, 0x00, 0x10, 0x00, 0x08, 0x00, /* ljmp $0x08, $0x10002f */
	0x66, 0xb8, 0x10, 0x00,             /* mov $0x10, %ax */
	0x8e, 0xd8, 0x8e, 0xd0,             /* mov %ax, %ds; mov %ax, %ss */
	0x8b, 0x43, 0x04, 0xef,             /* mov 4(%ebx), %eax; out: mem_lower */
	0x8b, 0x73, 0x10, 0x8b, 0x06, 0xef, /* mov 16(%ebx), %esi; mov (%esi), %eax; out */
	0x8c, 0xc8, 0xef,                   /* mov %cs, %eax; out */
	0x8b, 0x73, 0x18, 0x8b, 0x36,       /* mov 24(%ebx), %esi; mov (%esi), %esi */
	0x8b, 0x06, 0xef,                   /* mov (%esi), %eax; out: module bytes */
	0xf4,                               /* hlt */
};

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void test_multiboot(void)
{
	static uint8_t img[0x100];
	static const char env[] = "NR_CPUS=1\n";
	libvm_load_module mod = { .data = env, .size = sizeof(env) - 1, .string = "env" };
	libvm_load_options o = LIBVM_LOAD_OPTIONS_INIT;
	libvm_acpi_options ao = LIBVM_ACPI_OPTIONS_INIT;
	libvm_mptable_options mo = LIBVM_MPTABLE_OPTIONS_INIT;
	libvm_vm *vm = new_vm();
	libvm_boot boot;
	uint64_t rsdp, mpf;
	char sig[8];

	/* Multiboot header with a.out-kludge addresses: the file is linked at 1 MiB. */
	put32(img, 0x1BADB002);
	put32(img + 4, 0x10003);
	put32(img + 8, 0u - 0x1BADB002u - 0x10003u);
	put32(img + 12, 0x100000);  /* header_addr */
	put32(img + 16, 0x100000);  /* load_addr */
	put32(img + 20, 0);         /* load_end_addr: whole file */
	put32(img + 24, 0x101000);  /* bss_end_addr */
	put32(img + 28, 0x100020);  /* entry_addr */
	memcpy(img + 0x20, mb_code, sizeof(mb_code));
	o.kernel_name = "mbtest";
	o.cmdline = "a b";
	o.modules = &mod;
	o.nr_modules = 1;
	check(libvm_load_detect(img, sizeof(img)) == LIBVM_FORMAT_MULTIBOOT ? 0 : -EINVAL, "detect");
	check(libvm_load_multiboot(&boot, vm, img, sizeof(img), &o), "load multiboot");
	ao.nr_cpus = 1;
	check(libvm_acpi_build(&rsdp, vm, &ao), "build ACPI");
	check(libvm_mptable_build(&mpf, vm, &mo), "build MP table");
	check(libvm_mem_read(vm, rsdp, sig, 8), "read RSDP");
	if (memcmp(sig, "RSD PTR ", 8) != 0) {
		fprintf(stderr, "kvm_boot: no RSDP at 0x%llx\n", (unsigned long long)rsdp);
		failures++;
	}
	run_to_hlt(vm, &boot, "multiboot");
	expect("multiboot", 0, 0x2BADB002);
	expect("multiboot", 1, LIBVM_BOOT_INFO_GPA);
	expect("multiboot", 2, 639);
	expect("multiboot", 3, 0x6574626d); /* "mbte" */
	expect("multiboot", 4, 0x08);
	expect("multiboot", 5, 0x435f524e); /* "NR_C" */
	libvm_vm_destroy(vm);
}

/* 64-bit code: reports a constant, CR3, CS and a 64-bit shift result. */
static const uint8_t l64_code[] = {
	0x66, 0xba, 0x00, 0x05,                   /* mov $0x500, %dx */
	0xb8, 0x64, 0x64, 0x64, 0x64, 0xef,       /* mov $0x64646464, %eax; out */
	0x0f, 0x20, 0xd8, 0xef,                   /* mov %cr3, %rax; out */
	0x8c, 0xc8, 0xef,                         /* mov %cs, %eax; out */
	0x48, 0xb8, 0x9a, 0x78, 0x56, 0x34, 0x12, 0x00, 0x00, 0x00, /* movabs $0x123456789a, %rax */
	0x48, 0xc1, 0xe8, 0x08, 0xef,             /* shr $8, %rax; out */
	0xf4,                                     /* hlt */
};

static void test_elf64(void)
{
	static uint8_t img[0x200];
	libvm_vm *vm = new_vm();
	libvm_boot boot;
	uint64_t v;
	uint16_t h;

	/* ELF64 header and one PT_LOAD: file 0x100.. to 0x200000, entered there. */
	memcpy(img, "\177ELF\002\001\001", 7);
	h = 2; memcpy(img + 16, &h, 2);          /* ET_EXEC */
	h = 62; memcpy(img + 18, &h, 2);         /* EM_X86_64 */
	put32(img + 20, 1);
	v = 0x200000; memcpy(img + 24, &v, 8);   /* e_entry */
	v = 64; memcpy(img + 32, &v, 8);         /* e_phoff */
	h = 64; memcpy(img + 52, &h, 2);
	h = 56; memcpy(img + 54, &h, 2);
	h = 1; memcpy(img + 56, &h, 2);
	put32(img + 64, 1);                      /* PT_LOAD */
	v = 0x100; memcpy(img + 64 + 8, &v, 8);  /* p_offset */
	v = 0x200000; memcpy(img + 64 + 16, &v, 8);
	memcpy(img + 64 + 24, &v, 8);
	v = sizeof(l64_code); memcpy(img + 64 + 32, &v, 8);
	v = 0x1000; memcpy(img + 64 + 40, &v, 8);
	memcpy(img + 0x100, l64_code, sizeof(l64_code));
	check(libvm_load_elf(&boot, vm, img, sizeof(img), NULL), "load ELF64");
	run_to_hlt(vm, &boot, "elf64");
	expect("elf64", 0, 0x64646464);
	expect("elf64", 1, LIBVM_BOOT_PAGETABLE_GPA);
	expect("elf64", 2, 0x18);
	expect("elf64", 3, 0x12345678); /* bits 8-39: needs 64-bit registers */
	libvm_vm_destroy(vm);
}

static void test_flat(void)
{
	/* mov $0x500, %dx; mov $0x1616, %eax; out %eax, %dx; hlt (16-bit code) */
	static const uint8_t code[] = { 0xba, 0x00, 0x05, 0x66, 0xb8, 0x16, 0x16, 0x00, 0x00,
					0x66, 0xef, 0xf4 };
	libvm_vm *vm = new_vm();
	libvm_boot boot;

	check(libvm_load_flat(&boot, vm, code, sizeof(code), 0x10000), "load flat");
	run_to_hlt(vm, &boot, "flat");
	expect("flat", 0, 0x1616);
	libvm_vm_destroy(vm);
}

int main(void)
{
	test_multiboot();
	test_elf64();
	test_flat();
	if (failures)
		return 1;
	printf("kvm_boot: multiboot, ELF64 long mode and flat real mode all reached HLT\n");
	return 0;
}
