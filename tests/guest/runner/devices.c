/*
 * The two devices every tiny guest uses: the console (bytes written to
 * CONSOLE_PORT become "[vm cpuN] ..." lines) and the exit port (a write
 * of v ends the vCPU's run with LIBVM_EXIT_GUEST_EXIT and isa-debug-exit's
 * status (v << 1) | 1).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "vm.h"

struct guest_cpu *guest_cpu_of(struct guest_vm *g, libvm_vcpu *vcpu)
{
	uint32_t id = libvm_vcpu_id(vcpu);

	if (id >= g->ncpus || g->cpu[id].vcpu != vcpu)
		return NULL;
	return &g->cpu[id];
}

/* Every handler call counts whether it ran on the vCPU's own thread. */
static void note_thread(struct guest_cpu *c)
{
	if (!pthread_equal(pthread_self(), c->thread))
		c->wrong_thread++;
}

void guest_console_flush(struct guest_cpu *c)
{
	if (!c->line_len)
		return;
	c->line[c->line_len] = '\0';
	printf("[%s cpu%u] %s\n", c->vm->name, c->index, c->line);
	c->lines++;
	memcpy(c->last_line, c->line, c->line_len + 1);
	if (!strncmp(c->line, "PASS:", 5))
		c->pass_lines++;
	else if (!strncmp(c->line, "FAIL:", 5))
		c->fail_lines++;
	c->line_len = 0;
}

static void console_putc(struct guest_cpu *c, uint8_t ch)
{
	if (ch == '\n') {
		guest_console_flush(c);
		return;
	}
	if (ch == '\r')
		return;
	/* Guest bytes are untrusted: keep the log printable. */
	c->line[c->line_len++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	if (c->line_len == sizeof(c->line) - 1)
		guest_console_flush(c);
}

static int console_io(libvm_vcpu *vcpu, uint64_t addr, void *data, uint32_t len,
		      bool is_write, void *opaque)
{
	struct guest_cpu *c = guest_cpu_of(opaque, vcpu);

	if (!c)
		return -EINVAL;
	note_thread(c);
	if (is_write) {
		/* Only the transmit register prints; other UART registers are ignored. */
		if (addr == CONSOLE_PORT)
			console_putc(c, *(uint8_t *)data);
		return 0;
	}
	memset(data, 0, len);
	if (addr == CONSOLE_PORT + CONSOLE_LSR)
		*(uint8_t *)data = 0x60; /* THRE | TEMT: ready for the next byte */
	return 0;
}

static int exit_io(libvm_vcpu *vcpu, uint64_t addr, void *data, uint32_t len,
		   bool is_write, void *opaque)
{
	struct guest_cpu *c = guest_cpu_of(opaque, vcpu);
	uint32_t value = 0;

	if (!c)
		return -EINVAL;
	note_thread(c);
	if (!is_write)
		return 0; /* reads see the preset all-ones */
	memcpy(&value, data, len < sizeof(value) ? len : sizeof(value));
	c->exit_value = value;
	c->exited = true;
	/*
	 * Ending the run (not libvm_vcpu_stop) keeps "the guest is done" apart
	 * from "someone asked the vCPU to stop", which the stop scenario checks.
	 */
	return libvm_vcpu_end_run(vcpu, LIBVM_EXIT_GUEST_EXIT, ((uint64_t)value << 1) | 1);
}

int guest_devices_register(struct guest_vm *g)
{
	int rc;

	rc = libvm_io_register(g->vm, LIBVM_SPACE_PIO, CONSOLE_PORT, CONSOLE_PORT_LEN,
			       "console", console_io, g);
	if (rc) {
		check(false, "register the console at 0x%x: %s (%s)", CONSOLE_PORT,
		      libvm_strerror(rc), libvm_error_message());
		return rc;
	}
	rc = libvm_io_register(g->vm, LIBVM_SPACE_PIO, EXIT_PORT, EXIT_PORT_LEN,
			       "exit", exit_io, g);
	if (rc)
		check(false, "register the exit port at 0x%x: %s (%s)", EXIT_PORT,
		      libvm_strerror(rc), libvm_error_message());
	return rc;
}
