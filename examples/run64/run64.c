/* SPDX-License-Identifier: MIT */
/*
 * Run your own 64-bit code (docs/guide-64bit.md): a VM with RAM, the ELF
 * loader's 64-bit entry, a console handler, the exit device, and the job
 * passed in and the answer read back through guest memory.
 *
 *   run64 GUEST.ELF [N]
 *
 * Exit status: 0 when the guest's answer is right, 77 without a KVM
 * device, 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvm/devices.h>
#include <libvm/libvm.h>
#include <libvm/load.h>

#define RAM_SIZE (4u << 20) /* from 0: the loader's page tables live low */
#define JOB_GPA  0x200000   /* what guest.c reads */

struct job {
	uint64_t n;
	uint64_t result;
};

static void die(int err, const char *what)
{
	fprintf(stderr, "run64: %s: %s (%s)\n", what, libvm_strerror(err),
		libvm_error_message());
	exit(err == -ENOENT || err == -EACCES ? 77 : 1);
}

/* Port 0x3f8: every byte the guest writes, to stdout. */
static int console(libvm_vcpu *vcpu, uint64_t port, void *data, uint32_t len,
		   bool is_write, void *opaque)
{
	(void)vcpu, (void)port, (void)opaque;
	if (is_write)
		fwrite(data, 1, len, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	libvm_vm *vm;
	libvm_vcpu *vcpu;
	libvm_debugexit *exitdev;
	libvm_boot boot;
	libvm_exit ex;
	struct job job = { .n = argc > 2 ? strtoull(argv[2], NULL, 0) : 50 };
	uint64_t a = 0, b = 1, want = 0;
	struct stat st;
	void *image;
	int fd, err;

	if (argc < 2) {
		fprintf(stderr, "usage: run64 GUEST.ELF [N]\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(argv[1]);
		return 1;
	}
	image = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (image == MAP_FAILED) {
		perror("mmap");
		return 1;
	}

	if ((err = libvm_vm_create(&vm, NULL)))
		die(err, "create the VM");
	if ((err = libvm_region_map_ram(NULL, vm, 0, RAM_SIZE)))
		die(err, "map RAM");
	/* An ELF64 without a PVH note: 64-bit mode at e_entry, the low 4 GiB
	 * identity-mapped by page tables the loader writes into RAM. */
	if ((err = libvm_load_elf(&boot, vm, image, (size_t)st.st_size, NULL)))
		die(err, "load the guest");
	munmap(image, (size_t)st.st_size);
	if ((err = libvm_mem_write(vm, JOB_GPA, &job, sizeof(job))))
		die(err, "write the job");
	if ((err = libvm_io_register(vm, LIBVM_SPACE_PIO, 0x3f8, 1, "console", console, NULL)))
		die(err, "register the console");
	if ((err = libvm_debugexit_attach(&exitdev, vm, NULL)))
		die(err, "attach the exit device");
	if ((err = libvm_vcpu_create(&vcpu, vm, 0)))
		die(err, "create the vCPU");
	if ((err = libvm_boot_apply(vcpu, &boot)))
		die(err, "enter 64-bit mode");

	/* Accesses to unclaimed ports come back as LIBVM_EXIT_IO: run on. */
	do {
		if ((err = libvm_vcpu_run(vcpu, &ex)))
			die(err, "run");
	} while (ex.reason == LIBVM_EXIT_IO);
	if (ex.reason != LIBVM_EXIT_GUEST_EXIT) {
		fprintf(stderr, "run64: the guest stopped with exit reason %u\n", ex.reason);
		return 1;
	}
	/* The exit device reports (value << 1) | 1, as QEMU's isa-debug-exit. */
	printf("run64: guest status %" PRIu64 "\n", ex.end.code >> 1);

	if ((err = libvm_mem_read(vm, JOB_GPA, &job, sizeof(job))))
		die(err, "read the answer");
	for (uint64_t i = 0; i < job.n; i++) {
		uint64_t t = a + b;

		want += a;
		a = b;
		b = t;
	}
	libvm_vm_destroy(vm); /* the vCPU and the exit device go with it */
	if (job.result != want) {
		fprintf(stderr, "run64: the guest says %" PRIu64 ", the host %" PRIu64 "\n",
			job.result, want);
		return 1;
	}
	printf("run64: host check: %" PRIu64 " is right\n", job.result);
	return 0;
}
