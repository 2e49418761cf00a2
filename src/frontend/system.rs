//! System instructions: port I/O, hlt, cli/sti.

use super::disas::{DisasContext, DisasJump, EXCP_GP};
use super::helpers;
use crate::cpu::state::{eflags, offsets};
use iced_x86::{Mnemonic, OpKind, Register};

/// True if the current privilege level may execute I/O and IF instructions (CPL <= IOPL); the I/O
/// permission bitmap of the TSS is not consulted.
fn io_allowed(s: &DisasContext) -> bool {
    let iopl = (s.cpu.env.eflags & eflags::IOPL) >> 12;
    s.flags & crate::cpu::state::hflags::PE == 0 || s.cpl() <= iopl
}

/// Translate the instructions of this class; false (nothing emitted) for any other.
pub fn translate(s: &mut DisasContext) -> bool {
    match s.insn.mnemonic() {
        Mnemonic::In | Mnemonic::Out if !io_allowed(s) => s.gen_exception(EXCP_GP),
        Mnemonic::Cli | Mnemonic::Sti if !io_allowed(s) => s.gen_exception(EXCP_GP),
        Mnemonic::In => gen_in(s),
        Mnemonic::Out => gen_out(s),
        Mnemonic::Hlt => {
            if s.cpl() != 0 {
                s.gen_exception(EXCP_GP);
                return true;
            }
            let next = s.pc_next;
            s.gen_update_cc_op();
            s.gen_jmp_im(next);
            s.tcg.gen_call(&helpers::HLT, None, &[]);
            s.gen_eob();
        }
        Mnemonic::Cli | Mnemonic::Sti => {
            let t = s.tcg.new_tmp();
            s.tcg.gen_ld(t, offsets::EFLAGS);
            if s.insn.mnemonic() == Mnemonic::Cli {
                s.tcg.gen_andi(t, t, !eflags::IF);
            } else {
                s.tcg.gen_ori(t, t, eflags::IF);
            }
            s.tcg.gen_st(t, offsets::EFLAGS);
            if s.insn.mnemonic() == Mnemonic::Sti {
                s.is_jmp = DisasJump::EndTb;
            }
        }
        _ => return false,
    }
    true
}

/// The port operand: an immediate or DX.
fn port_operand(s: &mut DisasContext, i: u32) -> crate::tcg::Temp {
    match s.insn.op_kind(i) {
        OpKind::Immediate8 => s.tcg.const_i32(s.insn.immediate8() as u32),
        _ => s.gen_read_reg(Register::DX),
    }
}

fn gen_in(s: &mut DisasContext) {
    let size_log2 = s.op_size_log2(0);
    let port = port_operand(s, 1);
    let size = s.tcg.const_i32(1 << size_log2);
    let v = s.tcg.new_tmp();
    s.tcg.gen_call(&helpers::IN, Some(v), &[port, size]);
    let r = s.insn.op0_register();
    s.gen_write_reg(r, v);
}

fn gen_out(s: &mut DisasContext) {
    let size_log2 = s.op_size_log2(1);
    let port = port_operand(s, 0);
    let r = s.insn.op1_register();
    let v = s.gen_read_reg(r);
    let size = s.tcg.const_i32(1 << size_log2);
    s.tcg.gen_call(&helpers::OUT, None, &[port, v, size]);
}
