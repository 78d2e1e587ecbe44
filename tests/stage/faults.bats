#!/usr/bin/env bats
# Faults, in one stage ($STAGE, with $SERVER_ARGS): running out of descriptors, and
# SIGTERM in the middle of a large download. Each test starts its own server.
#
# Out of descriptors: the server runs under `ulimit -n 40` and 60 connections arrive
# at once. What each stage does with them differs, and the tests say so (held_as_expected):
#   01-iterative      takes one; the other 59 wait in the kernel's listen queue
#   02-select         as many as leave a descriptor free for each one's file, and 8 more
#                     (sock_max_clients in common/sock.c: (40 - in use - 8) / 2); the rest wait
#   03-fork           a child each: the parent keeps its own descriptors, 60 children
#   04-threads        a thread each, as many as 02 takes (--max-threads comes down); the rest wait
#   04-threads --pool 4   4 served and 16 queued (the queue's cap, if descriptors allow); the rest wait
#   05-watch          as 04-threads
# In every stage the same must hold: no crash, no spinning while full, every connection
# answered (200, never a 500) once descriptors free up, and a normal request served after.
#
# The connections come from a small python3 program (HOLDER below), which owns them all,
# so that one signal from the test releases or uses them together.

# bats file_tags=faults

load ../helpers
load ../fixtures

# The descriptor limit of the out-of-descriptor tests, and how many connections.
NOFILE=40
CONNS=60
# The file the downloads fetch: one that stays in flight (and open in the server) while
# its reader does not read, twice what a loopback connection buffers on Linux (4 MiB,
# net.ipv4.tcp_wmem's maximum).
DL_SIZE=$((8 * 1024 * 1024))

# HOLDER PORT N GO MODE: opens N connections and prints "open N"; waits (20 s at most)
# for the file GO to exist; then closes them all (MODE "close") or sends "GET MODE" on
# each, with Connection: close, and reads each reply to its end. Header sections first:
# bodies stay unread until no new header section has come for 0.3 s, so the server
# holds every response it has begun (and its open file) at the same time. Prints one
# line per connection: the status and the number of body bytes, "none 0" (closed
# without a reply) or "timeout N". 20 s in all.
HOLDER='
import os, select, socket, sys, time
port, n, go, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
end = time.monotonic() + 20
socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(n)]
print("open", n, flush=True)
while not os.path.exists(go):
    if time.monotonic() > end:
        sys.exit("no go within 20 s")
    time.sleep(0.05)
if mode == "close":
    for s in socks:
        s.close()
    print("closed", n, flush=True)
    sys.exit(0)
req = b"GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % mode.encode()
for s in socks:
    s.sendall(req)
head = {s: b"" for s in socks}    # the reply up to its empty line, once complete
body = {s: 0 for s in socks}      # body bytes received so far
left = set(socks)
heads_only = True
while left and time.monotonic() < end:
    want = [s for s in left if b"\r\n\r\n" not in head[s]] if heads_only else list(left)
    ready = select.select(want, [], [], 0.3)[0] if want else []
    if heads_only and not ready:
        heads_only = False
        continue
    for s in ready:
        try:
            b = s.recv(4096 if heads_only else 65536)
        except OSError:
            b = b""
        if not b:
            left.discard(s)
        elif b"\r\n\r\n" in head[s]:
            body[s] += len(b)
        else:
            h, sep, rest = (head[s] + b).partition(b"\r\n\r\n")
            head[s] = h + sep if sep else h
            body[s] += len(rest)
for s in socks:
    if s in left:
        print("timeout", body[s])
    elif head[s].startswith(b"HTTP/"):
        print(head[s].split(b" ")[1].decode(), body[s])
    else:
        print("none", 0)
'

# A keep-alive download read at about 12 MiB/s, with the next request sent once 2 MB
# have come (so it waits, unread, in the server's socket). Touches READY then. Prints
# "body GOT of SIZE" at the end of the first body or of the connection, and the error
# if the connection was reset.
NEXT_BEHIND='
import socket, sys, time
port, ready, size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"GET /huge.bin HTTP/1.1\r\nHost: t\r\n\r\n")
data = b""
while b"\r\n\r\n" not in data:
    data += s.recv(65536)
got = len(data.split(b"\r\n\r\n", 1)[1])
end = ""
try:
    while got < size:
        chunk = s.recv(65536)
        if not chunk:
            break
        if got <= 2000000 < got + len(chunk):
            s.sendall(b"GET /file.txt HTTP/1.1\r\nHost: t\r\n\r\n")
            open(ready, "w").close()
        got += len(chunk)
        time.sleep(0.005)
except OSError as e:
    end = " then %s" % e
print("body %d of %d%s" % (min(got, size), size, end))
'

# A keep-alive client: one request, its answer, then (once GO exists) a second request,
# with READY1 and READY2 touched after each is sent. Prints the statuses it got and how
# the connection ended.
SECOND_LATE='
import os, re, socket, sys, time
port, ready1, go, ready2 = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.create_connection(("127.0.0.1", port))
req = b"GET /file.txt HTTP/1.1\r\nHost: t\r\n\r\n"
s.sendall(req)
data = b""
while data.count(b"HTTP/1.1 ") < 1 or len(data.split(b"\r\n\r\n", 1)[-1]) < 1024:
    data += s.recv(65536)
open(ready1, "w").close()
while not os.path.exists(go):
    time.sleep(0.02)
s.sendall(req)
open(ready2, "w").close()
end = "closed"
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except OSError as e:
    end = str(e)
print(" ".join(m.decode() for m in re.findall(rb"HTTP/1\.1 (\d\d\d) ", data)), end)
'

setup_file() {
  make_docroot
  head -c "$HUGE_SIZE" /dev/urandom >"$DOCROOT/huge.bin"
  head -c "$DL_SIZE" /dev/urandom >"$DOCROOT/dl.bin"
}

setup() {
  declare -g -A BG=()
}

teardown() {
  end_background
  stop_server
}

# ---------------------------------------------------------------- helpers

need_python() {
  command -v python3 >/dev/null || skip "needs python3 (to hold many connections)"
}

fds_are() { [ "$(fd_count "$1")" -eq "$2" ]; }
children_are() { [ "$(child_count "$1")" -eq "$2" ]; }

# Descriptors of PID numbered below NOFILE: the ones the limit lets it open (a server
# may also have inherited some above the limit).
fds_below_limit() {
  local f n=0
  for f in /proc/"$1"/fd/*; do
    if [ "${f##*/}" -lt "$NOFILE" ] 2>/dev/null; then n=$((n + 1)); fi
  done
  echo "$n"
}

# The lowest descriptor number PID has free: what 02-select counts as "in use at start".
lowest_free_fd() {
  local n=0
  while [ -e "/proc/$1/fd/$n" ]; do n=$((n + 1)); done
  echo "$n"
}

connections_are() { [ $(($(socket_count "$1") - 1)) -eq "$2" ]; }

# fit: how many clients the server serves at once with NOFILE descriptors, LOW_FREE of
# them in use before any client (sock_max_clients in common/sock.c).
fit() { echo $(((NOFILE - LOW_FREE - 8) / 2)); }

# queue_for N: the queue of a pool of N threads: 4 per thread, as far as descriptors go.
queue_for() {
  local room=$((2 * $(fit) - 2 * $1))
  if [ "$room" -gt $((4 * $1)) ]; then room=$((4 * $1)); fi
  if [ "$room" -lt 1 ]; then room=1; fi
  echo "$room"
}

# held_as_expected: with CONNS connections waiting and NOFILE descriptors, the server
# holds what its stage is designed to hold (see the table at the top). LOW_FREE: its
# lowest free descriptor before any client.
held_as_expected() {
  case "$STAGE ${SERVER_ARGS:-}" in
    "01-iterative "*) connections_are "$SERVER_PID" 1 ;;
    "02-select "* | "04-threads ") connections_are "$SERVER_PID" "$(fit)" ;;
    # 05 counts before its watcher opens its descriptors (the reserve of 8 covers them)
    "05-watch "*) connections_are "$SERVER_PID" "$(fit)" || connections_are "$SERVER_PID" $(($(fit) + 1)) ;;
    "03-fork "*) connections_are "$SERVER_PID" 0 && children_are "$SERVER_PID" "$CONNS" ;;
    "04-threads --pool 4") connections_are "$SERVER_PID" $((4 + $(queue_for 4))) ;;
    *) echo "no expectation written for '$STAGE ${SERVER_ARGS:-}'"; return 1 ;;
  esac
}

# show_held BASE: the evidence of what the server holds.
show_held() {
  echo "server: $(fd_count "$SERVER_PID") descriptors (before any client: $1, limit $NOFILE)," \
    "$(fds_below_limit "$SERVER_PID") of them below the limit, $(($(socket_count "$SERVER_PID") - 1))" \
    "connections, $(child_count "$SERVER_PID") children"
}

# hold MODE: a server limited to NOFILE descriptors (-t 10: no connection of the test
# idles out), then CONNS connections from HOLDER (in the background as "holder", told
# to go on by the file $GO); waits until the server holds what its stage is designed to
# hold. Sets BASE (its descriptors before any client) and LOW_FREE.
hold() {
  limited_server "$NOFILE" -q -t 10 -r "$DOCROOT"
  BASE=$(fd_count "$SERVER_PID")
  LOW_FREE=$(lowest_free_fd "$SERVER_PID")
  GO=$BATS_TEST_TMPDIR/go
  in_background holder python3 -c "$HOLDER" "$PORT" "$CONNS" "$GO" "$1"
  wait_for_grep "$BATS_TEST_TMPDIR/holder.out" "^open $CONNS\$" 10
  wait_until 10 held_as_expected || { show_held "$BASE"; return 1; }
  show_held "$BASE"
}

# ---------------------------------------------------------------- out of descriptors

# bats test_tags=emfile
@test "out of descriptors, 60 idle connections: no crash, no spinning, and once they close a waiting request is served" {
  need_python
  hold close
  # The server is full and the listener stays readable: a loop that retried accept()
  # at once would burn about a CPU second per second here. The 2 s is how long the
  # state is observed, not a wait for anything.
  local tck before spent
  tck=$(getconf CLK_TCK)
  before=$(cpu_ticks "$SERVER_PID")
  in_background probe curl -sS --max-time 20 -o /dev/null -w '%{http_code}' "${URL}file.txt"
  sleep 2
  spent=$(($(cpu_ticks "$SERVER_PID") - before))
  echo "server CPU time over 2 s full: $spent ticks of 1/$tck s"
  [ "$spent" -lt $((tck / 2)) ] || { echo "the server spins while out of descriptors"; false; }
  kill -0 "$SERVER_PID" || { echo "the server died"; false; }
  # Release: the 60 connections close. The request sent meanwhile (in every stage but
  # 03, it waits in the listen queue) is served.
  touch "$GO"
  finish holder
  [ "$RC" -eq 0 ]
  finish probe
  [ "$RC" -eq 0 ] && [ "$OUT" = 200 ] || { echo "the waiting request got '$OUT' (curl $RC)"; false; }
  # Everything held is given back.
  wait_until 10 fds_are "$SERVER_PID" "$BASE" || { show_held "$BASE"; false; }
  wait_until 10 children_are "$SERVER_PID" 0 || { show_held "$BASE"; false; }
  still_serving
}

# bats test_tags=emfile
@test "out of descriptors, 60 downloads at once: every one gets its whole 8 MiB file, none a 500" {
  need_python
  hold /dl.bin
  touch "$GO"
  finish holder
  [ "$RC" -eq 0 ]
  local summary
  summary=$(printf '%s\n' "$OUT" | grep -v '^open ' | sort | uniq -c | awk '{ print $2 " " $3 ": " $1 }' | paste -s -d ';')
  echo "replies (status body-bytes: count): $summary"
  [ "$summary" = "200 $DL_SIZE: $CONNS" ] ||
    { echo "expected all $CONNS answered 200 with $DL_SIZE bytes"; grep -c '^500 ' <<<"$OUT" | sed 's/$/ answered 500/'; false; }
  kill -0 "$SERVER_PID" || { echo "the server died"; false; }
  wait_until 10 fds_are "$SERVER_PID" "$BASE" || { show_held "$BASE"; false; }
  still_serving
}

# ---------------------------------------------------------------- stopping

# bats test_tags=signals
@test "SIGTERM during a 20 MiB download: the download completes and the server exits 0 within -t" {
  start_server -q -t 5 -r "$DOCROOT"
  # About 2 s at 10 MiB/s: well within -t 5, so a server that lets in-flight responses
  # finish sends it all.
  in_background download curl -sS --max-time 20 --limit-rate 10M -o "$BATS_TEST_TMPDIR/huge" "${URL}huge.bin"
  wait_until 10 size_above "$BATS_TEST_TMPDIR/huge" 2000000
  local start elapsed
  start=$(now_ms)
  stop_server TERM
  elapsed=$(($(now_ms) - start))
  echo "exited $SERVER_STATUS after $elapsed ms (-t 5)"
  [ "$SERVER_STATUS" -eq 0 ] || { echo "exit status $SERVER_STATUS, expected 0"; false; }
  # The bounded wait is -t (03 and 04 allow one second more); 2 s more for a busy machine.
  [ "$elapsed" -lt 8000 ] || { echo "the stop took longer than -t and some slack"; false; }
  finish download
  [ "$RC" -eq 0 ] || { echo "curl failed ($RC)"; false; }
  cmp "$DOCROOT/huge.bin" "$BATS_TEST_TMPDIR/huge"
  wait_for_grep "$SERVER_DIR/stdout" '^summary:'
}

# The server is stopped (SIGSTOP) while the client sends its second request, and gets
# SIGTERM before it runs again: then it finds the stop and the request at once. 03-fork
# serves from a child, which SIGSTOP on the parent does not stop: there the request is
# simply answered before the stop.
# bats test_tags=signals
@test "SIGTERM just as a request comes on an idle keep-alive connection: it is answered, not reset" {
  command -v python3 >/dev/null || skip "needs python3 (a client that times its second request)"
  local t=$BATS_TEST_TMPDIR
  start_server -q -t 5 -r "$DOCROOT"
  in_background client python3 -c "$SECOND_LATE" "$PORT" "$t/ready1" "$t/go" "$t/ready2"
  wait_until 10 test -e "$t/ready1"
  kill -STOP "$SERVER_PID"
  touch "$t/go"
  wait_until 10 test -e "$t/ready2"
  kill -TERM "$SERVER_PID"
  kill -CONT "$SERVER_PID"
  stop_server TERM
  [ "$SERVER_STATUS" -eq 0 ] || { echo "exit status $SERVER_STATUS, expected 0"; false; }
  finish client
  [ "$OUT" = "200 200 closed" ] || { echo "expected both requests answered, then a clean close"; false; }
}

# bats test_tags=signals
@test "SIGTERM during a keep-alive download with the next request already sent: the download completes" {
  command -v python3 >/dev/null || skip "needs python3 (a client that sends its next request early)"
  start_server -q -t 5 -r "$DOCROOT"
  in_background download python3 -c "$NEXT_BEHIND" "$PORT" "$BATS_TEST_TMPDIR/ready" "$HUGE_SIZE"
  wait_until 10 test -e "$BATS_TEST_TMPDIR/ready"
  stop_server TERM
  [ "$SERVER_STATUS" -eq 0 ] || { echo "exit status $SERVER_STATUS, expected 0"; false; }
  finish download
  [ "$OUT" = "body $HUGE_SIZE of $HUGE_SIZE" ] ||
    { echo "the download was cut short: a close with the next request unread resets the connection"; false; }
}
