//! Synthetic multiboot images for the loader and command-line tests, built byte by byte so the
//! tests need no assembler: a.out-kludge images, ELF32 executables, and a few code snippets.
#![allow(dead_code)]

pub const MAGIC: u32 = 0x1bad_b002;
pub const AOUT_KLUDGE: u32 = 1 << 16;
pub const BASE: u32 = 0x10_0000;

/// `mov $v,%al; out %al,$0xf4`: exit with status `(v << 1) | 1`.
pub fn exit_with(v: u8) -> Vec<u8> {
    vec![0xb0, v, 0xe6, 0xf4]
}

/// `cli; hlt`.
pub const CLI_HLT: [u8; 2] = [0xfa, 0xf4];
/// `jmp .`
pub const SPIN: [u8; 2] = [0xeb, 0xfe];
/// `ud2`
pub const UD2: [u8; 2] = [0x0f, 0x0b];

pub fn words(ws: &[u32]) -> Vec<u8> {
    ws.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// A multiboot header with only `flags`.
pub fn header(flags: u32) -> Vec<u8> {
    words(&[MAGIC, flags, 0u32.wrapping_sub(MAGIC.wrapping_add(flags))])
}

/// An a.out-kludge image loaded at `BASE`: the 32-byte header, then `code` (the entry point),
/// followed by `bss` zero bytes in memory.
pub fn aout(code: &[u8], bss: u32) -> Vec<u8> {
    let end = BASE + 32 + code.len() as u32;
    let mut f = header(AOUT_KLUDGE);
    f.extend(words(&[BASE, BASE, end, end + bss, BASE + 32]));
    f.extend_from_slice(code);
    f
}

/// One ELF32 program header's worth of segment.
pub struct Seg<'a> {
    pub paddr: u32,
    pub vaddr: u32,
    pub data: &'a [u8],
    pub memsz: u32,
}

/// An ELF32 i386 executable: header, program headers, a multiboot header (flags 0), then the
/// segments' data in order.
pub fn elf(segs: &[Seg], entry: u32) -> Vec<u8> {
    let phoff = 52u32;
    let mb_off = phoff + 32 * segs.len() as u32;
    let mut data_off = mb_off + 12;
    let mut f = vec![0x7f, b'E', b'L', b'F', 1, 1, 1];
    f.resize(16, 0);
    f.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f.extend_from_slice(&3u16.to_le_bytes()); // EM_386
    f.extend(words(&[1, entry, phoff, 0, 0]));
    for h in [52u16, 32, segs.len() as u16, 40, 0, 0] {
        f.extend_from_slice(&h.to_le_bytes());
    }
    for s in segs {
        f.extend(words(&[1, data_off, s.vaddr, s.paddr, s.data.len() as u32, s.memsz, 7, 0x1000]));
        data_off += s.data.len() as u32;
    }
    f.extend(header(0));
    segs.iter().for_each(|s| f.extend_from_slice(s.data));
    f
}

/// Set byte `at` of a header field (little-endian u16/u32 helpers for corrupting images).
pub fn put_u32(f: &mut [u8], at: usize, v: u32) {
    f[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

pub fn put_u16(f: &mut [u8], at: usize, v: u16) {
    f[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
