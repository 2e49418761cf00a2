//! Software interrupts and the return from interrupts: int n, int3, into, iret (SDM Vol. 2, INT n/
//! INTO/INT3/INT1 and IRET; delivery in `cpu::excp`).
//!
//! `int n` records the vector as a software interrupt (`exception_is_int = 1`, `exception_next_eip`
//! = the next instruction) and leaves the TB; the exec loop restores eip to the `int` instruction
//! and delivers through the IDT, which checks the gate's DPL and pushes the next instruction's eip.

use super::disas::{DisasContext, DisasJump};
use super::helpers;
use crate::cpu::CcOp;
use iced_x86::{Code, Mnemonic};

/// Translate the instructions of this class; false (nothing emitted) for any other.
pub fn translate(s: &mut DisasContext) -> bool {
    match s.insn.mnemonic() {
        Mnemonic::Int => gen_int(s, s.insn.immediate8()),
        Mnemonic::Int3 => gen_int(s, 3),
        Mnemonic::Into => gen_into(s),
        Mnemonic::Iret | Mnemonic::Iretd => gen_iret(s),
        _ => return false,
    }
    true
}

/// Raise software interrupt `vector` returning to the next instruction.
fn gen_int(s: &mut DisasContext, vector: u8) {
    s.gen_update_cc_op();
    let v = s.tcg.const_i32(vector as u32);
    let next = s.tcg.const_i32(s.pc_next);
    s.tcg.gen_call(&helpers::system::RAISE_INTERRUPT, None, &[v, next]);
    s.is_jmp = DisasJump::NoReturn;
}

/// into: interrupt 4 if OF is set, else go on.
fn gen_into(s: &mut DisasContext) {
    let p = s.gen_prepare_cc(super::cc::JCC_O << 1);
    s.gen_update_cc_op();
    let skip = s.tcg.new_label();
    s.tcg.gen_brcond(p.cond.invert(), p.a, p.b, skip);
    gen_int(s, 4);
    s.tcg.gen_set_label(skip);
    s.is_jmp = DisasJump::Next;
}

/// iret/iretd: the helper pops EIP, CS, EFLAGS (and SS:ESP on a return to an outer level).
fn gen_iret(s: &mut DisasContext) {
    let size = if s.insn.code() == Code::Iretw { 2 } else { 4 };
    s.gen_update_cc_op();
    let size = s.tcg.const_i32(size);
    s.tcg.gen_call(&helpers::seg::IRET, None, &[size]);
    s.set_cc_op(CcOp::Eflags);
    s.cc_op_dirty = false;
    s.gen_eob();
}
