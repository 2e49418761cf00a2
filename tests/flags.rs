//! Lazy flags end to end: every flag-producing family followed, in the same TB, by setcc, cmovcc
//! and jcc on all 16 conditions (exercising `gen_prepare_cc` fast paths for each `cc_op`), plus
//! lahf/sahf/clc/stc/cmc. Checked against the host CPU; conditions that read a flag the producer
//! leaves undefined are skipped.

mod hostcmp;
use hostcmp::*;

/// The flags condition nibble `cc` reads (SDM Vol. 1, Table B-1 / Vol. 2, "Jcc").
fn cond_flags(cc: u8) -> u32 {
    match cc >> 1 {
        0 => OF,
        1 => CF,
        2 => ZF,
        3 => CF | ZF,
        4 => SF,
        5 => PF,
        6 => SF | OF,
        _ => ZF | SF | OF,
    }
}

/// (name, code, undefined flags) of the producers; operands in eax and ecx.
fn producers() -> Vec<(&'static str, Vec<u8>, u32)> {
    let mut v: Vec<(&'static str, Vec<u8>, u32)> = vec![];
    let g1 = [
        ("add", 0u8, 0u32),
        ("or", 1, AF),
        ("adc", 2, 0),
        ("sbb", 3, 0),
        ("and", 4, AF),
        ("sub", 5, 0),
        ("xor", 6, AF),
        ("cmp", 7, 0),
    ];
    for (name, k, u) in g1 {
        v.push((name, vec![k * 8 + 1, modrm(3, 1, 0)], u));
        v.push((name, vec![k * 8, modrm(3, 1, 0)], u));
        v.push((name, vec![0x66, k * 8 + 1, modrm(3, 1, 0)], u));
    }
    v.push(("test", vec![0x85, modrm(3, 1, 0)], AF));
    v.push(("test8", vec![0x84, modrm(3, 1, 0)], AF));
    for (name, k) in [("inc", 0u8), ("dec", 1)] {
        v.push((name, vec![0xff, modrm(3, k, 0)], 0));
        v.push((name, vec![0xfe, modrm(3, k, 0)], 0));
        v.push((name, vec![0x66, 0xff, modrm(3, k, 0)], 0));
    }
    v.push(("neg", vec![0xf7, modrm(3, 3, 0)], 0));
    v.push(("neg8", vec![0xf6, modrm(3, 3, 0)], 0));
    for k in 0..8u8 {
        v.push(("grp2 1", vec![0xd1, modrm(3, k, 0)], AF));
        v.push(("grp2 1 w", vec![0x66, 0xd1, modrm(3, k, 0)], AF));
        v.push(("grp2 1 b", vec![0xd0, modrm(3, k, 0)], AF));
        v.push(("grp2 3", vec![0xc1, modrm(3, k, 0), 3], AF | OF));
        v.push(("grp2 cl", vec![0xd3, modrm(3, k, 0)], AF | OF | if k >= 4 { CF } else { 0 }));
    }
    v.push(("imul", vec![0x0f, 0xaf, modrm(3, 0, 1)], SF | ZF | AF | PF));
    v.push(("mul", vec![0xf7, modrm(3, 4, 1)], SF | ZF | AF | PF));
    v.push(("mul8", vec![0xf6, modrm(3, 4, 1)], SF | ZF | AF | PF));
    v.push(("bt", vec![0x0f, 0xa3, modrm(3, 1, 0)], OF | SF | AF | PF));
    v.push(("bts imm", vec![0x0f, 0xba, modrm(3, 5, 0), 31], OF | SF | AF | PF));
    v.push(("bsf", vec![0x0f, 0xbc, modrm(3, 0, 1)], CF | OF | SF | AF | PF));
    v.push(("clc", vec![0xf8], 0));
    v.push(("stc", vec![0xf9], 0));
    v.push(("cmc", vec![0xf5], 0));
    v.push(("sahf", vec![0x9e], 0));
    v.push(("cmpxchg", vec![0x0f, 0xb1, modrm(3, 2, 1)], 0));
    v.push(("xadd", vec![0x0f, 0xc1, modrm(3, 1, 0)], 0));
    v.push(("shld", vec![0x0f, 0xa4, modrm(3, 1, 0), 1], AF));
    v.push(("shrd", vec![0x0f, 0xad, modrm(3, 1, 0)], AF | OF));
    v
}

const VALUES: [u32; 10] = [0, 1, 0x7f, 0x80, 0xff, 0x8000, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1234_5680];

#[test]
fn producers_then_setcc_cmovcc_jcc() {
    let mut rng = Rng(2024);
    let mut n = 0;
    for (_name, prod, undef) in producers() {
        for cc in 0..16u8 {
            if cond_flags(cc) & undef != 0 {
                continue;
            }
            let mut code = prod.clone();
            code.extend_from_slice(&[0x0f, 0x90 + cc, modrm(3, 0, 6)]); // setcc %dh
            code.extend_from_slice(&[0x0f, 0x40 + cc, modrm(3, 6, 7)]); // cmovcc %edi,%esi
            code.extend_from_slice(&[0x66, 0x0f, 0x40 + cc, modrm(0, 5, 3)]); // cmovcc (%ebx),%bp
            code.extend_from_slice(&[0x70 + cc, 0x03, 0x83, 0xc5, 0x01]); // jcc +3; add $1,%ebp
            for &a in &VALUES {
                for &b in &VALUES {
                    let mut st = State::new(rng.regs(), rng.next());
                    st.regs[EAX] = a;
                    st.regs[ECX] = b;
                    st.regs[EDX] = a.wrapping_add(b);
                    check(&code, &st, undef);
                    n += 1;
                }
            }
        }
    }
    assert!(n > 15_000, "{}", n);
}

#[test]
fn flag_instructions() {
    let forms: [&[u8]; 7] = [
        &[0x9f],                   // lahf
        &[0x9e],                   // sahf
        &[0xf8],                   // clc
        &[0xf9],                   // stc
        &[0xf5],                   // cmc
        &[0x01, 0xc8, 0x9f],       // add %ecx,%eax; lahf
        &[0x29, 0xc8, 0xf5, 0x9f], // sub; cmc; lahf
    ];
    let mut rng = Rng(8);
    for code in forms {
        for &a in &EDGES {
            for f in [0, ARITH, CF | ZF, SF | OF | AF | PF] {
                let mut st = State::new(rng.regs(), f);
                st.regs[EAX] = a;
                st.regs[ECX] = a.rotate_left(9);
                check(code, &st, 0);
            }
        }
    }
}
