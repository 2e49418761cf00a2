//! Writes of the value a global already holds. The frontend knows some globals at TB entry
//! (`TcgContext::known_at_entry`: the `cc_op` the TB key carries). When every write of such a
//! global in the TB stores that same constant, and no op can change globals behind the IR's back
//! (`effects.rs`), `env` holds that value all through the TB, also on every pass of a loop inside
//! it: the writes are dropped. A TB that ends with `cc_op` as it began then stores no `cc_op`.

use super::effects::may_change_globals;
use super::ir::{TcgContext, Temp};
use super::opcode::Opcode;

/// Drop the redundant writes; true if some op was removed.
pub fn drop_entry_value_writes(ctx: &mut TcgContext) -> bool {
    if ctx.ops.iter().any(|op| may_change_globals(ctx, op)) {
        return false;
    }
    let mut changed = false;
    for (g, k) in ctx.known_at_entry.clone() {
        let writes_k = |op: &super::ir::Op| op.opc == Opcode::Mov && ctx.const_value(op.input(0)) == Some(k);
        let writes: alloc::vec::Vec<bool> = ctx.ops.iter().map(|op| op.outputs().contains(&g.0)).collect();
        if ctx.ops.iter().zip(&writes).any(|(op, &w)| w && !writes_k(op)) {
            continue;
        }
        let mut w = writes.iter();
        ctx.ops.retain(|_| !w.next().copied().unwrap_or(false));
        changed |= writes.contains(&true);
    }
    changed
}

/// Note that global `g` holds `k` when the TB starts.
pub fn known_at_entry(ctx: &mut TcgContext, g: Temp, k: u32) {
    ctx.known_at_entry.push((g, k));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcg::testing::{check_pass, parse};

    fn with_cc_op_known(k: u32) -> impl Fn(&mut TcgContext) -> bool {
        move |ctx: &mut TcgContext| {
            let g = (0..ctx.temps.len() as u32).map(Temp).find(|&t| ctx.temp(t).name == Some("cc_op"));
            known_at_entry(ctx, g.expect("cc_op global"), k);
            drop_entry_value_writes(ctx)
        }
    }

    #[test]
    fn writes_of_the_entry_value_go() {
        let ir = " mov_i32 cc_op,$0xd\n add_i32 eax,eax,$0x1\n mov_i32 cc_op,$0xd\n exit_tb $0x0\n";
        check_pass(ir, " add_i32 eax,eax,$0x1\n exit_tb $0x0\n", with_cc_op_known(0xd));
    }

    #[test]
    fn another_value_or_a_helper_keeps_them() {
        let ir = " mov_i32 cc_op,$0xd\n mov_i32 cc_op,$0x7\n exit_tb $0x0\n";
        check_pass(ir, ir, with_cc_op_known(0xd));
        let ir = " mov_i32 cc_op,$0xd\n call test_plain,$0x0,$0\n exit_tb $0x0\n";
        check_pass(ir, ir, with_cc_op_known(0xd));
        assert!(parse(" exit_tb $0x0\n").known_at_entry.is_empty());
    }
}
