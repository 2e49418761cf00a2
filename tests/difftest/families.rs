//! One generator function per instruction family, and the table that names them.
//!
//! Flag effects follow the "Flags Affected" sections of the Intel SDM Vol. 2: each function
//! calls `g.done(defined, undefined)` after the instruction it generates.

use super::gen::*;
use iced_x86::code_asm::*;
use iced_x86::{Code, Instruction};

/// Every family: name and generator.
pub const FAMILIES: &[(&str, GenFn)] = &[
    ("mov", gen_mov),
    ("alu", gen_alu),
    ("adcsbb", gen_adc_sbb),
    ("test", gen_test),
    ("incdec", gen_incdec),
    ("negnot", gen_negnot),
    ("shift", gen_shift),
    ("rotate", gen_rotate),
    ("rcx", gen_rcl_rcr),
    ("shxd", gen_shld_shrd),
    ("mul", gen_mul),
    ("imul", gen_imul),
    ("div", gen_div),
    ("bt", gen_bt),
    ("bsf", gen_bsf),
    ("bcd", gen_bcd),
    ("flagops", gen_flagops),
    ("cldstd", gen_cld_std),
    ("setcc", gen_setcc),
    ("cmovcc", gen_cmovcc),
    ("movx", gen_movx),
    ("cbw", gen_cbw),
    ("xchg", gen_xchg),
    ("xadd", gen_xadd_cmpxchg),
    ("bswap", gen_bswap),
    ("pushpop", gen_pushpop),
    ("lea", gen_lea),
    ("string", gen_string),
    ("branch", gen_branch),
    ("loop", gen_loop),
    ("xlat", gen_xlat),
    ("cmpxchg8b", gen_cmpxchg8b),
    ("trap", gen_trap),
    ("into", gen_into),
    ("lock", gen_lock),
    ("pushf", gen_pushf_popf),
    ("pusha", gen_pusha_popa),
];

/// Families the frontend does not translate yet (they raise #UD in tcg86). The one place to
/// shrink as support lands; `DIFFTEST_FAMILIES=all` (or a comma list) overrides it.
pub const UNSUPPORTED: &[&str] = &[];

const LOGIC: u32 = ARITH & !AF;

fn gen_mov(g: &mut Gen) -> GenResult {
    let size = g.size();
    let d = g.dst(size);
    let s = g.src(d, size);
    binop!(g.a, mov, d, s)?;
    g.done(0, 0);
    Ok(())
}

fn gen_alu(g: &mut Gen) -> GenResult {
    let size = g.size();
    let d = g.dst(size);
    let s = g.src(d, size);
    match g.rng.below(6) {
        0 => binop!(g.a, add, d, s)?,
        1 => binop!(g.a, sub, d, s)?,
        2 => binop!(g.a, cmp, d, s)?,
        n => return logic(g, d, s, n - 3),
    }
    g.done(ARITH, 0);
    Ok(())
}

fn gen_adc_sbb(g: &mut Gen) -> GenResult {
    let size = g.size();
    let d = g.dst(size);
    let s = g.src(d, size);
    g.read_flags(CF)?;
    if g.rng.chance(1, 2) {
        binop!(g.a, adc, d, s)?;
    } else {
        binop!(g.a, sbb, d, s)?;
    }
    g.done(ARITH, 0);
    Ok(())
}

fn logic(g: &mut Gen, d: Op, s: Op, which: u32) -> GenResult {
    match which {
        0 => binop!(g.a, and, d, s)?,
        1 => binop!(g.a, or, d, s)?,
        _ => binop!(g.a, xor, d, s)?,
    }
    g.done(LOGIC, AF);
    Ok(())
}

fn gen_test(g: &mut Gen) -> GenResult {
    let size = g.size();
    let d = g.dst(size);
    if g.rng.chance(1, 2) {
        let i = g.imm(size);
        match d {
            Op::R(Size::B, r) => g.a.test(reg8(r), i)?,
            Op::R(Size::W, r) => g.a.test(reg16(r), i)?,
            Op::R(_, r) => g.a.test(reg32(r), i)?,
            Op::M(_, m) => g.a.test(m, i)?,
            Op::I(_) => unreachable!(),
        }
    } else {
        let s = g.reg(size);
        rm_r!(g.a, test, d, s)?;
    }
    g.done(LOGIC, AF);
    Ok(())
}

fn gen_incdec(g: &mut Gen) -> GenResult {
    let size = g.size();
    let d = g.dst(size);
    if g.rng.chance(1, 2) {
        unop!(g.a, inc, d)?;
    } else {
        unop!(g.a, dec, d)?;
    }
    g.done(ARITH & !CF, 0);
    Ok(())
}

fn gen_negnot(g: &mut Gen) -> GenResult {
    let size = g.size();
    let d = g.dst(size);
    if g.rng.chance(1, 2) {
        unop!(g.a, neg, d)?;
        g.done(ARITH, 0);
    } else {
        unop!(g.a, not, d)?;
        g.done(0, 0);
    }
    Ok(())
}

/// A shift count: 0, 1, in range, at or above the width, or above 31 (masked).
fn count(g: &mut Gen, width: u32) -> u32 {
    match g.rng.below(6) {
        0 => 0,
        1 => 1,
        2 | 3 => g.rng.below(width),
        4 => width + g.rng.below(32 - width.min(31)),
        _ => g.rng.below(256),
    }
}

/// Emit `mov cl, k` when the count comes from CL; returns whether it does.
fn count_in_cl(g: &mut Gen, k: u32) -> Result<bool, iced_x86::IcedError> {
    let use_cl = g.rng.chance(1, 2);
    if use_cl {
        g.a.mov(cl, k as i32 as i8 as i32)?;
        g.done(0, 0);
    }
    Ok(use_cl)
}

fn gen_shift(g: &mut Gen) -> GenResult {
    let size = g.size();
    let d = g.dst(size);
    let k = count(g, size.bits());
    let use_cl = count_in_cl(g, k)?;
    let k = k as i32;
    let op = g.rng.below(4);
    match op {
        0 => shift!(g.a, shl, d, use_cl, k)?,
        1 => shift!(g.a, shr, d, use_cl, k)?,
        2 => shift!(g.a, sar, d, use_cl, k)?,
        _ => shift!(g.a, sal, d, use_cl, k)?,
    }
    let m = (k & 31) as u32;
    if m == 0 {
        g.done(0, 0);
        return Ok(());
    }
    let mut undef = AF;
    if m != 1 {
        undef |= OF;
    }
    if op != 2 && m >= size.bits() {
        undef |= CF;
    }
    g.done(ARITH & !undef, undef);
    Ok(())
}

fn gen_rotate(g: &mut Gen) -> GenResult {
    let size = g.size();
    let d = g.dst(size);
    let k = count(g, size.bits());
    let use_cl = count_in_cl(g, k)?;
    if g.rng.chance(1, 2) {
        shift!(g.a, rol, d, use_cl, k as i32)?;
    } else {
        shift!(g.a, ror, d, use_cl, k as i32)?;
    }
    rotate_flags(g, k);
    Ok(())
}

fn rotate_flags(g: &mut Gen, k: u32) {
    match k & 31 {
        0 => g.done(0, 0),
        1 => g.done(CF | OF, 0),
        _ => g.done(CF, OF),
    }
}

fn gen_rcl_rcr(g: &mut Gen) -> GenResult {
    let size = g.size();
    let d = g.dst(size);
    let k = count(g, size.bits() + 1);
    let use_cl = count_in_cl(g, k)?;
    g.read_flags(CF)?;
    if g.rng.chance(1, 2) {
        shift!(g.a, rcl, d, use_cl, k as i32)?;
    } else {
        shift!(g.a, rcr, d, use_cl, k as i32)?;
    }
    rotate_flags(g, k);
    Ok(())
}

fn gen_shld_shrd(g: &mut Gen) -> GenResult {
    let size = g.size_wd();
    let d = g.dst(size);
    let s = g.rreg();
    // A 16-bit count above 16 leaves the result undefined: stay at or below it.
    let mut k = count(g, size.bits());
    if size == Size::W && k & 31 > 16 {
        k &= 15;
    }
    let use_cl = count_in_cl(g, k)?;
    if g.rng.chance(1, 2) {
        dshift!(g.a, shld, d, s, use_cl, k as i32)?;
    } else {
        dshift!(g.a, shrd, d, s, use_cl, k as i32)?;
    }
    match k & 31 {
        0 => g.done(0, 0),
        1 => g.done(ARITH & !AF, AF),
        _ => g.done(ARITH & !(AF | OF), AF | OF),
    }
    Ok(())
}

fn gen_mul(g: &mut Gen) -> GenResult {
    let size = g.size();
    let s = src_rm(g, size);
    if g.rng.chance(1, 2) {
        unop!(g.a, mul, s)?;
    } else {
        unop!(g.a, imul, s)?;
    }
    g.done(CF | OF, SF | ZF | AF | PF);
    Ok(())
}

/// A register (any) or memory source.
fn src_rm(g: &mut Gen, size: Size) -> Op {
    if g.rng.chance(1, 3) {
        Op::M(size, g.mem(size))
    } else {
        g.reg(size)
    }
}

fn gen_imul(g: &mut Gen) -> GenResult {
    let size = g.size_wd();
    let d = Op::R(size, g.wreg(size));
    let s = src_rm(g, size);
    if g.rng.chance(1, 2) {
        r_rm!(g.a, imul_2, d, s)?;
    } else {
        let i = g.imm(size);
        match (d, s) {
            (Op::R(Size::W, d), Op::R(_, s)) => g.a.imul_3(reg16(d), reg16(s), i)?,
            (Op::R(_, d), Op::R(_, s)) => g.a.imul_3(reg32(d), reg32(s), i)?,
            (Op::R(Size::W, d), Op::M(_, m)) => g.a.imul_3(reg16(d), m, i)?,
            (Op::R(_, d), Op::M(_, m)) => g.a.imul_3(reg32(d), m, i)?,
            _ => unreachable!(),
        }
    }
    g.done(CF | OF, SF | ZF | AF | PF);
    Ok(())
}

fn gen_div(g: &mut Gen) -> GenResult {
    let size = g.size();
    let signed = g.rng.chance(1, 2);
    // Mostly prepare the high half so the quotient fits; otherwise leave #DE likely.
    let prepared = g.rng.chance(2, 3);
    if prepared {
        match (signed, size) {
            (false, Size::B) => g.a.mov(ah, 0)?,
            (false, Size::W) => g.a.mov(dx, 0)?,
            (false, Size::D) => g.a.mov(edx, 0)?,
            (true, Size::B) => g.a.cbw()?,
            (true, Size::W) => g.a.cwd()?,
            (true, Size::D) => g.a.cdq()?,
        }
        g.done(0, 0);
    }
    let s = if g.rng.chance(1, 3) {
        Op::M(size, g.mem(size))
    } else {
        let r = *g.rng.pick(&[1usize, 3, 5, 6, 7]);
        Op::R(size, if size == Size::B && r > 3 { r - 4 } else { r })
    };
    if signed {
        unop!(g.a, idiv, s)?;
    } else {
        unop!(g.a, div, s)?;
    }
    g.done(0, ARITH);
    Ok(())
}

fn gen_bt(g: &mut Gen) -> GenResult {
    let size = g.size_wd();
    let which = g.rng.below(4);
    let imm_form = g.rng.chance(1, 2);
    let d = if which == 0 { src_rm(g, size) } else { g.dst(size) };
    let s = if imm_form {
        Op::I(g.rng.below(256) as i32)
    } else if let Op::M(..) = d {
        // A register bit offset reaches memory beyond the operand: keep it small and the
        // operand in the middle of the scratch area.
        let r = g.wreg(Size::D);
        g.a.mov(reg32(r), g.rng.range(-300, 300))?;
        g.done(0, 0);
        let m = sized(size, ebp + g.rng.range(-80, 76));
        return bt_emit(g, which, Op::M(size, m), Op::R(size, r));
    } else {
        g.reg(size)
    };
    bt_emit(g, which, d, s)
}

fn bt_emit(g: &mut Gen, which: u32, d: Op, s: Op) -> GenResult {
    macro_rules! bt_forms {
        ($m:ident) => {
            match (d, s) {
                (Op::R(Size::W, d), Op::I(i)) => g.a.$m(reg16(d), i),
                (Op::R(_, d), Op::I(i)) => g.a.$m(reg32(d), i),
                (Op::M(_, m), Op::I(i)) => g.a.$m(m, i),
                (Op::R(Size::W, d), Op::R(_, s)) => g.a.$m(reg16(d), reg16(s)),
                (Op::R(_, d), Op::R(_, s)) => g.a.$m(reg32(d), reg32(s)),
                (Op::M(Size::W, m), Op::R(_, s)) => g.a.$m(m, reg16(s)),
                (Op::M(_, m), Op::R(_, s)) => g.a.$m(m, reg32(s)),
                _ => unreachable!(),
            }
        };
    }
    match which {
        0 => bt_forms!(bt)?,
        1 => bt_forms!(bts)?,
        2 => bt_forms!(btr)?,
        _ => bt_forms!(btc)?,
    }
    g.done(CF, OF | SF | AF | PF);
    Ok(())
}

fn gen_bsf(g: &mut Gen) -> GenResult {
    let size = g.size_wd();
    let d = Op::R(size, g.wreg(size));
    let s = src_rm(g, size);
    if g.rng.chance(1, 2) {
        r_rm!(g.a, bsf, d, s)?;
    } else {
        r_rm!(g.a, bsr, d, s)?;
    }
    g.done(ZF, CF | OF | SF | AF | PF);
    Ok(())
}

fn gen_bcd(g: &mut Gen) -> GenResult {
    match g.rng.below(6) {
        0 | 1 => {
            g.read_flags(CF | AF)?;
            if g.rng.chance(1, 2) {
                g.a.daa()?;
            } else {
                g.a.das()?;
            }
            g.done(ARITH & !OF, OF);
        }
        2 | 3 => {
            g.read_flags(AF)?;
            if g.rng.chance(1, 2) {
                g.a.aaa()?;
            } else {
                g.a.aas()?;
            }
            g.done(AF | CF, OF | SF | ZF | PF);
        }
        n => {
            let base = match g.rng.below(4) {
                0 => 10,
                1 => 0,
                _ => g.rng.below(256) as i32,
            };
            if n == 4 {
                g.a.aam(base)?;
            } else {
                g.a.aad(base)?;
            }
            g.done(SF | ZF | PF, OF | AF | CF);
        }
    }
    Ok(())
}

fn gen_flagops(g: &mut Gen) -> GenResult {
    match g.rng.below(6) {
        0 => {
            g.a.clc()?;
            g.done(CF, 0);
        }
        1 => {
            g.a.stc()?;
            g.done(CF, 0);
        }
        2 => {
            g.read_flags(CF)?;
            g.a.cmc()?;
            g.done(CF, 0);
        }
        3 => {
            g.read_flags(SF | ZF | AF | PF | CF)?;
            g.a.lahf()?;
            g.done(0, 0);
        }
        4 => {
            g.a.sahf()?;
            g.done(SF | ZF | AF | PF | CF, 0);
        }
        _ => {
            g.a.sahf()?;
            g.done(SF | ZF | AF | PF | CF, 0);
        }
    }
    Ok(())
}

fn gen_cld_std(g: &mut Gen) -> GenResult {
    let df = g.rng.chance(1, 2);
    if df {
        g.a.std()?;
    } else {
        g.a.cld()?;
    }
    g.set_df(df);
    g.done(0, 0);
    Ok(())
}

fn gen_setcc(g: &mut Gen) -> GenResult {
    let cc = g.rng.below(16);
    g.read_flags(cc_reads(cc))?;
    let d = g.dst(Size::B);
    macro_rules! set {
        ($m:ident) => {
            match d {
                Op::R(_, r) => g.a.$m(reg8(r)),
                Op::M(_, m) => g.a.$m(m),
                Op::I(_) => unreachable!(),
            }
        };
    }
    match cc {
        0 => set!(seto)?,
        1 => set!(setno)?,
        2 => set!(setb)?,
        3 => set!(setae)?,
        4 => set!(sete)?,
        5 => set!(setne)?,
        6 => set!(setbe)?,
        7 => set!(seta)?,
        8 => set!(sets)?,
        9 => set!(setns)?,
        10 => set!(setp)?,
        11 => set!(setnp)?,
        12 => set!(setl)?,
        13 => set!(setge)?,
        14 => set!(setle)?,
        _ => set!(setg)?,
    }
    g.done(0, 0);
    Ok(())
}

fn gen_cmovcc(g: &mut Gen) -> GenResult {
    let cc = g.rng.below(16);
    g.read_flags(cc_reads(cc))?;
    let size = g.size_wd();
    let d = Op::R(size, g.wreg(size));
    let s = src_rm(g, size);
    match cc {
        0 => r_rm!(g.a, cmovo, d, s)?,
        1 => r_rm!(g.a, cmovno, d, s)?,
        2 => r_rm!(g.a, cmovb, d, s)?,
        3 => r_rm!(g.a, cmovae, d, s)?,
        4 => r_rm!(g.a, cmove, d, s)?,
        5 => r_rm!(g.a, cmovne, d, s)?,
        6 => r_rm!(g.a, cmovbe, d, s)?,
        7 => r_rm!(g.a, cmova, d, s)?,
        8 => r_rm!(g.a, cmovs, d, s)?,
        9 => r_rm!(g.a, cmovns, d, s)?,
        10 => r_rm!(g.a, cmovp, d, s)?,
        11 => r_rm!(g.a, cmovnp, d, s)?,
        12 => r_rm!(g.a, cmovl, d, s)?,
        13 => r_rm!(g.a, cmovge, d, s)?,
        14 => r_rm!(g.a, cmovle, d, s)?,
        _ => r_rm!(g.a, cmovg, d, s)?,
    }
    g.done(0, 0);
    Ok(())
}

fn gen_movx(g: &mut Gen) -> GenResult {
    let (dsize, ssize) = *g.rng.pick(&[(Size::W, Size::B), (Size::D, Size::B), (Size::D, Size::W)]);
    let d = g.wreg(dsize);
    let s = src_rm(g, ssize);
    let zx = g.rng.chance(1, 2);
    macro_rules! movx {
        ($m:ident) => {
            match (dsize, s) {
                (Size::W, Op::R(_, s)) => g.a.$m(reg16(d), reg8(s)),
                (Size::W, Op::M(_, m)) => g.a.$m(reg16(d), m),
                (_, Op::R(Size::B, s)) => g.a.$m(reg32(d), reg8(s)),
                (_, Op::R(_, s)) => g.a.$m(reg32(d), reg16(s)),
                (_, Op::M(_, m)) => g.a.$m(reg32(d), m),
                _ => unreachable!(),
            }
        };
    }
    if zx {
        movx!(movzx)?;
    } else {
        movx!(movsx)?;
    }
    g.done(0, 0);
    Ok(())
}

fn gen_cbw(g: &mut Gen) -> GenResult {
    match g.rng.below(4) {
        0 => g.a.cbw()?,
        1 => g.a.cwde()?,
        2 => g.a.cwd()?,
        _ => g.a.cdq()?,
    }
    g.done(0, 0);
    Ok(())
}

fn gen_xchg(g: &mut Gen) -> GenResult {
    let size = g.size();
    let d = g.dst(size);
    let s = Op::R(size, g.wreg(size));
    rm_r!(g.a, xchg, d, s)?;
    g.done(0, 0);
    Ok(())
}

fn gen_xadd_cmpxchg(g: &mut Gen) -> GenResult {
    let size = g.size();
    let d = g.dst(size);
    let s = Op::R(size, g.wreg(size));
    if g.rng.chance(1, 2) {
        rm_r!(g.a, xadd, d, s)?;
    } else {
        rm_r!(g.a, cmpxchg, d, s)?;
    }
    g.done(ARITH, 0);
    Ok(())
}

fn gen_bswap(g: &mut Gen) -> GenResult {
    let r = g.wreg(Size::D);
    g.a.bswap(reg32(r))?;
    g.done(0, 0);
    Ok(())
}

fn gen_pushpop(g: &mut Gen) -> GenResult {
    let size = *g.rng.pick(&[Size::W, Size::D, Size::D]);
    let n = if size == Size::W { 2 } else { 4 };
    let push = g.esp_off() > -100 && (g.esp_off() >= 100 || g.rng.chance(1, 2));
    let (r, w) = (g.rreg(), g.wreg(size));
    if push {
        match (g.rng.below(3), size) {
            (0, Size::D) => g.a.push(g.rng.interesting() as i32)?,
            (1, _) => {
                let m = sized(size, ebp + g.rng.range(-128, 128 - n));
                g.a.push(m)?
            }
            (_, Size::W) => g.a.push(reg16(r))?,
            _ => g.a.push(reg32(r))?,
        }
        g.move_esp(-n);
    } else {
        if g.rng.chance(1, 4) {
            let m = sized(size, ebp + g.rng.range(-128, 128 - n));
            g.a.pop(m)?;
        } else if g.rng.chance(1, 4) {
            // The address of `pop m` uses ESP after the increment (SDM Vol. 2, POP).
            let esp_after = g.esp_off() + n;
            let d = g.rng.range(-120 - esp_after, 124 - n - esp_after).clamp(-128, 127);
            g.a.pop(sized(size, esp + d))?;
        } else if size == Size::W {
            g.a.pop(reg16(w))?;
        } else {
            g.a.pop(reg32(w))?;
        }
        g.move_esp(n);
    }
    g.done(0, 0);
    Ok(())
}

fn gen_lea(g: &mut Gen) -> GenResult {
    let size = g.size_wd();
    let d = g.wreg(size);
    let base = reg32(g.rreg());
    let index = reg32(*g.rng.pick(&[0usize, 1, 2, 3, 5, 6, 7]));
    let scale = *g.rng.pick(&[1u32, 2, 4, 8]);
    let disp = g.imm(Size::D);
    let m = match g.rng.below(3) {
        0 => ptr(base + disp),
        1 => ptr(base + index * scale),
        _ => ptr(base + index * scale + disp),
    };
    if size == Size::W {
        g.a.lea(reg16(d), m)?;
    } else {
        g.a.lea(reg32(d), m)?;
    }
    g.done(0, 0);
    Ok(())
}

fn gen_string(g: &mut Gen) -> GenResult {
    if g.rng.chance(1, 3) {
        let df = g.rng.chance(1, 2);
        if df {
            g.a.std()?;
        } else {
            g.a.cld()?;
        }
        g.set_df(df);
        g.done(0, 0);
    }
    let size = g.size();
    let op = g.rng.below(5);
    let rep = g.rng.below(3);
    let k = g.rng.below(9) as i32;
    let elems = if rep == 0 { 1 } else { k.max(1) };
    let span = elems * size.bits() as i32 / 8;
    let step = size.bits() as i32 / 8;
    for r in [6usize, 7] {
        let d = if g.df() { g.rng.range(-128 + span - step, 128 - step) } else { g.rng.range(-128, 128 - span) };
        g.a.lea(reg32(r), ptr(ebp + d))?;
    }
    if rep != 0 {
        g.a.mov(ecx, k)?;
    }
    g.done(0, 0);
    string_emit(g, op, rep, size)?;
    let compares = op >= 3;
    if compares && (rep == 0 || k > 0) {
        g.done(ARITH, 0);
    } else {
        g.done(0, 0);
    }
    Ok(())
}

fn string_emit(g: &mut Gen, op: u32, rep: u32, size: Size) -> GenResult {
    let a = match (rep, op) {
        (0, _) => &mut g.a,
        (_, 0..=2) => g.a.rep(),
        (1, _) => g.a.repe(),
        _ => g.a.repne(),
    };
    match (op, size) {
        (0, Size::B) => a.movsb(),
        (0, Size::W) => a.movsw(),
        (0, Size::D) => a.movsd(),
        (1, Size::B) => a.stosb(),
        (1, Size::W) => a.stosw(),
        (1, Size::D) => a.stosd(),
        (2, Size::B) => a.lodsb(),
        (2, Size::W) => a.lodsw(),
        (2, Size::D) => a.lodsd(),
        (3, Size::B) => a.cmpsb(),
        (3, Size::W) => a.cmpsw(),
        (3, Size::D) => a.cmpsd(),
        (_, Size::B) => a.scasb(),
        (_, Size::W) => a.scasw(),
        (_, Size::D) => a.scasd(),
    }
}

/// A branch to the next instruction: it ends the TB, so the flags state crosses a TB boundary.
fn gen_branch(g: &mut Gen) -> GenResult {
    const JCC: [Code; 16] = [
        Code::Jo_rel8_32,
        Code::Jno_rel8_32,
        Code::Jb_rel8_32,
        Code::Jae_rel8_32,
        Code::Je_rel8_32,
        Code::Jne_rel8_32,
        Code::Jbe_rel8_32,
        Code::Ja_rel8_32,
        Code::Js_rel8_32,
        Code::Jns_rel8_32,
        Code::Jp_rel8_32,
        Code::Jnp_rel8_32,
        Code::Jl_rel8_32,
        Code::Jge_rel8_32,
        Code::Jle_rel8_32,
        Code::Jg_rel8_32,
    ];
    let code = match g.rng.below(4) {
        0 => Code::Jmp_rel8_32,
        1 => Code::Jmp_rel32_32,
        _ => {
            let cc = g.rng.below(16);
            g.read_flags(cc_reads(cc))?;
            JCC[cc as usize]
        }
    };
    g.a.add_instruction(Instruction::with_branch(code, 0)?)?;
    g.done(0, 0);
    Ok(())
}

/// loop / jecxz to the next instruction (ECX changes or is tested; no flags).
fn gen_loop(g: &mut Gen) -> GenResult {
    let code = if g.rng.chance(1, 2) { Code::Loop_rel8_32_ECX } else { Code::Jecxz_rel8_32 };
    g.a.add_instruction(Instruction::with_branch(code, 0)?)?;
    g.done(0, 0);
    Ok(())
}

fn gen_xlat(g: &mut Gen) -> GenResult {
    g.a.lea(ebx, ptr(ebp - 128))?;
    g.a.xlatb()?;
    g.done(0, 0);
    Ok(())
}

fn gen_cmpxchg8b(g: &mut Gen) -> GenResult {
    let m = qword_ptr(ebp + g.rng.range(-128, 120));
    g.a.cmpxchg8b(m)?;
    g.done(ZF, 0);
    Ok(())
}

/// Now and then an exception in the middle of a sequence (`ud2`: #UD, a fault): the state at the
/// exception must agree too.
fn gen_trap(g: &mut Gen) -> GenResult {
    if g.rng.chance(1, 4) {
        g.a.ud2()?;
    } else {
        g.a.nop()?;
    }
    g.done(0, 0);
    Ok(())
}

/// `into`: #OF (a trap, reported after the instruction) when OF is set, else nothing.
fn gen_into(g: &mut Gen) -> GenResult {
    g.read_flags(OF)?;
    g.a.add_instruction(Instruction::with(Code::Into))?;
    g.done(0, 0);
    Ok(())
}

/// A `lock`ed read-modify-write on memory; now and then `lock` on a register form (#UD).
fn gen_lock(g: &mut Gen) -> GenResult {
    let size = g.size();
    let m = Op::M(size, g.mem(size));
    let r = Op::R(size, g.wreg(size));
    if g.rng.chance(1, 16) {
        let d = Op::R(size, g.wreg(size));
        binop!(g.a.lock(), add, d, r)?;
        g.done(ARITH, 0);
        return Ok(());
    }
    let s = if g.rng.chance(1, 2) { r } else { Op::I(g.imm(size)) };
    match g.rng.below(10) {
        0 => binop!(g.a.lock(), add, m, s)?,
        1 => binop!(g.a.lock(), sub, m, s)?,
        2 => binop!(g.a.lock(), or, m, s)?,
        3 => binop!(g.a.lock(), and, m, s)?,
        4 => binop!(g.a.lock(), xor, m, s)?,
        5 => {
            g.read_flags(CF)?;
            binop!(g.a.lock(), adc, m, s)?
        }
        6 => unop!(g.a.lock(), inc, m)?,
        7 => unop!(g.a.lock(), neg, m)?,
        8 => rm_r!(g.a.lock(), xadd, m, r)?,
        _ => rm_r!(g.a.lock(), cmpxchg, m, r)?,
    }
    // inc leaves CF alone, the others define all six: the union is what the table needs.
    g.done(ARITH & !CF, 0);
    Ok(())
}

/// `pushf; and $defined,(%esp); popf`: EFLAGS through memory, undefined flags cleared first.
fn gen_pushf_popf(g: &mut Gen) -> GenResult {
    if g.esp_off() < -96 {
        return Ok(());
    }
    let keep = (COMPARED & !g.undef()) | 2;
    if g.rng.chance(1, 3) {
        g.a.pushf()?;
        g.a.and(word_ptr(esp), keep as i32)?;
        g.a.popf()?;
    } else {
        g.a.pushfd()?;
        g.a.and(dword_ptr(esp), keep as i32)?;
        g.a.popfd()?;
    }
    g.set_df(keep & DF != 0 && g.df());
    g.done(ARITH, 0);
    Ok(())
}

/// `pusha; popa` (32- or 16-bit): EBP/BP and ESP come back unchanged.
fn gen_pusha_popa(g: &mut Gen) -> GenResult {
    if g.esp_off() < -90 {
        return Ok(());
    }
    if g.rng.chance(1, 3) {
        g.a.pusha()?;
        g.a.popa()?;
    } else {
        g.a.pushad()?;
        g.a.popad()?;
    }
    g.done(0, 0);
    Ok(())
}
