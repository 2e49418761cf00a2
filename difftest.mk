# Differential testing against the host CPU (the correctness oracle).
#   make -f difftest.mk difftest N=100000 SEED=0x1234 [LEN=24] [FAMILIES=all|alu,shift,...]
# Included from the Makefile by the lead.

N ?= 20000
SEED ?= 0x7c86d1ff
LEN ?= 24
FAMILIES ?=

.PHONY: difftest
difftest:
	DIFFTEST_N=$(N) DIFFTEST_SEED=$(SEED) DIFFTEST_MAX_LEN=$(LEN) \
	$(if $(FAMILIES),DIFFTEST_FAMILIES=$(FAMILIES)) \
	cargo test --test difftest random_sequences_match_host_cpu -- --nocapture
