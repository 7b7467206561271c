/* SPDX-License-Identifier: MIT */
/*
 * Misuse survives (on the fake backend; the ASan build proves that no
 * freed memory is touched): a second destroy, unmap or detach, and calls
 * on destroyed handles fail with -EBADF and a message; a VM is not
 * destroyed from inside one of its device handlers (-EDEADLK) nor while
 * libvm_vm_run() or a vCPU runs (-EBUSY); a vCPU is not destroyed while it
 * runs; MMIO devices and RAM may not overlap (a read-only region may lie
 * over a device: the device gets its writes).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <libvm/cpu.h>
#include <libvm/devices.h>
#include <libvm/load.h>
#include <libvm/pci.h>
#include <libvm/virtio.h>

#include "../fakevm.h"

static void test_double_vm_destroy(void **state)
{
	libvm_vm *vm = fakevm_new(NULL);
	char b[4];

	(void)state;
	fakevm_ram(vm, 0, 0x1000, "ram");
	assert_int_equal(libvm_vm_destroy(vm), 0);
	assert_int_equal(libvm_vm_destroy(vm), -EBADF);
	assert_string_equal(libvm_error_message(), "libvm_vm_destroy: this VM was destroyed");
	/* Any other call on it. */
	assert_int_equal(libvm_mem_read(vm, 0, b, 4), -EBADF);
	assert_string_equal(libvm_error_message(), "libvm_mem_read: this VM was destroyed");
	assert_int_equal(libvm_region_map_ram(NULL, vm, 0x1000, 0x1000), -EBADF);
	assert_int_equal(libvm_has(vm, LIBVM_CAP_IRQCHIP), -EBADF);
	assert_int_equal(libvm_irq_set(vm, 4, true), -EBADF);
	assert_int_equal(libvm_vm_run(vm, NULL, &(libvm_exit){ 0 }, NULL), -EBADF);
	assert_int_equal(libvm_vm_stop(vm), -EBADF);
	assert_null(libvm_vm_device_path(vm));
	assert_int_equal(libvm_vcpu_create(&(libvm_vcpu *){ NULL }, vm, 0), -EBADF);
	assert_int_equal(libvm_uart_attach(&(libvm_uart *){ NULL }, vm, NULL), -EBADF);
	assert_int_equal(libvm_pci_bus_attach(&(libvm_pci_bus *){ NULL }, vm, NULL), -EBADF);
	/* The calls of 0.2 as well. */
	assert_int_equal(libvm_cpuid_build(vm, "host", NULL, &(uint32_t){ 0 }), -EBADF);
	assert_string_equal(libvm_error_message(), "libvm_cpuid_build: this VM was destroyed");
	assert_int_equal(libvm_io_coalesce_add(vm, LIBVM_SPACE_PIO, 0x3f8, 1), -EBADF);
	assert_int_equal(libvm_io_coalesce_remove(vm, LIBVM_SPACE_PIO, 0x3f8, 1), -EBADF);
	assert_int_equal(libvm_acpi_waking_vector(&(libvm_boot){ 0 }, vm, 0xe0000), -EBADF);
	assert_string_equal(libvm_error_message(), "libvm_acpi_waking_vector: this VM was destroyed");
	assert_int_equal(libvm_vm_destroy(NULL), 0);
}

static void test_double_vcpu_destroy(void **state)
{
	libvm_vm *vm = fakevm_new(NULL);
	libvm_vcpu *v = fakevm_vcpu(vm, 1);
	libvm_regs regs;
	libvm_exit ex;

	(void)state;
	assert_int_equal(libvm_vcpu_destroy(v), 0);
	assert_int_equal(libvm_vcpu_destroy(v), -EBADF);
	assert_string_equal(libvm_error_message(), "libvm_vcpu_destroy: this vCPU was destroyed");
	/* Running it, and the other calls on it. */
	assert_int_equal(libvm_vcpu_run(v, &ex), -EBADF);
	assert_string_equal(libvm_error_message(), "libvm_vcpu_run: this vCPU was destroyed");
	assert_int_equal(libvm_vcpu_get_regs(v, &regs), -EBADF);
	assert_int_equal(libvm_vcpu_stop(v), -EBADF);
	assert_int_equal(libvm_vcpu_end_run(v, LIBVM_EXIT_GUEST_EXIT, 1), -EBADF);
	assert_null(libvm_vcpu_vm(v));
	/* The calls of 0.2 as well (they reached the backend through the
	 * zeroed handle before: a NULL dereference). */
	assert_int_equal(libvm_vcpu_reset(v, 0), -EBADF);
	assert_string_equal(libvm_error_message(), "libvm_vcpu_reset: this vCPU was destroyed");
	assert_int_equal(libvm_vcpu_enable_hyperv(v, LIBVM_HV_RELAXED), -EBADF);
	assert_int_equal(libvm_vcpu_hyperv_result(v, 0), -EBADF);
	assert_string_equal(libvm_error_message(),
			    "libvm_vcpu_hyperv_result: this vCPU was destroyed");
	/* Its id is free again; the VM is unharmed. */
	v = fakevm_vcpu(vm, 1);
	assert_int_equal(libvm_vcpu_run(v, &ex), 0);
	assert_int_equal(ex.reason, LIBVM_EXIT_HLT);
	assert_int_equal(libvm_vm_destroy(vm), 0);
	/* The VM's destroy took the vCPU with it. */
	assert_int_equal(libvm_vcpu_run(v, &ex), -EBADF);
	assert_int_equal(libvm_vcpu_destroy(v), -EBADF);
}

static void test_double_region_unmap(void **state)
{
	libvm_vm *vm = fakevm_new(NULL);
	libvm_region *r = fakevm_ram(vm, 0x10000, 0x1000, "ram"), *r2;

	(void)state;
	assert_int_equal(libvm_region_unmap(r), 0);
	assert_int_equal(libvm_region_unmap(r), -EBADF);
	assert_string_equal(libvm_error_message(), "libvm_region_unmap: this region was destroyed");
	assert_int_equal(libvm_region_gpa(r), 0);
	assert_null(libvm_region_volatile_ptr(r));
	assert_string_equal(libvm_region_name(r), "");
	/* A region the VM's destroy released. */
	r2 = fakevm_ram(vm, 0x20000, 0x1000, "ram2");
	assert_int_equal(libvm_vm_destroy(vm), 0);
	assert_int_equal(libvm_region_unmap(r2), -EBADF);
}

static void test_detach_after_vm_destroy(void **state)
{
	libvm_vm *vm = fakevm_new(NULL);
	libvm_uart *u;
	libvm_fwcfg *f;
	libvm_fwcfg_options fo = LIBVM_FWCFG_OPTIONS_INIT;
	libvm_port80 *p;
	libvm_pci_bus *bus;
	libvm_virtio_rng *rng;
	libvm_pci_dev *dev;
	libvm_pci_dev_options po = LIBVM_PCI_DEV_OPTIONS_INIT;
	libvm_pci_testdev *td, *td2;

	(void)state;
	fo.nb_cpus = 1;
	assert_int_equal(libvm_uart_attach(&u, vm, NULL), 0);
	assert_int_equal(libvm_fwcfg_attach(&f, vm, &fo), 0);
	assert_int_equal(libvm_port80_attach(&p, vm, NULL), 0);
	assert_int_equal(libvm_pci_bus_attach(&bus, vm, NULL), 0);
	assert_int_equal(libvm_virtio_rng_attach(&rng, bus, NULL), 0);
	assert_int_equal(libvm_pci_dev_add(&dev, bus, &po), 0);
	assert_int_equal(libvm_pci_testdev_attach(&td, bus, 0), 0);
	assert_int_equal(libvm_vm_destroy(vm), 0);
	/* Each is a no-op now, or -EBADF. */
	libvm_pci_testdev_detach(td);
	libvm_uart_detach(u);
	libvm_fwcfg_detach(f);
	libvm_port80_detach(p);
	libvm_virtio_rng_detach(rng);
	libvm_pci_dev_remove(dev);
	libvm_pci_bus_detach(bus);
	assert_int_equal(libvm_uart_input(u, "x", 1), -EBADF);
	assert_string_equal(libvm_error_message(), "libvm_uart_input: this UART was destroyed");
	assert_int_equal(libvm_fwcfg_add_file(f, "a", "b", 1), -EBADF);
	assert_int_equal(libvm_port80_last(p), -EBADF);
	assert_int_equal(libvm_pci_dev_slot(dev), -EBADF);
	assert_int_equal(libvm_pci_acpi_aml(bus, NULL, &(size_t){ 0 }), -EBADF);
	assert_null(libvm_pci_bus_vm(bus));
	assert_int_equal(libvm_virtio_rng_attach(&rng, bus, NULL), -EBADF);
	assert_int_equal(libvm_pci_testdev_attach(&td, bus, 0), -EBADF);

	/* Detached twice on a live VM: the same. */
	vm = fakevm_new(NULL);
	assert_int_equal(libvm_uart_attach(&u, vm, NULL), 0);
	libvm_uart_detach(u);
	libvm_uart_detach(u);
	assert_int_equal(libvm_uart_attach(&u, vm, NULL), 0); /* the ports are free */
	/* The PCI test device: twice, and after its bus took it along. */
	assert_int_equal(libvm_pci_bus_attach(&bus, vm, NULL), 0);
	assert_int_equal(libvm_pci_testdev_attach(&td, bus, 0), 0);
	libvm_pci_testdev_detach(td);
	libvm_pci_testdev_detach(td);
	assert_int_equal(libvm_pci_testdev_attach(&td2, bus, 0), 0); /* its slot is free */
	libvm_pci_bus_detach(bus);
	libvm_pci_testdev_detach(td2);
	assert_int_equal(libvm_vm_destroy(vm), 0);
}

/* A handle of one type passed where another is expected. */
static void test_wrong_handle_type(void **state)
{
	libvm_vm *vm = fakevm_new(NULL);
	libvm_vcpu *v = fakevm_vcpu(vm, 0);
	libvm_exit ex;

	(void)state;
	assert_int_equal(libvm_vcpu_run((libvm_vcpu *)vm, &ex), -EBADF);
	assert_non_null(strstr(libvm_error_message(), "is not a vCPU handle of libvm"));
	assert_int_equal(libvm_has((libvm_vm *)v, LIBVM_CAP_IRQCHIP), -EBADF);
	libvm_uart_detach((libvm_uart *)vm); /* no-op */
	assert_int_equal(libvm_vm_destroy(vm), 0);
}

/* A device whose handler destroys its own VM or vCPU. */
struct destroyer {
	libvm_vm *vm;
	libvm_vcpu *vcpu;
	int vm_err, vcpu_err;
};

static int destroying_handler(libvm_vcpu *vcpu, uint64_t addr, void *data, uint32_t len,
			      bool is_write, void *opaque)
{
	struct destroyer *d = opaque;

	d->vm_err = libvm_vm_destroy(d->vm);
	d->vcpu_err = libvm_vcpu_destroy(vcpu);
	return 0;
}

static int one_out(libvm_vcpu *vcpu, struct kvm_run *run, void *opaque)
{
	int *n = opaque;

	if ((*n)++ == 0) {
		libvm__fake_exit_io(run, 0x10, true, 1, 1, "x");
		return 0;
	}
	if (__atomic_load_n(&run->immediate_exit, __ATOMIC_SEQ_CST))
		return -EINTR;
	run->exit_reason = KVM_EXIT_HLT;
	return 0;
}

static void test_destroy_from_handler(void **state)
{
	struct destroyer d = { 0 };
	libvm_exit ex;
	int n = 0;

	(void)state;
	d.vm = fakevm_new(NULL);
	d.vcpu = fakevm_vcpu(d.vm, 0);
	libvm__fake_vcpu(d.vcpu)->run_fn = one_out;
	libvm__fake_vcpu(d.vcpu)->run_opaque = &n;
	assert_int_equal(libvm_io_register(d.vm, LIBVM_SPACE_PIO, 0x10, 1, "destroyer",
					   destroying_handler, &d), 0);
	assert_int_equal(libvm_vcpu_run(d.vcpu, &ex), 0);
	assert_int_equal(ex.reason, LIBVM_EXIT_HLT);
	assert_int_equal(d.vm_err, -EDEADLK);
	assert_int_equal(d.vcpu_err, -EDEADLK);
	/* Both still work, and go once the run is over. */
	assert_int_equal(libvm_vcpu_destroy(d.vcpu), 0);
	assert_int_equal(libvm_vm_destroy(d.vm), 0);
}

/* A vCPU whose run lasts until it is stopped. */
static int spin(libvm_vcpu *vcpu, struct kvm_run *run, void *opaque)
{
	atomic_bool *in = opaque;

	atomic_store(in, true);
	while (!__atomic_load_n(&run->immediate_exit, __ATOMIC_SEQ_CST))
		nanosleep(&(struct timespec){ 0, 200000 }, NULL);
	return -EINTR;
}

struct runner {
	libvm_vcpu *vcpu;
	libvm_vm *vm;
	int err;
	libvm_exit ex;
};

static void *run_vcpu(void *arg)
{
	struct runner *r = arg;

	r->err = libvm_vcpu_run(r->vcpu, &r->ex);
	return NULL;
}

static void *run_vm(void *arg)
{
	struct runner *r = arg;

	r->err = libvm_vm_run(r->vm, NULL, &r->ex, NULL);
	return NULL;
}

static void wait_for(atomic_bool *flag)
{
	while (!atomic_load(flag))
		nanosleep(&(struct timespec){ 0, 200000 }, NULL);
}

static void test_destroy_while_running(void **state)
{
	libvm_vm *vm = fakevm_new(NULL);
	libvm_vcpu *v = fakevm_vcpu(vm, 0);
	struct runner r = { .vcpu = v, .vm = vm };
	atomic_bool in = false;
	pthread_t t;

	(void)state;
	libvm__fake_vcpu(v)->run_fn = spin;
	libvm__fake_vcpu(v)->run_opaque = &in;
	assert_int_equal(pthread_create(&t, NULL, run_vcpu, &r), 0);
	wait_for(&in);
	assert_int_equal(libvm_vm_destroy(vm), -EBUSY);
	assert_string_equal(libvm_error_message(),
			    "libvm_vm_destroy: vCPU 0 is running (stop it first)");
	assert_int_equal(libvm_vcpu_destroy(v), -EBUSY);
	assert_int_equal(libvm_vcpu_stop(v), 0);
	pthread_join(t, NULL);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.ex.reason, LIBVM_EXIT_STOPPED);

	/* The same under libvm_vm_run(). */
	atomic_store(&in, false);
	assert_int_equal(pthread_create(&t, NULL, run_vm, &r), 0);
	wait_for(&in);
	assert_int_equal(libvm_vm_destroy(vm), -EBUSY);
	assert_int_equal(libvm_vcpu_destroy(v), -EBUSY);
	assert_int_equal(libvm_vm_stop(vm), 0);
	pthread_join(t, NULL);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.ex.reason, LIBVM_EXIT_STOPPED);
	assert_int_equal(libvm_vm_destroy(vm), 0);
}

static int nop(libvm_vcpu *v, uint64_t a, void *d, uint32_t l, bool w, void *o)
{
	return 0;
}

static void test_mmio_and_ram_overlap(void **state)
{
	libvm_vm *vm = fakevm_new(NULL);
	libvm_region_options o = LIBVM_REGION_OPTIONS_INIT;

	(void)state;
	fakevm_ram(vm, 0x100000, 0x10000, "ram");
	/* A device under RAM would never be called. */
	assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_MMIO, 0x10f000, 0x2000, "dev", nop,
					   NULL), -EEXIST);
	assert_string_equal(libvm_error_message(), "MMIO range 'dev' 0x10f000+0x2000 overlaps "
			    "RAM region 'ram' 0x100000+0x10000");
	/* Next to it is fine; so is the same address as a port. */
	assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_MMIO, 0x110000, 0x2000, "dev", nop,
					   NULL), 0);
	assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_PIO, 0x100, 8, "port", nop, NULL), 0);
	/* RAM over a device: refused the same way. */
	o.gpa = 0x111000;
	o.length = 0x1000;
	o.name = "ram2";
	assert_int_equal(libvm_region_map(NULL, vm, &o), -EEXIST);
	assert_string_equal(libvm_error_message(), "region 'ram2' 0x111000+0x1000 overlaps MMIO "
			    "device 'dev' 0x110000+0x2000");
	assert_int_equal(fakevm_nr_regions(vm), 1);
	/* A read-only region over the device: reads from memory, writes to
	 * the device (flash). */
	o.flags = LIBVM_REGION_READONLY;
	assert_int_equal(libvm_region_map(NULL, vm, &o), 0);
	o.gpa = 0x200000;
	assert_int_equal(libvm_region_map(NULL, vm, &o), 0);
	assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_MMIO, 0x1ff000, 0x3000, "flash", nop,
					   NULL), 0);
	assert_int_equal(libvm_vm_destroy(vm), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_double_vm_destroy),
		cmocka_unit_test(test_double_vcpu_destroy),
		cmocka_unit_test(test_double_region_unmap),
		cmocka_unit_test(test_detach_after_vm_destroy),
		cmocka_unit_test(test_wrong_handle_type),
		cmocka_unit_test(test_destroy_from_handler),
		cmocka_unit_test(test_destroy_while_running),
		cmocka_unit_test(test_mmio_and_ram_overlap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
