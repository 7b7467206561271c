/* SPDX-License-Identifier: MIT */
/*
 * Snapshots on a real VM: a real-mode guest counts in memory and reports
 * each count on a port; it is stopped at 5, saved (with debug registers,
 * an MSR, the LAPIC's TPR, built-in devices and a device of the test's own
 * that registered its state), and run on to 8. A second VM built the same
 * way restores the snapshot and must report 6, 7, 8 and hold the same
 * state. Then every bad file: truncated anywhere, corrupted, of a newer
 * format, with a newer device state, or not matching the VM (memory,
 * vCPUs, devices) is refused with its error and message, and a snapshot
 * cannot be restored twice or taken while a vCPU runs.
 *
 * Exit: 0 pass, 1 fail, 77 no usable KVM device.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <libvm/devices.h>
#include <libvm/libvm.h>
#include <libvm/snapshot.h>

#include "host_test.h"

#define CODE_GPA 0x1000
#define COUNTER_GPA 0x5000
#define PORT 0x10
#define MSR_SYSENTER_CS 0x174

/* mov eax,[0x5000]; l: inc eax; mov [0x5000],eax; out 0x10,eax; jmp l */
static const unsigned char code[] = {
	0x66, 0xa1, 0x00, 0x50,
	0x66, 0x40,
	0x66, 0xa3, 0x00, 0x50,
	0x66, 0xe7, PORT,
	0xeb, 0xf5,
};

struct counter {
	uint32_t count, last, stop_at;
	uint32_t out_of_order;
	int save_while_running; /* what a save from the handler returned */
	libvm_vm *vm;
};

static int counter_io(libvm_vcpu *vcpu, uint64_t port, void *data, uint32_t len, bool is_write,
		      void *opaque)
{
	struct counter *c = opaque;
	uint32_t v = 0;

	memcpy(&v, data, len < 4 ? len : 4);
	if (v != c->last + 1)
		c->out_of_order++;
	c->last = v;
	c->count++;
	if (c->count == 3 && !c->save_while_running) {
		int fd = memfd_create("busy", 0);

		c->save_while_running = libvm_snapshot_save(c->vm, fd, NULL);
		close(fd);
	}
	if (c->count >= c->stop_at)
		libvm_vcpu_stop(vcpu);
	return 0;
}

static int counter_save(libvm_state_writer *w, void *opaque)
{
	struct counter *c = opaque;

	return libvm_state_write(w, c, 2 * sizeof(uint32_t));
}

static int counter_load(const void *data, size_t len, uint32_t version, void *opaque)
{
	struct counter *c = opaque;

	if (len != 2 * sizeof(uint32_t))
		return -EINVAL;
	memcpy(c, data, len);
	return 0;
}

struct mach {
	libvm_vm *vm;
	libvm_vcpu *vcpu[2];
	struct counter dev;
};

struct shape {
	uint64_t high;          /* bytes of RAM at 1 MiB */
	uint32_t vcpus;
	bool testdev;
	uint32_t dev_version;
};

static const struct shape normal = { 0x10000, 1, true, 2 };

static int build(struct mach *m, const struct shape *sh)
{
	libvm_device_state_ops ops = LIBVM_DEVICE_STATE_OPS_INIT;
	libvm_region_options o = LIBVM_REGION_OPTIONS_INIT;
	libvm_uart *u;
	libvm_rtc *rtc;
	libvm_testdev *td;
	int err;

	memset(m, 0, sizeof(*m));
	if ((err = libvm_vm_create(&m->vm, NULL)))
		return err;
	m->dev.vm = m->vm;
	m->dev.save_while_running = 1; /* only the first VM tries */
	o.gpa = 0;
	o.length = 0x100000;
	o.name = "low";
	if ((err = libvm_region_map(NULL, m->vm, &o)))
		return err;
	o.gpa = 0x100000;
	o.length = sh->high;
	o.name = "high";
	/* The irqchip where the backend has one (/dev/vmm may not). */
	if ((err = libvm_region_map(NULL, m->vm, &o)) ||
	    (libvm_has(m->vm, LIBVM_CAP_IRQCHIP) == 1 &&
	     (err = libvm_irqchip_create(m->vm, LIBVM_IRQCHIP_PIT))) ||
	    (err = libvm_uart_attach(&u, m->vm, NULL)) ||
	    (err = libvm_rtc_attach(&rtc, m->vm, NULL)) ||
	    (sh->testdev && (err = libvm_testdev_attach(&td, m->vm, NULL))) ||
	    (err = libvm_io_register(m->vm, LIBVM_SPACE_PIO, PORT, 4, "counter", counter_io,
				     &m->dev)))
		return err;
	ops.name = "counter-dev";
	ops.version = sh->dev_version;
	ops.min_version = 1;
	ops.save = counter_save;
	ops.load = counter_load;
	ops.opaque = &m->dev;
	if ((err = libvm_device_state_register(m->vm, &ops)) ||
	    (err = libvm_mem_write(m->vm, CODE_GPA, code, sizeof(code))))
		return err;
	for (uint32_t i = 0; i < sh->vcpus; i++)
		if ((err = libvm_vcpu_create(&m->vcpu[i], m->vm, i)))
			return err;
	return start_at(m->vcpu[0], CODE_GPA);
}

static int run_until(struct mach *m, uint32_t count)
{
	libvm_exit ex;
	int err;

	m->dev.stop_at = count;
	err = libvm_vm_run(m->vm, NULL, &ex, NULL);
	if (err)
		return err;
	return ex.reason == LIBVM_EXIT_STOPPED ? 0 : -EIO;
}

/* Restore the bytes @buf (@len) into a VM of @sh: the restore's error. */
static int restore_bytes(const void *buf, size_t len, const struct shape *sh, bool open_fails)
{
	struct mach m;
	libvm_snapshot *s = NULL;
	int fd = memfd_create("bad", 0), err;

	if (fd < 0 || write(fd, buf, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) != 0)
		return -EIO;
	err = libvm_snapshot_open(&s, fd);
	if (!err) {
		if (open_fails) {
			printf("  (open succeeded: the restore must refuse it)\n");
		}
		if (build(&m, sh) == 0)
			err = libvm_snapshot_restore(s, m.vm);
		else
			err = -EIO;
		libvm_vm_destroy(m.vm);
	}
	libvm_snapshot_close(s);
	close(fd);
	return err;
}

static void refuses(const void *buf, size_t len, const struct shape *sh, int want,
		    const char *msg_part, const char *what)
{
	int err = restore_bytes(buf, len, sh, false);

	REPORT(err == want && strstr(libvm_error_message(), msg_part),
	       "%s: %s (%s)", what, libvm_strerror(err), libvm_error_message());
}

/* Recompute the file header's checksum after an edit. */
static void fix_header(uint8_t *f)
{
	uint32_t crc = (uint32_t)crc32(0, f, 28);

	memcpy(f + 28, &crc, 4);
}

/* CLOCK_MONOTONIC in ns: the PIT's load times (KVM ignores the one it is
 * given and loads now; our module honours it). */
static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Whether PIC IRQ 0 latches an edge within @ms (IRR bit 0, masked or not). */
static bool pit_edge(libvm_vm *vm, int ms)
{
	libvm_pic_state pic;

	for (int i = 0; i <= ms * 10; i++) {
		if (libvm_vm_get_pic(vm, 0, &pic) == 0 && (pic.irr & 1))
			return true;
		usleep(100);
	}
	return false;
}

/* A PIT one-shot that already fired (how Linux leaves the PIT): the
 * restored VM gets no tick from it, and a one-shot programmed afterwards
 * fires as usual. */
static void pit_spent_one_shot(void)
{
	struct mach a, b;
	libvm_pit_state pit;
	libvm_pic_state pic;
	libvm_snapshot *s = NULL;
	int fd = memfd_create("pit", 0);

	if (build(&a, &normal) || libvm_vm_get_pit(a.vm, &pit)) {
		printf("note: no in-kernel PIT here: the one-shot case is left out\n");
		libvm_vm_destroy(a.vm);
		close(fd);
		return;
	}
	pit.channels[0].mode = 0;
	pit.channels[0].rw_mode = 3;
	pit.channels[0].count = 100; /* 84 us */
	pit.channels[0].count_load_time = mono_ns();
	CHECK(libvm_vm_set_pit(a.vm, &pit) == 0, "arm a PIT one-shot");
	if (!pit_edge(a.vm, 200)) {
		/* The kmod branch's vmm.ko loses a new VM's first PIT edge
		 * (reported); the restore is what is tested here. */
		printf("note: the first one-shot of a new VM did not fire; armed again\n");
		pit.channels[0].count_load_time = mono_ns();
		CHECK(libvm_vm_set_pit(a.vm, &pit) == 0, "arm a PIT one-shot again");
		CHECK(pit_edge(a.vm, 200), "the one-shot fires");
	}
	CHECK(libvm_vm_get_pic(a.vm, 0, &pic) == 0, "get the PIC");
	pic.irr &= ~1u; /* taken, as a guest would have */
	CHECK(libvm_vm_set_pic(a.vm, 0, &pic) == 0, "set the PIC");
	CHECK(libvm_snapshot_save(a.vm, fd, NULL) == 0, "save with the one-shot spent");
	CHECK(build(&b, &normal) == 0, "build VM B");
	lseek(fd, 0, SEEK_SET);
	CHECK(libvm_snapshot_open(&s, fd) == 0 && libvm_snapshot_restore(s, b.vm) == 0,
	      "restore it");
	REPORT(!pit_edge(b.vm, 50), "the spent one-shot does not fire again after the restore");
	CHECK(libvm_vm_get_pit(b.vm, &pit) == 0, "get VM B's PIT");
	REPORT(pit.channels[0].mode == 0 && !(pit.flags & 1),
	       "VM B's PIT channel 0 is in mode %u, flags %#x", pit.channels[0].mode, pit.flags);
	pit.channels[0].count = 100;
	pit.channels[0].count_load_time = mono_ns();
	CHECK(libvm_vm_set_pit(b.vm, &pit) == 0, "arm a one-shot in VM B");
	REPORT(pit_edge(b.vm, 200), "a one-shot armed after the restore fires");
	libvm_snapshot_close(s);
	libvm_vm_destroy(b.vm);
	libvm_vm_destroy(a.vm);
	close(fd);
}

int main(void)
{
	struct mach a, b;
	libvm_snapshot_options so = LIBVM_SNAPSHOT_OPTIONS_INIT;
	libvm_debugregs dr = { 0 };
	libvm_msr msr = { .index = MSR_SYSENTER_CS, .value = 0x42 };
	libvm_lapic lapic;
	libvm_snapshot *s;
	struct shape sh;
	uint8_t *file;
	uint32_t counter = 0;
	size_t len, app_len;
	const char *app;
	off_t size;
	bool has_dr, has_lapic;
	int fd, err;

	err = build(&a, &normal);
	if (err) {
		printf("SKIP: no usable KVM device: %s (%s)\n", libvm_strerror(err),
		       libvm_error_message());
		libvm_vm_destroy(a.vm);
		return 77;
	}
	a.dev.save_while_running = 0;
	CHECK(run_until(&a, 5) == 0 && a.dev.last == 5, "VM A counts to 5 (%u)", a.dev.last);
	REPORT(a.dev.save_while_running == -EBUSY, "a save while a vCPU runs: -EBUSY");
	/* State beyond the registers, set while stopped (what the backend
	 * has of it: -ENOTSUP leaves that part out). */
	dr.db[0] = 0x1234;
	dr.dr7 = 0x401;
	err = libvm_vcpu_set_debugregs(a.vcpu[0], &dr);
	has_dr = err == 0;
	CHECK(err == 0 || err == -ENOTSUP, "set DR0/DR7 (%s)", libvm_strerror(err));
	CHECK(libvm_vcpu_set_msrs(a.vcpu[0], &msr, 1) == 0, "set SYSENTER_CS");
	has_lapic = libvm_has(a.vm, LIBVM_CAP_IRQCHIP) == 1;
	if (has_lapic) {
		CHECK(libvm_vcpu_get_lapic(a.vcpu[0], &lapic) == 0, "get the LAPIC");
		lapic.regs[0x80] = 0x20; /* TPR */
		CHECK(libvm_vcpu_set_lapic(a.vcpu[0], &lapic) == 0, "set the LAPIC");
	}
	if (!has_dr || !has_lapic)
		printf("note: %s has%s%s\n", libvm_vm_device_path(a.vm),
		       has_dr ? "" : " no debug registers call", has_lapic ? "" : " no irqchip");

	fd = memfd_create("snap", 0);
	so.app_data = "hello-app";
	so.app_data_len = 10;
	err = libvm_snapshot_save(a.vm, fd, &so);
	size = lseek(fd, 0, SEEK_END);
	REPORT(err == 0, "snapshot of VM A: %lld bytes", (long long)size);
	CHECK(run_until(&a, 8) == 0 && a.dev.last == 8 && !a.dev.out_of_order,
	      "VM A counts on to 8 (%u)", a.dev.last);

	/* VM B: built the same way, restored, goes on from 5. */
	CHECK(build(&b, &normal) == 0, "build VM B");
	lseek(fd, 0, SEEK_SET);
	CHECK(libvm_snapshot_open(&s, fd) == 0, "open the snapshot");
	app = libvm_snapshot_app_data(s, &app_len);
	REPORT(app && app_len == 10 && !strcmp(app, "hello-app"), "the application's bytes");
	REPORT(libvm_snapshot_nr_vcpus(s) == 1, "the snapshot has 1 vCPU");
	err = libvm_snapshot_restore(s, b.vm);
	REPORT(err == 0, "restore into VM B");
	REPORT(libvm_snapshot_restore(s, b.vm) == -EALREADY, "a second restore: -EALREADY");
	libvm_snapshot_close(s);
	libvm_mem_read(b.vm, COUNTER_GPA, &counter, 4);
	REPORT(counter == 5 && b.dev.last == 5 && b.dev.count == 5,
	       "VM B's memory and device hold 5 (%u, %u, %u)", counter, b.dev.last, b.dev.count);
	memset(&dr, 0, sizeof(dr));
	memset(&lapic, 0, sizeof(lapic));
	msr.value = 0;
	CHECK(!has_dr || libvm_vcpu_get_debugregs(b.vcpu[0], &dr) == 0, "get DR0");
	CHECK(libvm_vcpu_get_msrs(b.vcpu[0], &msr, 1) == 0, "get SYSENTER_CS");
	CHECK(!has_lapic || libvm_vcpu_get_lapic(b.vcpu[0], &lapic) == 0, "get the LAPIC");
	REPORT((!has_dr || (dr.db[0] == 0x1234 && (dr.dr7 & 0xff) == 0x01)) && msr.value == 0x42 &&
	       (!has_lapic || lapic.regs[0x80] == 0x20),
	       "VM B has DR0 %#llx, DR7 %#llx, SYSENTER_CS %#llx, TPR %#x",
	       (unsigned long long)dr.db[0], (unsigned long long)dr.dr7,
	       (unsigned long long)msr.value, lapic.regs[0x80]);
	b.dev.out_of_order = 0;
	CHECK(run_until(&b, 8) == 0, "run VM B");
	REPORT(b.dev.last == 8 && !b.dev.out_of_order, "VM B counts 6, 7, 8 (last %u, %u out of order)",
	       b.dev.last, b.dev.out_of_order);
	libvm_vm_destroy(b.vm);

	/* The bad files. */
	len = (size_t)size;
	file = malloc(len);
	CHECK(pread(fd, file, len, 0) == (ssize_t)len, "read the snapshot back");
	refuses(file, 0, &normal, -EBADMSG, "shorter than a header", "an empty file");
	refuses(file, 20, &normal, -EBADMSG, "shorter than a header", "20 bytes");
	refuses(file, 50, &normal, -EBADMSG, "truncated", "cut in the machine section");
	refuses(file, len / 2, &normal, -EBADMSG, "truncated", "cut in the middle");
	refuses(file, len - 40, &normal, -EBADMSG, "truncated", "cut before the end section");
	refuses(file, len - 1, &normal, -EBADMSG, "truncated", "cut one byte short");
	memcpy(file, "LIBVMSNQ", 8);
	refuses(file, len, &normal, -EBADMSG, "not a libvm snapshot", "another magic");
	memcpy(file, "LIBVMSNP", 8);
	file[16] ^= 1;
	refuses(file, len, &normal, -EBADMSG, "header's checksum", "a flipped header byte");
	file[16] ^= 1;
	file[8] = 2;
	fix_header(file);
	refuses(file, len, &normal, -ENOTSUP, "newer than this libvm", "format version 2");
	file[8] = 1;
	fix_header(file);
	{
		/* The guest's code, in the memory part of the file. */
		uint8_t *c = memmem(file, len, code, sizeof(code));

		CHECK(c && c > file + len / 2, "find the guest's code in the file");
		c[3] ^= 0x40;
		refuses(file, len, &normal, -EBADMSG, "'ram' section", "a flipped byte in memory");
		c[3] ^= 0x40;
	}
	file[40] ^= 0x01;
	refuses(file, len, &normal, -EBADMSG, "checksum", "a flipped byte in a section header");
	file[40] ^= 0x01;
	REPORT(restore_bytes(file, len, &normal, false) == 0, "the file put back is good again");
	sh = normal;
	sh.high = 0x20000;
	refuses(file, len, &sh, -EINVAL, "memory region 1", "a VM with more memory");
	sh = normal;
	sh.vcpus = 2;
	refuses(file, len, &sh, -EINVAL, "vCPUs", "a VM with two vCPUs");
	sh = normal;
	sh.testdev = false;
	refuses(file, len, &sh, -EINVAL, "pc-testdev", "a VM without the pc-testdev");
	sh = normal;
	sh.dev_version = 1;
	refuses(file, len, &sh, -ENOTSUP, "newer libvm", "a device of an older version");
	free(file);
	close(fd);
	libvm_vm_destroy(a.vm);
	pit_spent_one_shot();
	printf("%s\n", failures ? "FAIL" : "PASS: snapshots");
	return failures ? 1 : 0;
}
