//! Segment descriptors: reading them from the GDT/LDT and loading the hidden caches
//! (SDM Vol. 3A, 3.4.5 and 5.5).

use super::mem_helper::MemResult;
use super::state::{desc, SegmentCache};
use super::x86cpu::X86Cpu;

/// A raw 8-byte descriptor (low and high dwords).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Descriptor {
    pub lo: u32,
    pub hi: u32,
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

    /// The cache for a segment register holding `selector`.
    pub fn to_cache(&self, selector: u32) -> SegmentCache {
        SegmentCache { selector, base: self.base(), limit: self.limit(), flags: self.hi & 0x00f0_ff00 }
    }
}

/// Why a descriptor could not be read: the selector is outside its table.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct OutsideTable;

impl X86Cpu {
    /// Read the descriptor `selector` names (TI selects the LDT). `Ok(Err(OutsideTable))` when the
    /// index is past the table limit; `Err` on a page fault reading the table.
    pub fn read_descriptor(&mut self, selector: u32) -> MemResult<Result<Descriptor, OutsideTable>> {
        let (base, limit) = if selector & 4 != 0 {
            (self.env.ldt.base, self.env.ldt.limit)
        } else {
            (self.env.gdt.base, self.env.gdt.limit)
        };
        let index = selector & !7;
        if index + 7 > limit {
            return Ok(Err(OutsideTable));
        }
        let addr = base.wrapping_add(index);
        let lo = self.ld(addr, 4, 0)?;
        let hi = self.ld(addr.wrapping_add(4), 4, 0)?;
        Ok(Ok(Descriptor { lo, hi }))
    }
}
