//! `gen_*`: the typed way a frontend emits IR (TCG's `tcg_gen_*`).
//!
//! Each method appends one op (or a short fixed sequence) to the context. Constant operands are
//! passed as `*i` variants that create the constant temp.

use super::ir::{Cond, HelperInfo, Label, MemOp, Op, TcgContext, Temp, ENV};
use super::opcode::Opcode;

macro_rules! binops {
    ($($name:ident, $namei:ident => $opc:ident;)*) => {
        $(
            #[doc = concat!("`", stringify!($opc), "`: d = a op b")]
            pub fn $name(&mut self, d: Temp, a: Temp, b: Temp) {
                self.emit(Op::new(Opcode::$opc, &[d.0, a.0, b.0]));
            }
            #[doc = concat!("`", stringify!($opc), "` with a constant second operand")]
            pub fn $namei(&mut self, d: Temp, a: Temp, b: u32) {
                let b = self.const_i32(b);
                self.$name(d, a, b);
            }
        )*
    };
}

macro_rules! unops {
    ($($name:ident => $opc:ident;)*) => {
        $(
            #[doc = concat!("`", stringify!($opc), "`: d = op a")]
            pub fn $name(&mut self, d: Temp, a: Temp) {
                self.emit(Op::new(Opcode::$opc, &[d.0, a.0]));
            }
        )*
    };
}

impl TcgContext {
    binops! {
        gen_add, gen_addi => Add;
        gen_sub, gen_subi => Sub;
        gen_mul, gen_muli => Mul;
        gen_and, gen_andi => And;
        gen_or, gen_ori => Or;
        gen_xor, gen_xori => Xor;
        gen_andc, gen_andci => Andc;
        gen_shl, gen_shli => Shl;
        gen_shr, gen_shri => Shr;
        gen_sar, gen_sari => Sar;
        gen_rotl, gen_rotli => Rotl;
        gen_rotr, gen_rotri => Rotr;
        gen_clz, gen_clzi => Clz;
        gen_ctz, gen_ctzi => Ctz;
    }

    unops! {
        gen_mov => Mov;
        gen_neg => Neg;
        gen_not => Not;
        gen_ext8s => Ext8s;
        gen_ext8u => Ext8u;
        gen_ext16s => Ext16s;
        gen_ext16u => Ext16u;
        gen_bswap16 => Bswap16;
        gen_bswap32 => Bswap32;
    }

    /// d = constant v.
    pub fn gen_movi(&mut self, d: Temp, v: u32) {
        let c = self.const_i32(v);
        self.gen_mov(d, c);
    }

    pub fn gen_setcond(&mut self, cond: Cond, d: Temp, a: Temp, b: Temp) {
        self.emit(Op::new(Opcode::SetCond, &[d.0, a.0, b.0, cond as u32]));
    }

    pub fn gen_setcondi(&mut self, cond: Cond, d: Temp, a: Temp, b: u32) {
        let b = self.const_i32(b);
        self.gen_setcond(cond, d, a, b);
    }

    /// d = (c1 cond c2) ? v1 : v2
    pub fn gen_movcond(&mut self, cond: Cond, d: Temp, c1: Temp, c2: Temp, v1: Temp, v2: Temp) {
        self.emit(Op::new(Opcode::MovCond, &[d.0, c1.0, c2.0, v1.0, v2.0, cond as u32]));
    }

    pub fn gen_deposit(&mut self, d: Temp, a: Temp, b: Temp, pos: u32, len: u32) {
        self.emit(Op::new(Opcode::Deposit, &[d.0, a.0, b.0, pos, len]));
    }

    pub fn gen_extract(&mut self, d: Temp, a: Temp, pos: u32, len: u32) {
        self.emit(Op::new(Opcode::Extract, &[d.0, a.0, pos, len]));
    }

    pub fn gen_sextract(&mut self, d: Temp, a: Temp, pos: u32, len: u32) {
        self.emit(Op::new(Opcode::Sextract, &[d.0, a.0, pos, len]));
    }

    /// (hi:lo) = a * b, unsigned.
    pub fn gen_mulu2(&mut self, lo: Temp, hi: Temp, a: Temp, b: Temp) {
        self.emit(Op::new(Opcode::Mulu2, &[lo.0, hi.0, a.0, b.0]));
    }

    /// (hi:lo) = a * b, signed.
    pub fn gen_muls2(&mut self, lo: Temp, hi: Temp, a: Temp, b: Temp) {
        self.emit(Op::new(Opcode::Muls2, &[lo.0, hi.0, a.0, b.0]));
    }

    /// Load a 32-bit field of `env`.
    pub fn gen_ld(&mut self, d: Temp, offset: u32) {
        self.emit(Op::new(Opcode::Ld, &[d.0, ENV.0, offset]));
    }

    /// Load a zero-extended 8- or 16-bit field of `env`.
    pub fn gen_ld_sized(&mut self, opc: Opcode, d: Temp, offset: u32) {
        self.emit(Op::new(opc, &[d.0, ENV.0, offset]));
    }

    /// Store a 32-bit field of `env`.
    pub fn gen_st(&mut self, v: Temp, offset: u32) {
        self.emit(Op::new(Opcode::St, &[v.0, ENV.0, offset]));
    }

    /// Store a constant into a 32-bit field of `env`.
    pub fn gen_sti(&mut self, v: u32, offset: u32) {
        let c = self.const_i32(v);
        self.gen_st(c, offset);
    }

    pub fn gen_st_sized(&mut self, opc: Opcode, v: Temp, offset: u32) {
        self.emit(Op::new(opc, &[v.0, ENV.0, offset]));
    }

    pub fn gen_qemu_ld(&mut self, d: Temp, addr: Temp, memop: MemOp, mmu_idx: u32) {
        self.emit(Op::new(Opcode::QemuLd, &[d.0, addr.0, memop.0, mmu_idx]));
    }

    pub fn gen_qemu_st(&mut self, v: Temp, addr: Temp, memop: MemOp, mmu_idx: u32) {
        self.emit(Op::new(Opcode::QemuSt, &[v.0, addr.0, memop.0, mmu_idx]));
    }

    pub fn gen_call(&mut self, helper: &'static HelperInfo, out: Option<Temp>, ins: &[Temp]) {
        match out {
            Some(o) => self.emit(Op::call(helper, &[o], ins)),
            None => self.emit(Op::call(helper, &[], ins)),
        }
    }

    pub fn gen_set_label(&mut self, l: Label) {
        self.emit(Op::new(Opcode::SetLabel, &[l.0]));
    }

    pub fn gen_br(&mut self, l: Label) {
        self.emit(Op::new(Opcode::Br, &[l.0]));
    }

    pub fn gen_brcond(&mut self, cond: Cond, a: Temp, b: Temp, l: Label) {
        self.emit(Op::new(Opcode::BrCond, &[a.0, b.0, cond as u32, l.0]));
    }

    pub fn gen_brcondi(&mut self, cond: Cond, a: Temp, b: u32, l: Label) {
        let b = self.const_i32(b);
        self.gen_brcond(cond, a, b, l);
    }

    pub fn gen_insn_start(&mut self, pc: u32, cc_op: u32) {
        self.emit(Op::new(Opcode::InsnStart, &[pc, cc_op]));
    }

    pub fn gen_goto_tb(&mut self, slot: u32) {
        self.emit(Op::new(Opcode::GotoTb, &[slot]));
    }

    pub fn gen_exit_tb(&mut self, val: u32) {
        self.emit(Op::new(Opcode::ExitTb, &[val]));
    }

    /// Look up the TB for the current eip and jump to it, or return to `cpu_exec`.
    pub fn gen_lookup_and_goto_ptr(&mut self) {
        let p = self.new_tmp();
        self.emit(Op::new(Opcode::LookupTbPtr, &[p.0]));
        self.emit(Op::new(Opcode::GotoPtr, &[p.0]));
    }
}
