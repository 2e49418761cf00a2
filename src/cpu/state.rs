//! `CpuState`: the guest `env` that generated code reads and writes (QEMU's `CPUX86State`).
//!
//! Invariants: the layout is `#[repr(C)]` and every offset that generated code relies on is asserted
//! below at compile time. The arithmetic flags (CF PF AF ZF SF OF) are *not* kept in `eflags`: they
//! are computed lazily from `cc_op`/`cc_dst`/`cc_src`/`cc_src2` (see `cc.rs`). DF lives in `df` as
//! +1/-1 so string ops can add it directly. `hflags` caches what translation depends on (CPL, code
//! and stack size, PE, paging) and is recomputed whenever one of its sources changes.

use super::cc::{compute_eflags, CcOp};
use core::mem::offset_of;

/// Segment register numbers, in the x86 encoding order.
pub const R_ES: usize = 0;
pub const R_CS: usize = 1;
pub const R_SS: usize = 2;
pub const R_DS: usize = 3;
pub const R_FS: usize = 4;
pub const R_GS: usize = 5;

/// General register numbers, in the x86 encoding order.
pub const R_EAX: usize = 0;
pub const R_ECX: usize = 1;
pub const R_EDX: usize = 2;
pub const R_EBX: usize = 3;
pub const R_ESP: usize = 4;
pub const R_EBP: usize = 5;
pub const R_ESI: usize = 6;
pub const R_EDI: usize = 7;

/// EFLAGS bits (Intel SDM Vol. 1, 3.4.3).
pub mod eflags {
    pub const CF: u32 = 1 << 0;
    pub const FIXED1: u32 = 1 << 1;
    pub const PF: u32 = 1 << 2;
    pub const AF: u32 = 1 << 4;
    pub const ZF: u32 = 1 << 6;
    pub const SF: u32 = 1 << 7;
    pub const TF: u32 = 1 << 8;
    pub const IF: u32 = 1 << 9;
    pub const DF: u32 = 1 << 10;
    pub const OF: u32 = 1 << 11;
    pub const IOPL: u32 = 3 << 12;
    pub const NT: u32 = 1 << 14;
    pub const RF: u32 = 1 << 16;
    pub const VM: u32 = 1 << 17;
    pub const AC: u32 = 1 << 18;
    pub const ID: u32 = 1 << 21;
    /// The lazily computed arithmetic flags.
    pub const ARITH: u32 = CF | PF | AF | ZF | SF | OF;
}

/// `hflags` bits: the translation-relevant summary of the CPU mode (QEMU's `HF_*`).
pub mod hflags {
    pub const CPL_MASK: u32 = 3;
    /// The next instruction must not be interrupted (after `mov ss`, `sti`).
    pub const INHIBIT_IRQ: u32 = 1 << 3;
    /// 32-bit code segment.
    pub const CS32: u32 = 1 << 4;
    /// 32-bit stack segment.
    pub const SS32: u32 = 1 << 5;
    /// Some of DS/ES/SS has a non-zero base: segment bases must be added to offsets.
    pub const ADDSEG: u32 = 1 << 6;
    /// Protected mode.
    pub const PE: u32 = 1 << 7;
    /// Paging enabled.
    pub const PG: u32 = 1 << 8;
    /// Bits that select a different translation (part of the TB key).
    pub const TB_MASK: u32 = CPL_MASK | CS32 | SS32 | ADDSEG | PE | PG;
    /// Where the TB key's flags carry the `cc_op` the TB is entered with (see `CpuState::tb_flags`).
    pub const TB_CC_OP_SHIFT: u32 = 24;
}

/// Control register bits used so far.
pub mod cr0 {
    pub const PE: u32 = 1 << 0;
    pub const ET: u32 = 1 << 4;
    pub const WP: u32 = 1 << 16;
    pub const PG: u32 = 1 << 31;
}

/// A segment register with its hidden descriptor cache (SDM Vol. 3A, 3.4.3).
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct SegmentCache {
    pub selector: u32,
    pub base: u32,
    pub limit: u32,
    /// The descriptor's high dword attribute bits (type, S, DPL, P, AVL, D/B, G), as in QEMU.
    pub flags: u32,
}

/// Descriptor attribute bits inside `SegmentCache::flags`.
pub mod desc {
    pub const TYPE_SHIFT: u32 = 8;
    pub const TYPE_MASK: u32 = 15 << 8;
    pub const S: u32 = 1 << 12;
    pub const DPL_SHIFT: u32 = 13;
    pub const P: u32 = 1 << 15;
    pub const B: u32 = 1 << 22;
    pub const G: u32 = 1 << 23;
    /// Type bits: code segment (for S = 1).
    pub const CS_MASK: u32 = 1 << 11;
    /// Code: conforming; data: expand-down.
    pub const C_MASK: u32 = 1 << 10;
    /// Code: readable; data: writable.
    pub const RW_MASK: u32 = 1 << 9;
    pub const A_MASK: u32 = 1 << 8;
}

/// GDTR/IDTR.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct DescriptorTable {
    pub base: u32,
    pub limit: u32,
}

/// No exception pending.
pub const EXCP_NONE: i32 = -1;
/// Exit reasons above the 256 architectural vectors: taken without restoring guest state.
pub const EXCP_INTERRUPT: i32 = 0x10000;
pub const EXCP_HLT: i32 = 0x10001;
/// The machine asked to stop (isa-debug-exit, shutdown); see `X86Cpu::exit_request`.
pub const EXCP_EXIT: i32 = 0x10002;
/// A store from generated code would overwrite translated code: the instruction is rolled back
/// to its start (like an exception), the TBs are invalidated and it runs again on its own.
pub const EXCP_SMC: i32 = 0x10003;

/// The guest CPU state: `env`.
#[repr(C)]
#[derive(Clone, Debug)]
pub struct CpuState {
    pub regs: [u32; 8],
    pub eip: u32,
    /// EFLAGS without the arithmetic flags and DF.
    pub eflags: u32,
    pub cc_dst: u32,
    pub cc_src: u32,
    pub cc_src2: u32,
    pub cc_op: u32,
    /// +1 or -1 (DF clear/set).
    pub df: i32,
    pub hflags: u32,
    pub segs: [SegmentCache; 6],
    pub ldt: SegmentCache,
    pub tr: SegmentCache,
    pub gdt: DescriptorTable,
    pub idt: DescriptorTable,
    pub cr: [u32; 5],
    /// Pending exception or exit reason (`EXCP_*` or a vector), or `EXCP_NONE`.
    pub exception_index: i32,
    pub error_code: u32,
    /// Non-zero when the pending vector comes from `int n`/`int3`/`into` (software interrupt).
    pub exception_is_int: u32,
    /// For software interrupts: the eip of the next instruction.
    pub exception_next_eip: u32,
    /// Scratch words for the frontend (e.g. operands passed between ops through `env`).
    pub scratch: [u32; 4],
}

macro_rules! assert_offsets {
    ($($field:ident $(. $idx:tt)? == $off:expr;)*) => {
        $( const _: () = assert!(offset_of!(CpuState, $field) as u32 $(+ 4 * $idx)? == $off); )*
    };
}

/// Byte offsets generated code uses (checked against the layout below).
pub mod offsets {
    pub const REGS: u32 = 0;
    pub const EIP: u32 = 32;
    pub const EFLAGS: u32 = 36;
    pub const CC_DST: u32 = 40;
    pub const CC_SRC: u32 = 44;
    pub const CC_SRC2: u32 = 48;
    pub const CC_OP: u32 = 52;
    pub const DF: u32 = 56;
    pub const HFLAGS: u32 = 60;
    pub const SEGS: u32 = 64;
    /// `scratch[0]` (four words follow).
    pub const SCRATCH: u32 = 244;
    pub const SEG_SIZE: u32 = 16;
    /// Offset of segment `n`'s base.
    pub const fn seg_base(n: usize) -> u32 {
        SEGS + n as u32 * SEG_SIZE + 4
    }
    pub const fn seg_selector(n: usize) -> u32 {
        SEGS + n as u32 * SEG_SIZE
    }
    pub const fn reg(n: usize) -> u32 {
        REGS + 4 * n as u32
    }
}

assert_offsets! {
    regs == offsets::REGS;
    eip == offsets::EIP;
    eflags == offsets::EFLAGS;
    cc_dst == offsets::CC_DST;
    cc_src == offsets::CC_SRC;
    cc_src2 == offsets::CC_SRC2;
    cc_op == offsets::CC_OP;
    df == offsets::DF;
    hflags == offsets::HFLAGS;
    segs == offsets::SEGS;
    scratch == offsets::SCRATCH;
}
const _: () = assert!(core::mem::size_of::<SegmentCache>() as u32 == offsets::SEG_SIZE);
const _: () = assert!(offset_of!(SegmentCache, base) == 4);

impl Default for CpuState {
    fn default() -> Self {
        Self::new()
    }
}

impl CpuState {
    /// The state after RESET in real mode would differ; tcg86 starts guests the way QEMU's
    /// multiboot loader leaves them (see `reset_multiboot`).
    pub const fn new() -> CpuState {
        const SEG: SegmentCache = SegmentCache { selector: 0, base: 0, limit: 0xffff, flags: 0 };
        CpuState {
            regs: [0; 8],
            eip: 0,
            eflags: eflags::FIXED1,
            cc_dst: 0,
            cc_src: 0,
            cc_src2: 0,
            cc_op: CcOp::Eflags as u32,
            df: 1,
            hflags: 0,
            segs: [SEG; 6],
            ldt: SEG,
            tr: SEG,
            gdt: DescriptorTable { base: 0, limit: 0xffff },
            idt: DescriptorTable { base: 0, limit: 0x3ff },
            cr: [0x60000010, 0, 0, 0, 0],
            exception_index: EXCP_NONE,
            error_code: 0,
            exception_is_int: 0,
            exception_next_eip: 0,
            scratch: [0; 4],
        }
    }

    /// 32-bit protected mode, flat 4 GiB segments, paging off, interrupts off: what the multiboot
    /// specification (section 3.2) requires and what QEMU's loader sets up.
    pub fn reset_multiboot(&mut self, entry: u32, mbi_addr: u32) {
        *self = CpuState::new();
        let code = SegmentCache { selector: 0x10, base: 0, limit: 0xffff_ffff, flags: 0x00cf_9b00 };
        let data = SegmentCache { selector: 0x18, base: 0, limit: 0xffff_ffff, flags: 0x00cf_9300 };
        self.segs = [data; 6];
        self.segs[R_CS] = code;
        self.cr[0] = cr0::PE | cr0::ET;
        self.regs[R_EAX] = 0x2bad_b002;
        self.regs[R_EBX] = mbi_addr;
        self.eip = entry;
        self.update_hflags();
    }

    /// Recompute `hflags` from CR0, the segment caches and CPL.
    pub fn update_hflags(&mut self) {
        let mut h = self.hflags & (hflags::CPL_MASK | hflags::INHIBIT_IRQ);
        if self.cr[0] & cr0::PE != 0 {
            h |= hflags::PE;
        }
        if self.cr[0] & cr0::PG != 0 {
            h |= hflags::PG;
        }
        if self.segs[R_CS].flags & desc::B != 0 {
            h |= hflags::CS32;
        }
        if self.segs[R_SS].flags & desc::B != 0 {
            h |= hflags::SS32;
        }
        let nonzero_base = [R_DS, R_ES, R_SS].iter().any(|&s| self.segs[s].base != 0);
        if nonzero_base || h & hflags::PE == 0 {
            h |= hflags::ADDSEG;
        }
        self.hflags = h;
    }

    pub fn cpl(&self) -> u32 {
        self.hflags & hflags::CPL_MASK
    }

    /// The architectural EFLAGS value (arithmetic flags computed from the lazy state).
    /// The `flags` part of the TB key (QEMU's `cpu_get_tb_cpu_state`): the mode bits of `hflags`
    /// and, unlike QEMU, the lazy-flags `cc_op` at entry. A TB specialised on its entry `cc_op` knows
    /// it statically from its first instruction, so `inc`, `jcc` or `adc` at the top of a block
    /// compute the flags they need inline instead of calling `cc_compute_all` on a dynamic `cc_op`.
    /// The price is one translation per distinct entry `cc_op`, in practice one or two.
    pub fn tb_flags(&self) -> u32 {
        (self.hflags & hflags::TB_MASK) | (self.cc_op & 0xff) << hflags::TB_CC_OP_SHIFT
    }

    pub fn get_eflags(&self) -> u32 {
        let arith = compute_eflags(self.cc_op, self.cc_dst, self.cc_src, self.cc_src2);
        let df = if self.df < 0 { eflags::DF } else { 0 };
        (self.eflags & !(eflags::ARITH | eflags::DF)) | arith | df | eflags::FIXED1
    }

    /// Load EFLAGS; only bits in `mask` change (besides the lazily held arithmetic flags and DF).
    pub fn set_eflags(&mut self, value: u32, mask: u32) {
        let old = self.get_eflags();
        let new = (old & !mask) | (value & mask);
        self.cc_src = new & eflags::ARITH;
        self.cc_op = CcOp::Eflags as u32;
        self.df = if new & eflags::DF != 0 { -1 } else { 1 };
        self.eflags = (new & !(eflags::ARITH | eflags::DF)) | eflags::FIXED1;
    }
}
