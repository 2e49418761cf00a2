//! Exception and interrupt delivery through the IDT (SDM Vol. 3A, 6.12), with the double-fault
//! and triple-fault rules of 6.15 (interrupt 8).
//!
//! Delivery is a value: `Err(Shutdown)` means the CPU shut down (triple fault); QEMU would reset or,
//! with `-no-reboot`, exit.

use super::state::{desc, eflags, R_CS, R_ESP, R_SS};
use super::x86cpu::X86Cpu;

pub const EXCP_DF: u8 = 8;
pub const EXCP_TS: u8 = 10;
pub const EXCP_NP: u8 = 11;
pub const EXCP_GP: u8 = 13;

/// The CPU entered shutdown (triple fault).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Shutdown;

/// True for the vectors that push an error code (SDM Vol. 3A, Table 6-1).
pub fn has_error_code(vector: u8) -> bool {
    matches!(vector, 8 | 10..=14 | 17)
}

/// A fault raised while delivering: (vector, error code).
type Nested = (u8, u32);

impl X86Cpu {
    /// Deliver `vector`. `is_int`: software `int n` (DPL checked, no error code); `next_eip`: the
    /// return address for software interrupts and traps, else the faulting eip is used.
    pub fn do_interrupt(&mut self, vector: u8, is_int: bool, error_code: u32, next_eip: u32) -> Result<(), Shutdown> {
        let mut pending = (vector, error_code, is_int);
        let mut faults = 0;
        loop {
            let (v, ec, int) = pending;
            let ret = if int { next_eip } else { self.env.eip };
            match self.deliver_protected(v, int, ec, ret) {
                Ok(()) => return Ok(()),
                Err(Some(nested)) => {
                    faults += 1;
                    if v == EXCP_DF || faults > 2 {
                        return Err(Shutdown);
                    }
                    pending = if is_contributory(v) && is_contributory(nested.0)
                        || v == 14 && (nested.0 == 14 || is_contributory(nested.0))
                    {
                        (EXCP_DF, 0, false)
                    } else {
                        (nested.0, nested.1, false)
                    };
                }
                Err(None) => return Err(Shutdown),
            }
        }
    }

    /// One delivery attempt in protected mode without privilege change.
    fn deliver_protected(
        &mut self,
        vector: u8,
        is_int: bool,
        error_code: u32,
        ret_eip: u32,
    ) -> Result<(), Option<Nested>> {
        let idt = self.env.idt;
        let off = vector as u32 * 8;
        if off + 7 > idt.limit {
            return Err(Some((EXCP_GP, off + 2)));
        }
        let lo = self.ld(idt.base + off, 4, 0).map_err(|_| self.take_nested())?;
        let hi = self.ld(idt.base + off + 4, 4, 0).map_err(|_| self.take_nested())?;
        let gate_type = (hi >> 8) & 0x1f;
        let is32 = match gate_type {
            0x0e | 0x0f => true,
            0x06 | 0x07 => false,
            _ => return Err(Some((EXCP_GP, off + 2))),
        };
        let dpl = (hi >> desc::DPL_SHIFT) & 3;
        if is_int && dpl < self.env.cpl() {
            return Err(Some((EXCP_GP, off + 2)));
        }
        if hi & desc::P == 0 {
            return Err(Some((EXCP_NP, off + 2)));
        }
        let selector = lo >> 16;
        let offset = (hi & 0xffff_0000) | (lo & 0xffff);
        let cs = match self.read_descriptor(selector).map_err(|_| self.take_nested())? {
            Ok(d) if d.present() => d,
            Ok(_) => return Err(Some((EXCP_NP, selector & 0xfffc))),
            Err(_) => return Err(Some((EXCP_GP, selector & 0xfffc))),
        };
        if cs.dpl() < self.env.cpl() {
            // Inter-privilege delivery needs the TSS stack; not supported yet.
            return Err(Some((EXCP_GP, selector & 0xfffc)));
        }
        let flags = self.env.get_eflags();
        let old_cs = self.env.segs[R_CS].selector;
        let mut words = [flags, old_cs, ret_eip, error_code];
        let n = if !is_int && has_error_code(vector) { 4 } else { 3 };
        let size = if is32 { 4 } else { 2 };
        let ss32 = self.env.segs[R_SS].flags & desc::B != 0;
        let mut esp = self.env.regs[R_ESP];
        for w in words.iter_mut().take(n) {
            esp = esp.wrapping_sub(size);
            let sp = if ss32 { esp } else { esp & 0xffff };
            let addr = self.env.segs[R_SS].base.wrapping_add(sp);
            self.st(addr, size, *w, 0).map_err(|_| self.take_nested())?;
        }
        self.env.regs[R_ESP] = if ss32 { esp } else { (self.env.regs[R_ESP] & 0xffff_0000) | (esp & 0xffff) };
        let cpl = self.env.cpl();
        self.env.segs[R_CS] = cs.to_cache((selector & 0xfffc) | cpl);
        self.env.eip = if is32 { offset } else { offset & 0xffff };
        let mut clear = eflags::TF | eflags::NT | eflags::RF | eflags::VM;
        if gate_type & 1 == 0 {
            clear |= eflags::IF;
        }
        self.env.eflags &= !clear;
        self.env.update_hflags();
        Ok(())
    }

    /// A fault recorded by a memory access during delivery, taken out of `env`.
    fn take_nested(&mut self) -> Option<Nested> {
        let v = self.env.exception_index;
        self.env.exception_index = super::state::EXCP_NONE;
        (0..256).contains(&v).then_some((v as u8, self.env.error_code))
    }
}

/// Contributory exceptions (SDM Vol. 3A, Table 6-4).
fn is_contributory(v: u8) -> bool {
    matches!(v, 0 | 10 | 11 | 12 | 13)
}
