//! The compiler, independent of the guest: IR, builder, printer and parser, verifier, optimizer
//! and backends.
//!
//! A frontend fills a [`TcgContext`] with ops through the `gen_*` builder; [`optimize`] rewrites it
//! in place; a backend turns it into something the host runs. Backends leave a TB through a
//! [`TbExit`], and reach guest memory only through the [`Runtime`] entry points.

pub mod builder;
pub mod coalesce;
pub mod copy_prop;
pub mod dce;
pub mod effects;
pub mod entry_values;
pub mod fold;
pub mod interp;
pub mod inverse;
pub mod ir;
pub mod opcode;
#[cfg(test)]
mod opt_equiv;
pub mod optimize;
pub mod parse;
pub mod print;
pub mod reachable;
#[cfg(test)]
pub mod testing;
pub mod verify;
pub mod versions;
pub mod x64;
pub mod zmask;

pub use ir::{Cond, HelperFlags, HelperInfo, Label, MemOp, Op, TcgContext, Temp, TempKind, ENV, HELPER_EXIT};
pub use opcode::{OpFlags, Opcode};
pub use optimize::optimize;

/// How a TB was left.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TbExit {
    /// `exit_tb c`: 0 = return to the loop; 1 + n = left through `goto_tb n` (a chaining candidate).
    Exit(u32),
    /// A helper or a guest memory access asked to leave in the middle of the guest instruction that
    /// started with `insn_start pc, cc_op`; the reason is recorded in `env`.
    Raised { pc: u32, cc_op: u32 },
}

/// `exit_tb` values: 0 returns to the loop; `exit_slot(n)` (1 or 2) leaves through `goto_tb n`;
/// `x64::EXIT_REQUESTED` (3) is used by TB entries that did not run.
/// The `exit_tb` value for leaving through `goto_tb slot`.
pub const fn exit_slot(slot: u32) -> u32 {
    slot + 1
}

/// Entry points of the guest memory system (slow paths), with the helper calling convention:
/// `qemu_ld(env, addr, memop, mmu_idx, _)` and `qemu_st(env, addr, memop, mmu_idx, value)`.
#[derive(Copy, Clone, Debug)]
pub struct Runtime {
    pub qemu_ld: ir::HelperFn,
    pub qemu_st: ir::HelperFn,
    /// `lookup_tb_ptr(env)`: host code of the TB for the current guest pc, or 0.
    pub lookup_tb_ptr: ir::HelperFn,
}
