//! Segment descriptors: reading them from the GDT/LDT, the checks of a segment register load, and
//! loading the hidden caches (SDM Vol. 3A, 3.4.5, 5.5-5.8; Vol. 2 MOV, POP, LDS/LES/LFS/LGS/LSS,
//! LLDT, LTR).
//!
//! Every check happens before anything in `env` changes, so a fault leaves the CPU as it was at the
//! start of the instruction. Faults are recorded in `env` and returned as [`Fault`] (as for memory).

use super::excp::{EXCP_GP, EXCP_NP, EXCP_SS};
use super::mem_helper::{Fault, MemResult};
use super::state::{cr0, desc, eflags, hflags, SegmentCache, R_CS, R_SS};
use super::x86cpu::X86Cpu;

/// A raw 8-byte descriptor (low and high dwords).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Descriptor {
    pub lo: u32,
    pub hi: u32,
}

/// System descriptor types (S = 0), SDM Vol. 3A, Table 3-2.
pub mod sys_type {
    pub const TSS16_AVAIL: u32 = 1;
    pub const LDT: u32 = 2;
    pub const TSS16_BUSY: u32 = 3;
    pub const TSS32_AVAIL: u32 = 9;
    pub const TSS32_BUSY: u32 = 11;
    /// Set in a TSS type to mark it busy.
    pub const BUSY: u32 = 2;
}

impl Descriptor {
    pub fn base(&self) -> u32 {
        (self.lo >> 16) | ((self.hi & 0xff) << 16) | (self.hi & 0xff00_0000)
    }

    /// The limit in bytes-1, scaled by G.
    pub fn limit(&self) -> u32 {
        let raw = (self.lo & 0xffff) | (self.hi & 0x000f_0000);
        if self.hi & desc::G != 0 {
            (raw << 12) | 0xfff
        } else {
            raw
        }
    }

    pub fn dpl(&self) -> u32 {
        (self.hi >> desc::DPL_SHIFT) & 3
    }

    pub fn present(&self) -> bool {
        self.hi & desc::P != 0
    }

    /// A code or data segment (S = 1), not a system descriptor.
    pub fn is_segment(&self) -> bool {
        self.hi & desc::S != 0
    }

    pub fn is_code(&self) -> bool {
        self.is_segment() && self.hi & desc::CS_MASK != 0
    }

    pub fn is_data(&self) -> bool {
        self.is_segment() && self.hi & desc::CS_MASK == 0
    }

    pub fn conforming(&self) -> bool {
        self.is_code() && self.hi & desc::C_MASK != 0
    }

    pub fn readable_code(&self) -> bool {
        self.is_code() && self.hi & desc::RW_MASK != 0
    }

    pub fn writable_data(&self) -> bool {
        self.is_data() && self.hi & desc::RW_MASK != 0
    }

    /// The 4-bit type of a system descriptor.
    pub fn sys_type(&self) -> u32 {
        (self.hi & desc::TYPE_MASK) >> desc::TYPE_SHIFT
    }

    /// The cache for a segment register holding `selector`.
    pub fn to_cache(&self, selector: u32) -> SegmentCache {
        SegmentCache { selector, base: self.base(), limit: self.limit(), flags: self.hi & 0x00f0_ff00 }
    }
}

/// Why a descriptor could not be read: the selector is outside its table.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct OutsideTable;

/// True for a null selector (index 0 of the GDT; the RPL does not matter).
pub fn is_null(selector: u32) -> bool {
    selector & 0xfffc == 0
}

impl X86Cpu {
    /// Record guest exception `vector` (error code `error_code`) and return the fault value.
    pub fn fault(&mut self, vector: u8, error_code: u32) -> Fault {
        self.raise_exception(vector, error_code);
        Fault
    }

    /// Linear address of the descriptor `selector` names (TI selects the LDT), or `OutsideTable`.
    fn descriptor_addr(&self, selector: u32) -> Result<u32, OutsideTable> {
        let (base, limit) = if selector & 4 != 0 {
            (self.env.ldt.base, self.env.ldt.limit)
        } else {
            (self.env.gdt.base, self.env.gdt.limit)
        };
        let index = selector & 0xfff8;
        if index + 7 > limit {
            return Err(OutsideTable);
        }
        Ok(base.wrapping_add(index))
    }

    /// Read the descriptor `selector` names. `Ok(Err(OutsideTable))` when the index is past the table
    /// limit; `Err` on a fault reading the table.
    pub fn read_descriptor(&mut self, selector: u32) -> MemResult<Result<Descriptor, OutsideTable>> {
        let Ok(addr) = self.descriptor_addr(selector) else { return Ok(Err(OutsideTable)) };
        let lo = self.ld(addr, 4, 0)?;
        let hi = self.ld(addr.wrapping_add(4), 4, 0)?;
        Ok(Ok(Descriptor { lo, hi }))
    }

    /// Read a descriptor, raising `vector` with the selector as error code when it is outside its table.
    pub fn descriptor_or(&mut self, selector: u32, vector: u8) -> MemResult<Descriptor> {
        match self.read_descriptor(selector)? {
            Ok(d) => Ok(d),
            Err(OutsideTable) => Err(self.fault(vector, selector & 0xfffc)),
        }
    }

    /// Write back a descriptor's high dword (accessed and busy bits).
    pub fn write_descriptor_hi(&mut self, selector: u32, hi: u32) -> MemResult<()> {
        let Ok(addr) = self.descriptor_addr(selector) else { return Ok(()) };
        self.st(addr.wrapping_add(4), 4, hi, 0)
    }

    /// Set the accessed bit of a code or data descriptor if it is clear.
    pub fn set_accessed(&mut self, selector: u32, d: Descriptor) -> MemResult<()> {
        if d.hi & desc::A_MASK != 0 {
            return Ok(());
        }
        self.write_descriptor_hi(selector, d.hi | desc::A_MASK)
    }

    /// True in protected mode outside virtual-8086 mode.
    pub fn protected_mode(&self) -> bool {
        self.env.cr[0] & cr0::PE != 0 && self.env.eflags & eflags::VM == 0
    }

    /// Load segment register `seg` (not CS) with `selector`, as MOV/POP/LxS do (QEMU's
    /// `helper_load_seg`). In real and virtual-8086 mode only the selector and base change.
    pub fn load_seg(&mut self, seg: usize, selector: u32) -> MemResult<()> {
        let selector = selector & 0xffff;
        if !self.protected_mode() {
            let s = &mut self.env.segs[seg];
            s.selector = selector;
            s.base = selector << 4;
            self.env.update_hflags();
            return Ok(());
        }
        let cache = if is_null(selector) {
            if seg == R_SS {
                return Err(self.fault(EXCP_GP, 0));
            }
            SegmentCache { selector, base: 0, limit: 0, flags: 0 }
        } else {
            let d = self.descriptor_or(selector, EXCP_GP)?;
            self.check_seg_load(seg, selector, d)?;
            self.set_accessed(selector, d)?;
            d.to_cache(selector)
        };
        self.env.segs[seg] = cache;
        self.env.update_hflags();
        Ok(())
    }

    /// The type, privilege and presence checks of a data or stack segment load (SDM Vol. 2, MOV).
    fn check_seg_load(&mut self, seg: usize, selector: u32, d: Descriptor) -> MemResult<()> {
        let (cpl, rpl, dpl) = (self.env.cpl(), selector & 3, d.dpl());
        let ec = selector & 0xfffc;
        if seg == R_SS {
            if rpl != cpl || dpl != cpl || !d.writable_data() {
                return Err(self.fault(EXCP_GP, ec));
            }
            if !d.present() {
                return Err(self.fault(EXCP_SS, ec));
            }
            return Ok(());
        }
        if !(d.is_data() || d.readable_code()) {
            return Err(self.fault(EXCP_GP, ec));
        }
        if !d.conforming() && (rpl > dpl || cpl > dpl) {
            return Err(self.fault(EXCP_GP, ec));
        }
        if !d.present() {
            return Err(self.fault(EXCP_NP, ec));
        }
        Ok(())
    }

    /// Load CS and the CPL (protected mode: `selector`'s RPL is replaced by `cpl`).
    pub fn load_cs(&mut self, selector: u32, d: Descriptor, cpl: u32) {
        self.env.segs[R_CS] = d.to_cache((selector & 0xfffc) | cpl);
        self.env.hflags = (self.env.hflags & !hflags::CPL_MASK) | cpl;
        self.env.update_hflags();
    }

    /// Load CS in real or virtual-8086 mode: base = selector * 16, limit and attributes kept.
    pub fn load_cs_real(&mut self, selector: u32) {
        let s = &mut self.env.segs[R_CS];
        s.selector = selector & 0xffff;
        s.base = (selector & 0xffff) << 4;
        self.env.update_hflags();
    }

    /// After a return to an outer privilege level: data segment registers the new CPL may not use
    /// become null (SDM Vol. 2, RET and IRET, "validate_segment_register").
    pub fn invalidate_outer_segs(&mut self) {
        let cpl = self.env.cpl();
        for seg in [super::state::R_ES, super::state::R_DS, super::state::R_FS, super::state::R_GS] {
            let f = self.env.segs[seg].flags;
            let dpl = (f >> desc::DPL_SHIFT) & 3;
            let conforming_code = f & desc::CS_MASK != 0 && f & desc::C_MASK != 0;
            if !conforming_code && dpl < cpl {
                let sel = self.env.segs[seg].selector;
                self.env.segs[seg] = SegmentCache { selector: sel, base: 0, limit: 0, flags: 0 };
            }
        }
        self.env.update_hflags();
    }
}

impl X86Cpu {
    /// LLDT (SDM Vol. 2): a null selector leaves the LDT unusable; otherwise an LDT descriptor of the GDT.
    pub fn lldt(&mut self, selector: u32) -> MemResult<()> {
        let selector = selector & 0xffff;
        if is_null(selector) {
            self.env.ldt = SegmentCache { selector, base: 0, limit: 0, flags: 0 };
            return Ok(());
        }
        let ec = selector & 0xfffc;
        if selector & 4 != 0 {
            return Err(self.fault(EXCP_GP, ec));
        }
        let d = self.descriptor_or(selector, EXCP_GP)?;
        if d.is_segment() || d.sys_type() != sys_type::LDT {
            return Err(self.fault(EXCP_GP, ec));
        }
        if !d.present() {
            return Err(self.fault(EXCP_NP, ec));
        }
        self.env.ldt = d.to_cache(selector);
        Ok(())
    }

    /// LTR (SDM Vol. 2): load an available TSS from the GDT and mark it busy.
    pub fn ltr(&mut self, selector: u32) -> MemResult<()> {
        let selector = selector & 0xffff;
        let ec = selector & 0xfffc;
        if is_null(selector) {
            return Err(self.fault(EXCP_GP, 0));
        }
        if selector & 4 != 0 {
            return Err(self.fault(EXCP_GP, ec));
        }
        let d = self.descriptor_or(selector, EXCP_GP)?;
        if d.is_segment() || !matches!(d.sys_type(), sys_type::TSS16_AVAIL | sys_type::TSS32_AVAIL) {
            return Err(self.fault(EXCP_GP, ec));
        }
        if !d.present() {
            return Err(self.fault(EXCP_NP, ec));
        }
        let busy = Descriptor { lo: d.lo, hi: d.hi | (sys_type::BUSY << desc::TYPE_SHIFT) };
        self.write_descriptor_hi(selector, busy.hi)?;
        self.env.tr = busy.to_cache(selector);
        Ok(())
    }
}
