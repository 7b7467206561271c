/* SPDX-License-Identifier: MIT */
/*
 * Private state of the PCI bus and its devices (see include/libvm/pci.h),
 * shared by pci.c (configuration space, BAR dispatch, INTx), msix.c (the
 * MSI-X table) and aml.c (the DSDT description). Unit tests look at the
 * state.
 */
#ifndef LIBVM_PCI_INTERNAL_H
#define LIBVM_PCI_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <libvm/pci.h>

#include "../dev/common.h"

#define LIBVM__PCI_SLOTS 32
#define LIBVM__PCI_MSIX_MAX 128
#define LIBVM__PCI_MSIX_PBA 0x800 /* PBA offset in the MSI-X BAR */
#define LIBVM__PCI_CAP_MAX 8
#define LIBVM__PCI_EVFD_MAX 8 /* BAR-relative ioeventfds per device */

/* Configuration header offsets (PCI Local Bus 3.0, 6.1). */
#define PCI_VENDOR_ID 0x00
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
/* The I/O window the bus decodes for I/O BARs (inside the DSDT's _CRS). */
#define LIBVM__PCI_IO_BASE 0xc000u
#define LIBVM__PCI_IO_SIZE 0x4000u
#define PCI_SUBSYSTEM_VENDOR 0x2c
#define PCI_CAP_PTR 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d
#define PCI_CMD_IO 0x0001
#define PCI_CMD_MEMORY 0x0002
#define PCI_CMD_MASTER 0x0004
#define PCI_CMD_INTX_DISABLE 0x0400
#define PCI_STATUS_INTX 0x0008
#define PCI_STATUS_CAP_LIST 0x0010
#define PCI_CAP_ID_MSIX 0x11
#define PCI_MSIX_ENABLE 0x8000
#define PCI_MSIX_MASKALL 0x4000

struct libvm_pci_dev {
	uint32_t magic;          /* handle magic (0 for the host bridge) */
	libvm_pci_bus *bus;
	uint8_t slot;
	char name[32];
	uint8_t cfg[256];
	uint8_t wmask[256];      /* bits the guest may change */
	uint32_t bar_size[6];
	uint32_t bar_io;          /* bit i: BAR i is an I/O BAR */
	libvm_pci_bar_fn bar_fn;
	void *opaque;
	bool intx_level;         /* what the device drives */
	/* MSI-X (msix.c); all under the bus lock. */
	uint8_t msix_cap;        /* offset of the capability, 0 for none */
	uint8_t msix_bar;
	uint16_t msix_n;
	uint8_t msix_table[LIBVM__PCI_MSIX_MAX * 16];
	uint8_t msix_pba[LIBVM__PCI_MSIX_MAX / 8];
	/* Per vector, when the bus delivers through irqfd: the MSI route and
	 * the eventfd bound to it, made when the guest unmasks the vector. */
	struct libvm__msix_irqfd {
		uint32_t gsi;        /* 0: none (yet) */
		int fd;              /* valid while gsi != 0 */
		uint64_t addr;       /* the message the route carries */
		uint32_t data;
		bool failed;         /* binding failed: this vector uses libvm_msi_send() */
	} msix_irqfd[LIBVM__PCI_MSIX_MAX];
	uint64_t msix_sent_irqfd, msix_sent_msi; /* messages sent each way */
	bool msix_warned;        /* a binding failure was logged */
	/* ioeventfds at BAR offsets (ioeventfd.c), under the bus lock: each
	 * is bound where its BAR decodes now and follows the BAR when the
	 * guest moves it or turns memory decoding off. */
	struct libvm__pci_evfd {
		int fd;
		uint8_t bar;
		uint32_t len;        /* 0: free entry */
		uint64_t off;
		uint64_t bound_at;   /* guest-physical address bound, 0: none */
	} evfd[LIBVM__PCI_EVFD_MAX];
};

struct libvm_pci_bus {
	uint32_t magic;
	libvm_vm *vm;
	pthread_mutex_t lock;
	uint32_t config_address;  /* CONFIG_ADDRESS as the guest wrote it */
	uint8_t irq_base;
	uint64_t mmio_base, mmio_size, mmio_next;
	uint32_t io_next;         /* next free port of the I/O window */
	struct libvm__devrange ranges[3]; /* config ports, MMIO window, I/O window */
	/* ranges[2] is registered (with the first I/O BAR); io_window_lock
	 * serializes that outside bus->lock, which handlers take under the
	 * VM's device lock. */
	bool io_window;
	pthread_mutex_t io_window_lock;
	libvm_pci_dev host;       /* 00.0 */
	libvm_pci_dev *slots[LIBVM__PCI_SLOTS];
	bool gsi_level[4];        /* per swizzled GSI: wired-OR of the pins */
	/* MSI-X through MSI routes and irqfds (msix.c): -1 until asked (the
	 * first time a vector is unmasked, when the irqchip exists), then 1
	 * when the VM has both, else 0 (libvm_msi_send()). */
	int msix_irqfd;
};

/* pci.c: the configuration-space view of one function (no locking). */
uint32_t libvm__pci_cfg_read(libvm_pci_dev *d, uint32_t reg, uint32_t len);
void libvm__pci_cfg_write(libvm_pci_dev *d, uint32_t reg, uint32_t val, uint32_t len);
/* The bus a device sits on (also declared for virtio/). */
libvm_pci_bus *libvm__pci_dev_bus(const libvm_pci_dev *dev);
/* Current address of BAR @i from the header (0 when unassigned). */
uint64_t libvm__pci_bar_addr(const libvm_pci_dev *d, uint32_t i);

/* msix.c (bus lock held). */
void libvm__msix_init(libvm_pci_dev *d, uint16_t n, uint8_t bar, uint8_t cap);
/* True when [off, off+len) of BAR @bar is the table or PBA; then handled. */
bool libvm__msix_bar_access(libvm_pci_dev *d, uint32_t bar, uint64_t off, void *data,
			    uint32_t len, bool is_write);
/* The guest changed the capability's control word: deliver what unmasked. */
void libvm__msix_control_changed(libvm_pci_dev *d);
int libvm__msix_notify_locked(libvm_pci_dev *d, uint16_t vector);
/* The device leaves the bus: unbind its irqfds, remove its routes. */
void libvm__msix_fini(libvm_pci_dev *d);

/*
 * ioeventfd.c: notifications that bypass the process, at an offset of a
 * BAR. The bus binds each one at the BAR's current address while the BAR
 * decodes (Memory Space on, inside the window) and moves or drops the
 * binding when a configuration write changes that, so no stale address
 * keeps swallowing writes. A binding the backend refuses is retried at
 * the next change; the write then exits to the BAR handler as usual.
 */
/* Whether the device's VM has ioeventfd (takes the bus lock). */
bool libvm__pci_dev_has_ioeventfd(libvm_pci_dev *d);
/* Add @fd for @len-byte writes at @off of BAR @bar; 0, -EINVAL, -ENOSPC. */
int libvm__pci_dev_ioeventfd_attach(libvm_pci_dev *d, uint32_t bar, uint64_t off, uint32_t len,
				    int fd);
/* Unbind and forget @fd (no-op when unknown). Takes the bus lock. */
void libvm__pci_dev_ioeventfd_detach(libvm_pci_dev *d, int fd);
/* Bus lock held: re-bind after the BARs' decoding may have changed. */
void libvm__pci_ioeventfd_sync(libvm_pci_dev *d);
/* Bus lock held: the device leaves the bus; unbind everything. */
void libvm__pci_ioeventfd_fini(libvm_pci_dev *d);

#endif
