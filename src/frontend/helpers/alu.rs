//! Integer helpers for what is awkward in IR: division with its #DE checks, rotates through
//! carry, and the BCD adjustments (SDM Vol. 2, each mnemonic's "Operation" section).
//!
//! Helpers that produce flags as well as a value return the value and leave the new arithmetic
//! flags in `env.scratch[0]` ([`SCRATCH_FLAGS`]); the translator loads them into `cc_src`.

use super::cpu;
use crate::cpu::cc::{compute_eflags, CcOp};
use crate::cpu::state::eflags::{AF, CF, OF, PF, SF, ZF};
use crate::cpu::state::{CpuState, R_EAX, R_EDX};
use crate::tcg::ir::{HelperFlags, HelperInfo, HelperRet};

/// Offset in `env` of the word that returns flags from a helper.
pub const SCRATCH_FLAGS: u32 = core::mem::offset_of!(CpuState, scratch) as u32;

/// #DE (SDM Vol. 3A, 6.15, interrupt 0).
const EXCP_DE: u8 = 0;

helper!(DIV, "div", helper_div, 2, false, CAN_EXIT | READS_GLOBALS | WRITES_GLOBALS);
/// div/idiv of the accumulator pair by `divisor`; `mode` = log2(size) | signed << 2.
unsafe extern "C" fn helper_div(env: *mut u8, divisor: u32, mode: u32, _: u32, _: u32) -> HelperRet {
    // SAFETY: called from generated code.
    let cpu = unsafe { cpu(env) };
    let size = mode & 3;
    let regs = &cpu.env.regs;
    let dividend = match size {
        0 => regs[R_EAX] as u64 & 0xffff,
        1 => (regs[R_EDX] as u64 & 0xffff) << 16 | (regs[R_EAX] as u64 & 0xffff),
        _ => (regs[R_EDX] as u64) << 32 | regs[R_EAX] as u64,
    };
    let Some((q, r)) = divide(dividend, divisor, size, mode & 4 != 0) else {
        return cpu.raise_exception(EXCP_DE, 0);
    };
    let regs = &mut cpu.env.regs;
    match size {
        0 => regs[R_EAX] = (regs[R_EAX] & !0xffff) | (r & 0xff) << 8 | (q & 0xff),
        1 => {
            regs[R_EAX] = (regs[R_EAX] & !0xffff) | (q & 0xffff);
            regs[R_EDX] = (regs[R_EDX] & !0xffff) | (r & 0xffff);
        }
        _ => {
            regs[R_EAX] = q;
            regs[R_EDX] = r;
        }
    }
    0
}

/// (quotient, remainder) of a `2 * bits`-bit dividend by a `bits`-bit divisor, or `None` for #DE
/// (zero divisor, or a quotient outside the destination's range).
pub fn divide(dividend: u64, divisor: u32, size: u32, signed: bool) -> Option<(u32, u32)> {
    let bits = 8u32 << size;
    let dmask = if bits == 32 { u32::MAX } else { (1 << bits) - 1 };
    let divisor = divisor & dmask;
    if divisor == 0 {
        return None;
    }
    if !signed {
        let q = dividend / divisor as u64;
        let r = dividend % divisor as u64;
        return (q <= dmask as u64).then_some((q as u32, r as u32));
    }
    let n = sign_extend(dividend, 2 * bits) as i128;
    let d = sign_extend(divisor as u64, bits) as i128;
    let (q, r) = (n / d, n % d);
    let limit = 1i128 << (bits - 1);
    (-limit <= q && q < limit).then_some((q as u32, r as u32))
}

fn sign_extend(v: u64, bits: u32) -> i64 {
    let sh = 64 - bits;
    ((v << sh) as i64) >> sh
}

helper!(RCL_RCR, "rcl_rcr", helper_rcl_rcr, 4, true,);
/// rcl/rcr of `val` by `count` (already masked to 5 bits) through CF of `eflags`;
/// `mode` = log2(size) | rcr << 2. New flags go to `scratch[0]`.
unsafe extern "C" fn helper_rcl_rcr(env: *mut u8, val: u32, count: u32, eflags: u32, mode: u32) -> HelperRet {
    // SAFETY: called from generated code.
    let cpu = unsafe { cpu(env) };
    let (res, flags) = rotate_carry(val, count, eflags, mode & 3, mode & 4 != 0);
    cpu.env.scratch[0] = flags;
    res as u64
}

/// SDM "RCL/RCR": rotate the (bits + 1)-bit value CF:val by `count % (bits + 1)`. A rotation by 0
/// changes nothing; otherwise CF is the bit that went round and OF = MSB(old) ^ MSB(new) (the
/// SDM's definition for a count of 1; QEMU's for every count).
pub fn rotate_carry(val: u32, count: u32, eflags: u32, size: u32, right: bool) -> (u32, u32) {
    let bits = 8u32 << size;
    let n = (count & 31) % (bits + 1);
    if n == 0 {
        return (val, eflags);
    }
    let mask = (1u64 << bits) - 1;
    let wide = (val as u64 & mask) | ((eflags & CF) as u64) << bits;
    let width = bits + 1;
    let all = (1u64 << width) - 1;
    let rot = if right { (wide >> n) | (wide << (width - n)) } else { (wide << n) | (wide >> (width - n)) } & all;
    let res = (rot & mask) as u32;
    let cf = (rot >> bits) as u32 & 1;
    let of = ((val ^ res) >> (bits - 1)) & 1;
    (res, (eflags & !(CF | OF)) | cf | (of * OF))
}

/// The BCD operation of a `BCD` call.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum BcdOp {
    Daa = 0,
    Das = 1,
    Aaa = 2,
    Aas = 3,
    Aam = 4,
    Aad = 5,
}

helper!(BCD, "bcd", helper_bcd, 4, true, CAN_EXIT);
/// (op, AX, eflags, imm8) -> new AX; new flags in `scratch[0]`.
unsafe extern "C" fn helper_bcd(env: *mut u8, op: u32, ax: u32, eflags: u32, imm: u32) -> HelperRet {
    // SAFETY: called from generated code.
    let cpu = unsafe { cpu(env) };
    let Some((ax, flags)) = bcd(op, ax, eflags, imm) else {
        return cpu.raise_exception(EXCP_DE, 0);
    };
    cpu.env.scratch[0] = flags;
    ax as u64
}

/// The BCD adjustments on AX; `None` for `aam 0` (#DE).
pub fn bcd(op: u32, ax: u32, eflags: u32, imm: u32) -> Option<(u32, u32)> {
    let (al, ah) = (ax & 0xff, (ax >> 8) & 0xff);
    let (cf, af) = (eflags & CF != 0, eflags & AF != 0);
    Some(match op {
        0 => decimal_adjust(al, ah, cf, af, false),
        1 => decimal_adjust(al, ah, cf, af, true),
        2 | 3 => ascii_adjust(ax, eflags, op == 3),
        4 => {
            let imm = imm & 0xff;
            if imm == 0 {
                return None;
            }
            let (q, r) = (al / imm, al % imm);
            (q << 8 | r, szp8(r))
        }
        _ => {
            let r = (al + ah * (imm & 0xff)) & 0xff;
            (r, szp8(r))
        }
    })
}

/// SF ZF PF of an 8-bit value (the other flags clear).
fn szp8(v: u32) -> u32 {
    compute_eflags(CcOp::LogicB as u32, v, 0, 0)
}

/// daa / das (SDM pseudo-code; OF is undefined and left clear).
fn decimal_adjust(al: u32, ah: u32, cf: bool, af: bool, sub: bool) -> (u32, u32) {
    let (old_al, old_cf) = (al, cf);
    let (mut al, mut cf, mut af_out) = (al, false, false);
    if al & 0x0f > 9 || af {
        cf = old_cf || if sub { al < 6 } else { al + 6 > 0xff };
        al = if sub { al.wrapping_sub(6) } else { al + 6 } & 0xff;
        af_out = true;
    }
    if old_al > 0x99 || old_cf {
        al = if sub { al.wrapping_sub(0x60) } else { al + 0x60 } & 0xff;
        cf = true;
    } else if !sub {
        cf = false;
    }
    let flags = szp8(al) | if cf { CF } else { 0 } | if af_out { AF } else { 0 };
    (ah << 8 | al, flags)
}

/// aaa / aas: AF = CF = the adjustment happened; OF SF ZF PF are undefined (kept).
fn ascii_adjust(ax: u32, eflags: u32, sub: bool) -> (u32, u32) {
    let keep = eflags & (OF | SF | ZF | PF);
    if ax & 0x0f > 9 || eflags & AF != 0 {
        let ax = if sub {
            let t = ax.wrapping_sub(6);
            (t & 0xff00).wrapping_sub(0x100) | (t & 0x0f)
        } else {
            let t = ax + 0x106;
            (t & 0xff00) | (t & 0x0f)
        };
        (ax & 0xffff, keep | AF | CF)
    } else {
        (ax & 0xff0f, keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divide_limits() {
        assert_eq!(divide(0x1234, 0x10, 0, false), None);
        assert_eq!(divide(0x0ff0, 0x10, 0, false), Some((0xff, 0)));
        assert_eq!(divide(100, 0, 2, false), None);
        assert_eq!(divide(0x8000_0000_0000_0000, u32::MAX, 2, true), None);
        assert_eq!(divide((-7i64) as u64, 2, 2, true), Some(((-3i32) as u32, (-1i32) as u32)));
        assert_eq!(divide(0xff80, 1, 0, true), Some((0xffff_ff80, 0)));
    }

    #[test]
    fn daa_examples() {
        // SDM example: 79h + 35h = AEh; DAA gives 14h with CF = 1 and AF = 1.
        let (ax, f) = bcd(0, 0xae, 0, 0).unwrap_or_default();
        assert_eq!((ax, f & (CF | AF)), (0x14, CF | AF));
        // 35h - 47h = EEh with CF and AF; DAS gives 88h, CF = 1.
        let (ax, f) = bcd(1, 0xee, CF | AF, 0).unwrap_or_default();
        assert_eq!((ax, f & CF), (0x88, CF));
    }
}
