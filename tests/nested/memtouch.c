// SPDX-License-Identifier: MIT
/*
 * memtouch: the guest program of the live-migration test. It keeps
 * rewriting pages of a buffer with values that depend on the page and on
 * how often it was written, and checks the whole buffer against what it
 * wrote, over and over: a page that a migration failed to carry (or
 * carried stale) is found by the next check inside the guest.
 *
 * usage: memtouch MIB SECONDS [PAGES_PER_100MS]
 * Prints "MEMTOUCH t=... checks=... writes=..." each second and, at the
 * end, "MEMTOUCH-DONE ok checks=N writes=M" (exit 0), or "MEMTOUCH-BAD
 * page P word W: got X, want Y" at the first wrong word (exit 1).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#define PAGE 4096u
#define WORDS (PAGE / 4u)

static uint32_t *buf;
static uint32_t *gen;

static uint32_t value(uint64_t page, uint32_t g)
{
	uint64_t x = page * 0x9e3779b97f4a7c15ull ^ (uint64_t)g * 0xc2b2ae3d27d4eb4full;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	return (uint32_t)(x ^ x >> 32);
}

static void fill(uint64_t page)
{
	uint32_t v = value(page, gen[page]), *w = buf + page * WORDS;

	for (uint32_t i = 0; i < WORDS; i++)
		w[i] = v + i;
}

static int check(uint64_t pages)
{
	for (uint64_t p = 0; p < pages; p++) {
		uint32_t v = value(p, gen[p]), *w = buf + p * WORDS;

		for (uint32_t i = 0; i < WORDS; i++) {
			if (w[i] != v + i) {
				printf("MEMTOUCH-BAD page %llu word %u: got %08x, want %08x (generation %u)\n",
				       (unsigned long long)p, i, w[i], v + i, gen[p]);
				fflush(stdout);
				return 1;
			}
		}
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t pages, writes = 0, cursor = 0, checks = 0;
	double t0, last_print, last_check;
	unsigned long per_step;
	int seconds;

	if (argc < 3) {
		fprintf(stderr, "usage: memtouch MIB SECONDS [PAGES_PER_100MS]\n");
		return 2;
	}
	pages = strtoull(argv[1], NULL, 0) * 256;
	seconds = atoi(argv[2]);
	per_step = argc > 3 ? strtoul(argv[3], NULL, 0) : 1000;
	buf = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	gen = calloc(pages, sizeof(*gen));
	if (buf == MAP_FAILED || !gen) {
		printf("MEMTOUCH-BAD: no memory\n");
		return 1;
	}
	for (uint64_t p = 0; p < pages; p++)
		fill(p);
	t0 = last_print = last_check = now();
	printf("MEMTOUCH start %llu MiB for %d s, %lu pages every 100 ms\n",
	       (unsigned long long)(pages / 256), seconds, per_step);
	fflush(stdout);
	while (now() - t0 < seconds) {
		double step_end = now() + 0.1;

		/* Dirty a stripe of pages, each with its next generation. */
		for (unsigned long k = 0; k < per_step; k++) {
			uint64_t p = cursor++ * 7919 % pages;

			gen[p]++;
			fill(p);
			writes++;
		}
		if (now() - last_check > 0.5) {
			if (check(pages))
				return 1;
			checks++;
			last_check = now();
		}
		if (now() - last_print >= 1) {
			printf("MEMTOUCH t=%.0f checks=%llu writes=%llu\n", now() - t0,
			       (unsigned long long)checks, (unsigned long long)writes);
			fflush(stdout);
			last_print = now();
		}
		if (now() < step_end) {
			double left = step_end - now();
			struct timespec ts = { 0, (long)(left * 1e9) };

			nanosleep(&ts, NULL);
		}
	}
	if (check(pages))
		return 1;
	printf("MEMTOUCH-DONE ok checks=%llu writes=%llu\n", (unsigned long long)checks + 1,
	       (unsigned long long)writes);
	fflush(stdout);
	return 0;
}
