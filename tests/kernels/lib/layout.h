/*
 * Constants shared by the kernel library's assembly and C: selectors of
 * the library's own GDT, where the AP trampoline runs, stack sizes and the
 * CPU limit. The GDT uses the same selectors the multiboot loader of QEMU
 * and libvm hand over (code 0x08, data 0x10), so reloading it does not
 * change them under the running code.
 */
#ifndef KERNEL_LAYOUT_H
#define KERNEL_LAYOUT_H

#define SEL_CODE32	0x08
#define SEL_DATA	0x10
#define SEL_CODE64	0x18

/*
 * The INIT/SIPI trampoline is copied to this page; the SIPI vector is its
 * page number. It sits in 0x1000-0x6fff, the low RAM that neither libvm's
 * loaders (boot info at 0x7000, GDT at 0x500) nor QEMU's multiboot option
 * ROM (info at 0x9000) nor the real-mode IVT/BDA use.
 */
#define TRAMPOLINE_ADDR	0x1000

#define MAX_CPUS	16
#define BSP_STACK_SIZE	0x4000
#define AP_STACK_SIZE	0x2000

#define MULTIBOOT_HEADER_MAGIC	0x1BADB002
#define MULTIBOOT_LOADER_MAGIC	0x2BADB002

#endif /* KERNEL_LAYOUT_H */
