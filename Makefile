# LaunchPad build. Sources are found by wildcard: add a .c file to a module folder and it builds.
#   make            build the three binaries into build/bin
#   make test       the whole suite (installs deps, starts the test environment, runs every suite)
#   make unit       unit tests (Check)            make asan   unit tests under ASan+UBSan
#   make integration  tests against the real dockerd   make smoke   the end-to-end smoke test
#   make chaos      the platform under kills and container faults, then convergence (bounded)
#   make compose    docker-compose.yml + Dockerfile on the real engine
#   make dashboard  build the web UI   make dashboard-check   its lint/types/unit tests
#   make e2e        the dashboard in Chromium against the real platform
#   make run        the platform on this machine   make stop   remove its containers
#   make fuzz       every libFuzzer harness for FUZZ_SECONDS (600) each   make fuzz-smoke  their seeds
#   make format / lint / clean

BUILD    ?= build
CC       ?= cc
PKGS     := yaml-0.1 sqlite3 libcurl libcjson libgit2 libarchive openssl libmicrohttpd zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANITIZE_FLAGS) -Iinclude -I. $(PKG_CFLAGS) -MMD -MP
LDLIBS   := $(PKG_LIBS) -lpthread -lm

ifeq ($(SANITIZE),1)
SANITIZE_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
# The fuzzing build (clang only): every object carries libFuzzer's coverage hooks.
ifeq ($(FUZZ),1)
SANITIZE_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
                  -fno-sanitize-recover=undefined
endif

# The layers, lowest first; each folder is one static library of every .c but its main.c. A layer
# includes only layers below it (scripts/check-layers.sh, run by `make lint`).
#   core (base utilities) < store, docker, spec < pipeline < controller, apiserver, cli
LIBDIRS := core store docker spec pipeline controller apiserver cli
lib_src = $(filter-out $(1)/main.c,$(wildcard $(1)/*.c))
lib_a   = $(BUILD)/lib/lib$(1).a
TLIB_SRC := $(wildcard tests/lib/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

define lib_rule
$(call lib_a,$(1)): $(call obj,$(call lib_src,$(1))) ; $$(archive)
endef

LIBTEST := $(BUILD)/lib/libtestutil.a
# Link order: users before what they use.
CLI_LIBS  := $(call lib_a,cli) $(call lib_a,spec) $(call lib_a,core)
CTRL_LIBS := $(call lib_a,controller) $(call lib_a,pipeline) $(call lib_a,docker) \
             $(call lib_a,store) $(call lib_a,spec) $(call lib_a,core)
API_LIBS  := $(call lib_a,apiserver) $(call lib_a,pipeline) $(call lib_a,store) \
             $(call lib_a,spec) $(call lib_a,core)
ALL_LIBS  := $(call lib_a,cli) $(call lib_a,apiserver) $(call lib_a,controller) \
             $(call lib_a,pipeline) $(call lib_a,docker) $(call lib_a,store) \
             $(call lib_a,spec) $(call lib_a,core)

BINS := $(BUILD)/bin/launchpad
ifneq ($(wildcard controller/main.c),)
BINS += $(BUILD)/bin/launchpad-controller
endif
ifneq ($(wildcard apiserver/main.c),)
BINS += $(BUILD)/bin/launchpad-apiserver
endif
# The apps' health probe (controller/probe): static, libc only, so it runs in any app image.
PROBE := $(BUILD)/bin/lp-probe
BINS += $(PROBE)

BENCH_SRC := $(wildcard bench/*.c)
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
UNIT_SRC := $(wildcard tests/unit/check_*.c)
INTEG_SRC := $(wildcard tests/integration/check_*.c)
CHAOS_SRC := $(wildcard tests/chaos/check_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TOOL_SRC))
INTEG_BINS := $(patsubst tests/integration/%.c,$(BUILD)/tests/integration/%,$(INTEG_SRC))
CHAOS_BINS := $(patsubst tests/chaos/%.c,$(BUILD)/tests/chaos/%,$(CHAOS_SRC))

# libFuzzer harnesses: fuzz/fuzz_<name>.c each, their helpers in fuzz/lib (docs/fuzzing.md).
FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst fuzz/%.c,$(BUILD)/bin/%,$(FUZZ_SRC))
FUZZ_LIB := $(BUILD)/lib/libfuzzutil.a
FUZZ_SEEDS := $(BUILD)/bin/fuzz-seeds
FUZZ_SECONDS ?= 600
FUZZ_BUILD_ARGS := BUILD=build/fuzz CC=clang FUZZ=1 CFLAGS="-O1 -g"

.PHONY: fuzz fuzz-build fuzz-smoke fuzz-bins
.PHONY: all test unit asan integration chaos smoke compose e2e docs-test format lint clean run stop test-env install-deps bench bench-all test-tools dashboard dashboard-check
all: $(BINS)

# V=1 shows every command.
Q := $(if $(V),,@)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

define archive
	@mkdir -p $(dir $@)
	@rm -f $@
	@$(if $(V),,echo "  AR      $@")
	$(Q)ar rcs $@ $^
endef

$(foreach d,$(LIBDIRS),$(eval $(call lib_rule,$(d))))
$(LIBTEST): $(call obj,$(TLIB_SRC)) ; $(archive)

$(BUILD)/bin/launchpad: $(call obj,cli/main.c) $(CLI_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(SANITIZE_FLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/bin/launchpad-controller: $(call obj,controller/main.c) $(CTRL_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(SANITIZE_FLAGS) -o $@ $^ $(LDLIBS)
$(PROBE): controller/probe/lp_probe.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@ (static)")
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -static -o $@ $<
$(BUILD)/bin/launchpad-apiserver: $(call obj,apiserver/main.c) $(API_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(SANITIZE_FLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/tests/%.o: ALL_CFLAGS += $(CHECK_CFLAGS)
$(BUILD)/obj/bench/%.o: ALL_CFLAGS += $(CHECK_CFLAGS)
$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(LIBTEST) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(SANITIZE_FLAGS) -o $@ $< $(LIBTEST) $(ALL_LIBS) $(CHECK_LIBS) $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIBTEST) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(SANITIZE_FLAGS) -o $@ $< $(LIBTEST) $(ALL_LIBS) $(CHECK_LIBS) $(LDLIBS)

$(FUZZ_LIB): $(call obj,$(wildcard fuzz/lib/*.c)) ; $(archive)
$(BUILD)/bin/fuzz_%: $(BUILD)/obj/fuzz/fuzz_%.o $(FUZZ_LIB) $(LIBTEST) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(SANITIZE_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(LIBTEST) $(ALL_LIBS) \
	    $(CHECK_LIBS) $(LDLIBS)
$(FUZZ_SEEDS): $(BUILD)/obj/fuzz/seeds.o $(FUZZ_LIB) $(LIBTEST) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(SANITIZE_FLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)
fuzz-bins: $(FUZZ_BINS) $(FUZZ_SEEDS)
.SECONDARY: $(call obj,$(FUZZ_SRC) fuzz/seeds.c)

# The harnesses are built by clang into build/fuzz (their own objects: every one instrumented).
fuzz-build:
	@$(MAKE) --no-print-directory $(FUZZ_BUILD_ARGS) fuzz-bins
# Each harness for FUZZ_SECONDS, one after the other (FUZZ_ONLY=spec,rules picks some).
fuzz: fuzz-build
	@scripts/fuzz.sh run $(FUZZ_SECONDS)
# Each harness over its seed corpus once: seconds, so they cannot rot (part of `make test`).
fuzz-smoke: fuzz-build
	@scripts/fuzz.sh smoke

# Benchmarks print figures; they are never part of `make test`. `make bench` prints the table
# of goals, floors and figures (scripts/bench-table.sh); `make bench-all` runs every benchmark.
bench: $(BENCH_BINS) $(BINS)
	@scripts/bench-table.sh $(BUILD)

bench-all: $(BENCH_BINS) $(BINS)
	@for b in $(BENCH_BINS); do echo "== $$b"; $$b || exit 1; done

# Tests find the binaries and fixtures through these.
export LAUNCHPAD_TEST_BIN := $(abspath $(BUILD)/bin)
export LAUNCHPAD_TEST_SRC := $(abspath .)

unit: $(UNIT_BINS) $(BINS)
	@scripts/run-suites.sh unit $(UNIT_BINS)

# Helpers that run the test platform for drivers written in other languages (the browser tests).
test-tools: $(TOOL_BINS) $(BINS)

integration: $(INTEG_BINS) $(BINS)
	@LP_SUITE_RETRIES=1 scripts/run-suites.sh integration $(INTEG_BINS)

# The chaos suite restarts dockerd once only with LP_CHAOS_DOCKERD_RESTART=1: on by default under
# CI=true (CI owns its engine), off elsewhere (other work may share the engine).
chaos: export LP_CHAOS_DOCKERD_RESTART := $(or $(LP_CHAOS_DOCKERD_RESTART),$(if $(filter true,$(CI)),1))
chaos: $(CHAOS_BINS) $(BINS)
	@scripts/run-suites.sh chaos $(CHAOS_BINS)

smoke: $(BINS)
	@tests/smoke/run.sh

# The dashboard (React + TypeScript, dashboard/): locked dependencies, then the build the
# apiserver serves at / (--dashboard-dir dashboard/dist).
DASH_SRC := $(shell find dashboard/src dashboard/index.html dashboard/public dashboard/vite.config.ts \
              dashboard/tsconfig*.json -type f 2>/dev/null)
dashboard/node_modules/.package-lock.json: dashboard/package-lock.json dashboard/package.json
	cd dashboard && npm ci --no-audit --no-fund --loglevel=error
dashboard/dist/index.html: dashboard/node_modules/.package-lock.json $(DASH_SRC)
	cd dashboard && npm run --silent build
dashboard: dashboard/dist/index.html

# Lint (ESLint), types (tsc --noEmit) and unit tests (Vitest) of the dashboard.
dashboard-check: dashboard/node_modules/.package-lock.json
	cd dashboard && npm run --silent lint && npm run --silent typecheck && npm test --silent

# The dashboard in Debian's Chromium (playwright-core) against the real platform and Traefik.
e2e: dashboard test-tools $(BINS)
	cd dashboard && npm run --silent e2e

# The README's quick start, run as written (a second `make run` instance on free ports).
docs-test: $(BINS)
	@tests/docs/readme.sh

# docker-compose.yml and the Dockerfile for real (Compose v2 and Debian's docker-compose 1.29).
compose:
	@tests/compose/run.sh

asan:
	$(MAKE) BUILD=build/asan SANITIZE=1 CFLAGS="-O1 -g" unit

install-deps:
	@scripts/install-deps.sh

test-env:
	@scripts/test-env.sh up

# The README's test command: everything, from a fresh machine.
test: install-deps
	@scripts/test-env.sh up
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory chaos
	@$(MAKE) --no-print-directory smoke
	@$(MAKE) --no-print-directory compose
	@$(MAKE) --no-print-directory dashboard-check
	@$(MAKE) --no-print-directory e2e
	@$(MAKE) --no-print-directory docs-test

# The README's platform command: from a fresh machine, deps first (pkg-config needs them).
run: install-deps
	@$(MAKE) --no-print-directory all dashboard
	@scripts/run-local.sh

# Remove what `make run` left running (the instance's containers and networks; the data stays).
stop:
	@scripts/run-local.sh stop

C_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	@clang-format -i $(C_FILES)
lint:
	@scripts/check-layers.sh
	@scripts/check-layers.sh --self-test
	@clang-format --dry-run -Werror $(C_FILES) && echo "clang-format: $(words $(C_FILES)) files as formatted"


clean:
	rm -rf build dashboard/dist

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
