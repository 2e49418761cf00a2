//! Exception and interrupt delivery: through the IVT in real mode, through the IDT in protected
//! mode (SDM Vol. 3A, 6.12: interrupt and trap gates, same-privilege delivery and delivery to an
//! inner level with the stack from the TSS), with the double-fault and triple-fault rules of 6.15
//! (interrupt 8, Tables 6-4 and 6-5).
//!
//! Delivery is a value: `Err(Shutdown)` means the CPU shut down (triple fault); QEMU would reset or,
//! with `-no-reboot`, exit. A fault during one delivery attempt is recorded in `env` like any other
//! (see `X86Cpu::fault`) and taken out again here. Nothing in `env` changes before an attempt has
//! read and checked everything it needs. Task gates and virtual-8086 mode are not supported (#GP).

use super::far::Stack;
use super::mem_helper::MemResult;
use super::seg::{is_null, Descriptor};
use super::state::{cr0, desc, eflags, hflags, EXCP_NONE, R_CS, R_ESP, R_SS};
use super::x86cpu::X86Cpu;

pub const EXCP_DF: u8 = 8;
pub const EXCP_TS: u8 = 10;
pub const EXCP_NP: u8 = 11;
pub const EXCP_SS: u8 = 12;
pub const EXCP_GP: u8 = 13;
pub const EXCP_PF: u8 = 14;

/// The CPU entered shutdown (triple fault).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Shutdown;

/// True for the vectors that push an error code (SDM Vol. 3A, Table 6-1).
pub fn has_error_code(vector: u8) -> bool {
    matches!(vector, 8 | 10..=14 | 17)
}

/// Contributory exceptions (SDM Vol. 3A, Table 6-4).
fn is_contributory(v: u8) -> bool {
    matches!(v, 0 | 10 | 11 | 12 | 13)
}

/// One event being delivered.
#[derive(Copy, Clone, Debug)]
struct Event {
    vector: u8,
    error_code: u32,
    /// Software interrupt (`int n`, `int3`, `into`): gate DPL checked, no error code, returns to `next_eip`.
    is_int: bool,
}

impl Event {
    /// The event to deliver when `nested` faults while delivering `self` (SDM Vol. 3A, Table 6-5):
    /// a double fault for contributory-after-contributory and for #PF followed by #PF or a
    /// contributory one, else the new exception (handled serially).
    fn after_fault(self, nested: (u8, u32)) -> Event {
        let first = if self.is_int { None } else { Some(self.vector) };
        let second = nested.0;
        let df = match first {
            Some(EXCP_PF) => second == EXCP_PF || is_contributory(second),
            Some(v) => is_contributory(v) && is_contributory(second),
            None => false,
        };
        if df {
            Event { vector: EXCP_DF, error_code: 0, is_int: false }
        } else {
            Event { vector: second, error_code: nested.1, is_int: false }
        }
    }

    /// The EXT bit of error codes for faults during this delivery (SDM Vol. 3A, 6.13).
    fn ext(self) -> u32 {
        u32::from(!self.is_int)
    }
}

impl X86Cpu {
    /// Deliver `vector`. `is_int`: software `int n` (DPL checked, no error code); `next_eip`: the
    /// return address for software interrupts, else the faulting eip (`env.eip`) is pushed.
    pub fn do_interrupt(&mut self, vector: u8, is_int: bool, error_code: u32, next_eip: u32) -> Result<(), Shutdown> {
        self.env.exception_is_int = 0;
        let mut ev = Event { vector, error_code, is_int };
        for _ in 0..4 {
            let ret = if ev.is_int { next_eip } else { self.env.eip };
            if self.deliver_once(ev, ret).is_ok() {
                return Ok(());
            }
            let Some(nested) = self.take_nested() else { return Err(Shutdown) };
            if ev.vector == EXCP_DF && !ev.is_int {
                return Err(Shutdown);
            }
            ev = ev.after_fault(nested);
        }
        Err(Shutdown)
    }

    /// A fault recorded during delivery, taken out of `env`.
    fn take_nested(&mut self) -> Option<(u8, u32)> {
        let v = self.env.exception_index;
        self.env.exception_index = EXCP_NONE;
        (0..256).contains(&v).then_some((v as u8, self.env.error_code))
    }

    fn deliver_once(&mut self, ev: Event, ret_eip: u32) -> MemResult<()> {
        if self.env.cr[0] & cr0::PE == 0 {
            self.deliver_real(ev, ret_eip)
        } else {
            self.deliver_protected(ev, ret_eip)
        }
    }

    /// Real mode: CS:IP from the IVT, FLAGS, CS and IP pushed as 16-bit words (SDM Vol. 3A, 20.1.4).
    fn deliver_real(&mut self, ev: Event, ret_eip: u32) -> MemResult<()> {
        let off = ev.vector as u32 * 4;
        if off + 3 > self.env.idt.limit {
            return Err(self.fault(EXCP_GP, ev.vector as u32 * 8 + 2));
        }
        let entry = self.ld(self.env.idt.base.wrapping_add(off), 4, 0)?;
        let mut st = self.stack();
        let flags = self.env.get_eflags();
        let old_cs = self.env.segs[R_CS].selector;
        self.push(&mut st, 2, flags)?;
        self.push(&mut st, 2, old_cs)?;
        self.push(&mut st, 2, ret_eip)?;
        self.commit_stack(&st);
        self.load_cs_real(entry >> 16);
        self.env.eip = entry & 0xffff;
        self.env.eflags &= !(eflags::IF | eflags::TF | eflags::AC | eflags::RF);
        Ok(())
    }

    /// Read and check the IDT gate of `ev`: returns (gate high dword, target selector, offset).
    fn read_gate(&mut self, ev: Event) -> MemResult<(u32, u32, u32)> {
        let off = ev.vector as u32 * 8;
        let gate_ec = off + 2 + ev.ext();
        if off + 7 > self.env.idt.limit {
            return Err(self.fault(EXCP_GP, gate_ec));
        }
        let lo = self.ld(self.env.idt.base.wrapping_add(off), 4, 0)?;
        let hi = self.ld(self.env.idt.base.wrapping_add(off + 4), 4, 0)?;
        // Interrupt and trap gates, 16- and 32-bit (S = 0); task gates (5) are not supported.
        if !matches!((hi >> 8) & 0x1f, 0x06 | 0x07 | 0x0e | 0x0f) {
            return Err(self.fault(EXCP_GP, gate_ec));
        }
        if ev.is_int && (hi >> desc::DPL_SHIFT) & 3 < self.env.cpl() {
            return Err(self.fault(EXCP_GP, gate_ec));
        }
        if hi & desc::P == 0 {
            return Err(self.fault(EXCP_NP, gate_ec));
        }
        let offset = (hi & 0xffff_0000) | (lo & 0xffff);
        Ok((hi, lo >> 16, offset))
    }

    /// The handler's code segment, checked (SDM Vol. 3A, 6.12.1.1).
    fn handler_cs(&mut self, ev: Event, selector: u32) -> MemResult<Descriptor> {
        if is_null(selector) {
            return Err(self.fault(EXCP_GP, ev.ext()));
        }
        let ec = (selector & 0xfffc) | ev.ext();
        let d = match self.read_descriptor(selector)? {
            Ok(d) => d,
            Err(_) => return Err(self.fault(EXCP_GP, ec)),
        };
        if !d.is_code() || d.dpl() > self.env.cpl() {
            return Err(self.fault(EXCP_GP, ec));
        }
        if !d.present() {
            return Err(self.fault(EXCP_NP, ec));
        }
        Ok(d)
    }

    /// Protected mode through an interrupt or trap gate.
    fn deliver_protected(&mut self, ev: Event, ret_eip: u32) -> MemResult<()> {
        if self.env.eflags & eflags::VM != 0 {
            return Err(self.fault(EXCP_GP, 0));
        }
        let (gate_hi, selector, offset) = self.read_gate(ev)?;
        let cs = self.handler_cs(ev, selector)?;
        let cpl = self.env.cpl();
        let new_cpl = if !cs.conforming() && cs.dpl() < cpl { cs.dpl() } else { cpl };
        let size = if gate_hi & (1 << 11) != 0 { 4 } else { 2 };
        let (mut st, new_ss) = if new_cpl < cpl {
            let (st, ss) = self.inner_stack(ev, new_cpl)?;
            (st, Some(ss))
        } else {
            (self.stack(), None)
        };
        if new_ss.is_some() {
            let old_ss = self.env.segs[R_SS].selector;
            let old_esp = self.env.regs[R_ESP];
            self.push(&mut st, size, old_ss)?;
            self.push(&mut st, size, old_esp)?;
        }
        self.push_frame(&mut st, ev, size, ret_eip)?;
        match new_ss {
            Some((sel, d)) => {
                self.env.segs[R_SS] = d.to_cache(sel);
                self.env.regs[R_ESP] = st.esp_for(self.env.regs[R_ESP]);
            }
            None => self.commit_stack(&st),
        }
        self.load_cs(selector, cs, new_cpl);
        self.env.eip = if size == 4 { offset } else { offset & 0xffff };
        let mut clear = eflags::TF | eflags::NT | eflags::RF | eflags::VM;
        if gate_hi & (1 << 8) == 0 {
            clear |= eflags::IF;
        }
        self.env.eflags &= !clear;
        self.env.hflags &= !hflags::INHIBIT_IRQ;
        Ok(())
    }

    /// Push EFLAGS, CS, EIP and, for exceptions that have one, the error code.
    fn push_frame(&mut self, st: &mut Stack, ev: Event, size: u32, ret_eip: u32) -> MemResult<()> {
        let flags = self.env.get_eflags();
        let old_cs = self.env.segs[R_CS].selector;
        self.push(st, size, flags)?;
        self.push(st, size, old_cs)?;
        self.push(st, size, ret_eip)?;
        if !ev.is_int && has_error_code(ev.vector) {
            self.push(st, size, ev.error_code)?;
        }
        Ok(())
    }

    /// SS:ESP for privilege `dpl` from the current TSS, with SS checked (SDM Vol. 3A, 6.12.1, 7.2.1):
    /// returns the stack to push to and the new SS (selector, descriptor).
    fn inner_stack(&mut self, ev: Event, dpl: u32) -> MemResult<(Stack, (u32, Descriptor))> {
        let (ss, esp) = self.tss_stack(dpl)?;
        let ec = (ss & 0xfffc) | ev.ext();
        if is_null(ss) {
            return Err(self.fault(EXCP_TS, ev.ext()));
        }
        let d = match self.read_descriptor(ss)? {
            Ok(d) => d,
            Err(_) => return Err(self.fault(EXCP_TS, ec)),
        };
        if ss & 3 != dpl || d.dpl() != dpl || !d.writable_data() {
            return Err(self.fault(EXCP_TS, ec));
        }
        if !d.present() {
            return Err(self.fault(EXCP_SS, ec));
        }
        let mask = if d.hi & desc::B != 0 { u32::MAX } else { 0xffff };
        let st = Stack { base: d.base(), esp, mask, mmu_idx: 0 };
        Ok((st, (ss, d)))
    }

    /// The (SS, ESP) pair for privilege `dpl` stored in the TSS (16- or 32-bit format).
    fn tss_stack(&mut self, dpl: u32) -> MemResult<(u32, u32)> {
        let tr = self.env.tr;
        let ts_ec = tr.selector & 0xfffc;
        if tr.flags & desc::P == 0 {
            return Err(self.fault(EXCP_TS, ts_ec));
        }
        let is32 = (tr.flags >> desc::TYPE_SHIFT) & 8 != 0;
        let shift = u32::from(is32);
        let index = (dpl * 4 + 2) << shift;
        if index + (4 << shift) - 1 > tr.limit {
            return Err(self.fault(EXCP_TS, ts_ec));
        }
        let addr = tr.base.wrapping_add(index);
        if is32 {
            let esp = self.ld(addr, 4, 0)?;
            let ss = self.ld(addr.wrapping_add(4), 2, 0)?;
            Ok((ss, esp))
        } else {
            let sp = self.ld(addr, 2, 0)?;
            let ss = self.ld(addr.wrapping_add(2), 2, 0)?;
            Ok((ss, sp))
        }
    }
}
