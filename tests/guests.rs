//! The guest-kernel suite: every kernel built from `tests/guests/` runs under `qemu-system-i386`
//! (the reference) and under tcg86 in each execution mode of [`MODES`]; the UART transcript (stdout)
//! and the exit status must be identical. QEMU runs once per kernel per test run and its output is
//! never stored, so the reference is always the real thing. A missing `qemu-system-i386` is a failure, not
//! a skip: the comparison is the point of this suite.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// One way of running tcg86: a name for the summary and the extra command-line arguments.
/// Add a row to cover a new execution mode (jit, nochain, plugin…) for every kernel.
struct Mode {
    name: &'static str,
    args: &'static [&'static str],
}

const MODES: &[Mode] = &[
    Mode { name: "default", args: &[] },
    Mode { name: "interp", args: &["-accel", "tcg,backend=interp"] },
    Mode { name: "jit", args: &["-accel", "tcg,backend=jit"] },
    Mode { name: "jit-nochain", args: &["-accel", "tcg,backend=jit", "-d", "nochain"] },
    // A 64 KiB code buffer: the JIT flushes every TB many times over and must carry on.
    Mode { name: "jit-tiny-tb", args: &["-accel", "tcg,backend=jit", "--tb-size", "64K"] },
];

/// Seconds before a run is killed (`timeout` exits 124 then).
const QEMU_TIMEOUT: &str = "20";
const TCG86_TIMEOUT: &str = "120";

/// What one run of a kernel produced.
struct Run {
    stdout: String,
    status: Option<i32>,
    stderr: String,
    secs: f64,
}

impl Run {
    /// Runs `cmd` to completion (it is wrapped in `timeout`, so it ends).
    fn of(cmd: &mut Command, what: &str) -> Run {
        let start = Instant::now();
        let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
        Run {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            status: out.status.code(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            secs: start.elapsed().as_secs_f64(),
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `make -s guests`; a build failure fails the suite with make's output.
fn build_kernels() {
    let out = Command::new("make")
        .args(["-s", "guests"])
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run `make -s guests` (is make installed?): {e}"));
    assert!(
        out.status.success(),
        "`make -s guests` failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The built kernels, sorted by name.
fn kernels() -> Vec<PathBuf> {
    let dir = root().join("build/guests");
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut list: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "elf"))
        .collect();
    list.sort();
    assert!(!list.is_empty(), "no kernels in {}", dir.display());
    list
}

fn require_qemu() {
    let found = Command::new("qemu-system-i386").arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "qemu-system-i386 is not installed: it is the reference for the guest-kernel suite. \
         Install it with `apt-get install qemu-system-x86` (Debian/Ubuntu)."
    );
}

fn run_qemu(kernel: &Path) -> Run {
    let mut cmd = Command::new("timeout");
    cmd.args([QEMU_TIMEOUT, "qemu-system-i386", "-nodefaults", "-no-reboot", "-display", "none"])
        .args(["-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel"])
        .arg(kernel);
    Run::of(&mut cmd, "qemu-system-i386")
}

fn run_tcg86(kernel: &Path, mode: &Mode) -> Run {
    let mut cmd = Command::new("timeout");
    cmd.args([TCG86_TIMEOUT, env!("CARGO_BIN_EXE_tcg86"), "-kernel"])
        .arg(kernel)
        .args(["-serial", "stdio", "-display", "none", "-no-reboot"])
        .args(mode.args);
    Run::of(&mut cmd, "tcg86")
}

/// The first line where two transcripts differ, for the failure report.
fn first_difference(want: &str, got: &str) -> String {
    let (mut w, mut g) = (want.lines(), got.lines());
    for n in 1.. {
        match (w.next(), g.next()) {
            (None, None) => return "transcripts identical".into(),
            (a, b) if a == b => continue,
            (a, b) => {
                return format!(
                    "line {n}:\n      qemu:  {}\n      tcg86: {}",
                    a.unwrap_or("<end>"),
                    b.unwrap_or("<end>")
                )
            }
        }
    }
    unreachable!()
}

fn describe_mismatch(name: &str, mode: &Mode, want: &Run, got: &Run) -> String {
    let mut s = format!("{name} [{}]: ", mode.name);
    if want.status != got.status {
        let _ = write!(s, "exit status qemu {:?} tcg86 {:?}; ", want.status, got.status);
    }
    let _ = write!(s, "{}", first_difference(&want.stdout, &got.stdout));
    let tail: Vec<&str> = got.stderr.lines().rev().take(5).collect();
    if !tail.is_empty() {
        let lines: Vec<&str> = tail.into_iter().rev().collect();
        let _ = write!(s, "\n    tcg86 stderr: {}", lines.join("\n                  "));
    }
    s
}

fn kernel_name(kernel: &Path) -> String {
    kernel.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The reference run must itself be sane: QEMU exits through isa-debug-exit with value 0.
fn check_reference(name: &str, r: &Run) -> Option<String> {
    (r.status != Some(1)).then(|| format!("{name}: fails under qemu-system-i386 itself (status {:?})", r.status))
}

/// Runs one kernel under QEMU once, then under every mode; returns the summary line and failures.
fn check_kernel(kernel: &Path) -> (String, Vec<String>) {
    let name = kernel_name(kernel);
    let want = run_qemu(kernel);
    let mut failures: Vec<String> = check_reference(&name, &want).into_iter().collect();
    let mut line =
        format!("{name:<12} qemu: status {:?}, {} bytes, {:.2}s |", want.status, want.stdout.len(), want.secs);
    for mode in MODES {
        let got = run_tcg86(kernel, mode);
        let ok = got.stdout == want.stdout && got.status == want.status;
        let verdict = if ok { "ok" } else { "MISMATCH" };
        let _ = write!(line, " {}: {verdict} {:.2}s", mode.name, got.secs);
        if !ok {
            failures.push(describe_mismatch(&name, mode, &want, &got));
        }
    }
    (line, failures)
}

#[test]
fn guest_kernels_match_qemu() {
    require_qemu();
    build_kernels();
    let (mut summary, mut failures) = (String::new(), Vec::new());
    for kernel in kernels() {
        let (line, bad) = check_kernel(&kernel);
        // Straight to the stderr handle, past the test harness's capture: the summary always shows.
        let _ = writeln!(std::io::stderr(), "{line}");
        summary.push_str(&line);
        summary.push('\n');
        failures.extend(bad);
    }
    assert!(failures.is_empty(), "guest kernels differ from qemu-system-i386:\n{summary}\n{}", failures.join("\n"));
}
