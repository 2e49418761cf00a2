/* Memory bound: a 6 MiB array (1536 pages) swept with a page stride, read-modify-written in a
 * pseudo-random page order, and chased through a random cyclic permutation of cache lines. Paging
 * is off in the guest; the software TLB still covers every page touched. */
#include "../plat/plat.h"

#define MEM_BYTES (6u << 20)
#define WORDS (MEM_BYTES / 4)
#define PAGE_WORDS 1024
#define PAGES (WORDS / PAGE_WORDS)
#define LINE_WORDS 16
#define LINES (WORDS / LINE_WORDS)

static u32 mem[WORDS] __attribute__((aligned(4096)));

static u32 part_fill(void)
{
    u32 h = 0;
    for (u32 i = 0; i < WORDS; i++)
        mem[i] = i * 2654435761u;
    for (u32 i = 0; i < WORDS; i += 997)
        h += mem[i];
    return h;
}

/* Walk the pages in strides: each access lands on a different page than the previous one. */
static u32 part_stride(u32 rounds)
{
    u32 h = 0;
    for (u32 r = 0; r < rounds; r++)
        for (u32 off = r & 1023; off < PAGE_WORDS; off += 64)
            for (u32 p = 0; p < PAGES; p++) {
                u32 *w = &mem[p * PAGE_WORDS + off];
                *w += h;
                h = (h ^ *w) + p;
            }
    return h;
}

/* Random read-modify-write over the whole array. */
static u32 part_random(u32 count)
{
    u32 seed = 2024, h = 0;
    for (u32 i = 0; i < count; i++) {
        u32 x = rng_next(&seed);
        u32 idx = x % WORDS;
        mem[idx] ^= x;
        h += mem[(idx * 7 + 13) % WORDS];
    }
    return h;
}

/* Pointer chase: word 0 of each cache line holds the index of the next line (Sattolo cycle). */
static u32 part_chase(u32 steps)
{
    u32 seed = 55;
    for (u32 i = 0; i < LINES; i++)
        mem[i * LINE_WORDS] = i;
    for (u32 i = LINES - 1; i > 0; i--) {
        u32 j = rng_next(&seed) % i;
        u32 t = mem[i * LINE_WORDS];
        mem[i * LINE_WORDS] = mem[j * LINE_WORDS];
        mem[j * LINE_WORDS] = t;
    }
    u32 cur = 0, h = 0;
    for (u32 s = 0; s < steps; s++) {
        cur = mem[cur * LINE_WORDS];
        h += cur;
    }
    return h;
}

int main(void)
{
    u32 sum, v;
    v = part_fill();
    put_part("fill", v);
    sum = v;
    v = part_stride(4 * SCALE);
    put_part("stride", v);
    sum = sum * 7 + v;
    v = part_random(400000 * SCALE);
    put_part("random", v);
    sum = sum * 7 + v;
    v = part_chase(400000 * SCALE);
    put_part("chase", v);
    sum = sum * 7 + v;
    put_checksum(sum);
    return 0;
}
