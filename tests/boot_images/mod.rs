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

/// Prints `[cmdline]`, `[boot loader name]`, `[module 0 string]`, `[module 1 string]` (one per line)
/// from the multiboot information over COM1, then exits with status `(mods_count << 1) | 1`.
/// Needs two modules. Position-independent; stack at 0x90000.
#[rustfmt::skip]
pub const PRINT_MBI_STRINGS: &[u8] = &[
    0xbc, 0x00, 0x00, 0x09, 0x00,     // mov $0x90000,%esp
    0x89, 0xdd,                       // mov %ebx,%ebp            ebp = mbi
    0x8b, 0x75, 0x10,                 // mov 0x10(%ebp),%esi      cmdline
    0xe8, 0x20, 0x00, 0x00, 0x00,     // call puts
    0x8b, 0x75, 0x40,                 // mov 0x40(%ebp),%esi      boot_loader_name
    0xe8, 0x18, 0x00, 0x00, 0x00,     // call puts
    0x8b, 0x7d, 0x18,                 // mov 0x18(%ebp),%edi      mods_addr
    0x8b, 0x77, 0x08,                 // mov 0x8(%edi),%esi       mods[0].string
    0xe8, 0x0d, 0x00, 0x00, 0x00,     // call puts
    0x8b, 0x77, 0x18,                 // mov 0x18(%edi),%esi      mods[1].string
    0xe8, 0x05, 0x00, 0x00, 0x00,     // call puts
    0x8b, 0x45, 0x14,                 // mov 0x14(%ebp),%eax      mods_count
    0xe6, 0xf4,                       // out %al,$0xf4
    // puts: "[" string "]\n"
    0x66, 0xba, 0xf8, 0x03,           // mov $0x3f8,%dx
    0xb0, 0x5b,                       // mov $0x5b,%al
    0xee,                             // out %al,(%dx)
    0x8a, 0x06,                       // 1: mov (%esi),%al
    0x3c, 0x00,                       // cmp $0x0,%al
    0x74, 0x04,                       // je 2f
    0xee,                             // out %al,(%dx)
    0x46,                             // inc %esi
    0xeb, 0xf6,                       // jmp 1b
    0xb0, 0x5d,                       // 2: mov $0x5d,%al
    0xee,                             // out %al,(%dx)
    0xb0, 0x0a,                       // mov $0xa,%al
    0xee,                             // out %al,(%dx)
    0xc3,                             // ret
];

/// A loop, then three calls to one function, then exit 0 (status 1): TBs that exercise every way
/// a TB is left (both `goto_tb` slots, a self loop, `lookup_and_goto_ptr` on `ret`, an exit
/// request). Needs `BASE + 32` = 0x100020 as its address (an [`aout`] image). The TB starts:
/// A 0x100020, B 0x10002a, C 0x100030, F 0x100035, E 0x10003a, G 0x10003d, D 0x100041.
#[rustfmt::skip]
pub const LOOP_AND_CALLS: &[u8] = &[
    0xbc, 0x00, 0x00, 0x09, 0x00,     // 100020 A: mov $0x90000,%esp
    0xb9, 0x00, 0x00, 0x00, 0x00,     // 100025    mov $0,%ecx
    0x41,                             // 10002a B: 1: inc %ecx
    0x83, 0xf9, 0x04,                 // 10002b    cmp $4,%ecx
    0x75, 0xfa,                       // 10002e    jne 1b
    0xbb, 0x03, 0x00, 0x00, 0x00,     // 100030 C: mov $3,%ebx
    0xe8, 0x07, 0x00, 0x00, 0x00,     // 100035 F: 2: call f
    0x4b,                             // 10003a E: dec %ebx
    0x75, 0xf8,                       // 10003b    jne 2b
    0xb0, 0x00,                       // 10003d G: mov $0,%al
    0xe6, 0xf4,                       // 10003f    out %al,$0xf4
    0xc3,                             // 100041 D: f: ret
];

/// `lookup_and_goto_ptr` with a run-time `cc_op`: R is first entered with `cc_op` EFLAGS (after
/// `stc`), then 99 times by the `ret` of f, whose `shl %cl` picks its `cc_op` at run time. R reads
/// ZF, which is 1 every time: exits with status (100 << 1) | 1 = 201. A `ret` that looked up R
/// with a stale `cc_op` would find the EFLAGS copy of R and read ZF from the wrong place.
#[rustfmt::skip]
pub const RET_WITH_RUNTIME_CC_OP: &[u8] = &[
    0xbc, 0x00, 0x00, 0x09, 0x00,     // 100020    mov $0x90000,%esp
    0x31, 0xdb,                       // 100025    xor %ebx,%ebx         bl: times ZF was 1
    0x31, 0xf6,                       // 100027    xor %esi,%esi         esi: passes
    0xb9, 0x01, 0x00, 0x00, 0x00,     // 100029    mov $1,%ecx
    0x31, 0xc0,                       // 10002e    xor %eax,%eax         ZF = 1
    0xf9,                             // 100030    stc                   cc_op EFLAGS
    0xeb, 0x0b,                       // 100031    jmp R
    0xba, 0x00, 0x00, 0x00, 0x80,     // 100033 back: mov $0x80000000,%edx
    0xf9,                             // 100038    stc
    0xe8, 0x0f, 0x00, 0x00, 0x00,     // 100039    call f
    0x0f, 0x94, 0xc0,                 // 10003e R: sete %al
    0x00, 0xc3,                       // 100041    add %al,%bl
    0x46,                             // 100043    inc %esi
    0x83, 0xfe, 0x64,                 // 100044    cmp $100,%esi
    0x75, 0xea,                       // 100047    jne back
    0x88, 0xd8,                       // 100049    mov %bl,%al
    0xe6, 0xf4,                       // 10004b    out %al,$0xf4
    0xd3, 0xe2,                       // 10004d f: shl %cl,%edx         0x80000000 << 1 = 0: ZF = 1
    0xc3,                             // 10004f    ret
];
