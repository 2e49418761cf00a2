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
