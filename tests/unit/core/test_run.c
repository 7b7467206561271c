/* SPDX-License-Identifier: MIT */
/*
 * The run loop on the fake backend, whose KVM_RUN plays a script of exits:
 * port and MMIO exits dispatched to handlers (string I/O one element at a
 * time), unhandled reads answered with all-ones or libvm_vcpu_complete_read(),
 * handler errors, stops and endings that first let the backend complete the
 * served access (one KVM_RUN with immediate_exit set), the translation of
 * the other exits, backend errors, and libvm_vm_run() stopping its other
 * vCPUs through the stop protocol.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../fakevm.h"

/* One scripted exit (built by the macros below); the script ends with HLT. */
struct step {
	uint32_t reason;       /* KVM_EXIT_* */
	uint64_t addr;
	uint32_t size, count;  /* PIO: bytes per element, elements; MMIO: size */
	bool write;
	uint8_t data[16];
};

#define OUT(port, sz, n, ...)                                                          \
	((struct step){ .reason = KVM_EXIT_IO, .addr = (port), .size = (sz), .count = (n),    \
			.write = true, .data = { __VA_ARGS__ } })
#define IN(port, sz)                                                                   \
	((struct step){ .reason = KVM_EXIT_IO, .addr = (port), .size = (sz), .count = 1 })
#define MMIO_WRITE(gpa, sz, ...)                                                       \
	((struct step){ .reason = KVM_EXIT_MMIO, .addr = (gpa), .size = (sz), .count = 1,     \
			.write = true, .data = { __VA_ARGS__ } })
#define EXIT(r) ((struct step){ .reason = (r) })

struct script {
	struct step step[8];
	int n, pos;
	int runs;              /* KVM_RUN calls */
	int completions;       /* of them with immediate_exit set */
	bool in_pending;       /* the last exit was an IN: its data goes to "RAX" */
	uint8_t rax[16];       /* what the guest received for the last IN */
	bool spin;             /* after the script: run until interrupted */
};

/* KVM's behaviour, as far as the loop sees it: the data of a port read is
 * taken at the next KVM_RUN, which then returns -EINTR when immediate_exit
 * is set (the access is complete, nothing else runs). */
static int play(libvm_vcpu *vcpu, struct kvm_run *run, void *opaque)
{
	struct script *s = opaque;
	const struct step *st;

	(void)vcpu;
	s->runs++;
	if (s->in_pending) {
		memcpy(s->rax, libvm__fake_io_data(run), sizeof(s->rax));
		s->in_pending = false;
	}
	if (__atomic_load_n(&run->immediate_exit, __ATOMIC_SEQ_CST)) {
		s->completions++;
		return -EINTR;
	}
	if (s->pos == s->n) {
		while (s->spin) {
			nanosleep(&(struct timespec){ 0, 200000 }, NULL);
			if (__atomic_load_n(&run->immediate_exit, __ATOMIC_SEQ_CST))
				return -EINTR;
		}
		run->exit_reason = KVM_EXIT_HLT;
		return 0;
	}
	st = &s->step[s->pos++];
	switch (st->reason) {
	case KVM_EXIT_IO:
		libvm__fake_exit_io(run, (uint16_t)st->addr, st->write, (uint8_t)st->size,
				    st->count, st->data);
		s->in_pending = !st->write;
		break;
	case KVM_EXIT_MMIO:
		libvm__fake_exit_mmio(run, st->addr, st->write, st->size, st->data);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
		run->internal.suberror = 1;
		run->internal.ndata = 99; /* more than fits: capped at 16 */
		for (int i = 0; i < 16; i++)
			run->internal.data[i] = 100 + i;
		break;
	default:
		run->exit_reason = st->reason;
		break;
	}
	return 0;
}

static void script(libvm_vcpu *v, struct script *s)
{
	struct libvm__fake_vcpu *f = libvm__fake_vcpu(v);

	f->run_fn = play;
	f->run_opaque = s;
}

/* A device at ports 0x10..0x13 and MMIO 0x100000: logs, answers 0x5a. */
struct dev {
	int calls;
	uint64_t addr[8];
	uint32_t value[8];
	int ret;               /* returned by the handler */
	bool stop, end;        /* the handler stops its vCPU / ends the run */
};

static int handler(libvm_vcpu *vcpu, uint64_t addr, void *data, uint32_t len, bool is_write,
		   void *opaque)
{
	struct dev *d = opaque;

	if (d->calls < 8) {
		d->addr[d->calls] = addr;
		d->value[d->calls] = 0;
		if (is_write)
			memcpy(&d->value[d->calls], data, len < 4 ? len : 4);
	}
	d->calls++;
	if (!is_write)
		memset(data, 0x5a, len);
	if (d->stop)
		libvm_vcpu_stop(vcpu);
	if (d->end)
		libvm_vcpu_end_run(vcpu, LIBVM_EXIT_GUEST_EXIT, 7);
	if (d->ret)
		return libvm__fail(d->ret, "the device is broken");
	return 0;
}

struct rig {
	libvm_vm *vm;
	libvm_vcpu *v;
	struct dev dev;
	struct script s;
	libvm_exit ex;
};

static void rig_up(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->vm = fakevm_new(NULL);
	r->v = fakevm_vcpu(r->vm, 0);
	assert_int_equal(libvm_io_register(r->vm, LIBVM_SPACE_PIO, 0x10, 4, "dev", handler,
					   &r->dev), 0);
	assert_int_equal(libvm_io_register(r->vm, LIBVM_SPACE_MMIO, 0x100000, 0x1000, "dev",
					   handler, &r->dev), 0);
	script(r->v, &r->s);
}

static void add(struct rig *r, struct step st)
{
	r->s.step[r->s.n++] = st;
}

static void test_pio_to_handler(void **state)
{
	struct rig r;

	(void)state;
	rig_up(&r);
	add(&r, OUT(0x11, 1, 1, 0x42));
	add(&r, IN(0x12, 2));
	/* String I/O: each element is one handler call. */
	add(&r, OUT(0x10, 2, 3, 1, 0, 2, 0, 3, 0));
	assert_int_equal(libvm_vcpu_run(r.v, &r.ex), 0);
	assert_int_equal(r.ex.reason, LIBVM_EXIT_HLT);
	assert_int_equal(r.dev.calls, 5);
	assert_int_equal(r.dev.addr[0], 0x11);
	assert_int_equal(r.dev.value[0], 0x42);
	assert_int_equal(r.dev.addr[1], 0x12);
	/* The IN's data reached the guest at the next entry. */
	assert_int_equal(r.s.rax[0], 0x5a);
	assert_int_equal(r.s.rax[1], 0x5a);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r.dev.addr[2 + i], 0x10);
		assert_int_equal(r.dev.value[2 + i], i + 1);
	}
	assert_int_equal(r.s.runs, 4);
	assert_int_equal(r.s.completions, 0);
	libvm_vm_destroy(r.vm);
}

static void test_unhandled_reads(void **state)
{
	struct rig r;

	(void)state;
	rig_up(&r);
	add(&r, IN(0x80, 2));
	add(&r, IN(0x81, 2));
	add(&r, MMIO_WRITE(0x200000, 4, 1, 2, 3, 4));
	/* Nobody at 0x80: returned to the caller; all-ones unless completed. */
	assert_int_equal(libvm_vcpu_run(r.v, &r.ex), 0);
	assert_int_equal(r.ex.reason, LIBVM_EXIT_IO);
	assert_int_equal(r.ex.io.addr, 0x80);
	assert_int_equal(r.ex.io.size, 2);
	assert_int_equal(r.ex.io.count, 1);
	assert_false(r.ex.io.is_write);
	assert_int_equal(libvm_vcpu_complete_read(r.v, "\x34\x12\x00", 3), -EINVAL);
	assert_int_equal(libvm_vcpu_run(r.v, &r.ex), 0);
	assert_int_equal(r.s.rax[0], 0xff);
	assert_int_equal(r.s.rax[1], 0xff);
	assert_int_equal(r.ex.io.addr, 0x81);
	assert_int_equal(libvm_vcpu_complete_read(r.v, "\x34\x12", 2), 0);
	/* An unclaimed MMIO write comes back with its data. */
	assert_int_equal(libvm_vcpu_run(r.v, &r.ex), 0);
	assert_int_equal(r.s.rax[0], 0x34);
	assert_int_equal(r.s.rax[1], 0x12);
	assert_int_equal(r.ex.reason, LIBVM_EXIT_MMIO);
	assert_int_equal(r.ex.io.addr, 0x200000);
	assert_true(r.ex.io.is_write);
	assert_int_equal(r.ex.io.data, 0x04030201);
	/* No read pends after a write. */
	assert_int_equal(libvm_vcpu_complete_read(r.v, "x", 1), -EINVAL);
	assert_int_equal(libvm_vcpu_run(r.v, &r.ex), 0);
	assert_int_equal(r.ex.reason, LIBVM_EXIT_HLT);
	assert_int_equal(r.dev.calls, 0);
	libvm_vm_destroy(r.vm);
}

static void test_handler_error(void **state)
{
	struct rig r;

	(void)state;
	rig_up(&r);
	r.dev.ret = -EIO;
	r.dev.end = true; /* an ending asked for, then the failure: dropped */
	add(&r, MMIO_WRITE(0x100008, 4, 9));
	assert_int_equal(libvm_vcpu_run(r.v, &r.ex), -EIO);
	assert_int_equal(r.ex.reason, LIBVM_EXIT_DEVICE_ERROR);
	assert_int_equal(r.ex.io.addr, 0x100008);
	assert_string_equal(libvm_error_message(),
			    "handler for MMIO 0x100008 failed: the device is broken");
	r.dev.ret = 0;
	r.dev.end = false;
	assert_int_equal(libvm_vcpu_run(r.v, &r.ex), 0);
	assert_int_equal(r.ex.reason, LIBVM_EXIT_HLT);
	libvm_vm_destroy(r.vm);
}

static void test_stop_and_end_complete_the_access(void **state)
{
	struct rig r;

	(void)state;
	rig_up(&r);
	/* A stop before the run: returned at once, the backend not entered. */
	assert_int_equal(libvm_vcpu_stop(r.v), 0);
	assert_int_equal(libvm_vcpu_run(r.v, &r.ex), 0);
	assert_int_equal(r.ex.reason, LIBVM_EXIT_STOPPED);
	assert_int_equal(r.s.runs, 0);
	/* Consumed by that one run. */
	add(&r, IN(0x10, 1));
	r.dev.stop = true;
	/* A stop from the handler of an IN: one more KVM_RUN with
	 * immediate_exit completes it (the guest got the byte), then STOPPED. */
	assert_int_equal(libvm_vcpu_run(r.v, &r.ex), 0);
	assert_int_equal(r.ex.reason, LIBVM_EXIT_STOPPED);
	assert_int_equal(r.s.runs, 2);
	assert_int_equal(r.s.completions, 1);
	assert_int_equal(r.s.rax[0], 0x5a);
	/* An ending from the handler: the same completion, then the ending. */
	r.dev.stop = false;
	r.dev.end = true;
	add(&r, OUT(0x10, 4, 1, 1));
	assert_int_equal(libvm_vcpu_run(r.v, &r.ex), 0);
	assert_int_equal(r.ex.reason, LIBVM_EXIT_GUEST_EXIT);
	assert_int_equal(r.ex.end.code, 7);
	assert_int_equal(r.s.completions, 2);
	r.dev.end = false;
	assert_int_equal(libvm_vcpu_run(r.v, &r.ex), 0);
	assert_int_equal(r.ex.reason, LIBVM_EXIT_HLT);
	libvm_vm_destroy(r.vm);
}

static void test_other_exits(void **state)
{
	struct rig r;

	(void)state;
	rig_up(&r);
	add(&r, EXIT(KVM_EXIT_SHUTDOWN));
	add(&r, EXIT(KVM_EXIT_INTERNAL_ERROR));
	add(&r, EXIT(KVM_EXIT_INTR));
	add(&r, EXIT(1234));
	assert_int_equal(libvm_vcpu_run(r.v, &r.ex), 0);
	assert_int_equal(r.ex.reason, LIBVM_EXIT_SHUTDOWN);
	assert_int_equal(libvm_vcpu_run(r.v, &r.ex), 0);
	assert_int_equal(r.ex.reason, LIBVM_EXIT_INTERNAL_ERROR);
	assert_int_equal(r.ex.internal.suberror, 1);
	assert_int_equal(r.ex.internal.ndata, 16);
	assert_int_equal(r.ex.internal.data[15], 115);
	/* KVM_EXIT_INTR is not an exit of the caller's: the loop goes on. */
	assert_int_equal(libvm_vcpu_run(r.v, &r.ex), 0);
	assert_int_equal(r.ex.reason, LIBVM_EXIT_UNKNOWN);
	assert_int_equal(r.ex.unknown.backend_reason, 1234);
	/* The backend's own failure. */
	libvm__fake_vm(r.vm)->fail[LIBVM__FAKE_vcpu_run] = -EFAULT;
	assert_int_equal(libvm_vcpu_run(r.v, &r.ex), -EFAULT);
	assert_string_equal(libvm_error_message(), "vCPU 0: KVM_RUN failed: Bad address");
	libvm_vm_destroy(r.vm);
}

static void test_vm_run_stops_the_others(void **state)
{
	libvm_vm *vm = fakevm_new(NULL);
	libvm_vcpu *v[3];
	struct script s[3];
	libvm_exit ex;
	uint32_t id = 99;

	(void)state;
	memset(s, 0, sizeof(s));
	for (uint32_t i = 0; i < 3; i++) {
		v[i] = fakevm_vcpu(vm, i);
		script(v[i], &s[i]);
		s[i].spin = i != 1; /* vCPU 1 halts; the others run until stopped */
	}
	assert_int_equal(libvm_vm_run(vm, NULL, &ex, &id), 0);
	assert_int_equal(ex.reason, LIBVM_EXIT_HLT);
	assert_int_equal(id, 1);
	/* Nothing pends: each vCPU's next run goes to the backend. */
	for (uint32_t i = 0; i < 3; i++) {
		s[i].spin = false;
		assert_int_equal(libvm_vcpu_run(v[i], &ex), 0);
		assert_int_equal(ex.reason, LIBVM_EXIT_HLT);
	}
	/* libvm_vm_stop() before the run: STOPPED, consumed. */
	assert_int_equal(libvm_vm_stop(vm), 0);
	assert_int_equal(libvm_vm_run(vm, NULL, &ex, NULL), 0);
	assert_int_equal(ex.reason, LIBVM_EXIT_STOPPED);
	assert_int_equal(libvm_vm_run(vm, NULL, &ex, NULL), 0);
	assert_int_equal(ex.reason, LIBVM_EXIT_HLT);
	libvm_vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pio_to_handler),
		cmocka_unit_test(test_unhandled_reads),
		cmocka_unit_test(test_handler_error),
		cmocka_unit_test(test_stop_and_end_complete_the_access),
		cmocka_unit_test(test_other_exits),
		cmocka_unit_test(test_vm_run_stops_the_others),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
