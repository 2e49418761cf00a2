//! Reading what `-kernel` and `-initrd` name into memory, and composing the strings the guest
//! sees, as QEMU does: the kernel command line is `"<kernel file> <-append>"`, a module's string
//! is its whole `-initrd` entry (`"file args"`, the file being its first word).

use super::args::Config;
use std::fs;
use tcg86::loader::demo::DEMO_KERNEL;

/// The name the demo kernel has in its command line.
pub const DEMO_NAME: &str = "tcg86-demo";

/// The files, read.
pub struct Images {
    /// The kernel's name as given (for messages and the command line).
    pub name: String,
    pub kernel: Vec<u8>,
    pub cmdline: String,
    /// (contents, string) of each module.
    pub modules: Vec<(Vec<u8>, String)>,
}

/// Read the kernel (or take the demo) and the modules; `Err` is the message to print.
pub fn read(cfg: &Config) -> Result<Images, String> {
    let (name, kernel) = match &cfg.kernel {
        Some(path) => (path.clone(), fs::read(path).map_err(|e| format!("could not read kernel '{path}': {e}"))?),
        None => (DEMO_NAME.to_string(), DEMO_KERNEL.to_vec()),
    };
    let cmdline = format!("{name} {}", cfg.append.as_deref().unwrap_or(""));
    let mut modules = Vec::new();
    for entry in cfg.initrd.as_deref().map(split_modules).unwrap_or_default() {
        let path = entry.split(' ').next().unwrap_or_default();
        let data = fs::read(path).map_err(|e| format!("could not read module '{path}': {e}"))?;
        modules.push((data, entry));
    }
    Ok(Images { name, kernel, cmdline, modules })
}

/// Split an `-initrd` list at commas; `,,` stands for a comma inside an entry.
pub fn split_modules(list: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = list.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ',' if chars.peek() == Some(&',') => {
                chars.next();
                out.last_mut().into_iter().for_each(|s| s.push(','));
            }
            ',' => out.push(String::new()),
            c => out.last_mut().into_iter().for_each(|s| s.push(c)),
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_lists() {
        assert_eq!(split_modules("a arg,b"), ["a arg", "b"]);
        assert_eq!(split_modules("a x,,y,b"), ["a x,y", "b"]);
        assert!(split_modules("").is_empty());
    }
}
