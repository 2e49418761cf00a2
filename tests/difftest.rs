//! Correctness oracle: random integer instruction sequences must end in the same registers,
//! flags (undefined ones masked) and memory on the host CPU and in tcg86.
//!
//! `DIFFTEST_N`, `DIFFTEST_SEED`, `DIFFTEST_MAX_LEN`, `DIFFTEST_FAMILIES` (`all` or a comma
//! list) and `DIFFTEST_MAX_FAIL` override the defaults; `make -f difftest.mk difftest N=… SEED=…`
//! sets them.

#[path = "difftest/mod.rs"]
mod difftest;

use difftest::gen::{self, Sequence};
use difftest::{emu, families, native, Config};

// The host must run i386 code natively: elsewhere the oracle cannot run, and says so loudly.
#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
compile_error!("difftest needs an x86-64 Linux host to run i386 code natively");

#[test]
fn random_sequences_match_host_cpu() {
    let cfg = Config::from_env(20_000);
    let s = difftest::run(&cfg);
    eprintln!("{}", s.text);
    assert!(s.mismatches.is_empty(), "{}\n{}", s.mismatches.join("\n"), s.text);
}

/// The interpreter and the JIT (whole TBs, chaining on) from the same initial state stop in the
/// same full CPU state and memory at every instruction limit: after each TB, inside TBs, and
/// after faults (the exception handler stubs are TBs too).
#[test]
fn interp_and_jit_stop_in_the_same_state_everywhere() {
    let fns: Vec<gen::GenFn> =
        families::FAMILIES.iter().filter(|f| !families::UNSUPPORTED.contains(&f.0)).map(|f| f.1).collect();
    let by_name = |n: &str| emu::BACKENDS.iter().find(|b| b.name == n).expect("backend");
    let (interp, jit) = (by_name("interp"), by_name("jit"));
    let mut stops = 0;
    for i in 0..120u64 {
        let seq = gen::generate(0x5eed_0000 + i, 16, &fns).expect("encodes");
        for limit in 1..=seq.insns.len() as u64 + 4 {
            let a = emu::stop_state(&seq, interp, limit).expect("interp runs");
            let b = emu::stop_state(&seq, jit, limit).expect("jit runs");
            assert_eq!(a, b, "sequence seed {:#x}, limit {limit}:\n{:?}", seq.seed, seq.insns);
            stops += 1;
        }
    }
    assert!(stops > 500, "{stops} stops compared");
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
    let fns: Vec<gen::GenFn> = families::FAMILIES.iter().map(|f| f.1).collect();
    let base = gen::generate(1, 1, &fns).expect("encodes");
    // mov $0x1234,%eax; mov $0,%ecx   |   mov $0,%edx; div %edx  (#DE)
    let ok = Sequence { code: vec![0xb8, 0x34, 0x12, 0, 0, 0xb9, 0, 0, 0, 0], offsets: vec![0, 5], ..base.clone() };
    let de = Sequence { code: vec![0xba, 0, 0, 0, 0, 0xf7, 0xf2], offsets: vec![0, 5], ..base };
    let out = native::run(&[ok, de]).expect("native runner");
    assert_eq!((out[0].regs[0], out[0].regs[1], out[0].fault), (0x1234, 0, None));
    assert_eq!(out[1].fault, Some((0, 5)));
}

/// The fuzz target's property without cargo-fuzz: random bytes as guest code, run with an
/// instruction bound, never panic the host (`DIFFTEST_BYTES_N` runs, default 2000).
#[test]
fn random_bytes_never_panic_the_host() {
    use tcg86::cpu::X86Cpu;
    use tcg86::exec::log::{Logger, NoLog};
    use tcg86::exec::{ExecOptions, Machine};
    use tcg86::hw::debug::{DebugExit, DEBUG_EXIT_PORT};
    use tcg86::hw::Bus;
    use tcg86::softmmu::PhysAddr;
    let n: u64 = std::env::var("DIFFTEST_BYTES_N").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let mut rng = difftest::rng::Rng::new(0xb17e5);
    for i in 0..n {
        let len = 1 + rng.below(64) as usize;
        let code: Vec<u8> = (0..len).map(|_| rng.u32() as u8).collect();
        let mut bus = Bus::new();
        bus.add(DEBUG_EXIT_PORT, 1, Box::new(DebugExit));
        let mut cpu = Box::new(X86Cpu::new(4 << 20, 8, bus));
        cpu.mem.load(PhysAddr(0x10_0000), &code).expect("code fits in RAM");
        cpu.env.reset_multiboot(0x10_0000, 0x9000);
        cpu.env.regs[4] = 0x20_0000;
        let log = Logger { mask: Default::default(), sink: Box::new(NoLog) };
        let opts = ExecOptions { max_insns: Some(2000), ..Default::default() };
        let mut m = Machine::new(cpu, opts, log);
        if std::env::var_os("DIFFTEST_BYTES_TRACE").is_some() {
            eprintln!("run {i}: {code:02x?}");
        }
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| m.cpu_exec()));
        assert!(r.is_ok(), "run {i} panicked on code {code:02x?}");
    }
}
