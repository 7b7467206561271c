/*
 * msi: MSI routes and irqfd on the real backend, delivered by the in-kernel
 * LAPIC. The host adds an MSI route, binds an eventfd to it and, when the
 * guest asks (a port write), raises the interrupt from another thread while
 * the vCPU is halted in the kernel: by writing the eventfd, by changing
 * the route and writing it again, and by pulsing an IOAPIC pin (the
 * irqchip's default routes must survive the table libvm installed). Then a
 * PCI device with MSI-X: libvm routes the vector the guest programmed and
 * sends libvm_pci_dev_msix_notify() through its own eventfd; a masked
 * vector pends and goes out, with the entry's new data, when unmasked.
 * libvm's log must say the device used irqfd only.
 *
 * Skips (77) when the backend has no irqchip, no GSI routing or no irqfd.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <libvm/pci.h>

#include "check.h"
#include "scenarios.h"
#include "testdata.h"
#include "vm.h"

struct msi_test {
	libvm_vm *vm;
	libvm_pci_dev *dev;
	uint32_t gsi;
	int efd;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint32_t phase;          /* asked by the guest, not yet served */
	bool quit;
	char log[8192];          /* libvm's log lines */
	size_t log_len;
};

static void log_line(int level, const char *message, void *opaque)
{
	struct msi_test *t = opaque;
	int n;

	note("libvm log (%d): %s", level, message);
	pthread_mutex_lock(&t->lock);
	n = snprintf(t->log + t->log_len, sizeof(t->log) - t->log_len, "%s\n", message);
	if (n > 0 && (size_t)n < sizeof(t->log) - t->log_len)
		t->log_len += (size_t)n;
	pthread_mutex_unlock(&t->lock);
}

static bool logged(struct msi_test *t, const char *what)
{
	bool found;

	pthread_mutex_lock(&t->lock);
	found = strstr(t->log, what) != NULL;
	pthread_mutex_unlock(&t->lock);
	return found;
}

static void raise_eventfd(struct msi_test *t)
{
	uint64_t one = 1;

	check(write(t->efd, &one, sizeof(one)) == sizeof(one), "write the route's eventfd");
}

/* Serves the guest's phases on a thread of its own, a little later, so that
 * the vCPU is halted in the kernel when the interrupt comes. */
static void *actor_main(void *arg)
{
	struct msi_test *t = arg;

	for (;;) {
		struct timespec pause = { 0, 20 * 1000 * 1000 };
		uint32_t phase;
		int rc;

		pthread_mutex_lock(&t->lock);
		while (!t->phase && !t->quit)
			pthread_cond_wait(&t->cond, &t->lock);
		phase = t->phase;
		t->phase = 0;
		pthread_mutex_unlock(&t->lock);
		if (!phase)
			return NULL;
		nanosleep(&pause, NULL);
		switch (phase) {
		case MSI_PHASE_ROUTE:
			raise_eventfd(t);
			break;
		case MSI_PHASE_UPDATED:
			rc = libvm_msi_route_update(t->vm, t->gsi, MSI_ADDR, MSI_VEC_UPDATED);
			check(rc == 0, "update GSI %u to vector 0x%x: %s (%s)", t->gsi, MSI_VEC_UPDATED,
			      libvm_strerror(rc), libvm_error_message());
			raise_eventfd(t);
			break;
		case MSI_PHASE_IOAPIC:
			rc = libvm_irq_set(t->vm, MSI_IOAPIC_PIN, true);
			if (!rc)
				rc = libvm_irq_set(t->vm, MSI_IOAPIC_PIN, false);
			check(rc == 0, "pulse GSI %d: %s", MSI_IOAPIC_PIN, libvm_strerror(rc));
			break;
		case MSI_PHASE_PCI:
			rc = libvm_pci_dev_msix_notify(t->dev, 0);
			check(rc == 0, "notify MSI-X vector 0: %s (%s)", libvm_strerror(rc),
			      libvm_error_message());
			break;
		default:
			check(false, "the guest asked for phase %u", phase);
			break;
		}
	}
}

static int phase_port(libvm_vcpu *vcpu, uint64_t addr, void *data, uint32_t len, bool is_write,
		      void *opaque)
{
	struct msi_test *t = opaque;
	uint32_t phase;

	if (!is_write || len != 4)
		return 0;
	memcpy(&phase, data, 4);
	if (phase == MSI_PHASE_PCI_MASKED) {
		/* Right here, with the vector masked: it must only pend. */
		int rc = libvm_pci_dev_msix_notify(t->dev, 0);

		check(rc == 0, "notify the masked vector: %s", libvm_strerror(rc));
		return 0;
	}
	pthread_mutex_lock(&t->lock);
	t->phase = phase;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

/* Open file descriptors of this process, to see that none is left behind. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static int bar_fn(libvm_pci_dev *dev, uint32_t bar, uint64_t off, void *data, uint32_t len,
		  bool is_write, void *opaque)
{
	return 0; /* only the MSI-X table and PBA are used */
}

static bool add_device(struct msi_test *t, libvm_pci_bus **bus)
{
	libvm_pci_dev_options o = LIBVM_PCI_DEV_OPTIONS_INIT;
	int rc = libvm_pci_bus_attach(bus, t->vm, NULL);

	if (!check(rc == 0, "attach a PCI bus: %s (%s)", libvm_strerror(rc), libvm_error_message()))
		return false;
	o.vendor_id = 0x1b36;
	o.device_id = 0x0005; /* a generic "PCI test device" id */
	o.class_code = 0xff0000;
	o.slot = MSI_PCI_SLOT;
	o.bar_size[0] = 0x1000;
	o.msix_vectors = 1;
	o.msix_bar = 0;
	o.bar_fn = bar_fn;
	o.name = "msi-test";
	rc = libvm_pci_dev_add(&t->dev, *bus, &o);
	return check(rc == 0, "add a device with one MSI-X vector at slot %d: %s (%s)",
		     MSI_PCI_SLOT, libvm_strerror(rc), libvm_error_message());
}

int scenario_msi(const char *image)
{
	static struct msi_test t = { .lock = PTHREAD_MUTEX_INITIALIZER,
				     .cond = PTHREAD_COND_INITIALIZER, .efd = -1 };
	struct guest_vm_setup setup = { .irqchip = true, .log = log_line, .log_opaque = &t };
	struct guest_vm g;
	struct guest_cpu *c = &g.cpu[0];
	libvm_pci_bus *bus = NULL;
	pthread_t actor;
	bool actor_started = false;
	int fds = count_fds();
	int rc = guest_vm_create_with(&g, "vm0", image, 1, 0, &setup);

	if (rc)
		return rc;
	t.vm = g.vm;
	if (libvm_has(g.vm, LIBVM_CAP_MSI_ROUTING) != 1 || libvm_has(g.vm, LIBVM_CAP_IRQFD) != 1) {
		printf("SKIP: %s lacks %s: no MSI routes for irqfds to raise\n",
		       libvm_vm_device_path(g.vm),
		       libvm_has(g.vm, LIBVM_CAP_IRQFD) != 1 ? "irqfd" : "GSI routing (KVM_CAP_IRQ_ROUTING)");
		guest_vm_destroy(&g);
		return RUNNER_SKIP;
	}
	rc = libvm_msi_route_add(&t.gsi, g.vm, MSI_ADDR, MSI_VEC_ROUTE);
	if (!check(rc == 0 && t.gsi >= 24, "add an MSI route to vector 0x%x: GSI %u (%s%s%s)",
		   MSI_VEC_ROUTE, t.gsi, libvm_strerror(rc), rc ? ": " : "",
		   rc ? libvm_error_message() : ""))
		goto out;
	t.efd = eventfd(0, EFD_CLOEXEC);
	rc = t.efd < 0 ? -errno : libvm_irqfd_add(g.vm, t.efd, t.gsi);
	if (!check(rc == 0, "bind an eventfd to GSI %u: %s (%s)", t.gsi, libvm_strerror(rc),
		   libvm_error_message()))
		goto out;
	if (!add_device(&t, &bus))
		goto out;
	rc = libvm_io_register(g.vm, LIBVM_SPACE_PIO, MSI_PHASE_PORT, 4, "phase", phase_port, &t);
	if (!check(rc == 0, "register the phase port: %s", libvm_strerror(rc)))
		goto out;
	actor_started = pthread_create(&actor, NULL, actor_main, &t) == 0;
	if (!check(actor_started, "start the thread that raises the interrupts"))
		goto out;
	guest_cpu_run_to_exit(c);
	check_guest_passed(c);

	/* The device's messages went through irqfd only. */
	check(logged(&t, "pci msi-test: MSI-X vector 0 -> GSI"), "libvm routed the device's vector");
	libvm_pci_dev_remove(t.dev);
	t.dev = NULL;
	check(logged(&t, "pci msi-test: 2 MSI-X messages through irqfd, 0 with KVM_SIGNAL_MSI"),
	      "libvm sent the device's 2 messages through irqfd");
	/* Unbinding and removing; the GSI is unknown afterwards. */
	rc = libvm_irqfd_remove(g.vm, t.efd, t.gsi);
	check(rc == 0, "unbind the eventfd: %s", libvm_strerror(rc));
	rc = libvm_msi_route_remove(g.vm, t.gsi);
	check(rc == 0, "remove GSI %u: %s", t.gsi, libvm_strerror(rc));
	rc = libvm_msi_route_remove(g.vm, t.gsi);
	check(rc == -ENOENT, "removing it again: %s", libvm_strerror(rc));
out:
	if (actor_started) {
		pthread_mutex_lock(&t.lock);
		t.quit = true;
		pthread_cond_signal(&t.cond);
		pthread_mutex_unlock(&t.lock);
		pthread_join(actor, NULL);
	}
	guest_vm_destroy(&g); /* the bus, its device and any route go with the VM */
	if (t.efd >= 0)
		close(t.efd);
	check(count_fds() == fds, "no file descriptor left open (%d before, %d after)", fds,
	      count_fds());
	return RUNNER_PASS;
}
