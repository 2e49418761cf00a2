/* The tiny libc shared by the guest kernels: output on COM1 (0x3f8), printf, memory and string
 * functions, exit through isa-debug-exit (port 0xf4), and IDT installation. */
#ifndef TCG86_GUEST_LIBC_H
#define TCG86_GUEST_LIBC_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef signed char i8;
typedef short i16;
typedef int i32;
typedef unsigned long long u64;
typedef unsigned int size_t;

#define COM1 0x3f8
#define DEBUGCON 0xe9
#define DEBUG_EXIT 0xf4

/* EFLAGS bits (Intel SDM Vol. 1, 3.4.3). */
#define F_CF 0x001
#define F_PF 0x004
#define F_AF 0x010
#define F_ZF 0x040
#define F_SF 0x080
#define F_DF 0x400
#define F_OF 0x800
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port)
{
    u8 v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

void putc(char c);
void debugcon_putc(char c);
void puts(const char *s);
int printf(const char *fmt, ...);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
char *strcpy(char *dst, const char *src);
__attribute__((noreturn)) void exit(u32 value);

/* FNV-1a over 32-bit words: the checksums printed by the kernels. */
static inline u32 hash32(u32 h, u32 v)
{
    for (int i = 0; i < 4; i++) {
        h ^= (v >> (8 * i)) & 0xff;
        h *= 16777619u;
    }
    return h;
}
#define HASH_INIT 2166136261u

/* Interrupts: the frame an ISR stub (boot/isr.S) builds before calling the C handler. The handler
 * may change eip (to skip the faulting instruction) or any saved register. */
struct frame {
    u32 edi, esi, ebp, esp_, ebx, edx, ecx, eax;
    u32 vector, error_code;
    u32 eip, cs, eflags;
};
typedef void (*isr_handler)(struct frame *f);

/* Load a flat GDT (0x08 code, 0x10 data) and reload every segment register. Call it before
 * idt_install() unless the kernel loads its own GDT: the loader's GDTR is undefined. */
void gdt_install(void);

/* Fill the IDT with stubs for vectors 0..31 and 0x30..0x3f (32-bit interrupt gates, DPL 0, the
 * current CS), register handlers, load IDTR. Unhandled vectors print and exit with 0x7f. */
void idt_install(void);
void idt_set_handler(u32 vector, isr_handler h);
void idt_set_gate(u32 vector, u32 offset, u16 selector, u8 type_attr);

#endif
