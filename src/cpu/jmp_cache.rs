//! The per-vCPU TB jump cache (QEMU's `CPUJumpCache`): a direct-mapped table from the virtual pc
//! of a TB to its identity and host code, read by `cpu_exec` and by generated code's
//! `lookup_and_goto_ptr`.
//!
//! Invariant: an entry names a live TB; the exec loop clears entries when TBs are invalidated or
//! flushed and clears the whole cache when virtual-to-physical mappings change.

use alloc::vec;
use alloc::vec::Vec;

pub const TB_JMP_CACHE_BITS: u32 = 12;
pub const TB_JMP_CACHE_SIZE: usize = 1 << TB_JMP_CACHE_BITS;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct JmpCacheEntry {
    pub pc: u32,
    pub cs_base: u32,
    pub flags: u32,
    pub tb: u32,
    /// Host code address (0: the TB has none and runs in the interpreter).
    pub host: usize,
}

pub struct TbJmpCache {
    entries: Vec<Option<JmpCacheEntry>>,
}

impl Default for TbJmpCache {
    fn default() -> Self {
        Self::new()
    }
}

impl TbJmpCache {
    pub fn new() -> TbJmpCache {
        TbJmpCache { entries: vec![None; TB_JMP_CACHE_SIZE] }
    }

    /// QEMU's `tb_jmp_cache_hash_func`.
    pub fn index(pc: u32) -> usize {
        ((pc ^ (pc >> TB_JMP_CACHE_BITS)) as usize) & (TB_JMP_CACHE_SIZE - 1)
    }

    pub fn get(&self, pc: u32, cs_base: u32, flags: u32) -> Option<JmpCacheEntry> {
        let e = self.entries[Self::index(pc)]?;
        (e.pc == pc && e.cs_base == cs_base && e.flags == flags).then_some(e)
    }

    pub fn set(&mut self, e: JmpCacheEntry) {
        self.entries[Self::index(e.pc)] = Some(e);
    }

    /// Forget TB `tb` if it is cached at `pc`.
    pub fn remove(&mut self, pc: u32, tb: u32) {
        let slot = &mut self.entries[Self::index(pc)];
        if slot.is_some_and(|e| e.tb == tb) {
            *slot = None;
        }
    }

    pub fn clear(&mut self) {
        self.entries.fill(None);
    }
}
