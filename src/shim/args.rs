//! The command line: QEMU's single-dash flags (a double dash works too, as in QEMU) plus the
//! tcg86-only ones, parsed into a [`Config`] with plain std. Every mistake is a [`UsageError`]
//! whose message names the flag; the caller prints it after `tcg86: ` and exits with status 2.

use std::ops::RangeInclusive;
use tcg86::exec::log::{LogMask, LOG_ITEMS};
use tcg86::softmmu::tlb::{DEFAULT_TLB_BITS, MAX_TLB_BITS};

/// Where COM1's output goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Serial {
    Stdio,
    None,
    File(String),
}

/// The translation backend (`-accel tcg,backend=...`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    Interp,
    Jit,
}

/// Everything the command line decides.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub kernel: Option<String>,
    pub append: Option<String>,
    pub initrd: Option<String>,
    pub ram_size: usize,
    pub serial: Serial,
    pub log_mask: LogMask,
    pub log_file: Option<String>,
    pub backend: Backend,
    pub no_reboot: bool,
    pub stats: bool,
    /// `--stats-json FILE`: where to write the statistics as JSON (`-` for stdout).
    pub stats_json: Option<String>,
    pub max_insns: Option<u64>,
    pub tb_size: Option<usize>,
    pub tlb_bits: u32,
}

pub const DEFAULT_RAM: usize = 128 << 20;
pub const MIN_RAM: u64 = 2 << 20;
pub const MAX_RAM: u64 = 3 << 30;

impl Default for Config {
    fn default() -> Config {
        Config {
            kernel: None,
            append: None,
            initrd: None,
            ram_size: DEFAULT_RAM,
            serial: Serial::Stdio,
            log_mask: LogMask::empty(),
            log_file: None,
            backend: Backend::Jit,
            no_reboot: false,
            stats: false,
            stats_json: None,
            max_insns: None,
            tb_size: None,
            tlb_bits: DEFAULT_TLB_BITS,
        }
    }
}

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Run(Box<Config>),
    Help,
    LogHelp,
}

/// A command-line mistake, as the one line to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(msg.into()))
}

/// Parse the arguments (without the program name).
pub fn parse(args: &[String]) -> Result<Action, UsageError> {
    let mut cfg = Config::default();
    let mut it = args.iter();
    let mut serial_seen = false;
    while let Some(arg) = it.next() {
        let flag = arg.strip_prefix('-').filter(|_| arg.len() > 1).map(|f| f.strip_prefix('-').unwrap_or(f));
        let Some(flag) = flag else { return err(format!("unexpected argument '{arg}' (see --help)")) };
        let mut value = || it.next().cloned().ok_or_else(|| UsageError(format!("-{flag} needs an argument")));
        match flag {
            "h" | "help" => return Ok(Action::Help),
            "kernel" => cfg.kernel = Some(value()?),
            "append" => cfg.append = Some(value()?),
            "initrd" => cfg.initrd = Some(value()?),
            "m" => cfg.ram_size = parse_ram_size(&value()?)?,
            "serial" if serial_seen => return err("only one -serial is supported (COM1)"),
            "serial" => (cfg.serial, serial_seen) = (parse_serial(&value()?)?, true),
            "d" => match parse_log(&value()?)? {
                Some(mask) => cfg.log_mask = mask,
                None => return Ok(Action::LogHelp),
            },
            "D" => cfg.log_file = Some(value()?),
            "accel" => parse_accel(&value()?, &mut cfg)?,
            "display" => parse_display(&value()?)?,
            "nographic" => {}
            "no-reboot" => cfg.no_reboot = true,
            "stats" => cfg.stats = true,
            "stats-json" => cfg.stats_json = Some(value()?),
            "max-insns" => cfg.max_insns = Some(parse_number("--max-insns", &value()?, 1, u64::MAX)?),
            "tb-size" => cfg.tb_size = Some(parse_tb_size("--tb-size", &value()?)?),
            "tlb-bits" => cfg.tlb_bits = parse_number("--tlb-bits", &value()?, 4, MAX_TLB_BITS as u64)? as u32,
            _ => return err(format!("unknown option '{arg}' (see --help)")),
        }
    }
    check(&cfg)?;
    Ok(Action::Run(Box::new(cfg)))
}

/// Combinations QEMU refuses too.
fn check(cfg: &Config) -> Result<(), UsageError> {
    if cfg.kernel.is_none() && cfg.append.is_some() {
        return err("-append only allowed with -kernel option");
    }
    if cfg.kernel.is_none() && cfg.initrd.is_some() {
        return err("-initrd only allowed with -kernel option");
    }
    Ok(())
}

/// A decimal integer in `min..=max`.
fn parse_number(flag: &str, s: &str, min: u64, max: u64) -> Result<u64, UsageError> {
    match s.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => err(format!("{flag}: '{s}' is not a number from {min} to {max}")),
    }
}

/// `-m [size=]N[B|K|M|G|T]`: MiB without a suffix (QEMU's `qemu_strtosz_MiB`); rounded up to a page.
pub fn parse_ram_size(s: &str) -> Result<usize, UsageError> {
    let text = s.strip_prefix("size=").unwrap_or(s);
    let bytes = parse_size("-m", "RAM size", text, MIN_RAM..=MAX_RAM, "2M..3G")?;
    Ok(bytes.div_ceil(4096) as usize * 4096)
}

/// JIT code buffer size: MiB without a suffix, as QEMU's `tb-size`; K/M/G suffixes for other
/// units (a small buffer is how the tests force code-buffer flushes).
pub fn parse_tb_size(flag: &str, s: &str) -> Result<usize, UsageError> {
    Ok(parse_size(flag, "code buffer size", s, (64 << 10)..=(2 << 30), "64K..2G")? as usize)
}

/// `N[B|K|M|G|T]` in bytes (MiB without a suffix), within `range`.
fn parse_size(
    flag: &str,
    what: &str,
    s: &str,
    range: RangeInclusive<u64>,
    range_text: &str,
) -> Result<u64, UsageError> {
    let bad = || UsageError(format!("{flag}: invalid {what} '{s}' (e.g. 128, 128M, 1G)"));
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, suffix) = s.split_at(digits_end);
    let n: u64 = num.parse().map_err(|_| bad())?;
    let shift = match suffix.to_ascii_uppercase().as_str() {
        "B" => 0,
        "K" => 10,
        "" | "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(bad()),
    };
    let bytes = n.checked_mul(1 << shift).ok_or_else(bad)?;
    if !range.contains(&bytes) {
        return err(format!("{flag}: {what} '{s}' is outside {range_text}"));
    }
    Ok(bytes)
}

fn parse_serial(s: &str) -> Result<Serial, UsageError> {
    match s {
        "stdio" => Ok(Serial::Stdio),
        "none" | "null" => Ok(Serial::None),
        _ => match s.strip_prefix("file:") {
            Some(path) if !path.is_empty() => Ok(Serial::File(path.to_string())),
            _ => err(format!("-serial: unsupported backend '{s}' (stdio, none, file:PATH)")),
        },
    }
}

/// `-d LIST`: `None` when the list asks for help.
fn parse_log(list: &str) -> Result<Option<LogMask>, UsageError> {
    if list.split(',').any(|item| item == "help") {
        return Ok(None);
    }
    match LogMask::parse(list) {
        Ok(mask) => Ok(Some(mask)),
        Err(item) => err(format!("-d: unknown log item '{item}' (try -d help)")),
    }
}

/// `-accel tcg[,backend=interp|jit][,tb-size=MIB]`.
fn parse_accel(s: &str, cfg: &mut Config) -> Result<(), UsageError> {
    let mut parts = s.split(',');
    if parts.next() != Some("tcg") {
        return err(format!("-accel: '{s}': only tcg is available"));
    }
    for opt in parts {
        match opt.split_once('=') {
            Some(("backend", "interp")) => cfg.backend = Backend::Interp,
            Some(("backend", "jit")) => cfg.backend = Backend::Jit,
            Some(("tb-size", v)) => cfg.tb_size = Some(parse_tb_size("-accel tb-size", v)?),
            _ => return err(format!("-accel: unknown tcg option '{opt}' (backend=interp|jit, tb-size=MIB)")),
        }
    }
    Ok(())
}

fn parse_display(s: &str) -> Result<(), UsageError> {
    match s {
        "none" => Ok(()),
        _ => err(format!("-display: '{s}': tcg86 has no display (use -display none)")),
    }
}

/// The `-d help` text (QEMU's layout).
pub fn log_help() -> String {
    let mut s = String::from("Log items (comma separated):\n");
    for (_, name, help) in LOG_ITEMS {
        s.push_str(&format!("{name:<15} {help}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Config, UsageError> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        match parse(&args)? {
            Action::Run(cfg) => Ok(*cfg),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ram_sizes() {
        assert_eq!(parse_ram_size("128"), Ok(128 << 20));
        assert_eq!(parse_ram_size("128M"), Ok(128 << 20));
        assert_eq!(parse_ram_size("1G"), Ok(1 << 30));
        assert_eq!(parse_ram_size("size=64m"), Ok(64 << 20));
        assert_eq!(parse_ram_size("4097k"), Ok((4097 << 10) + 3072));
        assert!(parse_ram_size("1").is_err());
        assert!(parse_ram_size("4G").is_err());
        assert!(parse_ram_size("12Q").is_err());
        assert!(parse_ram_size("M").is_err());
        assert!(parse_ram_size("99999999999999999999G").is_err());
    }

    #[test]
    fn flags() {
        let cfg = run(&["-kernel", "k", "-append", "a b", "--stats", "-serial", "file:/x", "-d", "in_asm,op"]).unwrap();
        assert_eq!(cfg.kernel.as_deref(), Some("k"));
        assert_eq!(cfg.serial, Serial::File("/x".into()));
        assert_eq!(cfg.log_mask, LogMask::IN_ASM | LogMask::OP);
        assert!(cfg.stats);
        assert_eq!(run(&["--stats-json", "-"]).unwrap().stats_json.as_deref(), Some("-"));
        let cfg = run(&["-accel", "tcg,backend=interp,tb-size=64", "--tlb-bits", "10", "-nographic"]).unwrap();
        assert_eq!((cfg.backend, cfg.tb_size, cfg.tlb_bits), (Backend::Interp, Some(64 << 20), 10));
    }

    #[test]
    fn mistakes() {
        assert!(run(&["-bogus"]).unwrap_err().0.contains("unknown option '-bogus'"));
        assert!(run(&["-kernel"]).unwrap_err().0.contains("-kernel needs an argument"));
        assert!(run(&["-d", "bogus"]).unwrap_err().0.contains("'bogus'"));
        assert!(run(&["-append", "x"]).is_err());
        assert!(run(&["-serial", "tcp::1"]).is_err());
        assert!(run(&["-serial", "none", "-serial", "stdio"]).is_err());
        assert!(run(&["--max-insns", "0"]).is_err());
        assert!(run(&["--stats-json"]).unwrap_err().0.contains("-stats-json needs an argument"));
        assert!(run(&["-accel", "kvm"]).is_err());
        assert!(run(&["kernel.elf"]).is_err());
        assert_eq!(parse(&["-d".into(), "help".into()]), Ok(Action::LogHelp));
    }
}
