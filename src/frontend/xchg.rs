//! Exchanges: xchg (including the `90+r` forms), xadd, cmpxchg, cmpxchg8b (SDM Vol. 2A
//! "CMPXCHG", "CMPXCHG8B", Vol. 2B "XADD", "XCHG"). With one CPU, `lock` needs nothing.
//!
//! Memory is loaded and stored before any register or flag global is written, so a fault leaves
//! the instruction without effect. cmpxchg and cmpxchg8b always write their memory operand (the
//! old value when the comparison fails), as the SDM describes.

use super::alu::gen_store_set_cc;
use super::cpu_reg;
use super::disas::DisasContext;
use super::operand::Loc;
use super::CPU_CC_SRC;
use crate::cpu::state::eflags::ZF;
use crate::cpu::state::{R_EAX, R_EBX, R_ECX, R_EDX};
use crate::cpu::CcOp;
use crate::tcg::{Cond, Temp};
use iced_x86::{Mnemonic, Register};

/// Translate the instructions of this class; false (nothing emitted) for any other.
pub fn translate(s: &mut DisasContext) -> bool {
    match s.insn.mnemonic() {
        Mnemonic::Xchg => gen_xchg(s),
        Mnemonic::Xadd => gen_xadd(s),
        Mnemonic::Cmpxchg => gen_cmpxchg(s),
        Mnemonic::Cmpxchg8b => gen_cmpxchg8b(s),
        _ => false,
    }
}

/// A register's value in a temp of its own (not the global, which may be overwritten).
fn gen_read_reg_copy(s: &mut DisasContext, r: Register) -> Temp {
    let v = s.gen_read_reg(r);
    let t = s.tcg.new_tmp();
    s.tcg.gen_mov(t, v);
    t
}

/// xchg r/m, r (either operand order).
fn gen_xchg(s: &mut DisasContext) -> bool {
    let size = s.op_size_log2(0);
    let (a, b) = (s.operand(0), s.operand(1));
    match (a, b) {
        (Loc::Reg(ra), Loc::Reg(rb)) => {
            let va = gen_read_reg_copy(s, ra);
            let vb = gen_read_reg_copy(s, rb);
            s.gen_write_reg(ra, vb);
            s.gen_write_reg(rb, va);
        }
        (Loc::Mem(_), Loc::Reg(r)) | (Loc::Reg(r), Loc::Mem(_)) => {
            let m = if let Loc::Mem(_) = a { a } else { b };
            let vm = s.gen_load(m, size);
            let vr = s.gen_read_reg(r);
            s.gen_store(m, size, vr);
            s.gen_write_reg(r, vm);
        }
        _ => return false,
    }
    true
}

/// xadd r/m, r: r/m = r/m + r, r = old r/m; flags of the addition.
fn gen_xadd(s: &mut DisasContext) -> bool {
    let size = s.op_size_log2(0);
    let dst = s.operand(0);
    let Loc::Reg(src) = s.operand(1) else { return false };
    let a = s.gen_load(dst, size);
    let old = s.tcg.new_tmp();
    s.tcg.gen_mov(old, a);
    let b = s.gen_read_reg(src);
    let sum = s.tcg.new_tmp();
    s.tcg.gen_add(sum, a, b);
    if let Loc::Mem(_) = dst {
        gen_store_set_cc(s, dst, size, sum, CcOp::sized(CcOp::AddB, size), Some(b), None);
        s.gen_write_reg(src, old);
    } else {
        s.gen_set_cc(CcOp::sized(CcOp::AddB, size), sum, Some(b), None);
        s.gen_write_reg(src, old);
        s.gen_store(dst, size, sum);
    }
    true
}

/// The accumulator of an operand size.
fn acc(size: u32) -> Register {
    match size {
        0 => Register::AL,
        1 => Register::AX,
        _ => Register::EAX,
    }
}

/// cmpxchg r/m, r: compare the accumulator with r/m (flags of `acc - r/m`); equal: r/m = r,
/// else: accumulator = r/m.
fn gen_cmpxchg(s: &mut DisasContext) -> bool {
    let size = s.op_size_log2(0);
    let dst = s.operand(0);
    let Loc::Reg(src) = s.operand(1) else { return false };
    let old = s.gen_load(dst, size);
    let accv = s.gen_read_reg(acc(size));
    let newv = s.gen_read_reg(src);
    let (diff, stored, acc_new) = (s.tcg.new_tmp(), s.tcg.new_tmp(), s.tcg.new_tmp());
    s.tcg.gen_sub(diff, accv, old);
    s.tcg.gen_movcond(Cond::Eq, stored, old, accv, newv, old);
    s.tcg.gen_movcond(Cond::Eq, acc_new, old, accv, accv, old);
    if let Loc::Mem(_) = dst {
        s.gen_store(dst, size, stored);
    }
    s.gen_set_cc(CcOp::sized(CcOp::SubB, size), diff, Some(old), None);
    s.gen_write_reg(acc(size), acc_new);
    if let Loc::Reg(_) = dst {
        s.gen_store(dst, size, stored);
    }
    true
}

/// cmpxchg8b m64: compare EDX:EAX with m64; equal: ZF = 1, m64 = ECX:EBX; else ZF = 0,
/// EDX:EAX = m64. Other flags unchanged. The register form is #UD.
fn gen_cmpxchg8b(s: &mut DisasContext) -> bool {
    let Loc::Mem(addr) = s.operand(0) else { return false };
    let addr_hi = s.tcg.new_tmp();
    s.tcg.gen_addi(addr_hi, addr, 4);
    let lo = s.gen_ld_mem(addr, 2);
    let hi = s.gen_ld_mem(addr_hi, 2);
    let (x, y, z) = (s.tcg.new_tmp(), s.tcg.new_tmp(), s.tcg.new_tmp());
    s.tcg.gen_xor(x, lo, cpu_reg(R_EAX));
    s.tcg.gen_xor(y, hi, cpu_reg(R_EDX));
    s.tcg.gen_or(x, x, y);
    s.tcg.gen_setcondi(Cond::Eq, z, x, 0);
    let zero = s.tcg.const_i32(0);
    let pick = |s: &mut DisasContext, if_eq: Temp, if_ne: Temp| {
        let t = s.tcg.new_tmp();
        s.tcg.gen_movcond(Cond::Ne, t, z, zero, if_eq, if_ne);
        t
    };
    let (st_lo, st_hi) = (pick(s, cpu_reg(R_EBX), lo), pick(s, cpu_reg(R_ECX), hi));
    let (eax, edx) = (pick(s, cpu_reg(R_EAX), lo), pick(s, cpu_reg(R_EDX), hi));
    s.gen_st_mem(addr, 2, st_lo);
    s.gen_st_mem(addr_hi, 2, st_hi);
    let f = s.gen_compute_eflags_value();
    let t = s.tcg.new_tmp();
    s.tcg.gen_deposit(t, f, z, ZF.trailing_zeros(), 1);
    s.tcg.gen_mov(CPU_CC_SRC, t);
    s.set_cc_op(CcOp::Eflags);
    s.tcg.gen_mov(cpu_reg(R_EAX), eax);
    s.tcg.gen_mov(cpu_reg(R_EDX), edx);
    true
}
