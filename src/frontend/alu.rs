//! Data movement and two-operand integer arithmetic: mov/movzx/movsx/lea, add/adc/sub/sbb/cmp,
//! and/or/xor/test, inc/dec, neg/not, cbw/cwde/cwd/cdq and the nop forms (SDM Vol. 2, the pages
//! of each mnemonic).
//!
//! Flags follow the lazy scheme of `cc.rs`: each instruction records its `CcOp` and operands.
//! Ordering invariant (see `gen_store_set_cc`): memory stores, which can fault, come before any
//! write of a flag global; flag globals are written before a destination register, because the
//! recorded operands may be that very register's old value.

use super::disas::DisasContext;
use super::operand::Loc;
use crate::cpu::state::R_EAX;
use crate::cpu::CcOp;
use crate::tcg::Temp;
use iced_x86::{Mnemonic, Register};

/// Translate the instructions of this class; false (nothing emitted) for any other.
pub fn translate(s: &mut DisasContext) -> bool {
    match s.insn.mnemonic() {
        Mnemonic::Nop | Mnemonic::Pause => true,
        Mnemonic::Mov | Mnemonic::Movzx | Mnemonic::Movsx | Mnemonic::Lea => gen_mov_like(s),
        Mnemonic::Add | Mnemonic::Sub | Mnemonic::Cmp | Mnemonic::And | Mnemonic::Or | Mnemonic::Xor => gen_arith(s),
        Mnemonic::Adc | Mnemonic::Sbb | Mnemonic::Test => gen_arith(s),
        Mnemonic::Inc | Mnemonic::Dec => gen_inc_dec(s),
        Mnemonic::Neg | Mnemonic::Not => gen_neg_not(s),
        Mnemonic::Cbw | Mnemonic::Cwde | Mnemonic::Cwd | Mnemonic::Cdq => gen_sign_extend_acc(s),
        _ => false,
    }
}

/// Write `r` to `dst` and record the flags `op(r, src, src2)` in the order of the module invariant.
pub fn gen_store_set_cc(
    s: &mut DisasContext,
    dst: Loc,
    size: u32,
    r: Temp,
    op: CcOp,
    src: Option<Temp>,
    src2: Option<Temp>,
) {
    if let Loc::Mem(_) = dst {
        s.gen_store(dst, size, r);
        s.gen_set_cc(op, r, src, src2);
    } else {
        s.gen_set_cc(op, r, src, src2);
        s.gen_store(dst, size, r);
    }
}

/// mov, movzx, movsx, lea.
pub fn gen_mov_like(s: &mut DisasContext) -> bool {
    let m = s.insn.mnemonic();
    let dsize = s.op_size_log2(0);
    let v = match m {
        Mnemonic::Lea => s.gen_lea(),
        _ => {
            let ssize = s.op_size_log2(1);
            let src = s.operand(1);
            let v = s.gen_load(src, ssize);
            if m == Mnemonic::Movsx {
                let t = s.tcg.new_tmp();
                s.tcg.gen_sextract(t, v, 0, 8 << ssize);
                t
            } else {
                v
            }
        }
    };
    let dst = s.operand(0);
    if matches!(dst, Loc::Reg(r) if r.is_segment_register()) {
        return false;
    }
    s.gen_store(dst, dsize, v);
    true
}

/// add, adc, sub, sbb, cmp, and, or, xor, test (QEMU's `gen_op`).
pub fn gen_arith(s: &mut DisasContext) -> bool {
    let m = s.insn.mnemonic();
    let size = s.op_size_log2(0);
    let dst = s.operand(0);
    let a = s.gen_load(dst, size);
    let src = s.operand(1);
    let b = s.gen_load(src, size);
    let carry = matches!(m, Mnemonic::Adc | Mnemonic::Sbb).then(|| s.gen_compute_c());
    let r = s.tcg.new_tmp();
    let cc = match m {
        Mnemonic::Add | Mnemonic::Adc => {
            s.tcg.gen_add(r, a, b);
            CcOp::AddB
        }
        Mnemonic::Sub | Mnemonic::Sbb | Mnemonic::Cmp => {
            s.tcg.gen_sub(r, a, b);
            CcOp::SubB
        }
        Mnemonic::And | Mnemonic::Test => {
            s.tcg.gen_and(r, a, b);
            CcOp::LogicB
        }
        Mnemonic::Or => {
            s.tcg.gen_or(r, a, b);
            CcOp::LogicB
        }
        _ => {
            s.tcg.gen_xor(r, a, b);
            CcOp::LogicB
        }
    };
    let cc = match (carry, m) {
        (Some(c), Mnemonic::Adc) => {
            s.tcg.gen_add(r, r, c);
            CcOp::AdcB
        }
        (Some(c), _) => {
            s.tcg.gen_sub(r, r, c);
            CcOp::SbbB
        }
        (None, _) => cc,
    };
    let src_rec = (cc != CcOp::LogicB).then_some(b);
    let op = CcOp::sized(cc, size);
    if matches!(m, Mnemonic::Cmp | Mnemonic::Test) {
        s.gen_set_cc(op, r, src_rec, None);
    } else {
        gen_store_set_cc(s, dst, size, r, op, src_rec, carry);
    }
    true
}

/// inc, dec: CF is preserved, so its current value is recorded in `cc_src`.
pub fn gen_inc_dec(s: &mut DisasContext) -> bool {
    let size = s.op_size_log2(0);
    let dst = s.operand(0);
    let a = s.gen_load(dst, size);
    let cf = s.gen_compute_c();
    let r = s.tcg.new_tmp();
    let (delta, cc) = if s.insn.mnemonic() == Mnemonic::Inc { (1, CcOp::IncB) } else { (u32::MAX, CcOp::DecB) };
    s.tcg.gen_addi(r, a, delta);
    gen_store_set_cc(s, dst, size, r, CcOp::sized(cc, size), Some(cf), None);
    true
}

/// neg (flags of `0 - x`, recorded as a subtraction) and not (no flags).
pub fn gen_neg_not(s: &mut DisasContext) -> bool {
    let size = s.op_size_log2(0);
    let dst = s.operand(0);
    let a = s.gen_load(dst, size);
    let r = s.tcg.new_tmp();
    if s.insn.mnemonic() == Mnemonic::Not {
        s.tcg.gen_not(r, a);
        s.gen_store(dst, size, r);
    } else {
        s.tcg.gen_neg(r, a);
        gen_store_set_cc(s, dst, size, r, CcOp::sized(CcOp::SubB, size), Some(a), None);
    }
    true
}

/// cbw, cwde (sign-extend AL/AX in place), cwd, cdq (AX/EAX's sign into DX/EDX).
pub fn gen_sign_extend_acc(s: &mut DisasContext) -> bool {
    let m = s.insn.mnemonic();
    let t = s.tcg.new_tmp();
    match m {
        Mnemonic::Cbw | Mnemonic::Cwde => {
            let (src_bits, dst) = if m == Mnemonic::Cbw { (8, Register::AX) } else { (16, Register::EAX) };
            s.tcg.gen_sextract(t, super::cpu_reg(R_EAX), 0, src_bits);
            s.gen_write_reg(dst, t);
        }
        _ => {
            let (pos, dst) = if m == Mnemonic::Cwd { (15, Register::DX) } else { (31, Register::EDX) };
            s.tcg.gen_sextract(t, super::cpu_reg(R_EAX), pos, 1);
            s.gen_write_reg(dst, t);
        }
    }
    true
}
