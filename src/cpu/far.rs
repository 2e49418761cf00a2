//! Far control transfers that change CS: far JMP, far CALL, far RET and IRET (SDM Vol. 2, their
//! instruction pages; Vol. 3A, 5.8 privilege checks on control transfers).
//!
//! Each transfer reads and checks everything (stack words, descriptors) before it changes `env`, so
//! a fault leaves the state of the instruction's start. Supported: real mode, and protected mode
//! transfers to code segments at the same privilege, plus returns (RET, IRET) to an outer level.
//! Call gates, task gates, task switches (IRET with NT) and virtual-8086 mode raise #GP.

use super::excp::{EXCP_GP, EXCP_NP, EXCP_SS};
use super::mem_helper::MemResult;
use super::seg::{is_null, Descriptor};
use super::state::{desc, eflags, R_CS, R_ESP, R_SS};
use super::x86cpu::X86Cpu;

/// A stack that a helper pushes to or pops from: the writes reach `env` only through `commit`.
#[derive(Copy, Clone, Debug)]
pub struct Stack {
    pub base: u32,
    /// The working stack pointer (all 32 bits; only the low 16 are used with a 16-bit stack).
    pub esp: u32,
    /// 0xffff for a 16-bit stack (SS.B = 0), else 0xffff_ffff.
    pub mask: u32,
    pub mmu_idx: usize,
}

impl Stack {
    /// ESP after this stack's pushes and pops, keeping the high half of `old` on a 16-bit stack.
    pub fn esp_for(&self, old: u32) -> u32 {
        (old & !self.mask) | (self.esp & self.mask)
    }
}

impl X86Cpu {
    /// The current stack (SS:ESP).
    pub fn stack(&self) -> Stack {
        let ss = &self.env.segs[R_SS];
        let mask = if ss.flags & desc::B != 0 { u32::MAX } else { 0xffff };
        let mmu_idx = usize::from(self.env.cpl() == 3);
        Stack { base: ss.base, esp: self.env.regs[R_ESP], mask, mmu_idx }
    }

    pub fn push(&mut self, st: &mut Stack, size: u32, v: u32) -> MemResult<()> {
        st.esp = st.esp.wrapping_sub(size);
        let addr = st.base.wrapping_add(st.esp & st.mask);
        self.st(addr, size, v, st.mmu_idx)
    }

    pub fn pop(&mut self, st: &mut Stack, size: u32) -> MemResult<u32> {
        let addr = st.base.wrapping_add(st.esp & st.mask);
        let v = self.ld(addr, size, st.mmu_idx)?;
        st.esp = st.esp.wrapping_add(size);
        Ok(v)
    }

    /// Make `st`'s stack pointer the guest's ESP.
    pub fn commit_stack(&mut self, st: &Stack) {
        self.env.regs[R_ESP] = st.esp_for(self.env.regs[R_ESP]);
    }

    /// The code segment a far JMP or CALL names, checked (SDM Vol. 3A, 5.8.1). Gates are not supported.
    fn far_target(&mut self, selector: u32) -> MemResult<Descriptor> {
        if is_null(selector) {
            return Err(self.fault(EXCP_GP, 0));
        }
        let d = self.descriptor_or(selector, EXCP_GP)?;
        let (cpl, rpl, ec) = (self.env.cpl(), selector & 3, selector & 0xfffc);
        let allowed = if d.conforming() { d.dpl() <= cpl } else { rpl <= cpl && d.dpl() == cpl };
        if !d.is_code() || !allowed {
            return Err(self.fault(EXCP_GP, ec));
        }
        if !d.present() {
            return Err(self.fault(EXCP_NP, ec));
        }
        Ok(d)
    }

    /// Far JMP to `selector:offset`.
    pub fn far_jmp(&mut self, selector: u32, offset: u32) -> MemResult<()> {
        if !self.protected_mode() {
            self.load_cs_real(selector);
            self.env.eip = offset;
            return Ok(());
        }
        let d = self.far_target(selector)?;
        let cpl = self.env.cpl();
        self.load_cs(selector, d, cpl);
        self.env.eip = offset;
        Ok(())
    }

    /// Far CALL to `selector:offset` with `size`-byte pushes of CS and the return address.
    pub fn far_call(&mut self, selector: u32, offset: u32, size: u32, next_eip: u32) -> MemResult<()> {
        let target = if self.protected_mode() { Some(self.far_target(selector)?) } else { None };
        let mut st = self.stack();
        let old_cs = self.env.segs[R_CS].selector;
        self.push(&mut st, size, old_cs)?;
        self.push(&mut st, size, next_eip)?;
        self.commit_stack(&st);
        match target {
            Some(d) => {
                let cpl = self.env.cpl();
                self.load_cs(selector, d, cpl);
            }
            None => self.load_cs_real(selector),
        }
        self.env.eip = offset;
        Ok(())
    }

    /// The code segment a far RET or IRET returns to, checked (SDM Vol. 2, RET "return to ...").
    fn return_cs(&mut self, selector: u32) -> MemResult<Descriptor> {
        if is_null(selector) {
            return Err(self.fault(EXCP_GP, 0));
        }
        let d = self.descriptor_or(selector, EXCP_GP)?;
        let (cpl, rpl, ec) = (self.env.cpl(), selector & 3, selector & 0xfffc);
        let dpl_ok = if d.conforming() { d.dpl() <= rpl } else { d.dpl() == rpl };
        if !d.is_code() || rpl < cpl || !dpl_ok {
            return Err(self.fault(EXCP_GP, ec));
        }
        if !d.present() {
            return Err(self.fault(EXCP_NP, ec));
        }
        Ok(d)
    }

    /// The stack segment of a return to privilege `rpl`, checked.
    fn return_ss(&mut self, selector: u32, rpl: u32) -> MemResult<Descriptor> {
        if is_null(selector) {
            return Err(self.fault(EXCP_GP, 0));
        }
        let d = self.descriptor_or(selector, EXCP_GP)?;
        let ec = selector & 0xfffc;
        if selector & 3 != rpl || d.dpl() != rpl || !d.writable_data() {
            return Err(self.fault(EXCP_GP, ec));
        }
        if !d.present() {
            return Err(self.fault(EXCP_SS, ec));
        }
        Ok(d)
    }

    /// Far RET: pop EIP and CS (`size` bytes each), then release `imm` bytes of parameters.
    pub fn far_ret(&mut self, size: u32, imm: u32) -> MemResult<()> {
        let mut st = self.stack();
        let eip = self.pop(&mut st, size)?;
        let cs = self.pop(&mut st, size)? & 0xffff;
        st.esp = st.esp.wrapping_add(imm);
        if !self.protected_mode() {
            self.commit_stack(&st);
            self.load_cs_real(cs);
            self.env.eip = eip;
            return Ok(());
        }
        let d = self.return_cs(cs)?;
        self.return_to(cs, d, eip, st, size, imm)
    }

    /// Finish a protected-mode RET or IRET whose CS was checked: same level, or outer level with
    /// SS:ESP popped from `st` (SDM Vol. 2, RET).
    fn return_to(&mut self, cs: u32, d: Descriptor, eip: u32, mut st: Stack, size: u32, imm: u32) -> MemResult<()> {
        let rpl = cs & 3;
        if rpl == self.env.cpl() {
            self.commit_stack(&st);
            self.load_cs(cs, d, rpl);
            self.env.eip = eip;
            return Ok(());
        }
        let new_esp = self.pop(&mut st, size)?;
        let ss = self.pop(&mut st, size)? & 0xffff;
        let ss_d = self.return_ss(ss, rpl)?;
        self.load_cs(cs, d, rpl);
        self.env.segs[R_SS] = ss_d.to_cache(ss);
        let ss32 = ss_d.hi & desc::B != 0;
        let esp = new_esp.wrapping_add(imm);
        self.env.regs[R_ESP] = if ss32 { esp } else { (self.env.regs[R_ESP] & 0xffff_0000) | (esp & 0xffff) };
        self.env.eip = eip;
        self.invalidate_outer_segs();
        Ok(())
    }

    /// IRET (`size` = 2 or 4): real mode, and protected mode without task switch or virtual-8086 return.
    pub fn iret(&mut self, size: u32) -> MemResult<()> {
        let mut st = self.stack();
        if self.env.eflags & eflags::VM != 0 || (self.protected_mode() && self.env.eflags & eflags::NT != 0) {
            return Err(self.fault(EXCP_GP, 0));
        }
        let eip = self.pop(&mut st, size)?;
        let cs = self.pop(&mut st, size)? & 0xffff;
        let flags = self.pop(&mut st, size)?;
        let mask = eflags_write_mask(self.env.cpl(), self.env.eflags, size) | eflags::RF;
        if !self.protected_mode() {
            self.commit_stack(&st);
            self.load_cs_real(cs);
            self.env.eip = eip;
            self.env.set_eflags(flags, mask);
            return Ok(());
        }
        if size == 4 && flags & eflags::VM != 0 && self.env.cpl() == 0 {
            return Err(self.fault(EXCP_GP, 0));
        }
        let d = self.return_cs(cs)?;
        self.return_to(cs, d, eip, st, size, 0)?;
        self.env.set_eflags(flags, mask);
        Ok(())
    }
}

/// The EFLAGS bits POPF and IRET may change at privilege `cpl` (SDM Vol. 2, POPF): IOPL only at
/// CPL 0, IF only when CPL <= IOPL; VM, VIF and VIP never; with `size` 2 only the low 16 bits.
pub fn eflags_write_mask(cpl: u32, current: u32, size: u32) -> u32 {
    let iopl = (current & eflags::IOPL) >> 12;
    let mut mask = eflags::ARITH | eflags::DF | eflags::TF | eflags::NT | eflags::AC | eflags::ID;
    if cpl == 0 {
        mask |= eflags::IOPL;
    }
    if cpl <= iopl {
        mask |= eflags::IF;
    }
    if size == 2 {
        mask &= 0xffff;
    }
    mask
}
