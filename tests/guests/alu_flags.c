/* alu_flags: integer ALU instructions at 8/16/32 bits over a table of edge values, with EFLAGS in
 * both all-clear and all-set states. Each (op, size) line prints a hash of the results, a hash of
 * the defined flags (SDM-undefined flags masked per op and count, Intel SDM Vol. 2 per-instruction
 * "Flags Affected"), and two sample results with their flags. The last line is a total checksum. */
#include "libc.h"

typedef u32 (*op_fn)(u32 a, u32 b, u32 c, u32 *fl);

/* Run `insn` with EFLAGS = *fl on entry; the EFLAGS after it are stored back into *fl. */
#define RUN(insn, ...) \
    __asm__ volatile("push %[fl]\n\tpopf\n\t" insn "\n\tpushf\n\tpop %[fl]" : __VA_ARGS__ : "cc")

#define BIN(name, m, s)                                                                   \
    static u32 name(u32 a, u32 b, u32 c, u32 *fl)                                        \
    {                                                                                    \
        (void)c;                                                                         \
        u32 f = *fl;                                                                     \
        RUN(m " %" s "[b], %" s "[r]", [r] "+q"(a), [fl] "+r"(f) : [b] "q"(b));          \
        *fl = f;                                                                         \
        return a;                                                                        \
    }
#define BIN3(op) BIN(op##8, #op "b", "b") BIN(op##16, #op "w", "w") BIN(op##32, #op "l", "k")
BIN3(add) BIN3(adc) BIN3(sub) BIN3(sbb) BIN3(and) BIN3(or) BIN3(xor) BIN3(cmp) BIN3(test)
BIN(bt16, "btw", "w") BIN(bt32, "btl", "k") BIN(bts16, "btsw", "w") BIN(bts32, "btsl", "k")
BIN(btr16, "btrw", "w") BIN(btr32, "btrl", "k") BIN(btc16, "btcw", "w") BIN(btc32, "btcl", "k")
BIN(bsf16, "bsfw", "w") BIN(bsf32, "bsfl", "k") BIN(bsr16, "bsrw", "w") BIN(bsr32, "bsrl", "k")
BIN(xadd8, "xaddb", "b") BIN(xadd16, "xaddw", "w") BIN(xadd32, "xaddl", "k")

#define UN(name, m, s)                                                                    \
    static u32 name(u32 a, u32 b, u32 c, u32 *fl)                                        \
    {                                                                                    \
        (void)b, (void)c;                                                                \
        u32 f = *fl;                                                                     \
        RUN(m " %" s "[r]", [r] "+q"(a), [fl] "+r"(f) :);                                \
        *fl = f;                                                                         \
        return a;                                                                        \
    }
#define UN3(op) UN(op##8, #op "b", "b") UN(op##16, #op "w", "w") UN(op##32, #op "l", "k")
UN3(inc) UN3(dec) UN3(neg) UN3(not)
UN(bswap32, "bswap", "k")

/* Shifts and rotates by CL (count b). */
#define SH(name, m, s)                                                                    \
    static u32 name(u32 a, u32 b, u32 c, u32 *fl)                                        \
    {                                                                                    \
        (void)c;                                                                         \
        u32 f = *fl;                                                                     \
        RUN(m " %%cl, %" s "[r]", [r] "+q"(a), [fl] "+r"(f) : "c"(b));                   \
        *fl = f;                                                                         \
        return a;                                                                        \
    }
#define SH3(op) SH(op##8, #op "b", "b") SH(op##16, #op "w", "w") SH(op##32, #op "l", "k")
SH3(shl) SH3(shr) SH3(sar) SH3(rol) SH3(ror) SH3(rcl) SH3(rcr)

/* Shifts by 1 and by an immediate (other encodings: D0/D1 and C0/C1). */
#define SHI(name, m, s, imm)                                                              \
    static u32 name(u32 a, u32 b, u32 c, u32 *fl)                                        \
    {                                                                                    \
        (void)b, (void)c;                                                                \
        u32 f = *fl;                                                                     \
        RUN(m " $" #imm ", %" s "[r]", [r] "+q"(a), [fl] "+r"(f) :);                     \
        *fl = f;                                                                         \
        return a;                                                                        \
    }
SHI(shl1_32, "shll", "k", 1) SHI(sar1_8, "sarb", "b", 1) SHI(rcr1_16, "rcrw", "w", 1)
SHI(rol5_32, "roll", "k", 5) SHI(shr3_8, "shrb", "b", 3) SHI(rcl7_16, "rclw", "w", 7)

/* Double shifts: dest a, source b, count c in CL. */
#define SHD(name, m, s)                                                                   \
    static u32 name(u32 a, u32 b, u32 c, u32 *fl)                                        \
    {                                                                                    \
        u32 f = *fl;                                                                     \
        RUN(m " %%cl, %" s "[b], %" s "[r]", [r] "+q"(a), [fl] "+r"(f) : [b] "q"(b), "c"(c)); \
        *fl = f;                                                                         \
        return a;                                                                        \
    }
SHD(shld16, "shldw", "w") SHD(shld32, "shldl", "k") SHD(shrd16, "shrdw", "w") SHD(shrd32, "shrdl", "k")

/* Bit tests with an immediate bit offset. */
#define BTI(name, m, s, imm)                                                              \
    static u32 name(u32 a, u32 b, u32 c, u32 *fl)                                        \
    {                                                                                    \
        (void)b, (void)c;                                                                \
        u32 f = *fl;                                                                     \
        RUN(m " $" #imm ", %" s "[r]", [r] "+q"(a), [fl] "+r"(f) :);                     \
        *fl = f;                                                                         \
        return a;                                                                        \
    }
BTI(bt_i7_32, "btl", "k", 7) BTI(bts_i31_32, "btsl", "k", 31) BTI(btr_i15_16, "btrw", "w", 15)
BTI(btc_i20_16, "btcw", "w", 20)

/* BCD adjustments on AL/AX. */
#define AX1(name, m)                                                                      \
    static u32 name(u32 a, u32 b, u32 c, u32 *fl)                                        \
    {                                                                                    \
        (void)b, (void)c;                                                                \
        u32 f = *fl;                                                                     \
        RUN(m, "+a"(a), [fl] "+r"(f) :);                                                  \
        *fl = f;                                                                         \
        return a;                                                                        \
    }
AX1(daa_, "daa") AX1(das_, "das") AX1(aaa_, "aaa") AX1(aas_, "aas")
AX1(aam10, "aam") AX1(aam16, "aam $16") AX1(aad10, "aad") AX1(aad7, "aad $7")
AX1(sahf_, "sahf") AX1(lahf_, "lahf") AX1(cmc_, "cmc") AX1(clc_, "clc") AX1(stc_, "stc")
AX1(cbw_, "cbtw") AX1(cwde_, "cwtl")

/* What a result/flags pair means for one op: which flags are defined, given the operands. */
enum kind {
    K_ALL,      /* every arithmetic flag defined */
    K_LOGIC,    /* AF undefined */
    K_SHIFT,    /* SHL/SHR: count 0 leaves flags; AF undefined; OF only for count 1; CF if count < size */
    K_SAR,      /* like K_SHIFT, CF always defined */
    K_ROT,      /* ROL/ROR/RCL/RCR: only CF/OF written; OF only for count 1 */
    K_SHD,      /* SHLD/SHRD: count 0 leaves flags; count > size undefined; AF, OF (count != 1) undefined */
    K_BT,       /* CF defined, ZF unaffected, OF SF AF PF undefined */
    K_BS,       /* ZF defined; the destination undefined when the source is 0 */
    K_DAA,      /* OF undefined */
    K_AAA,      /* only AF and CF defined */
    K_AAM,      /* SF ZF PF defined */
};

struct op {
    const char *name;
    op_fn fn;
    u8 size;
    u8 kind;
    u8 operands; /* 0: a over values; 1: a, b over values; 2: a over values, b over counts; 3: shld */
};

#define O3(n, k, nb) \
    { #n "8", n##8, 8, k, nb }, { #n "16", n##16, 16, k, nb }, { #n "32", n##32, 32, k, nb }
static const struct op ops[] = {
    O3(add, K_ALL, 1), O3(adc, K_ALL, 1), O3(sub, K_ALL, 1), O3(sbb, K_ALL, 1),
    O3(and, K_LOGIC, 1), O3(or, K_LOGIC, 1), O3(xor, K_LOGIC, 1), O3(cmp, K_ALL, 1),
    O3(test, K_LOGIC, 1), O3(xadd, K_ALL, 1),
    O3(inc, K_ALL, 0), O3(dec, K_ALL, 0), O3(neg, K_ALL, 0), O3(not, K_ALL, 0),
    O3(shl, K_SHIFT, 2), O3(shr, K_SHIFT, 2), O3(sar, K_SAR, 2),
    O3(rol, K_ROT, 2), O3(ror, K_ROT, 2), O3(rcl, K_ROT, 2), O3(rcr, K_ROT, 2),
    { "shl1_32", shl1_32, 32, K_SHIFT, 0 }, { "sar1_8", sar1_8, 8, K_SAR, 0 },
    { "rcr1_16", rcr1_16, 16, K_ROT, 0 }, { "rol5_32", rol5_32, 32, K_ROT, 0 },
    { "shr3_8", shr3_8, 8, K_SHIFT, 0 }, { "rcl7_16", rcl7_16, 16, K_ROT, 0 },
    { "shld16", shld16, 16, K_SHD, 3 }, { "shld32", shld32, 32, K_SHD, 3 },
    { "shrd16", shrd16, 16, K_SHD, 3 }, { "shrd32", shrd32, 32, K_SHD, 3 },
    { "bt16", bt16, 16, K_BT, 1 }, { "bt32", bt32, 32, K_BT, 1 },
    { "bts16", bts16, 16, K_BT, 1 }, { "bts32", bts32, 32, K_BT, 1 },
    { "btr16", btr16, 16, K_BT, 1 }, { "btr32", btr32, 32, K_BT, 1 },
    { "btc16", btc16, 16, K_BT, 1 }, { "btc32", btc32, 32, K_BT, 1 },
    { "bt_i7_32", bt_i7_32, 32, K_BT, 0 }, { "bts_i31_32", bts_i31_32, 32, K_BT, 0 },
    { "btr_i15_16", btr_i15_16, 16, K_BT, 0 }, { "btc_i20_16", btc_i20_16, 16, K_BT, 0 },
    { "bsf16", bsf16, 16, K_BS, 1 }, { "bsf32", bsf32, 32, K_BS, 1 },
    { "bsr16", bsr16, 16, K_BS, 1 }, { "bsr32", bsr32, 32, K_BS, 1 },
    { "bswap32", bswap32, 32, K_ALL, 0 },
    { "daa", daa_, 8, K_DAA, 0 }, { "das", das_, 8, K_DAA, 0 },
    { "aaa", aaa_, 8, K_AAA, 0 }, { "aas", aas_, 8, K_AAA, 0 },
    { "aam10", aam10, 8, K_AAM, 0 }, { "aam16", aam16, 8, K_AAM, 0 },
    { "aad10", aad10, 8, K_AAM, 0 }, { "aad7", aad7, 8, K_AAM, 0 },
    { "sahf", sahf_, 8, K_ALL, 0 }, { "lahf", lahf_, 8, K_ALL, 0 },
    { "cmc", cmc_, 8, K_ALL, 0 }, { "clc", clc_, 8, K_ALL, 0 }, { "stc", stc_, 8, K_ALL, 0 },
    { "cbw", cbw_, 16, K_ALL, 0 }, { "cwde", cwde_, 32, K_ALL, 0 },
};

static const u32 vals[] = {
    0x00000000, 0x00000001, 0x00000002, 0x0000000f, 0x00000010, 0x0000007f, 0x00000080, 0x000000ff,
    0x00000100, 0x00007fff, 0x00008000, 0x0000ffff, 0x00010000, 0x7fffffff, 0x80000000, 0x80000001,
    0xfffffffe, 0xffffffff, 0x12345678, 0xdeadbeef, 0x00000099, 0x0000a5a5, 0x5a5a5a5a, 0xcafe0f09,
};
#define NVALS (sizeof vals / sizeof vals[0])
static const u32 counts[] = { 0, 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 18, 24, 31, 32, 33, 63, 255 };
#define NCOUNTS (sizeof counts / sizeof counts[0])
/* EFLAGS on entry: all arithmetic flags clear, all set, CF only, AF only (bit 1 always set). */
static const u32 flags_in[] = { 0x002, 0x002 | F_ARITH, 0x002 | F_CF, 0x002 | F_AF };

/* The flags the SDM defines after `o` ran with operands a (value), b (value or count), c (count);
 * returns 0xffffffff when the result itself is undefined. */
static u32 defined_flags(const struct op *o, u32 b, u32 c)
{
    u32 n = b & 31;
    switch (o->kind) {
    case K_LOGIC: return F_ARITH & ~F_AF;
    case K_SHIFT:
    case K_SAR:
        if (o->operands == 0)
            n = o->name[3] == '1' ? 1 : (u32)(o->name[3] - '0');
        if (n == 0) return F_ARITH;
        return (F_ARITH & ~F_AF & ~(n == 1 ? 0 : F_OF)) & ~(o->kind == K_SHIFT && n >= o->size ? F_CF : 0);
    case K_ROT:
        if (o->operands == 0)
            n = o->name[3] == '1' ? 1 : (u32)(o->name[3] - '0');
        return n > 1 ? F_ARITH & ~F_OF : F_ARITH;
    case K_SHD:
        n = c & 31;
        if (n == 0) return F_ARITH;
        if (n > o->size) return 0xffffffff;
        return F_ARITH & ~F_AF & ~(n == 1 ? 0 : F_OF);
    case K_BT: return F_CF | F_ZF;
    case K_BS: return F_ZF;
    case K_DAA: return F_ARITH & ~F_OF;
    case K_AAA: return F_AF | F_CF;
    case K_AAM: return F_SF | F_ZF | F_PF;
    default: return F_ARITH;
    }
}

static u32 total = HASH_INIT;

struct acc {
    u32 hr, hf, n;
};

static void run_one(const struct op *o, struct acc *acc, u32 a, u32 b, u32 c, u32 fin)
{
    u32 def = defined_flags(o, b, c);
    if (def == 0xffffffff)
        return;
    u32 f = fin;
    u32 r = o->fn(a, b, c, &f);
    if (o->kind == K_BS && (b & (o->size == 16 ? 0xffff : 0xffffffff)) == 0)
        r = a;
    acc->hr = hash32(acc->hr, r);
    acc->hf = hash32(acc->hf, f & def);
    acc->n++;
}

static void run_op(const struct op *o)
{
    struct acc acc = { HASH_INIT, HASH_INIT, 0 };
    for (u32 fi = 0; fi < 4; fi++) {
        for (u32 i = 0; i < NVALS; i++) {
            u32 a = vals[i];
            if (o->operands == 0) {
                run_one(o, &acc, a, 0, 0, flags_in[fi]);
                run_one(o, &acc, a * 0x01010101u + i, 0, 0, flags_in[fi]);
            }
            for (u32 j = 0; o->operands == 1 && j < NVALS; j++)
                run_one(o, &acc, a, vals[j], 0, flags_in[fi]);
            for (u32 j = 0; o->operands == 2 && j < NCOUNTS; j++)
                run_one(o, &acc, a, counts[j], 0, flags_in[fi]);
            for (u32 j = 0; o->operands == 3 && j < NVALS; j += 3)
                for (u32 k = 0; k < NCOUNTS; k++)
                    run_one(o, &acc, a, vals[j], counts[k], flags_in[fi]);
        }
    }
    /* Two samples with visible values: (0x7fffffff, 1) and (0x80000001, 0xdeadbeef or count 9). */
    u32 f1 = 0x002, f2 = 0x002 | F_ARITH;
    u32 r1 = o->fn(0x7fffffff, 1, 1, &f1);
    u32 r2 = o->fn(0x80000001, o->operands == 2 ? 9 : 0xdeadbeef, 9, &f2);
    f1 &= defined_flags(o, 1, 1);
    f2 &= defined_flags(o, o->operands == 2 ? 9 : 0xdeadbeef, 9);
    printf("%-10s n=%4u res=%08x fl=%08x  s1=%08x/%03x s2=%08x/%03x\n", o->name, acc.n, acc.hr, acc.hf, r1, f1,
           r2, f2);
    total = hash32(hash32(total, acc.hr), acc.hf);
}

/* SETcc, CMOVcc and Jcc for all 16 conditions over all 64 combinations of CF PF AF ZF SF OF. */
#define CC_LIST(X) X(o) X(no) X(b) X(ae) X(e) X(ne) X(be) X(a) X(s) X(ns) X(p) X(np) X(l) X(ge) X(le) X(g)
static u32 flag_combo(u32 i)
{
    static const u32 bits[6] = { F_CF, F_PF, F_AF, F_ZF, F_SF, F_OF };
    u32 f = 0x002;
    for (u32 k = 0; k < 6; k++)
        if (i & (1u << k))
            f |= bits[k];
    return f;
}

static void run_conditions(void)
{
#define SETCC(cc)                                                                               \
    {                                                                                           \
        u32 h = HASH_INIT, h2 = HASH_INIT, h3 = HASH_INIT, bits[2] = {0, 0};                         \
        for (u32 i = 0; i < 64; i++) {                                                          \
            u32 f = flag_combo(i), r = 0x11223344, m = 0xaaaa5555, j = 0;                        \
            RUN("set" #cc " %b[r]", [r] "+q"(r), [fl] "+r"(f) :);                                \
            h = hash32(h, r);                                                                   \
            bits[i >> 5] |= (r & 1) << (i & 31);                                                \
            f = flag_combo(i);                                                                  \
            RUN("cmov" #cc "l %[m], %[r]", [r] "+r"(j), [fl] "+r"(f) : [m] "r"(m));             \
            h2 = hash32(h2, j);                                                                 \
            f = flag_combo(i);                                                                  \
            j = 0x12345678;                                                                     \
            RUN("cmov" #cc "w %w[m], %w[r]", [r] "+r"(j), [fl] "+r"(f) : [m] "r"(m));           \
            h2 = hash32(h2, j);                                                                 \
            f = flag_combo(i);                                                                  \
            j = 0;                                                                              \
            RUN("j" #cc " 1f\n\tmov $1, %[r]\n1:", [r] "+r"(j), [fl] "+r"(f) :);                \
            h3 = hash32(h3, j);                                                                 \
        }                                                                                       \
        printf("set%-3s set=%08x cmov=%08x j=%08x bits=%08x%08x\n", #cc, h, h2, h3, bits[1], bits[0]); \
        total = hash32(hash32(hash32(total, h), h2), h3);                                       \
    }
    CC_LIST(SETCC)
}

int main(void)
{
    printf("alu_flags: %u ops\n", (u32)(sizeof ops / sizeof ops[0]));
    for (u32 i = 0; i < sizeof ops / sizeof ops[0]; i++)
        run_op(&ops[i]);
    run_conditions();
    printf("alu_flags checksum %08x\n", total);
    return 0;
}
