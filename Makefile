# fnrun - build, run and test. See README.md.
#
#   make            build build/fnrun-worker (Duktape compiled from duktape-dev's
#                   amalgamated source with fcgi-app/duk_overrides.h)
#   make run        install missing Debian packages, build, start the local stack
#   make stop       stop the local stack by PID
#   make test       unit + integration tests, normal build, then ASan+UBSan build
#   make check-asan the sanitizer half of make test alone
#   make valgrind   the unit tests under valgrind memcheck
#   make bench      the benchmark (prints ratios against a bare libfcgi ceiling)

SAN ?= 0
ifeq ($(SAN),1)
BUILD ?= build-asan
OPT = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
else
BUILD ?= build
OPT = -O2 -g
endif

CC ?= cc
DUK_SRC ?= /usr/share/duktape
WARN = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS = -D_GNU_SOURCE -I$(BUILD)/duk -iquote fcgi-app
CFLAGS = -std=c11 $(OPT) $(WARN)
LDLIBS = -lfcgi -lmemcached -lcrypto -lm
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lpthread -lm)

APP_SRCS = $(filter-out fcgi-app/main.c,$(wildcard fcgi-app/*.c))
APP_OBJS = $(patsubst fcgi-app/%.c,$(BUILD)/obj/%.o,$(APP_SRCS))
CHECK_SRCS = $(wildcard tests/check_*.c)
CHECK_BINS = $(patsubst tests/%.c,$(BUILD)/tests/%,$(CHECK_SRCS))
DUK_OBJ = $(BUILD)/duk/duktape.o

.PHONY: all run stop test unit integration check-asan valgrind bench clean deps
all: $(BUILD)/fnrun-worker

# Duktape: Debian's libduktape lacks DUK_USE_EXEC_TIMEOUT_CHECK, so the
# amalgamation is compiled here with our overrides spliced into its config
# at the placeholder it provides. duktape.h includes "duk_config.h" relative
# to itself, so both live in $(BUILD)/duk. Nothing of it is committed.
$(BUILD)/duk/duk_config.h: $(DUK_SRC)/duk_config.h fcgi-app/duk_overrides.h
	@mkdir -p $(@D)
	sed -e '/__OVERRIDE_DEFINES__/r fcgi-app/duk_overrides.h' $< > $@.tmp
	grep -q DUK_USE_EXEC_TIMEOUT_CHECK $@.tmp && mv $@.tmp $@
# The engine build id keys the bytecode cache (SPEC §9): Duktape's version
# and a hash of the exact configuration, so a new build never loads old
# bytecode.
$(BUILD)/duk/engine_build.h: $(BUILD)/duk/duk_config.h $(BUILD)/duk/duktape.h
	v=$$(sed -n 's/^#define DUK_VERSION *\([0-9]*\)L.*/\1/p' $(BUILD)/duk/duktape.h); \
	h=$$(cat $(BUILD)/duk/duk_config.h $(BUILD)/duk/duktape.h | sha256sum | cut -c1-16); \
	printf '#define FNRUN_ENGINE_BUILD "duk%s-%s"\n' "$$v" "$$h" > $@
$(BUILD)/duk/duktape.h: $(DUK_SRC)/duktape.h
	@mkdir -p $(@D)
	cp $< $@
$(BUILD)/duk/duktape.c: $(DUK_SRC)/duktape.c
	@mkdir -p $(@D)
	cp $< $@
$(DUK_OBJ): $(BUILD)/duk/duktape.c $(BUILD)/duk/duktape.h $(BUILD)/duk/duk_config.h
	$(CC) -std=c99 $(OPT) -w -I$(BUILD)/duk -c $< -o $@

$(BUILD)/obj/%.o: fcgi-app/%.c $(wildcard fcgi-app/*.h) $(BUILD)/duk/duktape.h $(BUILD)/duk/duk_config.h $(BUILD)/duk/engine_build.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/libfnrun.a: $(APP_OBJS) $(DUK_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/fnrun-worker: $(BUILD)/obj/main.o $(BUILD)/libfnrun.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(BUILD)/libfnrun.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes -o $@ $< $(BUILD)/libfnrun.a $(LDLIBS) $(CHECK_LIBS)

$(BUILD)/bench-ceiling: tests/bench/ceiling.c
	$(CC) $(CFLAGS) -o $@ $< -lfcgi

deps:
	scripts/install-deps.sh

run: deps
	$(MAKE) all
	scripts/stack.sh start

stop:
	scripts/stack.sh stop

# Unit tests run in Check's fork mode: a crash fails one test, not the run.
unit: $(CHECK_BINS)
	@set -e; for t in $(CHECK_BINS); do echo "== $$t"; CK_FORK=yes $$t; done

integration: all
	python3 tests/integration/run.py --build $(BUILD)

check-asan:
	$(MAKE) SAN=1 unit integration

# The unit tests under valgrind's memcheck, without forking (opt-in: the
# JSON differential test alone takes minutes under valgrind).
valgrind: $(CHECK_BINS)
	@set -e; for t in $(CHECK_BINS); do echo "== $$t"; \
	CK_FORK=no valgrind -q --error-exitcode=1 --leak-check=full \
	    --errors-for-leak-kinds=definite $$t; done

test: deps
	$(MAKE) unit integration
	$(MAKE) check-asan

bench: all $(BUILD)/bench-ceiling
	scripts/bench.sh $(BUILD)

clean:
	rm -rf build build-asan
