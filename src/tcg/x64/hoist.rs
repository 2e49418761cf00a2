//! Guest memory accesses of TBs that loop inside themselves: TLB lookups done once per TB entry
//! (loop-invariant addresses) or once per page (the others).
//!
//! In a TB that loops inside itself, an access whose address is a global the TB never writes plus
//! a constant (`add %eax,0x28(%esp)` in a loop that leaves `esp` alone) touches the same guest
//! page on every iteration. Its TLB lookup moves to the TB entry, before the loop body: the host
//! address, or 0 when the lookup missed, goes to a stack slot, and each iteration only tests it
//! (a pass that finds 0 looks the page up again, out of line, and keeps the address it finds).
//!
//! The other accesses of such a TB keep the page their last lookup found (its guest address and
//! the host address of its first byte, in two stack slots): while the access stays inside that
//! page, a subtraction and a compare replace the lookup. The slots start out invalid at each TB
//! entry.
//!
//! The host address stays right for the whole run of the loop: a TLB entry only changes
//! meaning through a flush or a change of page protection (helpers: excluded, the TB must call
//! none) or a translation (between TBs; every entry into the TB looks the page up again). A refill
//! of the same TLB entry by another access evicts the entry, but the page it mapped is still the
//! same host memory. A page with translated code fails the write check at entry, so stores to it
//! keep their ordinary lookup and slow path.

use crate::tcg::ir::{Op, TcgContext, Temp, TempKind};
use crate::tcg::opcode::{OpFlags, Opcode};
use alloc::vec::Vec;

/// At most this many accesses of a TB are hoisted (each costs a stack slot and entry code), and
/// at most this many keep their last page (two stack slots each).
pub const MAX_SITES: usize = 4;
pub const MAX_CACHED: usize = 6;

/// A hoisted access: its address is `base + disp` on every iteration.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// The `qemu_ld`/`qemu_st` op.
    pub op: usize,
    /// A global the TB never writes, or a constant.
    pub base: Temp,
    pub disp: u32,
    /// The entry lookup also checks the write tag (a store, or a load whose value is stored
    /// back to the same address).
    pub write: bool,
    /// The entry lookup checks the read tag (a load).
    pub read: bool,
    /// The op that computes the address when nothing else reads it (only this access and the
    /// store of its read-modify-write): the fast path skips it, the fallbacks use `base + disp`.
    pub addr_def: Option<usize>,
}

/// The accesses of `ctx` (a TB that loops inside itself) whose lookup moves to the TB entry, and
/// those that keep the page of their last lookup (op indices); none when the TB calls a helper.
pub fn accesses(ctx: &TcgContext) -> (Vec<Site>, Vec<usize>) {
    if ctx.ops.iter().any(|op| op.opc == Opcode::Call) {
        return (Vec::new(), Vec::new());
    }
    let hoisted = sites(ctx);
    let cached = cached_sites(ctx, &hoisted);
    (hoisted, cached)
}

/// The accesses whose address is the same on every pass.
fn sites(ctx: &TcgContext) -> Vec<Site> {
    let mut sites = Vec::new();
    for (i, op) in ctx.ops.iter().enumerate() {
        if !matches!(op.opc, Opcode::QemuLd | Opcode::QemuSt) {
            continue;
        }
        let addr = op.addr_input();
        // The store of a read-modify-write uses the host address its load found.
        if is_rmw_store(ctx, i) {
            continue;
        }
        let Some((base, disp, def)) = invariant_address(ctx, i, addr) else { continue };
        let read = op.opc == Opcode::QemuLd;
        let write = !read || stored_back(ctx, i, addr);
        let addr_def = def.filter(|_| read_only_here(ctx, i, addr));
        sites.push(Site { op: i, base, disp, write, read, addr_def });
        if sites.len() == MAX_SITES {
            break;
        }
    }
    sites
}

/// The other accesses, which keep the page of their last lookup (op indices).
fn cached_sites(ctx: &TcgContext, hoisted: &[Site]) -> Vec<usize> {
    let accesses = ctx.ops.iter().enumerate().filter(|(_, op)| matches!(op.opc, Opcode::QemuLd | Opcode::QemuSt));
    let free = accesses.map(|(i, _)| i).filter(|&i| !hoisted.iter().any(|s| s.op == i));
    free.filter(|&i| !is_rmw_store(ctx, i)).take(MAX_CACHED).collect()
}

/// The address of access `at` as `base + disp` computed by an `add` in the access's basic block
/// that only this access reads: `(the add, base, disp)`, with `base` a global no op writes
/// between the add and the access. A cached access with its page in a register computes its page
/// offset from `base` directly (`lea disp(base, -page)`), so the add need not run.
pub fn fusable_address(ctx: &TcgContext, at: usize) -> Option<(usize, Temp, u32)> {
    let addr = ctx.ops[at].addr_input();
    let (i, def) = def_in_block(ctx, at, addr)?;
    let (base, disp) = plus_constant(ctx, def)?;
    let global = matches!(ctx.temps[base.0 as usize].kind, TempKind::Global { .. });
    let kept = !ctx.ops[i + 1..at].iter().any(|op| op.outputs().contains(&base.0));
    let normal = ctx.temps[addr.0 as usize].kind == TempKind::Normal;
    let writes = ctx.ops.iter().filter(|op| op.outputs().contains(&addr.0)).count();
    let reads = ctx.ops.iter().filter(|op| op.inputs().contains(&addr.0)).count();
    let only_here = ctx.ops[at].inputs().iter().filter(|&&t| t == addr.0).count() == 1;
    (global && kept && normal && writes == 1 && reads == 1 && only_here).then_some((i, base, disp))
}

/// Op `at` is a `qemu_st` to the address a `qemu_ld` earlier in its basic block read: the store
/// of a read-modify-write, which uses the host address the load found.
fn is_rmw_store(ctx: &TcgContext, at: usize) -> bool {
    let st = &ctx.ops[at];
    if st.opc != Opcode::QemuSt {
        return false;
    }
    let addr = st.input(1);
    for (i, op) in ctx.ops[..at].iter().enumerate().rev() {
        if op.opc == Opcode::QemuLd && op.input(0) == addr {
            return stored_back(ctx, i, addr);
        }
        if op.flags().contains(OpFlags::BB_END) || op.opc == Opcode::SetLabel || op.outputs().contains(&addr.0) {
            return false;
        }
    }
    false
}

/// `addr` as used by op `at`, written `base + disp` with an invariant base, and the op (in the
/// access's basic block) that computes it from them, if any.
fn invariant_address(ctx: &TcgContext, at: usize, addr: Temp) -> Option<(Temp, u32, Option<usize>)> {
    if invariant(ctx, addr) {
        return Some((addr, 0, None));
    }
    let (i, def) = def_in_block(ctx, at, addr)?;
    let (base, disp) = match def.opc {
        Opcode::Mov => (def.input(0), 0),
        _ => plus_constant(ctx, def)?,
    };
    invariant(ctx, base).then_some((base, disp, Some(i)))
}

/// The op that last writes `t` before op `at`, when it is in `at`'s basic block.
fn def_in_block(ctx: &TcgContext, at: usize, t: Temp) -> Option<(usize, &Op)> {
    let (i, def) = ctx.ops[..at].iter().enumerate().rev().find(|(_, op)| {
        op.outputs().contains(&t.0) || op.flags().contains(OpFlags::BB_END) || op.opc == Opcode::SetLabel
    })?;
    def.outputs().contains(&t.0).then_some((i, def))
}

/// `(x, c)` when `def` is an add of `x` and the constant `c` (the second operand taken as the
/// constant when both are).
fn plus_constant(ctx: &TcgContext, def: &Op) -> Option<(Temp, u32)> {
    let (a, b) = (def.input(0), def.input(1));
    match (def.opc, ctx.const_value(a), ctx.const_value(b)) {
        (Opcode::Add, _, Some(c)) => Some((a, c)),
        (Opcode::Add, Some(c), None) => Some((b, c)),
        _ => None,
    }
}

/// Temp `addr` (written once) is read only as the address of access `at` and of the store
/// that writes back what `at` loaded.
fn read_only_here(ctx: &TcgContext, at: usize, addr: Temp) -> bool {
    let normal = ctx.temps[addr.0 as usize].kind == TempKind::Normal;
    let writes = ctx.ops.iter().filter(|op| op.outputs().contains(&addr.0)).count();
    let reads = ctx.ops.iter().enumerate().filter(|(_, op)| op.inputs().contains(&addr.0));
    let as_address_only = |op: &Op| op.opc == Opcode::QemuLd || op.input(0) != addr;
    let ok = |(i, op): (usize, &Op)| as_address_only(op) && (i == at || is_rmw_store(ctx, i));
    normal && writes == 1 && { reads }.all(ok)
}

/// A constant, or a global no op of the TB writes.
fn invariant(ctx: &TcgContext, t: Temp) -> bool {
    match ctx.temps[t.0 as usize].kind {
        TempKind::Const(_) => true,
        TempKind::Global { .. } => !ctx.ops.iter().any(|op| op.outputs().contains(&t.0)),
        _ => false,
    }
}

/// A `qemu_st` to `addr` follows load `at` in its basic block.
fn stored_back(ctx: &TcgContext, at: usize, addr: Temp) -> bool {
    for op in &ctx.ops[at + 1..] {
        if op.opc == Opcode::QemuSt && op.input(1) == addr {
            return true;
        }
        if op.flags().contains(OpFlags::BB_END) || op.outputs().contains(&addr.0) {
            return false;
        }
    }
    false
}
