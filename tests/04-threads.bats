#!/usr/bin/env bats
# 04-threads: the main thread accepts; each connection gets a detached thread of its own,
# or, with --pool N, one of N threads made at start takes it from a bounded queue. The
# lessons these tests pin down: a connection is served by one thread and two connections
# open at once by two (/_/info and the log say which, thread=K); thousands of requests
# over hundreds of connections are all answered in both modes; threads end with their
# connection (the process's thread count comes back to its baseline), while a pool makes
# none at all; --max-threads caps the threads under a flood of idle clients, the others
# wait in the listen backlog and are served as the idle ones time out, and a stop wakes
# the main thread where it waits at the cap, or for room in the pool's full queue; an
# idle client costs one thread until -t; SIGTERM lets idle keep-alive clients go at
# once but lets a download finish; the access log, history and the exit counts gather
# every thread's work, whole and exact. The break-it build (server-break-nolock) must
# really race: ThreadSanitizer has to catch it, or the lab's lesson would be false.
#
# Threads are counted in /proc/PID/task. A fresh server has its baseline: the main thread
# (the one that accepts) and the signal thread, the N pool threads with --pool N, and
# ThreadSanitizer's own background thread in that build. The file's server (-t 2, a
# thread per connection) serves the tests that only make requests; a test that counts
# threads, or needs other options, starts its own, and teardown() stops it. No test
# sleeps to synchronise: it waits (bounded) for something it can see, a thread count or
# a line in a log.

# bats file_tags=stage:04-threads

bats_require_minimum_version 1.5.0

load helpers
load fixtures

# Each test picks its server's mode itself: no options from the run (tests/run sets
# SERVER_ARGS only for the shared suites).
# shellcheck disable=SC2034 # read by start_server (helpers.bash)
SERVER_ARGS=

# The threads the sanitizer runtime adds to every process: ThreadSanitizer runs one
# background thread of its own (AddressSanitizer none).
if grep -a -q __tsan_init "$SERVER" 2>/dev/null; then
  RUNTIME_THREADS=1
else
  RUNTIME_THREADS=0
fi

setup_file() {
  start_file_server
}

teardown_file() {
  stop_server
}

setup() {
  reply_files
  declare -g -A BG=()
  declare -g -a IDLE=()
  RACY=
}

teardown() {
  exec 7>&- 8>&-
  local fd
  end_background
  for fd in "${IDLE[@]}"; do
    exec {fd}>&-
  done
  if own_server_running; then
    if [ -n "$RACY" ]; then stop_racy; else stop_server; fi
  fi
}

# ---------------------------------------------------------------- helpers

# tasks PID: how many threads process PID has (0 once it is gone).
tasks() {
  local t=(/proc/"$1"/task/*)
  [ -e "${t[0]}" ] || { echo 0; return; }
  echo "${#t[@]}"
}

tasks_are() { [ "$(tasks "$1")" -eq "$2" ]; }

tasks_at_least() { [ "$(tasks "$1")" -ge "$2" ]; }

# tasks_are_or_gone PID N: process PID has N threads, or has exited.
tasks_are_or_gone() {
  local n
  n=$(tasks "$1")
  [ "$n" -eq "$2" ] || [ "$n" -eq 0 ]
}

# own_server ARGS...: a server of this test's own (teardown() stops it). Waits until it
# has exactly its baseline of threads; sets BASE to that number, and BASE_FDS and
# BASE_SOCKETS to its descriptors and sockets then.
own_server() {
  local pool=0 prev='' arg
  for arg; do
    [ "$prev" != --pool ] || pool=$arg
    prev=$arg
  done
  start_server "$@"
  # The main thread (it accepts), the signal thread, the pool, the sanitizer's own.
  BASE=$((1 + 1 + pool + RUNTIME_THREADS))
  wait_until 5 tasks_are_or_gone "$SERVER_PID" "$BASE" && tasks_are "$SERVER_PID" "$BASE" ||
    { echo "a fresh server: $(tasks "$SERVER_PID") threads (0: it has exited), expected $BASE"; return 1; }
  BASE_FDS=$(fd_count "$SERVER_PID") BASE_SOCKETS=$(sockets "$SERVER_PID")
  echo "server $SERVER_PID ($*): $BASE threads, $BASE_FDS descriptors, $BASE_SOCKETS sockets"
}

# Connected and listening sockets the process PID holds.
sockets() {
  local f n=0
  for f in /proc/"$1"/fd/*; do
    [[ $(readlink "$f" 2>/dev/null) != socket:* ]] || n=$((n + 1))
  done
  echo "$n"
}

# settles PID CAP: process PID is back to CAP threads or fewer within about half a second.
settles() {
  local i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    [ "$(tasks "$1")" -gt "$2" ] || return 0
    sleep 0.05
  done
  return 1
}

# idle_connections N: N connections to this test's server that send nothing (teardown()
# closes them).
idle_connections() {
  local i fd
  for ((i = 0; i < $1; i++)); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" ||
      { echo "idle connection $((i + 1)) of $1 could not connect: is the server alive?"; return 1; }
    IDLE+=("$fd")
  done
}

# The thread numbers (thread=K) in FILE, one per line, in order.
threads_in() {
  grep -a -o -E 'thread=[0-9]+' "$1" | cut -d= -f2
}

# The thread in the log line of the request "GET TARGET HTTP/1.1".
logged_thread() {
  grep -a -F "\"GET $1 HTTP/1.1\"" "$SERVER_ERR" | tail -n 1 | grep -o -E 'thread=[0-9]+' | cut -d= -f2
}

# A log line for "GET TARGET HTTP/1.1" answered 200 (TARGET a regular expression).
wait_logged() {
  wait_for_grep "$SERVER_ERR" "\"GET $1 HTTP/1\\.1\" 200 "
}

# stopped_by_term BOUND-MS: SIGTERM to this test's server; it must exit 0 within
# BOUND-MS and print the thread counts, then the summary.
stopped_by_term() {
  local start elapsed
  start=$(now_ms)
  stop_server TERM
  elapsed=$(($(now_ms) - start))
  echo "exited $SERVER_STATUS after $elapsed ms"
  [ "$SERVER_STATUS" -eq 0 ] || { echo "exit status $SERVER_STATUS"; return 1; }
  [ "$elapsed" -lt "$1" ] || { echo "the stop took longer than $1 ms"; return 1; }
  wait_for_grep "$SERVER_DIR/stdout" '^summary: '
  cat "$SERVER_DIR/stdout"
  grep -a -q -E '^threads: [0-9]+ connections served, at most [0-9]+ threads at once$' \
    "$SERVER_DIR/stdout" || { echo "no 'threads:' line"; return 1; }
  # The thread counts come before the summary.
  [ "$(grep -a -E '^(threads|summary): ' "$SERVER_DIR/stdout" | cut -d: -f1 | tr '\n' ' ')" = 'threads summary ' ] ||
    { echo "expected the 'threads:' line, then the 'summary:' line"; return 1; }
}

# expect_threads_line SERVED PEAK: the exit line counts SERVED connections and PEAK
# threads at most at once.
expect_threads_line() {
  grep -a -q -x -F "threads: $1 connections served, at most $2 threads at once" "$SERVER_DIR/stdout" ||
    { echo "expected 'threads: $1 connections served, at most $2 threads at once'"; return 1; }
}

# The most threads at once, from the exit line.
peak_threads() {
  sed -n 's/^threads: .*, at most \([0-9]*\) threads at once$/\1/p' "$SERVER_DIR/stdout"
}

# lines_are FILE N: FILE has N lines.
lines_are() { [ "$(wc -l <"$1")" -eq "$2" ]; }

# expect_all_lines FILE ERE: every line of FILE matches ERE.
expect_all_lines() {
  local bad
  bad=$(grep -a -c -v -E -e "$2" "$1") || true
  [ "$bad" -eq 0 ] || {
    echo "lines of $1 that do not match /$2/: $bad, the first ones below"
    grep -a -v -E -e "$2" "$1" | head -n 5 | cat -v
    return 1
  }
}

# ---------------------------------------------------------------- which thread

# two_connections_two_threads POOL: connection A sends a request and stays open (its
# thread waits for the next one); B, on a connection of its own meanwhile, must get
# another thread; A's second request the same as its first. With POOL > 0, each thread
# is one of the pool's, 1 to POOL. Sets KA and KB.
two_connections_two_threads() {
  local pool=$1 ka2
  exec 7<>"/dev/tcp/127.0.0.1/$PORT"
  printf 'GET /_/info?a1 HTTP/1.1\r\nHost: t\r\n\r\n' >&7
  wait_logged '/_/info\?a1'
  fetch '/_/info?b'
  expect_status 200
  KB=$(threads_in "$BODY")
  [[ $KB =~ ^[0-9]+$ ]] || { echo "B's page names no thread (thread=K): B was not served by a thread of its own"; return 1; }
  # In a subshell that ignores SIGPIPE: a write to a connection the server closed fails
  # (EPIPE) and the message below says so, instead of the signal ending the test.
  (trap '' PIPE; printf 'GET /_/info?a2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' >&7) ||
    { echo "A's connection was closed before its second request"; return 1; }
  timeout 5 cat <&7 >"$RESP" || true
  exec 7>&-
  [ "$(count_responses)" -eq 2 ] || { echo "A: expected 2 responses, got $(count_responses)"; return 1; }
  threads_in "$RESP" >"$BATS_TEST_TMPDIR/a"
  KA=$(head -n 1 "$BATS_TEST_TMPDIR/a") ka2=$(sed -n 2p "$BATS_TEST_TMPDIR/a")
  echo "connection A: thread=$KA, then thread=$ka2; connection B: thread=$KB"
  [[ $KA =~ ^[0-9]+$ && $KB =~ ^[0-9]+$ ]] || { echo "no thread=K on a page"; return 1; }
  grep -a -q -w -e "pid=$SERVER_PID thread=$KB" "$BODY" || { echo "B's page lacks 'pid=$SERVER_PID thread=$KB'"; return 1; }
  [ "$KA" = "$ka2" ] || { echo "two threads served one connection"; return 1; }
  [ "$KA" != "$KB" ] || { echo "one thread served two connections open at once"; return 1; }
  if [ "$pool" -gt 0 ]; then
    [ "$KA" -ge 1 ] && [ "$KA" -le "$pool" ] && [ "$KB" -ge 1 ] && [ "$KB" -le "$pool" ] ||
      { echo "a thread outside the pool's 1..$pool"; return 1; }
  fi
  # The request log names the same threads as the pages.
  wait_logged '/_/info\?a2'
  [ "$(logged_thread '/_/info?a1')" = "$KA" ] || { echo "a1 logged: thread=$(logged_thread '/_/info?a1')"; return 1; }
  [ "$(logged_thread '/_/info?a2')" = "$KA" ] || { echo "a2 logged: thread=$(logged_thread '/_/info?a2')"; return 1; }
  [ "$(logged_thread '/_/info?b')" = "$KB" ] || { echo "b logged: thread=$(logged_thread '/_/info?b')"; return 1; }
}

# bats test_tags=stage:04-threads,thread
@test "/_/info, a thread per connection: two connections open at once, two threads, numbered in creation order" {
  two_connections_two_threads 0
  # A's thread was made before B's.
  [ "$KA" -lt "$KB" ] || { echo "thread numbers not in creation order"; false; }
}

# bats test_tags=stage:04-threads,thread,pool
@test "/_/info, --pool 2: two connections open at once are served by the pool's two threads" {
  own_server -t 2 -r "$DOCROOT" --pool 2
  two_connections_two_threads 2
  [ "$(printf '%s\n' "$KA" "$KB" | sort -n | tr '\n' ' ')" = '1 2 ' ]
  # Neither connection made a thread.
  tasks_are "$SERVER_PID" "$BASE" || { echo "the server has $(tasks "$SERVER_PID") threads, baseline $BASE"; false; }
}

# ---------------------------------------------------------------- many connections

# load_4x50x20: 4 client processes x 50 connections x 20 keep-alive requests against this
# test's server: every one of the 4000 requests answered, on 200 connections.
load_4x50x20() {
  run -0 timeout 60 "$CLIENT" --json --timeout=30 --max-clients=4 --max-conns=50 --requests=20 "${URL}file.txt" 3>&-
  echo "$output"
  expect_json "$output" requests 4000
  expect_json "$output" ok 4000
  expect_json "$output" failed 0
  expect_json "$output" connections 200
}

# bats test_tags=stage:04-threads,load
@test "a thread per connection: 4 x 50 connections x 20 requests all answered, then the threads are gone" {
  own_server -q -t 2 -r "$DOCROOT"
  load_4x50x20
  # Each thread ended with its connection: back to the main and signal threads.
  wait_until 10 tasks_are "$SERVER_PID" "$BASE" ||
    { echo "the server has $(tasks "$SERVER_PID") threads, baseline $BASE"; false; }
  stopped_by_term 5000
  # Every connection counted once (the count is kept under the lock), and the
  # connections really were served by many threads at once.
  local peak
  peak=$(peak_threads)
  expect_threads_line 200 "$peak"
  [ "$peak" -ge 2 ] && [ "$peak" -le 200 ] || { echo "at most $peak threads at once?"; false; }
  grep -a -q -E '^summary: 4000 requests,' "$SERVER_DIR/stdout"
}

# bats test_tags=stage:04-threads,load,pool
@test "--pool 4: the same 4 x 50 x 20 load is all answered by the 4 pool threads" {
  own_server -q -t 2 -r "$DOCROOT" --pool 4
  load_4x50x20
  tasks_are "$SERVER_PID" "$BASE" || { echo "the server has $(tasks "$SERVER_PID") threads, baseline $BASE"; false; }
  stopped_by_term 5000
  expect_threads_line 200 4
  grep -a -q -E '^summary: 4000 requests,' "$SERVER_DIR/stdout"
}

# bats test_tags=stage:04-threads,pool
@test "--pool 3: no thread is made per connection: the thread count during and after 2 s of load is the count at start" {
  own_server -q -t 2 -r "$DOCROOT" --pool 3
  # 2 x 10 connections at once for 2 s, each replaced after 5 requests: hundreds of them.
  in_background load "$CLIENT" --json --timeout=30 --max-clients=2 --max-conns=10 --requests=5 \
    --duration=2 "${URL}file.txt"
  local n samples=0
  while running load >/dev/null; do
    n=$(tasks "$SERVER_PID")
    samples=$((samples + 1))
    [ "$n" -eq "$BASE" ] || { echo "sample $samples: $n threads, $BASE at start"; false; }
    sleep 0.05
  done
  echo "$samples samples, each $BASE threads"
  [ "$samples" -ge 5 ] || { echo "too few samples during the load"; false; }
  finish load
  [ "$RC" -eq 0 ]
  expect_json "$OUT" failed 0
  local conns
  conns=$(json_num "$OUT" connections)
  [ "$conns" -ge 20 ] || { echo "only $conns connections: not a test of the pool"; false; }
  tasks_are "$SERVER_PID" "$BASE" || { echo "after: $(tasks "$SERVER_PID") threads"; false; }
  stopped_by_term 5000
  expect_threads_line "$conns" 3
}

# ---------------------------------------------------------------- the thread cap

# bats test_tags=stage:04-threads,cap
@test "--max-threads 3: a flood of idle connections reaches the thread cap and the server keeps answering as connections time out" {
  own_server -q -t 1 -r "$DOCROOT" --max-threads 3
  local start cap=$((BASE + 3))
  start=$(now_ms)
  # Six connections that send nothing: three get a thread, three wait in the listen
  # backlog; each lasts -t 1 once it has a thread. The GET comes behind all six.
  idle_connections 6
  in_background get curl -sS --max-time 15 -o /dev/null -w '%{http_code}' "${URL}file.txt"
  wait_until 5 tasks_at_least "$SERVER_PID" "$cap" ||
    { echo "the cap of $cap threads was not reached: the server has $(tasks "$SERVER_PID")"; false; }
  # Sampled while they are held and replaced: never more than 3 connections in the
  # server (the others wait in the kernel), never more than 3 threads but for a moment:
  # a thread that has just given its place up may still be on its way out while the
  # next one starts. More than 3 that serve idle clients would stay for the timeout.
  local n s most=0 samples=0 leaving=0
  while running get >/dev/null; do
    n=$(tasks "$SERVER_PID") s=$(sockets "$SERVER_PID")
    samples=$((samples + 1))
    [ "$n" -le "$most" ] || most=$n
    [ "$s" -le $((BASE_SOCKETS + 3)) ] ||
      { echo "sample $samples: $((s - BASE_SOCKETS)) connections in the server, cap 3"; false; }
    if [ "$n" -gt "$cap" ]; then
      leaving=$((leaving + 1))
      settles "$SERVER_PID" "$cap" || { echo "sample $samples: $n threads, cap $cap, for long"; false; }
    fi
    sleep 0.05
  done
  finish get
  local elapsed=$(($(now_ms) - start))
  echo "$samples samples, at most $most threads (cap $cap; $leaving samples caught a thread on its way out)"
  echo "the GET answered after $elapsed ms"
  [ "$RC" -eq 0 ] && [ "$OUT" = 200 ] || { echo "the GET was not answered 200"; false; }
  # It waited for two rounds of idle connections to time out (three at a time).
  [ "$elapsed" -ge 1500 ] || { echo "answered before the idle connections timed out: was the cap held?"; false; }
  wait_until 5 tasks_are "$SERVER_PID" "$BASE" || { echo "the server still has $(tasks "$SERVER_PID") threads, baseline $BASE"; false; }
  timed_get
  stopped_by_term 5000
  expect_threads_line 8 3
}

# listen_backlog: how many connections wait in the kernel's listen queue of this test's
# server, accepted by the kernel but not yet by the server (the field rx_queue of its
# listening socket in /proc/net/tcp).
listen_backlog() {
  local hex
  hex=$(awk -v local="0100007F:$(printf '%04X' "$PORT")" \
    '$2 == local && $4 == "0A" { split($5, q, ":"); print q[2]; exit }' /proc/net/tcp)
  [ -n "$hex" ] || { echo "no listening socket 127.0.0.1:$PORT in /proc/net/tcp" >&2; return 1; }
  echo $((16#$hex))
}

backlog_is() { [ "$(listen_backlog)" = "$1" ]; }

# held_at_cap N: N + 1 connections that send nothing, to this test's server at a cap of
# N: N of them accepted, the last one left waiting in the listen backlog. The server
# stays so: its idle clients have -t to go.
held_at_cap() {
  idle_connections $(($1 + 1))
  wait_until 5 fds_at_least "$SERVER_PID" $((BASE_FDS + $1)) ||
    { echo "the server accepted $(($(fd_count "$SERVER_PID") - BASE_FDS)) connections, expected $1"; return 1; }
  wait_until 5 backlog_is 1 ||
    { echo "the listen backlog holds $(listen_backlog) connections, expected 1: is the cap held?"; return 1; }
  [ "$(sockets "$SERVER_PID")" -eq $((BASE_SOCKETS + $1)) ] ||
    { echo "the server holds $(($(sockets "$SERVER_PID") - BASE_SOCKETS)) connections, cap $1"; return 1; }
  echo "$1 connections accepted, 1 in the listen backlog"
}

# bats test_tags=stage:04-threads,cap,signals
@test "--max-threads 2: SIGTERM while the main thread waits at the cap, a third client in the backlog: exit 0 at once" {
  own_server -q -t 30 -r "$DOCROOT" --max-threads 2
  held_at_cap 2
  tasks_are "$SERVER_PID" $((BASE + 2)) || { echo "the server has $(tasks "$SERVER_PID") threads, expected $((BASE + 2))"; false; }
  # The signal thread must wake the main thread where it waits for room.
  stopped_by_term 5000
  expect_threads_line 2 2
  grep -a -q -E '^summary: 0 requests,' "$SERVER_DIR/stdout"
}

# bats test_tags=stage:04-threads,cap,pool,signals
@test "--pool 1: idle clients fill the pool thread and the queue's 4 places, the next waits in the backlog; SIGTERM: exit 0 at once" {
  own_server -q -t 30 -r "$DOCROOT" --pool 1
  # One connection for the thread, four queued (the queue has 4 places per thread).
  held_at_cap 5
  tasks_are "$SERVER_PID" "$BASE" || { echo "the server has $(tasks "$SERVER_PID") threads, baseline $BASE"; false; }
  # The main thread waits for room in the queue, the pool thread for its client: the
  # stop wakes both. The thread still takes the four queued connections, and closes them.
  stopped_by_term 5000
  expect_threads_line 5 1
  grep -a -q -E '^summary: 0 requests,' "$SERVER_DIR/stdout"
}

# bats test_tags=stage:04-threads,slow-client
@test "a client that sends nothing costs one thread until the timeout, then the count is back to its baseline" {
  own_server -q -t 1 -r "$DOCROOT"
  local start elapsed
  start=$(now_ms)
  exec 7<>"/dev/tcp/127.0.0.1/$PORT"
  wait_until 5 tasks_are "$SERVER_PID" $((BASE + 1)) ||
    { echo "the server has $(tasks "$SERVER_PID") threads, expected $((BASE + 1))"; false; }
  wait_until 5 tasks_are "$SERVER_PID" "$BASE" || { echo "the server still has $(tasks "$SERVER_PID") threads, baseline $BASE"; false; }
  elapsed=$(($(now_ms) - start))
  echo "the idle connection's thread was gone after $elapsed ms (-t 1)"
  [ "$elapsed" -ge 800 ] || { echo "gone before the timeout"; false; }
  # The server closed the idle connection: end of file, at once.
  timeout 2 cat <&7 >"$RESP" || { echo "the connection is still open"; false; }
  [ ! -s "$RESP" ] || { echo "unexpected bytes on an idle connection:"; cat -v "$RESP"; false; }
}

# bats test_tags=stage:04-threads,slow-client,pool
@test "--pool 1: a client that sends nothing holds the pool's only thread until the timeout; no thread is added" {
  own_server -q -t 1 -r "$DOCROOT" --pool 1
  exec 7<>"/dev/tcp/127.0.0.1/$PORT"
  timed_get
  [ "$ELAPSED" -ge 800 ] || { echo "answered before the idle client timed out (-t 1)"; false; }
  tasks_are "$SERVER_PID" "$BASE" || { echo "the server has $(tasks "$SERVER_PID") threads, baseline $BASE"; false; }
}

# ---------------------------------------------------------------- stopping

# idle_then_term: one keep-alive connection that has had an answer, one that never sent
# anything, both under -t 30, then SIGTERM: exit 0 well before 30 s.
idle_then_term() {
  exec 7<>"/dev/tcp/127.0.0.1/$PORT"
  printf 'HEAD /file.txt HTTP/1.1\r\nHost: t\r\n\r\n' >&7
  local line
  while IFS= read -r -t 5 -u 7 line && [ "${line%$'\r'}" != "" ]; do
    echo "< $line"
  done
  exec 8<>"/dev/tcp/127.0.0.1/$PORT"
  # Both accepted (a descriptor each).
  wait_until 5 fds_at_least "$SERVER_PID" $((BASE_FDS + 2)) ||
    { echo "the server has $(fd_count "$SERVER_PID") descriptors, $BASE_FDS at start"; return 1; }
  stopped_by_term 5000
  grep -a -q -E '^summary: 1 requests,' "$SERVER_DIR/stdout"
}

# bats test_tags=stage:04-threads,signals
@test "SIGTERM with idle keep-alive connections (-t 30), a thread per connection: exit 0 at once, thread counts and summary" {
  own_server -q -t 30 -r "$DOCROOT"
  idle_then_term
  expect_threads_line 2 2
}

# bats test_tags=stage:04-threads,signals,pool
@test "SIGTERM with idle keep-alive connections (-t 30), --pool 3: exit 0 at once, thread counts and summary" {
  own_server -q -t 30 -r "$DOCROOT" --pool 3
  idle_then_term
  expect_threads_line 2 3
}

# download_then_term ARGS...: a 20 MiB download at 10 MiB/s from a server (-t 5) started
# with ARGS; SIGTERM once 2 MB have come: the download completes, the server exits 0.
download_then_term() {
  own_server -q -t 5 -r "$DOCROOT" "$@"
  in_background download curl -sS --max-time 20 --limit-rate 10M -o "$BATS_TEST_TMPDIR/huge" "${URL}huge.bin"
  wait_until 10 size_above "$BATS_TEST_TMPDIR/huge" 2000000
  stopped_by_term 8000
  finish download
  [ "$RC" -eq 0 ] || { echo "curl failed ($RC)"; return 1; }
  echo "got $(stat -c %s "$BATS_TEST_TMPDIR/huge") bytes of $HUGE_SIZE"
  cmp "$DOCROOT/huge.bin" "$BATS_TEST_TMPDIR/huge"
  grep -a -q -E "^summary: 1 requests, $HUGE_SIZE bytes," "$SERVER_DIR/stdout" ||
    { echo "expected 1 request of $HUGE_SIZE bytes in the summary"; return 1; }
}

# bats test_tags=stage:04-threads,signals
@test "SIGTERM during a 20 MiB download, a thread per connection: the download completes, exit 0" {
  download_then_term
  expect_threads_line 1 1
}

# bats test_tags=stage:04-threads,signals,pool
@test "SIGTERM during a 20 MiB download, --pool 2: the download completes, exit 0" {
  download_then_term --pool 2
  expect_threads_line 1 2
}

# ---------------------------------------------------------------- what the threads share

# bats test_tags=stage:04-threads,log
@test "the access log and the request lines of 4000 requests from 200 threads: whole lines, one per request" {
  local access=$BATS_TEST_TMPDIR/access.log
  own_server -t 2 -r "$DOCROOT" -l "$access"
  load_4x50x20
  # A line is written after its response has gone: wait for the last ones.
  wait_until 5 lines_are "$access" 4000 || { echo "the access log has $(wc -l <"$access") lines"; false; }
  wait_until 5 lines_are "$SERVER_ERR" 4000 || { echo "the server wrote $(wc -l <"$SERVER_ERR") lines on stderr"; false; }
  local date='\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [-+][0-9]{4}\]'
  expect_all_lines "$access" "^127\\.0\\.0\\.1 - - $date \"GET /file\\.txt HTTP/1\\.1\" 200 1024 \"-\" \"[^\"]*\"\$"
  expect_all_lines "$SERVER_ERR" \
    "^127\\.0\\.0\\.1:[0-9]+ \"GET /file\\.txt HTTP/1\\.1\" 200 1024 pid=$SERVER_PID thread=[0-9]+\$"
  # One thread per connection: 200 connections, threads 1 to 200, 20 lines each.
  threads_in "$SERVER_ERR" | sort -n | uniq -c | awk '{ print $2, $1 }' >"$BATS_TEST_TMPDIR/per-thread"
  seq 1 200 | sed 's/$/ 20/' | diff - "$BATS_TEST_TMPDIR/per-thread" ||
    { echo "expected threads 1 to 200 with 20 requests each (diff above)"; false; }
}

# history_from_other_threads POOL: connection A's request is served by its thread, which
# A then keeps; more requests come on connections of their own; /_/history, served by
# yet another thread than A's, lists them all, newest first.
history_from_other_threads() {
  local tag=$RANDOM$RANDOM i kh ka
  exec 7<>"/dev/tcp/127.0.0.1/$PORT"
  printf 'GET /notes.txt?%s-held HTTP/1.1\r\nHost: t\r\n\r\n' "$tag" >&7
  wait_logged "/notes\\.txt\\?$tag-held"
  for i in 1 2 3; do
    fetch "/notes.txt?$tag-$i"
    expect_status 200
  done
  fetch "/_/history?$tag"
  expect_status 200
  exec 7>&-
  wait_logged "/_/history\\?$tag"
  ka=$(logged_thread "/notes.txt?$tag-held") kh=$(logged_thread "/_/history?$tag")
  echo "held request: thread=$ka; history: thread=$kh; the others: $(for i in 1 2 3; do
    printf 'thread=%s ' "$(logged_thread "/notes.txt?$tag-$i")"
  done)"
  [ "$ka" != "$kh" ] || { echo "the history was served by the held connection's thread"; return 1; }
  local where prev=-1
  for i in 3 2 1 held; do
    where=$(offset_in_body "/notes.txt?$tag-$i")
    echo "/notes.txt?$tag-$i at offset $where of the history"
    [ "$where" -ge 0 ] || { echo "the history lacks /notes.txt?$tag-$i"; return 1; }
    [ "$where" -gt "$prev" ] || { echo "the history is not newest first"; return 1; }
    prev=$where
  done
  if [ "$1" -eq 0 ]; then
    # A thread per connection: five requests, five threads.
    [ "$( (for i in 1 2 3 held; do logged_thread "/notes.txt?$tag-$i"; done; echo "$kh") | sort -u | wc -l)" -eq 5 ] ||
      { echo "expected five different threads"; return 1; }
  fi
}

# bats test_tags=stage:04-threads,history
@test "/_/history, a thread per connection: it lists the requests other threads served" {
  history_from_other_threads 0
}

# bats test_tags=stage:04-threads,history,pool
@test "/_/history, --pool 2: it lists the request of a connection another pool thread still holds" {
  own_server -t 2 -r "$DOCROOT" --pool 2
  history_from_other_threads 2
}

# ---------------------------------------------------------------- options

# bats test_tags=stage:04-threads
@test "--stack-size 32, the smallest accepted, serves every page of www/, /_/info and /_/history" {
  # Sanitized builds have bigger frames (their default stack is 1 MiB): not for them.
  if nm -D "$SERVER" 2>/dev/null | grep -q -E '__(asan|tsan)_init'; then
    skip "a sanitized build needs a bigger stack"
  fi
  own_server -q -r "$ROOT/www" --stack-size 32
  local path code
  # Every file of www/, percent-encoded (some names have spaces and accents), and the
  # built-in pages.
  while IFS= read -r path; do
    code=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$URL$path") || code=none
    [ "$code" = 200 ] || { echo "/$path: $code"; false; }
  done < <(cd "$ROOT/www" && python3 -c '
import os, sys, urllib.parse
for d, _, files in os.walk("."):
    for f in files:
        print(urllib.parse.quote(os.path.join(d, f)[2:]))
print("_/info\n_/info.json\n_/history\n")')
  kill -0 "$SERVER_PID" || { echo "the server died"; false; }
}

# bats test_tags=stage:04-threads,errors
@test "bad thread options (--max-threads 0, --pool abc, --stack-size 1, ...) exit 2 with one line naming the option" {
  local args name value
  for args in '--max-threads 0' '--max-threads abc' '--pool abc' '--pool -1' '--pool 4097' \
    '--stack-size 1' '--stack-size=1' '--stack-size 16' '--stack-size 31'; do
    name=${args%%[ =]*} value=${args##*[ =]}
    # shellcheck disable=SC2086 # an option and its value
    run --separate-stderr timeout 5 "$SERVER" -p 0 $args
    printf 'ran: server -p 0 %s\nstatus %s\nstdout: %s\nstderr: %s\n' "$args" "$status" "$output" "$stderr"
    [ "$status" -eq 2 ] || { echo "expected exit 2, got $status"; false; }
    [ "${#stderr_lines[@]}" -eq 1 ] || { echo "expected one line on stderr, got ${#stderr_lines[@]}"; false; }
    # It names the option, the bad value and where to look.
    [[ $stderr == *"'$value'"*"'$name'"*--help* ]] || { echo "expected '$value', '$name' and --help in the message"; false; }
    [ -z "$output" ] || { echo "a usage error printed on stdout"; false; }
  done
}

# ---------------------------------------------------------------- the break-it build

# stop_racy: stop this test's server like stop_server, but without failing on the
# sanitizer report it is meant to produce; sets SERVER_STATUS.
stop_racy() {
  [ -n "${SERVER_PID:-}" ] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  timeout 10 tail --pid="$SERVER_PID" -f /dev/null 2>/dev/null || kill -KILL "$SERVER_PID" 2>/dev/null
  SERVER_STATUS=0
  wait "$SERVER_PID" 2>/dev/null || SERVER_STATUS=$?
  SERVER_PID=
}

race_reported() {
  grep -a -q -F 'WARNING: ThreadSanitizer: data race' "$SERVER_ERR"
}

# bats test_tags=stage:04-threads,break-it,tsan
@test "break-it: server-break-nolock counts without the lock, and ThreadSanitizer reports the data race" {
  local racy=$BIN/04-threads/server-break-nolock real=$SERVER
  [ -x "$racy" ] || skip "04-threads/server-break-nolock is not built (make, or make tsan)"
  grep -a -q __tsan_init "$racy" ||
    skip "$racy is not a ThreadSanitizer build: run make tsan (or these tests with BIN=build/tsan)"
  RACY=1
  SERVER=$racy
  start_server -q -t 2 -r "$DOCROOT" || { SERVER=$real; false; }
  SERVER=$real
  # Rounds of 200 connections ended by 200 threads at once, until the race is seen
  # (one round is enough, in practice): at most five.
  local round
  for round in 1 2 3 4 5; do
    run -0 timeout 60 "$CLIENT" --json --timeout=30 --max-clients=4 --max-conns=50 "${URL}file.txt" 3>&-
    expect_json "$output" failed 0
    if race_reported; then break; fi
  done
  echo "after $round rounds of load:"
  stop_racy
  echo "exit status $SERVER_STATUS"
  head -n 30 "$SERVER_ERR"
  race_reported || { echo "no data race reported"; false; }
  # The race it reports is the one that was planted: in team_serve() (team.c).
  grep -a -q -E '^SUMMARY: ThreadSanitizer: data race .*team\.c:[0-9]+ in team_serve$' "$SERVER_ERR" ||
    { echo "the race reported is not the one in team_serve()"; false; }
}
