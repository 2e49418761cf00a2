//! The PVH entry: from 32-bit protected mode to 64-bit Rust, with W^X page tables.
//!
//! `qemu-system-x86_64 -kernel` reads the entry address from the ELF note "Xen", type 18
//! (XEN_ELFNOTE_PHYS32_ENTRY), and jumps there in 32-bit protected mode with flat segments, paging
//! off and the physical address of the `hvm_start_info` in ebx. The stub maps the first GiB with
//! 2 MiB pages (Intel SDM Vol. 3A §4.5, 4-level paging):
//! - identity, page 0 (the image's code, below 2 MiB): read-only, executable;
//! - identity, every other page: writable, not executable (XD, bit 63, with EFER.NXE);
//! - [`EXEC_ALIAS`] higher, the JIT code region's pages only (`__jit_start..__jit_end` from
//!   link.ld): read-only, executable: where JIT code runs while it is written through the identity
//!   view. CR0.WP makes read-only pages read-only for ring 0 too (§4.6.1).
//!
//! Then it enables PAE, long mode (EFER.LME) and paging, loads a 64-bit GDT, enables SSE (CR0.MP,
//! CR4.OSFXSR and OSXMMEXCPT, CR0.EM clear) and calls `metal_main(start_info)` on a 1 MiB stack
//! (§10.8.5 "Initializing IA-32e Mode"). Without an IDT any fault triple-faults the machine.

/// Distance from the JIT code region's writable (identity) view to its executable view.
pub const EXEC_ALIAS: usize = 1 << 30;

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
    /* PML4[0] -> PDPT; PDPT[0] -> boot_pd (identity); PDPT[{alias_slot}] -> boot_pd_exec (alias) */
    mov $boot_pdpt + 3, %eax
    mov %eax, boot_pml4
    mov $boot_pd + 3, %eax
    mov %eax, boot_pdpt
    mov $boot_pd_exec + 3, %eax
    mov %eax, boot_pdpt + 8 * {alias_slot}
    /* boot_pd[0] = 0: present, page size (0x81); boot_pd[i] = i * 2 MiB: present, writable,
       page size (0x83), XD */
    movl $0x81, boot_pd
    mov $1, %ecx
1:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax
    mov %eax, boot_pd(, %ecx, 8)
    movl $0x80000000, boot_pd + 4(, %ecx, 8)
    inc %ecx
    cmp $512, %ecx
    jne 1b
    /* boot_pd_exec[a >> 21] = a: present, page size (0x81), for each 2 MiB page a of the JIT
       region */
    mov $__jit_start, %eax
2:  cmp $__jit_end, %eax
    jae 3f
    mov %eax, %ecx
    shr $21, %ecx
    mov %eax, %edx
    or $0x81, %edx
    mov %edx, boot_pd_exec(, %ecx, 8)
    add $0x200000, %eax
    jmp 2b
3:  mov $boot_pml4, %eax
    mov %eax, %cr3
    /* CR4: PAE (bit 5), OSFXSR (bit 9), OSXMMEXCPT (bit 10) */
    mov %cr4, %eax
    or $0x620, %eax
    mov %eax, %cr4
    /* EFER: LME (bit 8), NXE (bit 11) */
    mov $0xc0000080, %ecx
    rdmsr
    or $0x900, %eax
    wrmsr
    /* CR0: PG (bit 31), WP (bit 16), MP (bit 1), PE (bit 0); EM (bit 2) clear */
    mov %cr0, %eax
    and $~0x4, %eax
    or $0x80010003, %eax
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
    mov %ebx, %edi
    call metal_main
4:  hlt
    jmp 4b

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
boot_pd_exec:
    .skip 4096
boot_stack:
    .skip 1 << 20
boot_stack_top:
"#,
    alias_slot = const EXEC_ALIAS >> 30,
    options(att_syntax)
);
