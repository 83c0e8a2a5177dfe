# make tsan: the unit tests and the integration suite's concurrent rows with cmsd built under
# ThreadSanitizer (gcc -fsanitize=thread, its own build dir). Not part of make test: it takes a
# few minutes and needs the engines. A report anywhere (unit binary, the suite's cmsd, a test's
# private cmsd) fails the run; each goes to build-tsan/tsan-reports/report.PID and is listed.
# Suppressions, each with its reason, in tests/tsan.supp.
TSAN_BUILD := build-tsan
TSAN_DIR    = $(abspath $(TSAN_BUILD))/tsan-reports
TSAN_OPTS   = log_path=$(TSAN_DIR)/report suppressions=$(abspath tests/tsan.supp) \
	      second_deadlock_stack=1 history_size=4 exitcode=66
# The concurrent rows: parallel requests, streams ending while their container stops, reloads
# during requests, the sampler during container churn, compose up while others list (test_
# concurrency.sh), the engine faults, the stream and connection limits, the signal handling, and
# the metrics streams.
TSAN_ROWS  ?= ^(concurrency\.|faults\.|limits\.|signals\.|logs\.follow|metrics\.(monitor_stream|events_stream|appear_disappear|json_since_etag))
TSAN_UNITS  = $(UNIT_SRC:tests/unit/%.c=$(TSAN_BUILD)/unit/%)

tsan: ## unit tests and the concurrent integration rows under ThreadSanitizer (build-tsan; TSAN_ROWS to narrow)
	@$(MAKE) --no-print-directory BUILD=$(TSAN_BUILD) OPT="-O2 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=thread" $(TSAN_BUILD)/cmsd $(TSAN_UNITS)
	@rm -rf $(TSAN_DIR) && mkdir -p $(TSAN_DIR)
	@echo "== tsan: unit tests"; \
	TSAN_OPTIONS="$(TSAN_OPTS)" scripts/unit.sh $(TSAN_UNITS) | tail -n 1; urc=$${PIPESTATUS[0]}; \
	echo "== tsan: integration rows $(TSAN_ROWS)"; \
	TSAN_OPTIONS="$(TSAN_OPTS)" T_ONLY='$(TSAN_ROWS)' tests/integration/run.sh $(TSAN_BUILD)/cmsd \
		| grep -E '^(not ok|[0-9]+ passed)'; irc=$${PIPESTATUS[0]}; \
	n=$$(ls $(TSAN_DIR) | wc -l); \
	for f in $(TSAN_DIR)/*; do [ -f "$$f" ] && { echo "-- $$f"; grep -m1 -A12 'WARNING: ThreadSanitizer' "$$f"; }; done; \
	echo "tsan: $$n report file(s), unit exit $$urc, integration exit $$irc"; \
	[ "$$n" -eq 0 ] && [ "$$urc" -eq 0 ] && [ "$$irc" -eq 0 ]

.PHONY: tsan
tsan: SHELL := /bin/bash
CLEAN_EXTRA += $(TSAN_BUILD)
