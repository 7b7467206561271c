/* SPDX-License-Identifier: MIT */
/*
 * ACPI PM1a event and control blocks model: plain state and a pure access
 * function, no KVM. The model says what the guest asked for (power off or
 * nothing); the glue in acpipm.c turns that into the run's ending.
 */
#ifndef LIBVM_DEV_ACPIPM_H
#define LIBVM_DEV_ACPIPM_H

#include <stdbool.h>
#include <stdint.h>

/* PM1 control register bits (ACPI 6.0, 4.8.3.2.1, Table 4-16). */
#define LIBVM__PM1_SCI_EN   (1u << 0)
#define LIBVM__PM1_SLP_TYP_SHIFT 10
#define LIBVM__PM1_SLP_TYP_MASK  (7u << 10)
#define LIBVM__PM1_SLP_EN   (1u << 13)
/* PM1 status bits WAK_STS and RTC_STS (Table 4-12): write 1 to clear. */
#define LIBVM__PM1_WAK_STS  (1u << 15)
#define LIBVM__PM1_RTC_STS  (1u << 10)

/* The SLP_TYP value libvm's \_S5 package names (see libvm_acpipm_options). */
#define LIBVM__ACPIPM_S5_TYP 5u

struct libvm__acpipm {
	uint16_t sts;     /* PM1_STS */
	uint16_t en;      /* PM1_EN */
	uint16_t cnt;     /* PM1_CNT without SLP_EN (write-only, reads 0) */
	uint8_t s5_typ;   /* SLP_TYP that means soft-off */
	uint8_t s3_typ;   /* SLP_TYP that means suspend to RAM; > 7: none */
};

enum libvm__acpipm_action {
	LIBVM__ACPIPM_NONE = 0,
	LIBVM__ACPIPM_POWEROFF = 1,
	LIBVM__ACPIPM_SUSPEND = 2,
};

/*
 * A guest access at @offset of the 6-byte view: 0-1 PM1_STS, 2-3 PM1_EN
 * (the event block), 4-5 PM1_CNT (the control block). Accesses of any
 * width that stay in the view; bytes beyond read as 0xff. Returns what the
 * write asks the platform to do.
 */
enum libvm__acpipm_action libvm__acpipm_access(struct libvm__acpipm *pm, uint32_t offset,
					       void *data, uint32_t len, bool is_write);

#endif
