//! The `--help` text, including the exit statuses (the contract scripts and tests rely on).

/// Exit status for usage and emulator errors (bad option, unreadable or malformed kernel).
pub const EXIT_USAGE: i32 = 2;

pub const HELP: &str = "\
Usage: tcg86 [options]
A system-mode i386 emulator built like QEMU's TCG (x86 -> IR -> optimizer -> backend).
Without -kernel it boots the embedded demo kernel.

Options (QEMU's):
  -kernel FILE            boot this multiboot v1 kernel (ELF32, or a.out kludge)
  -append CMDLINE         kernel command line (the guest sees \"FILE CMDLINE\", as with QEMU)
  -initrd MOD[,MOD...]    multiboot modules, each \"file [args]\" (write ,, for a comma)
  -m SIZE                 RAM size: 128, 128M, 1G... (MiB without suffix; default 128M; 2M..3G)
  -serial stdio|none|file:PATH
                          where COM1 (16550A at 0x3f8) output goes (default stdio)
  -d ITEM[,ITEM...]       log items; -d help lists them
  -D LOGFILE              write the log to LOGFILE (default stderr)
  -accel tcg[,backend=interp|jit][,tb-size=MIB]
                          the backend: x86-64 JIT (default) or interpreter
  -perfmap                write /tmp/perf-PID.map (each JIT-compiled TB as guest-0xPC) so
                          `perf report` names the host code it samples (the code buffer is then
                          one anonymous RWX mapping: perf ignores maps of a memfd)
  -display none           accepted: there is no display
  -nographic              accepted: the serial port is on stdio already
  -no-reboot              accepted: a triple fault always stops the machine
  -h, --help              this help

tcg86 options:
  --stats                 print execution and TLB statistics to stderr at exit
  --stats-json FILE       write the same statistics as one JSON object to FILE at exit (- for
                          stdout); keys: see README.md (host_bytes_per_guest_insn is null
                          under the interpreter, which reports ir_ops_per_guest_insn)
  --max-insns N           stop after N guest instructions
  --tb-size SIZE          JIT code buffer size: MiB, or with a K/M/G suffix (default 64M)
  --tlb-bits N            log2 of TLB entries per MMU mode (4..10, default 8)

Devices: COM1 UART at 0x3f8, debugcon at 0xe9 (to stdout), isa-debug-exit at 0xf4 (4 ports),
ACPI PM1a control at 0x604, POST port 0x80 (ignored).

Exit status:
  (v << 1) | 1   the guest wrote v to isa-debug-exit (port 0xf4)
  0              the guest powered off (SLP_EN written to port 0x604)
  2              usage or emulator error (bad option, unreadable or malformed kernel,
                 --stats-json FILE cannot be created or written)
  4              triple fault: the CPU shut down
  6              HLT with interrupts disabled: nothing can wake the CPU
  8              --max-insns reached
";
