//! Conditional data instructions: setcc and cmovcc (SDM Vol. 2A "CMOVcc", Vol. 2B "SETcc").
//!
//! cmovcc always reads its source (a memory source faults even when the condition is false); in
//! 32-bit mode a false condition leaves the destination unchanged.

use super::control::condition_nibble;
use super::disas::DisasContext;
use super::operand::Loc;
use iced_x86::Mnemonic;

/// Translate the instructions of this class; false (nothing emitted) for any other.
pub fn translate(s: &mut DisasContext) -> bool {
    let m = s.insn.mnemonic();
    if is_setcc(m) {
        gen_setcc(s)
    } else if is_cmovcc(m) {
        gen_cmovcc(s)
    } else {
        false
    }
}

fn is_setcc(m: Mnemonic) -> bool {
    use Mnemonic::*;
    matches!(
        m,
        Seto | Setno
            | Setb
            | Setae
            | Sete
            | Setne
            | Setbe
            | Seta
            | Sets
            | Setns
            | Setp
            | Setnp
            | Setl
            | Setge
            | Setle
            | Setg
    )
}

fn is_cmovcc(m: Mnemonic) -> bool {
    use Mnemonic::*;
    matches!(
        m,
        Cmovo
            | Cmovno
            | Cmovb
            | Cmovae
            | Cmove
            | Cmovne
            | Cmovbe
            | Cmova
            | Cmovs
            | Cmovns
            | Cmovp
            | Cmovnp
            | Cmovl
            | Cmovge
            | Cmovle
            | Cmovg
    )
}

/// setcc r/m8.
fn gen_setcc(s: &mut DisasContext) -> bool {
    let dst = s.operand(0);
    let p = s.gen_prepare_cc(condition_nibble(s));
    let t = s.tcg.new_tmp();
    s.tcg.gen_setcond(p.cond, t, p.a, p.b);
    s.gen_store(dst, 0, t);
    true
}

/// cmovcc r, r/m.
fn gen_cmovcc(s: &mut DisasContext) -> bool {
    let Loc::Reg(r) = s.operand(0) else { return false };
    let size = s.op_size_log2(0);
    let src = s.operand(1);
    let v = s.gen_load(src, size);
    let old = s.gen_read_reg(r);
    let p = s.gen_prepare_cc(condition_nibble(s));
    let t = s.tcg.new_tmp();
    s.tcg.gen_movcond(p.cond, t, p.a, p.b, v, old);
    s.gen_write_reg(r, t);
    true
}
