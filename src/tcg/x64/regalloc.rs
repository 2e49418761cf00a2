//! Where each IR temp lives during code generation, decided before emission from liveness.
//!
//! - The most used guest globals of the TB are pinned to callee-saved host registers for the whole
//!   TB: loaded on entry, written back only at exits and around helpers that see `env` — not at
//!   every label, as TCG does, because their home register is the same on every path. When the
//!   TB's temps never need all the pool registers, the spare ones pin more globals; being
//!   caller-saved, those are also saved around the calls that do not reload pinned globals.
//! - Other globals stay in `env` and are used as memory operands.
//! - `Normal` temps whose life stays inside one basic block get a caller-saved register from the pool
//!   when first written and give it back after their last use (saved around calls).
//! - `Local` temps, and `Normal` ones that outlive a label or branch, get a stack slot.

use super::emit::{Reg, R10, R12, R13, R8, R9, RBP, RBX, RDI, RSI};
use crate::tcg::ir::{Op, TcgContext, TempKind};
use crate::tcg::opcode::{OpFlags, Opcode};
use alloc::vec;
use alloc::vec::Vec;

/// Callee-saved registers that hold pinned globals.
pub const PINNED_REGS: [Reg; 4] = [RBX, RBP, R12, R13];
/// Caller-saved registers for temps.
pub const POOL_REGS: [Reg; 5] = [RSI, RDI, R8, R9, R10];
/// Stack slots available for spilled temps.
pub const MAX_SLOTS: usize = 120;

/// A temp's home.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Home {
    Const(u32),
    /// A guest global pinned in a host register.
    Pinned(Reg),
    /// A guest global in `env` at this offset.
    Env(i32),
    /// A stack slot index.
    Slot(u32),
    /// A pool register, assigned at the first write.
    Pool,
    /// The env pointer itself.
    EnvPtr,
}

/// The plan for one TB.
pub struct Plan {
    pub homes: Vec<Home>,
    /// Index of the last op that reads or writes each temp.
    pub last_use: Vec<usize>,
    /// Pinned globals: (temp index, register, env offset).
    pub pinned: Vec<(usize, Reg, i32)>,
    /// Pinned globals written somewhere in the TB (written back at exits).
    pub pinned_written: Vec<(usize, Reg, i32)>,
    pub nb_slots: u32,
    /// The pool registers temps are allocated from (a prefix of `POOL_REGS`).
    pub pool: Vec<Reg>,
    /// Pinned registers that are caller-saved (taken from the pool): saved around the calls that
    /// do not reload the pinned globals after them (restoring an output's old value is harmless:
    /// the output is set after the restore).
    pub caller_saved_pinned: Vec<Reg>,
    /// The pinned globals the TB entry loads: not those the TB overwrites before anything could
    /// read them (`first_write`).
    pub entry_loads: Vec<(usize, Reg, i32)>,
    /// The pinned globals the entry does not load, by env offset, with the op that first writes
    /// them: the slow paths of accesses up to that op must not write them back (`env` still
    /// holds their value; the register does not yet).
    pub late: Vec<(i32, usize)>,
}

/// Pinned globals: (temp index, register, env offset).
type PinnedGlobals = Vec<(usize, Reg, i32)>;

/// The plan is impossible (too many stack slots needed).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TooManySlots;

/// The plan for `ctx`. With `loops` (the TB loops inside itself) spare pool registers pin more
/// globals: their load and write-back are paid once per entry, not once per iteration.
///
/// `until[i]` is where op `i`'s inputs must still hold their values: past the op itself when a
/// slow path computes it later (`defer.rs`). Ops with `sunk[i]` set are not emitted (their value
/// is computed where needed, off the fast path): they neither use nor take a register. Ops with
/// `uncounted[i]` set (the sunk ones, and those the fast path skips) do not count towards pinning
/// their globals.
pub fn plan(
    ctx: &TcgContext,
    loops: bool,
    until: &[usize],
    sunk: &[bool],
    uncounted: &[bool],
) -> Result<Plan, TooManySlots> {
    let n = ctx.temps.len();
    let mut first = vec![usize::MAX; n];
    let mut last_use = vec![0usize; n];
    for (i, op) in emitted(ctx, sunk) {
        for &t in op.outputs().iter().chain(op.inputs()) {
            let t = t as usize;
            first[t] = first[t].min(i);
            last_use[t] = i;
        }
        for &t in op.inputs() {
            last_use[t as usize] = last_use[t as usize].max(until.get(i).copied().unwrap_or(i));
        }
    }
    // Skipped ops still write their globals (where their value is computed instead).
    let mut written = vec![false; n];
    for &t in ctx.ops.iter().flat_map(|op| op.outputs()) {
        written[t as usize] = true;
    }
    let uses = use_counts(ctx, uncounted);
    let bb_ends: Vec<usize> = ctx
        .ops
        .iter()
        .enumerate()
        .filter(|(_, op)| op.flags().contains(OpFlags::BB_END) || op.opc == Opcode::SetLabel)
        .map(|(i, _)| i)
        .collect();
    let mut homes = vec![Home::Pool; n];
    let spans = Spans { first: &first, last_use: &last_use, bb_ends: &bb_ends };
    let (pinned, pool) = plan_homes(ctx, &mut homes, &uses, &spans, (loops, sunk))?;
    let pinned_written = pinned.iter().copied().filter(|p| written[p.0]).collect();
    let caller_saved_pinned = pinned.iter().map(|p| p.1).filter(|r| POOL_REGS.contains(r)).collect();
    let nb_slots = homes.iter().filter(|h| matches!(h, Home::Slot(_))).count() as u32;
    let first_writes: Vec<Option<usize>> = pinned.iter().map(|p| first_write(ctx, p.0 as u32, !loops)).collect();
    let entry_loads = pinned.iter().zip(&first_writes).filter(|(_, w)| w.is_none()).map(|(p, _)| *p).collect();
    let late = pinned.iter().zip(&first_writes).filter_map(|(p, w)| w.map(|i| (p.2, i))).collect();
    Ok(Plan { homes, last_use, pinned, pinned_written, nb_slots, pool, caller_saved_pinned, entry_loads, late })
}

/// The op that first writes global `g` when the value `g` has at TB entry is never used: before
/// that op nothing reads `g` and nothing can observe it but the slow paths of guest memory
/// accesses (which then leave `g` in `env` alone), and the op does not read `g` itself. With
/// `accesses` false (a TB that loops inside itself, where those slow paths also run in later
/// passes, after the write) only pure ops may come before.
fn first_write(ctx: &TcgContext, g: u32, accesses: bool) -> Option<usize> {
    for (i, op) in ctx.ops.iter().enumerate().filter(|(_, op)| op.opc != Opcode::InsnStart) {
        if op.inputs().contains(&g) {
            return None;
        }
        let pure = op.flags().contains(OpFlags::PURE);
        let access = accesses && matches!(op.opc, Opcode::QemuLd | Opcode::QemuSt);
        if op.outputs().contains(&g) {
            return (pure || access).then_some(i);
        }
        if !pure && !access {
            return None;
        }
    }
    None
}

/// Where temps are first and last used, and the ops that end basic blocks.
struct Spans<'a> {
    first: &'a [usize],
    last_use: &'a [usize],
    bb_ends: &'a [usize],
}

/// Homes for every temp; the pinned globals and the pool. First with the callee-saved pinned
/// registers and the whole pool; then, in a TB that loops, the pool registers the temps never
/// needed pin more globals.
fn plan_homes(
    ctx: &TcgContext,
    homes: &mut [Home],
    uses: &[u32],
    spans: &Spans,
    (loops, sunk): (bool, &[bool]),
) -> Result<(PinnedGlobals, Vec<Reg>), TooManySlots> {
    let min_uses = min_uses(loops);
    let pinned = choose_pinned(ctx, uses, &PINNED_REGS, min_uses);
    let peak = assign_homes(ctx, homes, &pinned, spans, sunk)?;
    if !loops {
        // Temps never reach past the peak: the registers above it stay free for the lowering
        // (`page_reuse.rs`).
        return Ok((pinned, POOL_REGS[..peak].to_vec()));
    }
    let regs: Vec<Reg> = PINNED_REGS.iter().chain(&POOL_REGS[peak..]).copied().collect();
    let more = choose_pinned(ctx, uses, &regs, min_uses);
    if more.len() == pinned.len() {
        // Temps take the lowest free pool register, so they never reach past the peak: the
        // registers above it stay free for the lowering (`lower::spare_pool_regs`).
        return Ok((pinned, POOL_REGS[..peak].to_vec()));
    }
    homes.fill(Home::Pool);
    let again = assign_homes(ctx, homes, &more, spans, sunk)?;
    debug_assert_eq!(again, peak, "pinning globals does not change the temps' pressure");
    Ok((more, POOL_REGS[..peak].to_vec()))
}

/// Fill `homes` given the pinned globals; returns the peak number of pool registers in use.
fn assign_homes(
    ctx: &TcgContext,
    homes: &mut [Home],
    pinned: &[(usize, Reg, i32)],
    spans: &Spans,
    sunk: &[bool],
) -> Result<usize, TooManySlots> {
    let Spans { first, last_use, bb_ends } = *spans;
    let mut nb_slots = 0u32;
    for (t, info) in ctx.temps.iter().enumerate() {
        homes[t] = match info.kind {
            TempKind::Const(v) => Home::Const(v),
            TempKind::Fixed => Home::EnvPtr,
            TempKind::Global { offset } => match pinned.iter().find(|p| p.0 == t) {
                Some(p) => Home::Pinned(p.1),
                None => Home::Env(offset as i32),
            },
            TempKind::Local => next_slot(&mut nb_slots)?,
            TempKind::Normal => {
                let spans = bb_ends.iter().any(|&k| first[t] <= k && k < last_use[t]);
                if spans {
                    next_slot(&mut nb_slots)?
                } else {
                    Home::Pool
                }
            }
        };
    }
    spill_excess(ctx, homes, last_use, &mut nb_slots, sunk)
}

/// Give stack slots to the pool temps that would find every pool register taken, replaying the
/// lowering's order: registers of temps last used at op i are free again from op i + 1. Returns
/// the peak number of pool registers in use.
fn spill_excess(
    ctx: &TcgContext,
    homes: &mut [Home],
    last_use: &[usize],
    nb_slots: &mut u32,
    sunk: &[bool],
) -> Result<usize, TooManySlots> {
    let mut live: Vec<usize> = Vec::new();
    let mut peak = 0;
    for (i, op) in emitted(ctx, sunk) {
        live.retain(|&t| last_use[t] >= i);
        for &t in op.outputs() {
            let t = t as usize;
            // A register is taken at the first write (the lowering allocates there; a read
            // before it, on a dead path, reads no register).
            if live.contains(&t) || homes[t] != Home::Pool {
                continue;
            }
            if live.len() < POOL_REGS.len() {
                live.push(t);
                peak = peak.max(live.len());
            } else {
                homes[t] = next_slot(nb_slots)?;
            }
        }
    }
    Ok(peak)
}

fn next_slot(n: &mut u32) -> Result<Home, TooManySlots> {
    if *n as usize >= MAX_SLOTS {
        return Err(TooManySlots);
    }
    *n += 1;
    Ok(Home::Slot(*n - 1))
}

/// How many times a global must be used to be pinned. In a TB that loops, a global read once
/// per iteration is worth a register: it is loaded once per entry instead of once per iteration.
fn min_uses(loops: bool) -> u32 {
    if loops {
        1
    } else {
        2
    }
}

/// The ops the lowering emits, with their indices.
fn emitted<'a>(ctx: &'a TcgContext, sunk: &'a [bool]) -> impl Iterator<Item = (usize, &'a Op)> {
    ctx.ops.iter().enumerate().filter(|(i, _)| !sunk.get(*i).copied().unwrap_or(false))
}

/// Number of emitted ops that read or write each temp.
fn use_counts(ctx: &TcgContext, sunk: &[bool]) -> Vec<u32> {
    let mut uses = vec![0u32; ctx.temps.len()];
    for (_, op) in emitted(ctx, sunk) {
        for &t in op.outputs().iter().chain(op.inputs()) {
            uses[t as usize] += 1;
        }
    }
    uses
}

/// The globals every plan of `ctx` pins (temp indices): those of the callee-saved registers,
/// chosen before the spare pool registers pin more.
pub fn surely_pinned(ctx: &TcgContext, loops: bool, sunk: &[bool]) -> Vec<usize> {
    choose_pinned(ctx, &use_counts(ctx, sunk), &PINNED_REGS, min_uses(loops)).iter().map(|p| p.0).collect()
}

/// The globals with the most uses (at least `min_uses`), up to one per register of `regs`.
fn choose_pinned(ctx: &TcgContext, uses: &[u32], regs: &[Reg], min_uses: u32) -> PinnedGlobals {
    let mut globals: Vec<(usize, u32, i32)> = ctx
        .temps
        .iter()
        .enumerate()
        .filter_map(|(t, info)| match info.kind {
            TempKind::Global { offset } if uses[t] >= min_uses => Some((t, uses[t], offset as i32)),
            _ => None,
        })
        .collect();
    globals.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    globals.iter().zip(regs).map(|(g, &r)| (g.0, r, g.2)).collect()
}
