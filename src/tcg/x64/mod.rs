//! The x86-64 JIT backend: IR → host machine code in an executable code buffer.
//!
//! Generated code runs on the host stack inside a fixed frame set up by a shared prologue, with
//! `env` pinned in r14. A TB returns one packed word to the prologue's caller: an `exit_tb` value,
//! or `RET_RAISED | n` when guest instruction `n` of the TB raised (the exec loop restores state
//! from that instruction's `insn_start`).
//!
//! Code-buffer layout: [prologue | epilogue | TB code …]. TBs are appended; when the buffer is full
//! the caller flushes everything and starts again after the epilogue. The region is never
//! re-protected per TB.
//!
//! W^X: the platform may hand the region out as two views of the same memory ([`CodeRegion`]).
//! Bytes are only ever written through the read-write view; every address the JIT computes,
//! records or jumps to (rel32 targets, `HostCode::addr`, `goto_tb` sites, the epilogue) is in the
//! read-execute view.

pub mod codebuf;
pub mod defer;
pub mod emit;
pub mod hoist;
pub mod loop_defer;
pub mod lower;
pub mod page_reuse;
pub mod regalloc;

use super::ir::TcgContext;
use super::Runtime;
use codebuf::CodeBuf;
use emit::{Emitter, BUDGET_REG, ENV_REG, R12, R13, R14, R15, RBP, RBX, RDI, RSI};

/// The packed word a TB returns: bits 0..16 the `exit_tb` value or, with `RET_RAISED`, the index
/// of the guest instruction that raised; bits 32..64 the id of the TB that left, plus one.
pub const RET_RAISED: u64 = 1 << 16;

/// Pack an exit word for TB `tb_id`.
pub const fn ret_word(tb_id: u32, value: u64) -> u64 {
    ((tb_id as u64 + 1) << 32) | value
}

/// The `exit_tb` value of a TB that found its instruction budget spent (or an exit request) at
/// entry and did not run.
pub const EXIT_REQUESTED: u32 = 3;

/// The exit value of a `goto_ptr` that found no code through its TB's indirect-jump link: the
/// exec loop links the link (slot [`INDIRECT_SLOT`]) to the TB it runs next.
pub const EXIT_LINK_INDIRECT: u32 = 4;

/// The jump slot of a TB's indirect-jump link, after the two `goto_tb` slots.
pub const INDIRECT_SLOT: usize = 2;

/// The patchable fields (execute-view addresses) of the link in front of a TB's inline
/// jump-cache probe: one cached target of its indirect jump (`ret`, mostly), checked by pc.
///   cmp pc, imm32 [linked_pc]; jne rel32 [jne_rel] -> `unlinked` (leave, to be linked) or `probe`
///   write the pinned globals back; jmp rel32 [jmp_site] -> the target's code, or (unlinked) the
///   next instruction, a jump to `unlinked`
/// Linking writes the target's pc, points the `jne` at the probe and the `jmp` at the target;
/// unlinking points both back at `unlinked`, so every pc leaves to be linked again.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct IndirectSite {
    pub linked_pc: usize,
    pub jne_rel: usize,
    pub jmp_site: usize,
    pub probe: usize,
    pub unlinked: usize,
}

/// Stack frame below the saved registers: spill slots, 16-byte aligned at TB entry.
const FRAME: i32 = 8 * regalloc::MAX_SLOTS as i32 + 8;

/// Where generated code finds the softmmu TLB inside `env` (guest-specific, passed in).
#[derive(Copy, Clone, Debug)]
pub struct JitLayout {
    /// Offsets in `env` of each mmu_idx's TLB table (the tables are inline in `env`).
    pub tlb_table_off: [i32; 2],
    /// The fast path counts its hits at `tlb_hits_off` (only for `--stats`: it costs a memory
    /// read-modify-write per access).
    pub count_tlb_hits: bool,
    /// The host has BMI2: the fast path indexes the table with one `rorx`.
    pub bmi2: bool,
    /// log2 of the number of entries per table.
    pub tlb_bits: u32,
    /// Offset in `env` of the 64-bit TLB hit counter.
    pub tlb_hits_off: i32,
    pub page_bits: u32,
    /// Offset in `env` of the i32 instruction budget, decremented at each TB entry; a TB that
    /// would drive it negative leaves with `EXIT_REQUESTED` instead of running.
    pub budget_off: i32,
    /// Offset in `env` of the guest eip.
    pub eip_off: i32,
    /// Offset in `env` of the jump cache's table address (`TbJmpCache::table`).
    pub jmp_cache_off: i32,
}

/// What the exec loop tells the compiler about the TB.
#[derive(Copy, Clone, Debug)]
pub struct TbInfo {
    pub id: u32,
    pub icount: u32,
    /// Chaining is on and TB entries are not logged, so generated code may go on to the next TB
    /// itself: a `goto_tb` back to the TB itself (`TcgContext::goto_tb_self`) loops inside the
    /// TB, and `lookup_tb_ptr` with a static key probes the jump cache inline.
    pub chain: bool,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CompileError {
    /// The code buffer is full: flush and retry.
    BufferFull,
    /// The TB needs more spill slots than the frame has: run it in the interpreter.
    TooComplex,
}

/// The JIT's code memory, owned by the platform: `len` bytes seen through two views. Code runs
/// at `rx` (read-execute) and is written through `rw` (read-write); the views may be one and the
/// same mapping (bare metal, or a host without split mappings).
#[derive(Copy, Clone, Debug)]
pub struct CodeRegion {
    pub rx: *const u8,
    pub rw: *mut u8,
    pub len: usize,
}

impl CodeRegion {
    /// Whether the views are distinct mappings (no page both writable and executable).
    pub fn is_split(&self) -> bool {
        self.rx != self.rw.cast_const()
    }

    /// The writable alias of the `size` bytes that run at `addr`, if they lie inside the region.
    fn rw_alias(&self, addr: usize, size: usize) -> Option<*mut u8> {
        let off = addr.checked_sub(self.rx as usize)?;
        // SAFETY: `off + size <= len` (checked first), so the result stays inside the rw view.
        (off.checked_add(size)? <= self.len).then(|| unsafe { self.rw.add(off) })
    }
}

/// Host code of one TB.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct HostCode {
    pub addr: usize,
    pub size: usize,
}

/// The patchable jumps of one `goto_tb` slot: its `jmp rel32`, and the rel32 field of the one
/// `jcc` that branches straight to that jump when the slot's exit writes nothing back (linking
/// points both at the next TB, so the branch goes there without a second jump).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct GotoTbSite {
    pub jmp: usize,
    pub jcc: Option<usize>,
}

impl GotoTbSite {
    fn offset_by(self, base: usize) -> GotoTbSite {
        GotoTbSite { jmp: base + self.jmp, jcc: self.jcc.map(|f| base + f) }
    }
}

/// A compiled TB and where each guest instruction's host code starts (offsets from `addr`).
#[derive(Clone, Debug)]
pub struct Compiled {
    pub code: HostCode,
    pub insn_offsets: alloc::vec::Vec<u32>,
    /// Host addresses of the patchable jumps of each `goto_tb` slot.
    pub jmp_sites: [Option<GotoTbSite>; 2],
    pub indirect: Option<IndirectSite>,
}

/// How JIT code was left: which TB left (chained TBs may have run before it) and how.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct JitExit {
    pub tb: u32,
    pub kind: JitExitKind,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum JitExitKind {
    Exit(u32),
    /// Guest instruction number `n` of the TB raised.
    Raised(u32),
}

/// The code buffer with its prologue and epilogue.
pub struct JitCache {
    region: CodeRegion,
    used: usize,
    code_start: usize,
    epilogue: usize,
    /// Bytes of TB code emitted since the last flush.
    pub bytes_emitted: u64,
}

type EntryFn = unsafe extern "C" fn(env: *mut u8, code: usize) -> u64;

impl JitCache {
    /// Set up the prologue and epilogue at the start of `region`; `budget_off` is the instruction
    /// budget's offset in `env` (`JitLayout::budget_off`), which they load into and store from
    /// `BUDGET_REG`.
    ///
    /// # Safety
    /// `region` must be valid for the life of the cache and used by nothing else: `rw` writable and
    /// `rx` executable, both views of the same `len` bytes.
    pub unsafe fn new(region: CodeRegion, budget_off: i32) -> Option<JitCache> {
        // SAFETY: per the contract.
        let mem = unsafe { core::slice::from_raw_parts_mut(region.rw, region.len) };
        let mut e = Emitter::new(CodeBuf::new(mem, region.rx as usize));
        // prologue: save callee-saved registers, make the frame, pin env, load the budget, enter
        // the TB.
        for r in [RBP, RBX, R12, R13, R14, R15] {
            e.push_r(r);
        }
        e.sub_rsp(FRAME);
        e.mov_rr64(ENV_REG, RDI);
        e.load32(BUDGET_REG, ENV_REG, budget_off);
        e.jmp_reg(RSI);
        e.buf.align(16, 0xcc);
        let epilogue = e.buf.addr();
        // epilogue: rax holds the packed exit word; the budget goes back to env.
        e.store(ENV_REG, budget_off, BUDGET_REG, 4);
        e.add_rsp(FRAME);
        for r in [R15, R14, R13, R12, RBX, RBP] {
            e.pop_r(r);
        }
        e.ret();
        e.buf.align(16, 0xcc);
        let used = e.buf.finish().ok()?;
        Some(JitCache { region, used, code_start: used, epilogue, bytes_emitted: 0 })
    }

    /// Compile one TB's optimized IR.
    pub fn compile(
        &mut self,
        ctx: &TcgContext,
        rt: &Runtime,
        layout: &JitLayout,
        tb: TbInfo,
    ) -> Result<Compiled, CompileError> {
        let start = self.used;
        // SAFETY: [used, len) lies inside the region, which `new`'s contract makes ours.
        let mem = unsafe { core::slice::from_raw_parts_mut(self.region.rw.add(start), self.region.len - start) };
        let base = self.region.rx as usize + start;
        let buf = CodeBuf::new(mem, base);
        let out = lower::compile(ctx, buf, rt, layout, self.epilogue, tb)?;
        self.used = (start + out.size).next_multiple_of(16).min(self.region.len);
        self.bytes_emitted += out.size as u64;
        let jmp_sites = out.jmp_offsets.map(|o| o.map(|o| o.offset_by(base)));
        let code = HostCode { addr: base, size: out.size };
        Ok(Compiled { code, insn_offsets: out.insn_offsets, jmp_sites, indirect: out.indirect })
    }

    /// Forget every TB (the prologue and epilogue stay).
    pub fn flush(&mut self) {
        self.used = self.code_start;
    }

    /// Bytes of the buffer in use.
    pub fn used(&self) -> usize {
        self.used
    }

    pub fn capacity(&self) -> usize {
        self.region.len
    }

    /// The host bytes of a TB (for disassembly).
    pub fn code_bytes(&self, code: HostCode) -> &[u8] {
        let Some(p) = self.region.rw_alias(code.addr, code.size) else { return &[] };
        // SAFETY: `rw_alias` checked that the bytes lie inside the region, valid per `new`.
        unsafe { core::slice::from_raw_parts(p, code.size) }
    }

    /// Run a TB.
    ///
    /// # Safety
    /// `env` must be the guest state the TB was compiled for (layout and runtime included), and
    /// `code` a TB of this cache that has not been flushed.
    pub unsafe fn exec(&self, code: HostCode, env: *mut u8) -> JitExit {
        // SAFETY: the region starts with the prologue, whose calling convention is `EntryFn`.
        let entry: EntryFn = unsafe { core::mem::transmute::<*const u8, EntryFn>(self.region.rx) };
        // SAFETY: per the contract.
        let raw = unsafe { entry(env, code.addr) };
        let tb = ((raw >> 32) as u32).wrapping_sub(1);
        let value = (raw & 0xffff) as u32;
        let kind = if raw & RET_RAISED != 0 { JitExitKind::Raised(value) } else { JitExitKind::Exit(value) };
        JitExit { tb, kind }
    }

    /// Point the `jmp rel32` at `site` to `target` (QEMU's `tb_set_jmp_target`): chaining when
    /// `target` is another TB's code, unchaining when it is the instruction after the jump.
    /// `site` and `target` are execute-view addresses; the displacement is written through the
    /// read-write view.
    pub fn patch_jump(&mut self, site: usize, target: usize) {
        self.patch_rel32(site + 1, target);
    }

    /// Point the jumps of a `goto_tb` slot at `target` (another TB's code), or back at the slot's
    /// own exit code (unlinking: the `jmp` at the instruction after it, the `jcc` at the `jmp`).
    pub fn link_goto_tb(&mut self, site: &GotoTbSite, target: Option<usize>) {
        self.patch_jump(site.jmp, target.unwrap_or(site.jmp + 5));
        if let Some(field) = site.jcc {
            self.patch_rel32(field, target.unwrap_or(site.jmp));
        }
    }

    /// Point the indirect-jump link `site` at the TB at guest `pc` whose code is at `host`.
    pub fn link_indirect(&mut self, site: &IndirectSite, pc: u32, host: usize) {
        self.patch(site.linked_pc, &pc.to_le_bytes());
        self.patch_jump(site.jmp_site, host);
        self.patch_rel32(site.jne_rel, site.probe);
    }

    /// Undo `link_indirect`.
    pub fn unlink_indirect(&mut self, site: &IndirectSite) {
        self.patch_jump(site.jmp_site, site.jmp_site + 5);
        self.patch_rel32(site.jne_rel, site.unlinked);
    }

    /// Point the rel32 field at `field` (the last 4 bytes of a jump) to `target`.
    fn patch_rel32(&mut self, field: usize, target: usize) {
        let rel = (target as isize - (field as isize + 4)) as i32;
        self.patch(field, &rel.to_le_bytes());
    }

    /// Write `bytes` over the code at `addr` (an execute-view address), through the read-write
    /// view.
    fn patch(&mut self, addr: usize, bytes: &[u8]) {
        let used = CodeRegion { len: self.used, ..self.region };
        let Some(p) = used.rw_alias(addr, bytes.len()) else { return };
        // SAFETY: the bytes at `p` lie inside the used part of our region (checked by `rw_alias`)
        // and hold a field of an instruction emitted by `lower` (a rel32 or immediate the caller
        // names); single-threaded, so no CPU runs it meanwhile.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) };
    }
}
