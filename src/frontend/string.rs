//! String instructions: movs, stos, lods, cmps, scas, ins, outs (b/w/d), with rep/repe/repne
//! (SDM Vol. 2, their instruction pages and "REP/REPE/REPZ/REPNE/REPNZ").
//!
//! The source is seg:ESI (DS unless overridden), the destination ES:EDI (never overridden); with a
//! 16-bit address size SI, DI and CX are used and wrap at 64 KiB. DF is in `env.df` as +1/-1, so
//! the step is `df << size`. One iteration does its loads and stores first and only then updates
//! ESI/EDI/ECX, so a fault leaves the registers of the iterations done so far.
//!
//! A rep instruction loops inside its TB for up to `REP_BATCH` iterations, then jumps back to
//! itself (ending the TB, so the exec loop can take interrupts between batches); it always ends the
//! TB. For repe/repne cmps/scas the flags change every iteration: `cc_op` is kept in the global
//! (dynamic) and the instruction's `insn_start` records `CcOp::Dynamic`, so a fault in a later
//! iteration keeps the flags of the previous one.

use super::cpu_reg;
use super::disas::DisasContext;
use super::helpers;
use super::operand::seg_index;
use crate::cpu::state::{offsets, R_ECX, R_EDI, R_ES, R_ESI};
use crate::cpu::CcOp;
use crate::tcg::{Cond, Opcode, Temp};
use iced_x86::{Code, OpKind, Register};

/// Iterations of a rep instruction per execution of its TB.
pub const REP_BATCH: u32 = 1024;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Kind {
    Movs,
    Stos,
    Lods,
    Cmps,
    Scas,
    Ins,
    Outs,
}

/// One decoded string instruction.
#[derive(Copy, Clone, Debug)]
struct StrOp {
    kind: Kind,
    size: u32,
    addr16: bool,
    /// The source segment (DS or the override).
    seg: usize,
}

/// The kind and log2 size of a string instruction.
fn classify(code: Code) -> Option<(Kind, u32)> {
    use Code::*;
    Some(match code {
        Movsb_m8_m8 => (Kind::Movs, 0),
        Movsw_m16_m16 => (Kind::Movs, 1),
        Movsd_m32_m32 => (Kind::Movs, 2),
        Stosb_m8_AL => (Kind::Stos, 0),
        Stosw_m16_AX => (Kind::Stos, 1),
        Stosd_m32_EAX => (Kind::Stos, 2),
        Lodsb_AL_m8 => (Kind::Lods, 0),
        Lodsw_AX_m16 => (Kind::Lods, 1),
        Lodsd_EAX_m32 => (Kind::Lods, 2),
        Cmpsb_m8_m8 => (Kind::Cmps, 0),
        Cmpsw_m16_m16 => (Kind::Cmps, 1),
        Cmpsd_m32_m32 => (Kind::Cmps, 2),
        Scasb_AL_m8 => (Kind::Scas, 0),
        Scasw_AX_m16 => (Kind::Scas, 1),
        Scasd_EAX_m32 => (Kind::Scas, 2),
        Insb_m8_DX => (Kind::Ins, 0),
        Insw_m16_DX => (Kind::Ins, 1),
        Insd_m32_DX => (Kind::Ins, 2),
        Outsb_DX_m8 => (Kind::Outs, 0),
        Outsw_DX_m16 => (Kind::Outs, 1),
        Outsd_DX_m32 => (Kind::Outs, 2),
        _ => return None,
    })
}

/// Translate the instructions of this class; false (nothing emitted) for any other.
pub fn translate(s: &mut DisasContext) -> bool {
    let Some((kind, size)) = classify(s.insn.code()) else { return false };
    if matches!(kind, Kind::Ins | Kind::Outs) {
        super::system::gen_check_io(s);
    }
    let addr16 = (0..s.insn.op_count())
        .any(|i| matches!(s.insn.op_kind(i), OpKind::MemorySegSI | OpKind::MemorySegDI | OpKind::MemoryESDI));
    let op = StrOp { kind, size, addr16, seg: seg_index(s.insn.memory_segment()) };
    if s.insn.has_rep_prefix() || s.insn.has_repne_prefix() {
        gen_rep(s, op);
    } else {
        gen_body(s, op);
    }
    true
}

/// The accumulator register of `size`.
fn accumulator(size: u32) -> Register {
    [Register::AL, Register::AX, Register::EAX][size.min(2) as usize]
}

/// The linear address of seg:ESI or ES:EDI.
fn gen_str_addr(s: &mut DisasContext, op: StrOp, reg: usize, seg: usize) -> Temp {
    let off = if op.addr16 {
        let t = s.tcg.new_tmp();
        s.tcg.gen_ext16u(t, cpu_reg(reg));
        t
    } else {
        cpu_reg(reg)
    };
    s.gen_add_seg(seg, off)
}

/// ESI or EDI += delta (only SI/DI with a 16-bit address size).
fn gen_advance(s: &mut DisasContext, op: StrOp, reg: usize, delta: Temp) {
    if op.addr16 {
        let t = s.tcg.new_tmp();
        s.tcg.gen_add(t, cpu_reg(reg), delta);
        s.tcg.gen_deposit(cpu_reg(reg), cpu_reg(reg), t, 0, 16);
    } else {
        s.tcg.gen_add(cpu_reg(reg), cpu_reg(reg), delta);
    }
}

/// The step: DF (+1/-1) scaled by the operand size.
fn gen_delta(s: &mut DisasContext, size: u32) -> Temp {
    let t = s.tcg.new_tmp();
    s.tcg.gen_ld(t, offsets::DF);
    s.tcg.gen_shli(t, t, size);
    t
}

/// One iteration, without the counter.
fn gen_body(s: &mut DisasContext, op: StrOp) {
    let delta = gen_delta(s, op.size);
    match op.kind {
        Kind::Movs => {
            let src = gen_str_addr(s, op, R_ESI, op.seg);
            let v = s.gen_ld_mem(src, op.size);
            let dst = gen_str_addr(s, op, R_EDI, R_ES);
            s.gen_st_mem(dst, op.size, v);
            gen_advance(s, op, R_ESI, delta);
            gen_advance(s, op, R_EDI, delta);
        }
        Kind::Stos => {
            let dst = gen_str_addr(s, op, R_EDI, R_ES);
            s.gen_st_mem(dst, op.size, cpu_reg(0));
            gen_advance(s, op, R_EDI, delta);
        }
        Kind::Lods => {
            let src = gen_str_addr(s, op, R_ESI, op.seg);
            let v = s.gen_ld_mem(src, op.size);
            s.gen_write_reg(accumulator(op.size), v);
            gen_advance(s, op, R_ESI, delta);
        }
        Kind::Cmps | Kind::Scas => gen_compare(s, op, delta),
        Kind::Ins | Kind::Outs => gen_io(s, op, delta),
    }
}

/// cmps (seg:ESI - ES:EDI) and scas (accumulator - ES:EDI): flags as for `sub`.
fn gen_compare(s: &mut DisasContext, op: StrOp, delta: Temp) {
    let a = if op.kind == Kind::Cmps {
        let src = gen_str_addr(s, op, R_ESI, op.seg);
        s.gen_ld_mem(src, op.size)
    } else {
        s.gen_read_reg(accumulator(op.size))
    };
    let dst = gen_str_addr(s, op, R_EDI, R_ES);
    let b = s.gen_ld_mem(dst, op.size);
    let r = s.tcg.new_tmp();
    s.tcg.gen_sub(r, a, b);
    if op.kind == Kind::Cmps {
        gen_advance(s, op, R_ESI, delta);
    }
    gen_advance(s, op, R_EDI, delta);
    s.gen_set_cc(CcOp::sized(CcOp::SubB, op.size), r, Some(b), None);
}

/// ins (port DX to ES:EDI; the destination is probed with a store first so a fault does not lose
/// the port read) and outs (seg:ESI to port DX).
fn gen_io(s: &mut DisasContext, op: StrOp, delta: Temp) {
    let port = s.gen_read_reg(Register::DX);
    let bytes = s.tcg.const_i32(1 << op.size);
    if op.kind == Kind::Ins {
        let dst = gen_str_addr(s, op, R_EDI, R_ES);
        let zero = s.tcg.const_i32(0);
        s.gen_st_mem(dst, op.size, zero);
        let v = s.tcg.new_tmp();
        s.tcg.gen_call(&helpers::IN, Some(v), &[port, bytes]);
        s.gen_st_mem(dst, op.size, v);
        gen_advance(s, op, R_EDI, delta);
    } else {
        let src = gen_str_addr(s, op, R_ESI, op.seg);
        let v = s.gen_ld_mem(src, op.size);
        s.tcg.gen_call(&helpers::OUT, None, &[port, v, bytes]);
        gen_advance(s, op, R_ESI, delta);
    }
}

/// The counter (ECX, or CX with a 16-bit address size).
fn gen_count(s: &mut DisasContext, op: StrOp) -> Temp {
    if !op.addr16 {
        return cpu_reg(R_ECX);
    }
    let t = s.tcg.new_tmp();
    s.tcg.gen_ext16u(t, cpu_reg(R_ECX));
    t
}

/// The counter minus one.
fn gen_dec_count(s: &mut DisasContext, op: StrOp) {
    if op.addr16 {
        let t = s.tcg.new_tmp();
        s.tcg.gen_subi(t, cpu_reg(R_ECX), 1);
        s.tcg.gen_deposit(cpu_reg(R_ECX), cpu_reg(R_ECX), t, 0, 16);
    } else {
        s.tcg.gen_subi(cpu_reg(R_ECX), cpu_reg(R_ECX), 1);
    }
}

/// The rep loop:
///   n = 0
/// top: if count == 0 goto done
///   body; count -= 1
///   (repe: if !ZF goto done; repne: if ZF goto done)
///   if ++n < REP_BATCH goto top
///   goto_tb this instruction
/// done: goto_tb next instruction
fn gen_rep(s: &mut DisasContext, op: StrOp) {
    let compare = matches!(op.kind, Kind::Cmps | Kind::Scas);
    s.gen_update_cc_op();
    if compare {
        mark_insn_start_dynamic(s);
    }
    let n = s.tcg.new_local();
    s.tcg.gen_movi(n, 0);
    let (top, done) = (s.tcg.new_label(), s.tcg.new_label());
    s.tcg.gen_set_label(top);
    let count = gen_count(s, op);
    s.tcg.gen_brcondi(Cond::Eq, count, 0, done);
    gen_body(s, op);
    gen_dec_count(s, op);
    if compare {
        s.gen_update_cc_op();
        let p = s.gen_prepare_cc(super::cc::JCC_Z << 1);
        let stop = if s.insn.has_repne_prefix() { p.cond } else { p.cond.invert() };
        s.tcg.gen_brcond(stop, p.a, p.b, done);
    }
    s.tcg.gen_addi(n, n, 1);
    s.tcg.gen_brcondi(Cond::Ltu, n, REP_BATCH, top);
    let here = s.pc;
    s.gen_jmp_tb(here, 1);
    s.tcg.gen_set_label(done);
    let next = s.pc_next;
    s.gen_jmp_tb(next, 0);
    if compare {
        s.set_cc_op(CcOp::Dynamic);
    }
}

/// Make the current instruction's `insn_start` record a dynamic `cc_op`: on a fault the exec loop
/// then keeps the `cc_op` in `env` instead of the one from the instruction's start.
fn mark_insn_start_dynamic(s: &mut DisasContext) {
    if let Some(op) = s.tcg.ops.iter_mut().rev().find(|op| op.opc == Opcode::InsnStart) {
        op.args[1] = CcOp::Dynamic as u32;
    }
}
