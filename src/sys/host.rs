//! Linux host: executable memory from `mmap`.
//!
//! The region is mapped read-write-execute once and never re-protected per TB (an `mprotect`
//! round trip costs ~90 µs). A split W^X mapping (two views of one memfd) is the hardening step
//! left for later.

use crate::tcg::x64::CodeRegion;

/// Map `len` bytes of executable memory near the binary's code is not required: the JIT reaches
/// helpers through absolute calls and its own epilogue through rel32 within the region.
pub fn alloc_code_region(len: usize) -> Option<CodeRegion> {
    // SAFETY: an anonymous private mapping with no address hint has no preconditions.
    let p = unsafe {
        libc::mmap(
            core::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    (p != libc::MAP_FAILED).then_some(CodeRegion { ptr: p as *mut u8, len })
}

/// Unmap a region from [`alloc_code_region`].
///
/// # Safety
/// Nothing may use the region afterwards: the machine (and its `JitCache`) that ran code from it
/// must be gone.
pub unsafe fn free_code_region(region: CodeRegion) {
    // SAFETY: the region is a whole mapping made by `alloc_code_region`, unused per the contract.
    unsafe { libc::munmap(region.ptr.cast(), region.len) };
}
