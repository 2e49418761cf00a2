//! Shifts and rotates against the host CPU: shl/sal/shr/sar/rol/ror/rcl/rcr by 1, imm8 and CL at
//! 8/16/32 bits with register and memory operands, shld/shrd; counts 0, 1, size-1, size, 31, 32+.

mod hostcmp;
use hostcmp::*;

/// Undefined flags for group-2 operation `k` at `bits` with masked count `c` (SDM Vol. 2B).
fn undef(k: u8, bits: u32, c: u32) -> u32 {
    if c == 0 {
        return 0;
    }
    let of = if c == 1 { 0 } else { OF };
    match k {
        0..=3 => of,
        // shl/shr/sal: CF undefined when the count reaches the operand size.
        4..=6 if c >= bits => AF | of | CF,
        _ => AF | of,
    }
}

const COUNTS: [u32; 14] = [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 255];

/// (code, bits) of the forms of group-2 operation `k` with count `c`.
fn forms(k: u8, c: u8) -> Vec<(Vec<u8>, u32)> {
    let mut v = vec![
        (vec![0xc0, modrm(3, k, 0), c], 8),
        (vec![0xc0, modrm(3, k, 4), c], 8),
        (vec![0xc1, modrm(3, k, 0), c], 32),
        (vec![0x66, 0xc1, modrm(3, k, 0), c], 16),
        (vec![0xc1, modrm(0, k, 3), c], 32),
        (vec![0xc0, modrm(0, k, 3), c], 8),
        (vec![0xd2, modrm(3, k, 0)], 8),
        (vec![0xd3, modrm(3, k, 0)], 32),
        (vec![0x66, 0xd3, modrm(3, k, 2)], 16),
        (vec![0xd3, modrm(0, k, 3)], 32),
        (vec![0x66, 0xd3, modrm(0, k, 3)], 16),
    ];
    if c == 1 {
        v.push((vec![0xd0, modrm(3, k, 0)], 8));
        v.push((vec![0xd1, modrm(3, k, 0)], 32));
        v.push((vec![0x66, 0xd1, modrm(3, k, 0)], 16));
        v.push((vec![0xd1, modrm(0, k, 3)], 32));
    }
    v
}

#[test]
fn group2_all_counts() {
    let mut rng = Rng(42);
    let mut n = 0;
    for k in 0..8u8 {
        for &c in &COUNTS {
            for (code, bits) in forms(k, c as u8) {
                for &a in &EDGES {
                    for &f in &FLAG_SETS {
                        let mut st = State::new(rng.regs(), f);
                        st.regs[EAX] = a;
                        st.regs[EDX] = a.rotate_left(13);
                        st.regs[ECX] = (rng.next() & !0xff) | c;
                        st.mem[0x40..0x44].copy_from_slice(&a.to_le_bytes());
                        check(&code, &st, undef(k, bits, c & 31));
                        n += 1;
                    }
                }
            }
        }
    }
    assert!(n > 20000, "{}", n);
}

/// A shift by CL then a flag reader in the same TB: a zero count must keep the previous flags,
/// whatever lazy state produced them.
#[test]
fn zero_count_keeps_lazy_flags() {
    let mut rng = Rng(3);
    let producers: [&[u8]; 4] = [&[0x01, 0xd6], &[0x29, 0xd6], &[0x21, 0xd6], &[0xff, 0xc6]]; // add/sub/and/inc %esi
    for p in producers {
        for k in [0u8, 1, 2, 3, 4, 5, 7] {
            for &a in &EDGES {
                let mut code = p.to_vec();
                code.extend_from_slice(&[0xd3, modrm(3, k, 0)]); // op %cl,%eax
                code.extend_from_slice(&[0x0f, 0x92, modrm(3, 0, 3)]); // setb %bl
                code.extend_from_slice(&[0x0f, 0x94, modrm(3, 0, 7)]); // sete %bh... (edi low)
                let mut st = State::new(rng.regs(), 0);
                st.regs[ESI] = a;
                st.regs[EDX] = a.rotate_right(3);
                st.regs[ECX] = 0x100 * (rng.next() & 0xff); // cl = 0
                check(&code, &st, 0);
                st.regs[ECX] = 1;
                check(&code, &st, undef(k, 32, 1));
            }
        }
    }
}

#[test]
fn shld_shrd() {
    let mut rng = Rng(11);
    for &c in &COUNTS {
        let mut forms: Vec<(Vec<u8>, u32)> = vec![];
        for (imm_op, cl_op) in [(0xa4u8, 0xa5u8), (0xac, 0xad)] {
            forms.push((vec![0x0f, imm_op, modrm(3, 2, 0), c as u8], 32));
            forms.push((vec![0x0f, cl_op, modrm(3, 2, 0)], 32));
            forms.push((vec![0x0f, imm_op, modrm(0, 2, 3), c as u8], 32));
            forms.push((vec![0x0f, cl_op, modrm(0, 2, 3)], 32));
            forms.push((vec![0x66, 0x0f, imm_op, modrm(3, 2, 0), c as u8], 16));
            forms.push((vec![0x66, 0x0f, cl_op, modrm(0, 2, 3)], 16));
        }
        for (code, bits) in forms {
            let mc = c & 31;
            if bits == 16 && mc > 16 {
                continue; // undefined result (SDM "SHLD")
            }
            for &a in &EDGES {
                for &b in &EDGES {
                    let mut st = State::new(rng.regs(), rng.next());
                    st.regs[EAX] = a;
                    st.regs[EDX] = b;
                    st.regs[ECX] = c;
                    st.mem[0x40..0x44].copy_from_slice(&a.to_le_bytes());
                    let mut u = if mc == 0 { 0 } else { AF };
                    if mc > 1 {
                        u |= OF;
                    }
                    if bits == 16 && mc == 16 {
                        u |= CF | OF | AF;
                    }
                    check(&code, &st, u);
                }
            }
        }
    }
}
