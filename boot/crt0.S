/* Multiboot v1 entry for the guest kernels.
 *
 * The loader (QEMU's -kernel, or tcg86's) enters _start in 32-bit protected mode with flat
 * segments, paging off and interrupts disabled (Multiboot Specification 0.6.96, section 3.2).
 * _start sets up a stack, clears DF and calls main(); main's return value is the exit value
 * written to isa-debug-exit (port 0xf4). No GDT is loaded here: kernels that need one load
 * their own, so the simplest kernels need the fewest instructions. */

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000000

    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .section .text.start, "ax"
    .globl _start
_start:
    mov $stack_top, %esp
    cld
    call main
    push %eax
    call exit
1:  hlt
    jmp 1b

    .section .bss
    .align 16
stack_bottom:
    .skip 65536
    .globl stack_top
stack_top:
