//! The multiboot v1 header (specification 0.6.96, section 3.1) and the image layout it selects.
//!
//! The header is a 4-byte aligned structure within the first 8192 bytes of the file: `magic`
//! (0x1BADB002), `flags`, `checksum` (the three sum to zero), then, when flag bit 16 (the "a.out
//! kludge") is set, `header_addr`, `load_addr`, `load_end_addr`, `bss_end_addr`, `entry_addr`.
//! With the kludge the file is loaded from those addresses; without it the file must be ELF32.
//! Like QEMU, a magic word with a bad checksum is skipped and the search goes on.
//!
//! Invariants: the returned segments lie inside the file; loading them checks every byte against
//! guest RAM and keeps them clear of the low area where the multiboot information lives.

use super::{copy_to_ram, elf, mbi, read_u32, LoadError, Segment};
use crate::softmmu::{PhysAddr, PhysMem};
use alloc::vec;
use alloc::vec::Vec;

pub const MULTIBOOT_HEADER_MAGIC: u32 = 0x1bad_b002;
/// EAX at the kernel's entry.
pub const MULTIBOOT_BOOTLOADER_MAGIC: u32 = 0x2bad_b002;
/// The header must lie within this many bytes from the start of the file.
pub const MULTIBOOT_SEARCH: usize = 8192;

/// Header flag bits.
pub mod flags {
    /// Align modules on 4 KiB boundaries (always done).
    pub const PAGE_ALIGN: u32 = 1 << 0;
    /// Provide mem_lower/mem_upper and the memory map (always done).
    pub const MEMORY_INFO: u32 = 1 << 1;
    /// Video mode table (ignored, as QEMU does).
    pub const VIDEO_MODE: u32 = 1 << 2;
    /// The a.out kludge address fields are valid.
    pub const AOUT_KLUDGE: u32 = 1 << 16;
    /// Bits 0-15 are requirements: a loader that does not know one must refuse the image.
    pub const REQUIRED: u32 = 0xffff;
    pub const KNOWN: u32 = PAGE_ALIGN | MEMORY_INFO | VIDEO_MODE;
}

/// A parsed header.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// File offset of the magic word.
    pub offset: u32,
    pub flags: u32,
    pub header_addr: u32,
    pub load_addr: u32,
    pub load_end_addr: u32,
    pub bss_end_addr: u32,
    pub entry_addr: u32,
}

/// Find and check the header.
pub fn find_header(file: &[u8]) -> Result<Header, LoadError> {
    let limit = file.len().min(MULTIBOOT_SEARCH);
    let mut bad_checksum = None;
    for off in (0..limit.saturating_sub(11)).step_by(4) {
        if read_u32(file, off) != MULTIBOOT_HEADER_MAGIC {
            continue;
        }
        let flags = read_u32(file, off + 4);
        let sum = MULTIBOOT_HEADER_MAGIC.wrapping_add(flags).wrapping_add(read_u32(file, off + 8));
        if sum == 0 {
            return parse_header(file, off, flags);
        }
        bad_checksum.get_or_insert(off as u32);
    }
    match bad_checksum {
        Some(offset) => Err(LoadError::BadChecksum { offset }),
        None => Err(LoadError::NoMultibootHeader),
    }
}

fn parse_header(file: &[u8], off: usize, flags: u32) -> Result<Header, LoadError> {
    let unknown = flags & flags::REQUIRED & !flags::KNOWN;
    if unknown != 0 {
        return Err(LoadError::UnsupportedFlags(flags));
    }
    let mut h = Header { offset: off as u32, flags, ..Header::default() };
    if flags & flags::AOUT_KLUDGE != 0 {
        if off + 32 > file.len() {
            return Err(LoadError::HeaderTruncated { offset: off as u32 });
        }
        h.header_addr = read_u32(file, off + 12);
        h.load_addr = read_u32(file, off + 16);
        h.load_end_addr = read_u32(file, off + 20);
        h.bss_end_addr = read_u32(file, off + 24);
        h.entry_addr = read_u32(file, off + 28);
    }
    Ok(h)
}

/// The segments to load and the physical entry point.
pub fn layout<'a>(file: &'a [u8], h: &Header) -> Result<(Vec<Segment<'a>>, u32), LoadError> {
    if h.flags & flags::AOUT_KLUDGE != 0 {
        let seg = aout_segment(file, h)?;
        return Ok((vec![seg], h.entry_addr));
    }
    if !elf::is_elf(file) {
        return Err(LoadError::NotElf);
    }
    let img = elf::parse(file)?;
    Ok((img.segments, img.entry))
}

/// The a.out kludge: the file from `offset - (header_addr - load_addr)` goes to `load_addr`, up to
/// `load_end_addr` (0: the end of the file); zeros follow up to `bss_end_addr` (0: no bss).
fn aout_segment<'a>(file: &'a [u8], h: &Header) -> Result<Segment<'a>, LoadError> {
    let bad = LoadError::AoutBadAddresses {
        header_addr: h.header_addr,
        load_addr: h.load_addr,
        load_end_addr: h.load_end_addr,
        bss_end_addr: h.bss_end_addr,
    };
    let header_delta = h.header_addr.checked_sub(h.load_addr).ok_or(bad.clone())?;
    let text_offset = h.offset.checked_sub(header_delta).ok_or(bad.clone())? as usize;
    let available = (file.len() - text_offset) as u64;
    let file_len = match h.load_end_addr {
        0 => available,
        end => end.checked_sub(h.load_addr).ok_or(bad.clone())? as u64,
    };
    if file_len > available {
        return Err(LoadError::AoutTruncated { needed: file_len, available });
    }
    let load_end = h.load_addr as u64 + file_len;
    let mem_end = match h.bss_end_addr {
        0 => load_end,
        bss_end if (bss_end as u64) < load_end => return Err(bad),
        bss_end => bss_end as u64,
    };
    let mem_size = u32::try_from(mem_end - h.load_addr as u64).map_err(|_| bad)?;
    if h.entry_addr.wrapping_sub(h.load_addr) >= mem_size {
        return Err(LoadError::EntryOutsideImage(h.entry_addr));
    }
    let data = &file[text_offset..text_offset + file_len as usize];
    Ok(Segment { addr: h.load_addr, data, mem_size })
}

/// Copy the segments into RAM and zero their bss; returns the image's `start..end` extent.
pub fn load_segments(mem: &mut PhysMem, segments: &[Segment]) -> Result<(u32, u32), LoadError> {
    let ram = mem.ram_size() as u64;
    let (mut start, mut end) = (u64::MAX, 0u64);
    for seg in segments {
        let seg_end = seg.addr as u64 + seg.mem_size as u64;
        if seg_end > ram {
            return Err(LoadError::OutsideRam { what: "segment", addr: seg.addr, len: seg.mem_size as u64, ram });
        }
        if seg_end > mbi::BOOT_AREA_START as u64 && seg.addr < mbi::BOOT_AREA_END {
            return Err(LoadError::OverlapsBootArea { addr: seg.addr, len: seg.mem_size as u64 });
        }
        start = start.min(seg.addr as u64);
        end = end.max(seg_end);
    }
    for seg in segments {
        copy_to_ram(mem, "segment", seg.addr, seg.data)?;
        let bss = PhysAddr(seg.addr + seg.data.len() as u32);
        let bss_len = (seg.mem_size as usize) - seg.data.len();
        let err = LoadError::OutsideRam { what: "bss", addr: bss.0, len: bss_len as u64, ram };
        mem.zero(bss, bss_len).map_err(|_| err)?;
    }
    Ok((start as u32, end as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(words: &[u32]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    #[test]
    fn finds_header_after_bad_one() {
        let m = MULTIBOOT_HEADER_MAGIC;
        let mut f = header(&[0, m, 0, 1]);
        f.extend(header(&[m, 0, 0u32.wrapping_sub(m)]));
        assert_eq!(find_header(&f).map(|h| h.offset), Ok(16));
        assert_eq!(find_header(&f[..16]), Err(LoadError::BadChecksum { offset: 4 }));
        assert_eq!(find_header(&[0; 64]), Err(LoadError::NoMultibootHeader));
    }

    #[test]
    fn header_past_8192_is_not_found() {
        let m = MULTIBOOT_HEADER_MAGIC;
        let mut f = vec![0; 8192];
        f.extend(header(&[m, 0, 0u32.wrapping_sub(m)]));
        assert_eq!(find_header(&f), Err(LoadError::NoMultibootHeader));
    }

    #[test]
    fn unknown_required_flag() {
        let m = MULTIBOOT_HEADER_MAGIC;
        let f = header(&[m, 8, 0u32.wrapping_sub(m + 8)]);
        assert_eq!(find_header(&f), Err(LoadError::UnsupportedFlags(8)));
    }

    #[test]
    fn aout_with_bss_and_truncation() {
        let (m, fl) = (MULTIBOOT_HEADER_MAGIC, flags::AOUT_KLUDGE);
        let base = 0x10_0000;
        let f = header(&[m, fl, 0u32.wrapping_sub(m + fl), base, base, base + 36, base + 0x1000, base + 32, 0x90f4]);
        let h = find_header(&f).unwrap();
        let (segs, entry) = layout(&f, &h).unwrap();
        assert_eq!((segs[0].addr, segs[0].data.len(), segs[0].mem_size, entry), (base, 36, 0x1000, base + 32));
        let f = header(&[m, fl, 0u32.wrapping_sub(m + fl), base, base, base + 64, 0, base + 32]);
        let h = find_header(&f).unwrap();
        assert_eq!(layout(&f, &h), Err(LoadError::AoutTruncated { needed: 64, available: 32 }));
    }
}
