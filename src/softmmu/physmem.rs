//! Guest physical memory: RAM from address 0, and what lies outside it.
//!
//! Invariants: RAM is allocated once and never moves, so host pointers into it (TLB addends) stay
//! valid; every access is bounds-checked here or by the TLB fill that proves a whole page is inside.
//! Reads outside RAM return all ones and writes there are dropped, as on an unassigned bus.

use alloc::vec;
use alloc::vec::Vec;

/// A guest physical address.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PhysAddr(pub u32);

/// A range that does not lie inside RAM.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct OutsideRam;

pub struct PhysMem {
    ram: Vec<u8>,
}

impl PhysMem {
    pub fn new(ram_size: usize) -> PhysMem {
        PhysMem { ram: vec![0; ram_size] }
    }

    pub fn ram_size(&self) -> usize {
        self.ram.len()
    }

    /// Host address of the RAM page holding `pa`, if the whole page is RAM.
    pub fn ram_page_ptr(&mut self, pa: PhysAddr, page_size: u32) -> Option<*mut u8> {
        let start = (pa.0 & !(page_size - 1)) as usize;
        let end = start.checked_add(page_size as usize)?;
        (end <= self.ram.len()).then(|| self.ram[start..end].as_mut_ptr())
    }

    pub fn read_u8(&self, pa: PhysAddr) -> u8 {
        self.ram.get(pa.0 as usize).copied().unwrap_or(0xff)
    }

    pub fn write_u8(&mut self, pa: PhysAddr, v: u8) {
        if let Some(b) = self.ram.get_mut(pa.0 as usize) {
            *b = v;
        }
    }

    /// Little-endian read of `size` (1, 2 or 4) bytes.
    pub fn read(&self, pa: PhysAddr, size: u32) -> u32 {
        (0..size).fold(0, |v, i| v | (self.read_u8(PhysAddr(pa.0.wrapping_add(i))) as u32) << (8 * i))
    }

    pub fn write(&mut self, pa: PhysAddr, size: u32, v: u32) {
        for i in 0..size {
            self.write_u8(PhysAddr(pa.0.wrapping_add(i)), (v >> (8 * i)) as u8);
        }
    }

    /// Copy bytes into RAM; fails if any byte would fall outside it.
    pub fn load(&mut self, pa: PhysAddr, data: &[u8]) -> Result<(), OutsideRam> {
        let start = pa.0 as usize;
        let end = start.checked_add(data.len()).ok_or(OutsideRam)?;
        self.ram.get_mut(start..end).ok_or(OutsideRam)?.copy_from_slice(data);
        Ok(())
    }

    /// Zero a range of RAM; fails if it leaves RAM.
    pub fn zero(&mut self, pa: PhysAddr, len: usize) -> Result<(), OutsideRam> {
        let start = pa.0 as usize;
        let end = start.checked_add(len).ok_or(OutsideRam)?;
        self.ram.get_mut(start..end).ok_or(OutsideRam)?.fill(0);
        Ok(())
    }

    pub fn slice(&self, pa: PhysAddr, len: usize) -> Option<&[u8]> {
        let start = pa.0 as usize;
        self.ram.get(start..start.checked_add(len)?)
    }
}
