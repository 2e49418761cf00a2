//! 16550A UART (COM1 at 0x3f8). Placeholder transmit-only model; completed in its own change.

use super::bus::{CharSink, IoEffect, PortDevice};
use alloc::boxed::Box;

pub const COM1_PORT: u16 = 0x3f8;

pub struct Uart16550 {
    out: Box<dyn CharSink>,
}

impl Uart16550 {
    pub fn new(out: Box<dyn CharSink>) -> Uart16550 {
        Uart16550 { out }
    }
}

impl PortDevice for Uart16550 {
    fn read(&mut self, offset: u16, _size: u8) -> u32 {
        match offset {
            5 => 0x60,
            _ => 0,
        }
    }

    fn write(&mut self, offset: u16, _size: u8, value: u32) -> IoEffect {
        if offset == 0 {
            self.out.write_byte(value as u8);
        }
        IoEffect::None
    }
}
