# Benchmarks: tcg86 (JIT, JIT without chaining, interpreter) vs qemu-system-i386 (TCG, with and
# without chaining) vs the same programs run natively, side by side in one run.
#
#   make bench            full run; writes docs/benchmarks.md
#   make bench QUICK=1    small inputs and fewer runs (under two minutes); writes
#                         target/bench/quick/benchmarks.md
#
# Each program in benches/progs/ is built twice from the same source: a multiboot kernel
# (benches/plat/kernel*) and a static 32-bit Linux program (benches/plat/linux*). The harness is
# benches/run.py (needs qemu-system-i386 and /usr/bin/time; not run in CI).
# Override TCG86=path to time another tcg86 binary (then cargo is not run), QEMU=path for QEMU.

BENCH_SAVED_GOAL := $(.DEFAULT_GOAL)
BENCH_MODE := $(if $(filter 1 yes true,$(QUICK)),quick,full)
BENCH_DIR := target/bench/$(BENCH_MODE)
BENCH_SCALE_quick := 1
BENCH_SCALE_full := 8
BENCH_SCALE := $(BENCH_SCALE_$(BENCH_MODE))
BENCH_PROGS := compute calls memory smc empty straight
BENCH_STRAIGHT_N := 100000

TCG86_DEFAULT := target/release/tcg86
TCG86 ?= $(TCG86_DEFAULT)
QEMU ?= qemu-system-i386
BENCH_OUT_full := docs/benchmarks.md
BENCH_OUT_quick := $(BENCH_DIR)/benchmarks.md
BENCH_OUT ?= $(BENCH_OUT_$(BENCH_MODE))

BENCH_CC := gcc
BENCH_CFLAGS := -m32 -march=i686 -mno-mmx -mno-sse -ffreestanding -fno-pic -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fcf-protection=none -nostdlib -O2 -Wall -Wextra \
	-DSCALE=$(BENCH_SCALE) -DSTRAIGHT_N=$(BENCH_STRAIGHT_N)
BENCH_LD := ld -m elf_i386 --no-warn-rwx-segments -z noexecstack

BENCH_KERNELS := $(BENCH_PROGS:%=$(BENCH_DIR)/%.kernel)
BENCH_NATIVE := $(BENCH_PROGS:%=$(BENCH_DIR)/%.linux)
BENCH_HDRS := benches/plat/plat.h bench.mk

.PHONY: bench bench-build bench-tcg86 bench-clean bench-deps

bench: bench-build bench-tcg86
	python3 benches/run.py --mode $(BENCH_MODE) --dir $(BENCH_DIR) --tcg86 $(TCG86) --qemu $(QEMU) \
		--progs "$(BENCH_PROGS)" --straight-n $(BENCH_STRAIGHT_N) --scale $(BENCH_SCALE) --out $(BENCH_OUT)

bench-build: $(BENCH_KERNELS) $(BENCH_NATIVE)

bench-tcg86:
ifeq ($(TCG86),$(TCG86_DEFAULT))
	cargo build --release
endif

# The host tools the harnesses need (Debian package names; hyperfine: make chaining-perf).
bench-deps:
	apt-get install -y time hyperfine qemu-system-x86 gcc-multilib binutils

bench-clean:
	rm -rf target/bench

$(BENCH_DIR)/%.o: benches/progs/%.c $(BENCH_HDRS)
	@mkdir -p $(@D)
	$(BENCH_CC) $(BENCH_CFLAGS) -c -o $@ $<

$(BENCH_DIR)/%.o: benches/progs/%.S $(BENCH_HDRS)
	@mkdir -p $(@D)
	$(BENCH_CC) $(BENCH_CFLAGS) -c -o $@ $<

$(BENCH_DIR)/plat/%.o: benches/plat/%.c $(BENCH_HDRS)
	@mkdir -p $(@D)
	$(BENCH_CC) $(BENCH_CFLAGS) -c -o $@ $<

$(BENCH_DIR)/plat/%.o: benches/plat/%.S $(BENCH_HDRS)
	@mkdir -p $(@D)
	$(BENCH_CC) $(BENCH_CFLAGS) -c -o $@ $<

BENCH_KPLAT := $(addprefix $(BENCH_DIR)/plat/,kernel_crt0.o kernel.o common.o)
BENCH_LPLAT := $(addprefix $(BENCH_DIR)/plat/,linux_crt0.o linux.o common.o)

$(BENCH_DIR)/%.kernel: $(BENCH_DIR)/%.o $(BENCH_KPLAT) benches/plat/kernel.ld
	$(BENCH_LD) -T benches/plat/kernel.ld -z max-page-size=0x1000 -o $@ $(BENCH_KPLAT) $<

$(BENCH_DIR)/%.linux: $(BENCH_DIR)/%.o $(BENCH_LPLAT)
	$(BENCH_LD) -static -Ttext-segment=0x08048000 -o $@ $(BENCH_LPLAT) $<

# Keep the per-program objects (intermediate files of the pattern rules).
.SECONDARY: $(BENCH_PROGS:%=$(BENCH_DIR)/%.o) $(BENCH_KPLAT) $(BENCH_LPLAT)

# Included from the Makefile (before or after its own targets): never become its default goal.
.DEFAULT_GOAL := $(BENCH_SAVED_GOAL)
