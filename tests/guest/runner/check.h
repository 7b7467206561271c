/*
 * Host-side checks of the guest runner. Every check prints one line, "ok"
 * or "FAIL", and is counted; the final verdict needs at least one check and
 * no failure. Safe to call from vCPU threads (device handlers).
 */
#ifndef RUNNER_CHECK_H
#define RUNNER_CHECK_H

#include <stdbool.h>

/* Exit codes of guest-runner; 77 is what meson's test() reads as a skip. */
enum runner_result {
	RUNNER_PASS = 0,
	RUNNER_FAIL = 1,
	RUNNER_SKIP = 77,
};

/* Records one check; returns @cond so callers can stop early. */
bool check(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints an informational line (not a check). */
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

unsigned int check_count(void);
unsigned int check_failures(void);

#endif /* RUNNER_CHECK_H */
