//! The PVH entry: from 32-bit protected mode to 64-bit Rust.
//!
//! `qemu-system-x86_64 -kernel` reads the entry address from the ELF note "Xen", type 18
//! (XEN_ELFNOTE_PHYS32_ENTRY), and jumps there in 32-bit protected mode with flat segments and
//! paging off. The stub identity-maps the first GiB with 2 MiB pages (present, writable, and
//! executable: EFER.NXE stays clear, so the JIT's static code region runs where it is written),
//! enables PAE, long mode (EFER.LME) and paging, loads a 64-bit GDT, enables SSE (CR0.MP, CR4.OSFXSR
//! and OSXMMEXCPT, CR0.EM clear) and calls `metal_main` on a 1 MiB stack (Intel SDM Vol. 3A §10.8.5
//! "Initializing IA-32e Mode", §4.5 4-level paging, §2.5 control registers).

core::arch::global_asm!(
    r#"
    .section .note.Xen, "a", @note
    .balign 4
    .long 4                 /* name size: "Xen\0" */
    .long 8                 /* descriptor size */
    .long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .balign 4
    .quad pvh_start

    .section .text.boot, "ax"
    .code32
    .global pvh_start
pvh_start:
    cli
    /* PML4[0] -> PDPT, PDPT[0] -> PD, PD[i] -> i * 2 MiB (present, writable, page size) */
    mov $boot_pdpt + 3, %eax
    mov %eax, boot_pml4
    mov $boot_pd + 3, %eax
    mov %eax, boot_pdpt
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax
    mov %eax, boot_pd(, %ecx, 8)
    movl $0, boot_pd + 4(, %ecx, 8)
    inc %ecx
    cmp $512, %ecx
    jne 1b
    mov $boot_pml4, %eax
    mov %eax, %cr3
    /* CR4: PAE (bit 5), OSFXSR (bit 9), OSXMMEXCPT (bit 10) */
    mov %cr4, %eax
    or $0x620, %eax
    mov %eax, %cr4
    /* EFER.LME (bit 8) */
    mov $0xc0000080, %ecx
    rdmsr
    or $0x100, %eax
    wrmsr
    /* CR0: PG (bit 31), MP (bit 1), PE (bit 0); EM (bit 2) clear */
    mov %cr0, %eax
    and $~0x4, %eax
    or $0x80000003, %eax
    mov %eax, %cr0
    lgdt boot_gdt_ptr
    ljmp $8, $boot_long_mode

    .code64
boot_long_mode:
    mov $16, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    mov $boot_stack_top, %rsp
    call metal_main
2:  hlt
    jmp 2b

    .section .rodata.boot, "a"
    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff    /* 0x08: 64-bit code, DPL 0 */
    .quad 0x00cf92000000ffff    /* 0x10: data */
boot_gdt_ptr:
    .word boot_gdt_ptr - boot_gdt - 1
    .long boot_gdt

    .section .bss.boot, "aw", @nobits
    .balign 4096
boot_pml4:
    .skip 4096
boot_pdpt:
    .skip 4096
boot_pd:
    .skip 4096
boot_stack:
    .skip 1 << 20
boot_stack_top:
"#,
    options(att_syntax)
);
