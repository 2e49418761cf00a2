//! TB maintenance (QEMU's `tb-maint.c`): chaining TBs by patching their `goto_tb` jumps,
//! unlinking them, invalidating TBs, and flushing everything.
//!
//! Invariants: `jmp_dest[n] = Some(t)` exactly when slot n's jump is patched to t's code, and then
//! t's `incoming` lists (from, n); an invalid TB has no incoming or outgoing links and is in neither
//! the hash table nor the jump cache.

use super::cpu_exec::Machine;
use super::log::LogMask;
use super::tb::TbId;
use alloc::format;

impl Machine {
    /// Patch slot `n` of `from` to jump straight into `to` (QEMU's `tb_add_jump`).
    pub fn tb_add_jump(&mut self, from: TbId, n: usize, to: TbId) {
        let (Some(jit), true) = (self.jit.as_mut(), self.cpu.chaining) else { return };
        let (src, dst) = (&self.tbs.tbs[from.0 as usize], &self.tbs.tbs[to.0 as usize]);
        let (Some(site), Some(target)) = (src.jmp_sites.get(n).copied().flatten(), dst.host) else { return };
        if src.jmp_dest[n].is_some() || !src.valid || !dst.valid {
            return;
        }
        jit.patch_jump(site, target.addr);
        if self.log.enabled(LogMask::EXEC | LogMask::TB) {
            let (fa, ta) = (src.host.map_or(0, |h| h.addr), target.addr);
            let line = format!("Linking TBs {:#x} [{:08x}] index {} -> {:#x} [{:08x}]\n", fa, src.pc, n, ta, dst.pc);
            self.log.sink.log(&line);
        }
        self.tbs.get_mut(from).jmp_dest[n] = Some(to);
        self.tbs.get_mut(to).incoming.push((from, n));
        self.tbs.stats.links += 1;
    }

    /// Point slot `n` of `from` back at its own exit code (QEMU's `tb_reset_jump`).
    fn tb_reset_jump(&mut self, from: TbId, n: usize) {
        let tb = self.tbs.get_mut(from);
        tb.jmp_dest[n] = None;
        if let (Some(site), Some(jit)) = (tb.jmp_sites[n], self.jit.as_mut()) {
            jit.patch_jump(site, site + 5);
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
        for n in 0..2 {
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
