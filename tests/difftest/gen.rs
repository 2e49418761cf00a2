//! The random sequence generator: seeded, reproducible sequences of integer instructions that can
//! only touch the scratch area (through EBP, which no generated instruction writes) and a private
//! stack (ESP moves only through push/pop, with the depth tracked statically).
//!
//! For every instruction it records which arithmetic flags are architecturally undefined after it
//! (Intel SDM Vol. 2, the "Flags Affected" section of each instruction), so the comparison can mask
//! exactly those. Instructions that read a flag that is undefined at that point get a `cmp` before
//! them that defines all six; counts of shifts by CL are set by a `mov cl, k` just before, so the
//! flag effects depend on statically known counts only.

use super::layout::{EBP_INIT, ESP_INIT, REGION_SIZE, STACK_LO};
use super::rng::Rng;
use iced_x86::code_asm::*;
use iced_x86::{Encoder, IcedError, Instruction};

pub const CF: u32 = 1;
pub const PF: u32 = 4;
pub const AF: u32 = 0x10;
pub const ZF: u32 = 0x40;
pub const SF: u32 = 0x80;
pub const DF: u32 = 0x400;
pub const OF: u32 = 0x800;
/// The six arithmetic flags.
pub const ARITH: u32 = CF | PF | AF | ZF | SF | OF;
/// The EFLAGS bits the oracle compares.
pub const COMPARED: u32 = ARITH | DF;

pub const R8: [AsmRegister8; 8] = [al, cl, dl, bl, ah, ch, dh, bh];
pub const R16: [AsmRegister16; 8] = [ax, cx, dx, bx, sp, bp, si, di];
pub const R32: [AsmRegister32; 8] = [eax, ecx, edx, ebx, esp, ebp, esi, edi];
/// 16/32-bit registers generated code may write (not ESP, not EBP).
const WRITABLE: [usize; 6] = [0, 1, 2, 3, 6, 7];

/// Register, flags and memory state: the initial state of a sequence.
#[derive(Clone, Debug)]
pub struct State {
    pub regs: [u32; 8],
    pub eflags: u32,
    /// The scratch area and the stack area (`REGION_SIZE` bytes from `SCRATCH`).
    pub mem: Vec<u8>,
}

/// A generated sequence: its encoding and what the comparison needs to know about it.
#[derive(Clone, Debug)]
pub struct Sequence {
    pub seed: u64,
    pub init: State,
    pub insns: Vec<Instruction>,
    /// Machine code of the whole sequence (position independent: no branches).
    pub code: Vec<u8>,
    /// Offset of each instruction in `code`.
    pub offsets: Vec<u32>,
    /// Arithmetic flags undefined after each instruction (cumulative).
    pub undef_after: Vec<u32>,
}

impl Sequence {
    /// Undefined flags after the first `n` instructions.
    pub fn undef_at(&self, n: usize) -> u32 {
        if n == 0 {
            0
        } else {
            self.undef_after[n - 1]
        }
    }

    /// The index of the instruction starting at code offset `off`.
    pub fn index_of(&self, off: u32) -> Option<usize> {
        self.offsets.iter().position(|&o| o == off)
    }

    /// The first `n` instructions as a sequence of their own.
    pub fn prefix(&self, n: usize) -> Sequence {
        let end = self.offsets.get(n).map_or(self.code.len(), |&o| o as usize);
        Sequence {
            seed: self.seed,
            init: self.init.clone(),
            insns: self.insns[..n].to_vec(),
            code: self.code[..end].to_vec(),
            offsets: self.offsets[..n].to_vec(),
            undef_after: self.undef_after[..n].to_vec(),
        }
    }
}

#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum Size {
    B,
    W,
    D,
}

impl Size {
    pub fn bits(self) -> u32 {
        match self {
            Size::B => 8,
            Size::W => 16,
            Size::D => 32,
        }
    }
    fn bytes(self) -> i32 {
        (self.bits() / 8) as i32
    }
}

/// An operand: register (by number), memory, or immediate.
#[derive(Copy, Clone)]
pub enum Op {
    R(Size, usize),
    M(Size, AsmMemoryOperand),
    I(i32),
}

/// `a.$m(dst, src)` for every register/memory/immediate combination.
macro_rules! binop {
    ($a:expr, $m:ident, $d:expr, $s:expr) => {
        match ($d, $s) {
            (Op::R(Size::B, d), Op::R(_, s)) => $a.$m(R8[d], R8[s]),
            (Op::R(Size::W, d), Op::R(_, s)) => $a.$m(R16[d], R16[s]),
            (Op::R(Size::D, d), Op::R(_, s)) => $a.$m(R32[d], R32[s]),
            (Op::R(Size::B, d), Op::M(_, m)) => $a.$m(R8[d], m),
            (Op::R(Size::W, d), Op::M(_, m)) => $a.$m(R16[d], m),
            (Op::R(Size::D, d), Op::M(_, m)) => $a.$m(R32[d], m),
            (Op::M(_, m), Op::R(Size::B, s)) => $a.$m(m, R8[s]),
            (Op::M(_, m), Op::R(Size::W, s)) => $a.$m(m, R16[s]),
            (Op::M(_, m), Op::R(Size::D, s)) => $a.$m(m, R32[s]),
            (Op::R(Size::B, d), Op::I(i)) => $a.$m(R8[d], i),
            (Op::R(Size::W, d), Op::I(i)) => $a.$m(R16[d], i),
            (Op::R(Size::D, d), Op::I(i)) => $a.$m(R32[d], i),
            (Op::M(_, m), Op::I(i)) => $a.$m(m, i),
            _ => unreachable!("operand combination not generated"),
        }
    };
}

/// `a.$m(rm, reg)` only (xchg, xadd, cmpxchg, test without immediate).
macro_rules! rm_r {
    ($a:expr, $m:ident, $d:expr, $s:expr) => {
        match ($d, $s) {
            (Op::R(Size::B, d), Op::R(_, s)) => $a.$m(R8[d], R8[s]),
            (Op::R(Size::W, d), Op::R(_, s)) => $a.$m(R16[d], R16[s]),
            (Op::R(Size::D, d), Op::R(_, s)) => $a.$m(R32[d], R32[s]),
            (Op::M(_, m), Op::R(Size::B, s)) => $a.$m(m, R8[s]),
            (Op::M(_, m), Op::R(Size::W, s)) => $a.$m(m, R16[s]),
            (Op::M(_, m), Op::R(Size::D, s)) => $a.$m(m, R32[s]),
            _ => unreachable!("operand combination not generated"),
        }
    };
}

/// `a.$m(reg16/32, rm)` (imul 2-operand, cmovcc, bsf/bsr).
macro_rules! r_rm {
    ($a:expr, $m:ident, $d:expr, $s:expr) => {
        match ($d, $s) {
            (Op::R(Size::W, d), Op::R(_, s)) => $a.$m(R16[d], R16[s]),
            (Op::R(Size::D, d), Op::R(_, s)) => $a.$m(R32[d], R32[s]),
            (Op::R(Size::W, d), Op::M(_, m)) => $a.$m(R16[d], m),
            (Op::R(Size::D, d), Op::M(_, m)) => $a.$m(R32[d], m),
            _ => unreachable!("operand combination not generated"),
        }
    };
}

/// `a.$m(rm)` for one register or memory operand.
macro_rules! unop {
    ($a:expr, $m:ident, $d:expr) => {
        match $d {
            Op::R(Size::B, d) => $a.$m(R8[d]),
            Op::R(Size::W, d) => $a.$m(R16[d]),
            Op::R(Size::D, d) => $a.$m(R32[d]),
            Op::M(_, m) => $a.$m(m),
            _ => unreachable!("operand combination not generated"),
        }
    };
}

/// `a.$m(rm, count)` with count = CL or an immediate.
macro_rules! shift {
    ($a:expr, $m:ident, $d:expr, $cl:expr, $k:expr) => {
        match ($d, $cl) {
            (Op::R(Size::B, d), true) => $a.$m(R8[d], cl),
            (Op::R(Size::W, d), true) => $a.$m(R16[d], cl),
            (Op::R(Size::D, d), true) => $a.$m(R32[d], cl),
            (Op::M(_, m), true) => $a.$m(m, cl),
            (Op::R(Size::B, d), false) => $a.$m(R8[d], $k),
            (Op::R(Size::W, d), false) => $a.$m(R16[d], $k),
            (Op::R(Size::D, d), false) => $a.$m(R32[d], $k),
            (Op::M(_, m), false) => $a.$m(m, $k),
            _ => unreachable!("operand combination not generated"),
        }
    };
}

/// `a.$m(rm, reg, count)` (shld/shrd).
macro_rules! dshift {
    ($a:expr, $m:ident, $d:expr, $s:expr, $cl:expr, $k:expr) => {
        match ($d, $cl) {
            (Op::R(Size::W, d), true) => $a.$m(R16[d], R16[$s], cl),
            (Op::R(Size::D, d), true) => $a.$m(R32[d], R32[$s], cl),
            (Op::M(Size::W, m), true) => $a.$m(m, R16[$s], cl),
            (Op::M(_, m), true) => $a.$m(m, R32[$s], cl),
            (Op::R(Size::W, d), false) => $a.$m(R16[d], R16[$s], $k),
            (Op::R(Size::D, d), false) => $a.$m(R32[d], R32[$s], $k),
            (Op::M(Size::W, m), false) => $a.$m(m, R16[$s], $k),
            (Op::M(_, m), false) => $a.$m(m, R32[$s], $k),
            _ => unreachable!("operand combination not generated"),
        }
    };
}

/// Flags read by condition code `cc` (SDM Vol. 1, Table B-1).
pub fn cc_reads(cc: u32) -> u32 {
    match cc >> 1 {
        0 => OF,
        1 => CF,
        2 => ZF,
        3 => CF | ZF,
        4 => SF,
        5 => PF,
        6 => SF | OF,
        _ => ZF | SF | OF,
    }
}

pub type GenResult = Result<(), IcedError>;

/// Generator state for one sequence.
pub struct Gen {
    pub rng: Rng,
    pub a: CodeAssembler,
    undef: u32,
    undef_after: Vec<u32>,
    /// ESP relative to its initial value.
    esp_off: i32,
    /// DF as generated code has left it.
    df: bool,
}

impl Gen {
    fn new(seed: u64) -> Result<Gen, IcedError> {
        Ok(Gen {
            rng: Rng::new(seed),
            a: CodeAssembler::new(32)?,
            undef: 0,
            undef_after: Vec::new(),
            esp_off: 0,
            df: false,
        })
    }

    /// Record the flag effect of the instructions added since the last call: `def` flags become
    /// defined, `undef` flags undefined.
    pub fn done(&mut self, def: u32, undef: u32) {
        self.undef = (self.undef & !(def | undef)) | undef;
        while self.undef_after.len() < self.a.instructions().len() {
            self.undef_after.push(self.undef);
        }
    }

    /// Make sure the flags in `mask` are defined before an instruction reads them.
    pub fn read_flags(&mut self, mask: u32) -> GenResult {
        if self.undef & mask != 0 {
            let (x, y) = (self.rng.below(8) as usize, self.rng.below(8) as usize);
            self.a.cmp(R32[x], R32[y])?;
            self.done(ARITH, 0);
        }
        Ok(())
    }

    pub fn size(&mut self) -> Size {
        *self.rng.pick(&[Size::B, Size::W, Size::D, Size::D])
    }

    pub fn size_wd(&mut self) -> Size {
        *self.rng.pick(&[Size::W, Size::D, Size::D])
    }

    /// A register number the generated code may write at this size.
    pub fn wreg(&mut self, size: Size) -> usize {
        match size {
            Size::B => self.rng.below(8) as usize,
            _ => *self.rng.pick(&WRITABLE),
        }
    }

    pub fn rreg(&mut self) -> usize {
        self.rng.below(8) as usize
    }

    /// A memory operand of `size` inside the scratch area, or inside the live part of the stack.
    pub fn mem(&mut self, size: Size) -> AsmMemoryOperand {
        let n = size.bytes();
        let m = if self.rng.chance(1, 6) {
            let lo = STACK_LO as i32 - (ESP_INIT as i32 + self.esp_off);
            let hi = (STACK_LO + 0x100) as i32 - n - (ESP_INIT as i32 + self.esp_off);
            esp + self.rng.range(lo.max(-128), hi.min(127))
        } else if self.rng.chance(1, 6) {
            // base + index*scale + disp, with the index register set just before.
            // Not ECX: shifts set CL after choosing their operand.
            let idx = *self.rng.pick(&[0usize, 2, 3, 6, 7]);
            let scale = *self.rng.pick(&[1, 2, 4, 8]);
            let k = self.rng.range(-16, 15);
            let d = self.rng.range(-128, 128 - n) - k * scale;
            self.a.mov(R32[idx], k).expect("mov r32, imm encodes");
            self.done(0, 0);
            ebp + R32[idx] * scale as u32 + d
        } else {
            ebp + self.rng.range(-128, 128 - n)
        };
        // Redundant segment overrides (flat segments on both sides).
        let m = match self.rng.below(16) {
            0 => m.ds(),
            1 => m.ss(),
            2 => m.es(),
            _ => m,
        };
        sized(size, m)
    }

    /// A destination: a writable register or memory.
    pub fn dst(&mut self, size: Size) -> Op {
        if self.rng.chance(1, 3) {
            Op::M(size, self.mem(size))
        } else {
            Op::R(size, self.wreg(size))
        }
    }

    /// A register source.
    pub fn reg(&mut self, size: Size) -> Op {
        Op::R(size, self.rreg())
    }

    /// An immediate fitting `size`, sign-extended to i32.
    pub fn imm(&mut self, size: Size) -> i32 {
        let v = self.rng.interesting();
        match size {
            Size::B => v as i8 as i32,
            Size::W => v as i16 as i32,
            Size::D => v as i32,
        }
    }

    /// A source for a two-operand instruction with destination `d`: register, memory (if `d` is
    /// a register) or immediate.
    pub fn src(&mut self, d: Op, size: Size) -> Op {
        match (self.rng.below(3), d) {
            (0, Op::R(..)) => Op::M(size, self.mem(size)),
            (1, _) => Op::I(self.imm(size)),
            _ => self.reg(size),
        }
    }

    /// Keep the statically tracked DF and ESP up to date.
    pub fn set_df(&mut self, df: bool) {
        self.df = df;
    }
    pub fn undef(&self) -> u32 {
        self.undef
    }
    pub fn df(&self) -> bool {
        self.df
    }
    pub fn esp_off(&self) -> i32 {
        self.esp_off
    }
    pub fn move_esp(&mut self, delta: i32) {
        self.esp_off += delta;
    }
}

pub fn sized(size: Size, m: AsmMemoryOperand) -> AsmMemoryOperand {
    match size {
        Size::B => byte_ptr(m),
        Size::W => word_ptr(m),
        Size::D => dword_ptr(m),
    }
}

pub fn reg8(n: usize) -> AsmRegister8 {
    R8[n]
}
pub fn reg16(n: usize) -> AsmRegister16 {
    R16[n]
}
pub fn reg32(n: usize) -> AsmRegister32 {
    R32[n]
}

/// A random initial state: interesting register values, flags and memory; ESP and EBP fixed.
fn initial_state(rng: &mut Rng) -> State {
    let mut regs = [0u32; 8];
    for r in regs.iter_mut() {
        *r = rng.interesting();
    }
    regs[4] = ESP_INIT;
    regs[5] = EBP_INIT;
    let eflags = (rng.u32() & COMPARED) | 2;
    let mem = (0..REGION_SIZE).map(|_| rng.interesting() as u8).collect();
    State { regs, eflags, mem }
}

/// A generator function of one instruction family.
pub type GenFn = fn(&mut Gen) -> GenResult;

/// Generate the sequence of `seed` with 1..=`max_len` instructions from `families`.
pub fn generate(seed: u64, max_len: u32, families: &[GenFn]) -> Result<Sequence, IcedError> {
    let mut g = Gen::new(seed)?;
    let init = initial_state(&mut g.rng);
    g.df = init.eflags & DF != 0;
    let n = 1 + g.rng.below(max_len);
    for _ in 0..n {
        let f = *g.rng.pick(families);
        f(&mut g)?;
        g.done(0, 0);
    }
    finish(g, seed, init)
}

/// Encode the generated instructions. Branches are generated with target 0 and mean "to the
/// next instruction": their targets are fixed here.
fn finish(g: Gen, seed: u64, init: State) -> Result<Sequence, IcedError> {
    let mut insns = g.a.instructions().to_vec();
    let mut enc = Encoder::new(32);
    let mut offsets = Vec::with_capacity(insns.len());
    let mut pos = 0u32;
    for insn in insns.iter_mut() {
        offsets.push(pos);
        if insn.is_jcc_short_or_near() || insn.is_jmp_short_or_near() || insn.is_loop() || insn.is_jcx_short() {
            insn.set_near_branch32(pos);
            let len = Encoder::new(32).encode(insn, pos as u64)? as u32;
            insn.set_near_branch32(pos + len);
        }
        pos += enc.encode(insn, pos as u64)? as u32;
    }
    let code = enc.take_buffer();
    Ok(Sequence { seed, init, insns, code, offsets, undef_after: g.undef_after })
}

pub(crate) use {binop, dshift, r_rm, rm_r, shift, unop};
