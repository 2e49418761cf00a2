//! Golden `-d exec` traces: the `Trace` line of every TB entered from `cpu_exec` and the `Linking
//! TBs` line of every chained jump, in QEMU's layout, for one small kernel
//! ([`boot_images::LOOP_AND_CALLS`]) under the JIT with chaining, the JIT with `-d nochain`, and the
//! interpreter (which never chains). Expected traces are `tests/exec_trace/*.log`;
//! `TCG86_BLESS=1 cargo test --test exec_trace` rewrites them.
//!
//! Host code addresses change from run to run, so each distinct one becomes `<tbN>` (N in order of
//! first appearance); the interpreter's `0x0` stays. Without chaining, `qemu-system-i386 -d
//! exec,nochain -dfilter` on the same kernel must enter the same TBs in the same order, when QEMU
//! is installed.

mod boot_images;

use boot_images::{aout, LOOP_AND_CALLS};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A file in this test binary's scratch directory.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("exec_trace");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(name)
}

/// The kernel image, written under a per-run name (the tests run in parallel).
fn kernel(run: &str) -> PathBuf {
    let path = scratch(&format!("loop_and_calls_{run}.bin"));
    std::fs::write(&path, aout(LOOP_AND_CALLS, 0)).expect("write kernel");
    path
}

/// Run tcg86 on the kernel with `-d exec[,nochain]` and extra flags; the log text.
fn tcg86_trace(name: &str, nochain: bool, extra: &[&str]) -> String {
    let (k, log) = (kernel(name), scratch(&format!("{name}.log")));
    let items = if nochain { "exec,nochain" } else { "exec" };
    let args = ["-kernel", k.to_str().unwrap(), "-d", items, "-D", log.to_str().unwrap(), "--max-insns", "1000"];
    let o = Command::new(env!("CARGO_BIN_EXE_tcg86")).args(args).args(extra).output().expect("run tcg86");
    assert_eq!(o.status.code(), Some(1), "{name}: {}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(&log).expect("read log")
}

/// Host addresses replaced by `<tbN>` in order of first appearance (`0x0` kept).
fn normalize(log: &str) -> String {
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut name = |ptr: &str| match ptr {
        "0x0" => ptr.to_string(),
        _ => {
            let n = ids.len();
            format!("<tb{}>", ids.entry(ptr.to_string()).or_insert(n))
        }
    };
    let mut out = String::new();
    for line in log.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        let line = match words.as_slice() {
            ["Trace", cpu, ptr, rest @ ..] => format!("Trace {cpu} {} {}", name(ptr), rest.join(" ")),
            ["Linking", "TBs", from, "index", n, "->", to] => {
                format!("Linking TBs {} index {n} -> {}", name(from), name(to))
            }
            _ => line.to_string(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Each `Trace` line as `cs_base/pc/flags` (flags & `flags_mask`), without host address and
/// cflags; each `Linking` line as its slot.
fn tb_fields(trace: &str, flags_mask: u32) -> Vec<String> {
    let field = |l: &str| -> Option<String> {
        let inner = l.split_once('[')?.1.split_once(']')?.0;
        let f: Vec<&str> = inner.split('/').collect();
        let flags = u32::from_str_radix(f.get(2)?, 16).ok()? & flags_mask;
        Some(format!("{}/{}/{flags:08x}", f.first()?, f.get(1)?))
    };
    let line = |l: &str| match l.split_once(" index ") {
        Some((_, slot)) if l.starts_with("Linking") => format!("link {}", slot.split(' ').next().unwrap_or("")),
        _ => field(l).unwrap_or_else(|| l.to_string()),
    };
    trace.lines().map(line).collect()
}

/// Compare with `tests/exec_trace/NAME.log`, or rewrite it under `TCG86_BLESS=1`.
fn check_golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/exec_trace").join(format!("{name}.log"));
    if std::env::var_os("TCG86_BLESS").is_some() {
        std::fs::write(&path, actual).expect("bless");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        panic!("{name}: trace differs from {}\n--- expected\n{expected}--- actual\n{actual}", path.display());
    }
}

/// QEMU's `-d exec,nochain` trace of the kernel (from its first TB on), normalized; `None`
/// without QEMU. `-dfilter` leaves out the firmware's TBs.
fn qemu_nochain_trace() -> Option<String> {
    let (k, log) = (kernel("qemu"), scratch("qemu_nochain.log"));
    let base = ["-nodefaults", "-no-reboot", "-display", "none", "-serial", "none"];
    let dev = ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-dfilter", "0x100000..0x100fff"];
    let run = ["-kernel", k.to_str().unwrap(), "-d", "exec,nochain", "-D", log.to_str().unwrap()];
    let o = Command::new("timeout").arg("20").arg("qemu-system-i386").args(base).args(dev).args(run).output();
    let o = o.ok().filter(|o| o.status.code() != Some(127))?;
    assert_eq!(o.status.code(), Some(1), "qemu: {}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&log).ok()?;
    let at = text.find("/00100020/")?;
    let from = text[..at].rfind('\n').map_or(0, |i| i + 1);
    Some(normalize(&text[from..]))
}

/// With chaining the trace is not compared with QEMU's: tcg86 specialises TBs on their entry
/// `cc_op` (part of its TB flags), so after `dec` it translates second copies of D (the `ret`) and
/// E where QEMU reuses its one TB, whose jumps are linked already; fewer loop entries show.
#[test]
fn exec_trace_chained() {
    let trace = normalize(&tcg86_trace("chain", false, &[]));
    check_golden("jit_chain", &trace);
    assert!(trace.contains("Linking"));
}

/// Without chaining every TB entered shows, in tcg86 and in QEMU (whose `-d nochain` keeps
/// `lookup_and_goto_ptr` but logs from `helper_lookup_tb_ptr`): the same TBs in the same order,
/// with the same mode bits in the flags (tcg86 adds the entry `cc_op` in bits 24..31).
#[test]
fn exec_trace_nochain() {
    let trace = normalize(&tcg86_trace("nochain", true, &[]));
    check_golden("jit_nochain", &trace);
    assert!(!trace.contains("Linking"), "-d nochain links nothing");
    if let Some(q) = qemu_nochain_trace() {
        assert_eq!(tb_fields(&trace, 0xff_ffff), tb_fields(&q, 0xff_ffff), "tcg86 vs qemu-system-i386 -d exec,nochain");
    }
}

/// The interpreter never chains: its trace is the JIT's without chaining, TB for TB.
#[test]
fn exec_trace_interpreter() {
    let trace = normalize(&tcg86_trace("interp", false, &["-accel", "tcg,backend=interp"]));
    check_golden("interp", &trace);
    let nochain = normalize(&tcg86_trace("interp_vs_nochain", true, &[]));
    assert_eq!(tb_fields(&trace, u32::MAX), tb_fields(&nochain, u32::MAX));
}
