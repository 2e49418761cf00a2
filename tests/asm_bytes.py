#!/usr/bin/env python3
"""Re-assemble the guest snippets of the library-level tests in place.

Each snippet in tests/*.rs is a doc comment holding GNU as (AT&T, 32-bit) source followed by the
bytes it assembles to, linked at 1 MiB (tests/common: CODE_BASE):

    /// ```text
    /// mov $1, %eax
    /// ```
    #[rustfmt::skip]
    const NAME: &[u8] = &[ ... ];

Edit the source lines, then run `python3 tests/asm_bytes.py tests/string.rs ...` (needs binutils'
`as` and `ld`) to rewrite the byte arrays.
"""
import os, re, subprocess, sys, tempfile

SNIPPET = re.compile(
    r"(/// ```text\n)((?:///.*\n)*?)(/// ```\n#\[rustfmt::skip\]\nconst (\w+): &\[u8\] = &\[)([\s\S]*?)(\];)")


def assemble(source):
    with tempfile.TemporaryDirectory() as d:
        s, o, b = (os.path.join(d, n) for n in ("g.s", "g.o", "g.bin"))
        open(s, "w").write(source)
        subprocess.run(["as", "--32", "-o", o, s], check=True)
        subprocess.run(["ld", "-m", "elf_i386", "-e", "0x100000", "-Ttext=0x100000", "--oformat", "binary",
                        "-o", b, o], check=True)
        return open(b, "rb").read()


def rewrite(m):
    source = "".join(line[4:] + "\n" if line.startswith("/// ") else "\n" for line in m.group(2).splitlines())
    data = assemble(source)
    rows = ["    " + " ".join(f"0x{x:02x}," for x in data[i:i + 16]) for i in range(0, len(data), 16)]
    return m.group(1) + m.group(2) + m.group(3) + "\n" + "\n".join(rows) + "\n" + m.group(6)


for path in sys.argv[1:]:
    text = open(path).read()
    open(path, "w").write(SNIPPET.sub(rewrite, text))
