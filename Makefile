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

PKGS := libpq libarchive libzstd libcrypto libcurl yaml-0.1 jansson
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

TEST_SRC := $(shell find tests/unit -name '*_test.c' | sort)
TESTS := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all check check-unit check-integration demo install clean deps bench format-check

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

format-check:
	clang-format --dry-run --Werror $(LIB_SRC) $(CMD_SRC) cmd/backstop.c

clean:
	rm -rf build build-san

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
