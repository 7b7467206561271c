/* SPDX-License-Identifier: MIT */
/*
 * Builds small ELF32/ELF64 test images from a description that tests can
 * corrupt field by field before (or after) serializing it.
 */
#ifndef ELFIMG_H
#define ELFIMG_H

#include <stdint.h>
#include <string.h>

#include "load/load_internal.h"

#define EI_SIZE 0x3000

struct elf_ph {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

struct elf_desc {
	int cls;              /* 1 or 2 */
	uint16_t type, machine;
	uint64_t entry, phoff;
	uint16_t phentsize, phnum;
	struct elf_ph ph[8];
};

/* Two PT_LOAD segments and, with @note_len, a PT_NOTE at 0x1400. */
static inline void elf_default(struct elf_desc *d, int cls, uint64_t note_len)
{
	uint64_t v = cls == 2 ? 0xffffffff80000000ull : 0xc0000000ull;

	memset(d, 0, sizeof(*d));
	d->cls = cls;
	d->type = 2;
	d->machine = cls == 2 ? 62 : 3;
	d->entry = v + 0x100010;
	d->phoff = cls == 2 ? 64 : 52;
	d->phentsize = cls == 2 ? 56 : 32;
	d->phnum = note_len ? 3 : 2;
	d->ph[0] = (struct elf_ph){ 1, 0x1000, v + 0x100000, 0x100000, 0x200, 0x1000 };
	d->ph[1] = (struct elf_ph){ 1, 0x1200, v + 0x200000, 0x200000, 0x100, 0x100 };
	d->ph[2] = (struct elf_ph){ 4, 0x1400, 0, 0, note_len, note_len };
}

/* Serialize into img (EI_SIZE bytes): headers, then recognizable contents. */
static inline void elf_write(uint8_t *img, const struct elf_desc *d)
{
	memset(img, 0, 0x1400);
	for (int i = 0x1000; i < 0x1300; i++)
		img[i] = (uint8_t)(i * 7 + 1);
	memcpy(img, "\177ELF", 4);
	img[4] = (uint8_t)d->cls;
	img[5] = 1;
	img[6] = 1;
	libvm__put16(img + 16, d->type);
	libvm__put16(img + 18, d->machine);
	libvm__put32(img + 20, 1);
	if (d->cls == 2) {
		libvm__put64(img + 24, d->entry);
		libvm__put64(img + 32, d->phoff);
		libvm__put16(img + 52, 64);
		libvm__put16(img + 54, d->phentsize);
		libvm__put16(img + 56, d->phnum);
	} else {
		libvm__put32(img + 24, (uint32_t)d->entry);
		libvm__put32(img + 28, (uint32_t)d->phoff);
		libvm__put16(img + 40, 52);
		libvm__put16(img + 42, d->phentsize);
		libvm__put16(img + 44, d->phnum);
	}
	for (int i = 0; i < d->phnum && i < 8; i++) {
		const struct elf_ph *ph = &d->ph[i];
		uint8_t *p;

		if (d->phoff > 0x1000 || (uint64_t)(i + 1) * d->phentsize > 0x1000 - d->phoff)
			break; /* a corrupt e_phoff: the headers are not written */
		p = img + d->phoff + (uint64_t)i * d->phentsize;
		if (d->cls == 2) {
			libvm__put32(p, ph->type);
			libvm__put64(p + 8, ph->offset);
			libvm__put64(p + 16, ph->vaddr);
			libvm__put64(p + 24, ph->paddr);
			libvm__put64(p + 32, ph->filesz);
			libvm__put64(p + 40, ph->memsz);
		} else {
			libvm__put32(p, ph->type);
			libvm__put32(p + 4, (uint32_t)ph->offset);
			libvm__put32(p + 8, (uint32_t)ph->vaddr);
			libvm__put32(p + 12, (uint32_t)ph->paddr);
			libvm__put32(p + 16, (uint32_t)ph->filesz);
			libvm__put32(p + 20, (uint32_t)ph->memsz);
		}
	}
}

/* Append a note at img + *off: returns the new offset. */
static inline uint64_t elf_note(uint8_t *img, uint64_t off, const char *name, uint32_t namesz,
				uint32_t type, const void *desc, uint32_t descsz)
{
	libvm__put32(img + off, namesz);
	libvm__put32(img + off + 4, descsz);
	libvm__put32(img + off + 8, type);
	memcpy(img + off + 12, name, namesz);
	off += 12 + ((namesz + 3u) & ~3u);
	memcpy(img + off, desc, descsz);
	return off + ((descsz + 3u) & ~3u);
}

#endif
