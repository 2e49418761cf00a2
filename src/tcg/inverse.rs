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

use super::ir::{Op, TcgContext};
use super::opcode::{OpFlags, Opcode};
use super::versions::{Versions, NO_TEMP};
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

/// A `Def` as recorded: the write counts of its operands then, and the block.
#[derive(Copy, Clone)]
struct Entry {
    def: Def,
    ver: [u32; 2],
    block: u32,
}

/// What is known, invalidated without scans (`versions.rs`): an entry holds while its block and
/// the write counts of its operands are current.
pub struct Inverses {
    entries: Vec<Option<Entry>>,
    v: Versions,
}

impl Inverses {
    pub fn new(ctx: &TcgContext) -> Inverses {
        Inverses { entries: vec![None; ctx.temps.len()], v: Versions::new(ctx) }
    }

    /// How `t` was computed, if that still holds.
    fn def_of(&self, t: u32) -> Option<Def> {
        let e = self.entries.get(t as usize).copied().flatten()?;
        let current = e.block == self.v.block() && e.ver == [self.v.of(e.def.a), self.v.of(e.def.b)];
        current.then_some(e.def)
    }

    /// The temp `op` (an add or sub) reduces to, if it undoes the op that computed an input.
    pub fn undone(&self, op: &Op) -> Option<u32> {
        let (t, u) = (op.args[1], op.args[2]);
        let def = |x: u32| self.def_of(x);
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
        match self.def_of(t)? {
            Def { op: Opcode::Sub, a, b, .. } => Some((a, b)),
            _ => None,
        }
    }

    /// `(x, len)` when temp `t` holds the low `len` bits of `x` (`extract t,x,0,len`, both
    /// unchanged since).
    pub fn low_bits_of(&self, t: u32) -> Option<(u32, u32)> {
        match self.def_of(t)? {
            Def { op: Opcode::Extract, a, len, .. } => Some((a, len)),
            _ => None,
        }
    }

    /// `(v, len)` when temp `t` holds some value with `v` deposited into its low `len` bits
    /// (`deposit t,y,v,0,len`, all unchanged since).
    pub fn deposited(&self, t: u32) -> Option<(u32, u32)> {
        match self.def_of(t)? {
            Def { op: Opcode::Deposit, b, len, .. } => Some((b, len)),
            _ => None,
        }
    }

    /// Record what `op` (as emitted) computes; forget what it invalidates (`changes_globals`:
    /// `effects::may_change_globals` of `op`, computed once by the caller).
    pub fn record(&mut self, op: &Op, changes_globals: bool) {
        if op.opc == Opcode::SetLabel || op.flags().contains(OpFlags::BB_END) {
            self.v.end_block();
            return;
        }
        if changes_globals {
            let entries = &mut self.entries;
            self.v.globals_written(|g| entries[g as usize] = None);
        }
        for &t in op.outputs() {
            self.forget(t);
        }
        let (d, a, b) = (op.args[0], op.args[1], op.args[2]);
        let def = match op.opc {
            Opcode::Add | Opcode::Sub => Some(Def { op: op.opc, a, b, len: 32 }),
            Opcode::Extract if op.konst(0) == 0 => Some(Def { op: op.opc, a, b: NO_TEMP, len: op.konst(1) }),
            // Only the deposited value matters (and `d` may be the value deposited into).
            Opcode::Deposit if op.konst(0) == 0 => Some(Def { op: op.opc, a: NO_TEMP, b, len: op.konst(1) }),
            // A copy is computed the same way as its source (as long as its source's operands are
            // unchanged: the copy keeps the source's entry).
            Opcode::Mov => {
                let e = self.def_of(a).and(self.entries.get(a as usize).copied().flatten());
                if let (Some(e), true) = (e, d != a && (d as usize) < self.entries.len()) {
                    self.entries[d as usize] = Some(e);
                }
                None
            }
            _ => None,
        };
        if let Some(def) = def.filter(|f| d != f.a && d != f.b && (d as usize) < self.entries.len()) {
            let ver = [self.v.of(def.a), self.v.of(def.b)];
            self.entries[d as usize] = Some(Entry { def, ver, block: self.v.block() });
        }
    }

    /// `t` is written: its own def ends, and so do the defs that read it.
    fn forget(&mut self, t: u32) {
        if let Some(slot) = self.entries.get_mut(t as usize) {
            *slot = None;
        }
        self.v.written(t);
    }
}
