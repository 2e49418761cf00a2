//! `TranslationBlock` and the TB hash table (QEMU's `tb_htable`); the per-vCPU jump cache in
//! front of it lives in `cpu::jmp_cache`.
//!
//! A TB is identified by (physical pc, cs_base, flags). TBs are never freed individually: an
//! invalidated TB stays in the vector (marked invalid, unreachable) until the next flush.

use crate::tcg::interp::InterpCode;
use crate::tcg::x64::{HostCode, IndirectSite};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// What identifies a translation.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TbKey {
    pub phys_pc: u32,
    pub cs_base: u32,
    pub flags: u32,
}

/// QEMU's `cflags` bits that tcg86 can report in `-d exec` lines (QEMU 7.2 values): `-d nochain`
/// turns off both chaining (`goto_tb` patching) and `lookup_and_goto_ptr` in tcg86.
pub const CF_NO_GOTO_TB: u32 = 0x200;
pub const CF_NO_GOTO_PTR: u32 = 0x400;

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
    /// The optimized IR for the interpreter (only for TBs without JIT code).
    pub code: Option<InterpCode>,
    /// JIT code, when the JIT backend compiled this TB.
    pub host: Option<HostCode>,
    /// (pc, cc_op) of each guest instruction's `insn_start`, in order.
    pub insns: Vec<(u32, u32)>,
    /// Patchable jump of each `goto_tb` slot, and where it leads now (QEMU's `jmp_dest`); slot
    /// `INDIRECT_SLOT` is the indirect-jump link (`indirect`), which only leads to TBs on the
    /// TB's first page.
    pub jmp_sites: [Option<crate::tcg::x64::GotoTbSite>; 2],
    pub indirect: Option<IndirectSite>,
    pub jmp_dest: [Option<TbId>; 3],
    /// TBs whose `goto_tb` slot or indirect-jump link jumps here (QEMU's `jmp_list_head`).
    pub incoming: Vec<(TbId, usize)>,
    /// The guest physical bytes the TB was translated from: (start, length) on its first page and,
    /// when its last instruction runs over, on the next one.
    pub phys_ranges: [(u32, u32); 2],
    /// False once invalidated.
    pub valid: bool,
    /// Times entered from the loop.
    pub exec_count: u64,
}

/// Lookup and maintenance statistics.
#[derive(Copy, Clone, Debug, Default)]
pub struct TbCacheStats {
    pub jc_hits: u64,
    pub jc_misses: u64,
    pub ht_hits: u64,
    pub ht_misses: u64,
    pub links: u64,
    pub invalidations: u64,
    pub flushes: u64,
}

#[derive(Default)]
pub struct TbCache {
    pub tbs: Vec<TranslationBlock>,
    htable: BTreeMap<TbKey, TbId>,
    pub stats: TbCacheStats,
}

impl TbCache {
    pub fn new() -> TbCache {
        TbCache::default()
    }

    /// The id the next inserted TB will get.
    pub fn next_id(&self) -> TbId {
        TbId(self.tbs.len() as u32)
    }

    /// Find a valid TB by key (QEMU's `tb_htable_lookup`).
    pub fn htable_lookup(&mut self, key: &TbKey) -> Option<TbId> {
        let id = self.htable.get(key).copied();
        match id {
            Some(_) => self.stats.ht_hits += 1,
            None => self.stats.ht_misses += 1,
        }
        id
    }

    /// Add a new TB.
    pub fn insert(&mut self, tb: TranslationBlock) -> TbId {
        let id = self.next_id();
        self.htable.insert(tb.key, id);
        self.tbs.push(tb);
        id
    }

    pub fn get(&self, id: TbId) -> &TranslationBlock {
        &self.tbs[id.0 as usize]
    }

    pub fn get_mut(&mut self, id: TbId) -> &mut TranslationBlock {
        &mut self.tbs[id.0 as usize]
    }

    /// Remove a TB from the hash table (it stays allocated, invalid).
    pub fn unhash(&mut self, id: TbId) {
        let tb = &mut self.tbs[id.0 as usize];
        tb.valid = false;
        if self.htable.get(&tb.key) == Some(&id) {
            self.htable.remove(&tb.key);
        }
    }

    /// Drop every TB (QEMU's `tb_flush`).
    pub fn flush(&mut self) {
        self.tbs.clear();
        self.htable.clear();
        self.stats.flushes += 1;
    }
}
