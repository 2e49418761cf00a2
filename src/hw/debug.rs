//! Two debugging devices QEMU users know: `isa-debug-exit` (port 0xf4: a write of v stops the machine
//! with host exit status `(v << 1) | 1`) and `isa-debugcon` (port 0xe9: bytes written go to a sink;
//! reads return 0xe9 so a guest can detect it).

use super::bus::{CharSink, IoEffect, PortDevice};
use alloc::boxed::Box;

pub const DEBUG_EXIT_PORT: u16 = 0xf4;
pub const DEBUGCON_PORT: u16 = 0xe9;

/// isa-debug-exit.
pub struct DebugExit;

impl PortDevice for DebugExit {
    fn read(&mut self, _offset: u16, _size: u8) -> u32 {
        0xffff_ffff
    }

    fn write(&mut self, _offset: u16, size: u8, value: u32) -> IoEffect {
        let v = value & (u32::MAX >> (32 - 8 * size as u32));
        IoEffect::Exit(((v << 1) | 1) as i32)
    }
}

/// isa-debugcon.
pub struct DebugCon {
    pub out: Box<dyn CharSink>,
}

impl PortDevice for DebugCon {
    fn read(&mut self, _offset: u16, _size: u8) -> u32 {
        DEBUGCON_PORT as u32
    }

    fn write(&mut self, _offset: u16, _size: u8, value: u32) -> IoEffect {
        self.out.write_byte(value as u8);
        IoEffect::None
    }
}

/// Port 0x80 (POST codes, I/O delay): reads as zero, writes ignored.
pub struct PostPort;

impl PortDevice for PostPort {
    fn read(&mut self, _offset: u16, _size: u8) -> u32 {
        0
    }

    fn write(&mut self, _offset: u16, _size: u8, _value: u32) -> IoEffect {
        IoEffect::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_exit_status() {
        assert_eq!(DebugExit.write(0, 1, 0), IoEffect::Exit(1));
        assert_eq!(DebugExit.write(0, 1, 0x31), IoEffect::Exit(0x63));
        assert_eq!(DebugExit.write(0, 1, 0x1ff), IoEffect::Exit(0x1ff));
    }
}
