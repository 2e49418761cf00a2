//! `cpu_exec`: find or translate the TB at the current pc, run it, deliver what it raised; repeat
//! until the machine stops.
//!
//! Loop shape (QEMU's): pending exception → pending interrupt → `tb_lookup` (jump cache, then hash
//! table) → `tb_gen_code` on a miss → chain the previous TB to it → execute. JIT code may run many
//! chained TBs before it returns; an instruction budget in `env`, checked at every TB entry, bounds
//! that and counts the guest instructions executed. Statistics for `--stats` are kept here.

use super::log::{LogMask, LogSink, Logger};
use super::tb::{TbCache, TbId, TbKey, TranslationBlock, CF_NO_GOTO_PTR, CF_NO_GOTO_TB};
use crate::cpu::jmp_cache::JmpCacheEntry;
use crate::cpu::state::{EXCP_EXIT, EXCP_HLT, EXCP_NONE, EXCP_SMC, R_CS};
use crate::cpu::{CcOp, X86Cpu};
use crate::frontend::{self, TranslateOptions};
use crate::softmmu::tlb::{PAGE_MASK, PAGE_SIZE};
use crate::softmmu::PhysAddr;
use crate::tcg::interp::{self, InterpCode};
use crate::tcg::ir::HelperRet;
use crate::tcg::print::dump_ops;
use crate::tcg::x64::{
    CodeRegion, CompileError, Compiled, JitCache, JitExitKind, JitLayout, TbInfo, EXIT_LINK_INDIRECT, EXIT_REQUESTED,
    INDIRECT_SLOT,
};
use crate::tcg::{optimize, Opcode, Runtime, TbExit, TcgContext};
use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;

/// Why `cpu_exec` returned.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ExitReason {
    /// A device asked to stop with this status (isa-debug-exit), or HLT with interrupts off.
    Status(i32),
    /// The CPU shut down (triple fault).
    Shutdown,
    /// `--max-insns` guest instructions ran, or as many exceptions were delivered (a guest that
    /// faults again in every handler retires no instruction, yet must stop too).
    InsnLimit,
}

/// Host exit status when the guest triple-faults.
pub const EXIT_SHUTDOWN: i32 = 4;
/// Host exit status when `--max-insns` is reached.
pub const EXIT_INSN_LIMIT: i32 = 8;

impl ExitReason {
    pub fn status(self) -> i32 {
        match self {
            ExitReason::Status(s) => s,
            ExitReason::Shutdown => EXIT_SHUTDOWN,
            ExitReason::InsnLimit => EXIT_INSN_LIMIT,
        }
    }
}

/// Execution options from the command line.
#[derive(Copy, Clone, Debug)]
pub struct ExecOptions {
    /// Guest instructions per TB at most.
    pub tb_max_insns: u32,
    /// Stop after this many guest instructions (`--max-insns`).
    pub max_insns: Option<u64>,
    /// Count every TLB hit, the JIT's inline ones too (`--stats`; slows memory accesses down).
    pub count_tlb_hits: bool,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions { tb_max_insns: 512, max_insns: None, count_tlb_hits: false }
    }
}

/// Counters for `--stats`.
#[derive(Copy, Clone, Debug, Default)]
pub struct ExecStats {
    /// Guest instructions executed.
    pub insns: u64,
    pub tbs_translated: u64,
    /// TBs entered from the loop (chained entries are not counted).
    pub tbs_executed: u64,
    pub guest_insns_translated: u64,
    /// Host code bytes the JIT emitted, and the guest instructions of the TBs it compiled (the
    /// expansion ratio is their quotient; TBs left to the interpreter count in neither).
    pub host_code_bytes: u64,
    pub jit_guest_insns: u64,
    /// IR ops after optimization, `insn_start` markers excluded, of every TB translated.
    pub ir_ops: u64,
    pub exceptions: u64,
}

/// A whole machine: CPU (with memory and devices), TB cache, options, log.
pub struct Machine {
    pub cpu: Box<X86Cpu>,
    pub tbs: TbCache,
    pub opts: ExecOptions,
    pub log: Logger,
    pub stats: ExecStats,
    rt: Runtime,
    /// The JIT backend, when enabled (else TBs run in the interpreter).
    pub jit: Option<JitCache>,
    layout: JitLayout,
    /// Run the next instruction on its own (after a self-modifying store was rolled back).
    single_insn: bool,
    /// `-perfmap`: one `START SIZE NAME` line per JIT-compiled TB, for `perf report` (the
    /// format of `/tmp/perf-PID.map`).
    pub perf_map: Option<Box<dyn LogSink>>,
}

/// How one trip into generated code ended, for the loop: the TB to chain from, if any.
type ChainFrom = Option<(TbId, usize)>;

impl Machine {
    pub fn new(cpu: Box<X86Cpu>, opts: ExecOptions, log: Logger) -> Machine {
        let rt = runtime();
        let layout = cpu.jit_layout(opts.count_tlb_hits);
        let stats = ExecStats::default();
        let mut m = Machine {
            cpu,
            tbs: TbCache::new(),
            opts,
            log,
            stats,
            rt,
            jit: None,
            layout,
            single_insn: false,
            perf_map: None,
        };
        m.cpu.chaining = !m.log.enabled(LogMask::NOCHAIN);
        m.cpu.log_tb_entry = m.log.enabled(LogMask::EXEC | LogMask::CPU);
        m
    }

    /// Use the JIT backend with this executable region as its code buffer.
    ///
    /// # Safety
    /// `region` must be valid for the life of the machine (`rw` writable, `rx` executable, views of
    /// the same memory) and used by nothing else.
    pub unsafe fn enable_jit(&mut self, region: CodeRegion) -> bool {
        // SAFETY: per the contract.
        self.jit = unsafe { JitCache::new(region, self.cpu.jit_layout(false).budget_off) };
        self.jit.is_some()
    }

    /// Compile optimized IR with the JIT, flushing the code buffer once if it is full.
    fn jit_compile(&mut self, ir: &TcgContext, icount: u32) -> Option<Compiled> {
        let chain = self.cpu.chaining && !self.cpu.log_tb_entry;
        let info = TbInfo { id: self.tbs.next_id().0, icount, chain };
        let jit = self.jit.as_mut()?;
        match jit.compile(ir, &self.rt, &self.layout, info) {
            Ok(c) => Some(c),
            Err(CompileError::BufferFull) => {
                self.tb_flush();
                let info = TbInfo { id: self.tbs.next_id().0, icount, chain };
                self.jit.as_mut()?.compile(ir, &self.rt, &self.layout, info).ok()
            }
            Err(CompileError::TooComplex) => None,
        }
    }

    /// The TB key for the current CPU state.
    fn current_key(&mut self) -> crate::cpu::mem_helper::MemResult<(u32, TbKey)> {
        let env = &self.cpu.env;
        let cs_base = env.segs[R_CS].base;
        let pc = env.eip.wrapping_add(cs_base);
        let flags = env.tb_flags();
        let phys = self.cpu.code_phys(pc)?;
        Ok((pc, TbKey { phys_pc: phys.0, cs_base, flags }))
    }

    /// Find the TB for the current state: jump cache, then hash table (QEMU's `tb_lookup`).
    fn tb_lookup(&mut self, pc: u32, key: &TbKey) -> Option<TbId> {
        if let Some(e) = self.cpu.tb_jmp_cache.get(pc, key.cs_base, key.flags) {
            if self.tbs.get(TbId(e.tb)).key.phys_pc == key.phys_pc {
                self.tbs.stats.jc_hits += 1;
                return Some(TbId(e.tb));
            }
        }
        self.tbs.stats.jc_misses += 1;
        let id = self.tbs.htable_lookup(key)?;
        self.jmp_cache_set(id);
        Some(id)
    }

    fn jmp_cache_set(&mut self, id: TbId) {
        let tb = self.tbs.get(id);
        let e = JmpCacheEntry {
            pc: tb.pc,
            cs_base: tb.key.cs_base,
            flags: tb.key.flags,
            tb: id.0,
            host: tb.host.map_or(0, |h| h.addr),
            pad: 0,
        };
        self.cpu.tb_jmp_cache.set(e);
    }

    /// Translate, optimize and compile a TB (QEMU's `tb_gen_code`).
    fn tb_gen_code(&mut self, pc: u32, key: TbKey) -> TbId {
        let mask = self.log.mask;
        let want = |m: LogMask| mask.intersects(m);
        let opts = TranslateOptions { max_insns: self.opts.tb_max_insns, want_in_asm: want(LogMask::IN_ASM) };
        let eip = self.cpu.env.eip;
        let mut t = frontend::translate(&mut self.cpu, eip, key.flags, opts);
        crate::tcg::verify::debug_check(&t.ir, "translation");
        if let Some(text) = t.in_asm.take() {
            self.log.sink.log(&format!("----------------\nIN: \n{}\n", text));
        }
        if want(LogMask::OP) {
            self.log.sink.log(&format!("OP:\n{}\n", dump_ops(&t.ir)));
        }
        optimize(&mut t.ir);
        if want(LogMask::OP_OPT) {
            self.log.sink.log(&format!("OP after optimization and liveness analysis:\n{}\n", dump_ops(&t.ir)));
        }
        let compiled = self.jit_compile(&t.ir, t.icount);
        self.count_translation(&t.ir, t.icount, compiled.as_ref());
        let insns = insn_list(&t.ir);
        if let (Some(c), true) = (&compiled, want(LogMask::OUT_ASM)) {
            let bytes = self.jit.as_ref().map(|j| j.code_bytes(c.code)).unwrap_or(&[]);
            let text = super::dump::out_asm(bytes, c, &insns);
            self.log.sink.log(&text);
        }
        if let (Some(c), Some(map)) = (&compiled, self.perf_map.as_mut()) {
            map.log(&format!("{:x} {:x} guest-0x{:08x}\n", c.code.addr, c.code.size, pc));
        }
        if want(LogMask::TB) {
            self.log.sink.log(&format!("tb: translate {:08x} ({} insns, {} bytes)\n", pc, t.icount, t.size));
        }
        let tb = TranslationBlock {
            pc,
            key,
            size: t.size,
            icount: t.icount,
            code: compiled.is_none().then(|| InterpCode::new(&t.ir)),
            host: compiled.as_ref().map(|c| c.code),
            insns,
            jmp_sites: compiled.as_ref().map_or([None; 2], |c| c.jmp_sites),
            indirect: compiled.and_then(|c| c.indirect),
            jmp_dest: [None; 3],
            incoming: Vec::new(),
            phys_ranges: self.phys_ranges(pc, key.phys_pc, t.size),
            valid: true,
            exec_count: 0,
        };
        let id = self.tbs.insert(tb);
        self.jmp_cache_set(id);
        self.tb_link_pages(id);
        id
    }

    /// Add a translated TB to the statistics: its guest instructions, IR ops and host code.
    fn count_translation(&mut self, ir: &TcgContext, icount: u32, compiled: Option<&Compiled>) {
        let s = &mut self.stats;
        s.tbs_translated += 1;
        s.guest_insns_translated += u64::from(icount);
        s.ir_ops += ir.ops.iter().filter(|op| op.opc != Opcode::InsnStart).count() as u64;
        if let Some(c) = compiled {
            s.host_code_bytes += c.code.size as u64;
            s.jit_guest_insns += u64::from(icount);
        }
    }

    /// The physical bytes of a TB at virtual `pc`, split at the page boundary.
    fn phys_ranges(&mut self, pc: u32, phys_pc: u32, size: u32) -> [(u32, u32); 2] {
        let first = size.min(PAGE_SIZE - (phys_pc & !PAGE_MASK));
        let rest = size - first;
        let second = match rest {
            0 => (0, 0),
            _ => (self.cpu.code_phys(pc.wrapping_add(first)).map_or(0, |p| p.0), rest),
        };
        [(phys_pc, first), second]
    }

    /// Register a new TB's bytes and write-protect pages that now hold code (QEMU's `tb_link_page`).
    fn tb_link_pages(&mut self, id: TbId) {
        for (start, len) in self.tbs.get(id).phys_ranges {
            if len == 0 {
                continue;
            }
            for page in self.cpu.code_pages.add(id.0, start, len) {
                if let Some(host) = self.cpu.mem.ram_page_ptr(PhysAddr(page), PAGE_SIZE) {
                    self.cpu.tlb.protect_code(host as usize);
                }
            }
        }
    }

    /// Run until the machine stops.
    pub fn cpu_exec(&mut self) -> ExitReason {
        let mut last: ChainFrom = None;
        loop {
            if let Some(r) = self.handle_exception() {
                return r;
            }
            let remaining = match self.opts.max_insns {
                Some(limit) if self.stats.insns >= limit || self.stats.exceptions >= limit => {
                    return ExitReason::InsnLimit
                }
                Some(limit) => (limit - self.stats.insns).min(i32::MAX as u64) as i32,
                None => i32::MAX,
            };
            if self.single_insn {
                self.single_insn = false;
                last = None;
                self.exec_single_insn();
                continue;
            }
            let Ok((pc, key)) = self.current_key() else {
                last = None;
                continue;
            };
            let flushes = self.tbs.stats.flushes;
            let id = match self.tb_lookup(pc, &key) {
                Some(id) => id,
                // Fewer instructions left than a TB may hold: a new TB would run one instruction
                // (below) and be translated for nothing, at every pc up to the limit.
                None if remaining < self.opts.tb_max_insns as i32 => {
                    self.exec_single_insn();
                    last = None;
                    continue;
                }
                None => self.tb_gen_code(pc, key),
            };
            if let (Some((from, n)), true) = (last, self.tbs.stats.flushes == flushes) {
                self.tb_add_jump(from, n, id);
            }
            if self.tbs.get(id).icount as i32 > remaining {
                // Fewer instructions left than the TB holds: finish one at a time.
                self.exec_single_insn();
                last = None;
                continue;
            }
            last = self.tb_exec(id, remaining);
            if !self.cpu.smc_pending.is_empty() {
                self.invalidate_pending();
                last = None;
            }
        }
    }

    /// A store from generated code hit translated code: invalidate what it overlaps, then run the
    /// storing instruction again, alone and uncached, so it may even rewrite its own TB.
    fn smc_restart(&mut self) {
        if self.log.enabled(LogMask::TB) {
            let line =
                format!("tb: self-modifying store at {:08x?}, eip {:08x}\n", self.cpu.smc_store, self.cpu.env.eip);
            self.log.sink.log(&line);
        }
        if let Some((pa, len)) = self.cpu.smc_store.take() {
            self.tb_invalidate_phys_range(pa, len);
        }
        self.single_insn = true;
    }

    /// Invalidate the TBs on code bytes that helpers or interrupt delivery overwrote.
    fn invalidate_pending(&mut self) {
        for (pa, len) in core::mem::take(&mut self.cpu.smc_pending) {
            self.tb_invalidate_phys_range(pa, len);
        }
    }

    /// Translate and interpret one instruction without caching it (QEMU's `CF_COUNT 1` TB).
    fn exec_single_insn(&mut self) {
        let opts = TranslateOptions { max_insns: 1, want_in_asm: false };
        let (eip, flags) = (self.cpu.env.eip, self.cpu.env.tb_flags());
        let mut t = frontend::translate(&mut self.cpu, eip, flags, opts);
        optimize(&mut t.ir);
        let code = InterpCode::new(&t.ir);
        let env = self.cpu.env_ptr();
        // SAFETY: as for any TB run by the interpreter.
        let exit = unsafe { interp::exec(&code, env, &self.rt) };
        let rolled_back = match exit {
            TbExit::Raised { pc, cc_op } => self.restore_insn_start(pc, cc_op),
            TbExit::Exit(_) => false,
        };
        self.stats.insns += u64::from(!rolled_back);
    }

    /// Run generated code starting at TB `id` with an instruction budget; account for what ran.
    fn tb_exec(&mut self, id: TbId, budget: i32) -> ChainFrom {
        self.log_entry(id);
        self.stats.tbs_executed += 1;
        self.cpu.icount_budget = budget;
        let env = self.cpu.env_ptr();
        let tb = self.tbs.get_mut(id);
        tb.exec_count += 1;
        let (last, exit) = match (tb.host, self.jit.as_ref()) {
            (Some(code), Some(jit)) => {
                // SAFETY: `env` comes from the live CPU, which nothing else touches while generated
                // code runs; the code belongs to this cache (a flush drops the TBs too).
                let e = unsafe { jit.exec(code, env) };
                let kind = match e.kind {
                    JitExitKind::Exit(v) => TbExit::Exit(v),
                    JitExitKind::Raised(i) => {
                        let (pc, cc_op) = self.tbs.get(TbId(e.tb)).insns.get(i as usize).copied().unwrap_or((0, 0));
                        TbExit::Raised { pc, cc_op }
                    }
                };
                (TbId(e.tb), kind)
            }
            _ => (id, self.interp_exec(id, env)),
        };
        self.stats.insns += (budget - self.cpu.icount_budget) as u64;
        self.cpu.tsc += (budget - self.cpu.icount_budget) as u64;
        match exit {
            TbExit::Exit(v) if v == 1 || v == 2 => Some((last, v as usize - 1)),
            TbExit::Exit(EXIT_LINK_INDIRECT) => Some((last, INDIRECT_SLOT)),
            TbExit::Exit(_) => None,
            TbExit::Raised { pc, cc_op } => {
                self.restore_state(last, pc, cc_op);
                None
            }
        }
    }

    /// The interpreter's TB entry, with the same budget rule as JIT code.
    fn interp_exec(&mut self, id: TbId, env: *mut u8) -> TbExit {
        let tb = self.tbs.get(id);
        // Every TB without JIT code keeps its IR (see `tb_gen_code`).
        let Some(code) = tb.code.as_ref() else { return TbExit::Exit(EXIT_REQUESTED) };
        if self.cpu.icount_budget < tb.icount as i32 {
            return TbExit::Exit(EXIT_REQUESTED);
        }
        self.cpu.icount_budget -= tb.icount as i32;
        // SAFETY: as for JIT code; the runtime's entry points are the ones for this CPU type.
        unsafe { interp::exec(code, env, &self.rt) }
    }

    fn log_entry(&mut self, id: TbId) {
        if self.log.enabled(LogMask::EXEC) {
            let tb = self.tbs.get(id);
            let host = tb.host.map_or(0, |h| h.addr);
            let cflags = if self.cpu.chaining { 0 } else { CF_NO_GOTO_TB | CF_NO_GOTO_PTR };
            let line = format!(
                "Trace 0: {:#x} [{:08x}/{:08x}/{:08x}/{:08x}] \n",
                host, tb.key.cs_base, tb.pc, tb.key.flags, cflags
            );
            self.log.sink.log(&line);
        }
        if self.log.enabled(LogMask::CPU) {
            let dump = super::dump::cpu_dump_state(&self.cpu.env);
            self.log.sink.log(&dump);
        }
    }

    /// After an exit in the middle of instruction `pc` of TB `id`: give back the budget of the
    /// instructions that did not complete and, for a guest exception, put back the state of the
    /// instruction's start (QEMU's `cpu_restore_state`).
    fn restore_state(&mut self, id: TbId, pc: u32, cc_op: u32) {
        let rolled_back = self.restore_insn_start(pc, cc_op);
        let tb = self.tbs.get(id);
        // An exit request (debug-exit, hlt) leaves after its instruction completed.
        let done = tb.insns.iter().take_while(|i| i.0 != pc).count() as i32 + i32::from(!rolled_back);
        self.cpu.icount_budget += tb.icount as i32 - done;
        self.stats.insns -= (tb.icount as i32 - done) as u64;
    }

    /// Put back the state of the start of the instruction at `pc` that left generated code early;
    /// true if it is rolled back (a guest exception or a self-modifying store), false if it
    /// completed (an exit request).
    fn restore_insn_start(&mut self, pc: u32, cc_op: u32) -> bool {
        let env = &mut self.cpu.env;
        let idx = env.exception_index;
        let rolled_back = (0..256).contains(&idx) || idx == EXCP_SMC;
        if rolled_back {
            env.eip = pc;
        }
        // The instructions that request an exit (out, hlt) leave the flags as they found them, so
        // the cc_op of their start is right after them too; for exceptions it is the one to restore.
        if cc_op != CcOp::Dynamic as u32 {
            env.cc_op = cc_op;
        }
        rolled_back
    }

    /// Deliver a pending exception or act on an exit request. `Some` ends `cpu_exec`.
    fn handle_exception(&mut self) -> Option<ExitReason> {
        let idx = self.cpu.env.exception_index;
        if idx == EXCP_NONE {
            return None;
        }
        self.cpu.env.exception_index = EXCP_NONE;
        match idx {
            EXCP_EXIT => Some(ExitReason::Status(self.cpu.exit_status.unwrap_or(0))),
            EXCP_SMC => {
                self.smc_restart();
                None
            }
            // No interrupt controller yet: a halted CPU with IF set could only be woken by one.
            EXCP_HLT => Some(ExitReason::Status(crate::frontend::helpers::EXIT_HALTED)),
            v if (0..256).contains(&v) => self.deliver(v as u8),
            _ => None,
        }
    }

    fn deliver(&mut self, vector: u8) -> Option<ExitReason> {
        self.stats.exceptions += 1;
        let env = &self.cpu.env;
        let (is_int, ec, next) = (env.exception_is_int != 0, env.error_code, env.exception_next_eip);
        if self.log.enabled(LogMask::INT) {
            let line = super::dump::int_line(self.stats.exceptions, vector, is_int, &self.cpu.env);
            self.log.sink.log(&line);
        }
        match self.cpu.do_interrupt(vector, is_int, ec, next) {
            Ok(()) => None,
            Err(_) => Some(ExitReason::Shutdown),
        }
    }
}

/// The entry points generated code calls for this guest (softmmu slow paths, TB lookup).
pub fn runtime() -> Runtime {
    Runtime {
        qemu_ld: crate::cpu::mem_helper::helper_qemu_ld,
        qemu_st: crate::cpu::mem_helper::helper_qemu_st,
        lookup_tb_ptr: helper_lookup_tb_ptr,
    }
}

/// (pc, cc_op) of every `insn_start`, in order.
fn insn_list(ir: &TcgContext) -> Vec<(u32, u32)> {
    ir.ops.iter().filter(|op| op.opc == Opcode::InsnStart).map(|op| (op.konst(0), op.konst(1))).collect()
}

/// `lookup_tb_ptr` for generated code: the host code of the TB for the current eip if the jump
/// cache has it (QEMU's `helper_lookup_tb_ptr`), else 0 (return to `cpu_exec`).
///
/// Always 0 with `-d nochain`, and with `-d exec` or `-d cpu` so that `cpu_exec` logs the TB it
/// enters next: QEMU's helper logs that `Trace` line itself, tcg86's has no logger, so the line is
/// the same and only the route differs (QEMU 7.2's `-d nochain` keeps `lookup_and_goto_ptr`).
///
/// # Safety
/// `env` must come from `X86Cpu::env_ptr`.
unsafe extern "C" fn helper_lookup_tb_ptr(env: *mut u8, _: u32, _: u32, _: u32, _: u32) -> HelperRet {
    // SAFETY: per the contract.
    let cpu = unsafe { X86Cpu::from_env(env) };
    if !cpu.chaining || cpu.log_tb_entry {
        return 0;
    }
    let e = &cpu.env;
    let cs_base = e.segs[R_CS].base;
    let found = cpu.tb_jmp_cache.get(e.eip.wrapping_add(cs_base), cs_base, e.tb_flags());
    // A full 64-bit host address: generated code does not test HELPER_EXIT on this helper.
    found.map_or(0, |j| j.host as u64)
}
