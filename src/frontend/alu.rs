//! Data movement and integer arithmetic: mov/movzx/movsx/lea, the two-operand ALU group, inc/dec.
//!
//! Flags follow the lazy scheme of `cc.rs`: each instruction records its `CcOp` and operands.
//! Results are written to the destination only after every load of the instruction.

use super::disas::DisasContext;
use super::operand::Loc;
use crate::cpu::CcOp;
use iced_x86::Mnemonic;

/// Translate the instructions of this class; false (nothing emitted) for any other.
pub fn translate(s: &mut DisasContext) -> bool {
    match s.insn.mnemonic() {
        Mnemonic::Nop | Mnemonic::Pause => true,
        Mnemonic::Mov | Mnemonic::Movzx | Mnemonic::Movsx | Mnemonic::Lea => gen_mov_like(s),
        Mnemonic::Add | Mnemonic::Sub | Mnemonic::Cmp | Mnemonic::And | Mnemonic::Or | Mnemonic::Xor => gen_arith(s),
        Mnemonic::Inc | Mnemonic::Dec => gen_inc_dec(s),
        _ => false,
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

/// add, sub, cmp, and, or, xor (QEMU's `gen_op`).
pub fn gen_arith(s: &mut DisasContext) -> bool {
    let m = s.insn.mnemonic();
    let size = s.op_size_log2(0);
    let dst = s.operand(0);
    let a = s.gen_load(dst, size);
    let src = s.operand(1);
    let b = s.gen_load(src, size);
    let r = s.tcg.new_tmp();
    let cc = match m {
        Mnemonic::Add => {
            s.tcg.gen_add(r, a, b);
            CcOp::AddB
        }
        Mnemonic::Sub | Mnemonic::Cmp => {
            s.tcg.gen_sub(r, a, b);
            CcOp::SubB
        }
        Mnemonic::And => {
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
    if m != Mnemonic::Cmp {
        s.gen_store(dst, size, r);
    }
    let src_rec = (cc != CcOp::LogicB).then_some(b);
    s.gen_set_cc(CcOp::sized(cc, size), r, src_rec, None);
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
    s.gen_store(dst, size, r);
    s.gen_set_cc(CcOp::sized(cc, size), r, Some(cf), None);
    true
}
