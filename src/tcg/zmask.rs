//! Known-zero bits of temps (TCG's `z_mask`): for each temp, a mask with a 0 for every bit that
//! is known to be zero. It lets folding drop zero-extensions of values that are already narrow:
//! `extract x,0,8`, `and x,$0xff` or `ext8u x` of a byte load is `x`, and `deposit a,b,0,8` with
//! `a` and `b` both below 256 is `b`. Facts hold within one basic block; facts about globals also
//! end where a global may change behind the IR's back (`effects.rs`: helpers, `env` stores).

use super::ir::{Cond, MemOp, Op, TcgContext, Temp};
use super::opcode::{OpFlags, Opcode};
use alloc::vec;
use alloc::vec::Vec;

/// The mask of the low `len` bits.
fn low(len: u32) -> u32 {
    if len >= 32 {
        u32::MAX
    } else {
        (1u32 << len) - 1
    }
}

pub struct ZMasks {
    z: Vec<u32>,
}

impl ZMasks {
    pub fn new(ctx: &TcgContext) -> ZMasks {
        ZMasks { z: vec![u32::MAX; ctx.temps.len()] }
    }

    /// The known-zero mask of `t` (all ones: nothing known).
    pub fn get(&self, ctx: &TcgContext, t: u32) -> u32 {
        if let Some(c) = ctx.const_value(Temp(t)) {
            return c;
        }
        self.z.get(t as usize).copied().unwrap_or(u32::MAX)
    }

    /// `t` is known to be below 2^len.
    pub fn below(&self, ctx: &TcgContext, t: u32, len: u32) -> bool {
        self.get(ctx, t) & !low(len) == 0
    }

    /// Record what `op` (as it will be emitted) tells about its outputs; forget everything at
    /// block boundaries, and what is known about globals when `op` may change them
    /// (`changes_globals`: `effects::may_change_globals`, computed once by the caller).
    pub fn record(&mut self, ctx: &TcgContext, op: &Op, changes_globals: bool) {
        if op.opc == Opcode::SetLabel || op.flags().contains(OpFlags::BB_END) {
            self.z.fill(u32::MAX);
            return;
        }
        let mask = self.output_mask(ctx, op);
        if changes_globals {
            let globals = (ctx.nb_globals as usize).min(self.z.len());
            self.z[..globals].fill(u32::MAX);
        }
        for (i, &t) in op.outputs().iter().enumerate() {
            if let Some(z) = self.z.get_mut(t as usize) {
                *z = if i == 0 { mask } else { u32::MAX };
            }
        }
    }

    fn output_mask(&self, ctx: &TcgContext, op: &Op) -> u32 {
        let z = |i: usize| op.inputs().get(i).map_or(u32::MAX, |&t| self.get(ctx, t));
        let k = |i: usize| op.konst(i);
        match op.opc {
            Opcode::Mov => z(0),
            Opcode::And => z(0) & z(1),
            Opcode::Or | Opcode::Xor => z(0) | z(1),
            Opcode::Shr => ctx.const_value(op.input(1)).map_or(u32::MAX, |n| z(0) >> (n & 31)),
            Opcode::Shl => ctx.const_value(op.input(1)).map_or(u32::MAX, |n| z(0) << (n & 31)),
            Opcode::Extract => (z(0) >> (k(0) & 31)) & low(k(1)),
            Opcode::Ext8u | Opcode::Ld8u => z(0) & 0xff,
            Opcode::Ext16u | Opcode::Ld16u => z(0) & 0xffff,
            Opcode::SetCond => 1,
            Opcode::Deposit => {
                let m = low(k(1)) << (k(0) & 31);
                (z(0) & !m) | ((z(1) << (k(0) & 31)) & m)
            }
            Opcode::QemuLd => {
                let memop = MemOp(k(0));
                if memop.signed() {
                    u32::MAX
                } else {
                    low(8 * memop.size())
                }
            }
            _ => u32::MAX,
        }
    }

    /// The input `op` reduces to because the bits it clears are already known to be zero; also
    /// `setcond x,0,ne` of an `x` that is already 0 or 1 (`inc` then `dec` normalizing the carry).
    pub fn redundant_zero_extension(&self, ctx: &TcgContext, op: &Op) -> Option<u32> {
        let ins = op.inputs();
        let z0 = self.get(ctx, ins[0]);
        let fits = |len: u32| z0 & !low(len) == 0;
        match op.opc {
            Opcode::SetCond => {
                let ne0 = op.konst(0) == Cond::Ne as u32 && ctx.const_value(Temp(ins[1])) == Some(0);
                (ne0 && fits(1)).then_some(ins[0])
            }
            Opcode::Extract if op.konst(0) == 0 && fits(op.konst(1)) => Some(ins[0]),
            Opcode::Ext8u if fits(8) => Some(ins[0]),
            Opcode::Ext16u if fits(16) => Some(ins[0]),
            Opcode::And if ctx.const_value(Temp(ins[1])).is_some_and(|c| z0 & !c == 0) => Some(ins[0]),
            Opcode::Deposit if op.konst(0) == 0 => {
                let len = op.konst(1);
                (fits(len) && self.get(ctx, ins[1]) & !low(len) == 0).then_some(ins[1])
            }
            _ => None,
        }
    }
}
