//! The bare-metal host image (metal/) builds for x86_64-unknown-none, boots under
//! qemu-system-x86_64 through its PVH note, runs the embedded demo kernel under the JIT in the
//! static code region (`sys::metal`) and prints the guest's greeting on COM1. Its page tables are
//! W^X: JIT code runs from a read-only alias of the pages it is written through, and storing into
//! the executable view or calling into the writable one faults (the probes).
//!
//! Fails loudly when the image cannot be built or run: it needs the bare-metal target
//! (`rustup target add x86_64-unknown-none`) and `qemu-system-x86_64` (Debian: qemu-system-x86).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use tcg86::loader::demo::DEMO_GREETING;

/// Build the image once; its path.
fn image() -> &'static Path {
    static IMAGE: OnceLock<PathBuf> = OnceLock::new();
    IMAGE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("metal");
        let target = dir.join("target");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        // The image's rustflags come from metal/.cargo/config.toml, which RUSTFLAGS would override.
        let status = Command::new(cargo)
            .args(["build", "--quiet"])
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", &target)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .status()
            .expect("run cargo");
        assert!(
            status.success(),
            "building metal/ failed (is the target installed? rustup target add x86_64-unknown-none)"
        );
        target.join("x86_64-unknown-none/debug/tcg86-metal")
    })
}

/// Boot the image with kernel command line `append`; QEMU's exit status, the serial output, and
/// both (with stderr) for failure messages.
fn boot(append: &str) -> (Option<i32>, String, String) {
    let out = Command::new("timeout")
        .args(["60", "qemu-system-x86_64", "-nodefaults", "-no-reboot", "-display", "none", "-m", "256M"])
        .args(["-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-append", append])
        .arg("-kernel")
        .arg(image())
        .output()
        .expect("run timeout qemu-system-x86_64");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let ctx = format!("status {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}", out.status.code());
    assert_ne!(out.status.code(), Some(127), "qemu-system-x86_64 not found: apt-get install qemu-system-x86\n{ctx}");
    assert!(stdout.starts_with(DEMO_GREETING), "the guest's greeting comes first\n{ctx}");
    (out.status.code(), stdout, ctx)
}

/// The number before `marker` in `line`.
fn number_before(line: &str, marker: &str) -> Option<u64> {
    line.split(marker).next()?.rsplit(' ').next()?.parse().ok()
}

/// The hex address after `marker` in `line`.
fn address_after(line: &str, marker: &str) -> Option<u64> {
    let hex = line.split(marker).nth(1)?.trim_start_matches("0x");
    u64::from_str_radix(hex.split(|c: char| !c.is_ascii_hexdigit()).next()?, 16).ok()
}

#[test]
fn bare_metal_image_runs_the_demo_under_the_jit_from_a_separate_executable_view() {
    let (status, stdout, ctx) = boot("");
    let summary = stdout.lines().find(|l| l.starts_with("tcg86-metal: guest exit status 0,")).expect(&ctx);
    assert!(number_before(summary, " TBs JIT-compiled").is_some_and(|n| n > 0), "the JIT compiled TBs\n{ctx}");
    let rx = address_after(summary, "code runs at ").expect(&ctx);
    let rw = address_after(summary, "written at ").expect(&ctx);
    assert_eq!(rx - rw, 1 << 30, "the executable view is the 1 GiB alias of the writable one\n{ctx}");
    // isa-debug-exit: (guest status 0 << 1) | 1.
    assert_eq!(status, Some(1), "{ctx}");
}

#[test]
fn writing_the_executable_view_or_running_the_writable_one_faults() {
    for (probe, what) in [("probe=write-rx", "the write"), ("probe=exec-rw", "the call")] {
        let (status, stdout, ctx) = boot(probe);
        assert!(stdout.contains("tcg86-metal: probe: "), "{probe} ran\n{ctx}");
        assert!(!stdout.contains(&format!("{what} went through")), "{probe} faulted\n{ctx}");
        // A fault with no IDT triple-faults; with -no-reboot QEMU then exits with status 0.
        assert_eq!(status, Some(0), "{probe}\n{ctx}");
    }
}
