/* IDT installation for kernels that handle exceptions or software interrupts: 32-bit interrupt
 * gates (Intel SDM Vol. 3A, 6.11) pointing at the stubs of boot/isr.S, and a per-vector C handler
 * table. */
#include "libc.h"

extern const u32 isr_stub_table[48];

struct idt_entry {
    u16 offset_lo, selector;
    u8 zero, type_attr;
    u16 offset_hi;
} __attribute__((packed));

static struct idt_entry idt[256] __attribute__((aligned(8)));
static isr_handler handlers[256];

void idt_set_gate(u32 vector, u32 offset, u16 selector, u8 type_attr)
{
    idt[vector].offset_lo = offset & 0xffff;
    idt[vector].selector = selector;
    idt[vector].zero = 0;
    idt[vector].type_attr = type_attr;
    idt[vector].offset_hi = offset >> 16;
}

void idt_set_handler(u32 vector, isr_handler h) { handlers[vector & 0xff] = h; }

void isr_dispatch(struct frame *f)
{
    isr_handler h = handlers[f->vector & 0xff];
    if (h) {
        h(f);
        return;
    }
    printf("unexpected vector %u error %x at eip %08x\n", f->vector, f->error_code, f->eip);
    exit(0x7f);
}

void idt_install(void)
{
    u16 cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    for (u32 i = 0; i < 48; i++) {
        u32 vec = i < 32 ? i : i + 16;
        idt_set_gate(vec, isr_stub_table[i], cs, 0x8e);
    }
    struct {
        u16 limit;
        u32 base;
    } __attribute__((packed)) idtr = { sizeof idt - 1, (u32)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));
}
