//! The execution engine (QEMU's `accel/tcg`): the `cpu_exec` loop, translation blocks and their
//! cache. This is the one module that joins the frontend, the backends, the TB cache and memory.

pub mod cpu_exec;
pub mod dump;
pub mod log;
pub mod tb;
pub mod tb_maint;

pub use cpu_exec::{ExecOptions, ExitReason, Machine};
pub use log::{LogMask, LogSink, Logger};
