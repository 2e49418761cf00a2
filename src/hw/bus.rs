//! The I/O port bus: a range map from port numbers to devices.
//!
//! Devices are pure state machines behind [`PortDevice`]; the bus only routes. Unclaimed ports read
//! as all ones and ignore writes, like an empty ISA bus.

use alloc::boxed::Box;
use alloc::vec::Vec;

/// Something a device write asks of the machine.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum IoEffect {
    None,
    /// Stop the machine with this host exit status.
    Exit(i32),
}

/// A device on the port bus. `offset` is relative to the device's first port; `size` is 1, 2 or 4.
pub trait PortDevice {
    fn read(&mut self, offset: u16, size: u8) -> u32;
    fn write(&mut self, offset: u16, size: u8, value: u32) -> IoEffect;
}

/// Where a device's output goes (the std shim injects stdout or a file; tests inject a buffer).
pub trait CharSink {
    fn write_byte(&mut self, b: u8);
    fn flush(&mut self) {}
}

/// A sink that drops everything (`-serial none`).
pub struct NullSink;

impl CharSink for NullSink {
    fn write_byte(&mut self, _b: u8) {}
}

struct Mapping {
    start: u16,
    len: u16,
    dev: Box<dyn PortDevice>,
}

/// The port bus.
#[derive(Default)]
pub struct Bus {
    map: Vec<Mapping>,
}

impl Bus {
    pub fn new() -> Bus {
        Bus { map: Vec::new() }
    }

    /// Attach `dev` at ports `start..start+len`.
    pub fn add(&mut self, start: u16, len: u16, dev: Box<dyn PortDevice>) {
        self.map.push(Mapping { start, len, dev });
        self.map.sort_by_key(|m| m.start);
    }

    fn find(&mut self, port: u16) -> Option<(&mut Mapping, u16)> {
        let m = self.map.iter_mut().find(|m| port >= m.start && port - m.start < m.len)?;
        let off = port - m.start;
        Some((m, off))
    }

    pub fn read(&mut self, port: u16, size: u8) -> u32 {
        match self.find(port) {
            Some((m, off)) => m.dev.read(off, size),
            None => u32::MAX >> (32 - 8 * size as u32),
        }
    }

    pub fn write(&mut self, port: u16, size: u8, value: u32) -> IoEffect {
        match self.find(port) {
            Some((m, off)) => m.dev.write(off, size, value),
            None => IoEffect::None,
        }
    }
}
