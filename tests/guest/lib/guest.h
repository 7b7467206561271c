/*
 * The tiny-guest library: what a guest program (tests/guest/<name>.c) gets.
 * A guest defines guest_main(); the library enters it on every vCPU in
 * 64-bit long mode with a stack, reports checks on the console and ends the
 * vCPU through the exit port with the verdict (see docs/guest-tests.md).
 */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "io.h"

/*
 * Provided by each guest program. @cpu is the vCPU index (0 on a single-CPU
 * VM), @param the scenario's EDI value. Returning 0 means "no error beyond
 * the failed reports"; the return value is handed to exit().
 */
int guest_main(unsigned int cpu, uint32_t param);

/* Console output through CONSOLE_PORT, one exit per byte: keep it short. */
void putchar(int c);
void puts(const char *s); /* no newline added */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);

/*
 * Record one check: prints "PASS: <name>" or "FAIL: <name>" and counts a
 * failure against the calling vCPU. Returns @cond.
 */
bool report(bool cond, const char *name, ...) __attribute__((format(printf, 2, 3)));

/*
 * End this vCPU: writes @code to EXIT_PORT (status (code << 1) | 1, so 0
 * means PASS). A vCPU with failed reports, or with no reports at all, exits
 * with 1 whatever @code says: a test that checked nothing has not passed.
 */
void exit(int code) __attribute__((noreturn));

/* Index of the calling vCPU (from its stack, see entry.S). */
unsigned int smp_id(void);

/* What the entry code recorded: {16, 32, 64} after a normal start. */
extern volatile uint8_t entry_trace[4];
/* The page map root built by entry.S. */
extern uint64_t pml4[512];

void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif /* GUEST_GUEST_H */
