# staged-httpd: five servers over one HTTP core.
#
#   make            build every stage and the client
#   make run        serve www/ with the most advanced stage (STAGE=01-iterative ... to pick)
#   make test       unit tests of common/, the lint of the tests and the check of the
#                   handouts' quotes, and bats end-to-end tests of every stage
#   make sanitize   the same tests against an ASan+UBSan build (in build/san/)
#   make tsan       the tests of the threaded stages against a ThreadSanitizer build
#   make valgrind   every stage under valgrind's memcheck, through a load (tests/valgrind)
#   make fuzz       the libFuzzer harnesses (clang), FUZZ_TIME seconds each (default 60)
#   make bench      the client and wrk against the stages and the peers installed, and
#                   05-watch's change-to-event latency and polling cost (tests/bench-watch);
#                   the charts in build/bench/report.html. QUICK=1: about 2 minutes
#   make lab LAB=NN   a student's starter tree for lab NN (build/lab/), and its tarball
#   make grade LAB=NN grade lab NN: a line per task, then "Score: N/100"
#   make clean      remove every build output

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror
CPPFLAGS = -Icommon -MMD -MP
LDLIBS   = -pthread

# OUT is where the programs go, OBJ where the objects go; `make sanitize` moves both.
OUT     ?= .
OBJ     ?= build/obj

STAGES  := $(patsubst %/main.c,%,$(sort $(wildcard 0[1-5]-*/main.c)))
STAGE   ?= $(lastword $(STAGES))
PORT    ?= 8080

COMMON  := $(patsubst %.c,$(OBJ)/%.o,$(sort $(wildcard common/*.c)))
CLIENT  := $(patsubst %.c,$(OBJ)/%.o,$(sort $(wildcard client/*.c)))
UNIT    := $(patsubst %.c,$(OBJ)/%.o,$(sort $(wildcard tests/unit/*.c)))

PROGRAMS = $(STAGES:%=$(OUT)/%/server) $(OUT)/client/client
BREAKS   = $(if $(filter 03-fork,$(STAGES)),$(OUT)/03-fork/server-break-noclose $(OUT)/03-fork/server-break-noreap) \
	   $(if $(filter 04-threads,$(STAGES)),$(OUT)/04-threads/server-break-nolock)

.PHONY: all run test unit sanitize tsan valgrind fuzz bench lab grade clean
.SECONDARY:	# keep every object, also the break-it builds' (make would delete them)
all: $(PROGRAMS) $(BREAKS)

# Every object: one pattern rule; -MMD writes its header dependencies next to it.
$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# 01-iterative: one connection at a time, blocking.
$(OUT)/01-iterative/server: $(patsubst %.c,$(OBJ)/%.o,$(wildcard 01-iterative/*.c)) $(COMMON)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# 02-select: one process, an event loop over non-blocking sockets: main.c the loop and
# each connection's state machine, accept.c new clients, poller.c select() or poll().
$(OUT)/02-select/server: $(patsubst %.c,$(OBJ)/%.o,$(wildcard 02-select/*.c)) $(COMMON)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# 03-fork: a child process per connection, linked statically (FORK_LDFLAGS). fork()
# copies the parent's page tables only for the memory the parent has written to; every
# other page the child uses for the first time (the C library's code and data, the
# dynamic linker's tables) costs the child a page fault. Measured with a new connection
# per request: 29 page faults per child instead of 37, and 10-20% more requests per
# second where faults are dear (docs/notes/03-fork.md, §9). The sanitizer and valgrind
# builds link dynamically (they must), and so does macOS, which cannot link statically.
FORK_LDFLAGS ?= $(if $(filter Darwin,$(shell uname -s)),,-static)
$(OUT)/03-fork/server: $(OBJ)/03-fork/main.o $(COMMON)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) $(FORK_LDFLAGS) -o $@ $^ $(LDLIBS)

# 03-fork's break-it builds, for the lab only: each removes one duty of the parent.
#   server-break-noclose  the parent never closes the connected socket: descriptors leak
#   server-break-noreap   SIGCHLD is counted but no child is waited for: zombies pile up
$(OBJ)/03-fork/break-%.o: 03-fork/main.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -DBREAK_$(shell echo $* | tr a-z A-Z) -c -o $@ $<
$(OUT)/03-fork/server-break-%: $(OBJ)/03-fork/break-%.o $(COMMON)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) $(FORK_LDFLAGS) -o $@ $^ $(LDLIBS)

# 04-threads: a thread per connection, or a pool of threads (--pool N, pool.c); team.c
# keeps count of the threads that serve, in both modes.
THREADS := $(OBJ)/04-threads/team.o $(OBJ)/04-threads/pool.o
$(OUT)/04-threads/server: $(OBJ)/04-threads/main.o $(THREADS) $(COMMON)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# 04-threads' break-it build, for the lab only:
#   server-break-nolock   the count of served connections is updated without the lock:
#                         ThreadSanitizer reports the race (make tsan), counts come out low
$(OBJ)/04-threads/break-%.o: 04-threads/team.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -DBREAK_$(shell echo $* | tr a-z A-Z) -c -o $@ $<
$(OUT)/04-threads/server-break-%: $(OBJ)/04-threads/main.o $(OBJ)/04-threads/break-%.o \
				  $(OBJ)/04-threads/pool.o $(COMMON)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# 05-watch: 04-threads' server, compiled from 04's main.c as a function (threads_main),
# plus the watcher (watch.c) and live reload (live.c, inject.c). live.js is turned into
# a C string at build time: each line quoted, by sed.
$(OBJ)/05-watch/%.o: CPPFLAGS += -I04-threads
$(OBJ)/05-watch/threads.o: 04-threads/main.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -DTHREADS_NO_MAIN -c -o $@ $<
$(OBJ)/05-watch/live-js.c: 05-watch/live.js
	@mkdir -p $(@D)
	{ echo 'const char live_script[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; echo ';'; } >$@
$(OBJ)/05-watch/live-js.o: $(OBJ)/05-watch/live-js.c
	$(CC) $(WARN) $(CFLAGS) -c -o $@ $<
WATCH := $(patsubst %.c,$(OBJ)/%.o,$(wildcard 05-watch/*.c)) $(OBJ)/05-watch/threads.o \
	 $(OBJ)/05-watch/live-js.o
$(OUT)/05-watch/server: $(WATCH) $(THREADS) $(COMMON)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The load client: standalone, it shares no code with the servers it measures.
$(OUT)/client/client: $(CLIENT)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests of common/: one binary, table-driven, last line "N passed, N failed".
# (They test 05-watch's injection too: inject.c, which needs nothing else of 05.)
$(OBJ)/tests/unit/%.o: CPPFLAGS += -I05-watch
$(OBJ)/unit-tests: $(UNIT) $(if $(filter 05-watch,$(STAGES)),$(OBJ)/05-watch/inject.o) $(COMMON)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

unit: $(OBJ)/unit-tests
	$(OBJ)/unit-tests

run: all
	$(OUT)/$(STAGE)/server -p $(PORT) -r www

test: all $(OBJ)/unit-tests
	BIN=$(OUT) UNIT=$(OBJ)/unit-tests STAGES="$(STAGES)" tests/run

# The whole suite again, against programs built with AddressSanitizer and UBSan.
# -DNO_SENDFILE -DNO_OPENAT2 -DNO_EPOLL: this build also exercises the portable fallbacks of
# the Linux-only calls (read()/write() for sendfile(), realpath() for openat2(), and
# 02-select without epoll, whose --epoll then says it is not there).
SANFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
	   -DNO_SENDFILE -DNO_OPENAT2 -DNO_EPOLL
sanitize:
	$(MAKE) OUT=build/san OBJ=build/san/obj CFLAGS="$(SANFLAGS)" LDFLAGS="$(SANFLAGS)" \
		FORK_LDFLAGS= test

# The stages that run threads, again under ThreadSanitizer: any data race it sees in a
# server fails the suite that ran it. (TSan and ASan cannot share a build.)
TSANFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=thread
TSAN_STAGES = $(filter 04-threads 05-watch,$(STAGES))
tsan:
	$(MAKE) OUT=build/tsan OBJ=build/tsan/obj CFLAGS="$(TSANFLAGS)" LDFLAGS="$(TSANFLAGS)" \
		FORK_LDFLAGS= STAGES="$(TSAN_STAGES)" test

# Every stage under valgrind's memcheck, through a load and hostile requests, then
# SIGTERM: no error, no byte lost, no descriptor left open at exit (logs in build/valgrind/).
# Built apart, in build/vg/, with 03-fork linked dynamically: memcheck finds leaks by
# replacing malloc(), which it can do only in a dynamically linked program.
valgrind:
	$(MAKE) OUT=build/vg OBJ=build/vg/obj FORK_LDFLAGS= all
	BIN=build/vg STAGES="$(STAGES)" tests/valgrind

# libFuzzer harnesses (tests/fuzz/), built with clang only into build/fuzz/: the request
# parser with chunked bodies and header helpers, and target resolution, that one twice:
# with openat2() and with the realpath() fallback (-DNO_OPENAT2). `make fuzz` runs each
# for FUZZ_TIME seconds (tests/fuzz/run); what they find goes to build/fuzz/corpus/,
# inputs that crash to build/fuzz/crashes/.
FUZZ_TIME ?= 60
FUZZ_CC   ?= clang
FUZZFLAGS  = -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	     -fno-sanitize-recover=all
FUZZ_OBJ   = build/fuzz/obj
FUZZERS    = build/fuzz/fuzz_request build/fuzz/fuzz_target build/fuzz/fuzz_target_noopenat2
$(FUZZ_OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(WARN) $(CPPFLAGS) $(FUZZFLAGS) -c -o $@ $<
$(FUZZ_OBJ)/noopenat2/path.o: common/path.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(WARN) $(CPPFLAGS) $(FUZZFLAGS) -DNO_OPENAT2 -c -o $@ $<
build/fuzz/fuzz_request: $(FUZZ_OBJ)/tests/fuzz/fuzz_request.o $(FUZZ_OBJ)/common/path.o
build/fuzz/fuzz_target: $(FUZZ_OBJ)/tests/fuzz/fuzz_target.o $(FUZZ_OBJ)/common/path.o
build/fuzz/fuzz_target_noopenat2: $(FUZZ_OBJ)/tests/fuzz/fuzz_target.o $(FUZZ_OBJ)/noopenat2/path.o
$(FUZZERS): $(FUZZ_OBJ)/common/http.o $(FUZZ_OBJ)/common/file.o $(FUZZ_OBJ)/common/buf.o
	$(FUZZ_CC) $(FUZZFLAGS) -o $@ $^
fuzz:
	@tests/fuzz/run --check $(FUZZ_CC)
	@$(MAKE) --no-print-directory $(FUZZERS)
	tests/fuzz/run $(FUZZ_TIME)
-include $(shell find $(FUZZ_OBJ) -name '*.d' 2>/dev/null)

# The benchmark (tests/bench; its header says what it measures and how): a table per
# scenario in build/bench/results.txt, the raw numbers in results.tsv, and the charts and
# the table of every scenario in build/bench/report.html (tests/bench-report), whose path
# it prints last. Then 05-watch's own figures (tests/bench-watch). QUICK=1: the short run
# for a lab session, about 2 minutes: one round of 1 s, the scenarios of the charts, our
# stages and nginx, and no bench-watch (tests/bench, QUICK MODE).
QUICK ?=
bench: all
	BIN=$(OUT) STAGES="$(STAGES)" BENCH_QUICK=$(or $(QUICK),0) tests/bench
	$(if $(filter-out 0,$(QUICK)),,$(if $(filter 05-watch,$(STAGES)),BIN=$(OUT) tests/bench-watch \
		&& echo "report: $${BENCH_HTML:-$$(dirname $${BENCH_OUT:-build/bench/results.tsv})/report.html}"))

# The course kit (lab/): a student's starter tree for lab LAB, with the holes of that lab
# cut out of the reference (build/lab/NN-stage/ and a tarball), and the grader: one line
# per task, then "Score: N/100" (BIN=... grades another server, GRADE_JSON=FILE).
LAB ?=
lab:
	@test -n "$(LAB)" || { echo "make lab LAB=NN (01 to 05)"; exit 2; }
	lab/mklab $(LAB)
grade: all
	@test -n "$(LAB)" || { echo "make grade LAB=NN (01 to 05)"; exit 2; }
	lab/grade $(LAB)

clean:
	rm -rf build $(PROGRAMS) $(STAGES:%=%/server) 0[1-5]-*/server-break-*

# The header dependencies -MMD wrote; they are only read, never made.
-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
%.d: ;
