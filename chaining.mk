# Chaining cost: tcg86 (JIT, interpreter) and qemu-system-i386, each with and without -d nochain,
# on the quick benchmark kernels (bench.mk, QUICK=1), hyperfine medians of CHAIN_RUNS runs or more
# (short configurations get up to 4x as many).
#
#   make chaining-perf [CHAIN_RUNS=5]   writes docs/chaining-perf.md (benches/chaining.py)
#
# Uses TCG86 and QEMU from bench.mk (override to time other binaries); needs hyperfine and
# qemu-system-i386 (make bench-deps).

CHAIN_RUNS ?= 5
CHAIN_PROGS := compute calls memory smc empty
CHAIN_OUT ?= docs/chaining-perf.md

.PHONY: chaining-perf

chaining-perf: bench-tcg86
	$(MAKE) --no-print-directory bench-build QUICK=1
	python3 benches/chaining.py --dir target/bench/quick --tcg86 $(TCG86) --qemu $(QEMU) \
		--progs "$(CHAIN_PROGS)" --runs $(CHAIN_RUNS) --out $(CHAIN_OUT)
