//! The per-vCPU TB jump cache (QEMU's `CPUJumpCache`): a direct-mapped table from the virtual pc
//! of a TB to its identity and host code, read by `cpu_exec` and by generated code's
//! `lookup_and_goto_ptr`.
//!
//! Invariant: an entry names a live TB; the exec loop clears entries when TBs are invalidated or
//! flushed and clears the whole cache when virtual-to-physical mappings change.

use alloc::boxed::Box;
use alloc::vec;
use core::mem::offset_of;

pub const TB_JMP_CACHE_BITS: u32 = 12;
pub const TB_JMP_CACHE_SIZE: usize = 1 << TB_JMP_CACHE_BITS;

/// One entry. Generated code probes the table inline (`lookup_tb_ptr`), so the layout is fixed:
/// 32 bytes, the key at offsets 0, 4 and 8 and the host code at 16.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct JmpCacheEntry {
    pub pc: u32,
    pub cs_base: u32,
    pub flags: u32,
    pub tb: u32,
    /// Host code address (0: the TB has none and runs in the interpreter).
    pub host: usize,
    pub pad: u64,
}

const _: () = assert!(offset_of!(JmpCacheEntry, pc) == 0);
const _: () = assert!(offset_of!(JmpCacheEntry, cs_base) == 4);
const _: () = assert!(offset_of!(JmpCacheEntry, flags) == 8);
const _: () = assert!(offset_of!(JmpCacheEntry, host) == 16);
const _: () = assert!(core::mem::size_of::<JmpCacheEntry>() == 32);

impl JmpCacheEntry {
    /// A free slot: its flags (every bit set, an impossible `cc_op` of 0xff) match no key.
    pub const EMPTY: JmpCacheEntry = JmpCacheEntry { pc: 0, cs_base: 0, flags: u32::MAX, tb: 0, host: 0, pad: 0 };
}

#[repr(C)]
pub struct TbJmpCache {
    /// Address of `entries[0]` (the boxed table never moves), for generated code.
    pub table: usize,
    entries: Box<[JmpCacheEntry]>,
}

impl Default for TbJmpCache {
    fn default() -> Self {
        Self::new()
    }
}

impl TbJmpCache {
    pub fn new() -> TbJmpCache {
        let entries = vec![JmpCacheEntry::EMPTY; TB_JMP_CACHE_SIZE].into_boxed_slice();
        TbJmpCache { table: entries.as_ptr() as usize, entries }
    }

    /// The part of [`index`](Self::index) that depends on the flags only (generated code that
    /// knows the flags statically folds it into a constant).
    pub fn flags_hash(flags: u32) -> u32 {
        (flags >> crate::cpu::state::hflags::TB_CC_OP_SHIFT).wrapping_mul(0x9e5)
    }

    /// QEMU's `tb_jmp_cache_hash_func`, with the entry `cc_op` of the key's flags mixed in: TBs at
    /// one pc specialised on different `cc_op`s (see `CpuState::tb_flags`) take different slots
    /// instead of evicting each other when a return site is reached with both.
    pub fn index(pc: u32, flags: u32) -> usize {
        ((pc ^ (pc >> TB_JMP_CACHE_BITS) ^ Self::flags_hash(flags)) as usize) & (TB_JMP_CACHE_SIZE - 1)
    }

    pub fn get(&self, pc: u32, cs_base: u32, flags: u32) -> Option<JmpCacheEntry> {
        let e = self.entries[Self::index(pc, flags)];
        (e.pc == pc && e.cs_base == cs_base && e.flags == flags).then_some(e)
    }

    pub fn set(&mut self, e: JmpCacheEntry) {
        self.entries[Self::index(e.pc, e.flags)] = e;
    }

    /// Forget TB `tb` if it is cached at (`pc`, `flags`).
    pub fn remove(&mut self, pc: u32, flags: u32, tb: u32) {
        let slot = &mut self.entries[Self::index(pc, flags)];
        if slot.flags == flags && slot.tb == tb {
            *slot = JmpCacheEntry::EMPTY;
        }
    }

    pub fn clear(&mut self) {
        self.entries.fill(JmpCacheEntry::EMPTY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::state::hflags::TB_CC_OP_SHIFT;

    fn entry(pc: u32, cc_op: u32, tb: u32) -> JmpCacheEntry {
        JmpCacheEntry { pc, cs_base: 0, flags: 0x90 | cc_op << TB_CC_OP_SHIFT, tb, host: 0, pad: 0 }
    }

    /// A return site reached with two entry cc_ops keeps both translations cached.
    #[test]
    fn same_pc_different_cc_op_coexist() {
        let mut c = TbJmpCache::new();
        let (a, b) = (entry(0x100123, 0xd, 1), entry(0x100123, 0x16, 2));
        c.set(a);
        c.set(b);
        assert_eq!(c.get(a.pc, 0, a.flags), Some(a));
        assert_eq!(c.get(b.pc, 0, b.flags), Some(b));
        c.remove(a.pc, a.flags, a.tb);
        assert_eq!(c.get(a.pc, 0, a.flags), None);
        assert_eq!(c.get(b.pc, 0, b.flags), Some(b));
    }
}
