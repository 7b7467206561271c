// SPDX-License-Identifier: MIT
// libvm from C++17: the headers' extern "C" declarations link, the INIT
// macros (which expand to the _options_init() functions in C++) give the
// defaults, and a VM with a device works, on the fake backend (no KVM).
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <libvm/cpu.h>
#include <libvm/debug.h>
#include <libvm/devices.h>
#include <libvm/libvm.h>
#include <libvm/load.h>
#include <libvm/machine.h>
#include <libvm/pci.h>
#include <libvm/virtio.h>

namespace {

int failures;

void check(bool ok, const char *what)
{
	if (!ok) {
		std::printf("FAIL: %s (%s)\n", what, libvm_error_message());
		failures++;
	}
}

int exit_handler(libvm_vcpu *vcpu, uint64_t, void *data, uint32_t len, bool is_write, void *)
{
	uint32_t v = 0;

	std::memcpy(&v, data, len < 4 ? len : 4);
	return is_write ? libvm_vcpu_end_run(vcpu, LIBVM_EXIT_GUEST_EXIT, v) : 0;
}

} // namespace

int main()
{
	libvm_vm_options vo = LIBVM_VM_OPTIONS_INIT;
	libvm_uart_options uo = LIBVM_UART_OPTIONS_INIT;
	libvm_region_options ro = LIBVM_REGION_OPTIONS_INIT;
	static const libvm_pci_bus_options bo = LIBVM_PCI_BUS_OPTIONS_INIT;
	libvm_vm *vm = nullptr;
	libvm_uart *uart = nullptr;
	libvm_pci_bus *bus = nullptr;
	libvm_vcpu *vcpu = nullptr;
	libvm_exit ex;

	check(vo.size == sizeof(vo) && vo.device_path == nullptr, "LIBVM_VM_OPTIONS_INIT");
	check(uo.size == sizeof(uo) && uo.output_fd == -1 && uo.input_fd == -1,
	      "LIBVM_UART_OPTIONS_INIT");
	check(ro.fd == -1, "LIBVM_REGION_OPTIONS_INIT");
	check(bo.size == sizeof(bo), "a static LIBVM_PCI_BUS_OPTIONS_INIT");
	vo.device_path = "fake";
	check(libvm_vm_create(&vm, &vo) == 0, "libvm_vm_create on the fake backend");
	if (!vm)
		return 1;
	check(libvm_region_map_ram(nullptr, vm, 0, 1 << 20) == 0, "map RAM");
	check(libvm_uart_attach(&uart, vm, &uo) == 0, "attach a UART");
	check(libvm_pci_bus_attach(&bus, vm, &bo) == 0, "attach a PCI bus");
	check(libvm_io_register(vm, LIBVM_SPACE_PIO, 0xf4, 4, "exit", exit_handler, nullptr) == 0,
	      "register a handler");
	check(libvm_vcpu_create(&vcpu, vm, 0) == 0, "create a vCPU");
	check(libvm_vcpu_run(vcpu, &ex) == 0 && ex.reason == LIBVM_EXIT_HLT, "run (fake: HLT)");
	check(libvm_vm_destroy(vm) == 0, "destroy");
	check(libvm_vm_destroy(vm) == -EBADF, "a second destroy is -EBADF");

	// The PC machine and the debugging options from C++ too.
	libvm_machine_options mo = LIBVM_MACHINE_OPTIONS_INIT;
	libvm_machine_parts parts = LIBVM_MACHINE_PARTS_INIT;
	libvm_debug_options dbg = LIBVM_DEBUG_OPTIONS_INIT;
	libvm_machine *m = nullptr;
	uint32_t hv = 0;

	vo.device_path = "fake";
	mo.vm = &vo;
	mo.nr_vcpus = 2;
	check(libvm_machine_create(&m, &mo) == 0, "libvm_machine_create on the fake backend");
	check(m && libvm_machine_get_parts(m, &parts) == 0 && parts.nr_vcpus == 2 &&
		      parts.uart != nullptr,
	      "the machine's parts");
	dbg.flags = LIBVM_DEBUG_SINGLESTEP;
	check(m && libvm_vcpu_set_debug(libvm_machine_vcpu(m, 1), &dbg) == 0, "set_debug");
	check(libvm_machine_destroy(m) == 0, "destroy the machine");
	check(libvm_hyperv_parse("hv_relaxed", &hv) == 0 && hv == LIBVM_HV_RELAXED,
	      "libvm_hyperv_parse");
	if (failures)
		return 1;
	std::printf("PASS: libvm %s from C++17\n", libvm_version());
	return 0;
}
