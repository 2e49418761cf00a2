//! Guest virtual memory for the CPU: the TLB fill and the `qemu_ld`/`qemu_st` slow paths that
//! generated code calls (QEMU's `cputlb.c` `load_helper`/`store_helper`), and the same accesses for
//! helpers and the translator.
//!
//! A fault is a value: `Err(())` with the exception recorded in `env` (see `X86Cpu::raise_exception`).
//! Accesses that cross a page boundary are split into bytes so each page is translated on its own.

use super::state::EXCP_SMC;
use super::x86cpu::X86Cpu;
use crate::softmmu::tlb::{page_tag, Access, TlbEntry, PAGE_MASK, PAGE_SIZE, TLB_CODE, TLB_MMIO};
use crate::softmmu::PhysAddr;
use crate::tcg::ir::{HelperRet, MemOp, HELPER_EXIT};

/// A guest fault during a memory access; the exception is already recorded in `env`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Fault;

pub type MemResult<T> = Result<T, Fault>;

impl X86Cpu {
    /// Translate a virtual address (paging off: identity). Page faults come with paging.
    pub fn translate(&mut self, vaddr: u32, _access: Access, _mmu_idx: usize) -> MemResult<PhysAddr> {
        Ok(PhysAddr(vaddr))
    }

    /// Fill the TLB entry for `vaddr` (QEMU's `tlb_fill`).
    pub fn tlb_fill(&mut self, vaddr: u32, access: Access, mmu_idx: usize) -> MemResult<()> {
        let pa = self.translate(vaddr, access, mmu_idx)?;
        let vpage = vaddr & PAGE_MASK;
        let mut entry = match self.mem.ram_page_ptr(pa, PAGE_SIZE) {
            Some(host) => TlbEntry::new(vpage, 0, host as usize),
            None => TlbEntry::new(vpage, TLB_MMIO, 0),
        };
        if self.code_pages.is_code_page(pa.0) {
            entry.addr_write |= TLB_CODE;
        }
        self.tlb.set(mmu_idx, vpage, entry);
        Ok(())
    }

    /// The host address of `vaddr` for `access` when its page is RAM (`None`: another kind of
    /// memory, which goes through the bus), filling the TLB entry on a miss. Always inlined: as a
    /// call, on the load slow path every TLB miss of generated code takes, the memory bench
    /// kernel ran 9% more host instructions (callgrind).
    #[inline(always)]
    fn page_host(&mut self, vaddr: u32, access: Access, mmu_idx: usize) -> MemResult<Option<usize>> {
        if let Some(host) = self.tlb.lookup(mmu_idx, vaddr, access) {
            self.tlb.stats.hits += 1;
            return Ok(Some(host));
        }
        self.tlb.stats.misses += 1;
        self.tlb_fill(vaddr, access, mmu_idx)?;
        Ok(self.tlb.lookup(mmu_idx, vaddr, access))
    }

    /// Read `size` bytes from one page.
    fn ld_page(&mut self, vaddr: u32, size: u32, access: Access, mmu_idx: usize) -> MemResult<u32> {
        if let Some(host) = self.page_host(vaddr, access, mmu_idx)? {
            // SAFETY: a hit proves the page is wholly inside RAM (tlb.rs invariant) and the access
            // does not cross it (callers split crossing accesses).
            return Ok(unsafe { read_host(host as *const u8, size) });
        }
        let pa = self.translate(vaddr, access, mmu_idx)?;
        Ok(self.mem.read(pa, size))
    }

    fn st_page(&mut self, vaddr: u32, size: u32, value: u32, mmu_idx: usize, from_code: bool) -> MemResult<()> {
        if let Some(host) = self.tlb.lookup(mmu_idx, vaddr, Access::Write) {
            self.tlb.stats.hits += 1;
            // SAFETY: as in `ld_page`.
            unsafe { write_host(host as *mut u8, size, value) };
            return Ok(());
        }
        let tag = self.tlb.entry(mmu_idx, vaddr).addr_write;
        if tag & !TLB_CODE == page_tag(vaddr) {
            self.tlb.stats.hits += 1;
        } else {
            self.tlb.stats.misses += 1;
            self.tlb_fill(vaddr, Access::Write, mmu_idx)?;
            if let Some(host) = self.tlb.lookup(mmu_idx, vaddr, Access::Write) {
                // SAFETY: as in `ld_page` (a page with translated code fails the lookup).
                unsafe { write_host(host as *mut u8, size, value) };
                return Ok(());
            }
        }
        let pa = self.translate(vaddr, Access::Write, mmu_idx)?;
        self.notdirty_write(pa.0, size, from_code)?;
        self.mem.write(pa, size, value);
        Ok(())
    }

    /// A store to a page with translated code (QEMU's `notdirty_write`). Stores that miss every
    /// TB's bytes just proceed. One from generated code that hits some is not done: `EXCP_SMC`
    /// rolls its instruction back so the exec loop can invalidate the TBs and rerun it. Other
    /// stores proceed and leave the range for the loop to invalidate.
    fn notdirty_write(&mut self, pa: u32, size: u32, from_code: bool) -> MemResult<()> {
        if !self.code_pages.is_code_page(pa) || self.code_pages.overlapping(pa, size).is_empty() {
            return Ok(());
        }
        if from_code {
            self.smc_store = Some((pa, size));
            self.env.exception_index = EXCP_SMC;
            return Err(Fault);
        }
        self.smc_pending.push((pa, size));
        Ok(())
    }

    /// Guest load of `size` (1, 2, 4) bytes at `vaddr`, little-endian, zero-extended.
    pub fn ld(&mut self, vaddr: u32, size: u32, mmu_idx: usize) -> MemResult<u32> {
        self.ld_access(vaddr, size, Access::Read, mmu_idx)
    }

    fn ld_access(&mut self, vaddr: u32, size: u32, access: Access, mmu_idx: usize) -> MemResult<u32> {
        if crosses_page(vaddr, size) {
            let mut v = 0;
            for i in 0..size {
                v |= self.ld_page(vaddr.wrapping_add(i), 1, access, mmu_idx)? << (8 * i);
            }
            return Ok(v);
        }
        self.ld_page(vaddr, size, access, mmu_idx)
    }

    /// Guest store of the low `size` bytes of `value` at `vaddr`. A store crossing a page checks both
    /// pages before writing anything, so a fault leaves memory unchanged.
    pub fn st(&mut self, vaddr: u32, size: u32, value: u32, mmu_idx: usize) -> MemResult<()> {
        self.st_access(vaddr, size, value, mmu_idx, false)
    }

    fn st_access(&mut self, vaddr: u32, size: u32, value: u32, mmu_idx: usize, from_code: bool) -> MemResult<()> {
        if crosses_page(vaddr, size) {
            self.translate(vaddr, Access::Write, mmu_idx)?;
            self.translate(vaddr.wrapping_add(size - 1), Access::Write, mmu_idx)?;
            // Check every byte for code before writing any, so a rollback leaves memory unchanged.
            for i in 0..size.min(u32::from(from_code) * 4) {
                let pa = self.translate(vaddr.wrapping_add(i), Access::Write, mmu_idx)?.0;
                self.notdirty_write(pa, 1, true)?;
            }
            for i in 0..size {
                self.st_page(vaddr.wrapping_add(i), 1, value >> (8 * i), mmu_idx, from_code)?;
            }
            return Ok(());
        }
        self.st_page(vaddr, size, value, mmu_idx, from_code)
    }

    /// Fetch code bytes at `vaddr` into `buf` for the translator, stopping at a fault; returns how
    /// many. One TLB lookup per page (QEMU's `translator_ld*` also read a page's code through one
    /// host pointer): RAM is copied, other memory read byte by byte through the bus.
    pub fn fetch_code(&mut self, vaddr: u32, buf: &mut [u8]) -> usize {
        let mut n = 0;
        while n < buf.len() {
            let a = vaddr.wrapping_add(n as u32);
            let room = ((PAGE_SIZE - (a & !PAGE_MASK)) as usize).min(buf.len() - n);
            let Ok(host) = self.page_host(a, Access::Code, 0) else { break };
            match host {
                // SAFETY: a TLB hit maps the whole page inside RAM (tlb.rs invariant) and `room`
                // bytes from `a` stay in it.
                Some(p) => {
                    buf[n..n + room].copy_from_slice(unsafe { core::slice::from_raw_parts(p as *const u8, room) })
                }
                None => {
                    let Ok(pa) = self.translate(a, Access::Code, 0) else { break };
                    for (i, b) in buf[n..n + room].iter_mut().enumerate() {
                        *b = self.mem.read(PhysAddr(pa.0.wrapping_add(i as u32)), 1) as u8;
                    }
                }
            }
            n += room;
        }
        n
    }

    /// The physical address of code at `vaddr` (the TB key).
    pub fn code_phys(&mut self, vaddr: u32) -> MemResult<PhysAddr> {
        self.translate(vaddr, Access::Code, 0)
    }
}

fn crosses_page(vaddr: u32, size: u32) -> bool {
    (vaddr & !PAGE_MASK) + size > PAGE_SIZE
}

/// # Safety
/// `p..p+size` must be readable.
unsafe fn read_host(p: *const u8, size: u32) -> u32 {
    // SAFETY: per the contract.
    unsafe {
        match size {
            1 => p.read() as u32,
            2 => (p as *const u16).read_unaligned() as u32,
            _ => (p as *const u32).read_unaligned(),
        }
    }
}

/// # Safety
/// `p..p+size` must be writable.
unsafe fn write_host(p: *mut u8, size: u32, v: u32) {
    // SAFETY: per the contract.
    unsafe {
        match size {
            1 => p.write(v as u8),
            2 => (p as *mut u16).write_unaligned(v as u16),
            _ => (p as *mut u32).write_unaligned(v),
        }
    }
}

/// `qemu_ld` slow path: `(env, addr, memop, mmu_idx, _)`.
///
/// # Safety
/// `env` must come from `X86Cpu::env_ptr`.
pub unsafe extern "C" fn helper_qemu_ld(env: *mut u8, addr: u32, memop: u32, mmu_idx: u32, _: u32) -> HelperRet {
    // SAFETY: per the contract.
    let cpu = unsafe { X86Cpu::from_env(env) };
    let op = MemOp(memop);
    match cpu.ld(addr, op.size(), mmu_idx as usize) {
        Ok(v) => op.extend(v) as u64,
        Err(Fault) => HELPER_EXIT,
    }
}

/// `qemu_st` slow path: `(env, addr, memop, mmu_idx, value)`.
///
/// # Safety
/// `env` must come from `X86Cpu::env_ptr`.
pub unsafe extern "C" fn helper_qemu_st(env: *mut u8, addr: u32, memop: u32, mmu_idx: u32, value: u32) -> HelperRet {
    // SAFETY: per the contract.
    let cpu = unsafe { X86Cpu::from_env(env) };
    match cpu.st_access(addr, MemOp(memop).size(), value, mmu_idx as usize, true) {
        Ok(()) => 0,
        Err(Fault) => HELPER_EXIT,
    }
}
