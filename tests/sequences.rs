//! Random instruction sequences (one TB each) against the host CPU: lazy flags have to survive
//! every pairing of producer and consumer, including shifts by CL that may leave `cc_op` dynamic.
//! A sequence is dropped when an instruction reads a flag that an earlier one left undefined.

mod hostcmp;
use hostcmp::*;

/// One instruction of the pool: its bytes, the flags it reads, the flags it leaves undefined,
/// and whether its other flag writes are conditional (shifts by CL: a zero count keeps all flags).
struct Insn {
    code: Vec<u8>,
    reads: u32,
    undef: u32,
    keeps_on_zero: bool,
}

fn insn(code: Vec<u8>, reads: u32, undef: u32) -> Insn {
    Insn { code, reads, undef, keeps_on_zero: false }
}

/// The flags condition `cc` reads.
fn cond_flags(cc: u8) -> u32 {
    [OF, CF, ZF, CF | ZF, SF, PF, SF | OF, ZF | SF | OF][(cc >> 1) as usize]
}

/// A random instruction; registers eax, ecx, edx, esi, edi, ebp and memory at (%ebx).
fn random_insn(rng: &mut Rng) -> Insn {
    let regs = [0u8, 1, 2, 6, 7, 5];
    let r1 = regs[(rng.next() % 6) as usize];
    let r2 = regs[(rng.next() % 6) as usize];
    let wide = rng.next() % 3;
    // As 8-bit registers, 7 is BH: it would move ebx (the memory pointer) out of the window.
    let (r1, r2) = if wide == 0 { (r1 % 7, r2 % 7) } else { (r1, r2) };
    let rm = if rng.next().is_multiple_of(4) { modrm(0, r2, 3) } else { modrm(3, r2, r1) };
    let p66 = |v: Vec<u8>, on: bool| if on { [vec![0x66], v].concat() } else { v };
    let (w16, op_w) = (wide == 1, u8::from(wide != 0)); // 8-bit forms for wide == 0
    match rng.next() % 16 {
        0..=3 => {
            let k = (rng.next() % 8) as u8;
            let reads = if k == 2 || k == 3 { CF } else { 0 };
            let undef = if matches!(k, 1 | 4 | 6) { AF } else { 0 };
            insn(p66(vec![k * 8 + op_w, rm], w16), reads, undef)
        }
        4 => {
            let k = (rng.next() % 4) as u8; // inc dec (ff /0 /1), not neg (f7 /2 /3)
            let code = if k < 2 { vec![0xfe + op_w, modrm(3, k, r1)] } else { vec![0xf6 + op_w, modrm(3, k, r1)] };
            insn(p66(code, w16), 0, 0)
        }
        5 | 6 => {
            let k = (rng.next() % 8) as u8;
            let reads = if k == 2 || k == 3 { CF } else { 0 };
            match rng.next() % 3 {
                0 => insn(p66(vec![0xd0 + op_w, modrm(3, k, r1)], w16), reads, if k < 4 { 0 } else { AF }),
                1 => {
                    let c = (rng.next() % 40) as u8;
                    let bits = [8, 16, 32][wide as usize];
                    let af = if k < 4 { 0 } else { AF }; // rotates leave AF alone
                    let mut u = if c & 31 == 0 { 0 } else { af | if c & 31 == 1 { 0 } else { OF } };
                    if k >= 4 && (c & 31) >= bits {
                        u |= CF;
                    }
                    insn(p66(vec![0xc0 + op_w, modrm(3, k, r1), c], w16), if c & 31 == 0 { 0 } else { reads }, u)
                }
                _ => {
                    let r = if r1 == 1 { 0 } else { r1 };
                    let mut i = insn(p66(vec![0xd2 + op_w, modrm(3, k, r)], w16), reads, OF | AF | CF);
                    i.keeps_on_zero = true;
                    i
                }
            }
        }
        7 => {
            let cc = (rng.next() % 16) as u8;
            match rng.next() % 3 {
                0 => insn(vec![0x0f, 0x90 + cc, modrm(3, 0, r1 & 3)], cond_flags(cc), 0),
                1 => insn(vec![0x0f, 0x40 + cc, modrm(3, r2, r1)], cond_flags(cc), 0),
                _ => insn(vec![0x70 + cc, 0x03, 0x83, 0xc5, 0x01], cond_flags(cc), 0),
            }
        }
        8 => insn(p66(vec![0x0f, 0xaf, modrm(3, r2, r1)], w16), 0, SF | ZF | AF | PF),
        9 => insn(
            vec![0x0f, [0xa3, 0xab, 0xb3, 0xbb][(rng.next() % 4) as usize], modrm(3, r2, r1)],
            0,
            OF | SF | AF | PF,
        ),
        10 => insn(vec![[0xf8, 0xf9, 0xf5][(rng.next() % 3) as usize]], CF, 0),
        11 => insn(vec![0x9f], SF | ZF | AF | PF | CF, 0),
        12 => insn(vec![0x9e], 0, 0),
        13 => insn(p66(vec![0x0f, 0xc0 + op_w, rm], w16), 0, 0),
        14 => insn(p66(vec![0x0f, 0xb0 + op_w, rm], w16), 0, 0),
        _ => insn(p66(vec![0xf6 + op_w, modrm(3, 4 + (rng.next() % 2) as u8, r1)], w16), 0, SF | ZF | AF | PF),
    }
}

/// The flags instruction `code` leaves as they were (for the undefined-flag bookkeeping; a
/// conditional write counts as "kept").
fn preserved(i: &Insn) -> u32 {
    let c = if i.code[0] == 0x66 { &i.code[1..] } else { &i.code[..] };
    let ext = c.get(1).map_or(0, |m| (m >> 3) & 7);
    match c {
        _ if i.keeps_on_zero => ARITH,
        [0xc0 | 0xc1, _, n] if n & 31 == 0 => ARITH, // shift or rotate by 0
        [0xc0 | 0xc1 | 0xd0 | 0xd1, ..] if ext < 4 => SF | ZF | AF | PF, // rotates
        [0xf6 | 0xf7, ..] if ext == 2 => ARITH,      // not
        [0xfe | 0xff, ..] if ext < 2 => CF,          // inc, dec
        [0x0f, b, ..] if b & 0xf0 == 0x90 || b & 0xf0 == 0x40 => ARITH, // setcc, cmovcc
        [0x0f, 0xa3 | 0xab | 0xb3 | 0xbb, ..] => ZF, // bt*
        [b, ..] if b & 0xf0 == 0x70 => ARITH,        // jcc (+ add when not taken)
        [0x9f] => ARITH,                             // lahf
        [0xf8 | 0xf9 | 0xf5] => ARITH & !CF,         // clc stc cmc
        [0x9e] => OF,                                // sahf
        _ => 0,
    }
}

/// A sequence whose every flag read is defined, and the flags left undefined at its end.
fn random_sequence(rng: &mut Rng) -> Option<(Vec<u8>, u32)> {
    let mut undef = 0;
    let mut code = vec![];
    for _ in 0..2 + rng.next() % 7 {
        let i = random_insn(rng);
        if i.reads & undef != 0 {
            return None;
        }
        undef = (undef & preserved(&i)) | i.undef;
        code.extend(i.code);
    }
    Some((code, undef))
}

#[test]
fn random_sequences_match_host() {
    let mut rng = Rng(0xace1);
    let mut ran = 0;
    let mut insns = 0;
    while ran < 20_000 {
        let Some((code, undef)) = random_sequence(&mut rng) else { continue };
        let mut st = State::new(rng.regs(), rng.next());
        if rng.next().is_multiple_of(2) {
            st.regs[ECX] = EDGES[(rng.next() % 16) as usize];
        }
        let g = check(&code, &st, undef);
        // The same with one instruction per TB: every flag crosses a TB boundary.
        let single = run_guest_tb(&code, &st, 1);
        let m = ARITH & !undef;
        assert_eq!((single.regs, single.flags & m, &single.mem), (g.regs, g.flags & m, &g.mem), "{:02x?}", code);
        insns += code.len();
        ran += 1;
        assert_eq!(g.regs[EBX] & !0xff, DATA);
    }
    assert!(insns > 20_000 * 8, "{} bytes of code", insns);
}
