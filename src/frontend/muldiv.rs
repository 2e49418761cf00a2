//! Multiplication and division: mul, imul (one-, two- and three-operand forms), div, idiv (SDM
//! Vol. 2A "MUL", "IMUL", "DIV", "IDIV").
//!
//! Products are formed inline and record `Mul` lazy flags: CF = OF = "the upper half is
//! significant" (SF, ZF, AF and PF are undefined). Division is a helper, because it raises #DE
//! on a zero divisor or a quotient that does not fit, before any register is written.

use super::disas::DisasContext;
use super::helpers;
use super::operand::Loc;
use crate::cpu::CcOp;
use crate::tcg::Temp;
use iced_x86::{Mnemonic, Register};

/// Translate the instructions of this class; false (nothing emitted) for any other.
pub fn translate(s: &mut DisasContext) -> bool {
    match s.insn.mnemonic() {
        Mnemonic::Mul => gen_mul_acc(s, false),
        Mnemonic::Imul if s.insn.op_count() == 1 => gen_mul_acc(s, true),
        Mnemonic::Imul => gen_imul_reg(s),
        Mnemonic::Div | Mnemonic::Idiv => gen_div(s),
        _ => false,
    }
}

/// The accumulator register of a size (AL, AX, EAX) and its high partner (AH, DX, EDX).
fn acc_pair(size: u32) -> (Register, Register) {
    match size {
        0 => (Register::AL, Register::AH),
        1 => (Register::AX, Register::DX),
        _ => (Register::EAX, Register::EDX),
    }
}

/// `v` sign-extended from `8 << size` bits.
fn gen_sext(s: &mut DisasContext, v: Temp, size: u32) -> Temp {
    if size >= 2 {
        return v;
    }
    let t = s.tcg.new_tmp();
    s.tcg.gen_sextract(t, v, 0, 8 << size);
    t
}

/// Full product of two operands: (low, high, overflow indicator for the `Mul` cc_op). For 8/16-bit
/// operands `low` holds the whole (exact) product and `high` its upper half.
fn gen_product(s: &mut DisasContext, a: Temp, b: Temp, size: u32, signed: bool) -> (Temp, Temp, Temp) {
    let (lo, hi, ovf) = (s.tcg.new_tmp(), s.tcg.new_tmp(), s.tcg.new_tmp());
    if size == 2 {
        if signed {
            s.tcg.gen_muls2(lo, hi, a, b);
            let sign = s.tcg.new_tmp();
            s.tcg.gen_sari(sign, lo, 31);
            s.tcg.gen_sub(ovf, hi, sign);
        } else {
            s.tcg.gen_mulu2(lo, hi, a, b);
            s.tcg.gen_mov(ovf, hi);
        }
        return (lo, hi, ovf);
    }
    let bits = 8 << size;
    if signed {
        let (sa, sb) = (gen_sext(s, a, size), gen_sext(s, b, size));
        s.tcg.gen_mul(lo, sa, sb);
        let trunc = gen_sext(s, lo, size);
        s.tcg.gen_sub(ovf, lo, trunc);
    } else {
        s.tcg.gen_mul(lo, a, b);
        s.tcg.gen_shri(ovf, lo, bits);
    }
    s.tcg.gen_extract(hi, lo, bits, bits);
    (lo, hi, ovf)
}

/// mul / one-operand imul: AX = AL * r/m8, DX:AX = AX * r/m16, EDX:EAX = EAX * r/m32.
fn gen_mul_acc(s: &mut DisasContext, signed: bool) -> bool {
    let size = s.op_size_log2(0);
    let src = s.operand(0);
    let b = s.gen_load(src, size);
    let (acc, high) = acc_pair(size);
    let a = s.gen_read_reg(acc);
    let (lo, hi, ovf) = gen_product(s, a, b, size, signed);
    s.gen_set_cc(CcOp::sized(CcOp::MulB, size), lo, Some(ovf), None);
    if size == 0 {
        s.gen_write_reg(Register::AX, lo);
    } else {
        s.gen_write_reg(acc, lo);
        s.gen_write_reg(high, hi);
    }
    true
}

/// Two- and three-operand imul: r = r * r/m, r = r/m * imm (truncated to the operand size).
fn gen_imul_reg(s: &mut DisasContext) -> bool {
    let Loc::Reg(r) = s.operand(0) else { return false };
    let size = s.op_size_log2(0);
    let (x, y) = if s.insn.op_count() == 3 { (1, 2) } else { (0, 1) };
    let lx = s.operand(x);
    let a = s.gen_load(lx, size);
    let ly = s.operand(y);
    let b = s.gen_load(ly, size);
    let (lo, _, ovf) = gen_product(s, a, b, size, true);
    s.gen_set_cc(CcOp::sized(CcOp::MulB, size), lo, Some(ovf), None);
    s.gen_write_reg(r, lo);
    true
}

/// div, idiv: the helper reads and writes the accumulator pair itself.
fn gen_div(s: &mut DisasContext) -> bool {
    let size = s.op_size_log2(0);
    let src = s.operand(0);
    let b = s.gen_load(src, size);
    let signed = u32::from(s.insn.mnemonic() == Mnemonic::Idiv);
    let mode = s.tcg.const_i32(size | (signed << 2));
    s.tcg.gen_call(&helpers::alu::DIV, None, &[b, mode]);
    true
}
