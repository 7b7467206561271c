/* SPDX-License-Identifier: MIT */
/*
 * Snapshots (include/libvm/snapshot.h, docs/snapshot.md): writing a whole
 * VM to a stream, and reading it back into a VM built the same way. The
 * reader checks before it changes: the machine description against the
 * VM first; then every section's checksum as it comes, memory going into
 * place and state kept aside; and only with the end read and every state
 * checked does it apply them, in dependency order.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../state.h"
#include "../vmstate.h"
#include "snapshot_internal.h"

/* Section payloads beyond these are corrupt, whatever their checksum. */
#define MACHINE_MAX (16u << 20)
#define VCPU_MAX (1u << 20)
#define VM_MAX (1u << 20)
#define DEVICE_MAX ((64u << 20) + 256u)

int libvm__snap_vcpus_idle(libvm_vm *vm, const char *fn)
{
	int err = 0;

	pthread_mutex_lock(&vm->vcpu_lock);
	for (uint32_t i = 0; i < vm->max_vcpus && !err; i++) {
		libvm_vcpu *v = vm->vcpus[i];

		if (!v)
			continue;
		pthread_mutex_lock(&v->run_lock);
		if (v->running)
			err = libvm__fail(-EBUSY, "%s: vCPU %u is running: stop the VM first", fn,
					  v->id);
		pthread_mutex_unlock(&v->run_lock);
	}
	pthread_mutex_unlock(&vm->vcpu_lock);
	return err;
}

int libvm__snap_write_head(struct libvm__sout *o, libvm_vm *vm, uint32_t flags, const void *app,
			   size_t app_len)
{
	struct libvm__machine m;
	struct libvm_state_writer w;
	int err = libvm__machine_describe(vm, &m);

	if (err)
		return err;
	libvm__enc_init(&w);
	libvm__machine_encode(&m, &w);
	libvm__machine_free(&m);
	if (w.err) {
		libvm__enc_fini(&w);
		return libvm__fail(-ENOMEM, "snapshot: out of memory");
	}
	libvm__sout_header(o, flags);
	libvm__sout_section(o, LIBVM__SNAP_MACHINE, 0, LIBVM__MACHINE_VERSION, w.buf, w.len);
	libvm__enc_fini(&w);
	if (app_len)
		libvm__sout_section(o, LIBVM__SNAP_APP, 0, 1, app, app_len);
	return o->err;
}

struct dev_writer {
	struct libvm__sout *o;
	struct libvm_state_writer w;
};

static int write_device(struct libvm__state_entry *e, void *arg)
{
	struct dev_writer *dw = arg;
	size_t n = strlen(e->name);
	uint8_t len = (uint8_t)n;
	int err = libvm__state_save_one(e, &dw->w);

	if (err)
		return err;
	libvm__sout_begin(dw->o, LIBVM__SNAP_DEVICE, 0, e->version, 1 + n + dw->w.len);
	libvm__sout_put(dw->o, &len, 1, true);
	libvm__sout_put(dw->o, e->name, n, true);
	libvm__sout_put(dw->o, dw->w.buf, dw->w.len, true);
	libvm__sout_end(dw->o);
	return dw->o->err;
}

int libvm__snap_write_state(struct libvm__sout *o, libvm_vm *vm)
{
	struct dev_writer dw = { .o = o };
	int err = 0;

	libvm__enc_init(&dw.w);
	/* vCPUs in id order; none is created or destroyed meanwhile (the
	 * caller's rule), so the table is read without its lock held long. */
	for (uint32_t i = 0; i < vm->max_vcpus && !err; i++) {
		libvm_vcpu *v;

		pthread_mutex_lock(&vm->vcpu_lock);
		v = vm->vcpus[i];
		pthread_mutex_unlock(&vm->vcpu_lock);
		if (!v)
			continue;
		/* A vCPU that stopped in an I/O instruction finishes it first:
		 * KVM only writes its results back on the next KVM_RUN. */
		if ((err = libvm__vcpu_settle(v)))
			break;
		/* Port and MMIO writes the backend queued (coalesced I/O) reach
		 * their devices before the devices are saved. */
		libvm__coalesced_drain(v);
		dw.w.len = 0;
		err = libvm__vcpu_state_save(v, &dw.w);
		if (!err && dw.w.err)
			err = libvm__fail(-ENOMEM, "snapshot: out of memory");
		if (!err)
			libvm__sout_section(o, LIBVM__SNAP_VCPU, v->id, 1, dw.w.buf, dw.w.len);
	}
	if (!err) {
		dw.w.len = 0;
		err = libvm__vm_state_save(vm, &dw.w);
		if (!err && dw.w.err)
			err = libvm__fail(-ENOMEM, "snapshot: out of memory");
		if (!err)
			libvm__sout_section(o, LIBVM__SNAP_VM, 0, 1, dw.w.buf, dw.w.len);
	}
	if (!err)
		err = libvm__states_each(vm, write_device, &dw);
	libvm__enc_fini(&dw.w);
	return err ? err : o->err;
}

int libvm__snap_write_end(struct libvm__sout *o, uint64_t ram_pages)
{
	uint8_t end[16];

	libvm__put64(end, o->sections);
	libvm__put64(end + 8, ram_pages);
	libvm__sout_section(o, LIBVM__SNAP_END, 0, 1, end, sizeof(end));
	return libvm__sout_flush(o);
}

LIBVM_EXPORT int libvm_snapshot_save(libvm_vm *vm, int fd, const libvm_snapshot_options *opts)
{
	libvm_snapshot_options o = LIBVM_SNAPSHOT_OPTIONS_INIT;
	struct libvm__ram_stats st = { 0 };
	struct libvm__sout out;
	int err;

	LIBVM__CHECK_VM(vm, "libvm_snapshot_save");
	if (fd < 0)
		return libvm__fail(-EINVAL, "libvm_snapshot_save: bad fd %d", fd);
	if (opts && (err = libvm__copy_options(&o, sizeof(o), opts, "libvm_snapshot_options")))
		return err;
	if (o.flags)
		return libvm__fail(-EINVAL, "libvm_snapshot_save: unknown flags 0x%x", o.flags);
	if (o.app_data_len > LIBVM__SNAP_APP_MAX || (o.app_data_len && !o.app_data))
		return libvm__fail(-EINVAL, "libvm_snapshot_save: app_data of %zu bytes (at most 16 MiB, and not NULL)",
				   o.app_data_len);
	if ((err = libvm__snap_vcpus_idle(vm, "libvm_snapshot_save")))
		return err;
	if ((err = libvm__sout_init(&out, fd)))
		return err;
	/* Devices with threads stop touching memory and their state. */
	libvm__states_pause(vm, true);
	err = libvm__snap_write_head(&out, vm, 0, o.app_data, o.app_data_len);
	if (!err)
		err = libvm__snap_write_state(&out, vm);
	/* Memory last, straight from the paused guest's pages. */
	pthread_rwlock_rdlock(&vm->mem_lock);
	for (size_t i = 0; !err && i < vm->regions.n; i++)
		err = libvm__ram_send(&out, vm->regions.v[i].item, NULL, false, &st);
	pthread_rwlock_unlock(&vm->mem_lock);
	if (!err)
		err = libvm__snap_write_end(&out, st.pages);
	libvm__states_pause(vm, false);
	libvm__log(vm, LIBVM_LOG_INFO, "snapshot: %llu bytes, %llu pages (%llu zero)%s",
		   (unsigned long long)out.bytes, (unsigned long long)st.pages,
		   (unsigned long long)st.zero_pages, err ? ", failed" : "");
	libvm__sout_fini(&out);
	return err;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

LIBVM_EXPORT int libvm_snapshot_open(libvm_snapshot **out, int fd)
{
	libvm_snapshot *s;
	uint8_t *p = NULL;
	int err;

	if (!out || fd < 0)
		return libvm__fail(-EINVAL, "libvm_snapshot_open: %s", out ? "bad fd" : "out is NULL");
	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return libvm__fail(-ENOMEM, "snapshot: out of memory");
	s->magic = LIBVM__MAGIC_SNAPSHOT;
	s->fd = fd;
	if ((err = libvm__sin_init(&s->in, fd)) ||
	    (err = libvm__sin_header(&s->in, &s->flags, &s->writer_version)))
		goto fail;
	if (s->flags & ~LIBVM__SNAP_FLAG_MIGRATION) {
		err = libvm__fail(-ENOTSUP, "snapshot has header flags 0x%x this libvm does not know (a newer one wrote it)",
				  s->flags);
		goto fail;
	}
	if ((err = libvm__sin_next(&s->in)))
		goto fail;
	if (s->in.type != LIBVM__SNAP_MACHINE) {
		err = libvm__fail(-EBADMSG, "snapshot is corrupted: it starts with a '%s' section, not the machine description",
				  libvm__snap_section_name(s->in.type));
		goto fail;
	}
	if (s->in.version > LIBVM__MACHINE_VERSION) {
		err = libvm__fail(-ENOTSUP, "snapshot's machine description has version %u, newer than this libvm reads (%u)",
				  s->in.version, LIBVM__MACHINE_VERSION);
		goto fail;
	}
	if ((err = libvm__sin_payload_all(&s->in, &p, MACHINE_MAX)) ||
	    (err = libvm__machine_decode(&s->machine, p, s->in.length)))
		goto fail;
	free(p);
	p = NULL;
	s->sections = 1;
	/* The application's bytes, if they are next. */
	if ((err = libvm__sin_next(&s->in)))
		goto fail;
	if (s->in.type == LIBVM__SNAP_APP) {
		if ((err = libvm__sin_payload_all(&s->in, &s->app, LIBVM__SNAP_APP_MAX)))
			goto fail;
		s->app_len = s->in.length;
		s->sections++;
	} else {
		s->pending = true;
	}
	*out = s;
	return 0;
fail:
	free(p);
	libvm_snapshot_close(s);
	return err;
}

#define CHECK_SNAPSHOT(s, fn) \
	LIBVM__CHECK_HANDLE(s, LIBVM__MAGIC_SNAPSHOT, fn, "s", "snapshot")

LIBVM_EXPORT const void *libvm_snapshot_app_data(const libvm_snapshot *s, size_t *len)
{
	bool ok = libvm__live(s, LIBVM__MAGIC_SNAPSHOT);

	if (len)
		*len = ok ? s->app_len : 0;
	return ok && s->app_len ? s->app : NULL;
}

LIBVM_EXPORT int libvm_snapshot_memory_map(const libvm_snapshot *s, libvm_mem_range *ranges,
					   uint32_t *count)
{
	CHECK_SNAPSHOT(s, "libvm_snapshot_memory_map");
	if (!count)
		return libvm__fail(-EINVAL, "libvm_snapshot_memory_map: count is NULL");
	if (ranges && *count < s->machine.nr_regions) {
		*count = s->machine.nr_regions;
		return libvm__fail(-E2BIG, "libvm_snapshot_memory_map: %u entries needed",
				   s->machine.nr_regions);
	}
	for (uint32_t i = 0; ranges && i < s->machine.nr_regions; i++)
		ranges[i] = (libvm_mem_range){ .gpa = s->machine.regions[i].gpa,
					       .length = s->machine.regions[i].length,
					       .flags = s->machine.regions[i].flags };
	*count = s->machine.nr_regions;
	return 0;
}

LIBVM_EXPORT uint32_t libvm_snapshot_nr_vcpus(const libvm_snapshot *s)
{
	return libvm__live(s, LIBVM__MAGIC_SNAPSHOT) ? s->machine.nr_vcpus : 0;
}

LIBVM_EXPORT void libvm_snapshot_close(libvm_snapshot *s)
{
	if (!libvm__live(s, LIBVM__MAGIC_SNAPSHOT))
		return;
	libvm__sin_fini(&s->in);
	libvm__machine_free(&s->machine);
	free(s->app);
	libvm__bury(s, sizeof(*s));
}

/* The state read from the stream, applied once it is all there. */
struct staged {
	uint8_t *vm;
	size_t vm_len;
	uint8_t **vcpu;        /* by position in the machine's vCPU list */
	size_t *vcpu_len;
	uint32_t nr_devs;
	struct staged_dev {
		char name[LIBVM_STATE_NAME_MAX];
		uint32_t version;
		uint8_t *data;     /* the section's payload; state after the name */
		size_t off, len;
	} *devs;
	struct libvm__state_entry *failed; /* for the message */
	int err;
};

static void staged_free(struct staged *st, uint32_t nr_vcpus)
{
	free(st->vm);
	for (uint32_t i = 0; st->vcpu && i < nr_vcpus; i++)
		free(st->vcpu[i]);
	free(st->vcpu);
	free(st->vcpu_len);
	for (uint32_t i = 0; i < st->nr_devs; i++)
		free(st->devs[i].data);
	free(st->devs);
}

static libvm_vcpu *vcpu_by_id(libvm_vm *vm, uint32_t id)
{
	libvm_vcpu *v = NULL;

	pthread_mutex_lock(&vm->vcpu_lock);
	if (id < vm->max_vcpus)
		v = vm->vcpus[id];
	pthread_mutex_unlock(&vm->vcpu_lock);
	return v;
}

static int stage_device(libvm_snapshot *s, libvm_vm *vm, struct staged *st)
{
	struct staged_dev *d, *grown;
	uint8_t *p;
	uint8_t n;
	int err;

	if ((err = libvm__sin_payload_all(&s->in, &p, DEVICE_MAX)))
		return err;
	n = s->in.length ? p[0] : 0;
	if (!s->in.length || n == 0 || n >= LIBVM_STATE_NAME_MAX || 1u + n > s->in.length) {
		free(p);
		return libvm__fail(-EBADMSG, "snapshot is corrupted: a device section has a bad name");
	}
	grown = realloc(st->devs, (st->nr_devs + 1) * sizeof(*st->devs));
	if (!grown) {
		free(p);
		return libvm__fail(-ENOMEM, "snapshot: out of memory");
	}
	st->devs = grown;
	d = &st->devs[st->nr_devs];
	memset(d, 0, sizeof(*d));
	memcpy(d->name, p + 1, n);
	for (uint32_t i = 0; i < st->nr_devs; i++) {
		if (!strcmp(st->devs[i].name, d->name)) {
			free(p);
			return libvm__fail(-EBADMSG, "snapshot is corrupted: device '%s' appears twice",
					   d->name);
		}
	}
	d->version = s->in.version;
	d->data = p;
	d->off = 1u + n;
	d->len = s->in.length - d->off;
	st->nr_devs++;
	/* Its version was checked with the machine; a device that was not
	 * described there is not this VM's. */
	for (uint32_t i = 0; i < s->machine.nr_devices; i++)
		if (!strcmp(s->machine.devices[i].name, d->name))
			return s->machine.devices[i].version == d->version ? 0 :
			       libvm__fail(-EBADMSG, "snapshot is corrupted: device '%s' has version %u, its description %u",
					   d->name, d->version, s->machine.devices[i].version);
	(void)vm;
	return libvm__fail(-EBADMSG, "snapshot is corrupted: it has state for device '%s', which its machine description lacks",
			   d->name);
}

/* Read sections up to the end: memory into place, state into @st. */
static int read_sections(libvm_snapshot *s, libvm_vm *vm, struct staged *st)
{
	uint64_t ram_pages = 0;
	int err;

	for (;;) {
		uint32_t type;

		if (!s->pending && (err = libvm__sin_next(&s->in)))
			return err;
		s->pending = false;
		type = s->in.type;
		switch (type) {
		case LIBVM__SNAP_RAM:
			if (s->in.version != 1)
				return libvm__fail(-ENOTSUP, "snapshot has memory records of version %u (this libvm reads 1)",
						   s->in.version);
			err = libvm__ram_receive(&s->in, vm, &ram_pages);
			break;
		case LIBVM__SNAP_VCPU: {
			uint32_t i;

			for (i = 0; i < s->machine.nr_vcpus && s->machine.vcpus[i].id != s->in.id; i++)
				;
			if (i == s->machine.nr_vcpus || st->vcpu[i])
				return libvm__fail(-EBADMSG, "snapshot is corrupted: state for vCPU %u, %s",
						   s->in.id, i == s->machine.nr_vcpus ?
						   "which its machine description lacks" : "twice");
			if (s->in.version != 1)
				return libvm__fail(-ENOTSUP, "snapshot has vCPU state of version %u (this libvm reads 1)",
						   s->in.version);
			err = libvm__sin_payload_all(&s->in, &st->vcpu[i], VCPU_MAX);
			st->vcpu_len[i] = s->in.length;
			/* Checked against this backend now, applied later. */
			if (!err)
				err = libvm__vcpu_state_check(vcpu_by_id(vm, s->in.id), st->vcpu[i],
							      st->vcpu_len[i]);
			break;
		}
		case LIBVM__SNAP_VM:
			if (st->vm)
				return libvm__fail(-EBADMSG, "snapshot is corrupted: two VM sections");
			if (s->in.version != 1)
				return libvm__fail(-ENOTSUP, "snapshot has VM state of version %u (this libvm reads 1)",
						   s->in.version);
			err = libvm__sin_payload_all(&s->in, &st->vm, VM_MAX);
			st->vm_len = s->in.length;
			if (!err)
				err = libvm__vm_state_check(vm, st->vm, st->vm_len);
			break;
		case LIBVM__SNAP_DEVICE:
			err = stage_device(s, vm, st);
			break;
		case LIBVM__SNAP_END: {
			uint8_t end[16];

			if (s->in.length != sizeof(end))
				return libvm__fail(-EBADMSG, "snapshot is corrupted: its end section has %llu bytes",
						   (unsigned long long)s->in.length);
			if ((err = libvm__sin_payload(&s->in, end, sizeof(end))) ||
			    (err = libvm__sin_end(&s->in)))
				return err;
			if (libvm__le64(end) != s->sections || libvm__le64(end + 8) != ram_pages)
				return libvm__fail(-EBADMSG, "snapshot is corrupted: its end counts %llu sections and %llu pages, %llu and %llu were read",
						   (unsigned long long)libvm__le64(end),
						   (unsigned long long)libvm__le64(end + 8),
						   (unsigned long long)s->sections,
						   (unsigned long long)ram_pages);
			return 0;
		}
		case LIBVM__SNAP_MACHINE:
		case LIBVM__SNAP_APP:
			return libvm__fail(-EBADMSG, "snapshot is corrupted: a second '%s' section",
					   libvm__snap_section_name(type));
		default:
			return libvm__fail(-ENOTSUP, "snapshot has a section of type %u, which this libvm does not know (a newer one wrote it)",
					   type);
		}
		if (err)
			return err;
		/* Whole sections (vCPU, VM, device) were checked as read. */
		if (s->in.type && (err = libvm__sin_end(&s->in)))
			return err;
		s->sections++;
	}
}

static int load_device(struct libvm__state_entry *e, void *arg)
{
	struct staged *st = arg;

	for (uint32_t i = 0; i < st->nr_devs; i++) {
		struct staged_dev *d = &st->devs[i];

		if (strcmp(d->name, e->name))
			continue;
		return libvm__state_load_one(e, d->data + d->off, d->len, d->version);
	}
	return libvm__fail(-EBADMSG, "snapshot is truncated or corrupted: it has no state for device '%s'",
			   e->name);
}

/* Everything read and checked: apply it, in dependency order. */
static int apply(libvm_snapshot *s, libvm_vm *vm, struct staged *st)
{
	int err;

	if (!st->vm)
		return libvm__fail(-EBADMSG, "snapshot is truncated or corrupted: it has no VM state");
	for (uint32_t i = 0; i < s->machine.nr_vcpus; i++)
		if (!st->vcpu[i])
			return libvm__fail(-EBADMSG, "snapshot is truncated or corrupted: it has no state for vCPU %u",
					   s->machine.vcpus[i].id);
	/* MSI routes first: the PCI bus binds its vectors to them. */
	if ((err = libvm__vm_state_load(vm, st->vm, st->vm_len, LIBVM__VM_PHASE_ROUTES)))
		return err;
	/* Devices drive their interrupt lines again as they load; the
	 * controllers' saved state then overwrites what that raised. */
	if ((err = libvm__states_each(vm, load_device, st)))
		return err;
	if ((err = libvm__vm_state_load(vm, st->vm, st->vm_len, LIBVM__VM_PHASE_IRQCHIP)))
		return err;
	for (uint32_t i = 0; i < s->machine.nr_vcpus; i++) {
		libvm_vcpu *v = vcpu_by_id(vm, s->machine.vcpus[i].id);

		if ((err = libvm__vcpu_state_load(v, st->vcpu[i], st->vcpu_len[i])))
			return err;
	}
	return libvm__vm_state_load(vm, st->vm, st->vm_len, LIBVM__VM_PHASE_CLOCK);
}

/*
 * Does a sender wait for our words (ready, then the answer)? Only on a
 * migration stream that comes over a socket or a pipe: a file whose
 * header has the migration flag (a captured stream, or a corrupted file
 * whose checksums still hold) is read as a snapshot, and nothing is
 * written into it.
 */
static bool sender_waits(const libvm_snapshot *s)
{
	struct stat st;

	return (s->flags & LIBVM__SNAP_FLAG_MIGRATION) && !fstat(s->fd, &st) &&
	       (S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode));
}

LIBVM_EXPORT int libvm_snapshot_restore(libvm_snapshot *s, libvm_vm *vm)
{
	struct libvm__machine here;
	struct staged st = { 0 };
	int err;

	CHECK_SNAPSHOT(s, "libvm_snapshot_restore");
	LIBVM__CHECK_VM(vm, "libvm_snapshot_restore");
	if (s->restored)
		return libvm__fail(-EALREADY, "libvm_snapshot_restore: this snapshot was restored already");
	s->restored = true;
	if ((err = libvm__snap_vcpus_idle(vm, "libvm_snapshot_restore")))
		return err;
	if ((err = libvm__machine_describe(vm, &here)))
		return err;
	err = libvm__machine_compare(&s->machine, &here, vm);
	libvm__machine_free(&here);
	if (err)
		return err;
	if (sender_waits(s)) {
		struct libvm__sout o;

		if ((err = libvm__sout_init(&o, s->fd)))
			return err;
		libvm__sout_put(&o, LIBVM__SNAP_READY_MAGIC, 8, false);
		err = libvm__sout_flush(&o);
		libvm__sout_fini(&o);
		if (err)
			return err;
	}
	st.vcpu = calloc(s->machine.nr_vcpus ? s->machine.nr_vcpus : 1, sizeof(*st.vcpu));
	st.vcpu_len = calloc(s->machine.nr_vcpus ? s->machine.nr_vcpus : 1, sizeof(*st.vcpu_len));
	if (!st.vcpu || !st.vcpu_len) {
		staged_free(&st, s->machine.nr_vcpus);
		return libvm__fail(-ENOMEM, "snapshot: out of memory");
	}
	/* Device threads keep off memory while it is written; the resume
	 * at the end serves whatever was in flight. */
	libvm__states_pause(vm, true);
	err = read_sections(s, vm, &st);
	if (!err)
		err = apply(s, vm, &st);
	libvm__states_pause(vm, false);
	staged_free(&st, s->machine.nr_vcpus);
	libvm__log(vm, LIBVM_LOG_INFO, "snapshot: restored %llu bytes%s",
		   (unsigned long long)s->in.offset, err ? ": failed" : "");
	return err;
}

LIBVM_EXPORT int libvm_snapshot_ack(libvm_snapshot *s, int status)
{
	char msg[256];
	uint8_t buf[8 + 4 + 4 + sizeof(msg) + 4];
	struct libvm__sout o;
	uint32_t n;
	int err;

	CHECK_SNAPSHOT(s, "libvm_snapshot_ack");
	if (status > 0)
		return libvm__fail(-EINVAL, "libvm_snapshot_ack: status must be 0 or a negative errno");
	if (!sender_waits(s) || s->acked)
		return 0;
	s->acked = true;
	snprintf(msg, sizeof(msg), "%s", status ? libvm_error_message() : "");
	n = (uint32_t)strlen(msg);
	memcpy(buf, LIBVM__SNAP_ACK_MAGIC, 8);
	libvm__put32(buf + 8, (uint32_t)status);
	libvm__put32(buf + 12, n);
	memcpy(buf + 16, msg, n);
	if ((err = libvm__sout_init(&o, s->fd)))
		return err;
	libvm__sout_put(&o, buf, 16 + n, true);
	libvm__put32(buf, o.crc);
	libvm__sout_put(&o, buf, 4, false);
	err = libvm__sout_flush(&o);
	libvm__sout_fini(&o);
	return err;
}
