//! Dead-code elimination by backward liveness (TCG's `liveness_pass_1`, removal part).
//!
//! Walking the ops backwards, a temp is live if some later op may read its current value. Where the
//! TB is left (`exit_tb`, `goto_ptr`, the end of the list) only globals are live. At every other
//! `BB_END` op globals and `Local` temps are live and `Normal` temps dead: locals are not tracked
//! across labels, `Normal` temps never survive them. All globals are
//! also live before any op that lets code outside the op list see `env` (see `effects.rs`: guest
//! memory accesses, which can fault; helpers that can exit or read globals; `goto_tb`;
//! `lookup_tb_ptr`; `env` loads from a global's field). An op without side effects whose outputs
//! are all dead is removed; constants and `env` are never tracked.

use super::effects::observes_globals;
use super::ir::{HelperFlags, Op, TcgContext, TempKind};
use super::opcode::OpFlags;
use alloc::vec;
use alloc::vec::Vec;

/// Liveness state during the backward walk. Resetting it at block ends touches only the globals,
/// the locals and the `Normal` temps made live since the last reset, so the walk stays linear in
/// the size of the TB.
struct Live<'a> {
    kinds: &'a [TempKind],
    live: Vec<bool>,
    globals: Vec<u32>,
    locals: Vec<u32>,
    live_normals: Vec<u32>,
}

impl Live<'_> {
    fn new(kinds: &[TempKind]) -> Live<'_> {
        let of = |want: fn(&TempKind) -> bool| (0..kinds.len() as u32).filter(|&t| want(&kinds[t as usize])).collect();
        let globals = of(|k| matches!(k, TempKind::Global { .. }));
        let locals = of(|k| matches!(k, TempKind::Local));
        Live { kinds, live: vec![false; kinds.len()], globals, locals, live_normals: Vec::new() }
    }

    fn mark(&mut self, which: fn(&Self) -> &Vec<u32>, v: bool) {
        for i in 0..which(self).len() {
            let t = which(self)[i];
            self.live[t as usize] = v;
        }
    }

    /// The state at the end of a basic block: globals and locals live, `Normal` temps dead.
    fn bb_end(&mut self) {
        for t in core::mem::take(&mut self.live_normals) {
            self.live[t as usize] = false;
        }
        self.mark(|s| &s.globals, true);
        self.mark(|s| &s.locals, true);
    }

    /// The state where the TB is left: only globals survive.
    fn tb_end(&mut self) {
        self.bb_end();
        self.mark(|s| &s.locals, false);
    }

    fn globals(&mut self) {
        self.mark(|s| &s.globals, true);
    }

    fn is_live(&self, t: u32) -> bool {
        self.live[t as usize]
    }

    fn set(&mut self, t: u32, v: bool) {
        match self.kinds[t as usize] {
            TempKind::Normal if v && !self.live[t as usize] => self.live_normals.push(t),
            TempKind::Global { .. } | TempKind::Local | TempKind::Normal => {}
            _ => return,
        }
        self.live[t as usize] = v;
    }
}

/// True if the op may go when its outputs are dead. A helper that can leave the TB stays even if
/// it claims no side effects: the exit (a guest exception) is one.
fn removable(op: &Op) -> bool {
    !op.has_side_effects() && !op.helper.is_some_and(|h| h.flags.contains(HelperFlags::CAN_EXIT))
}

/// Remove ops whose results nobody reads. Returns true if an op was removed.
#[doc(alias = "liveness_pass_1")]
pub fn dce(ctx: &mut TcgContext) -> bool {
    let kinds: Vec<TempKind> = ctx.temps.iter().map(|t| t.kind).collect();
    let mut st = Live::new(&kinds);
    st.tb_end();
    let mut keep = vec![true; ctx.ops.len()];
    for (i, op) in ctx.ops.iter().enumerate().rev() {
        if op.flags().contains(OpFlags::BB_EXIT) {
            st.tb_end();
        } else if op.flags().contains(OpFlags::BB_END) {
            st.bb_end();
        }
        if removable(op) && op.outputs().iter().all(|&t| !st.is_live(t)) {
            keep[i] = false;
            continue;
        }
        for &t in op.outputs() {
            st.set(t, false);
        }
        if observes_globals(ctx, op) {
            st.globals();
        }
        for &t in op.inputs() {
            st.set(t, true);
        }
    }
    let before = ctx.ops.len();
    let mut it = keep.iter();
    ctx.ops.retain(|_| it.next().copied().unwrap_or(true));
    ctx.ops.len() != before
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcg::testing::check_pass;

    #[test]
    fn removes_dead_temps_and_overwritten_globals() {
        check_pass(
            concat!(
                " mov_i32 tmp17,$0x1\n add_i32 tmp18,eax,$0x2\n mov_i32 eax,$0x3\n",
                " mov_i32 eax,tmp18\n ld_i32 tmp19,env,$0x20\n exit_tb $0x0\n",
            ),
            " add_i32 tmp18,eax,$0x2\n mov_i32 eax,tmp18\n exit_tb $0x0\n",
            dce,
        );
    }

    #[test]
    fn globals_are_live_where_env_is_observed() {
        let keep = |between: &str| {
            let code = alloc::format!(" mov_i32 eax,$0x3\n{}\n mov_i32 eax,$0x4\n exit_tb $0x0\n", between);
            check_pass(&code, &code, dce);
        };
        keep(" qemu_ld_i32 tmp17,ebx,leul,0\n qemu_st_i32 tmp17,ebx,leul,0");
        keep(" qemu_st_i32 ecx,ebx,leul,0");
        keep(" call test_exit,$0x1,$0,ecx");
        keep(" call test_rw,$0x6,$1,ecx,ecx");
        keep(" goto_tb $0x0");
        keep(" ld_i32 ecx,env,$0x0");
        keep(" brcond_i32 ecx,$0x0,eq,$L0\n set_label $L0");
        check_pass(
            " mov_i32 eax,$0x3\n call test_plain,$0x0,$0\n mov_i32 eax,$0x4\n exit_tb $0x0\n",
            " call test_plain,$0x0,$0\n mov_i32 eax,$0x4\n exit_tb $0x0\n",
            dce,
        );
    }

    #[test]
    fn keeps_side_effects_and_removes_pure_helpers() {
        check_pass(
            concat!(
                " call test_pure,$0x8,$1,tmp17,eax,ebx\n call test_plain,$0x0,$0\n",
                " qemu_ld_i32 tmp18,ebx,leul,0\n st_i32 ecx,env,$0x20\n exit_tb $0x0\n",
            ),
            " call test_plain,$0x0,$0\n qemu_ld_i32 tmp18,ebx,leul,0\n st_i32 ecx,env,$0x20\n exit_tb $0x0\n",
            dce,
        );
        let can_exit = " call test_check,$0x9,$1,tmp17,eax\n exit_tb $0x0\n";
        check_pass(can_exit, can_exit, dce);
    }

    #[test]
    fn locals_live_across_labels_normals_do_not() {
        check_pass(
            concat!(
                " mov_i32 loc17,$0x1\n mov_i32 tmp18,$0x2\n brcond_i32 eax,$0x0,eq,$L0\n",
                " mov_i32 loc17,$0x5\n set_label $L0\n mov_i32 ecx,loc17\n exit_tb $0x0\n",
            ),
            concat!(
                " mov_i32 loc17,$0x1\n brcond_i32 eax,$0x0,eq,$L0\n",
                " mov_i32 loc17,$0x5\n set_label $L0\n mov_i32 ecx,loc17\n exit_tb $0x0\n",
            ),
            dce,
        );
    }

    #[test]
    fn locals_die_where_the_tb_is_left() {
        check_pass(
            concat!(
                " mov_i32 loc17,$0x1\n brcond_i32 eax,$0x0,eq,$L0\n mov_i32 loc17,$0x2\n exit_tb $0x0\n",
                " set_label $L0\n mov_i32 loc17,$0x3\n lookup_tb_ptr tmp18\n goto_ptr tmp18\n",
            ),
            concat!(
                " mov_i32 loc17,$0x1\n brcond_i32 eax,$0x0,eq,$L0\n exit_tb $0x0\n",
                " set_label $L0\n lookup_tb_ptr tmp18\n goto_ptr tmp18\n",
            ),
            dce,
        );
    }

    #[test]
    fn mul2_stays_while_one_output_is_live() {
        check_pass(
            " mulu2_i32 tmp17,tmp18,eax,ebx\n mov_i32 ecx,tmp18\n mulu2_i32 tmp17,tmp18,eax,ebx\n exit_tb $0x0\n",
            " mulu2_i32 tmp17,tmp18,eax,ebx\n mov_i32 ecx,tmp18\n exit_tb $0x0\n",
            dce,
        );
    }
}
