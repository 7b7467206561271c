/* SPDX-License-Identifier: MIT */
/*
 * Command-line parsing for vmrun. The option names follow what test
 * harnesses pass to QEMU (-smp, -m, -append, -initrd) where that is
 * unambiguous, so that a wrapper can translate one-to-one.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvm/cpu.h>
#include <libvm/libvm.h>

#include "options.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vmrun [options] KERNEL\n"
		"       vmrun [options] --kernel KERNEL\n"
		"Boot KERNEL (multiboot, ELF32/ELF64 with optional PVH note such as a Linux\n"
		"vmlinux, a Linux bzImage, or a flat binary) in a libvm virtual machine with\n"
		"a PC-like platform.\n\n"
		"  -k, --kernel FILE       the kernel (instead of the KERNEL argument)\n"
		"  -m, --mem SIZE          guest RAM, e.g. 128M, 1G (default 128M)\n"
		"  -s, --smp N             number of vCPUs (default 1)\n"
		"  -c, --cmdline TEXT      kernel command line (alias: --append); Linux\n"
		"                          defaults to \"" VMRUN_LINUX_CMDLINE "\"\n"
		"  -i, --initrd FILE       Linux: the initrd; multiboot: a boot module (repeatable)\n"
		"      --module FILE[=STR] boot module with its own string; repeatable\n"
		"  -S, --serial WHERE      COM1 goes to stdio (default), none, or a file\n"
		"  -d, --device PATH       KVM device (default $LIBVM_DEVICE or /dev/kvm)\n"
		"  -t, --timeout SECONDS   stop the guest after this long (status 124)\n"
		"  -f, --format FMT        auto (default), multiboot, elf, bzimage or flat\n"
		"      --load-addr ADDR    where a flat binary goes (default 0x100000)\n"
		"      --disk FILE[,ro]    virtio-blk disk backed by FILE; repeatable (up to 8)\n"
		"      --net tap=NAME      virtio-net on tap interface NAME\n"
		"      --rng               virtio-rng fed from getrandom()\n"
		"      --cpu MODEL[,+F][,-F]...  CPU model and features (default host; --cpu help\n"
		"                          lists them)\n"
		"      --pci-testdev       QEMU's PCI test device (1b36:0005) on the PCI bus\n"
		"      --hyperv F[,F]...   Hyper-V enlightenments by QEMU's hv_* names, or all\n"
		"                          (--hyperv help lists them)\n"
		"      --gdb PORT          a GDB stub on localhost:PORT (target remote :PORT)\n"
		"      --gdb-wait          with --gdb: wait for gdb, stopped at the first instruction\n"
		"  -q, --quiet             no messages from vmrun itself\n"
		"  -v, --verbose           libvm's log on stderr (-v: info, -vv: debug too)\n"
		"  -h, --help              this text\n"
		"  -V, --version           libvm's version\n\n"
		"Exit status: the guest's exit-device status ((v << 1) | 1, port 0xf4);\n"
		"0 power-off (ACPI S5), 2 reset request (reboot), 4 triple fault, 6 CPU/emulation error,\n"
		"8 halted for good, 124 timeout, 126 vmrun error, 130 quit with Ctrl-A x.\n"
		"On a terminal, Ctrl-A x quits and Ctrl-A Ctrl-A sends Ctrl-A.\n");
}

/* --cpu help: the models and feature names libvm knows. */
static void cpu_help(void)
{
	const char *n;

	printf("CPU models:");
	for (uint32_t i = 0; (n = libvm_cpu_model_name(i)); i++)
		printf(" %s", n);
	printf("\nFeatures (+name adds, -name removes; see docs/cpu.md):\n");
	for (uint32_t i = 0, col = 0; (n = libvm_cpu_feature_name(i)); i++) {
		size_t len = strlen(n) + 1;

		if (col + len > 78) {
			printf("\n");
			col = 0;
		}
		printf(" %s", n);
		col += (uint32_t)len;
	}
	printf("\n");
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	uint64_t v, mul = 1;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	case '\0': mul = 1ull << 20; break; /* plain numbers are MiB, as in QEMU's -m */
	default: return -1;
	}
	if ((*end == 'i' || *end == 'B') && end[1] == '\0')
		end++;
	if (*end || v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

int vmrun_parse_options(struct vmrun_options *o, int argc, char **argv)
{
	enum {
		OPT_MODULE = 256, OPT_LOAD_ADDR, OPT_DISK, OPT_NET, OPT_RNG, OPT_CPU, OPT_PCI_TESTDEV,
		OPT_HYPERV, OPT_GDB, OPT_GDB_WAIT
	};
	static const struct option longopts[] = {
		{ "mem", required_argument, NULL, 'm' },
		{ "smp", required_argument, NULL, 's' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "append", required_argument, NULL, 'c' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "module", required_argument, NULL, OPT_MODULE },
		{ "serial", required_argument, NULL, 'S' },
		{ "device", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'f' },
		{ "load-addr", required_argument, NULL, OPT_LOAD_ADDR },
		{ "kernel", required_argument, NULL, 'k' },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "net", required_argument, NULL, OPT_NET },
		{ "rng", no_argument, NULL, OPT_RNG },
		{ "cpu", required_argument, NULL, OPT_CPU },
		{ "pci-testdev", no_argument, NULL, OPT_PCI_TESTDEV },
		{ "hyperv", required_argument, NULL, OPT_HYPERV },
		{ "gdb", required_argument, NULL, OPT_GDB },
		{ "gdb-wait", no_argument, NULL, OPT_GDB_WAIT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;

	*o = (struct vmrun_options){
		.mem = 128ull << 20, .smp = 1, .serial = "stdio", .load_addr = 0x100000,
	};
	while ((c = getopt_long(argc, argv, "m:s:c:i:S:d:t:f:k:qvhV", longopts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'm':
			if (parse_size(optarg, &o->mem) || o->mem < (1ull << 20)) {
				fprintf(stderr, "vmrun: --mem %s: want a size of at least 1M\n", optarg);
				return VMRUN_STATUS_ERROR;
			}
			break;
		case 's': {
			unsigned long n = strtoul(optarg, &end, 0);

			if (*end || n < 1 || n > 255) {
				fprintf(stderr, "vmrun: --smp %s: want 1 to 255\n", optarg);
				return VMRUN_STATUS_ERROR;
			}
			o->smp = (uint32_t)n;
			break;
		}
		case 'c':
			o->cmdline = optarg;
			break;
		case 'i':
		case OPT_MODULE: {
			struct vmrun_module *m = &o->modules[o->nr_modules];
			char *eq = c == OPT_MODULE ? strchr(optarg, '=') : NULL;

			if (o->nr_modules == VMRUN_MAX_MODULES) {
				fprintf(stderr, "vmrun: at most %d modules\n", VMRUN_MAX_MODULES);
				return VMRUN_STATUS_ERROR;
			}
			if (eq)
				*eq = '\0';
			m->path = optarg;
			m->string = eq ? eq + 1 : optarg;
			o->nr_modules++;
			break;
		}
		case 'S':
			o->serial = optarg;
			break;
		case 'd':
			o->device = optarg;
			break;
		case 't':
			o->timeout = strtod(optarg, &end);
			if (*end || o->timeout < 0 || o->timeout > 1e7) {
				fprintf(stderr, "vmrun: --timeout %s: want seconds\n", optarg);
				return VMRUN_STATUS_ERROR;
			}
			break;
		case 'f':
			if (!strcmp(optarg, "auto"))
				o->format = VMRUN_FORMAT_AUTO;
			else if (!strcmp(optarg, "multiboot"))
				o->format = VMRUN_FORMAT_MULTIBOOT;
			else if (!strcmp(optarg, "elf"))
				o->format = VMRUN_FORMAT_ELF;
			else if (!strcmp(optarg, "flat"))
				o->format = VMRUN_FORMAT_FLAT;
			else if (!strcmp(optarg, "bzimage"))
				o->format = VMRUN_FORMAT_BZIMAGE;
			else {
				fprintf(stderr, "vmrun: --format %s: want auto, multiboot, elf, bzimage or flat\n",
					optarg);
				return VMRUN_STATUS_ERROR;
			}
			break;
		case OPT_LOAD_ADDR:
			o->load_addr = strtoull(optarg, &end, 0);
			if (*end) {
				fprintf(stderr, "vmrun: --load-addr %s: want an address\n", optarg);
				return VMRUN_STATUS_ERROR;
			}
			break;
		case 'k':
			o->kernel = optarg;
			break;
		case OPT_DISK: {
			struct vmrun_disk *dk = &o->disks[o->nr_disks];
			char *comma = strrchr(optarg, ',');

			if (o->nr_disks == VMRUN_MAX_DISKS) {
				fprintf(stderr, "vmrun: at most %d disks\n", VMRUN_MAX_DISKS);
				return VMRUN_STATUS_ERROR;
			}
			dk->readonly = false;
			if (comma) {
				if (strcmp(comma, ",ro") != 0) {
					fprintf(stderr, "vmrun: --disk %s: want FILE or FILE,ro\n", optarg);
					return VMRUN_STATUS_ERROR;
				}
				*comma = '\0';
				dk->readonly = true;
			}
			if (!*optarg) {
				fprintf(stderr, "vmrun: --disk: no file given\n");
				return VMRUN_STATUS_ERROR;
			}
			dk->path = optarg;
			o->nr_disks++;
			break;
		}
		case OPT_NET:
			if (strncmp(optarg, "tap=", 4) != 0 || !optarg[4]) {
				fprintf(stderr, "vmrun: --net %s: want tap=NAME\n", optarg);
				return VMRUN_STATUS_ERROR;
			}
			o->tap = optarg + 4;
			break;
		case OPT_RNG:
			o->rng = true;
			break;
		case OPT_HYPERV:
			if (!strcmp(optarg, "help")) {
				const char *n;

				printf("Hyper-V features (--hyperv F1,F2,... or all):");
				for (uint32_t i = 0; (n = libvm_hyperv_feature_name(i)); i++)
					printf(" %s", n);
				printf("\n");
				return 0;
			}
			if (libvm_hyperv_parse(optarg, &o->hyperv)) {
				fprintf(stderr, "vmrun: --hyperv: %s\n", libvm_error_message());
				return VMRUN_STATUS_ERROR;
			}
			break;
		case OPT_PCI_TESTDEV:
			o->pci_testdev = true;
			break;
		case OPT_CPU:
			if (!strcmp(optarg, "help")) {
				cpu_help();
				return 0;
			}
			o->cpu = optarg;
			break;
		case OPT_GDB: {
			unsigned long port = strtoul(optarg, &end, 10);

			if (*end || port < 1 || port > 65535) {
				fprintf(stderr, "vmrun: --gdb %s: want a TCP port\n", optarg);
				return VMRUN_STATUS_ERROR;
			}
			o->gdb_port = (uint16_t)port;
			break;
		}
		case OPT_GDB_WAIT:
			o->gdb_wait = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("vmrun (libvm %s)\n", libvm_version());
			return 0;
		default:
			usage(stderr);
			return VMRUN_STATUS_ERROR;
		}
	}
	if (optind + (o->kernel ? 0 : 1) != argc) {
		fprintf(stderr, "vmrun: %s\n", optind >= argc ? "no KERNEL given" : "one KERNEL only");
		usage(stderr);
		return VMRUN_STATUS_ERROR;
	}
	if (!o->kernel)
		o->kernel = argv[optind];
	if (o->gdb_wait && !o->gdb_port) {
		fprintf(stderr, "vmrun: --gdb-wait needs --gdb PORT\n");
		return VMRUN_STATUS_ERROR;
	}
	return -1;
}
