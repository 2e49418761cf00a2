# make fuzz [FUZZ_TIME=60] [FUZZ_FLAGS=-s none]: run each cargo-fuzz target (fuzz/fuzz_targets/)
# for FUZZ_TIME seconds, one process. An input is bounded by 2 000 guest instructions per backend
# (a rep batch of 1024 iterations counts as one), so a run past the 30 s timeout is a hang. New
# coverage goes to fuzz/corpus/TARGET (ignored by git), crashes and hangs to fuzz/artifacts/TARGET;
# the committed seeds in fuzz/seeds/TARGET are read, never written. Needs `cargo install cargo-fuzz`
# and nightly. The default sanitizer is AddressSanitizer; FUZZ_FLAGS="-s none" runs about 5x the
# executions without it (debug assertions and overflow checks stay on). See docs/fuzzing.md.
FUZZ_TIME    ?= 60
FUZZ_FLAGS   ?=
FUZZ_TARGETS := guest_code kernel_image
FUZZ_MAXLEN_guest_code   := 4096
FUZZ_MAXLEN_kernel_image := 32768

.PHONY: fuzz $(addprefix fuzz-,$(FUZZ_TARGETS))
fuzz: $(addprefix fuzz-,$(FUZZ_TARGETS))

$(addprefix fuzz-,$(FUZZ_TARGETS)): fuzz-%:
	mkdir -p fuzz/corpus/$*
	cargo +nightly fuzz run $(FUZZ_FLAGS) $* fuzz/corpus/$* fuzz/seeds/$* -- \
	    -max_total_time=$(FUZZ_TIME) -timeout=30 -max_len=$(FUZZ_MAXLEN_$*) -print_final_stats=1
