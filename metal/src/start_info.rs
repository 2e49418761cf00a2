//! The PVH start info (Xen's `hvm_start_info`, public/arch-x86/hvm/start_info.h) that QEMU passes
//! in ebx: only the kernel command line (`-append`) is read.

use core::ffi::{c_char, CStr};

const MAGIC: u32 = 0x336e_c578;
/// Offset of `cmdline_paddr` (u64) after magic, version, flags, nr_modules and modlist_paddr.
const CMDLINE_PADDR: usize = 24;

/// The command line of the start info at physical address `paddr` ("" if there is none).
pub fn cmdline(paddr: u32) -> &'static str {
    let p = paddr as usize as *const u8;
    if p.is_null() {
        return "";
    }
    // SAFETY: QEMU puts the start info at `paddr`, identity-mapped and never written afterwards.
    let (magic, cmd) =
        unsafe { (p.cast::<u32>().read_unaligned(), p.add(CMDLINE_PADDR).cast::<u64>().read_unaligned()) };
    if magic != MAGIC || cmd == 0 || cmd >= 1 << 30 {
        return "";
    }
    // SAFETY: a NUL-terminated string QEMU placed in identity-mapped low memory.
    let s = unsafe { CStr::from_ptr(cmd as usize as *const c_char) };
    s.to_str().unwrap_or("")
}
