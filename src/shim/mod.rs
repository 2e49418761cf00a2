//! The std shim: everything of the `tcg86` command that touches the host (arguments, files,
//! stdout/stderr). The core library stays `no_std`; these modules are compiled into the binary
//! only.
//!
//! Exit statuses (also in `--help`): `(v << 1) | 1` when the guest writes v to isa-debug-exit
//! (port 0xf4); 0 when it powers off through ACPI (port 0x604); 2 for a usage or emulator error
//! (one line on stderr starting with `tcg86: `; also when the `--stats-json` file cannot be created
//! or written); 4 on a triple fault; 6 on HLT with interrupts
//! disabled; 8 when `--max-insns` is reached (4, 6 and 8 with one line on stderr).

pub mod args;
pub mod images;
pub mod run;
pub mod sinks;
pub mod stats;
pub mod stats_json;
pub mod usage;

use args::{Action, UsageError};
use std::ffi::OsString;
use usage::EXIT_USAGE;

/// The whole command: parse, run, return the exit status.
pub fn main(args: Vec<OsString>) -> i32 {
    let args: Result<Vec<String>, _> = args.into_iter().map(OsString::into_string).collect();
    let Ok(args) = args else { return fail("an argument is not valid UTF-8") };
    match args::parse(&args) {
        Err(UsageError(msg)) => fail(&msg),
        Ok(Action::Help) => {
            print!("{}", usage::HELP);
            0
        }
        Ok(Action::LogHelp) => {
            print!("{}", args::log_help());
            0
        }
        Ok(Action::Run(cfg)) => run::run(&cfg).unwrap_or_else(|msg| fail(&msg)),
    }
}

fn fail(msg: &str) -> i32 {
    eprintln!("tcg86: {msg}");
    EXIT_USAGE
}
