/* inc_loop: the loop of the TCG walkthrough. Counts eax up to 10, prints it, exits 0 if it is 10. */
    .section .rodata
fmt: .asciz "inc_loop: eax=%u\n"

    .text
    .globl main
main:
    mov $0, %eax
1:  inc %eax
    cmp $0xa, %eax
    jne 1b
    push %eax
    push %eax
    push $fmt
    call printf
    add $8, %esp
    pop %eax
    sub $10, %eax          /* 0 = pass */
    ret
