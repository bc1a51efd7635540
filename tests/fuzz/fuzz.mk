# tests/fuzz/fuzz.mk - `make fuzz`: builds every libFuzzer target
# tests/fuzz/fuzz_<name>.c with clang (ASan + UBSan) into build/fuzz/ and runs
# each for FUZZ_SECONDS. Included by the top-level Makefile. Owns build/fuzz/:
# its own clang-built libwhitelist.a (never the gcc objects), the working
# corpora build/fuzz/corpus/<name>/, the inputs that failed
# build/fuzz/crash/<name>/ and the logs build/fuzz/log/<name>.log. The
# committed seeds tests/fuzz/corpus/<name>/ are only read.
#
#   make fuzz                     build all targets, run each FUZZ_SECONDS (10)
#   make fuzz FUZZ_SECONDS=600    longer; `make -j2 fuzz` runs two at a time
#   make fuzz FUZZ_SECONDS=0      only replay the corpora (no new inputs)
#   make fuzz FUZZ_TARGETS=db     only some targets
#   make fuzz-build               build only
#
# A crash, a leak, a sanitizer report or a time-out (FUZZ_TIMEOUT seconds on
# one input) fails the run: tests/fuzz/run.sh prints "fuzz <name>: FAILED ..."
# naming the input it kept under build/fuzz/crash/<name>/, and `make fuzz`
# fails. Replay one input: build/fuzz/fuzz_<name> build/fuzz/crash/<name>/crash-...
#
# Adding a target:
#   1. write tests/fuzz/fuzz_<name>.c defining LLVMFuzzerTestOneInput (with
#      its prototype, for -Wmissing-prototypes). The wildcard below finds it;
#      it is linked with build/fuzz/libwhitelist.a, every whitelist/*.c built
#      for fuzzing (the archive brings in only what the target calls);
#   2. only if it calls code outside whitelist/ (agent/, tools/), name those
#      sources on one line in the list below, e.g.
#          FUZZ_SRCS_journal := agent/journal.c
#      The target is compiled with -Iagent -Itools, so it may include their
#      headers. Keep a parser in a file that does not pull in
#      the rest of the daemon (the BPF helper, the sandbox), or define what it
#      pulls in as stubs in the target file: the linker names what is missing.
#   3. put a few small valid inputs in tests/fuzz/corpus/<name>/ (the run
#      starts from them), and if the format has keywords, a libFuzzer
#      dictionary tests/fuzz/fuzz_<name>.dict (used when present).
#   `make fuzz` and tests/integration/02-fuzz.sh (part of `make test`) pick
#   the target up by themselves.
FUZZ_B := build/fuzz
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 10
FUZZ_TIMEOUT ?= 25
FUZZ_MAX_LEN ?= 70000
FUZZ_TARGETS ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

# Sources outside whitelist/ that a target links: one line per target that
# has any (db, ctl, classify, config and export have none; ctl is
# header-only). The agent/ ones get log_msg and the counters from
# tests/fuzz/fuzz_stubs.h.
FUZZ_SRCS_state := agent/state.c agent/written.c
FUZZ_SRCS_journal := agent/journal.c agent/written.c

FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := $(BASE_CFLAGS) -O1 -fno-omit-frame-pointer $(FUZZ_SAN)
FUZZ_WL_OBJ := $(WL_SRC:%.c=$(FUZZ_B)/obj/%.o)
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_B)/fuzz_%)

.PHONY: fuzz fuzz-build $(FUZZ_TARGETS:%=fuzz-run-%)
fuzz: $(FUZZ_TARGETS:%=fuzz-run-%)
fuzz-build: $(FUZZ_BINS)

# Library and extra objects: instrumented for coverage, no fuzzer main.
$(FUZZ_B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC(fz)  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_B)/libwhitelist.a: $(FUZZ_WL_OBJ)
	@$(if $(Q),echo "  AR(fz)  $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# One binary per target: the target file with libFuzzer's main, its extra
# sources, the library. Made per target (eval) so that FUZZ_SRCS_<name> is
# read for each; the dependency file goes under obj/ with the others.
define FUZZ_BIN_RULE
$(FUZZ_B)/fuzz_$(1): tests/fuzz/fuzz_$(1).c $(FUZZ_SRCS_$(1):%.c=$(FUZZ_B)/obj/%.o) \
		$(FUZZ_B)/libwhitelist.a
	@mkdir -p $(FUZZ_B)/obj/tests/fuzz
	@$$(if $$(Q),echo "  FUZZ    $$@")
	$$(Q)$$(FUZZ_CC) $$(FUZZ_CFLAGS) -Iagent -Itools -fsanitize=fuzzer -MMD -MP -MT $$@ \
		-MF $(FUZZ_B)/obj/tests/fuzz/fuzz_$(1).d -o $$@ $$(filter %.c %.o %.a,$$^) $$(LIBS)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_BIN_RULE,$(t))))

$(FUZZ_TARGETS:%=fuzz-run-%): fuzz-run-%: $(FUZZ_B)/fuzz_%
	$(Q)tests/fuzz/run.sh $* $< $(FUZZ_B) $(FUZZ_SECONDS) \
		-timeout=$(FUZZ_TIMEOUT) -max_len=$(FUZZ_MAX_LEN) $(FUZZ_FLAGS)

-include $(FUZZ_WL_OBJ:.o=.d) $(FUZZ_TARGETS:%=$(FUZZ_B)/obj/tests/fuzz/fuzz_%.d) \
	$(foreach t,$(FUZZ_TARGETS),$(FUZZ_SRCS_$(t):%.c=$(FUZZ_B)/obj/%.d))
