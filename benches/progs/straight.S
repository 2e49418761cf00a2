/* Translation cost: STRAIGHT_N distinct guest instructions of straight-line code (no loops), run
 * once, then the checksum of the registers. Timed against the empty kernel, the difference is
 * dominated by translating each instruction once. */
#ifndef STRAIGHT_N
#define STRAIGHT_N 100000
#endif

    .text
    .globl main
main:
    pushl %ebx
    pushl %esi
    pushl %edi
    pushl %ebp
    xorl %eax, %eax
    xorl %ebx, %ebx
    xorl %ecx, %ecx
    xorl %edx, %edx
    movl $straight_data, %esi
    .set k, 0
    .rept STRAIGHT_N / 8
    addl $(k * 2654435761 & 0xffffffff), %eax
    xorl %eax, %ebx
    leal 7(%ebx,%eax,2), %ecx
    subl %ecx, %edx
    roll $3, %ebx
    movl (k & 63) * 4(%esi), %edi
    addl %edi, %edx
    movl %edx, (k & 63) * 4(%esi)
    .set k, k + 1
    .endr
    xorl %ebx, %eax
    xorl %ecx, %eax
    xorl %edx, %eax
    pushl %eax
    call put_checksum
    addl $4, %esp
    popl %ebp
    popl %edi
    popl %esi
    popl %ebx
    xorl %eax, %eax
    ret

    .data
    .p2align 6
straight_data:
    .fill 64, 4, 0
