//! Stack instructions: push, pop (registers, memory, immediates, segment registers), pusha/popa,
//! pushf/popf, enter, leave (SDM Vol. 2, their instruction pages).
//!
//! The stack is SS-relative; its address size comes from SS.B (`ss32`), the operand size from the
//! instruction. Every load and store of an instruction happens before ESP or any other register is
//! written, so a fault on the stack leaves the registers of the instruction's start.

use super::cpu_reg;
use super::disas::DisasContext;
use super::helpers;
use super::operand::Loc;
use super::segment::gen_load_seg;
use crate::cpu::state::{offsets, R_EBP, R_ESP, R_SS};
use crate::cpu::CcOp;
use crate::tcg::Temp;
use iced_x86::{Mnemonic, OpKind, Register};

/// Translate the instructions of this class; false (nothing emitted) for any other.
pub fn translate(s: &mut DisasContext) -> bool {
    match s.insn.mnemonic() {
        Mnemonic::Push => gen_push_insn(s),
        Mnemonic::Pop => gen_pop_insn(s),
        Mnemonic::Pusha | Mnemonic::Pushad => gen_pusha(s),
        Mnemonic::Popa | Mnemonic::Popad => gen_popa(s),
        Mnemonic::Pushf | Mnemonic::Pushfd => gen_pushf(s),
        Mnemonic::Popf | Mnemonic::Popfd => gen_popf(s),
        Mnemonic::Enter => gen_enter(s),
        Mnemonic::Leave => gen_leave(s),
        _ => return false,
    }
    true
}

/// log2 of the operand size of a push or pop (2 or 4 bytes), from the stack pointer change.
pub fn stack_op_size_log2(s: &DisasContext) -> u32 {
    if s.insn.stack_pointer_increment().unsigned_abs() == 4 {
        2
    } else {
        1
    }
}

/// The stack offset `esp + delta`, wrapped to the stack size (the caller adds SS's base).
pub fn gen_stack_offset(s: &mut DisasContext, delta: i32) -> Temp {
    let t = s.tcg.new_tmp();
    s.tcg.gen_addi(t, cpu_reg(R_ESP), delta as u32);
    if !s.ss32() {
        s.tcg.gen_ext16u(t, t);
    }
    t
}

/// The linear address of stack offset `off` (a temp already wrapped to the stack size).
pub fn gen_stack_addr(s: &mut DisasContext, off: Temp) -> Temp {
    s.gen_add_seg(R_SS, off)
}

/// Push a 32- or 16-bit value (SS-relative, stack size from SS.B).
pub fn gen_push(s: &mut DisasContext, v: Temp, size_log2: u32) {
    let esp = gen_stack_offset(s, -(1 << size_log2));
    let addr = gen_stack_addr(s, esp);
    s.gen_st_mem(addr, size_log2, v);
    gen_set_esp(s, esp);
}

/// Pop: returns (value, new esp); the caller writes esp with `gen_set_esp` after its other effects.
pub fn gen_pop(s: &mut DisasContext, size_log2: u32) -> (Temp, Temp) {
    let off = gen_stack_offset(s, 0);
    let addr = gen_stack_addr(s, off);
    let v = s.gen_ld_mem(addr, size_log2);
    let esp = s.tcg.new_tmp();
    s.tcg.gen_addi(esp, off, 1 << size_log2);
    (v, esp)
}

/// Write esp (only the low half with a 16-bit stack).
pub fn gen_set_esp(s: &mut DisasContext, esp: Temp) {
    if s.ss32() {
        s.tcg.gen_mov(cpu_reg(R_ESP), esp);
    } else {
        s.tcg.gen_deposit(cpu_reg(R_ESP), cpu_reg(R_ESP), esp, 0, 16);
    }
}

/// Write a register at the stack address size (EBP and ESP updates of enter/leave).
fn gen_set_stack_reg(s: &mut DisasContext, reg: usize, v: Temp) {
    if s.ss32() {
        s.tcg.gen_mov(cpu_reg(reg), v);
    } else {
        s.tcg.gen_deposit(cpu_reg(reg), cpu_reg(reg), v, 0, 16);
    }
}

/// Write general register `reg` at operand size `size_log2` (1 or 2).
fn gen_set_reg_sized(s: &mut DisasContext, reg: usize, size_log2: u32, v: Temp) {
    if size_log2 == 2 {
        s.tcg.gen_mov(cpu_reg(reg), v);
    } else {
        s.tcg.gen_deposit(cpu_reg(reg), cpu_reg(reg), v, 0, 16);
    }
}

/// push r/m, imm, sreg. `push esp` stores the value from before the push.
fn gen_push_insn(s: &mut DisasContext) {
    let size = stack_op_size_log2(s);
    let v = match s.insn.op0_kind() {
        OpKind::Register if s.insn.op0_register().is_segment_register() => {
            let seg = super::operand::seg_index(s.insn.op0_register());
            let t = s.tcg.new_tmp();
            s.tcg.gen_ld(t, offsets::seg_selector(seg));
            t
        }
        _ => {
            let loc = s.operand(0);
            s.gen_load(loc, size)
        }
    };
    gen_push(s, v, size);
}

/// pop r/m, sreg. A memory destination based on ESP uses ESP after the pop (SDM Vol. 2, POP);
/// `pop esp` leaves the popped value in ESP.
fn gen_pop_insn(s: &mut DisasContext) {
    let size = stack_op_size_log2(s);
    let (v, esp) = gen_pop(s, size);
    match s.insn.op0_kind() {
        OpKind::Register if s.insn.op0_register().is_segment_register() => {
            let seg = super::operand::seg_index(s.insn.op0_register());
            gen_load_seg(s, seg, v);
            gen_set_esp(s, esp);
            super::segment::gen_end_after_seg_load(s, seg);
        }
        OpKind::Register => {
            gen_set_esp(s, esp);
            let r = s.insn.op0_register();
            s.gen_write_reg(r, v);
        }
        _ => {
            let mut addr = s.gen_mem_addr();
            if matches!(s.insn.memory_base(), Register::ESP | Register::SP) {
                let t = s.tcg.new_tmp();
                s.tcg.gen_addi(t, addr, 1 << size);
                addr = t;
            }
            s.gen_store(Loc::Mem(addr), size, v);
            gen_set_esp(s, esp);
        }
    }
}

/// pusha/pushad: EAX, ECX, EDX, EBX, the original ESP, EBP, ESI, EDI.
fn gen_pusha(s: &mut DisasContext) {
    let size = if s.insn.mnemonic() == Mnemonic::Pushad { 2 } else { 1 };
    let bytes = 1i32 << size;
    for reg in 0..8 {
        let off = gen_stack_offset(s, -bytes * (reg as i32 + 1));
        let addr = gen_stack_addr(s, off);
        s.gen_st_mem(addr, size, cpu_reg(reg));
    }
    let esp = gen_stack_offset(s, -bytes * 8);
    gen_set_esp(s, esp);
}

/// popa/popad: all loads first, then the registers (the stored ESP is skipped).
fn gen_popa(s: &mut DisasContext) {
    let size = if s.insn.mnemonic() == Mnemonic::Popad { 2 } else { 1 };
    let bytes = 1i32 << size;
    let mut vals = [None; 8];
    for (i, reg) in (0..8).rev().enumerate() {
        if reg == R_ESP {
            continue;
        }
        let off = gen_stack_offset(s, bytes * i as i32);
        let addr = gen_stack_addr(s, off);
        vals[reg] = Some(s.gen_ld_mem(addr, size));
    }
    let esp = gen_stack_offset(s, bytes * 8);
    for (reg, v) in vals.iter().enumerate() {
        if let Some(v) = *v {
            gen_set_reg_sized(s, reg, size, v);
        }
    }
    gen_set_esp(s, esp);
}

/// pushf/pushfd: the full EFLAGS image (arithmetic flags computed).
fn gen_pushf(s: &mut DisasContext) {
    let size = if s.insn.mnemonic() == Mnemonic::Pushfd { 2 } else { 1 };
    s.gen_update_cc_op();
    let v = s.tcg.new_tmp();
    s.tcg.gen_call(&helpers::system::READ_EFLAGS, Some(v), &[]);
    gen_push(s, v, size);
}

/// popf/popfd: flags as CPL and IOPL allow; the flags become `CcOp::Eflags` and the TB ends (IF
/// and TF may have changed).
fn gen_popf(s: &mut DisasContext) {
    let size = if s.insn.mnemonic() == Mnemonic::Popfd { 2 } else { 1 };
    let (v, esp) = gen_pop(s, size);
    let bytes = s.tcg.const_i32(1 << size);
    s.tcg.gen_call(&helpers::system::WRITE_EFLAGS, None, &[v, bytes]);
    s.set_cc_op(CcOp::Eflags);
    s.cc_op_dirty = false;
    gen_set_esp(s, esp);
    gen_eob_next(s);
}

/// End the TB after the current instruction, returning to the exec loop (state that translation
/// or interrupt delivery depends on has changed).
pub fn gen_eob_next(s: &mut DisasContext) {
    let next = s.pc_next;
    s.gen_jmp_im(next);
    s.gen_eob();
}

/// enter imm16, imm8 (QEMU's `gen_enter`): push EBP, copy `level - 1` frame pointers from the old
/// frame, push the new frame pointer, then EBP = frame and ESP = frame - locals.
fn gen_enter(s: &mut DisasContext) {
    let size = if s.insn.code() == iced_x86::Code::Enterd_imm16_imm8 { 2 } else { 1 };
    let bytes = 1i32 << size;
    let locals = s.insn.immediate16() as i32;
    let level = (s.insn.immediate8_2nd() & 31) as i32;
    let frame = gen_stack_offset(s, -bytes);
    let addr = gen_stack_addr(s, frame);
    s.gen_st_mem(addr, size, cpu_reg(R_EBP));
    for i in 1..level {
        let src = s.tcg.new_tmp();
        s.tcg.gen_addi(src, cpu_reg(R_EBP), (-bytes * i) as u32);
        wrap_stack(s, src);
        let a = gen_stack_addr(s, src);
        let v = s.gen_ld_mem(a, size);
        let dst = frame_slot(s, frame, -bytes * i);
        s.gen_st_mem(dst, size, v);
    }
    if level > 0 {
        let dst = frame_slot(s, frame, -bytes * level);
        s.gen_st_mem(dst, size, frame);
    }
    let esp = s.tcg.new_tmp();
    s.tcg.gen_subi(esp, frame, (locals + bytes * level) as u32);
    wrap_stack(s, esp);
    gen_set_stack_reg(s, R_EBP, frame);
    gen_set_stack_reg(s, R_ESP, esp);
}

/// Wrap a stack offset to 16 bits with a 16-bit stack.
fn wrap_stack(s: &mut DisasContext, t: Temp) {
    if !s.ss32() {
        s.tcg.gen_ext16u(t, t);
    }
}

/// The linear address of `frame + delta` on the stack.
fn frame_slot(s: &mut DisasContext, frame: Temp, delta: i32) -> Temp {
    let t = s.tcg.new_tmp();
    s.tcg.gen_addi(t, frame, delta as u32);
    wrap_stack(s, t);
    gen_stack_addr(s, t)
}

/// leave: ESP = EBP, then pop EBP.
fn gen_leave(s: &mut DisasContext) {
    let size = if s.insn.code() == iced_x86::Code::Leaved { 2 } else { 1 };
    let off = s.tcg.new_tmp();
    s.tcg.gen_mov(off, cpu_reg(R_EBP));
    wrap_stack(s, off);
    let addr = gen_stack_addr(s, off);
    let v = s.gen_ld_mem(addr, size);
    let esp = s.tcg.new_tmp();
    s.tcg.gen_addi(esp, off, 1 << size);
    wrap_stack(s, esp);
    gen_set_reg_sized(s, R_EBP, size, v);
    gen_set_stack_reg(s, R_ESP, esp);
}
