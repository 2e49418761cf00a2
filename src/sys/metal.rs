//! Bare metal: the JIT's code region is a static, page-aligned array.
//!
//! There is no operating system to map memory, so the region is reserved at link time: a
//! zero-initialised `static` in its own section `.bss.tcg86_jit` (no bytes in the image; a link
//! script may place it on pages of its own). It is handed out as one view (`rx == rw`,
//! [`CodeRegion::is_split`] false), which the image's page tables must make executable. An image
//! that maps the region's pages a second time can keep W^X by moving `rx` to that alias: the
//! image in metal/ maps them read-only and executable 1 GiB higher, and writable but not
//! executable where they are linked.
//!
//! Invariant: the region is handed out at most once per boot ([`take_code_region`]), so exactly
//! one `JitCache` ever owns it.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::tcg::x64::CodeRegion;

/// Bytes of the static code region.
pub const CODE_REGION_SIZE: usize = 16 << 20;

/// The code memory: page-aligned, written only through the [`CodeRegion`] handed out once.
#[repr(C, align(4096))]
struct StaticRegion(UnsafeCell<[u8; CODE_REGION_SIZE]>);

// SAFETY: the bytes are only reached through the one `CodeRegion` `take_code_region` hands out;
// the static itself is never read or written as a Rust value.
unsafe impl Sync for StaticRegion {}

#[link_section = ".bss.tcg86_jit"]
static CODE: StaticRegion = StaticRegion(UnsafeCell::new([0; CODE_REGION_SIZE]));

/// Whether `CODE` has been handed out.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// The static code region, the first time only; `None` on every later call.
pub fn take_code_region() -> Option<CodeRegion> {
    if TAKEN.swap(true, Ordering::AcqRel) {
        return None;
    }
    let p = CODE.0.get().cast::<u8>();
    Some(CodeRegion { rx: p.cast_const(), rw: p, len: CODE_REGION_SIZE })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_is_page_aligned_and_handed_out_once() {
        let region = take_code_region().expect("first call");
        assert_eq!(region.rx as usize % 4096, 0);
        assert_eq!(region.len, CODE_REGION_SIZE);
        assert!(!region.is_split());
        assert!(take_code_region().is_none(), "second call");
    }
}
