/* stack: PUSH/POP (register, immediate, memory, 16-bit), PUSHA/POPA, PUSHF/POPF, CALL/RET (direct,
 * register- and memory-indirect), RET imm16, ENTER (nesting levels 0, 1, 3)/LEAVE, and recursion.
 * The transcript shows ESP deltas and the words found on the stack. */
#include "libc.h"

static u32 slot = 0x5a5a5a5a;

static void push_pop(void)
{
    u32 w[6], d, e;
    __asm__ volatile("mov %%esp, %[d]\n\t"
                     "push $-3\n\tpush $0x12345678\n\tpushl %[slot]\n\tpushw $0x7788\n\tpush %%esp\n\t"
                     "pushw %%cs\n\t"
                     "popw %%ax\n\tmovzwl %%ax, %%eax\n\tmov %%eax, 20(%[w])\n\t"
                     "pop %%eax\n\tsub %%esp, %%eax\n\tmov %%eax, 16(%[w])\n\t"
                     "popw %%ax\n\tmovzwl %%ax, %%eax\n\tmov %%eax, 12(%[w])\n\t"
                     "popl %[slot]\n\t"
                     "pop %%eax\n\tmov %%eax, 4(%[w])\n\t"
                     "pop %%eax\n\tmov %%eax, 0(%[w])\n\t"
                     "mov %%esp, %[e]\n\t"
                     : [d] "=&r"(d), [e] "=&r"(e), [slot] "+m"(slot)
                     : [w] "r"(w)
                     : "eax", "memory");
    w[2] = slot;
    printf("push/pop: %08x %08x %08x %04x esp-slot=%d cs-read=%s esp delta=%d\n", w[0], w[1], w[2], w[3],
           (i32)w[4], w[5] ? "nonzero" : "zero", (i32)(e - d));
}

u32 pa_saved[8], pa_after[8], pa_esp;

static void pusha_popa(void)
{
    __asm__ volatile("push %%ebp\n\t"
                     "mov %%esp, pa_esp\n\t"
                     "mov $0x11111111, %%eax\n\tmov $0x22222222, %%ecx\n\tmov $0x33333333, %%edx\n\t"
                     "mov $0x44444444, %%ebx\n\tmov $0x55555555, %%ebp\n\tmov $0x66666666, %%esi\n\t"
                     "mov $0x77777777, %%edi\n\t"
                     "pusha\n\t"
                     "mov $0, %%ecx\n\t"
                     "1:\tmov (%%esp,%%ecx,4), %%eax\n\tmov %%eax, pa_saved(,%%ecx,4)\n\tinc %%ecx\n\tcmp $8, %%ecx\n\tjne 1b\n\t"
                     "movl $0xaaaaaaaa, 0(%%esp)\n\tmovl $0xbbbbbbbb, 4(%%esp)\n\tmovl $0xcccccccc, 8(%%esp)\n\t"
                     "movl $0xdddddddd, 12(%%esp)\n\tmovl $0xeeeeeeee, 28(%%esp)\n\t"
                     "popa\n\t"
                     "mov %%eax, pa_after+0\n\tmov %%ecx, pa_after+4\n\tmov %%edx, pa_after+8\n\t"
                     "mov %%ebx, pa_after+12\n\tmov %%esp, pa_after+16\n\tmov %%ebp, pa_after+20\n\t"
                     "mov %%esi, pa_after+24\n\tmov %%edi, pa_after+28\n\t"
                     "pop %%ebp"
                     :
                     :
                     : "eax", "ecx", "edx", "ebx", "esi", "edi", "memory", "cc");
    printf("pusha: edi=%08x esi=%08x ebp=%08x esp=entry%d ebx=%08x edx=%08x ecx=%08x eax=%08x\n", pa_saved[0],
           pa_saved[1], pa_saved[2], (i32)(pa_saved[3] - pa_esp), pa_saved[4], pa_saved[5], pa_saved[6],
           pa_saved[7]);
    printf("popa: eax=%08x ecx=%08x edx=%08x ebx=%08x esp=entry%d ebp=%08x esi=%08x edi=%08x\n", pa_after[0],
           pa_after[1], pa_after[2], pa_after[3], (i32)(pa_after[4] - pa_esp), pa_after[5], pa_after[6],
           pa_after[7]);
}

static void pushf_popf(void)
{
    u32 a, b, c;
    __asm__ volatile("pushf\n\tpop %[a]\n\t"
                     "push $0x8d7\n\tpopf\n\tpushf\n\tpop %[b]\n\t"
                     "pushw $0x0046\n\tpopfw\n\tpushfw\n\tpopw %w[c]\n\tmovzwl %w[c], %[c]\n\t"
                     "push $2\n\tpopf"
                     : [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c)
                     :
                     : "cc");
    printf("pushf/popf: entry=%08x after popf 0x8d7=%08x popfw 0x46=%04x\n", a & ~0x200u & ~0x10000u & 0xfffff,
           b, c);
}

/* Callees for the call/ret forms, in assembly so their stack use is exact. */
__asm__(".text\n"
        "callee_plain: mov $0x1001, %eax\n\tret\n"
        "callee_pop8: mov 4(%esp), %eax\n\tadd 8(%esp), %eax\n\tret $8\n"
        "callee_retaddr: mov (%esp), %eax\n\tret\n"
        "fib_asm: cmp $2, %eax\n\tjb 1f\n\tpush %eax\n\tdec %eax\n\tcall fib_asm\n\t"
        "xchg %eax, (%esp)\n\tsub $2, %eax\n\tcall fib_asm\n\tpop %ecx\n\tadd %ecx, %eax\n1:\tret\n");

static u32 (*volatile fnptr)(void);

static void calls(void)
{
    u32 a, b, c, d, e, r, esp0, esp1;
    __asm__ volatile("mov %%esp, %[s0]\n\t"
                     "call callee_plain\n\tmov %%eax, %[a]\n\t"
                     "push $0x20\n\tpush $0x300\n\tcall callee_pop8\n\tmov %%eax, %[b]\n\t"
                     "call callee_retaddr\n2:\tsub $2b, %%eax\n\tmov %%eax, %[c]\n\t"
                     "mov $callee_plain, %%ecx\n\tcall *%%ecx\n\tadd $1, %%eax\n\tmov %%eax, %[d]\n\t"
                     "call *%[fp]\n\tadd $2, %%eax\n\tmov %%eax, %[e]\n\t"
                     "mov $9, %%eax\n\tcall fib_asm\n\tmov %%eax, %[r]\n\t"
                     "mov %%esp, %[s1]"
                     : [a] "=m"(a), [b] "=m"(b), [c] "=m"(c), [d] "=m"(d), [e] "=m"(e), [r] "=m"(r),
                       [s0] "=m"(esp0), [s1] "=m"(esp1)
                     : [fp] "m"(fnptr)
                     : "eax", "ecx", "edx", "memory", "cc");
    printf("call/ret: plain=%x ret8=%x retaddr-label=%d via-reg=%x via-mem=%x fib_asm(9)=%u esp delta=%d\n", a, b,
           c, d, e, r, (i32)(esp1 - esp0));
}

static void enter_leave(void)
{
    u32 r[9];
    __asm__ volatile("push %%ebp\n\t"
                     "mov %%esp, %%ebp\n\t"
                     "mov %%esp, %%edx\n\t"
                     "enter $16, $0\n\t"
                     "mov %%edx, %%eax\n\tsub %%esp, %%eax\n\tmov %%eax, 0(%[r])\n\t"
                     "mov %%edx, %%eax\n\tsub %%ebp, %%eax\n\tmov %%eax, 4(%[r])\n\t"
                     "leave\n\t"
                     "mov %%edx, %%eax\n\tsub %%esp, %%eax\n\tmov %%eax, 8(%[r])\n\t"
                     "movl $0xfeedf00d, -4(%%ebp)\n\t"
                     "enter $8, $1\n\t"
                     "mov %%edx, %%eax\n\tsub %%esp, %%eax\n\tmov %%eax, 12(%[r])\n\t"
                     "mov -4(%%ebp), %%eax\n\tsub %%edx, %%eax\n\tmov %%eax, 16(%[r])\n\t"
                     "leave\n\t"
                     "push %%ebp\n\t"
                     "enter $4, $3\n\t"
                     "mov %%edx, %%eax\n\tsub %%esp, %%eax\n\tmov %%eax, 20(%[r])\n\t"
                     "mov -4(%%ebp), %%eax\n\tmov %%eax, 24(%[r])\n\t"
                     "mov -8(%%ebp), %%eax\n\tmov %%eax, 28(%[r])\n\t"
                     "leave\n\t"
                     "pop %%ebp\n\t"
                     "mov %%edx, %%eax\n\tsub %%esp, %%eax\n\tmov %%eax, 32(%[r])\n\t"
                     "pop %%ebp"
                     :
                     : [r] "r"(r)
                     : "eax", "edx", "memory", "cc");
    printf("enter/leave: e0 esp=-%u ebp=-%u leave=-%u e1 esp=-%u frame=%d e3 esp=-%u ptr1=%08x ptr2=%08x end=-%u\n",
           r[0], r[1], r[2], r[3], (i32)r[4], r[5], r[6], r[7], r[8]);
}

__attribute__((noinline)) static u32 fib(u32 n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

__attribute__((noinline)) static u32 ackermann(u32 m, u32 n)
{
    if (m == 0)
        return n + 1;
    if (n == 0)
        return ackermann(m - 1, 1);
    return ackermann(m - 1, ackermann(m, n - 1));
}

int main(void)
{
    fnptr = 0;
    __asm__ volatile("movl $callee_plain, %0" : "=m"(fnptr));
    push_pop();
    pusha_popa();
    pushf_popf();
    calls();
    enter_leave();
    u32 f = fib(20), a = ackermann(2, 3);
    printf("fib(20)=%u ackermann(2,3)=%u\n", f, a);
    return f == 6765 && a == 9 ? 0 : 1;
}
