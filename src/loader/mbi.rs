//! The multiboot information structure (specification 0.6.96, section 3.3) and what it points to,
//! written into guest RAM where QEMU puts them.
//!
//! Layout (QEMU's `hw/i386/multiboot.c`): the memory map at 0x9000 and the information structure
//! at 0x9500, both below 1 MiB; after the kernel image, from the next page boundary: the module
//! list, the command-line strings and the boot loader name; then each module on its own page
//! boundary. The memory map is the one SeaBIOS reports for a PC: conventional memory up to the
//! EBDA (0x9fc00), the BIOS area, extended memory from 1 MiB to the end of RAM, the BIOS flash.
//!
//! Invariants: every byte written lies inside guest RAM (checked; an error otherwise); strings are
//! NUL-terminated; module `mod_end` is exclusive.

use super::{copy_to_ram, BootParams, LoadError};
use crate::softmmu::PhysMem;
use alloc::vec::Vec;

/// The low area reserved for the memory map and the information structure.
pub const BOOT_AREA_START: u32 = 0x9000;
pub const BOOT_AREA_END: u32 = 0xa000;
pub const MMAP_ADDR: u32 = 0x9000;
pub const MBI_ADDR: u32 = 0x9500;
pub const BOOTLOADER_NAME: &str = "tcg86";
/// KiB of conventional memory below the EBDA (int 12h with SeaBIOS).
pub const MEM_LOWER_KIB: u32 = 639;
/// "No boot device": drive 0x80, no partitions (QEMU's value).
pub const BOOT_DEVICE: u32 = 0x8000_ffff;
const PAGE: u64 = 4096;
const MIB: u64 = 1 << 20;

/// `flags` bits of the information structure: which fields are valid.
pub mod info_flags {
    pub const MEMORY: u32 = 1 << 0;
    pub const BOOT_DEVICE: u32 = 1 << 1;
    pub const CMDLINE: u32 = 1 << 2;
    pub const MODS: u32 = 1 << 3;
    pub const MEM_MAP: u32 = 1 << 6;
    pub const BOOT_LOADER_NAME: u32 = 1 << 9;
}

/// Byte offsets of the information structure's fields.
pub mod field {
    pub const FLAGS: usize = 0;
    pub const MEM_LOWER: usize = 4;
    pub const MEM_UPPER: usize = 8;
    pub const BOOT_DEVICE: usize = 12;
    pub const CMDLINE: usize = 16;
    pub const MODS_COUNT: usize = 20;
    pub const MODS_ADDR: usize = 24;
    pub const MMAP_LENGTH: usize = 44;
    pub const MMAP_ADDR: usize = 48;
    pub const BOOT_LOADER_NAME: usize = 64;
    /// Size of the structure up to the VBE fields.
    pub const SIZE: usize = 88;
}

/// Size of a module list entry (`mod_start`, `mod_end`, `string`, reserved).
pub const MOD_ENTRY_SIZE: u64 = 16;
/// Memory map entry types.
pub const MMAP_AVAILABLE: u32 = 1;
pub const MMAP_RESERVED: u32 = 2;

/// What [`write`] placed.
pub struct Written {
    pub mbi_addr: u32,
    pub modules: Vec<(u32, u32)>,
}

/// A bump allocator over guest physical memory after the kernel.
struct Area {
    next: u64,
}

impl Area {
    fn put(&mut self, mem: &mut PhysMem, what: &'static str, data: &[u8]) -> Result<u32, LoadError> {
        let ram = mem.ram_size() as u64;
        let addr = u32::try_from(self.next);
        let addr = addr.map_err(|_| LoadError::OutsideRam { what, addr: u32::MAX, len: data.len() as u64, ram })?;
        copy_to_ram(mem, what, addr, data)?;
        self.next += data.len() as u64;
        Ok(addr)
    }

    fn put_str(&mut self, mem: &mut PhysMem, what: &'static str, s: &str) -> Result<u32, LoadError> {
        let mut bytes = Vec::with_capacity(s.len() + 1);
        bytes.extend_from_slice(s.as_bytes());
        bytes.push(0);
        self.put(mem, what, &bytes)
    }

    fn align_page(&mut self) {
        self.next = self.next.div_ceil(PAGE) * PAGE;
    }
}

/// Write strings, modules, memory map and the information structure; `image_end` is the first
/// byte after the kernel (bss included).
pub fn write(mem: &mut PhysMem, image_end: u32, params: &BootParams) -> Result<Written, LoadError> {
    let mut area = Area { next: image_end as u64 };
    area.align_page();
    let mods_addr = area.next as u32;
    area.next += MOD_ENTRY_SIZE * params.modules.len() as u64;
    let cmdline = area.put_str(mem, "command line", params.cmdline)?;
    let mut strings = Vec::with_capacity(params.modules.len());
    for m in params.modules {
        strings.push(area.put_str(mem, "module string", m.cmdline)?);
    }
    let name = area.put_str(mem, "boot loader name", BOOTLOADER_NAME)?;
    let modules = load_modules(mem, &mut area, params)?;
    let list: Vec<u8> = modules.iter().zip(&strings).flat_map(|(&(s, e), &str)| words(&[s, e, str, 0])).collect();
    copy_to_ram(mem, "module list", mods_addr, &list)?;
    let mmap_len = write_mmap(mem)?;
    let mut mbi = [0u8; field::SIZE];
    let ram = mem.ram_size() as u64;
    let fields = [
        (field::FLAGS, all_flags()),
        (field::MEM_LOWER, MEM_LOWER_KIB),
        (field::MEM_UPPER, (ram.saturating_sub(MIB) / 1024) as u32),
        (field::BOOT_DEVICE, BOOT_DEVICE),
        (field::CMDLINE, cmdline),
        (field::MODS_COUNT, modules.len() as u32),
        (field::MODS_ADDR, mods_addr),
        (field::MMAP_LENGTH, mmap_len),
        (field::MMAP_ADDR, MMAP_ADDR),
        (field::BOOT_LOADER_NAME, name),
    ];
    for (off, v) in fields {
        mbi[off..off + 4].copy_from_slice(&v.to_le_bytes());
    }
    copy_to_ram(mem, "multiboot info", MBI_ADDR, &mbi)?;
    Ok(Written { mbi_addr: MBI_ADDR, modules })
}

fn all_flags() -> u32 {
    use info_flags::*;
    MEMORY | BOOT_DEVICE | CMDLINE | MODS | MEM_MAP | BOOT_LOADER_NAME
}

/// Each module from the next page boundary; returns their `start..end`.
fn load_modules(mem: &mut PhysMem, area: &mut Area, params: &BootParams) -> Result<Vec<(u32, u32)>, LoadError> {
    let mut placed = Vec::with_capacity(params.modules.len());
    for m in params.modules {
        area.align_page();
        let start = area.put(mem, "module", m.data)?;
        placed.push((start, start + m.data.len() as u32));
    }
    Ok(placed)
}

fn words(ws: &[u32]) -> Vec<u8> {
    ws.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// The memory map entries: (base, length, type).
pub fn memory_map(ram: u64) -> Vec<(u64, u64, u32)> {
    let mut map = alloc::vec![
        (0, 0x9_fc00, MMAP_AVAILABLE),
        (0x9_fc00, 0x400, MMAP_RESERVED),
        (0xf_0000, 0x1_0000, MMAP_RESERVED),
    ];
    if ram > MIB {
        map.push((MIB, ram - MIB, MMAP_AVAILABLE));
    }
    map.push((0xfffc_0000, 0x4_0000, MMAP_RESERVED));
    map
}

/// Write the memory map at [`MMAP_ADDR`]; returns its length in bytes. Each entry is `size` (20,
/// not counting itself), `base_addr` and `length` (64-bit), `type`.
fn write_mmap(mem: &mut PhysMem) -> Result<u32, LoadError> {
    let mut buf = Vec::new();
    for (base, len, ty) in memory_map(mem.ram_size() as u64) {
        buf.extend(words(&[20, base as u32, (base >> 32) as u32, len as u32, (len >> 32) as u32, ty]));
    }
    copy_to_ram(mem, "memory map", MMAP_ADDR, &buf)?;
    Ok(buf.len() as u32)
}
