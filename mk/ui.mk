# The web dashboard (issue #14): ui/ and the vendored uPlot compiled into cmsd as one blob
# (scripts/embed-ui.sh, served by api/h_ui.c under /ui/), and the npm packages its build and its
# browser tests need, installed from package-lock.json when missing or older than the lock.

# node_modules/.package-lock.json is npm's record of what it installed: newer than the lock when
# node_modules is current, so npm ci runs only on a fresh clone or after the lock changed.
NPM_STAMP := node_modules/.package-lock.json
UI_SRC    := $(sort $(shell find ui -type f 2>/dev/null))
UI_VENDOR := vendor/uPlot.iife.min.js=node_modules/uplot/dist/uPlot.iife.min.js \
             vendor/uPlot.min.css=node_modules/uplot/dist/uPlot.min.css

$(NPM_STAMP): package.json package-lock.json
	@echo "  NPM     ci (uplot, playwright-core, the OpenAPI linters)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(BUILD)/obj/ui_blob.o: $(UI_SRC) $(NPM_STAMP) scripts/embed-ui.sh api/ui_assets.h $(BUILD)/.cflags
	@mkdir -p $(dir $@)
	@echo "  EMBED   ui/ ($(words $(UI_SRC)) files) + uPlot"
	@scripts/embed-ui.sh $(BUILD)/obj/ui_blob.c $(UI_SRC) $(UI_VENDOR)
	@$(CC) $(CFLAGS_ALL) -c $(BUILD)/obj/ui_blob.c -o $@

ui-shots: all $(NPM_STAMP) ## the dashboard's browser test alone on docker (shots: BUILD/ui-shots)
	@T_ONLY='^ui\.' CMSD_TEST_ENGINES=docker tests/integration/run.sh $(BUILD)/cmsd

TEST_EXTRA += $(NPM_STAMP)
