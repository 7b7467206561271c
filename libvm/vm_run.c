/* SPDX-License-Identifier: MIT */
/*
 * Running a whole VM: one thread per vCPU, the first ending exit wins, the
 * other vCPUs are stopped through the ordinary stop protocol (run.c) and
 * joined, and stops left over by the shutdown are cleared so that the next
 * run starts clean.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct vm_run {
	libvm_vm *vm;
	uint32_t flags;
	libvm_vcpu **vcpus;
	uint32_t nr;

	pthread_mutex_t lock; /* guards the fields below */
	bool done;
	int err;
	uint32_t vcpu_id;
	libvm_exit exit;
	char message[256]; /* the failing thread's libvm_error_message() */
};

struct vcpu_thread {
	struct vm_run *run;
	libvm_vcpu *vcpu;
	pthread_t thread;
	bool started;
};

/* Record the ending (first one wins) and stop everybody else. */
static void finish(struct vm_run *r, libvm_vcpu *vcpu, int err, const libvm_exit *exit)
{
	pthread_mutex_lock(&r->lock);
	if (!r->done) {
		r->done = true;
		r->err = err;
		/* The detail lives in this thread's message; carry it over. */
		snprintf(r->message, sizeof(r->message), "%s",
			 err ? libvm_error_message() : "");
		r->vcpu_id = vcpu->id;
		r->exit = *exit;
	}
	pthread_mutex_unlock(&r->lock);
	for (uint32_t i = 0; i < r->nr; i++)
		if (r->vcpus[i] != vcpu)
			libvm_vcpu_stop(r->vcpus[i]);
}

static bool is_done(struct vm_run *r)
{
	bool done;

	pthread_mutex_lock(&r->lock);
	done = r->done;
	pthread_mutex_unlock(&r->lock);
	return done;
}

static void *vcpu_main(void *arg)
{
	struct vcpu_thread *t = arg;
	struct vm_run *r = t->run;
	libvm_exit exit;

	for (;;) {
		int err = libvm_vcpu_run(t->vcpu, &exit);

		if (err) {
			finish(r, t->vcpu, err, &exit);
			break;
		}
		if ((exit.reason == LIBVM_EXIT_IO || exit.reason == LIBVM_EXIT_MMIO) &&
		    !(r->flags & LIBVM_RUN_STOP_ON_UNHANDLED))
			continue; /* reads already hold all-ones; writes vanish */
		if (exit.reason == LIBVM_EXIT_HYPERV)
			continue; /* SynIC bookkeeping is KVM's; hypercalls get "unknown" */
		if (exit.reason == LIBVM_EXIT_STOPPED && is_done(r))
			break; /* stopped because another vCPU ended the VM */
		/* Anything else ends the VM, including libvm_vm_stop(). */
		finish(r, t->vcpu, 0, &exit);
		break;
	}
	return NULL;
}

LIBVM_EXPORT int libvm_vm_stop(libvm_vm *vm)
{
	LIBVM__CHECK_VM(vm, "libvm_vm_stop");
	/* All under vcpu_lock, as libvm_vm_run()'s clean-up is: a run that
	 * ends half-way through this loop must not clear the flags set so far
	 * and leave the later ones pending for the next run. */
	pthread_mutex_lock(&vm->vcpu_lock);
	atomic_store(&vm->stop_requested, true);
	for (uint32_t i = 0; i < vm->max_vcpus; i++)
		if (vm->vcpus[i])
			libvm_vcpu_stop(vm->vcpus[i]);
	pthread_mutex_unlock(&vm->vcpu_lock);
	return 0;
}

LIBVM_EXPORT int libvm_vm_run(libvm_vm *vm, const libvm_vm_run_options *opts, libvm_exit *exit,
			      uint32_t *vcpu_id)
{
	libvm_vm_run_options o = LIBVM_VM_RUN_OPTIONS_INIT;
	struct vm_run r = { .vm = vm };
	struct vcpu_thread *threads = NULL;
	int err = 0;

	LIBVM__CHECK_VM(vm, "libvm_vm_run");
	if (!exit)
		return libvm__fail(-EINVAL, "libvm_vm_run: exit is NULL");
	if (opts && (err = libvm__copy_options(&o, sizeof(o), opts, "libvm_vm_run_options")))
		return err;
	if (o.flags & ~LIBVM_RUN_STOP_ON_UNHANDLED)
		return libvm__fail(-EINVAL, "libvm_vm_run: unknown flags 0x%x", o.flags);
	memset(exit, 0, sizeof(*exit));
	r.flags = o.flags;

	r.vcpus = calloc(vm->max_vcpus, sizeof(*r.vcpus));
	threads = calloc(vm->max_vcpus, sizeof(*threads));
	if (!r.vcpus || !threads) {
		err = libvm__fail(-ENOMEM, "libvm_vm_run: out of memory");
		goto out;
	}
	/* Counted as a runner from here to the end, so that
	 * libvm_vm_destroy() refuses to tear the vCPUs down under it. */
	pthread_mutex_lock(&vm->vcpu_lock);
	for (uint32_t i = 0; i < vm->max_vcpus; i++)
		if (vm->vcpus[i])
			r.vcpus[r.nr++] = vm->vcpus[i];
	if (!r.nr) {
		pthread_mutex_unlock(&vm->vcpu_lock);
		err = libvm__fail(-ENOENT, "libvm_vm_run: the VM has no vCPU");
		goto out;
	}
	if (atomic_exchange(&vm->stop_requested, false)) {
		for (uint32_t i = 0; i < r.nr; i++)
			libvm__vcpu_clear_stop(r.vcpus[i]);
		pthread_mutex_unlock(&vm->vcpu_lock);
		exit->reason = LIBVM_EXIT_STOPPED;
		goto out;
	}
	vm->runners++;
	pthread_mutex_unlock(&vm->vcpu_lock);

	pthread_mutex_init(&r.lock, NULL);
	for (uint32_t i = 0; i < r.nr; i++) {
		threads[i] = (struct vcpu_thread){ .run = &r, .vcpu = r.vcpus[i] };
		err = -pthread_create(&threads[i].thread, NULL, vcpu_main, &threads[i]);
		if (err) {
			libvm__fail(err, "libvm_vm_run: cannot start a thread for vCPU %u: %s",
				    r.vcpus[i]->id, strerror(-err));
			libvm_exit none = { .reason = LIBVM_EXIT_STOPPED };

			finish(&r, r.vcpus[i], err, &none);
			break;
		}
		threads[i].started = true;
	}
	for (uint32_t i = 0; i < r.nr; i++)
		if (threads[i].started)
			pthread_join(threads[i].thread, NULL);
	/* The shutdown stopped vCPUs that may never have seen it. A
	 * libvm_vm_stop() is either wholly before this (and consumed, when it
	 * is what ended the run) or wholly after (and kept for the next run). */
	pthread_mutex_lock(&vm->vcpu_lock);
	for (uint32_t i = 0; i < r.nr; i++)
		libvm__vcpu_clear_stop(r.vcpus[i]);
	if (r.exit.reason == LIBVM_EXIT_STOPPED)
		atomic_store(&vm->stop_requested, false);
	vm->runners--;
	pthread_mutex_unlock(&vm->vcpu_lock);
	pthread_mutex_destroy(&r.lock);
	if (!err)
		err = r.err;
	*exit = r.exit;
	if (vcpu_id)
		*vcpu_id = r.vcpu_id;
	if (err < 0 && r.err)
		libvm__fail(err, "vCPU %u: %s", r.vcpu_id, r.message);
out:
	free(threads);
	free(r.vcpus);
	return err;
}
