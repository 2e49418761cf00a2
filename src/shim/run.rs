//! Running a configuration: sinks, bus, CPU, boot, `cpu_exec`, then the exit report and the
//! statistics (`--stats` on stderr, `--stats-json` to a file). The exit status follows the
//! contract in `--help` (see `usage.rs`).

use super::args::{Backend, Config, Serial};
use super::sinks::{FileLog, FileSink, StderrLog, StdoutSink};
use super::{images, stats_json};
use std::fs::File;
use std::io::BufWriter;
use tcg86::cpu::X86Cpu;
use tcg86::exec::log::{LogSink, Logger};
use tcg86::exec::{ExecOptions, ExitReason, Machine};
use tcg86::frontend::helpers::EXIT_HALTED;
use tcg86::hw::pc::pc_bus;
use tcg86::hw::{CharSink, NullSink};
use tcg86::loader::{boot_multiboot, BootParams, Module};
use tcg86::sys::host::{alloc_code_region, map_rwx};

/// Boot and run; `Ok` is the exit status, `Err` the message for an emulator error.
pub fn run(cfg: &Config) -> Result<i32, String> {
    let images = images::read(cfg)?;
    let bus = pc_bus(open_serial(&cfg.serial)?, Box::new(StdoutSink));
    let mut cpu = Box::new(X86Cpu::new(cfg.ram_size, cfg.tlb_bits, bus));
    let modules: Vec<Module> = images.modules.iter().map(|(data, s)| Module { data, cmdline: s }).collect();
    let params = BootParams { kernel: &images.kernel, cmdline: &images.cmdline, modules: &modules };
    boot_multiboot(&mut cpu, &params).map_err(|e| format!("kernel '{}': {e}", images.name))?;
    let count_tlb_hits = cfg.stats || cfg.stats_json.is_some();
    let opts = ExecOptions { max_insns: cfg.max_insns, count_tlb_hits, ..ExecOptions::default() };
    let log = Logger { mask: cfg.log_mask, sink: open_log(cfg.log_file.as_deref())? };
    let json = cfg.stats_json.as_deref().map(stats_json::open).transpose()?;
    let mut machine = Machine::new(cpu, opts, log);
    if cfg.perfmap {
        machine.perf_map = Some(open_log(Some(&format!("/tmp/perf-{}.map", std::process::id())))?);
    }
    if cfg.backend == Backend::Jit {
        enable_jit(&mut machine, cfg.tb_size.unwrap_or(DEFAULT_TB_SIZE), cfg.perfmap)?;
    }
    let reason = machine.cpu_exec();
    let status = report(reason, &machine);
    if cfg.stats {
        eprint!("{}", super::stats::format(&machine));
    }
    if let Some(json) = json {
        stats_json::write(json, &machine)?;
    }
    // Dropping the machine flushes the file sinks.
    drop(machine);
    Ok(status)
}

/// Code buffer size for the JIT when `--tb-size` is not given.
pub const DEFAULT_TB_SIZE: usize = 64 << 20;

/// Map the code buffer and hand it to the machine's JIT. With `-perfmap` it is one anonymous
/// read-write-execute mapping: perf names samples from a perf map only in anonymous memory.
fn enable_jit(machine: &mut Machine, len: usize, perfmap: bool) -> Result<(), String> {
    let kib = len >> 10;
    let region = if perfmap { map_rwx(len) } else { alloc_code_region(len) };
    let region = region.map_err(|e| format!("could not map {kib} KiB of JIT code memory: {e}"))?;
    if !region.is_split() && !perfmap {
        eprintln!("tcg86: warning: memfd_create is unavailable; the JIT code buffer is writable and executable");
    }
    // SAFETY: a fresh mapping that only this machine uses; it is never unmapped, so it outlives
    // the machine.
    let ok = unsafe { machine.enable_jit(region) };
    ok.then_some(()).ok_or(format!("the JIT code buffer ({kib} KiB) is too small"))
}

fn open_serial(serial: &Serial) -> Result<Box<dyn CharSink>, String> {
    Ok(match serial {
        Serial::Stdio => Box::new(StdoutSink),
        Serial::None => Box::new(NullSink),
        Serial::File(path) => {
            let f = File::create(path).map_err(|e| format!("-serial file:{path}: {e}"))?;
            Box::new(FileSink(BufWriter::new(f)))
        }
    })
}

fn open_log(path: Option<&str>) -> Result<Box<dyn LogSink>, String> {
    match path {
        None => Ok(Box::new(StderrLog)),
        Some(path) => {
            let f = File::create(path).map_err(|e| format!("-D {path}: {e}"))?;
            Ok(Box::new(FileLog(BufWriter::new(f))))
        }
    }
}

/// One line on stderr for the stops that are not the guest's own choice; the exit status.
fn report(reason: ExitReason, m: &Machine) -> i32 {
    let eip = m.cpu.env.eip;
    match reason {
        ExitReason::Status(EXIT_HALTED) => {
            // The hlt helper has already moved eip past the one-byte instruction.
            eprintln!(
                "tcg86: HLT with interrupts disabled at eip={:#010x}: nothing can wake the CPU",
                eip.wrapping_sub(1)
            )
        }
        ExitReason::Shutdown => eprintln!("tcg86: triple fault at eip={eip:#010x}: the CPU shut down"),
        ExitReason::InsnLimit => eprintln!("tcg86: stopped after {} guest instructions (--max-insns)", m.stats.insns),
        ExitReason::Status(_) => {}
    }
    reason.status()
}
