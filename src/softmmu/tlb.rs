//! The software TLB (QEMU's `cputlb`): a direct-mapped table per `mmu_idx` that maps a guest
//! virtual page to a host address, plus its statistics.
//!
//! Invariants: an entry's tag is the page-aligned guest virtual address, zero-extended to 64 bits,
//! or has a flag set above bit 31 (`TLB_INVALID`, `TLB_MMIO`, `TLB_CODE`); a valid non-MMIO
//! entry's `host` is the host address of its page, which lies wholly inside guest RAM. Every tag
//! of an entry is set alike, except that only the write tag gets `TLB_CODE`: a write tag that
//! matches a page implies a read tag that matches it. Generated code relies on these and on the
//! `#[repr(C)]` layout of `TlbEntry`: with the flags above the address, `A - tag` is the page
//! offset of address `A` (below the page size) exactly when the tag is valid and maps A's page.

use core::mem::offset_of;

pub const PAGE_BITS: u32 = 12;
pub const PAGE_SIZE: u32 = 1 << PAGE_BITS;
pub const PAGE_MASK: u32 = !(PAGE_SIZE - 1);

/// The tag never matches an address.
pub const TLB_INVALID: u64 = 1 << 32;
/// Accesses go to the slow path (device memory, or a page outside RAM).
pub const TLB_MMIO: u64 = 1 << 33;
/// The page holds translated code: stores go to the slow path (self-modifying code detection).
pub const TLB_CODE: u64 = 1 << 34;

/// Number of address spaces: 0 = supervisor, 1 = user.
pub const NB_MMU_MODES: usize = 2;
pub const DEFAULT_TLB_BITS: u32 = 8;
/// The largest table (`--tlb-bits` at most this): the tables live inline in the CPU so generated
/// code reaches them at a fixed offset from `env`.
pub const MAX_TLB_BITS: u32 = 10;
pub const MAX_TLB_ENTRIES: usize = 1 << MAX_TLB_BITS;

/// One entry (QEMU's `CPUTLBEntry`, with the host address of the page instead of an addend).
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TlbEntry {
    pub addr_read: u64,
    pub addr_write: u64,
    /// Host address of the page's first byte.
    pub host: usize,
    pub addr_code: u64,
}

const _: () = assert!(offset_of!(TlbEntry, addr_read) == 0);
const _: () = assert!(offset_of!(TlbEntry, addr_write) == 8);
const _: () = assert!(offset_of!(TlbEntry, host) == 16);
const _: () = assert!(core::mem::size_of::<TlbEntry>() == 32);

impl TlbEntry {
    /// An entry mapping `vpage` with these tag flags to the host page at `host`.
    pub fn new(vpage: u32, tag_flags: u64, host: usize) -> TlbEntry {
        let tag = vpage as u64 | tag_flags;
        TlbEntry { addr_read: tag, addr_write: tag, host, addr_code: tag }
    }

    pub const EMPTY: TlbEntry =
        TlbEntry { addr_read: TLB_INVALID, addr_write: TLB_INVALID, host: 0, addr_code: TLB_INVALID };
}

/// The tag of the page holding `addr` (what a matching entry holds).
pub fn page_tag(addr: u32) -> u64 {
    (addr & PAGE_MASK) as u64
}

/// The kind of access, selecting which tag is compared.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    Code,
}

/// Counters reported by `--stats`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct TlbStats {
    pub hits: u64,
    pub misses: u64,
    pub fills: u64,
    pub flushes: u64,
    pub page_flushes: u64,
}

impl TlbStats {
    /// Hit rate in percent (100 when nothing was accessed).
    pub fn hit_rate(&self) -> f64 {
        let total = self.hits + self.misses;
        if total == 0 {
            100.0
        } else {
            self.hits as f64 * 100.0 / total as f64
        }
    }
}

/// The tables of all `mmu_idx`, inline (only the first `1 << bits` entries of each are used).
#[repr(C)]
#[derive(Clone, Debug)]
pub struct Tlb {
    pub tables: [[TlbEntry; MAX_TLB_ENTRIES]; NB_MMU_MODES],
    pub bits: u32,
    pub stats: TlbStats,
}

impl Tlb {
    /// Tables of `1 << bits` entries; `bits` is clamped to `1..=MAX_TLB_BITS`.
    pub fn new(bits: u32) -> Tlb {
        let bits = bits.clamp(1, MAX_TLB_BITS);
        Tlb { tables: [[TlbEntry::EMPTY; MAX_TLB_ENTRIES]; NB_MMU_MODES], bits, stats: TlbStats::default() }
    }

    /// Offset of mmu_idx `m`'s table from the start of the `Tlb`.
    pub const fn table_offset(m: usize) -> usize {
        offset_of!(Tlb, tables) + m * core::mem::size_of::<[TlbEntry; MAX_TLB_ENTRIES]>()
    }

    /// The entries in use, of every mmu_idx.
    pub fn entries(&self) -> impl Iterator<Item = &TlbEntry> {
        let n = 1usize << self.bits;
        self.tables.iter().flat_map(move |t| t[..n].iter())
    }

    fn entries_mut(&mut self) -> impl Iterator<Item = &mut TlbEntry> {
        let n = 1usize << self.bits;
        self.tables.iter_mut().flat_map(move |t| t[..n].iter_mut())
    }

    /// Index of the entry for `addr` (QEMU's `tlb_index`).
    pub fn index(&self, addr: u32) -> usize {
        ((addr >> PAGE_BITS) & ((1 << self.bits) - 1)) as usize
    }

    pub fn entry(&self, mmu_idx: usize, addr: u32) -> &TlbEntry {
        &self.tables[mmu_idx % NB_MMU_MODES][self.index(addr)]
    }

    /// The host address for an access that hits, or `None` (a miss, or a slow-path page).
    pub fn lookup(&self, mmu_idx: usize, addr: u32, access: Access) -> Option<usize> {
        let e = self.entry(mmu_idx, addr);
        let tag = match access {
            Access::Read => e.addr_read,
            Access::Write => e.addr_write,
            Access::Code => e.addr_code,
        };
        (tag == page_tag(addr)).then(|| e.host + (addr & !PAGE_MASK) as usize)
    }

    /// Install an entry.
    pub fn set(&mut self, mmu_idx: usize, vpage: u32, entry: TlbEntry) {
        let i = self.index(vpage);
        self.tables[mmu_idx % NB_MMU_MODES][i] = entry;
        self.stats.fills += 1;
    }

    /// Drop every entry (QEMU's `tlb_flush`).
    pub fn flush(&mut self) {
        self.entries_mut().for_each(|e| *e = TlbEntry::EMPTY);
        self.stats.flushes += 1;
    }

    /// Send stores to the host page at `host` through the slow path: set `TLB_CODE` in the write
    /// tag of every valid entry that maps it (QEMU's `tlb_protect_code`).
    pub fn protect_code(&mut self, host: usize) {
        for e in self.entries_mut() {
            let tag = e.addr_write;
            if tag & (TLB_INVALID | TLB_MMIO) == 0 && e.host == host {
                e.addr_write |= TLB_CODE;
            }
        }
    }

    /// Drop the entries that map the page of `addr` (QEMU's `tlb_flush_page`).
    pub fn flush_page(&mut self, addr: u32) {
        let i = self.index(addr);
        for t in self.tables.iter_mut() {
            let e = &t[i];
            if [e.addr_read, e.addr_write, e.addr_code].iter().any(|&tag| tag & page_tag(PAGE_MASK) == page_tag(addr)) {
                t[i] = TlbEntry::EMPTY;
            }
        }
        self.stats.page_flushes += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_and_flush_page() {
        let mut tlb = Tlb::new(8);
        assert_eq!(tlb.index(0x0010_1234), 0x01);
        let e = TlbEntry::new(0x101000, 0, 0x102000);
        tlb.set(0, 0x101000, e);
        assert_eq!(tlb.lookup(0, 0x101004, Access::Read), Some(0x102004));
        assert_eq!(tlb.lookup(0, 0x201004, Access::Read), None);
        tlb.flush_page(0x101fff);
        assert_eq!(tlb.lookup(0, 0x101004, Access::Read), None);
    }

    /// Generated code computes `A - tag` and takes it as the page offset when it is below the
    /// page size: true exactly for a valid tag of A's page, whatever flags the tag has.
    #[test]
    fn address_minus_tag_is_the_offset_only_for_a_valid_tag_of_the_page() {
        let hit = |tag: u64, a: u32| (a as u64).wrapping_sub(tag) < PAGE_SIZE as u64;
        let mut tlb = Tlb::new(8);
        tlb.set(0, 0x101000, TlbEntry::new(0x101000, 0, 0x7000_0000));
        tlb.protect_code(0x7000_0000);
        let e = *tlb.entry(0, 0x101000);
        assert!(hit(e.addr_read, 0x101000) && hit(e.addr_read, 0x101fff));
        assert!(!hit(e.addr_read, 0x100fff) && !hit(e.addr_read, 0x102000));
        assert!(!hit(e.addr_write, 0x101004), "a code page's stores take the slow path");
        assert_eq!(tlb.lookup(0, 0x101004, Access::Write), None);
        assert_eq!(tlb.lookup(0, 0x101004, Access::Read), Some(0x7000_0004));
        for flags in [TLB_INVALID, TLB_MMIO, TLB_CODE] {
            let tag = TlbEntry::new(0x101000, flags, 0).addr_read;
            assert!((0x101000..0x102000).step_by(0x3ff).all(|a| !hit(tag, a)), "{flags:#x}");
        }
        assert!(!hit(TlbEntry::EMPTY.addr_read, 0));
    }
}
