//! Copy and constant propagation within basic blocks (the copy tracking of TCG's `tcg_optimize`).
//!
//! After `mov d, s` the pass knows that `d` holds what `s` holds, and rewrites later reads of `d`
//! into reads of `s` (followed to its own source first, so chains collapse onto a constant, a
//! global or the oldest temp). A global is the better name, as in TCG's `find_better_copy`: after
//! `mov g, t` (g a global, t a plain temp) later reads of `t` read `g`, so the mov is `t`'s last
//! use and `coalesce.rs` can compute the value straight into `g`. A fact dies when either side is written. Everything is forgotten at
//! each `BB_END` op (another path may enter after a label; `Normal` temps die there), and every
//! fact that names a global is forgotten at an op that may change globals behind the IR's back
//! (see `effects.rs`: helper calls, guest memory accesses, `env` stores into a global's field).
//! Only reads are rewritten: no write is added or removed, so the values of globals in `env` at
//! every TB exit and every helper call stay exactly what the op list says.

use super::effects::{is_global, may_change_globals};
use super::ir::{TcgContext, TempKind};
use super::opcode::{OpFlags, Opcode};
use super::versions::Versions;
use alloc::vec;
use alloc::vec::Vec;

const NONE: u32 = u32::MAX;

/// One temp's fact: it equals `src` as `src` was at write `ver`, in block `block`.
#[derive(Copy, Clone)]
struct Fact {
    src: u32,
    ver: u32,
    block: u32,
}

/// Known copies, invalidated without scans (`versions.rs`): a fact records the write count of
/// its source and the block it was learnt in, and holds only while both are current.
struct Copies {
    facts: Vec<Fact>,
    v: Versions,
    /// Plain temps whose better name is a global they were copied into (see `redirect`).
    redirected: Vec<bool>,
}

impl Copies {
    fn new(ctx: &TcgContext) -> Copies {
        let n = ctx.temps.len();
        let none = Fact { src: NONE, ver: 0, block: 0 };
        Copies { facts: vec![none; n], v: Versions::new(ctx), redirected: vec![false; n] }
    }

    /// The temp `t` equals by its own fact.
    fn fact(&self, t: u32) -> Option<u32> {
        let f = self.facts.get(t as usize)?;
        (f.src != NONE && f.block == self.v.block() && self.v.of(f.src) == f.ver).then_some(f.src)
    }

    fn is_redirected(&self, t: u32) -> bool {
        self.fact(t).is_some() && self.redirected.get(t as usize) == Some(&true)
    }

    /// The best name of `t`'s value: its source, or the global its source was redirected to.
    fn get(&self, t: u32) -> Option<u32> {
        let s = self.fact(t)?;
        match self.redirected[s as usize] {
            true => self.fact(s).or(Some(s)),
            false => Some(s),
        }
    }

    fn record(&mut self, d: u32, s: u32) {
        self.facts[d as usize] = Fact { src: s, ver: self.v.of(s), block: self.v.block() };
    }

    /// `t` is written: it no longer equals its source, and nothing equals its old value through it.
    fn forget(&mut self, t: u32) {
        self.facts[t as usize].src = NONE;
        self.redirected[t as usize] = false;
        self.v.written(t);
    }

    /// `d` (a global) now holds what `s` (a plain temp, nobody's copy) holds: reads of `s`, and
    /// of the temps that copied `s`, read `d` from now on (`get` follows `s` to `d`).
    fn redirect(&mut self, s: u32, d: u32) {
        self.redirected[s as usize] = true;
        self.record(s, d);
    }

    /// Drop every fact that names a global, as key or as source.
    fn forget_globals(&mut self) {
        let facts = &mut self.facts;
        self.v.globals_written(|g| facts[g as usize].src = NONE);
    }

    /// Forget everything (a block ends).
    fn clear(&mut self) {
        self.v.end_block();
    }
}

/// Propagate copies and constants into the inputs of later ops. Returns true if an input changed.
#[doc(alias = "tcg_optimize")]
pub fn copy_prop(ctx: &mut TcgContext) -> bool {
    let mut c = Copies::new(ctx);
    let mut changed = false;
    for i in 0..ctx.ops.len() {
        changed |= rewrite_inputs(ctx, &c, i);
        let op = ctx.ops[i];
        if op.flags().contains(OpFlags::BB_END) {
            c.clear();
            continue;
        }
        if may_change_globals(ctx, &op) {
            c.forget_globals();
        }
        for &t in op.outputs() {
            c.forget(t);
        }
        if op.opc == Opcode::Mov && op.args[0] != op.args[1] {
            let (d, s) = (op.args[0], op.args[1]);
            if is_global(ctx, d) && is_plain_temp(ctx, s) {
                c.redirect(s, d);
            } else {
                c.record(d, s);
            }
        }
    }
    changed
}

/// A `Normal` or `Local` temp (not a constant, global or `env`).
fn is_plain_temp(ctx: &TcgContext, t: u32) -> bool {
    matches!(ctx.temps.get(t as usize).map(|i| i.kind), Some(TempKind::Normal | TempKind::Local))
}

/// Replace each input of op `i` that is a known copy by its source. A plain temp copied into a
/// second global keeps its name (`mov g2, t` stays): then `g2` becomes its better name, the last
/// global written from it, which is the guest register rather than the flags (the frontend sets
/// `cc_dst` before the register), and the longer-lived of the two. So does the value deposited
/// into a global's low bits (`deposit g2, g2, t, 0, 8` after an 8-bit op), which folding turns
/// into `mov g2, t` when `g2`'s other bits are known to be zero.
fn rewrite_inputs(ctx: &mut TcgContext, c: &Copies, i: usize) -> bool {
    let op = ctx.ops[i];
    let into_global = is_global(ctx, op.args[0]);
    let keeps = |k: usize| {
        let second_global = match op.opc {
            Opcode::Mov => k == 1,
            Opcode::Deposit => k == 2 && op.konst(0) == 0,
            _ => false,
        };
        second_global && into_global && c.is_redirected(op.args[k])
    };
    let op = &mut ctx.ops[i];
    let first = op.nb_oargs as usize;
    let mut changed = false;
    for k in first..first + op.nb_iargs as usize {
        if let Some(s) = c.get(op.args[k]).filter(|_| !keeps(k)) {
            op.args[k] = s;
            changed = true;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcg::testing::check_pass;

    #[test]
    fn propagates_constants_and_chains_within_a_block() {
        check_pass(
            " mov_i32 tmp17,$0x5\n mov_i32 tmp18,tmp17\n add_i32 eax,tmp18,ebx\n exit_tb $0x0\n",
            " mov_i32 tmp17,$0x5\n mov_i32 tmp18,$0x5\n add_i32 eax,$0x5,ebx\n exit_tb $0x0\n",
            copy_prop,
        );
        check_pass(
            " mov_i32 tmp17,eax\n mov_i32 tmp18,tmp17\n add_i32 ebx,tmp18,tmp17\n exit_tb $0x0\n",
            " mov_i32 tmp17,eax\n mov_i32 tmp18,eax\n add_i32 ebx,eax,eax\n exit_tb $0x0\n",
            copy_prop,
        );
    }

    #[test]
    fn a_write_ends_the_copy_both_ways() {
        // eax changes after tmp17 copied it: tmp17 keeps the old value.
        check_pass(
            " mov_i32 tmp17,eax\n add_i32 eax,eax,$0x1\n mov_i32 ebx,tmp17\n exit_tb $0x0\n",
            " mov_i32 tmp17,eax\n add_i32 eax,eax,$0x1\n mov_i32 ebx,tmp17\n exit_tb $0x0\n",
            copy_prop,
        );
        check_pass(
            " mov_i32 tmp17,eax\n mov_i32 tmp17,ebx\n mov_i32 ecx,tmp17\n exit_tb $0x0\n",
            " mov_i32 tmp17,eax\n mov_i32 tmp17,ebx\n mov_i32 ecx,ebx\n exit_tb $0x0\n",
            copy_prop,
        );
    }

    #[test]
    fn labels_and_branches_end_all_facts() {
        check_pass(
            " mov_i32 loc17,$0x1\n set_label $L0\n add_i32 loc17,loc17,$0x1\n br $L0\n",
            " mov_i32 loc17,$0x1\n set_label $L0\n add_i32 loc17,loc17,$0x1\n br $L0\n",
            copy_prop,
        );
        check_pass(
            " mov_i32 eax,$0x1\n brcond_i32 ebx,$0x0,eq,$L0\n mov_i32 ecx,eax\n set_label $L0\n exit_tb $0x0\n",
            " mov_i32 eax,$0x1\n brcond_i32 ebx,$0x0,eq,$L0\n mov_i32 ecx,eax\n set_label $L0\n exit_tb $0x0\n",
            copy_prop,
        );
    }

    #[test]
    fn calls_end_facts_about_globals_and_guest_memory_does_not() {
        check_pass(
            concat!(
                " mov_i32 eax,$0x1\n mov_i32 tmp17,ebx\n mov_i32 tmp18,$0x2\n call test_plain,$0x0,$0\n",
                " add_i32 ecx,eax,tmp17\n add_i32 edx,tmp18,$0x1\n exit_tb $0x0\n",
            ),
            concat!(
                " mov_i32 eax,$0x1\n mov_i32 tmp17,ebx\n mov_i32 tmp18,$0x2\n call test_plain,$0x0,$0\n",
                " add_i32 ecx,eax,tmp17\n add_i32 edx,$0x2,$0x1\n exit_tb $0x0\n",
            ),
            copy_prop,
        );
        // Guest memory accesses leave globals alone.
        check_pass(
            " mov_i32 eax,$0x1\n qemu_ld_i32 tmp17,ebx,leul,0\n add_i32 ecx,eax,tmp17\n exit_tb $0x0\n",
            " mov_i32 eax,$0x1\n qemu_ld_i32 tmp17,ebx,leul,0\n add_i32 ecx,$0x1,tmp17\n exit_tb $0x0\n",
            copy_prop,
        );
    }

    #[test]
    fn a_global_copy_of_a_temp_replaces_it() {
        check_pass(
            " add_i32 tmp17,eax,$0x1\n mov_i32 tmp18,tmp17\n mov_i32 ebx,tmp17\n add_i32 ecx,tmp17,tmp18\n exit_tb $0x0\n",
            " add_i32 tmp17,eax,$0x1\n mov_i32 tmp18,tmp17\n mov_i32 ebx,tmp17\n add_i32 ecx,ebx,ebx\n exit_tb $0x0\n",
            copy_prop,
        );
        // Copied into two globals: the last one names it (the mov into it is kept as is).
        check_pass(
            " add_i32 tmp17,eax,$0x1\n mov_i32 edx,tmp17\n mov_i32 ebx,tmp17\n add_i32 ecx,tmp17,edx\n exit_tb $0x0\n",
            " add_i32 tmp17,eax,$0x1\n mov_i32 edx,tmp17\n mov_i32 ebx,tmp17\n add_i32 ecx,ebx,edx\n exit_tb $0x0\n",
            copy_prop,
        );
        // So does the value deposited into a global's low byte (folding may make it a mov)...
        check_pass(
            " xor_i32 tmp17,ecx,eax\n mov_i32 cc_dst,tmp17\n deposit_i32 ecx,ecx,tmp17,$0x0,$0x8\n exit_tb $0x0\n",
            " xor_i32 tmp17,ecx,eax\n mov_i32 cc_dst,tmp17\n deposit_i32 ecx,ecx,tmp17,$0x0,$0x8\n exit_tb $0x0\n",
            copy_prop,
        );
        // ...but not one deposited higher up.
        check_pass(
            " xor_i32 tmp17,ecx,eax\n mov_i32 cc_dst,tmp17\n deposit_i32 ecx,ecx,tmp17,$0x8,$0x8\n exit_tb $0x0\n",
            " xor_i32 tmp17,ecx,eax\n mov_i32 cc_dst,tmp17\n deposit_i32 ecx,ecx,cc_dst,$0x8,$0x8\n exit_tb $0x0\n",
            copy_prop,
        );
        // Once the global changes, the temp is read again.
        check_pass(
            " add_i32 tmp17,eax,$0x1\n mov_i32 ebx,tmp17\n mov_i32 ebx,$0x0\n mov_i32 ecx,tmp17\n exit_tb $0x0\n",
            " add_i32 tmp17,eax,$0x1\n mov_i32 ebx,tmp17\n mov_i32 ebx,$0x0\n mov_i32 ecx,tmp17\n exit_tb $0x0\n",
            copy_prop,
        );
    }

    #[test]
    fn env_stores_into_a_global_field_end_its_facts() {
        // TEST_GLOBALS puts ebx at env offset 12.
        check_pass(
            " mov_i32 ebx,$0x1\n st_i32 $0x2,env,$0xc\n mov_i32 ecx,ebx\n st_i32 $0x3,env,$0x20\n exit_tb $0x0\n",
            " mov_i32 ebx,$0x1\n st_i32 $0x2,env,$0xc\n mov_i32 ecx,ebx\n st_i32 $0x3,env,$0x20\n exit_tb $0x0\n",
            copy_prop,
        );
        check_pass(
            " mov_i32 ebx,$0x1\n st_i32 $0x3,env,$0x20\n mov_i32 ecx,ebx\n exit_tb $0x0\n",
            " mov_i32 ebx,$0x1\n st_i32 $0x3,env,$0x20\n mov_i32 ecx,$0x1\n exit_tb $0x0\n",
            copy_prop,
        );
    }
}
