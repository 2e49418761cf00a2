/* The tiny libc of the guest kernels: COM1 output, printf (%d %i %u %x %X %s %c %%, with width,
 * '0' padding and '-' left alignment), memory/string functions and exit. Only 32-bit arithmetic,
 * so no libgcc helpers are needed. */
#include <stdarg.h>
#include "libc.h"

/* The 16550 transmitter is written directly: QEMU and tcg86 both transmit at once. */
void putc(char c) { outb(COM1, (u8)c); }

void debugcon_putc(char c) { outb(DEBUGCON, (u8)c); }

void puts(const char *s)
{
    while (*s)
        putc(*s++);
    putc('\n');
}

static int emit_padded(const char *digits, int len, int width, char pad, int left)
{
    int n = 0;
    if (!left)
        for (; width > len; width--, n++)
            putc(pad);
    for (int i = 0; i < len; i++, n++)
        putc(digits[i]);
    for (; width > len; width--, n++)
        putc(' ');
    return n;
}

/* Formats v in base 10 or 16 into the tail of buf; returns the first character. */
static char *utoa(u32 v, u32 base, int upper, char *end)
{
    const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char *p = end;
    do {
        *--p = set[v % base];
        v /= base;
    } while (v);
    return p;
}

static int emit_number(u32 v, int is_signed, u32 base, int upper, int width, char pad, int left)
{
    char buf[16];
    char *end = buf + sizeof buf;
    int neg = is_signed && (i32)v < 0;
    char *p = utoa(neg ? -v : v, base, upper, end);
    int n = 0;
    if (neg) {
        if (pad == '0') {
            putc('-');
            n++;
            width--;
        } else {
            *--p = '-';
        }
    }
    return n + emit_padded(p, (int)(end - p), width, pad, left);
}

int printf(const char *fmt, ...)
{
    va_list ap;
    int n = 0;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            putc(*fmt);
            n++;
            continue;
        }
        fmt++;
        int left = 0, width = 0;
        char pad = ' ';
        if (*fmt == '-') {
            left = 1;
            fmt++;
        }
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l')
            fmt++;
        switch (*fmt) {
        case 'd':
        case 'i':
            n += emit_number(va_arg(ap, u32), 1, 10, 0, width, pad, left);
            break;
        case 'u':
            n += emit_number(va_arg(ap, u32), 0, 10, 0, width, pad, left);
            break;
        case 'x':
        case 'X':
            n += emit_number(va_arg(ap, u32), 0, 16, *fmt == 'X', width, pad, left);
            break;
        case 'c': {
            char c = (char)va_arg(ap, int);
            n += emit_padded(&c, 1, width, ' ', left);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            n += emit_padded(s, (int)strlen(s), width, ' ', left);
            break;
        }
        case '%':
            putc('%');
            n++;
            break;
        default:
            putc('%');
            putc(*fmt);
            n += 2;
            if (!*fmt)
                goto out;
        }
    }
out:
    va_end(ap);
    return n;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    u8 *d = dst;
    const u8 *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    u8 *d = dst;
    const u8 *s = src;
    if (d < s) {
        while (n--)
            *d++ = *s++;
    } else {
        while (n--)
            d[n] = s[n];
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    u8 *d = dst;
    while (n--)
        *d++ = (u8)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const u8 *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (u8)*a - (u8)*b;
}

char *strcpy(char *dst, const char *src)
{
    char *d = dst;
    while ((*d++ = *src++))
        ;
    return dst;
}

void exit(u32 value)
{
    outl(DEBUG_EXIT, value);
    for (;;)
        __asm__ volatile("cli; hlt");
}
