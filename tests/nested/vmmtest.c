// SPDX-License-Identifier: GPL-2.0
/*
 * Raw-ioctl conformance tests for a KVM-compatible device.  Runs inside the
 * nested test VM against /dev/kvm (kvm-amd, the reference) and /dev/vmm
 * (our modules) and prints one "PASS: dev/name" or "FAIL: dev/name: why"
 * line per test.  Exit status: number of failures.
 *
 * usage: vmmtest /dev/vmm [test-name-substring | !test-name-substring]
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

/* Guest code, assembled into this binary. */
#define GUEST(name, mode, body)                                             \
	extern const unsigned char name[], name##_end[];                    \
	asm(".pushsection .rodata\n.globl " #name ", " #name "_end\n"       \
	    #name ":\n" mode "\n" body "\n" #name "_end:\n.code64\n"       \
	    ".popsection\n")

GUEST(g_rm_out, ".code16",
      "mov $0x3f8, %dx\n mov $0x41, %al\n out %al, %dx\n hlt\n");
GUEST(g_rm_in, ".code16",
      "mov $0x60, %dx\n in %dx, %al\n mov %al, %bl\n in $0x61, %ax\n"
      "mov $0x70, %dx\n out %al, %dx\n mov %bl, %al\n out %al, $0x71\n"
      "in $0x62, %eax\n out %eax, $0x72\n hlt\n");
GUEST(g_rm_mmio, ".code16",
      "mov $0x1000, %ax\n mov %ax, %ds\n movb $0x42, (0)\n"
      "mov (4), %cl\n mov %cl, %al\n out %al, $0x10\n"
      "movw $0x1234, (8)\n movw (8), %ax\n out %ax, $0x11\n hlt\n");
GUEST(g_rm_loop, ".code16", "1: jmp 1b\n");
GUEST(g_rm_cpuid, ".code16",
      "xor %eax, %eax\n cpuid\n mov %ebx, %eax\n out %eax, $0x20\n hlt\n");
GUEST(g_pm_ud, ".code32", "ud2\n");
GUEST(g_lm_mmio, ".code64",
      "mov $0xd0000000, %rbx\n mov $0x1122334455667788, %rax\n"
      "mov %rax, (%rbx)\n movl $0xcafef00d, 16(%rbx)\n"
      "movzbl 8(%rbx), %ecx\n mov %ecx, %eax\n out %eax, $0x30\n"
      "movsbq 9(%rbx), %rdx\n mov %rdx, %rax\n shr $32, %rax\n"
      "out %eax, $0x31\n mov 24(%rbx), %r9\n mov %r9, %rax\n"
      "out %eax, $0x32\n hlt\n");
GUEST(g_lm_ro, ".code64",
      "mov $0x200000, %rbx\n mov (%rbx), %eax\n out %eax, $0x40\n"
      "movl $0x5a5a5a5a, (%rbx)\n mov (%rbx), %eax\n out %eax, $0x41\n"
      "hlt\n");
/* IVT[0x20] -> handler at 0x1100: out 0x21; iret.  Main: sti; hlt loop,
 * then cli; out 0x22; sti; nop; nop; out 0x23; hlt. */
GUEST(g_rm_irq, ".code16",
      "movw $0x1100, (0x80)\n movw $0, (0x82)\n sti\n hlt\n"
      "cli\n out %al, $0x22\n sti\n nop\n nop\n out %al, $0x23\n hlt\n"
      ".skip 0x100 - (. - g_rm_irq), 0x90\n mov $0x55, %al\n out %al, $0x21\n iret\n");
/* MMIO through guest paging: linear 0xd0000000 maps to 0xe0000000. */
GUEST(g_pm_paged, ".code32",
      "mov $0xd0000000, %ebx\n movl $0x11223344, (%ebx)\n"
      "movzwl 6(%ebx), %ecx\n mov %ecx, %eax\n out %eax, $0x60\n hlt\n");
/* String I/O in real mode: forward REP OUTSB, backward REP OUTSB, REP
 * with CX=0, REP INSB; data at 0x2000 "abc". */
GUEST(g_rm_string, ".code16",
      "mov $0x90, %dx\n mov $0x2000, %si\n mov $3, %cx\n cld\n rep outsb\n"
      "mov $0x2002, %si\n mov $2, %cx\n std\n rep outsb\n cld\n"
      "xor %cx, %cx\n rep outsb\n out %al, $0x91\n"
      "mov $0x92, %dx\n mov $0x3000, %di\n mov $2, %cx\n rep insb\n"
      "mov (0x3000), %ax\n out %ax, $0x93\n mov %di, %ax\n out %ax, $0x94\n"
      "hlt\n");
/* CR4: PGE may be set; LA57 must #GP (no IDT: shutdown). */
GUEST(g_pm_cr4, ".code32",
      "mov %cr4, %eax\n or $0x80, %eax\n mov %eax, %cr4\n mov %cr4, %eax\n"
      "out %eax, $0x70\n or $0x1000, %eax\n mov %eax, %cr4\n"
      "mov %cr4, %eax\n out %eax, $0x71\n hlt\n");
/* EFER.LME set while paging is on: #GP (no IDT: shutdown). */
GUEST(g_pm_efer_lme, ".code32",
      "mov $0xc0000080, %ecx\n rdmsr\n or $0x100, %eax\n wrmsr\n"
      "out %eax, $0x72\n hlt\n");
/* Read-modify-write, xchg, string store on MMIO at 0xd0000000. */
GUEST(g_lm_rmw, ".code64",
      "mov $0xd0000000, %rbx\n addl $5, (%rbx)\n pushf\n pop %rax\n"
      "out %eax, $0x30\n orb $0x80, 4(%rbx)\n mov $0x1122, %ecx\n"
      "xchg %cx, 8(%rbx)\n mov %ecx, %eax\n out %eax, $0x31\n"
      "lea 16(%rbx), %rdi\n mov $2, %ecx\n mov $0xabcd, %eax\n"
      "rep stosw\n mov %ecx, %eax\n out %eax, $0x32\n hlt\n");
/*
 * XCR0 and AVX: xgetbv, xsetbv 7, an exit, ymm0 <- (0x3000), an exit,
 * (0x3100) <- ymm0.
 */
GUEST(g_lm_avx, ".code64",
      "xor %ecx, %ecx\n xgetbv\n out %eax, $0x40\n mov $7, %eax\n"
      "xor %edx, %edx\n xsetbv\n out %al, $0x43\n"
      "vmovdqu (0x3000), %ymm0\n out %al, $0x41\n"
      "vmovdqu %ymm0, (0x3100)\n out %al, $0x42\n hlt\n");
/*
 * In-kernel irqchip: the guest masks the 8259s (the BSP's LINT0 takes
 * their ExtINT), enables its LAPIC, says so on port 0x60
 * and halts (in the kernel); each handler reports on its own port and
 * EOIs.  Handlers: 0x30 MSI, 0x31 IOAPIC edge, 0x32 irqfd, 0x33 with an
 * ioeventfd write first, 0x34 IOAPIC level (port 0x75 after its EOI), 2
 * NMI.
 */
#define EOI "movl $0, 0xfee000b0\n"
GUEST(g_pm_irqchip, ".code32",
      "mov $0xff, %al\n out %al, $0x21\n out %al, $0xa1\n"	/* 8259s off */
      "movl $0x1ff, 0xfee000f0\n sti\n out %al, $0x60\n"
      "1: hlt\n jmp 1b\n"
      ".globl g_h30\n g_h30: push %eax\n mov $0x30, %al\n out %al, $0x70\n"
      EOI "pop %eax\n iret\n"
      ".globl g_h31\n g_h31: push %eax\n mov $0x31, %al\n out %al, $0x71\n"
      EOI "pop %eax\n iret\n"
      ".globl g_h32\n g_h32: push %eax\n mov $0x32, %al\n out %al, $0x72\n"
      EOI "pop %eax\n iret\n"
      ".globl g_h33\n g_h33: push %eax\n mov $0x5a, %al\n out %al, $0x80\n"
      "mov $0x33, %al\n out %al, $0x73\n" EOI "pop %eax\n iret\n"
      ".globl g_h34\n g_h34: push %eax\n mov $0x34, %al\n out %al, $0x74\n"
      EOI "out %al, $0x75\n pop %eax\n iret\n"
      ".globl g_h02\n g_h02: push %eax\n mov $0x02, %al\n out %al, $0x7f\n"
      "pop %eax\n iret\n");
extern const unsigned char g_h30[], g_h31[], g_h32[], g_h33[], g_h34[],
	g_h02[];
/* Dirty logging: writes and a read in the second slot at 1 MiB. */
GUEST(g_pm_dirty, ".code32",
      "movb $1, 0x102000\n out %al, $0x50\n"
      "movb $2, 0x102000\n movb $2, 0x104000\n out %al, $0x51\n"
      "movb $3, 0x104000\n mov 0x106000, %al\n out %al, $0x52\n"
      "movb $4, 0x108000\n hlt\n");
GUEST(g_pm_io, ".code32",
      "mov $0x12345678, %eax\n out %eax, $0x50\n hlt\n");

static const char *dev;
static int failures;

static void result(const char *name, const char *fmt, ...)
{
	va_list ap;

	if (!fmt) {
		printf("PASS: %s/%s\n", dev, name);
	} else {
		printf("FAIL: %s/%s: ", dev, name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
		failures++;
	}
	fflush(stdout);
}

struct vm {
	int sys, fd, vcpu;
	struct kvm_run *run;
	unsigned char *mem;
	size_t memsz;
};

/* Memory at 0, vCPU 0 and its run page, for a VM created already. */
static int vm_create_rest(struct vm *vm, size_t memsz)
{
	struct kvm_userspace_memory_region r;
	int sz;

	vm->memsz = memsz;
	vm->mem = mmap(NULL, memsz, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->mem == MAP_FAILED)
		return -errno;
	r = (struct kvm_userspace_memory_region){
		.slot = 0, .guest_phys_addr = 0, .memory_size = memsz,
		.userspace_addr = (uintptr_t)vm->mem,
	};
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r))
		return -errno;
	vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu < 0)
		return -errno;
	sz = ioctl(vm->sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < 4096)
		return -EINVAL;
	vm->run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->vcpu, 0);
	if (vm->run == MAP_FAILED)
		return -errno;
	return 0;
}

static int vm_create(struct vm *vm, size_t memsz)
{
	memset(vm, 0, sizeof(*vm));
	vm->sys = open(dev, O_RDWR | O_CLOEXEC);
	if (vm->sys < 0)
		return -errno;
	vm->fd = ioctl(vm->sys, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		return -errno;
	return vm_create_rest(vm, memsz);
}

static void vm_destroy(struct vm *vm)
{
	if (vm->run && vm->run != MAP_FAILED)
		munmap(vm->run, 4096);
	if (vm->mem && vm->mem != MAP_FAILED)
		munmap(vm->mem, vm->memsz);
	close(vm->vcpu);
	close(vm->fd);
	close(vm->sys);
}

/* Real mode at 0:0x1000 with code copied there. */
static int setup_real(struct vm *vm, const unsigned char *code, size_t len)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	memcpy(vm->mem + 0x1000, code, len);
	if (ioctl(vm->vcpu, KVM_GET_SREGS, &sregs))
		return -errno;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vm->vcpu, KVM_SET_SREGS, &sregs))
		return -errno;
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0x1000;
	regs.rflags = 2;
	regs.rsp = 0x8000;
	if (ioctl(vm->vcpu, KVM_SET_REGS, &regs))
		return -errno;
	return 0;
}

static void flat_seg(struct kvm_segment *s, int code, int l)
{
	memset(s, 0, sizeof(*s));
	s->limit = 0xffffffff;
	s->selector = code ? 0x8 : 0x10;
	s->type = code ? 0xb : 0x3;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = l;
	s->db = !l;
}

/* 32-bit flat protected mode, no IDT. */
static int setup_prot(struct vm *vm, const unsigned char *code, size_t len)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	memcpy(vm->mem + 0x1000, code, len);
	if (ioctl(vm->vcpu, KVM_GET_SREGS, &sregs))
		return -errno;
	flat_seg(&sregs.cs, 1, 0);
	flat_seg(&sregs.ds, 0, 0);
	sregs.es = sregs.ss = sregs.fs = sregs.gs = sregs.ds;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 = 0x11;	/* PE | ET */
	if (ioctl(vm->vcpu, KVM_SET_SREGS, &sregs))
		return -errno;
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0x1000;
	regs.rflags = 2;
	if (ioctl(vm->vcpu, KVM_SET_REGS, &regs))
		return -errno;
	return 0;
}

/* 64-bit mode, identity map of the first 1 GiB with 2 MiB pages. */
static int setup_long(struct vm *vm, const unsigned char *code, size_t len)
{
	uint64_t *pml4 = (uint64_t *)(vm->mem + 0x10000);
	uint64_t *pdpt = (uint64_t *)(vm->mem + 0x11000);
	uint64_t *pd = (uint64_t *)(vm->mem + 0x12000);
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int i;

	pml4[0] = 0x11000 | 3;
	pdpt[0] = 0x12000 | 3;
	/* 4 GiB: pd covers 1 GiB; add three more PDs for MMIO at 3.25G */
	for (i = 1; i < 4; i++) {
		uint64_t *p = (uint64_t *)(vm->mem + 0x12000 + i * 0x1000);
		int j;

		pdpt[i] = (0x12000 + i * 0x1000) | 3;
		for (j = 0; j < 512; j++)
			p[j] = (((uint64_t)i << 30) + ((uint64_t)j << 21)) | 0x83;
	}
	for (i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;
	memcpy(vm->mem + 0x1000, code, len);

	if (ioctl(vm->vcpu, KVM_GET_SREGS, &sregs))
		return -errno;
	flat_seg(&sregs.cs, 1, 1);
	flat_seg(&sregs.ds, 0, 0);
	sregs.es = sregs.ss = sregs.fs = sregs.gs = sregs.ds;
	sregs.cr3 = 0x10000;
	sregs.cr4 = 0x20;		/* PAE */
	sregs.cr0 = 0x80010011;		/* PG | WP | ET | PE */
	sregs.efer = 0x500;		/* LME | LMA */
	if (ioctl(vm->vcpu, KVM_SET_SREGS, &sregs))
		return -errno;
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0x1000;
	regs.rflags = 2;
	regs.rsp = 0x8000;
	if (ioctl(vm->vcpu, KVM_SET_REGS, &regs))
		return -errno;
	return 0;
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* Every run is bounded: a hung guest becomes -EINTR, not a hung test. */
static int run(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	int r;

	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART */
	alarm(10);
	r = ioctl(vm->vcpu, KVM_RUN, 0) ? -errno : 0;
	alarm(0);
	return r;
}

static uint32_t io_data(struct vm *vm)
{
	uint32_t v = 0;

	memcpy(&v, (char *)vm->run + vm->run->io.data_offset, vm->run->io.size);
	return v;
}

static void io_set(struct vm *vm, uint32_t v)
{
	memcpy((char *)vm->run + vm->run->io.data_offset, &v, vm->run->io.size);
}

/* A failed check FAILs the test with the message and ends it. */
#define CHECK(name, cond, ...)                                              \
	do {                                                                \
		if (!(cond)) {                                              \
			result(name, __VA_ARGS__);                          \
			return;                                             \
		}                                                           \
	} while (0)

static void api_checks(const char *name, int fd)
{
	int vm;

	CHECK(name, fd >= 0, "open: %s", strerror(errno));
	CHECK(name, ioctl(fd, KVM_GET_API_VERSION, 0) == 12, "api version");
	CHECK(name, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) == 1,
	      "no user memory cap");
	CHECK(name, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) == 1,
	      "no immediate exit cap");
	CHECK(name, ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0) >= 4096, "mmap size");
	CHECK(name, ioctl(fd, KVM_CREATE_VM, 77) < 0 && errno == EINVAL,
	      "bad VM type accepted");
	CHECK(name, ioctl(fd, _IO(KVMIO, 0xfe), 0) < 0, "unknown ioctl ok");
	{
		struct {
			struct kvm_cpuid2 c;
			struct kvm_cpuid_entry2 e[100];
		} cpuid = { .c.nent = 100 };
		unsigned int i, lm = 0;

		CHECK(name, !ioctl(fd, KVM_GET_SUPPORTED_CPUID, &cpuid),
		      "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		for (i = 0; i < cpuid.c.nent; i++)
			if (cpuid.e[i].function == 0x80000001)
				lm = cpuid.e[i].edx >> 29 & 1;
		CHECK(name, cpuid.c.nent > 2 && lm,
		      "supported cpuid: %u entries, LM %u", cpuid.c.nent, lm);
	}
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	CHECK(name, vm >= 0, "create vm: %s", strerror(errno));
	CHECK(name, ioctl(vm, KVM_CREATE_VCPU, 0) >= 0, "vcpu 0");
	CHECK(name, ioctl(vm, KVM_CREATE_VCPU, 0) < 0 && errno == EEXIST,
	      "duplicate vcpu id accepted (%s)", strerror(errno));
	CHECK(name, ioctl(vm, KVM_CREATE_VCPU, 100000) < 0, "huge vcpu id");
	close(vm);
	result(name, NULL);
}

/* ---- Our module's own counters (/sys/kernel/debug/vmm), vmm only ---- */

static int is_vmm(void)
{
	return strstr(dev, "vmm") != NULL;
}

/* A counter of /sys/kernel/debug/vmm, or -1 (debugfs mounted if need be). */
static long long vmm_stat(const char *stat)
{
	char path[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/vmm/%s", stat);
	if (access("/sys/kernel/debug/vmm", F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int cpu_online(int cpu, int on)
{
	char path[64];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online",
		 cpu);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ok = fprintf(f, "%d\n", on) > 0;
	return fclose(f) || !ok ? -1 : 0;
}

static int pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static void unpin(void)
{
	cpu_set_t set;
	int i;

	CPU_ZERO(&set);
	for (i = 0; i < CPU_SETSIZE; i++)
		CPU_SET(i, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* The only test without a VM of its own (vm is NULL). */
static void t_api(const char *name, struct vm *vm)
{
	int fd = open(dev, O_RDWR);

	(void)vm;
	api_checks(name, fd);
	close(fd);
}

/* Run on to the guest's final HLT. */
static int expect_hlt(struct vm *vm)
{
	int r = run(vm);

	return !r && vm->run->exit_reason == KVM_EXIT_HLT ? 0 : -1;
}

static void t_real_out_hlt(const char *name, struct vm *vm)
{
	int r = run(vm);

	CHECK(name, !r && vm->run->exit_reason == KVM_EXIT_IO,
	      "run %d exit %u", r, vm->run->exit_reason);
	CHECK(name, vm->run->io.port == 0x3f8 && vm->run->io.size == 1 &&
	      vm->run->io.direction == KVM_EXIT_IO_OUT && io_data(vm) == 'A',
	      "io port %x size %d dir %d data %x", vm->run->io.port,
	      vm->run->io.size, vm->run->io.direction, io_data(vm));
	r = run(vm);
	CHECK(name, !r && vm->run->exit_reason == KVM_EXIT_HLT,
	      "run %d exit %u", r, vm->run->exit_reason);
	result(name, NULL);
}

static int expect_io(struct vm *vm, int dir, int port, int size)
{
	int r = run(vm);

	if (r || vm->run->exit_reason != KVM_EXIT_IO ||
	    vm->run->io.direction != dir || vm->run->io.port != port ||
	    vm->run->io.size != size) {
		fprintf(stderr, "expect io %d/%x/%d: r %d exit %u dir %d port %x size %d\n",
			dir, port, size, r, vm->run->exit_reason,
			vm->run->io.direction, vm->run->io.port,
			vm->run->io.size);
		return -1;
	}
	return 0;
}

static void t_real_in(const char *name, struct vm *vm)
{
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_IN, 0x60, 1), "in 60");
	io_set(vm, 0x5a);
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_IN, 0x61, 2), "in 61");
	io_set(vm, 0xbeef);
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x70, 1), "out 70");
	CHECK(name, io_data(vm) == 0xef, "out 70 data %x", io_data(vm));
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x71, 1), "out 71");
	CHECK(name, io_data(vm) == 0x5a, "out 71 data %x", io_data(vm));
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_IN, 0x62, 4), "in 62");
	io_set(vm, 0xdeadbeef);
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x72, 4), "out 72");
	CHECK(name, io_data(vm) == 0xdeadbeef, "out 72 data %x",
	      io_data(vm));
	CHECK(name, !expect_hlt(vm), "hlt");
	result(name, NULL);
}

static int expect_mmio(struct vm *vm, uint64_t addr, int len, int write)
{
	int r = run(vm);

	if (r || vm->run->exit_reason != KVM_EXIT_MMIO ||
	    vm->run->mmio.phys_addr != addr || vm->run->mmio.len != (unsigned int)len ||
	    vm->run->mmio.is_write != write) {
		fprintf(stderr, "expect mmio %lx/%d/%d: r %d exit %u addr %llx len %u w %d\n",
			(unsigned long)addr, len, write, r,
			vm->run->exit_reason, vm->run->mmio.phys_addr,
			vm->run->mmio.len, vm->run->mmio.is_write);
		return -1;
	}
	return 0;
}

static void t_real_mmio(const char *name, struct vm *vm)
{
	uint64_t v = 0;

	CHECK(name, !expect_mmio(vm, 0x10000, 1, 1), "store");
	CHECK(name, vm->run->mmio.data[0] == 0x42, "store data");
	CHECK(name, !expect_mmio(vm, 0x10004, 1, 0), "load");
	vm->run->mmio.data[0] = 0x77;
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x10, 1), "out");
	CHECK(name, io_data(vm) == 0x77, "loaded %x", io_data(vm));
	CHECK(name, !expect_mmio(vm, 0x10008, 2, 1), "store16");
	memcpy(&v, vm->run->mmio.data, 2);
	CHECK(name, v == 0x1234, "store16 data %lx", (unsigned long)v);
	CHECK(name, !expect_mmio(vm, 0x10008, 2, 0), "load16");
	vm->run->mmio.data[0] = 0x34;
	vm->run->mmio.data[1] = 0x12;
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x11, 2), "out16");
	CHECK(name, io_data(vm) == 0x1234, "loaded16 %x", io_data(vm));
	CHECK(name, !expect_hlt(vm), "hlt");
	result(name, NULL);
}

static void t_prot_io(const char *name, struct vm *vm)
{
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x50, 4), "out");
	CHECK(name, io_data(vm) == 0x12345678, "data %x", io_data(vm));
	CHECK(name, !expect_hlt(vm), "hlt");
	result(name, NULL);
}

static void t_long_mmio(const char *name, struct vm *vm)
{
	uint64_t v = 0;

	CHECK(name, !expect_mmio(vm, 0xd0000000, 8, 1), "store64");
	memcpy(&v, vm->run->mmio.data, 8);
	CHECK(name, v == 0x1122334455667788ULL, "data %lx",
	      (unsigned long)v);
	CHECK(name, !expect_mmio(vm, 0xd0000010, 4, 1), "storeimm");
	v = 0;
	memcpy(&v, vm->run->mmio.data, 4);
	CHECK(name, v == 0xcafef00d, "imm %lx", (unsigned long)v);
	CHECK(name, !expect_mmio(vm, 0xd0000008, 1, 0), "movzx");
	vm->run->mmio.data[0] = 0xf0;
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x30, 4), "out30");
	CHECK(name, io_data(vm) == 0xf0, "movzx %x", io_data(vm));
	CHECK(name, !expect_mmio(vm, 0xd0000009, 1, 0), "movsx");
	vm->run->mmio.data[0] = 0x80;
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x31, 4), "out31");
	CHECK(name, io_data(vm) == 0xffffffff, "movsx %x", io_data(vm));
	CHECK(name, !expect_mmio(vm, 0xd0000018, 8, 0), "load64");
	v = 0xabcdef0187654321ULL;
	memcpy(vm->run->mmio.data, &v, 8);
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x32, 4), "out32");
	CHECK(name, io_data(vm) == 0x87654321, "r9 %x", io_data(vm));
	CHECK(name, !expect_hlt(vm), "hlt");
	result(name, NULL);
}

/* No setup in the table: the read-only slot comes first. */
static void t_readonly(const char *name, struct vm *vm)
{
	struct kvm_userspace_memory_region r2;
	unsigned char *rom;

	if (ioctl(vm->sys, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) != 1) {
		printf("SKIP: %s/readonly: no KVM_CAP_READONLY_MEM\n", dev);
		return;
	}
	rom = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(rom, 0x11, 0x1000);
	r2 = (struct kvm_userspace_memory_region){
		.slot = 1, .flags = KVM_MEM_READONLY,
		.guest_phys_addr = 0x200000, .memory_size = 0x1000,
		.userspace_addr = (uintptr_t)rom,
	};
	CHECK(name, !ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r2),
	      "ro slot: %s", strerror(errno));
	CHECK(name, !setup_long(vm, g_lm_ro, g_lm_ro_end - g_lm_ro),
	      "setup");
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x40, 4), "out40");
	CHECK(name, io_data(vm) == 0x11111111, "read %x", io_data(vm));
	CHECK(name, !expect_mmio(vm, 0x200000, 4, 1), "write exit");
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x41, 4), "out41");
	CHECK(name, io_data(vm) == 0x11111111 && rom[0] == 0x11,
	      "memory changed %x", io_data(vm));
	CHECK(name, !expect_hlt(vm), "hlt");
	result(name, NULL);
}

/* 32-bit paging: code through a 4 KiB page table, MMIO through a 4 MiB
 * page; or PAE: code through a 2 MiB page. */
static void t_paged(const char *name, struct vm *vm, int pae)
{
	struct kvm_sregs sregs;
	uint64_t v = 0;
	int i;

	if (!pae) {
		uint32_t *pd = (uint32_t *)(vm->mem + 0x20000);
		uint32_t *pt = (uint32_t *)(vm->mem + 0x21000);

		for (i = 0; i < 1024; i++)
			pt[i] = (i << 12) | 3;
		pd[0] = 0x21000 | 3;
		pd[0xd0000000 >> 22] = 0xe0000000 | 0x83;	/* 4 MiB */
	} else {
		uint64_t *pdpt = (uint64_t *)(vm->mem + 0x22000);
		uint64_t *pd0 = (uint64_t *)(vm->mem + 0x23000);
		uint64_t *pd3 = (uint64_t *)(vm->mem + 0x24000);

		pdpt[0] = 0x23000 | 1;
		pdpt[3] = 0x24000 | 1;
		pd0[0] = 0x83;					/* 2 MiB */
		pd3[(0xd0000000 >> 21) & 511] = 0xe0000000 | 0x83;
	}
	CHECK(name, !ioctl(vm->vcpu, KVM_GET_SREGS, &sregs), "get sregs");
	sregs.cr3 = pae ? 0x22000 : 0x20000;
	sregs.cr4 = pae ? 0x20 : 0x10;			/* PAE or PSE */
	sregs.cr0 |= 0x80000000;
	CHECK(name, !ioctl(vm->vcpu, KVM_SET_SREGS, &sregs), "set sregs: %s",
	      strerror(errno));
	CHECK(name, !expect_mmio(vm, 0xe0000000, 4, 1), "store");
	memcpy(&v, vm->run->mmio.data, 4);
	CHECK(name, v == 0x11223344, "data %lx", (unsigned long)v);
	CHECK(name, !expect_mmio(vm, 0xe0000006, 2, 0), "load");
	vm->run->mmio.data[0] = 0xcd;
	vm->run->mmio.data[1] = 0xab;
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x60, 4), "out");
	CHECK(name, io_data(vm) == 0xabcd, "movzwl %x", io_data(vm));
	CHECK(name, !expect_hlt(vm), "hlt");
	result(name, NULL);
}

static void t_paged32(const char *name, struct vm *vm)
{
	t_paged(name, vm, 0);
}

static void t_paged_pae(const char *name, struct vm *vm)
{
	t_paged(name, vm, 1);
}

static void t_string_io(const char *name, struct vm *vm)
{
	char got[16] = "";
	unsigned int n = 0, k = 0, i;
	int r;

	memcpy(vm->mem + 0x2000, "abc", 3);
	for (;;) {
		r = run(vm);
		CHECK(name, !r && vm->run->exit_reason == KVM_EXIT_IO,
		      "run %d exit %u", r, vm->run->exit_reason);
		if (vm->run->io.port != 0x90)
			break;
		for (i = 0; i < vm->run->io.count && n < 15; i++)
			got[n++] = ((char *)vm->run + vm->run->io.data_offset)[i];
	}
	got[n] = 0;
	CHECK(name, !strcmp(got, "abccb"), "outsb gave '%s'", got);
	CHECK(name, vm->run->io.port == 0x91, "port %x", vm->run->io.port);
	for (;;) {
		r = run(vm);
		CHECK(name, !r && vm->run->exit_reason == KVM_EXIT_IO,
		      "run %d exit %u", r, vm->run->exit_reason);
		if (vm->run->io.port != 0x92)
			break;
		for (i = 0; i < vm->run->io.count; i++)
			((char *)vm->run + vm->run->io.data_offset)[i] = 'x' + k++;
	}
	CHECK(name, vm->run->io.port == 0x93 && io_data(vm) == 0x7978,
	      "insb stored %x (port %x)", io_data(vm), vm->run->io.port);
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x94, 2), "di");
	CHECK(name, io_data(vm) == 0x3002, "di %x", io_data(vm));
	CHECK(name, !expect_hlt(vm), "hlt");
	result(name, NULL);
}

static void t_shutdown(const char *name, struct vm *vm)
{
	int r = run(vm);

	CHECK(name, !r && vm->run->exit_reason == KVM_EXIT_SHUTDOWN,
	      "run %d exit %u", r, vm->run->exit_reason);
	result(name, NULL);
}

/* No setup in the table: KVM_SET_CPUID2 comes first. */
static void t_cpuid(const char *name, struct vm *vm)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[1];
	} cpuid;

	memset(&cpuid, 0, sizeof(cpuid));
	cpuid.c.nent = 1;
	cpuid.e[0].function = 0;
	cpuid.e[0].eax = 1;
	cpuid.e[0].ebx = 0x6c696276;	/* "vbil" */
	CHECK(name, !ioctl(vm->vcpu, KVM_SET_CPUID2, &cpuid), "set cpuid: %s",
	      strerror(errno));
	CHECK(name, !setup_real(vm, g_rm_cpuid, g_rm_cpuid_end - g_rm_cpuid),
	      "setup");
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x20, 4), "out");
	CHECK(name, io_data(vm) == 0x6c696276, "ebx %x", io_data(vm));
	result(name, NULL);
}

/*
 * Topology and cache leaves as KVM reports them (issue 9): leaf 4 and
 * 0x8000001d are the host's, every subleaf up to the first with cache
 * type 0, flagged index-significant; leaf 0xb has no levels and
 * 0x8000001e no IDs (userspace describes its own topology); the whole
 * table goes back in with KVM_SET_CPUID2.
 */
static void t_cpuid_topology(const char *name, struct vm *vm)
{
	static const unsigned int cache_leaves[] = { 4, 0x8000001d };
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[100];
	} cpuid = { .c.nent = 100 };
	unsigned int i, k, maxb, maxe, vendor, a, b, c, d;

	CHECK(name, !ioctl(vm->sys, KVM_GET_SUPPORTED_CPUID, &cpuid),
	      "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
	__cpuid(0, maxb, b, vendor, d);
	__cpuid(0x80000000, maxe, b, c, d);
	for (k = 0; k < 2; k++) {
		unsigned int fn = cache_leaves[k], seen = 0;

		if (fn < 0x80000000 ? fn > maxb : fn > maxe)
			continue;
		for (i = 0; i < cpuid.c.nent; i++) {
			struct kvm_cpuid_entry2 *e = &cpuid.e[i];

			if (e->function != fn)
				continue;
			__cpuid_count(fn, e->index, a, b, c, d);
			CHECK(name, e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
			      "leaf %x.%u flags %x", fn, e->index, e->flags);
			CHECK(name, e->eax == a && e->ebx == b && e->ecx == c &&
			      e->edx == d, "leaf %x.%u: %x %x %x %x, host %x %x %x %x",
			      fn, e->index, e->eax, e->ebx, e->ecx, e->edx,
			      a, b, c, d);
			CHECK(name, e->index == seen++, "leaf %x: subleaf %u",
			      fn, e->index);
		}
		if (fn == 0x8000001d && vendor != 0x444d4163)
			continue;	/* not "AuthenticAMD": may be absent */
		CHECK(name, seen, "no leaf %x", fn);
		__cpuid_count(fn, seen - 1, a, b, c, d);
		CHECK(name, !(a & 0x1f), "leaf %x ends at subleaf %u, type %u",
		      fn, seen - 1, a & 0x1f);
	}
	for (i = 0; i < cpuid.c.nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid.e[i];

		if (e->function == 0xb)
			CHECK(name, !e->eax && !e->ebx && !e->ecx,
			      "leaf b.%u: %x %x %x", e->index, e->eax, e->ebx,
			      e->ecx);
		if (e->function == 0x8000001e)
			CHECK(name, !e->eax && !e->ebx && !e->ecx,
			      "leaf 8000001e: %x %x %x", e->eax, e->ebx, e->ecx);
	}
	CHECK(name, !ioctl(vm->vcpu, KVM_SET_CPUID2, &cpuid),
	      "KVM_SET_CPUID2 of the supported table (%u entries): %s",
	      cpuid.c.nent, strerror(errno));
	result(name, NULL);
}

static void t_immediate_exit(const char *name, struct vm *vm)
{
	int r;

	vm->run->immediate_exit = 1;
	r = run(vm);
	CHECK(name, r == -EINTR, "run %d", r);
	vm->run->immediate_exit = 0;
	result(name, NULL);
}

static void t_signal(const char *name, struct vm *vm)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct timespec t0, t1;
	long ms;
	int r;

	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	alarm(1);
	r = ioctl(vm->vcpu, KVM_RUN, 0) ? -errno : 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK(name, r == -EINTR && vm->run->exit_reason == KVM_EXIT_INTR,
	      "run %d exit %u", r, vm->run->exit_reason);
	CHECK(name, ms < 3000, "took %ld ms", ms);
	result(name, NULL);
}

static void t_regs(const char *name, struct vm *vm)
{
	struct kvm_regs regs, back;
	struct kvm_fpu fpu, fback;
	struct {
		struct kvm_msrs m;
		struct kvm_msr_entry e[2];
	} msrs;

	memset(&regs, 0, sizeof(regs));
	regs.rax = 1; regs.rbx = 2; regs.rcx = 3; regs.rdx = 4;
	regs.rsi = 5; regs.rdi = 6; regs.rsp = 7; regs.rbp = 8;
	regs.r8 = 9; regs.r15 = 16; regs.rip = 0x1234; regs.rflags = 0x202;
	CHECK(name, !ioctl(vm->vcpu, KVM_SET_REGS, &regs), "set");
	CHECK(name, !ioctl(vm->vcpu, KVM_GET_REGS, &back), "get");
	CHECK(name, !memcmp(&regs, &back, sizeof(regs)), "mismatch");
	CHECK(name, !ioctl(vm->vcpu, KVM_GET_FPU, &fpu), "get fpu");
	CHECK(name, fpu.fcw == 0x37f, "reset fpu fcw %x", fpu.fcw);
	fpu.xmm[3][0] = 0xaa;
	CHECK(name, !ioctl(vm->vcpu, KVM_SET_FPU, &fpu), "set fpu");
	CHECK(name, !ioctl(vm->vcpu, KVM_GET_FPU, &fback), "get fpu");
	CHECK(name, fback.xmm[3][0] == 0xaa, "fpu xmm");
	memset(&msrs, 0, sizeof(msrs));
	msrs.m.nmsrs = 2;
	msrs.e[0].index = 0xc0000081;	/* STAR */
	msrs.e[0].data = 0x0023001000000000ULL;
	msrs.e[1].index = 0x174;	/* SYSENTER_CS */
	msrs.e[1].data = 0x10;
	CHECK(name, ioctl(vm->vcpu, KVM_SET_MSRS, &msrs) == 2, "set msrs");
	msrs.e[0].data = msrs.e[1].data = 0;
	CHECK(name, ioctl(vm->vcpu, KVM_GET_MSRS, &msrs) == 2, "get msrs");
	CHECK(name, msrs.e[0].data == 0x0023001000000000ULL &&
	      msrs.e[1].data == 0x10, "msr values");
	result(name, NULL);
}

static void t_slots(const char *name, struct vm *vm)
{
	struct kvm_userspace_memory_region r2;
	unsigned char *m2;

	m2 = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	r2 = (struct kvm_userspace_memory_region){
		.slot = 1, .guest_phys_addr = 0x80000, .memory_size = 0x10000,
		.userspace_addr = (uintptr_t)m2,
	};
	CHECK(name, ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r2) < 0,
	      "overlap accepted");
	r2.guest_phys_addr = 0x100000;
	r2.userspace_addr += 1;
	CHECK(name, ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r2) < 0,
	      "unaligned accepted");
	r2.userspace_addr -= 1;
	CHECK(name, !ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r2),
	      "add: %s", strerror(errno));
	r2.memory_size = 0;
	CHECK(name, !ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r2),
	      "delete: %s", strerror(errno));
	r2.memory_size = 0x10000;
	CHECK(name, !ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r2),
	      "re-add: %s", strerror(errno));
	/* after deleting slot 0 the guest's code is gone: MMIO fetch */
	result(name, NULL);
}

static void t_interrupt(const char *name, struct vm *vm)
{
	struct kvm_interrupt irq = { .irq = 0x20 };
	int r = run(vm);

	CHECK(name, !r && vm->run->exit_reason == KVM_EXIT_HLT,
	      "hlt: run %d exit %u", r, vm->run->exit_reason);
	CHECK(name, vm->run->if_flag &&
	      vm->run->ready_for_interrupt_injection, "not ready after sti");
	CHECK(name, !ioctl(vm->vcpu, KVM_INTERRUPT, &irq),
	      "KVM_INTERRUPT: %s", strerror(errno));
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x21, 1),
	      "handler did not run");
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x22, 1),
	      "no return from the handler");
	CHECK(name, !vm->run->if_flag &&
	      !vm->run->ready_for_interrupt_injection, "ready with IF=0");
	vm->run->request_interrupt_window = 1;
	r = run(vm);
	CHECK(name, !r && vm->run->exit_reason == KVM_EXIT_IRQ_WINDOW_OPEN,
	      "window: run %d exit %u", r, vm->run->exit_reason);
	CHECK(name, vm->run->ready_for_interrupt_injection,
	      "window open but not ready");
	vm->run->request_interrupt_window = 0;
	CHECK(name, !ioctl(vm->vcpu, KVM_INTERRUPT, &irq), "inject 2");
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x21, 1),
	      "handler did not run in the window");
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x23, 1),
	      "no return to the main code");
	result(name, NULL);
}

/*
 * Issue 14 K1: a CPU on which SVM was just switched on (module load, CPU
 * online) may hold TLB entries of an earlier hypervisor's guests under
 * any ASID; its first VMRUN must flush them all.  No guest can see a
 * stale entry on QEMU's SVM model (it keeps no TLB across VMRUN), so the
 * module's count of full flushes is the witness: CPU 1 goes offline and
 * online, and the first guest run on it must flush.  vmm only.
 */
static void t_asid_flush_after_enable(const char *name, struct vm *unused)
{
	long long before, after;
	unsigned int exit_reason;
	struct vm vm;
	int r;

	(void)unused;
	if (!is_vmm() || vmm_stat("asid_flush_all") < 0) {
		printf("SKIP: %s/%s: not our module (no debugfs counters)\n",
		       dev, name);
		return;
	}
	if (cpu_online(1, 0)) {
		printf("SKIP: %s/%s: cannot take CPU 1 offline\n", dev, name);
		return;
	}
	CHECK(name, !cpu_online(1, 1), "CPU 1 does not come back");
	before = vmm_stat("asid_flush_all");
	CHECK(name, !pin_to_cpu(1), "cannot run on CPU 1: %s", strerror(errno));
	r = vm_create(&vm, 1 << 20);
	if (!r)
		r = setup_real(&vm, g_rm_out, g_rm_out_end - g_rm_out);
	if (!r)
		r = run(&vm);
	unpin();
	after = vmm_stat("asid_flush_all");
	exit_reason = r ? 0 : vm.run->exit_reason;
	vm_destroy(&vm);
	CHECK(name, !r && exit_reason == KVM_EXIT_IO, "guest run: %d exit %u",
	      r, exit_reason);
	CHECK(name, after > before,
	      "no full ASID flush on the first run after CPU 1 came online (%lld -> %lld)",
	      before, after);
	result(name, NULL);
}

/*
 * Issue 14 K3: a guest must not switch on 5-level paging (LA57), which
 * our guest page walk cannot follow and neither device offers here:
 * MOV to CR4 with LA57 is #GP (shutdown, no IDT) when the guest's CPUID
 * lacks it.  A valid bit (PGE)
 * still goes in and reads back.
 */
static void t_cr4_write(const char *name, struct vm *vm)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[100];
	} cpuid = { .c.nent = 100 };
	unsigned int i;
	int r;

	/* The device's CPUID less LA57: KVM checks CR4 against it. */
	CHECK(name, !ioctl(vm->sys, KVM_GET_SUPPORTED_CPUID, &cpuid),
	      "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
	for (i = 0; i < cpuid.c.nent; i++)
		if (cpuid.e[i].function == 7 && cpuid.e[i].index == 0)
			cpuid.e[i].ecx &= ~(1u << 16);
	CHECK(name, !ioctl(vm->vcpu, KVM_SET_CPUID2, &cpuid),
	      "KVM_SET_CPUID2: %s", strerror(errno));

	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x70, 4), "out 70");
	CHECK(name, io_data(vm) & 0x80, "PGE did not stick: cr4 %x",
	      io_data(vm));
	r = run(vm);
	CHECK(name, !r && vm->run->exit_reason == KVM_EXIT_SHUTDOWN,
	      "LA57 accepted: run %d exit %u (port %x data %x)", r,
	      vm->run->exit_reason, vm->run->io.port, io_data(vm));
	result(name, NULL);
}

/*
 * Issue 14 K4: EFER.LME may change only while paging is off; a WRMSR
 * that sets it with CR0.PG on is #GP (shutdown, no IDT), not a state
 * that the next VMRUN refuses.  32-bit paging with one 4 MiB page.
 */
static void t_efer_lme_paging(const char *name, struct vm *vm)
{
	uint32_t *pd = (uint32_t *)(vm->mem + 0x20000);
	struct kvm_sregs sregs;
	int r;

	pd[0] = 0x83;				/* 4 MiB at 0, writable */
	CHECK(name, !ioctl(vm->vcpu, KVM_GET_SREGS, &sregs), "get sregs");
	sregs.cr3 = 0x20000;
	sregs.cr4 = 0x10;			/* PSE */
	sregs.cr0 |= 0x80000000;
	CHECK(name, !ioctl(vm->vcpu, KVM_SET_SREGS, &sregs), "set sregs: %s",
	      strerror(errno));
	r = run(vm);
	CHECK(name, !r && vm->run->exit_reason == KVM_EXIT_SHUTDOWN,
	      "LME set under paging: run %d exit %u (port %x data %x)", r,
	      vm->run->exit_reason, vm->run->io.port, io_data(vm));
	result(name, NULL);
}

/*
 * Issue 14 K5: KVM_SET_CPUID2 is all or nothing.  A table whose second
 * entry lies in an unreadable page fails with EFAULT and the vCPU keeps
 * the table it had, first entry included.
 */
static void t_cpuid_atomic(const char *name, struct vm *vm)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[2];
	} cpuid, back;
	struct kvm_cpuid2 *bad;
	unsigned char *pages;

	memset(&cpuid, 0, sizeof(cpuid));
	cpuid.c.nent = 1;
	cpuid.e[0].function = 0;
	cpuid.e[0].ebx = 0x11111111;
	CHECK(name, !ioctl(vm->vcpu, KVM_SET_CPUID2, &cpuid), "set cpuid: %s",
	      strerror(errno));
	pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(name, pages != MAP_FAILED, "mmap");
	/* Header and entry 0 end the first page; entry 1 is unreadable. */
	bad = (struct kvm_cpuid2 *)(pages + 4096 - sizeof(*bad) -
				    sizeof(bad->entries[0]));
	bad->nent = 2;
	bad->entries[0].function = 0;
	bad->entries[0].ebx = 0x22222222;
	mprotect(pages + 4096, 4096, PROT_NONE);
	CHECK(name, ioctl(vm->vcpu, KVM_SET_CPUID2, bad) < 0 &&
	      errno == EFAULT, "half-readable table: %s", strerror(errno));
	munmap(pages, 8192);
	/* Room for one entry only: a table grown by the failed set is E2BIG
	 * (KVM updates nent only then). */
	memset(&back, 0, sizeof(back));
	back.c.nent = 1;
	CHECK(name, !ioctl(vm->vcpu, KVM_GET_CPUID2, &back),
	      "get cpuid: %s (table grown by a failed set?)", strerror(errno));
	CHECK(name, back.e[0].ebx == 0x11111111,
	      "table changed by a failed set: ebx %x", back.e[0].ebx);
	result(name, NULL);
}

/*
 * ALU read-modify-write, XCHG and REP STOS on MMIO: each is a read exit
 * and a write exit (or writes only), with the arithmetic flags and the
 * registers as the CPU leaves them.
 */
static void t_mmio_rmw(const char *name, struct vm *vm)
{
	uint64_t v = 0;
	unsigned int i;

	CHECK(name, !expect_mmio(vm, 0xd0000000, 4, 0), "add: read");
	v = 0xfffffffb;
	memcpy(vm->run->mmio.data, &v, 4);
	CHECK(name, !expect_mmio(vm, 0xd0000000, 4, 1), "add: write");
	v = 0;
	memcpy(&v, vm->run->mmio.data, 4);
	CHECK(name, v == 0, "add: wrote %lx", (unsigned long)v);
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x30, 4), "flags out");
	/* 0xfffffffb + 5 = 0 with carry: CF ZF PF AF set, SF OF clear */
	CHECK(name, (io_data(vm) & 0x8d5) == 0x55, "add: flags %x",
	      io_data(vm) & 0x8d5);
	CHECK(name, !expect_mmio(vm, 0xd0000004, 1, 0), "or: read");
	vm->run->mmio.data[0] = 0x01;
	CHECK(name, !expect_mmio(vm, 0xd0000004, 1, 1), "or: write");
	CHECK(name, vm->run->mmio.data[0] == 0x81, "or: wrote %x",
	      vm->run->mmio.data[0]);
	CHECK(name, !expect_mmio(vm, 0xd0000008, 2, 0), "xchg: read");
	vm->run->mmio.data[0] = 0x44;
	vm->run->mmio.data[1] = 0x33;
	CHECK(name, !expect_mmio(vm, 0xd0000008, 2, 1), "xchg: write");
	v = 0;
	memcpy(&v, vm->run->mmio.data, 2);
	CHECK(name, v == 0x1122, "xchg: wrote %lx", (unsigned long)v);
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x31, 4), "xchg out");
	CHECK(name, io_data(vm) == 0x3344, "xchg: cx %x", io_data(vm));
	for (i = 0; i < 2; i++) {
		CHECK(name, !expect_mmio(vm, 0xd0000010 + 2 * i, 2, 1),
		      "stosw %u", i);
		v = 0;
		memcpy(&v, vm->run->mmio.data, 2);
		CHECK(name, v == 0xabcd, "stosw %u wrote %lx", i,
		      (unsigned long)v);
	}
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x32, 4), "stos out");
	CHECK(name, io_data(vm) == 0, "stos: ecx %x", io_data(vm));
	CHECK(name, !expect_hlt(vm), "hlt");
	result(name, NULL);
}

/* The device's supported CPUID as the guest's (KVM checks XCR0 against it). */
static int set_supported_cpuid(struct vm *vm)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[100];
	} cpuid = { .c.nent = 100 };

	if (ioctl(vm->sys, KVM_GET_SUPPORTED_CPUID, &cpuid) ||
	    ioctl(vm->vcpu, KVM_SET_CPUID2, &cpuid))
		return -errno;
	return 0;
}

/*
 * XSAVE: the guest sets XCR0 to x87|SSE|AVX (the value must survive the
 * exit that follows) and loads YMM0; the host sees XCR0 in KVM_GET_XCRS
 * and YMM0 in KVM_GET_XSAVE (XMM0 in the legacy area, the upper half in
 * the AVX component), puts other values there with KVM_SET_XSAVE, and
 * the guest stores what the host put.
 *
 * kvm-amd under QEMU 7.2's SVM model (which runs a guest's XSETBV
 * without the intercept) puts its own idea of XCR0 back at the next
 * entry, so the guest's AVX faults there: on /dev/kvm a shutdown at the
 * first AVX instruction is reported, not failed.
 */
static void t_xsave(const char *name, struct vm *vm)
{
	struct kvm_xcrs xcrs;
	struct kvm_xsave *x;
	struct kvm_sregs sregs;
	unsigned char *xmm0, *hi;
	uint64_t *bv;
	int i;

	if (ioctl(vm->sys, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) <= 0 ||
	    ioctl(vm->sys, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) <= 0) {
		printf("SKIP: %s/%s: no KVM_CAP_XSAVE/XCRS\n", dev, name);
		return;
	}
	CHECK(name, !set_supported_cpuid(vm), "cpuid: %s", strerror(errno));
	CHECK(name, !setup_long(vm, g_lm_avx, g_lm_avx_end - g_lm_avx),
	      "setup");
	CHECK(name, !ioctl(vm->vcpu, KVM_GET_SREGS, &sregs), "sregs");
	sregs.cr4 |= 0x40000 | 0x600;	/* OSXSAVE, OSFXSR, OSXMMEXCPT */
	CHECK(name, !ioctl(vm->vcpu, KVM_SET_SREGS, &sregs), "cr4: %s",
	      strerror(errno));
	for (i = 0; i < 32; i++)
		vm->mem[0x3000 + i] = 0x10 + i;
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x40, 4), "xgetbv out");
	CHECK(name, io_data(vm) == 1, "reset XCR0 %x", io_data(vm));
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x43, 1),
	      "xsetbv 7 refused (exit %u)", vm->run->exit_reason);
	CHECK(name, !ioctl(vm->vcpu, KVM_GET_XCRS, &xcrs), "get xcrs");
	if (!is_vmm() && xcrs.xcrs[0].value != 7) {
		printf("SKIP: %s/%s: XCR0 %llx after the guest's XSETBV 7 (QEMU's SVM model runs it without the intercept)\n",
		       dev, name, (unsigned long long)xcrs.xcrs[0].value);
		return;
	}
	CHECK(name, xcrs.nr_xcrs >= 1 && xcrs.xcrs[0].xcr == 0 &&
	      xcrs.xcrs[0].value == 7, "XCR0 %llx",
	      (unsigned long long)xcrs.xcrs[0].value);
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x41, 1),
	      "ymm0 load: exit %u", vm->run->exit_reason);
	x = calloc(1, 8192);
	CHECK(name, x && !ioctl(vm->vcpu, KVM_GET_XSAVE, x), "get xsave");
	/* XMM0 at 160 of the legacy area, XSTATE_BV at 512, YMM_Hi128 576 */
	xmm0 = (unsigned char *)x->region + 160;
	bv = (uint64_t *)((unsigned char *)x->region + 512);
	hi = (unsigned char *)x->region + 576;
	CHECK(name, xmm0[0] == 0x10 && xmm0[15] == 0x1f && hi[0] == 0x20 &&
	      hi[15] == 0x2f && (*bv & 6) == 6,
	      "YMM0 %02x..%02x %02x..%02x, XSTATE_BV %llx", xmm0[0],
	      xmm0[15], hi[0], hi[15], (unsigned long long)*bv);
	for (i = 0; i < 16; i++) {
		xmm0[i] = 0xa0 + i;
		hi[i] = 0xb0 + i;
	}
	CHECK(name, !ioctl(vm->vcpu, KVM_SET_XSAVE, x), "set xsave: %s",
	      strerror(errno));
	free(x);
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x42, 1), "store out");
	CHECK(name, vm->mem[0x3100] == 0xa0 && vm->mem[0x310f] == 0xaf &&
	      vm->mem[0x3110] == 0xb0 && vm->mem[0x311f] == 0xbf,
	      "guest stored %02x..%02x %02x..%02x", vm->mem[0x3100],
	      vm->mem[0x310f], vm->mem[0x3110], vm->mem[0x311f]);
	CHECK(name, !expect_hlt(vm), "hlt");
	result(name, NULL);
}

static void idt_gate(struct vm *vm, unsigned int vec, const unsigned char *h)
{
	uint32_t off = 0x1000 + (uint32_t)(h - g_pm_irqchip);
	uint32_t *g = (uint32_t *)(vm->mem + 0x500 + vec * 8);

	g[0] = (off & 0xffff) | 0x8 << 16;
	g[1] = (off & 0xffff0000) | 0x8e00;	/* 32-bit interrupt gate */
}

/* An IOAPIC pin's entry through KVM_GET/SET_IRQCHIP. */
static int ioapic_route(struct vm *vm, int pin, uint64_t entry)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };

	if (ioctl(vm->fd, KVM_GET_IRQCHIP, &chip))
		return -errno;
	chip.chip.ioapic.redirtbl[pin].bits = entry;
	return ioctl(vm->fd, KVM_SET_IRQCHIP, &chip) ? -errno : 0;
}

static uint64_t efd_read(int fd)
{
	uint64_t v = 0;

	return read(fd, &v, sizeof(v)) == sizeof(v) ? v : 0;
}

/*
 * Interrupts through the in-kernel irqchip, each raised while the guest
 * sleeps in HLT inside KVM_RUN: KVM_SIGNAL_MSI, KVM_IRQ_LINE_STATUS to an
 * IOAPIC pin, an irqfd on an MSI route, an ioeventfd the handler writes,
 * a level pin with a resampling irqfd (lowered and signalled at the EOI),
 * KVM_NMI.  Both devices.
 */
/* KVM_GET_DIRTY_LOG of slot 1 (16 pages): the bitmap, or -errno. */
static long long dirty_log(struct vm *vm)
{
	uint64_t bm = ~0ULL;
	struct kvm_dirty_log log = { .slot = 1, .dirty_bitmap = &bm };

	if (ioctl(vm->fd, KVM_GET_DIRTY_LOG, &log))
		return -errno;
	return (long long)(bm & 0xffff);
}

/*
 * Dirty-page logging (issue 11), both devices alike: a 16-page slot at
 * 1 MiB that the guest writes before logging is on (its mapping must lose
 * the write permission when logging starts), then exactly the pages
 * written since the last KVM_GET_DIRTY_LOG (a read does not count, a page
 * written twice is reported once), nothing without a run in between,
 * ENOENT for a slot without logging and after logging is switched off.
 */
static void t_dirty_log(const char *name, struct vm *vm)
{
	struct kvm_userspace_memory_region r;
	unsigned char *mem2;
	long long bm;
	uint64_t bits = 0;
	struct kvm_dirty_log log0 = { .slot = 0, .dirty_bitmap = &bits };

	mem2 = mmap(NULL, 16 << 12, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(name, mem2 != MAP_FAILED, "mmap");
	r = (struct kvm_userspace_memory_region){
		.slot = 1, .guest_phys_addr = 0x100000, .memory_size = 16 << 12,
		.userspace_addr = (uintptr_t)mem2,
	};
	CHECK(name, !ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r),
	      "slot 1: %s", strerror(errno));
	CHECK(name, dirty_log(vm) == -ENOENT, "log of an unlogged slot: %lld",
	      dirty_log(vm));
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x50, 1), "first exit");
	r.flags = KVM_MEM_LOG_DIRTY_PAGES;
	CHECK(name, !ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r),
	      "logging on: %s", strerror(errno));
	CHECK(name, ioctl(vm->fd, KVM_GET_DIRTY_LOG, &log0) && errno == ENOENT,
	      "slot 0 is not logged: %s", strerror(errno));
	bm = dirty_log(vm);
	CHECK(name, bm == 0, "after logging on: %llx, want 0", bm);
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x51, 1), "second exit");
	bm = dirty_log(vm);
	CHECK(name, bm == 0x14, "pages 2 and 4 written: %llx", bm);
	bm = dirty_log(vm);
	CHECK(name, bm == 0, "no run in between: %llx", bm);
	CHECK(name, !expect_io(vm, KVM_EXIT_IO_OUT, 0x52, 1), "third exit");
	bm = dirty_log(vm);
	CHECK(name, bm == 0x10, "page 4 written again, 6 read: %llx", bm);
	r.flags = 0;
	CHECK(name, !ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r),
	      "logging off: %s", strerror(errno));
	CHECK(name, dirty_log(vm) == -ENOENT, "log after logging off: %lld",
	      dirty_log(vm));
	CHECK(name, !run(vm) && vm->run->exit_reason == KVM_EXIT_HLT,
	      "to HLT: exit %u", vm->run->exit_reason);
	CHECK(name, mem2[0x2000] == 2 && mem2[0x4000] == 3 &&
	      mem2[0x8000] == 4, "memory %u %u %u", mem2[0x2000],
	      mem2[0x4000], mem2[0x8000]);
	munmap(mem2, 16 << 12);
	result(name, NULL);
}

/*
 * A backend without event injection (vmm-intel so far) has no in-kernel
 * irqchip: the irqchip tests skip there, and irqchip-refused checks that
 * it says so and refuses cleanly.  1 (after printing SKIP) when @vmfd has
 * no KVM_CAP_IRQCHIP.
 */
static int skip_without_irqchip(const char *name, int vmfd)
{
	if (ioctl(vmfd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) > 0)
		return 0;
	printf("SKIP: %s/%s: no in-kernel irqchip on this backend (irqchip-refused checks that)\n",
	       dev, name);
	return 1;
}

static void t_irqchip_refused(const char *name, struct vm *unused)
{
	static const long caps[] = {
		KVM_CAP_IRQCHIP, KVM_CAP_IRQ_ROUTING, KVM_CAP_IRQFD,
		KVM_CAP_SIGNAL_MSI, KVM_CAP_PIT2, KVM_CAP_USER_NMI,
		KVM_CAP_VCPU_EVENTS, KVM_CAP_DEBUGREGS,
	};
	struct kvm_vcpu_events ev;
	struct kvm_debugregs dr;
	struct vm vm;
	unsigned int i;
	int r;

	(void)unused;
	memset(&vm, 0, sizeof(vm));
	vm.sys = open(dev, O_RDWR | O_CLOEXEC);
	vm.fd = ioctl(vm.sys, KVM_CREATE_VM, 0);
	CHECK(name, vm.fd >= 0, "create vm");
	if (ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) > 0) {
		printf("SKIP: %s/%s: this backend has the in-kernel irqchip\n",
		       dev, name);
		close(vm.fd);
		close(vm.sys);
		return;
	}
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		CHECK(name, ioctl(vm.fd, KVM_CHECK_EXTENSION, caps[i]) == 0,
		      "VM: capability %ld offered", caps[i]);
		CHECK(name, ioctl(vm.sys, KVM_CHECK_EXTENSION, caps[i]) == 0,
		      "system: capability %ld offered", caps[i]);
	}
	errno = 0;
	CHECK(name, ioctl(vm.fd, KVM_CREATE_IRQCHIP, 0) < 0 && errno == ENOTTY,
	      "KVM_CREATE_IRQCHIP: %s, want ENOTTY", strerror(errno));
	r = vm_create_rest(&vm, 1 << 20);
	CHECK(name, !r, "vm: %s", strerror(-r));
	errno = 0;
	CHECK(name, ioctl(vm.vcpu, KVM_NMI) < 0 && errno == ENOTTY,
	      "KVM_NMI: %s, want ENOTTY", strerror(errno));
	errno = 0;
	CHECK(name, ioctl(vm.vcpu, KVM_GET_VCPU_EVENTS, &ev) < 0 &&
	      errno == ENOTTY, "KVM_GET_VCPU_EVENTS: %s, want ENOTTY",
	      strerror(errno));
	errno = 0;
	CHECK(name, ioctl(vm.vcpu, KVM_GET_DEBUGREGS, &dr) < 0 &&
	      errno == ENOTTY, "KVM_GET_DEBUGREGS: %s, want ENOTTY",
	      strerror(errno));
	/* Still a working VM: the real-mode OUT to the serial port. */
	CHECK(name, !setup_real(&vm, g_rm_out, g_rm_out_end - g_rm_out),
	      "setup");
	CHECK(name, !ioctl(vm.vcpu, KVM_RUN, 0), "run: %s", strerror(errno));
	CHECK(name, vm.run->exit_reason == KVM_EXIT_IO,
	      "exit %u, want KVM_EXIT_IO", vm.run->exit_reason);
	vm_destroy(&vm);
	result(name, NULL);
}

static void t_irqchip_delivery(const char *name, struct vm *unused)
{
	struct kvm_irq_routing_entry *e;
	struct kvm_irq_routing *rt;
	struct kvm_irq_level line;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_msi msi;
	struct vm vm;
	int efd = -1, iofd = -1, lvl = -1, res = -1, r, i, n = 0;

	(void)unused;
	memset(&vm, 0, sizeof(vm));
	vm.sys = open(dev, O_RDWR | O_CLOEXEC);
	vm.fd = ioctl(vm.sys, KVM_CREATE_VM, 0);
	CHECK(name, vm.fd >= 0, "create vm");
	if (skip_without_irqchip(name, vm.fd)) {
		close(vm.fd);
		close(vm.sys);
		return;
	}
	CHECK(name, !ioctl(vm.fd, KVM_CREATE_IRQCHIP, 0), "irqchip: %s",
	      strerror(errno));
	r = vm_create_rest(&vm, 1 << 20);
	CHECK(name, !r, "vm: %s", strerror(-r));
	CHECK(name, !setup_prot(&vm, g_pm_irqchip,
				g_pm_irqchip_end - g_pm_irqchip), "setup");
	idt_gate(&vm, 0x30, g_h30);
	idt_gate(&vm, 0x31, g_h31);
	idt_gate(&vm, 0x32, g_h32);
	idt_gate(&vm, 0x33, g_h33);
	idt_gate(&vm, 0x34, g_h34);
	idt_gate(&vm, 0x02, g_h02);
	/* A GDT for the gates' selector 8 (flat code) and 0x10 (data). */
	((uint64_t *)(vm.mem + 0x400))[1] = 0x00cf9b000000ffffULL;
	((uint64_t *)(vm.mem + 0x400))[2] = 0x00cf93000000ffffULL;
	CHECK(name, !ioctl(vm.vcpu, KVM_GET_SREGS, &sregs), "sregs");
	sregs.gdt.base = 0x400;
	sregs.gdt.limit = 0x17;
	sregs.idt.base = 0x500;
	sregs.idt.limit = 0x7ff;
	CHECK(name, !ioctl(vm.vcpu, KVM_SET_SREGS, &sregs), "set sregs");
	CHECK(name, !ioctl(vm.vcpu, KVM_GET_REGS, &regs), "regs");
	regs.rsp = 0x8000;
	CHECK(name, !ioctl(vm.vcpu, KVM_SET_REGS, &regs), "set regs");
	CHECK(name, !expect_io(&vm, KVM_EXIT_IO_OUT, 0x60, 1), "ready");

	/* MSI to APIC 0, vector 0x30 */
	msi = (struct kvm_msi){ .address_lo = 0xfee00000, .data = 0x30 };
	r = ioctl(vm.fd, KVM_SIGNAL_MSI, &msi);
	CHECK(name, r == 1, "KVM_SIGNAL_MSI: %d (%s)", r, strerror(errno));
	CHECK(name, !expect_io(&vm, KVM_EXIT_IO_OUT, 0x70, 1), "MSI handler");

	/* IOAPIC pin 5, edge, vector 0x31 */
	CHECK(name, !ioapic_route(&vm, 5, 0x31), "route pin 5");
	line = (struct kvm_irq_level){ .irq = 5, .level = 1 };
	CHECK(name, !ioctl(vm.fd, KVM_IRQ_LINE_STATUS, &line), "irq line");
	/* Default routing: the 8259 and the IOAPIC both take GSI 5. */
	CHECK(name, line.status >= 1, "IRQ_LINE_STATUS %d", line.status);
	line.level = 0;
	CHECK(name, !ioctl(vm.fd, KVM_IRQ_LINE, &line), "irq line 0");
	CHECK(name, !expect_io(&vm, KVM_EXIT_IO_OUT, 0x71, 1),
	      "IOAPIC handler");

	/* GSI 24: an MSI route, vector 0x32, raised by an irqfd */
	rt = calloc(1, sizeof(*rt) + 64 * sizeof(*e));
	e = rt->entries;
	for (i = 0; i < 24; i++) {
		e[n].gsi = i;
		e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		e[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e[n++].u.irqchip.pin = i;
	}
	e[n].gsi = 24;
	e[n].type = KVM_IRQ_ROUTING_MSI;
	e[n].u.msi.address_lo = 0xfee00000;
	e[n++].u.msi.data = 0x32;
	rt->nr = n;
	r = ioctl(vm.fd, KVM_SET_GSI_ROUTING, rt);
	free(rt);
	CHECK(name, !r, "routing: %s", strerror(errno));
	efd = eventfd(0, EFD_NONBLOCK);
	struct kvm_irqfd irqfd = { .fd = efd, .gsi = 24 };

	CHECK(name, !ioctl(vm.fd, KVM_IRQFD, &irqfd), "irqfd: %s",
	      strerror(errno));
	CHECK(name, eventfd_write(efd, 1) == 0, "eventfd write");
	CHECK(name, !expect_io(&vm, KVM_EXIT_IO_OUT, 0x72, 1), "irqfd handler");

	/* An ioeventfd on port 0x80, value 0x5a: no exit, a count */
	iofd = eventfd(0, EFD_NONBLOCK);
	struct kvm_ioeventfd io = {
		.datamatch = 0x5a, .addr = 0x80, .len = 1, .fd = iofd,
		.flags = KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DATAMATCH,
	};

	CHECK(name, !ioctl(vm.fd, KVM_IOEVENTFD, &io), "ioeventfd: %s",
	      strerror(errno));
	msi.data = 0x33;
	CHECK(name, ioctl(vm.fd, KVM_SIGNAL_MSI, &msi) == 1, "MSI 0x33");
	CHECK(name, !expect_io(&vm, KVM_EXIT_IO_OUT, 0x73, 1),
	      "no exit for the ioeventfd's port (port %x)", vm.run->io.port);
	CHECK(name, efd_read(iofd) == 1, "ioeventfd not signalled");

	/* IOAPIC pin 10 level, vector 0x34, a resampling irqfd */
	CHECK(name, !ioapic_route(&vm, 10, 0x34 | 1 << 15), "route pin 10");
	lvl = eventfd(0, EFD_NONBLOCK);
	res = eventfd(0, EFD_NONBLOCK);
	struct kvm_irqfd rfd = {
		.fd = lvl, .gsi = 10, .flags = KVM_IRQFD_FLAG_RESAMPLE,
		.resamplefd = res,
	};

	CHECK(name, !ioctl(vm.fd, KVM_IRQFD, &rfd), "resample irqfd: %s",
	      strerror(errno));
	CHECK(name, eventfd_write(lvl, 1) == 0, "eventfd write");
	CHECK(name, !expect_io(&vm, KVM_EXIT_IO_OUT, 0x74, 1), "level handler");
	CHECK(name, efd_read(res) == 0, "resampled before the EOI");
	CHECK(name, !expect_io(&vm, KVM_EXIT_IO_OUT, 0x75, 1), "after EOI");
	CHECK(name, efd_read(res) == 1, "no resample at the EOI");

	/* NMI */
	CHECK(name, !ioctl(vm.vcpu, KVM_NMI), "KVM_NMI: %s", strerror(errno));
	CHECK(name, !expect_io(&vm, KVM_EXIT_IO_OUT, 0x7f, 1), "NMI handler");

	close(efd);
	close(iofd);
	close(lvl);
	close(res);
	vm_destroy(&vm);
	result(name, NULL);
}

/*
 * The state ioctls a snapshot and a migration stand on round-trip: what
 * GET gives, SET takes, and GET gives it back unchanged, for changed
 * state too (PIC mask, IOAPIC entry, LAPIC TPR and LVT0, PIT channel 2,
 * MP state, an injected interrupt and NMI state, debug registers, XCR0 and
 * the XSAVE area).  Both devices.
 */
static void t_state_roundtrip(const char *name, struct vm *unused)
{
	struct kvm_pit_config pc = { .flags = KVM_PIT_SPEAKER_DUMMY };
	struct kvm_irqchip chip, back;
	struct kvm_lapic_state la, lb;
	struct kvm_pit_state2 pa, pb;
	struct kvm_mp_state mp;
	struct kvm_vcpu_events ea, eb;
	struct kvm_debugregs da, db;
	struct kvm_xcrs xa, xb;
	struct kvm_xsave *sa, *sb;
	struct vm vm;
	int ap, i, r;

	(void)unused;
	memset(&vm, 0, sizeof(vm));
	vm.sys = open(dev, O_RDWR | O_CLOEXEC);
	vm.fd = ioctl(vm.sys, KVM_CREATE_VM, 0);
	CHECK(name, vm.fd >= 0, "create vm");
	if (skip_without_irqchip(name, vm.fd)) {
		close(vm.fd);
		close(vm.sys);
		return;
	}
	CHECK(name, !ioctl(vm.fd, KVM_CREATE_IRQCHIP, 0), "irqchip: %s",
	      strerror(errno));
	CHECK(name, !ioctl(vm.fd, KVM_CREATE_PIT2, &pc), "pit: %s",
	      strerror(errno));
	r = vm_create_rest(&vm, 1 << 20);
	CHECK(name, !r, "vm: %s", strerror(-r));
	ap = ioctl(vm.fd, KVM_CREATE_VCPU, 1);
	CHECK(name, ap >= 0, "vcpu 1");

	for (i = 0; i < 3; i++) {
		memset(&chip, 0, sizeof(chip));
		chip.chip_id = i;
		CHECK(name, !ioctl(vm.fd, KVM_GET_IRQCHIP, &chip), "get chip %d", i);
		if (i == KVM_IRQCHIP_PIC_MASTER)
			chip.chip.pic.imr = 0xa5;
		if (i == KVM_IRQCHIP_IOAPIC)
			chip.chip.ioapic.redirtbl[3].bits = 0x0200000000018a45ULL;
		CHECK(name, !ioctl(vm.fd, KVM_SET_IRQCHIP, &chip), "set chip %d: %s",
		      i, strerror(errno));
		memset(&back, 0, sizeof(back));
		back.chip_id = i;
		CHECK(name, !ioctl(vm.fd, KVM_GET_IRQCHIP, &back), "get chip %d", i);
		CHECK(name, !memcmp(&chip, &back, sizeof(chip)),
		      "chip %d changed on the way", i);
	}

	CHECK(name, !ioctl(vm.vcpu, KVM_GET_LAPIC, &la), "get lapic");
	*(uint32_t *)(la.regs + 0x80) = 0x20;		/* TPR */
	*(uint32_t *)(la.regs + 0x350) = 0x700;		/* LVT0 ExtINT */
	*(uint32_t *)(la.regs + 0xf0) = 0x1ff;		/* SVR */
	CHECK(name, !ioctl(vm.vcpu, KVM_SET_LAPIC, &la), "set lapic: %s",
	      strerror(errno));
	CHECK(name, !ioctl(vm.vcpu, KVM_GET_LAPIC, &lb), "get lapic 2");
	*(uint32_t *)(la.regs + 0x390) = *(uint32_t *)(lb.regs + 0x390);
	*(uint32_t *)(la.regs + 0xa0) = *(uint32_t *)(lb.regs + 0xa0);
	CHECK(name, !memcmp(&la, &lb, sizeof(la)), "lapic changed on the way");

	CHECK(name, !ioctl(vm.fd, KVM_GET_PIT2, &pa), "get pit");
	pa.channels[2].mode = 2;
	pa.channels[2].count = 0x1234;
	pa.channels[2].rw_mode = 3;
	pa.channels[2].read_state = 3;
	pa.channels[2].write_state = 3;
	pa.channels[2].gate = 1;
	CHECK(name, !ioctl(vm.fd, KVM_SET_PIT2, &pa), "set pit: %s",
	      strerror(errno));
	CHECK(name, !ioctl(vm.fd, KVM_GET_PIT2, &pb), "get pit 2");
	/* kvm-amd restarts the counts at KVM_SET_PIT2; ours keeps them. */
	for (i = 0; i < 3 && !is_vmm(); i++)
		pa.channels[i].count_load_time = pb.channels[i].count_load_time;
	CHECK(name, !memcmp(pa.channels, pb.channels, sizeof(pa.channels)) &&
	      pa.flags == pb.flags, "pit changed on the way");

	CHECK(name, !ioctl(vm.vcpu, KVM_GET_MP_STATE, &mp) &&
	      mp.mp_state == KVM_MP_STATE_RUNNABLE, "BSP mp_state %u",
	      mp.mp_state);
	CHECK(name, !ioctl(ap, KVM_GET_MP_STATE, &mp) &&
	      mp.mp_state == KVM_MP_STATE_UNINITIALIZED, "AP mp_state %u",
	      mp.mp_state);
	mp.mp_state = KVM_MP_STATE_INIT_RECEIVED;
	CHECK(name, !ioctl(ap, KVM_SET_MP_STATE, &mp), "set mp_state");
	CHECK(name, !ioctl(ap, KVM_GET_MP_STATE, &mp) &&
	      mp.mp_state == KVM_MP_STATE_INIT_RECEIVED, "AP mp_state %u",
	      mp.mp_state);

	CHECK(name, !ioctl(vm.vcpu, KVM_GET_VCPU_EVENTS, &ea), "get events");
	ea.interrupt.injected = 1;
	ea.interrupt.nr = 0x41;
	ea.nmi.masked = 1;
	ea.flags &= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW;
	CHECK(name, !ioctl(vm.vcpu, KVM_SET_VCPU_EVENTS, &ea), "set events: %s",
	      strerror(errno));
	CHECK(name, !ioctl(vm.vcpu, KVM_GET_VCPU_EVENTS, &eb), "get events 2");
	CHECK(name, eb.interrupt.injected && eb.interrupt.nr == 0x41 &&
	      eb.nmi.masked && !eb.nmi.pending && !eb.exception.injected,
	      "events: irq %u/%#x nmi masked %u pending %u",
	      eb.interrupt.injected, eb.interrupt.nr, eb.nmi.masked,
	      eb.nmi.pending);

	memset(&da, 0, sizeof(da));
	da.db[0] = 0x1000;
	da.db[3] = 0xdead0000;
	da.dr6 = 0xffff0ff0;
	da.dr7 = 0x401;
	/* vmm-intel has the irqchip but not the debug registers (yet). */
	if (ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_DEBUGREGS) <= 0) {
		CHECK(name, ioctl(vm.vcpu, KVM_SET_DEBUGREGS, &da) < 0 &&
		      errno == ENOTTY, "set dr without the capability: %s",
		      strerror(errno));
	} else {
		CHECK(name, !ioctl(vm.vcpu, KVM_SET_DEBUGREGS, &da),
		      "set dr: %s", strerror(errno));
		CHECK(name, !ioctl(vm.vcpu, KVM_GET_DEBUGREGS, &db), "get dr");
		CHECK(name, db.db[0] == da.db[0] && db.db[3] == da.db[3] &&
		      db.dr7 == da.dr7 && db.dr6 == da.dr6,
		      "dr %llx %llx %llx", (unsigned long long)db.db[0],
		      (unsigned long long)db.db[3],
		      (unsigned long long)db.dr7);
	}

	if (ioctl(vm.sys, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0) {
		CHECK(name, !ioctl(vm.vcpu, KVM_GET_XCRS, &xa), "get xcrs");
		CHECK(name, !ioctl(vm.vcpu, KVM_SET_XCRS, &xa), "set xcrs: %s",
		      strerror(errno));
		CHECK(name, !ioctl(vm.vcpu, KVM_GET_XCRS, &xb) &&
		      !memcmp(&xa, &xb, sizeof(xa)), "xcrs changed");
		sa = calloc(1, 8192);
		sb = calloc(1, 8192);
		CHECK(name, sa && sb && !ioctl(vm.vcpu, KVM_GET_XSAVE, sa),
		      "get xsave");
		sa->region[40] = 0x12345678;	/* XMM0 */
		sa->region[128] |= 2;		/* XSTATE_BV: SSE */
		CHECK(name, !ioctl(vm.vcpu, KVM_SET_XSAVE, sa), "set xsave: %s",
		      strerror(errno));
		CHECK(name, !ioctl(vm.vcpu, KVM_GET_XSAVE, sb) &&
		      sb->region[40] == 0x12345678, "xsave lost XMM0");
		/* kvm-amd rewrites the header (XSTATE_BV); ours keeps it. */
		CHECK(name, !is_vmm() || !memcmp(sa, sb, 4096),
		      "xsave changed on the way");
		free(sa);
		free(sb);
	}
	close(ap);
	vm_destroy(&vm);
	result(name, NULL);
}

/*
 * Each test but api gets a VM of its own: memsz bytes of RAM at 0 and, when
 * setup is given, the guest code copied in and the vCPU set up to run it
 * (setup_real(), setup_prot() or setup_long()).  run_test() makes it and
 * destroys it after the test, whatever the test's result.
 */
struct test {
	const char *name;
	void (*fn)(const char *name, struct vm *vm);
	size_t memsz;
	int (*setup)(struct vm *vm, const unsigned char *code, size_t len);
	const unsigned char *code, *code_end;
};

#define GUEST_CODE(setup, guest) setup, guest, guest##_end
#define NO_GUEST_CODE NULL, NULL, NULL	/* the test sets its vCPU up */

static const struct test tests[] = {
	{ "api", t_api, 0, NO_GUEST_CODE },
	{ "asid-flush-after-enable", t_asid_flush_after_enable, 0,
	  NO_GUEST_CODE },
	{ "real-out-hlt", t_real_out_hlt,
	  1 << 20, GUEST_CODE(setup_real, g_rm_out) },
	{ "real-in", t_real_in, 1 << 20, GUEST_CODE(setup_real, g_rm_in) },
	{ "real-mmio", t_real_mmio,
	  64 << 10, GUEST_CODE(setup_real, g_rm_mmio) },
	{ "prot-io", t_prot_io, 1 << 20, GUEST_CODE(setup_prot, g_pm_io) },
	{ "long-mmio", t_long_mmio,
	  1 << 20, GUEST_CODE(setup_long, g_lm_mmio) },
	{ "mmio-rmw", t_mmio_rmw, 1 << 20, GUEST_CODE(setup_long, g_lm_rmw) },
	{ "prot-paging-mmio", t_paged32,
	  1 << 20, GUEST_CODE(setup_prot, g_pm_paged) },
	{ "pae-paging-mmio", t_paged_pae,
	  1 << 20, GUEST_CODE(setup_prot, g_pm_paged) },
	{ "readonly", t_readonly, 1 << 20, NO_GUEST_CODE },
	{ "triple-fault", t_shutdown,
	  1 << 20, GUEST_CODE(setup_prot, g_pm_ud) },
	{ "cpuid", t_cpuid, 1 << 20, NO_GUEST_CODE },
	{ "cpuid-atomic", t_cpuid_atomic, 1 << 20, NO_GUEST_CODE },
	{ "cpuid-topology", t_cpuid_topology, 1 << 20, NO_GUEST_CODE },
	{ "immediate-exit", t_immediate_exit,
	  1 << 20, GUEST_CODE(setup_real, g_rm_loop) },
	{ "signal", t_signal, 1 << 20, GUEST_CODE(setup_real, g_rm_loop) },
	{ "regs", t_regs, 1 << 20, NO_GUEST_CODE },
	{ "slots", t_slots, 1 << 20, NO_GUEST_CODE },
	{ "interrupt", t_interrupt, 1 << 20, GUEST_CODE(setup_real, g_rm_irq) },
	{ "cr4-write", t_cr4_write, 1 << 20, GUEST_CODE(setup_prot, g_pm_cr4) },
	{ "efer-lme-paging", t_efer_lme_paging,
	  1 << 20, GUEST_CODE(setup_prot, g_pm_efer_lme) },
	{ "xsave", t_xsave, 1 << 20, NO_GUEST_CODE },
	{ "irqchip-delivery", t_irqchip_delivery, 0, NO_GUEST_CODE },
	{ "irqchip-refused", t_irqchip_refused, 0, NO_GUEST_CODE },
	{ "dirty-log", t_dirty_log, 1 << 20, GUEST_CODE(setup_prot, g_pm_dirty) },
	{ "state-roundtrip", t_state_roundtrip, 0, NO_GUEST_CODE },
	{ "string-io", t_string_io,
	  1 << 20, GUEST_CODE(setup_real, g_rm_string) },
};

static void run_test(const struct test *t)
{
	struct vm vm;
	int r;

	if (!t->memsz) {
		t->fn(t->name, NULL);
		return;
	}
	r = vm_create(&vm, t->memsz);
	if (r)
		result(t->name, "create: %s", strerror(-r));
	else if (t->setup && t->setup(&vm, t->code, t->code_end - t->code))
		result(t->name, "setup");
	else
		t->fn(t->name, &vm);
	vm_destroy(&vm);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DEVICE [FILTER]\n", argv[0]);
		return 2;
	}
	if (!strcmp(argv[1], "--hold") && argc == 4) {
		/* Keep a VM open so the device's hypervisor owns SVM. */
		int fd = open(argv[2], O_RDWR);
		int vm = fd < 0 ? -1 : ioctl(fd, KVM_CREATE_VM, 0);

		if (vm < 0 || ioctl(vm, KVM_CREATE_VCPU, 0) < 0)
			return 1;
		sleep(atoi(argv[3]));
		return 0;
	}
	dev = argv[1];
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		const char *name = tests[i].name;

		/* FILTER: run the tests whose name has it; !FILTER: the rest */
		if (argc >= 3 && argv[2][0] == '!' && strstr(name, argv[2] + 1))
			printf("SKIP: %s/%s: excluded (%s)\n", dev, name, argv[2]);
		else if (argc < 3 || argv[2][0] == '!' || strstr(name, argv[2]))
			run_test(&tests[i]);
	}
	return failures;
}
