//! Constant folding and algebraic simplification, op by op (the folding half of TCG's
//! `tcg_optimize`; copy propagation, which brings constants to the inputs, is `copy_prop.rs`).
//!
//! A pure op whose inputs are all constants becomes `mov d,$value` (computed by the interpreter's
//! [`eval_pure`], so folding and execution cannot disagree). Identities turn an op into a move of
//! one input or of a constant: `x+0`, `x-0`, `x|0`, `x^0`, `x&-1`, `x*1`, shifts and rotations by 0
//! → `x`; `x&0`, `x*0`, `x^x`, `x-x`, `x&~x` → 0; `x|-1` → -1; `x&x`, `x|x` → `x`. A `setcond`,
//! `movcond` or `brcond` whose outcome is known is decided; a zero-extension of a value whose
//! high bits are known to be zero (`zmask.rs`) is a move, and so is an add or sub that undoes the
//! one that computed its input (`inverse.rs`): `brcond` becomes `br` when always
//! taken and disappears when never taken; a `brcond` or `setcond` testing a difference for
//! (in)equality with 0 compares its operands, also when it tests the low byte of the difference of
//! two bytes (`cmp %dl,%al; je`); the low bits of a deposit are the value deposited there.
//! Commutative ops and comparisons get a constant operand second. `mov x,x` is removed. No op
//! with a side effect is removed or created here, except decided branches.

use super::effects::may_change_globals;
use super::interp::eval_pure;
use super::inverse::Inverses;
use super::ir::{Cond, MemOp, Op, TcgContext, Temp};
use super::opcode::{OpFlags, Opcode};
use super::zmask::ZMasks;
use alloc::vec::Vec;

/// What an op reduces to.
enum Value {
    Const(u32),
    Copy(u32),
}

/// Fold and simplify every op. Returns true if anything changed.
pub fn fold(ctx: &mut TcgContext) -> bool {
    let ops = core::mem::take(&mut ctx.ops);
    let mut out = Vec::with_capacity(ops.len());
    let mut changed = false;
    let (mut zm, mut inv) = (ZMasks::new(ctx), Inverses::new(ctx));
    for mut op in ops {
        changed |= canonicalize(ctx, &mut op);
        let start = out.len();
        changed |= fold_op(ctx, &Facts { zm: &zm, inv: &inv }, &op, &mut out);
        for o in &out[start..] {
            let changes_globals = may_change_globals(ctx, o);
            zm.record(ctx, o, changes_globals);
            inv.record(o, changes_globals);
        }
    }
    ctx.ops = out;
    changed
}

/// Push what `op` becomes onto `out`; true if that is not `op` itself.
/// What is known about the temps at the op being folded.
struct Facts<'a> {
    zm: &'a ZMasks,
    inv: &'a Inverses,
}

fn fold_op(ctx: &mut TcgContext, facts: &Facts, op: &Op, out: &mut Vec<Op>) -> bool {
    match op.opc {
        Opcode::Mov if op.args[0] == op.args[1] => return true,
        Opcode::Mov => {}
        Opcode::BrCond => return fold_brcond(ctx, facts, op, out),
        Opcode::Mulu2 | Opcode::Muls2 => return fold_mul2(ctx, op, out),
        Opcode::QemuSt => return fold_narrow_store(facts, op, out),
        _ if op.flags().contains(OpFlags::PURE) => {
            let narrow = || facts.zm.redundant_zero_extension(ctx, op).or_else(|| low_of_deposit(ctx, facts, op));
            let narrow = || narrow().map(Value::Copy);
            let undone = || facts.inv.undone(op).map(Value::Copy);
            if let Some(v) = all_const(ctx, op).or_else(|| simplify(ctx, op)).or_else(narrow).or_else(undone) {
                out.push(mov_value(ctx, op.out(0), v));
                return true;
            }
            let cond = || Cond::from_u32(op.konst(0));
            if let Some((a, b)) =
                (op.opc == Opcode::SetCond).then(cond).flatten().and_then(|c| equal_operands(ctx, facts, c, op))
            {
                out.push(Op::new(Opcode::SetCond, &[op.args[0], a, b, op.konst(0)]));
                return true;
            }
        }
        _ => {}
    }
    out.push(*op);
    false
}

fn mov_value(ctx: &mut TcgContext, d: Temp, v: Value) -> Op {
    let s = match v {
        Value::Const(c) => ctx.const_i32(c),
        Value::Copy(t) => Temp(t),
    };
    Op::new(Opcode::Mov, &[d.0, s.0])
}

/// The op's value when all its inputs are constants.
fn all_const(ctx: &TcgContext, op: &Op) -> Option<Value> {
    let mut vals = [0u32; 4];
    for (i, &t) in op.inputs().iter().enumerate() {
        vals[i] = ctx.const_value(Temp(t))?;
    }
    eval_pure(op, &|i| vals[i]).map(Value::Const)
}

/// `brcond` with a known outcome: `br` or nothing. An equality test of a difference against 0
/// compares its operands instead (`brcond t,$0,ne` after `sub t,a,b` → `brcond a,b,ne`): the
/// branch no longer reads `t` (often `cc_dst`, whose write may then wait, `x64/loop_defer.rs`).
fn fold_brcond(ctx: &TcgContext, facts: &Facts, op: &Op, out: &mut Vec<Op>) -> bool {
    let Some(cond) = Cond::from_u32(op.konst(0)) else {
        out.push(*op);
        return false;
    };
    match decide(ctx, cond, op.args[0], op.args[1]) {
        Some(true) => out.push(Op::new(Opcode::Br, &[op.konst(1)])),
        Some(false) => {}
        None => match equal_operands(ctx, facts, cond, op) {
            Some((a, b)) => out.push(Op::new(Opcode::BrCond, &[a, b, op.konst(0), op.konst(1)])),
            None => {
                out.push(*op);
                return false;
            }
        },
    }
    true
}

/// `(a, b)` when `op` (a `brcond` or `setcond`) tests `a - b` for (in)equality with 0, or the
/// low n bits of `a - b` where `a` and `b` are below 2^n (a byte compare: `cmp %dl,%al; je`).
fn equal_operands(ctx: &TcgContext, facts: &Facts, cond: Cond, op: &Op) -> Option<(u32, u32)> {
    let o = op.nb_oargs as usize;
    let (t, zero) = (op.args[o], ctx.const_value(Temp(op.args[o + 1])) == Some(0));
    if !(matches!(cond, Cond::Eq | Cond::Ne) && zero) {
        return None;
    }
    if let Some(d) = facts.inv.difference(t) {
        return Some(d);
    }
    let (x, len) = facts.inv.low_bits_of(t)?;
    let (a, b) = facts.inv.difference(x)?;
    (facts.zm.below(ctx, a, len) && facts.zm.below(ctx, b, len)).then_some((a, b))
}

/// `extract d,t,0,n` where `t` holds `v` deposited into its low m >= n bits, `v` below 2^n: `v`
/// (`sete %al; movzbl %al,%eax`).
fn low_of_deposit(ctx: &TcgContext, facts: &Facts, op: &Op) -> Option<u32> {
    if op.opc != Opcode::Extract || op.konst(0) != 0 {
        return None;
    }
    let n = op.konst(1);
    let (v, m) = facts.inv.deposited(op.args[1])?;
    (m >= n && facts.zm.below(ctx, v, n)).then_some(v)
}

/// A store of the low `len` bits extracted from `x`, `len` at least the store's width, stores
/// `x` itself: the store keeps only those bits (`mov %cl,(%eax)`).
fn fold_narrow_store(facts: &Facts, op: &Op, out: &mut Vec<Op>) -> bool {
    let width = 8 * MemOp(op.konst(0)).size();
    let mut st = *op;
    let narrowed = match facts.inv.low_bits_of(op.args[0]) {
        Some((x, len)) if len >= width => {
            st.args[0] = x;
            true
        }
        _ => false,
    };
    out.push(st);
    narrowed
}

/// `mulu2`/`muls2` of two constants: two moves.
fn fold_mul2(ctx: &mut TcgContext, op: &Op, out: &mut Vec<Op>) -> bool {
    let (a, b) = (ctx.const_value(op.input(0)), ctx.const_value(op.input(1)));
    let (Some(a), Some(b)) = (a, b) else {
        out.push(*op);
        return false;
    };
    let p = match op.opc {
        Opcode::Mulu2 => (a as u64).wrapping_mul(b as u64),
        _ => (a as i32 as i64).wrapping_mul(b as i32 as i64) as u64,
    };
    out.push(mov_value(ctx, op.out(0), Value::Const(p as u32)));
    out.push(mov_value(ctx, op.out(1), Value::Const((p >> 32) as u32)));
    true
}

/// The outcome of `a cond b`, when it does not depend on run-time values.
fn decide(ctx: &TcgContext, cond: Cond, a: u32, b: u32) -> Option<bool> {
    let (ca, cb) = (ctx.const_value(Temp(a)), ctx.const_value(Temp(b)));
    match (cond, ca, cb) {
        (Cond::Always, ..) => Some(true),
        (Cond::Never, ..) => Some(false),
        (_, Some(x), Some(y)) => Some(cond.eval(x, y)),
        _ if a == b => Some(cond.eval(0, 0)),
        (Cond::Ltu, _, Some(0)) => Some(false),
        (Cond::Geu, _, Some(0)) => Some(true),
        _ => None,
    }
}

/// Algebraic identities of pure ops (some inputs constant or equal).
fn simplify(ctx: &TcgContext, op: &Op) -> Option<Value> {
    use Value::{Const, Copy};
    let ins = op.inputs();
    let cv = |i: usize| ins.get(i).and_then(|&t| ctx.const_value(Temp(t)));
    let (a, b, ca, cb) = (ins[0], ins.get(1).copied().unwrap_or(u32::MAX), cv(0), cv(1));
    match op.opc {
        Opcode::Add | Opcode::Or | Opcode::Xor if ca == Some(0) => Some(Copy(b)),
        Opcode::Add | Opcode::Or | Opcode::Xor | Opcode::Sub | Opcode::Andc if cb == Some(0) => Some(Copy(a)),
        Opcode::And | Opcode::Mul if ca == Some(0) || cb == Some(0) => Some(Const(0)),
        Opcode::And if cb == Some(u32::MAX) => Some(Copy(a)),
        Opcode::And if ca == Some(u32::MAX) => Some(Copy(b)),
        Opcode::Mul if cb == Some(1) => Some(Copy(a)),
        Opcode::Mul if ca == Some(1) => Some(Copy(b)),
        Opcode::Or if ca == Some(u32::MAX) || cb == Some(u32::MAX) => Some(Const(u32::MAX)),
        Opcode::And | Opcode::Or if a == b => Some(Copy(a)),
        Opcode::Xor | Opcode::Sub | Opcode::Andc if a == b => Some(Const(0)),
        Opcode::Andc if ca == Some(0) || cb == Some(u32::MAX) => Some(Const(0)),
        Opcode::Shl | Opcode::Shr | Opcode::Sar | Opcode::Rotl | Opcode::Rotr => simplify_shift(a, ca, cb),
        Opcode::SetCond => Some(Const(decide(ctx, Cond::from_u32(op.konst(0))?, a, b)? as u32)),
        Opcode::MovCond => simplify_movcond(ctx, op),
        Opcode::Extract | Opcode::Sextract if op.konst(0) == 0 && op.konst(1) == 32 => Some(Copy(a)),
        Opcode::Deposit if op.konst(0) == 0 && op.konst(1) == 32 => Some(Copy(b)),
        _ => None,
    }
}

fn simplify_shift(a: u32, ca: Option<u32>, cb: Option<u32>) -> Option<Value> {
    match (ca, cb) {
        (_, Some(n)) if n & 31 == 0 => Some(Value::Copy(a)),
        (Some(0), _) => Some(Value::Const(0)),
        _ => None,
    }
}

fn simplify_movcond(ctx: &TcgContext, op: &Op) -> Option<Value> {
    let ins = op.inputs();
    if ins[2] == ins[3] {
        return Some(Value::Copy(ins[2]));
    }
    let taken = decide(ctx, Cond::from_u32(op.konst(0))?, ins[0], ins[1])?;
    Some(Value::Copy(if taken { ins[2] } else { ins[3] }))
}

/// Put a lone constant operand second: swap commutative inputs, or swap a comparison's operands
/// and its condition. True if the op changed.
fn canonicalize(ctx: &TcgContext, op: &mut Op) -> bool {
    let o = op.nb_oargs as usize;
    let is_const = |t: u32| ctx.const_value(Temp(t)).is_some();
    let swap = is_const(op.args[o]) && !is_const(op.args.get(o + 1).copied().unwrap_or(0));
    match op.opc {
        Opcode::Add | Opcode::Mul | Opcode::And | Opcode::Or | Opcode::Xor | Opcode::Mulu2 | Opcode::Muls2 if swap => {
            op.args.swap(o, o + 1);
            true
        }
        Opcode::SetCond | Opcode::MovCond | Opcode::BrCond if swap => {
            op.args.swap(o, o + 1);
            let c = o + op.nb_iargs as usize;
            op.args[c] = Cond::from_u32(op.args[c]).map_or(op.args[c], |cond| cond.swap() as u32);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcg::testing::check_pass;

    fn f(input: &str, expected: &str) {
        let wrap = |s: &str| {
            if s.is_empty() {
                alloc::string::String::from(" exit_tb $0x0\n")
            } else {
                alloc::format!("{}\n exit_tb $0x0\n", s)
            }
        };
        check_pass(&wrap(input), &wrap(expected), fold);
    }

    #[test]
    fn folds_pure_ops_on_constants() {
        f(" add_i32 eax,$0x7,$0xfffffffe", " mov_i32 eax,$0x5");
        f(" sar_i32 eax,$0x80000000,$0x4", " mov_i32 eax,$0xf8000000");
        f(" setcond_i32 eax,$0x1,$0x2,lt", " mov_i32 eax,$0x1");
        f(" movcond_i32 eax,$0x1,$0x2,ebx,ecx,gtu", " mov_i32 eax,ecx");
        f(" deposit_i32 eax,$0xffffffff,$0x0,$0x8,$0x8", " mov_i32 eax,$0xffff00ff");
        f(" extract_i32 eax,$0x12345678,$0x8,$0x8", " mov_i32 eax,$0x56");
        f(" clz_i32 eax,$0x0,$0x20", " mov_i32 eax,$0x20");
        f(" mulu2_i32 eax,edx,$0xffffffff,$0x2", " mov_i32 eax,$0xfffffffe\n mov_i32 edx,$0x1");
        f(" muls2_i32 eax,edx,$0xffffffff,$0x2", " mov_i32 eax,$0xfffffffe\n mov_i32 edx,$0xffffffff");
    }

    #[test]
    fn keeps_ops_with_side_effects_or_unknown_inputs() {
        f(" ld_i32 eax,env,$0x20", " ld_i32 eax,env,$0x20");
        f(" qemu_ld_i32 eax,$0x1000,leul,0", " qemu_ld_i32 eax,$0x1000,leul,0");
        f(" add_i32 eax,ebx,$0x1", " add_i32 eax,ebx,$0x1");
        f(" mov_i32 eax,$0x1", " mov_i32 eax,$0x1");
    }

    #[test]
    fn applies_identities() {
        f(" add_i32 eax,ebx,$0x0", " mov_i32 eax,ebx");
        f(" add_i32 eax,$0x0,ebx", " mov_i32 eax,ebx");
        f(" sub_i32 eax,ebx,$0x0", " mov_i32 eax,ebx");
        f(" sub_i32 eax,ebx,ebx", " mov_i32 eax,$0x0");
        f(" and_i32 eax,ebx,$0x0", " mov_i32 eax,$0x0");
        f(" and_i32 eax,ebx,$0xffffffff", " mov_i32 eax,ebx");
        f(" and_i32 eax,ebx,ebx", " mov_i32 eax,ebx");
        f(" or_i32 eax,ebx,$0x0", " mov_i32 eax,ebx");
        f(" or_i32 eax,ebx,$0xffffffff", " mov_i32 eax,$0xffffffff");
        f(" xor_i32 eax,ebx,ebx", " mov_i32 eax,$0x0");
        f(" andc_i32 eax,ebx,ebx", " mov_i32 eax,$0x0");
        f(" mul_i32 eax,ebx,$0x1", " mov_i32 eax,ebx");
        f(" mul_i32 eax,$0x0,ebx", " mov_i32 eax,$0x0");
        f(" shl_i32 eax,ebx,$0x0", " mov_i32 eax,ebx");
        f(" rotr_i32 eax,ebx,$0x20", " mov_i32 eax,ebx");
        f(" sar_i32 eax,$0x0,ebx", " mov_i32 eax,$0x0");
        f(" extract_i32 eax,ebx,$0x0,$0x20", " mov_i32 eax,ebx");
        f(" deposit_i32 eax,ebx,ecx,$0x0,$0x20", " mov_i32 eax,ecx");
        f(" mov_i32 eax,eax", "");
        f(" sub_i32 eax,ebx,$0x1", " sub_i32 eax,ebx,$0x1");
    }

    #[test]
    fn drops_zero_extensions_of_values_known_to_be_narrow() {
        f(
            " qemu_ld_i32 tmp17,ebx,ub,0\n extract_i32 tmp18,tmp17,$0x0,$0x8\n xor_i32 tmp19,tmp18,tmp17\n \
             deposit_i32 eax,tmp17,tmp19,$0x0,$0x8\n and_i32 ecx,tmp19,$0xff\n ext16u_i32 edx,tmp19",
            " qemu_ld_i32 tmp17,ebx,ub,0\n mov_i32 tmp18,tmp17\n xor_i32 tmp19,tmp18,tmp17\n \
             mov_i32 eax,tmp19\n mov_i32 ecx,tmp19\n mov_i32 edx,tmp19",
        );
        // Globals too, until a helper may change them.
        f(
            " qemu_ld_i32 eax,ebx,ub,0\n extract_i32 tmp18,eax,$0x0,$0x8",
            " qemu_ld_i32 eax,ebx,ub,0\n mov_i32 tmp18,eax",
        );
        // A flag already 0 or 1 needs no `!= 0`; one that may be wider does.
        f(
            " setcond_i32 cc_src,eax,ebx,ltu\n setcond_i32 cc_src,cc_src,$0x0,ne",
            " setcond_i32 cc_src,eax,ebx,ltu\n mov_i32 cc_src,cc_src",
        );
        let keep = " and_i32 cc_src,eax,$0x3\n setcond_i32 cc_src,cc_src,$0x0,ne";
        f(keep, keep);
        let keep = " qemu_ld_i32 eax,ebx,ub,0\n call test_plain,$0x0,$0\n extract_i32 tmp18,eax,$0x0,$0x8";
        f(keep, keep);
        // A signed load, or too few low bits kept: nothing is known.
        let keep = " qemu_ld_i32 tmp17,ebx,sb,0\n extract_i32 tmp18,tmp17,$0x0,$0x8";
        f(keep, keep);
        let keep = " qemu_ld_i32 tmp17,ebx,leuw,0\n and_i32 tmp18,tmp17,$0xff";
        f(keep, keep);
    }

    #[test]
    fn an_add_that_undoes_a_sub_is_its_operand() {
        // jb after cmp: cc_dst + cc_src rebuilds the first operand of the subtraction.
        f(
            " sub_i32 cc_dst,eax,ebx\n add_i32 tmp17,cc_dst,ebx\n sub_i32 tmp18,tmp17,ecx\n add_i32 tmp19,tmp18,ecx",
            " sub_i32 cc_dst,eax,ebx\n mov_i32 tmp17,eax\n sub_i32 tmp18,tmp17,ecx\n mov_i32 tmp19,tmp17",
        );
        // Through a copy of the difference (the frontend copies it into cc_dst).
        f(
            " sub_i32 tmp17,eax,ebx\n mov_i32 cc_dst,tmp17\n add_i32 tmp18,cc_dst,ebx",
            " sub_i32 tmp17,eax,ebx\n mov_i32 cc_dst,tmp17\n mov_i32 tmp18,eax",
        );
        // Not once an operand changed in between, or across a helper for globals.
        let keep = " sub_i32 cc_dst,eax,ebx\n mov_i32 eax,$0x1\n add_i32 tmp17,cc_dst,ebx";
        f(keep, keep);
        let keep = " sub_i32 cc_dst,eax,ebx\n call test_plain,$0x0,$0\n add_i32 tmp17,cc_dst,ebx";
        f(keep, keep);
    }

    #[test]
    fn decides_comparisons() {
        f(" setcond_i32 eax,ebx,ebx,geu", " mov_i32 eax,$0x1");
        f(" setcond_i32 eax,ebx,ebx,ne", " mov_i32 eax,$0x0");
        f(" setcond_i32 eax,ebx,$0x0,ltu", " mov_i32 eax,$0x0");
        f(" setcond_i32 eax,ebx,ecx,always", " mov_i32 eax,$0x1");
        f(" movcond_i32 eax,ebx,ecx,edx,edx,lt", " mov_i32 eax,edx");
        f(" movcond_i32 eax,ebx,ebx,edx,esi,eq", " mov_i32 eax,edx");
    }

    #[test]
    fn decides_branches() {
        let code =
            |c: &str| alloc::format!(" brcond_i32 {},$L0\n mov_i32 eax,$0x1\n set_label $L0\n exit_tb $0x0\n", c);
        let taken = " br $L0\n mov_i32 eax,$0x1\n set_label $L0\n exit_tb $0x0\n";
        let not_taken = " mov_i32 eax,$0x1\n set_label $L0\n exit_tb $0x0\n";
        check_pass(&code("$0x1,$0x2,ltu"), taken, fold);
        check_pass(&code("$0x1,$0x2,gt"), not_taken, fold);
        check_pass(&code("eax,eax,eq"), taken, fold);
        check_pass(&code("eax,ebx,never"), not_taken, fold);
        check_pass(&code("eax,ebx,eq"), &code("eax,ebx,eq"), fold);
    }

    #[test]
    fn an_equality_test_of_a_difference_compares_its_operands() {
        let code = |sub: &str, cond: &str| {
            alloc::format!(" {sub}\n brcond_i32 {cond},$L0\n mov_i32 eax,$0x1\n set_label $L0\n exit_tb $0x0\n")
        };
        let sub = "sub_i32 cc_dst,eax,ebx";
        check_pass(&code(sub, "cc_dst,$0x0,ne"), &code(sub, "eax,ebx,ne"), fold);
        check_pass(&code(sub, "cc_dst,$0x0,eq"), &code(sub, "eax,ebx,eq"), fold);
        // Not for an order (the sign of a difference is not the order of its operands), and not
        // once an operand changed.
        check_pass(&code(sub, "cc_dst,$0x0,lt"), &code(sub, "cc_dst,$0x0,lt"), fold);
        let changed = "sub_i32 cc_dst,eax,ebx\n add_i32 eax,eax,$0x1";
        check_pass(&code(changed, "cc_dst,$0x0,ne"), &code(changed, "cc_dst,$0x0,ne"), fold);
    }

    #[test]
    fn a_byte_compare_compares_the_bytes() {
        // `cmp %dl,%al; je` / `sete`: the low byte of the difference of two zero-extended bytes
        // is 0 exactly when they are equal.
        let bytes = " extract_i32 tmp17,eax,$0x0,$0x8\n extract_i32 tmp18,edx,$0x0,$0x8\n sub_i32 cc_dst,tmp17,tmp18\n";
        let low = " extract_i32 tmp19,cc_dst,$0x0,$0x8\n";
        f(
            &alloc::format!("{bytes}{low} setcond_i32 ecx,tmp19,$0x0,eq"),
            &alloc::format!("{bytes}{low} setcond_i32 ecx,tmp17,tmp18,eq"),
        );
        f(
            &alloc::format!("{bytes}{low} brcond_i32 tmp19,$0x0,ne,$L0\n set_label $L0"),
            &alloc::format!("{bytes}{low} brcond_i32 tmp17,tmp18,ne,$L0\n set_label $L0"),
        );
        // Not when an operand may be wider than the compared bits (0x100 - 0 has a zero low byte).
        let wide = " extract_i32 tmp17,eax,$0x0,$0x10\n extract_i32 tmp18,edx,$0x0,$0x8\n sub_i32 cc_dst,tmp17,tmp18\n";
        let keep = alloc::format!("{wide}{low} setcond_i32 ecx,tmp19,$0x0,eq");
        f(&keep, &keep);
    }

    #[test]
    fn the_low_bits_of_a_deposit_are_what_was_deposited() {
        // `sete %al; movzbl %al,%eax`: the flag is below 2^8.
        let set = " setcond_i32 tmp22,ebx,ecx,eq\n deposit_i32 eax,eax,tmp22,$0x0,$0x8\n";
        f(&alloc::format!("{set} extract_i32 eax,eax,$0x0,$0x8"), &alloc::format!("{set} mov_i32 eax,tmp22"));
        // Not when more bits are kept than were deposited, or the deposited value may be wider.
        let keep = alloc::format!("{set} extract_i32 eax,eax,$0x0,$0x10");
        f(&keep, &keep);
        let wide = " deposit_i32 eax,eax,ebx,$0x0,$0x8\n extract_i32 ecx,eax,$0x0,$0x8";
        f(wide, wide);
    }

    #[test]
    fn a_narrow_store_stores_what_its_value_was_extracted_from() {
        f(
            " extract_i32 tmp17,ecx,$0x0,$0x8\n qemu_st_i32 tmp17,eax,ub,0",
            " extract_i32 tmp17,ecx,$0x0,$0x8\n qemu_st_i32 ecx,eax,ub,0",
        );
        f(
            " extract_i32 tmp17,ecx,$0x0,$0x10\n qemu_st_i32 tmp17,eax,ub,0\n qemu_st_i32 tmp17,eax,leuw,0",
            " extract_i32 tmp17,ecx,$0x0,$0x10\n qemu_st_i32 ecx,eax,ub,0\n qemu_st_i32 ecx,eax,leuw,0",
        );
        // Not a store wider than the bits kept, nor after the source changed.
        let keep = " extract_i32 tmp17,ecx,$0x0,$0x8\n qemu_st_i32 tmp17,eax,leuw,0";
        f(keep, keep);
        let keep = " extract_i32 tmp17,ecx,$0x0,$0x8\n add_i32 ecx,ecx,$0x1\n qemu_st_i32 tmp17,eax,ub,0";
        f(keep, keep);
    }

    #[test]
    fn puts_constants_second() {
        f(" add_i32 eax,$0x1,ebx", " add_i32 eax,ebx,$0x1");
        f(" setcond_i32 eax,$0x1,ebx,lt", " setcond_i32 eax,ebx,$0x1,gt");
        f(" sub_i32 eax,$0x1,ebx", " sub_i32 eax,$0x1,ebx");
    }
}
