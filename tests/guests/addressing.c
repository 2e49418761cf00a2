/* addressing: ModRM/SIB addressing forms (base, index*scale, disp8/disp32, no base), 16-bit
 * addressing (0x67 prefix), LEA arithmetic, MOVZX/MOVSX, XCHG, CMPXCHG, CMPXCHG8B, XADD on memory,
 * XLAT, LOOP/LOOPE/LOOPNE/JECXZ, CWD/CDQ, and read-modify-write ALU ops on memory. Each line shows
 * the values read or written. */
#include "libc.h"

static u32 table[64] __attribute__((aligned(16)));

static void fill(void)
{
    for (u32 i = 0; i < 64; i++)
        table[i] = 0x01010101u * i ^ 0x80402010u;
}

static void modrm_forms(void)
{
    u32 r[8], base = (u32)table;
    __asm__ volatile("mov (%[b]), %%eax\n\tmov %%eax, 0(%[r])\n\t"
                     "mov 8(%[b]), %%eax\n\tmov %%eax, 4(%[r])\n\t"
                     "mov 0x80(%[b]), %%eax\n\tmov %%eax, 8(%[r])\n\t"
                     "mov $5, %%ecx\n\tmov (%[b],%%ecx,4), %%eax\n\tmov %%eax, 12(%[r])\n\t"
                     "mov 4(%[b],%%ecx,8), %%eax\n\tmov %%eax, 16(%[r])\n\t"
                     "mov $10, %%ecx\n\tmov table(,%%ecx,2), %%eax\n\tmov %%eax, 20(%[r])\n\t"
                     "mov table+0x20, %%eax\n\tmov %%eax, 24(%[r])\n\t"
                     "mov %[b], %%ecx\n\tmov $-4, %%edx\n\tmov 0x14(%%ecx,%%edx,4), %%eax\n\tmov %%eax, 28(%[r])"
                     :
                     : [b] "r"(base), [r] "r"(r)
                     : "eax", "ecx", "edx", "memory");
    printf("modrm: %08x %08x %08x %08x %08x %08x %08x %08x\n", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
}

static void lea_forms(void)
{
    u32 a, b, c, d;
    __asm__ volatile("mov $0x1000, %%ecx\n\tmov $0x30, %%edx\n\t"
                     "lea 0x10(%%ecx,%%edx,8), %[a]\n\t"
                     "lea -1(%%ecx,%%ecx,2), %[b]\n\t"
                     "lea (,%%edx,4), %[c]\n\t"
                     "lea 0xfffff000(%%ecx), %[d]"
                     : [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [d] "=&r"(d)
                     :
                     : "ecx", "edx");
    u32 w;
    __asm__ volatile("mov $0x12345678, %[w]\n\tmov $0xfff0, %%ecx\n\tmov $0x20, %%edx\n\t"
                     "lea 0x30(%%ecx,%%edx), %w[w]"
                     : [w] "=&r"(w)
                     :
                     : "eax", "ecx", "edx");
    printf("lea: %08x %08x %08x %08x lea16=%08x\n", a, b, c, d, w);
}

static void addr16(void)
{
    /* 16-bit addressing: [bx+si+disp] with the table placed so that the offset fits 16 bits is not
     * possible at 1 MiB, so use a segment with a base: DS stays flat, an FS alias is not needed:
     * the effective address wraps at 64 KiB and is then added to DS base 0. Read low memory. */
    u32 v1, v2;
    static u32 *const low = (u32 *)0x7000;
    low[0] = 0xa1b2c3d4;
    low[1] = 0x11223344;
    __asm__ volatile("mov $0x7000, %%ebx\n\tmov $4, %%esi\n\t"
                     "addr16 mov (%%bx,%%si), %[v1]\n\t"
                     "mov $0x17000, %%ebx\n\txor %%esi, %%esi\n\t" /* upper bits ignored */
                     "addr16 mov (%%bx,%%si), %[v2]"
                     : [v1] "=&r"(v1), [v2] "=&r"(v2)
                     :
                     : "ebx", "esi", "memory");
    printf("addr16: [bx+si]=%08x wrapped=%08x\n", v1, v2);
}

static void extends(void)
{
    u32 r[6];
    u8 b = 0x85;
    u16 w = 0x8123;
    __asm__ volatile("movzbl %[b], %%eax\n\tmov %%eax, 0(%[r])\n\t"
                     "movsbl %[b], %%eax\n\tmov %%eax, 4(%[r])\n\t"
                     "movzwl %[w], %%eax\n\tmov %%eax, 8(%[r])\n\t"
                     "movswl %[w], %%eax\n\tmov %%eax, 12(%[r])\n\t"
                     "mov $0xffffffff, %%eax\n\tmovsbw %[b], %%ax\n\tmov %%eax, 16(%[r])\n\t"
                     "mov $0x80000000, %%eax\n\tcltd\n\tmov %%edx, 20(%[r])"
                     :
                     : [b] "m"(b), [w] "m"(w), [r] "r"(r)
                     : "eax", "edx", "memory");
    printf("extend: %08x %08x %08x %08x %08x cdq=%08x\n", r[0], r[1], r[2], r[3], r[4], r[5]);
}

static void exchanges(void)
{
    u32 m = 100, a, b, c, z1, z2;
    u32 x = 0x1111, y = 0x2222;
    __asm__ volatile("xchg %[x], %[y]" : [x] "+r"(x), [y] "+r"(y));
    __asm__ volatile("xchg %[m], %[x]" : [m] "+m"(m), [x] "+r"(x));
    a = 7;
    __asm__ volatile("lock xaddl %[a], %[m]" : [a] "+r"(a), [m] "+m"(m) : : "cc");
    b = 107;
    c = 0xc0c0;
    __asm__ volatile("lock cmpxchgl %[c], %[m]\n\tsete %b[z]" : "+a"(b), [m] "+m"(m), [z] "=q"(z1) : [c] "r"(c) : "cc");
    b = m; /* now equal: the exchange happens */
    __asm__ volatile("cmpxchgl %[c], %[m]\n\tsete %b[z]" : "+a"(b), [m] "+m"(m), [z] "=q"(z2) : [c] "r"(c) : "cc");
    printf("xchg: x=%x y=%x m=%x xadd_old=%x cmpxchg z=%u,%u eax=%x\n", x, y, m, a, z1 & 1, z2 & 1, b);
    u64 q = 0x1122334455667788ull;
    u32 lo = 0x55667788, hi = 0x11223344, z;
    __asm__ volatile("cmpxchg8b %[q]\n\tsete %b[z]"
                     : [q] "+m"(q), "+a"(lo), "+d"(hi), [z] "=q"(z)
                     : "b"(0xaaaaaaaa), "c"(0xbbbbbbbb)
                     : "cc");
    printf("cmpxchg8b: z=%u q=%08x%08x\n", z & 1, (u32)(q >> 32), (u32)q);
    lo = 0, hi = 0;
    __asm__ volatile("cmpxchg8b %[q]\n\tsete %b[z]"
                     : [q] "+m"(q), "+a"(lo), "+d"(hi), [z] "=q"(z)
                     : "b"(1), "c"(2)
                     : "cc");
    printf("cmpxchg8b miss: z=%u edx:eax=%08x%08x\n", z & 1, hi, lo);
}

static void loops(void)
{
    u32 n1 = 0, n2 = 0, n3 = 0, n4 = 0, c2, c3;
    __asm__ volatile("mov $7, %%ecx\n1:\tincl %[n]\n\tloop 1b" : [n] "+m"(n1) : : "ecx", "cc");
    __asm__ volatile("mov $9, %%ecx\n\tmov $3, %%eax\n1:\tincl %[n]\n\tdec %%eax\n\tcmp $0, %%eax\n\tloopne 1b\n\tmov %%ecx, %[c]"
                     : [n] "+m"(n2), [c] "=m"(c2)
                     :
                     : "eax", "ecx", "cc");
    __asm__ volatile("mov $9, %%ecx\n\txor %%eax, %%eax\n1:\tincl %[n]\n\tinc %%eax\n\tcmp $4, %%eax\n\tloope 1b\n\tmov %%ecx, %[c]"
                     : [n] "+m"(n3), [c] "=m"(c3)
                     :
                     : "eax", "ecx", "cc");
    __asm__ volatile("xor %%ecx, %%ecx\n\tjecxz 1f\n\tmovl $99, %[n]\n1:\tmov $1, %%ecx\n\tjecxz 2f\n\taddl $5, %[n]\n2:"
                     : [n] "+m"(n4)
                     :
                     : "ecx");
    static const u8 xt[16] = "0123456789abcdef";
    u32 x = 0xffffff0c;
    __asm__ volatile("xlat" : "+a"(x) : "b"(xt) : "memory");
    printf("loops: loop=%u loopne=%u ecx=%u loope=%u ecx=%u jecxz=%u xlat=%08x\n", n1, n2, c2, n3, c3, n4, x);
}

static void memory_rmw(void)
{
    fill();
    u32 fl;
    __asm__ volatile("addl $0x11, table\n\tsubw $0x2222, table+4\n\tandb $0x0f, table+8\n\t"
                     "orl $0x80000000, table+12\n\txorl $-1, table+16\n\tnegl table+20\n\tnotw table+24\n\t"
                     "incb table+28\n\tdecl table+32\n\tshll $4, table+36\n\trorw $3, table+40\n\t"
                     "btsl $33, table+44\n\tmov $100, %%eax\n\tbtcl %%eax, table\n\t" /* bit string: table+12 bit 4 */
                     "adcl $1, table+48\n\tsbbl $1, table+52\n\tpushf\n\tpop %[fl]"
                     : [fl] "=r"(fl)
                     :
                     : "eax", "memory", "cc");
    u32 h = HASH_INIT;
    for (u32 i = 0; i < 16; i++) {
        h = hash32(h, table[i]);
        printf("%08x%c", table[i], i % 8 == 7 ? '\n' : ' ');
    }
    printf("rmw: hash=%08x flags=%03x\n", h, fl & F_ARITH);
}

int main(void)
{
    fill();
    modrm_forms();
    lea_forms();
    addr16();
    extends();
    exchanges();
    loops();
    memory_rmw();
    return 0;
}
