/* SPDX-License-Identifier: MIT */
/*
 * The snapshot stream on the fake backend (no KVM): a VM with two RAM
 * regions, an irqchip and PIT, two vCPUs with every piece of state set,
 * devices, saved and restored into a VM built the same way, which then
 * holds the same vCPU, VM, device and memory state. Then every kind of bad
 * file is refused with its error and message, and no state is applied:
 * truncated at every section boundary and inside each section, a flipped
 * byte in every section's header and payload, a newer format, section
 * version or device version, an unknown section type, a duplicated or a
 * missing section, wrong end counts, memory outside the VM, and machines
 * that differ (memory, vCPUs, CPUID, irqchip, devices). Also the dirty
 * log's bookkeeping and a live migration between two fake VMs over a
 * socketpair while a thread keeps dirtying memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <libvm/devices.h>
#include <libvm/snapshot.h>

#include "../fakevm.h"
#include "snapshot/stream.h"

#define LOW (1u << 20)
#define HIGH_GPA 0x100000000ull
#define HIGH (256u << 10)

struct shape {
	uint32_t low, vcpus;
	bool irqchip, uart, cpuid_other;
};

static const struct shape normal = { LOW, 2, true, true, false };

static libvm_vm *build(const struct shape *sh)
{
	libvm_vm *vm = fakevm_new(sh->irqchip ? NULL : "irqchip=0,pit=0");
	libvm_rtc *rtc;
	libvm_uart *uart;

	fakevm_ram(vm, 0, sh->low, "low");
	fakevm_ram(vm, HIGH_GPA, HIGH, "high");
	if (sh->irqchip)
		assert_int_equal(libvm_irqchip_create(vm, LIBVM_IRQCHIP_PIT), 0);
	assert_int_equal(libvm_rtc_attach(&rtc, vm, NULL), 0);
	if (sh->uart)
		assert_int_equal(libvm_uart_attach(&uart, vm, NULL), 0);
	for (uint32_t i = 0; i < sh->vcpus; i++) {
		libvm_vcpu *v = fakevm_vcpu(vm, i);

		if (sh->cpuid_other) {
			libvm_cpuid_entry e = { .function = 0, .eax = 7 };

			assert_int_equal(libvm_vcpu_set_cpuid(v, &e, 1), 0);
		}
	}
	return vm;
}

static libvm_vcpu *vcpu(libvm_vm *vm, uint32_t id)
{
	return vm->vcpus[id];
}

/* Every piece of state a distinct value, so a restore shows each one. */
static void set_state(libvm_vm *vm)
{
	struct libvm__fake_vm *f = libvm__fake_vm(vm);
	libvm_msr msrs[] = { { .index = 0x10, .value = 0x123456789 }, { .index = 0x174, .value = 0x42 },
			     { .index = 0x11, .value = 0x5000 }, { .index = 0x6e0, .value = 77 } };
	uint8_t page[4096];

	for (uint32_t id = 0; id < 2; id++) {
		libvm_vcpu *v = vcpu(vm, id);
		struct libvm__fake_vcpu *fv = libvm__fake_vcpu(v);
		libvm_regs r = { .rip = 0x1000 + id, .rax = 0xaa00 + id, .rflags = 2 };

		assert_int_equal(libvm_vcpu_set_regs(v, &r), 0);
		fv->sregs.cr3 = 0x3000 + id;
		assert_int_equal(libvm_vcpu_set_msrs(v, msrs, 4), 0);
		for (size_t i = 0; i < sizeof(fv->xsave); i++)
			fv->xsave[i] = (uint8_t)(i * 7 + id);
		fv->xcrs.nr_xcrs = 1;
		fv->xcrs.xcrs[0].value = 3;
		for (size_t i = 0; i < sizeof(fv->lapic.regs); i++)
			fv->lapic.regs[i] = (char)(i + id);
		/* A one-shot timer still counting (not the spent-one-shot case). */
		fv->lapic.regs[0x390] = 1;
		fv->events.nmi.masked = 1;
		fv->events.sipi_vector = 0x9a + id;
		fv->mp_state.mp_state = id ? 2 : 0;
		fv->debugregs.db[0] = 0xd0 + id;
	}
	for (int c = 0; c < 3; c++) {
		f->chip[c].chip_id = (uint32_t)c;
		memset(&f->chip[c].chip, 0x10 + c, 64);
	}
	f->pit_state.channels[0].mode = 2;
	f->pit_state.channels[0].count = 1000;
	f->clock.clock = 123456789;
	/* Memory: a page of data here and there, the rest zero. */
	for (int i = 0; i < 4096; i++)
		page[i] = (uint8_t)(i ^ 0x5a);
	assert_int_equal(libvm_mem_write(vm, 0x7000, page, sizeof(page)), 0);
	assert_int_equal(libvm_mem_write(vm, LOW - 4096, page, sizeof(page)), 0);
	assert_int_equal(libvm_mem_write(vm, HIGH_GPA + 0x2000, page, 100), 0);
	assert_int_equal(libvm_mem_write(vm, 0x9ffe, "XY", 2), 0);
}

static uint8_t *save(libvm_vm *vm, size_t *len)
{
	libvm_snapshot_options o = LIBVM_SNAPSHOT_OPTIONS_INIT;
	int fd = memfd_create("snap", 0);
	uint8_t *buf;

	o.app_data = "the-app";
	o.app_data_len = 8;
	assert_int_equal(libvm_snapshot_save(vm, fd, &o), 0);
	*len = (size_t)lseek(fd, 0, SEEK_END);
	buf = malloc(*len);
	assert_int_equal(pread(fd, buf, *len, 0), (ssize_t)*len);
	close(fd);
	return buf;
}

/* Restore @len bytes of @buf into a fresh VM of @sh; its error. *@vm_out
 * gets the VM when wanted (else it is destroyed). */
static int restore(const uint8_t *buf, size_t len, const struct shape *sh, libvm_vm **vm_out)
{
	libvm_snapshot *s;
	libvm_vm *vm;
	int fd = memfd_create("r", 0), err;

	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	lseek(fd, 0, SEEK_SET);
	err = libvm_snapshot_open(&s, fd);
	if (!err) {
		vm = build(sh);
		err = libvm_snapshot_restore(s, vm);
		libvm_snapshot_close(s);
		if (vm_out)
			*vm_out = vm;
		else
			libvm_vm_destroy(vm);
	}
	close(fd);
	return err;
}

static void check_same(libvm_vm *a, libvm_vm *b)
{
	struct libvm__fake_vm *fa = libvm__fake_vm(a), *fb = libvm__fake_vm(b);
	uint8_t *ma = malloc(LOW), *mb = malloc(LOW);

	for (uint32_t id = 0; id < 2; id++) {
		struct libvm__fake_vcpu *va = libvm__fake_vcpu(vcpu(a, id));
		struct libvm__fake_vcpu *vb = libvm__fake_vcpu(vcpu(b, id));
		libvm_msr m[] = { { .index = 0x10 }, { .index = 0x174 }, { .index = 0x6e0 } };
		libvm_msr wall = { .index = 0x11 };

		assert_memory_equal(&va->regs, &vb->regs, sizeof(va->regs));
		assert_int_equal(vb->sregs.cr3, 0x3000 + id);
		assert_memory_equal(va->xsave, vb->xsave, sizeof(va->xsave));
		assert_memory_equal(&va->xcrs, &vb->xcrs, sizeof(va->xcrs));
		assert_memory_equal(&va->lapic, &vb->lapic, sizeof(va->lapic));
		assert_memory_equal(&va->events, &vb->events, sizeof(va->events));
		assert_int_equal(vb->mp_state.mp_state, id ? 2 : 0);
		assert_memory_equal(&va->debugregs, &vb->debugregs, sizeof(va->debugregs));
		assert_int_equal(libvm_vcpu_get_msrs(vcpu(b, id), m, 3), 0);
		assert_int_equal(m[0].value, 0x123456789);
		assert_int_equal(m[1].value, 0x42);
		assert_int_equal(m[2].value, 77);
		/* kvmclock's wall clock is never saved, never written. */
		assert_int_equal(libvm_vcpu_get_msrs(vcpu(b, id), &wall, 1), 0);
		assert_int_equal(wall.value, 0);
	}
	assert_memory_equal(fa->chip, fb->chip, sizeof(fa->chip));
	assert_memory_equal(&fa->pit_state.channels[0], &fb->pit_state.channels[0],
			    sizeof(fa->pit_state.channels[0]));
	assert_int_equal(fb->clock.clock, 123456789);
	assert_int_equal(libvm_mem_read(a, 0, ma, LOW), 0);
	assert_int_equal(libvm_mem_read(b, 0, mb, LOW), 0);
	assert_memory_equal(ma, mb, LOW);
	assert_int_equal(libvm_mem_read(a, HIGH_GPA, ma, HIGH), 0);
	assert_int_equal(libvm_mem_read(b, HIGH_GPA, mb, HIGH), 0);
	assert_memory_equal(ma, mb, HIGH);
	free(ma);
	free(mb);
}

static void test_round_trip(void **state)
{
	libvm_vm *a = build(&normal), *b;
	libvm_snapshot *s;
	uint8_t *file;
	size_t len, app_len;
	libvm_mem_range ranges[4];
	uint32_t n = 4;
	int fd;

	(void)state;
	set_state(a);
	file = save(a, &len);
	/* The handle tells what to build. */
	fd = memfd_create("r", 0);
	assert_int_equal(write(fd, file, len), (ssize_t)len);
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(libvm_snapshot_open(&s, fd), 0);
	assert_string_equal(libvm_snapshot_app_data(s, &app_len), "the-app");
	assert_int_equal(app_len, 8);
	assert_int_equal(libvm_snapshot_nr_vcpus(s), 2);
	assert_int_equal(libvm_snapshot_memory_map(s, ranges, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ranges[1].gpa, HIGH_GPA);
	assert_int_equal(ranges[1].length, HIGH);
	libvm_snapshot_close(s);
	close(fd);

	assert_int_equal(restore(file, len, &normal, &b), 0);
	check_same(a, b);
	libvm_vm_destroy(b);
	libvm_vm_destroy(a);
	free(file);
}

/* --- walking a file --------------------------------------------------- */

struct section {
	size_t at;      /* its header */
	uint32_t type;
	uint64_t len;   /* payload */
};

static size_t sections(const uint8_t *f, size_t len, struct section *out, size_t max)
{
	size_t n = 0, at = LIBVM__SNAP_HEADER;

	while (at + LIBVM__SNAP_SECTION <= len && n < max) {
		uint64_t l;

		memcpy(&l, f + at + 16, 8);
		out[n].at = at;
		memcpy(&out[n].type, f + at, 4);
		out[n].len = l;
		n++;
		at += LIBVM__SNAP_SECTION + l + 4;
	}
	return n;
}

static void fix_header_crc(uint8_t *h)
{
	uint32_t c = (uint32_t)crc32(0, h, 28);

	memcpy(h + 28, &c, 4);
}

static void fix_payload_crc(uint8_t *f, const struct section *s)
{
	uint32_t c = (uint32_t)crc32(0, f + s->at + LIBVM__SNAP_SECTION, (uInt)s->len);

	memcpy(f + s->at + LIBVM__SNAP_SECTION + s->len, &c, 4);
}

static void refused(const uint8_t *f, size_t len, const struct shape *sh, int want,
		    const char *msg)
{
	libvm_vm *vm = NULL;
	int err = restore(f, len, sh, &vm);

	if (err != want || !strstr(libvm_error_message(), msg))
		fail_msg("wanted %d with \"%s\", got %d: %s", want, msg, err, libvm_error_message());
	/* Nothing was applied: vCPU 0 still has its reset state. */
	if (vm && err) {
		assert_int_equal(libvm__fake_vcpu(vcpu(vm, 0))->regs.rip, 0xfff0);
		libvm_vm_destroy(vm);
	} else if (vm) {
		libvm_vm_destroy(vm);
	}
}

static void test_bad_files(void **state)
{
	libvm_vm *a = build(&normal);
	struct section sec[64] = { 0 };
	struct shape sh;
	uint8_t *f, *bad;
	size_t len, n;

	(void)state;
	set_state(a);
	f = save(a, &len);
	bad = malloc(2 * len);
	n = sections(f, len, sec, 64);
	assert_true(n > 8);
	assert_int_equal(sec[0].type, LIBVM__SNAP_MACHINE);
	assert_int_equal(sec[n - 1].type, LIBVM__SNAP_END);
	assert_int_equal(sec[n - 1].at + LIBVM__SNAP_SECTION + 16 + 4, len);

	/* Truncated: at each section's start, inside its header, payload and
	 * checksum; none of it restores. */
	refused(f, 0, &normal, -EBADMSG, "shorter than a header");
	refused(f, 31, &normal, -EBADMSG, "shorter than a header");
	for (size_t i = 0; i < n; i++) {
		size_t cuts[] = { sec[i].at, sec[i].at + 10, sec[i].at + LIBVM__SNAP_SECTION + sec[i].len / 2,
				  sec[i].at + LIBVM__SNAP_SECTION + sec[i].len + 2 };

		for (size_t k = 0; k < 4; k++)
			if (cuts[k] < len && (cuts[k] > LIBVM__SNAP_HEADER || k))
				refused(f, cuts[k], &normal, -EBADMSG, "truncated");
	}
	/* A flipped bit in every section's header and payload. */
	for (size_t i = 0; i < n; i++) {
		memcpy(bad, f, len);
		bad[sec[i].at + 3] ^= 0x10;
		refused(bad, len, &normal, -EBADMSG, "wrong checksum");
		if (!sec[i].len)
			continue;
		memcpy(bad, f, len);
		bad[sec[i].at + LIBVM__SNAP_SECTION + sec[i].len / 3] ^= 0x01;
		/* Memory is streamed into place: a damaged record header is
		 * seen before the checksum (the VM still does not start). */
		refused(bad, len, &normal, -EBADMSG,
			sec[i].type == LIBVM__SNAP_RAM ? "corrupted" : "is wrong");
		if (sec[i].type == LIBVM__SNAP_RAM) {
			/* A byte of a page's contents: the checksum. */
			size_t at = sec[i].at + LIBVM__SNAP_SECTION, end = at + sec[i].len;

			while (at < end && (libvm__le64(f + at) & LIBVM__SNAP_RAM_ZERO))
				at += LIBVM__SNAP_RAM_RECORD;
			assert_true(at < end);
			memcpy(bad, f, len);
			bad[at + LIBVM__SNAP_RAM_RECORD + 100] ^= 0x01;
			refused(bad, len, &normal, -EBADMSG, "is wrong");
		}
	}
	/* The file header: magic, checksum, newer format and flags. */
	memcpy(bad, f, len);
	bad[0] = 'X';
	refused(bad, len, &normal, -EBADMSG, "not a libvm snapshot");
	memcpy(bad, f, len);
	bad[20] = 1;
	refused(bad, len, &normal, -EBADMSG, "header's checksum");
	memcpy(bad, f, len);
	bad[8] = 2;
	fix_header_crc(bad);
	refused(bad, len, &normal, -ENOTSUP, "format version 2, newer");
	memcpy(bad, f, len);
	bad[12] = 0x80;
	fix_header_crc(bad);
	refused(bad, len, &normal, -ENOTSUP, "header flags");

	for (size_t i = 0; i < n; i++) {
		uint8_t *h;

		memcpy(bad, f, len);
		h = bad + sec[i].at;
		/* A newer payload version of each section (the end has none). */
		if (sec[i].type != LIBVM__SNAP_END && sec[i].type != LIBVM__SNAP_APP &&
		    sec[i].type != LIBVM__SNAP_DEVICE) {
			h[8] = 9;
			fix_header_crc(h);
			refused(bad, len, &normal, -ENOTSUP, "version 9");
		}
		/* An unknown section type in its place. */
		memcpy(bad, f, len);
		h[0] = 99;
		fix_header_crc(h);
		refused(bad, len, &normal, sec[i].type == LIBVM__SNAP_MACHINE ? -EBADMSG : -ENOTSUP,
			sec[i].type == LIBVM__SNAP_MACHINE ? "starts with" : "type 99");
		/* Reserved header fields must be zero. */
		memcpy(bad, f, len);
		h[12] = 1;
		fix_header_crc(h);
		refused(bad, len, &normal, -EBADMSG, "reserved");
	}
	/* A section twice, or left out (the end's counts then disagree). */
	for (size_t i = 1; i < n - 1; i++) {
		size_t slen = LIBVM__SNAP_SECTION + sec[i].len + 4;

		if (sec[i].type == LIBVM__SNAP_RAM)
			continue; /* pages may come twice (migration rounds) */
		memcpy(bad, f, sec[i].at + slen);
		memcpy(bad + sec[i].at + slen, f + sec[i].at, len - sec[i].at);
		refused(bad, len + slen, &normal, -EBADMSG,
			sec[i].type == LIBVM__SNAP_APP ? "second 'app'" :
			sec[i].type == LIBVM__SNAP_VM ? "two VM" : "twice");
		memcpy(bad, f, sec[i].at);
		memcpy(bad + sec[i].at, f + sec[i].at + slen, len - sec[i].at - slen);
		refused(bad, len - slen, &normal, -EBADMSG, "end counts");
		/* ... and with the end's count made to agree: what is missing
		 * is named (the app's bytes are optional). */
		if (sec[i].type != LIBVM__SNAP_APP) {
			struct section end = sec[n - 1];
			uint64_t count;

			end.at -= slen;
			memcpy(&count, bad + end.at + LIBVM__SNAP_SECTION, 8);
			count--;
			memcpy(bad + end.at + LIBVM__SNAP_SECTION, &count, 8);
			fix_payload_crc(bad, &end);
			refused(bad, len - slen, &normal, -EBADMSG, "has no");
		}
	}
	/* Memory outside the VM: a RAM record moved past the regions. */
	for (size_t i = 0; i < n; i++) {
		uint64_t gpa;

		if (sec[i].type != LIBVM__SNAP_RAM)
			continue;
		memcpy(bad, f, len);
		memcpy(&gpa, bad + sec[i].at + LIBVM__SNAP_SECTION, 8);
		gpa = (gpa & 1) | 0x40000000;
		memcpy(bad + sec[i].at + LIBVM__SNAP_SECTION, &gpa, 8);
		fix_payload_crc(bad, &sec[i]);
		refused(bad, len, &normal, -EINVAL, "outside this VM's regions");
		memcpy(bad, f, len);
		bad[sec[i].at + LIBVM__SNAP_SECTION + 8] = 0; /* 0 pages */
		bad[sec[i].at + LIBVM__SNAP_SECTION + 9] = 0;
		fix_payload_crc(bad, &sec[i]);
		refused(bad, len, &normal, -EBADMSG, "bad fields");
		break;
	}
	/* The end's counts. */
	memcpy(bad, f, len);
	bad[sec[n - 1].at + LIBVM__SNAP_SECTION] ^= 1;
	fix_payload_crc(bad, &sec[n - 1]);
	refused(bad, len, &normal, -EBADMSG, "end counts");
	/* Bytes after the end are not read, but a file without its end is
	 * truncated whatever else it has. */
	refused(f, sec[n - 1].at, &normal, -EBADMSG, "truncated");

	/* Machines that differ. */
	sh = normal;
	sh.low = 2 * LOW;
	refused(f, len, &sh, -EINVAL, "memory region 0");
	sh = normal;
	sh.vcpus = 1;
	refused(f, len, &sh, -EINVAL, "2 vCPUs in the snapshot, 1 here");
	sh = normal;
	sh.cpuid_other = true;
	refused(f, len, &sh, -EINVAL, "CPUID");
	sh = normal;
	sh.uart = false;
	refused(f, len, &sh, -EINVAL, "uart@0x3f8");
	sh = normal;
	sh.irqchip = false;
	refused(f, len, &sh, -EINVAL, "irqchip");

	/* And the file itself is still good. */
	refused(f, len, &normal, 0, "");
	free(bad);
	free(f);
	libvm_vm_destroy(a);
}

/* --- the dirty log ---------------------------------------------------- */

static void test_dirty_log(void **state)
{
	libvm_vm *vm = fakevm_new(NULL);
	libvm_region *low = fakevm_ram(vm, 0, LOW, "low");
	uint64_t bm[4] = { 0 };

	(void)state;
	assert_int_equal(libvm_has(vm, LIBVM_CAP_DIRTY_LOG), 1);
	assert_int_equal(libvm_has(vm, LIBVM_CAP_DIRTY_LOG_CLEAR), 1);
	assert_int_equal(libvm_region_dirty_log(low, bm, 4), -EINVAL);
	assert_int_equal(libvm_vm_dirty_log_start(vm), 0);
	libvm__fake_dirty(vm, 0x3000, 1);
	libvm__fake_dirty(vm, 0xfe000, 0x3000); /* two pages, the rest outside */
	assert_int_equal(libvm_mem_write(vm, 0x41fff, "ab", 2), 0);
	assert_int_equal(libvm_region_dirty_log(low, bm, 4), 5);
	assert_int_equal(bm[0], 1ull << 3);
	assert_int_equal(bm[1], 3ull << 1);                      /* 0x41, 0x42 */
	assert_int_equal(bm[3], 3ull << 62);                     /* 0xfe, 0xff */
	/* Fetched: cleared (by KVM_CLEAR_DIRTY_LOG, manual protection). */
	assert_int_equal(libvm_region_dirty_log(low, bm, 4), 0);
	assert_true(libvm__fake_vm(vm)->manual_protect);
	/* Without the backend's dirty log: -ENOTSUP and nothing changes. */
	libvm_vm_destroy(vm);
	vm = fakevm_new("dirty_log=0");
	low = fakevm_ram(vm, 0, LOW, "low");
	assert_int_equal(libvm_has(vm, LIBVM_CAP_DIRTY_LOG), 0);
	assert_int_equal(libvm_vm_dirty_log_start(vm), -ENOTSUP);
	assert_int_equal(libvm_region_dirty_log(low, bm, 4), -EINVAL);
	libvm_vm_destroy(vm);
}

/* --- live migration between two fake VMs ------------------------------- */

struct dirtier {
	libvm_vm *vm;
	pthread_t t;
	volatile bool stop;
	uint32_t gen;
};

/* A "guest": rewrites pages of memory and tells the log, as the backend
 * would for a guest's writes. */
static void *dirtier_main(void *arg)
{
	struct dirtier *d = arg;
	uint8_t *low = libvm_region_volatile_ptr(d->vm->regions.v[0].item);

	while (!d->stop) {
		for (uint32_t p = 0; p < LOW / 4096; p += 7) {
			uint32_t v = ++d->gen;

			memcpy(low + (uint64_t)p * 4096 + (v % 1000) * 4, &v, 4);
			libvm__fake_dirty(d->vm, (uint64_t)p * 4096, 1);
		}
	}
	return NULL;
}

static int pause_dirtier(void *opaque)
{
	struct dirtier *d = opaque;

	d->stop = true;
	pthread_join(d->t, NULL);
	return 0;
}

struct receiver {
	int fd, err;
	libvm_vm *vm;
};

static void *receive_main(void *arg)
{
	struct receiver *r = arg;
	libvm_snapshot *s;

	r->err = libvm_snapshot_open(&s, r->fd);
	if (r->err)
		return NULL;
	r->vm = build(&normal);
	r->err = libvm_snapshot_restore(s, r->vm);
	libvm_snapshot_ack(s, r->err);
	libvm_snapshot_close(s);
	return NULL;
}

static void test_migration(void **state)
{
	libvm_migrate_options mo = LIBVM_MIGRATE_OPTIONS_INIT;
	libvm_migrate_stats st = { 0 };
	struct dirtier d = { .vm = build(&normal) };
	struct receiver r = { 0 };
	pthread_t rt;
	int sv[2];

	(void)state;
	set_state(d.vm);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	r.fd = sv[1];
	assert_int_equal(pthread_create(&rt, NULL, receive_main, &r), 0);
	assert_int_equal(pthread_create(&d.t, NULL, dirtier_main, &d), 0);
	mo.pause = pause_dirtier;
	mo.opaque = &d;
	mo.stats = &st;
	mo.max_rounds = 5;
	assert_int_equal(libvm_migrate_send(d.vm, sv[0], &mo), 0);
	pthread_join(rt, NULL);
	assert_int_equal(r.err, 0);
	assert_true(st.rounds >= 1 && st.pages > LOW / 4096 && st.downtime_ns <= st.total_ns);
	/* The receiver has every write made before the pause, and the state. */
	check_same(d.vm, r.vm);
	libvm_vm_destroy(r.vm);
	libvm_vm_destroy(d.vm);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_dirty_log),
		cmocka_unit_test(test_migration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
