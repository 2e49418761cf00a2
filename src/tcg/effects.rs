//! What an op does to guest globals behind the IR's back, for the optimizer passes.
//!
//! Globals live in `env`. Code outside the op list sees them there: a helper that reads or writes
//! guest state, the exec loop after a TB exit or a faulting guest memory access (it restores state
//! from `env`), the next TB reached through `goto_tb`, the TB lookup of `lookup_tb_ptr`, and plain
//! `ld`/`st` ops whose `env` offset overlaps a global's field. Two questions follow:
//! - [`observes_globals`]: must every global hold, in `env`, the value the op list gave it so far?
//!   (Liveness: all globals are live there.)
//! - [`may_change_globals`]: may a global hold something else after the op than the op list says?
//!   (Copy propagation: facts about globals are forgotten there.) Every `CALL_CLOBBER` op counts
//!   (`lookup_tb_ptr` included, conservatively), except a call of a `NO_SIDE_EFFECTS` helper,
//!   which cannot write `env`, and guest memory accesses: their slow path never writes a global
//!   and returns to the TB only when the access completed (a fault or a self-modifying store
//!   leaves the TB); so does any `st` into a global's field.

use super::ir::{HelperFlags, Op, TcgContext, TempKind};
use super::opcode::{OpFlags, Opcode};

/// True if all globals must be exact in `env` when `op` runs.
pub fn observes_globals(ctx: &TcgContext, op: &Op) -> bool {
    match op.opc {
        Opcode::QemuLd | Opcode::QemuSt | Opcode::LookupTbPtr | Opcode::GotoTb => true,
        Opcode::Call => {
            op.helper.is_none_or(|h| h.flags.intersects(HelperFlags::CAN_EXIT | HelperFlags::READS_GLOBALS))
        }
        Opcode::Ld8u | Opcode::Ld8s | Opcode::Ld16u | Opcode::Ld16s | Opcode::Ld => {
            env_access_hits_global(ctx, op.konst(0), env_access_size(op.opc))
        }
        _ => op.flags().contains(OpFlags::BB_EXIT),
    }
}

/// True if a global may differ after `op` from what the op list says.
pub fn may_change_globals(ctx: &TcgContext, op: &Op) -> bool {
    match op.opc {
        Opcode::St8 | Opcode::St16 | Opcode::St => env_access_hits_global(ctx, op.konst(0), env_access_size(op.opc)),
        Opcode::Call => op.helper.is_none_or(|h| !h.flags.contains(HelperFlags::NO_SIDE_EFFECTS)),
        Opcode::QemuLd | Opcode::QemuSt => false,
        _ => op.flags().contains(OpFlags::CALL_CLOBBER),
    }
}

/// Bytes accessed by an `ld`/`st` of `env`.
fn env_access_size(opc: Opcode) -> u32 {
    match opc {
        Opcode::Ld8u | Opcode::Ld8s | Opcode::St8 => 1,
        Opcode::Ld16u | Opcode::Ld16s | Opcode::St16 => 2,
        _ => 4,
    }
}

/// True if `env` bytes `[offset, offset + size)` overlap some global's 32-bit field.
fn env_access_hits_global(ctx: &TcgContext, offset: u32, size: u32) -> bool {
    let end = offset as u64 + size as u64;
    ctx.temps[..ctx.nb_globals as usize].iter().any(|t| match t.kind {
        TempKind::Global { offset: g } => (offset as u64) < g as u64 + 4 && (g as u64) < end,
        _ => false,
    })
}

/// True if `t` is a guest global.
pub fn is_global(ctx: &TcgContext, t: u32) -> bool {
    matches!(ctx.temps.get(t as usize).map(|i| i.kind), Some(TempKind::Global { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcg::testing::parse;

    #[test]
    fn env_accesses_overlapping_globals_count() {
        // TEST_GLOBALS: eax at 0, ecx at 4, ...; offset 0x20..0x28 is free.
        let ctx = parse(concat!(
            " ld_i32 tmp17,env,$0x20\n ld8u_i32 tmp17,env,$0x7\n st16_i32 tmp17,env,$0x24\n",
            " st_i32 tmp17,env,$0x26\n exit_tb $0x0\n",
        ));
        assert!(!observes_globals(&ctx, &ctx.ops[0]));
        assert!(observes_globals(&ctx, &ctx.ops[1]));
        assert!(!may_change_globals(&ctx, &ctx.ops[2]));
        assert!(may_change_globals(&ctx, &ctx.ops[3]));
        assert!(observes_globals(&ctx, &ctx.ops[4]));
    }

    #[test]
    fn helper_flags_decide_for_calls() {
        let ctx = parse(concat!(
            " call test_pure,$0x8,$1,tmp17,eax,ebx\n call test_exit,$0x1,$0,eax\n",
            " call test_rw,$0x6,$1,tmp17,eax\n call test_plain,$0x0,$0\n exit_tb $0x0\n",
        ));
        let obs: alloc::vec::Vec<bool> = ctx.ops.iter().map(|op| observes_globals(&ctx, op)).collect();
        assert_eq!(obs, [false, true, true, false, true]);
        let chg: alloc::vec::Vec<bool> = ctx.ops.iter().map(|op| may_change_globals(&ctx, op)).collect();
        assert_eq!(chg, [false, true, true, true, false]);
    }
}
