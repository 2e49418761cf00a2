/* Guest-kernel platform: COM1 (16550 at 0x3f8) for output, isa-debug-exit (port 0xf4) to stop.
 * Writing 0 to port 0xf4 makes both tcg86 and QEMU exit with status (0 << 1) | 1 = 1. */
#include "plat.h"

#define COM1 0x3f8
#define COM1_LSR (COM1 + 5)
#define LSR_THRE 0x20
#define DEBUG_EXIT 0xf4

static inline void outb(u16 port, u8 v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 inb(u16 port)
{
    u8 v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

void plat_write(const char *s, u32 n)
{
    for (u32 i = 0; i < n; i++) {
        /* Bounded wait for the transmitter: an emulated UART is always ready. */
        for (int spin = 0; spin < 1000 && !(inb(COM1_LSR) & LSR_THRE); spin++)
            ;
        outb(COM1, (u8)s[i]);
    }
}

void plat_exit(void)
{
    outb(DEBUG_EXIT, 0);
    for (;;)
        __asm__ volatile("cli; hlt");
}
