/* Call/return and indirect-branch heavy: recursion (fib, Ackermann), calls through a table of
 * function pointers, and a bytecode interpreter dispatching through a switch jump table. */
#include "../plat/plat.h"

__attribute__((noinline)) static u32 fib(u32 n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

__attribute__((noinline)) static u32 ack(u32 m, u32 n)
{
    if (m == 0)
        return n + 1;
    if (n == 0)
        return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}

typedef u32 (*op_fn)(u32, u32);
__attribute__((noinline)) static u32 op_add(u32 a, u32 b) { return a + b; }
__attribute__((noinline)) static u32 op_sub(u32 a, u32 b) { return a - b; }
__attribute__((noinline)) static u32 op_xor(u32 a, u32 b) { return a ^ b; }
__attribute__((noinline)) static u32 op_rol(u32 a, u32 b) { return (a << (b & 31)) | (a >> (-b & 31)); }
__attribute__((noinline)) static u32 op_mul(u32 a, u32 b) { return a * (b | 1); }
__attribute__((noinline)) static u32 op_mix(u32 a, u32 b) { return (a >> 3) ^ (b << 2) ^ 0x9e3779b9u; }
__attribute__((noinline)) static u32 op_and(u32 a, u32 b) { return (a & b) + 7; }
__attribute__((noinline)) static u32 op_or(u32 a, u32 b) { return (a | b) - 3; }

/* volatile: the table is read at every call, so the calls stay indirect. */
static op_fn volatile ops[8] = {op_add, op_sub, op_xor, op_rol, op_mul, op_mix, op_and, op_or};

static u32 part_fnptr(u32 rounds)
{
    u32 seed = 31337, acc = 1;
    for (u32 r = 0; r < rounds; r++) {
        u32 x = rng_next(&seed);
        acc = ops[x & 7](acc, x >> 8);
        acc = ops[(x >> 3) & 7](acc, r);
    }
    return acc;
}

/* A stack machine. Opcodes 0..11; the program computes a loop of mixed arithmetic. */
enum { PUSH, ADD, SUB, MUL, XOR, DUP, SWAP, DROP, JNZ, DEC, SHL, HALT };

static const u32 program[] = {
    PUSH, 0,                /* acc */
    PUSH, 0,                /* counter (set per run) */
    /* index 4, loop: stack is (acc counter) */
    SWAP,
    PUSH, 2654435761u, MUL,
    PUSH, 13, XOR,
    DUP, PUSH, 5, SHL, ADD,
    SWAP,
    DEC,
    DUP, JNZ, 4,
    DROP,
    HALT,
};

__attribute__((noinline)) static u32 vm_run(const u32 *code, u32 count)
{
    u32 stack[32];
    u32 sp = 0, pc = 0;
    for (;;) {
        u32 op = code[pc++];
        switch (op) {
        case PUSH: stack[sp++] = code[pc++]; break;
        case ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
        case XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
        case DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case SWAP: { u32 t = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = t; } break;
        case DROP: sp--; break;
        case JNZ: sp--; if (stack[sp]) pc = code[pc]; else pc++; break;
        case DEC: stack[sp - 1]--; break;
        case SHL: sp--; stack[sp - 1] <<= (stack[sp] & 31); break;
        case HALT: return stack[sp - 1] + count;
        default: return 0xdeadbeef;
        }
        sp &= 31;
    }
}

static u32 part_vm(u32 rounds, u32 iters)
{
    u32 code[sizeof program / sizeof program[0]];
    u32 h = 0;
    memcpy(code, program, sizeof code);
    for (u32 r = 0; r < rounds; r++) {
        code[1] = r;
        code[3] = iters;
        h = h * 3 + vm_run(code, r);
    }
    return h;
}

int main(void)
{
    u32 sum = 0, v;
    v = 0;
    for (u32 r = 0; r < SCALE; r++)
        v += fib(24 + (r & 1));
    put_part("fib", v);
    sum = v;
    v = 0;
    for (u32 r = 0; r < SCALE; r++)
        v += ack(2, 300 + r % 5);
    put_part("ack", v);
    sum = sum * 5 + v;
    v = part_fnptr(300000 * SCALE);
    put_part("fnptr", v);
    sum = sum * 5 + v;
    v = part_vm(4 * SCALE, 10000);
    put_part("vm", v);
    sum = sum * 5 + v;
    put_checksum(sum);
    return 0;
}
