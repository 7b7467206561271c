/*
 * Check bookkeeping: counters are atomic because device handlers run on
 * vCPU threads, and each line is formatted first and written with a single
 * stdio call so lines from several threads do not interleave.
 */
#include <stdarg.h>
#include <stdio.h>

#include "check.h"

static unsigned int checks, failures;

static void print_line(const char *prefix, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	printf("[host] %s%s\n", prefix, msg);
}

bool check(bool cond, const char *fmt, ...)
{
	va_list ap;

	__atomic_add_fetch(&checks, 1, __ATOMIC_RELAXED);
	if (!cond)
		__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
	va_start(ap, fmt);
	print_line(cond ? "ok: " : "FAIL: ", fmt, ap);
	va_end(ap);
	return cond;
}

void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_line("", fmt, ap);
	va_end(ap);
}

unsigned int check_count(void)
{
	return __atomic_load_n(&checks, __ATOMIC_RELAXED);
}

unsigned int check_failures(void)
{
	return __atomic_load_n(&failures, __ATOMIC_RELAXED);
}
