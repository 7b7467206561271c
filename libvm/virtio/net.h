/* SPDX-License-Identifier: MIT */
/*
 * virtio-net internals for tests: attach on any packet file descriptor
 * (a socketpair stands in for a tap; the tap's IFF_VNET_HDR framing is
 * "12-byte header + frame per read/write", which a SOCK_SEQPACKET keeps).
 */
#ifndef LIBVM_VIRTIO_NET_H
#define LIBVM_VIRTIO_NET_H

#include <libvm/virtio.h>

/* Takes ownership of @fd (closed on failure too); @fd must be non-blocking. */
int libvm__virtio_net_attach_fd(libvm_virtio_net **out, libvm_pci_bus *bus,
				const libvm_virtio_net_options *o, int fd);

#endif
