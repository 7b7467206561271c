/* SPDX-License-Identifier: MIT */
/*
 * See gdbstub.h. GDB's remote serial protocol (the GDB manual, appendix E
 * "Remote Serial Protocol"), the packets gdb needs for a bare-metal
 * target: ? g G p P m M X c s H T qC qfThreadInfo qsThreadInfo qAttached
 * qSupported QStartNoAckMode Z z D k, and 0x03 (Ctrl-C) while the guest
 * runs. The register layout is the one gdb assumes without a target
 * description: amd64 (rax..r15, rip, eflags, cs..gs, st0-7, the x87
 * control words, xmm0-15, mxcsr) or i386 (eax..edi, eip, eflags, segments,
 * x87, xmm0-7, mxcsr).
 *
 * The guest runs on a runner thread (libvm_vm_run for continue, one vCPU's
 * libvm_vcpu_run for a step) while this thread watches the socket for
 * Ctrl-C or a new connection and stops it with libvm_vm_stop. Breakpoints
 * use the four debug registers first (they need no write to guest memory
 * and work where the host emulates guest kernel code), then INT3s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libvm/debug.h>

#include "gdbstub.h"

#define PACKET_MAX 4096
#define MAX_BREAKPOINTS 64
#define SIGINT_NR 2
#define SIGTRAP_NR 5
#define DR6_BS (1ull << 14)

enum { BP_SW = 0, BP_HW = 1, BP_WRITE = 2, BP_READ = 3, BP_ACCESS = 4 };

struct breakpoint {
	int type;       /* Z0..Z4 */
	uint64_t addr;
	uint32_t len;
	int slot;       /* debug register, or -1 for an INT3 */
	uint64_t gpa;   /* INT3: where it was written */
	uint8_t saved;  /* INT3: the byte it replaced */
};

struct gdbstub {
	libvm_machine *m;
	libvm_vm *vm;
	uint32_t nr_vcpus;
	bool x86_64;
	bool stopped;        /* the guest waits for gdb */
	int listen_fd, fd;   /* fd -1: no gdb attached */
	bool noack;
	char in[PACKET_MAX];
	size_t in_len, in_pos;
	uint32_t g_vcpu, c_vcpu, stop_vcpu;
	char stop_reply[64];
	struct breakpoint bp[MAX_BREAKPOINTS];
	uint32_t nr_bp;
	/* The runner thread and what its run returned. */
	pthread_t runner;
	int wake[2];
	bool step;
	int run_err;
	libvm_exit run_exit;
	uint32_t run_vcpu;
	bool stop_asked;     /* the stop came from us (Ctrl-C, a new gdb) */
	bool just_attached;  /* ...for a new gdb, which asks '?' itself */
};

/* --- the connection ---------------------------------------------------------- */

static int raw_write(struct gdbstub *s, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(s->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The next byte from gdb, -1 at end of file. */
static int next_byte(struct gdbstub *s)
{
	if (s->in_pos == s->in_len) {
		ssize_t n;

		do
			n = read(s->fd, s->in, sizeof(s->in));
		while (n < 0 && errno == EINTR);
		if (n <= 0)
			return -1;
		s->in_len = (size_t)n;
		s->in_pos = 0;
	}
	return (unsigned char)s->in[s->in_pos++];
}

static void disconnect(struct gdbstub *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->in_len = s->in_pos = 0;
	s->noack = false;
}

static int send_packet(struct gdbstub *s, const char *data)
{
	static const char hex[] = "0123456789abcdef";
	size_t len = strlen(data);
	char *buf = malloc(len + 5);
	uint8_t sum = 0;
	int err;

	if (!buf)
		return -1;
	buf[0] = '$';
	for (size_t i = 0; i < len; i++) {
		buf[1 + i] = data[i];
		sum += (uint8_t)data[i];
	}
	buf[1 + len] = '#';
	buf[2 + len] = hex[sum >> 4];
	buf[3 + len] = hex[sum & 15];
	buf[4 + len] = 0;
	for (;;) {
		int c;

		err = raw_write(s, buf, len + 4);
		if (err || s->noack)
			break;
		c = next_byte(s);
		if (c == '+' || c < 0) {
			err = c < 0 ? -1 : 0;
			break;
		}
		/* '-': send again; anything else: assume gdb moved on. */
		if (c != '-')
			break;
	}
	free(buf);
	return err;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The next packet's payload into @buf (NUL-terminated; X's binary data
 * unescaped in place, its length in *@len): 1; 0x03 (Ctrl-C) as 3; 0 at
 * end of file.
 */
static int read_packet(struct gdbstub *s, char *buf, size_t max, size_t *len)
{
	for (;;) {
		int c = next_byte(s), a, b;
		uint8_t sum = 0;
		size_t n = 0;

		if (c < 0)
			return 0;
		if (c == 0x03)
			return 3;
		if (c != '$')
			continue; /* acks and noise */
		while ((c = next_byte(s)) >= 0 && c != '#') {
			sum += (uint8_t)c;
			if (c == '}') {
				c = next_byte(s);
				if (c < 0)
					return 0;
				sum += (uint8_t)c;
				c ^= 0x20;
			}
			if (n + 1 < max)
				buf[n++] = (char)c;
		}
		a = hexval(next_byte(s));
		b = hexval(next_byte(s));
		if (c < 0 || a < 0 || b < 0)
			return 0;
		if (!s->noack) {
			bool ok = (uint8_t)(a << 4 | b) == sum;

			raw_write(s, ok ? "+" : "-", 1);
			if (!ok)
				continue;
		}
		buf[n] = 0;
		*len = n;
		return 1;
	}
}

/* --- registers --------------------------------------------------------------- */

/* Append @n bytes of @v (little-endian) as hex. */
static char *put_hex(char *p, const void *v, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *b = v;

	for (size_t i = 0; i < n; i++) {
		*p++ = hex[b[i] >> 4];
		*p++ = hex[b[i] & 15];
	}
	*p = 0;
	return p;
}

static int get_hex(const char *p, void *v, size_t n)
{
	uint8_t *b = v;

	for (size_t i = 0; i < n; i++) {
		int hi = hexval(p[2 * i]), lo = hi < 0 ? -1 : hexval(p[2 * i + 1]);

		if (lo < 0)
			return -1;
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* The registers in gdb's order, as bytes (the 'g' packet's content). */
struct reg_layout {
	size_t off[64], size[64];
	int n;
	size_t total;
};

static void add_reg(struct reg_layout *l, size_t size)
{
	l->off[l->n] = l->total;
	l->size[l->n++] = size;
	l->total += size;
}

static void layout(const struct gdbstub *s, struct reg_layout *l)
{
	int gprs = s->x86_64 ? 17 : 9; /* with rip/eip */

	memset(l, 0, sizeof(*l));
	for (int i = 0; i < gprs; i++)
		add_reg(l, s->x86_64 ? 8 : 4);
	for (int i = 0; i < 7; i++)   /* eflags, cs ss ds es fs gs */
		add_reg(l, 4);
	for (int i = 0; i < 8; i++)   /* st0..st7 */
		add_reg(l, 10);
	for (int i = 0; i < 8; i++)   /* fctrl fstat ftag fiseg fioff foseg fooff fop */
		add_reg(l, 4);
	for (int i = 0; i < (s->x86_64 ? 16 : 8); i++)
		add_reg(l, 16);
	add_reg(l, 4);                /* mxcsr */
}

static int read_regs(struct gdbstub *s, uint32_t id, uint8_t *buf, struct reg_layout *l)
{
	libvm_vcpu *v = libvm_machine_vcpu(s->m, id);
	libvm_regs r;
	libvm_sregs sr;
	libvm_fpu f;
	int i = 0;

	if (!v || libvm_vcpu_get_regs(v, &r) || libvm_vcpu_get_sregs(v, &sr) ||
	    libvm_vcpu_get_fpu(v, &f))
		return -1;
	layout(s, l);
	memset(buf, 0, l->total);
#define PUT(val)                                                                       \
	do {                                                                           \
		uint64_t v_ = (val);                                                   \
		memcpy(buf + l->off[i], &v_, l->size[i]);                              \
		i++;                                                                   \
	} while (0)
	if (s->x86_64) {
		PUT(r.rax); PUT(r.rbx); PUT(r.rcx); PUT(r.rdx); PUT(r.rsi); PUT(r.rdi);
		PUT(r.rbp); PUT(r.rsp); PUT(r.r8); PUT(r.r9); PUT(r.r10); PUT(r.r11);
		PUT(r.r12); PUT(r.r13); PUT(r.r14); PUT(r.r15);
	} else {
		PUT(r.rax); PUT(r.rcx); PUT(r.rdx); PUT(r.rbx); PUT(r.rsp); PUT(r.rbp);
		PUT(r.rsi); PUT(r.rdi);
	}
	PUT(r.rip);
	PUT(r.rflags);
	PUT(sr.cs.selector); PUT(sr.ss.selector); PUT(sr.ds.selector);
	PUT(sr.es.selector); PUT(sr.fs.selector); PUT(sr.gs.selector);
	for (int k = 0; k < 8; k++, i++)
		memcpy(buf + l->off[i], f.fpr[k], 10);
	PUT(f.fcw);
	PUT(f.fsw);
	{
		/* KVM keeps the abridged tag (one bit a register: in use);
		 * gdb wants two bits a register: 00 valid, 11 empty. */
		uint32_t tag = 0;

		for (int k = 0; k < 8; k++)
			tag |= ((f.ftwx >> k) & 1 ? 0u : 3u) << (2 * k);
		PUT(tag);
	}
	PUT(0);                          /* fiseg */
	PUT((uint32_t)f.last_ip);        /* fioff */
	PUT(0);                          /* foseg */
	PUT((uint32_t)f.last_dp);        /* fooff */
	PUT(f.last_opcode);              /* fop */
	for (int k = 0; k < (s->x86_64 ? 16 : 8); k++, i++)
		memcpy(buf + l->off[i], f.xmm[k], 16);
	PUT(f.mxcsr);
#undef PUT
	return 0;
}

/* Write back what gdb changed: the general registers, RIP and RFLAGS
 * (segments and the FPU are left alone). */
static int write_regs(struct gdbstub *s, uint32_t id, const uint8_t *buf)
{
	libvm_vcpu *v = libvm_machine_vcpu(s->m, id);
	struct reg_layout l;
	libvm_regs r;
	uint64_t val[18] = { 0 };

	if (!v || libvm_vcpu_get_regs(v, &r))
		return -1;
	layout(s, &l);
	for (int i = 0; i < (s->x86_64 ? 18 : 10); i++)
		memcpy(&val[i], buf + l.off[i], l.size[i]);
	if (s->x86_64) {
		uint64_t *dst[] = { &r.rax, &r.rbx, &r.rcx, &r.rdx, &r.rsi, &r.rdi, &r.rbp, &r.rsp,
				    &r.r8, &r.r9, &r.r10, &r.r11, &r.r12, &r.r13, &r.r14, &r.r15,
				    &r.rip, &r.rflags };

		for (int i = 0; i < 18; i++)
			*dst[i] = val[i];
	} else {
		uint64_t *dst[] = { &r.rax, &r.rcx, &r.rdx, &r.rbx, &r.rsp, &r.rbp, &r.rsi,
				    &r.rdi, &r.rip, &r.rflags };

		/* 32-bit gdb sees the low halves only. */
		for (int i = 0; i < 10; i++)
			*dst[i] = (*dst[i] & ~0xffffffffull) | val[i];
	}
	return libvm_vcpu_set_regs(v, &r);
}

/* --- memory, by virtual address ------------------------------------------------ */

/* Copy up to @len bytes at guest-virtual @addr; returns how many. */
static size_t access_memory(struct gdbstub *s, uint64_t addr, void *buf, size_t len, bool write)
{
	libvm_vcpu *v = libvm_machine_vcpu(s->m, s->g_vcpu);
	size_t done = 0;

	while (done < len) {
		libvm_translation t;
		size_t chunk = 4096 - ((addr + done) & 4095);
		int err;

		if (chunk > len - done)
			chunk = len - done;
		if (!v || libvm_vcpu_translate(v, addr + done, &t))
			break;
		err = write ? libvm_mem_write(s->vm, t.gpa, (uint8_t *)buf + done, chunk) :
			      libvm_mem_read(s->vm, t.gpa, (uint8_t *)buf + done, chunk);
		if (err)
			break;
		done += chunk;
	}
	return done;
}

/* --- breakpoints --------------------------------------------------------------- */

/* Debugging state for every vCPU; @step_vcpu single-steps (-1: none). */
static int apply_debug(struct gdbstub *s, int64_t step_vcpu)
{
	libvm_debug_options o = LIBVM_DEBUG_OPTIONS_INIT;
	uint32_t flags = 0;

	/* The debug-register breakpoints take DR0 up, in order; a stop's DR6
	 * bit n names the breakpoint with slot n. */
	for (uint32_t i = 0; i < s->nr_bp; i++) {
		struct breakpoint *b = &s->bp[i];

		if (b->slot < 0) {
			flags |= LIBVM_DEBUG_SW_BREAKPOINTS;
			continue;
		}
		flags |= LIBVM_DEBUG_HW_BREAKPOINTS;
		b->slot = (int)o.nr_hw;
		o.hw[o.nr_hw++] = (libvm_hw_breakpoint){
			.addr = b->addr,
			.type = b->type <= BP_HW ? LIBVM_HW_BREAKPOINT_EXEC :
				b->type == BP_WRITE ? LIBVM_HW_BREAKPOINT_WRITE :
						      LIBVM_HW_BREAKPOINT_ACCESS,
			.len = b->type <= BP_HW ? 1 : b->len,
		};
	}
	for (uint32_t id = 0; id < s->nr_vcpus; id++) {
		libvm_vcpu *v = libvm_machine_vcpu(s->m, id);

		o.flags = flags | ((int64_t)id == step_vcpu ? LIBVM_DEBUG_SINGLESTEP : 0);
		if (libvm_vcpu_set_debug(v, o.flags ? &o : NULL))
			return -1;
	}
	return 0;
}

/* A debug register for a new breakpoint (apply_debug() numbers them), or
 * -1 when the four are taken. */
static int free_slot(const struct gdbstub *s)
{
	int used = 0;

	for (uint32_t i = 0; i < s->nr_bp; i++)
		used += s->bp[i].slot >= 0;
	return used < LIBVM_MAX_HW_BREAKPOINTS ? used : -1;
}

/* Z<type>,<addr>,<kind>: 0 or a gdb error number. */
static int insert_breakpoint(struct gdbstub *s, int type, uint64_t addr, uint32_t len)
{
	struct breakpoint b = { .type = type, .addr = addr, .len = len, .slot = free_slot(s) };

	if (s->nr_bp == MAX_BREAKPOINTS)
		return 28; /* ENOSPC */
	for (uint32_t i = 0; i < s->nr_bp; i++)
		if (s->bp[i].type == type && s->bp[i].addr == addr)
			return 0;
	if (type >= BP_WRITE && (len != 1 && len != 2 && len != 4 && len != 8))
		return 22;
	if (b.slot < 0 && type != BP_SW)
		return 28; /* the four debug registers are taken */
	if (b.slot < 0) {
		libvm_translation t;
		static const uint8_t int3 = 0xcc;

		if (libvm_vcpu_translate(libvm_machine_vcpu(s->m, s->g_vcpu), addr, &t) ||
		    libvm_mem_read(s->vm, t.gpa, &b.saved, 1) ||
		    libvm_mem_write(s->vm, t.gpa, &int3, 1))
			return 14; /* EFAULT */
		b.gpa = t.gpa;
	}
	s->bp[s->nr_bp++] = b;
	return apply_debug(s, -1) ? 22 : 0;
}

static void drop_breakpoint(struct gdbstub *s, uint32_t i)
{
	if (s->bp[i].slot < 0)
		libvm_mem_write(s->vm, s->bp[i].gpa, &s->bp[i].saved, 1);
	s->bp[i] = s->bp[--s->nr_bp];
}

static int remove_breakpoint(struct gdbstub *s, int type, uint64_t addr)
{
	for (uint32_t i = 0; i < s->nr_bp; i++) {
		if (s->bp[i].type == type && s->bp[i].addr == addr) {
			drop_breakpoint(s, i);
			return apply_debug(s, -1) ? 22 : 0;
		}
	}
	return 0;
}

static void remove_all_breakpoints(struct gdbstub *s)
{
	while (s->nr_bp)
		drop_breakpoint(s, 0);
	apply_debug(s, -1);
}

/* --- running ------------------------------------------------------------------ */

static void *runner_main(void *arg)
{
	struct gdbstub *s = arg;
	char done = 1;

	if (s->step) {
		libvm_vcpu *v = libvm_machine_vcpu(s->m, s->c_vcpu);

		/* A port or MMIO access nobody claims returns before the step
		 * traps: complete it (all-ones, as libvm_vm_run does). */
		do
			s->run_err = libvm_vcpu_run(v, &s->run_exit);
		while (!s->run_err && (s->run_exit.reason == LIBVM_EXIT_IO ||
				       s->run_exit.reason == LIBVM_EXIT_MMIO));
		s->run_vcpu = s->c_vcpu;
	} else {
		s->run_err = libvm_vm_run(s->vm, NULL, &s->run_exit, &s->run_vcpu);
	}
	if (write(s->wake[1], &done, 1) < 0)
		perror("vmrun: gdb stub");
	return NULL;
}

static void ask_stop(struct gdbstub *s)
{
	s->stop_asked = true;
	if (s->step)
		libvm_vcpu_stop(libvm_machine_vcpu(s->m, s->c_vcpu));
	else
		libvm_vm_stop(s->vm);
}

/* A new gdb: one at a time (a second waits until the first leaves). */
static void accept_gdb(struct gdbstub *s)
{
	int one = 1;

	s->fd = accept(s->listen_fd, NULL, NULL);
	if (s->fd >= 0) {
		setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		fprintf(stderr, "vmrun: gdb attached\n");
	}
}

/*
 * Let the guest run (all vCPUs, or one step) until it stops: returns 0
 * when it stopped for gdb (s->stop_reply says why), 1 when it ended
 * (the run's error and exit are in s->run_*).
 */
static int run_guest(struct gdbstub *s, bool step)
{
	s->step = step;
	s->stop_asked = false;
	s->just_attached = false;
	if (apply_debug(s, step ? (int64_t)s->c_vcpu : -1) ||
	    pthread_create(&s->runner, NULL, runner_main, s)) {
		s->run_err = -EIO;
		memset(&s->run_exit, 0, sizeof(s->run_exit));
		return 1;
	}
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = s->wake[0], .events = POLLIN },
			{ .fd = s->fd >= 0 ? s->fd : s->listen_fd, .events = POLLIN },
		};
		char c;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN) {
			if (read(s->wake[0], &c, 1) < 0)
				perror("vmrun: gdb stub");
			break;
		}
		if (!(p[1].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (s->fd < 0) {
			accept_gdb(s);
			if (s->fd >= 0) {
				s->just_attached = true;
				ask_stop(s);
			}
			continue;
		}
		if (s->in_pos == s->in_len) {
			ssize_t n = read(s->fd, s->in, sizeof(s->in));

			if (n <= 0) {
				/* gdb went away: the guest runs on, free. */
				fprintf(stderr, "vmrun: gdb detached\n");
				disconnect(s);
				continue;
			}
			s->in_len = (size_t)n;
			s->in_pos = 0;
		}
		while (s->in_pos < s->in_len)
			if (s->in[s->in_pos++] == 0x03)
				ask_stop(s);
	}
	pthread_join(s->runner, NULL);
	s->stop_vcpu = s->run_vcpu;
	s->g_vcpu = s->c_vcpu = s->run_vcpu;
	if (s->run_err)
		return 1;
	if (s->run_exit.reason == LIBVM_EXIT_STOPPED) {
		if (!s->stop_asked)
			return 1; /* stopped by someone else: vmrun's timeout, Ctrl-A x */
		snprintf(s->stop_reply, sizeof(s->stop_reply), "T%02xthread:%x;", SIGINT_NR,
			 s->stop_vcpu + 1);
		return 0;
	}
	if (s->run_exit.reason == LIBVM_EXIT_DEBUG) {
		const char *why = "";
		uint64_t dr6 = s->run_exit.debug.dr6;
		char watch[40] = "";

		if (s->run_exit.debug.exception == 3) {
			why = "swbreak:;";
		} else if (dr6 & 0xf) {
			for (uint32_t i = 0; i < s->nr_bp; i++) {
				const struct breakpoint *b = &s->bp[i];

				if (b->slot < 0 || !(dr6 & (1u << b->slot)))
					continue;
				if (b->type <= BP_HW)
					why = "hwbreak:;";
				else
					snprintf(watch, sizeof(watch), "%s:%" PRIx64 ";",
						 b->type == BP_WRITE ? "watch" :
						 b->type == BP_READ ? "rwatch" : "awatch", b->addr);
			}
		}
		snprintf(s->stop_reply, sizeof(s->stop_reply), "T%02xthread:%x;%s%s", SIGTRAP_NR,
			 s->stop_vcpu + 1, why, watch);
		return 0;
	}
	return 1;
}

/* --- the packets --------------------------------------------------------------- */

/*
 * The target description: only the architecture, so that gdb uses its own
 * default register set for it (the 'g' layout above) whatever file it was
 * given, or none. @args is "offset,length".
 */
static void xfer_target_xml(const struct gdbstub *s, const char *args, char *out, size_t max)
{
	char xml[160];
	unsigned long off = strtoul(args, NULL, 16), len;
	const char *comma = strchr(args, ',');
	size_t n;

	snprintf(xml, sizeof(xml),
		 "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
		 "<target><architecture>%s</architecture></target>",
		 s->x86_64 ? "i386:x86-64" : "i386");
	len = comma ? strtoul(comma + 1, NULL, 16) : 0;
	n = strlen(xml);
	if (off >= n) {
		snprintf(out, max, "l");
		return;
	}
	if (len > n - off)
		len = n - off;
	if (len > max - 2)
		len = max - 2;
	snprintf(out, max, "%c%.*s", off + len < n ? 'm' : 'l', (int)len, xml + off);
}

enum { SERVE_CONTINUE, SERVE_STEP, SERVE_KILL, SERVE_GONE };

static bool thread_ok(const struct gdbstub *s, long tid)
{
	return tid >= 1 && (uint32_t)tid <= s->nr_vcpus;
}

/* Serve gdb while the guest is stopped, until it resumes it. */
static int serve(struct gdbstub *s)
{
	static char pkt[PACKET_MAX], out[PACKET_MAX * 2 + 16];

	for (;;) {
		size_t len = 0;
		int r = read_packet(s, pkt, sizeof(pkt), &len);
		char *p = pkt + 1;

		if (r == 0)
			return SERVE_GONE;
		if (r == 3)
			continue; /* Ctrl-C while stopped: nothing to do */
		out[0] = 0;
		switch (pkt[0]) {
		case '?':
			snprintf(out, sizeof(out), "%s", s->stop_reply);
			break;
		case 'g': {
			uint8_t regs[1024];
			struct reg_layout l;

			if (read_regs(s, s->g_vcpu, regs, &l))
				strcpy(out, "E01");
			else
				put_hex(out, regs, l.total);
			break;
		}
		case 'G': {
			uint8_t regs[1024] = { 0 };
			struct reg_layout l;

			layout(s, &l);
			if (strlen(p) < 2 * l.off[s->x86_64 ? 18 : 10] ||
			    get_hex(p, regs, l.off[s->x86_64 ? 18 : 10]) ||
			    write_regs(s, s->g_vcpu, regs))
				strcpy(out, "E01");
			else
				strcpy(out, "OK");
			break;
		}
		case 'p': {
			uint8_t regs[1024];
			struct reg_layout l;
			unsigned long n = strtoul(p, NULL, 16);

			/* A register beyond the layout: "not supported", so
			 * gdb reads them all with 'g' instead. */
			if (read_regs(s, s->g_vcpu, regs, &l))
				strcpy(out, "E01");
			else if (n < (unsigned long)l.n)
				put_hex(out, regs + l.off[n], l.size[n]);
			break;
		}
		case 'P': {
			uint8_t regs[1024];
			struct reg_layout l;
			char *eq;
			unsigned long n = strtoul(p, &eq, 16);

			if (*eq != '=' || read_regs(s, s->g_vcpu, regs, &l) ||
			    n >= (unsigned long)l.n || get_hex(eq + 1, regs + l.off[n], l.size[n]))
				strcpy(out, "E01");
			else if (n <= (s->x86_64 ? 17u : 9u) && write_regs(s, s->g_vcpu, regs))
				strcpy(out, "E01");
			else
				strcpy(out, "OK"); /* segments and the FPU: accepted, kept */
			break;
		}
		case 'm': {
			char *comma;
			uint64_t addr = strtoull(p, &comma, 16);
			size_t n = strtoul(comma + 1, NULL, 16), got;
			uint8_t buf[PACKET_MAX / 2];

			if (n > sizeof(buf))
				n = sizeof(buf);
			got = access_memory(s, addr, buf, n, false);
			if (!got && n)
				strcpy(out, "E0e");
			else
				put_hex(out, buf, got);
			break;
		}
		case 'M':
		case 'X': {
			char *comma, *colon;
			uint64_t addr = strtoull(p, &comma, 16);
			size_t n = strtoul(comma + 1, &colon, 16);
			uint8_t buf[PACKET_MAX];
			const uint8_t *data = buf;

			if (*colon != ':' || n > sizeof(buf) / 2) {
				strcpy(out, "E16");
				break;
			}
			if (pkt[0] == 'X')
				data = (const uint8_t *)colon + 1;
			else if (get_hex(colon + 1, buf, n)) {
				strcpy(out, "E16");
				break;
			}
			if (pkt[0] == 'X' && (size_t)(colon + 1 - pkt) + n > len) {
				strcpy(out, "E16");
				break;
			}
			strcpy(out, access_memory(s, addr, (void *)data, n, true) == n ? "OK" : "E0e");
			break;
		}
		case 'c':
		case 's':
			if (*p) {
				libvm_vcpu *v = libvm_machine_vcpu(s->m, s->c_vcpu);
				libvm_regs regs;

				if (!libvm_vcpu_get_regs(v, &regs)) {
					regs.rip = strtoull(p, NULL, 16);
					libvm_vcpu_set_regs(v, &regs);
				}
			}
			return pkt[0] == 'c' ? SERVE_CONTINUE : SERVE_STEP;
		case 'H': {
			long tid = strtol(p + 1, NULL, 16);

			if (tid > 0 && !thread_ok(s, tid)) {
				strcpy(out, "E01");
				break;
			}
			/* 0 or -1: any thread; the one that stopped. */
			if (p[0] == 'g')
				s->g_vcpu = tid > 0 ? (uint32_t)tid - 1 : s->stop_vcpu;
			else
				s->c_vcpu = tid > 0 ? (uint32_t)tid - 1 : s->stop_vcpu;
			strcpy(out, "OK");
			break;
		}
		case 'T':
			strcpy(out, thread_ok(s, strtol(p, NULL, 16)) ? "OK" : "E01");
			break;
		case 'Z':
		case 'z': {
			char *comma, *comma2;
			int type = (int)strtol(p, &comma, 10);
			uint64_t addr = strtoull(comma + 1, &comma2, 16);
			uint32_t kind = (uint32_t)strtoul(comma2 + 1, NULL, 16);
			int err = type < 0 || type > 4 ? -1 :
				  pkt[0] == 'Z' ? insert_breakpoint(s, type, addr, kind) :
						  remove_breakpoint(s, type, addr);

			if (err < 0)
				out[0] = 0; /* a type we do not know: unsupported */
			else if (err)
				snprintf(out, sizeof(out), "E%02x", err);
			else
				strcpy(out, "OK");
			break;
		}
		case 'D':
			send_packet(s, "OK");
			return SERVE_GONE;
		case 'k':
			return SERVE_KILL;
		case 'q':
			if (!strncmp(pkt, "qSupported", 10))
				strcpy(out, "PacketSize=1000;swbreak+;hwbreak+;QStartNoAckMode+;"
				       "qXfer:features:read+");
			else if (!strncmp(pkt, "qXfer:features:read:target.xml:", 31))
				xfer_target_xml(s, pkt + 31, out, sizeof(out));
			else if (!strcmp(pkt, "qC"))
				snprintf(out, sizeof(out), "QC%x", s->stop_vcpu + 1);
			else if (!strcmp(pkt, "qfThreadInfo")) {
				char *o = out + sprintf(out, "m");

				for (uint32_t i = 0; i < s->nr_vcpus && o < out + sizeof(out) - 16; i++)
					o += sprintf(o, "%s%x", i ? "," : "", i + 1);
			} else if (!strcmp(pkt, "qsThreadInfo"))
				strcpy(out, "l");
			else if (!strcmp(pkt, "qAttached"))
				strcpy(out, "1");
			else if (!strncmp(pkt, "qThreadExtraInfo,", 17)) {
				char name[32];

				snprintf(name, sizeof(name), "vCPU %ld", strtol(pkt + 17, NULL, 16) - 1);
				put_hex(out, name, strlen(name));
			} else if (!strncmp(pkt, "qSymbol", 7))
				strcpy(out, "OK");
			break;
		case 'Q':
			if (!strcmp(pkt, "QStartNoAckMode")) {
				send_packet(s, "OK");
				s->noack = true;
				continue;
			}
			break;
		default:
			break; /* empty: not supported */
		}
		if (send_packet(s, out))
			return SERVE_GONE;
	}
}

/* --- the interface -------------------------------------------------------------- */

struct gdbstub *gdbstub_open(libvm_machine *m, uint16_t port, bool wait, bool x86_64)
{
	struct gdbstub *s = calloc(1, sizeof(*s));
	libvm_machine_parts parts = LIBVM_MACHINE_PARTS_INIT;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1;

	if (!s || libvm_machine_get_parts(m, &parts) || pipe(s->wake)) {
		fprintf(stderr, "vmrun: gdb stub: %s\n", strerror(errno));
		free(s);
		return NULL;
	}
	s->m = m;
	s->vm = parts.vm;
	s->nr_vcpus = parts.nr_vcpus;
	s->x86_64 = x86_64;
	s->fd = -1;
	s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0 ||
	    setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)) || listen(s->listen_fd, 1)) {
		fprintf(stderr, "vmrun: --gdb %u: %s\n", port, strerror(errno));
		gdbstub_close(s, -1);
		return NULL;
	}
	snprintf(s->stop_reply, sizeof(s->stop_reply), "T%02xthread:1;", SIGTRAP_NR);
	if (wait) {
		fprintf(stderr, "vmrun: waiting for gdb on localhost:%u\n", port);
		accept_gdb(s);
		s->stopped = s->fd >= 0;
	}
	return s;
}

int gdbstub_run(struct gdbstub *s, libvm_exit *exit, uint32_t *vcpu_id)
{
	bool step = false;

	for (;;) {
		if (s->stopped && s->fd >= 0) {
			int r = serve(s);

			if (r == SERVE_KILL) {
				disconnect(s);
				return 1;
			}
			if (r == SERVE_GONE) {
				fprintf(stderr, "vmrun: gdb detached\n");
				remove_all_breakpoints(s);
				disconnect(s);
			}
			step = r == SERVE_STEP;
		}
		s->stopped = false;
		if (run_guest(s, step)) {
			*exit = s->run_exit;
			if (vcpu_id)
				*vcpu_id = s->run_vcpu;
			return s->run_err;
		}
		step = false;
		s->stopped = true;
		/* gdb waits for the reply to its c or s, or to its Ctrl-C; a
		 * gdb that just attached asks with '?' instead. With no gdb
		 * (it left as the guest stopped) the loop just goes on. */
		if (s->fd >= 0 && !s->just_attached && send_packet(s, s->stop_reply))
			disconnect(s);
	}
}

void gdbstub_close(struct gdbstub *s, int status)
{
	if (!s)
		return;
	if (s->fd >= 0 && status >= 0) {
		char w[8];

		snprintf(w, sizeof(w), "W%02x", status & 0xff);
		send_packet(s, w);
	}
	disconnect(s);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	close(s->wake[0]);
	close(s->wake[1]);
	free(s);
}
