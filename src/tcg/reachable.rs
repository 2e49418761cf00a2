//! Control-flow cleanup (TCG's `reachable_code_pass`): removes code no path reaches, branches to
//! the very next op, and labels nobody references.
//!
//! After an unconditional transfer (`br`, `exit_tb`, `goto_ptr`) nothing runs until the next label
//! that some branch targets; those ops go, except `insn_start`, which the exec loop needs to map a
//! faulting pc back to its instruction. A `br`/`brcond` whose target label is the next op does
//! nothing and goes. A `set_label` without references goes (its two blocks merge, which is sound:
//! no other path enters there). Removing a branch can orphan a label; the pass repeats until stable.

use super::ir::{Op, TcgContext};
use super::opcode::Opcode;
use alloc::vec;
use alloc::vec::Vec;

/// Clean up the op list. Returns true if an op was removed.
pub fn remove_unreachable(ctx: &mut TcgContext) -> bool {
    let mut changed = false;
    while remove_branches_to_next(ctx) | sweep(ctx) {
        changed = true;
    }
    changed
}

/// The label a branch op targets.
fn branch_target(op: &Op) -> Option<u32> {
    match op.opc {
        Opcode::Br => Some(op.konst(0)),
        Opcode::BrCond => Some(op.konst(1)),
        _ => None,
    }
}

/// Remove each branch whose target label is the next op. (Not across an `insn_start`: jumping
/// over one and falling through it differ in which instruction a later fault is reported at.)
fn remove_branches_to_next(ctx: &mut TcgContext) -> bool {
    let to_next: Vec<bool> = (0..ctx.ops.len())
        .map(|i| match (branch_target(&ctx.ops[i]), ctx.ops.get(i + 1)) {
            (Some(l), Some(next)) => next.opc == Opcode::SetLabel && next.konst(0) == l,
            _ => false,
        })
        .collect();
    let before = ctx.ops.len();
    let mut it = to_next.iter();
    ctx.ops.retain(|_| !it.next().copied().unwrap_or(false));
    ctx.ops.len() != before
}

/// One forward sweep: drop unreachable ops and unreferenced labels.
fn sweep(ctx: &mut TcgContext) -> bool {
    let mut refs = vec![0u32; ctx.nb_labels as usize];
    for l in ctx.ops.iter().filter_map(branch_target) {
        refs[l as usize] += 1;
    }
    let before = ctx.ops.len();
    let mut dead = false;
    ctx.ops.retain(|op| match op.opc {
        Opcode::SetLabel if refs[op.konst(0) as usize] == 0 => false,
        Opcode::SetLabel => {
            dead = false;
            true
        }
        Opcode::InsnStart => true,
        _ if dead => {
            if let Some(l) = branch_target(op) {
                refs[l as usize] -= 1;
            }
            false
        }
        Opcode::Br | Opcode::ExitTb | Opcode::GotoPtr => {
            dead = true;
            true
        }
        _ => true,
    });
    ctx.ops.len() != before
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcg::testing::check_pass;

    #[test]
    fn removes_code_after_an_exit_up_to_a_used_label() {
        check_pass(
            concat!(
                " brcond_i32 eax,$0x0,eq,$L0\n exit_tb $0x0\n mov_i32 eax,$0x1\n",
                " ---- 00100005 00000000\n add_i32 eax,eax,$0x1\n set_label $L0\n mov_i32 ebx,$0x2\n exit_tb $0x1\n",
            ),
            concat!(
                " brcond_i32 eax,$0x0,eq,$L0\n exit_tb $0x0\n",
                "\n ---- 00100005 00000000\n set_label $L0\n mov_i32 ebx,$0x2\n exit_tb $0x1\n",
            ),
            remove_unreachable,
        );
    }

    #[test]
    fn removes_unused_labels_and_the_code_they_no_longer_start() {
        // br $L0 jumps over $L1's only reference, so $L1 and what follows it become dead too.
        check_pass(
            concat!(
                " br $L0\n brcond_i32 eax,$0x0,eq,$L1\n set_label $L1\n mov_i32 eax,$0x1\n",
                " set_label $L0\n exit_tb $0x0\n",
            ),
            // ...after which `br $L0` targets the next op and goes, and then $L0 is unused.
            " exit_tb $0x0\n",
            remove_unreachable,
        );
    }

    #[test]
    fn removes_branches_to_the_next_op() {
        check_pass(
            " mov_i32 eax,$0x1\n br $L0\n set_label $L0\n exit_tb $0x0\n",
            " mov_i32 eax,$0x1\n exit_tb $0x0\n",
            remove_unreachable,
        );
        check_pass(
            " brcond_i32 eax,$0x1,eq,$L0\n set_label $L0\n exit_tb $0x0\n",
            " exit_tb $0x0\n",
            remove_unreachable,
        );
        let over_insn_start = " br $L0\n\n ---- 00100002 00000000\n set_label $L0\n exit_tb $0x0\n";
        check_pass(over_insn_start, over_insn_start, remove_unreachable);
    }

    #[test]
    fn keeps_reachable_code() {
        let code = concat!(
            " brcond_i32 eax,$0x0,eq,$L0\n goto_tb $0x1\n exit_tb $0x2\n",
            " set_label $L0\n goto_tb $0x0\n exit_tb $0x1\n",
        );
        check_pass(code, code, remove_unreachable);
    }
}
