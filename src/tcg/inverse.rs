//! Undoing an addition or subtraction within a block: `t = x - y; d = t + y` makes `d` a copy of
//! `x` (and `t = x + y; d = t - y` too; a copy of `t` counts as `t`). The frontend produces the pattern for unsigned jumps after
//! `cmp` (CF after a subtraction is `cc_dst + cc_src < cc_src`: the first operand is rebuilt from
//! the flags), so the rebuilt operand becomes the operand itself. Facts hold while none of the
//! temps involved is written; all end at block boundaries, and those about globals also where a
//! global may change behind the IR's back (`effects.rs`).
//!
//! It also remembers which temps are the low bits of another (`extract t,x,0,n`) and which hold
//! a value deposited into the low bits of another (`deposit t,y,v,0,n`), for folding byte
//! compares and byte results (`fold.rs`).

use super::effects::is_global;
use super::ir::{Op, TcgContext};
use super::opcode::{OpFlags, Opcode};
use alloc::vec;
use alloc::vec::Vec;

/// How a temp was computed: `op` applied to `a` and `b` (for `extract` and `deposit` at bit 0,
/// `len` bits: `extract` reads `a`, `deposit` deposits `b`; the other is none, `u32::MAX`).
#[derive(Copy, Clone, PartialEq, Eq)]
struct Def {
    op: Opcode,
    a: u32,
    b: u32,
    len: u32,
}

pub struct Inverses {
    def: Vec<Option<Def>>,
    /// For each temp, the temps whose `Def` reads it (some stale).
    readers: Vec<Vec<u32>>,
    /// Temps that may have a `Def` (some stale).
    active: Vec<u32>,
}

impl Inverses {
    pub fn new(ctx: &TcgContext) -> Inverses {
        let n = ctx.temps.len();
        Inverses { def: vec![None; n], readers: vec![Vec::new(); n], active: Vec::new() }
    }

    /// The temp `op` (an add or sub) reduces to, if it undoes the op that computed an input.
    pub fn undone(&self, op: &Op) -> Option<u32> {
        let (t, u) = (op.args[1], op.args[2]);
        let def = |x: u32| self.def.get(x as usize).copied().flatten();
        match op.opc {
            Opcode::Add => match (def(t), def(u)) {
                (Some(Def { op: Opcode::Sub, a, b, .. }), _) if b == u => Some(a),
                (_, Some(Def { op: Opcode::Sub, a, b, .. })) if b == t => Some(a),
                _ => None,
            },
            Opcode::Sub => match def(t)? {
                Def { op: Opcode::Add, a, b, .. } if b == u => Some(a),
                Def { op: Opcode::Add, a, b, .. } if a == u => Some(b),
                _ => None,
            },
            _ => None,
        }
    }

    /// `(a, b)` when temp `t` holds `a - b` (both unchanged since).
    pub fn difference(&self, t: u32) -> Option<(u32, u32)> {
        match self.def.get(t as usize).copied().flatten()? {
            Def { op: Opcode::Sub, a, b, .. } => Some((a, b)),
            _ => None,
        }
    }

    /// `(x, len)` when temp `t` holds the low `len` bits of `x` (`extract t,x,0,len`, both
    /// unchanged since).
    pub fn low_bits_of(&self, t: u32) -> Option<(u32, u32)> {
        match self.def.get(t as usize).copied().flatten()? {
            Def { op: Opcode::Extract, a, len, .. } => Some((a, len)),
            _ => None,
        }
    }

    /// `(v, len)` when temp `t` holds some value with `v` deposited into its low `len` bits
    /// (`deposit t,y,v,0,len`, all unchanged since).
    pub fn deposited(&self, t: u32) -> Option<(u32, u32)> {
        match self.def.get(t as usize).copied().flatten()? {
            Def { op: Opcode::Deposit, b, len, .. } => Some((b, len)),
            _ => None,
        }
    }

    /// Record what `op` (as emitted) computes; forget what it invalidates (`changes_globals`:
    /// `effects::may_change_globals` of `op`, computed once by the caller).
    pub fn record(&mut self, ctx: &TcgContext, op: &Op, changes_globals: bool) {
        if op.opc == Opcode::SetLabel || op.flags().contains(OpFlags::BB_END) {
            return self.clear();
        }
        if changes_globals {
            self.forget_globals(ctx);
        }
        for &t in op.outputs() {
            self.forget(t);
        }
        let (d, a, b) = (op.args[0], op.args[1], op.args[2]);
        let def = match op.opc {
            Opcode::Add | Opcode::Sub => Some(Def { op: op.opc, a, b, len: 32 }),
            Opcode::Extract if op.konst(0) == 0 => Some(Def { op: op.opc, a, b: u32::MAX, len: op.konst(1) }),
            // Only the deposited value matters (and `d` may be the value deposited into).
            Opcode::Deposit if op.konst(0) == 0 => Some(Def { op: op.opc, a: u32::MAX, b, len: op.konst(1) }),
            // A copy is computed the same way as its source.
            Opcode::Mov => self.def.get(a as usize).copied().flatten(),
            _ => None,
        };
        if let Some(def) = def.filter(|f| d != f.a && d != f.b && (d as usize) < self.def.len()) {
            self.def[d as usize] = Some(def);
            for x in [def.a, def.b] {
                if let Some(r) = self.readers.get_mut(x as usize) {
                    r.push(d);
                }
            }
            self.active.push(d);
        }
    }

    /// `t` is written: its own def ends, and so do the defs that read it.
    fn forget(&mut self, t: u32) {
        let Some(slot) = self.def.get_mut(t as usize) else { return };
        *slot = None;
        for k in core::mem::take(&mut self.readers[t as usize]) {
            self.def[k as usize] = None;
        }
    }

    fn forget_globals(&mut self, ctx: &TcgContext) {
        let def = &mut self.def;
        self.active.retain(|&k| {
            let global = |x: u32| is_global(ctx, x);
            if def[k as usize].is_some_and(|d| global(k) || global(d.a) || global(d.b)) {
                def[k as usize] = None;
            }
            def[k as usize].is_some()
        });
    }

    fn clear(&mut self) {
        for k in core::mem::take(&mut self.active) {
            if let Some(d) = self.def[k as usize].take() {
                for x in [d.a, d.b] {
                    if let Some(r) = self.readers.get_mut(x as usize) {
                        r.clear();
                    }
                }
            }
        }
    }
}
