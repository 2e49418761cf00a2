//! Fuzz target `kernel_image`: arbitrary bytes as a `-kernel` image.
//!
//! The bytes go through [`boot_multiboot`], the loader the command line uses (multiboot v1 header
//! search, ELF32 or a.out-kludge layout, the information structure), into an [`RAM`]-byte machine.
//! A malformed image must come back as a [`LoadError`](crate::loader::LoadError) whose message
//! formats; an image that loads is then run under every backend like any guest.

use super::{new_cpu, run, BACKENDS};
use crate::cpu::X86Cpu;
use crate::loader::{boot_multiboot, BootParams};
use alloc::boxed::Box;
use alloc::string::ToString;

/// Guest RAM: enough for images loaded at 1 MiB, small enough to allocate per input.
pub const RAM: usize = 8 << 20;
/// Longest image tried.
pub const MAX_LEN: usize = 1 << 20;
/// The command line the kernel sees (as `tcg86 -kernel fuzz` would give it).
pub const CMDLINE: &str = "fuzz ";

/// Boot `data`; if it loads, run it under every backend.
pub fn kernel_image(data: &[u8]) {
    if data.len() > MAX_LEN {
        return;
    }
    for backend in BACKENDS {
        let cpu = match boot(data) {
            Ok(cpu) => cpu,
            Err(msg) => {
                assert!(!msg.is_empty(), "a load error with an empty message");
                return;
            }
        };
        run(cpu, backend);
    }
}

/// A machine with `data` booted, or the loader's message.
pub fn boot(data: &[u8]) -> Result<Box<X86Cpu>, alloc::string::String> {
    let mut cpu = new_cpu(RAM);
    let params = BootParams { kernel: data, cmdline: CMDLINE, modules: &[] };
    boot_multiboot(&mut cpu, &params).map_err(|e| e.to_string())?;
    Ok(cpu)
}
