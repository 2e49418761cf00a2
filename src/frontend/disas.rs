//! `DisasContext` and the translator loop (QEMU's `translator_loop` with i386's `TranslatorOps`).
//!
//! Per instruction: `insn_start(pc, cc_op)`, decode, dispatch on the mnemonic to a per-class
//! translator. A TB ends when an instruction sets `is_jmp`, at `max_insns`, or when the next
//! instruction would start on another page. Anything not translated raises #UD in the guest.

use super::{helpers, TranslateOptions, TranslatedTb};
use crate::cpu::state::{hflags, offsets};
use crate::cpu::{CcOp, X86Cpu};
use crate::softmmu::tlb::{PAGE_MASK, PAGE_SIZE};
use crate::tcg::entry_values::known_at_entry;
use crate::tcg::{exit_slot, TcgContext};
use alloc::string::String;
use core::fmt::Write;
use iced_x86::{Decoder, DecoderOptions, Formatter, GasFormatter, Instruction};

/// Why translation of the TB stops (QEMU's `DisasJumpType`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DisasJump {
    /// Go on with the next instruction.
    Next,
    /// The TB was ended by the instruction (its exit is already emitted).
    NoReturn,
    /// End the TB after this instruction, continuing at `pc_next` (state changed that translation
    /// depends on).
    EndTb,
}

/// Vector numbers of the exceptions the frontend raises (SDM Vol. 3A, 6.3.1).
pub const EXCP_DE: u8 = 0;
pub const EXCP_BP: u8 = 3;
pub const EXCP_OF: u8 = 4;
pub const EXCP_UD: u8 = 6;
pub const EXCP_GP: u8 = 13;

pub struct DisasContext<'a> {
    pub tcg: TcgContext,
    pub cpu: &'a mut X86Cpu,
    /// The TB's first instruction.
    pub pc_first: u32,
    /// The current instruction.
    pub pc: u32,
    /// The instruction after the current one.
    pub pc_next: u32,
    pub flags: u32,
    /// Statically known `cc_op`, and whether the `cc_op` global still has to be written.
    pub cc_op: CcOp,
    pub cc_op_dirty: bool,
    pub is_jmp: DisasJump,
    pub insn: Instruction,
}

impl DisasContext<'_> {
    pub fn code32(&self) -> bool {
        self.flags & hflags::CS32 != 0
    }

    pub fn ss32(&self) -> bool {
        self.flags & hflags::SS32 != 0
    }

    pub fn cpl(&self) -> u32 {
        self.flags & hflags::CPL_MASK
    }

    /// The softmmu index for data accesses at the current privilege level.
    pub fn mmu_idx(&self) -> u32 {
        u32::from(self.cpl() == 3)
    }

    /// The current instruction's length in bytes.
    pub fn insn_len(&self) -> u32 {
        self.pc_next.wrapping_sub(self.pc)
    }

    /// Write the static `cc_op` to the global if it is not there yet (QEMU's `gen_update_cc_op`).
    pub fn gen_update_cc_op(&mut self) {
        if self.cc_op_dirty {
            self.tcg.gen_movi(super::CPU_CC_OP, self.cc_op as u32);
            self.cc_op_dirty = false;
        }
    }

    /// Record that the flags now come from operation `op` (QEMU's `set_cc_op`).
    pub fn set_cc_op(&mut self, op: CcOp) {
        if self.cc_op == op {
            return;
        }
        self.cc_op = op;
        self.cc_op_dirty = op != CcOp::Dynamic;
    }

    /// Store a constant eip.
    pub fn gen_jmp_im(&mut self, eip: u32) {
        self.tcg.gen_sti(eip, offsets::EIP);
    }

    /// Raise a guest exception at the current instruction and end the TB.
    pub fn gen_exception(&mut self, vector: u8) {
        let v = self.tcg.const_i32(vector as u32);
        self.tcg.gen_call(&helpers::RAISE_EXCEPTION, None, &[v]);
        self.is_jmp = DisasJump::NoReturn;
    }

    /// Jump to `eip` (an offset in CS) through `goto_tb slot` when it stays on a page this TB
    /// covers, else through `lookup_and_goto_ptr` (QEMU's `gen_goto_tb`). The TB key includes the
    /// `cc_op` the next TB is entered with, so a jump whose `cc_op` is only known at run time
    /// (after a variable-count shift) cannot be chained to one TB either: it looks the key up.
    pub fn gen_jmp_tb(&mut self, eip: u32, slot: u32) {
        self.gen_update_cc_op();
        let linear = eip.wrapping_add(self.cs_base());
        let same_page = linear & PAGE_MASK == self.pc_first.wrapping_add(self.cs_base()) & PAGE_MASK
            || linear & PAGE_MASK == self.pc.wrapping_add(self.cs_base()) & PAGE_MASK;
        if same_page && self.cc_op != CcOp::Dynamic {
            // Back to this TB's start with the flags state it was entered with: the same TB key
            // (instructions that may change the key's hflags end their TB with `exit_tb 0`).
            let same_key = self.cc_op as u32 == (self.flags >> hflags::TB_CC_OP_SHIFT) & 0xff;
            let to_self = linear == self.pc_first.wrapping_add(self.cs_base()) && same_key;
            if let Some(s) = self.tcg.goto_tb_self.get_mut(slot as usize) {
                *s = to_self;
            }
            self.tcg.gen_goto_tb(slot);
            self.gen_jmp_im(eip);
            self.tcg.gen_exit_tb(exit_slot(slot));
        } else {
            self.gen_jmp_im(eip);
            self.gen_lookup_and_goto_ptr();
        }
        self.is_jmp = DisasJump::NoReturn;
    }

    /// End the TB after eip was stored, returning to the loop (QEMU's `gen_eob`).
    pub fn gen_eob(&mut self) {
        self.gen_update_cc_op();
        self.tcg.gen_exit_tb(0);
        self.is_jmp = DisasJump::NoReturn;
    }

    /// Jump to the eip held in a temp (indirect branch).
    pub fn gen_jmp_dynamic(&mut self, eip: crate::tcg::Temp) {
        self.gen_update_cc_op();
        self.tcg.gen_st(eip, offsets::EIP);
        self.gen_lookup_and_goto_ptr();
        self.is_jmp = DisasJump::NoReturn;
    }

    /// `lookup_tb_ptr` + `goto_ptr` after eip and `cc_op` were stored, noting the key it looks up:
    /// the TB's own CS base and hflags (near jumps change neither) and the static `cc_op`.
    fn gen_lookup_and_goto_ptr(&mut self) {
        let flags = (self.flags & hflags::TB_MASK) | (self.cc_op as u32) << hflags::TB_CC_OP_SHIFT;
        let site = (self.cc_op != CcOp::Dynamic).then(|| (self.cs_base(), flags));
        self.tcg.lookup_key = self.tcg.lookup_key.merge(site);
        self.tcg.gen_lookup_and_goto_ptr();
    }

    /// The CS base captured in the TB key.
    pub fn cs_base(&self) -> u32 {
        self.cpu.env.segs[crate::cpu::state::R_CS].base
    }
}

const MAX_INSN_LEN: usize = 15;

/// Fetch up to 15 code bytes at linear `addr`, stopping at a fault.
fn fetch(cpu: &mut X86Cpu, addr: u32, buf: &mut [u8; MAX_INSN_LEN]) -> usize {
    let n = cpu.fetch_code(addr, buf);
    cpu.env.exception_index = crate::cpu::state::EXCP_NONE;
    n
}

pub fn translate_block(cpu: &mut X86Cpu, pc: u32, flags: u32, opts: TranslateOptions) -> TranslatedTb {
    // The TB key carries the entry cc_op (`CpuState::tb_flags`); 0 is `Dynamic`.
    let cc_op = CcOp::from_u32((flags >> hflags::TB_CC_OP_SHIFT) & 0xff).unwrap_or(CcOp::Dynamic);
    let mut s = DisasContext {
        tcg: super::new_context(),
        cpu,
        pc_first: pc,
        pc,
        pc_next: pc,
        flags,
        cc_op,
        cc_op_dirty: false,
        is_jmp: DisasJump::Next,
        insn: Instruction::default(),
    };
    if cc_op != CcOp::Dynamic {
        // The key was computed from `env`: its `cc_op` is there when the TB starts.
        known_at_entry(&mut s.tcg, super::CPU_CC_OP, cc_op as u32);
    }
    let mut in_asm = opts.want_in_asm.then(String::new);
    let mut icount = 0;
    let cs_base = s.cs_base();
    let first_page = pc.wrapping_add(cs_base) & PAGE_MASK;
    loop {
        s.pc = s.pc_next;
        s.tcg.gen_insn_start(s.pc, s.cc_op as u32);
        icount += 1;
        let mut buf = [0u8; MAX_INSN_LEN];
        let n = fetch(s.cpu, s.pc.wrapping_add(cs_base), &mut buf);
        let bitness = if s.code32() { 32 } else { 16 };
        let mut dec = Decoder::with_ip(bitness, &buf[..n], s.pc as u64, DecoderOptions::NONE);
        s.insn = dec.decode();
        s.pc_next = s.pc.wrapping_add(s.insn.len().max(1) as u32);
        if let Some(out) = in_asm.as_mut() {
            log_insn(out, &s.insn, &buf, s.pc);
        }
        translate_insn(&mut s);
        if s.is_jmp != DisasJump::Next {
            break;
        }
        let next_linear = s.pc_next.wrapping_add(cs_base);
        let next_crosses =
            (next_linear & PAGE_MASK) != first_page || (next_linear & !PAGE_MASK) + MAX_INSN_LEN as u32 > PAGE_SIZE;
        if icount >= opts.max_insns || next_crosses {
            s.is_jmp = DisasJump::EndTb;
            break;
        }
    }
    if s.is_jmp == DisasJump::EndTb {
        let next = s.pc_next;
        s.gen_jmp_tb(next, 0);
    }
    let size = s.pc_next.wrapping_sub(pc);
    TranslatedTb { ir: s.tcg, size, icount, in_asm }
}

/// One `-d in_asm` line: `0x%08x:  bytes  gas text`.
fn log_insn(out: &mut String, insn: &Instruction, buf: &[u8], pc: u32) {
    let mut text = String::new();
    let mut fmt = GasFormatter::new();
    fmt.format(insn, &mut text);
    let mut bytes = String::new();
    for b in buf.iter().take(insn.len()) {
        let _ = write!(bytes, "{:02x} ", b);
    }
    let _ = writeln!(out, "0x{:08x}:  {:<24}{}", pc, bytes, text);
}

/// Translate the current instruction: each instruction class claims the mnemonics it knows and
/// returns false, without emitting anything, for the others.
fn translate_insn(s: &mut DisasContext) {
    use super::{
        alu, bcd, bits, control, flagop, interrupt, muldiv, segment, setcc, shift, stack, string, system, xchg,
    };
    if s.insn.is_invalid() {
        return s.gen_exception(EXCP_UD);
    }
    // segment and system first: they claim `mov` with a segment/control/debug register operand.
    let done = segment::translate(s)
        || system::translate(s)
        || alu::translate(s)
        || shift::translate(s)
        || muldiv::translate(s)
        || bits::translate(s)
        || setcc::translate(s)
        || flagop::translate(s)
        || xchg::translate(s)
        || bcd::translate(s)
        || control::translate(s)
        || stack::translate(s)
        || string::translate(s)
        || interrupt::translate(s);
    if !done {
        s.gen_exception(EXCP_UD);
    }
}
