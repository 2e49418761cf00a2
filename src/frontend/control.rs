//! Control transfer: jmp, call, ret (near), jcc.

use super::cpu_reg;
use super::disas::DisasContext;
use super::operand::Loc;
use crate::cpu::state::R_ESP;
use iced_x86::{Mnemonic, OpKind};

/// Translate the instructions of this class; false (nothing emitted) for any other.
pub fn translate(s: &mut DisasContext) -> bool {
    match s.insn.mnemonic() {
        Mnemonic::Jmp | Mnemonic::Call | Mnemonic::Ret => gen_jmp_call_ret(s),
        m if is_jcc(m) => gen_jcc(s),
        _ => false,
    }
}

pub fn is_jcc(m: Mnemonic) -> bool {
    matches!(
        m,
        Mnemonic::Jo
            | Mnemonic::Jno
            | Mnemonic::Jb
            | Mnemonic::Jae
            | Mnemonic::Je
            | Mnemonic::Jne
            | Mnemonic::Jbe
            | Mnemonic::Ja
            | Mnemonic::Js
            | Mnemonic::Jns
            | Mnemonic::Jp
            | Mnemonic::Jnp
            | Mnemonic::Jl
            | Mnemonic::Jge
            | Mnemonic::Jle
            | Mnemonic::Jg
    )
}

/// The 0..15 condition nibble of a jcc/setcc/cmovcc.
pub fn condition_nibble(s: &DisasContext) -> u32 {
    s.insn.condition_code() as u32 - 1
}

/// The branch target of a near direct branch, wrapped to the operand size.
fn near_target(s: &DisasContext) -> u32 {
    match s.insn.op0_kind() {
        OpKind::NearBranch16 => s.insn.near_branch16() as u32,
        _ => s.insn.near_branch32(),
    }
}

/// jcc rel: both outcomes leave through goto_tb (slot 1 = not taken, slot 0 = taken).
pub fn gen_jcc(s: &mut DisasContext) -> bool {
    let b = condition_nibble(s);
    let target = near_target(s);
    let p = s.gen_prepare_cc(b);
    s.gen_update_cc_op();
    let taken = s.tcg.new_label();
    s.tcg.gen_brcond(p.cond, p.a, p.b, taken);
    let next = s.pc_next;
    s.gen_jmp_tb(next, 1);
    s.tcg.gen_set_label(taken);
    s.gen_jmp_tb(target, 0);
    true
}

/// Push a 32- or 16-bit value (SS-relative, stack size from SS.B).
pub fn gen_push(s: &mut DisasContext, v: crate::tcg::Temp, size_log2: u32) {
    let esp = s.tcg.new_tmp();
    s.tcg.gen_subi(esp, cpu_reg(R_ESP), 1 << size_log2);
    if !s.ss32() {
        s.tcg.gen_ext16u(esp, esp);
    }
    let addr = s.gen_add_seg(crate::cpu::state::R_SS, esp);
    s.gen_st_mem(addr, size_log2, v);
    gen_set_esp(s, esp);
}

/// Pop: returns (value, new esp); the caller writes esp with `gen_set_esp` after its other effects.
pub fn gen_pop(s: &mut DisasContext, size_log2: u32) -> (crate::tcg::Temp, crate::tcg::Temp) {
    let off = s.tcg.new_tmp();
    if s.ss32() {
        s.tcg.gen_mov(off, cpu_reg(R_ESP));
    } else {
        s.tcg.gen_ext16u(off, cpu_reg(R_ESP));
    }
    let addr = s.gen_add_seg(crate::cpu::state::R_SS, off);
    let v = s.gen_ld_mem(addr, size_log2);
    let esp = s.tcg.new_tmp();
    s.tcg.gen_addi(esp, off, 1 << size_log2);
    (v, esp)
}

/// Write esp (only the low half with a 16-bit stack).
pub fn gen_set_esp(s: &mut DisasContext, esp: crate::tcg::Temp) {
    if s.ss32() {
        s.tcg.gen_mov(cpu_reg(R_ESP), esp);
    } else {
        s.tcg.gen_deposit(cpu_reg(R_ESP), cpu_reg(R_ESP), esp, 0, 16);
    }
}

/// jmp, call, ret: near forms (direct and indirect).
pub fn gen_jmp_call_ret(s: &mut DisasContext) -> bool {
    let m = s.insn.mnemonic();
    let size = if s.insn.code_size() == iced_x86::CodeSize::Code16 { 1 } else { 2 };
    if m == Mnemonic::Ret {
        let (v, esp) = gen_pop(s, size);
        let imm = if s.insn.op_count() > 0 { s.insn.immediate16() as u32 } else { 0 };
        s.tcg.gen_addi(esp, esp, imm);
        gen_set_esp(s, esp);
        s.gen_jmp_dynamic(v);
        return true;
    }
    let direct = matches!(s.insn.op0_kind(), OpKind::NearBranch16 | OpKind::NearBranch32);
    let target = if direct {
        None
    } else {
        if !matches!(s.insn.op0_kind(), OpKind::Register | OpKind::Memory) {
            return false;
        }
        let loc: Loc = s.operand(0);
        Some(s.gen_load(loc, size))
    };
    if m == Mnemonic::Call {
        let ret = s.tcg.const_i32(s.pc_next);
        gen_push(s, ret, size);
    }
    match target {
        None => {
            let t = near_target(s);
            s.gen_jmp_tb(t, 0);
        }
        Some(t) => s.gen_jmp_dynamic(t),
    }
    true
}
