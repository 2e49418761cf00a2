//! `-d` logging: which items are on, and where the text goes.

use alloc::boxed::Box;

bitflags::bitflags! {
    /// The `-d` items (QEMU's `CPU_LOG_*`).
    #[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
    pub struct LogMask: u32 {
        const IN_ASM = 1 << 0;
        const OP = 1 << 1;
        const OP_OPT = 1 << 2;
        const OUT_ASM = 1 << 3;
        const EXEC = 1 << 4;
        const CPU = 1 << 5;
        const INT = 1 << 6;
        const MMU = 1 << 7;
        const NOCHAIN = 1 << 8;
        const PLUGIN = 1 << 9;
        const TB = 1 << 10;
    }
}

/// Every item with its name and a one-line description (`-d help`).
pub const LOG_ITEMS: &[(LogMask, &str, &str)] = &[
    (LogMask::OUT_ASM, "out_asm", "show generated host assembly code for each compiled TB"),
    (LogMask::IN_ASM, "in_asm", "show target assembly code for each compiled TB"),
    (LogMask::OP, "op", "show micro ops for each compiled TB"),
    (LogMask::OP_OPT, "op_opt", "show micro ops after optimization"),
    (LogMask::INT, "int", "show interrupts/exceptions in short format"),
    (LogMask::EXEC, "exec", "show trace before each executed TB (lots of logs)"),
    (LogMask::CPU, "cpu", "show CPU registers before entering a TB (lots of logs)"),
    (LogMask::MMU, "mmu", "log MMU-related activities"),
    (LogMask::NOCHAIN, "nochain", "do not chain compiled TBs so that \"exec\" and \"cpu\" show complete traces"),
    (LogMask::PLUGIN, "plugin", "output from TCG plugins"),
    (LogMask::TB, "tb", "log the TB lifecycle: translate, link, unlink, invalidate, flush"),
];

impl LogMask {
    /// Parse a comma-separated `-d` list; `Err` names the first unknown item.
    pub fn parse(list: &str) -> Result<LogMask, &str> {
        let mut m = LogMask::empty();
        for item in list.split(',').filter(|s| !s.is_empty()) {
            match LOG_ITEMS.iter().find(|(_, name, _)| *name == item) {
                Some((bit, _, _)) => m |= *bit,
                None => return Err(item),
            }
        }
        Ok(m)
    }
}

/// Where log text goes (`-D FILE` or stderr, injected by the shim).
pub trait LogSink {
    fn log(&mut self, text: &str);
}

/// Logging to nowhere.
pub struct NoLog;

impl LogSink for NoLog {
    fn log(&mut self, _text: &str) {}
}

/// The mask and the sink together.
pub struct Logger {
    pub mask: LogMask,
    pub sink: Box<dyn LogSink>,
}

impl Logger {
    pub fn enabled(&self, item: LogMask) -> bool {
        self.mask.intersects(item)
    }
}
