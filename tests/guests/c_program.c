/* c_program: ordinary compiled C: a quicksort of a pseudo-random array, checksums, printf of
 * signed/unsigned/hex numbers with width and padding, string functions, a struct-heavy linked
 * list and a small sieve. Exits 0 when every self-check holds. */
#include "libc.h"

#define N 500
static i32 arr[N];
static u32 rng_state = 12345;

static u32 rng(void)
{
    /* xorshift32 */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void swap(i32 *a, i32 *b)
{
    i32 t = *a;
    *a = *b;
    *b = t;
}

static void quicksort(i32 *v, int lo, int hi)
{
    while (lo < hi) {
        i32 pivot = v[(lo + hi) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j)
                swap(&v[i++], &v[j--]);
        }
        if (j - lo < hi - i) {
            quicksort(v, lo, j);
            lo = i;
        } else {
            quicksort(v, i, hi);
            hi = j;
        }
    }
}

static int sort_check(void)
{
    u32 before = 0, after = 0;
    for (int i = 0; i < N; i++) {
        arr[i] = (i32)(rng() % 200001) - 100000;
        before += (u32)arr[i];
    }
    quicksort(arr, 0, N - 1);
    int sorted = 1;
    u32 h = HASH_INIT;
    for (int i = 0; i < N; i++) {
        after += (u32)arr[i];
        h = hash32(h, (u32)arr[i]);
        if (i && arr[i - 1] > arr[i])
            sorted = 0;
    }
    printf("quicksort: n=%d min=%d median=%d max=%d sum=%d hash=%08x sorted=%s\n", N, arr[0], arr[N / 2],
           arr[N - 1], (i32)after, h, sorted ? "yes" : "no");
    return sorted && before == after;
}

static void formats(void)
{
    printf("[%d] [%d] [%d] [%d]\n", 0, -1, 2147483647, (i32)0x80000000);
    printf("[%u] [%u] [%x] [%X]\n", 0u, 4294967295u, 0xdeadbeefu, 0xcafe);
    printf("[%5d] [%-5d] [%05d] [%05d] [%8x] [%08x]\n", 42, 42, 42, -42, 0xabc, 0xabc);
    printf("[%c%c%c] [%s] [%10s] [%-10s] [%%]\n", 't', 'c', 'g', "string", "right", "left");
}

struct node {
    struct node *next;
    u32 key;
    char name[12];
};

static struct node pool[64];

static int strings_and_lists(void)
{
    char a[32], b[32];
    strcpy(a, "hello, guest");
    strcpy(b, a);
    b[7] = 'G';
    int ok = strlen(a) == 12 && strcmp(a, b) > 0 && strcmp(b, a) < 0 && strcmp(a, a) == 0;
    memset(b, 'x', 5);
    b[5] = 0;
    memmove(a + 2, a, 8);
    printf("strings: len=%u cmp=%d b=%s a=%s memcmp=%d\n", (u32)strlen(a), strcmp("abc", "abd"), b, a,
           memcmp("abc", "abd", 3) < 0 ? -1 : 1);
    struct node *head = 0;
    for (u32 i = 0; i < 64; i++) {
        pool[i].key = rng() & 0xffff;
        pool[i].name[0] = (char)('a' + i % 26);
        pool[i].name[1] = 0;
        struct node **p = &head;
        while (*p && (*p)->key < pool[i].key)
            p = &(*p)->next;
        pool[i].next = *p;
        *p = &pool[i];
    }
    u32 h = HASH_INIT, count = 0, prev = 0;
    for (struct node *n = head; n; n = n->next, count++) {
        ok &= n->key >= prev;
        prev = n->key;
        h = hash32(h, n->key ^ (u32)n->name[0]);
    }
    printf("list: count=%u first=%u last=%u hash=%08x\n", count, head->key, prev, h);
    return ok && count == 64;
}

static int sieve(void)
{
    static u8 composite[10000];
    u32 count = 0, last = 0;
    for (u32 i = 2; i < sizeof composite; i++) {
        if (composite[i])
            continue;
        count++;
        last = i;
        for (u32 j = i * i; j < sizeof composite; j += i)
            composite[j] = 1;
    }
    printf("sieve: %u primes below 10000, largest %u\n", count, last);
    return count == 1229 && last == 9973;
}

static int arithmetic(void)
{
    i32 s = -1000000007;
    u32 u = 3000000000u;
    printf("arith: %d/7=%d %d%%7=%d %u/7=%u %u%%7=%u %d>>3=%d %u>>3=%u\n", s, s / 7, s, s % 7, u, u / 7, u, u % 7,
           s, s >> 3, u, u >> 3);
    u64 m = (u64)u * 5u;
    printf("arith64: hi=%08x lo=%08x\n", (u32)(m >> 32), (u32)m);
    return s / 7 == -142857143 && u % 7 == 4;
}

int main(void)
{
    int ok = 1;
    ok &= sort_check();
    formats();
    ok &= strings_and_lists();
    ok &= sieve();
    ok &= arithmetic();
    printf("c_program %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
