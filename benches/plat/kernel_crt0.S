/* Multiboot v1 entry for the benchmark kernels: header (ELF image, so no address fields), a
 * stack in .bss, then main() and plat_exit(). Paging stays off; the boot loader's flat segments
 * and disabled interrupts are kept. */
#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00000003 /* page-align modules, memory info */

    .section .multiboot, "a"
    .p2align 2
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .text
    .globl _start
_start:
    cli
    cld
    movl $stack_top, %esp
    xorl %ebp, %ebp
    call main
    call plat_exit

    .bss
    .p2align 4
stack:
    .skip 65536
stack_top:
