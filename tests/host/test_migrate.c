/* SPDX-License-Identifier: MIT */
/*
 * Live migration between two VMs of one process over a socketpair: VM A
 * runs a real-mode guest that keeps writing across 64 MiB of memory while
 * its memory moves; after the pause, VM B's memory must equal A's byte for
 * byte (A stays paused once the move is confirmed), B's vCPU resumes where
 * A's stopped and writes on. A receiver that refuses (another memory
 * size) leaves A running. Prints the migration's figures.
 *
 * Exit: 0 pass, 1 fail, 77 no usable KVM device (or no dirty log).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libvm/libvm.h>
#include <libvm/snapshot.h>

#include "host_test.h"

#define CODE_GPA 0x1000
#define MEM (64ull << 20)

/*
 * Protected mode would be needed to reach 64 MiB flat; real mode with
 * unreal segments is enough and shorter: the guest walks pages from 1 MiB
 * up with a 32-bit address in ESI, writing one dword per page, forever.
 *
 *   mov esi, 0x100000
 * l: mov [esi], eax   (67 89 06: a32 operand with DS base 0, limit 4 GiB)
 *   add esi, 4096
 *   inc eax
 *   cmp esi, MEM
 *   jb l
 *   mov esi, 0x100000
 *   jmp l
 */
static const unsigned char code[] = {
	0x66, 0xbe, 0x00, 0x00, 0x10, 0x00,             /* mov esi, 0x100000 */
	0x67, 0x66, 0x89, 0x06,                         /* mov [esi], eax */
	0x66, 0x81, 0xc6, 0x00, 0x10, 0x00, 0x00,       /* add esi, 4096 */
	0x66, 0x40,                                     /* inc eax */
	0x66, 0x81, 0xfe, 0x00, 0x00, 0x00, 0x04,       /* cmp esi, 0x4000000 */
	0x72, 0xea,                                     /* jb l (-22) */
	0x66, 0xbe, 0x00, 0x00, 0x10, 0x00,             /* mov esi, 0x100000 */
	0xeb, 0xe2,                                     /* jmp l (-30) */
};

static int build(libvm_vm **vm, libvm_vcpu **v, uint64_t mem)
{
	libvm_sregs s;
	int err;

	if ((err = libvm_vm_create(vm, NULL)) ||
	    (err = libvm_region_map_ram(NULL, *vm, 0, mem)))
		return err;
	/* The irqchip's state travels too, where the backend has one (main's
	 * /dev/vmm has none: the test then says it has no dirty log either). */
	if (libvm_has(*vm, LIBVM_CAP_IRQCHIP) == 1 && (err = libvm_irqchip_create(*vm, 0)))
		return err;
	if ((err = libvm_vcpu_create(v, *vm, 0)) ||
	    (err = libvm_mem_write(*vm, CODE_GPA, code, sizeof(code))) ||
	    (err = start_at(*v, CODE_GPA)) ||
	    (err = libvm_vcpu_get_sregs(*v, &s)))
		return err;
	/* Unreal mode: DS with a 4 GiB limit, so a32 addresses reach it all. */
	s.ds.limit = 0xffffffff;
	s.ds.g = 1;
	s.ds.db = 1;
	return libvm_vcpu_set_sregs(*v, &s);
}

struct side {
	libvm_vm *vm;
	libvm_vcpu *vcpu;
	pthread_t runner;
	bool running;
	int err;
};

static void *run_main(void *arg)
{
	struct side *a = arg;
	libvm_exit ex;

	a->err = libvm_vm_run(a->vm, NULL, &ex, NULL);
	return NULL;
}

static int pause_a(void *opaque)
{
	struct side *a = opaque;

	libvm_vm_stop(a->vm);
	pthread_join(a->runner, NULL);
	a->running = false;
	return 0;
}

struct receiver {
	int fd;
	uint64_t mem;
	libvm_vm *vm;
	libvm_vcpu *vcpu;
	int err;
};

static void *receive_main(void *arg)
{
	struct receiver *r = arg;
	libvm_snapshot *s;

	r->err = libvm_snapshot_open(&s, r->fd);
	if (r->err)
		return NULL;
	r->err = build(&r->vm, &r->vcpu, r->mem);
	if (!r->err)
		r->err = libvm_snapshot_restore(s, r->vm);
	libvm_snapshot_ack(s, r->err);
	libvm_snapshot_close(s);
	return NULL;
}

int main(void)
{
	libvm_migrate_options mo = LIBVM_MIGRATE_OPTIONS_INIT;
	libvm_migrate_stats st = { 0 };
	struct side a = { 0 };
	struct receiver r = { 0 };
	pthread_t rt;
	libvm_regs ra, rb;
	uint8_t *ma, *mb;
	uint32_t before = 0, after = 0;
	int sv[2], err;

	err = build(&a.vm, &a.vcpu, MEM);
	if (err) {
		printf("SKIP: no usable KVM device: %s (%s)\n", libvm_strerror(err),
		       libvm_error_message());
		return 77;
	}
	if (libvm_has(a.vm, LIBVM_CAP_DIRTY_LOG) != 1) {
		printf("SKIP: %s has no dirty log\n", libvm_vm_device_path(a.vm));
		return 77;
	}
	/* Fill memory with data (not zero pages) so every page costs. */
	{
		uint8_t *page = malloc(1 << 20);

		for (uint64_t off = 1 << 20; off < MEM; off += 1 << 20) {
			for (size_t i = 0; i < (1 << 20); i++)
				page[i] = (uint8_t)(i * 131 + off / 4096);
			libvm_mem_write(a.vm, off, page, 1 << 20);
		}
		free(page);
	}
	a.running = pthread_create(&a.runner, NULL, run_main, &a) == 0;

	/* A refusing receiver: the sender's VM runs on. */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	r = (struct receiver){ .fd = sv[1], .mem = MEM / 2 };
	pthread_create(&rt, NULL, receive_main, &r);
	mo.pause = pause_a;
	mo.opaque = &a;
	err = libvm_migrate_send(a.vm, sv[0], &mo);
	pthread_join(rt, NULL);
	REPORT(err == -ECONNREFUSED && strstr(libvm_error_message(), "memory region 0"),
	       "a receiver with other memory refuses: %s (%s)", libvm_strerror(err),
	       libvm_error_message());
	REPORT(a.running, "the sender's VM never paused (refused before the pause)");
	libvm_vm_destroy(r.vm);
	close(sv[0]);
	close(sv[1]);

	/* The real move. */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	r = (struct receiver){ .fd = sv[1], .mem = MEM };
	pthread_create(&rt, NULL, receive_main, &r);
	mo.stats = &st;
	usleep(100000);
	err = libvm_migrate_send(a.vm, sv[0], &mo);
	pthread_join(rt, NULL);
	REPORT(err == 0 && r.err == 0, "migration: %s%s%s%s, receiver %d", libvm_strerror(err),
	       err ? " (" : "", err ? libvm_error_message() : "", err ? ")" : "", r.err);
	printf("FIGURES: 64 MiB of data, a guest writing a page every few ns: %.1f ms in all, "
	       "%.1f ms paused, %llu bytes, %llu pages (%llu after the pause), %u rounds, %.0f MB/s\n",
	       st.total_ns / 1e6, st.downtime_ns / 1e6, (unsigned long long)st.bytes,
	       (unsigned long long)st.pages, (unsigned long long)st.final_pages, st.rounds,
	       st.bytes / (st.total_ns / 1e9) / 1e6);
	if (err || r.err)
		return 1;
	/* A is paused for good: B must hold exactly A's memory and registers. */
	ma = malloc(MEM);
	mb = malloc(MEM);
	CHECK(libvm_mem_read(a.vm, 0, ma, MEM) == 0 && libvm_mem_read(r.vm, 0, mb, MEM) == 0,
	      "read both memories");
	REPORT(!memcmp(ma, mb, MEM), "the receiver's 64 MiB equal the sender's at its pause");
	CHECK(libvm_vcpu_get_regs(a.vcpu, &ra) == 0 && libvm_vcpu_get_regs(r.vcpu, &rb) == 0,
	      "registers");
	REPORT(!memcmp(&ra, &rb, sizeof(ra)), "the receiver's registers equal the sender's (RIP %#llx, EAX %#llx)",
	       (unsigned long long)rb.rip, (unsigned long long)rb.rax);
	before = (uint32_t)rb.rax;
	{
		struct side b = { .vm = r.vm, .vcpu = r.vcpu };

		pthread_create(&b.runner, NULL, run_main, &b);
		usleep(50000);
		pause_a(&b);
		CHECK(libvm_vcpu_get_regs(b.vcpu, &rb) == 0, "registers after running on");
		after = (uint32_t)rb.rax;
	}
	REPORT(after > before, "the receiver's guest writes on (EAX %u -> %u)", before, after);
	free(ma);
	free(mb);
	libvm_vm_destroy(r.vm);
	libvm_vm_destroy(a.vm);
	close(sv[0]);
	close(sv[1]);
	printf("%s\n", failures ? "FAIL" : "PASS: live migration");
	return failures ? 1 : 0;
}
