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

use super::hoist::{is_rmw_store, stored_back};
use crate::tcg::ir::{TcgContext, Temp, TempKind};
use crate::tcg::opcode::{OpFlags, Opcode};
use alloc::vec::Vec;

/// A page offset no access accepts, even moved by any 32-bit displacement below 2 GiB.
pub const POISON: u32 = 0x8000_0000;

/// An access (`op`) that reuses the lookup of access `first`, whose address was `base + disp -
/// delta`; its own address is `base + disp`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Reuse {
    pub first: usize,
    pub op: usize,
    pub base: Temp,
    pub disp: u32,
    pub delta: i32,
}

/// The accesses of `ctx` that reuse an earlier lookup, in op order. At most `lanes` first accesses
/// have reusers at any point (each holds two registers until its last reuser).
pub fn reuses(ctx: &TcgContext, lanes: usize) -> Vec<Reuse> {
    let mut out: Vec<Reuse> = Vec::new();
    // Lookups still reusable: (access, base, disp, write checked).
    let mut open: Vec<(usize, Temp, u32, bool)> = Vec::new();
    for (i, op) in ctx.ops.iter().enumerate() {
        let access = matches!(op.opc, Opcode::QemuLd | Opcode::QemuSt);
        if op.opc == Opcode::SetLabel || op.flags().contains(OpFlags::BB_END) || op.opc == Opcode::Call {
            open.clear();
        }
        if access && !is_rmw_store(ctx, i) {
            let addr = op.addr_input();
            let is_store = op.opc == Opcode::QemuSt;
            let rmw_load = !is_store && stored_back(ctx, i, addr);
            if let Some((base, disp)) = base_and_disp(ctx, i, addr) {
                let write = is_store || rmw_load;
                let found = open.iter().find(|o| o.1 == base && (o.3 || !write)).copied();
                match found {
                    Some((first, _, d1, _)) => {
                        out.push(Reuse { first, op: i, base, disp, delta: disp.wrapping_sub(d1) as i32 })
                    }
                    None => {
                        let busy = |f: usize| out.iter().any(|r| r.first == f);
                        // With every lane taken, a new first lookup replaces the oldest one
                        // nothing reuses yet, if any.
                        if open.len() >= lanes {
                            if let Some(k) = open.iter().position(|o| !busy(o.0)) {
                                open.remove(k);
                            }
                        }
                        if open.len() < lanes {
                            open.push((i, base, disp, is_store));
                        }
                    }
                }
            }
        }
        // A write to a base ends its lookups' reuse.
        open.retain(|o| !op.outputs().contains(&o.1 .0));
    }
    out
}

/// `addr` as access `at` uses it: a global or temp plus a constant (the op computing it in the
/// access's basic block is an `add` of a constant, or there is none and `addr` is the base).
fn base_and_disp(ctx: &TcgContext, at: usize, addr: Temp) -> Option<(Temp, u32)> {
    let kind = ctx.temps[addr.0 as usize].kind;
    if matches!(kind, TempKind::Const(_) | TempKind::Fixed) {
        return None;
    }
    let def = ctx.ops[..at].iter().rev().find(|op| {
        op.outputs().contains(&addr.0) || op.flags().contains(OpFlags::BB_END) || op.opc == Opcode::SetLabel
    });
    match def.filter(|op| op.outputs().contains(&addr.0)) {
        Some(op) if op.opc == Opcode::Add => {
            let (a, b) = (op.input(0), op.input(1));
            let c = ctx.const_value(b)?;
            let base_ok = a != addr && !matches!(ctx.temps[a.0 as usize].kind, TempKind::Const(_) | TempKind::Fixed);
            base_ok.then_some((a, c))
        }
        Some(_) => None,
        None if matches!(kind, TempKind::Global { .. }) => Some((addr, 0)),
        None => None,
    }
}
