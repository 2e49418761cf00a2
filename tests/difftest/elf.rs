//! A minimal static ELF32 executable for i386 Linux: one RWX `PT_LOAD` segment mapped from file
//! offset 0 (headers included), no sections (System V ABI, i386 supplement).

/// ELF header (52 bytes) + one program header (32 bytes).
pub const HEADERS_SIZE: usize = 84;

/// The file for an image loaded at `base` (page aligned) whose first `HEADERS_SIZE` bytes are
/// reserved for the headers; `memsz` ≥ image length (the rest is zero-filled).
pub fn build(mut image: Vec<u8>, base: u32, entry: u32, memsz: u32) -> Vec<u8> {
    let filesz = image.len() as u32;
    let mut h = Vec::with_capacity(HEADERS_SIZE);
    h.extend_from_slice(&[0x7f, b'E', b'L', b'F', 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    h.extend_from_slice(&2u16.to_le_bytes()); // e_type: ET_EXEC
    h.extend_from_slice(&3u16.to_le_bytes()); // e_machine: EM_386
    h.extend_from_slice(&1u32.to_le_bytes()); // e_version
    h.extend_from_slice(&entry.to_le_bytes());
    h.extend_from_slice(&52u32.to_le_bytes()); // e_phoff
    h.extend_from_slice(&0u32.to_le_bytes()); // e_shoff
    h.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    for v in [52u16, 32, 1, 40, 0, 0] {
        // e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx
        h.extend_from_slice(&v.to_le_bytes());
    }
    for v in [1u32, 0, base, base, filesz, memsz, 7, 0x1000] {
        // p_type PT_LOAD, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags RWX, p_align
        h.extend_from_slice(&v.to_le_bytes());
    }
    image[..HEADERS_SIZE].copy_from_slice(&h);
    image
}
