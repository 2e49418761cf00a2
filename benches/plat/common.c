/* Output helpers and the string routines gcc may emit calls to, shared by both platforms. */
#include "plat.h"

u32 str_len(const char *s)
{
    u32 n = 0;
    while (s[n])
        n++;
    return n;
}

void put_str(const char *s)
{
    plat_write(s, str_len(s));
}

void put_hex(u32 v)
{
    char b[8];
    for (int i = 7; i >= 0; i--) {
        b[i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    }
    plat_write(b, 8);
}

void put_dec(u32 v)
{
    char b[10];
    int i = 10;
    do {
        b[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    plat_write(b + i, (u32)(10 - i));
}

void put_part(const char *name, u32 v)
{
    put_str(name);
    put_str("=");
    put_hex(v);
    put_str("\n");
}

void put_checksum(u32 v)
{
    put_str("checksum: ");
    put_hex(v);
    put_str("\n");
}

void *memset(void *d, int c, u32 n)
{
    u8 *p = d;
    while (n--)
        *p++ = (u8)c;
    return d;
}

void *memcpy(void *d, const void *s, u32 n)
{
    u8 *p = d;
    const u8 *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

void *memmove(void *d, const void *s, u32 n)
{
    u8 *p = d;
    const u8 *q = s;
    if (p < q)
        return memcpy(d, s, n);
    while (n--)
        p[n] = q[n];
    return d;
}

int memcmp(const void *a, const void *b, u32 n)
{
    const u8 *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p - *q;
    return 0;
}
