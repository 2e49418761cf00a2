//! Correctness oracle: random integer instruction sequences must end in the same registers,
//! flags (undefined ones masked) and memory on the host CPU and in tcg86.
//!
//! `DIFFTEST_N`, `DIFFTEST_SEED`, `DIFFTEST_MAX_LEN`, `DIFFTEST_FAMILIES` (`all` or a comma
//! list) and `DIFFTEST_MAX_FAIL` override the defaults; `make -f difftest.mk difftest N=… SEED=…`
//! sets them.

#[path = "difftest/mod.rs"]
mod difftest;

use difftest::gen::{self, Sequence};
use difftest::{families, native, Config};

/// The host must run i386 code: x86-64 Linux.
const HOST_OK: bool = cfg!(all(target_arch = "x86_64", target_os = "linux"));

#[test]
fn random_sequences_match_host_cpu() {
    if !HOST_OK {
        eprintln!("difftest: skipped (needs an x86-64 Linux host)");
        return;
    }
    let cfg = Config::from_env(20_000);
    let s = difftest::run(&cfg);
    eprintln!("{}", s.text);
    assert!(s.mismatches.is_empty(), "{}\n{}", s.mismatches.join("\n"), s.text);
}

#[test]
fn generator_is_reproducible() {
    let fns: Vec<gen::GenFn> = families::FAMILIES.iter().map(|f| f.1).collect();
    let a = gen::generate(42, 24, &fns).expect("encodes");
    let b = gen::generate(42, 24, &fns).expect("encodes");
    assert_eq!(a.code, b.code);
    assert_eq!(a.init.mem, b.init.mem);
}

#[test]
fn native_runner_reports_registers_and_divide_error() {
    if !HOST_OK {
        return;
    }
    let fns: Vec<gen::GenFn> = families::FAMILIES.iter().map(|f| f.1).collect();
    let base = gen::generate(1, 1, &fns).expect("encodes");
    // mov $0x1234,%eax; mov $0,%ecx   |   mov $0,%edx; div %edx  (#DE)
    let ok = Sequence { code: vec![0xb8, 0x34, 0x12, 0, 0, 0xb9, 0, 0, 0, 0], offsets: vec![0, 5], ..base.clone() };
    let de = Sequence { code: vec![0xba, 0, 0, 0, 0, 0xf7, 0xf2], offsets: vec![0, 5], ..base };
    let out = native::run(&[ok, de]).expect("native runner");
    assert_eq!((out[0].regs[0], out[0].regs[1], out[0].fault), (0x1234, 0, None));
    assert_eq!(out[1].fault, Some((0, 5)));
}
