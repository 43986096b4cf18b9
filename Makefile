# Shoal build. `make` builds bin/; `make test` and `make demo` install what is
# missing first (deps), then run on real PostgreSQL and the mock cluster.
#
# SAN=1 builds everything with AddressSanitizer and UndefinedBehaviorSanitizer
# into build/san and bin/san.

CC       ?= cc
SAN      ?= 0
OPT      ?= -O2 -g
WARN     := -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE
INCLUDES := -Icommon -Iconsumer -Iproducer -Itests -I/usr/include/postgresql -I/usr/include/libxml2
LIBS     := -lrdkafka -lpq -lcjson -lcurl -lxml2 -lmicrohttpd -lpthread -lm

ifeq ($(SAN),1)
  VARIANT  := san
  OPT      := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  LDSAN    := -fsanitize=address,undefined
  BINDIR   := bin/san
else
  VARIANT  := release
  BINDIR   := bin
endif
# FUZZ=1 (with CC=clang): libFuzzer targets tests/fuzz/fuzz_*.c, ASan+UBSan.
ifeq ($(FUZZ),1)
  VARIANT  := fuzz
  OPT      := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
  LDSAN    := -fsanitize=fuzzer,address,undefined
  BINDIR   := bin/fuzz
endif
FUZZ_SECONDS ?= 60
OBJDIR := build/$(VARIANT)
CFLAGS += $(WARN) $(OPT) $(INCLUDES) -MMD -MP

COMMON_SRC   := $(wildcard common/*.c)
CONSUMER_SRC := $(filter-out consumer/main.c,$(wildcard consumer/*.c consumer/extract/*.c))
PRODUCER_SRC := $(filter-out producer/main.c,$(wildcard producer/*.c))
UNIT_SRC     := $(wildcard tests/unit/test_*.c)
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(OBJDIR)/%.o,$(1))
COMMON_OBJ   := $(call obj,$(COMMON_SRC))
CONSUMER_OBJ := $(call obj,$(CONSUMER_SRC)) $(OBJDIR)/gen/embedded.o
PRODUCER_OBJ := $(call obj,$(PRODUCER_SRC))

PROGRAMS := $(BINDIR)/shoal-consumer $(BINDIR)/shoal-producer $(BINDIR)/shoal-mock-kafka
UNIT_BINS := $(patsubst tests/unit/%.c,$(BINDIR)/%,$(UNIT_SRC))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BINDIR)/%,$(FUZZ_SRC))

.PHONY: all deps test unit e2e demo bench eval chaos fuzz fuzzers lint tidy clean
all: $(PROGRAMS)

$(OBJDIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BINDIR)/shoal-consumer: $(call obj,consumer/main.c) $(CONSUMER_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LIBS)

$(BINDIR)/shoal-producer: $(call obj,producer/main.c) $(PRODUCER_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LIBS)

$(BINDIR)/shoal-mock-kafka: $(call obj,tests/support/mock_kafka.c) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LIBS)

# The benchmark's in-process driver (bench/engines.c); not part of `all`.
$(BINDIR)/cluster_eval: $(call obj,tests/support/cluster_eval.c tests/support/bcubed.c) $(CONSUMER_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LIBS)

$(BINDIR)/shoal-bench: $(call obj,bench/engines.c) $(CONSUMER_OBJ) $(PRODUCER_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LIBS)

$(BINDIR)/test_%: $(call obj,tests/unit/test_%.c) $(CONSUMER_OBJ) $(PRODUCER_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LIBS)

# Migrations and the default taxonomy travel inside the binary (schema/embed.sh).
$(OBJDIR)/gen/embedded.c: schema/embed.sh $(wildcard schema/[0-9]*.sql) schema/taxonomy.json
	@mkdir -p $(dir $@)
	sh schema/embed.sh $@

$(OBJDIR)/gen/embedded.o: $(OBJDIR)/gen/embedded.c
	$(CC) $(CFLAGS) -c $< -o $@

$(BINDIR)/fuzz_%: $(call obj,tests/fuzz/fuzz_%.c) $(CONSUMER_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LIBS)

units: $(UNIT_BINS)
fuzzers: $(FUZZ_BINS)

# Installs only what is missing; a no-op on a prepared machine.
deps:
	@sh tests/support/deps.sh

unit: deps
	@$(MAKE) --no-print-directory units
	@$(MAKE) --no-print-directory SAN=1 units
	@sh tests/run.sh unit

test: deps
	@$(MAKE) --no-print-directory all units $(BINDIR)/cluster_eval
	@$(MAKE) --no-print-directory SAN=1 all units
	@sh tests/run.sh all

demo: deps
	@$(MAKE) --no-print-directory all
	@sh tests/support/demo.sh

# make eval FILE=labelled.jsonl [INSTANCES=N] [PRED=out.jsonl] [INPROCESS=1]:
# clustering scored on the real path (tests/support/eval.sh).
FILE ?= ../shared/data/uci-news-aggregator-sample.jsonl
eval: deps
	@$(MAKE) --no-print-directory all $(BINDIR)/cluster_eval
	@if [ -n "$(INPROCESS)" ]; then $(BINDIR)/cluster_eval "$(FILE)" $(if $(PRED),--pred "$(PRED)"); \
	 else sh tests/support/eval.sh "$(FILE)" "$(or $(INSTANCES),1)" "$(PRED)"; fi

# make bench [N=200000] [ROUNDS=3]: ceilings and Shoal measured in one run
# (bench/README.md).
bench: deps
	@$(MAKE) --no-print-directory all $(BINDIR)/shoal-bench
	@$(if $(ROUNDS),ROUNDS=$(ROUNDS)) sh bench/bench.sh $(N)

# Each fuzz target for FUZZ_SECONDS on tests/fuzz/corpus (tests/fuzz/README.md).
fuzz: deps
	@$(MAKE) --no-print-directory FUZZ=1 CC=clang fuzzers
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh

# Static analysis: cppcheck with tests/lint/cppcheck.supp must be clean
# (CI: tests/e2e/73_lint.sh). `make tidy` runs clang-tidy with .clang-tidy.
LINT_SRC := common consumer producer tests/fuzz tests/support/mock_kafka.c
lint:
	cppcheck --quiet -j "$$(nproc)" --std=c11 --enable=warning,portability --inline-suppr --error-exitcode=1 \
	  --suppressions-list=tests/lint/cppcheck.supp -D_GNU_SOURCE -Icommon -Iconsumer -Iproducer $(LINT_SRC)

# One clang-tidy per file: in one process the analyzer carries va_list state
# from one file to the next (clang 14: false valist.Uninitialized reports).
# As many at once as there are cores.
tidy:
	@printf '%s\n' $(filter %.c,$(COMMON_SRC) $(CONSUMER_SRC) consumer/main.c $(PRODUCER_SRC) producer/main.c) | \
	  xargs -P "$$(nproc)" -I{} clang-tidy --quiet {} -- -std=c11 -D_GNU_SOURCE $(INCLUDES)

# The long chaos run (tests/chaos/chaos.sh; `make test` runs its CI sizes).
chaos: deps
	@$(MAKE) --no-print-directory all
	@sh tests/chaos/chaos.sh

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
