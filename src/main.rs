//! The `tcg86` command: the std shim around the no_std core.

fn main() {
    eprintln!("tcg86: command line not wired yet");
    std::process::exit(2);
}
