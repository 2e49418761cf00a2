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

/// A loop that calls a function 100 times; `ret` runs with the `cc_op` of `dec`, known when
/// translating, so generated code probes the jump cache inline.
/// ```text
///     mov $0x90000, %esp
///     mov $100, %ecx
/// 1:  call f
///     dec %ecx
///     jne 1b
///     mov $7, %al
///     out %al, $0xf4
/// f:  ret
/// ```
const CALL_LOOP: &[u8] = &[
    0xbc, 0x00, 0x00, 0x09, 0x00, 0xb9, 0x64, 0x00, 0x00, 0x00, 0xe8, 0x07, 0x00, 0x00, 0x00, 0x49, 0x75, 0xf8, 0xb0,
    0x07, 0xe6, 0xf4, 0xc3,
];

fn kernel(name: &str) -> PathBuf {
    kernel_of(name, RET_WITH_RUNTIME_CC_OP)
}

fn kernel_of(name: &str, code: &[u8]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("goto_ptr");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let path = dir.join(format!("{name}.bin"));
    std::fs::write(&path, aout(code, 0)).expect("write kernel");
    path
}

fn tcg86(name: &str, extra: &[&str]) -> Output {
    tcg86_on(&kernel(name), extra)
}

fn tcg86_on(k: &std::path::Path, extra: &[&str]) -> Output {
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

#[test]
fn ret_with_a_known_cc_op_probes_the_jump_cache_inline() {
    let o = tcg86_on(&kernel_of("call_loop", CALL_LOOP), &[]);
    assert_eq!(o.status.code(), Some((7 << 1) | 1));
    // Each of the 100 returns finds the TB after the call in the jump cache.
    let loop_entries = stat(&o, "tbs_executed");
    assert!(loop_entries < 10, "{loop_entries} TBs entered from cpu_exec");
}

/// The three backends (the JIT with and without chaining, the interpreter) on `code`: all must
/// exit with `status`. Returns the chained JIT's run.
fn all_exit_with(name: &str, code: &[u8], status: i32) -> Output {
    let k = kernel_of(name, code);
    for extra in [&["-d", "nochain"][..], &["-accel", "tcg,backend=interp"][..]] {
        assert_eq!(tcg86_on(&k, extra).status.code(), Some(status), "{name} {extra:?}");
    }
    let o = tcg86_on(&k, &[]);
    assert_eq!(o.status.code(), Some(status), "{name} chained");
    o
}

/// One `ret` (f's, entered with `add`'s `cc_op` from both call sites) returns to two places in
/// turn. Its indirect-jump link holds the first (R1); returns to R2 must not take it.
/// ```text
///     mov $0x90000, %esp
///     xor %ebx, %ebx
///     mov $40, %ecx
/// 1:  add $1, %ebx
///     call f
/// R1: add $2, %ebx
///     call f
/// R2: dec %ecx
///     jne 1b
///     mov %bl, %al        # 40 * 3 = 120
///     out %al, $0xf4
/// f:  ret
/// ```
const TWO_CALLERS: &[u8] = &[
    0xbc, 0x00, 0x00, 0x09, 0x00, 0x31, 0xdb, 0xb9, 0x28, 0x00, 0x00, 0x00, 0x83, 0xc3, 0x01, 0xe8, 0x0f, 0x00, 0x00,
    0x00, 0x83, 0xc3, 0x02, 0xe8, 0x07, 0x00, 0x00, 0x00, 0x49, 0x75, 0xed, 0x88, 0xd8, 0xe6, 0xf4, 0xc3,
];

#[test]
fn a_ret_linked_to_one_return_site_still_reaches_the_other() {
    let o = all_exit_with("two_callers", TWO_CALLERS, (120 << 1) | 1);
    // f's link to R1, with the goto_tb links; R2 is found by the jump-cache probe behind it.
    assert!(stat(&o, "links") >= 1);
    let loop_entries = stat(&o, "tbs_executed");
    assert!(loop_entries < 10, "{loop_entries} TBs entered from cpu_exec");
}

/// As `TWO_CALLERS`, with f writing ebx before its `ret`: the jump-cache probe that finds R2
/// jumps straight there, after writing ebx back (R2's TB reads it from `env`).
/// ```text
///     mov $0x90000, %esp
///     xor %ebx, %ebx
///     mov $40, %ecx
/// 1:  add $1, %ebx
///     call f
/// R1: add $2, %ebx
///     call f
/// R2: dec %ecx
///     jne 1b
///     mov %bl, %al        # 40 * (1 + 3 + 2 + 3) = 360 = 0x168
///     out %al, $0xf4
/// f:  add $3, %ebx
///     ret
/// ```
#[rustfmt::skip]
const TWO_CALLERS_WRITING: &[u8] = &[
    0xbc, 0x00, 0x00, 0x09, 0x00, 0x31, 0xdb, 0xb9, 0x28, 0x00, 0x00, 0x00, 0x83, 0xc3, 0x01, 0xe8,
    0x0f, 0x00, 0x00, 0x00, 0x83, 0xc3, 0x02, 0xe8, 0x07, 0x00, 0x00, 0x00, 0x49, 0x75, 0xed, 0x88,
    0xd8, 0xe6, 0xf4, 0x83, 0xc3, 0x03, 0xc3,
];

#[test]
fn a_probe_that_finds_the_return_site_writes_the_registers_back_first() {
    all_exit_with("two_callers_writing", TWO_CALLERS_WRITING, (0x68 << 1) | 1);
}

/// The TB a `ret` is linked to is rewritten: the link must lead to the new code. f returns to R,
/// which adds 1 to ebx and then patches its own immediate to 5 (a store into the running TB:
/// it completes, R is invalidated, and so is f's link to it). Three passes: 1 + 5 + 5 = 11.
/// ```text
///     mov $0x90000, %esp
///     xor %ebx, %ebx
///     mov $3, %ecx
/// 1:  dec %ecx
///     call f
/// R:  add $1, %ebx         # imm8 at 0x100034
///     movb $5, 0x100034
///     test %ecx, %ecx
///     jne 1b
///     mov %bl, %al
///     out %al, $0xf4
/// f:  ret
/// ```
const RET_TO_PATCHED_CODE: &[u8] = &[
    0xbc, 0x00, 0x00, 0x09, 0x00, 0x31, 0xdb, 0xb9, 0x03, 0x00, 0x00, 0x00, 0x49, 0xe8, 0x12, 0x00, 0x00, 0x00, 0x83,
    0xc3, 0x01, 0xc6, 0x05, 0x34, 0x00, 0x10, 0x00, 0x05, 0x85, 0xc9, 0x75, 0xec, 0x88, 0xd8, 0xe6, 0xf4, 0xc3,
];

#[test]
fn a_ret_linked_to_rewritten_code_runs_the_new_code() {
    all_exit_with("ret_to_patched_code", RET_TO_PATCHED_CODE, (11 << 1) | 1);
}
