//! The `tcg86` command: the std shim around the no_std core (see `shim` for the exit statuses).

mod shim;

fn main() {
    let status = shim::main(std::env::args_os().skip(1).collect());
    std::process::exit(status);
}
