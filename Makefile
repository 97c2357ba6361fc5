# backstop - top-level build.
#
#   make                  build lib/ into build/libbackstop.a and every command
#   make check            install test dependencies if missing, build, run all tests
#   make check SANITIZE=1 the same under AddressSanitizer + UBSan
#   make demo             snap and restore a throwaway sample database
#   make install PREFIX=/usr/local DESTDIR=
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

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

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

CMD_SRC := $(filter-out cmd/backstop.c,$(wildcard cmd/*.c))
CMDS := $(CMD_SRC:cmd/%.c=$(BUILD)/bin/backstop-%) $(BUILD)/bin/backstop

# Man pages: docs/man/<page>.<section>.scd -> build/man/<page>.<section> (scdoc)
MAN_SRC := $(sort $(wildcard docs/man/*.scd))
MAN_PAGES := $(MAN_SRC:docs/man/%.scd=$(BUILD)/man/%)

TEST_SRC := $(shell find tests/unit -name '*_test.c' | sort)
TESTS := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all check check-unit check-integration demo install clean deps bench format-check man

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

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/backstop/policies
	install -m 0755 $(CMDS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 policies/*.yaml $(DESTDIR)$(PREFIX)/share/backstop/policies/
	if [ -d docs/man ]; then install -d $(DESTDIR)$(PREFIX)/share/man/man1 && \
		install -m 0644 docs/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/; fi

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
