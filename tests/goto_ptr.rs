//! `lookup_and_goto_ptr` from generated code: the `ret` of a function finds the next TB in the jump
//! cache without going back to `cpu_exec`, and finds the right one. TBs are keyed on the `cc_op`
//! they are entered with, so the lookup must see the `cc_op` the guest is really in, also when
//! generated code holds it in a host register ([`boot_images::RET_WITH_RUNTIME_CC_OP`]). Run
//! through the command line with the JIT (chained and not) and the interpreter, and under
//! `qemu-system-i386` when it is installed.

mod boot_images;

use boot_images::{aout, RET_WITH_RUNTIME_CC_OP};
use std::path::PathBuf;
use std::process::{Command, Output};

fn kernel(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("goto_ptr");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let path = dir.join(format!("{name}.bin"));
    std::fs::write(&path, aout(RET_WITH_RUNTIME_CC_OP, 0)).expect("write kernel");
    path
}

fn tcg86(name: &str, extra: &[&str]) -> Output {
    let k = kernel(name);
    let args = ["-kernel", k.to_str().unwrap(), "--max-insns", "100000", "--stats-json", "-", "-serial", "none"];
    Command::new(env!("CARGO_BIN_EXE_tcg86")).args(args).args(extra).output().expect("run tcg86")
}

/// The value of `"key": N` in the `--stats-json` output.
fn stat(o: &Output, key: &str) -> u64 {
    let text = String::from_utf8_lossy(&o.stdout);
    let line = text.lines().find(|l| l.trim_start().starts_with(&format!("\"{key}\""))).expect("key");
    line.split(':').nth(1).and_then(|v| v.trim().trim_end_matches(',').parse().ok()).expect("number")
}

#[test]
fn ret_finds_the_tb_for_the_run_time_cc_op() {
    let runs = [
        ("jit", &["-accel", "tcg,backend=jit"][..]),
        ("jit_nochain", &["-accel", "tcg,backend=jit", "-d", "nochain"][..]),
        ("interp", &["-accel", "tcg,backend=interp"][..]),
    ];
    for (name, extra) in runs {
        let o = tcg86(name, extra);
        assert_eq!(o.status.code(), Some(201), "{name}: ZF seen as 1 on every pass");
    }
    // Chained, the 99 returns stay in generated code once R's copy for shl's cc_op exists.
    let loop_entries = stat(&tcg86("jit_entries", &[]), "tbs_executed");
    assert!(loop_entries < 20, "{loop_entries} TBs entered from cpu_exec");
}

#[test]
fn qemu_agrees() {
    let k = kernel("qemu");
    let base = ["-nodefaults", "-no-reboot", "-display", "none", "-serial", "none"];
    let dev = ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel", k.to_str().unwrap()];
    let o = Command::new("timeout").arg("20").arg("qemu-system-i386").args(base).args(dev).output();
    if let Some(o) = o.ok().filter(|o| o.status.code() != Some(127)) {
        assert_eq!(o.status.code(), Some(201));
    }
}
