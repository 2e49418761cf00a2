//! Deferred global writes: values only a guest fault could observe, computed on the TLB slow paths.
//!
//! Guest state must be exact at every instruction that may fault, so a write of `cc_dst`,
//! `cc_src` or `cc_op` stays in the IR when the next instruction overwrites it but touches memory
//! first (`inc %eax; add %ecx,0x2c(%esp)`): the access could fault and show the flags to the
//! guest's handler. QEMU computes such values on every run. Here the write is *deferred* when,
//! from the op on, its global is overwritten before anything reads it, with only pure ops and
//! guest memory accesses in between:
//! - the fast path skips the op (the global's home keeps its older value, which nothing reads);
//! - the slow path of each guest memory access in that stretch computes it into `env` before it
//!   writes the pinned globals back (skipping that one), so a fault sees the exact state.
//!
//! The slow paths only write `env`, never a register, so the fast path they return to is
//! unchanged. That is why the op's inputs must keep their values up to the last access: nothing
//! in between may write them (the register plan keeps temp inputs alive until then), and an op
//! that reads its own global is deferred past at most one access unless the global is pinned
//! (a second slow path would read the first one's result from `env`).

use crate::tcg::ir::{Cond, Op, TcgContext, TempKind};
use crate::tcg::opcode::{OpFlags, Opcode};
use alloc::vec;
use alloc::vec::Vec;

/// How far past an op the overwrite of its global is looked for (ops). Only ops whose global is
/// written again later in the TB are looked at, and the look stops at the first read: flags are
/// overwritten a few instructions on, a guest register is read before it is written again.
const MAX_SCAN: usize = 96;

/// Which ops of a TB are deferred, and where they are computed instead.
pub struct Deferral {
    /// The fast path skips these ops.
    pub skipped: Vec<bool>,
    /// For a deferred op: the index of the last access whose slow path computes it (its inputs
    /// live until there); for the others, the op's own index.
    pub until: Vec<usize>,
    /// For each guest memory access: the deferred ops its slow path computes, in program order.
    pub pending: Vec<Vec<usize>>,
    /// For each deferred op: the accesses whose slow paths compute it.
    accesses_of: Vec<Vec<usize>>,
}

impl Deferral {
    /// Nothing deferred.
    pub fn none(n: usize) -> Deferral {
        let pending = vec![Vec::new(); n];
        Deferral { skipped: vec![false; n], until: (0..n).collect(), pending, accesses_of: vec![Vec::new(); n] }
    }
}

/// The deferred ops of `ctx`; `pinned` gives the globals that live in a host register for the
/// whole TB (temp indices), asked only when an op that reads its own global spans two accesses.
pub fn deferral(ctx: &TcgContext, pinned: impl FnOnce() -> Vec<usize>) -> Deferral {
    let mut d = Deferral::none(ctx.ops.len());
    let (mut pinned, mut ask) = (Vec::new(), Some(pinned));
    let rewritten = rewritten_later(ctx);
    for i in (0..ctx.ops.len()).filter(|&i| rewritten[i]) {
        let Some((accesses, reads_own)) = accesses_before_overwrite(ctx, i) else { continue };
        if reads_own && accesses.len() > 1 {
            if let Some(f) = ask.take() {
                pinned = f();
            }
            if !pinned.contains(&(ctx.ops[i].out(0).0 as usize)) {
                continue;
            }
        }
        d.skipped[i] = true;
        d.until[i] = accesses.last().copied().unwrap_or(i);
        for &a in &accesses {
            d.pending[a].push(i);
        }
        d.accesses_of[i] = accesses;
    }
    defer_feeders(ctx, &mut d);
    d
}

/// For each op: whether it writes one temp that a later op of the TB writes too.
fn rewritten_later(ctx: &TcgContext) -> Vec<bool> {
    let mut seen = vec![false; ctx.temps.len()];
    let mut rewritten = vec![false; ctx.ops.len()];
    for (i, op) in ctx.ops.iter().enumerate().rev() {
        if let [t] = op.outputs() {
            rewritten[i] = seen[*t as usize];
        }
        for &t in op.outputs() {
            seen[t as usize] = true;
        }
    }
    rewritten
}

/// The env offset of op `op`'s output when the slow path knows how to compute the op.
pub fn deferrable_output(ctx: &TcgContext, op: &Op) -> Option<u32> {
    match ctx.temps[op.out(0).0 as usize].kind {
        TempKind::Global { offset } if computable(ctx, op) => Some(offset),
        _ => None,
    }
}

/// A pure op with one output that a slow path knows how to compute (rax and rcx only).
pub fn computable(ctx: &TcgContext, op: &Op) -> bool {
    if op.nb_oargs != 1 || !op.flags().contains(OpFlags::PURE) {
        return false;
    }
    let known = match op.opc {
        Opcode::Mov | Opcode::Add | Opcode::Sub | Opcode::And | Opcode::Or | Opcode::Xor => true,
        Opcode::Neg | Opcode::Not | Opcode::Extract => true,
        Opcode::Shl | Opcode::Shr | Opcode::Sar => ctx.const_value(op.input(1)).is_some(),
        Opcode::SetCond => !matches!(Cond::from_u32(op.konst(0)), None | Some(Cond::Always | Cond::Never)),
        _ => false,
    };
    known && op.inputs().iter().all(|&t| !matches!(ctx.temps[t as usize].kind, TempKind::Fixed))
}

/// Also defer the ops that compute a temp only deferred ops read (the `sar` of an `imul`'s
/// flags): skipped on the fast path, computed into the temp's home on the slow paths that
/// compute their readers, first. Their inputs must keep their values until the last of those.
fn defer_feeders(ctx: &TcgContext, d: &mut Deferral) {
    let normal = |t: &u32| ctx.temps[*t as usize].kind == TempKind::Normal;
    let inputs_of = |ops: &[usize]| -> Vec<u32> {
        let mut ts: Vec<u32> = ops.iter().flat_map(|&k| ctx.ops[k].inputs().iter().copied()).filter(normal).collect();
        ts.sort_unstable();
        ts.dedup();
        ts
    };
    let skipped: Vec<usize> = (0..ctx.ops.len()).filter(|&k| d.skipped[k]).collect();
    let mut candidates = inputs_of(&skipped);
    while !candidates.is_empty() {
        let mut uses = uses_of(ctx, &candidates);
        uses.sort_by_key(|u| core::cmp::Reverse(u.def));
        let found: Vec<usize> = uses.iter().filter_map(|u| defer_feeder(ctx, d, u)).collect();
        candidates = inputs_of(&found);
    }
}

/// Where a temp is written (when exactly once) and read.
struct Uses {
    def: Option<usize>,
    readers: Vec<usize>,
}

/// The uses of each temp of `temps`, in one pass over the ops.
fn uses_of(ctx: &TcgContext, temps: &[u32]) -> Vec<Uses> {
    let mut index = vec![usize::MAX; ctx.temps.len()];
    for (k, &t) in temps.iter().enumerate() {
        index[t as usize] = k;
    }
    let mut uses: Vec<(u32, Uses)> = temps.iter().map(|_| (0, Uses { def: None, readers: Vec::new() })).collect();
    for (i, op) in ctx.ops.iter().enumerate() {
        for &t in op.outputs().iter().filter(|&&t| index[t as usize] != usize::MAX) {
            let u = &mut uses[index[t as usize]];
            u.0 += 1;
            u.1.def = Some(i);
        }
        for &t in op.inputs().iter().filter(|&&t| index[t as usize] != usize::MAX) {
            uses[index[t as usize]].1.readers.push(i);
        }
    }
    uses.into_iter().map(|(writes, u)| if writes == 1 { u } else { Uses { def: None, ..u } }).collect()
}

/// Defer the op computing a temp with uses `u` if only deferred ops read it (see
/// `defer_feeders`); its index.
fn defer_feeder(ctx: &TcgContext, d: &mut Deferral, u: &Uses) -> Option<usize> {
    let p = u.def?;
    let op = &ctx.ops[p];
    if d.skipped[p] || !computable(ctx, op) || !u.readers.iter().all(|&r| d.skipped[r] && r > p) {
        return None;
    }
    let until = u.readers.iter().map(|&r| d.until[r]).max()?;
    let writes_input = |o: &Op| o.outputs().iter().any(|w| op.inputs().contains(w));
    if ctx.ops[p + 1..=until].iter().any(writes_input) {
        return None;
    }
    d.skipped[p] = true;
    d.until[p] = until;
    let mut accesses: Vec<usize> = u.readers.iter().flat_map(|&r| d.accesses_of[r].iter().copied()).collect();
    accesses.sort_unstable();
    accesses.dedup();
    for &a in &accesses {
        d.pending[a].push(p);
        d.pending[a].sort_unstable();
    }
    d.accesses_of[p] = accesses;
    Some(p)
}

/// If op `i` can be deferred: the guest memory accesses between it and the op that overwrites
/// its global, and whether it reads that global (then, when the global is not pinned, a second
/// slow path would read the first one's result from `env`).
fn accesses_before_overwrite(ctx: &TcgContext, i: usize) -> Option<(Vec<usize>, bool)> {
    let op = &ctx.ops[i];
    deferrable_output(ctx, op)?;
    let g = op.out(0).0;
    let reads_own = op.inputs().contains(&g);
    let (mut accesses, mut inputs_changed) = (Vec::new(), false);
    for (j, next) in ctx.ops.iter().enumerate().skip(i + 1).take(MAX_SCAN) {
        if next.opc == Opcode::InsnStart {
            continue;
        }
        let access = matches!(next.opc, Opcode::QemuLd | Opcode::QemuSt);
        let plain = next.flags().contains(OpFlags::PURE) && !next.flags().contains(OpFlags::BB_END);
        if next.inputs().contains(&g) || !(access || plain) {
            return None;
        }
        if access {
            if inputs_changed || next.outputs().contains(&g) {
                return None;
            }
            accesses.push(j);
        } else if next.outputs().contains(&g) {
            return Some((accesses, reads_own));
        }
        inputs_changed |= next.outputs().iter().any(|w| op.inputs().contains(w));
    }
    None
}
