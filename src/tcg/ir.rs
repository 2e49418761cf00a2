//! IR entities: temps, labels, conditions, memory operations, helpers, ops and the per-TB context.
//!
//! Invariants: a [`Temp`] or [`Label`] is an index into the [`TcgContext`] that created it; temps
//! `0..nb_globals` are the same in every context (env, then the guest globals, in registration
//! order); constant temps are never written; every op's `args` holds outputs, inputs, then constants.

use super::opcode::{OpFlags, Opcode};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// A virtual register (TCG's `TCGTemp` index).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Temp(pub u32);

/// A branch target inside one TB.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label(pub u32);

/// Lifetime class of a temp (TCG's `TCGTempKind`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TempKind {
    /// The `env` pointer: pinned, never written.
    Fixed,
    /// Backed by a 32-bit field of `env` at this byte offset; lives across TBs.
    Global { offset: u32 },
    /// Lives across labels within the TB ("loc" in the printed form).
    Local,
    /// Dies at the end of each basic block ("tmp").
    Normal,
    /// A constant ("$0x…").
    Const(u32),
}

/// One temp's description.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TempInfo {
    pub kind: TempKind,
    pub name: Option<&'static str>,
}

/// A comparison (TCG's `TCGCond`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Cond {
    Never,
    Always,
    Eq,
    Ne,
    Lt,
    Ge,
    Le,
    Gt,
    Ltu,
    Geu,
    Leu,
    Gtu,
}

pub const ALL_CONDS: [Cond; 12] = [
    Cond::Never,
    Cond::Always,
    Cond::Eq,
    Cond::Ne,
    Cond::Lt,
    Cond::Ge,
    Cond::Le,
    Cond::Gt,
    Cond::Ltu,
    Cond::Geu,
    Cond::Leu,
    Cond::Gtu,
];

impl Cond {
    pub fn name(self) -> &'static str {
        match self {
            Cond::Never => "never",
            Cond::Always => "always",
            Cond::Eq => "eq",
            Cond::Ne => "ne",
            Cond::Lt => "lt",
            Cond::Ge => "ge",
            Cond::Le => "le",
            Cond::Gt => "gt",
            Cond::Ltu => "ltu",
            Cond::Geu => "geu",
            Cond::Leu => "leu",
            Cond::Gtu => "gtu",
        }
    }

    pub fn from_u32(v: u32) -> Option<Cond> {
        ALL_CONDS.get(v as usize).copied()
    }

    pub fn from_name(s: &str) -> Option<Cond> {
        ALL_CONDS.iter().copied().find(|c| c.name() == s)
    }

    /// The condition that holds exactly when `self` does not.
    pub fn invert(self) -> Cond {
        match self {
            Cond::Never => Cond::Always,
            Cond::Always => Cond::Never,
            Cond::Eq => Cond::Ne,
            Cond::Ne => Cond::Eq,
            Cond::Lt => Cond::Ge,
            Cond::Ge => Cond::Lt,
            Cond::Le => Cond::Gt,
            Cond::Gt => Cond::Le,
            Cond::Ltu => Cond::Geu,
            Cond::Geu => Cond::Ltu,
            Cond::Leu => Cond::Gtu,
            Cond::Gtu => Cond::Leu,
        }
    }

    /// The condition with operands swapped (`a c b` == `b c.swap() a`).
    pub fn swap(self) -> Cond {
        match self {
            Cond::Lt => Cond::Gt,
            Cond::Gt => Cond::Lt,
            Cond::Le => Cond::Ge,
            Cond::Ge => Cond::Le,
            Cond::Ltu => Cond::Gtu,
            Cond::Gtu => Cond::Ltu,
            Cond::Leu => Cond::Geu,
            Cond::Geu => Cond::Leu,
            c => c,
        }
    }

    /// Evaluate on two 32-bit values.
    pub fn eval(self, a: u32, b: u32) -> bool {
        let (sa, sb) = (a as i32, b as i32);
        match self {
            Cond::Never => false,
            Cond::Always => true,
            Cond::Eq => a == b,
            Cond::Ne => a != b,
            Cond::Lt => sa < sb,
            Cond::Ge => sa >= sb,
            Cond::Le => sa <= sb,
            Cond::Gt => sa > sb,
            Cond::Ltu => a < b,
            Cond::Geu => a >= b,
            Cond::Leu => a <= b,
            Cond::Gtu => a > b,
        }
    }
}

/// Size and signedness of a guest memory access (TCG's `MemOp`); guest memory is little-endian.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct MemOp(pub u32);

impl MemOp {
    pub const UB: MemOp = MemOp(0);
    pub const UW: MemOp = MemOp(1);
    pub const UL: MemOp = MemOp(2);
    pub const SB: MemOp = MemOp(4);
    pub const SW: MemOp = MemOp(5);
    pub const SIGN: u32 = 4;

    /// log2 of the access size in bytes.
    pub fn size_log2(self) -> u32 {
        self.0 & 3
    }

    pub fn size(self) -> u32 {
        1 << self.size_log2()
    }

    pub fn signed(self) -> bool {
        self.0 & Self::SIGN != 0
    }

    /// The access for an operand of `1 << log2` bytes.
    pub fn from_size_log2(log2: u32) -> MemOp {
        MemOp(log2 & 3)
    }

    /// QEMU's printed name: `ub`, `sb`, `leuw`, `lesw`, `leul`.
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "ub",
            1 => "leuw",
            2 => "leul",
            4 => "sb",
            5 => "lesw",
            6 => "lesl",
            _ => "?",
        }
    }

    pub fn from_name(s: &str) -> Option<MemOp> {
        (0..7).map(MemOp).find(|m| m.name() == s)
    }

    /// Sign- or zero-extend a loaded value of this size to 32 bits.
    pub fn extend(self, v: u32) -> u32 {
        match (self.size_log2(), self.signed()) {
            (0, false) => v & 0xff,
            (0, true) => v as u8 as i8 as i32 as u32,
            (1, false) => v & 0xffff,
            (1, true) => v as u16 as i16 as i32 as u32,
            _ => v,
        }
    }
}

/// A helper's return word: the low 32 bits are its value; [`HELPER_EXIT`] asks to leave the TB
/// (an exception or an exit request was recorded in `env`).
pub type HelperRet = u64;
pub const HELPER_EXIT: u64 = 1 << 32;

/// A helper called from generated code: `env` first, then up to four 32-bit arguments.
pub type HelperFn = unsafe extern "C" fn(env: *mut u8, a0: u32, a1: u32, a2: u32, a3: u32) -> HelperRet;

bitflags::bitflags! {
    /// Helper properties (TCG's `TCG_CALL_*`).
    #[derive(Copy, Clone, Debug, PartialEq, Eq)]
    pub struct HelperFlags: u8 {
        /// May return with [`HELPER_EXIT`] set: generated code checks and leaves the TB.
        const CAN_EXIT = 1 << 0;
        /// Reads guest globals from `env`: they are written back before the call.
        const READS_GLOBALS = 1 << 1;
        /// Writes guest globals in `env`: they are reloaded after the call.
        const WRITES_GLOBALS = 1 << 2;
        /// No side effects: may be removed when its result is unused.
        const NO_SIDE_EFFECTS = 1 << 3;
    }
}

/// Static description of a helper.
#[derive(Debug)]
pub struct HelperInfo {
    pub name: &'static str,
    pub func: HelperFn,
    pub nb_iargs: u8,
    pub has_out: bool,
    pub flags: HelperFlags,
}

/// Maximum number of arguments of one op.
pub const MAX_OP_ARGS: usize = 6;

/// One IR instruction.
#[derive(Copy, Clone, Debug)]
pub struct Op {
    pub opc: Opcode,
    pub nb_oargs: u8,
    pub nb_iargs: u8,
    pub nb_cargs: u8,
    pub args: [u32; MAX_OP_ARGS],
    /// The called helper, for `call` only.
    pub helper: Option<&'static HelperInfo>,
}

impl Op {
    /// An op whose argument counts come from the opcode table.
    pub fn new(opc: Opcode, args: &[u32]) -> Op {
        let d = opc.def();
        let mut a = [0; MAX_OP_ARGS];
        a[..args.len()].copy_from_slice(args);
        Op { opc, nb_oargs: d.nb_oargs, nb_iargs: d.nb_iargs, nb_cargs: d.nb_cargs, args: a, helper: None }
    }

    /// A `call` of `helper` with these outputs and inputs.
    pub fn call(helper: &'static HelperInfo, outs: &[Temp], ins: &[Temp]) -> Op {
        let mut a = [0; MAX_OP_ARGS];
        for (slot, t) in a.iter_mut().zip(outs.iter().chain(ins.iter())) {
            *slot = t.0;
        }
        Op {
            opc: Opcode::Call,
            nb_oargs: outs.len() as u8,
            nb_iargs: ins.len() as u8,
            nb_cargs: 0,
            args: a,
            helper: Some(helper),
        }
    }

    pub fn outputs(&self) -> &[u32] {
        &self.args[..self.nb_oargs as usize]
    }

    pub fn inputs(&self) -> &[u32] {
        let o = self.nb_oargs as usize;
        &self.args[o..o + self.nb_iargs as usize]
    }

    pub fn consts(&self) -> &[u32] {
        let s = (self.nb_oargs + self.nb_iargs) as usize;
        &self.args[s..s + self.nb_cargs as usize]
    }

    pub fn out(&self, i: usize) -> Temp {
        Temp(self.args[i])
    }

    pub fn input(&self, i: usize) -> Temp {
        Temp(self.args[self.nb_oargs as usize + i])
    }

    /// The guest address of a `qemu_ld` (its input) or `qemu_st` (its second input, after the
    /// value).
    pub fn addr_input(&self) -> Temp {
        self.input(usize::from(self.opc == Opcode::QemuSt))
    }

    pub fn konst(&self, i: usize) -> u32 {
        self.args[(self.nb_oargs + self.nb_iargs) as usize + i]
    }

    pub fn flags(&self) -> OpFlags {
        self.opc.def().flags
    }

    /// True if the op must stay even when its outputs are dead.
    pub fn has_side_effects(&self) -> bool {
        match self.helper {
            Some(h) => !h.flags.contains(HelperFlags::NO_SIDE_EFFECTS),
            None => self.flags().contains(OpFlags::SIDE_EFFECTS),
        }
    }
}

/// A guest global: a name and the byte offset of its 32-bit field in `env`.
#[derive(Copy, Clone, Debug)]
pub struct GlobalDef {
    pub name: &'static str,
    pub offset: u32,
}

/// The IR of one translation block under construction (one instance per translation; never global).
#[derive(Clone, Debug)]
pub struct TcgContext {
    pub temps: Vec<TempInfo>,
    pub ops: Vec<Op>,
    /// Constant temps by value, so each constant is created once (kept in step with `temps`).
    consts: BTreeMap<u32, Temp>,
    pub nb_globals: u32,
    pub nb_labels: u32,
    /// `goto_tb` slot n jumps back to the start of this TB under the same TB key (set by the
    /// frontend): a backend that chains may loop inside the TB instead of leaving it.
    pub goto_tb_self: [bool; 2],
    /// The TB key every `lookup_tb_ptr` of this TB looks up, when the frontend knows it.
    pub lookup_key: LookupKey,
    /// Globals whose value at TB entry the frontend knows (see `entry_values.rs`).
    pub known_at_entry: Vec<(Temp, u32)>,
}

/// The (cs_base, flags) part of the TB key a `lookup_tb_ptr` looks up (the pc comes from `env`).
/// Known when the frontend knows the flags state there statically: the backend may then probe the
/// jump cache inline with constants.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum LookupKey {
    /// No `lookup_tb_ptr` yet.
    #[default]
    Unset,
    Known {
        cs_base: u32,
        flags: u32,
    },
    /// Known only at run time (dynamic `cc_op`, or two sites disagree).
    Dynamic,
}

impl LookupKey {
    /// This key merged with the one of another `lookup_tb_ptr` site (`None`: not static).
    pub fn merge(self, site: Option<(u32, u32)>) -> LookupKey {
        match (self, site) {
            (LookupKey::Unset, Some((cs_base, flags))) => LookupKey::Known { cs_base, flags },
            (k @ LookupKey::Known { cs_base, flags }, Some(s)) if s == (cs_base, flags) => k,
            _ => LookupKey::Dynamic,
        }
    }
}

/// The `env` temp is always temp 0.
pub const ENV: Temp = Temp(0);

impl TcgContext {
    /// A fresh context with `env` and the given guest globals.
    pub fn new(globals: &[GlobalDef]) -> TcgContext {
        let mut temps = Vec::with_capacity(64);
        temps.push(TempInfo { kind: TempKind::Fixed, name: Some("env") });
        for g in globals {
            temps.push(TempInfo { kind: TempKind::Global { offset: g.offset }, name: Some(g.name) });
        }
        let nb_globals = temps.len() as u32;
        let ops = Vec::with_capacity(256);
        let (goto_tb_self, lookup_key) = ([false; 2], LookupKey::Unset);
        let known_at_entry = Vec::new();
        TcgContext {
            temps,
            ops,
            consts: BTreeMap::new(),
            nb_globals,
            nb_labels: 0,
            goto_tb_self,
            lookup_key,
            known_at_entry,
        }
    }

    pub fn temp(&self, t: Temp) -> &TempInfo {
        &self.temps[t.0 as usize]
    }

    pub fn new_temp(&mut self, kind: TempKind) -> Temp {
        self.temps.push(TempInfo { kind, name: None });
        Temp(self.temps.len() as u32 - 1)
    }

    /// A basic-block temp ("tmpN").
    pub fn new_tmp(&mut self) -> Temp {
        self.new_temp(TempKind::Normal)
    }

    /// A TB-wide temp that survives labels ("locN").
    pub fn new_local(&mut self) -> Temp {
        self.new_temp(TempKind::Local)
    }

    /// The constant temp for `v` (shared with earlier uses of the same value).
    pub fn const_i32(&mut self, v: u32) -> Temp {
        if let Some(&t) = self.consts.get(&v) {
            return t;
        }
        let t = self.new_temp(TempKind::Const(v));
        self.consts.insert(v, t);
        t
    }

    /// The value of `t` if it is a constant temp.
    pub fn const_value(&self, t: Temp) -> Option<u32> {
        match self.temps.get(t.0 as usize)?.kind {
            TempKind::Const(v) => Some(v),
            _ => None,
        }
    }

    pub fn new_label(&mut self) -> Label {
        self.nb_labels += 1;
        Label(self.nb_labels - 1)
    }

    pub fn emit(&mut self, op: Op) {
        self.ops.push(op);
    }
}
