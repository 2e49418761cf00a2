//! Direct flag instructions: lahf, sahf, clc, stc, cmc (SDM Vol. 2A "LAHF", "CLC", "CMC",
//! Vol. 2B "SAHF", "STC"). Each computes EFLAGS, edits it and leaves `cc_op` as `Eflags`.
//! (cld/std belong with the string instructions, which own DF.)

use super::cpu_reg;
use super::disas::DisasContext;
use super::CPU_CC_SRC;
use crate::cpu::state::eflags::{AF, CF, FIXED1, OF, PF, SF, ZF};
use crate::cpu::state::R_EAX;
use crate::cpu::CcOp;
use iced_x86::Mnemonic;

/// The flags lahf/sahf move between AH and EFLAGS.
const AH_FLAGS: u32 = SF | ZF | AF | PF | CF;

/// Translate the instructions of this class; false (nothing emitted) for any other.
pub fn translate(s: &mut DisasContext) -> bool {
    match s.insn.mnemonic() {
        Mnemonic::Lahf => gen_lahf(s),
        Mnemonic::Sahf => gen_sahf(s),
        Mnemonic::Clc | Mnemonic::Stc | Mnemonic::Cmc => gen_carry_op(s),
        _ => false,
    }
}

/// AH = SF:ZF:0:AF:0:PF:1:CF.
fn gen_lahf(s: &mut DisasContext) -> bool {
    let f = s.gen_compute_eflags_value();
    let t = s.tcg.new_tmp();
    s.tcg.gen_andi(t, f, AH_FLAGS);
    s.tcg.gen_ori(t, t, FIXED1);
    s.tcg.gen_deposit(cpu_reg(R_EAX), cpu_reg(R_EAX), t, 8, 8);
    true
}

/// SF ZF AF PF CF = AH's bits; OF unchanged.
fn gen_sahf(s: &mut DisasContext) -> bool {
    let f = s.gen_compute_eflags_value();
    let (ah, t) = (s.tcg.new_tmp(), s.tcg.new_tmp());
    s.tcg.gen_extract(ah, cpu_reg(R_EAX), 8, 8);
    s.tcg.gen_andi(ah, ah, AH_FLAGS);
    s.tcg.gen_andi(t, f, OF);
    s.tcg.gen_or(t, t, ah);
    s.tcg.gen_mov(CPU_CC_SRC, t);
    s.set_cc_op(CcOp::Eflags);
    true
}

/// clc, stc, cmc.
fn gen_carry_op(s: &mut DisasContext) -> bool {
    let f = s.gen_compute_eflags_value();
    let t = s.tcg.new_tmp();
    match s.insn.mnemonic() {
        Mnemonic::Clc => s.tcg.gen_andi(t, f, !CF),
        Mnemonic::Stc => s.tcg.gen_ori(t, f, CF),
        _ => s.tcg.gen_xori(t, f, CF),
    }
    s.tcg.gen_mov(CPU_CC_SRC, t);
    s.set_cc_op(CcOp::Eflags);
    true
}
