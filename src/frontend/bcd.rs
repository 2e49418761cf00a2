//! Decimal (BCD) adjustments: daa, das, aaa, aas, aam, aad (SDM Vol. 2A, each mnemonic's page).
//!
//! All six go through one helper that takes AX and the computed EFLAGS and returns the new AX,
//! with the new flags in `env` scratch space. `aam 0` raises #DE, known at translation time.

use super::disas::{DisasContext, EXCP_DE};
use super::helpers;
use super::helpers::alu::{BcdOp, SCRATCH_FLAGS};
use super::CPU_CC_SRC;
use crate::cpu::CcOp;
use iced_x86::{Mnemonic, Register};

/// Translate the instructions of this class; false (nothing emitted) for any other.
pub fn translate(s: &mut DisasContext) -> bool {
    let op = match s.insn.mnemonic() {
        Mnemonic::Daa => BcdOp::Daa,
        Mnemonic::Das => BcdOp::Das,
        Mnemonic::Aaa => BcdOp::Aaa,
        Mnemonic::Aas => BcdOp::Aas,
        Mnemonic::Aam => BcdOp::Aam,
        Mnemonic::Aad => BcdOp::Aad,
        _ => return false,
    };
    let imm = if matches!(op, BcdOp::Aam | BcdOp::Aad) { s.insn.immediate(0) as u32 & 0xff } else { 0 };
    if op == BcdOp::Aam && imm == 0 {
        s.gen_exception(EXCP_DE);
        return true;
    }
    let f = s.gen_compute_eflags_value();
    let ax = s.gen_read_reg(Register::AX);
    let (opc, immc) = (s.tcg.const_i32(op as u32), s.tcg.const_i32(imm));
    let res = s.tcg.new_tmp();
    s.tcg.gen_call(&helpers::alu::BCD, Some(res), &[opc, ax, f, immc]);
    s.tcg.gen_ld(CPU_CC_SRC, SCRATCH_FLAGS);
    s.set_cc_op(CcOp::Eflags);
    s.gen_write_reg(Register::AX, res);
    true
}
