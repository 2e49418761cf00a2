//! Lazy condition codes (QEMU's `cc_op`): the last flag-setting operation and its operands are
//! recorded; EFLAGS' arithmetic bits are computed only when something reads them.
//!
//! Operand conventions per `CcOp` (size suffix B/W/L = 8/16/32 bits):
//! - `Add`: dst = result, src = second operand.      `Adc`: as Add, src2 = carry in.
//! - `Sub`: dst = result, src = subtrahend.           `Sbb`: as Sub, src2 = borrow in.
//! - `Logic`: dst = result.                           `Inc`/`Dec`: dst = result, src = CF before (0/1).
//! - `Shl`: dst = result, src = operand shifted by count-1 (CF = its top bit).
//! - `Sar`: dst = result, src = operand shifted right by count-1 (CF = its bit 0); serves SHR/SAR.
//! - `Mul`: dst = low result, src = non-zero iff the result overflowed (CF = OF = 1).
//! - `Eflags`: src = the arithmetic flags themselves.   `Clr`: ZF and PF set, the rest clear.
//!
//!
//! Users: add/adc/sub/sbb/cmp/neg/xadd/cmpxchg record Add/Adc/Sub/Sbb (neg as `0 - x`); logic ops,
//! test and bsf/bsr (dst = the source: ZF = source is zero) record Logic; shl/sal/shld record Shl,
//! shr/sar/shrd record Sar; mul/imul record Mul. rol/ror/rcl/rcr, bt*, cmpxchg8b, lahf/sahf,
//! clc/stc/cmc and the BCD adjustments compute EFLAGS and record `Eflags`. A shift by CL selects
//! the new `cc_op` at run time (count 0 keeps the old one), leaving the translator's `Dynamic`.
//!
//! Flag definitions: Intel SDM Vol. 1, 3.4.3.1 and the instruction pages of Vol. 2.

use super::state::eflags::{AF, CF, OF, PF, SF, ZF};

macro_rules! cc_ops {
    ($($name:ident = $v:expr,)*) => {
        /// The recorded operation (QEMU's `CC_OP_*`).
        #[derive(Copy, Clone, Debug, PartialEq, Eq)]
        #[repr(u32)]
        pub enum CcOp { $($name = $v,)* }
        const ALL: &[CcOp] = &[$(CcOp::$name,)*];
        impl CcOp {
            pub fn from_u32(v: u32) -> Option<CcOp> {
                ALL.iter().copied().find(|c| *c as u32 == v)
            }
            pub fn name(self) -> &'static str {
                match self { $(CcOp::$name => stringify!($name),)* }
            }
        }
    };
}

cc_ops! {
    Dynamic = 0, Eflags = 1,
    MulB = 2, MulW = 3, MulL = 4,
    AddB = 5, AddW = 6, AddL = 7,
    AdcB = 8, AdcW = 9, AdcL = 10,
    SubB = 11, SubW = 12, SubL = 13,
    SbbB = 14, SbbW = 15, SbbL = 16,
    LogicB = 17, LogicW = 18, LogicL = 19,
    IncB = 20, IncW = 21, IncL = 22,
    DecB = 23, DecW = 24, DecL = 25,
    ShlB = 26, ShlW = 27, ShlL = 28,
    SarB = 29, SarW = 30, SarL = 31,
    Clr = 32,
}

impl CcOp {
    /// The B/W/L variant of a sized family given its B member and log2 of the operand size.
    pub fn sized(byte_variant: CcOp, size_log2: u32) -> CcOp {
        CcOp::from_u32(byte_variant as u32 + size_log2.min(2)).unwrap_or(CcOp::Eflags)
    }

    /// log2 of the operand size of a sized cc_op (0 for unsized ones).
    pub fn size_log2(self) -> u32 {
        let v = self as u32;
        if (CcOp::MulB as u32..=CcOp::SarL as u32).contains(&v) {
            (v - CcOp::MulB as u32) % 3
        } else {
            0
        }
    }

    /// The family's byte variant (AddL -> AddB).
    pub fn family(self) -> CcOp {
        CcOp::from_u32(self as u32 - self.size_log2()).unwrap_or(self)
    }
}

fn parity(v: u32) -> u32 {
    if (v as u8).count_ones().is_multiple_of(2) {
        PF
    } else {
        0
    }
}

fn sign_bit(bits: u32) -> u32 {
    1 << (bits - 1)
}

fn mask(bits: u32) -> u32 {
    if bits == 32 {
        u32::MAX
    } else {
        (1 << bits) - 1
    }
}

/// ZF, SF and PF of a result of `bits` bits.
fn szp(dst: u32, bits: u32) -> u32 {
    let d = dst & mask(bits);
    let z = if d == 0 { ZF } else { 0 };
    let s = if d & sign_bit(bits) != 0 { SF } else { 0 };
    z | s | parity(d)
}

fn flag(cond: bool, f: u32) -> u32 {
    if cond {
        f
    } else {
        0
    }
}

/// Flags of `src1 + src2 + cin = dst` at `bits` bits.
fn add_flags(dst: u32, src1: u32, src2: u32, cin: u32, bits: u32) -> u32 {
    let m = mask(bits);
    let (d, a, b) = (dst & m, src1 & m, src2 & m);
    let cf = if cin != 0 { d <= a } else { d < a };
    let of = ((a ^ b ^ m) & (a ^ d)) & sign_bit(bits) != 0;
    szp(d, bits) | flag(cf, CF) | flag(of, OF) | ((a ^ b ^ d) & AF)
}

/// Flags of `src1 - src2 - bin = dst` at `bits` bits.
fn sub_flags(dst: u32, src1: u32, src2: u32, bin: u32, bits: u32) -> u32 {
    let m = mask(bits);
    let (d, a, b) = (dst & m, src1 & m, src2 & m);
    let cf = if bin != 0 { a <= b } else { a < b };
    let of = ((a ^ b) & (a ^ d)) & sign_bit(bits) != 0;
    szp(d, bits) | flag(cf, CF) | flag(of, OF) | ((a ^ b ^ d) & AF)
}

/// The arithmetic EFLAGS bits (CF PF AF ZF SF OF) for a lazy state.
pub fn compute_eflags(cc_op: u32, dst: u32, src: u32, src2: u32) -> u32 {
    let Some(op) = CcOp::from_u32(cc_op) else { return 0 };
    let bits = 8 << op.size_log2();
    let sb = sign_bit(bits);
    match op.family() {
        CcOp::Dynamic | CcOp::Eflags => src & (CF | PF | AF | ZF | SF | OF),
        CcOp::Clr => ZF | PF,
        CcOp::MulB => szp(dst, bits) | flag(src != 0, CF | OF),
        CcOp::AddB => add_flags(dst, dst.wrapping_sub(src), src, 0, bits),
        CcOp::AdcB => add_flags(dst, dst.wrapping_sub(src).wrapping_sub(src2), src, src2, bits),
        CcOp::SubB => sub_flags(dst, dst.wrapping_add(src), src, 0, bits),
        CcOp::SbbB => sub_flags(dst, dst.wrapping_add(src).wrapping_add(src2), src, src2, bits),
        CcOp::LogicB => szp(dst, bits),
        CcOp::IncB => {
            let a = dst.wrapping_sub(1);
            (add_flags(dst, a, 1, 0, bits) & !CF) | (src & CF)
        }
        CcOp::DecB => {
            let a = dst.wrapping_add(1);
            (sub_flags(dst, a, 1, 0, bits) & !CF) | (src & CF)
        }
        CcOp::ShlB => {
            let of = ((dst ^ src) & sb) != 0;
            szp(dst, bits) | flag(src & sb != 0, CF) | flag(of, OF)
        }
        CcOp::SarB => {
            let of = ((dst ^ src) & sb) != 0;
            szp(dst, bits) | flag(src & 1 != 0, CF) | flag(of, OF)
        }
        _ => 0,
    }
}

/// Just CF (cheaper than `compute_eflags` for adc/sbb/rcl/rcr/setc).
pub fn compute_c(cc_op: u32, dst: u32, src: u32, src2: u32) -> u32 {
    compute_eflags(cc_op, dst, src, src2) & CF
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_carry_and_overflow() {
        // 0x7f + 1 = 0x80 at 8 bits: OF, SF, AF, no CF.
        let f = compute_eflags(CcOp::AddB as u32, 0x80, 1, 0);
        assert_eq!(f, OF | SF | AF);
        // 0xffffffff + 1 = 0: CF, ZF, PF, AF.
        let f = compute_eflags(CcOp::AddL as u32, 0, 1, 0);
        assert_eq!(f, CF | ZF | PF | AF);
    }

    #[test]
    fn sub_borrow() {
        // 0 - 1 = 0xffff at 16 bits: CF, SF, PF, AF.
        let f = compute_eflags(CcOp::SubW as u32, 0xffff, 1, 0);
        assert_eq!(f, CF | SF | PF | AF);
    }

    #[test]
    fn sized_variants() {
        assert_eq!(CcOp::sized(CcOp::SubB, 2), CcOp::SubL);
        assert_eq!(CcOp::SubL.family(), CcOp::SubB);
        assert_eq!(CcOp::ShlW.size_log2(), 1);
    }
}
