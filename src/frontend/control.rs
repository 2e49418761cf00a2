//! Control transfer: jmp, call, ret (near and far), jcc, loop/loope/loopne, jcxz/jecxz (SDM Vol. 2,
//! their instruction pages).
//!
//! Near branches leave the TB through `goto_tb` (direct) or `lookup_and_goto_ptr` (indirect). Far
//! transfers go through helpers (`cpu::far`) that check the target, set CS and EIP and may change
//! `hflags`, so the TB ends with `exit_tb 0`. Operand size (0x66) selects 16-bit return addresses
//! and targets; address size (0x67) selects CX for the loop instructions.

use super::cpu_reg;
use super::disas::{DisasContext, EXCP_UD};
use super::helpers;
use crate::cpu::state::R_ECX;
use crate::tcg::{Cond, Temp};
use iced_x86::{Code, Mnemonic, OpKind};

pub use super::stack::{gen_pop, gen_push, gen_set_esp};

/// Translate the instructions of this class; false (nothing emitted) for any other.
pub fn translate(s: &mut DisasContext) -> bool {
    match s.insn.mnemonic() {
        Mnemonic::Jmp | Mnemonic::Call if is_far(s) => gen_far_jmp_call(s),
        Mnemonic::Jmp | Mnemonic::Call | Mnemonic::Ret => return gen_jmp_call_ret(s),
        Mnemonic::Retf => gen_far_ret(s),
        Mnemonic::Loop | Mnemonic::Loope | Mnemonic::Loopne => gen_loop(s),
        Mnemonic::Jcxz | Mnemonic::Jecxz => gen_jcxz(s),
        m if is_jcc(m) => return gen_jcc(s),
        _ => return false,
    }
    true
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

/// Branch to `target` when `cond(a, b)`, else fall through to the next instruction
/// (slot 1 = not taken, slot 0 = taken). The exit that comes first in the IR is the one generated
/// code reaches without a jump: the fall-through, as in QEMU, except for a backward branch
/// (a loop's), which is more often taken; there the branch tests the opposite condition.
fn gen_branch(s: &mut DisasContext, cond: Cond, a: Temp, b: Temp, target: u32) {
    s.gen_update_cc_op();
    let label = s.tcg.new_label();
    let next = s.pc_next;
    if target <= s.pc {
        s.tcg.gen_brcond(cond.invert(), a, b, label);
        s.gen_jmp_tb(target, 0);
        s.tcg.gen_set_label(label);
        s.gen_jmp_tb(next, 1);
    } else {
        s.tcg.gen_brcond(cond, a, b, label);
        s.gen_jmp_tb(next, 1);
        s.tcg.gen_set_label(label);
        s.gen_jmp_tb(target, 0);
    }
}

/// jcc rel.
pub fn gen_jcc(s: &mut DisasContext) -> bool {
    let b = condition_nibble(s);
    let target = near_target(s);
    let p = s.gen_prepare_cc(b);
    gen_branch(s, p.cond, p.a, p.b, target);
    true
}

/// True when the loop/jcxz counter is CX (16-bit address size), not ECX.
fn counter_is_cx(s: &DisasContext) -> bool {
    matches!(
        s.insn.code(),
        Code::Loop_rel8_16_CX
            | Code::Loop_rel8_32_CX
            | Code::Loope_rel8_16_CX
            | Code::Loope_rel8_32_CX
            | Code::Loopne_rel8_16_CX
            | Code::Loopne_rel8_32_CX
            | Code::Jcxz_rel8_16
            | Code::Jcxz_rel8_32
    )
}

/// The counter (ECX or CX, zero-extended).
fn gen_counter(s: &mut DisasContext) -> Temp {
    if !counter_is_cx(s) {
        return cpu_reg(R_ECX);
    }
    let t = s.tcg.new_tmp();
    s.tcg.gen_ext16u(t, cpu_reg(R_ECX));
    t
}

/// loop/loope/loopne: decrement the counter (flags unchanged), branch while it is non-zero (and ZF
/// is set / clear).
fn gen_loop(s: &mut DisasContext) {
    let target = near_target(s);
    let m = s.insn.mnemonic();
    let zf = (m != Mnemonic::Loop).then(|| {
        let p = s.gen_prepare_cc(super::cc::JCC_Z << 1);
        let t = s.tcg.new_tmp();
        s.tcg.gen_setcond(p.cond, t, p.a, p.b);
        if m == Mnemonic::Loopne {
            s.tcg.gen_xori(t, t, 1);
        }
        t
    });
    if counter_is_cx(s) {
        let t = s.tcg.new_tmp();
        s.tcg.gen_subi(t, cpu_reg(R_ECX), 1);
        s.tcg.gen_deposit(cpu_reg(R_ECX), cpu_reg(R_ECX), t, 0, 16);
    } else {
        s.tcg.gen_subi(cpu_reg(R_ECX), cpu_reg(R_ECX), 1);
    }
    let count = gen_counter(s);
    let go = s.tcg.new_tmp();
    s.tcg.gen_setcondi(Cond::Ne, go, count, 0);
    if let Some(z) = zf {
        s.tcg.gen_and(go, go, z);
    }
    let zero = s.tcg.const_i32(0);
    gen_branch(s, Cond::Ne, go, zero, target);
}

/// jcxz/jecxz: branch when the counter is zero.
fn gen_jcxz(s: &mut DisasContext) {
    let target = near_target(s);
    let count = gen_counter(s);
    let zero = s.tcg.const_i32(0);
    gen_branch(s, Cond::Eq, count, zero, target);
}

/// Operand size of a near call/ret/jmp: 1 (16-bit) or 2 (32-bit).
fn near_size_log2(s: &DisasContext) -> u32 {
    match s.insn.code() {
        Code::Retnw | Code::Retnw_imm16 | Code::Call_rel16 | Code::Call_rm16 | Code::Jmp_rm16 => 1,
        _ => 2,
    }
}

/// jmp, call, ret: near forms (direct and indirect).
pub fn gen_jmp_call_ret(s: &mut DisasContext) -> bool {
    let m = s.insn.mnemonic();
    let size = near_size_log2(s);
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
        let loc = s.operand(0);
        Some(s.gen_load(loc, size))
    };
    if m == Mnemonic::Call {
        let ret = s.tcg.const_i32(s.pc_next & if size == 1 { 0xffff } else { u32::MAX });
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

/// True for the far forms of jmp and call (ptr16:16/32 or m16:16/32).
fn is_far(s: &DisasContext) -> bool {
    matches!(s.insn.op0_kind(), OpKind::FarBranch16 | OpKind::FarBranch32)
        || matches!(
            s.insn.code(),
            Code::Jmp_m1616
                | Code::Jmp_m1632
                | Code::Jmp_m1664
                | Code::Call_m1616
                | Code::Call_m1632
                | Code::Call_m1664
        )
}

/// The (selector, offset) of a far jmp/call and its operand size in bytes.
fn far_operand(s: &mut DisasContext) -> (Temp, Temp, u32) {
    match s.insn.op0_kind() {
        OpKind::FarBranch16 => {
            let sel = s.tcg.const_i32(s.insn.far_branch_selector() as u32);
            (sel, s.tcg.const_i32(s.insn.far_branch16() as u32), 2)
        }
        OpKind::FarBranch32 => {
            let sel = s.tcg.const_i32(s.insn.far_branch_selector() as u32);
            (sel, s.tcg.const_i32(s.insn.far_branch32()), 4)
        }
        _ => {
            let size = if matches!(s.insn.code(), Code::Jmp_m1616 | Code::Call_m1616) { 1 } else { 2 };
            let addr = s.gen_mem_addr();
            let off = s.gen_ld_mem(addr, size);
            let sel_addr = s.tcg.new_tmp();
            s.tcg.gen_addi(sel_addr, addr, 1 << size);
            (s.gen_ld_mem(sel_addr, 1), off, 1 << size)
        }
    }
}

/// ljmp / lcall: the helper checks the target and sets CS:EIP; the TB ends.
fn gen_far_jmp_call(s: &mut DisasContext) {
    if s.insn.code() == Code::Jmp_m1664 || s.insn.code() == Code::Call_m1664 {
        return s.gen_exception(EXCP_UD);
    }
    let (sel, off, bytes) = far_operand(s);
    if s.insn.mnemonic() == Mnemonic::Jmp {
        s.tcg.gen_call(&helpers::seg::FAR_JMP, None, &[sel, off]);
    } else {
        let size = s.tcg.const_i32(bytes);
        let next = s.tcg.const_i32(s.pc_next);
        s.tcg.gen_call(&helpers::seg::FAR_CALL, None, &[sel, off, size, next]);
    }
    s.gen_eob();
}

/// lret [imm16].
fn gen_far_ret(s: &mut DisasContext) {
    let size = s.tcg.const_i32(1 << stack_op_size_log2_far(s));
    let imm = s.tcg.const_i32(if s.insn.op_count() > 0 { s.insn.immediate16() as u32 } else { 0 });
    s.tcg.gen_call(&helpers::seg::FAR_RET, None, &[size, imm]);
    s.gen_eob();
}

/// log2 of the operand size of a far return.
fn stack_op_size_log2_far(s: &DisasContext) -> u32 {
    match s.insn.code() {
        Code::Retfw | Code::Retfw_imm16 => 1,
        _ => 2,
    }
}
