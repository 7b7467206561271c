/* SPDX-License-Identifier: MIT */
/*
 * Error codes, the thread-local detail message, logging and the version.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static _Thread_local char error_message[256];

int libvm__fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(error_message, sizeof(error_message), fmt, ap);
	va_end(ap);
	return err;
}

void libvm__log(const libvm_vm *vm, int level, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	if (!vm || !vm->log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	vm->log(level, buf, vm->log_opaque);
}

void libvm__clear_error(void)
{
	error_message[0] = '\0';
}

LIBVM_EXPORT const char *libvm_error_message(void)
{
	return error_message;
}

LIBVM_EXPORT const char *libvm_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case -EINVAL:
		return "invalid argument";
	case -ENOMEM:
		return "out of memory";
	case -EEXIST:
		return "already exists or overlaps";
	case -ENOENT:
		return "no such object or device";
	case -EACCES:
		return "permission denied";
	case -EBUSY:
		return "busy";
	case -EFAULT:
		return "address outside guest memory";
	case -ENOTSUP:
		return "not supported by this backend";
	case -ENOSPC:
		return "no free slot";
	case -E2BIG:
		return "too large (or the buffer given is too small)";
	case -ENOEXEC:
		return "not an image of this format";
	case -ERANGE:
		return "value out of range";
	case -EPERM:
		return "refused by the backend";
	case -EDEADLK:
		return "not allowed from inside a device handler";
	case -EINTR:
		return "interrupted";
	case -EIO:
		return "device I/O error";
	case -EBADMSG:
		return "malformed or corrupted data";
	case -EALREADY:
		return "already done";
	case -ECONNREFUSED:
		return "refused by the other side";
	case -ECONNRESET:
		return "the other side went away";
	case -EPROTO:
		return "protocol error";
	default:
		if (err < 0 && err > -4096)
			return "system error (see errno codes)";
		return "unknown error code";
	}
}

LIBVM_EXPORT const char *libvm_version(void)
{
	return LIBVM_VERSION_STRING;
}

LIBVM_EXPORT uint32_t libvm_version_number(void)
{
	return LIBVM_VERSION_NUMBER;
}

int libvm__copy_options(void *dst, size_t dst_size, const void *src, const char *what)
{
	size_t given;

	/* Every options struct starts with its size. */
	memcpy(&given, src, sizeof(given));
	if (given < sizeof(size_t) || given > dst_size)
		return libvm__fail(-EINVAL, "%s: size field is %zu, expected %zu (use the _INIT macro)",
				   what, given, dst_size);
	memset(dst, 0, dst_size);
	memcpy(dst, src, given);
	return 0;
}
