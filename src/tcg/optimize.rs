//! The optimizer pipeline (TCG's `tcg_optimize` plus liveness-based dead-code removal).
//!
//! Each pass is one file with one public entry; `optimize` runs them in order. Copy propagation
//! brings constants and copies to the inputs, folding then turns what became computable into
//! moves (which copy propagation spreads again) and decides branches, and the control-flow
//! cleanup drops what those branches no longer reach; the three repeat until folding and cleanup change nothing (at
//! most [`MAX_ROUNDS`] times). Dead-code elimination runs once after them, then copy coalescing
//! sends results straight into the registers they were copied to. Passes preserve the
//! semantics of the TB as observed through `env`, guest memory and the TB exit. In debug and test
//! builds the verifier runs after every pass.

use super::coalesce::coalesce;
use super::copy_prop::copy_prop;
use super::dce::dce;
use super::entry_values::drop_entry_value_writes;
use super::fold::fold;
use super::ir::TcgContext;
use super::reachable::remove_unreachable;
use super::verify::debug_check;

/// Upper bound on propagate/fold/cleanup rounds. Each round only shrinks or simplifies the IR and
/// carries a constant one step further along a chain of dependent ops; guest TBs settle in two or
/// three.
pub const MAX_ROUNDS: usize = 16;

/// Optimize the IR of one TB in place.
#[doc(alias = "tcg_optimize")]
pub fn optimize(ctx: &mut TcgContext) {
    for _ in 0..MAX_ROUNDS {
        // Propagation alone never enables more propagation: another round pays only when folding
        // or the cleanup changed something.
        copy_prop(ctx);
        debug_check(ctx, "copy_prop");
        let mut changed = fold(ctx);
        debug_check(ctx, "fold");
        changed |= remove_unreachable(ctx);
        debug_check(ctx, "remove_unreachable");
        if !changed {
            break;
        }
    }
    drop_entry_value_writes(ctx);
    debug_check(ctx, "entry_values");
    dce(ctx);
    debug_check(ctx, "dce");
    coalesce(ctx);
    debug_check(ctx, "coalesce");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcg::testing::check_pass;

    fn opt(ctx: &mut TcgContext) -> bool {
        optimize(ctx);
        true
    }

    #[test]
    fn folds_through_copies_and_removes_the_dead_branch() {
        check_pass(
            concat!(
                "\n ---- 00100000 00000000\n mov_i32 tmp17,$0x3\n add_i32 loc18,tmp17,$0x4\n",
                " brcond_i32 loc18,$0x7,ne,$L0\n mov_i32 eax,loc18\n exit_tb $0x0\n",
                " set_label $L0\n mov_i32 eax,$0x0\n exit_tb $0x0\n",
            ),
            "\n ---- 00100000 00000000\n mov_i32 eax,$0x7\n exit_tb $0x0\n",
            opt,
        );
    }

    /// `xor %bl,%cl` after `movzbl (%edx),%ecx`: the byte result is all of ecx, so it is computed
    /// straight into ecx, and its copy into cc_dst, overwritten before anything reads it, goes.
    #[test]
    fn a_byte_op_on_a_zero_extended_register_computes_into_it() {
        check_pass(
            concat!(
                " qemu_ld_i32 tmp20,edx,ub,0\n mov_i32 ecx,tmp20\n",
                " extract_i32 tmp31,ecx,$0x0,$0x8\n extract_i32 tmp32,ebx,$0x0,$0x8\n xor_i32 tmp33,tmp31,tmp32\n",
                " mov_i32 cc_dst,tmp33\n deposit_i32 ecx,ecx,tmp33,$0x0,$0x8\n",
                " shr_i32 tmp36,ebx,$0x8\n mov_i32 cc_dst,tmp36\n mov_i32 ebx,tmp36\n exit_tb $0x0\n",
            ),
            concat!(
                " qemu_ld_i32 ecx,edx,ub,0\n extract_i32 tmp32,ebx,$0x0,$0x8\n xor_i32 ecx,ecx,tmp32\n",
                " shr_i32 ebx,ebx,$0x8\n mov_i32 cc_dst,ebx\n exit_tb $0x0\n",
            ),
            opt,
        );
    }

    #[test]
    fn a_taken_constant_branch_keeps_its_target() {
        check_pass(
            concat!(
                " mov_i32 tmp17,$0x1\n brcond_i32 tmp17,$0x0,ne,$L0\n mov_i32 eax,$0x1\n exit_tb $0x0\n",
                " set_label $L0\n mov_i32 eax,$0x2\n exit_tb $0x1\n",
            ),
            " mov_i32 eax,$0x2\n exit_tb $0x1\n",
            opt,
        );
    }
}
