/* A flat GDT for kernels that take interrupts. The Multiboot Specification (0.6.96, section 3.2)
 * leaves GDTR undefined at entry, so a kernel must load its own GDT before anything reloads a
 * segment register, including interrupt delivery through the IDT. Selectors: 0x08 flat 32-bit code,
 * 0x10 flat data (Intel SDM Vol. 3A, 3.4.5). */
#include "libc.h"

static const u64 flat_gdt[3] __attribute__((aligned(8))) = {
    0,
    0x00cf9a000000ffffull,
    0x00cf92000000ffffull,
};

void gdt_install(void)
{
    struct {
        u16 limit;
        u32 base;
    } __attribute__((packed)) gdtr = { sizeof flat_gdt - 1, (u32)flat_gdt };
    __asm__ volatile("lgdt %0\n\t"
                     "ljmp $0x08, $1f\n1:\n\t"
                     "mov $0x10, %%eax\n\tmov %%ax, %%ds\n\tmov %%ax, %%es\n\tmov %%ax, %%ss\n\t"
                     "mov %%ax, %%fs\n\tmov %%ax, %%gs"
                     :
                     : "m"(gdtr)
                     : "eax", "memory");
}
