//! The SoftMMU's guest-independent parts: guest physical memory and the software TLB.
//! The x86 page walk and the `qemu_ld`/`qemu_st` slow paths that fill the TLB live in `cpu`.

pub mod code_pages;
pub mod physmem;
pub mod tlb;

pub use physmem::{PhysAddr, PhysMem};
pub use tlb::{Access, Tlb, TlbEntry, TlbStats};
