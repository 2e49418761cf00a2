//! `TranslationBlock` and the TB cache (QEMU's `tb_htable` + `tb_jmp_cache`).
//!
//! A TB is identified by (physical pc, cs_base, flags). Lookups go first through a direct-mapped
//! jump cache indexed by the virtual pc, then through the hash table.

use crate::tcg::interp::InterpCode;
use crate::tcg::x64::HostCode;
use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

/// What identifies a translation.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TbKey {
    pub phys_pc: u32,
    pub cs_base: u32,
    pub flags: u32,
}

/// Index of a TB in the cache.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TbId(pub u32);

pub struct TranslationBlock {
    /// Virtual pc (eip + cs_base) at translation.
    pub pc: u32,
    pub key: TbKey,
    /// Guest bytes covered and instructions.
    pub size: u32,
    pub icount: u32,
    pub code: InterpCode,
    /// JIT code, when the JIT backend compiled this TB.
    pub host: Option<HostCode>,
    /// (pc, cc_op) of each guest instruction's `insn_start`, in order.
    pub insns: Vec<(u32, u32)>,
    /// Times entered from the loop.
    pub exec_count: u64,
}

pub const TB_JMP_CACHE_BITS: u32 = 12;
pub const TB_JMP_CACHE_SIZE: usize = 1 << TB_JMP_CACHE_BITS;

/// Lookup statistics.
#[derive(Copy, Clone, Debug, Default)]
pub struct TbCacheStats {
    pub jc_hits: u64,
    pub jc_misses: u64,
    pub ht_hits: u64,
    pub ht_misses: u64,
    pub flushes: u64,
}

pub struct TbCache {
    pub tbs: Vec<TranslationBlock>,
    htable: BTreeMap<TbKey, TbId>,
    jmp_cache: Vec<Option<(u32, TbId)>>,
    pub stats: TbCacheStats,
}

impl Default for TbCache {
    fn default() -> Self {
        Self::new()
    }
}

impl TbCache {
    pub fn new() -> TbCache {
        TbCache {
            tbs: Vec::new(),
            htable: BTreeMap::new(),
            jmp_cache: vec![None; TB_JMP_CACHE_SIZE],
            stats: TbCacheStats::default(),
        }
    }

    fn jc_index(pc: u32) -> usize {
        ((pc ^ (pc >> TB_JMP_CACHE_BITS)) as usize) & (TB_JMP_CACHE_SIZE - 1)
    }

    /// Find the TB for `key` reached at virtual `pc` (QEMU's `tb_lookup`).
    pub fn lookup(&mut self, pc: u32, key: &TbKey) -> Option<TbId> {
        let i = Self::jc_index(pc);
        if let Some((jpc, id)) = self.jmp_cache[i] {
            if jpc == pc && self.tbs[id.0 as usize].key == *key {
                self.stats.jc_hits += 1;
                return Some(id);
            }
        }
        self.stats.jc_misses += 1;
        let id = self.htable.get(key).copied();
        match id {
            Some(id) => {
                self.stats.ht_hits += 1;
                self.jmp_cache[i] = Some((pc, id));
            }
            None => self.stats.ht_misses += 1,
        }
        id
    }

    /// Add a new TB.
    pub fn insert(&mut self, tb: TranslationBlock) -> TbId {
        let id = TbId(self.tbs.len() as u32);
        self.htable.insert(tb.key, id);
        self.jmp_cache[Self::jc_index(tb.pc)] = Some((tb.pc, id));
        self.tbs.push(tb);
        id
    }

    pub fn get(&self, id: TbId) -> &TranslationBlock {
        &self.tbs[id.0 as usize]
    }

    pub fn get_mut(&mut self, id: TbId) -> &mut TranslationBlock {
        &mut self.tbs[id.0 as usize]
    }

    /// Drop every TB (QEMU's `tb_flush`).
    pub fn flush(&mut self) {
        self.tbs.clear();
        self.htable.clear();
        self.jmp_cache.fill(None);
        self.stats.flushes += 1;
    }
}
