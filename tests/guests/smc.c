/* smc: self-modifying code (Intel SDM Vol. 3A, 8.1.3): a store to code that has already run, or
 * that is about to run in the same translation block, must take effect before that code runs
 * again. Covers: generating a function in a data buffer, patching its immediate and calling it
 * again; patching the very next instruction; and a loop that rewrites its own immediate on each
 * iteration. */
#include "libc.h"

static u8 code[64] __attribute__((aligned(16)));

static u32 call_code(void)
{
    u32 r;
    __asm__ volatile("call *%1" : "=a"(r) : "r"(code) : "memory", "ecx", "edx", "cc");
    return r;
}

static void generated(void)
{
    /* mov $imm32, %eax; ret */
    code[0] = 0xb8;
    *(u32 *)&code[1] = 0x11111111;
    code[5] = 0xc3;
    u32 a = call_code();
    *(u32 *)&code[1] = 0x22222222;
    u32 b = call_code();
    /* add $imm8, %eax in front: 83 c0 ib, then the same mov/ret moved down */
    code[0] = 0x31, code[1] = 0xc0;            /* xor %eax, %eax */
    code[2] = 0x83, code[3] = 0xc0, code[4] = 0x05; /* add $5, %eax */
    code[5] = 0xc3;
    u32 c = call_code();
    code[4] = 0x7f;
    u32 d = call_code();
    printf("generated: %08x %08x %08x %08x\n", a, b, c, d);
}

static void next_instruction(void)
{
    u32 r;
    __asm__ volatile("movb $0x42, 1f+1\n\t"
                     "1: mov $0x00, %%al\n\t"
                     "movzbl %%al, %0"
                     : "=r"(r)
                     :
                     : "eax", "memory");
    u32 s;
    __asm__ volatile("movl $0xfeedface, 2f+1\n\t"
                     "nop\n\tnop\n\t"
                     "2: mov $0x0, %0"
                     : "=r"(s)
                     :
                     : "memory");
    printf("next instruction: al=%02x eax=%08x\n", r, s);
}

static void self_patching_loop(void)
{
    u32 sum = 0, i;
    for (i = 0; i < 8; i++) {
        u32 v;
        __asm__ volatile("3: mov $0x0, %0\n\t"
                         "lea 1(%0), %%ecx\n\t"
                         "mov %%ecx, 3b+1"
                         : "=r"(v)
                         :
                         : "ecx", "memory");
        sum = sum * 3 + v;
    }
    printf("self-patching loop: sum=%u\n", sum);
}

int main(void)
{
    generated();
    next_instruction();
    self_patching_loop();
    return 0;
}
