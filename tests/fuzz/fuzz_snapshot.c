/* SPDX-License-Identifier: MIT */
/*
 * The snapshot reader (libvm/snapshot/, docs/snapshot.md "The stream"):
 * libvm_snapshot_open(), the query calls and libvm_snapshot_restore() into
 * a VM on the fake backend built as a PC-like machine is: two vCPUs, the
 * irqchip with its PIT, UART, RTC, i8042, fw_cfg, port 0x80, PM timer, ACPI
 * PM and a PCI bus with a virtio-rng, over three memory regions (RAM at 0,
 * RAM above 4 GiB, a read-only region) that the harness maps itself with
 * inaccessible guard pages around each: a write past a region is a crash.
 *
 * Every section of the stream carries a CRC-32 that a fuzzer cannot forge,
 * so most inputs are not the stream itself but a program that writes one
 * with correct checksums (first byte, the mode):
 *
 *   mode % 8 == 0  the rest of the input is the stream, as is;
 *   mode % 8 == 1  a real save of this same VM (made once, the "canonical"
 *                  stream), cut short or with one byte changed;
 *   mode % 8 == 2  a round trip: the input drives the devices' ports and
 *                  writes memory, the VM is saved and restored into a
 *                  fresh one, which must succeed with the same memory;
 *   otherwise      a generated stream: header fields, then sections, each
 *                  one of the canonical stream's (with bytes patched or its
 *                  length changed), one with a fuzzed type, id, version and
 *                  payload, memory records with synthetic pages, or an end
 *                  section with the right counts (generate_stream()).
 *
 * Invariants: a refused open or restore returns one of the documented
 * errors (-EBADMSG, -ENOTSUP, -EINVAL, -ENOMEM); the canonical stream and
 * any round trip restore with 0, into the same memory; a canonical stream
 * cut short is refused with -EBADMSG and one with a byte changed with
 * -EBADMSG or -EINVAL (a changed memory address is seen before its
 * section's checksum); a generated stream that restores starts with its
 * machine section, has one VM section and an end with the right counts
 * before anything else, and left memory as its memory records say; the
 * query calls agree with the machine section; memory writes stay inside
 * the regions (guard pages); nothing leaks (LeakSanitizer).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include "fuzz.h"
#include "fakevm.h"

#include <libvm/devices.h>
#include <libvm/pci.h>
#include <libvm/snapshot.h>
#include <libvm/virtio.h>

#include "snapshot/stream.h"

#define PG 4096u
#define LOW_LEN (256u << 10)
#define HIGH_GPA 0x100000000ull
#define HIGH_LEN (64u << 10)
#define ROM_GPA 0xfffe0000ull
#define ROM_LEN (64u << 10)
#define NVCPUS 2

static const struct {
	uint64_t gpa;
	uint32_t len, flags;
} regions[3] = {
	{ 0, LOW_LEN, 0 },
	{ ROM_GPA, ROM_LEN, LIBVM_REGION_READONLY },
	{ HIGH_GPA, HIGH_LEN, 0 },
};

/* Host memory of the regions: one mapping, a PROT_NONE page before and
 * after each region. */
static uint8_t *host[3];
static uint8_t *shadow[3]; /* what a generated stream's records leave */

static void setup_memory(void)
{
	size_t total = PG;
	uint8_t *p;

	for (int i = 0; i < 3; i++)
		total += regions[i].len + PG;
	p = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		abort();
	p += PG;
	for (int i = 0; i < 3; i++) {
		if (mprotect(p, regions[i].len, PROT_READ | PROT_WRITE))
			abort();
		host[i] = p;
		/* Not malloc'ed: LeakSanitizer would scan it at every leak check. */
		shadow[i] = fm_reserve(regions[i].len);
		p += regions[i].len + PG;
	}
}

/* Ports of the devices, for the round trip's guest: base, span. */
static const struct {
	uint16_t base, span;
} ports[] = {
	{ 0x3f8, 8 }, { 0x510, 2 }, { 0x60, 5 }, { 0x70, 2 }, { 0x80, 1 },
	{ 0x608, 4 }, { 0x600, 6 }, { 0xcf8, 8 }, { 0x40, 4 }, { 0x20, 2 },
};

struct machine {
	libvm_vm *vm;
	libvm_vcpu *vcpu[NVCPUS];
	libvm_uart *uart;
};

static void build(struct machine *m)
{
	libvm_fwcfg_options fo = LIBVM_FWCFG_OPTIONS_INIT;
	libvm_rtc_options ro = LIBVM_RTC_OPTIONS_INIT;
	libvm_fwcfg *fw;
	libvm_i8042 *kbd;
	libvm_rtc *rtc;
	libvm_port80 *p80;
	libvm_pmtimer *pmt;
	libvm_acpipm *pm;
	libvm_pci_bus *bus;
	libvm_virtio_rng *rng;
	int err = 0;

	m->vm = fakevm_new(NULL);
	for (int i = 0; i < 3; i++) {
		libvm_region_options o = LIBVM_REGION_OPTIONS_INIT;

		memset(host[i], 0, regions[i].len);
		o.gpa = regions[i].gpa;
		o.length = regions[i].len;
		o.flags = regions[i].flags;
		o.host_addr = host[i];
		o.name = i == 0 ? "low" : i == 1 ? "rom" : "high";
		if (libvm_region_map(NULL, m->vm, &o))
			fuzz_fail("mapping region %d: %s", i, libvm_error_message());
	}
	if (libvm_irqchip_create(m->vm, LIBVM_IRQCHIP_PIT))
		fuzz_fail("irqchip: %s", libvm_error_message());
	for (uint32_t i = 0; i < NVCPUS; i++)
		m->vcpu[i] = fakevm_vcpu(m->vm, i);
	/*
	 * A periodic PIT channel 0: a spent one-shot (the fake's zeroed PIT
	 * reads as one) makes a restore wait up to 20 ms for an edge the fake
	 * never raises. Inputs that set the VM record's bit still reach it.
	 */
	libvm__fake_vm(m->vm)->pit_state.channels[0].mode = 2;
	libvm__fake_vm(m->vm)->pit_state.channels[0].count = 1000;
	fo.nb_cpus = NVCPUS;
	fo.ram_size = LOW_LEN;
	ro.ram_size = LOW_LEN;
	err |= libvm_uart_attach(&m->uart, m->vm, NULL);
	err |= libvm_rtc_attach(&rtc, m->vm, &ro);
	err |= libvm_i8042_attach(&kbd, m->vm, NULL);
	err |= libvm_fwcfg_attach(&fw, m->vm, &fo);
	err |= libvm_port80_attach(&p80, m->vm, NULL);
	err |= libvm_pmtimer_attach(&pmt, m->vm, NULL);
	err |= libvm_acpipm_attach(&pm, m->vm, NULL);
	err |= libvm_pci_bus_attach(&bus, m->vm, NULL);
	if (!err)
		err = libvm_virtio_rng_attach(&rng, bus, NULL);
	if (err)
		fuzz_fail("attaching the devices failed: %s", libvm_error_message());
}

/* --- streams in memory ------------------------------------------------ */

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void buf_put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			abort();
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint32_t crc(const void *p, size_t n)
{
	return (uint32_t)crc32(0, p, (uInt)n);
}

static void put_header(struct buf *b, uint32_t format, uint32_t flags, uint32_t writer,
		       uint64_t reserved)
{
	uint8_t h[LIBVM__SNAP_HEADER] = { 0 };

	memcpy(h, LIBVM__SNAP_MAGIC, 8);
	put32(h + 8, format);
	put32(h + 12, flags);
	put32(h + 16, writer);
	put64(h + 20, reserved);
	put32(h + 28, crc(h, 28));
	buf_put(b, h, sizeof(h));
}

static void put_section(struct buf *b, uint32_t type, uint32_t id, uint32_t version,
			const void *p, size_t n, uint32_t reserved)
{
	uint8_t h[LIBVM__SNAP_SECTION] = { 0 }, t[4];

	put32(h, type);
	put32(h + 4, id);
	put32(h + 8, version);
	put32(h + 12, reserved);
	put64(h + 16, n);
	put32(h + 28, crc(h, 28));
	buf_put(b, h, sizeof(h));
	buf_put(b, p, n);
	put32(t, crc(p, n));
	buf_put(b, t, 4);
}

/* The canonical stream, and its sections (pointers into it). */
static struct buf canon;
static struct csec {
	uint32_t type, id, version;
	const uint8_t *payload;
	size_t len;
} csec[64];
static unsigned ncsec;

/* Memory a stream writes: a page pattern of the page's address and a seed. */
static void fill_page(uint8_t *pg, uint64_t gpa, uint8_t seed)
{
	for (unsigned i = 0; i < PG; i += 8)
		put64(pg + i, (gpa + i) * 0x9e3779b97f4a7c15ull + seed);
}

static void set_canonical_state(struct machine *m)
{
	libvm_regs r = { .rip = 0xfff0, .rflags = 2, .rax = 0x1234 };
	uint8_t page[PG];

	for (int i = 0; i < NVCPUS; i++) {
		r.rbx = (uint64_t)i;
		if (libvm_vcpu_set_regs(m->vcpu[i], &r))
			fuzz_fail("set_regs: %s", libvm_error_message());
	}
	fill_page(page, 0x7000, 1);
	libvm_mem_write(m->vm, 0x7000, page, PG);
	libvm_mem_write(m->vm, LOW_LEN - PG, page, PG);
	libvm_mem_write(m->vm, HIGH_GPA + 0x3000, page, 100);
	memcpy(host[1] + ROM_LEN - PG, page, PG); /* the ROM's contents */
	libvm_uart_input(m->uart, (const uint8_t *)"snap", 4);
}

/* @n bytes of @p in a file opened for reading only, as vmrun --restore
 * opens a snapshot. */
static int memfd_of(const uint8_t *p, size_t n)
{
	int fd = memfd_create("fuzz-snapshot", MFD_CLOEXEC), ro;
	char path[64];

	if (fd < 0)
		abort();
	if (n && write(fd, p, n) != (ssize_t)n)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	if (ro < 0)
		abort();
	close(fd);
	return ro;
}

/* Save @m's VM into @b. */
static void save(struct machine *m, struct buf *b, const void *app, size_t app_len)
{
	libvm_snapshot_options o = LIBVM_SNAPSHOT_OPTIONS_INIT;
	int fd = memfd_create("fuzz-snapshot-save", MFD_CLOEXEC);
	off_t n;
	int err;

	if (fd < 0)
		abort();
	o.app_data = app;
	o.app_data_len = app_len;
	if ((err = libvm_snapshot_save(m->vm, fd, &o)))
		fuzz_fail("saving the fake VM: %d %s", err, libvm_error_message());
	n = lseek(fd, 0, SEEK_END);
	b->len = 0;
	buf_put(b, NULL, 0);
	if (n > 0) {
		uint8_t *tmp = malloc((size_t)n);

		if (!tmp || pread(fd, tmp, (size_t)n, 0) != n)
			abort();
		buf_put(b, tmp, (size_t)n);
		free(tmp);
	}
	close(fd);
}

static void setup_once(void)
{
	struct machine m;
	size_t at = LIBVM__SNAP_HEADER;

	setup_memory();
	build(&m);
	set_canonical_state(&m);
	save(&m, &canon, "fuzz-app", 8);
	libvm_vm_destroy(m.vm);
	while (at + LIBVM__SNAP_SECTION <= canon.len && ncsec < 64) {
		struct csec *c = &csec[ncsec++];

		c->type = get32(canon.p + at);
		c->id = get32(canon.p + at + 4);
		c->version = get32(canon.p + at + 8);
		c->len = (size_t)get64(canon.p + at + 16);
		c->payload = canon.p + at + LIBVM__SNAP_SECTION;
		at += LIBVM__SNAP_SECTION + c->len + 4;
	}
	if (at != canon.len || csec[ncsec - 1].type != LIBVM__SNAP_END)
		fuzz_fail("the canonical stream does not parse (%zu of %zu bytes)", at, canon.len);
	if (getenv("FUZZ_VERBOSE")) {
		fprintf(stderr, "canonical snapshot: %zu bytes, %u sections:", canon.len, ncsec);
		for (unsigned i = 0; i < ncsec; i++)
			fprintf(stderr, " %s", libvm__snap_section_name(csec[i].type));
		fprintf(stderr, "\n");
	}
	/* make-seeds.py takes the canonical stream from here for the raw seeds. */
	if (getenv("FUZZ_SNAPSHOT_DUMP")) {
		FILE *out = fopen(getenv("FUZZ_SNAPSHOT_DUMP"), "wb");

		if (!out || fwrite(canon.p, 1, canon.len, out) != canon.len || fclose(out))
			fuzz_fail("writing %s failed", getenv("FUZZ_SNAPSHOT_DUMP"));
	}
}

/* --- checks ------------------------------------------------------------ */

static bool documented(int err)
{
	return err == -EBADMSG || err == -ENOTSUP || err == -EINVAL || err == -ENOMEM;
}

/* The query calls on an open snapshot agree with each other. */
static void query(libvm_snapshot *s)
{
	libvm_mem_range r[8];
	uint32_t n = 0, k;
	size_t app_len = 1;
	const void *app = libvm_snapshot_app_data(s, &app_len);
	int err;

	if (!app != !app_len)
		fuzz_fail("app data %p with length %zu", app, app_len);
	if (app_len > (16u << 20))
		fuzz_fail("app data of %zu bytes", app_len);
	if ((err = libvm_snapshot_memory_map(s, NULL, &n)))
		fuzz_fail("memory_map count: %d", err);
	k = 8;
	err = libvm_snapshot_memory_map(s, r, &k);
	if (n > 8 ? err != -E2BIG || k != n : err || k != n)
		fuzz_fail("memory_map: %d, %u entries of %u", err, k, n);
	if (libvm_snapshot_nr_vcpus(s) > 4096)
		fuzz_fail("%u vCPUs", libvm_snapshot_nr_vcpus(s));
}

static int region_of(uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < 3; i++)
		if (gpa >= regions[i].gpa && len <= regions[i].len &&
		    gpa - regions[i].gpa <= regions[i].len - len)
			return i;
	return -1;
}

/*
 * Open and restore @len bytes of @p into a fresh machine. Returns the
 * error of the first call that failed (0: restored); *@opened says
 * whether the open succeeded. The VM is destroyed unless @keep.
 */
static int restore(const uint8_t *p, size_t len, bool *opened, struct machine *keep)
{
	struct machine m;
	libvm_snapshot *s = NULL;
	int fd = memfd_of(p, len);
	int err = libvm_snapshot_open(&s, fd);

	*opened = !err;
	if (err) {
		if (!documented(err) || s)
			fuzz_fail("open refused with %d (%s), handle %p", err, libvm_error_message(),
				  (void *)s);
		close(fd);
		return err;
	}
	query(s);
	build(&m);
	err = libvm_snapshot_restore(s, m.vm);
	if (err && !documented(err))
		fuzz_fail("restore refused with %d: %s", err, libvm_error_message());
	if (libvm_snapshot_restore(s, m.vm) != -EALREADY)
		fuzz_fail("a second restore of the same handle was not refused");
	libvm_snapshot_close(s);
	close(fd);
	if (keep && !err)
		*keep = m;
	else
		libvm_vm_destroy(m.vm);
	return err;
}

/* --- the modes ---------------------------------------------------------- */

static void mode_canonical(struct fin *f)
{
	uint8_t how = fin_u8(f);
	size_t at = (size_t)fin_u32(f) % (canon.len + 1);
	uint8_t x = fin_u8(f);
	struct machine m;
	bool opened;
	int err;

	if ((how & 3) == 0) { /* as saved */
		if ((err = restore(canon.p, canon.len, &opened, &m)))
			fuzz_fail("the canonical snapshot does not restore: %d %s", err,
				  libvm_error_message());
		for (int i = 0; i < 3; i++) {
			uint8_t page[PG];

			fill_page(page, 0x7000, 1);
			if (i == 0 && (memcmp(host[0] + 0x7000, page, PG) ||
				       memcmp(host[0] + LOW_LEN - PG, page, PG)))
				fuzz_fail("restored low memory differs");
			if (i == 1 && memcmp(host[1] + ROM_LEN - PG, page, PG))
				fuzz_fail("restored ROM differs");
			if (i == 2 && memcmp(host[2] + 0x3000, page, 100))
				fuzz_fail("restored high memory differs");
		}
		libvm_vm_destroy(m.vm);
	} else if ((how & 3) == 1) { /* cut short */
		if (at == canon.len)
			at--;
		err = restore(canon.p, at, &opened, NULL);
		if (err != -EBADMSG)
			fuzz_fail("the canonical snapshot cut at byte %zu of %zu: %d (%s), not -EBADMSG",
				  at, canon.len, err, libvm_error_message());
	} else { /* a byte changed */
		uint8_t *copy = malloc(canon.len);

		if (!copy)
			abort();
		memcpy(copy, canon.p, canon.len);
		if (at == canon.len)
			at--;
		copy[at] ^= x ? x : 0x80;
		err = restore(copy, canon.len, &opened, NULL);
		free(copy);
		if (err != -EBADMSG && err != -EINVAL)
			fuzz_fail("the canonical snapshot with byte %zu of %zu changed: %d (%s)", at,
				  canon.len, err, libvm_error_message());
	}
}

static void mode_roundtrip(struct fin *f)
{
	static const uint32_t lens[4] = { 1, 2, 4, 4 };
	struct machine a, b;
	struct buf s1 = { 0 };
	unsigned steps = 0;
	size_t app_len;
	const uint8_t *app = fin_take(f, fin_u8(f), &app_len);
	bool opened;
	int err;

	build(&a);
	while (f->n && steps++ < 256) {
		uint8_t op = fin_u8(f);
		uint64_t v = fin_u32(f);

		switch (op & 3) {
		case 0:
		case 1: {
			unsigned k = fin_u8(f) % (sizeof(ports) / sizeof(ports[0]));
			uint16_t port = (uint16_t)(ports[k].base + fin_u8(f) % ports[k].span);

			a.vcpu[0]->end_reason = 0;
			libvm__iobus_dispatch(a.vm, LIBVM_SPACE_PIO, a.vcpu[0], port, &v,
					      lens[(op >> 2) & 3], op & 0x80);
			break;
		}
		case 2: { /* memory */
			uint8_t page[PG];
			int r = fin_u8(f) % 3;
			uint64_t off = (uint64_t)fin_u16(f) * PG % regions[r].len;

			fill_page(page, off, (uint8_t)v);
			memcpy(host[r] + off, page, PG);
			break;
		}
		default:
			libvm_uart_input(a.uart, (const uint8_t *)&v, 1 + (op >> 6));
			break;
		}
	}
	save(&a, &s1, app, app_len);
	for (int i = 0; i < 3; i++)
		memcpy(shadow[i], host[i], regions[i].len);
	/* Host memory is shared by both machines: b's build zeroes it. */
	err = restore(s1.p, s1.len, &opened, &b);
	if (err)
		fuzz_fail("a fresh save of the fake VM does not restore: %d %s", err,
			  libvm_error_message());
	for (int i = 0; i < 3; i++)
		if (memcmp(shadow[i], host[i], regions[i].len))
			fuzz_fail("region %d differs after the round trip", i);
	libvm_vm_destroy(b.vm);
	/* a's memory was b's: a is only destroyed. */
	libvm_vm_destroy(a.vm);
	free(s1.p);
}

/* What a generated stream holds, for the checks after a restore. */
struct gsec {
	uint32_t type;
	size_t at, len; /* of the payload in the stream */
};

static void gen_ram(struct fin *f, struct buf *pl)
{
	unsigned nrec = 1 + fin_u8(f) % 4;

	for (unsigned i = 0; i < nrec; i++) {
		uint8_t rec[LIBVM__SNAP_RAM_RECORD] = { 0 };
		uint8_t how = fin_u8(f);
		int r = how % 4 == 3 ? -1 : how % 3;
		uint64_t gpa = r < 0 ? (uint64_t)fin_u32(f) << 12 :
				       regions[r].gpa + (uint64_t)fin_u16(f) * PG % regions[r].len;
		uint32_t n = how & 0x80 ? fin_u16(f) : 1 + fin_u8(f) % 8;
		bool zero = how & 0x40;

		put64(rec, gpa | (zero ? LIBVM__SNAP_RAM_ZERO : 0) |
			   (how & 0x20 ? fin_u16(f) & (PG - 1) : 0));
		put32(rec + 8, n);
		put32(rec + 12, how & 0x10 ? fin_u32(f) : 0);
		buf_put(pl, rec, sizeof(rec));
		if (!zero) {
			uint8_t page[PG];

			if (n > 64)
				n = 64; /* the rest is missing: the section is corrupt */
			for (uint32_t k = 0; k < n; k++) {
				fill_page(page, gpa + (uint64_t)k * PG, how);
				buf_put(pl, page, PG);
			}
		}
	}
}

/* Replay the memory records of the payload at @p onto the shadow. false:
 * malformed (the reader must have refused it). */
static bool replay_ram(const uint8_t *p, size_t len, uint64_t *pages)
{
	size_t at = 0;

	while (at < len) {
		uint64_t w, gpa, bytes;
		uint32_t n;
		int r;

		if (len - at < LIBVM__SNAP_RAM_RECORD)
			return false;
		w = get64(p + at);
		n = get32(p + at + 8);
		gpa = w & ~(uint64_t)(PG - 1);
		if ((w & (PG - 2)) || get32(p + at + 12) || n == 0 || n > 512)
			return false;
		bytes = (uint64_t)n * PG;
		r = region_of(gpa, bytes);
		if (r < 0)
			return false;
		at += LIBVM__SNAP_RAM_RECORD;
		if (w & 1) {
			memset(shadow[r] + (gpa - regions[r].gpa), 0, bytes);
		} else {
			if (len - at < bytes)
				return false;
			memcpy(shadow[r] + (gpa - regions[r].gpa), p + at, bytes);
			at += bytes;
		}
		*pages += n;
	}
	return true;
}

/*
 * A generated stream restored: it must be well-formed as the format says.
 * @s: the stream, @g its sections.
 */
static void check_generated(const struct buf *s, const struct gsec *g, unsigned n)
{
	unsigned vm = 0, end;
	uint64_t pages = 0;

	for (int i = 0; i < 3; i++)
		memset(shadow[i], 0, regions[i].len);
	if (!n || g[0].type != LIBVM__SNAP_MACHINE)
		fuzz_fail("a stream restored without a machine section first");
	for (end = 0; end < n && g[end].type != LIBVM__SNAP_END; end++) {
		if (g[end].type == LIBVM__SNAP_VM)
			vm++;
		if (g[end].type == LIBVM__SNAP_RAM &&
		    !replay_ram(s->p + g[end].at, g[end].len, &pages))
			fuzz_fail("a stream restored with a malformed memory section (%u)", end);
	}
	if (end == n)
		fuzz_fail("a stream restored without an end section");
	if (vm != 1)
		fuzz_fail("a stream restored with %u VM sections", vm);
	if (g[end].len != 16 || get64(s->p + g[end].at) != end ||
	    get64(s->p + g[end].at + 8) != pages)
		fuzz_fail("a stream restored with wrong end counts (%u sections, %llu pages)", end,
			  (unsigned long long)pages);
	for (int i = 0; i < 3; i++)
		if (memcmp(shadow[i], host[i], regions[i].len))
			fuzz_fail("region %d holds other than the stream's memory records", i);
}

static void mode_generated(struct fin *f)
{
	struct buf s = { 0 }, pl = { 0 };
	struct gsec g[64];
	unsigned n = 0;
	uint8_t hb = fin_u8(f);
	struct machine m;
	bool opened, mig = hb & 0x40;
	int err;

	if (hb & 0x80) {
		uint32_t format = fin_u32(f), flags = fin_u32(f), writer = fin_u32(f);

		put_header(&s, format, flags, writer, fin_u64(f));
	} else
		put_header(&s, 1, mig ? LIBVM__SNAP_FLAG_MIGRATION : 0, 0x10000, 0);
	while (f->n && n < 64) {
		uint8_t op = fin_u8(f);
		uint32_t type, id = 0, version = 1, reserved = 0;

		pl.len = 0;
		switch (op & 3) {
		case 0: /* one of the canonical sections, patched */
		case 1: {
			const struct csec *c = &csec[fin_u8(f) % ncsec];
			unsigned patches = (op >> 2) & 7;

			type = c->type;
			id = c->id;
			version = c->version;
			buf_put(&pl, c->payload, c->len);
			if (op & 0x20) { /* another length */
				size_t want = fin_u16(f) % (c->len + 64);

				while (pl.len < want) {
					uint8_t z = 0;

					buf_put(&pl, &z, 1);
				}
				pl.len = want;
			}
			for (unsigned k = 0; k < patches && pl.len; k++) {
				size_t at = fin_u16(f);

				if (op & 0x40) /* near the end (a device's state) */
					at = pl.len - 1 - at % pl.len;
				pl.p[at % pl.len] ^= fin_u8(f);
			}
			if (op & 0x80) { /* its header's fields */
				id ^= fin_u8(f);
				version ^= fin_u8(f);
			}
			break;
		}
		case 2: /* anything */
			if (op & 4) {
				type = LIBVM__SNAP_RAM;
				gen_ram(f, &pl);
			} else {
				size_t got;
				const uint8_t *p;

				type = op & 8 ? fin_u32(f) : 1 + fin_u8(f) % 8;
				id = fin_u8(f);
				version = op & 0x10 ? fin_u8(f) : 1;
				p = fin_take(f, fin_u16(f) % 1024, &got);
				buf_put(&pl, p, got);
			}
			if (op & 0x20)
				reserved = fin_u8(f);
			break;
		default: { /* an end: right counts unless told otherwise */
			uint8_t end[16];
			uint64_t pages = 0;

			for (unsigned k = 0; k < n; k++) {
				if (g[k].type == LIBVM__SNAP_RAM) {
					/* the count as the records say; bad ones count what
					 * was read before them, not checked here */
					const uint8_t *p = s.p + g[k].at;
					size_t at = 0;

					while (at + 16 <= g[k].len) {
						uint32_t c = get32(p + at + 8);

						pages += c;
						at += 16 + (get64(p + at) & 1 ? 0 : (size_t)c * PG);
					}
				}
			}
			type = LIBVM__SNAP_END;
			put64(end, op & 4 ? n + fin_u8(f) : n);
			put64(end + 8, op & 8 ? pages + fin_u8(f) : pages);
			buf_put(&pl, end, op & 0x10 ? 16 - fin_u8(f) % 16 : 16);
			break;
		}
		}
		g[n].type = type;
		g[n].at = s.len + LIBVM__SNAP_SECTION;
		g[n].len = pl.len;
		n++;
		put_section(&s, type, id, version, pl.p, pl.len, reserved);
	}
	free(pl.p);
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "generated: %zu bytes, %u sections\n", s.len, n);
	err = restore(s.p, s.len, &opened, &m);
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "open %s, restore %d: %s\n", opened ? "ok" : "refused", err,
			err ? libvm_error_message() : "");
	if (!err) {
		check_generated(&s, g, n);
		libvm_vm_destroy(m.vm);
	}
	free(s.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin f = { data, size };
	uint8_t mode;
	bool opened;
	int err;

	if (!canon.p)
		setup_once();
	mode = fin_u8(&f);
	switch (mode % 8) {
	case 0: {
		struct machine m;

		err = restore(f.p, f.n, &opened, &m);
		if (getenv("FUZZ_VERBOSE"))
			fprintf(stderr, "raw: open %s, restore %d: %s\n", opened ? "ok" : "refused",
				err, err ? libvm_error_message() : "");
		if (!err)
			libvm_vm_destroy(m.vm);
		break;
	}
	case 1:
		mode_canonical(&f);
		break;
	case 2:
		mode_roundtrip(&f);
		break;
	default:
		mode_generated(&f);
		break;
	}
	return 0;
}
