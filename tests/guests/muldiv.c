/* muldiv: MUL, IMUL (one-, two- and three-operand forms) and DIV, IDIV at 8/16/32 bits over a
 * table of edge values. Divisions that fault (#DE: divide by zero or quotient overflow, Intel SDM
 * Vol. 2A "DIV"/"IDIV") are caught by a #DE handler that skips the instruction and counts them.
 * Per (op, size) lines print hashes of EDX:EAX and of the defined flags (CF and OF for
 * multiplications; none for divisions), plus samples; then two explicit faults print their eip. */
#include "libc.h"

static const u32 vals[] = {
    0x00000000, 0x00000001, 0x00000002, 0x00000003, 0x00000007, 0x0000000a, 0x0000007f, 0x00000080,
    0x000000ff, 0x00000100, 0x00007fff, 0x00008000, 0x0000ffff, 0x00010000, 0x7fffffff, 0x80000000,
    0x80000001, 0xfffffffe, 0xffffffff, 0x12345678, 0xdeadbeef, 0xffffff80, 0xffff8000, 0x00c0ffee,
};
#define NVALS (sizeof vals / sizeof vals[0])
static const u32 highs[] = { 0, 1, 0x7f, 0x80, 0xffffffff, 0x12345678, 0xfffffff0 };
#define NHIGHS (sizeof highs / sizeof highs[0])

struct res {
    u32 eax, edx, fl;
};

/* eax, edx in; the instruction's register operand is b; EFLAGS in = 0x002 or all arithmetic set. */
#define RUN2(insn)                                                                                      \
    __asm__ volatile("push %[fl]\n\tpopf\n\t" insn "\n\tpushf\n\tpop %[fl]"                            \
                     : "+a"(r.eax), "+d"(r.edx), [fl] "+r"(r.fl)                                        \
                     : [b] "b"(b)                                                                       \
                     : "cc")

#define ONE(name, insn)                                                                                 \
    static struct res name(u32 a, u32 d, u32 b, u32 fl)                                                \
    {                                                                                                   \
        struct res r = { a, d, fl };                                                                    \
        RUN2(insn);                                                                                     \
        return r;                                                                                       \
    }
ONE(mul8, "mulb %b[b]") ONE(mul16, "mulw %w[b]") ONE(mul32, "mull %k[b]")
ONE(imul8, "imulb %b[b]") ONE(imul16, "imulw %w[b]") ONE(imul32, "imull %k[b]")
ONE(imul2_16, "imulw %w[b], %%ax") ONE(imul2_32, "imull %k[b], %%eax")
ONE(imul3_16_i8, "imulw $-7, %w[b], %%ax") ONE(imul3_32_i8, "imull $127, %k[b], %%eax")
ONE(imul3_16_i16, "imulw $0x1234, %w[b], %%ax") ONE(imul3_32_i32, "imull $-0x12345, %k[b], %%eax")
ONE(div8, "divb %b[b]") ONE(div16, "divw %w[b]") ONE(div32, "divl %k[b]")
ONE(idiv8, "idivb %b[b]") ONE(idiv16, "idivw %w[b]") ONE(idiv32, "idivl %k[b]")

typedef struct res (*fn)(u32 a, u32 d, u32 b, u32 fl);
struct op {
    const char *name;
    fn f;
    u8 is_div;
};
static const struct op ops[] = {
    { "mul8", mul8, 0 }, { "mul16", mul16, 0 }, { "mul32", mul32, 0 },
    { "imul8", imul8, 0 }, { "imul16", imul16, 0 }, { "imul32", imul32, 0 },
    { "imul2_16", imul2_16, 0 }, { "imul2_32", imul2_32, 0 },
    { "imul3_16_i8", imul3_16_i8, 0 }, { "imul3_32_i8", imul3_32_i8, 0 },
    { "imul3_16_i16", imul3_16_i16, 0 }, { "imul3_32_i32", imul3_32_i32, 0 },
    { "div8", div8, 1 }, { "div16", div16, 1 }, { "div32", div32, 1 },
    { "idiv8", idiv8, 1 }, { "idiv16", idiv16, 1 }, { "idiv32", idiv32, 1 },
};

static u32 faults;

/* #DE in the sweep: count it, mark EDX:EAX, and skip the register-operand DIV/IDIV
 * (optional 0x66 prefix, opcode F6/F7, ModRM with mod = 3). */
static void de_skip(struct frame *f)
{
    const u8 *p = (const u8 *)f->eip;
    faults++;
    f->eax = 0xde00de00;
    f->edx = 0xde00de00 | faults;
    f->eip += (p[0] == 0x66 ? 1 : 0) + 2;
}

static u32 total = HASH_INIT;

static void run_op(const struct op *o)
{
    u32 hr = HASH_INIT, hf = HASH_INIT, n = 0, before = faults;
    for (u32 fi = 0; fi < 2; fi++) {
        u32 fl = fi ? 0x002 | F_ARITH : 0x002;
        for (u32 h = 0; h < (o->is_div ? NHIGHS : 1); h++)
            for (u32 i = 0; i < NVALS; i++)
                for (u32 j = 0; j < NVALS; j++) {
                    struct res r = o->f(vals[i], o->is_div ? highs[h] : 0x5555aaaa, vals[j], fl);
                    hr = hash32(hash32(hr, r.eax), r.edx);
                    hf = hash32(hf, r.fl & (o->is_div ? 0 : F_CF | F_OF));
                    n++;
                }
    }
    struct res s1 = o->f(0x7fffffff, 0, 0x10, 0x002);
    struct res s2 = o->f(0x80000001, 0xffffffff, 0xfffffffd, 0x002);
    u32 m = o->is_div ? 0 : F_CF | F_OF;
    printf("%-13s n=%5u de=%4u edx:eax=%08x fl=%08x  s1=%08x:%08x/%03x s2=%08x:%08x/%03x\n", o->name, n,
           faults - before, hr, hf, s1.edx, s1.eax, s1.fl & m, s2.edx, s2.eax, s2.fl & m);
    total = hash32(hash32(total, hr), hf);
}

/* The two explicit faults: the handler prints where it happened and resumes at the label after. */
static volatile u32 resume_at;

static void de_report(struct frame *f)
{
    printf("#DE at eip %08x (error code %u), resuming at %08x\n", f->eip, f->error_code, resume_at);
    f->eip = resume_at;
    f->eax = 0x0bad0bad;
}

static void explicit_faults(void)
{
    u32 eax;
    idt_set_handler(0, de_report);
    __asm__ volatile("movl $1f, %[res]\n\t"
                     "mov $1234, %%eax\n\txor %%edx, %%edx\n\txor %%ecx, %%ecx\n\t"
                     ".globl div_by_zero\ndiv_by_zero:\n\tdivl %%ecx\n1:"
                     : "=a"(eax), [res] "=m"(resume_at)
                     :
                     : "ecx", "edx", "cc");
    printf("after div by zero: eax=%08x\n", eax);
    __asm__ volatile("movl $1f, %[res]\n\t"
                     "mov $0x80000000, %%eax\n\tcdq\n\tmov $-1, %%ecx\n\t"
                     ".globl idiv_overflow\nidiv_overflow:\n\tidivl %%ecx\n1:"
                     : "=a"(eax), [res] "=m"(resume_at)
                     :
                     : "ecx", "edx", "cc");
    printf("after idiv overflow: eax=%08x\n", eax);
    __asm__ volatile("movl $1f, %[res]\n\t"
                     "mov $0x8000, %%ax\n\tmov $0xff, %%cl\n\t"
                     "idivb %%cl\n1:"
                     : "=a"(eax), [res] "=m"(resume_at)
                     :
                     : "ecx", "cc");
    printf("after idivb overflow: eax=%08x\n", eax);
}

int main(void)
{
    gdt_install();
    idt_install();
    idt_set_handler(0, de_skip);
    for (u32 i = 0; i < sizeof ops / sizeof ops[0]; i++)
        run_op(&ops[i]);
    printf("muldiv checksum %08x, %u faults in the sweep\n", total, faults);
    explicit_faults();
    return 0;
}
