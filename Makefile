# cmsd — build, set-up, run, test. `make help` lists the targets.
PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build

PKGS    := libmicrohttpd libcurl json-c yaml-0.1 libsystemd gnutls nettle libarchive
CC      ?= cc
CSTD    := -std=c11 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Werror -Wno-unused-parameter -Wjump-misses-init
OPT     ?= -O2 -g
SAN     ?=
CFLAGS_ALL  = $(CSTD) $(WARN) $(OPT) $(SAN) -MMD -MP -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
LDLIBS_ALL  = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm $(LDLIBS)

# Sources are found by folder: a new folder under daemon/ or api/ needs no edit here.
DAEMON_SRC := $(sort $(shell find daemon api -name '*.c'))
DAEMON_SRC := $(filter-out daemon/main.c,$(DAEMON_SRC))
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/openapi_blob.o $(BUILD)/obj/ui_blob.o
CLIENT_SRC := $(sort $(wildcard client/*.c))
CLIENT_OBJ := $(filter-out $(BUILD)/obj/client/main.o,$(CLIENT_SRC:%.c=$(BUILD)/obj/%.o))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)

.PHONY: FORCE all deps run test unit integration lint-openapi lint-layers asan scan-dpkg bench install uninstall clean help format

all: $(BUILD)/cmsd $(BUILD)/cmsctl $(BUILD)/cmsctl.1 $(BUILD)/cmsctl.bash $(BUILD)/cmsctl.zsh ## build build/cmsd, build/cmsctl, its man page and completion

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(firstword $(MAKEFILE_LIST)) $(sort $(wildcard mk/*.mk)) | sed -E 's/:.*## /\t/' | expand -t 16

deps: ## install the Debian packages cmsd, its tests and its engines need (idempotent)
	@scripts/deps.sh

# Objects are rebuilt when the flags change (a new warning, a sanitizer build in the same dir).
$(BUILD)/.cflags: FORCE
	@mkdir -p $(BUILD)
	@echo '$(CFLAGS_ALL)' | cmp -s - $@ || echo '$(CFLAGS_ALL)' > $@

$(BUILD)/obj/%.o: %.c $(BUILD)/.cflags
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_ALL) -c $< -o $@

# openapi.yaml is compiled in so that GET /openapi.yaml always serves the spec it was built with.
$(BUILD)/obj/openapi_blob.o: openapi.yaml $(BUILD)/.cflags
	@mkdir -p $(dir $@)
	@echo "  EMBED   openapi.yaml"
	@scripts/embed.sh openapi.yaml cms_openapi_yaml > $(BUILD)/obj/openapi_blob.c
	@$(CC) $(CFLAGS_ALL) -c $(BUILD)/obj/openapi_blob.c -o $@

$(BUILD)/libcmsd.a: $(DAEMON_OBJ)
	@rm -f $@
	@ar rcs $@ $^

# cmsd does not link libarchive: daemon/archive_dl.c opens it when first used (a build, an upload
# or a scan), so that it and its dependencies cost nothing until then.
DAEMON_LDLIBS = $(shell pkg-config --libs $(filter-out libarchive,$(PKGS)) 2>/dev/null) -lpthread -lm -ldl \
		$(LDLIBS)

$(BUILD)/cmsd: $(BUILD)/obj/daemon/main.o $(BUILD)/libcmsd.a
	@echo "  LD      $@"
	@$(CC) $(SAN) -o $@ $^ $(DAEMON_LDLIBS)

# cmsctl links libcurl, json-c and libyaml, and of the daemon only the pure helpers it shares:
# the build-context tar writer (.dockerignore) and the string/buffer utilities. libarchive, which
# the tar writer calls, is opened when first used (daemon/archive_dl.c): linked, it and its
# dependencies cost every command a third of its start.
CLIENT_SHARED := $(addprefix $(BUILD)/obj/daemon/,images/tar_dir.o images/dockerignore.o archive.o \
		 util.o archive_dl.o)
CLIENT_LIBS   := libcurl json-c yaml-0.1 nettle

$(BUILD)/libcmsctl.a: $(CLIENT_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/cmsctl: $(BUILD)/obj/client/main.o $(BUILD)/libcmsctl.a $(CLIENT_SHARED)
	@echo "  LD      $@"
	@$(CC) $(SAN) -o $@ $^ $(shell pkg-config --libs $(CLIENT_LIBS) 2>/dev/null) -lm -ldl $(LDLIBS)

# cmsctl's man page and completion scripts come from cmsctl itself (its commands table), run
# without a config file or a context so that the builder's own settings cannot change them.
CTL_GEN = env -u CMSD_CONTEXT CMSCTL_CONFIG=/nonexistent/cmsctl-build.yaml $(BUILD)/cmsctl

$(BUILD)/cmsctl.1: $(BUILD)/cmsctl
	@echo "  GEN     $@"
	@$(CTL_GEN) __man > $@.tmp && mv $@.tmp $@ || { rm -f $@.tmp; exit 1; }

$(BUILD)/cmsctl.bash $(BUILD)/cmsctl.zsh: $(BUILD)/cmsctl.%: $(BUILD)/cmsctl
	@echo "  GEN     $@"
	@$(CTL_GEN) completion $* > $@.tmp && mv $@.tmp $@ || { rm -f $@.tmp; exit 1; }

$(BUILD)/unit/%: tests/unit/%.c $(BUILD)/libcmsd.a $(BUILD)/libcmsctl.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/libcmsctl.a $(BUILD)/libcmsd.a $(LDLIBS_ALL) -lcmocka

run: deps all ## install what is missing, build, find or start an engine, run cmsd in the foreground
	@scripts/run.sh

unit: $(UNIT_BIN) ## build and run the cmocka unit tests
	@scripts/unit.sh $(UNIT_BIN)

lint-openapi: ## validate openapi.yaml with a real OpenAPI linter (@redocly/cli)
	@scripts/lint-openapi.sh

lint-layers: all ## check DESIGN.md's layering on the objects: no circles between files, calls go down
	@scripts/lint-layers.py $(BUILD)

integration: all ## run the integration suite against real Docker and real Podman, side by side (CMSD_TEST_SERIAL=1: one after the other)
	@tests/integration/run.sh $(BUILD)/cmsd

test: deps ## everything CI runs: deps, build, unit, layer and openapi lints, the fuzz corpora replay, integration (the dashboard in chromium too) on both engines
	@$(MAKE) --no-print-directory all $(UNIT_BIN) $(TEST_EXTRA)
	@scripts/test.sh $(BUILD) $(UNIT_BIN)

asan: deps ## the whole suite under AddressSanitizer + UBSan (separate build dir)
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" test

scan-dpkg: $(BUILD)/unit/test_scan_dpkg ## the Debian version order against dpkg itself on 100,000 pairs (~2 min)
	@CMS_DPKG_PAIRS=100000 $(BUILD)/unit/test_scan_dpkg

bench: all ## run the benchmarks in bench/ (ratios against a peer, printed)
	@bench/api.sh $(BUILD)/cmsd
	@bench/pull.sh $(BUILD)/cmsd
	@bench/sampler.sh $(BUILD)/cmsd
	@bench/compose.sh $(BUILD)/cmsd
	@bench/cli.sh $(BUILD)/cmsd $(BUILD)/cmsctl
	@bench/scan.sh $(BUILD)/cmsd
	@bench/ui.sh $(BUILD)/cmsd

format: ## clang-format every C file in place
	clang-format -i $(shell git ls-files '*.c' '*.h')

# Where install puts things. systemd reads units, sysusers.d and tmpfiles.d under /usr/local/lib
# too, so the default PREFIX works as is; PREFIX=/usr gives a distribution layout.
BINDIR      ?= $(PREFIX)/bin
SYSCONFDIR  ?= /etc
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions

install: all ## install cmsd, cmsctl, units, sysusers/tmpfiles snippets, example config (PREFIX, DESTDIR)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(SYSCONFDIR)/cmsd
	install -m 0755 $(BUILD)/cmsd $(DESTDIR)$(BINDIR)/cmsd
	install -m 0755 $(BUILD)/cmsctl $(DESTDIR)$(BINDIR)/cmsctl
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 0644 $(BUILD)/cmsctl.1 $(DESTDIR)$(MANDIR)/man1/cmsctl.1
	install -m 0644 $(BUILD)/cmsctl.bash $(DESTDIR)$(BASHCOMPDIR)/cmsctl
	install -m 0644 $(BUILD)/cmsctl.zsh $(DESTDIR)$(ZSHCOMPDIR)/_cmsctl
	sed -e 's|/usr/local/bin/cmsd|$(BINDIR)/cmsd|' -e 's|/etc/cmsd/|$(SYSCONFDIR)/cmsd/|' \
		systemd/cmsd.service > $(DESTDIR)$(UNITDIR)/cmsd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/cmsd.service
	install -m 0644 systemd/cmsd.socket $(DESTDIR)$(UNITDIR)/cmsd.socket
	install -m 0644 systemd/sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/cmsd.conf
	sed -e 's|/etc/cmsd|$(SYSCONFDIR)/cmsd|' systemd/tmpfiles.conf > $(DESTDIR)$(TMPFILESDIR)/cmsd.conf
	chmod 0644 $(DESTDIR)$(TMPFILESDIR)/cmsd.conf
	install -m 0644 systemd/cmsd.yaml.example $(DESTDIR)$(SYSCONFDIR)/cmsd/cmsd.yaml.example

uninstall: ## remove what install put in place (keeps /etc/cmsd/cmsd.yaml, the user and /var/lib/cmsd)
	rm -f $(DESTDIR)$(BINDIR)/cmsd $(DESTDIR)$(BINDIR)/cmsctl $(DESTDIR)$(UNITDIR)/cmsd.service $(DESTDIR)$(UNITDIR)/cmsd.socket \
		$(DESTDIR)$(SYSUSERSDIR)/cmsd.conf $(DESTDIR)$(TMPFILESDIR)/cmsd.conf \
		$(DESTDIR)$(SYSCONFDIR)/cmsd/cmsd.yaml.example
	rm -f $(DESTDIR)$(MANDIR)/man1/cmsctl.1 $(DESTDIR)$(BASHCOMPDIR)/cmsctl $(DESTDIR)$(ZSHCOMPDIR)/_cmsctl
	rmdir $(DESTDIR)$(SYSCONFDIR)/cmsd 2>/dev/null || true

clean: ## remove build outputs
	rm -rf build build-asan $(CLEAN_EXTRA)

# Each area's own targets (fuzzing, sanitizers, the dashboard, ...) live in mk/NAME.mk; a fragment
# may add to TEST_EXTRA what `make test` must build, and scripts/test.d/NAME.sh runs its part.
TEST_EXTRA :=
CLEAN_EXTRA :=
include $(sort $(wildcard mk/*.mk))

-include $(shell find $(BUILD) -name '*.d' -type f 2>/dev/null)
