/* Entry of the native build: align the stack, main(), plat_exit(). */
    .text
    .globl _start
_start:
    xorl %ebp, %ebp
    andl $-16, %esp
    call main
    call plat_exit
