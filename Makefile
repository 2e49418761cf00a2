# tcg86: guest kernels, tests and the demo.
#   make guests   build every kernel in tests/guests/ into build/guests/NAME.elf
#   make test     run the test suite (cargo test)
#   make run      run the demo (cargo run --release)

CC      := gcc
AS      := as
LD      := ld
CFLAGS  := -m32 -march=i686 -ffreestanding -fno-pic -fno-stack-protector -nostdlib -O2 \
           -mgeneral-regs-only -fno-asynchronous-unwind-tables -Wall -Wextra -Werror -Iboot
ASFLAGS := -m32 -ffreestanding -fno-pic -nostdlib -Iboot
LDFLAGS := -m elf_i386 -T linker.ld -nostdlib -z noexecstack --no-warn-rwx-segments

BUILD   := build
BOOT_SRC := $(wildcard boot/*.c boot/*.S)
BOOT_OBJ := $(patsubst boot/%,$(BUILD)/boot/%.o,$(BOOT_SRC))
GUEST_SRC := $(wildcard tests/guests/*.c tests/guests/*.S)
GUESTS  := $(sort $(basename $(notdir $(GUEST_SRC))))
GUEST_ELF := $(patsubst %,$(BUILD)/guests/%.elf,$(GUESTS))

.PHONY: all guests test run clean
all: guests

guests: $(GUEST_ELF)

$(BUILD)/boot/%.c.o: boot/%.c boot/libc.h | $(BUILD)/boot
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/boot/%.S.o: boot/%.S | $(BUILD)/boot
	$(CC) $(ASFLAGS) -c $< -o $@

$(BUILD)/guests/%.c.o: tests/guests/%.c boot/libc.h | $(BUILD)/guests
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/guests/%.S.o: tests/guests/%.S | $(BUILD)/guests
	$(CC) $(ASFLAGS) -c $< -o $@

# A kernel is its own source (NAME.c or NAME.S) linked after the shared boot objects; crt0 first
# keeps the multiboot header at the start of the image.
BOOT_LINK := $(BUILD)/boot/crt0.S.o $(filter-out $(BUILD)/boot/crt0.S.o,$(BOOT_OBJ))
define guest_rule
$(BUILD)/guests/$(1).elf: $(patsubst tests/guests/%,$(BUILD)/guests/%.o,$(wildcard tests/guests/$(1).c tests/guests/$(1).S)) $(BOOT_OBJ) linker.ld
	$$(LD) $$(LDFLAGS) -o $$@ $(BOOT_LINK) $$(filter $(BUILD)/guests/%.o,$$^)
endef
$(foreach g,$(GUESTS),$(eval $(call guest_rule,$(g))))

.SECONDARY:

$(BUILD)/boot $(BUILD)/guests:
	mkdir -p $@

test:
	cargo test

run:
	cargo run --release

clean:
	rm -rf $(BUILD)

# make difftest N=… SEED=…  (host CPU vs tcg86 on random instruction sequences)
include difftest.mk
# make bench [QUICK=1]      (tcg86 vs qemu-system-i386 vs native; writes docs/benchmarks.md)
include bench.mk
# make chaining-perf        (chain vs nochain: tcg86 JIT/interpreter and QEMU; writes docs/chaining-perf.md)
include chaining.mk
# make fuzz [FUZZ_TIME=seconds per target]  (cargo-fuzz, nightly; see docs/fuzzing.md)
include fuzz.mk
# make metal / run-metal    (the bare-metal host image in metal/, booted by qemu-system-x86_64)
include metal.mk
