//! Far control transfers that change CS: far JMP, far CALL, far RET and IRET (SDM Vol. 2, their
//! instruction pages; Vol. 3A, 5.8 privilege checks on control transfers).
//!
//! Each transfer reads and checks everything (stack words, descriptors) before it changes `env`, so
//! a fault leaves the state of the instruction's start. Supported: real mode; in protected mode
//! transfers to code segments, through call gates (CALL to a more privileged level switches to the
//! stack from the TSS and copies the parameters), and returns (RET, IRET) to the same or an outer
//! level. Task gates, TSS targets, task switches (IRET with NT) and virtual-8086 mode raise #GP.

use super::excp::{EXCP_GP, EXCP_NP, EXCP_SS};
use super::mem_helper::MemResult;
use super::seg::{is_null, Descriptor};
use super::state::{desc, eflags, R_CS, R_ESP, R_SS};
use super::x86cpu::X86Cpu;

/// System descriptor types of call gates (SDM Vol. 3A, Table 3-2).
const CALL_GATE16: u32 = 4;
const CALL_GATE32: u32 = 12;

/// A checked far JMP/CALL destination: the code segment to load and the entry offset.
struct FarTarget {
    selector: u32,
    cs: Descriptor,
    offset: u32,
    /// Through a call gate: (push size in bytes, parameter count).
    gate: Option<(u32, u32)>,
}

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

    /// The target a far JMP or CALL names, checked (SDM Vol. 3A, 5.8.1-5.8.5): a code segment, or a
    /// call gate and the code segment it points to.
    fn far_target(&mut self, selector: u32, offset: u32) -> MemResult<FarTarget> {
        if is_null(selector) {
            return Err(self.fault(EXCP_GP, 0));
        }
        let d = self.descriptor_or(selector, EXCP_GP)?;
        let (cpl, rpl, ec) = (self.env.cpl(), selector & 3, selector & 0xfffc);
        if !d.is_segment() && matches!(d.sys_type(), CALL_GATE16 | CALL_GATE32) {
            return self.call_gate_target(selector, d);
        }
        let allowed = if d.conforming() { d.dpl() <= cpl } else { rpl <= cpl && d.dpl() == cpl };
        if !d.is_code() || !allowed {
            return Err(self.fault(EXCP_GP, ec));
        }
        if !d.present() {
            return Err(self.fault(EXCP_NP, ec));
        }
        Ok(FarTarget { selector, cs: d, offset, gate: None })
    }

    /// Through a call gate: the gate's DPL must admit CPL and RPL; its code segment must be at the
    /// same or a more privileged level.
    fn call_gate_target(&mut self, selector: u32, gate: Descriptor) -> MemResult<FarTarget> {
        let (cpl, rpl, ec) = (self.env.cpl(), selector & 3, selector & 0xfffc);
        if gate.dpl() < cpl || gate.dpl() < rpl {
            return Err(self.fault(EXCP_GP, ec));
        }
        if !gate.present() {
            return Err(self.fault(EXCP_NP, ec));
        }
        let is32 = gate.sys_type() == CALL_GATE32;
        let target = gate.lo >> 16;
        let offset = if is32 { (gate.hi & 0xffff_0000) | (gate.lo & 0xffff) } else { gate.lo & 0xffff };
        if is_null(target) {
            return Err(self.fault(EXCP_GP, 0));
        }
        let d = self.descriptor_or(target, EXCP_GP)?;
        if !d.is_code() || d.dpl() > cpl {
            return Err(self.fault(EXCP_GP, target & 0xfffc));
        }
        if !d.present() {
            return Err(self.fault(EXCP_NP, target & 0xfffc));
        }
        let size = if is32 { 4 } else { 2 };
        Ok(FarTarget { selector: target, cs: d, offset, gate: Some((size, gate.hi & 0x1f)) })
    }

    /// Far JMP to `selector:offset`.
    pub fn far_jmp(&mut self, selector: u32, offset: u32) -> MemResult<()> {
        if !self.protected_mode() {
            self.load_cs_real(selector);
            self.env.eip = offset;
            return Ok(());
        }
        let t = self.far_target(selector, offset)?;
        let cpl = self.env.cpl();
        if t.gate.is_some() && !t.cs.conforming() && t.cs.dpl() != cpl {
            return Err(self.fault(EXCP_GP, t.selector & 0xfffc));
        }
        self.load_cs(t.selector, t.cs, cpl);
        self.env.eip = t.offset;
        Ok(())
    }

    /// Far CALL to `selector:offset` with `size`-byte pushes of CS and the return address (the gate's
    /// size through a call gate).
    pub fn far_call(&mut self, selector: u32, offset: u32, size: u32, next_eip: u32) -> MemResult<()> {
        if !self.protected_mode() {
            self.push_return(size, next_eip)?;
            self.load_cs_real(selector);
            self.env.eip = offset;
            return Ok(());
        }
        let t = self.far_target(selector, offset)?;
        let cpl = self.env.cpl();
        match t.gate {
            Some((gate_size, params)) if !t.cs.conforming() && t.cs.dpl() < cpl => {
                self.call_inner(&t, gate_size, params, next_eip)
            }
            gate => {
                self.push_return(gate.map_or(size, |g| g.0), next_eip)?;
                self.load_cs(t.selector, t.cs, cpl);
                self.env.eip = t.offset;
                Ok(())
            }
        }
    }

    /// Push CS and the return address on the current stack.
    fn push_return(&mut self, size: u32, next_eip: u32) -> MemResult<()> {
        let mut st = self.stack();
        let old_cs = self.env.segs[R_CS].selector;
        self.push(&mut st, size, old_cs)?;
        self.push(&mut st, size, next_eip)?;
        self.commit_stack(&st);
        Ok(())
    }

    /// CALL through a gate to a more privileged level (SDM Vol. 2, CALL, "CALL-GATE-MORE-PRIVILEGE"):
    /// the new stack from the TSS gets the old SS:ESP, `params` parameters copied from the old stack,
    /// CS and the return address.
    fn call_inner(&mut self, t: &FarTarget, size: u32, params: u32, next_eip: u32) -> MemResult<()> {
        let new_cpl = t.cs.dpl();
        let (mut st, (ss, ss_d)) = self.inner_stack(0, new_cpl)?;
        let old = self.stack();
        let old_ss = self.env.segs[R_SS].selector;
        self.push(&mut st, size, old_ss)?;
        self.push(&mut st, size, old.esp)?;
        for i in (0..params).rev() {
            let addr = old.base.wrapping_add(old.esp.wrapping_add(i * size) & old.mask);
            let v = self.ld(addr, size, old.mmu_idx)?;
            self.push(&mut st, size, v)?;
        }
        let old_cs = self.env.segs[R_CS].selector;
        self.push(&mut st, size, old_cs)?;
        self.push(&mut st, size, next_eip)?;
        self.env.segs[R_SS] = ss_d.to_cache(ss);
        self.env.regs[R_ESP] = st.esp_for(self.env.regs[R_ESP]);
        self.load_cs(t.selector, t.cs, new_cpl);
        self.env.eip = t.offset;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn popf_mask_follows_cpl_and_iopl() {
        let iopl0 = 0;
        let iopl3 = eflags::IOPL;
        let m = eflags_write_mask(0, iopl0, 4);
        assert_ne!(m & eflags::IOPL, 0);
        assert_ne!(m & eflags::IF, 0);
        let m = eflags_write_mask(3, iopl3, 4);
        assert_eq!(m & eflags::IOPL, 0, "IOPL only at CPL 0");
        assert_ne!(m & eflags::IF, 0, "IF when CPL <= IOPL");
        let m = eflags_write_mask(3, iopl0, 4);
        assert_eq!(m & (eflags::IOPL | eflags::IF), 0);
        assert_eq!(m & eflags::VM, 0, "never VM");
        assert_eq!(eflags_write_mask(0, iopl0, 2) & !0xffff, 0, "16-bit popf");
    }

    #[test]
    fn stack_pointer_keeps_high_half_on_a_16_bit_stack() {
        let st = Stack { base: 0, esp: 0x1234_fffe, mask: 0xffff, mmu_idx: 0 };
        assert_eq!(st.esp_for(0xabcd_0000), 0xabcd_fffe);
    }
}
