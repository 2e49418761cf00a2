/* The tiny platform layer every benchmark program is written against.
 *
 * Each program is built twice from the same source: as a multiboot guest kernel (kernel.c,
 * kernel_crt0.S, kernel.ld: output on COM1, exit through isa-debug-exit) and as a static
 * 32-bit Linux program (linux.c, linux_crt0.S: write(2) and exit(2) through int $0x80). No libc:
 * common.c supplies the few string routines gcc may call and the output helpers.
 *
 * SCALE (set on the command line, -DSCALE=n) multiplies the work; the quick build uses a smaller
 * value than the full one. */
#ifndef PLAT_H
#define PLAT_H

typedef unsigned int u32;
typedef int i32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef unsigned long long u64;

#ifndef SCALE
#define SCALE 1
#endif

/* Platform: write bytes to the console; stop the program (never returns). */
void plat_write(const char *s, u32 n);
__attribute__((noreturn)) void plat_exit(void);

/* common.c */
void put_str(const char *s);
void put_hex(u32 v);
void put_dec(u32 v);
/* "name=value" on one line, for the per-part results. */
void put_part(const char *name, u32 v);
/* The line the harness compares across engines: "checksum: xxxxxxxx". */
void put_checksum(u32 v);
u32 str_len(const char *s);
void *memset(void *d, int c, u32 n);
void *memcpy(void *d, const void *s, u32 n);
void *memmove(void *d, const void *s, u32 n);
int memcmp(const void *a, const void *b, u32 n);

/* A small deterministic generator (xorshift32). */
static inline u32 rng_next(u32 *state)
{
    u32 x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

/* Keep a value observable so the compiler cannot drop the work that produced it. */
#define KEEP(v) __asm__ volatile("" : : "r"(v) : "memory")

int main(void);

#endif
