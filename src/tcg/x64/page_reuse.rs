//! Guest memory accesses that reuse the TLB lookup of an earlier access in their TB.
//!
//! Two accesses at `G + c1` and `G + c2`, with the same base `G` unchanged in between, are often on
//! one guest page (stack slots off `esp`, fields of one record). The first does the ordinary
//! lookup and keeps its result in two spare registers: the host address of its page and its page
//! offset. The second then checks `offset + (c2 - c1)` against the page size instead of looking
//! up again, and accesses that host page; past the page it takes its own slow path. The first's
//! slow path sets the offset to a value no check accepts (`POISON`).
//!
//! The host page stays right in between for the reasons of `hoist.rs`: only helpers (no call may
//! come between) and translations (between TBs) change what a TLB entry means; other accesses'
//! slow paths in between may refill entries, but a page's host memory stays the same, and they
//! keep the two registers. A store reuses only a lookup that checked the write tag (a store's).

use crate::tcg::ir::{Op, TcgContext, Temp, TempKind};
use crate::tcg::opcode::{OpFlags, Opcode};
use alloc::vec;
use alloc::vec::Vec;

/// A page offset no access accepts, even moved by any 32-bit displacement below 2 GiB.
pub const POISON: u32 = 0x8000_0000;

/// An access (`op`) that reuses the lookup of access `first`, whose address differed from its
/// own by `-delta`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Reuse {
    pub first: usize,
    pub op: usize,
    pub delta: i32,
}

/// A lookup still reusable: its access, address `base + disp`, and whether it checked the write
/// tag; `busy` once something reuses it.
struct Open {
    op: usize,
    base: Temp,
    disp: u32,
    write: bool,
    busy: bool,
}

/// The accesses of `ctx` that reuse an earlier lookup, in op order. At most `lanes` first accesses
/// have reusers at any point (each holds two registers until its last reuser). One pass over the
/// ops (TBs of straight-line code are long).
pub fn reuses(ctx: &TcgContext, lanes: usize) -> Vec<Reuse> {
    let rmw = read_modify_writes(ctx);
    let mut blocks = Blocks::new(ctx);
    let mut out = Vec::new();
    let mut open: Vec<Open> = Vec::new();
    for (i, op) in ctx.ops.iter().enumerate() {
        if blocks.ends_at(op) || op.opc == Opcode::Call {
            open.clear();
        }
        let is_store = op.opc == Opcode::QemuSt;
        let access = (is_store || op.opc == Opcode::QemuLd) && !(is_store && rmw[i]);
        if let Some((base, disp)) = access.then(|| blocks.base_and_disp(ctx, op.addr_input())).flatten() {
            let write = is_store || rmw[i];
            match open.iter_mut().find(|o| o.base == base && (o.write || !write)) {
                Some(o) => {
                    o.busy = true;
                    out.push(Reuse { first: o.op, op: i, delta: disp.wrapping_sub(o.disp) as i32 });
                }
                None => {
                    // With every lane taken, a new first lookup replaces the oldest one nothing
                    // reuses yet, if any.
                    if open.len() >= lanes {
                        if let Some(k) = open.iter().position(|o| !o.busy) {
                            open.remove(k);
                        }
                    }
                    if open.len() < lanes {
                        open.push(Open { op: i, base, disp, write: is_store, busy: false });
                    }
                }
            }
        }
        // A write to a base ends its lookups' reuse.
        open.retain(|o| !op.outputs().contains(&o.base.0));
        blocks.record(i, op);
    }
    out
}

/// For each op: a load whose value a later store of its basic block writes back to the same
/// address temp, or that store (hoist.rs's `stored_back` and `is_rmw_store`, pairing each store
/// with the nearest such load), in one pass.
fn read_modify_writes(ctx: &TcgContext) -> Vec<bool> {
    let mut rmw = vec![false; ctx.ops.len()];
    let mut blocks = Blocks::new(ctx);
    // Per address temp: the last load through it, with the block and the temp's version then.
    let mut last_load: Vec<Option<(u32, u32, usize)>> = vec![None; ctx.temps.len()];
    for (i, op) in ctx.ops.iter().enumerate() {
        blocks.ends_at(op);
        let a = || op.addr_input().0 as usize;
        match op.opc {
            Opcode::QemuLd => last_load[a()] = Some((blocks.id, blocks.version[a()], i)),
            Opcode::QemuSt => {
                let same = |&(b, v, _): &(u32, u32, usize)| b == blocks.id && v == blocks.version[a()];
                if let Some((_, _, l)) = last_load[a()].filter(same) {
                    rmw[l] = true;
                    rmw[i] = true;
                }
            }
            _ => {}
        }
        blocks.record(i, op);
    }
    rmw
}

/// Basic blocks seen so far, and the last write of each temp in the current one.
struct Blocks {
    id: u32,
    /// Per temp: how many ops wrote it so far.
    version: Vec<u32>,
    /// Per temp: its last write (block, op).
    def: Vec<Option<(u32, usize)>>,
}

impl Blocks {
    fn new(ctx: &TcgContext) -> Blocks {
        Blocks { id: 0, version: vec![0; ctx.temps.len()], def: vec![None; ctx.temps.len()] }
    }

    /// A label or block end: what follows is another block. True if `op` is one.
    fn ends_at(&mut self, op: &Op) -> bool {
        let ends = op.opc == Opcode::SetLabel || op.flags().contains(OpFlags::BB_END);
        self.id += u32::from(ends);
        ends
    }

    /// After op `i`: its outputs are written.
    fn record(&mut self, i: usize, op: &Op) {
        for &t in op.outputs() {
            self.version[t as usize] += 1;
            self.def[t as usize] = Some((self.id, i));
        }
    }

    /// `addr` as the access uses it: a global or temp plus a constant (the op computing it in
    /// the current block is an `add` of a constant, or there is none and `addr` is a global).
    fn base_and_disp(&self, ctx: &TcgContext, addr: Temp) -> Option<(Temp, u32)> {
        let plain = |t: Temp| !matches!(ctx.temps[t.0 as usize].kind, TempKind::Const(_) | TempKind::Fixed);
        if !plain(addr) {
            return None;
        }
        match self.def[addr.0 as usize].filter(|d| d.0 == self.id) {
            Some((_, k)) => {
                let op = &ctx.ops[k];
                let (a, b) = (op.input(0), op.input(1));
                let c = ctx.const_value(b).filter(|_| op.opc == Opcode::Add)?;
                (a != addr && plain(a)).then_some((a, c))
            }
            None => matches!(ctx.temps[addr.0 as usize].kind, TempKind::Global { .. }).then_some((addr, 0)),
        }
    }
}
