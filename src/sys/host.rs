//! Linux host: the JIT's code region as two views of one `memfd` (W^X).
//!
//! One anonymous memory file (`memfd_create`) is mapped twice, once read-write (where the JIT
//! writes code and patches `goto_tb` jumps) and once read-execute (where code runs and every
//! address the JIT computes points). No page of the process is ever writable and executable at
//! once, and the views are mapped once for the region's lifetime: no `mprotect` per TB (a round
//! trip costs ~90 µs). Writes through the other view need no cache maintenance: x86 detects
//! self- and cross-modifying code by physical address (Intel SDM Vol. 3A §11.6).
//!
//! Failure policy: when the kernel has no `memfd_create` at all (`ENOSYS`: Linux before 3.17,
//! or a sandbox that filters the call out that way) the region falls back to one read-write-execute
//! mapping, which [`CodeRegion::is_split`] reports so the caller can say so. Every other failure
//! (out of memory, a sandbox refusing `PROT_EXEC` on shared mappings, …) is an error naming the
//! failed step and the errno: silently weakening W^X would hide a misconfiguration.

use core::ffi::CStr;
use core::fmt;
use core::ptr::null_mut;

use crate::tcg::x64::CodeRegion;

/// Why the code region could not be mapped: the step that failed and its errno.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CodeRegionError {
    pub step: &'static str,
    pub errno: i32,
}

impl fmt::Display for CodeRegionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 128];
        // SAFETY: `buf` is writable for its length; XSI `strerror_r` NUL-terminates what it writes.
        let ok = unsafe { libc::strerror_r(self.errno, buf.as_mut_ptr().cast(), buf.len()) } == 0;
        let text = CStr::from_bytes_until_nul(&buf).ok().and_then(|s| s.to_str().ok()).filter(|_| ok);
        write!(f, "{} failed: {} (os error {})", self.step, text.unwrap_or("unknown error"), self.errno)
    }
}

impl core::error::Error for CodeRegionError {}

/// The calling thread's `errno` as a [`CodeRegionError`] for `step`.
fn last_error(step: &'static str) -> CodeRegionError {
    // SAFETY: `__errno_location` returns the calling thread's errno slot, always valid.
    CodeRegionError { step, errno: unsafe { *libc::__errno_location() } }
}

/// Map `len` bytes of code memory: a read-write view and a read-execute view of the same pages
/// (or, without `memfd_create`, one read-write-execute mapping; see the module doc).
pub fn alloc_code_region(len: usize) -> Result<CodeRegion, CodeRegionError> {
    let fd = match create_memfd() {
        Err(e) if e.errno == libc::ENOSYS => return map_rwx(len),
        r => r?,
    };
    let region = map_views(fd, len);
    // SAFETY: `fd` is ours; the mappings keep the file alive without it.
    unsafe { libc::close(fd) };
    region
}

/// A close-on-exec memory file that can never be `execve`d (`MFD_NOEXEC_SEAL`, Linux 6.3;
/// required when `vm.memfd_noexec` is 2). Older kernels reject the flag with `EINVAL`: retry
/// without it.
fn create_memfd() -> Result<i32, CodeRegionError> {
    for flags in [libc::MFD_CLOEXEC | libc::MFD_NOEXEC_SEAL, libc::MFD_CLOEXEC] {
        // SAFETY: the name is a NUL-terminated string; the call has no other preconditions.
        let fd = unsafe { libc::memfd_create(c"tcg86-jit".as_ptr(), flags) };
        if fd >= 0 {
            return Ok(fd);
        }
        let err = last_error("memfd_create");
        if err.errno != libc::EINVAL {
            return Err(err);
        }
    }
    Err(last_error("memfd_create"))
}

/// Size the memory file and map it twice: read-execute, then read-write.
fn map_views(fd: i32, len: usize) -> Result<CodeRegion, CodeRegionError> {
    let size = libc::off_t::try_from(len).map_err(|_| CodeRegionError { step: "ftruncate", errno: libc::EFBIG })?;
    // SAFETY: `fd` is an open memory file we own.
    if unsafe { libc::ftruncate(fd, size) } != 0 {
        return Err(last_error("ftruncate"));
    }
    let rx = map_shared(fd, len, libc::PROT_READ | libc::PROT_EXEC).ok_or_else(|| last_error("mmap (read-execute)"))?;
    let Some(rw) = map_shared(fd, len, libc::PROT_READ | libc::PROT_WRITE) else {
        let err = last_error("mmap (read-write)");
        // SAFETY: `rx` is a whole mapping made just above, not handed out.
        unsafe { libc::munmap(rx.cast(), len) };
        return Err(err);
    };
    Ok(CodeRegion { rx: rx.cast_const(), rw, len })
}

/// Map all of `fd` shared with protection `prot`; `None` on failure (errno set).
fn map_shared(fd: i32, len: usize, prot: i32) -> Option<*mut u8> {
    // SAFETY: a fresh shared mapping of our own file with no address hint replaces nothing.
    let p = unsafe { libc::mmap(null_mut(), len, prot, libc::MAP_SHARED, fd, 0) };
    (p != libc::MAP_FAILED).then_some(p.cast())
}

/// One anonymous read-write-execute mapping: the fallback without `memfd_create`, and the region
/// for `-perfmap` (perf reads `/tmp/perf-PID.map` only for anonymous memory, not for a memfd).
pub fn map_rwx(len: usize) -> Result<CodeRegion, CodeRegionError> {
    let prot = libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC;
    // SAFETY: an anonymous private mapping with no address hint has no preconditions.
    let p = unsafe { libc::mmap(null_mut(), len, prot, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0) };
    if p == libc::MAP_FAILED {
        return Err(last_error("mmap (read-write-execute)"));
    }
    Ok(CodeRegion { rx: p.cast_const().cast(), rw: p.cast(), len })
}

/// Unmap a region from [`alloc_code_region`] (both views).
///
/// # Safety
/// Nothing may use the region afterwards: the machine (and its `JitCache`) that ran code from it
/// must be gone.
pub unsafe fn free_code_region(region: CodeRegion) {
    // SAFETY: each view is a whole mapping made by `alloc_code_region`, unused per the contract.
    unsafe {
        libc::munmap(region.rx.cast_mut().cast(), region.len);
        if region.is_split() {
            libc::munmap(region.rw.cast(), region.len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Held while a test maps the read-write-execute fallback or scans /proc/self/maps for one.
    static RWX: Mutex<()> = Mutex::new(());

    /// The permissions ("rwxp") of the mapping of /proc/self/maps that contains `addr`.
    fn perms_at(maps: &str, addr: usize) -> Option<&str> {
        maps.lines().find_map(|line| {
            let (range, rest) = line.split_once(' ')?;
            let (lo, hi) = range.split_once('-')?;
            let (lo, hi) = (usize::from_str_radix(lo, 16).ok()?, usize::from_str_radix(hi, 16).ok()?);
            (lo..hi).contains(&addr).then(|| rest.get(..4)).flatten()
        })
    }

    #[test]
    fn no_mapping_is_writable_and_executable() {
        let _rwx = RWX.lock().unwrap_or_else(|e| e.into_inner());
        let region = alloc_code_region(1 << 20).expect("code region");
        assert!(region.is_split(), "memfd_create is available on the test host");
        let maps = std::fs::read_to_string("/proc/self/maps").expect("read /proc/self/maps");
        assert_eq!(perms_at(&maps, region.rx as usize), Some("r-xs"), "{maps}");
        assert_eq!(perms_at(&maps, region.rw as usize + region.len - 1), Some("rw-s"), "{maps}");
        for line in maps.lines() {
            let perms = line.split(' ').nth(1).unwrap_or("");
            assert!(!(perms.contains('w') && perms.contains('x')), "writable and executable: {line}");
        }
        // SAFETY: nothing uses the region.
        unsafe { free_code_region(region) };
    }

    #[test]
    fn code_written_through_rw_runs_at_rx() {
        let region = alloc_code_region(4096).expect("code region");
        // mov eax, 42; ret
        let code = [0xb8, 42, 0, 0, 0, 0xc3];
        // SAFETY: the rw view is 4096 writable bytes that nothing else uses.
        unsafe { core::ptr::copy_nonoverlapping(code.as_ptr(), region.rw, code.len()) };
        // SAFETY: the rx view now holds the function above (same pages as the rw view).
        let f: extern "C" fn() -> u32 = unsafe { core::mem::transmute(region.rx) };
        assert_eq!(f(), 42);
        // SAFETY: nothing uses the region after this.
        unsafe { free_code_region(region) };
    }

    #[test]
    fn the_fallback_is_one_mapping_reported_as_not_split() {
        let _rwx = RWX.lock().unwrap_or_else(|e| e.into_inner());
        let region = map_rwx(4096).expect("rwx mapping");
        assert!(!region.is_split());
        // SAFETY: nothing uses the region.
        unsafe { free_code_region(region) };
    }

    #[test]
    fn errors_name_the_step_and_errno() {
        let e = CodeRegionError { step: "mmap (read-execute)", errno: libc::ENOMEM };
        assert_eq!(e.to_string(), "mmap (read-execute) failed: Cannot allocate memory (os error 12)");
    }
}
