//! Write counts for facts an optimizer pass learns about temps within a basic block
//! (`copy_prop.rs`, `inverse.rs`). A fact records the write count of each temp it depends on and
//! the block it was learnt in, and holds while both are current: a write, or the end of a block,
//! ends every fact it touches without a scan.

use super::effects::is_global;
use super::ir::TcgContext;
use alloc::vec;
use alloc::vec::Vec;

/// Stands for "no temp" in a fact: its write count never changes.
pub const NO_TEMP: u32 = u32::MAX;

pub struct Versions {
    /// Writes of each temp so far.
    ver: Vec<u32>,
    /// Blocks ended so far.
    block: u32,
    globals: Vec<u32>,
}

impl Versions {
    pub fn new(ctx: &TcgContext) -> Versions {
        let n = ctx.temps.len();
        let globals = (0..n as u32).filter(|&t| is_global(ctx, t)).collect();
        Versions { ver: vec![0; n], block: 0, globals }
    }

    /// The write count of `t` (0 for `NO_TEMP`).
    pub fn of(&self, t: u32) -> u32 {
        self.ver.get(t as usize).copied().unwrap_or(0)
    }

    /// The current block.
    pub fn block(&self) -> u32 {
        self.block
    }

    /// `t` is written: the facts depending on its old value end.
    pub fn written(&mut self, t: u32) {
        if let Some(v) = self.ver.get_mut(t as usize) {
            *v = v.wrapping_add(1);
        }
    }

    /// The block ends: every fact ends.
    pub fn end_block(&mut self) {
        self.block += 1;
    }

    /// Every global may have been written (behind the IR's back): count a write of each, and
    /// hand each to `forget` (for the facts kept about the global itself).
    pub fn globals_written(&mut self, mut forget: impl FnMut(u32)) {
        for &g in &self.globals {
            self.ver[g as usize] = self.ver[g as usize].wrapping_add(1);
            forget(g);
        }
    }
}
