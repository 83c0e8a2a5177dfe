# Fuzzing (tests/fuzz/): one libFuzzer harness per parser that takes outside input. `make fuzz`
# builds them with clang (libFuzzer + ASan + UBSan, in FUZZ_BUILD) and runs each for FUZZ_SECONDS,
# niced; the replay build links each harness with tests/fuzz/replay_main.c and the normal compiler
# (no fuzzing engine) so that make test replays the checked-in corpora and crash reproducers
# (scripts/test.d/fuzz.sh).
FUZZ_HARNESSES := $(sort $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_SECONDS   ?= 60
FUZZ_BUILD     ?= build-fuzz
FUZZ_CC        ?= clang
FUZZ_ONLY      ?= $(FUZZ_HARNESSES)
# 1: libFuzzer's fork mode, one job; 0: one process, started again after a crash (more
# executions per second: no job start-ups and merges; tests/fuzz/run.sh).
FUZZ_FORK      ?= 1
FUZZ_OPT       := -O1 -g -fno-omit-frame-pointer
FUZZ_SAN       := -fsanitize=address,undefined -fno-sanitize-recover=undefined

.PHONY: fuzz fuzz-build fuzz-merge fuzz-clang

# ---- replay (part of make test) ----
FUZZ_REPLAY := $(FUZZ_HARNESSES:%=$(BUILD)/fuzz/%)
TEST_EXTRA  += $(FUZZ_REPLAY)
CLEAN_EXTRA += $(FUZZ_BUILD)

FUZZ_DRIVER := $(BUILD)/obj/tests/fuzz/replay_main.o

$(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(FUZZ_DRIVER) $(BUILD)/libcmsd.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(SAN) -o $@ $^ $(LDLIBS_ALL)

# ---- libFuzzer targets (only built by fuzz-build, in FUZZ_BUILD with clang) ----
$(BUILD)/fuzzer/%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(BUILD)/libcmsd.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(SAN) -fsanitize=fuzzer -o $@ $^ $(LDLIBS_ALL)

fuzz-clang:
	@tests/fuzz/run.sh --check $(FUZZ_CC)

# Warnings are the normal build's job: clang's differ from gcc's, so they do not stop this one.
fuzz-build: fuzz-clang
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) OPT="$(FUZZ_OPT)" \
		SAN="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
		CFLAGS="-Wno-error -Wno-unknown-warning-option $(CFLAGS)" \
		$(FUZZ_ONLY:%=$(FUZZ_BUILD)/fuzzer/%) $(FUZZ_ONLY:%=$(FUZZ_BUILD)/fuzz/%)

fuzz: fuzz-build ## run every libFuzzer harness for FUZZ_SECONDS (60) each, niced (FUZZ_ONLY="compose config" picks some, FUZZ_FORK=0 one process); figures in build-fuzz/results.md
	@FUZZ_FORK=$(FUZZ_FORK) nice -n 10 tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_ONLY)

fuzz-merge: fuzz-build ## minimize what make fuzz found into tests/fuzz/corpus/ (libFuzzer -merge=1)
	@nice -n 10 tests/fuzz/run.sh --merge $(FUZZ_BUILD) $(FUZZ_ONLY)

# The harness objects are intermediates of two pattern rules: keep them between builds.
.SECONDARY: $(FUZZ_HARNESSES:%=$(BUILD)/obj/tests/fuzz/fuzz_%.o) $(FUZZ_DRIVER)
