#!/usr/bin/env bats
# 03-fork: the parent accepts, a child process serves each connection and exits. The
# lessons these tests pin down: every connection gets its own process (its own pid on
# /_/info), yet history, the access log and the exit summary count every child's
# requests; after each fork the child closes the listener and sheds the parent's
# blocked signals and SIGCHLD handler, and the parent closes its copy of the connected
# socket (its descriptors come back to where they started); the parent reaps every
# child (no zombies), all of them even when their exits raised a single SIGCHLD, and
# counts each one out (its place under the cap, its entry in the table of pids);
# --max-children caps the live children under a flood while the others wait in the
# listen backlog, and a SIGTERM still stops the parent asleep at the cap; a child
# killed or kept idle costs only its own client; SIGTERM stops the whole family.
# The two break-it builds (server-break-noclose, server-break-noreap) must really leak,
# or the lab's lesson would be false.
#
# The file's server (-t 2) serves the tests that only make requests. A test that needs
# other options, a quiet server or a server alone (to count its children exactly)
# starts its own, and teardown() stops it and any child it left. Children are found in
# /proc (the fourth field of /proc/PID/stat is the parent's pid). No test sleeps to
# synchronise: it waits (bounded) for something it can see there.

# bats file_tags=stage:03-fork

bats_require_minimum_version 1.5.0

load helpers
load fixtures

setup_file() {
  start_file_server
}

teardown_file() {
  stop_family
}

setup() {
  reply_files
  declare -g -A BG=()
}

teardown() {
  exec 7>&- 8>&- 9>&-
  end_background
  if own_server_running; then
    # A test that failed may have left it stopped (SIGSTOP): it would not see SIGTERM.
    kill -CONT "$SERVER_PID" 2>/dev/null || true
    stop_family
  fi
}

# ---------------------------------------------------------------- helpers

# own_server ARGS...: a server of this test's own (teardown() stops it and its children).
own_server() {
  start_server "$@"
}

# break_server NAME ARGS...: own_server, but the break-it build 03-fork/server-break-NAME;
# the test is skipped when that build is missing.
break_server() {
  local real=$SERVER name=$1
  shift
  [ -x "$BIN/03-fork/server-break-$name" ] ||
    skip "03-fork/server-break-$name is not built (make 03-fork/server-break-$name)"
  SERVER=$BIN/03-fork/server-break-$name
  start_server "$@" || { SERVER=$real; return 1; }
  SERVER=$real
}

# stop_family [SIG]: stop_server, then KILL any child it left behind (there should be
# none: the check is the tests' business, the cleanup is ours).
stop_family() {
  [ -n "${SERVER_PID:-}" ] || return 0
  local kids pid rc=0
  kids=$(children "$SERVER_PID" | awk '{ print $1 }')
  stop_server "$@" || rc=$?
  for pid in $kids; do
    kill -KILL "$pid" 2>/dev/null || true
  done
  return "$rc"
}

# children PID: one line "CHILD STATE" per child process of PID (STATE R, S, Z, ...).
# /proc/N/stat is "N (name) STATE PPID ...": the name may hold spaces and parentheses,
# so everything up to the last ") " is cut off first.
children() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v parent="$1" '{
    pid = $1
    sub(/^.*\) /, "")
    if ($2 == parent) print pid, $1
  }'
}

# live_children PID / zombies PID: how many children of PID run / are zombies.
live_children() { children "$1" | awk '$2 != "Z"' | wc -l; }
zombies() { children "$1" | awk '$2 == "Z"' | wc -l; }
no_children() { [ -z "$(children "$1")" ]; }
live_at_most() { [ "$(live_children "$1")" -le "$2" ]; }
children_at_least() { [ "$(children "$1" | wc -l)" -ge "$2" ]; }
zombies_at_least() { [ "$(zombies "$1")" -ge "$2" ]; }

fds_at_most() { [ "$(fd_count "$1")" -le "$2" ]; }

# sockets PID: the inode numbers of the sockets PID has open, one per line.
sockets() {
  ls -l "/proc/$1/fd" 2>/dev/null | grep -o -E 'socket:\[[0-9]+\]' | tr -dc '0-9\n'
}

# lacks_socket PID INODE: PID has no descriptor on the socket INODE.
lacks_socket() {
  if sockets "$1" | grep -q -x -F "$2"; then
    return 1
  fi
}

# show_fds PID: what PID's descriptors point to, indented, for the evidence.
show_fds() {
  ls -l "/proc/$1/fd" 2>/dev/null | sed -n 's/^.* \([0-9][0-9]*\) -> /  \1 -> /p'
}

# sigset PID FIELD: a signal set of PID from /proc/PID/status, in hexadecimal (FIELD
# SigBlk: the signals it blocks, SigCgt: those it has a handler for; signal N is the
# bit 1 << (N - 1)).
sigset() {
  awk -v field="$2:" '$1 == field { print $2 }' "/proc/$1/status" 2>/dev/null
}

# blocks_as PID MASK: PID blocks exactly the signals of MASK.
blocks_as() { [ "$(sigset "$1" SigBlk)" = "$2" ]; }

# catches PID SIGNAL: PID has a handler for SIGNAL (a name: CHLD, TERM, ...).
catches() {
  local set
  set=$(sigset "$1" SigCgt)
  [ -n "$set" ] && (((0x$set >> ($(kill -l "$2") - 1)) & 1))
}

# The pids (pid=N) in FILE, one per line, in order.
pids_in() {
  grep -a -o -E 'pid=[0-9]+' "$1" | cut -d= -f2
}

# The pid in the log line of the request "GET TARGET HTTP/1.1".
logged_pid() {
  grep -a -F "\"GET $1 HTTP/1.1\"" "$SERVER_ERR" | tail -n 1 | grep -o -E 'pid=[0-9]+' | cut -d= -f2
}

# show_family PID: the process and its children, for the evidence.
show_family() {
  echo "server $1: $(fd_count "$1") descriptors; children (pid state):"
  children "$1" | sed 's/^/  /'
}

# ---------------------------------------------------------------- reaping and closing

# after_load ARGS...: runs the client with ARGS against this test's server, then waits
# until no child is left (not even a zombie) and the parent is back to $BASE descriptors.
after_load() {
  run -0 timeout 60 "$CLIENT" --json --timeout=20 "$@" "${URL}file.txt" 3>&-
  echo "$output"
  expect_json "$output" failed 0
  wait_until 10 no_children "$SERVER_PID" || { show_family "$SERVER_PID"; return 1; }
  wait_until 5 fds_at_most "$SERVER_PID" "$BASE" ||
    { echo "descriptors: $(fd_count "$SERVER_PID"), baseline $BASE"; show_fds "$SERVER_PID"; return 1; }
}

# bats test_tags=stage:03-fork,reap,fds
@test "after 5x2 and 5x10x5 client runs: no zombie left, the parent's descriptors back to baseline" {
  own_server -q -t 2 -r "$DOCROOT"
  BASE=$(fd_count "$SERVER_PID")
  echo "baseline: $BASE descriptors"
  after_load --max-clients=5 --max-conns=2
  expect_json "$output" ok 10
  after_load --max-clients=5 --max-conns=10 --requests=5
  expect_json "$output" ok 250
  expect_json "$output" connections 50
  # 60 children came and went while the parent sat in accept(): every SIGCHLD that
  # interrupted it was retried, not reported.
  if [ -s "$SERVER_ERR" ]; then
    echo "the quiet server wrote on stderr:"
    cat "$SERVER_ERR"
    false
  fi
  kill -0 "$SERVER_PID"
}

# bats test_tags=stage:03-fork,fds
@test "after the fork each closes the copy it has no use for: the child the listener, the parent the connection" {
  own_server -q -t 5 -r "$DOCROOT"
  local base listener child start elapsed
  # No client yet: the parent's one socket is the listening one.
  base=$(fd_count "$SERVER_PID")
  listener=$(sockets "$SERVER_PID")
  echo "baseline: $base descriptors, listening socket $listener"
  [ "$(printf '%s\n' "$listener" | wc -w)" -eq 1 ] || { show_fds "$SERVER_PID"; echo "expected one socket"; false; }
  # An idle connection holds its child while we look at both.
  exec 7<>"/dev/tcp/127.0.0.1/$PORT"
  wait_until 3 children_at_least "$SERVER_PID" 1 || { show_family "$SERVER_PID"; echo "no child for the connection"; false; }
  child=$(children "$SERVER_PID" | awk '{ print $1 }')
  wait_until 3 lacks_socket "$child" "$listener" ||
    { show_fds "$child"; echo "child $child still holds the listening socket $listener"; false; }
  wait_until 3 fds_at_most "$SERVER_PID" "$base" ||
    { show_fds "$SERVER_PID"; echo "the parent has $(fd_count "$SERVER_PID") descriptors, it had $base"; false; }
  # What a client sees of it: a response that closes its connection ends at once,
  # because the child's close() was the last reference to the connection.
  start=$(now_ms)
  send 'GET /file.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
  elapsed=$(($(now_ms) - start))
  expect_status 200
  echo "the connection ended $elapsed ms after the request"
  [ "$elapsed" -lt 2000 ] || { echo "the connection stayed open after the response"; false; }
  exec 7>&-
}

# bats test_tags=stage:03-fork
@test "after the fork a child ends with its connection: none runs on once its client is gone" {
  own_server -q -t 5 -r "$DOCROOT"
  local i
  for i in 1 2 3; do
    run -0 curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "${URL}file.txt"
    [ "$output" = 200 ] || { echo "request $i: $output"; false; }
  done
  # Reaped or not (reaping is another duty), no child may still run: one that returned
  # from serving, instead of calling _exit(), would now be a second parent.
  wait_until 5 live_at_most "$SERVER_PID" 0 ||
    { show_family "$SERVER_PID"; echo "a child still runs after its connection closed"; false; }
}

# bats test_tags=stage:03-fork,signals
@test "after the fork the child blocks no signal the parent did not, and has no SIGCHLD handler" {
  own_server -q -t 5 -r "$DOCROOT"
  local mask child
  # The parent waits for a client with its usual mask (the one it was started with).
  mask=$(sigset "$SERVER_PID" SigBlk)
  echo "the parent blocks $mask and catches $(sigset "$SERVER_PID" SigCgt)"
  catches "$SERVER_PID" CHLD || { echo "the parent has no SIGCHLD handler"; false; }
  exec 7<>"/dev/tcp/127.0.0.1/$PORT"
  wait_until 3 children_at_least "$SERVER_PID" 1 || { show_family "$SERVER_PID"; echo "no child for the connection"; false; }
  child=$(children "$SERVER_PID" | awk '{ print $1 }')
  # SIGTERM blocked in the child would keep it deaf to stop_children().
  wait_until 3 blocks_as "$child" "$mask" ||
    { echo "child $child blocks $(sigset "$child" SigBlk), the parent $mask"; false; }
  echo "child $child blocks $(sigset "$child" SigBlk) and catches $(sigset "$child" SigCgt)"
  if catches "$child" CHLD; then
    echo "child $child still has the parent's SIGCHLD handler"
    false
  fi
  catches "$child" TERM || { echo "child $child lost the SIGTERM handler it inherited"; false; }
  exec 7>&-
}

# bats test_tags=stage:03-fork,reap
@test "three children exit while the parent is stopped: one SIGCHLD for three, all reaped" {
  own_server -q -t 5 -r "$DOCROOT"
  exec 7<>"/dev/tcp/127.0.0.1/$PORT" 8<>"/dev/tcp/127.0.0.1/$PORT" 9<>"/dev/tcp/127.0.0.1/$PORT"
  wait_until 5 children_at_least "$SERVER_PID" 3 || { show_family "$SERVER_PID"; false; }
  # A stopped process runs no handler: the three exits leave one SIGCHLD pending, the
  # same as three exits while SIGCHLD is blocked or its handler runs.
  kill -STOP "$SERVER_PID"
  exec 7>&- 8>&- 9>&-
  wait_until 5 zombies_at_least "$SERVER_PID" 3 || { show_family "$SERVER_PID"; false; }
  show_family "$SERVER_PID"
  kill -CONT "$SERVER_PID"
  wait_until 5 no_children "$SERVER_PID" ||
    { echo "left after the parent's one SIGCHLD:"; show_family "$SERVER_PID"; false; }
  quick_get
}

# ---------------------------------------------------------------- a process per connection

# bats test_tags=stage:03-fork,process
@test "/_/info: two connections, two child pids; two requests on one connection, one pid" {
  fetch '/_/info?one'
  expect_status 200
  pids_in "$BODY" >"$BATS_TEST_TMPDIR/one"
  fetch '/_/info?two'
  expect_status 200
  pids_in "$BODY" >"$BATS_TEST_TMPDIR/two"
  local one two
  one=$(head -n 1 "$BATS_TEST_TMPDIR/one") two=$(head -n 1 "$BATS_TEST_TMPDIR/two")
  echo "first connection: pid $one; second: pid $two; parent: $FILE_SERVER_PID"
  [ -n "$one" ] && [ -n "$two" ] || { echo "no pid=N on a page"; false; }
  [ "$one" != "$two" ] || { echo "the same pid served two connections"; false; }
  [ "$one" != "$FILE_SERVER_PID" ] && [ "$two" != "$FILE_SERVER_PID" ] ||
    { echo "the parent served a request itself"; false; }
  # The request log line names the same child as the page it served.
  wait_for_grep "$SERVER_ERR" '"GET /_/info\?two HTTP/1\.1" 200 '
  [ "$(logged_pid '/_/info?one')" = "$one" ] || { echo "logged: pid=$(logged_pid '/_/info?one')"; false; }
  [ "$(logged_pid '/_/info?two')" = "$two" ] || { echo "logged: pid=$(logged_pid '/_/info?two')"; false; }

  # Two requests on one connection (the second closes it): one child answers both.
  send 'GET /_/info?ka1 HTTP/1.1\r\nHost: t\r\n\r\nGET /_/info?ka2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
  [ "$(count_responses)" -eq 2 ] || { echo "expected 2 responses, got $(count_responses)"; false; }
  local pids
  pids=$(pids_in "$RESP" | sort -u)
  echo "keep-alive connection: pids $pids"
  [ "$(printf '%s\n' "$pids" | wc -l)" -eq 1 ] || { echo "more than one pid on one connection"; false; }
  [ "$pids" != "$FILE_SERVER_PID" ] && [ "$pids" != "$one" ] && [ "$pids" != "$two" ] ||
    { echo "pid $pids is the parent's or an earlier connection's"; false; }
}

# bats test_tags=stage:03-fork,process,log
@test "history, the access log and the exit summary count the requests of every child" {
  local access=$BATS_TEST_TMPDIR/access.log i
  own_server -t 2 -r "$DOCROOT" -l "$access"
  # Four connections, one request each: four children.
  for i in 1 2 3 4; do
    fetch "/notes.txt?child$i"
    expect_status 200
  done
  fetch '/_/history'
  expect_status 200
  for i in 1 2 3 4; do
    grep -a -q -F "/notes.txt?child$i" "$BODY" || { echo "history lacks child$i's request"; false; }
  done
  wait_for_grep "$SERVER_ERR" '"GET /_/history HTTP/1\.1" 200 '
  local pids
  pids=$(grep -a -E '"GET /notes\.txt\?child[1-4] ' "$SERVER_ERR" | grep -o -E 'pid=[0-9]+' | sort -u | wc -l)
  echo "distinct pids among the 4 requests: $pids"
  [ "$pids" -eq 4 ]
  # 12 more requests: 2 client processes x 2 connections x 3 requests.
  run -0 timeout 30 "$CLIENT" --json --max-clients=2 --max-conns=2 --requests=3 "${URL}file.txt" 3>&-
  expect_json "$output" ok 12
  # 4 + 1 (history) + 12 = 17 requests, each written to the access log by its child.
  wait_until 5 no_children "$SERVER_PID" || { show_family "$SERVER_PID"; false; }
  for i in 1 2 3 4; do
    grep -a -q -F "GET /notes.txt?child$i " "$access" || { echo "access log lacks child$i"; cat "$access"; false; }
  done
  echo "access log: $(wc -l <"$access") lines"
  [ "$(wc -l <"$access")" -eq 17 ] || { cat "$access"; false; }
  stop_family TERM
  [ "$SERVER_STATUS" -eq 0 ] || { echo "exit status $SERVER_STATUS"; false; }
  wait_for_grep "$SERVER_DIR/stdout" '^summary:'
  cat "$SERVER_DIR/stdout"
  grep -a -q -E '^summary: 17 requests,' "$SERVER_DIR/stdout" || { echo "expected 17 requests in the summary"; false; }
}

# ---------------------------------------------------------------- the child cap

# bats test_tags=stage:03-fork,cap
@test "--max-children 3: ten held connections never have more than 3 children; all are served" {
  own_server -q -t 2 -r "$DOCROOT" --max-children 3
  # Each connection gets its answer, then the client holds it 1 s: three at a time,
  # the other seven wait in the listen backlog (about 4 s in all).
  in_background flood "$CLIENT" --json --max-conns=10 --hold=1 --timeout=20 "${URL}file.txt"
  wait_until 5 children_at_least "$SERVER_PID" 3 || { show_family "$SERVER_PID"; false; }
  local most=0 n samples=0
  while running flood >/dev/null; do
    n=$(children "$SERVER_PID" | wc -l)
    samples=$((samples + 1))
    [ "$n" -le "$most" ] || most=$n
    [ "$n" -le 3 ] || { echo "sample $samples: $n children"; show_family "$SERVER_PID"; false; }
    sleep 0.05
  done
  echo "$samples samples, at most $most children"
  [ "$most" -eq 3 ] || { echo "the flood never reached the cap"; false; }
  finish flood
  [ "$RC" -eq 0 ]
  expect_json "$OUT" ok 10
  expect_json "$OUT" failed 0
  # Nothing was refused: the waiting connections were served later, not dropped.
  local secs
  secs=$(json_num "$OUT" elapsed_s)
  awk -v s="$secs" 'BEGIN { exit !(s >= 2.5) }' || { echo "done in $secs s: were the 10 really capped at 3?"; false; }
  quick_get
}

# bats test_tags=stage:03-fork,cap,reap
@test "a reaped child frees its place, under the cap (--max-children 3) and in the table of pids" {
  own_server -q -t 10 -r "$DOCROOT" --max-children 3
  local start elapsed
  # 12 connections at once, three children at a time: each child reaped lets one more in.
  run -0 timeout 30 "$CLIENT" --json --max-clients=2 --max-conns=6 --timeout=5 "${URL}file.txt" 3>&-
  expect_json "$output" ok 12
  wait_until 5 no_children "$SERVER_PID" || { show_family "$SERVER_PID"; false; }
  # The count is back to 0: two idle clients get a child each (the cap is not reached).
  exec 7<>"/dev/tcp/127.0.0.1/$PORT" 8<>"/dev/tcp/127.0.0.1/$PORT"
  wait_until 5 children_at_least "$SERVER_PID" 2 ||
    { echo "the parent did not let two children in"; show_family "$SERVER_PID"; false; }
  # stop_children() finds both in the table of pids: SIGTERM ends them at once, not
  # their 10 s idle timeout.
  start=$(now_ms)
  stop_family TERM
  elapsed=$(($(now_ms) - start))
  echo "exited $SERVER_STATUS after $elapsed ms"
  [ "$SERVER_STATUS" -eq 0 ] || { echo "exit status $SERVER_STATUS"; false; }
  [ "$elapsed" -lt 3000 ] || { echo "the idle children were not told to stop"; false; }
}

# bats test_tags=stage:03-fork,cap,signals
@test "--max-children 1: SIGTERM stops the parent asleep at the cap at once" {
  own_server -q -t 10 -r "$DOCROOT" --max-children 1
  local start elapsed
  # One idle client holds the only child: the parent sleeps at the cap.
  exec 7<>"/dev/tcp/127.0.0.1/$PORT"
  wait_until 5 children_at_least "$SERVER_PID" 1 || { show_family "$SERVER_PID"; false; }
  start=$(now_ms)
  stop_family TERM
  elapsed=$(($(now_ms) - start))
  echo "exited $SERVER_STATUS after $elapsed ms (the idle child times out after 10 s)"
  [ "$SERVER_STATUS" -eq 0 ] || { echo "exit status $SERVER_STATUS"; false; }
  [ "$elapsed" -lt 3000 ] || { echo "the parent slept on at the cap until a child exited"; false; }
}

# ---------------------------------------------------------------- isolation

# bats test_tags=stage:03-fork,isolation
@test "a child killed (kill -9) mid-download hurts only its own client" {
  own_server -q -t 5 -r "$DOCROOT"
  # The victim: 20 MiB at 1 MiB/s, far from done when its child dies.
  in_background victim curl -sS --max-time 30 --limit-rate 1M -o "$BATS_TEST_TMPDIR/victim" "${URL}huge.bin"
  wait_until 10 size_above "$BATS_TEST_TMPDIR/victim" 100000
  local child
  child=$(children "$SERVER_PID" | awk '{ print $1 }')
  show_family "$SERVER_PID"
  [ "$(printf '%s\n' "$child" | wc -w)" -eq 1 ] || { echo "expected exactly one child"; false; }
  # A bystander downloading at the same time (its own child, about 2 s).
  in_background bystander curl -sS --max-time 30 --limit-rate 10M -o "$BATS_TEST_TMPDIR/bystander" "${URL}huge.bin"
  wait_until 10 size_above "$BATS_TEST_TMPDIR/bystander" 100000
  kill -KILL "$child"
  finish victim
  [ "$RC" -ne 0 ] || { echo "the victim's download completed"; false; }
  quick_get
  kill -0 "$SERVER_PID" || { echo "the parent died"; false; }
  finish bystander
  [ "$RC" -eq 0 ]
  cmp "$DOCROOT/huge.bin" "$BATS_TEST_TMPDIR/bystander"
  # The killed child was reaped like any other: no zombie.
  wait_until 5 no_children "$SERVER_PID" || { show_family "$SERVER_PID"; false; }
  quick_get
}

# bats test_tags=stage:03-fork,isolation,slow-client
@test "a client that sends nothing costs one child until the timeout; others are served at once" {
  own_server -q -t 2 -r "$DOCROOT"
  local base start elapsed
  base=$(fd_count "$SERVER_PID")
  start=$(now_ms)
  exec 7<>"/dev/tcp/127.0.0.1/$PORT"
  wait_until 5 children_at_least "$SERVER_PID" 1
  # 01-iterative made this GET wait the whole 2 s (tests/01-iterative.bats).
  quick_get
  quick_get "${URL}big.bin"
  show_family "$SERVER_PID"
  # The idle connection costs one child, and the parent nothing: it kept no descriptor.
  wait_until 3 live_at_most "$SERVER_PID" 1 || { echo "more than the idle child is left"; false; }
  fds_at_most "$SERVER_PID" "$base" || { echo "the parent has $(fd_count "$SERVER_PID") descriptors, was $base"; false; }
  # The child gives up at the timeout, and is reaped.
  wait_until 6 no_children "$SERVER_PID" || { show_family "$SERVER_PID"; false; }
  elapsed=$(($(now_ms) - start))
  echo "the idle child was gone after $elapsed ms (-t 2)"
  [ "$elapsed" -ge 1500 ] || { echo "gone before the timeout"; false; }
  exec 7>&-
}

# ---------------------------------------------------------------- stopping

# bats test_tags=stage:03-fork,signals
@test "SIGTERM during a download and an idle connection: the download completes, exit 0, no child left" {
  own_server -q -t 2 -r "$DOCROOT"
  in_background download curl -sS --max-time 20 --limit-rate 10M -o "$BATS_TEST_TMPDIR/huge" "${URL}huge.bin"
  wait_until 10 size_above "$BATS_TEST_TMPDIR/huge" 2000000
  exec 8<>"/dev/tcp/127.0.0.1/$PORT"
  wait_until 5 children_at_least "$SERVER_PID" 2
  local kids start elapsed pid
  kids=$(children "$SERVER_PID" | awk '{ print $1 }')
  show_family "$SERVER_PID"
  start=$(now_ms)
  stop_server TERM
  elapsed=$(($(now_ms) - start))
  echo "exited $SERVER_STATUS after $elapsed ms (-t 2)"
  [ "$SERVER_STATUS" -eq 0 ]
  [ "$elapsed" -lt 5000 ] || { echo "the stop took longer than -t + 1 s and some slack"; false; }
  for pid in $kids; do
    ! kill -0 "$pid" 2>/dev/null || { echo "child $pid outlived the server"; kill -KILL "$pid"; false; }
  done
  finish download
  [ "$RC" -eq 0 ] || { echo "curl failed ($RC)"; false; }
  cmp "$DOCROOT/huge.bin" "$BATS_TEST_TMPDIR/huge"
  wait_for_grep "$SERVER_DIR/stdout" '^summary:'
}

# bats test_tags=stage:03-fork,signals
@test "SIGTERM during a download that needs far longer than -t: cut at about -t + 1 s, exit 0" {
  # 200 MiB (sparse: no disk space) at 10 MiB/s needs 20 s; -t 2 bounds the wait.
  truncate -s 200M "$BATS_TEST_TMPDIR/200m.bin"
  own_server -q -t 2 -r "$BATS_TEST_TMPDIR"
  in_background download curl -sS --max-time 40 --limit-rate 10M -o "$BATS_TEST_TMPDIR/got" "${URL}200m.bin"
  wait_until 10 size_above "$BATS_TEST_TMPDIR/got" 2000000
  local kids start elapsed pid
  kids=$(children "$SERVER_PID" | awk '{ print $1 }')
  start=$(now_ms)
  stop_server TERM
  elapsed=$(($(now_ms) - start))
  echo "exited $SERVER_STATUS after $elapsed ms (-t 2); children were: $kids"
  [ "$SERVER_STATUS" -eq 0 ]
  [ "$elapsed" -lt 6000 ] || { echo "the stop waited for the download, not -t"; false; }
  for pid in $kids; do
    ! kill -0 "$pid" 2>/dev/null || { echo "child $pid outlived the server"; kill -KILL "$pid"; false; }
  done
  finish download
  [ "$RC" -ne 0 ] || { echo "the 200 MiB download completed: the stop was not bounded"; false; }
}

# ---------------------------------------------------------------- bad input

# bats test_tags=stage:03-fork,errors
@test "contract errors (400, 404, 405) come from a child, and the server goes on serving" {
  send 'GARBAGE\r\n\r\n'
  expect_error_page 400
  req GET /no-such-file.txt
  expect_error_page 404
  req POST /file.txt
  expect_status 405
  expect_header Allow 'GET, HEAD'
  wait_for_grep "$SERVER_ERR" '"GET /no-such-file\.txt HTTP/1\.1" 404 '
  local pid
  pid=$(logged_pid /no-such-file.txt)
  echo "404 served by pid $pid (parent $FILE_SERVER_PID)"
  [ -n "$pid" ] || { echo "no pid= on the 404's log line"; false; }
  [ "$pid" != "$FILE_SERVER_PID" ] || { echo "the parent served the 404 itself"; false; }
  kill -0 "$FILE_SERVER_PID"
  still_serving
}

# ---------------------------------------------------------------- the break-it builds

# bats test_tags=stage:03-fork,break-it,fds
@test "break-it: server-break-noclose keeps a descriptor for every connection" {
  break_server noclose -q -t 2 -r "$DOCROOT"
  local base n=12
  base=$(fd_count "$SERVER_PID")
  # Each request's response has a Content-Length: the client needs no EOF, and
  # it closes the connections itself.
  run -0 timeout 30 "$CLIENT" --json --max-conns="$n" --timeout=10 "${URL}file.txt" 3>&-
  expect_json "$output" ok "$n"
  wait_until 5 fds_at_least "$SERVER_PID" $((base + n - 2)) ||
    { echo "descriptors: $(fd_count "$SERVER_PID"), baseline $base"; false; }
  # Once the children are gone, the leak is still there: the parent holds the sockets.
  wait_until 5 no_children "$SERVER_PID" || true
  echo "after $n connections: $(fd_count "$SERVER_PID") descriptors (baseline $base)"
  ls -l "/proc/$SERVER_PID/fd" | grep -c 'socket:' || true
  fds_at_least "$SERVER_PID" $((base + n - 2))
}

# bats test_tags=stage:03-fork,break-it,reap
@test "break-it: server-break-noreap leaves a zombie for every connection" {
  break_server noreap -q -t 2 -r "$DOCROOT"
  local n=8
  run -0 timeout 30 "$CLIENT" --json --max-conns="$n" --timeout=10 "${URL}file.txt" 3>&-
  expect_json "$output" ok "$n"
  wait_until 5 zombies_at_least "$SERVER_PID" "$n" || { show_family "$SERVER_PID"; false; }
  show_family "$SERVER_PID"
  [ "$(zombies "$SERVER_PID")" -eq "$n" ] || { echo "expected exactly $n zombies"; false; }
  [ "$(live_children "$SERVER_PID")" -eq 0 ] || { echo "children still running"; false; }
}
