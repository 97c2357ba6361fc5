# backstop - top-level build.
#
#   make                  build lib/ into build/libbackstop.a and every command
#   make check            install test dependencies if missing, build, run all tests
#   make check SANITIZE=1 the same under AddressSanitizer + UBSan
#   make demo             snap and restore a throwaway sample database
#   make install PREFIX=/usr/local DESTDIR=    (and make uninstall, make dist: see below)
#
# Commands: cmd/<name>.c -> build/bin/backstop-<name>; cmd/backstop.c is the dispatcher.
# Unit tests: tests/unit/<module>/<x>_test.c -> build/tests/<module>/<x>_test.

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
CC ?= cc

PKGS := libpq libarchive libzstd libcrypto libcurl yaml-0.1 jansson libxml-2.0
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# The version, in one place: the VERSION file (in every checkout and in the
# make dist tarball).  Compiled in as BS_VERSION; the objects that use it are
# rebuilt when it changes.  debian/changelog must agree (debian/rules checks).
VERSION := $(shell cat VERSION 2>/dev/null)
ifeq ($(VERSION),)
$(error the VERSION file is missing or empty; it is the one place the version is kept)
endif

CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Wno-format-truncation -pthread \
	-Ilib -DBS_VERSION='"$(VERSION)"' $(PKG_CFLAGS)
LDLIBS += $(PKG_LIBS) -pthread -lm

ifeq ($(SANITIZE),1)
BUILD := build-san
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRC := $(shell find lib -name '*.c' | sort)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB_A := $(BUILD)/libbackstop.a
$(patsubst %.c,$(BUILD)/obj/%.o,$(shell grep -rl --include='*.c' BS_VERSION lib cmd)): VERSION

CMD_SRC := $(filter-out cmd/backstop.c,$(wildcard cmd/*.c))
CMDS := $(CMD_SRC:cmd/%.c=$(BUILD)/bin/backstop-%) $(BUILD)/bin/backstop
# Keep the commands' objects (make deletes intermediates, and the next make,
# seeing them in the .d files, would compile them again: in `sudo make install`).
.SECONDARY: $(CMD_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/cmd/backstop.o

# Man pages: docs/man/<page>.<section>.scd -> build/man/<page>.<section> (scdoc)
MAN_SRC := $(sort $(wildcard docs/man/*.scd))
MAN_PAGES := $(MAN_SRC:docs/man/%.scd=$(BUILD)/man/%)

TEST_SRC := $(shell find tests/unit -name '*_test.c' | sort)
TESTS := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all check check-unit check-integration demo install uninstall dist clean deps bench format-check man

all: $(CMDS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/bin/backstop-%: $(BUILD)/obj/cmd/%.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/bin/backstop: $(BUILD)/obj/cmd/backstop.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/obj/tests/unit/%.o: CFLAGS += -Itests/unit

man: $(MAN_PAGES)

$(BUILD)/man/%: docs/man/%.scd
	@mkdir -p $(dir $@)
	scdoc < $< > $@.tmp && mv $@.tmp $@

deps:
	bash scripts/install-deps.sh

check: deps
	$(MAKE) all tests
	BUILD=$(BUILD) bash tests/run.sh

tests: $(TESTS)

check-unit: all tests
	BUILD=$(BUILD) bash tests/run.sh unit

check-integration: all tests
	BUILD=$(BUILD) bash tests/run.sh integration

demo: deps
	$(MAKE) all
	BUILD=$(BUILD) bash scripts/demo.sh

bench: all
	BUILD=$(BUILD) bash bench/run.sh

# ---- install, uninstall, dist (README.md "Installing") ---------------------
#
#   make all man && sudo make install    install under PREFIX (default /usr/local)
#   make install DESTDIR=/tmp/root PREFIX=/usr
#                         stage into DESTDIR (packagers; debian/rules does this)
#   make uninstall        the same variables: removes exactly what install put there
#   make dist             $(BUILD)/backstop-$(VERSION).tar.gz: the committed tree
#                         (HEAD; uncommitted changes are NOT in it) under
#                         backstop-$(VERSION)/, by git archive, so it needs a git
#                         checkout; reproducible (sorted, mtime of the last commit)
#
# install depends on all and man and builds nothing else, so after `make all
# man` as a user, `sudo make install` compiles nothing as root.  BINDIR,
# DATADIR, MANDIR, DOCDIR and PKGDATADIR can be overridden one by one.
# Layout (under $(DESTDIR)):
#   $(BINDIR)                   backstop and every backstop-<cmd> (side by side:
#                               the dispatcher runs the one beside itself first)
#   $(MANDIR)/man<s>/           every docs/man/<page>.<s>.scd, built by scdoc
#   $(PKGDATADIR)/policies/     policies/ (retention, drill, go-live and go-live.d/)
#   $(PKGDATADIR)/hooks/        the example hooks, mode 0755
#   $(PKGDATADIR)/contrib/      contrib/: cron, systemd units, alert rules, example
#                               config...; /usr/local/bin/ in them becomes $(BINDIR)/.
#                               Not under share/doc: they are files to copy into
#                               /etc, and minimal images (Debian's container
#                               images) drop share/doc.
#   $(DOCDIR)/                  README.md and docs/*.md
#   $(DATADIR)/bash-completion/completions/backstop, $(DATADIR)/zsh/vendor-completions/_backstop
#                               from contrib/completion/, when those files exist; and
#                               completions/backstop-<cmd> -> backstop symlinks, since
#                               bash-completion loads a completion by the command's name

BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
DOCDIR ?= $(DATADIR)/doc/backstop
PKGDATADIR ?= $(DATADIR)/backstop
INSTALL ?= install

INST_POLICIES := $(sort $(shell find policies -type f 2>/dev/null))
INST_HOOKS := $(sort $(shell find hooks -maxdepth 1 -type f 2>/dev/null))
INST_CONTRIB := $(sort $(shell find contrib -type f 2>/dev/null))
INST_DOCS := README.md $(sort $(wildcard docs/*.md))
INST_BASH := $(wildcard contrib/completion/backstop.bash)
INST_ZSH := $(wildcard contrib/completion/_backstop)
# man<section> of a built page: build/man/backstop-snap.1 -> man1
man_dir = $(MANDIR)/man$(patsubst .%,%,$(suffix $(1)))

# Every file install writes, without $(DESTDIR): what uninstall removes.
INSTALLED = $(addprefix $(BINDIR)/,$(notdir $(CMDS))) \
	$(foreach p,$(MAN_PAGES),$(call man_dir,$(p))/$(notdir $(p))) \
	$(addprefix $(PKGDATADIR)/,$(INST_POLICIES) $(INST_HOOKS) $(INST_CONTRIB)) \
	$(addprefix $(DOCDIR)/,$(notdir $(INST_DOCS))) \
	$(if $(INST_BASH),$(DATADIR)/bash-completion/completions/backstop \
		$(addprefix $(DATADIR)/bash-completion/completions/,$(notdir $(filter-out %/backstop,$(CMDS))))) \
	$(if $(INST_ZSH),$(DATADIR)/zsh/vendor-completions/_backstop)

install: all man
	$(INSTALL) -d $(DESTDIR)$(BINDIR)
	$(INSTALL) -m 0755 $(CMDS) $(DESTDIR)$(BINDIR)/
	@set -e; for p in $(MAN_PAGES); do \
		d="$(DESTDIR)$(MANDIR)/man$${p##*.}"; \
		echo "$(INSTALL) -m 0644 $$p $$d/"; \
		$(INSTALL) -d "$$d"; $(INSTALL) -m 0644 "$$p" "$$d/"; \
	done
	@set -e; for f in $(INST_POLICIES); do \
		$(INSTALL) -d "$(DESTDIR)$(PKGDATADIR)/$${f%/*}"; \
		$(INSTALL) -m 0644 "$$f" "$(DESTDIR)$(PKGDATADIR)/$$f"; \
	done
	$(INSTALL) -d $(DESTDIR)$(PKGDATADIR)/hooks
	$(INSTALL) -m 0755 $(INST_HOOKS) $(DESTDIR)$(PKGDATADIR)/hooks/
	@set -e; for f in $(INST_CONTRIB); do \
		$(INSTALL) -d "$(DESTDIR)$(PKGDATADIR)/$${f%/*}"; \
		sed 's|/usr/local/bin/|$(BINDIR)/|g' "$$f" >"$(DESTDIR)$(PKGDATADIR)/$$f"; \
		if [ -x "$$f" ]; then m=0755; else m=0644; fi; \
		chmod $$m "$(DESTDIR)$(PKGDATADIR)/$$f"; \
	done
	$(INSTALL) -d $(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 0644 $(INST_DOCS) $(DESTDIR)$(DOCDIR)/
ifneq ($(INST_BASH),)
	$(INSTALL) -d $(DESTDIR)$(DATADIR)/bash-completion/completions
	$(INSTALL) -m 0644 $(INST_BASH) $(DESTDIR)$(DATADIR)/bash-completion/completions/backstop
	@set -e; for c in $(notdir $(filter-out %/backstop,$(CMDS))); do \
		ln -sfn backstop "$(DESTDIR)$(DATADIR)/bash-completion/completions/$$c"; \
	done
endif
ifneq ($(INST_ZSH),)
	$(INSTALL) -d $(DESTDIR)$(DATADIR)/zsh/vendor-completions
	$(INSTALL) -m 0644 $(INST_ZSH) $(DESTDIR)$(DATADIR)/zsh/vendor-completions/_backstop
endif

# Directories only backstop uses are removed once empty; shared ones (bin,
# man1) stay.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	@for d in $(DESTDIR)$(PKGDATADIR) $(DESTDIR)$(DOCDIR); do \
		[ ! -d "$$d" ] || find "$$d" -depth -type d -empty -delete; \
	done

DIST := $(BUILD)/backstop-$(VERSION).tar.gz

dist:
	@if [ -n "$$(git rev-parse --show-cdup 2>/dev/null || echo no)" ]; then \
		echo "make dist: $(CURDIR) is not a git checkout; dist archives the committed tree (git archive HEAD)" >&2; \
		exit 2; \
	fi
	@if [ "$$(git show HEAD:VERSION 2>/dev/null)" != "$(VERSION)" ]; then \
		echo "make dist: VERSION ($(VERSION)) differs from the committed one; commit it first" >&2; \
		exit 2; \
	fi
	@git diff --quiet HEAD -- || \
		echo "make dist: note: uncommitted changes are not in the tarball (it is HEAD, $$(git rev-parse --short HEAD))" >&2
	@mkdir -p $(BUILD)
	git archive --format=tar.gz --prefix=backstop-$(VERSION)/ -o $(DIST).tmp HEAD
	@mv $(DIST).tmp $(DIST)
	@echo "$(DIST)"

# ---- fuzzing (tests/fuzz/README.md) ----------------------------------------
#
#   make fuzz-build              build every tests/fuzz/fuzz_*.c into build-fuzz/fuzz/
#                                (clang, libFuzzer, ASan + UBSan; the library is
#                                compiled again there with coverage instrumentation)
#   make fuzz FUZZ_SECONDS=N     run each target N seconds (default 60) from its seed
#                                corpus; crashes are saved under tests/fuzz/crashes/
#
# The fuzz build is a recursive make with BUILD=build-fuzz and FUZZ_BUILD=1,
# so it never touches the objects of the normal or sanitizer builds.

FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)

.PHONY: fuzz fuzz-build fuzz-targets

ifeq ($(FUZZ_BUILD),1)
CFLAGS += -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined -Wno-unknown-warning-option
LDFLAGS += -fsanitize=address,undefined
endif

fuzz-build:
	$(MAKE) BUILD=$(FUZZ_DIR) CC=clang FUZZ_BUILD=1 SANITIZE= fuzz-targets

fuzz-targets: $(FUZZ_BINS) $(BUILD)/fuzz/seeds

$(BUILD)/fuzz/fuzz_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer $^ $(LDLIBS) -o $@

$(BUILD)/fuzz/seeds: $(BUILD)/obj/tests/fuzz/seeds.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/obj/tests/fuzz/%.o: CFLAGS += -Itests/fuzz
.SECONDARY: $(FUZZ_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/tests/fuzz/seeds.o

fuzz: fuzz-build
	FUZZ_DIR=$(FUZZ_DIR) bash tests/fuzz/run.sh $(FUZZ_SECONDS)

format-check:
	clang-format --dry-run --Werror $(LIB_SRC) $(CMD_SRC) cmd/backstop.c

clean:
	rm -rf build build-san

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
