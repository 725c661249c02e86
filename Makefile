# ringscan — build, test, demo.
#
#   make            build/ringscan (optimised) and the test tools build/tools/*
#                   (needs a C compiler, liburing, libpcre2 and libsqlite3:
#                   scripts/deps.sh build)
#   make deps       install what make test needs (scripts/deps.sh test; root)
#   make test       deps, unit + end-to-end tests, plain and under ASan+UBSan,
#                   the end-to-end ones on both engines (io_uring, epoll)
#   make test-unit  the cmocka unit tests only
#   make test-slurm deploy/slurm/ringscan-array.sbatch under a real one-node
#                   Slurm (slurm-wlm, munge: scripts/deps.sh slurm) in private
#                   namespaces (root; ~15 s; tests/slurm/test_slurm.sh)
#   make demo       deps (demo profile), build, scan a private loopback test
#                   world, check it
#   make asan       build/asan/ringscan and its unit tests with ASan + UBSan
#   make fresh-check  make demo and make test in a freshly bootstrapped
#                   minimal Debian 12 root, as root and as a user (root;
#                   about 16 minutes; tests/fresh/fresh-debian.sh)
#   make soak       kill -9 workers and coordinators 20 times, resume, check
#   make bench      benchmarks side by side with the peers (long; never in CI),
#                   then make bench-service (bench/service.sh: --banner),
#                   make bench-wan: emulated real links (bench/wan.sh) and
#                   make bench-python: python/'s check_ports against a pool
#                   of threads (bench/python.sh)
#   make fuzz       libFuzzer on the target/port and checkpoint parsers, then
#                   random command lines (make fuzz-cli); FUZZ_SECONDS=600 each
#   make install    build/ringscan, its man page, bash completion and docs
#                   under PREFIX (default /usr/local), staged in DESTDIR if
#                   set; make uninstall removes them (tests/e2e/test_install.sh)
#   make deb        the Debian package build/ringscan_VERSION_ARCH.deb
#                   (scripts/mkdeb.sh; needs scripts/deps.sh deb); make
#                   test-deb builds it, lints it, installs it in a throwaway
#                   overlay of this machine and scans with it
#   make format     clang-format every source file
#   make lint       cppcheck and clang-format --dry-run (part of make test)
#   V=1             show full command lines
#
# Objects of one flavour live under $(B); the sanitizer flavour is the same
# Makefile re-entered with B=build/asan SAN=1.

B       ?= build
SAN     ?= 0
CC      ?= cc
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

CFLAGS  ?= -O2 -g
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Iinclude -Isrc -MMD -MP -D_GNU_SOURCE \
	-DRS_VERSION='"$(VERSION)"'
ifeq ($(SAN),1)
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
override LDFLAGS += -fsanitize=address,undefined
endif
LDLIBS  := -luring -lpcre2-8 -lsqlite3 -lpthread -lm

ifeq ($(V),1)
Q :=
else
Q := @
endif

SRCS      := $(sort $(wildcard src/*.c))
LIB_SRCS  := $(filter-out src/main.c,$(SRCS))
LIB_OBJS  := $(LIB_SRCS:src/%.c=$(B)/obj/%.o)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNITS     := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOLS     := $(TOOL_SRCS:tests/tools/%.c=$(B)/tools/%)

.PHONY: all units asan test test-unit demo deps format lint clean bench bench-wan \
	bench-service bench-python fuzz soak test-slurm \
	fresh-check build-deps unit-deps fuzz-deps install uninstall deb test-deb
# The scanner and the test-world tools; nothing here needs cmocka.
all: $(B)/ringscan $(TOOLS)

# The unit test binaries (cmocka), built by test, test-unit and asan.
units: $(UNITS)

# Before compiling: a C compiler, liburing's and PCRE2's headers, or a one-line hint
# (rather than "cc: No such file or directory"). Checked once per make run.
build-deps:
	$(Q)command -v $(firstword $(CC)) >/dev/null 2>&1 || { echo "make: no C compiler \
	($(CC)): run 'scripts/deps.sh build' as root (or 'make deps' for everything)" >&2; exit 1; }
	$(Q)echo '#include <liburing.h>' | $(CC) -E -x c - >/dev/null 2>&1 || { echo "make: no \
	<liburing.h>: run 'scripts/deps.sh build' as root (or 'make deps' for everything)" >&2; exit 1; }
	$(Q)printf '#define PCRE2_CODE_UNIT_WIDTH 8\n#include <pcre2.h>\n' | $(CC) -E -x c - >/dev/null \
		2>&1 || { echo "make: no <pcre2.h>: run 'scripts/deps.sh build' as root (or 'make \
	deps' for everything)" >&2; exit 1; }
	$(Q)echo '#include <sqlite3.h>' | $(CC) -E -x c - >/dev/null 2>&1 || { echo "make: no \
	<sqlite3.h>: run 'scripts/deps.sh build' as root (or 'make deps' for everything)" >&2; exit 1; }

unit-deps: build-deps
	$(Q)printf '#include <%s>\n' stdarg.h stddef.h setjmp.h cmocka.h | $(CC) -E -x c - \
		>/dev/null 2>&1 || { echo "make: no <cmocka.h> for the unit tests: run \
	'scripts/deps.sh test' as root (or 'make deps')" >&2; exit 1; }

fuzz-deps:
	$(Q)command -v clang >/dev/null 2>&1 || { echo "make: no clang for the fuzzers: run \
	'scripts/deps.sh test' as root (or 'make deps')" >&2; exit 1; }

$(LIB_OBJS) $(B)/obj/main.o $(TOOLS): | build-deps
$(UNITS): | unit-deps

$(B)/ringscan: $(B)/obj/main.o $(B)/libringscan.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/libringscan.a: $(LIB_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(B)/libringscan.a
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -MF $(dir $@).$(notdir $@).d $(LDFLAGS) -o $@ $< \
		$(B)/libringscan.a -lcmocka $(LDLIBS)

# Test-world tools (listener, world generator) are always built without
# sanitizers: they are the ground truth, not the code under test.
$(B)/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) -O2 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $<

asan:
	$(Q)$(MAKE) --no-print-directory B=build/asan SAN=1 all units

# libFuzzer (clang) on the pure parsers: make fuzz runs each fuzzer for
# FUZZ_SECONDS (default 600) on a copy of its committed corpus
# (tests/fuzz/corpus_NAME); make test runs 30 s each.
FUZZ_SECONDS ?= 600
FUZZERS := targets checkpoint
FUZZ_SRCS_targets := src/targets.c src/addrset.c
FUZZ_SRCS_checkpoint := src/checkpoint.c src/addrset.c
FUZZ_FLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -Iinclude -Isrc \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

.SECONDEXPANSION:
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(FUZZ_SRCS_$$*) $(wildcard include/ringscan/*.h)
	@mkdir -p $(dir $@)
	@echo "  CLANG   $@"
	$(Q)clang $(FUZZ_FLAGS) -o $@ $< $(FUZZ_SRCS_$*)

$(FUZZERS:%=build/fuzz/fuzz_%): | fuzz-deps

# The fuzzers run side by side (one core each), each for FUZZ_SECONDS;
# make fuzz then runs fuzz-cli too.
fuzz: fuzz-libfuzzer
	$(Q)$(MAKE) --no-print-directory fuzz-cli

.PHONY: fuzz-libfuzzer
fuzz-libfuzzer: $(FUZZERS:%=build/fuzz/fuzz_%)
	$(Q)pids=; for f in $(FUZZERS); do \
		rm -rf build/fuzz/corpus_$$f && cp -r tests/fuzz/corpus_$$f build/fuzz/ || exit 1; \
		build/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
			-print_final_stats=1 build/fuzz/corpus_$$f >build/fuzz/fuzz_$$f.log 2>&1 & \
		pids="$$pids $$!"; \
	done; \
	rc=0; for p in $$pids; do wait $$p || rc=1; done; \
	for f in $(FUZZERS); do \
		if grep -q "^Done" build/fuzz/fuzz_$$f.log; then \
			grep -E "stat::number_of_executed_units|^Done" build/fuzz/fuzz_$$f.log | \
				sed "s/^/  fuzz_$$f: /"; \
		else tail -50 build/fuzz/fuzz_$$f.log; rc=1; fi; \
	done; exit $$rc

# Random command lines in --dry-run (tests/tools/cli_fuzz.py) under ASan for
# FUZZ_SECONDS; make test runs only 400 per build (tests/e2e/test_cli_fuzz.sh).
.PHONY: fuzz-cli
fuzz-cli:
	$(Q)$(MAKE) --no-print-directory asan
	$(Q)RS_FUZZ_COUNT=10000000 RS_FUZZ_SECONDS=$(FUZZ_SECONDS) RS_FUZZ_MAXFAIL=50 \
		bash tests/e2e/test_cli_fuzz.sh build/asan

deps:
	$(Q)scripts/deps.sh test

# The README's test command; .ci/run calls exactly this. Builds use every
# core (JOBS); the fuzzers run 30 s each, side by side.
JOBS ?= $(shell nproc)
test: deps
	$(Q)$(MAKE) --no-print-directory lint
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) all units
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) asan
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) $(FUZZERS:%=build/fuzz/fuzz_%)
	$(Q)$(MAKE) --no-print-directory fuzz-libfuzzer FUZZ_SECONDS=30
	$(Q)tests/both.sh --split 1 --engines uring,epoll build -- --split 0 --engines uring,epoll build/asan

test-unit: all units
	$(Q)tests/run.sh --unit-only build

# Not in make test: it needs root (slurmstepd sets the job's groups, which
# a user namespace forbids) and packages make test does not install.
test-slurm:
	$(Q)scripts/deps.sh slurm
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash tests/slurm/test_slurm.sh build

# 1M-probe world, 20 random kill -9s of workers and coordinators, resumed
# until done, checked against the ground truth (minutes; not in CI).
soak: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/soak/soak.sh build

demo:
	$(Q)scripts/deps.sh demo
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/e2e/demo.sh build

# The README on a new machine (needs root and a Debian mirror; not in CI).
fresh-check:
	$(Q)tests/fresh/fresh-debian.sh

MICRO_SRCS := $(sort $(wildcard bench/micro/*.c))
MICROS     := $(MICRO_SRCS:bench/micro/%.c=$(B)/bench/%)

$(B)/bench/%: bench/micro/%.c $(B)/libringscan.a
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -O3 -MF $(dir $@).$(notdir $@).d $(LDFLAGS) -o $@ $< \
		$(B)/libringscan.a $(LDLIBS)

$(B)/bench/epoll_connect: bench/peers/epoll_connect.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) -O2 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $<

bench: deps all $(MICROS) $(B)/bench/epoll_connect
	$(Q)for m in $(MICROS); do echo "### $$(basename $$m)"; echo; $$m || exit 1; echo; \
		done >$(B)/bench/micro.md
	$(Q)cat $(B)/bench/micro.md
	$(Q)RS_BENCH_MICRO=$(CURDIR)/$(B)/bench/micro.md bench/run.sh
	$(Q)$(MAKE) --no-print-directory bench-service
	$(Q){ echo; echo "## Services (bench/service.sh)"; echo; cat $(B)/bench/service.md; } \
		>>bench/results/$$(date -u +%F).md
	$(Q)$(MAKE) --no-print-directory bench-wan
	$(Q){ echo; echo "## WAN: emulated links (bench/wan.sh)"; echo; cat $(B)/bench/wan.md; } \
		>>bench/results/$$(date -u +%F).md
	$(Q)$(MAKE) --no-print-directory bench-python
	$(Q){ echo; echo "## Python: check_ports against a pool of threads (bench/python.sh)"; \
		echo; cat $(B)/bench/python.md; } >>bench/results/$$(date -u +%F).md

# The Python section alone (bench/python.sh: python/'s check_ports against
# the thread pool it replaces, on the same worlds; ~2 min).
bench-python: deps all
	$(Q)mkdir -p $(B)/bench
	$(Q)RS_BENCH_PYTHON=$(CURDIR)/$(B)/bench/python.md bench/python.sh

# The service section alone (bench/service.sh: --banner against a plain
# scan, the Python pool and nmap -sV; ~10 min, nmap most of it).
bench-service: deps all
	$(Q)mkdir -p $(B)/bench
	$(Q)RS_BENCH_SERVICE=$(CURDIR)/$(B)/bench/service.md bench/service.sh

# The WAN section alone (bench/wan.sh: emulated links, ~30 min).
bench-wan: deps all
	$(Q)mkdir -p $(B)/bench
	$(Q)RS_BENCH_WAN=$(CURDIR)/$(B)/bench/wan.md bench/wan.sh

# Installation, GNU style: PREFIX, DESTDIR and the directories below may be
# set on the command line (make install PREFIX=/usr DESTDIR=/tmp/stage).
# The man page's @DOCDIR@ becomes the installed documentation's directory.
# uninstall removes the files install writes and the documentation's own
# directories (refusing if something else is in them); the shared
# directories (bin, man1...) stay.
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
DOCDIR      ?= $(DATADIR)/doc/ringscan
INSTALL     ?= install
DOC_FILES   := $(sort $(wildcard docs/*.md))

install: $(B)/ringscan
	$(Q)$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(DOCDIR)/docs
	$(INSTALL) -m 0755 $(B)/ringscan $(DESTDIR)$(BINDIR)/ringscan
	sed 's|@DOCDIR@|$(DOCDIR)|g' docs/ringscan.1 >$(DESTDIR)$(MANDIR)/man1/ringscan.1
	$(Q)chmod 0644 $(DESTDIR)$(MANDIR)/man1/ringscan.1
	$(INSTALL) -m 0644 completions/ringscan.bash $(DESTDIR)$(BASHCOMPDIR)/ringscan
	$(INSTALL) -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	$(INSTALL) -m 0644 $(DOC_FILES) $(DESTDIR)$(DOCDIR)/docs/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ringscan $(DESTDIR)$(MANDIR)/man1/ringscan.1 \
		$(DESTDIR)$(BASHCOMPDIR)/ringscan
	rm -f $(DESTDIR)$(DOCDIR)/README.md $(DOC_FILES:%=$(DESTDIR)$(DOCDIR)/%)
	$(Q)for d in $(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(DOCDIR); do \
		[ ! -d $$d ] || rmdir $$d || exit 1; done

# The Debian package, built by dpkg-buildpackage in a copy of the tree
# under build/deb/ (scripts/mkdeb.sh says how), copied to build/.
deb:
	$(Q)scripts/mkdeb.sh

# make deb, then lintian, dpkg -i/-r in a throwaway overlay, a scan with
# the installed /usr/bin/ringscan (tests/e2e/test_deb.sh; about a minute).
test-deb:
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash tests/e2e/test_deb.sh $(B)

format:
	$(Q)clang-format -i $(FORMAT_SRCS)

FORMAT_SRCS = src/*.c src/*.h include/ringscan/*.h tests/unit/*.c tests/unit/*.h tests/tools/*.c \
	bench/micro/*.c bench/peers/*.c tests/fuzz/*.c

lint:
	$(Q)cppcheck --quiet -j$(JOBS) --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr -Iinclude -Isrc -D__linux__ src tests/tools
	$(Q)clang-format --dry-run --Werror $(FORMAT_SRCS)

clean:
	rm -rf build

-include $(wildcard $(B)/obj/*.d $(B)/tests/.*.d $(B)/bench/.*.d)
