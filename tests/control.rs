//! Control-flow and stack instructions in guest code: push/pop of every operand kind, pusha/popa,
//! pushf/popf, enter/leave, call and ret imm16, loop/loope/loopne, jecxz, indirect jumps and calls
//! through memory, 16-bit operand-size push/pop.

mod common;
use common::*;

/// ```text
/// push $0x12345678
/// push $-2
/// pop %eax
/// pop %ebx
/// movl $0xcafe, 0x1000
/// pushl 0x1000
/// popl 0x1004
/// push $0x77
/// popl 4(%esp)
/// mov %esp, %ecx
/// push %esp
/// pop %edx
/// out %al, $0xf4
/// ```
#[rustfmt::skip]
const PUSH_POP: &[u8] = &[
    0x68, 0x78, 0x56, 0x34, 0x12, 0x6a, 0xfe, 0x58, 0x5b, 0xc7, 0x05, 0x00, 0x10, 0x00, 0x00, 0xfe,
    0xca, 0x00, 0x00, 0xff, 0x35, 0x00, 0x10, 0x00, 0x00, 0x8f, 0x05, 0x04, 0x10, 0x00, 0x00, 0x6a,
    0x77, 0x8f, 0x44, 0x24, 0x04, 0x89, 0xe1, 0x54, 0x5a, 0xe6, 0xf4,
];

#[test]
fn push_pop_registers_memory_immediates() {
    let (_, cpu) = run(PUSH_POP);
    assert_eq!(cpu.env.regs[EAX], 0xfffffffe);
    assert_eq!(cpu.env.regs[EBX], 0x12345678);
    assert_eq!(rd32(&cpu, 0x1004), 0xcafe);
    // pop to an ESP-based address uses ESP after the pop.
    assert_eq!(rd32(&cpu, STACK_TOP + 4), 0x77);
    // push %esp pushes the value before the push.
    assert_eq!(cpu.env.regs[EDX], cpu.env.regs[ECX]);
    assert_eq!(cpu.env.regs[ESP], STACK_TOP);
}

/// ```text
/// mov $1, %eax
/// mov $2, %ecx
/// mov $3, %edx
/// mov $4, %ebx
/// mov $6, %ebp
/// mov $7, %esi
/// mov $8, %edi
/// pusha
/// mov 12(%esp), %eax
/// mov %eax, 0x1000
/// xor %eax, %eax
/// xor %ecx, %ecx
/// xor %edx, %edx
/// xor %ebx, %ebx
/// xor %ebp, %ebp
/// xor %esi, %esi
/// xor %edi, %edi
/// popa
/// out %al, $0xf4
/// ```
#[rustfmt::skip]
const PUSHA_POPA: &[u8] = &[
    0xb8, 0x01, 0x00, 0x00, 0x00, 0xb9, 0x02, 0x00, 0x00, 0x00, 0xba, 0x03, 0x00, 0x00, 0x00, 0xbb,
    0x04, 0x00, 0x00, 0x00, 0xbd, 0x06, 0x00, 0x00, 0x00, 0xbe, 0x07, 0x00, 0x00, 0x00, 0xbf, 0x08,
    0x00, 0x00, 0x00, 0x60, 0x8b, 0x44, 0x24, 0x0c, 0xa3, 0x00, 0x10, 0x00, 0x00, 0x31, 0xc0, 0x31,
    0xc9, 0x31, 0xd2, 0x31, 0xdb, 0x31, 0xed, 0x31, 0xf6, 0x31, 0xff, 0x61, 0xe6, 0xf4,
];

#[test]
fn pusha_popa_round_trip() {
    let (r, cpu) = run(PUSHA_POPA);
    assert_eq!(r, exit_al(1));
    assert_eq!(cpu.env.regs, [1, 2, 3, 4, STACK_TOP, 6, 7, 8]);
    assert_eq!(rd32(&cpu, 0x1000), STACK_TOP, "stored ESP is the one before pusha");
    assert_eq!(rd32(&cpu, STACK_TOP - 4), 1, "EAX is pushed first");
    assert_eq!(rd32(&cpu, STACK_TOP - 32), 8, "EDI is pushed last");
}

/// ```text
/// mov $0xbbbb, %ebp
/// enter $16, $0
/// mov %ebp, %ebx
/// mov %esp, %ecx
/// leave
/// mov %esp, %edx
/// mov %ebp, %esi
/// out %al, $0xf4
/// ```
#[rustfmt::skip]
const ENTER_LEAVE: &[u8] = &[
    0xbd, 0xbb, 0xbb, 0x00, 0x00, 0xc8, 0x10, 0x00, 0x00, 0x89, 0xeb, 0x89, 0xe1, 0xc9, 0x89, 0xe2,
    0x89, 0xee, 0xe6, 0xf4,
];

#[test]
fn enter_level0_and_leave() {
    let (_, cpu) = run(ENTER_LEAVE);
    assert_eq!(cpu.env.regs[EBX], STACK_TOP - 4);
    assert_eq!(cpu.env.regs[ECX], STACK_TOP - 4 - 16);
    assert_eq!(rd32(&cpu, STACK_TOP - 4), 0xbbbb);
    assert_eq!(cpu.env.regs[EDX], STACK_TOP);
    assert_eq!(cpu.env.regs[ESI], 0xbbbb);
}

/// ```text
/// mov $0x1ff000, %ebp
/// movl $0xaaaa, 0x1feffc
/// enter $8, $2
/// out %al, $0xf4
/// ```
#[rustfmt::skip]
const ENTER_NESTED: &[u8] = &[
    0xbd, 0x00, 0xf0, 0x1f, 0x00, 0xc7, 0x05, 0xfc, 0xef, 0x1f, 0x00, 0xaa, 0xaa, 0x00, 0x00, 0xc8,
    0x08, 0x00, 0x02, 0xe6, 0xf4,
];

#[test]
fn enter_level2_copies_the_outer_frame_pointer() {
    let (_, cpu) = run(ENTER_NESTED);
    let frame = STACK_TOP - 4;
    assert_eq!(cpu.env.regs[EBP], frame);
    assert_eq!(rd32(&cpu, frame), 0x1ff000, "old EBP");
    assert_eq!(rd32(&cpu, frame - 4), 0xaaaa, "copied from old EBP - 4");
    assert_eq!(rd32(&cpu, frame - 8), frame, "the new frame pointer");
    assert_eq!(cpu.env.regs[ESP], frame - 8 - 8);
}

/// ```text
/// push $1
/// push $2
/// call f
/// mov %esp, %ebx
/// out %al, $0xf4
/// f: mov $0x42, %eax
/// ret $8
/// ```
#[rustfmt::skip]
const RET_IMM: &[u8] = &[
    0x6a, 0x01, 0x6a, 0x02, 0xe8, 0x04, 0x00, 0x00, 0x00, 0x89, 0xe3, 0xe6, 0xf4, 0xb8, 0x42, 0x00,
    0x00, 0x00, 0xc2, 0x08, 0x00,
];

#[test]
fn call_and_ret_imm16_release_parameters() {
    let (r, cpu) = run(RET_IMM);
    assert_eq!(r, exit_al(0x42));
    assert_eq!(cpu.env.regs[EBX], STACK_TOP);
}

/// ```text
/// movl $f, 0x1000
/// call *0x1000
/// mov $g, %ecx
/// jmp *%ecx
/// out %al, $0xf4
/// f: add $1, %eax
/// ret
/// g: mov $h, %edx
/// movl %edx, 0x1004
/// jmp *0x1004
/// h: add $0x10, %eax
/// out %al, $0xf4
/// ```
#[rustfmt::skip]
const INDIRECT: &[u8] = &[
    0xc7, 0x05, 0x00, 0x10, 0x00, 0x00, 0x19, 0x00, 0x10, 0x00, 0xff, 0x15, 0x00, 0x10, 0x00, 0x00,
    0xb9, 0x1d, 0x00, 0x10, 0x00, 0xff, 0xe1, 0xe6, 0xf4, 0x83, 0xc0, 0x01, 0xc3, 0xba, 0x2e, 0x00,
    0x10, 0x00, 0x89, 0x15, 0x04, 0x10, 0x00, 0x00, 0xff, 0x25, 0x04, 0x10, 0x00, 0x00, 0x83, 0xc0,
    0x10, 0xe6, 0xf4,
];

#[test]
fn indirect_call_and_jumps_through_memory_and_registers() {
    let (r, _) = run(INDIRECT);
    assert_eq!(r, exit_al(0x11));
}

/// ```text
/// xor %eax, %eax
/// mov $5, %ecx
/// 1: add $1, %eax
/// loop 1b
/// mov %eax, %ebx
/// mov $10, %ecx
/// xor %edx, %edx
/// 2: add $1, %edx
/// cmp $3, %edx
/// loopne 2b
/// mov %ecx, %esi
/// mov $10, %ecx
/// 3: cmp %eax, %eax
/// loope 3b
/// mov $0, %ecx
/// jecxz 4f
/// mov $0xee, %eax
/// 4: out %al, $0xf4
/// ```
#[rustfmt::skip]
const LOOPS: &[u8] = &[
    0x31, 0xc0, 0xb9, 0x05, 0x00, 0x00, 0x00, 0x83, 0xc0, 0x01, 0xe2, 0xfb, 0x89, 0xc3, 0xb9, 0x0a,
    0x00, 0x00, 0x00, 0x31, 0xd2, 0x83, 0xc2, 0x01, 0x83, 0xfa, 0x03, 0xe0, 0xf8, 0x89, 0xce, 0xb9,
    0x0a, 0x00, 0x00, 0x00, 0x39, 0xc0, 0xe1, 0xfc, 0xb9, 0x00, 0x00, 0x00, 0x00, 0xe3, 0x05, 0xb8,
    0xee, 0x00, 0x00, 0x00, 0xe6, 0xf4,
];

#[test]
fn loop_loopne_loope_jecxz() {
    let (r, cpu) = run(LOOPS);
    assert_eq!(r, exit_al(5));
    assert_eq!(cpu.env.regs[EBX], 5);
    assert_eq!(cpu.env.regs[EDX], 3, "loopne stops when ZF is set");
    assert_eq!(cpu.env.regs[ESI], 7);
}

/// ```text
/// mov $0x12340003, %ecx
/// xor %eax, %eax
/// 1: add $1, %eax
/// addr16 loop 1b
/// out %al, $0xf4
/// ```
#[rustfmt::skip]
const LOOP_CX: &[u8] = &[
    0xb9, 0x03, 0x00, 0x34, 0x12, 0x31, 0xc0, 0x83, 0xc0, 0x01, 0x67, 0xe2, 0xfa, 0xe6, 0xf4,
];

#[test]
fn loop_with_address_size_16_counts_cx() {
    let (r, cpu) = run(LOOP_CX);
    assert_eq!(r, exit_al(3));
    assert_eq!(cpu.env.regs[ECX], 0x12340000);
}

/// ```text
/// mov $1, %eax
/// cmp $2, %eax
/// pushf
/// pop %ebx
/// push $0x401
/// popf
/// pushf
/// pop %ecx
/// cld
/// out %al, $0xf4
/// ```
#[rustfmt::skip]
const PUSHF_POPF: &[u8] = &[
    0xb8, 0x01, 0x00, 0x00, 0x00, 0x83, 0xf8, 0x02, 0x9c, 0x5b, 0x68, 0x01, 0x04, 0x00, 0x00, 0x9d,
    0x9c, 0x59, 0xfc, 0xe6, 0xf4,
];

#[test]
fn pushf_popf() {
    let (_, cpu) = run(PUSHF_POPF);
    assert_eq!(cpu.env.regs[EBX] & (CF | SF | ZF), CF | SF);
    assert_eq!(cpu.env.regs[EBX] & 2, 2, "bit 1 always reads 1");
    assert_eq!(cpu.env.regs[ECX] & (CF | DF | ZF | SF), CF | DF);
    assert_eq!(cpu.env.df, 1, "cld after popf");
}

/// ```text
/// mov $0xffffffff, %eax
/// pushw $0x1234
/// mov %esp, %ebx
/// popw %ax
/// mov %esp, %ecx
/// out %al, $0xf4
/// ```
#[rustfmt::skip]
const PUSH16: &[u8] = &[
    0xb8, 0xff, 0xff, 0xff, 0xff, 0x66, 0x68, 0x34, 0x12, 0x89, 0xe3, 0x66, 0x58, 0x89, 0xe1, 0xe6,
    0xf4,
];

#[test]
fn operand_size_16_push_pop() {
    let (r, cpu) = run(PUSH16);
    assert_eq!(r, exit_al(0x34));
    assert_eq!(cpu.env.regs[EAX], 0xffff1234);
    assert_eq!(cpu.env.regs[EBX], STACK_TOP - 2);
    assert_eq!(cpu.env.regs[ECX], STACK_TOP);
}

/// ```text
/// push %ds
/// pop %es
/// push %fs
/// pop %eax
/// mov %ds, %ebx
/// mov %ss, 0x1000
/// out %al, $0xf4
/// ```
#[rustfmt::skip]
const SEG_PUSH_POP: &[u8] = &[
    0x1e, 0x07, 0x0f, 0xa0, 0x58, 0x8c, 0xdb, 0x8c, 0x15, 0x00, 0x10, 0x00, 0x00, 0xe6, 0xf4,
];

#[test]
fn segment_register_push_pop_and_mov() {
    let (r, cpu) = run_with(SEG_PUSH_POP, flat_gdt);
    assert_eq!(r, exit_al(0x18));
    assert_eq!(cpu.env.segs[0].selector, 0x18);
    assert_eq!(cpu.env.regs[EBX], 0x18);
    assert_eq!(rd32(&cpu, 0x1000), 0x18);
}
