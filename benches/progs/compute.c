/* Integer compute mix: CRC32, sieve, quicksort, matrix multiply, string search and a
 * Dhrystone-like record/string mix. Each part prints its own result; the checksum folds them. */
#include "../plat/plat.h"

#define BUF_LEN 16384
#define SIEVE_N 65536
#define SORT_N 8192
#define MAT_N 48
#define TEXT_LEN 16384

static u8 buf[BUF_LEN];
static u32 crc_table[256];
static u8 sieve_flags[SIEVE_N];
static i32 sort_a[SORT_N];
static i32 mat_a[MAT_N][MAT_N], mat_b[MAT_N][MAT_N], mat_c[MAT_N][MAT_N];
static char text[TEXT_LEN + 1];

static void crc_init(void)
{
    for (u32 i = 0; i < 256; i++) {
        u32 c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static u32 crc32(const u8 *p, u32 n, u32 crc)
{
    crc = ~crc;
    while (n--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static u32 part_crc(u32 rounds)
{
    u32 seed = 12345, crc = 0;
    crc_init();
    for (u32 i = 0; i < BUF_LEN; i++)
        buf[i] = (u8)rng_next(&seed);
    for (u32 r = 0; r < rounds; r++) {
        buf[r % BUF_LEN] ^= (u8)r;
        crc = crc32(buf, BUF_LEN, crc);
    }
    return crc;
}

static u32 part_sieve(u32 rounds)
{
    u32 count = 0;
    for (u32 r = 0; r < rounds; r++) {
        u32 n = SIEVE_N - (r & 63);
        memset(sieve_flags, 1, n);
        sieve_flags[0] = sieve_flags[1] = 0;
        for (u32 i = 2; i * i < n; i++)
            if (sieve_flags[i])
                for (u32 j = i * i; j < n; j += i)
                    sieve_flags[j] = 0;
        for (u32 i = 0; i < n; i++)
            count += sieve_flags[i];
    }
    return count;
}

static void quicksort(i32 *a, int lo, int hi)
{
    while (lo < hi) {
        i32 pivot = a[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                i32 t = a[i];
                a[i++] = a[j];
                a[j--] = t;
            }
        }
        /* Recurse into the smaller side, loop on the larger. */
        if (j - lo < hi - i) {
            quicksort(a, lo, j);
            lo = i;
        } else {
            quicksort(a, i, hi);
            hi = j;
        }
    }
}

static u32 part_sort(u32 rounds)
{
    u32 seed = 777, h = 0;
    for (u32 r = 0; r < rounds; r++) {
        for (int i = 0; i < SORT_N; i++)
            sort_a[i] = (i32)(rng_next(&seed) >> 4) - (1 << 26);
        quicksort(sort_a, 0, SORT_N - 1);
        for (int i = 0; i < SORT_N; i += 61)
            h = h * 31 + (u32)sort_a[i];
    }
    return h;
}

static u32 part_matmul(u32 rounds)
{
    u32 seed = 4242, h = 0;
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            mat_a[i][j] = (i32)(rng_next(&seed) & 0xff) - 128;
            mat_b[i][j] = (i32)(rng_next(&seed) & 0xff) - 128;
        }
    for (u32 r = 0; r < rounds; r++) {
        for (int i = 0; i < MAT_N; i++)
            for (int j = 0; j < MAT_N; j++) {
                i32 s = 0;
                for (int k = 0; k < MAT_N; k++)
                    s += mat_a[i][k] * mat_b[k][j];
                mat_c[i][j] = s;
            }
        mat_a[r % MAT_N][(r * 7) % MAT_N] ^= mat_c[(r * 3) % MAT_N][r % MAT_N] & 0xff;
        for (int i = 0; i < MAT_N; i++)
            h = h * 33 + (u32)mat_c[i][(i + r) % MAT_N];
    }
    return h;
}

/* Naive search for every occurrence; returns the count plus a position hash. */
static u32 search(const char *hay, u32 n, const char *needle, u32 m)
{
    u32 found = 0;
    for (u32 i = 0; i + m <= n; i++) {
        u32 k = 0;
        while (k < m && hay[i + k] == needle[k])
            k++;
        if (k == m)
            found += i;
    }
    return found;
}

static u32 part_search(u32 rounds)
{
    static const char *const needles[] = {"abca", "cabbac", "bcab", "aaab", "abcabcab", "ccba"};
    u32 seed = 99, h = 0;
    for (u32 i = 0; i < TEXT_LEN; i++)
        text[i] = (char)('a' + rng_next(&seed) % 3);
    text[TEXT_LEN] = 0;
    for (u32 r = 0; r < rounds; r++) {
        const char *nd = needles[r % 6];
        h = h * 17 + search(text, TEXT_LEN, nd, str_len(nd));
    }
    return h;
}

/* Dhrystone-like: record copies, enum switches, string compares and small procedures. */
typedef enum { IDENT_1, IDENT_2, IDENT_3, IDENT_4, IDENT_5 } Enumeration;
typedef struct Record {
    struct Record *ptr_comp;
    Enumeration discr;
    Enumeration enum_comp;
    int int_comp;
    char str_comp[31];
} Record;

static Record rec_a, rec_b;
static int int_glob;
static char ch_1_glob, ch_2_glob;
static int arr_1_glob[50];
static int arr_2_glob[50][50];

static int str_cmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (u8)*a - (u8)*b;
}

static void str_cpy(char *d, const char *s)
{
    while ((*d++ = *s++))
        ;
}

__attribute__((noinline)) static Enumeration func_1(char c1, char c2)
{
    char loc = c1;
    if (loc != c2)
        return IDENT_1;
    ch_1_glob = loc;
    return IDENT_2;
}

__attribute__((noinline)) static int func_2(const char *s1, const char *s2)
{
    int loc = 2;
    char ch = 'A';
    for (; loc <= 2; loc++)
        if (func_1(s1[loc], s2[loc + 1]) == IDENT_1)
            ch = 'A';
    if (ch >= 'W' && ch < 'Z')
        loc = 7;
    if (ch == 'R')
        return 1;
    if (str_cmp(s1, s2) > 0) {
        int_glob = loc + 7;
        return 1;
    }
    return 0;
}

__attribute__((noinline)) static void proc_6(Enumeration e, Enumeration *out)
{
    *out = e;
    switch (e) {
    case IDENT_1: *out = IDENT_1; break;
    case IDENT_2: *out = int_glob > 100 ? IDENT_1 : IDENT_4; break;
    case IDENT_3: *out = IDENT_2; break;
    case IDENT_4: break;
    case IDENT_5: *out = IDENT_3; break;
    }
}

__attribute__((noinline)) static void proc_8(int *a1, int (*a2)[50], int i1, int i2)
{
    int loc = i1 + 5;
    a1[loc] = i2;
    a1[loc + 1] = a1[loc];
    a1[loc + 30] = loc;
    for (int i = loc; i <= loc + 1; i++)
        a2[loc][i] = loc;
    a2[loc][loc - 1] += 1;
    a2[loc + 20][loc] = a1[loc];
    int_glob = 5;
}

__attribute__((noinline)) static void proc_1(Record *p)
{
    Record *next = p->ptr_comp;
    *next = *p;
    p->int_comp = 5;
    next->int_comp = p->int_comp;
    next->ptr_comp = p->ptr_comp;
    if (next->discr == IDENT_1) {
        next->int_comp = 6;
        proc_6(p->enum_comp, &next->enum_comp);
        next->ptr_comp = rec_a.ptr_comp;
        next->int_comp = next->int_comp * 10 / 3 + int_glob;
    } else {
        *p = *next;
    }
}

static u32 part_dhry(u32 rounds)
{
    char s1[31], s2[31];
    u32 h = 0;
    rec_a.ptr_comp = &rec_b;
    rec_a.discr = IDENT_1;
    rec_a.enum_comp = IDENT_3;
    rec_a.int_comp = 40;
    str_cpy(rec_a.str_comp, "DHRYSTONE PROGRAM, SOME STRING");
    str_cpy(s1, "DHRYSTONE PROGRAM, 1'ST STRING");
    for (u32 r = 0; r < rounds; r++) {
        int i1 = 2, i2 = 3, i3 = 0;
        Enumeration e = IDENT_1;
        str_cpy(s2, "DHRYSTONE PROGRAM, 2'ND STRING");
        s2[r % 7] = (char)('A' + r % 26);
        int boolv = !func_2(s1, s2);
        while (i1 < i2) {
            i3 = 5 * i1 - i2;
            i1 += 1;
        }
        proc_8(arr_1_glob, arr_2_glob, i1, i3);
        proc_1(&rec_a);
        for (char c = 'A'; c <= ch_2_glob; c++)
            if (func_1(c, 'C') == IDENT_1)
                proc_6(IDENT_1, &e);
        ch_2_glob = (char)('A' + (r & 3));
        i2 = i2 * i1;
        i1 = i2 / i3;
        i2 = 7 * (i2 - i3) - i1;
        h = h * 7 + (u32)(i1 + i2 + i3 + boolv + int_glob + rec_b.int_comp + (int)e);
    }
    return h;
}

int main(void)
{
    u32 sum = 0, v;
    v = part_crc(24 * SCALE);
    put_part("crc32", v);
    sum ^= v;
    v = part_sieve(10 * SCALE);
    put_part("sieve", v);
    sum = sum * 3 + v;
    v = part_sort(6 * SCALE);
    put_part("qsort", v);
    sum = sum * 3 + v;
    v = part_matmul(12 * SCALE);
    put_part("matmul", v);
    sum = sum * 3 + v;
    v = part_search(12 * SCALE);
    put_part("search", v);
    sum = sum * 3 + v;
    v = part_dhry(40000 * SCALE);
    put_part("dhry", v);
    sum = sum * 3 + v;
    put_checksum(sum);
    return 0;
}
