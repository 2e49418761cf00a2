//! Booting a kernel: everything between the user's command line and the guest's first
//! instruction, done the way `qemu-system-i386 -kernel` does it for multiboot v1 images.
//!
//! [`boot_multiboot`] finds the multiboot header ([`multiboot`]), lays the image out from its ELF32
//! program headers ([`elf`]) or the header's a.out-kludge addresses, copies it into guest RAM,
//! loads the modules, writes the multiboot information structure ([`mbi`]) and leaves the CPU in
//! the state the multiboot specification (0.6.96, section 3.2) promises: protected mode, flat
//! segments, paging and interrupts off, EAX = 0x2BADB002, EBX = the info structure's address.
//!
//! The loader works on byte slices and guest RAM only (no files: the std shim reads them). Every
//! malformed input is a [`LoadError`], never a panic; nothing is written outside guest RAM.

pub mod demo;
pub mod elf;
pub mod mbi;
pub mod multiboot;

use crate::cpu::X86Cpu;
use crate::softmmu::{PhysAddr, PhysMem};
use alloc::vec::Vec;
use core::fmt;

/// A piece of the image: `data` goes to guest physical `addr`, followed by zeros up to `mem_size`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment<'a> {
    pub addr: u32,
    pub data: &'a [u8],
    pub mem_size: u32,
}

/// A multiboot module (`-initrd`): its contents and the string the kernel sees for it.
#[derive(Clone, Debug)]
pub struct Module<'a> {
    pub data: &'a [u8],
    pub cmdline: &'a str,
}

/// What to boot.
#[derive(Clone, Debug)]
pub struct BootParams<'a> {
    pub kernel: &'a [u8],
    /// The kernel command line as the guest sees it (QEMU passes `"<kernel file> <-append>"`).
    pub cmdline: &'a str,
    pub modules: &'a [Module<'a>],
}

/// Where things ended up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootInfo {
    /// Physical entry point.
    pub entry: u32,
    /// Address of the multiboot information structure (EBX at entry).
    pub mbi_addr: u32,
    /// The kernel image in RAM, bss included: `image_start..image_end`.
    pub image_start: u32,
    pub image_end: u32,
    /// Each module's `start..end` in RAM.
    pub modules: Vec<(u32, u32)>,
}

/// Why an image cannot be booted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    Empty,
    NoMultibootHeader,
    BadChecksum {
        offset: u32,
    },
    HeaderTruncated {
        offset: u32,
    },
    UnsupportedFlags(u32),
    NotElf,
    Elf64,
    ElfUnsupportedIdent,
    ElfTruncatedHeader,
    ElfWrongMachine(u16),
    ElfNotExecutable(u16),
    ElfBadProgramHeaderSize(u16),
    ElfTruncatedProgramHeaders,
    ElfNoLoadableSegments,
    ElfFileSizeExceedsMemSize {
        paddr: u32,
        filesz: u32,
        memsz: u32,
    },
    ElfSegmentTruncated {
        paddr: u32,
        offset: u32,
        filesz: u32,
    },
    AoutBadAddresses {
        header_addr: u32,
        load_addr: u32,
        load_end_addr: u32,
        bss_end_addr: u32,
    },
    AoutTruncated {
        needed: u64,
        available: u64,
    },
    EntryOutsideImage(u32),
    /// `what` at `addr` (`len` bytes) does not fit in `ram` bytes of RAM.
    OutsideRam {
        what: &'static str,
        addr: u32,
        len: u64,
        ram: u64,
    },
    OverlapsBootArea {
        addr: u32,
        len: u64,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use LoadError::*;
        match *self {
            Empty => write!(f, "the image is empty"),
            NoMultibootHeader => write!(f, "no multiboot header (magic 0x1badb002) in the first 8192 bytes"),
            BadChecksum { offset } => write!(f, "multiboot header at offset {offset:#x} has a bad checksum"),
            HeaderTruncated { offset } => write!(f, "multiboot header at offset {offset:#x} is cut off"),
            UnsupportedFlags(fl) => write!(f, "multiboot header requires unsupported features (flags {fl:#010x})"),
            NotElf => write!(f, "not an ELF file, and the multiboot header has no a.out kludge (flag bit 16)"),
            Elf64 => write!(f, "ELF64 image: give a 32-bit (ELF32 i386) kernel"),
            ElfUnsupportedIdent => write!(f, "ELF image is not little-endian ELF version 1"),
            ElfTruncatedHeader => write!(f, "ELF header is cut off"),
            ElfWrongMachine(m) => write!(f, "ELF image is for machine {m}, not EM_386 (3)"),
            ElfNotExecutable(t) => write!(f, "ELF image has type {t}, not ET_EXEC (2)"),
            ElfBadProgramHeaderSize(s) => write!(f, "ELF program header entries are {s} bytes, less than 32"),
            ElfTruncatedProgramHeaders => write!(f, "ELF program header table runs past the end of the file"),
            ElfNoLoadableSegments => write!(f, "ELF image has no PT_LOAD segment"),
            ElfFileSizeExceedsMemSize { paddr, filesz, memsz } => {
                write!(f, "ELF segment at {paddr:#x} has p_filesz {filesz:#x} > p_memsz {memsz:#x}")
            }
            ElfSegmentTruncated { paddr, offset, filesz } => write!(
                f,
                "ELF segment at {paddr:#x}: file bytes {offset:#x}..{:#x} run past the end of the file",
                offset as u64 + filesz as u64
            ),
            AoutBadAddresses { header_addr, load_addr, load_end_addr, bss_end_addr } => write!(
                f,
                "a.out kludge addresses are inconsistent (header_addr {header_addr:#x}, load_addr {load_addr:#x}, \
                 load_end_addr {load_end_addr:#x}, bss_end_addr {bss_end_addr:#x})"
            ),
            AoutTruncated { needed, available } => {
                write!(f, "a.out kludge: load_end_addr needs {needed} bytes of file, the image has {available}")
            }
            EntryOutsideImage(e) => write!(f, "entry point {e:#x} is outside the loaded image"),
            OutsideRam { what, addr, len, ram } => {
                write!(f, "{what} at {addr:#x}..{:#x} does not fit in guest RAM ({} MiB)", addr as u64 + len, ram >> 20)
            }
            OverlapsBootArea { addr, len } => write!(
                f,
                "image at {addr:#x}..{:#x} overlaps the multiboot info area {:#x}..{:#x}",
                addr as u64 + len,
                mbi::BOOT_AREA_START,
                mbi::BOOT_AREA_END
            ),
        }
    }
}

/// Little-endian u32 at `off`; 0 past the end (callers check lengths first).
pub(crate) fn read_u32(b: &[u8], off: usize) -> u32 {
    let bytes = b.get(off..off + 4).and_then(|s| s.try_into().ok());
    bytes.map_or(0, u32::from_le_bytes)
}

/// Little-endian u16 at `off`; 0 past the end.
pub(crate) fn read_u16(b: &[u8], off: usize) -> u16 {
    let bytes = b.get(off..off + 2).and_then(|s| s.try_into().ok());
    bytes.map_or(0, u16::from_le_bytes)
}

/// Copy `data` to guest RAM at `addr`, naming `what` if it does not fit.
pub(crate) fn copy_to_ram(mem: &mut PhysMem, what: &'static str, addr: u32, data: &[u8]) -> Result<(), LoadError> {
    let ram = mem.ram_size() as u64;
    let err = LoadError::OutsideRam { what, addr, len: data.len() as u64, ram };
    mem.load(PhysAddr(addr), data).map_err(|_| err)
}

/// Load the kernel, its modules and the multiboot information into RAM.
pub fn load_multiboot(mem: &mut PhysMem, params: &BootParams) -> Result<BootInfo, LoadError> {
    if params.kernel.is_empty() {
        return Err(LoadError::Empty);
    }
    let header = multiboot::find_header(params.kernel)?;
    let (segments, entry) = multiboot::layout(params.kernel, &header)?;
    let (image_start, image_end) = multiboot::load_segments(mem, &segments)?;
    let info = mbi::write(mem, image_end, params)?;
    Ok(BootInfo { entry, mbi_addr: info.mbi_addr, image_start, image_end, modules: info.modules })
}

/// Load as [`load_multiboot`] does, then reset the CPU to the multiboot entry state.
pub fn boot_multiboot(cpu: &mut X86Cpu, params: &BootParams) -> Result<BootInfo, LoadError> {
    let info = load_multiboot(&mut cpu.mem, params)?;
    cpu.env.reset_multiboot(info.entry, info.mbi_addr);
    Ok(info)
}
