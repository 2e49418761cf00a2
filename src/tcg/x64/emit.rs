//! The typed x86-64 emitter: the only place that uses `dynasm!`.
//!
//! Registers are host register numbers (0 = rax … 15 = r15). 32-bit operations zero the upper half
//! of their destination, which the lowering relies on (a guest value in a host register is always
//! zero-extended). Condition-parametrized instructions (jcc, setcc, cmovcc) are encoded by hand
//! from the SDM opcode tables (`0F 8x`, `0F 9x`, `0F 4x`) because `dynasm!` needs the condition at
//! compile time.

// `dynasm!` converts dynamic register operands with `.into()`, even when they already are `u8`.
#![allow(clippy::useless_conversion)]

use super::codebuf::{CodeBuf, DynLabel};
use crate::tcg::Cond;
use dynasm::dynasm;

pub type Reg = u8;
pub const RAX: Reg = 0;
pub const RCX: Reg = 1;
pub const RDX: Reg = 2;
pub const RBX: Reg = 3;
pub const RSP: Reg = 4;
pub const RBP: Reg = 5;
pub const RSI: Reg = 6;
pub const RDI: Reg = 7;
pub const R8: Reg = 8;
pub const R9: Reg = 9;
pub const R10: Reg = 10;
pub const R11: Reg = 11;
pub const R12: Reg = 12;
pub const R13: Reg = 13;
pub const R14: Reg = 14;
pub const R15: Reg = 15;

/// The pinned `env` register (QEMU's TCG_AREG0 on x86-64 hosts is rbp; r14 keeps rbp allocatable).
pub const ENV_REG: Reg = R14;

/// The instruction budget while generated code runs: loaded from `env` by the prologue, written
/// back by the epilogue, charged at every TB entry and in-TB back edge. Kept out of memory, the
/// charge of one TB does not wait on the store of the one before.
pub const BUDGET_REG: Reg = R15;

/// Two-operand integer operations with a register or immediate source.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AluOp {
    Add,
    Sub,
    And,
    Or,
    Xor,
    Cmp,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ShiftOp {
    Shl,
    Shr,
    Sar,
    Rol,
    Ror,
}

/// The x86 condition-code nibble for an IR condition (`Always`/`Never` are handled by callers).
pub fn x86_cc(c: Cond) -> u8 {
    match c {
        Cond::Eq => 0x4,
        Cond::Ne => 0x5,
        Cond::Lt => 0xc,
        Cond::Ge => 0xd,
        Cond::Le => 0xe,
        Cond::Gt => 0xf,
        Cond::Ltu => 0x2,
        Cond::Geu => 0x3,
        Cond::Leu => 0x6,
        Cond::Gtu => 0x7,
        Cond::Always | Cond::Never => 0x4,
    }
}

/// True when the host CPU has BMI2 (`rorx`), from CPUID leaf 7 (Intel SDM Vol. 2A, CPUID).
pub fn host_has_bmi2() -> bool {
    let leaf7 = core::arch::x86_64::__cpuid_count(7, 0);
    leaf7.ebx & (1 << 8) != 0
}

pub struct Emitter<'a> {
    pub buf: CodeBuf<'a>,
}

impl<'a> Emitter<'a> {
    pub fn new(buf: CodeBuf<'a>) -> Emitter<'a> {
        Emitter { buf }
    }

    pub fn mov_rr(&mut self, d: Reg, s: Reg) {
        if d != s {
            dynasm!(self.buf ; .arch x64 ; mov Rd(d), Rd(s));
        }
    }

    pub fn mov_rr64(&mut self, d: Reg, s: Reg) {
        if d != s {
            dynasm!(self.buf ; .arch x64 ; mov Rq(d), Rq(s));
        }
    }

    pub fn mov_ri(&mut self, d: Reg, v: u32) {
        if v == 0 {
            dynasm!(self.buf ; .arch x64 ; xor Rd(d), Rd(d));
        } else {
            dynasm!(self.buf ; .arch x64 ; mov Rd(d), v as i32);
        }
    }

    pub fn mov_ri64(&mut self, d: Reg, v: u64) {
        dynasm!(self.buf ; .arch x64 ; mov Rq(d), QWORD v as i64);
    }

    /// d = dword [base + disp]
    pub fn load32(&mut self, d: Reg, base: Reg, disp: i32) {
        dynasm!(self.buf ; .arch x64 ; mov Rd(d), DWORD [Rq(base) + disp]);
    }

    /// Zero- or sign-extending 8/16-bit load from [base + disp].
    pub fn load_ext(&mut self, d: Reg, base: Reg, disp: i32, bytes: u8, signed: bool) {
        match (bytes, signed) {
            (1, false) => dynasm!(self.buf ; .arch x64 ; movzx Rd(d), BYTE [Rq(base) + disp]),
            (1, true) => dynasm!(self.buf ; .arch x64 ; movsx Rd(d), BYTE [Rq(base) + disp]),
            (2, false) => dynasm!(self.buf ; .arch x64 ; movzx Rd(d), WORD [Rq(base) + disp]),
            (2, true) => dynasm!(self.buf ; .arch x64 ; movsx Rd(d), WORD [Rq(base) + disp]),
            _ => self.load32(d, base, disp),
        }
    }

    pub fn load64(&mut self, d: Reg, base: Reg, disp: i32) {
        dynasm!(self.buf ; .arch x64 ; mov Rq(d), QWORD [Rq(base) + disp]);
    }

    /// [base + disp] = low `bytes` of s
    pub fn store(&mut self, base: Reg, disp: i32, s: Reg, bytes: u8) {
        match bytes {
            1 => dynasm!(self.buf ; .arch x64 ; mov BYTE [Rq(base) + disp], Rb(s)),
            2 => dynasm!(self.buf ; .arch x64 ; mov WORD [Rq(base) + disp], Rw(s)),
            _ => dynasm!(self.buf ; .arch x64 ; mov DWORD [Rq(base) + disp], Rd(s)),
        }
    }

    pub fn store64(&mut self, base: Reg, disp: i32, s: Reg) {
        dynasm!(self.buf ; .arch x64 ; mov QWORD [Rq(base) + disp], Rq(s));
    }

    pub fn store_imm32(&mut self, base: Reg, disp: i32, v: u32) {
        dynasm!(self.buf ; .arch x64 ; mov DWORD [Rq(base) + disp], v as i32);
    }

    /// [base + disp] = low `bytes` of v
    pub fn store_imm(&mut self, base: Reg, disp: i32, v: u32, bytes: u8) {
        match bytes {
            1 => dynasm!(self.buf ; .arch x64 ; mov BYTE [Rq(base) + disp], v as i8),
            2 => dynasm!(self.buf ; .arch x64 ; mov WORD [Rq(base) + disp], v as i16),
            _ => self.store_imm32(base, disp, v),
        }
    }

    /// Guest memory access through a host pointer `[host + addr]` (addr zero-extended).
    pub fn load_indexed(&mut self, d: Reg, host: Reg, addr: Reg, bytes: u8, signed: bool) {
        match (bytes, signed) {
            (1, false) => dynasm!(self.buf ; .arch x64 ; movzx Rd(d), BYTE [Rq(host) + Rq(addr)]),
            (1, true) => dynasm!(self.buf ; .arch x64 ; movsx Rd(d), BYTE [Rq(host) + Rq(addr)]),
            (2, false) => dynasm!(self.buf ; .arch x64 ; movzx Rd(d), WORD [Rq(host) + Rq(addr)]),
            (2, true) => dynasm!(self.buf ; .arch x64 ; movsx Rd(d), WORD [Rq(host) + Rq(addr)]),
            _ => dynasm!(self.buf ; .arch x64 ; mov Rd(d), DWORD [Rq(host) + Rq(addr)]),
        }
    }

    pub fn store_indexed(&mut self, host: Reg, addr: Reg, s: Reg, bytes: u8) {
        match bytes {
            1 => dynasm!(self.buf ; .arch x64 ; mov BYTE [Rq(host) + Rq(addr)], Rb(s)),
            2 => dynasm!(self.buf ; .arch x64 ; mov WORD [Rq(host) + Rq(addr)], Rw(s)),
            _ => dynasm!(self.buf ; .arch x64 ; mov DWORD [Rq(host) + Rq(addr)], Rd(s)),
        }
    }

    /// [host + addr] = low `bytes` of v
    pub fn store_indexed_imm(&mut self, host: Reg, addr: Reg, v: u32, bytes: u8) {
        match bytes {
            1 => dynasm!(self.buf ; .arch x64 ; mov BYTE [Rq(host) + Rq(addr)], v as i8),
            2 => dynasm!(self.buf ; .arch x64 ; mov WORD [Rq(host) + Rq(addr)], v as i16),
            _ => dynasm!(self.buf ; .arch x64 ; mov DWORD [Rq(host) + Rq(addr)], v as i32),
        }
    }

    pub fn alu_rr(&mut self, op: AluOp, d: Reg, s: Reg) {
        match op {
            AluOp::Add => dynasm!(self.buf ; .arch x64 ; add Rd(d), Rd(s)),
            AluOp::Sub => dynasm!(self.buf ; .arch x64 ; sub Rd(d), Rd(s)),
            AluOp::And => dynasm!(self.buf ; .arch x64 ; and Rd(d), Rd(s)),
            AluOp::Or => dynasm!(self.buf ; .arch x64 ; or Rd(d), Rd(s)),
            AluOp::Xor => dynasm!(self.buf ; .arch x64 ; xor Rd(d), Rd(s)),
            AluOp::Cmp => dynasm!(self.buf ; .arch x64 ; cmp Rd(d), Rd(s)),
        }
    }

    pub fn alu_ri(&mut self, op: AluOp, d: Reg, v: u32) {
        let v = v as i32;
        if let Ok(b) = i8::try_from(v) {
            return self.alu_ri8(op, d, b);
        }
        match op {
            AluOp::Add => dynasm!(self.buf ; .arch x64 ; add Rd(d), v),
            AluOp::Sub => dynasm!(self.buf ; .arch x64 ; sub Rd(d), v),
            AluOp::And => dynasm!(self.buf ; .arch x64 ; and Rd(d), v),
            AluOp::Or => dynasm!(self.buf ; .arch x64 ; or Rd(d), v),
            AluOp::Xor => dynasm!(self.buf ; .arch x64 ; xor Rd(d), v),
            AluOp::Cmp => dynasm!(self.buf ; .arch x64 ; cmp Rd(d), v),
        }
    }

    /// The sign-extended imm8 forms: `83 /n ib` (REX.B for r8..r15).
    fn alu_ri8(&mut self, op: AluOp, d: Reg, v: i8) {
        let n = match op {
            AluOp::Add => 0,
            AluOp::Or => 1,
            AluOp::And => 4,
            AluOp::Sub => 5,
            AluOp::Xor => 6,
            AluOp::Cmp => 7,
        };
        if d >= 8 {
            self.buf.push(0x41);
        }
        self.buf.extend(&[0x83, 0xc0 | (n << 3) | (d & 7), v as u8]);
    }

    /// Low byte (`bytes` = 1) or word (2) of d = that of s; the rest of d is kept.
    pub fn mov_low(&mut self, d: Reg, s: Reg, bytes: u8) {
        if bytes == 1 {
            dynasm!(self.buf ; .arch x64 ; mov Rb(d), Rb(s));
        } else {
            dynasm!(self.buf ; .arch x64 ; mov Rw(d), Rw(s));
        }
    }

    /// d = s rotated right by n, flags untouched (BMI2 `rorx`: VEX.LZ.F2.0F3A.W0 F0 /r ib).
    pub fn rorx(&mut self, d: Reg, s: Reg, n: u8) {
        let rxb = (((d >> 3) ^ 1) << 7) | (1 << 6) | (((s >> 3) ^ 1) << 5) | 0x03;
        self.buf.extend(&[0xc4, rxb, 0x7b, 0xf0, 0xc0 | ((d & 7) << 3) | (s & 7), n]);
    }

    /// d = a + b (64-bit, flags untouched).
    pub fn lea_add64(&mut self, d: Reg, a: Reg, b: Reg) {
        dynasm!(self.buf ; .arch x64 ; lea Rq(d), [Rq(a) + Rq(b)]);
    }

    /// d = a + b + disp (64-bit, flags untouched).
    pub fn lea64_add_disp(&mut self, d: Reg, a: Reg, b: Reg, disp: i32) {
        dynasm!(self.buf ; .arch x64 ; lea Rq(d), [Rq(a) + Rq(b) + disp]);
    }

    /// d += s (64-bit).
    pub fn add64(&mut self, d: Reg, s: Reg) {
        dynasm!(self.buf ; .arch x64 ; add Rq(d), Rq(s));
    }

    /// d -= s (64-bit).
    pub fn sub64(&mut self, d: Reg, s: Reg) {
        dynasm!(self.buf ; .arch x64 ; sub Rq(d), Rq(s));
    }

    /// d = -d (64-bit).
    pub fn neg64(&mut self, d: Reg) {
        dynasm!(self.buf ; .arch x64 ; neg Rq(d));
    }

    /// Low `bytes` of s to [base].
    /// test r, r (64-bit)
    pub fn test_rr64(&mut self, a: Reg, b: Reg) {
        dynasm!(self.buf ; .arch x64 ; test Rq(a), Rq(b));
    }

    /// cmp dword [base + disp], v
    pub fn cmp_mem32_imm(&mut self, base: Reg, disp: i32, v: u32) {
        dynasm!(self.buf ; .arch x64 ; cmp DWORD [Rq(base) + disp], v as i32);
    }

    /// d = qword [base + index + disp]
    pub fn load64_idx(&mut self, d: Reg, base: Reg, index: Reg, disp: i32) {
        dynasm!(self.buf ; .arch x64 ; mov Rq(d), QWORD [Rq(base) + Rq(index) + disp]);
    }

    /// d = a + b without touching flags (3-operand add).
    pub fn lea_add(&mut self, d: Reg, a: Reg, b: Reg) {
        dynasm!(self.buf ; .arch x64 ; lea Rd(d), [Rq(a) + Rq(b)]);
    }

    /// d = a + b + imm (3-operand).
    pub fn lea_add_disp(&mut self, d: Reg, a: Reg, b: Reg, v: u32) {
        dynasm!(self.buf ; .arch x64 ; lea Rd(d), [Rq(a) + Rq(b) + v as i32]);
    }

    /// d = base + index * scale + disp (32-bit; scale 2, 4 or 8; no base when `None`).
    pub fn lea_scaled(&mut self, d: Reg, base: Option<Reg>, index: Reg, scale: u8, disp: u32) {
        let disp = disp as i32;
        match (base, scale) {
            (Some(b), 2) => dynasm!(self.buf ; .arch x64 ; lea Rd(d), [Rq(b) + Rq(index) * 2 + disp]),
            (Some(b), 4) => dynasm!(self.buf ; .arch x64 ; lea Rd(d), [Rq(b) + Rq(index) * 4 + disp]),
            (Some(b), _) => dynasm!(self.buf ; .arch x64 ; lea Rd(d), [Rq(b) + Rq(index) * 8 + disp]),
            (None, 2) => dynasm!(self.buf ; .arch x64 ; lea Rd(d), [Rq(index) * 2 + disp]),
            (None, 4) => dynasm!(self.buf ; .arch x64 ; lea Rd(d), [Rq(index) * 4 + disp]),
            (None, _) => dynasm!(self.buf ; .arch x64 ; lea Rd(d), [Rq(index) * 8 + disp]),
        }
    }

    /// d = a + imm (3-operand).
    pub fn lea_addi(&mut self, d: Reg, a: Reg, v: u32) {
        dynasm!(self.buf ; .arch x64 ; lea Rd(d), [Rq(a) + v as i32]);
    }

    /// d += qword [base + disp]
    pub fn add_mem64(&mut self, d: Reg, base: Reg, disp: i32) {
        dynasm!(self.buf ; .arch x64 ; add Rq(d), QWORD [Rq(base) + disp]);
    }

    /// d -= qword [base + disp] (64-bit)
    pub fn sub_mem64(&mut self, d: Reg, base: Reg, disp: i32) {
        dynasm!(self.buf ; .arch x64 ; sub Rq(d), QWORD [Rq(base) + disp]);
    }

    /// d -= qword [base + index + disp] (64-bit)
    pub fn sub_mem64_idx(&mut self, d: Reg, base: Reg, index: Reg, disp: i32) {
        dynasm!(self.buf ; .arch x64 ; sub Rq(d), QWORD [Rq(base) + Rq(index) + disp]);
    }

    /// d += qword [base + index + disp] (64-bit)
    pub fn add_mem64_idx(&mut self, d: Reg, base: Reg, index: Reg, disp: i32) {
        dynasm!(self.buf ; .arch x64 ; add Rq(d), QWORD [Rq(base) + Rq(index) + disp]);
    }

    /// cmp d, imm32 (always the 4-byte immediate, the instruction's last bytes: patchable)
    pub fn cmp_ri32_wide(&mut self, d: Reg, v: u32) {
        if d >= 8 {
            self.buf.push(0x41);
        }
        self.buf.extend(&[0x81, 0xf8 | (d & 7)]);
        self.buf.push_u32(v);
    }

    /// cmp qword [base + disp], sign-extended v
    pub fn cmp_mem64_imm(&mut self, base: Reg, disp: i32, v: i32) {
        dynasm!(self.buf ; .arch x64 ; cmp QWORD [Rq(base) + disp], v);
    }

    /// d = base + disp (64-bit)
    pub fn lea64_disp(&mut self, d: Reg, base: Reg, disp: i32) {
        dynasm!(self.buf ; .arch x64 ; lea Rq(d), [Rq(base) + disp]);
    }

    /// cmp d, sign-extended v (64-bit)
    pub fn cmp_ri64(&mut self, d: Reg, v: i32) {
        dynasm!(self.buf ; .arch x64 ; cmp Rq(d), v);
    }

    /// qword [base + disp] &= sign-extended v
    pub fn and_mem64_imm(&mut self, base: Reg, disp: i32, v: i32) {
        dynasm!(self.buf ; .arch x64 ; and QWORD [Rq(base) + disp], v);
    }

    /// qword [base + disp] += v
    pub fn add_mem64_imm(&mut self, base: Reg, disp: i32, v: i32) {
        dynasm!(self.buf ; .arch x64 ; add QWORD [Rq(base) + disp], v);
    }

    /// A 5-byte `jmp rel32` to the next instruction: a `goto_tb` site, patched later.
    pub fn jmp_next(&mut self) {
        self.buf.push(0xe9);
        self.buf.push_i32(0);
    }

    /// cmp a, dword [base + disp]
    pub fn cmp_mem32(&mut self, a: Reg, base: Reg, disp: i32) {
        dynasm!(self.buf ; .arch x64 ; cmp Rd(a), DWORD [Rq(base) + disp]);
    }

    /// cmp a, qword [base + disp]
    pub fn cmp_mem64(&mut self, a: Reg, base: Reg, disp: i32) {
        dynasm!(self.buf ; .arch x64 ; cmp Rq(a), QWORD [Rq(base) + disp]);
    }

    pub fn imul_rr(&mut self, d: Reg, s: Reg) {
        dynasm!(self.buf ; .arch x64 ; imul Rd(d), Rd(s));
    }

    /// edx:eax = eax * s (32-bit, signed or unsigned: the one-operand `imul`/`mul`).
    pub fn mul_wide32(&mut self, s: Reg, signed: bool) {
        if signed {
            dynasm!(self.buf ; .arch x64 ; imul Rd(s));
        } else {
            dynasm!(self.buf ; .arch x64 ; mul Rd(s));
        }
    }

    pub fn neg(&mut self, d: Reg) {
        dynasm!(self.buf ; .arch x64 ; neg Rd(d));
    }

    pub fn not(&mut self, d: Reg) {
        dynasm!(self.buf ; .arch x64 ; not Rd(d));
    }

    pub fn shift_cl(&mut self, op: ShiftOp, d: Reg) {
        match op {
            ShiftOp::Shl => dynasm!(self.buf ; .arch x64 ; shl Rd(d), cl),
            ShiftOp::Shr => dynasm!(self.buf ; .arch x64 ; shr Rd(d), cl),
            ShiftOp::Sar => dynasm!(self.buf ; .arch x64 ; sar Rd(d), cl),
            ShiftOp::Rol => dynasm!(self.buf ; .arch x64 ; rol Rd(d), cl),
            ShiftOp::Ror => dynasm!(self.buf ; .arch x64 ; ror Rd(d), cl),
        }
    }

    pub fn shift_imm(&mut self, op: ShiftOp, d: Reg, n: u8) {
        let n = (n & 31) as i8;
        if n == 0 {
            return;
        }
        match op {
            ShiftOp::Shl => dynasm!(self.buf ; .arch x64 ; shl Rd(d), n),
            ShiftOp::Shr => dynasm!(self.buf ; .arch x64 ; shr Rd(d), n),
            ShiftOp::Sar => dynasm!(self.buf ; .arch x64 ; sar Rd(d), n),
            ShiftOp::Rol => dynasm!(self.buf ; .arch x64 ; rol Rd(d), n),
            ShiftOp::Ror => dynasm!(self.buf ; .arch x64 ; ror Rd(d), n),
        }
    }

    /// d = zero- or sign-extended low 8/16 bits of s.
    pub fn ext(&mut self, d: Reg, s: Reg, bytes: u8, signed: bool) {
        match (bytes, signed) {
            (1, false) => dynasm!(self.buf ; .arch x64 ; movzx Rd(d), Rb(s)),
            (1, true) => dynasm!(self.buf ; .arch x64 ; movsx Rd(d), Rb(s)),
            (2, false) => dynasm!(self.buf ; .arch x64 ; movzx Rd(d), Rw(s)),
            _ => dynasm!(self.buf ; .arch x64 ; movsx Rd(d), Rw(s)),
        }
    }

    pub fn bswap(&mut self, d: Reg) {
        dynasm!(self.buf ; .arch x64 ; bswap Rd(d));
    }

    /// d = bit index of the highest (bsr) or lowest (bsf) set bit; ZF set when s = 0.
    pub fn bsr(&mut self, d: Reg, s: Reg) {
        dynasm!(self.buf ; .arch x64 ; bsr Rd(d), Rd(s));
    }

    pub fn bsf(&mut self, d: Reg, s: Reg) {
        dynasm!(self.buf ; .arch x64 ; bsf Rd(d), Rd(s));
    }

    pub fn test_rr(&mut self, a: Reg, b: Reg) {
        dynasm!(self.buf ; .arch x64 ; test Rd(a), Rd(b));
    }

    /// Test bit 32 of a 64-bit register (the helper exit flag).
    pub fn bt64_32(&mut self, r: Reg) {
        dynasm!(self.buf ; .arch x64 ; bt Rq(r), 32);
    }

    /// setcc d (low byte) then zero-extend: `0F 9x /0`, `movzx`.
    pub fn setcc(&mut self, cc: u8, d: Reg) {
        self.rex_for_byte_reg(d, false);
        self.buf.extend(&[0x0f, 0x90 | cc, 0xc0 | (d & 7)]);
        self.ext(d, d, 1, false);
    }

    /// cmovcc d, s (32-bit): `0F 4x /r`.
    pub fn cmovcc(&mut self, cc: u8, d: Reg, s: Reg) {
        let rex = 0x40 | ((d >> 3) << 2) | (s >> 3);
        if rex != 0x40 {
            self.buf.push(rex);
        }
        self.buf.extend(&[0x0f, 0x40 | cc, 0xc0 | ((d & 7) << 3) | (s & 7)]);
    }

    /// A REX prefix so byte register `r` means the low byte of r (spl/bpl/sil/dil need REX).
    fn rex_for_byte_reg(&mut self, r: Reg, _w: bool) {
        if r >= 4 {
            self.buf.push(0x40 | (r >> 3));
        }
    }

    /// jcc rel32 to a label: `0F 8x rel32`.
    pub fn jcc(&mut self, cc: u8, l: DynLabel) {
        self.buf.extend(&[0x0f, 0x80 | cc]);
        self.buf.push_i32(0);
        self.buf.dynamic_reloc(l, 0, 4, 0, 2);
    }

    pub fn jmp(&mut self, l: DynLabel) {
        dynasm!(self.buf ; .arch x64 ; jmp =>l);
    }

    pub fn bind(&mut self, l: DynLabel) {
        dynasm!(self.buf ; .arch x64 ; =>l);
    }

    /// jmp rel32 to an absolute host address (must be within ±2 GiB).
    pub fn jmp_abs(&mut self, target: usize) {
        let rel = target as isize - (self.buf.addr() as isize + 5);
        self.buf.push(0xe9);
        self.buf.push_i32(rel as i32);
    }

    pub fn jmp_reg(&mut self, r: Reg) {
        dynasm!(self.buf ; .arch x64 ; jmp Rq(r));
    }

    /// call an absolute address through rax.
    pub fn call_abs(&mut self, target: usize) {
        dynasm!(self.buf ; .arch x64 ; mov rax, QWORD target as i64 ; call rax);
    }

    pub fn push_r(&mut self, r: Reg) {
        dynasm!(self.buf ; .arch x64 ; push Rq(r));
    }

    pub fn pop_r(&mut self, r: Reg) {
        dynasm!(self.buf ; .arch x64 ; pop Rq(r));
    }

    pub fn sub_rsp(&mut self, n: i32) {
        dynasm!(self.buf ; .arch x64 ; sub rsp, n);
    }

    pub fn add_rsp(&mut self, n: i32) {
        dynasm!(self.buf ; .arch x64 ; add rsp, n);
    }

    pub fn ret(&mut self) {
        dynasm!(self.buf ; .arch x64 ; ret);
    }

    pub fn ud2(&mut self) {
        dynasm!(self.buf ; .arch x64 ; ud2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iced_x86::{Decoder, DecoderOptions, Formatter, GasFormatter};

    /// Emit with `f` and decode the bytes back with iced-x86 (gas syntax, one line each).
    fn disas(f: impl FnOnce(&mut Emitter)) -> alloc::vec::Vec<alloc::string::String> {
        let mut mem = [0u8; 256];
        let mut e = Emitter::new(CodeBuf::new(&mut mem, 0));
        f(&mut e);
        let n = e.buf.finish().expect("fits");
        let mut dec = Decoder::with_ip(64, &mem[..n], 0, DecoderOptions::NONE);
        let mut fmt = GasFormatter::new();
        let mut out = alloc::vec::Vec::new();
        while dec.can_decode() {
            let mut s = alloc::string::String::new();
            fmt.format(&dec.decode(), &mut s);
            out.push(s);
        }
        out
    }

    #[test]
    fn hand_encoded_condition_instructions_decode_as_intended() {
        for r in 0..16u8 {
            if r == RSP {
                continue;
            }
            let names = disas(|e| {
                e.setcc(x86_cc(Cond::Ltu), r);
                e.cmovcc(x86_cc(Cond::Gt), r, 15 - r);
            });
            assert!(names[0].starts_with("setb "), "{names:?}");
            assert!(names[1].starts_with("movzbl "), "{names:?}");
            assert!(names[2].starts_with("cmovg "), "{names:?}");
        }
        let l = disas(|e| {
            let l = e.buf.new_label();
            e.jcc(x86_cc(Cond::Le), l);
            e.bind(l);
        });
        assert_eq!(l, ["jle 6"]);
    }

    #[test]
    fn byte_and_word_stores_use_the_low_parts_of_any_register() {
        let names = disas(|e| {
            e.store(ENV_REG, 8, RSI, 1);
            e.store(ENV_REG, 8, R9, 2);
            e.load_indexed(RDX, RCX, R11, 1, true);
        });
        assert_eq!(names, ["mov %sil,8(%r14)", "mov %r9w,8(%r14)", "movsbl (%rcx,%r11),%edx"]);
    }

    #[test]
    fn rorx_and_tlb_operands_decode_as_intended() {
        let names = disas(|e| {
            e.rorx(RCX, R9, 7);
            e.rorx(R11, RBX, 7);
            e.sub_mem64_idx(RAX, ENV_REG, RCX, 0x400);
            e.sub_mem64_idx(RSI, ENV_REG, RCX, 0x408);
            e.add_mem64_idx(R11, ENV_REG, RCX, 0x400);
            e.load64_idx(RCX, ENV_REG, RCX, 0x410);
            e.and_mem64_imm(RSP, 0x18, -4096);
            e.cmp_mem64_imm(ENV_REG, 0x400, 0x113000);
            e.cmp_ri32_wide(RSI, 0);
            e.cmp_ri32_wide(R9, 0x100c3d);
            e.mov_ri64(RAX, 0);
            e.lea64_disp(R11, RCX, 0x898);
            e.store_imm(RCX, 0x898, 8, 4);
            e.store_imm(RCX, 0x89c, 0x1ff, 1);
            e.mov_low(RDI, R8, 1);
            e.alu_ri(AluOp::Sub, RBP, 1);
            e.alu_ri(AluOp::Cmp, R12, (-3i32) as u32);
            e.alu_ri(AluOp::And, RAX, 0xff);
            e.lea_scaled(RDI, None, RBP, 4, 0x136580);
            e.lea_scaled(R13, Some(R12), R9, 8, (-8i32) as u32);
            e.lea_scaled(RSI, Some(RBX), RSI, 2, 0);
        });
        assert_eq!(
            names,
            [
                "rorx $7,%r9d,%ecx",
                "rorx $7,%ebx,%r11d",
                "sub 0x400(%r14,%rcx),%rax",
                "sub 0x408(%r14,%rcx),%rsi",
                "add 0x400(%r14,%rcx),%r11",
                "mov 0x410(%r14,%rcx),%rcx",
                "andq $0xFFFFFFFFFFFFF000,0x18(%rsp)",
                "cmpq $0x113000,0x400(%r14)",
                "cmp $0,%esi",
                "cmp $0x100C3D,%r9d",
                "movabs $0,%rax",
                "lea 0x898(%rcx),%r11",
                "movl $8,0x898(%rcx)",
                "movb $0xFF,0x89C(%rcx)",
                "mov %r8b,%dil",
                "sub $1,%ebp",
                "cmp $0xFFFFFFFD,%r12d",
                "and $0xFF,%eax",
                "lea 0x136580(,%rbp,4),%edi",
                "lea -8(%r12,%r9,8),%r13d",
                "lea (%rbx,%rsi,2),%esi",
            ]
        );
    }
}
