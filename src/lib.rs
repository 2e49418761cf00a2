//! tcg86: a system-mode x86 emulator built like QEMU's TCG.
//!
//! Guest x86 code is decoded (iced-x86) and translated by the [`frontend`] into the IR of [`tcg`],
//! optimized, and run by a backend. [`exec`] drives translation blocks; [`cpu`] holds the guest
//! state and its architectural rules; [`softmmu`] maps guest memory; [`hw`] holds devices;
//! [`loader`] boots multiboot kernels. The crate is `#![no_std]` + `alloc`; the command line lives
//! in the `tcg86` binary.

#![cfg_attr(not(test), no_std)]

extern crate alloc;
// `dynasm!`'s typemapped operands name `::std::mem::offset_of!`.
#[cfg(not(test))]
extern crate core as std;

pub mod cpu;
pub mod exec;
pub mod frontend;
#[cfg(feature = "std")]
pub mod fuzzing;
pub mod hw;
pub mod loader;
pub mod softmmu;
pub mod sys;
pub mod tcg;
