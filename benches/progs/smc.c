/* Self-modifying code: a loop whose body adds a 32-bit immediate is run N iterations at a time;
 * between runs the immediate is rewritten in place, so every engine must notice the store to
 * translated code. The loop lives alone on its own writable page (section .smc), as a JIT's
 * generated code would. */
#include "../plat/plat.h"

#define INNER 2000

/* u32 smc_loop(u32 n, u32 acc): acc = rol(acc + IMM, 5) ^ i, for i = n..1. */
__asm__(
    "    .section .smc, \"awx\", @progbits\n"
    "    .p2align 12\n"
    "    .globl smc_loop, smc_imm\n"
    "smc_loop:\n"
    "    movl 4(%esp), %ecx\n"
    "    movl 8(%esp), %eax\n"
    "1:  .byte 0x05\n" /* add $imm32, %eax */
    "smc_imm:\n"
    "    .long 0\n"
    "    roll $5, %eax\n"
    "    xorl %ecx, %eax\n"
    "    decl %ecx\n"
    "    jnz 1b\n"
    "    ret\n"
    "    .p2align 12\n"
    "    .text\n");

u32 smc_loop(u32 n, u32 acc);
extern u8 smc_imm[];

int main(void)
{
    u32 acc = 1;
    u32 rounds = 150 * SCALE;
    for (u32 r = 0; r < rounds; r++) {
        /* A volatile store, so the compiler keeps it ahead of the call. */
        *(volatile u32 *)smc_imm = r * 0x9e3779b9u + 1;
        acc = smc_loop(INNER, acc);
    }
    put_part("rounds", rounds);
    put_checksum(acc);
    return 0;
}
