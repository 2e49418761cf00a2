//! System instructions: port I/O, hlt, cli/sti, cld/std, cpuid, rdtsc, the descriptor table
//! registers (lgdt/lidt/sgdt/sidt, lldt/sldt, ltr/str), control and debug register moves,
//! lmsw/smsw/clts, invlpg, wbinvd/invd (SDM Vol. 2, their instruction pages).
//!
//! Privileged instructions raise #GP(0) at CPL > 0 (CPL is part of the TB key, so this is decided
//! at translation time). IOPL is not in the TB key: IN/OUT/CLI/STI check it at run time through a
//! helper when CPL > 0 in protected mode. Writes that change the CPU mode end the TB.

use super::disas::{DisasContext, EXCP_GP, EXCP_UD};
use super::helpers;
use super::segment::gen_set_hflag;
use super::stack::gen_eob_next;
use crate::cpu::state::{eflags, hflags, offsets, CpuState};
use crate::tcg::Temp;
use core::mem::offset_of;
use iced_x86::{Code, Mnemonic, OpKind, Register};

/// Translate the instructions of this class; false (nothing emitted) for any other. Runs before the
/// ALU class so that `mov` with a control or debug register operand is handled here.
pub fn translate(s: &mut DisasContext) -> bool {
    match s.insn.mnemonic() {
        Mnemonic::In => gen_in(s),
        Mnemonic::Out => gen_out(s),
        Mnemonic::Cli | Mnemonic::Sti => gen_cli_sti(s),
        Mnemonic::Cld => s.tcg.gen_sti(1, offsets::DF),
        Mnemonic::Std => s.tcg.gen_sti(u32::MAX, offsets::DF),
        Mnemonic::Cpuid => s.tcg.gen_call(&helpers::system::CPUID, None, &[]),
        Mnemonic::Rdtsc => s.tcg.gen_call(&helpers::system::RDTSC, None, &[]),
        Mnemonic::Mov if special_reg_operand(s).is_some() => gen_mov_special(s),
        Mnemonic::Sgdt | Mnemonic::Sidt => gen_store_table(s),
        Mnemonic::Smsw => gen_smsw(s),
        Mnemonic::Sldt | Mnemonic::Str => gen_store_selector(s),
        m if is_privileged(m) && s.cpl() != 0 => s.gen_exception(EXCP_GP),
        Mnemonic::Hlt => gen_hlt(s),
        Mnemonic::Lgdt | Mnemonic::Lidt => gen_load_table(s),
        Mnemonic::Lldt | Mnemonic::Ltr => gen_lldt_ltr(s),
        Mnemonic::Lmsw | Mnemonic::Clts => gen_lmsw_clts(s),
        Mnemonic::Invlpg => gen_invlpg(s),
        Mnemonic::Wbinvd | Mnemonic::Invd => {}
        _ => return false,
    }
    true
}

/// Instructions that need CPL 0 (besides the register moves, checked on their own).
fn is_privileged(m: Mnemonic) -> bool {
    matches!(
        m,
        Mnemonic::Hlt
            | Mnemonic::Lgdt
            | Mnemonic::Lidt
            | Mnemonic::Lldt
            | Mnemonic::Ltr
            | Mnemonic::Lmsw
            | Mnemonic::Clts
            | Mnemonic::Invlpg
            | Mnemonic::Wbinvd
            | Mnemonic::Invd
    )
}

/// At CPL > 0 in protected mode, check CPL <= IOPL at run time (#GP(0) otherwise).
pub fn gen_check_io(s: &mut DisasContext) {
    if s.flags & hflags::PE != 0 && s.cpl() > 0 {
        s.tcg.gen_call(&helpers::system::CHECK_IOPL, None, &[]);
    }
}

/// The port operand: an immediate or DX.
fn port_operand(s: &mut DisasContext, i: u32) -> Temp {
    match s.insn.op_kind(i) {
        OpKind::Immediate8 => s.tcg.const_i32(s.insn.immediate8() as u32),
        _ => s.gen_read_reg(Register::DX),
    }
}

fn gen_in(s: &mut DisasContext) {
    gen_check_io(s);
    let size_log2 = s.op_size_log2(0);
    let port = port_operand(s, 1);
    let size = s.tcg.const_i32(1 << size_log2);
    let v = s.tcg.new_tmp();
    s.tcg.gen_call(&helpers::IN, Some(v), &[port, size]);
    let r = s.insn.op0_register();
    s.gen_write_reg(r, v);
}

fn gen_out(s: &mut DisasContext) {
    gen_check_io(s);
    let size_log2 = s.op_size_log2(1);
    let port = port_operand(s, 0);
    let r = s.insn.op1_register();
    let v = s.gen_read_reg(r);
    let size = s.tcg.const_i32(1 << size_log2);
    s.tcg.gen_call(&helpers::OUT, None, &[port, v, size]);
}

/// hlt: eip points past it while halted.
fn gen_hlt(s: &mut DisasContext) {
    let next = s.pc_next;
    s.gen_update_cc_op();
    s.gen_jmp_im(next);
    s.tcg.gen_call(&helpers::HLT, None, &[]);
    s.gen_eob();
}

/// cli/sti. After sti, interrupts stay blocked until the next instruction has run (`INHIBIT_IRQ`)
/// and the TB ends so that the exec loop sees the new IF.
fn gen_cli_sti(s: &mut DisasContext) {
    gen_check_io(s);
    let t = s.tcg.new_tmp();
    s.tcg.gen_ld(t, offsets::EFLAGS);
    if s.insn.mnemonic() == Mnemonic::Cli {
        s.tcg.gen_andi(t, t, !eflags::IF);
        s.tcg.gen_st(t, offsets::EFLAGS);
        return;
    }
    s.tcg.gen_ori(t, t, eflags::IF);
    s.tcg.gen_st(t, offsets::EFLAGS);
    gen_set_hflag(s, hflags::INHIBIT_IRQ);
    gen_eob_next(s);
}

/// The operand index of a control or debug register in a `mov`.
fn special_reg_operand(s: &DisasContext) -> Option<u32> {
    (0..s.insn.op_count().min(2)).find(|&i| {
        s.insn.op_kind(i) == OpKind::Register && (s.insn.op_register(i).is_cr() || s.insn.op_register(i).is_dr())
    })
}

/// The `env` offset of CRn.
fn cr_offset(n: usize) -> u32 {
    (offset_of!(CpuState, cr) + 4 * n) as u32
}

/// mov to/from CR0, CR2, CR3, CR4 (CR1 and CR5-7 are #UD) and DR0-7 (reads 0, writes ignored).
fn gen_mov_special(s: &mut DisasContext) {
    if s.cpl() != 0 {
        return s.gen_exception(EXCP_GP);
    }
    let to_reg = special_reg_operand(s) == Some(1);
    let special = if to_reg { s.insn.op1_register() } else { s.insn.op0_register() };
    let gpr = if to_reg { s.insn.op0_register() } else { s.insn.op1_register() };
    let n = if special.is_cr() {
        special as usize - Register::CR0 as usize
    } else {
        let zero = s.tcg.const_i32(0);
        if to_reg {
            s.gen_write_reg(gpr, zero);
        }
        return;
    };
    if !matches!(n, 0 | 2 | 3 | 4) {
        return s.gen_exception(EXCP_UD);
    }
    if to_reg {
        let t = s.tcg.new_tmp();
        s.tcg.gen_ld(t, cr_offset(n));
        s.gen_write_reg(gpr, t);
        return;
    }
    let v = s.gen_read_reg(gpr);
    gen_write_cr(s, n, v);
}

/// Write CRn through the helper; CR0, CR3 and CR4 writes end the TB.
fn gen_write_cr(s: &mut DisasContext, n: usize, v: Temp) {
    let idx = s.tcg.const_i32(n as u32);
    s.tcg.gen_call(&helpers::system::WRITE_CR, None, &[idx, v]);
    if n != 2 {
        gen_eob_next(s);
    }
}

/// The env offsets of (base, limit) of GDTR or IDTR.
fn table_offsets(m: Mnemonic) -> (u32, u32) {
    let t = if matches!(m, Mnemonic::Lgdt | Mnemonic::Sgdt) {
        offset_of!(CpuState, gdt)
    } else {
        offset_of!(CpuState, idt)
    };
    let base = t + offset_of!(crate::cpu::state::DescriptorTable, base);
    let limit = t + offset_of!(crate::cpu::state::DescriptorTable, limit);
    (base as u32, limit as u32)
}

/// lgdt/lidt m16&32: limit, then base (24 bits with a 16-bit operand size).
fn gen_load_table(s: &mut DisasContext) {
    if s.insn.op0_kind() != OpKind::Memory {
        return s.gen_exception(EXCP_UD);
    }
    let addr = s.gen_mem_addr();
    let limit = s.gen_ld_mem(addr, 1);
    let base_addr = s.tcg.new_tmp();
    s.tcg.gen_addi(base_addr, addr, 2);
    let base = s.gen_ld_mem(base_addr, 2);
    if matches!(s.insn.code(), Code::Lgdt_m1632_16 | Code::Lidt_m1632_16) {
        s.tcg.gen_andi(base, base, 0x00ff_ffff);
    }
    let (base_off, limit_off) = table_offsets(s.insn.mnemonic());
    s.tcg.gen_st(base, base_off);
    s.tcg.gen_st(limit, limit_off);
}

/// sgdt/sidt m: the 16-bit limit and the full 32-bit base.
fn gen_store_table(s: &mut DisasContext) {
    if s.insn.op0_kind() != OpKind::Memory {
        return s.gen_exception(EXCP_UD);
    }
    let (base_off, limit_off) = table_offsets(s.insn.mnemonic());
    let addr = s.gen_mem_addr();
    let limit = s.tcg.new_tmp();
    s.tcg.gen_ld(limit, limit_off);
    let base = s.tcg.new_tmp();
    s.tcg.gen_ld(base, base_off);
    s.gen_st_mem(addr, 1, limit);
    let base_addr = s.tcg.new_tmp();
    s.tcg.gen_addi(base_addr, addr, 2);
    s.gen_st_mem(base_addr, 2, base);
}

/// The size to store a 16-bit system value into operand 0: registers take their size (the value
/// zero-extended), memory takes 16 bits.
fn store_size16(s: &DisasContext) -> u32 {
    if s.insn.op0_kind() == OpKind::Memory {
        1
    } else {
        s.op_size_log2(0)
    }
}

/// sldt/str r/m: the LDTR or TR selector (#UD outside protected mode).
fn gen_store_selector(s: &mut DisasContext) {
    if s.flags & hflags::PE == 0 {
        return s.gen_exception(EXCP_UD);
    }
    let field = if s.insn.mnemonic() == Mnemonic::Sldt { offset_of!(CpuState, ldt) } else { offset_of!(CpuState, tr) };
    let v = s.tcg.new_tmp();
    s.tcg.gen_ld(v, field as u32);
    let size = store_size16(s);
    let dst = s.operand(0);
    s.gen_store(dst, size, v);
}

/// lldt/ltr r/m16 (#UD outside protected mode).
fn gen_lldt_ltr(s: &mut DisasContext) {
    if s.flags & hflags::PE == 0 {
        return s.gen_exception(EXCP_UD);
    }
    let src = s.operand(0);
    let v = s.gen_load(src, 1);
    let helper = if s.insn.mnemonic() == Mnemonic::Lldt { &helpers::seg::LLDT } else { &helpers::seg::LTR };
    s.tcg.gen_call(helper, None, &[v]);
}

/// smsw r/m: CR0 (memory: its low 16 bits).
fn gen_smsw(s: &mut DisasContext) {
    let v = s.tcg.new_tmp();
    s.tcg.gen_ld(v, cr_offset(0));
    let size = store_size16(s);
    let dst = s.operand(0);
    s.gen_store(dst, size, v);
}

/// lmsw r/m16 (CR0 bits 0-3; PE can be set but not cleared) and clts (CR0.TS = 0).
fn gen_lmsw_clts(s: &mut DisasContext) {
    let cr0 = s.tcg.new_tmp();
    s.tcg.gen_ld(cr0, cr_offset(0));
    if s.insn.mnemonic() == Mnemonic::Clts {
        s.tcg.gen_andi(cr0, cr0, !(1 << 3));
    } else {
        let src = s.operand(0);
        let v = s.gen_load(src, 1);
        let low = s.tcg.new_tmp();
        s.tcg.gen_andi(low, v, 0xf);
        s.tcg.gen_andi(cr0, cr0, !0xe);
        s.tcg.gen_or(cr0, cr0, low);
    }
    gen_write_cr(s, 0, cr0);
}

/// invlpg m: drop the TLB entry of the page.
fn gen_invlpg(s: &mut DisasContext) {
    if s.insn.op0_kind() != OpKind::Memory {
        return s.gen_exception(EXCP_UD);
    }
    let addr = s.gen_mem_addr();
    s.tcg.gen_call(&helpers::system::INVLPG, None, &[addr]);
    gen_eob_next(s);
}
