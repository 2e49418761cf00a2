/* segments: protected-mode segmentation and interrupts (Intel SDM Vol. 3A, chapters 3 and 6).
 * Loads a new GDT (LGDT), reloads CS with a far jump and the data segments with MOV/POP, reads
 * through segments with non-zero bases (FS, GS), far call/return, SGDT/SIDT, then an IDT (LIDT):
 * INT 0x30 to a handler that changes registers and IRETs, INT3 (trap: eip after the instruction),
 * INTO, UD2 (#UD) and a bad selector load (#GP with the selector as error code). */
#include "libc.h"

#define SEG_CODE 0x08
#define SEG_DATA 0x10
#define SEG_FS 0x18
#define SEG_GS 0x20
#define SEG_CODE2 0x28

static u64 gdt[8] __attribute__((aligned(8)));

/* A flat-style descriptor: base, limit (in 4 KiB pages when g), access byte (SDM Vol. 3A, 3.4.5). */
static u64 descriptor(u32 base, u32 limit, u8 access, int g)
{
    u64 d = (limit & 0xffff) | ((u64)(base & 0xffffff) << 16) | ((u64)access << 40);
    d |= (u64)((limit >> 16) & 0xf) << 48;
    d |= (u64)(g ? 0xc : 0x4) << 52; /* G, D/B = 1 */
    d |= (u64)(base >> 24) << 56;
    return d;
}

static u32 fs_probe[4] = { 0x11110000, 0x22220000, 0x33330000, 0x44440000 };
static u32 gs_probe = 0x600df00d;

struct pseudo {
    u16 limit;
    u32 base;
} __attribute__((packed));

static void load_gdt(void)
{
    gdt[0] = 0;
    gdt[1] = descriptor(0, 0xfffff, 0x9a, 1);
    gdt[2] = descriptor(0, 0xfffff, 0x92, 1);
    gdt[3] = descriptor((u32)fs_probe - 0x100, 0xfff, 0x92, 0);
    gdt[4] = descriptor((u32)&gs_probe - 0x20000, 0xfffff, 0x92, 1);
    gdt[5] = descriptor(0, 0xfffff, 0x9a, 1);
    struct pseudo gdtr = { sizeof gdt - 1, (u32)gdt }, back;
    u16 cs, ds, ss, es;
    __asm__ volatile("lgdt %[g]\n\t"
                     "ljmp %[code], $1f\n1:\n\t"
                     "mov %[data], %%eax\n\tmov %%ax, %%ds\n\tmov %%ax, %%es\n\tmov %%ax, %%ss\n\t"
                     "push %[data]\n\tpop %%fs\n\t"
                     "mov %%ax, %%gs\n\t"
                     "sgdt %[b]\n\t"
                     : [b] "=m"(back)
                     : [g] "m"(gdtr), [code] "i"(SEG_CODE), [data] "i"(SEG_DATA)
                     : "eax", "memory");
    __asm__ volatile("mov %%cs, %0\n\tmov %%ds, %1\n\tmov %%ss, %2\n\tmov %%es, %3"
                     : "=r"(cs), "=r"(ds), "=r"(ss), "=r"(es));
    printf("gdt: sgdt limit=%x base=%s cs=%x ds=%x ss=%x es=%x\n", back.limit,
           back.base == (u32)gdt ? "gdt" : "other", cs, ds, ss, es);
}

static void based_segments(void)
{
    u32 a, b, c, d;
    __asm__ volatile("mov %[fs], %%eax\n\tmov %%ax, %%fs\n\tmov %[gs], %%eax\n\tmov %%ax, %%gs\n\t"
                     "mov %%fs:0x100, %[a]\n\tmov %%fs:0x10c, %[b]\n\tmov %%gs:0x20000, %[c]\n\t"
                     "movl $0x0c0ffee0, %%fs:0x104\n\t"
                     "mov $0x108, %%esi\n\tlodsl %%fs:(%%esi), %%eax\n\tmov %%eax, %[d]\n\t"
                     "mov %[data], %%eax\n\tmov %%ax, %%fs\n\tmov %%ax, %%gs"
                     : [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [d] "=&r"(d)
                     : [fs] "i"(SEG_FS), [gs] "i"(SEG_GS), [data] "i"(SEG_DATA)
                     : "eax", "esi", "memory");
    printf("based: fs:0x100=%08x fs:0x10c=%08x gs:0x20000=%08x lods fs=%08x probe[1]=%08x\n", a, b, c, d,
           fs_probe[1]);
}

__asm__(".text\nfar_callee: mov %cs, %eax\n\tshl $16, %eax\n\tmov $0x4242, %ax\n\tlret\n");

static void far_transfers(void)
{
    u32 r, cs;
    __asm__ volatile("lcall %[code2], $far_callee\n\t"
                     "mov %%eax, %[r]\n\t"
                     "push %[code]\n\tpush $1f\n\tlret\n1:\n\t"
                     "mov %%cs, %%eax\n\tmov %%eax, %[cs]"
                     : [r] "=m"(r), [cs] "=m"(cs)
                     : [code] "i"(SEG_CODE), [code2] "i"(SEG_CODE2)
                     : "eax", "memory");
    printf("far: lcall into %x returned %08x, lret back to cs=%x\n", SEG_CODE2, r, cs & 0xffff);
}

static u32 int30_hits;

static void on_int30(struct frame *f)
{
    int30_hits++;
    printf("int 0x30: vector=%x eax=%08x cs=%x eflags=%08x ret_eip=%s\n", f->vector, f->eax, f->cs,
           f->eflags & ~0x200u, f->eip > 0x100000 ? "ok" : "bad");
    f->eax = f->eax * 2 + 1;
    f->ebx = 0xb0b0b0b0;
}

extern char after_int3[], at_ud2[], at_bad_load[], after_into[];

static void on_trap(struct frame *f)
{
    const char *where = (char *)f->eip == after_int3 ? "after int3"
                        : (char *)f->eip == at_ud2      ? "at ud2"
                        : (char *)f->eip == at_bad_load ? "at bad load"
                        : (char *)f->eip == after_into  ? "after into"
                                                        : "elsewhere";
    printf("vector %u error_code=%x eip %s\n", f->vector, f->error_code, where);
    if (f->vector == 6 || f->vector == 13)
        f->eip += 2; /* ud2 and mov %ax,%ds are two bytes */
}

static void interrupts(void)
{
    idt_install();
    idt_set_handler(0x30, on_int30);
    idt_set_handler(3, on_trap);
    idt_set_handler(4, on_trap);
    idt_set_handler(6, on_trap);
    idt_set_handler(13, on_trap);
    struct pseudo idtr;
    u32 eax = 20, ebx = 0;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    printf("idt: sidt limit=%x\n", idtr.limit);
    __asm__ volatile("int $0x30" : "+a"(eax), "+b"(ebx) : : "memory");
    printf("after int 0x30: eax=%u ebx=%08x hits=%u\n", eax, ebx, int30_hits);
    __asm__ volatile("int3\n.globl after_int3\nafter_int3:" : : : "memory");
    __asm__ volatile("mov $0x7fffffff, %%eax\n\tinc %%eax\n\tinto\n.globl after_into\nafter_into:\n\t"
                     "xor %%eax, %%eax\n\tinto"
                     :
                     :
                     : "eax", "memory", "cc");
    __asm__ volatile(".globl at_ud2\nat_ud2:\n\tud2" : : : "memory");
    __asm__ volatile("mov $0x1234, %%eax\n.globl at_bad_load\nat_bad_load:\n\tmov %%ax, %%ds" : : : "eax", "memory");
    u16 ds;
    __asm__ volatile("mov %%ds, %0" : "=r"(ds));
    printf("ds still %x\n", ds);
}

int main(void)
{
    load_gdt();
    based_segments();
    far_transfers();
    interrupts();
    printf("segments done\n");
    return 0;
}
