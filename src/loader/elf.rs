//! ELF32 executables for i386: the file header and the `PT_LOAD` program headers, turned into the
//! [`Segment`]s a loader copies into guest RAM.
//!
//! Only what booting needs is read (System V ABI, "ELF: Executable and Linkable Format", chapters
//! "ELF Header" and "Program Header"): `ET_EXEC` for `EM_386`, little-endian, version 1. Segments are
//! placed at their physical address (`p_paddr`), as QEMU's `load_elf` does; the entry point, which
//! the ELF header gives as a virtual address, is translated through the segment that holds it.
//!
//! Invariants: a returned segment's `data` lies inside the file and is no longer than its memory
//! size; parsing never indexes outside the input slice.

use super::{read_u16, read_u32, LoadError, Segment};
use alloc::vec::Vec;

pub const ELF_MAGIC: [u8; 4] = [0x7f, b'E', b'L', b'F'];
const ELFCLASS32: u8 = 1;
const ELFCLASS64: u8 = 2;
const ELFDATA2LSB: u8 = 1;
const EV_CURRENT: u8 = 1;
const ET_EXEC: u16 = 2;
const EM_386: u16 = 3;
const PT_LOAD: u32 = 1;
/// Size of `Elf32_Ehdr`.
const EHDR_SIZE: usize = 52;
/// Size of `Elf32_Phdr`.
const PHDR_SIZE: usize = 32;

/// A parsed executable: what to copy where, and where to start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfImage<'a> {
    pub segments: Vec<Segment<'a>>,
    /// Physical entry address.
    pub entry: u32,
}

/// True if `file` starts with the ELF magic.
pub fn is_elf(file: &[u8]) -> bool {
    file.starts_with(&ELF_MAGIC)
}

/// Parse an ELF32 i386 executable.
pub fn parse(file: &[u8]) -> Result<ElfImage<'_>, LoadError> {
    check_ident(file)?;
    if file.len() < EHDR_SIZE {
        return Err(LoadError::ElfTruncatedHeader);
    }
    let (e_type, e_machine) = (read_u16(file, 16), read_u16(file, 18));
    if e_machine != EM_386 {
        return Err(LoadError::ElfWrongMachine(e_machine));
    }
    if e_type != ET_EXEC {
        return Err(LoadError::ElfNotExecutable(e_type));
    }
    let segments = program_headers(file)?;
    if segments.is_empty() {
        return Err(LoadError::ElfNoLoadableSegments);
    }
    let entry = entry_physical(read_u32(file, 24), &segments)?;
    let segments = segments.into_iter().map(|(_, s)| s).collect();
    Ok(ElfImage { segments, entry })
}

/// `e_ident`: magic, 32-bit class, little-endian, version 1.
fn check_ident(file: &[u8]) -> Result<(), LoadError> {
    if !is_elf(file) {
        return Err(LoadError::NotElf);
    }
    match file.get(4..7) {
        Some(&[ELFCLASS64, _, _]) => Err(LoadError::Elf64),
        Some(&[ELFCLASS32, ELFDATA2LSB, EV_CURRENT]) => Ok(()),
        Some(_) => Err(LoadError::ElfUnsupportedIdent),
        None => Err(LoadError::ElfTruncatedHeader),
    }
}

/// The `PT_LOAD` segments with memory in them, each with its virtual address.
fn program_headers(file: &[u8]) -> Result<Vec<(u32, Segment<'_>)>, LoadError> {
    let phoff = read_u32(file, 28) as usize;
    let phentsize = read_u16(file, 42) as usize;
    let phnum = read_u16(file, 44) as usize;
    if phnum != 0 && phentsize < PHDR_SIZE {
        return Err(LoadError::ElfBadProgramHeaderSize(phentsize as u16));
    }
    let table_len = phentsize * phnum;
    let table = phoff.checked_add(table_len).and_then(|end| file.get(phoff..end));
    let table = table.ok_or(LoadError::ElfTruncatedProgramHeaders)?;
    let mut segments = Vec::new();
    for ph in table.chunks_exact(phentsize.max(1)).take(phnum) {
        if let Some(seg) = load_segment(file, ph)? {
            segments.push(seg);
        }
    }
    Ok(segments)
}

/// One program header: `Some((vaddr, segment))` for a non-empty `PT_LOAD`, `None` otherwise.
fn load_segment<'a>(file: &'a [u8], ph: &[u8]) -> Result<Option<(u32, Segment<'a>)>, LoadError> {
    let (p_type, offset, vaddr, paddr) = (read_u32(ph, 0), read_u32(ph, 4), read_u32(ph, 8), read_u32(ph, 12));
    let (filesz, memsz) = (read_u32(ph, 16), read_u32(ph, 20));
    if p_type != PT_LOAD || memsz == 0 {
        return Ok(None);
    }
    if filesz > memsz {
        return Err(LoadError::ElfFileSizeExceedsMemSize { paddr, filesz, memsz });
    }
    let (start, len) = (offset as usize, filesz as usize);
    let data = start.checked_add(len).and_then(|end| file.get(start..end));
    let data = data.ok_or(LoadError::ElfSegmentTruncated { paddr, offset, filesz })?;
    Ok(Some((vaddr, Segment { addr: paddr, data, mem_size: memsz })))
}

/// Translate the virtual entry point to the physical address it is loaded at; it must lie inside
/// a segment.
fn entry_physical(entry: u32, segments: &[(u32, Segment)]) -> Result<u32, LoadError> {
    let inside = |base: u32, seg: &Segment| entry.wrapping_sub(base) < seg.mem_size;
    if let Some((vaddr, seg)) = segments.iter().find(|(vaddr, seg)| inside(*vaddr, seg)) {
        return Ok(entry - vaddr + seg.addr);
    }
    match segments.iter().any(|(_, seg)| inside(seg.addr, seg)) {
        true => Ok(entry),
        false => Err(LoadError::EntryOutsideImage(entry)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// An ELF header with `phnum` program headers right after it.
    fn header(class: u8, machine: u16, phnum: u16) -> Vec<u8> {
        let mut f = vec![0u8; EHDR_SIZE];
        f[..4].copy_from_slice(&ELF_MAGIC);
        f[4..7].copy_from_slice(&[class, ELFDATA2LSB, EV_CURRENT]);
        f[16..18].copy_from_slice(&ET_EXEC.to_le_bytes());
        f[18..20].copy_from_slice(&machine.to_le_bytes());
        f[24..28].copy_from_slice(&0xc010_0000u32.to_le_bytes());
        f[28..32].copy_from_slice(&(EHDR_SIZE as u32).to_le_bytes());
        f[42..44].copy_from_slice(&(PHDR_SIZE as u16).to_le_bytes());
        f[44..46].copy_from_slice(&phnum.to_le_bytes());
        f
    }

    fn phdr(f: &mut Vec<u8>, words: [u32; 8]) {
        words.iter().for_each(|w| f.extend_from_slice(&w.to_le_bytes()));
    }

    #[test]
    fn higher_half_entry_is_translated() {
        let mut f = header(ELFCLASS32, EM_386, 1);
        phdr(&mut f, [PT_LOAD, 0, 0xc010_0000, 0x10_0000, 0x60, 0x1000, 5, 0x1000]);
        f.resize(0x60, 0x90);
        let img = parse(&f).unwrap();
        assert_eq!(img.entry, 0x10_0000);
        assert_eq!(img.segments[0].data.len(), 0x60);
    }

    #[test]
    fn rejects() {
        assert_eq!(parse(&header(ELFCLASS64, 62, 0)), Err(LoadError::Elf64));
        assert_eq!(parse(&header(ELFCLASS32, 40, 0)), Err(LoadError::ElfWrongMachine(40)));
        assert_eq!(parse(&header(ELFCLASS32, EM_386, 0)), Err(LoadError::ElfNoLoadableSegments));
        assert_eq!(parse(&header(ELFCLASS32, EM_386, 2)), Err(LoadError::ElfTruncatedProgramHeaders));
        assert_eq!(parse(&ELF_MAGIC), Err(LoadError::ElfTruncatedHeader));
        let mut f = header(ELFCLASS32, EM_386, 1);
        phdr(&mut f, [PT_LOAD, 0, 0x10_0000, 0x10_0000, 0x2000, 0x1000, 5, 0x1000]);
        assert!(matches!(parse(&f), Err(LoadError::ElfFileSizeExceedsMemSize { .. })));
    }
}
