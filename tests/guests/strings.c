/* strings: MOVS, STOS, LODS, CMPS, SCAS at byte/word/dword size, with and without REP/REPE/REPNE,
 * forward (CLD) and backward (STD), overlapping copies, and REPE/REPNE termination on a match or on
 * ECX = 0 (Intel SDM Vol. 2B "REP/REPE/REPZ/REPNE/REPNZ"). After each case the transcript shows
 * ESI, EDI, ECX, EAX, the ZF/CF flags and a hash of the buffer. */
#include "libc.h"

static u8 buf[256] __attribute__((aligned(16)));
static u8 src[256] __attribute__((aligned(16)));

struct regs {
    u32 esi, edi, ecx, eax, fl;
};

static void fill(void)
{
    for (u32 i = 0; i < sizeof buf; i++) {
        buf[i] = (u8)(i * 7 + 3);
        src[i] = (u8)(i ^ 0x5a);
    }
}

static u32 buf_hash(void)
{
    u32 h = HASH_INIT;
    for (u32 i = 0; i < sizeof buf; i += 4)
        h = hash32(h, *(u32 *)&buf[i]);
    return h;
}

static u32 base(u32 p)
{
    if (p >= (u32)buf && p <= (u32)buf + sizeof buf)
        return p - (u32)buf;
    if (p >= (u32)src && p <= (u32)src + sizeof src)
        return 0x1000 + p - (u32)src;
    return p;
}

/* Prints the registers with ESI/EDI shown as offsets: buf+N as N, src+N as 0x1000+N. */
static void show(const char *what, struct regs r)
{
    printf("%-22s esi=%04x edi=%04x ecx=%08x eax=%08x zf=%u cf=%u buf=%08x\n", what, base(r.esi), base(r.edi),
           r.ecx, r.eax, (r.fl >> 6) & 1, r.fl & 1, buf_hash());
}

/* Runs `insn` with the given direction ("cld"/"std"), ESI, EDI, ECX, EAX, and flags cleared;
 * DF is cleared again afterwards. */
#define STR(label, dir, insn, si, di, cx, ax)                                                           \
    do {                                                                                                \
        struct regs r = { (u32)(si), (u32)(di), (cx), (ax), 0 };                                        \
        __asm__ volatile("push $0x2\n\tpopf\n\t" dir "\n\t" insn "\n\tpushf\n\tpop %[fl]\n\tcld"        \
                         : "+S"(r.esi), "+D"(r.edi), "+c"(r.ecx), "+a"(r.eax), [fl] "+r"(r.fl)          \
                         :                                                                              \
                         : "memory", "cc");                                                             \
        show(label, r);                                                                                 \
    } while (0)

static void moves(void)
{
    fill();
    STR("movsb", "cld", "movsb", src, buf, 0, 0);
    STR("movsw", "cld", "movsw", src + 2, buf + 2, 0, 0);
    STR("movsl", "cld", "movsl", src + 4, buf + 4, 0, 0);
    STR("movsl std", "std", "movsl", src + 16, buf + 16, 0, 0);
    STR("rep movsb", "cld", "rep movsb", src + 10, buf + 10, 13, 0);
    STR("rep movsw", "cld", "rep movsw", src + 32, buf + 32, 9, 0);
    STR("rep movsl", "cld", "rep movsl", src + 64, buf + 64, 7, 0);
    STR("rep movsb ecx=0", "cld", "rep movsb", src, buf, 0, 0);
    STR("std rep movsb", "std", "rep movsb", src + 120, buf + 120, 11, 0);
    STR("std rep movsw", "std", "rep movsw", src + 140, buf + 140, 6, 0);
    STR("std rep movsl", "std", "rep movsl", src + 200, buf + 200, 5, 0);
    /* Overlapping: forward with dest above source replicates the pattern; backward moves safely. */
    fill();
    STR("overlap fwd movsb", "cld", "rep movsb", buf, buf + 3, 40, 0);
    STR("overlap fwd movsl", "cld", "rep movsl", buf + 100, buf + 104, 10, 0);
    fill();
    STR("overlap bwd movsb", "std", "rep movsb", buf + 49, buf + 52, 50, 0);
    STR("overlap dst<src movsw", "cld", "rep movsw", buf + 130, buf + 128, 20, 0);
}

static void stores_loads(void)
{
    fill();
    STR("stosb", "cld", "stosb", 0, buf, 0, 0x11223344);
    STR("rep stosb", "cld", "rep stosb", 0, buf + 1, 15, 0xaabbccdd);
    STR("rep stosw", "cld", "rep stosw", 0, buf + 16, 8, 0x12345678);
    STR("rep stosl", "cld", "rep stosl", 0, buf + 32, 8, 0xcafef00d);
    STR("std rep stosl", "std", "rep stosl", 0, buf + 96, 4, 0x01020304);
    STR("std rep stosw", "std", "rep stosw", 0, buf + 110, 3, 0xfeed);
    fill();
    STR("lodsb", "cld", "lodsb", buf + 5, 0, 0, 0xffffffff);
    STR("lodsw", "cld", "lodsw", buf + 5, 0, 0, 0xffffffff);
    STR("lodsl", "cld", "lodsl", buf + 5, 0, 0, 0xffffffff);
    STR("std lodsl", "std", "lodsl", buf + 40, 0, 0, 0);
    STR("rep lodsb", "cld", "rep lodsb", buf + 7, 0, 9, 0);
    STR("std rep lodsw", "std", "rep lodsw", buf + 60, 0, 5, 0);
}

static void compares(void)
{
    fill();
    memcpy(src + 0x40, buf + 0x40, 32);
    src[0x40 + 20] ^= 1;
    STR("cmpsb", "cld", "cmpsb", buf, src, 0, 0);
    STR("repe cmpsb mismatch", "cld", "repe cmpsb", buf + 0x40, src + 0x40, 32, 0);
    STR("repe cmpsb equal", "cld", "repe cmpsb", buf + 0x40, src + 0x40, 20, 0);
    STR("repe cmpsw", "cld", "repe cmpsw", buf + 0x40, src + 0x40, 16, 0);
    STR("repe cmpsl", "cld", "repe cmpsl", buf + 0x40, src + 0x40, 8, 0);
    STR("repne cmpsb", "cld", "repne cmpsb", buf, src, 64, 0);
    STR("std repe cmpsb", "std", "repe cmpsb", buf + 0x5f, src + 0x5f, 32, 0);
    STR("repe cmpsb ecx=0", "cld", "repe cmpsb", buf, src, 0, 0);
    buf[77] = 0xab;
    STR("repne scasb found", "cld", "repne scasb", 0, buf, 200, 0xab);
    STR("repne scasb not found", "cld", "repne scasb", 0, buf, 50, 0xab);
    STR("repe scasb", "cld", "repe scasb", 0, buf, 10, buf[0]);
    memset(buf + 160, 0x77, 40);
    STR("repe scasw", "cld", "repe scasw", 0, buf + 160, 30, 0x7777);
    STR("repe scasl", "cld", "repe scasl", 0, buf + 160, 30, 0x77777777);
    STR("std repne scasw", "std", "repne scasw", 0, buf + 158, 30, 0x7777);
    STR("scasl", "cld", "scasl", 0, buf + 160, 0, 0x77777776);
}

int main(void)
{
    moves();
    stores_loads();
    compares();
    printf("strings done\n");
    return 0;
}
