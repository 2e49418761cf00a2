/* Interrupt entry stubs. Each stub pushes a dummy error code when the CPU does not push one
 * (Intel SDM Vol. 3A, 6.13: vectors 8, 10-14, 17 and 21 push one), then its vector number,
 * saves the general registers with pusha and calls isr_dispatch(struct frame *). On return the
 * (possibly modified) registers are restored and iret resumes at frame->eip. */

    .text
isr_common:
    pusha
    push %esp
    call isr_dispatch
    add $4, %esp
    popa
    add $8, %esp
    iret

.macro stub vec
    .align 4
isr_\vec:
    .if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21)
    .else
    push $0
    .endif
    push $\vec
    jmp isr_common
.endm

.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    stub \v
.endr
.irp v, 48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
    stub \v
.endr

    .section .rodata
    .align 4
    .globl isr_stub_table
isr_stub_table:
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .long isr_\v
.endr
.irp v, 48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
    .long isr_\v
.endr
