//! Bit instructions: bt, bts, btr, btc, bsf, bsr, bswap (SDM Vol. 2A "BT", "BTS", "BTR", "BTC",
//! "BSF", "BSR", "BSWAP").
//!
//! bt*: CF = the selected bit, ZF unchanged, OF SF AF PF undefined (kept). With a memory operand
//! and a register bit offset, the offset is signed and may select any bit of memory: the address
//! moves by `(offset >> 5) * 4` (or `>> 4`, `* 2` for 16-bit operands), the SDM's "bit base".
//! bsf/bsr: ZF = (source == 0); the destination is left unchanged for a zero source, as Intel
//! hardware does; the other flags are undefined (recorded as a logic result on the source).

use super::disas::DisasContext;
use super::operand::Loc;
use super::CPU_CC_SRC;
use crate::cpu::CcOp;
use crate::tcg::{Cond, Temp};
use iced_x86::{Mnemonic, OpKind};

/// Translate the instructions of this class; false (nothing emitted) for any other.
pub fn translate(s: &mut DisasContext) -> bool {
    match s.insn.mnemonic() {
        Mnemonic::Bt | Mnemonic::Bts | Mnemonic::Btr | Mnemonic::Btc => gen_bt(s),
        Mnemonic::Bsf | Mnemonic::Bsr => gen_bit_scan(s),
        Mnemonic::Bswap => gen_bswap(s),
        _ => false,
    }
}

/// The operand to test and the bit number within it (already reduced modulo the operand size).
fn gen_bt_operand(s: &mut DisasContext, size: u32) -> (Loc, Temp) {
    let bits = 8u32 << size;
    let mut dst = s.operand(0);
    let off = match s.insn.op_kind(1) {
        OpKind::Register => s.gen_read_reg(s.insn.op1_register()),
        _ => s.tcg.const_i32(s.insn.immediate(1) as u32),
    };
    if let (Loc::Mem(addr), OpKind::Register) = (dst, s.insn.op_kind(1)) {
        let signed = s.tcg.new_tmp();
        s.tcg.gen_sextract(signed, off, 0, bits);
        s.tcg.gen_sari(signed, signed, 3 + size);
        s.tcg.gen_shli(signed, signed, size);
        let a = s.tcg.new_tmp();
        s.tcg.gen_add(a, addr, signed);
        dst = Loc::Mem(a);
    }
    let bit = s.tcg.new_tmp();
    s.tcg.gen_andi(bit, off, bits - 1);
    (dst, bit)
}

/// bt, bts, btr, btc.
fn gen_bt(s: &mut DisasContext) -> bool {
    let m = s.insn.mnemonic();
    let size = s.op_size_log2(0);
    let (dst, bit) = gen_bt_operand(s, size);
    let v = s.gen_load(dst, size);
    let cf = s.tcg.new_tmp();
    s.tcg.gen_shr(cf, v, bit);
    s.tcg.gen_andi(cf, cf, 1);
    let old = s.gen_compute_eflags_value();
    if m != Mnemonic::Bt {
        let one = s.tcg.const_i32(1);
        let (mask, r) = (s.tcg.new_tmp(), s.tcg.new_tmp());
        s.tcg.gen_shl(mask, one, bit);
        match m {
            Mnemonic::Bts => s.tcg.gen_or(r, v, mask),
            Mnemonic::Btr => s.tcg.gen_andc(r, v, mask),
            _ => s.tcg.gen_xor(r, v, mask),
        }
        s.gen_store(dst, size, r);
    }
    let new = s.tcg.new_tmp();
    s.tcg.gen_deposit(new, old, cf, 0, 1);
    s.tcg.gen_mov(CPU_CC_SRC, new);
    s.set_cc_op(CcOp::Eflags);
    true
}

/// bsf, bsr.
fn gen_bit_scan(s: &mut DisasContext) -> bool {
    let size = s.op_size_log2(0);
    let src_loc = s.operand(1);
    let src = s.gen_load(src_loc, size);
    let Loc::Reg(r) = s.operand(0) else { return false };
    let old = s.gen_read_reg(r);
    let found = s.tcg.new_tmp();
    if s.insn.mnemonic() == Mnemonic::Bsf {
        s.tcg.gen_ctzi(found, src, 0);
    } else {
        s.tcg.gen_clzi(found, src, 0);
        s.tcg.gen_xori(found, found, 31);
    }
    let zero = s.tcg.const_i32(0);
    let res = s.tcg.new_tmp();
    s.tcg.gen_movcond(Cond::Eq, res, src, zero, old, found);
    // ZF (and the undefined rest) come from the source, recorded before `r` changes.
    s.gen_set_cc(CcOp::sized(CcOp::LogicB, size), src, None, None);
    s.gen_write_reg(r, res);
    true
}

/// bswap r32 (a 16-bit operand is undefined in the SDM; Intel hardware clears the register).
fn gen_bswap(s: &mut DisasContext) -> bool {
    let r = s.insn.op0_register();
    let size = s.op_size_log2(0);
    let v = s.gen_read_reg(r);
    let t = s.tcg.new_tmp();
    if size == 2 {
        s.tcg.gen_bswap32(t, v);
    } else {
        s.tcg.gen_movi(t, 0);
    }
    s.gen_write_reg(r, t);
    true
}
