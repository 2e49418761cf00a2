//! The portable backend: executes optimized IR directly (TCG's TCI, but on the IR itself).
//!
//! Globals are read from and written to `env` at every use, so `env` is always exact and a guest
//! exception can be taken between any two ops. Guest memory goes through the runtime's softmmu
//! entry points only. The interpreter is the reference the JIT is compared against.

use super::ir::{Cond, MemOp, Op, TcgContext, TempKind, HELPER_EXIT};
use super::opcode::Opcode;
use super::{Runtime, TbExit};
use alloc::vec;
use alloc::vec::Vec;
use core::cell::Cell;

/// A TB prepared for interpretation: its ops, temps and where each label lands.
#[derive(Clone, Debug)]
pub struct InterpCode {
    ops: Vec<Op>,
    kinds: Vec<TempKind>,
    label_pos: Vec<usize>,
    /// The temp values of the last run, kept so the next run of this TB needs no allocation
    /// (taken out while the TB runs: a nested run would simply allocate its own).
    scratch: Scratch,
}

/// A reusable temp buffer; clones start empty.
#[derive(Default)]
struct Scratch(Cell<Vec<u32>>);

impl Clone for Scratch {
    fn clone(&self) -> Self {
        Scratch::default()
    }
}

impl core::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Scratch")
    }
}

impl InterpCode {
    /// Prepare the optimized IR of one TB.
    pub fn new(ctx: &TcgContext) -> InterpCode {
        let mut label_pos = vec![usize::MAX; ctx.nb_labels as usize];
        for (i, op) in ctx.ops.iter().enumerate() {
            if op.opc == Opcode::SetLabel {
                label_pos[op.args[0] as usize] = i;
            }
        }
        let kinds: Vec<TempKind> = ctx.temps.iter().map(|t| t.kind).collect();
        let scratch = Scratch(Cell::new(vec![0; kinds.len()]));
        InterpCode { ops: ctx.ops.clone(), kinds, label_pos, scratch }
    }

    /// Number of IR ops (for statistics).
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// How many guest instructions precede the one whose `insn_start` carries `pc`.
    pub fn insn_index(&self, pc: u32) -> usize {
        let starts = self.ops.iter().filter(|op| op.opc == Opcode::InsnStart);
        starts.take_while(|op| op.konst(0) != pc).count()
    }
}

struct Frame<'a> {
    code: &'a InterpCode,
    vals: Vec<u32>,
    env: *mut u8,
}

impl Frame<'_> {
    fn get(&self, t: u32) -> u32 {
        match self.code.kinds[t as usize] {
            TempKind::Const(v) => v,
            // SAFETY: global offsets come from the guest's global table, which lists 32-bit fields
            // inside `env`; `env` is valid for the duration of `exec`.
            TempKind::Global { offset } => unsafe { (self.env.add(offset as usize) as *const u32).read_unaligned() },
            TempKind::Fixed => self.env as usize as u32,
            _ => self.vals[t as usize],
        }
    }

    fn set(&mut self, t: u32, v: u32) {
        match self.code.kinds[t as usize] {
            // SAFETY: as in `get`.
            TempKind::Global { offset } => unsafe { (self.env.add(offset as usize) as *mut u32).write_unaligned(v) },
            _ => self.vals[t as usize] = v,
        }
    }

    fn env_field(&self, op: &Op) -> *mut u8 {
        // SAFETY: `env` loads/stores only come from the frontend with offsets of `CpuState` fields.
        unsafe { self.env.add(op.konst(0) as usize) }
    }
}

/// Run one TB. `env` must point to the guest `CpuState` the IR was generated for.
///
/// # Safety
/// `env` must be valid for reads and writes of every global offset and env field the IR names, and
/// `rt` must be the runtime that matches it.
pub unsafe fn exec(code: &InterpCode, env: *mut u8, rt: &Runtime) -> TbExit {
    let mut vals = code.scratch.0.take();
    vals.clear();
    vals.resize(code.kinds.len(), 0);
    let mut f = Frame { code, vals, env };
    let exit = run(&mut f, rt);
    code.scratch.0.set(core::mem::take(&mut f.vals));
    exit
}

/// The dispatch loop of [`exec`].
fn run(f: &mut Frame, rt: &Runtime) -> TbExit {
    let code = f.code;
    let mut pc = 0usize;
    let mut insn = (0u32, 0u32);
    while pc < code.ops.len() {
        let op = &code.ops[pc];
        pc += 1;
        match step(f, op, rt, &mut insn) {
            Step::Next => {}
            Step::Jump(label) => pc = code.label_pos[label as usize],
            Step::Exit(e) => return e,
        }
    }
    TbExit::Exit(0)
}

enum Step {
    Next,
    Jump(u32),
    Exit(TbExit),
}

fn step(f: &mut Frame, op: &Op, rt: &Runtime, insn: &mut (u32, u32)) -> Step {
    let a = |i: usize| f.get(op.input(i).0);
    let r = match op.opc {
        Opcode::InsnStart => {
            *insn = (op.konst(0), op.konst(1));
            return Step::Next;
        }
        Opcode::SetLabel | Opcode::GotoTb => return Step::Next,
        Opcode::Br => return Step::Jump(op.konst(0)),
        Opcode::BrCond => {
            let cond = Cond::from_u32(op.konst(0)).unwrap_or(Cond::Never);
            return if cond.eval(a(0), a(1)) { Step::Jump(op.konst(1)) } else { Step::Next };
        }
        Opcode::ExitTb => return Step::Exit(TbExit::Exit(op.konst(0))),
        Opcode::LookupTbPtr => 0,
        Opcode::GotoPtr => return Step::Exit(TbExit::Exit(0)),
        Opcode::Ld8u | Opcode::Ld8s | Opcode::Ld16u | Opcode::Ld16s | Opcode::Ld => load_env(f, op),
        Opcode::St8 | Opcode::St16 | Opcode::St => {
            store_env(f, op);
            return Step::Next;
        }
        Opcode::Mulu2 | Opcode::Muls2 => {
            let p = if op.opc == Opcode::Mulu2 {
                (a(0) as u64).wrapping_mul(a(1) as u64)
            } else {
                (a(0) as i32 as i64).wrapping_mul(a(1) as i32 as i64) as u64
            };
            f.set(op.args[0], p as u32);
            f.set(op.args[1], (p >> 32) as u32);
            return Step::Next;
        }
        Opcode::QemuLd => {
            // SAFETY: `rt` matches `env` (caller's contract).
            let ret = unsafe { (rt.qemu_ld)(f.env, a(0), op.konst(0), op.konst(1), 0) };
            if ret & HELPER_EXIT != 0 {
                return raised(insn);
            }
            MemOp(op.konst(0)).extend(ret as u32)
        }
        Opcode::QemuSt => {
            // SAFETY: as above.
            let ret = unsafe { (rt.qemu_st)(f.env, a(1), op.konst(0), op.konst(1), a(0)) };
            if ret & HELPER_EXIT != 0 {
                return raised(insn);
            }
            return Step::Next;
        }
        Opcode::Call => return call(f, op, insn),
        _ => match eval_pure(op, &|i| a(i)) {
            Some(v) => v,
            None => return Step::Next,
        },
    };
    f.set(op.args[0], r);
    Step::Next
}

fn raised(insn: &(u32, u32)) -> Step {
    Step::Exit(TbExit::Raised { pc: insn.0, cc_op: insn.1 })
}

fn load_env(f: &Frame, op: &Op) -> u32 {
    let p = f.env_field(op);
    // SAFETY: see `env_field`.
    unsafe {
        match op.opc {
            Opcode::Ld8u => p.read() as u32,
            Opcode::Ld8s => p.read() as i8 as i32 as u32,
            Opcode::Ld16u => (p as *const u16).read_unaligned() as u32,
            Opcode::Ld16s => (p as *const u16).read_unaligned() as i16 as i32 as u32,
            _ => (p as *const u32).read_unaligned(),
        }
    }
}

fn store_env(f: &Frame, op: &Op) {
    let p = f.env_field(op);
    let v = f.get(op.input(0).0);
    // SAFETY: see `env_field`.
    unsafe {
        match op.opc {
            Opcode::St8 => p.write(v as u8),
            Opcode::St16 => (p as *mut u16).write_unaligned(v as u16),
            _ => (p as *mut u32).write_unaligned(v),
        }
    }
}

fn call(f: &mut Frame, op: &Op, insn: &(u32, u32)) -> Step {
    let Some(h) = op.helper else { return Step::Next };
    let mut args = [0u32; 4];
    for (i, slot) in args.iter_mut().enumerate().take(op.nb_iargs as usize) {
        *slot = f.get(op.input(i).0);
    }
    // SAFETY: helpers take `env` and plain integers; `env` is valid (caller's contract).
    let ret = unsafe { (h.func)(f.env, args[0], args[1], args[2], args[3]) };
    if ret & HELPER_EXIT != 0 {
        return raised(insn);
    }
    if op.nb_oargs > 0 {
        f.set(op.args[0], ret as u32);
    }
    Step::Next
}

/// The value of a pure op given its inputs (shared with the constant folder).
pub fn eval_pure(op: &Op, a: &dyn Fn(usize) -> u32) -> Option<u32> {
    let c = |i: usize| op.konst(i);
    Some(match op.opc {
        Opcode::Mov => a(0),
        Opcode::SetCond => Cond::from_u32(c(0))?.eval(a(0), a(1)) as u32,
        Opcode::MovCond => {
            if Cond::from_u32(c(0))?.eval(a(0), a(1)) {
                a(2)
            } else {
                a(3)
            }
        }
        Opcode::Add => a(0).wrapping_add(a(1)),
        Opcode::Sub => a(0).wrapping_sub(a(1)),
        Opcode::Mul => a(0).wrapping_mul(a(1)),
        Opcode::Neg => a(0).wrapping_neg(),
        Opcode::And => a(0) & a(1),
        Opcode::Or => a(0) | a(1),
        Opcode::Xor => a(0) ^ a(1),
        Opcode::Andc => a(0) & !a(1),
        Opcode::Not => !a(0),
        Opcode::Shl => a(0) << (a(1) & 31),
        Opcode::Shr => a(0) >> (a(1) & 31),
        Opcode::Sar => ((a(0) as i32) >> (a(1) & 31)) as u32,
        Opcode::Rotl => a(0).rotate_left(a(1) & 31),
        Opcode::Rotr => a(0).rotate_right(a(1) & 31),
        Opcode::Ext8s => a(0) as u8 as i8 as i32 as u32,
        Opcode::Ext8u => a(0) & 0xff,
        Opcode::Ext16s => a(0) as u16 as i16 as i32 as u32,
        Opcode::Ext16u => a(0) & 0xffff,
        Opcode::Bswap16 => (a(0) as u16).swap_bytes() as u32,
        Opcode::Bswap32 => a(0).swap_bytes(),
        Opcode::Clz => {
            if a(0) != 0 {
                a(0).leading_zeros()
            } else {
                a(1)
            }
        }
        Opcode::Ctz => {
            if a(0) != 0 {
                a(0).trailing_zeros()
            } else {
                a(1)
            }
        }
        Opcode::Deposit => {
            let mask = field_mask(c(1)) << c(0);
            (a(0) & !mask) | ((a(1) << c(0)) & mask)
        }
        Opcode::Extract => (a(0) >> c(0)) & field_mask(c(1)),
        Opcode::Sextract => {
            let sh = 32 - c(1).clamp(1, 32);
            (((a(0) >> c(0)) << sh) as i32 >> sh) as u32
        }
        _ => return None,
    })
}

/// The low `len` bits set (len in 0..=32).
fn field_mask(len: u32) -> u32 {
    if len >= 32 {
        u32::MAX
    } else {
        (1u32 << len) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcg::testing::{parse, run, FakeEnv, ENV_WORDS, MEM_OFFSET};

    /// A loop over a local counter, summing into eax: exercises labels, brcond and locals.
    const LOOP: &str = concat!(
        " ---- 00100000 00000000\n mov_i32 eax,loc17\n mov_i32 loc17,$0x0\n",
        " set_label $L0\n add_i32 loc17,loc17,$0x1\n add_i32 eax,eax,loc17\n",
        " brcond_i32 loc17,$0xa,ltu,$L0\n exit_tb $0x3\n",
    );

    #[test]
    fn runs_a_loop_and_reuses_its_buffer() {
        let code = InterpCode::new(&parse(LOOP));
        let rt = Runtime { qemu_ld: dummy, qemu_st: dummy, lookup_tb_ptr: dummy };
        for _ in 0..3 {
            let mut env: FakeEnv = [0; ENV_WORDS];
            // SAFETY: the IR only touches globals inside `env`.
            let exit = unsafe { exec(&code, env.as_mut_ptr() as *mut u8, &rt) };
            assert_eq!(exit, TbExit::Exit(3));
            // loc17 reads as 0 before its first write on every run, however the buffer was left.
            assert_eq!(env[0], 55);
        }
    }

    unsafe extern "C" fn dummy(_: *mut u8, _: u32, _: u32, _: u32, _: u32) -> u64 {
        HELPER_EXIT
    }

    #[test]
    fn a_faulting_access_raises_at_its_insn_start() {
        let ctx = parse(concat!(
            " ---- 00100000 00000007\n qemu_st_i32 $0x11223344,$0x10,leul,0\n mov_i32 eax,$0x1\n",
            " ---- 00100004 00000009\n qemu_ld_i32 ebx,$0x200,leul,0\n mov_i32 eax,$0x2\n exit_tb $0x0\n",
        ));
        let mut env: FakeEnv = [0; ENV_WORDS];
        assert_eq!(run(&ctx, &mut env), TbExit::Raised { pc: 0x100004, cc_op: 9 });
        assert_eq!((env[0], env[MEM_OFFSET / 4 + 4]), (1, 0x11223344));
        assert_eq!(InterpCode::new(&ctx).insn_index(0x100004), 1);
    }

    #[test]
    fn helpers_see_and_change_env() {
        let ctx = parse(" mov_i32 eax,$0x5\n call test_rw,$0x6,$1,edx,$0x3\n call test_exit,$0x1,$0,$0x1\n");
        let mut env: FakeEnv = [0; ENV_WORDS];
        assert_eq!(run(&ctx, &mut env), TbExit::Raised { pc: 0, cc_op: 0 });
        assert_eq!(&env[..3], &[5, 8, 6]);
    }
}
