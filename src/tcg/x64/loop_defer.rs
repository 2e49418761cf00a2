//! Loop-carried deferral: flag writes that only the next pass of a loop would see, computed where
//! something can see them instead.
//!
//! A TB that loops inside itself (`cmp %edx,%eax; jne 1b` back to its own start) writes the
//! flags at the end of each pass, and the next pass overwrites them before reading them:
//! `sub cc_dst,eax,edx; mov cc_src,edx` cost every pass, though only the pass that leaves the
//! loop, or a fault, can observe them. Here such a write (the last one of its global in the
//! pass) is skipped on the fast path and computed:
//! - at every way out of the TB after it (the exits after the loop's branch, and the back edge
//!   when the instruction budget runs out), into the global's home before the write-back;
//! - on the slow path of each guest memory access after it in the pass (a fault there sees it);
//! - on the slow path of each access at the top of the next pass, before the global's first
//!   write, when the pass is not the first one: in the first pass the global still holds the
//!   value the TB started with. The TB entry stores the budget register (`BUDGET_REG`) after its
//!   own decrement; only the first pass runs with that value.
//!
//! The op's inputs must hold the same values wherever it is computed: they are globals or
//! constants that nothing after the op in the pass writes, nor anything at the top of the next
//! pass before the last access whose slow path computes it. Its global must not be read after
//! it (the branch on a difference compares the operands, `fold.rs`) nor by it.
//!
//! The TB's shape is fixed: one block of pure ops and guest memory accesses, then one `brcond`,
//! then only the exits (`goto_tb`, the `st` of eip, `exit_tb`, labels). A helper call anywhere
//! disables it (it could read the flags from `env`).

use super::defer::deferrable_output;
use crate::tcg::ir::{Op, TcgContext, TempKind};
use crate::tcg::opcode::{OpFlags, Opcode};
use alloc::vec;
use alloc::vec::Vec;

/// The loop-carried deferred ops of a TB.
pub struct LoopDeferral {
    /// The ops the fast path skips.
    pub ops: Vec<usize>,
    /// For each access: the deferred ops its slow path computes in every pass but the first.
    pub later_passes: Vec<Vec<usize>>,
    /// For each access: the deferred ops its slow path computes in every pass.
    pub every_pass: Vec<Vec<usize>>,
}

impl LoopDeferral {
    pub fn none(n: usize) -> LoopDeferral {
        LoopDeferral { ops: Vec::new(), later_passes: vec![Vec::new(); n], every_pass: vec![Vec::new(); n] }
    }

    /// True if some slow path checks which pass it runs in (the TB entry must save the budget).
    pub fn needs_first_pass_mark(&self) -> bool {
        self.later_passes.iter().any(|l| !l.is_empty())
    }
}

/// The loop-carried deferral of `ctx`, a TB that loops inside itself.
pub fn loop_deferral(ctx: &TcgContext) -> LoopDeferral {
    let mut d = LoopDeferral::none(ctx.ops.len());
    let Some(body_end) = body_end(ctx) else { return d };
    for g in globals_written(ctx, body_end) {
        let Some(last) = (0..body_end).rev().find(|&i| ctx.ops[i].outputs().contains(&g)) else { continue };
        let Some((top, after)) = reach(ctx, last, body_end) else { continue };
        d.ops.push(last);
        for a in top {
            d.later_passes[a].push(last);
        }
        for a in after {
            d.every_pass[a].push(last);
        }
    }
    d.ops.sort_unstable();
    d
}

/// The index of the pass's one branch, when the TB has the shape this deferral handles.
fn body_end(ctx: &TcgContext) -> Option<usize> {
    let ends = |op: &Op| op.flags().contains(OpFlags::BB_END) || op.opc == Opcode::SetLabel;
    let b = ctx.ops.iter().position(ends)?;
    let exit_op = |op: &Op| matches!(op.opc, Opcode::GotoTb | Opcode::St | Opcode::ExitTb | Opcode::SetLabel);
    let exits_only = ctx.ops[b + 1..].iter().all(exit_op);
    let body_ok = ctx.ops[..b].iter().all(|op| op.opc != Opcode::Call);
    (ctx.ops[b].opc == Opcode::BrCond && exits_only && body_ok).then_some(b)
}

/// The globals the body writes (temp indices), each once.
fn globals_written(ctx: &TcgContext, body_end: usize) -> Vec<u32> {
    let mut gs: Vec<u32> = Vec::new();
    for op in &ctx.ops[..body_end] {
        for &t in op.outputs() {
            if matches!(ctx.temps[t as usize].kind, TempKind::Global { .. }) && !gs.contains(&t) {
                gs.push(t);
            }
        }
    }
    gs
}

/// If op `last` (the body's last write of its global) can be deferred: the accesses at the top
/// of the pass whose slow paths compute it in later passes, and those after it.
fn reach(ctx: &TcgContext, last: usize, body_end: usize) -> Option<(Vec<usize>, Vec<usize>)> {
    let op = &ctx.ops[last];
    let g = op.out(0).0;
    deferrable_output(ctx, op)?;
    let plain = |t: &u32| matches!(ctx.temps[*t as usize].kind, TempKind::Global { .. } | TempKind::Const(_));
    if !op.inputs().iter().all(plain) || op.inputs().contains(&g) {
        return None;
    }
    let writes_input = |o: &Op| o.outputs().iter().any(|w| op.inputs().contains(w));
    let rest = &ctx.ops[last + 1..];
    if rest.iter().any(|o| o.inputs().contains(&g)) || ctx.ops[last + 1..body_end].iter().any(writes_input) {
        return None;
    }
    let after = accesses_in(ctx, last + 1, body_end)?;
    let first = (0..=last).find(|&i| ctx.ops[i].outputs().contains(&g))?;
    let mut top = Vec::new();
    let mut inputs_changed = false;
    for (i, o) in ctx.ops[..first].iter().enumerate() {
        if o.inputs().contains(&g) {
            return None;
        }
        if is_access(o) {
            if inputs_changed {
                return None;
            }
            top.push(i);
        } else if !o.flags().contains(OpFlags::PURE) && o.opc != Opcode::InsnStart {
            return None;
        }
        inputs_changed |= writes_input(o);
    }
    Some((top, after))
}

/// The accesses among ops `from..to`; none if another op there has effects.
fn accesses_in(ctx: &TcgContext, from: usize, to: usize) -> Option<Vec<usize>> {
    let mut v = Vec::new();
    for (i, o) in ctx.ops.iter().enumerate().take(to).skip(from) {
        if is_access(o) {
            v.push(i);
        } else if !o.flags().contains(OpFlags::PURE) && o.opc != Opcode::InsnStart {
            return None;
        }
    }
    Some(v)
}

fn is_access(op: &Op) -> bool {
    matches!(op.opc, Opcode::QemuLd | Opcode::QemuSt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcg::testing::parse;

    fn ld(text: &str) -> LoopDeferral {
        let mut ctx = parse(text);
        ctx.goto_tb_self = [true, false];
        loop_deferral(&ctx)
    }

    const MEMSET: &str = concat!(
        " extract_i32 tmp17,ecx,$0x0,$0x8\n qemu_st_i32 tmp17,eax,ub,0\n add_i32 eax,eax,$0x1\n",
        " sub_i32 cc_dst,eax,edx\n mov_i32 cc_src,edx\n brcond_i32 eax,edx,ne,$L0\n",
        " goto_tb $0x1\n st_i32 $0x100307,env,$0x20\n exit_tb $0x2\n",
        " set_label $L0\n goto_tb $0x0\n st_i32 $0x100300,env,$0x20\n exit_tb $0x1\n",
    );

    #[test]
    fn defers_the_flags_of_the_loop_compare() {
        let d = ld(MEMSET);
        assert_eq!(d.ops, [3, 4]);
        assert_eq!(d.later_passes[1], [3, 4], "the store at the top computes both after pass 1");
        assert!(d.needs_first_pass_mark());
    }

    #[test]
    fn keeps_a_write_the_branch_reads_or_whose_input_changes_before_an_access() {
        let reads = MEMSET.replace("brcond_i32 eax,edx,ne", "brcond_i32 cc_dst,$0x0,ne");
        assert_eq!(ld(&reads).ops, [4], "cc_dst is read by the branch");
        // The input eax changes before the store at the top of the next pass.
        let moved = MEMSET.replace(
            " extract_i32 tmp17,ecx,$0x0,$0x8\n qemu_st_i32 tmp17,eax,ub,0\n add_i32 eax,eax,$0x1\n",
            " add_i32 eax,eax,$0x1\n extract_i32 tmp17,ecx,$0x0,$0x8\n qemu_st_i32 tmp17,eax,ub,0\n",
        );
        assert_eq!(ld(&moved).ops, [4]);
    }

    #[test]
    fn nothing_without_the_loop_shape() {
        let two_branches =
            MEMSET.replace(" mov_i32 cc_src,edx\n", " mov_i32 cc_src,edx\n brcond_i32 eax,$0x0,eq,$L0\n");
        assert!(ld(&two_branches).ops.is_empty());
    }
}
