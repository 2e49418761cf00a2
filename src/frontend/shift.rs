//! Shifts and rotates: shl/sal, shr, sar, rol, ror, rcl, rcr, shld, shrd (SDM Vol. 2B, "SAL/SAR/
//! SHL/SHR", "RCL/RCR/ROL/ROR", "SHLD", "SHRD").
//!
//! The count is masked to 5 bits; a masked count of 0 changes neither the operand nor the flags.
//! With an immediate count that is decided at translation time. With CL it is known only at run
//! time, so the flag globals (and `cc_op`) are updated with `movcond` on the count (QEMU's
//! `gen_shift_flags`), which leaves the static `cc_op` dynamic. Shifts record `Shl`/`Sar` lazy
//! flags; rol/ror compute EFLAGS and patch CF and OF; rcl/rcr call a helper.

use super::alu::gen_store_set_cc;
use super::disas::DisasContext;
use super::helpers;
use super::operand::Loc;
use super::{CPU_CC_DST, CPU_CC_OP, CPU_CC_SRC};
use crate::cpu::state::eflags::{CF, OF};
use crate::cpu::CcOp;
use crate::tcg::{Cond, Temp};
use iced_x86::{Mnemonic, OpKind};

/// Translate the instructions of this class; false (nothing emitted) for any other.
pub fn translate(s: &mut DisasContext) -> bool {
    match s.insn.mnemonic() {
        Mnemonic::Shl | Mnemonic::Sal | Mnemonic::Shr | Mnemonic::Sar => gen_shift(s),
        Mnemonic::Rol | Mnemonic::Ror => gen_rotate(s),
        Mnemonic::Rcl | Mnemonic::Rcr => gen_rotate_carry(s),
        Mnemonic::Shld | Mnemonic::Shrd => gen_shift_double(s),
        _ => false,
    }
}

/// A masked shift count: known at translation time or held in a temp.
#[derive(Copy, Clone)]
enum Count {
    Const(u32),
    Dyn(Temp),
}

/// The masked count from operand `i` (an imm8, or CL).
fn gen_count(s: &mut DisasContext, i: u32) -> Count {
    if s.insn.op_kind(i) == OpKind::Register {
        let cl = s.gen_read_reg(s.insn.op_register(i));
        let t = s.tcg.new_tmp();
        s.tcg.gen_andi(t, cl, 31);
        Count::Dyn(t)
    } else {
        Count::Const(s.insn.immediate(i) as u32 & 31)
    }
}

impl Count {
    fn temp(self, s: &mut DisasContext) -> Temp {
        match self {
            Count::Const(c) => s.tcg.const_i32(c),
            Count::Dyn(t) => t,
        }
    }

    /// count - 1 (as a temp; meaningless when the count is 0).
    fn minus_one(self, s: &mut DisasContext) -> Temp {
        match self {
            Count::Const(c) => s.tcg.const_i32(c.wrapping_sub(1)),
            Count::Dyn(t) => {
                let r = s.tcg.new_tmp();
                s.tcg.gen_subi(r, t, 1);
                r
            }
        }
    }
}

/// Record lazy flags `op(dst, src)` only if the run-time `count` is non-zero (QEMU's
/// `gen_shift_flags`): afterwards the static `cc_op` is unknown.
fn gen_cc_if_count(s: &mut DisasContext, count: Temp, op: CcOp, dst: Temp, src: Temp) {
    s.gen_update_cc_op();
    let zero = s.tcg.const_i32(0);
    s.tcg.gen_movcond(Cond::Ne, CPU_CC_DST, count, zero, dst, CPU_CC_DST);
    s.tcg.gen_movcond(Cond::Ne, CPU_CC_SRC, count, zero, src, CPU_CC_SRC);
    let opc = s.tcg.const_i32(op as u32);
    s.tcg.gen_movcond(Cond::Ne, CPU_CC_OP, count, zero, opc, CPU_CC_OP);
    s.set_cc_op(CcOp::Dynamic);
}

/// Store a shift result and record its flags (`Shl`/`Sar` convention: `tmp` is the operand shifted
/// by count - 1).
fn gen_shift_result(s: &mut DisasContext, dst: Loc, size: u32, count: Count, res: Temp, op: CcOp, tmp: Temp) {
    match count {
        Count::Const(_) => gen_store_set_cc(s, dst, size, res, op, Some(tmp), None),
        Count::Dyn(c) => {
            s.gen_store(dst, size, res);
            gen_cc_if_count(s, c, op, res, tmp);
        }
    }
}

/// shl/sal, shr, sar.
fn gen_shift(s: &mut DisasContext) -> bool {
    let m = s.insn.mnemonic();
    let size = s.op_size_log2(0);
    let dst = s.operand(0);
    let a = s.gen_load(dst, size);
    let count = gen_count(s, 1);
    if let Count::Const(0) = count {
        return true;
    }
    let x = if m == Mnemonic::Sar {
        let t = s.tcg.new_tmp();
        s.tcg.gen_sextract(t, a, 0, 8 << size);
        t
    } else {
        a
    };
    let (c, cm1) = (count.temp(s), count.minus_one(s));
    let (tmp, res) = (s.tcg.new_tmp(), s.tcg.new_tmp());
    let family = match m {
        Mnemonic::Shr => {
            s.tcg.gen_shr(tmp, x, cm1);
            s.tcg.gen_shr(res, x, c);
            CcOp::SarB
        }
        Mnemonic::Sar => {
            s.tcg.gen_sar(tmp, x, cm1);
            s.tcg.gen_sar(res, x, c);
            CcOp::SarB
        }
        _ => {
            s.tcg.gen_shl(tmp, x, cm1);
            s.tcg.gen_shl(res, x, c);
            CcOp::ShlB
        }
    };
    gen_shift_result(s, dst, size, count, res, CcOp::sized(family, size), tmp);
    true
}

/// `x` replicated over 32 bits for 8/16-bit operands, so a 32-bit rotate rotates its low part.
fn gen_replicate(s: &mut DisasContext, x: Temp, size: u32) -> Temp {
    let factor = match size {
        0 => 0x0101_0101,
        1 => 0x0001_0001,
        _ => return x,
    };
    let t = s.tcg.new_tmp();
    s.tcg.gen_muli(t, x, factor);
    t
}

/// Bit `pos` of `v` as 0/1.
fn gen_bit(s: &mut DisasContext, v: Temp, pos: u32) -> Temp {
    let t = s.tcg.new_tmp();
    s.tcg.gen_extract(t, v, pos, 1);
    t
}

/// rol, ror: CF is the bit that wrapped around; OF as the SDM gives it for 1-bit rotates, also
/// for larger counts (as QEMU; the SDM leaves it undefined there).
fn gen_rotate(s: &mut DisasContext) -> bool {
    let size = s.op_size_log2(0);
    let bits = 8 << size;
    let dst = s.operand(0);
    let a = s.gen_load(dst, size);
    let count = gen_count(s, 1);
    if let Count::Const(0) = count {
        return true;
    }
    let old = s.gen_compute_eflags_value();
    let rep = gen_replicate(s, a, size);
    let c = count.temp(s);
    let res = s.tcg.new_tmp();
    let (cf, of) = if s.insn.mnemonic() == Mnemonic::Rol {
        s.tcg.gen_rotl(res, rep, c);
        let cf = gen_bit(s, res, 0);
        let msb = gen_bit(s, res, bits - 1);
        (cf, msb)
    } else {
        s.tcg.gen_rotr(res, rep, c);
        let cf = gen_bit(s, res, bits - 1);
        let next = gen_bit(s, res, bits - 2);
        (cf, next)
    };
    let of_bit = s.tcg.new_tmp();
    s.tcg.gen_xor(of_bit, cf, of);
    s.gen_store(dst, size, res);
    let new = s.tcg.new_tmp();
    s.tcg.gen_andi(new, old, !(CF | OF));
    s.tcg.gen_or(new, new, cf);
    s.tcg.gen_deposit(new, new, of_bit, OF.trailing_zeros(), 1);
    gen_set_eflags_if_count(s, count, new, old);
    true
}

/// Make `new` the flags (cc_op `Eflags`), or keep `old` if the run-time count is 0.
fn gen_set_eflags_if_count(s: &mut DisasContext, count: Count, new: Temp, old: Temp) {
    if let Count::Dyn(c) = count {
        let zero = s.tcg.const_i32(0);
        s.tcg.gen_movcond(Cond::Ne, CPU_CC_SRC, c, zero, new, old);
    } else {
        s.tcg.gen_mov(CPU_CC_SRC, new);
    }
    s.set_cc_op(CcOp::Eflags);
}

/// rcl, rcr: the rotate through CF is done by a helper that also returns the new flags.
fn gen_rotate_carry(s: &mut DisasContext) -> bool {
    let size = s.op_size_log2(0);
    let dst = s.operand(0);
    let a = s.gen_load(dst, size);
    let count = gen_count(s, 1);
    if let Count::Const(0) = count {
        return true;
    }
    let old = s.gen_compute_eflags_value();
    let c = count.temp(s);
    let mode = s.tcg.const_i32(size | (u32::from(s.insn.mnemonic() == Mnemonic::Rcr) << 2));
    let res = s.tcg.new_tmp();
    s.tcg.gen_call(&helpers::alu::RCL_RCR, Some(res), &[a, c, old, mode]);
    let new = s.tcg.new_tmp();
    s.tcg.gen_ld(new, helpers::alu::SCRATCH_FLAGS);
    s.gen_store(dst, size, res);
    s.tcg.gen_mov(CPU_CC_SRC, new);
    s.set_cc_op(CcOp::Eflags);
    true
}

/// shld, shrd (count taken mod 32; for 16-bit operands counts above 16 are undefined in the SDM).
fn gen_shift_double(s: &mut DisasContext) -> bool {
    let left = s.insn.mnemonic() == Mnemonic::Shld;
    let size = s.op_size_log2(0);
    let dst = s.operand(0);
    let d = s.gen_load(dst, size);
    let src = s.gen_read_reg(s.insn.op1_register());
    let count = gen_count(s, 2);
    if let Count::Const(0) = count {
        return true;
    }
    let (c, cm1) = (count.temp(s), count.minus_one(s));
    let (res, tmp) = if size == 1 { gen_shd16(s, d, src, c, cm1, left) } else { gen_shd32(s, d, src, c, cm1, left) };
    let family = if left { CcOp::ShlB } else { CcOp::SarB };
    gen_shift_result(s, dst, size, count, res, CcOp::sized(family, size), tmp);
    true
}

/// 32-bit shld/shrd: (result, operand shifted by count - 1).
fn gen_shd32(s: &mut DisasContext, d: Temp, src: Temp, c: Temp, cm1: Temp, left: bool) -> (Temp, Temp) {
    let (res, tmp, fill, back) = (s.tcg.new_tmp(), s.tcg.new_tmp(), s.tcg.new_tmp(), s.tcg.new_tmp());
    // fill = src shifted the other way by 32 - c, as (src >> 1) >> (31 - c) so c = 0 gives 0.
    s.tcg.gen_xori(back, c, 31);
    if left {
        s.tcg.gen_shri(fill, src, 1);
        s.tcg.gen_shr(fill, fill, back);
        s.tcg.gen_shl(res, d, c);
        s.tcg.gen_shl(tmp, d, cm1);
    } else {
        s.tcg.gen_shli(fill, src, 1);
        s.tcg.gen_shl(fill, fill, back);
        s.tcg.gen_shr(res, d, c);
        s.tcg.gen_shr(tmp, d, cm1);
    }
    s.tcg.gen_or(res, res, fill);
    (res, tmp)
}

/// 16-bit shld/shrd on the 32-bit concatenation of the two operands.
fn gen_shd16(s: &mut DisasContext, d: Temp, src: Temp, c: Temp, cm1: Temp, left: bool) -> (Temp, Temp) {
    let (cat, res, tmp) = (s.tcg.new_tmp(), s.tcg.new_tmp(), s.tcg.new_tmp());
    if left {
        s.tcg.gen_deposit(cat, src, d, 16, 16);
        s.tcg.gen_shl(res, cat, c);
        s.tcg.gen_shri(res, res, 16);
        s.tcg.gen_shl(tmp, cat, cm1);
        s.tcg.gen_shri(tmp, tmp, 16);
    } else {
        s.tcg.gen_deposit(cat, d, src, 16, 16);
        s.tcg.gen_shr(res, cat, c);
        s.tcg.gen_shr(tmp, cat, cm1);
    }
    (res, tmp)
}
