//! Copy coalescing: `op t, …; …; mov g, t` becomes `op g, …; …` when nothing can tell the
//! difference.
//!
//! The frontend computes into fresh temps and copies the result into the guest register at the end
//! of the instruction (`add_i32 tmp29,edx,$0x1` / `mov_i32 edx,tmp29`), so that a fault half-way
//! through leaves the register untouched. TCG's register allocator later removes most such copies
//! through output preferences; here the pass does it on the IR, where `-d op_opt` shows it, and
//! every backend gains. The rewrite writes `g` earlier, from the def of `t` on, and is allowed when:
//! - `t` is a `Normal` temp with exactly one def, and the `mov` is its last use;
//! - every op strictly between the def and the `mov` is pure (so none can fault, exit, call code
//!   that sees `env`, or end the block: nothing observes `g` early), and neither reads nor writes
//!   `g` (reads of `t` there become reads of `g`, which holds the same value).
//!
//! The def op itself may read `g` (it reads its inputs before writing its outputs, in both
//! backends) and may fault (a faulting op writes no output).

use super::ir::{TcgContext, TempKind};
use super::opcode::{OpFlags, Opcode};
use alloc::vec;
use alloc::vec::Vec;

/// Coalesce copies in `ctx`; returns true if some op changed.
pub fn coalesce(ctx: &mut TcgContext) -> bool {
    let (defs, last_use) = def_and_use_counts(ctx);
    let mut removed = vec![false; ctx.ops.len()];
    for j in 0..ctx.ops.len() {
        let op = &ctx.ops[j];
        if op.opc != Opcode::Mov {
            continue;
        }
        let (g, t) = (op.args[0], op.args[1]);
        let candidate = g != t
            && ctx.temps[t as usize].kind == TempKind::Normal
            && !matches!(ctx.temps[g as usize].kind, TempKind::Const(_) | TempKind::Fixed)
            && defs[t as usize] == 1
            && last_use[t as usize] == j;
        if let Some(i) = candidate.then(|| find_def(ctx, &removed, j, g, t)).flatten() {
            rename(ctx, i, j, t, g);
            removed[j] = true;
        }
    }
    let mut it = removed.iter();
    let before = ctx.ops.len();
    ctx.ops.retain(|_| !it.next().copied().unwrap_or(false));
    ctx.ops.len() != before
}

/// Per temp: the number of ops that write it, and the index of the last op that mentions it.
fn def_and_use_counts(ctx: &TcgContext) -> (Vec<u32>, Vec<usize>) {
    let n = ctx.temps.len();
    let (mut defs, mut last_use) = (vec![0u32; n], vec![0usize; n]);
    for (i, op) in ctx.ops.iter().enumerate() {
        for &t in op.outputs() {
            defs[t as usize] += 1;
        }
        for &t in op.outputs().iter().chain(op.inputs()) {
            last_use[t as usize] = i;
        }
    }
    (defs, last_use)
}

/// The index of the op defining `t`, walking back from the `mov g, t` at `j` over pure ops that do
/// not mention `g` (ops already removed by this pass are skipped).
fn find_def(ctx: &TcgContext, removed: &[bool], j: usize, g: u32, t: u32) -> Option<usize> {
    for i in (0..j).rev() {
        if removed[i] {
            continue;
        }
        let op = &ctx.ops[i];
        if op.outputs().contains(&t) {
            return (!op.outputs().contains(&g)).then_some(i);
        }
        let mentions_g = op.outputs().iter().chain(op.inputs()).any(|&x| x == g);
        if mentions_g || !op.flags().contains(OpFlags::PURE) || op.has_side_effects() {
            return None;
        }
    }
    None
}

/// Make ops `i..j` use `g` wherever they use `t`.
fn rename(ctx: &mut TcgContext, i: usize, j: usize, t: u32, g: u32) {
    for op in &mut ctx.ops[i..j] {
        let n = (op.nb_oargs + op.nb_iargs) as usize;
        for a in &mut op.args[..n] {
            if *a == t {
                *a = g;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcg::testing::check_pass;

    #[test]
    fn result_goes_straight_to_the_guest_register() {
        check_pass(
            " add_i32 tmp17,edx,$0x1\n mov_i32 edx,tmp17\n exit_tb $0x0\n",
            " add_i32 edx,edx,$0x1\n exit_tb $0x0\n",
            coalesce,
        );
    }

    #[test]
    fn uses_in_between_read_the_register() {
        check_pass(
            concat!(
                " shr_i32 tmp17,ebx,$0x7\n shr_i32 tmp18,ebx,$0x8\n mov_i32 ecx,tmp18\n",
                " mov_i32 edx,tmp17\n mov_i32 ebx,tmp18\n exit_tb $0x0\n",
            ),
            " shr_i32 edx,ebx,$0x7\n shr_i32 ebx,ebx,$0x8\n mov_i32 ecx,ebx\n exit_tb $0x0\n",
            coalesce,
        );
    }

    #[test]
    fn no_early_write_across_a_guest_memory_access() {
        // The store may fault: eax must still hold its old value then.
        let input = " add_i32 tmp17,eax,$0x1\n qemu_st_i32 ecx,ebx,leul,0\n mov_i32 eax,tmp17\n exit_tb $0x0\n";
        check_pass(input, input, coalesce);
    }

    #[test]
    fn no_rename_when_the_register_is_read_in_between() {
        let input =
            " add_i32 tmp17,eax,$0x1\n add_i32 tmp18,eax,$0x2\n mov_i32 eax,tmp17\n mov_i32 ecx,tmp18\n exit_tb $0x0\n";
        let expected = " add_i32 tmp17,eax,$0x1\n add_i32 ecx,eax,$0x2\n mov_i32 eax,tmp17\n exit_tb $0x0\n";
        check_pass(input, expected, coalesce);
    }

    #[test]
    fn a_faulting_def_may_write_the_register_itself() {
        check_pass(
            " qemu_ld_i32 tmp17,ebx,leul,0\n mov_i32 eax,tmp17\n exit_tb $0x0\n",
            " qemu_ld_i32 eax,ebx,leul,0\n exit_tb $0x0\n",
            coalesce,
        );
    }
}
