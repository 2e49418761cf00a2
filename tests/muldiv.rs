//! mul, imul (all forms), div, idiv against the host CPU, and #DE delivery for divide errors and
//! `aam 0` (guest only: the host would take SIGFPE).

mod hostcmp;
use hostcmp::*;
use tcg86::exec::ExitReason;
use tcg86::softmmu::PhysAddr;

fn sweep_mul(forms: &[Vec<u8>], undef: u32) {
    let mut rng = Rng(77);
    for code in forms {
        for &a in &EDGES {
            for &b in &EDGES {
                let mut st = State::new(rng.regs(), rng.next());
                st.regs[EAX] = a;
                st.regs[ECX] = b;
                st.regs[EDX] = rng.next();
                st.mem[0x40..0x44].copy_from_slice(&b.to_le_bytes());
                check(code, &st, undef);
            }
        }
    }
}

#[test]
fn mul_and_one_operand_imul() {
    let mut forms = vec![];
    for k in [4u8, 5] {
        forms.push(vec![0xf6, modrm(3, k, 1)]); // %cl
        forms.push(vec![0xf6, modrm(3, k, 5)]); // %ch
        forms.push(vec![0xf6, modrm(3, k, 4)]); // %ah (the accumulator's own high half)
        forms.push(vec![0xf7, modrm(3, k, 1)]);
        forms.push(vec![0xf7, modrm(3, k, 0)]); // eax * eax
        forms.push(vec![0xf7, modrm(3, k, 2)]); // eax * edx
        forms.push(vec![0x66, 0xf7, modrm(3, k, 1)]);
        forms.push(vec![0xf7, modrm(0, k, 3)]);
        forms.push(vec![0xf6, modrm(0, k, 3)]);
        forms.push(vec![0x66, 0xf7, modrm(0, k, 3)]);
    }
    sweep_mul(&forms, SF | ZF | AF | PF);
}

#[test]
fn two_and_three_operand_imul() {
    let forms = vec![
        vec![0x0f, 0xaf, modrm(3, 0, 1)],
        vec![0x0f, 0xaf, modrm(3, 0, 0)],
        vec![0x66, 0x0f, 0xaf, modrm(3, 0, 1)],
        vec![0x0f, 0xaf, modrm(0, 1, 3)],
        vec![0x6b, modrm(3, 0, 1), 0x80],
        vec![0x6b, modrm(3, 2, 1), 0x7f],
        vec![0x66, 0x6b, modrm(3, 0, 1), 0xff],
        vec![0x69, modrm(3, 0, 1), 0x01, 0x00, 0x01, 0x80],
        vec![0x66, 0x69, modrm(0, 0, 3), 0x34, 0x92],
    ];
    sweep_mul(&forms, SF | ZF | AF | PF);
}

/// Whether a division would raise #DE (so it cannot run on the host).
fn div_faults(st: &State, size: u32, signed: bool) -> bool {
    let r = &st.regs;
    let dividend = match size {
        0 => r[EAX] as u64 & 0xffff,
        1 => (r[EDX] as u64 & 0xffff) << 16 | (r[EAX] as u64 & 0xffff),
        _ => (r[EDX] as u64) << 32 | r[EAX] as u64,
    };
    tcg86::frontend::helpers::alu::divide(dividend, r[ECX], size, signed).is_none()
}

#[test]
fn div_idiv_without_fault() {
    let mut rng = Rng(1);
    let mut ran = 0;
    for (k, signed) in [(6u8, false), (7, true)] {
        let forms =
            [(vec![0xf6, modrm(3, k, 1)], 0), (vec![0x66, 0xf7, modrm(3, k, 1)], 1), (vec![0xf7, modrm(3, k, 1)], 2)];
        for (code, size) in forms {
            for &a in &EDGES {
                for &b in &EDGES {
                    for &d in &[0u32, 1, 0xffff_ffff, 0x7f, 0x8000_0000] {
                        let mut st = State::new(rng.regs(), 0);
                        st.regs[EAX] = a;
                        st.regs[ECX] = b;
                        st.regs[EDX] = d;
                        if !div_faults(&st, size, signed) {
                            check(&code, &st, ARITH);
                            ran += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(ran > 1000, "{}", ran);
}

/// A guest with a GDT and an IDT whose vectors 0 (#DE) and 6 (#UD) lead to `hlt` at
/// HANDLER + 16 * vector; returns the exit, the vector taken, the faulting eip pushed, and the
/// registers.
fn run_with_idt(code: &[u8], st: &State) -> (ExitReason, u32, u32, [u32; 8]) {
    const GDT: u32 = 0x1000;
    const IDT: u32 = 0x2000;
    const HANDLER: u32 = 0x0010_1000;
    let mut cpu = guest_cpu(code, st);
    let gdt_code: u64 = 0x00cf_9b00_0000_ffff;
    cpu.mem.load(PhysAddr(GDT + 0x10), &gdt_code.to_le_bytes()).unwrap();
    for v in 0..8u32 {
        let off = HANDLER + 16 * v;
        let lo = (0x10 << 16) | (off & 0xffff);
        let hi = (off & 0xffff_0000) | 0x8e00;
        cpu.mem.load(PhysAddr(IDT + 8 * v), &lo.to_le_bytes()).unwrap();
        cpu.mem.load(PhysAddr(IDT + 8 * v + 4), &hi.to_le_bytes()).unwrap();
        cpu.mem.load(PhysAddr(off), &[0xf4]).unwrap();
    }
    cpu.env.gdt.base = GDT;
    cpu.env.gdt.limit = 0x1f;
    cpu.env.idt.base = IDT;
    cpu.env.idt.limit = 8 * 8 - 1;
    let (r, cpu) = run_cpu(cpu);
    let vector = (cpu.env.eip.wrapping_sub(1).wrapping_sub(HANDLER)) / 16;
    let pushed = cpu.mem.read(PhysAddr(cpu.env.regs[ESP]), 4);
    (r, vector, pushed, cpu.env.regs)
}

#[test]
fn divide_errors_raise_de_before_writing() {
    let cases: [(&[u8], u32, u32, u32); 8] = [
        (&[0xf7, 0xf1], 5, 0, 0),                     // div %ecx by 0
        (&[0xf6, 0xf1], 0x1234, 0, 0x10),             // divb: quotient 0x123 > 0xff
        (&[0x66, 0xf7, 0xf1], 0, 0x1, 0x1),           // divw: 0x10000 / 1
        (&[0xf7, 0xf9], 0, 0x8000_0000, 0xffff_ffff), // idiv: -2^63 / -1
        (&[0xf6, 0xf9], 0xff80, 0, 0xff),             // idivb: -128 / -1
        (&[0xf7, 0xf1], 0, 0xffff_ffff, 0xffff_ffff), // div: quotient 2^32
        (&[0xf7, 0x33], 1, 0, 0),                     // div (%ebx) = 0
        (&[0xd4, 0x00], 0x55, 0, 0),                  // aam $0
    ];
    for (i, (code, eax, edx, ecx)) in cases.iter().enumerate() {
        let mut st = State::new(Rng(i as u32 + 1).regs(), CF);
        st.regs[EAX] = *eax;
        st.regs[EDX] = *edx;
        st.regs[ECX] = *ecx;
        st.mem[0x40..0x44].copy_from_slice(&0u32.to_le_bytes());
        let (r, vector, pushed, regs) = run_with_idt(code, &st);
        assert_eq!(r, ExitReason::Status(HALTED), "case {}", i);
        assert_eq!(vector, 0, "case {}: #DE expected", i);
        assert_eq!(pushed, CODE, "case {}: faulting eip", i);
        let mut expect = st.regs;
        expect[ESP] = regs[ESP];
        assert_eq!(regs, expect, "case {}: registers must be unchanged", i);
    }
}

#[test]
fn division_edge_results() {
    // idivb -128 / 1 = -128 (fits); idiv -7 / 2 = -3 rem -1 (truncation toward zero).
    let mut st = State::new([0; 8], 0);
    st.regs[EAX] = 0xff80;
    st.regs[ECX] = 1;
    let g = check(&[0xf6, 0xf9], &st, ARITH);
    assert_eq!(g.regs[EAX] & 0xffff, 0x0080);
    st.regs[EAX] = (-7i32) as u32;
    st.regs[EDX] = u32::MAX;
    st.regs[ECX] = 2;
    let g = check(&[0xf7, 0xf9], &st, ARITH);
    assert_eq!((g.regs[EAX], g.regs[EDX]), ((-3i32) as u32, u32::MAX));
}
