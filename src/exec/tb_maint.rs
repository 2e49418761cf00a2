//! TB maintenance (QEMU's `tb-maint.c`): chaining TBs by patching their `goto_tb` jumps,
//! unlinking them, invalidating TBs, and flushing everything.
//!
//! Invariants: `jmp_dest[n] = Some(t)` exactly when slot n's jump is patched to t's code, and then
//! t's `incoming` lists (from, n); an invalid TB has no incoming or outgoing links and is in neither
//! the hash table nor the jump cache.

use super::cpu_exec::Machine;
use super::log::LogMask;
use super::tb::TbId;
use crate::softmmu::tlb::PAGE_MASK;
use crate::tcg::x64::INDIRECT_SLOT;
use alloc::format;

impl Machine {
    /// Patch slot `n` of `from` to jump straight into `to` (QEMU's `tb_add_jump`). The indirect-
    /// jump link (`INDIRECT_SLOT`) only takes a TB on `from`'s first page, for the reason direct
    /// jumps are only chained within a page: the virtual-to-physical mapping of another page may
    /// change while both TBs stay valid (the jump cache is flushed then; links are not).
    pub fn tb_add_jump(&mut self, from: TbId, n: usize, to: TbId) {
        let (Some(jit), true) = (self.jit.as_mut(), self.cpu.chaining) else { return };
        let (src, dst) = (&self.tbs.tbs[from.0 as usize], &self.tbs.tbs[to.0 as usize]);
        let Some(target) = dst.host else { return };
        if src.jmp_dest.get(n).is_none_or(|d| d.is_some()) || !src.valid || !dst.valid {
            return;
        }
        if n == INDIRECT_SLOT {
            let Some(site) = src.indirect.filter(|_| src.pc & PAGE_MASK == dst.pc & PAGE_MASK) else { return };
            jit.link_indirect(&site, dst.pc, target.addr);
        } else {
            let Some(site) = src.jmp_sites[n] else { return };
            jit.link_goto_tb(&site, Some(target.addr));
        }
        self.tbs.get_mut(from).jmp_dest[n] = Some(to);
        self.tbs.get_mut(to).incoming.push((from, n));
        self.tbs.stats.links += 1;
        self.log_link(from, n, to);
    }

    /// `-d exec`: QEMU 7.2's `Linking TBs` line (earlier versions added each TB's pc in
    /// brackets); `-d tb`: the same link by guest pc.
    fn log_link(&mut self, from: TbId, n: usize, to: TbId) {
        if !self.log.enabled(LogMask::EXEC | LogMask::TB) {
            return;
        }
        let (src, dst) = (self.tbs.get(from), self.tbs.get(to));
        let host = |tb: &super::tb::TranslationBlock| tb.host.map_or(0, |h| h.addr);
        let exec = format!("Linking TBs {:#x} index {} -> {:#x}\n", host(src), n, host(dst));
        let tb = format!("tb: link {:08x} index {} -> {:08x}\n", src.pc, n, dst.pc);
        if self.log.enabled(LogMask::EXEC) {
            self.log.sink.log(&exec);
        }
        if self.log.enabled(LogMask::TB) {
            self.log.sink.log(&tb);
        }
    }

    /// Point slot `n` of `from` back at its own exit code (QEMU's `tb_reset_jump`).
    fn tb_reset_jump(&mut self, from: TbId, n: usize) {
        let tb = self.tbs.get_mut(from);
        tb.jmp_dest[n] = None;
        let Some(jit) = self.jit.as_mut() else { return };
        match (n, tb.indirect) {
            (INDIRECT_SLOT, Some(site)) => jit.unlink_indirect(&site),
            _ => {
                if let Some(site) = tb.jmp_sites.get(n).copied().flatten() {
                    jit.link_goto_tb(&site, None);
                }
            }
        }
    }

    /// Make a TB unreachable: out of the hash table and jump cache, every jump into it and out of
    /// it undone (QEMU's `tb_phys_invalidate`).
    pub fn tb_invalidate(&mut self, id: TbId) {
        if !self.tbs.get(id).valid {
            return;
        }
        self.tbs.unhash(id);
        let (pc, flags) = (self.tbs.get(id).pc, self.tbs.get(id).key.flags);
        for (start, len) in self.tbs.get(id).phys_ranges {
            self.cpu.code_pages.remove(id.0, start, len);
        }
        self.cpu.tb_jmp_cache.remove(pc, flags, id.0);
        for (from, n) in core::mem::take(&mut self.tbs.get_mut(id).incoming) {
            self.tb_reset_jump(from, n);
        }
        for n in 0..=INDIRECT_SLOT {
            if let Some(to) = self.tbs.get_mut(id).jmp_dest[n].take() {
                self.tbs.get_mut(to).incoming.retain(|&(f, s)| !(f == id && s == n));
            }
        }
        self.tbs.stats.invalidations += 1;
        if self.log.enabled(LogMask::TB) {
            self.log.sink.log(&format!("tb: invalidate {:08x}\n", pc));
        }
    }

    /// Invalidate every TB with bytes in [pa, pa + len) (QEMU's `tb_invalidate_phys_range`).
    pub fn tb_invalidate_phys_range(&mut self, pa: u32, len: u32) {
        for tb in self.cpu.code_pages.overlapping(pa, len) {
            self.tb_invalidate(TbId(tb));
        }
    }

    /// Drop every TB and all generated code (QEMU's `tb_flush`).
    pub fn tb_flush(&mut self) {
        self.tbs.flush();
        self.cpu.code_pages.clear();
        self.cpu.tb_jmp_cache.clear();
        if let Some(jit) = self.jit.as_mut() {
            jit.flush();
        }
        if self.log.enabled(LogMask::TB) {
            self.log.sink.log("tb: flush\n");
        }
    }
}
