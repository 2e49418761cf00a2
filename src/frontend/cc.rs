//! Lazy flags in generated code: record operands for `cc_op`, and turn x86 conditions into IR
//! comparisons (QEMU's `gen_prepare_cc`), straight from the recorded operands where the operation
//! allows it, else from the computed EFLAGS.

use super::disas::DisasContext;
use super::helpers;
use super::{CPU_CC_DST, CPU_CC_OP, CPU_CC_SRC, CPU_CC_SRC2};
use crate::cpu::state::eflags::{CF, OF, PF, SF, ZF};
use crate::cpu::CcOp;
use crate::tcg::{Cond, Temp};

/// x86 condition numbers (the low nibble of `jcc`), SDM Vol. 2, Appendix B.1.4.7.
pub const JCC_O: u32 = 0;
pub const JCC_B: u32 = 1;
pub const JCC_Z: u32 = 2;
pub const JCC_BE: u32 = 3;
pub const JCC_S: u32 = 4;
pub const JCC_P: u32 = 5;
pub const JCC_L: u32 = 6;
pub const JCC_LE: u32 = 7;

/// A condition ready for `brcond`/`setcond`/`movcond`: `a cond b`.
#[derive(Copy, Clone, Debug)]
pub struct CcPrepare {
    pub cond: Cond,
    pub a: Temp,
    pub b: Temp,
}

impl DisasContext<'_> {
    /// Flags now come from `op` on these operands (unused operands may be `None`).
    pub fn gen_set_cc(&mut self, op: CcOp, dst: Temp, src: Option<Temp>, src2: Option<Temp>) {
        self.tcg.gen_mov(CPU_CC_DST, dst);
        if let Some(s) = src {
            self.tcg.gen_mov(CPU_CC_SRC, s);
        }
        if let Some(s) = src2 {
            self.tcg.gen_mov(CPU_CC_SRC2, s);
        }
        self.set_cc_op(op);
    }

    /// The arithmetic flags as a value (CF PF AF ZF SF OF in their EFLAGS positions).
    pub fn gen_compute_eflags_value(&mut self) -> Temp {
        if self.cc_op == CcOp::Eflags {
            return CPU_CC_SRC;
        }
        self.gen_update_cc_op();
        let t = self.tcg.new_tmp();
        self.tcg.gen_call(&helpers::CC_COMPUTE_ALL, Some(t), &[CPU_CC_DST, CPU_CC_SRC, CPU_CC_SRC2, CPU_CC_OP]);
        t
    }

    /// Materialize the flags: afterwards `cc_op` is `Eflags` and `cc_src` holds them.
    pub fn gen_compute_eflags(&mut self) {
        if self.cc_op == CcOp::Eflags {
            return;
        }
        let f = self.gen_compute_eflags_value();
        self.tcg.gen_mov(CPU_CC_SRC, f);
        self.set_cc_op(CcOp::Eflags);
    }

    /// CF as 0/1.
    pub fn gen_compute_c(&mut self) -> Temp {
        let p = self.gen_prepare_cc(JCC_B << 1);
        let t = self.tcg.new_tmp();
        self.tcg.gen_setcond(p.cond, t, p.a, p.b);
        t
    }

    /// Sign- or zero-extend `v` from the size of the current `cc_op`.
    fn gen_ext_cc(&mut self, v: Temp, signed: bool) -> Temp {
        let bits = 8 << self.cc_op.size_log2();
        if bits == 32 {
            return v;
        }
        let t = self.tcg.new_tmp();
        if signed {
            self.tcg.gen_sextract(t, v, 0, bits);
        } else {
            self.tcg.gen_extract(t, v, 0, bits);
        }
        t
    }

    /// Prepare x86 condition `b` (0..15: the jcc/setcc/cmovcc condition nibble).
    pub fn gen_prepare_cc(&mut self, b: u32) -> CcPrepare {
        let (jcc, inv) = (b >> 1, b & 1 != 0);
        let p = self.prepare_fast(jcc).unwrap_or_else(|| self.prepare_from_eflags(jcc));
        if inv {
            CcPrepare { cond: p.cond.invert(), ..p }
        } else {
            p
        }
    }

    /// Conditions that read the recorded operands directly.
    fn prepare_fast(&mut self, jcc: u32) -> Option<CcPrepare> {
        let zero = self.tcg.const_i32(0);
        match (self.cc_op.family(), jcc) {
            (CcOp::SubB, JCC_B | JCC_BE | JCC_L | JCC_LE) => {
                let signed = matches!(jcc, JCC_L | JCC_LE);
                let src1 = self.tcg.new_tmp();
                self.tcg.gen_add(src1, CPU_CC_DST, CPU_CC_SRC);
                let a = self.gen_ext_cc(src1, signed);
                let b = self.gen_ext_cc(CPU_CC_SRC, signed);
                let cond = match jcc {
                    JCC_B => Cond::Ltu,
                    JCC_BE => Cond::Leu,
                    JCC_L => Cond::Lt,
                    _ => Cond::Le,
                };
                Some(CcPrepare { cond, a, b })
            }
            (CcOp::AddB, JCC_B) => {
                // The sum wrapped: result < addend (at the operand size).
                let a = self.gen_ext_cc(CPU_CC_DST, false);
                let b = self.gen_ext_cc(CPU_CC_SRC, false);
                Some(CcPrepare { cond: Cond::Ltu, a, b })
            }
            (CcOp::IncB | CcOp::DecB, JCC_B) => Some(CcPrepare { cond: Cond::Ne, a: CPU_CC_SRC, b: zero }),
            (CcOp::LogicB, JCC_L | JCC_LE) => {
                let a = self.gen_ext_cc(CPU_CC_DST, true);
                Some(CcPrepare { cond: if jcc == JCC_L { Cond::Lt } else { Cond::Le }, a, b: zero })
            }
            (CcOp::LogicB, JCC_B | JCC_O) => Some(CcPrepare { cond: Cond::Never, a: zero, b: zero }),
            (CcOp::LogicB, JCC_BE) | (_, JCC_Z) if self.cc_op_sets_zf_from_dst() => {
                let a = self.gen_ext_cc(CPU_CC_DST, false);
                Some(CcPrepare { cond: Cond::Eq, a, b: zero })
            }
            (_, JCC_S) if self.cc_op_sets_zf_from_dst() => {
                let a = self.gen_ext_cc(CPU_CC_DST, true);
                Some(CcPrepare { cond: Cond::Lt, a, b: zero })
            }
            _ => None,
        }
    }

    /// True when ZF and SF are those of `cc_dst` at the cc_op's size.
    fn cc_op_sets_zf_from_dst(&self) -> bool {
        matches!(
            self.cc_op.family(),
            CcOp::AddB
                | CcOp::AdcB
                | CcOp::SubB
                | CcOp::SbbB
                | CcOp::LogicB
                | CcOp::IncB
                | CcOp::DecB
                | CcOp::ShlB
                | CcOp::SarB
        )
    }

    /// Any condition, from the computed flags.
    fn prepare_from_eflags(&mut self, jcc: u32) -> CcPrepare {
        let f = self.gen_compute_eflags_value();
        let zero = self.tcg.const_i32(0);
        let t = self.tcg.new_tmp();
        match jcc {
            JCC_L | JCC_LE => {
                // SF ^ OF (OF is 4 bits above SF), plus ZF for LE.
                let of = self.tcg.new_tmp();
                self.tcg.gen_shri(of, f, 4);
                self.tcg.gen_xor(t, f, of);
                let m = if jcc == JCC_LE { SF | ZF } else { SF };
                self.tcg.gen_andi(t, t, m);
            }
            _ => {
                let m = match jcc {
                    JCC_O => OF,
                    JCC_B => CF,
                    JCC_Z => ZF,
                    JCC_BE => CF | ZF,
                    JCC_S => SF,
                    _ => PF,
                };
                self.tcg.gen_andi(t, f, m);
            }
        }
        CcPrepare { cond: Cond::Ne, a: t, b: zero }
    }
}
