//! The x86 guest (QEMU's `target/i386/tcg`): decodes guest code with iced-x86 and emits IR.
//!
//! `translate` runs the translator loop over one TB: it stops after a branch, at the instruction
//! limit, or before an instruction that would leave the TB's first page. The IR it returns ends in
//! `goto_tb`/`exit_tb`/`goto_ptr`; guest state lives in the globals below and in `env`.

pub mod alu;
pub mod bcd;
pub mod bits;
pub mod cc;
pub mod control;
pub mod disas;
pub mod flagop;
pub mod helpers;
pub mod interrupt;
pub mod muldiv;
pub mod operand;
pub mod segment;
pub mod setcc;
pub mod shift;
pub mod stack;
pub mod string;
pub mod system;
pub mod xchg;

use crate::cpu::state::offsets;
use crate::cpu::X86Cpu;
use crate::tcg::ir::{GlobalDef, Temp};
use crate::tcg::TcgContext;
use alloc::string::String;

/// The guest globals, in temp order after `env` (temp 0).
pub const GLOBALS: [GlobalDef; 16] = [
    GlobalDef { name: "eax", offset: offsets::reg(0) },
    GlobalDef { name: "ecx", offset: offsets::reg(1) },
    GlobalDef { name: "edx", offset: offsets::reg(2) },
    GlobalDef { name: "ebx", offset: offsets::reg(3) },
    GlobalDef { name: "esp", offset: offsets::reg(4) },
    GlobalDef { name: "ebp", offset: offsets::reg(5) },
    GlobalDef { name: "esi", offset: offsets::reg(6) },
    GlobalDef { name: "edi", offset: offsets::reg(7) },
    GlobalDef { name: "cc_dst", offset: offsets::CC_DST },
    GlobalDef { name: "cc_src", offset: offsets::CC_SRC },
    GlobalDef { name: "cc_src2", offset: offsets::CC_SRC2 },
    GlobalDef { name: "cc_op", offset: offsets::CC_OP },
    GlobalDef { name: "es_base", offset: offsets::seg_base(0) },
    GlobalDef { name: "cs_base", offset: offsets::seg_base(1) },
    GlobalDef { name: "ss_base", offset: offsets::seg_base(2) },
    GlobalDef { name: "ds_base", offset: offsets::seg_base(3) },
];

/// The temp of general register `n` (0 = eax … 7 = edi).
pub const fn cpu_reg(n: usize) -> Temp {
    Temp(1 + n as u32)
}
pub const CPU_CC_DST: Temp = Temp(9);
pub const CPU_CC_SRC: Temp = Temp(10);
pub const CPU_CC_SRC2: Temp = Temp(11);
pub const CPU_CC_OP: Temp = Temp(12);
/// The base of segment `n` for ES, CS, SS, DS (FS and GS bases are loaded from `env` when used).
pub const fn cpu_seg_base(n: usize) -> Temp {
    Temp(13 + n as u32)
}

/// A fresh IR context with the guest globals registered.
pub fn new_context() -> TcgContext {
    TcgContext::new(&GLOBALS)
}

/// The result of translating one TB.
pub struct TranslatedTb {
    pub ir: TcgContext,
    /// Guest bytes covered.
    pub size: u32,
    /// Guest instructions translated.
    pub icount: u32,
    /// The `-d in_asm` listing, when asked for.
    pub in_asm: Option<String>,
}

/// Translation limits and options.
#[derive(Copy, Clone, Debug)]
pub struct TranslateOptions {
    pub max_insns: u32,
    pub want_in_asm: bool,
}

/// Translate the TB starting at `pc` (a linear address) under `flags` (the TB's hflags).
pub fn translate(cpu: &mut X86Cpu, pc: u32, flags: u32, opts: TranslateOptions) -> TranslatedTb {
    disas::translate_block(cpu, pc, flags, opts)
}
