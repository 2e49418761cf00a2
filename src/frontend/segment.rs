//! Segment register moves: mov to and from segment registers, lds/les/lfs/lgs/lss (SDM Vol. 2, MOV
//! and LDS/LES/LFS/LGS/LSS; descriptor checks in `cpu::seg`).
//!
//! A load goes through the `load_seg` helper (it may fault, so it runs before any register write).
//! Loading SS, DS or ES can change `hflags` (SS32, ADDSEG): the TB ends after it. Loading SS with
//! mov or pop also blocks interrupts until the next instruction has run (`INHIBIT_IRQ`).

use super::disas::{DisasContext, EXCP_UD};
use super::helpers;
use super::operand::{seg_index, Loc};
use super::stack::gen_eob_next;
use crate::cpu::state::{hflags, offsets, R_CS, R_DS, R_ES, R_FS, R_GS, R_SS};
use crate::tcg::Temp;
use iced_x86::{Mnemonic, OpKind};

/// Translate the instructions of this class; false (nothing emitted) for any other. Runs before the
/// ALU class so that `mov` with a segment register operand is handled here.
pub fn translate(s: &mut DisasContext) -> bool {
    match s.insn.mnemonic() {
        Mnemonic::Mov if sreg_operand(s).is_some() => gen_mov_sreg(s),
        Mnemonic::Lds => gen_lxs(s, R_DS),
        Mnemonic::Les => gen_lxs(s, R_ES),
        Mnemonic::Lfs => gen_lxs(s, R_FS),
        Mnemonic::Lgs => gen_lxs(s, R_GS),
        Mnemonic::Lss => gen_lxs(s, R_SS),
        _ => return false,
    }
    true
}

/// The index (0 or 1) of a segment register operand.
fn sreg_operand(s: &DisasContext) -> Option<u32> {
    (0..s.insn.op_count().min(2))
        .find(|&i| s.insn.op_kind(i) == OpKind::Register && s.insn.op_register(i).is_segment_register())
}

/// Call the `load_seg` helper for segment `seg` with the selector in `sel`.
pub fn gen_load_seg(s: &mut DisasContext, seg: usize, sel: Temp) {
    let n = s.tcg.const_i32(seg as u32);
    s.tcg.gen_call(&helpers::seg::LOAD_SEG, None, &[n, sel]);
}

/// After the register writes of a segment load: block interrupts after SS loads by mov/pop, and end
/// the TB when `hflags` may have changed.
pub fn gen_end_after_seg_load(s: &mut DisasContext, seg: usize) {
    if seg == R_SS && matches!(s.insn.mnemonic(), Mnemonic::Mov | Mnemonic::Pop) {
        gen_set_hflag(s, hflags::INHIBIT_IRQ);
    }
    if matches!(seg, R_SS | R_DS | R_ES) {
        gen_eob_next(s);
    }
}

/// hflags |= `bit`.
pub fn gen_set_hflag(s: &mut DisasContext, bit: u32) {
    let t = s.tcg.new_tmp();
    s.tcg.gen_ld(t, offsets::HFLAGS);
    s.tcg.gen_ori(t, t, bit);
    s.tcg.gen_st(t, offsets::HFLAGS);
}

/// mov Sreg, r/m16 and mov r/m, Sreg (a register destination gets the selector zero-extended).
fn gen_mov_sreg(s: &mut DisasContext) {
    if sreg_operand(s) == Some(1) {
        let seg = seg_index(s.insn.op1_register());
        let v = s.tcg.new_tmp();
        s.tcg.gen_ld(v, offsets::seg_selector(seg));
        let size = if s.insn.op0_kind() == OpKind::Memory { 1 } else { s.op_size_log2(0) };
        let dst = s.operand(0);
        s.gen_store(dst, size, v);
        return;
    }
    let seg = seg_index(s.insn.op0_register());
    if seg == R_CS {
        return s.gen_exception(EXCP_UD);
    }
    let src = s.operand(1);
    let size = if matches!(src, Loc::Mem(_)) { 1 } else { s.op_size_log2(1) };
    let v = s.gen_load(src, size);
    gen_load_seg(s, seg, v);
    gen_end_after_seg_load(s, seg);
}

/// lds/les/lfs/lgs/lss r, m16:16 / m16:32: offset first, selector after it.
fn gen_lxs(s: &mut DisasContext, seg: usize) {
    if s.insn.op1_kind() != OpKind::Memory {
        return s.gen_exception(EXCP_UD);
    }
    let size = s.op_size_log2(0).max(1);
    let addr = s.gen_mem_addr();
    let off = s.gen_ld_mem(addr, size);
    let sel_addr = s.tcg.new_tmp();
    s.tcg.gen_addi(sel_addr, addr, 1 << size);
    let sel = s.gen_ld_mem(sel_addr, 1);
    gen_load_seg(s, seg, sel);
    let r = s.insn.op0_register();
    s.gen_write_reg(r, off);
    gen_end_after_seg_load(s, seg);
}
