//! The IR verifier: checks that an op list is well formed before and after every pass.
//!
//! Checked: argument counts against the opcode table (or the helper for `call`), temps in range,
//! constants and `env` never written, `ld`/`st` based on `env`, labels defined exactly once and
//! every referenced label defined, valid conditions, MemOps and bit fields, `goto_tb` slots, a
//! `Normal` temp never read in a basic block before it is written there (it dies at every
//! `BB_END` op), and the list ending in a TB exit: `exit_tb`, `goto_ptr`, `br`, or a call of a
//! helper that can leave the TB (a guest exception raised by the frontend ends the TB that way),
//! possibly followed by `insn_start` ops only.
//! [`debug_check`] runs the verifier in debug builds only; a failure there is an emulator bug.

use super::ir::{Cond, HelperFlags, MemOp, Op, TcgContext, TempKind, ENV, MAX_OP_ARGS};
use super::opcode::{OpFlags, Opcode};
use super::print::op_to_string;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

/// What is wrong, and at which op (`None`: the list as a whole).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyError {
    pub op_index: Option<usize>,
    /// The offending op as printed.
    pub op_text: String,
    pub msg: String,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op_index {
            Some(i) => write!(f, "op {} `{}`: {}", i, self.op_text, self.msg),
            None => write!(f, "{}", self.msg),
        }
    }
}

/// Verify one TB's IR.
pub fn verify(ctx: &TcgContext) -> Result<(), VerifyError> {
    let mut v = Verifier::new(ctx);
    for (i, op) in ctx.ops.iter().enumerate() {
        v.check_op(op).map_err(|msg| VerifyError { op_index: Some(i), op_text: op_to_string(ctx, op), msg })?;
    }
    v.check_labels().and_then(|_| check_tail(ctx)).map_err(|msg| VerifyError {
        op_index: None,
        op_text: String::new(),
        msg,
    })
}

/// Verify in debug and test builds; panic with the message (naming `stage`) on failure.
#[inline]
pub fn debug_check(ctx: &TcgContext, stage: &str) {
    #[cfg(debug_assertions)]
    if let Err(e) = verify(ctx) {
        panic!("IR verifier failed after {}: {}\n{}", stage, e, super::print::dump_ops(ctx));
    }
    let _ = (ctx, stage);
}

struct Verifier<'a> {
    ctx: &'a TcgContext,
    /// Per label: how many `set_label` define it, and whether some branch references it.
    defined: Vec<u32>,
    referenced: Vec<bool>,
    /// The basic block each temp was last written in (`Normal` temps only count in their own).
    written_in: Vec<u32>,
    bb: u32,
}

type VResult = Result<(), String>;

impl<'a> Verifier<'a> {
    fn new(ctx: &'a TcgContext) -> Self {
        let n = ctx.nb_labels as usize;
        let written_in = vec![u32::MAX; ctx.temps.len()];
        Verifier { ctx, defined: vec![0; n], referenced: vec![false; n], written_in, bb: 0 }
    }

    fn check_op(&mut self, op: &Op) -> VResult {
        check_counts(op)?;
        self.check_temps(op)?;
        self.check_consts(op)?;
        if op.flags().contains(OpFlags::BB_END) {
            self.bb += 1;
        }
        for &t in op.outputs() {
            self.written_in[t as usize] = self.bb;
        }
        Ok(())
    }

    fn check_temps(&self, op: &Op) -> VResult {
        let n = self.ctx.temps.len() as u32;
        for &t in op.outputs().iter().chain(op.inputs()) {
            if t >= n {
                return Err(format!("temp {} out of range ({} temps)", t, n));
            }
        }
        for &t in op.outputs() {
            match self.ctx.temps[t as usize].kind {
                TempKind::Const(_) => return Err(String::from("writes a constant")),
                TempKind::Fixed => return Err(String::from("writes env")),
                _ => {}
            }
        }
        for &t in op.inputs() {
            if self.ctx.temps[t as usize].kind == TempKind::Normal && self.written_in[t as usize] != self.bb {
                return Err(format!("reads tmp{} before it is written in this basic block", t));
            }
        }
        if matches!(op.opc, Opcode::Mulu2 | Opcode::Muls2) && op.args[0] == op.args[1] {
            return Err(String::from("both outputs are the same temp"));
        }
        Ok(())
    }

    fn check_consts(&mut self, op: &Op) -> VResult {
        match op.opc {
            Opcode::SetCond | Opcode::MovCond => check_cond(op.konst(0)),
            Opcode::BrCond => check_cond(op.konst(0)).and_then(|_| self.reference(op.konst(1))),
            Opcode::Br => self.reference(op.konst(0)),
            Opcode::SetLabel => self.define(op.konst(0)),
            Opcode::QemuLd | Opcode::QemuSt => check_memop(op.konst(0)),
            Opcode::Deposit | Opcode::Extract | Opcode::Sextract => check_field(op.konst(0), op.konst(1)),
            Opcode::GotoTb if op.konst(0) > 1 => Err(String::from("goto_tb slot must be 0 or 1")),
            Opcode::Ld8u | Opcode::Ld8s | Opcode::Ld16u | Opcode::Ld16s | Opcode::Ld => check_env_base(op, 0),
            Opcode::St8 | Opcode::St16 | Opcode::St => check_env_base(op, 1),
            _ => Ok(()),
        }
    }

    fn label_index(&self, l: u32) -> Result<usize, String> {
        if l >= self.ctx.nb_labels {
            return Err(format!("label $L{} out of range ({} labels)", l, self.ctx.nb_labels));
        }
        Ok(l as usize)
    }

    fn reference(&mut self, l: u32) -> VResult {
        let i = self.label_index(l)?;
        self.referenced[i] = true;
        Ok(())
    }

    fn define(&mut self, l: u32) -> VResult {
        let i = self.label_index(l)?;
        self.defined[i] += 1;
        if self.defined[i] > 1 {
            return Err(format!("label $L{} defined twice", l));
        }
        Ok(())
    }

    fn check_labels(&self) -> VResult {
        let missing = (0..self.defined.len()).find(|&i| self.referenced[i] && self.defined[i] == 0);
        match missing {
            Some(l) => Err(format!("label $L{} is referenced but never defined", l)),
            None => Ok(()),
        }
    }
}

/// Argument counts: the opcode table's, or for `call` the helper's.
fn check_counts(op: &Op) -> VResult {
    let total = (op.nb_oargs + op.nb_iargs + op.nb_cargs) as usize;
    if total > MAX_OP_ARGS {
        return Err(format!("{} arguments, at most {} fit", total, MAX_OP_ARGS));
    }
    let (o, i, c) = match (op.opc, op.helper) {
        (Opcode::Call, Some(h)) => (h.has_out as u8, h.nb_iargs, 0),
        (Opcode::Call, None) => return Err(String::from("call without a helper")),
        (_, Some(_)) => return Err(String::from("helper attached to a non-call op")),
        (opc, None) => (opc.def().nb_oargs, opc.def().nb_iargs, opc.def().nb_cargs),
    };
    if (op.nb_oargs, op.nb_iargs, op.nb_cargs) != (o, i, c) {
        let got = (op.nb_oargs, op.nb_iargs, op.nb_cargs);
        return Err(format!("argument counts (out, in, const) {:?}, expected {:?}", got, (o, i, c)));
    }
    Ok(())
}

fn check_cond(c: u32) -> VResult {
    Cond::from_u32(c).map(|_| ()).ok_or_else(|| format!("invalid condition {}", c))
}

fn check_memop(m: u32) -> VResult {
    if MemOp(m).name() != "?" {
        Ok(())
    } else {
        Err(format!("invalid MemOp {:#x}", m))
    }
}

fn check_field(pos: u32, len: u32) -> VResult {
    if len == 0 || len > 32 || pos >= 32 || pos + len > 32 {
        return Err(format!("bit field at {} of length {} is outside 32 bits", pos, len));
    }
    Ok(())
}

/// `ld`/`st` address `env` plus a constant offset: input `i` must be `env`.
fn check_env_base(op: &Op, i: usize) -> VResult {
    if op.input(i) != ENV {
        return Err(String::from("env access not based on env"));
    }
    Ok(())
}

/// The op list must end by leaving the TB or jumping back into it.
fn check_tail(ctx: &TcgContext) -> VResult {
    // `insn_start` ops may trail: unreachable-code removal keeps them.
    let Some(last) = ctx.ops.iter().rev().find(|op| op.opc != Opcode::InsnStart) else {
        return Err(String::from("no op besides insn_start"));
    };
    let exits = last.flags().contains(OpFlags::BB_EXIT)
        || last.opc == Opcode::Br
        || last.helper.is_some_and(|h| h.flags.contains(HelperFlags::CAN_EXIT));
    if exits {
        Ok(())
    } else {
        Err(format!("the op list ends with `{}`, not a TB exit", op_to_string(ctx, last)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcg::testing::parse;

    fn err(text: &str) -> String {
        match verify(&parse(text)) {
            Ok(()) => panic!("verified:\n{}", text),
            Err(e) => alloc::string::ToString::to_string(&e),
        }
    }

    fn ok(text: &str) {
        if let Err(e) = verify(&parse(text)) {
            panic!("{}\n{}", e, text);
        }
    }

    #[test]
    fn accepts_well_formed_ir() {
        ok(concat!(
            " ---- 00100000 00000000\n mov_i32 eax,$0x0\n",
            " ---- 00100005 00000000\n add_i32 tmp17,eax,$0x1\n mov_i32 eax,tmp17\n",
            " brcond_i32 eax,$0xa,ne,$L0\n goto_tb $0x1\n exit_tb $0x2\n",
            " set_label $L0\n goto_tb $0x0\n exit_tb $0x1\n",
        ));
        ok(" call test_exit,$0x1,$0,$0x6\n");
    }

    #[test]
    fn rejects_writes_to_constants_and_env() {
        assert!(err(" mov_i32 $0x1,eax\n exit_tb $0x0\n").contains("writes a constant"));
        assert!(err(" mov_i32 env,eax\n exit_tb $0x0\n").contains("writes env"));
    }

    #[test]
    fn rejects_normal_temps_read_across_a_label() {
        let e = err(" mov_i32 tmp17,eax\n set_label $L0\n mov_i32 ebx,tmp17\n br $L0\n");
        assert!(e.contains("reads tmp17 before it is written"), "{}", e);
        let e =
            err(" mov_i32 tmp17,eax\n brcond_i32 eax,$0x0,eq,$L0\n mov_i32 ebx,tmp17\n set_label $L0\n exit_tb $0x0\n");
        assert!(e.contains("reads tmp17"), "{}", e);
        ok(" mov_i32 loc17,eax\n set_label $L0\n mov_i32 ebx,loc17\n br $L0\n");
    }

    #[test]
    fn rejects_bad_labels() {
        assert!(err(" set_label $L0\n set_label $L0\n exit_tb $0x0\n").contains("defined twice"));
        assert!(err(" br $L1\n set_label $L0\n exit_tb $0x0\n").contains("$L1 is referenced but never defined"));
    }

    #[test]
    fn rejects_bad_constants() {
        assert!(err(" extract_i32 eax,ebx,$0x18,$0x10\n exit_tb $0x0\n").contains("outside 32 bits"));
        assert!(err(" deposit_i32 eax,eax,ebx,$0x0,$0x0\n exit_tb $0x0\n").contains("outside 32 bits"));
        assert!(err(" goto_tb $0x2\n exit_tb $0x0\n").contains("slot"));
        assert!(err(" ld_i32 eax,ebx,$0x0\n exit_tb $0x0\n").contains("based on env"));
        let mut ctx = parse(" setcond_i32 eax,ebx,ecx,eq\n exit_tb $0x0\n");
        ctx.ops[0].args[3] = 99;
        assert!(verify(&ctx).unwrap_err().msg.contains("invalid condition"));
        let mut ctx = parse(" qemu_ld_i32 eax,ebx,leul,0\n exit_tb $0x0\n");
        ctx.ops[0].args[2] = 3;
        assert!(verify(&ctx).unwrap_err().msg.contains("MemOp"));
    }

    #[test]
    fn rejects_bad_counts_and_ranges() {
        let mut ctx = parse(" add_i32 eax,ebx,ecx\n exit_tb $0x0\n");
        ctx.ops[0].nb_iargs = 1;
        assert!(verify(&ctx).unwrap_err().msg.contains("argument counts"));
        let mut ctx = parse(" add_i32 eax,ebx,ecx\n exit_tb $0x0\n");
        ctx.ops[0].args[2] = 999;
        assert!(verify(&ctx).unwrap_err().msg.contains("out of range"));
    }

    #[test]
    fn requires_a_tb_exit_at_the_end() {
        assert!(err(" mov_i32 eax,ebx\n").contains("not a TB exit"));
        assert!(err(" call test_plain,$0x0,$0\n").contains("not a TB exit"));
        assert!(verify(&TcgContext::new(&[])).unwrap_err().msg.contains("no op"));
        ok(" exit_tb $0x0\n ---- 00100002 00000000\n");
        ok(" set_label $L0\n br $L0\n");
        ok(" lookup_tb_ptr tmp17\n goto_ptr tmp17\n");
    }
}
