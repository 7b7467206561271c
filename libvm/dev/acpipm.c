/* SPDX-License-Identifier: MIT */
/*
 * ACPI fixed-hardware power management: the PM1a event block (PM1_STS,
 * PM1_EN) and control block (PM1_CNT) that the FADT points to. A guest
 * enters S5 (soft-off) by writing SLP_TYP = the \_S5 value together with
 * SLP_EN (ACPI 6.0, 7.4.2 and 16.1.7); that ends the run with
 * LIBVM_EXIT_POWEROFF; SLP_TYP = the \_S3 value (suspend to RAM) ends it with
 * LIBVM_EXIT_SUSPEND, and the launcher wakes the guest later
 * (libvm_acpipm_wake() sets WAK_STS, and RTC_STS for an alarm, as the
 * waking platform does, 4.8.3.1). SCI_EN always reads 1: the FADT's SMI_CMD is 0, so
 * the platform is always in ACPI mode (4.8.2.1). No event ever becomes
 * pending, so the SCI is never raised.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "acpipm.h"
#include "common.h"

enum libvm__acpipm_action libvm__acpipm_access(struct libvm__acpipm *pm, uint32_t offset,
					       void *data, uint32_t len, bool is_write)
{
	uint8_t *d = data;
	uint8_t regs[6];
	enum libvm__acpipm_action act = LIBVM__ACPIPM_NONE;

	regs[0] = (uint8_t)pm->sts;
	regs[1] = (uint8_t)(pm->sts >> 8);
	regs[2] = (uint8_t)pm->en;
	regs[3] = (uint8_t)(pm->en >> 8);
	regs[4] = (uint8_t)(pm->cnt | LIBVM__PM1_SCI_EN);
	regs[5] = (uint8_t)(pm->cnt >> 8);
	if (!is_write) {
		for (uint32_t i = 0; i < len; i++)
			d[i] = offset + i < sizeof(regs) ? regs[offset + i] : 0xff;
		return act;
	}
	for (uint32_t i = 0; i < len && offset + i < sizeof(regs); i++) {
		uint32_t o = offset + i;

		if (o < 2) /* status bits are write-one-to-clear */
			pm->sts &= (uint16_t)~((uint16_t)d[i] << (8 * o));
		else if (o < 4)
			pm->en = (uint16_t)((pm->en & ~(0xffu << (8 * (o - 2)))) |
					    (uint16_t)d[i] << (8 * (o - 2)));
		else {
			uint16_t v = (uint16_t)((pm->cnt & ~(0xffu << (8 * (o - 4)))) |
						(uint16_t)d[i] << (8 * (o - 4)));

			/* SLP_EN is write-only and takes effect at once with the
			 * SLP_TYP of this same write (4.8.3.2.1). */
			if (v & LIBVM__PM1_SLP_EN) {
				uint32_t typ = (v & LIBVM__PM1_SLP_TYP_MASK) >>
					       LIBVM__PM1_SLP_TYP_SHIFT;

				if (typ == pm->s5_typ)
					act = LIBVM__ACPIPM_POWEROFF;
				else if (typ == pm->s3_typ)
					act = LIBVM__ACPIPM_SUSPEND;
				v &= (uint16_t)~LIBVM__PM1_SLP_EN;
			}
			pm->cnt = v & (uint16_t)~LIBVM__PM1_SCI_EN;
		}
	}
	return act;
}

struct libvm_acpipm {
	uint32_t magic;
	libvm_vm *vm;
	struct libvm__devrange ranges[2];
	pthread_mutex_t lock;
	struct libvm__acpipm st;
};

/*
 * An access to one block, seen through the 6-byte view of both; bytes of a
 * wide access that run past the end of its own block (@view_end) are not
 * passed on, so an event-block access never reaches PM1_CNT even when the
 * blocks are not adjacent: reads of them give 0xff, writes are dropped.
 */
static int acpipm_io(libvm_vcpu *vcpu, uint64_t addr, void *data, uint32_t len, bool is_write,
		     void *opaque, uint32_t view, uint32_t view_end)
{
	libvm_acpipm *pm = opaque;
	enum libvm__acpipm_action act = LIBVM__ACPIPM_NONE;
	uint32_t n = view < view_end ? view_end - view : 0;

	if (n > len)
		n = len;
	if (!is_write)
		memset(data, 0xff, len);
	pthread_mutex_lock(&pm->lock);
	if (n)
		act = libvm__acpipm_access(&pm->st, view, data, n, is_write);
	pthread_mutex_unlock(&pm->lock);
	if (act == LIBVM__ACPIPM_POWEROFF)
		return libvm_vcpu_end_run(vcpu, LIBVM_EXIT_POWEROFF, 0);
	if (act == LIBVM__ACPIPM_SUSPEND)
		return libvm_vcpu_end_run(vcpu, LIBVM_EXIT_SUSPEND, 3);
	(void)addr;
	return 0;
}

static int evt_io(libvm_vcpu *vcpu, uint64_t addr, void *data, uint32_t len, bool is_write,
		  void *opaque)
{
	libvm_acpipm *pm = opaque;

	return acpipm_io(vcpu, addr, data, len, is_write, opaque,
			 (uint32_t)(addr - pm->ranges[0].base), 4);
}

static int cnt_io(libvm_vcpu *vcpu, uint64_t addr, void *data, uint32_t len, bool is_write,
		  void *opaque)
{
	libvm_acpipm *pm = opaque;

	return acpipm_io(vcpu, addr, data, len, is_write, opaque,
			 4 + (uint32_t)(addr - pm->ranges[1].base), 6);
}

static void acpipm_release(void *dev)
{
	libvm_acpipm_detach(dev);
}

LIBVM_EXPORT int libvm_acpipm_attach(libvm_acpipm **out, libvm_vm *vm,
				     const libvm_acpipm_options *opts)
{
	libvm_acpipm_options o = LIBVM_ACPIPM_OPTIONS_INIT;
	libvm_acpipm *pm;
	int err;

	if (!out)
		return libvm__fail(-EINVAL, "libvm_acpipm_attach: out is NULL");
	LIBVM__CHECK_VM(vm, "libvm_acpipm_attach");
	err = libvm__dev_options(&o, sizeof(o), opts, "libvm_acpipm_attach");
	if (err)
		return err;
	if (o.flags & ~LIBVM_ACPIPM_S5_TYP_0)
		return libvm__fail(-EINVAL, "acpi-pm: unknown flags 0x%x", o.flags);
	if ((o.flags & LIBVM_ACPIPM_S5_TYP_0) && o.s5_typ)
		return libvm__fail(-EINVAL, "acpi-pm: SLP_TYP %u with LIBVM_ACPIPM_S5_TYP_0",
				   o.s5_typ);
	if (!o.evt_port)
		o.evt_port = 0x600;
	if (!o.cnt_port)
		o.cnt_port = 0x604;
	if (!o.s5_typ && !(o.flags & LIBVM_ACPIPM_S5_TYP_0))
		o.s5_typ = 5;
	if (!libvm__dev_ports_ok(o.evt_port, 4) || !libvm__dev_ports_ok(o.cnt_port, 2))
		return libvm__fail(-EINVAL, "acpi-pm: ports 0x%x+4 / 0x%x+2 go past 0xffff",
				   o.evt_port, o.cnt_port);
	/* \_S3 as libvm_acpi_isa_aml() writes it; but an S5 of 1, valid
	 * before s3_typ existed (a caller of 0.1 leaves it 0), keeps 1 for
	 * itself and the machine has no S3. */
	if (!o.s3_typ)
		o.s3_typ = o.s5_typ == 1 ? LIBVM_ACPIPM_NO_S3 : 1;
	if (o.s5_typ > 7)
		return libvm__fail(-EINVAL, "acpi-pm: SLP_TYP %u does not fit 3 bits", o.s5_typ);
	if (o.s3_typ != LIBVM_ACPIPM_NO_S3 && (o.s3_typ > 7 || o.s3_typ == o.s5_typ))
		return libvm__fail(-EINVAL, "acpi-pm: S3 SLP_TYP %u is not 1 .. 7 or is S5's",
				   o.s3_typ);
	pm = calloc(1, sizeof(*pm));
	if (!pm)
		return libvm__fail(-ENOMEM, "acpi-pm: out of memory");
	pm->magic = LIBVM__MAGIC_ACPIPM;
	pm->vm = vm;
	pthread_mutex_init(&pm->lock, NULL);
	pm->st.s5_typ = o.s5_typ;
	pm->st.s3_typ = o.s3_typ;
	pm->ranges[0] = (struct libvm__devrange){ LIBVM_SPACE_PIO, o.evt_port, 4, "acpi-pm1a-evt",
						  evt_io };
	pm->ranges[1] = (struct libvm__devrange){ LIBVM_SPACE_PIO, o.cnt_port, 2, "acpi-pm1a-cnt",
						  cnt_io };
	err = libvm__dev_register(vm, pm->ranges, 2, pm, acpipm_release);
	if (err) {
		pthread_mutex_destroy(&pm->lock);
		free(pm);
		return err;
	}
	*out = pm;
	return 0;
}

LIBVM_EXPORT int libvm_acpipm_wake(libvm_acpipm *pm, uint32_t flags)
{
	LIBVM__CHECK_HANDLE(pm, LIBVM__MAGIC_ACPIPM, "libvm_acpipm_wake", "pm", "ACPI PM device");
	if (flags & ~LIBVM_ACPIPM_WAKE_RTC)
		return libvm__fail(-EINVAL, "libvm_acpipm_wake: unknown flags 0x%x", flags);
	pthread_mutex_lock(&pm->lock);
	pm->st.sts |= LIBVM__PM1_WAK_STS;
	if (flags & LIBVM_ACPIPM_WAKE_RTC)
		pm->st.sts |= LIBVM__PM1_RTC_STS;
	pthread_mutex_unlock(&pm->lock);
	return 0;
}

LIBVM_EXPORT void libvm_acpipm_detach(libvm_acpipm *pm)
{
	if (!libvm__live(pm, LIBVM__MAGIC_ACPIPM) ||
	    !libvm__dev_unregister(pm->vm, pm->ranges, 2, pm))
		return;
	pthread_mutex_destroy(&pm->lock);
	libvm__bury(pm, sizeof(*pm));
}
