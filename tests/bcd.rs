//! BCD adjustments (invalid in 64-bit mode, so no host oracle): expected values worked out from
//! the SDM's pseudo-code and its examples (Vol. 2A "DAA", "DAS", "AAA", "AAS", "AAM", "AAD").

mod hostcmp;
use hostcmp::*;

/// (code, AX in, flags in, AX out, flags out, undefined flags)
type Case = (&'static [u8], u32, u32, u32, u32, u32);

const CASES: [Case; 15] = [
    // daa: the SDM's example 79h + 35h = AEh -> 14h, CF = AF = 1.
    (&[0x27], 0x00ae, 0, 0x0014, CF | AF | PF, OF),
    (&[0x27], 0x002e, 0, 0x0034, AF, OF),
    (&[0x27], 0x009a, 0, 0x0000, CF | AF | ZF | PF, OF),
    (&[0x27], 0x0012, CF, 0x0072, CF | PF, OF),
    // das: the SDM's example 35h - 47h = EEh (CF = AF = 1) -> 88h, CF = 1.
    (&[0x2f], 0x00ee, CF | AF, 0x0088, CF | AF | SF | PF, OF),
    (&[0x2f], 0x0045, 0, 0x0045, 0, OF),
    // aaa / aas
    (&[0x37], 0x000f, 0, 0x0105, CF | AF, OF | SF | ZF | PF),
    (&[0x37], 0x0104, 0, 0x0104, 0, OF | SF | ZF | PF),
    (&[0x37], 0x00fa, 0, 0x0200, CF | AF, OF | SF | ZF | PF),
    (&[0x3f], 0x02ff, AF, 0x0109, CF | AF, OF | SF | ZF | PF),
    (&[0x3f], 0x0000, AF, 0xfe0a, CF | AF, OF | SF | ZF | PF),
    // aam / aad
    (&[0xd4, 0x0a], 0x004f, 0, 0x0709, PF, OF | AF | CF),
    (&[0xd4, 0x10], 0x00ff, 0, 0x0f0f, PF, OF | AF | CF),
    (&[0xd5, 0x0a], 0x0709, 0, 0x004f, 0, OF | AF | CF),
    (&[0xd5, 0x0a], 0x1905, 0, 0x00ff, SF | PF, OF | AF | CF),
];

#[test]
fn bcd_adjustments() {
    for (i, &(code, ax, fin, ax_out, fout, undef)) in CASES.iter().enumerate() {
        let mut st = State::new([0; 8], fin);
        st.regs[EAX] = 0xabcd_0000 | ax;
        let g = run_guest(code, &st);
        assert_eq!(g.regs[EAX], 0xabcd_0000 | ax_out, "case {}: AX", i);
        let m = ARITH & !undef;
        assert_eq!(g.flags & m, fout & m, "case {}: flags {:#x}", i, g.flags);
    }
}

#[test]
fn aad_zero_base() {
    let mut st = State::new([0; 8], 0);
    st.regs[EAX] = 0x1200;
    let g = run_guest(&[0xd5, 0x00], &st);
    assert_eq!(g.regs[EAX] & 0xffff, 0);
    assert_eq!(g.flags & (ZF | PF | SF), ZF | PF);
}

#[test]
fn host32_oracle_sanity() {
    // inc %eax (40) in 32-bit mode, on the host.
    let mut st = State::new([0; 8], 0);
    st.regs[EAX] = 0x7fff_ffff;
    let h = run_host32(&[0x40], &st);
    assert_eq!(h.regs[EAX], 0x8000_0000);
    assert_eq!(h.flags & (OF | SF | ZF), OF | SF);
}

#[test]
fn bcd_against_host32() {
    let mut rng = Rng(21);
    for al in 0..256u32 {
        for fl in [0, CF, AF, CF | AF] {
            let ax = (rng.next() & 0xff00) | al;
            let mut st = State::new(rng.regs(), fl | (rng.next() & (SF | ZF | PF | OF)));
            st.regs[EAX] = (rng.next() & 0xffff_0000) | ax;
            check32(&[0x27], &st, OF);
            check32(&[0x2f], &st, OF);
            check32(&[0x37], &st, OF | SF | ZF | PF);
            check32(&[0x3f], &st, OF | SF | ZF | PF);
        }
        for imm in [1u8, 7, 10, 16, 0xff] {
            let mut st = State::new(rng.regs(), rng.next());
            st.regs[EAX] = rng.next() & 0xffff_ff00 | al;
            check32(&[0xd4, imm], &st, OF | AF | CF);
            check32(&[0xd5, imm], &st, OF | AF | CF);
            check32(&[0xd5, 0], &st, OF | AF | CF);
        }
    }
}

#[test]
fn short_inc_dec_against_host32() {
    let mut rng = Rng(22);
    for op in 0x40..0x50u8 {
        if op & 7 == 4 {
            continue; // esp
        }
        for &v in &EDGES {
            let mut st = State::new(rng.regs(), rng.next());
            st.regs[(op & 7) as usize] = v;
            check32(&[op], &st, 0);
            check32(&[0x66, op], &st, 0);
        }
    }
}

#[test]
fn lea_with_16_bit_addressing_against_host32() {
    let mut rng = Rng(23);
    for md in 0..3u8 {
        for rm in 0..8u8 {
            if md == 0 && rm == 6 {
                continue; // disp16 only: covered below
            }
            let mut code = vec![0x67, 0x8d, modrm(md, 0, rm)];
            code.extend(match md {
                1 => vec![0xf0],
                2 => vec![0x34, 0xf2],
                _ => vec![],
            });
            for _ in 0..20 {
                let st = State::new(rng.regs(), rng.next());
                check32(&code, &st, 0);
                let mut c16 = vec![0x66];
                c16.extend_from_slice(&code);
                check32(&c16, &st, 0);
            }
        }
    }
    let st = State::new(rng.regs(), 0);
    check32(&[0x67, 0x8d, 0x06, 0xfe, 0xff], &st, 0);
}

/// The BCD adjustments read AF and CF from whatever lazy state the previous instruction left:
/// every arithmetic producer followed by each adjustment, against the 32-bit host.
#[test]
fn producer_then_bcd_against_host32() {
    let producers: [&[u8]; 9] = [
        &[0x00, 0xc8],       // add %cl,%al
        &[0x10, 0xc8],       // adc %cl,%al
        &[0x28, 0xc8],       // sub %cl,%al
        &[0x18, 0xc8],       // sbb %cl,%al
        &[0x38, 0xc8],       // cmp %cl,%al
        &[0xfe, 0xc0],       // inc %al
        &[0xfe, 0xc8],       // dec %al
        &[0xf6, 0xd8],       // neg %al
        &[0x66, 0x01, 0xc8], // add %cx,%ax
    ];
    let consumers: [(&[u8], u32); 4] =
        [(&[0x27], OF), (&[0x2f], OF), (&[0x37], OF | SF | ZF | PF), (&[0x3f], OF | SF | ZF | PF)];
    let mut rng = Rng(24);
    for p in producers {
        for (c, undef) in consumers {
            let code = [p, c].concat();
            for al in 0..256u32 {
                let cl = [0x01, 0x09, 0x38, 0x99][(al % 4) as usize] ^ (rng.next() & 0x11);
                let mut st = State::new(rng.regs(), rng.next());
                st.regs[EAX] = (rng.next() & 0xffff_ff00) | al;
                st.regs[ECX] = (rng.next() & 0xffff_ff00) | cl;
                check32(&code, &st, undef);
            }
        }
    }
}
