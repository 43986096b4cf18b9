# Shoal build. `make` builds bin/; `make test` and `make demo` install what is
# missing first (deps), then run on real PostgreSQL and the mock cluster.
#
# SAN=1 builds everything with AddressSanitizer and UndefinedBehaviorSanitizer
# into build/san and bin/san.

CC       ?= cc
SAN      ?= 0
OPT      ?= -O2 -g
WARN     := -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE
INCLUDES := -Icommon -Iconsumer -Iproducer -Itests -I/usr/include/postgresql
LIBS     := -lrdkafka -lpq -lcjson -lcurl -lmicrohttpd -lpthread -lm

ifeq ($(SAN),1)
  VARIANT  := san
  OPT      := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  LDSAN    := -fsanitize=address,undefined
  BINDIR   := bin/san
else
  VARIANT  := release
  BINDIR   := bin
endif
OBJDIR := build/$(VARIANT)
CFLAGS += $(WARN) $(OPT) $(INCLUDES) -MMD -MP

COMMON_SRC   := $(wildcard common/*.c)
CONSUMER_SRC := $(filter-out consumer/main.c,$(wildcard consumer/*.c consumer/extract/*.c))
PRODUCER_SRC := $(filter-out producer/main.c,$(wildcard producer/*.c))
UNIT_SRC     := $(wildcard tests/unit/test_*.c)

obj = $(patsubst %.c,$(OBJDIR)/%.o,$(1))
COMMON_OBJ   := $(call obj,$(COMMON_SRC))
CONSUMER_OBJ := $(call obj,$(CONSUMER_SRC)) $(OBJDIR)/gen/embedded.o
PRODUCER_OBJ := $(call obj,$(PRODUCER_SRC))

PROGRAMS := $(BINDIR)/shoal-consumer $(BINDIR)/shoal-producer $(BINDIR)/shoal-mock-kafka
UNIT_BINS := $(patsubst tests/unit/%.c,$(BINDIR)/%,$(UNIT_SRC))

.PHONY: all deps test unit e2e demo bench eval chaos fuzz clean
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

$(BINDIR)/test_%: $(call obj,tests/unit/test_%.c) $(CONSUMER_OBJ) $(PRODUCER_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LIBS)

# Migrations and the default taxonomy travel inside the binary (schema/embed.sh).
$(OBJDIR)/gen/embedded.c: schema/embed.sh $(wildcard schema/[0-9]*.sql) schema/taxonomy.json
	@mkdir -p $(dir $@)
	sh schema/embed.sh $@

$(OBJDIR)/gen/embedded.o: $(OBJDIR)/gen/embedded.c
	$(CC) $(CFLAGS) -c $< -o $@

units: $(UNIT_BINS)

# Installs only what is missing; a no-op on a prepared machine.
deps:
	@sh tests/support/deps.sh

unit: deps
	@$(MAKE) --no-print-directory units
	@$(MAKE) --no-print-directory SAN=1 units
	@sh tests/run.sh unit

test: deps
	@$(MAKE) --no-print-directory all units
	@$(MAKE) --no-print-directory SAN=1 all units
	@sh tests/run.sh all

demo: deps
	@$(MAKE) --no-print-directory all
	@sh tests/support/demo.sh

# The long chaos run (tests/chaos/chaos.sh; `make test` runs its CI sizes).
chaos: deps
	@$(MAKE) --no-print-directory all
	@sh tests/chaos/chaos.sh

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
