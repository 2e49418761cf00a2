//! The bare-metal host image (metal/) builds for x86_64-unknown-none, boots under
//! qemu-system-x86_64 through its PVH note, runs the embedded demo kernel under the JIT in the
//! static code region (`sys::metal`) and prints the guest's greeting on COM1.
//!
//! Fails loudly when the image cannot be built or run: it needs the bare-metal target
//! (`rustup target add x86_64-unknown-none`) and `qemu-system-x86_64` (Debian: qemu-system-x86).

use std::path::Path;
use std::process::Command;
use tcg86::loader::demo::DEMO_GREETING;

/// Build the image; its path.
fn build_image(dir: &Path) -> std::path::PathBuf {
    let target = dir.join("target");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // The image's rustflags come from metal/.cargo/config.toml, which RUSTFLAGS would override.
    let status = Command::new(cargo)
        .args(["build", "--quiet"])
        .current_dir(dir)
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
}

#[test]
fn bare_metal_image_runs_the_demo_under_the_jit() {
    let image = build_image(&Path::new(env!("CARGO_MANIFEST_DIR")).join("metal"));
    let out = Command::new("timeout")
        .args(["60", "qemu-system-x86_64", "-nodefaults", "-no-reboot", "-display", "none", "-m", "256M"])
        .args(["-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel"])
        .arg(&image)
        .output()
        .expect("run timeout qemu-system-x86_64");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let ctx = format!("status {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}", out.status.code());
    assert_ne!(out.status.code(), Some(127), "qemu-system-x86_64 not found: apt-get install qemu-system-x86\n{ctx}");
    assert!(stdout.starts_with(DEMO_GREETING), "the guest's greeting comes first\n{ctx}");
    let summary = stdout.lines().find(|l| l.starts_with("tcg86-metal: guest exit status 0,")).expect(&ctx);
    let tbs: u64 =
        summary.split(" TBs JIT-compiled").next().and_then(|s| s.rsplit(' ').next()?.parse().ok()).expect(&ctx);
    assert!(tbs > 0, "the JIT compiled the demo's TBs\n{ctx}");
    // isa-debug-exit: (guest status 0 << 1) | 1.
    assert_eq!(out.status.code(), Some(1), "{ctx}");
}
