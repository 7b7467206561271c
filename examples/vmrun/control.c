/* SPDX-License-Identifier: MIT */
/*
 * See control.h. One lock guards the run state. The main thread runs the
 * VM; a pause asks it to stop (libvm_vm_stop()) and waits until it has
 * left libvm_vm_run() and sits waiting; a resume lets it run again.
 * Pauses nest (a snapshot taken while paused by the socket leaves it
 * paused). JSON is read and written with Debian's json-c.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include <libvm/snapshot.h>

#include "control.h"
#include "saved.h"

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	libvm_machine *m;
	libvm_vm *vm;
	uint32_t nr_vcpus;
	int wake_fd;          /* the guest sleeps in S3: SIGUSR1 writes here; or -1 */
	const struct vmrun_options *o;
	int kernel_format;
	unsigned pauses;      /* pauses in effect; the VM runs at 0 */
	bool waiting;         /* the main thread is out of libvm_vm_run(), waiting */
	bool finished;        /* the main thread ended the run for good */
	bool end;             /* a request ends vmrun ... */
	int end_status;       /* ... with this status */
	bool socket_paused;   /* the socket's own pause (one at a time) */
	int listen_fd;
	int client_fd;        /* the client being served, -1 none */
	bool closing;
	bool sig_started, sock_started;
	pthread_t sig_thread, sock_thread;
} ctl = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
	.listen_fd = -1,
	.client_fd = -1,
	.wake_fd = -1,
};

/* What went wrong, for the control socket's answer and for stderr: the
 * last say() of this thread. */
static _Thread_local char last_why[512];

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_why, sizeof(last_why), fmt, ap);
	va_end(ap);
	fprintf(stderr, "vmrun: %s\n", last_why);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ------------------------------------------------------------------ */
/* Running, pausing                                                    */
/* ------------------------------------------------------------------ */

int control_run(libvm_exit *ex, uint32_t *vcpu, int *status, bool (*stop_is_end)(void))
{
	*status = -1;
	pthread_mutex_lock(&ctl.lock);
	ctl.finished = false; /* again after a suspend */
	pthread_mutex_unlock(&ctl.lock);
	for (;;) {
		int err;

		pthread_mutex_lock(&ctl.lock);
		while (ctl.pauses && !ctl.end) {
			ctl.waiting = true;
			pthread_cond_broadcast(&ctl.cond);
			pthread_cond_wait(&ctl.cond, &ctl.lock);
		}
		ctl.waiting = false;
		if (ctl.end) {
			*status = ctl.end_status;
			ctl.finished = true;
			pthread_cond_broadcast(&ctl.cond);
			pthread_mutex_unlock(&ctl.lock);
			return 0;
		}
		pthread_mutex_unlock(&ctl.lock);
		err = libvm_vm_run(ctl.vm, NULL, ex, vcpu);
		if (!err && ex->reason == LIBVM_EXIT_STOPPED) {
			bool asked;

			pthread_mutex_lock(&ctl.lock);
			asked = ctl.pauses || ctl.end;
			pthread_mutex_unlock(&ctl.lock);
			/* Ours, or a stop left over from a pause that found the
			 * VM between runs: run again. The watchdog's or Ctrl-A x's
			 * ends it. */
			if (asked || !stop_is_end())
				continue;
		}
		pthread_mutex_lock(&ctl.lock);
		ctl.finished = true;
		pthread_cond_broadcast(&ctl.cond);
		pthread_mutex_unlock(&ctl.lock);
		return err;
	}
}

/* Stop the VM and wait until it is out of libvm_vm_run(). 0, or -ESRCH
 * when the run ended meanwhile (nothing left to pause). */
static int pause_vm(void)
{
	int err = 0;

	pthread_mutex_lock(&ctl.lock);
	ctl.pauses++;
	pthread_mutex_unlock(&ctl.lock);
	libvm_vm_stop(ctl.vm);
	pthread_mutex_lock(&ctl.lock);
	while (!ctl.waiting && !ctl.finished)
		pthread_cond_wait(&ctl.cond, &ctl.lock);
	if (ctl.finished && !ctl.waiting) {
		ctl.pauses--;
		err = -ESRCH;
	}
	pthread_mutex_unlock(&ctl.lock);
	return err;
}

static void resume_vm(void)
{
	pthread_mutex_lock(&ctl.lock);
	if (ctl.pauses)
		ctl.pauses--;
	pthread_cond_broadcast(&ctl.cond);
	pthread_mutex_unlock(&ctl.lock);
}

static void end_vmrun(int status)
{
	pthread_mutex_lock(&ctl.lock);
	if (!ctl.end) {
		ctl.end = true;
		ctl.end_status = status;
	}
	pthread_cond_broadcast(&ctl.cond);
	pthread_mutex_unlock(&ctl.lock);
	libvm_vm_stop(ctl.vm);
}

/* ------------------------------------------------------------------ */
/* Snapshots and migration                                             */
/* ------------------------------------------------------------------ */

int control_snapshot(const char *path, bool end, uint64_t *bytes, double *ms)
{
	libvm_snapshot_options so = LIBVM_SNAPSHOT_OPTIONS_INIT;
	double t0 = now_ms();
	void *app = NULL;
	size_t app_len = 0;
	char tmp[4096 + 32];
	int fd, err;

	if ((err = saved_encode(ctl.o, ctl.kernel_format, &app, &app_len)))
		return err;
	if ((err = pause_vm())) {
		free(app);
		return err;
	}
	/* A temporary name, renamed once whole: a failed save never leaves a
	 * broken file, nor replaces a good one. */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
		say("snapshot %s: the name is too long", path);
		err = -ENAMETOOLONG;
		fd = -1;
	} else {
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			err = -errno;
			say("snapshot %s: %s", tmp, strerror(errno));
		}
	}
	if (fd >= 0) {
		so.app_data = app;
		so.app_data_len = app_len;
		err = libvm_snapshot_save(ctl.vm, fd, &so);
		if (err)
			say("snapshot %s: %s (%s)", path, libvm_strerror(err),
			    libvm_error_message());
		else if (fsync(fd) < 0 && errno != EINVAL) {
			err = -errno;
			say("snapshot %s: fsync: %s", path, strerror(errno));
		}
		if (bytes)
			*bytes = (uint64_t)lseek(fd, 0, SEEK_CUR);
		close(fd);
		if (!err && rename(tmp, path) < 0) {
			err = -errno;
			say("snapshot %s: %s", path, strerror(errno));
		}
		if (err)
			unlink(tmp);
	}
	free(app);
	if (ms)
		*ms = now_ms() - t0;
	/* Ending: the VM stays paused (a guest that ran on could write to
	 * its disk after the save) until the caller ends vmrun. */
	if (err || !end)
		resume_vm();
	return err;
}

static int pause_cb(void *opaque)
{
	(void)opaque;
	/* -ESRCH: the guest ended first (nothing left to move). */
	return pause_vm();
}

static int connect_tcp(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int fd = -1, err = getaddrinfo(host, port, &hints, &res);

	if (err) {
		say("migrate to %s:%s: %s", host, port, gai_strerror(err));
		return -EHOSTUNREACH;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = -errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		say("migrate to %s:%s: %s", host, port, strerror(-err));
	return fd < 0 ? err : fd;
}

static int migrate(const char *host, const char *port, libvm_migrate_stats *st)
{
	libvm_migrate_options mo = LIBVM_MIGRATE_OPTIONS_INIT;
	void *app = NULL;
	size_t app_len = 0;
	int fd, err;

	if ((err = saved_encode(ctl.o, ctl.kernel_format, &app, &app_len)))
		return err;
	fd = connect_tcp(host, port);
	if (fd < 0) {
		free(app);
		return fd;
	}
	mo.app_data = app;
	mo.app_data_len = app_len;
	mo.pause = pause_cb;
	mo.stats = st;
	err = libvm_migrate_send(ctl.vm, fd, &mo);
	close(fd);
	free(app);
	if (err) {
		say("migration failed, the VM goes on here: %s (%s)",
		    libvm_strerror(err), libvm_error_message());
		/* Paused for the final copy: run on. */
		if (st->downtime_ns)
			resume_vm();
	}
	return err;
}

int control_incoming(const char *where, bool quiet, int *fd, struct libvm_snapshot **snap)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *res;
	char host[256] = "";
	const char *port = where, *colon = strrchr(where, ':');
	int lfd, one = 1, err;

	if (colon) {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - where), where);
		port = colon + 1;
	}
	err = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (err) {
		fprintf(stderr, "vmrun: --incoming %s: %s\n", where, gai_strerror(err));
		return -EINVAL;
	}
	lfd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, res->ai_addr, res->ai_addrlen) < 0 || listen(lfd, 1) < 0) {
		err = -errno;
		fprintf(stderr, "vmrun: --incoming %s: %s\n", where, strerror(errno));
		freeaddrinfo(res);
		if (lfd >= 0)
			close(lfd);
		return err;
	}
	freeaddrinfo(res);
	if (!quiet)
		fprintf(stderr, "vmrun: waiting for a migration on %s\n", where);
	do
		*fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (*fd < 0 && errno == EINTR);
	err = *fd < 0 ? -errno : 0;
	close(lfd);
	if (err) {
		fprintf(stderr, "vmrun: --incoming %s: accept: %s\n", where, strerror(-err));
		return err;
	}
	err = libvm_snapshot_open(snap, *fd);
	if (err) {
		fprintf(stderr, "vmrun: incoming migration: %s (%s)\n", libvm_strerror(err),
			libvm_error_message());
		close(*fd);
	}
	return err;
}

/* ------------------------------------------------------------------ */
/* The control socket                                                  */
/* ------------------------------------------------------------------ */

static json_object *fail_reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_object *fail_reply(const char *fmt, ...)
{
	json_object *r = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(r, "ok", json_object_new_boolean(0));
	json_object_object_add(r, "error", json_object_new_string(msg));
	return r;
}

static json_object *ok_reply(void)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "ok", json_object_new_boolean(1));
	return r;
}

static const char *get_string(json_object *req, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(req, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* One request; *@end_status >= 0 ends vmrun once the reply is sent. */
static json_object *handle(json_object *req, int *end_status)
{
	const char *cmd = get_string(req, "cmd");
	json_object *r, *v;
	if (!cmd)
		return fail_reply("a request is an object with a \"cmd\" string%s", "");
	if (!strcmp(cmd, "status")) {
		bool paused, done;

		pthread_mutex_lock(&ctl.lock);
		paused = ctl.pauses && ctl.waiting;
		done = ctl.finished || ctl.end;
		pthread_mutex_unlock(&ctl.lock);
		r = ok_reply();
		json_object_object_add(r, "state", json_object_new_string(done ? "ending" : paused ? "paused" : "running"));
		json_object_object_add(r, "vcpus", json_object_new_int((int)ctl.nr_vcpus));
		json_object_object_add(r, "mem", json_object_new_int64((int64_t)ctl.o->mem));
		json_object_object_add(r, "device", json_object_new_string(libvm_vm_device_path(ctl.vm)));
		return r;
	}
	if (!strcmp(cmd, "pause")) {
		if (!ctl.socket_paused) {
			if (pause_vm())
				return fail_reply("the VM has ended%s", "");
			ctl.socket_paused = true;
		}
		return ok_reply();
	}
	if (!strcmp(cmd, "resume")) {
		if (ctl.socket_paused) {
			ctl.socket_paused = false;
			resume_vm();
		}
		return ok_reply();
	}
	if (!strcmp(cmd, "snapshot")) {
		const char *file = get_string(req, "file");
		bool end = json_object_object_get_ex(req, "end", &v) && json_object_get_boolean(v);
		uint64_t bytes = 0;
		double ms = 0;
		int err;

		if (!file)
			return fail_reply("snapshot needs a \"file\"%s", "");
		last_why[0] = 0;
		err = control_snapshot(file, end, &bytes, &ms);
		if (!err && end)
			*end_status = VMRUN_STATUS_SNAPSHOT;
		if (err)
			return fail_reply("%s", last_why[0] ? last_why : strerror(-err));
		r = ok_reply();
		json_object_object_add(r, "bytes", json_object_new_int64((int64_t)bytes));
		json_object_object_add(r, "ms", json_object_new_double(ms));
		return r;
	}
	if (!strcmp(cmd, "migrate")) {
		libvm_migrate_stats st = { 0 };
		const char *host = get_string(req, "host");
		char port[16];
		int err;

		if (!host || !json_object_object_get_ex(req, "port", &v) ||
		    !json_object_is_type(v, json_type_int))
			return fail_reply("migrate needs a \"host\" string and a \"port\" number%s", "");
		snprintf(port, sizeof(port), "%d", json_object_get_int(v));
		if (ctl.socket_paused) {
			/* A migration runs the VM while it copies. */
			ctl.socket_paused = false;
			resume_vm();
		}
		last_why[0] = 0;
		err = migrate(host, port, &st);
		if (err)
			return fail_reply("%s", last_why[0] ? last_why : strerror(-err));
		r = ok_reply();
		json_object_object_add(r, "total_ms", json_object_new_double(st.total_ns / 1e6));
		json_object_object_add(r, "downtime_ms", json_object_new_double(st.downtime_ns / 1e6));
		json_object_object_add(r, "bytes", json_object_new_int64((int64_t)st.bytes));
		json_object_object_add(r, "pages", json_object_new_int64((int64_t)st.pages));
		json_object_object_add(r, "final_pages", json_object_new_int64((int64_t)st.final_pages));
		json_object_object_add(r, "rounds", json_object_new_int((int)st.rounds));
		*end_status = VMRUN_STATUS_MIGRATED;
		return r;
	}
	if (!strcmp(cmd, "quit")) {
		*end_status = VMRUN_STATUS_QUIT;
		return ok_reply();
	}
	return fail_reply("unknown command \"%.100s\" (pause, resume, snapshot, migrate, status, quit)",
			  cmd);
}

static void reply(int fd, json_object *r)
{
	const char *s = json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t n = strlen(s);

	/* One line per reply; a client that went away is its business. */
	if (send(fd, s, n, MSG_NOSIGNAL) == (ssize_t)n)
		send(fd, "\n", 1, MSG_NOSIGNAL);
	json_object_put(r);
}

/* Requests of one client, a line each, until it closes. */
static void serve(int fd)
{
	char buf[4096];
	size_t len = 0;

	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		len += (size_t)n;
		buf[len] = '\0';
		while ((nl = memchr(buf, '\n', len))) {
			int end_status = -1;
			json_object *req;

			*nl = '\0';
			req = json_tokener_parse(buf);
			if (!req || !json_object_is_type(req, json_type_object))
				reply(fd, fail_reply("not a JSON object: %.200s", buf));
			else
				reply(fd, handle(req, &end_status));
			json_object_put(req);
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len);
			if (end_status >= 0) {
				end_vmrun(end_status);
				return;
			}
		}
		if (len == sizeof(buf) - 1) {
			reply(fd, fail_reply("a request longer than %s bytes", "4095"));
			return;
		}
	}
}

static void *socket_thread(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept4(ctl.listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL; /* shut down by control_stop() */
		}
		pthread_mutex_lock(&ctl.lock);
		if (ctl.closing) {
			pthread_mutex_unlock(&ctl.lock);
			close(fd);
			return NULL;
		}
		ctl.client_fd = fd;
		pthread_mutex_unlock(&ctl.lock);
		serve(fd);
		pthread_mutex_lock(&ctl.lock);
		ctl.client_fd = -1;
		pthread_mutex_unlock(&ctl.lock);
		close(fd);
	}
}

static int open_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vmrun: --control %s: the path is too long\n", path);
		return -ENAMETOOLONG;
	}
	/* A socket left by a vmrun that died is replaced; anything else is not. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "vmrun: --control %s: exists and is not a socket\n", path);
			return -EEXIST;
		}
		unlink(path);
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
		int err = -errno;

		fprintf(stderr, "vmrun: --control %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return err;
	}
	return fd;
}

/* ------------------------------------------------------------------ */
/* Signals                                                             */
/* ------------------------------------------------------------------ */

static void *signal_thread(void *arg)
{
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	for (;;) {
		uint64_t bytes = 0;
		double ms = 0;
		int sig, err;

		if (sigwait(&set, &sig))
			continue;
		pthread_mutex_lock(&ctl.lock);
		if (ctl.closing) {
			pthread_mutex_unlock(&ctl.lock);
			return NULL;
		}
		if (sig == SIGUSR1 && ctl.wake_fd >= 0) {
			/* Asleep in S3: SIGUSR1 wakes it, as without --snapshot. */
			uint64_t one = 1;

			if (write(ctl.wake_fd, &one, sizeof(one)) < 0)
				fprintf(stderr, "vmrun: wake: %s\n", strerror(errno));
			pthread_mutex_unlock(&ctl.lock);
			continue;
		}
		pthread_mutex_unlock(&ctl.lock);
		err = control_snapshot(ctl.o->snapshot, sig == SIGUSR2, &bytes, &ms);
		if (!err && !ctl.o->quiet)
			fprintf(stderr, "vmrun: snapshot written to %s (%llu bytes, %.1f ms)%s\n",
				ctl.o->snapshot, (unsigned long long)bytes, ms,
				sig == SIGUSR2 ? "; ending" : "");
		if (!err && sig == SIGUSR2)
			end_vmrun(VMRUN_STATUS_SNAPSHOT);
	}
	return NULL;
}

void control_block_signals(void)
{
	sigset_t set;

	/* Blocked everywhere, waited for by one thread: a snapshot is never
	 * taken from inside a signal handler or a vCPU thread, and no thread
	 * dies of SIGUSR1's default action. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

void control_asleep(int wake_fd)
{
	pthread_mutex_lock(&ctl.lock);
	ctl.wake_fd = wake_fd;
	pthread_mutex_unlock(&ctl.lock);
}

int control_start(libvm_machine *m, const struct vmrun_options *o, int kernel_format)
{
	libvm_machine_parts parts = LIBVM_MACHINE_PARTS_INIT;

	libvm_machine_get_parts(m, &parts);
	ctl.m = m;
	ctl.vm = parts.vm;
	ctl.nr_vcpus = parts.nr_vcpus;
	ctl.o = o;
	ctl.kernel_format = kernel_format;
	control_block_signals();
	if (o->snapshot) {
		if (pthread_create(&ctl.sig_thread, NULL, signal_thread, NULL)) {
			fprintf(stderr, "vmrun: cannot start the signal thread\n");
			return -EAGAIN;
		}
		ctl.sig_started = true;
	}
	if (o->control) {
		ctl.listen_fd = open_socket(o->control);
		if (ctl.listen_fd < 0)
			return ctl.listen_fd;
		if (pthread_create(&ctl.sock_thread, NULL, socket_thread, NULL)) {
			fprintf(stderr, "vmrun: cannot start the control thread\n");
			return -EAGAIN;
		}
		ctl.sock_started = true;
	}
	return 0;
}

void control_stop(void)
{
	pthread_mutex_lock(&ctl.lock);
	ctl.closing = true;
	/* A request being served sees the run finished and answers so. */
	ctl.finished = true;
	pthread_cond_broadcast(&ctl.cond);
	if (ctl.client_fd >= 0)
		shutdown(ctl.client_fd, SHUT_RDWR);
	pthread_mutex_unlock(&ctl.lock);
	if (ctl.sock_started) {
		shutdown(ctl.listen_fd, SHUT_RDWR);
		pthread_join(ctl.sock_thread, NULL);
		ctl.sock_started = false;
	}
	if (ctl.listen_fd >= 0) {
		close(ctl.listen_fd);
		ctl.listen_fd = -1;
		unlink(ctl.o->control);
	}
	if (ctl.sig_started) {
		pthread_kill(ctl.sig_thread, SIGUSR1);
		pthread_join(ctl.sig_thread, NULL);
		ctl.sig_started = false;
	}
}
