# fnrun - build, run and test. See README.md.
#
#   make            build build/fnrun-worker (Duktape compiled from duktape-dev's
#                   amalgamated source with fcgi-app/sandbox/duk_overrides.h)
#   make run        install missing Debian packages, build, start the local stack
#   make stop       stop the local stack by PID
#   make test       unit + integration tests, normal build, then ASan+UBSan build,
#                   then check-tsan and fuzz
#   make check-asan the sanitizer half of make test alone
#   make check-tsan the unit suites whose code crosses threads, under
#                   ThreadSanitizer (part of make test)
#   make valgrind   the unit tests under valgrind memcheck
#   make bench      the benchmark: fnrun beside a bare libfcgi ceiling, Node
#                   behind nginx and njs, in one run (README "Benchmark")
#   make bench-smoke the same for one second each: every peer starts and
#                   answers correctly (no figure means anything)
#   make profile    perf record of fnrun under the bench's json workload
#   make heap-cost  the heap bytes of a function that uses no library
#   make heap-density  what 1,000 warm hello heaps cost one process
#   make lower-cost what lowering costs: loading the compiler, lowering
#   make fuzz       each libFuzzer harness in tests/fuzz/ for a bounded time
#                   (FUZZ_SECONDS in all, 60 by default), clang, ASan+UBSan;
#                   make fuzz-build only builds them, in build-fuzz/fuzz/
#   make pgo-bench  the training run's workloads timed in-process
#
#   PGO=0           build without the profile-guided optimisation (below)

SAN ?= 0
FUZZ ?= 0
ifeq ($(FUZZ),1)
# libFuzzer: everything compiled with coverage feedback and sanitizers; only
# the harnesses link the fuzzer's main (-fsanitize=fuzzer).
BUILD = build-fuzz
CC = clang
OPT = -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
# The engine keeps ASan and coverage but not UBSan, at -O2: Duktape's own
# number parsing (the differential's reference) is bignum arithmetic that
# UBSan at -O1 slows fourfold, and clang's UBSan flags Duktape's NULL + 0
# idiom (duk_hobject_props.c), which is the engine's business (make
# check-asan runs it under gcc's UBSan).
DUK_OPT = -O2 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address
else ifeq ($(SAN),1)
BUILD ?= build-asan
OPT = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
else ifeq ($(SAN),thread)
BUILD ?= build-tsan
OPT = -O1 -g -fno-omit-frame-pointer -fsanitize=thread
else
BUILD ?= build
OPT = -O2 -g
# Duktape at -O3 (whatever -O2 OPT asks for becomes -O3 there): gcc then
# inlines the value-stack and property helpers into the executor's call
# and return path. Callgrind counts of the training's workloads, -O2 ->
# -O3, both profile-guided: cpu (fib(20)) -20%, hello -10%, json -8%;
# the worker's .text grows ~96 KB (shared by its processes).
DUK_OPT ?= $(patsubst -O2,-O3,$(OPT))
endif

CC ?= cc
DUK_OPT ?= $(OPT)
DUK_SRC ?= /usr/share/duktape
WARN = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
# fcgi-app/ has one folder per layer (README, "Source layout"); every
# folder's headers are included by name.
# Parts of the sandbox are one folder deeper (sandbox/lib, sandbox/lower).
SRC_DIRS = $(sort $(dir $(wildcard fcgi-app/*/*.c fcgi-app/*/*/*.c)))
CPPFLAGS = -D_GNU_SOURCE -I$(BUILD)/duk -iquote $(BUILD)/gen \
	$(patsubst %/,-iquote %,$(SRC_DIRS))
CFLAGS = -std=c11 $(OPT) $(WARN)
LDLIBS = -lfcgi -lmemcached -lcurl -lcrypto -lm -pthread
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lpthread -lm)

APP_SRCS = $(filter-out fcgi-app/process/main.c,$(wildcard fcgi-app/*/*.c fcgi-app/*/*/*.c))
APP_HDRS = $(wildcard fcgi-app/*/*.h fcgi-app/*/*/*.h)
# JavaScript built into the binary: every fcgi-app/**/<name>.js becomes
# $(BUILD)/gen/<name>_js.h holding `static const char <name>_js[]` (its
# bytes, no NUL; sizeof is the length). Names are unique across folders.
APP_JS = $(wildcard fcgi-app/*/*.js fcgi-app/*/*/*.js)
APP_JS_H = $(patsubst %.js,$(BUILD)/gen/%_js.h,$(notdir $(APP_JS)))
vpath %.js $(sort $(dir $(APP_JS)))
APP_OBJS = $(patsubst fcgi-app/%.c,$(BUILD)/obj/%.o,$(APP_SRCS))
CHECK_SRCS = $(wildcard tests/check_*.c)
CHECK_BINS = $(patsubst tests/%.c,$(BUILD)/tests/%,$(CHECK_SRCS))
DUK_OBJ = $(BUILD)/duk/duktape.o
FUZZ_NAMES = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS = $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_NAMES))
FUZZ_SECONDS ?= 60

# Profile-guided optimisation (README "Building and testing"): libfnrun.a's
# objects, Duktape's included, are compiled twice, first instrumented
# (-fprofile-generate) into $(PGO_DIR), linked into the training driver
# tests/bench/pgo_train.c, whose run writes the profile (the .gcda files
# beside the instrumented objects), then optimised with it
# (-fprofile-use; -fprofile-partial-training: code the training never
# ran is optimised as without a profile, not for size). On by default
# where the compiler has -fprofile-partial-training (gcc 10 and later);
# PGO=0 switches it off. Never in the sanitizer and fuzz builds, and not
# by default when OPT or DUK_OPT is given (coverage, -O0, ...).
PGO_DIR = $(BUILD)/pgo
ifneq ($(SAN)$(FUZZ),00)
override PGO = 0
else ifneq ($(filter command line environment,$(origin OPT) $(origin DUK_OPT)),)
PGO ?= 0
endif
ifndef PGO
PGO := $(shell $(CC) -fprofile-partial-training -E -x c /dev/null \
	>/dev/null 2>&1 && echo 1 || echo 0)
endif
# A build directory holds the objects of one set of flags: the file
# $(BUILD_FLAGS) changes (and every object is rebuilt) when PGO, CC, OPT
# or DUK_OPT does. An optimised object and its profile must come from
# the same flags, or gcc refuses the profile.
BUILD_FLAGS = $(BUILD)/flags
FLAGS_LINE = PGO=$(PGO) CC=$(CC) OPT=$(OPT) DUK_OPT=$(DUK_OPT)
$(shell mkdir -p $(BUILD) && echo '$(FLAGS_LINE)' | \
	cmp -s - $(BUILD_FLAGS) || echo '$(FLAGS_LINE)' > $(BUILD_FLAGS))
PGO_APP_OBJS = $(APP_OBJS:$(BUILD)/%=$(PGO_DIR)/%)
PGO_DUK_OBJ = $(PGO_DIR)/duk/duktape.o

.PHONY: all run stop test unit integration check-asan check-tsan tsan-unit valgrind bench bench-smoke \
	profile clean deps deps-test fuzz fuzz-build aplus-deps heap-cost heap-density \
	lower-cost pgo-bench
all: $(BUILD)/fnrun-worker

# Duktape: Debian's libduktape lacks DUK_USE_EXEC_TIMEOUT_CHECK, so the
# amalgamation is compiled here with our overrides spliced into its config
# at the placeholder it provides. duktape.h includes "duk_config.h" relative
# to itself, so both live in $(BUILD)/duk. Nothing of it is committed.
$(BUILD)/duk/duk_config.h: $(DUK_SRC)/duk_config.h fcgi-app/sandbox/duk_overrides.h
	@mkdir -p $(@D)
	sed -e '/__OVERRIDE_DEFINES__/r fcgi-app/sandbox/duk_overrides.h' $< > $@.tmp
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
# One line of the engine is changed on the way: with built-ins as lightfuncs
# (duk_overrides.h), Duktape names one "light_<its C function's address>_
# <flags>" (its .name, String(f), stack traces), which would hand a
# function the worker's code addresses (ASLR). The address is left out
# ("light__<flags>"); the build fails if the line is not found exactly once.
# It goes with the setting, hence the dependency on duk_overrides.h.
LIGHTFUNC_ADDR = duk_push_string_funcptr(thr, (duk_uint8_t \*) \&func, sizeof(func));
$(BUILD)/duk/duktape.c: $(DUK_SRC)/duktape.c fcgi-app/sandbox/duk_overrides.h
	@mkdir -p $(@D)
	sed -e '/^DUK_INTERNAL void duk_push_lightfunc_name_raw(/,/^}/s/$(LIGHTFUNC_ADDR)/duk_push_literal(thr, "");/' $< > $@.tmp
	test "$$(grep -c '$(LIGHTFUNC_ADDR)' $< $@.tmp | tr '\n' ' ')" = "$<:2 $@.tmp:1 " && mv $@.tmp $@
DUK_DEPS = $(BUILD)/duk/duktape.c $(BUILD)/duk/duktape.h $(BUILD)/duk/duk_config.h
$(DUK_OBJ) $(PGO_DUK_OBJ): $(BUILD_FLAGS)
$(DUK_OBJ): $(DUK_DEPS)
	$(CC) -std=c99 $(DUK_OPT) -w $(PGO_USE) -I$(BUILD)/duk -c $(BUILD)/duk/duktape.c -o $@

# The objects of a folder with .js files include their arrays.
JS_OBJS = $(foreach d,$(sort $(dir $(APP_JS))),$(filter $(BUILD)/obj/$(d:fcgi-app/%=%)%,$(APP_OBJS)))
$(JS_OBJS) $(JS_OBJS:$(BUILD)/%=$(PGO_DIR)/%): $(APP_JS_H)
APP_DEPS = $(APP_HDRS) $(BUILD)/duk/duktape.h $(BUILD)/duk/duk_config.h $(BUILD)/duk/engine_build.h
$(BUILD)/obj/process/main.o $(APP_OBJS) $(PGO_APP_OBJS): $(BUILD_FLAGS)
$(BUILD)/obj/%.o: fcgi-app/%.c $(APP_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PGO_USE) -c $< -o $@

# The profile-guided build. Each optimised object is rebuilt when its
# instrumented twin is (so with a profile of its current code), after
# the training run; a training run alone rebuilds nothing (make clean
# for a build wholly from a new profile). -dumpdir names where gcc finds
# the object's profile.
ifeq ($(PGO),1)
$(DUK_OBJ): private PGO_USE = -fprofile-use -fprofile-partial-training \
	-dumpdir $(PGO_DIR)/duk/
$(DUK_OBJ): $(PGO_DUK_OBJ) | $(PGO_DIR)/trained
$(APP_OBJS): private PGO_USE = -fprofile-use -fprofile-partial-training \
	-dumpdir $(PGO_DIR)/obj/$(dir $*)
$(APP_OBJS): $(BUILD)/obj/%.o: $(PGO_DIR)/obj/%.o | $(PGO_DIR)/trained

$(PGO_DUK_OBJ): $(DUK_DEPS)
	@mkdir -p $(@D)
	$(CC) -std=c99 $(DUK_OPT) -w -fprofile-generate -I$(BUILD)/duk \
	    -c $(BUILD)/duk/duktape.c -o $@
$(PGO_DIR)/obj/%.o: fcgi-app/%.c $(APP_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fprofile-generate -c $< -o $@
# The driver links every instrumented object (not an archive, which
# would leave out those it does not call): each gets a profile, if an
# empty one, and -fprofile-use finds none missing.
$(PGO_DIR)/pgo-train: tests/bench/pgo_train.c tests/json_payload.h $(PGO_APP_OBJS) $(PGO_DUK_OBJ)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fprofile-generate -o $@ $< \
	    $(PGO_APP_OBJS) $(PGO_DUK_OBJ) $(LDLIBS)
# A run adds to the counts it finds: the old ones go first.
$(PGO_DIR)/trained: $(PGO_DIR)/pgo-train $(wildcard tests/bench/functions/*.js)
	find $(PGO_DIR) -name '*.gcda' -delete
	$(PGO_DIR)/pgo-train tests/bench/functions > $(PGO_DIR)/train.log
	touch $@
endif

# Made by a pattern rule, they would be deleted as intermediates.
.SECONDARY: $(APP_JS_H)
$(BUILD)/gen/%_js.h: %.js
	@mkdir -p $(@D)
	{ printf '/* generated from $< by make: do not edit */\n'; \
	  printf 'static const char %s_js[] = {\n' '$*'; \
	  xxd -i < $<; printf '};\n'; } > $@.tmp && mv $@.tmp $@

$(BUILD)/libfnrun.a: $(APP_OBJS) $(DUK_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/fnrun-worker: $(BUILD)/obj/process/main.o $(BUILD)/libfnrun.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/%.c tests/*.h $(BUILD)/libfnrun.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes -o $@ $< $(BUILD)/libfnrun.a $(LDLIBS) $(CHECK_LIBS)

# The Promises/A+ suite (npm, pinned by its lock file) that check_aplus
# runs inside the engine.
APLUS_MODULES = tests/aplus/node_modules/.package-lock.json
$(APLUS_MODULES): tests/aplus/package.json tests/aplus/package-lock.json
	cd tests/aplus && npm ci --ignore-scripts --no-audit --no-fund
aplus-deps: $(APLUS_MODULES)
$(BUILD)/tests/check_aplus: $(APLUS_MODULES)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/*.h $(BUILD)/libfnrun.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -iquote tests -fsanitize=fuzzer -o $@ $< $(BUILD)/libfnrun.a $(LDLIBS)

# SPEC §11 "Cost": the allocator's count for a heap whose function uses
# none of the library (make heap-cost prints it).
$(BUILD)/bench-heap-cost: tests/bench/heap_cost.c $(BUILD)/libfnrun.a
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libfnrun.a $(LDLIBS)

heap-cost: $(BUILD)/bench-heap-cost
	@echo "bytes after load, call peak, after call:"; $(BUILD)/bench-heap-cost

# What 1,000 warm hello heaps cost one process (make bench's many, in
# process): allocator count, RSS and glibc's arena per heap.
$(BUILD)/bench-heap-density: tests/bench/heap_density.c $(BUILD)/libfnrun.a
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libfnrun.a $(LDLIBS) \
	    -Wl,--wrap=sandbox_alloc_malloc,--wrap=sandbox_alloc_realloc,--wrap=sandbox_alloc_free

heap-density: $(BUILD)/bench-heap-density
	@$(BUILD)/bench-heap-density -h

# What lowering costs (README "The JavaScript"): make lower-cost.
$(BUILD)/bench-lower-cost: tests/bench/lower_cost.c $(BUILD)/libfnrun.a
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libfnrun.a $(LDLIBS)

lower-cost: $(BUILD)/bench-lower-cost
	$(BUILD)/bench-lower-cost

# The training run's workloads, timed (per cold and warm call) on this
# build's library: make pgo-bench; make PGO=0 BUILD=<another dir>
# pgo-bench to compare (PGO=0 in build/ would rebuild it all).
$(BUILD)/bench-pgo: tests/bench/pgo_train.c tests/json_payload.h $(BUILD)/libfnrun.a
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libfnrun.a $(LDLIBS)

pgo-bench: $(BUILD)/bench-pgo
	$(BUILD)/bench-pgo tests/bench/functions 5

$(BUILD)/bench-ceiling: tests/bench/ceiling.c
	$(CC) $(CFLAGS) -o $@ $< -lfcgi
$(BUILD)/bench-ceil-close: tests/bench/ceiling.c
	$(CC) $(CFLAGS) -DCEILING_CLOSE_AT_ONCE -o $@ $< -lfcgi

# The body every benchmark request posts, from tests/json_payload.h.
$(BUILD)/bench-payload: tests/bench/payload.c tests/json_payload.h
	$(CC) $(CFLAGS) -o $@ $<
$(BUILD)/bench/payload.json: $(BUILD)/bench-payload
	@mkdir -p $(@D)
	$< > $@.tmp && mv $@.tmp $@

deps:
	scripts/install-deps.sh

# make test also needs the console's browser tests' packages (chromium).
deps-test:
	scripts/install-deps.sh --test

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

# The unit suites whose code crosses threads, under ThreadSanitizer: a
# spare heap is made in the spare thread (cache/spare.c) and taken, run
# and freed in the worker's; the heaps' allocator keeps its free lists
# per thread (sandbox/sandbox_alloc.c), so such a heap's blocks go back
# to another thread's lists. A race report fails the suite (TSan's exit
# code 66).
TSAN_SUITES = check_spare check_sandbox_alloc
check-tsan:
	$(MAKE) SAN=thread tsan-unit

tsan-unit: $(TSAN_SUITES:%=$(BUILD)/tests/%)
	@set -e; for t in $^; do echo "== $$t (ThreadSanitizer)"; \
	CK_FORK=no TSAN_OPTIONS=halt_on_error=1 $$t; done

# The unit tests under valgrind's memcheck, without forking (opt-in: the
# JSON differential test alone takes minutes under valgrind).
valgrind: $(CHECK_BINS)
	@set -e; for t in $(CHECK_BINS); do echo "== $$t"; \
	CK_FORK=no valgrind -q --error-exitcode=1 --leak-check=full \
	    --errors-for-leak-kinds=definite $$t; done

test: deps-test
	$(MAKE) unit integration
	$(MAKE) check-asan
	$(MAKE) check-tsan
	$(MAKE) fuzz

# Each harness gets an equal share of FUZZ_SECONDS on its own copy of the
# committed seed corpus under build-fuzz/corpus (what libFuzzer finds
# accumulates there, never in tests/fuzz/corpus). The seeds, and so every
# saved crash, run first. A crash, leak, timeout or sanitizer report fails
# the make and leaves the input in build-fuzz/crashes/.
ifeq ($(FUZZ),1)
fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@set -e; n=$(words $(FUZZ_NAMES)); t=$$(( $(FUZZ_SECONDS) / n )); \
	[ $$t -ge 1 ] || t=1; mkdir -p $(BUILD)/crashes; \
	for h in $(FUZZ_NAMES); do \
	    echo "== fuzz_$$h ($$t s)"; mkdir -p $(BUILD)/corpus/$$h; \
	    if [ -d tests/fuzz/corpus/$$h ]; then \
	        cp -R tests/fuzz/corpus/$$h/. $(BUILD)/corpus/$$h/; fi; \
	    dict=; [ ! -f tests/fuzz/$$h.dict ] || dict=-dict=tests/fuzz/$$h.dict; \
	    $(BUILD)/fuzz/fuzz_$$h -max_total_time=$$t -timeout=10 \
	        -rss_limit_mb=2048 -print_final_stats=1 $$dict \
	        -artifact_prefix=$(BUILD)/crashes/$$h- $(BUILD)/corpus/$$h \
	        > $(BUILD)/fuzz_$$h.log 2>&1 || { \
	        tail -n 60 $(BUILD)/fuzz_$$h.log; \
	        echo "fuzz_$$h: FAILED, input in $(BUILD)/crashes/"; exit 1; }; \
	    grep -E '^(Done|stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb))' \
	        $(BUILD)/fuzz_$$h.log || true; \
	done
else
fuzz fuzz-build:
	$(MAKE) FUZZ=1 $@
endif

BENCH_NEEDS = all $(BUILD)/bench-ceiling $(BUILD)/bench-ceil-close $(BUILD)/bench/payload.json
bench: $(BENCH_NEEDS)
	scripts/bench.sh $(BUILD)

bench-smoke: $(BENCH_NEEDS)
	scripts/bench.sh --smoke $(BUILD)

profile: $(BENCH_NEEDS)
	scripts/bench.sh --profile $(BUILD)

clean:
	rm -rf build build-asan build-fuzz
