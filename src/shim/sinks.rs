//! The std ends of the core's output traits: COM1 and debugcon bytes to stdout or a file, `-d` log
//! text to stderr or a file. Host write errors (a closed pipe, a full disk) are dropped: a guest
//! must not be able to stop the emulator through them.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use tcg86::exec::log::LogSink;
use tcg86::hw::CharSink;

/// Bytes to stdout (line-buffered by std; flushed at newlines and on exit).
pub struct StdoutSink;

impl CharSink for StdoutSink {
    fn write_byte(&mut self, b: u8) {
        let mut out = io::stdout().lock();
        let _ = out.write_all(&[b]);
        if b == b'\n' {
            let _ = out.flush();
        }
    }

    fn flush(&mut self) {
        let _ = io::stdout().flush();
    }
}

/// Bytes to a file (`-serial file:PATH`), buffered; flushed when dropped.
pub struct FileSink(pub BufWriter<File>);

impl CharSink for FileSink {
    fn write_byte(&mut self, b: u8) {
        let _ = self.0.write_all(&[b]);
    }

    fn flush(&mut self) {
        let _ = self.0.flush();
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        let _ = self.0.flush();
    }
}

/// Log text to stderr.
pub struct StderrLog;

impl LogSink for StderrLog {
    fn log(&mut self, text: &str) {
        let _ = io::stderr().lock().write_all(text.as_bytes());
    }
}

/// Log text to a file (`-D FILE`), buffered; flushed when dropped.
pub struct FileLog(pub BufWriter<File>);

impl LogSink for FileLog {
    fn log(&mut self, text: &str) {
        let _ = self.0.write_all(text.as_bytes());
    }
}

impl Drop for FileLog {
    fn drop(&mut self) {
        let _ = self.0.flush();
    }
}
