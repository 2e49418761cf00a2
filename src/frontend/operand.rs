//! Operand access for the translator: registers of every size, effective addresses with segment
//! bases and 16-bit wrap-around, guest memory through `qemu_ld`/`qemu_st`, immediates.
//!
//! Invariant: reading operands never writes a guest global, so a fault in a later load or store of
//! the same instruction leaves guest registers as they were at `insn_start`.

use super::disas::DisasContext;
use super::{cpu_reg, cpu_seg_base};
use crate::cpu::state::{hflags, offsets, R_CS, R_DS, R_ES, R_FS, R_GS, R_SS};
use crate::tcg::{MemOp, Temp};
use iced_x86::{OpKind, Register};

/// Where an operand lives.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Loc {
    Reg(Register),
    /// Guest memory at this linear address.
    Mem(Temp),
    Imm(u32),
}

/// (register number, bit position, width) of a general register.
pub fn reg_slot(r: Register) -> (usize, u32, u32) {
    let n = r.full_register32() as usize - Register::EAX as usize;
    let high8 = matches!(r, Register::AH | Register::CH | Register::DH | Register::BH);
    (n & 7, if high8 { 8 } else { 0 }, (r.size() * 8) as u32)
}

/// Segment register number (x86 encoding) of an iced segment register.
pub fn seg_index(r: Register) -> usize {
    match r {
        Register::ES => R_ES,
        Register::CS => R_CS,
        Register::SS => R_SS,
        Register::FS => R_FS,
        Register::GS => R_GS,
        _ => R_DS,
    }
}

impl DisasContext<'_> {
    /// log2 of operand `i`'s size in bytes (registers and memory; immediates take operand 0's).
    pub fn op_size_log2(&self, i: u32) -> u32 {
        let bytes = match self.insn.op_kind(i) {
            OpKind::Register => self.insn.op_register(i).size(),
            OpKind::Memory => self.insn.memory_size().size(),
            _ if i > 0 => return self.op_size_log2(0),
            _ => 4,
        };
        bytes.max(1).trailing_zeros().min(2)
    }

    /// Read a general register of any size into a new temp (zero-extended).
    pub fn gen_read_reg(&mut self, r: Register) -> Temp {
        let (n, pos, len) = reg_slot(r);
        if len == 32 {
            return cpu_reg(n);
        }
        let t = self.tcg.new_tmp();
        self.tcg.gen_extract(t, cpu_reg(n), pos, len);
        t
    }

    /// Write a general register of any size (8/16-bit writes keep the other bits).
    pub fn gen_write_reg(&mut self, r: Register, v: Temp) {
        let (n, pos, len) = reg_slot(r);
        if len == 32 {
            self.tcg.gen_mov(cpu_reg(n), v);
        } else {
            self.tcg.gen_deposit(cpu_reg(n), cpu_reg(n), v, pos, len);
        }
    }

    /// True if the memory operand uses 16-bit addressing.
    fn addr16(&self) -> bool {
        let (b, i) = (self.insn.memory_base(), self.insn.memory_index());
        b.size() == 2
            || i.size() == 2
            || (b == Register::None && i == Register::None && self.insn.memory_displ_size() == 2)
    }

    /// The effective address (offset within the segment) of the memory operand (QEMU's `gen_lea_modrm_1`).
    pub fn gen_lea(&mut self) -> Temp {
        let t = self.tcg.new_tmp();
        self.tcg.gen_movi(t, self.insn.memory_displacement32());
        let base = self.insn.memory_base();
        if base != Register::None {
            let b = self.gen_read_reg(base);
            self.tcg.gen_add(t, t, b);
        }
        let index = self.insn.memory_index();
        if index != Register::None {
            let x = self.gen_read_reg(index);
            let scaled = self.tcg.new_tmp();
            self.tcg.gen_shli(scaled, x, self.insn.memory_index_scale().trailing_zeros());
            self.tcg.gen_add(t, t, scaled);
        }
        if self.addr16() {
            self.tcg.gen_ext16u(t, t);
        }
        t
    }

    /// Add the base of segment `seg` to an offset when it can be non-zero (QEMU's `gen_lea_v_seg`).
    pub fn gen_add_seg(&mut self, seg: usize, offset: Temp) -> Temp {
        let flat = self.flags & hflags::ADDSEG == 0 && matches!(seg, R_DS | R_ES | R_SS);
        if flat {
            return offset;
        }
        let base = if seg <= R_DS {
            cpu_seg_base(seg)
        } else {
            let b = self.tcg.new_tmp();
            self.tcg.gen_ld(b, offsets::seg_base(seg));
            b
        };
        let t = self.tcg.new_tmp();
        self.tcg.gen_add(t, offset, base);
        t
    }

    /// The linear address of the memory operand.
    pub fn gen_mem_addr(&mut self) -> Temp {
        let off = self.gen_lea();
        let seg = seg_index(self.insn.memory_segment());
        self.gen_add_seg(seg, off)
    }

    /// Where operand `i` lives (computing the address of a memory operand).
    pub fn operand(&mut self, i: u32) -> Loc {
        match self.insn.op_kind(i) {
            OpKind::Register => Loc::Reg(self.insn.op_register(i)),
            OpKind::Memory => Loc::Mem(self.gen_mem_addr()),
            _ => Loc::Imm(self.insn.immediate(i) as u32),
        }
    }

    /// Guest load of `1 << size_log2` bytes at a linear address, zero-extended.
    pub fn gen_ld_mem(&mut self, addr: Temp, size_log2: u32) -> Temp {
        let t = self.tcg.new_tmp();
        self.tcg.gen_qemu_ld(t, addr, MemOp::from_size_log2(size_log2), self.mmu_idx());
        t
    }

    /// Guest store of the low `1 << size_log2` bytes of `v`.
    pub fn gen_st_mem(&mut self, addr: Temp, size_log2: u32, v: Temp) {
        self.tcg.gen_qemu_st(v, addr, MemOp::from_size_log2(size_log2), self.mmu_idx());
    }

    /// The value of an operand, zero-extended to 32 bits.
    pub fn gen_load(&mut self, loc: Loc, size_log2: u32) -> Temp {
        match loc {
            Loc::Reg(r) => self.gen_read_reg(r),
            Loc::Mem(a) => self.gen_ld_mem(a, size_log2),
            Loc::Imm(v) => {
                let m = if size_log2 >= 2 { u32::MAX } else { (1 << (8 << size_log2)) - 1 };
                self.tcg.const_i32(v & m)
            }
        }
    }

    /// Write an operand (registers keep their other bits for 8/16-bit writes).
    pub fn gen_store(&mut self, loc: Loc, size_log2: u32, v: Temp) {
        match loc {
            Loc::Reg(r) => self.gen_write_reg(r, v),
            Loc::Mem(a) => self.gen_st_mem(a, size_log2, v),
            Loc::Imm(_) => {}
        }
    }
}
