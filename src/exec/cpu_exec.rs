//! `cpu_exec`: find or translate the TB at the current pc, run it, deliver what it raised; repeat
//! until the machine stops.
//!
//! Loop shape (QEMU's): pending exception → pending interrupt → `tb_lookup` (jump cache, then hash
//! table) → `tb_gen_code` on a miss → execute. Statistics for `--stats` are kept here.

use super::log::{LogMask, Logger};
use super::tb::{TbCache, TbId, TbKey, TranslationBlock};
use crate::cpu::state::{hflags, EXCP_EXIT, EXCP_HLT, EXCP_NONE, R_CS};
use crate::cpu::{CcOp, X86Cpu};
use crate::frontend::{self, TranslateOptions};
use crate::tcg::interp::{self, InterpCode};
use crate::tcg::print::dump_ops;
use crate::tcg::{optimize, Runtime, TbExit};
use alloc::boxed::Box;
use alloc::format;

/// Why `cpu_exec` returned.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ExitReason {
    /// A device asked to stop with this status (isa-debug-exit), or HLT with interrupts off.
    Status(i32),
    /// The CPU shut down (triple fault).
    Shutdown,
    /// `--max-insns` guest instructions ran.
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
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions { tb_max_insns: 512, max_insns: None }
    }
}

/// Counters for `--stats`.
#[derive(Copy, Clone, Debug, Default)]
pub struct ExecStats {
    pub insns: u64,
    pub tbs_translated: u64,
    pub tbs_executed: u64,
    pub guest_insns_translated: u64,
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
}

impl Machine {
    pub fn new(cpu: Box<X86Cpu>, opts: ExecOptions, log: Logger) -> Machine {
        let rt = Runtime {
            qemu_ld: crate::cpu::mem_helper::helper_qemu_ld,
            qemu_st: crate::cpu::mem_helper::helper_qemu_st,
        };
        Machine { cpu, tbs: TbCache::new(), opts, log, stats: ExecStats::default(), rt }
    }

    /// The TB key for the current CPU state.
    fn current_key(&mut self) -> crate::cpu::mem_helper::MemResult<(u32, TbKey)> {
        let env = &self.cpu.env;
        let cs_base = env.segs[R_CS].base;
        let pc = env.eip.wrapping_add(cs_base);
        let flags = env.hflags & hflags::TB_MASK;
        let phys = self.cpu.code_phys(pc)?;
        Ok((pc, TbKey { phys_pc: phys.0, cs_base, flags }))
    }

    /// Translate, optimize and prepare a TB (QEMU's `tb_gen_code`).
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
        self.stats.tbs_translated += 1;
        self.stats.guest_insns_translated += t.icount as u64;
        let tb =
            TranslationBlock { pc, key, size: t.size, icount: t.icount, code: InterpCode::new(&t.ir), exec_count: 0 };
        self.tbs.insert(tb)
    }

    /// Run until the machine stops.
    pub fn cpu_exec(&mut self) -> ExitReason {
        loop {
            if let Some(r) = self.handle_exception() {
                return r;
            }
            if let Some(limit) = self.opts.max_insns {
                if self.stats.insns >= limit {
                    return ExitReason::InsnLimit;
                }
            }
            let Ok((pc, key)) = self.current_key() else { continue };
            let id = match self.tbs.lookup(pc, &key) {
                Some(id) => id,
                None => self.tb_gen_code(pc, key),
            };
            self.tb_exec(id);
        }
    }

    /// Run one TB and account for it.
    fn tb_exec(&mut self, id: TbId) {
        if self.log.enabled(LogMask::EXEC) {
            let tb = self.tbs.get(id);
            let line = format!(
                "Trace 0: {:#x} [{:08x}/{:08x}/{:08x}/{:08x}] \n",
                id.0, tb.key.cs_base, tb.pc, tb.key.flags, 0
            );
            self.log.sink.log(&line);
        }
        if self.log.enabled(LogMask::CPU) {
            let dump = super::dump::cpu_dump_state(&self.cpu.env);
            self.log.sink.log(&dump);
        }
        let env = self.cpu.env_ptr();
        let tb = self.tbs.get_mut(id);
        tb.exec_count += 1;
        self.stats.tbs_executed += 1;
        // SAFETY: `env` comes from the live CPU, which nothing else touches while the TB runs; the
        // runtime's entry points are the ones for this CPU type.
        let exit = unsafe { interp::exec(&tb.code, env, &self.rt) };
        let icount = tb.icount as u64;
        match exit {
            TbExit::Exit(_) => self.stats.insns += icount,
            TbExit::Raised { pc, cc_op } => self.restore_state(id, pc, cc_op),
        }
        self.cpu.tsc += icount;
    }

    /// After an exit in the middle of an instruction: put back the state of its start for a guest
    /// exception (QEMU's `cpu_restore_state`) and count the instructions that completed.
    fn restore_state(&mut self, id: TbId, pc: u32, cc_op: u32) {
        let tb = self.tbs.get(id);
        let cs_base = tb.key.cs_base;
        let done = self.count_insns_before(id, pc);
        self.stats.insns += done;
        let env = &mut self.cpu.env;
        if (0..256).contains(&env.exception_index) {
            env.eip = pc;
            if cc_op != CcOp::Dynamic as u32 {
                env.cc_op = cc_op;
            }
        }
        let _ = cs_base;
    }

    /// Guest instructions of TB `id` that completed before the one at `pc` (by re-decoding lengths
    /// would be costly; the TB records instruction starts in its IR).
    fn count_insns_before(&self, id: TbId, pc: u32) -> u64 {
        let tb = self.tbs.get(id);
        tb.code.insn_index(pc) as u64
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
