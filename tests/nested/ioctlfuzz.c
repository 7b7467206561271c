// SPDX-License-Identifier: GPL-2.0
/*
 * A seeded random ioctl-sequence generator (syzkaller's idea, in small)
 * against a KVM-compatible device: the system fd, VM fds and vCPU fds of
 * /dev/vmm or /dev/kvm, from several threads at once. Each step picks an
 * operation and its arguments from the seed: creating and closing fds, every
 * ioctl either module knows (and random ioctl numbers) with random and
 * boundary values, memory slots over buffers that are unmapped and mapped
 * again under the guest, KVM_RUN on random guest memory and registers
 * (a watchdog signal bounds each run), and closes racing other threads'
 * calls. Nothing is checked here but survival: the caller checks the
 * kernel log (WARN, BUG, Oops), the module's live-object count at unload
 * and that the host still answers. Same seed, same sequence per thread
 * (the interleaving of threads is the scheduler's).
 *
 * usage: ioctlfuzz DEVICE [-s SEED] [-n CALLS] [-t SECONDS] [-j THREADS] [-v]
 * -v: a progress line every second on stderr (calls, what each thread is in)
 * -T FILE: every operation written to FILE (synced) before it is made
 * -D N: from call N on, the vCPU state before each KVM_RUN goes there too
 * -L: also EFER.LME with paging off and a busy TR outside long mode (each
 *     brings down a QEMU TCG host, see allow_lme_nopg)
 * Prints the calls made per operation and how many succeeded, the exit
 * reasons seen, and "ioctlfuzz: DEVICE seed S: N calls in T s".
 * Exit: 0 done, 1 the device cannot be opened, 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAX_SYS 3
#define MAX_VM 6
#define MAX_VCPU 12
#define MAX_THREADS 8
#define NBUF 4
#define PAGE 4096ull

static const char *dev;
static uint64_t seed = 1, max_calls = 100000;
/*
 * Two guest states bring down the emulated KVM host (QEMU 7.2 TCG's SVM),
 * whichever module runs them (seen with kvm-amd and vmm-amd; both legal
 * on hardware): EFER.LME with paging off in protected mode freezes it at
 * the first VMRUN, and a busy TR outside long mode aborts QEMU ("invalid
 * tss type") when the guest takes an interrupt to an inner ring. By
 * default the generator keeps both out of KVM_RUN; -L lets them through.
 */
static bool allow_lme_nopg;
static double max_secs = 60;
static int nthreads = 2, verbose;
static atomic_uint_fast64_t calls;
static atomic_bool stop;
static pthread_t threads[MAX_THREADS];
static long run_size;

/* Resources the threads share; the lock guards the tables, not the calls. */
struct vcpu {
	int fd;
	int vm;              /* index of its VM, for KVM_RUN memory */
	struct kvm_run *run; /* unmapped by whoever drops the last user */
	int users;
	bool dead;
};

static struct {
	pthread_mutex_t lock;
	int sys[MAX_SYS];
	int vm[MAX_VM];
	struct vcpu vcpu[MAX_VCPU];
} R = { .lock = PTHREAD_MUTEX_INITIALIZER };

/*
 * Every address a slot may cover lies in one reservation of RESV bytes,
 * PROT_NONE but for the buffers below: a slot that runs past its buffer
 * (the generator asks for that) covers nothing of the generator's own
 * memory. Without it a guest once wrote into a thread's malloc arena
 * through a slot that ran past a buffer, and ioctlfuzz died of SIGSEGV
 * (CI, 2026-12-07). One buffer per GiB; sizes 64 KiB .. 16 MiB.
 */
#define RESV (8ull << 30)
#define GIB (1ull << 30)
static uint8_t *resv;
static uint8_t *buf[NBUF];
static const uint64_t buf_len[NBUF] = { 0x10000, 0x200000, 0x1000, 0x1000000 };
static uint8_t *ro_page;     /* PROT_READ, at 4 GiB */
static uint8_t *hole;        /* PROT_NONE, at 5 GiB: no page behind it */
/* Scratch buffers (ioctl arguments) are SCRATCH bytes and a PROT_NONE page:
 * a kernel that writes past them returns EFAULT instead of corrupting the
 * heap. The dirty bitmap of a slot as large as the reservation fits in
 * BITMAP bytes. */
#define SCRATCH 8192u
#define BITMAP (RESV / PAGE / 8)

/* --- per-thread random numbers ---------------------------------------- */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

static uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static bool chance(struct rng *r, unsigned pct)
{
	return below(r, 100) < pct;
}

/* A value from the usual boundaries, or a random one. */
static uint64_t boundary(struct rng *r)
{
	static const uint64_t b[] = {
		0, 1, 2, 3, 4, 7, 8, 15, 16, 0xff, 0x100, 0xfff, 0x1000, 0x1001, 0xffff,
		0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull,
		0xfffffffffffull, 1ull << 52, 1ull << 63, ~0ull, ~0ull - 0xfff,
		0xffff800000000000ull, 0xffffffff80000000ull,
	};

	if (chance(r, 40))
		return rnd(r) >> below(r, 64);
	return b[below(r, sizeof(b) / sizeof(b[0]))];
}

/*
 * A slot's size clamped so that a range the kernel would accept covers
 * nothing outside the reservation: within it, up to its end; at address 0
 * (nothing is mapped below 1 MiB), up to 1 MiB. Ranges the kernel refuses
 * (past the user address space, wrapping, misaligned) keep their size.
 */
static uint64_t clamp_size(uint64_t addr, uint64_t size)
{
	uint64_t start = (uintptr_t)resv;

	if (size == 0 || addr + size < addr || addr + size > (1ull << 47) || (addr | size) % PAGE)
		return size;
	if (addr >= start && addr < start + RESV)
		return size < start + RESV - addr ? size : start + RESV - addr;
	if (addr == 0)
		return size < 0x100000 ? size : 0x100000;
	return size;
}

/* A userspace address for a slot: a buffer (maybe offset), or a bad one. */
static uint64_t uaddr(struct rng *r, uint64_t *len_hint)
{
	unsigned k = (unsigned)below(r, NBUF);

	*len_hint = buf_len[k];
	switch (below(r, 10)) {
	case 0:
		return 0;
	case 1:
		return (uintptr_t)ro_page;
	case 2:
		return (uintptr_t)hole;
	case 3:
		return 0xffff888000000000ull; /* the kernel's direct map */
	case 4:
		return (uintptr_t)buf[k] + 1; /* unaligned */
	default:
		return (uintptr_t)buf[k] + PAGE * below(r, buf_len[k] / PAGE);
	}
}

/* --- picking resources ------------------------------------------------ */

static int pick_fd(struct rng *r, int *table, int n)
{
	int fd;

	pthread_mutex_lock(&R.lock);
	fd = table[below(r, n)];
	pthread_mutex_unlock(&R.lock);
	return fd;
}

static void add_fd(int *table, int n, int fd)
{
	pthread_mutex_lock(&R.lock);
	for (int i = 0; i < n; i++) {
		if (table[i] < 0) {
			table[i] = fd;
			fd = -1;
			break;
		}
	}
	pthread_mutex_unlock(&R.lock);
	if (fd >= 0)
		close(fd); /* full */
}

/* Take a vCPU for one call (users++), or NULL. */
static struct vcpu *get_vcpu(struct rng *r)
{
	struct vcpu *v;

	pthread_mutex_lock(&R.lock);
	v = &R.vcpu[below(r, MAX_VCPU)];
	if (v->fd < 0 || v->dead)
		v = NULL;
	else
		v->users++;
	pthread_mutex_unlock(&R.lock);
	return v;
}

static void put_vcpu(struct vcpu *v)
{
	struct kvm_run *run = NULL;

	pthread_mutex_lock(&R.lock);
	if (--v->users == 0 && v->dead) {
		run = v->run;
		v->run = NULL;
		v->fd = -1;
		v->dead = false;
	}
	pthread_mutex_unlock(&R.lock);
	if (run && run != MAP_FAILED)
		munmap(run, (size_t)run_size);
}

/* --- statistics ------------------------------------------------------- */

enum op {
	OP_OPEN, OP_CLOSE_SYS, OP_SYS_IOCTL, OP_CREATE_VM, OP_CLOSE_VM, OP_CREATE_VCPU,
	OP_CLOSE_VCPU, OP_SLOT, OP_VM_IOCTL, OP_RUN, OP_REGS, OP_SREGS, OP_MSRS, OP_CPUID,
	OP_FPU, OP_VCPU_IOCTL, OP_RANDOM_IOCTL, OP_SCRIBBLE, OP_REMAP, OP_COUNT
};

static const char *const op_name[OP_COUNT] = {
	"open", "close-sys", "sys-ioctl", "create-vm", "close-vm", "create-vcpu",
	"close-vcpu", "memory-slot", "vm-ioctl", "run", "regs", "sregs", "msrs", "cpuid",
	"fpu", "vcpu-ioctl", "random-ioctl", "scribble", "remap",
};

static atomic_uint_fast64_t n_op[OP_COUNT], ok_op[OP_COUNT];
/* What each thread is doing now, for the progress lines (-v). */
static _Atomic int doing[MAX_THREADS];
static __thread int my_index;
static __thread uint8_t *my_bitmap; /* BITMAP bytes, for KVM_GET_DIRTY_LOG */
/* -T FILE: each operation written (and synced) before it is made, so the
 * last line says what a host that froze was doing. */
static int trace_fd = -1;
/* -D N: from call N on, the trace also holds each vCPU's state before KVM_RUN. */
static uint64_t dump_from = UINT64_MAX;

static void dump_state(int fd)
{
	struct kvm_regs g;
	struct kvm_sregs s;
	char line[1024];
	int n;

	if (trace_fd < 0 || ioctl(fd, KVM_GET_REGS, &g) || ioctl(fd, KVM_GET_SREGS, &s))
		return;
	n = snprintf(line, sizeof(line),
		     "  rip %llx rsp %llx rflags %llx rax %llx\n"
		     "  cr0 %llx cr3 %llx cr4 %llx efer %llx apic %llx\n"
		     "  cs %x base %llx lim %x type %x dpl %u p %u db %u l %u g %u s %u unusable %u\n"
		     "  ss %x base %llx lim %x type %x dpl %u p %u db %u\n"
		     "  tr %x base %llx lim %x type %x p %u; gdt %llx/%x idt %llx/%x\n",
		     (unsigned long long)g.rip, (unsigned long long)g.rsp,
		     (unsigned long long)g.rflags, (unsigned long long)g.rax,
		     (unsigned long long)s.cr0, (unsigned long long)s.cr3,
		     (unsigned long long)s.cr4, (unsigned long long)s.efer,
		     (unsigned long long)s.apic_base, s.cs.selector, (unsigned long long)s.cs.base,
		     s.cs.limit, s.cs.type, s.cs.dpl, s.cs.present, s.cs.db, s.cs.l, s.cs.g, s.cs.s,
		     s.cs.unusable, s.ss.selector, (unsigned long long)s.ss.base, s.ss.limit,
		     s.ss.type, s.ss.dpl, s.ss.present, s.ss.db, s.tr.selector,
		     (unsigned long long)s.tr.base, s.tr.limit, s.tr.type, s.tr.present,
		     (unsigned long long)s.gdt.base, s.gdt.limit, (unsigned long long)s.idt.base,
		     s.idt.limit);
	if (write(trace_fd, line, (size_t)n) < 0) {
		/* best effort */
	}
}
static atomic_uint_fast64_t exit_reason[64];

static long note(enum op op, long ret)
{
	atomic_fetch_add(&n_op[op], 1);
	if (ret >= 0)
		atomic_fetch_add(&ok_op[op], 1);
	atomic_fetch_add(&calls, 1);
	return ret;
}

/* --- operations -------------------------------------------------------- */

static void fill(struct rng *r, void *p, size_t n)
{
	uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rnd(r);
}

/* A pointer argument: usually a random scratch buffer, sometimes a bad one. */
static void *ptr_arg(struct rng *r, uint8_t *scratch, size_t n)
{
	switch (below(r, 12)) {
	case 0:
		return NULL;
	case 1:
		return (void *)0xffff888000000000ull;
	case 2:
		return hole;
	case 3:
		return ro_page;
	default:
		fill(r, scratch, n);
		return scratch;
	}
}

static const unsigned long sys_ioctls[] = {
	KVM_GET_API_VERSION, KVM_CHECK_EXTENSION, KVM_GET_VCPU_MMAP_SIZE,
	KVM_GET_MSR_INDEX_LIST, KVM_GET_SUPPORTED_CPUID, KVM_GET_MSR_FEATURE_INDEX_LIST,
	KVM_GET_EMULATED_CPUID,
};

static const unsigned long vm_ioctls[] = {
	KVM_CHECK_EXTENSION, KVM_CREATE_IRQCHIP, KVM_IRQ_LINE, KVM_IRQ_LINE_STATUS,
	KVM_SET_TSS_ADDR, KVM_SET_IDENTITY_MAP_ADDR, KVM_CREATE_PIT2, KVM_GET_CLOCK,
	KVM_SET_CLOCK, KVM_SET_GSI_ROUTING, KVM_IRQFD, KVM_IOEVENTFD, KVM_SIGNAL_MSI,
	KVM_GET_IRQCHIP, KVM_SET_IRQCHIP, KVM_GET_DIRTY_LOG, KVM_ENABLE_CAP,
	KVM_SET_BOOT_CPU_ID, KVM_REGISTER_COALESCED_MMIO, KVM_GET_PIT2, KVM_SET_PIT2,
};

static const unsigned long vcpu_ioctls[] = {
	KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS, KVM_GET_FPU, KVM_SET_FPU,
	KVM_INTERRUPT, KVM_NMI, KVM_GET_LAPIC, KVM_SET_LAPIC, KVM_GET_VCPU_EVENTS,
	KVM_SET_VCPU_EVENTS, KVM_GET_DEBUGREGS, KVM_SET_DEBUGREGS, KVM_TRANSLATE,
	KVM_GET_MP_STATE, KVM_SET_MP_STATE, KVM_SET_SIGNAL_MASK, KVM_GET_XSAVE,
	KVM_SET_XSAVE, KVM_GET_XCRS, KVM_SET_XCRS, KVM_KVMCLOCK_CTRL, KVM_SET_GUEST_DEBUG,
	KVM_GET_CPUID2, KVM_SET_CPUID2, KVM_GET_MSRS, KVM_SET_MSRS, KVM_ENABLE_CAP,
	KVM_SMI, KVM_SET_TSC_KHZ, KVM_GET_TSC_KHZ, KVM_CHECK_EXTENSION,
};

static const uint32_t msr_idx[] = {
	0x10, 0x1b, 0x3a, 0x8b, 0x174, 0x175, 0x176, 0x277, 0x6e0, 0xc0000080, 0xc0000081,
	0xc0000082, 0xc0000083, 0xc0000084, 0xc0000100, 0xc0000101, 0xc0000102, 0xc0000103,
	0xc0010117, 0xc0010114, 0x40000000, 0x4b564d00, 0x800, 0x80f, 0x830, 0x838, 0xffffffff,
};

static int errno_ret(long r)
{
	return r < 0 ? -errno : (int)r;
}

static void op_sys_ioctl(struct rng *r, uint8_t *scratch)
{
	int fd = pick_fd(r, R.sys, MAX_SYS);
	unsigned long req = sys_ioctls[below(r, sizeof(sys_ioctls) / sizeof(sys_ioctls[0]))];

	if (req == KVM_GET_MSR_INDEX_LIST || req == KVM_GET_SUPPORTED_CPUID ||
	    req == KVM_GET_MSR_FEATURE_INDEX_LIST || req == KVM_GET_EMULATED_CPUID) {
		uint32_t *n = (uint32_t *)scratch;

		memset(scratch, 0, 8192);
		*n = (uint32_t)(chance(r, 50) ? below(r, 200) : boundary(r));
		if (req != KVM_GET_MSR_INDEX_LIST && req != KVM_GET_MSR_FEATURE_INDEX_LIST &&
		    *n > (8192 - 8) / sizeof(struct kvm_cpuid_entry2))
			*n = (uint32_t)((8192 - 8) / sizeof(struct kvm_cpuid_entry2));
		if ((req == KVM_GET_MSR_INDEX_LIST || req == KVM_GET_MSR_FEATURE_INDEX_LIST) &&
		    *n > (8192 - 4) / 4)
			*n = (8192 - 4) / 4;
		note(OP_SYS_IOCTL, errno_ret(ioctl(fd, req, scratch)));
		return;
	}
	note(OP_SYS_IOCTL, errno_ret(ioctl(fd, req, (unsigned long)boundary(r))));
}

static void op_slot(struct rng *r)
{
	struct kvm_userspace_memory_region m;
	uint64_t len_hint;
	int fd = pick_fd(r, R.vm, MAX_VM);

	m.slot = (uint32_t)(chance(r, 80) ? below(r, 8) : boundary(r));
	m.flags = chance(r, 80) ? (chance(r, 30) ? KVM_MEM_READONLY : 0) : (uint32_t)boundary(r);
	m.userspace_addr = uaddr(r, &len_hint);
	m.guest_phys_addr = chance(r, 70) ? PAGE * below(r, 0x2000) : boundary(r);
	m.memory_size = chance(r, 15) ? 0 /* delete */ :
			chance(r, 75) ? PAGE * (1 + below(r, len_hint / PAGE)) : boundary(r);
	m.memory_size = clamp_size(m.userspace_addr, m.memory_size);
	note(OP_SLOT, errno_ret(ioctl(fd, KVM_SET_USER_MEMORY_REGION, &m)));
}

static void op_vm_ioctl(struct rng *r, uint8_t *scratch)
{
	int fd = pick_fd(r, R.vm, MAX_VM);
	unsigned long req = vm_ioctls[below(r, sizeof(vm_ioctls) / sizeof(vm_ioctls[0]))];
	void *arg = ptr_arg(r, scratch, 8192);

	if (arg == scratch) {
		if (req == KVM_SET_GSI_ROUTING)
			*(uint32_t *)scratch = (uint32_t)below(r, 300); /* nr */
		if (req == KVM_IRQFD || req == KVM_IOEVENTFD) {
			/* a real eventfd now and then, with random flags */
			int efd = eventfd(0, EFD_CLOEXEC);

			((uint32_t *)scratch)[req == KVM_IRQFD ? 0 : 5] = (uint32_t)efd;
			note(OP_VM_IOCTL, errno_ret(ioctl(fd, req, arg)));
			if (efd >= 0)
				close(efd);
			return;
		}
	}
	/* The dirty bitmap pointer is the kernel's to write: the thread's bitmap. */
	if (arg == scratch && req == KVM_GET_DIRTY_LOG)
		((struct kvm_dirty_log *)scratch)->dirty_bitmap = my_bitmap;
	if (req == KVM_CHECK_EXTENSION || req == KVM_SET_TSS_ADDR ||
	    req == KVM_CREATE_IRQCHIP || req == KVM_SET_BOOT_CPU_ID)
		note(OP_VM_IOCTL, errno_ret(ioctl(fd, req, (unsigned long)boundary(r))));
	else
		note(OP_VM_IOCTL, errno_ret(ioctl(fd, req, arg)));
}

static void random_regs(struct rng *r, struct kvm_regs *g)
{
	fill(r, g, sizeof(*g));
	if (chance(r, 60)) {
		g->rip = below(r, 0x10000);
		g->rflags = 2 | (chance(r, 30) ? 0x200 : 0);
	}
}

/* Mode-ish sregs: a real, protected or long mode start, then mutations. */
static void random_sregs(struct rng *r, struct kvm_sregs *s)
{
	static const uint64_t cr0[] = { 0x60000010, 0x11, 0x80000011, 0x80050033, 0x1, 0 };
	static const uint64_t cr4[] = { 0, 0x20, 0x620, 0x1000, 0x3000, 0x1000000, 0x6f0 };
	static const uint64_t efer[] = { 0, 0x100, 0x500, 0xd01, 0x1000, 0x800, 0x401 };

	s->cr0 = cr0[below(r, sizeof(cr0) / sizeof(cr0[0]))];
	s->cr4 = cr4[below(r, sizeof(cr4) / sizeof(cr4[0]))];
	s->efer = efer[below(r, sizeof(efer) / sizeof(efer[0]))];
	s->cr3 = chance(r, 60) ? PAGE * below(r, 64) : boundary(r);
	if (chance(r, 30)) {
		struct kvm_segment *seg[] = { &s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss,
					      &s->tr, &s->ldt };
		struct kvm_segment *x = seg[below(r, 8)];

		x->base = boundary(r);
		x->limit = (uint32_t)boundary(r);
		x->selector = (uint16_t)rnd(r);
		x->type = (uint8_t)below(r, 16);
		x->present = (uint8_t)below(r, 2);
		x->dpl = (uint8_t)below(r, 4);
		x->db = (uint8_t)below(r, 2);
		x->s = (uint8_t)below(r, 2);
		x->l = (uint8_t)below(r, 2);
		x->g = (uint8_t)below(r, 2);
		x->unusable = (uint8_t)below(r, 2);
	}
	if (chance(r, 20)) {
		s->gdt.base = boundary(r);
		s->gdt.limit = (uint16_t)rnd(r);
		s->idt.base = boundary(r);
		s->idt.limit = (uint16_t)rnd(r);
	}
	if (chance(r, 10))
		fill(r, s, sizeof(*s));
	if (chance(r, 20))
		s->interrupt_bitmap[below(r, 4)] = 1ull << below(r, 64);
	if (!allow_lme_nopg && !(s->cr0 & 0x80000000ull))
		s->efer &= ~0x100ull;
}

static void op_run(struct rng *r)
{
	struct vcpu *v = get_vcpu(r);
	long ret;

	if (!v)
		return;
	if (v->run && v->run != MAP_FAILED) {
		v->run->immediate_exit = chance(r, 10);
		v->run->request_interrupt_window = chance(r, 20);
	}
	if (!allow_lme_nopg) {
		/* Whatever path put them there (random sregs or MSR buffers of
		 * the generic vCPU ioctls): no LME without paging at entry, no
		 * busy TR outside long mode (the two QEMU TCG faults, -L). */
		struct kvm_sregs s;

		if (ioctl(v->fd, KVM_GET_SREGS, &s) == 0) {
			bool fix = false;

			if ((s.efer & 0x100) && !(s.cr0 & 0x80000000ull)) {
				s.efer &= ~0x100ull;
				fix = true;
			}
			/* QEMU 7.2 TCG aborts ("invalid tss type") when a guest
			 * outside long mode takes an interrupt to an inner ring
			 * with a busy TR: keep TR available there. */
			if (!(s.efer & 0x400) && (s.tr.type & 7) == 3) {
				s.tr.type &= ~2;
				fix = true;
			}
			if (fix)
				ioctl(v->fd, KVM_SET_SREGS, &s);
		}
	}
	if (atomic_load(&calls) >= dump_from)
		dump_state(v->fd);
	ret = note(OP_RUN, errno_ret(ioctl(v->fd, KVM_RUN, 0)));
	if (ret == 0 && v->run && v->run != MAP_FAILED && v->run->exit_reason < 64)
		atomic_fetch_add(&exit_reason[v->run->exit_reason], 1);
	put_vcpu(v);
}

static void op_vcpu_state(struct rng *r, enum op op, uint8_t *scratch)
{
	struct vcpu *v = get_vcpu(r);
	long ret = 0;

	if (!v)
		return;
	switch (op) {
	case OP_REGS: {
		struct kvm_regs g;

		if (chance(r, 50) && ioctl(v->fd, KVM_GET_REGS, &g) == 0)
			g.rip += below(r, 16);
		else
			random_regs(r, &g);
		ret = ioctl(v->fd, KVM_SET_REGS, chance(r, 95) ? (void *)&g : ptr_arg(r, scratch, 4));
		break;
	}
	case OP_SREGS: {
		struct kvm_sregs s;

		if (ioctl(v->fd, KVM_GET_SREGS, &s))
			memset(&s, 0, sizeof(s));
		random_sregs(r, &s);
		ret = ioctl(v->fd, KVM_SET_SREGS, &s);
		break;
	}
	case OP_MSRS: {
		struct {
			struct kvm_msrs h;
			struct kvm_msr_entry e[16];
		} m;
		uint32_t n = (uint32_t)below(r, 17);

		memset(&m, 0, sizeof(m));
		for (uint32_t i = 0; i < n; i++) {
			m.e[i].index = chance(r, 80) ? msr_idx[below(r, sizeof(msr_idx) / 4)] :
						       (uint32_t)boundary(r);
			m.e[i].data = boundary(r);
		}
		for (uint32_t i = 0; i < n; i++)
			if (!allow_lme_nopg && m.e[i].index == 0xc0000080)
				m.e[i].data &= ~0x100ull; /* see allow_lme_nopg */
		m.h.nmsrs = chance(r, 90) ? n : (uint32_t)boundary(r) % 4096;
		if (m.h.nmsrs > 16)
			m.h.nmsrs = 16; /* never let the kernel read past m */
		ret = ioctl(v->fd, chance(r, 50) ? KVM_SET_MSRS : KVM_GET_MSRS, &m);
		break;
	}
	case OP_CPUID: {
		struct kvm_cpuid2 *c = (struct kvm_cpuid2 *)scratch;
		uint32_t max = (8192 - sizeof(*c)) / sizeof(c->entries[0]);

		memset(scratch, 0, 8192);
		c->nent = (uint32_t)(chance(r, 70) ? below(r, max + 1) : boundary(r));
		if (c->nent <= max)
			fill(r, c->entries, c->nent * sizeof(c->entries[0]));
		if (c->nent > max)
			c->nent = chance(r, 50) ? max : (uint32_t)boundary(r) | 0x10000; /* refused */
		if (c->nent > max && c->nent < 0x10000)
			c->nent = max;
		ret = ioctl(v->fd, chance(r, 70) ? KVM_SET_CPUID2 : KVM_GET_CPUID2, c);
		break;
	}
	case OP_FPU: {
		struct kvm_fpu f;

		fill(r, &f, sizeof(f));
		ret = ioctl(v->fd, chance(r, 50) ? KVM_SET_FPU : KVM_GET_FPU, &f);
		break;
	}
	default: {
		unsigned long req = vcpu_ioctls[below(r, sizeof(vcpu_ioctls) /
						       sizeof(vcpu_ioctls[0]))];
		void *arg = ptr_arg(r, scratch, 8192);

		if (arg == scratch && req == KVM_SET_SIGNAL_MASK) {
			/* struct kvm_signal_mask: len, then the set (at byte 4);
			 * never block the watchdog's SIGUSR1 */
			uint64_t set;

			((uint32_t *)scratch)[0] = chance(r, 80) ? 8 : (uint32_t)boundary(r) % 64;
			memcpy(&set, scratch + 4, 8);
			set &= ~(1ull << (SIGUSR1 - 1));
			memcpy(scratch + 4, &set, 8);
		}
		if (arg == scratch && (req == KVM_GET_CPUID2 || req == KVM_SET_CPUID2))
			((uint32_t *)scratch)[0] %= 100;
		if (arg == scratch && (req == KVM_GET_MSRS || req == KVM_SET_MSRS))
			((uint32_t *)scratch)[0] %= 256;
		if (req == KVM_INTERRUPT && arg == scratch)
			((uint32_t *)scratch)[0] = (uint32_t)(chance(r, 80) ? below(r, 256) : rnd(r));
		if (req == KVM_NMI || req == KVM_SMI || req == KVM_KVMCLOCK_CTRL ||
		    req == KVM_SET_TSC_KHZ || req == KVM_GET_TSC_KHZ || req == KVM_CHECK_EXTENSION)
			ret = ioctl(v->fd, req, (unsigned long)boundary(r));
		else
			ret = ioctl(v->fd, req, arg);
		break;
	}
	}
	note(op, errno_ret(ret));
	put_vcpu(v);
}

static bool in_list(unsigned long req, const unsigned long *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == req)
			return true;
	return false;
}

static bool known_ioctl(unsigned long req)
{
	static const unsigned long other[] = {
		KVM_SET_USER_MEMORY_REGION, KVM_CREATE_VM, KVM_CREATE_VCPU, KVM_RUN,
#ifdef KVM_SET_USER_MEMORY_REGION2
		KVM_SET_USER_MEMORY_REGION2,
#endif
	};

	return in_list(req, sys_ioctls, sizeof(sys_ioctls) / sizeof(sys_ioctls[0])) ||
	       in_list(req, vm_ioctls, sizeof(vm_ioctls) / sizeof(vm_ioctls[0])) ||
	       in_list(req, vcpu_ioctls, sizeof(vcpu_ioctls) / sizeof(vcpu_ioctls[0])) ||
	       in_list(req, other, sizeof(other) / sizeof(other[0]));
}

static void op_random_ioctl(struct rng *r, uint8_t *scratch)
{
	int fds[3] = { pick_fd(r, R.sys, MAX_SYS), pick_fd(r, R.vm, MAX_VM), -1 };
	struct vcpu *v = get_vcpu(r);
	unsigned dir = (unsigned)below(r, 4), size = (unsigned)below(r, 1024);
	unsigned long req = _IOC(dir, KVMIO, (unsigned)below(r, 256), size);
	void *arg = chance(r, 70) ? ptr_arg(r, scratch, 8192) : (void *)(uintptr_t)boundary(r);

	if (v)
		fds[2] = v->fd;
	/* A random number that is a known ioctl is left to the operations
	 * that know its argument: by chance it could map the generator's own
	 * memory into a guest (a memory slot from random bytes), write past
	 * scratch (a CPUID count), or block the watchdog (a signal mask). */
	if (known_ioctl(req)) {
		if (v)
			put_vcpu(v);
		return;
	}
	note(OP_RANDOM_IOCTL, errno_ret(ioctl(fds[below(r, 3)], req, arg)));
	if (v)
		put_vcpu(v);
}

/* Guest memory: random bytes, or a small program with exits in it. */
static void op_scribble(struct rng *r)
{
	static const uint8_t progs[][8] = {
		{ 0xf4 },                                     /* hlt */
		{ 0xe6, 0x80, 0xf4 },                         /* out 0x80, al; hlt */
		{ 0xa2, 0x00, 0x00, 0xf4 },                   /* mov [0], al (16-bit) */
		{ 0x0f, 0x0b },                               /* ud2 */
		{ 0xeb, 0xfe },                               /* jmp $ */
		{ 0x0f, 0x01, 0xd9 },                         /* vmmcall */
		{ 0x0f, 0x30, 0xf4 },                         /* wrmsr; hlt */
		{ 0xcc },                                     /* int3 */
	};
	unsigned k = (unsigned)below(r, NBUF);
	uint64_t at = below(r, buf_len[k] - 64);

	if (chance(r, 50))
		fill(r, buf[k] + at, 64);
	else
		memcpy(buf[k] + at, progs[below(r, sizeof(progs) / sizeof(progs[0]))], 8);
	note(OP_SCRIBBLE, 0);
}

/* Unmap a buffer under the guest (slots may point into it) and map it back. */
static void op_remap(struct rng *r)
{
	unsigned k = (unsigned)below(r, NBUF);
	void *p;

	/* MAP_FIXED replaces the pages in one step: other threads never see
	 * the range unmapped, the kernel's MMU notifier sees it go. */
	p = mmap(buf[k], buf_len[k], PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (p == MAP_FAILED)
		abort();
	if (chance(r, 50))
		madvise(buf[k], buf_len[k], MADV_DONTNEED);
	note(OP_REMAP, 0);
}

static void step(struct rng *r, uint8_t *scratch)
{
	static const enum op weights[] = {
		OP_OPEN, OP_CLOSE_SYS, OP_SYS_IOCTL, OP_SYS_IOCTL, OP_CREATE_VM, OP_CREATE_VM,
		OP_CLOSE_VM, OP_CREATE_VCPU, OP_CREATE_VCPU, OP_CREATE_VCPU, OP_CLOSE_VCPU,
		OP_SLOT, OP_SLOT, OP_SLOT, OP_SLOT, OP_VM_IOCTL, OP_VM_IOCTL, OP_VM_IOCTL,
		OP_RUN, OP_RUN, OP_RUN, OP_RUN, OP_RUN, OP_REGS, OP_REGS, OP_SREGS, OP_SREGS,
		OP_SREGS, OP_MSRS, OP_MSRS, OP_CPUID, OP_FPU, OP_VCPU_IOCTL, OP_VCPU_IOCTL,
		OP_VCPU_IOCTL, OP_RANDOM_IOCTL, OP_RANDOM_IOCTL, OP_SCRIBBLE, OP_SCRIBBLE,
		OP_REMAP,
	};
	enum op op = weights[below(r, sizeof(weights) / sizeof(weights[0]))];

	atomic_store(&doing[my_index], (int)op);
	if (trace_fd >= 0) {
		char line[64];
		int n = snprintf(line, sizeof(line), "%d %llu %s\n", my_index,
				 (unsigned long long)atomic_load(&calls), op_name[op]);

		if (write(trace_fd, line, (size_t)n) < 0) {
			/* tracing is best effort */
		}
	}

	switch (op) {
	case OP_OPEN:
		add_fd(R.sys, MAX_SYS, (int)note(op, errno_ret(open(dev, O_RDWR | O_CLOEXEC))));
		break;
	case OP_CLOSE_SYS:
	case OP_CLOSE_VM: {
		int *t = op == OP_CLOSE_SYS ? R.sys : R.vm, n = op == OP_CLOSE_SYS ? MAX_SYS : MAX_VM;
		int fd;

		int i = (int)below(r, n);

		pthread_mutex_lock(&R.lock);
		fd = t[i];
		t[i] = -1;
		pthread_mutex_unlock(&R.lock);
		if (fd >= 0)
			note(op, errno_ret(close(fd)));
		break;
	}
	case OP_SYS_IOCTL:
		op_sys_ioctl(r, scratch);
		break;
	case OP_CREATE_VM: {
		int fd = pick_fd(r, R.sys, MAX_SYS);

		add_fd(R.vm, MAX_VM, (int)note(op, errno_ret(ioctl(fd, KVM_CREATE_VM,
								      chance(r, 90) ? 0 :
								      (unsigned long)boundary(r)))));
		break;
	}
	case OP_CREATE_VCPU: {
		int fd = pick_fd(r, R.vm, MAX_VM);
		int id = (int)(chance(r, 80) ? below(r, 4) : boundary(r));
		int vfd = (int)note(op, errno_ret(ioctl(fd, KVM_CREATE_VCPU, (unsigned long)id)));
		struct kvm_run *run;

		if (vfd < 0)
			break;
		run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vfd, 0);
		pthread_mutex_lock(&R.lock);
		for (int i = 0; i < MAX_VCPU; i++) {
			if (R.vcpu[i].fd < 0) {
				R.vcpu[i] = (struct vcpu){ .fd = vfd, .run = run };
				vfd = -1;
				break;
			}
		}
		pthread_mutex_unlock(&R.lock);
		if (vfd >= 0) {
			if (run != MAP_FAILED)
				munmap(run, (size_t)run_size);
			close(vfd);
		}
		break;
	}
	case OP_CLOSE_VCPU: {
		struct vcpu *v = get_vcpu(r);

		if (!v)
			break;
		pthread_mutex_lock(&R.lock);
		v->dead = true;
		pthread_mutex_unlock(&R.lock);
		/* Closed now, while other threads may be inside its ioctls;
		 * the mapping goes with the last user. */
		note(op, errno_ret(close(v->fd)));
		put_vcpu(v);
		break;
	}
	case OP_SLOT:
		op_slot(r);
		break;
	case OP_VM_IOCTL:
		op_vm_ioctl(r, scratch);
		break;
	case OP_RUN:
		op_run(r);
		break;
	case OP_REGS:
	case OP_SREGS:
	case OP_MSRS:
	case OP_CPUID:
	case OP_FPU:
	case OP_VCPU_IOCTL:
		op_vcpu_state(r, op, scratch);
		break;
	case OP_RANDOM_IOCTL:
		op_random_ioctl(r, scratch);
		break;
	case OP_SCRIBBLE:
		op_scribble(r);
		break;
	case OP_REMAP:
		op_remap(r);
		break;
	default:
		break;
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* LEN bytes read-write and a PROT_NONE page after them. */
static uint8_t *map_guarded(size_t len)
{
	uint8_t *p = mmap(NULL, len + PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || mprotect(p + len, PAGE, PROT_NONE))
		abort();
	return p;
}

static void *worker(void *arg)
{
	struct rng r = { seed * 0x9e3779b97f4a7c15ull + (uintptr_t)arg * 0x632be59bd9b4e019ull + 1 };
	uint8_t *scratch = map_guarded(SCRATCH);

	my_bitmap = map_guarded(BITMAP);
	my_index = (int)(uintptr_t)arg;
	while (!atomic_load(&stop) && atomic_load(&calls) < max_calls)
		step(&r, scratch);
	munmap(scratch, SCRATCH + PAGE);
	munmap(my_bitmap, BITMAP + PAGE);
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
}

/* The generator's own fault: say so (and where) before dying of it. */
static void on_fault(int sig, siginfo_t *si, void *uc)
{
	char line[128];
	int n = snprintf(line, sizeof(line),
			 "ioctlfuzz: signal %d at address %p in thread %d (%s): a generator bug\n",
			 sig, si->si_addr, my_index, op_name[atomic_load(&doing[my_index])]);

	(void)uc;
	if (write(2, line, (size_t)n) < 0) {
		/* dying anyway */
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: KVM_RUN returns */
	int fd, opt;
	double t0, t;

	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: %s DEVICE [-s SEED] [-n CALLS] [-t SECONDS] [-j THREADS] [-v] [-T FILE] [-D N] [-L]\n",
			argv[0]);
		return 2;
	}
	dev = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "s:n:t:j:vT:D:L")) != -1) {
		switch (opt) {
		case 'L':
			allow_lme_nopg = true;
			break;
		case 'D':
			dump_from = strtoull(optarg, NULL, 0);
			break;
		case 'T':
			trace_fd = open(optarg, O_WRONLY | O_CREAT | O_TRUNC | O_DSYNC | O_CLOEXEC, 0644);
			break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'n': max_calls = strtoull(optarg, NULL, 0); break;
		case 't': max_secs = strtod(optarg, NULL); break;
		case 'j': nthreads = atoi(optarg); break;
		case 'v': verbose = 1; break;
		default: return 2;
		}
	}
	if (nthreads < 1 || nthreads > MAX_THREADS)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("ioctlfuzz: %s: %s\n", dev, strerror(errno));
		return 1;
	}
	run_size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size <= 0)
		run_size = 4096;
	for (int i = 0; i < MAX_SYS; i++)
		R.sys[i] = -1;
	for (int i = 0; i < MAX_VM; i++)
		R.vm[i] = -1;
	for (int i = 0; i < MAX_VCPU; i++)
		R.vcpu[i].fd = -1;
	R.sys[0] = fd;
	resv = mmap(NULL, RESV, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (resv == MAP_FAILED) {
		printf("ioctlfuzz: cannot reserve %llu GiB of address space: %s\n", RESV / GIB,
		       strerror(errno));
		return 1;
	}
	for (int k = 0; k < NBUF; k++) {
		buf[k] = mmap(resv + (uint64_t)k * GIB, buf_len[k], PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (buf[k] == MAP_FAILED)
			return 1;
	}
	ro_page = mmap(resv + 4 * GIB, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		       -1, 0);
	if (ro_page == MAP_FAILED)
		return 1;
	hole = resv + 5 * GIB;

	t0 = now();
	for (long i = 0; i < nthreads; i++)
		pthread_create(&threads[i], NULL, worker, (void *)i);
	/* Watchdog: every 20 ms a signal to each worker ends a KVM_RUN that
	 * would go on (a guest in a loop) with EINTR. */
	for (unsigned tick_no = 1; (t = now() - t0) < max_secs && atomic_load(&calls) < max_calls;
	     tick_no++) {
		struct timespec tick = { 0, 20000000 };

		nanosleep(&tick, NULL);
		for (int i = 0; i < nthreads; i++)
			pthread_kill(threads[i], SIGUSR1);
		if (verbose && tick_no % 50 == 0) {
			fprintf(stderr, "ioctlfuzz: %.0f s, %llu calls; threads in", t,
				(unsigned long long)atomic_load(&calls));
			for (int i = 0; i < nthreads; i++)
				fprintf(stderr, " %s", op_name[atomic_load(&doing[i])]);
			fprintf(stderr, "\n");
		}
	}
	atomic_store(&stop, true);
	for (int i = 0; i < nthreads; i++) {
		struct timespec tick = { 0, 5000000 };

		for (unsigned n = 1; pthread_tryjoin_np(threads[i], NULL) == EBUSY; n++) {
			pthread_kill(threads[i], SIGUSR1);
			nanosleep(&tick, NULL);
			if (n % 1000 == 0)
				fprintf(stderr, "ioctlfuzz: thread %d still in %s after %u s\n", i,
					op_name[atomic_load(&doing[i])], n / 200);
		}
	}
	t = now() - t0;

	for (int i = 0; i < OP_COUNT; i++)
		if (verbose || n_op[i])
			printf("  %-13s %9llu calls, %9llu succeeded\n", op_name[i],
			       (unsigned long long)n_op[i], (unsigned long long)ok_op[i]);
	printf("  exit reasons:");
	for (int i = 0; i < 64; i++)
		if (exit_reason[i])
			printf(" %d:%llu", i, (unsigned long long)exit_reason[i]);
	printf("\n");
	/* Close everything: the module must drop every object. */
	for (int i = 0; i < MAX_VCPU; i++)
		if (R.vcpu[i].fd >= 0 && !R.vcpu[i].dead) {
			if (R.vcpu[i].run != MAP_FAILED)
				munmap(R.vcpu[i].run, (size_t)run_size);
			close(R.vcpu[i].fd);
		}
	for (int i = 0; i < MAX_VM; i++)
		if (R.vm[i] >= 0)
			close(R.vm[i]);
	for (int i = 0; i < MAX_SYS; i++)
		if (R.sys[i] >= 0)
			close(R.sys[i]);
	printf("ioctlfuzz: %s seed %llu: %llu calls in %.1f s (%.0f/s), %d threads\n", dev,
	       (unsigned long long)seed, (unsigned long long)calls, t, calls / t, nthreads);
	return 0;
}
