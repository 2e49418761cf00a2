//! Devices: pure state machines on the port bus, with output sinks injected.

pub mod acpi_pm;
pub mod bus;
pub mod debug;
pub mod irq;
pub mod pc;
pub mod uart16550;

pub use bus::{Bus, CharSink, IoEffect, NullSink, PortDevice};
