//! The guest CPU: its state (`env`), lazy flags, guest virtual memory, and the architectural
//! machinery the exec loop and helpers share (segmentation, exception and interrupt delivery).

pub mod cc;
pub mod excp;
pub mod far;
pub mod jmp_cache;
pub mod mem_helper;
pub mod seg;
pub mod state;
pub mod x86cpu;

pub use cc::CcOp;
pub use state::CpuState;
pub use x86cpu::X86Cpu;
