#!/usr/bin/env bats
# 05-watch: 04-threads' server plus live reload. The lessons these tests pin down: a
# change under the root reaches every open /_/events stream as exactly one Server-Sent
# Event per burst (a trailing debounce: not before the burst has been quiet for
# --debounce, and soon after), with inotify and with polling alike; editor temporaries,
# dotfiles and dot-directories never make an event; a stylesheet-only burst says
# css:true; new directories are watched as they appear; fifty streams all get the same
# event and ordinary requests are still answered at once; an idle stream gets heartbeat
# comments; a stream holds no thread (1100 unread streams, and pages are still served),
# a stream whose client leaves gives its descriptor back at once, one that stops
# reading is closed after -t seconds, and --max-streams answers 503 beyond it; HTML
# responses (files, listings, error and built-in pages) carry the script before the
# last </body> (else </head>, else at the end) with a Content-Length, ETag, HEAD and
# Range that agree with it, while other files are served byte for byte; --no-watch is
# 04 again. And the hostile side: a client that never reads, hundreds
# that vanish, files that appear and vanish during scans, a root deleted or replaced
# under the server: it reports what it can, keeps serving and exits 0 on SIGTERM.
#
# The file's server serves a root that no test changes (the injection tests). Every
# test that changes files starts its own server on its own copy of a small root, and
# teardown() stops it. The watcher tests run once per backend: inotify, and polling
# with --interval 200. No test sleeps to synchronise: it waits (bounded) for bytes on a
# stream, a log line or a count in /proc. The only waits for something *not* to happen
# ("exactly one event", "no event") are short and bounded: a debounce window and more.

# bats file_tags=stage:05-watch

bats_require_minimum_version 1.5.0

load helpers
load fixtures

# quick_get's bound: a blocked server would not answer at all; the 3 s are slack for a
# machine loaded by the watcher tests around it.
QUICK_MS=3000

SNIPPET='<script src="/_/live.js"></script>'
# How late an event may come beyond debounce + interval: a slow, shared machine and
# the sanitizer builds need slack; a broken debounce misses it by far more.
MARGIN_MS=5000

# The injection cases: NAME|PAGE, where @ marks the place the script must go (the file
# itself is PAGE without the @).
INJECT_CASES=(
  'body.html|<!doctype html>\n<html><head><title>body</title></head>\n<body><!-- </body> in a comment --><p>BODY-CASE</p>\n@</body>\n</html>\n'
  'head.html|<!doctype html>\n<html><head><title>head only</title>@</head>\n<p>HEAD-CASE</p>\n'
  'neither.html|<p>NEITHER-CASE: no head, no body</p>\n@'
  'upper.html|<!DOCTYPE HTML>\n<HTML><HEAD><TITLE>upper</TITLE></HEAD>\n<BODY><P>UPPER-CASE</P>@</BODY></HTML>\n'
  'mixed.htm|<html><Head></Head><Body>MIXED-CASE@</bOdY ></html>\n'
  'empty.html|@'
  'comment-after.html|<html><body><p>AFTER-CASE</p>@</body></html><!-- </body> -->\n'
  'open-comment.html|<html><body>OPEN-CASE@</body>\n<!-- left open </body>\n'
)

setup_file() {
  local t=$BATS_FILE_TMPDIR case
  # The template every watcher test copies: small, with a dot-directory in it.
  mkdir -p "$t/template/.git/objects/ab"
  (cd "$t/template" &&
    printf '<!doctype html><title>home</title><body><p>HOME</p></body>\n' >index.html &&
    printf '<!doctype html><title>page</title><body><p>PAGE-MARKER</p></body>\n' >page.html &&
    printf 'body { color: black }\n' >style.css &&
    printf 'FILE-MARKER\n' >file.txt &&
    printf 'ref: refs/heads/main\n' >.git/HEAD &&
    printf 'blob\n' >.git/objects/ab/cdef)

  # The root of the file's server: the injection cases and what must not be touched.
  WWW=$t/www
  mkdir -p "$WWW/list/sub"
  for case in "${INJECT_CASES[@]}"; do
    # shellcheck disable=SC2059 # the cases hold printf escapes on purpose
    printf "${case#*|}" | tr -d @ >"$WWW/${case%%|*}"
  done
  (cd "$WWW" &&
    printf 'body { color: black } /* CSS-MARKER </body> */\n' >style.css &&
    printf 'TXT-MARKER </body> </head>\n' >notes.txt &&
    printf 'FILE-MARKER\n' >file.txt &&
    printf 'IN-A-LIST\n' >list/a.txt &&
    { printf '<!doctype html><body>\n'; head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' x; printf '</body>\n'; } >big.html)
  export WWW
  start_server -t 5 -r "$WWW"
  export FILE_SERVER_PID=$SERVER_PID FILE_URL=$URL
}

teardown_file() {
  stop_server
}

setup() {
  reply_files
  declare -g -A BG=()
  URL=$FILE_URL
}

teardown() {
  exec 7>&- 8>&-
  end_background
  if own_server_running; then
    stop_server
  fi
}

# ---------------------------------------------------------------- helpers

# own_root: this test's own copy of the template root, in $DOC.
own_root() {
  DOC=$BATS_TEST_TMPDIR/root
  cp -a "$BATS_FILE_TMPDIR/template" "$DOC"
}

# use_backend KIND: the watcher options for KIND (inotify or poll), and the times they
# imply. Polling gets a debounce longer than its interval: a burst that straddles two
# scans is then still one burst (with a shorter debounce it would become two events).
use_backend() {
  case $1 in
    inotify) WATCH_OPTS=(--watch inotify --debounce 150) DEBOUNCE=150 INTERVAL=0 ;;
    poll) WATCH_OPTS=(--watch poll --interval 200 --debounce 300) DEBOUNCE=300 INTERVAL=200 ;;
    *) echo "no backend '$1'"; return 1 ;;
  esac
}

# watch_server KIND [ARGS...]: a server of this test's own on its own root ($DOC),
# watching with KIND, and one stream, "ev", already open on it.
watch_server() {
  use_backend "$1"
  shift
  own_root
  start_server -t 5 -r "$DOC" "${WATCH_OPTS[@]}" "$@"
  open_stream ev
}

stream_file() {
  echo "$BATS_TEST_TMPDIR/$1.out"
}

# open_stream NAME: a client of /_/events in the background (60 s at most), what it
# receives in $(stream_file NAME); returns once the hello has come, and fails as soon as
# the stream has ended without it. The server accepts only after its watcher is in
# place, so from then on every change is seen.
open_stream() {
  local limit=$(($(now_ms) + 15000)) ended
  in_background "$1" curl -sS -N --noproxy '*' --max-time 60 -w '(%{http_code}, then closed)\n' "${URL}_/events"
  until grep -q -x 'event: hello' "$(stream_file "$1")"; do
    ended=no
    kill -0 "${BG[$1]}" 2>/dev/null || ended=yes
    # (the hello may have come just before the end)
    if [ "$ended" = yes ] && ! grep -q -x 'event: hello' "$(stream_file "$1")"; then
      cat "$(stream_file "$1")"
      echo "stream $1 ended without its hello (the event thread sends it, once the stream is handed over)"
      return 1
    fi
    if [ "$(now_ms)" -ge "$limit" ] || ! kill -0 "$SERVER_PID" 2>/dev/null; then
      cat "$(stream_file "$1")"
      if kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "no hello on stream $1 within 15 s"
      else
        echo "no hello on stream $1: the server has died"
      fi
      return 1
    fi
    sleep 0.05
  done
}

# changes NAME: how many change events stream NAME has received.
changes() {
  grep -c -x 'event: change' "$(stream_file "$1")" 2>/dev/null || true
}

# event_data NAME N: the data of the Nth change event on stream NAME.
event_data() {
  grep -A 1 -x 'event: change' "$(stream_file "$1")" | grep '^data: ' | sed -n "$2p" | cut -c 7-
}

# mark_change: the time just before the test changes something (for expect_change).
mark_change() {
  T0=$(now_ms)
}

# expect_change NAME N [DATA [ID]]: change event N reaches stream NAME, and with it no
# other: not before the debounce has passed since mark_change (a trailing debounce
# cannot be quicker) and within debounce + interval + margin. Its data is DATA when
# given (and not empty), its id ID (default N: the server's Nth event).
expect_change() {
  local name=$1 n=$2 id=${4:-$2} limit=$((T0 + DEBOUNCE + INTERVAL + MARGIN_MS)) latency data
  until [ "$(changes "$name")" -ge "$n" ]; do
    [ "$(now_ms)" -lt "$limit" ] ||
      { echo "stream $name:"; cat "$(stream_file "$name")"; echo "no change event $n on stream $name within $((limit - T0)) ms"; return 1; }
    sleep 0.02
  done
  latency=$(($(now_ms) - T0))
  data=$(event_data "$name" "$n")
  echo "event $n on $name after about $latency ms: $data"
  [ "$(changes "$name")" -eq "$n" ] ||
    { echo "stream $name:"; cat "$(stream_file "$name")"; echo "expected $n events on stream $name, got $(changes "$name")"; return 1; }
  [ "$latency" -ge "$DEBOUNCE" ] || { echo "it came before the debounce ($DEBOUNCE ms) was over"; return 1; }
  grep -q -x "id: $id" "$(stream_file "$name")" ||
    { echo "stream $name:"; cat "$(stream_file "$name")"; echo "no 'id: $id' line on stream $name"; return 1; }
  [ -z "${3:-}" ] || [ "$data" = "$3" ] || { echo "expected data: $3"; return 1; }
}

# no_more NAME N: stream NAME still has N change events a whole debounce window (and a
# scan, and some slack) later. A bounded wait for something not to happen.
no_more() {
  local end=$(($(now_ms) + DEBOUNCE + INTERVAL + 400))
  while [ "$(now_ms)" -lt "$end" ]; do
    [ "$(changes "$1")" -eq "$2" ] ||
      { echo "stream $1:"; cat "$(stream_file "$1")"; echo "expected $2 change events on $1, got $(changes "$1")"; return 1; }
    sleep 0.05
  done
}

# quiet_for NAME MS [SECS]: waits (SECS at most, default 10) until stream NAME has had
# no new change event for MS ms.
quiet_for() {
  local limit=$(($(now_ms) + ${3:-10} * 1000)) n since
  n=$(changes "$1") since=$(now_ms)
  while [ $(($(now_ms) - since)) -lt "$2" ]; do
    [ "$(now_ms)" -lt "$limit" ] || { echo "stream $1 never went quiet: $(changes "$1") events"; return 1; }
    sleep 0.05
    if [ "$(changes "$1")" -ne "$n" ]; then
      n=$(changes "$1") since=$(now_ms)
    fi
  done
}

# threads PID: how many threads the process PID has.
threads() {
  local t=(/proc/"$1"/task/*)
  echo "${#t[@]}"
}

threads_at_most() { [ "$(threads "$1")" -le "$2" ]; }

# count_at_least FILE ERE N: FILE has at least N lines matching ERE.
count_at_least() { [ "$(grep -a -c -E -e "$2" "$1" 2>/dev/null || true)" -ge "$3" ]; }

# streams_with ERE: how many of the streams s1, s2, ... have a line matching ERE.
streams_with() {
  grep -l -E -e "$1" "$BATS_TEST_TMPDIR"/s[0-9]*.out 2>/dev/null | wc -l
}

# every_stream_has COUNT ERE: all COUNT streams s1, s2, ... have a line matching ERE.
every_stream_has() { [ "$(streams_with "$2")" -ge "$1" ]; }

# A client of /_/events that never reads: python3 -c "$UNREAD_PY" PORT N SECS [RCVBUF]
# opens N connections, sends the request on each, prints "open N" once all are sent,
# then holds them, unread, for SECS seconds. RCVBUF: a small receive buffer (set before
# connecting: the window is agreed on at the handshake), so that its socket fills soon.
UNREAD_PY='
import resource, socket, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
rcvbuf = int(sys.argv[4]) if len(sys.argv) > 4 else 0
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft != resource.RLIM_INFINITY and soft < n + 64:
    resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64, hard))
held = []
for i in range(n):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /_/events HTTP/1.1\r\nHost: t\r\n\r\n")
    held.append(s)
print("open %d" % len(held), flush=True)
time.sleep(secs)
'

# unread NAME N [RCVBUF]: N streams that never read, in the background (50 s), as NAME;
# returns once all are sent.
unread() {
  command -v python3 >/dev/null || skip "needs python3 (to hold many sockets)"
  in_background "$1" python3 -c "$UNREAD_PY" "$PORT" "$2" 50 ${3:+"$3"}
  wait_until 30 count_at_least "$(stream_file "$1")" "^open $2\$" 1 ||
    { echo "$1 did not open its $2 streams:"; cat "$(stream_file "$1")"; false; }
}

# A client of /_/events that stops reading, then reads again: python3 -c "$PAUSE_PY"
# PORT GO, with a small receive buffer (as UNREAD_PY's RCVBUF). It reads up to the
# hello, then nothing until the file GO exists; GO holds N, and it reads on until event N
# is whole (or the stream ends, or 10 s pass without a byte). Writes what it read, raw.
PAUSE_PY='
import os, socket, sys, time
port, go = int(sys.argv[1]), sys.argv[2]
out = sys.stdout.buffer
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
s.settimeout(10)
s.connect(("127.0.0.1", port))
s.sendall(b"GET /_/events HTTP/1.1\r\nHost: t\r\n\r\n")
def fail(why):
    sys.stdout.flush()
    sys.exit("\n" + why)
got = b""
while b"event: hello\n" not in got:
    d = s.recv(4096)
    if not d:
        fail("the stream ended before its hello")
    got += d
out.write(got)
out.flush()
end = time.monotonic() + 40
while not os.path.exists(go):
    if time.monotonic() > end:
        fail("never told to read on")
    time.sleep(0.02)
n = open(go).read().strip()
last = b"id: " + n.encode() + b"\n"
got = b""
while last not in got or b"\n\n" not in got[got.index(last):]:
    try:
        d = s.recv(4096)
    except socket.timeout:
        fail("once it read again, nothing came for 10 s, and event %s had not come whole" % n)
    if not d:
        fail("once it read again, the stream ended before event %s had come whole" % n)
    got += d
    out.write(d)
    out.flush()
'

# queued_max: the most bytes one of the server's connections holds in the kernel, sent
# and not yet acknowledged or not sent at all (tx_queue in /proc/net/tcp): those of the
# stream whose client does not read (the other clients read at once).
queued_max() {
  local hex max=0
  for hex in $(awk -v p=":$(printf '%04X' "$PORT")" '$2 ~ p"$" && $4 == "01" { split($5, q, ":"); print q[1] }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null); do
    [ $((16#$hex)) -le "$max" ] || max=$((16#$hex))
  done
  echo "$max"
}

# fill_socket: big events (16 long names each), one at a time, until the socket of the
# stream whose client does not read is full: its kernel took less than half of the last
# event, and the rest waits in the stream's own queue (its deadline running). Every
# event reaches stream ev first. Sets EVENTS: how many there were.
fill_socket() {
  local name i j before=0 now size
  name=$(printf 'n%.0s' {1..200})
  for ((i = 1; i <= 20; i++)); do
    for j in {10..25}; do : >"$DOC/$name-$i-$j.html"; done
    if ! wait_until 10 count_at_least "$(stream_file ev)" '^event: change$' "$i"; then
      echo "the server's stderr:"
      cat "$SERVER_ERR"
      if [ "$i" -eq 1 ]; then
        echo "no event reached stream ev within 10 s"
      else
        echo "event $i did not reach stream ev, the ones before did: is the event thread stuck in a write? (a stream's socket must not block)"
      fi
      return 1
    fi
    now=$(queued_max)
    size=$(($(event_data ev "$i" | wc -c) + 20))
    echo "event $i, $size bytes: $now bytes in the kernel for the client that does not read"
    if [ "$i" -gt 1 ] && [ $((now - before)) -lt $((size / 2)) ]; then
      EVENTS=$i
      return 0
    fi
    before=$now
  done
  echo "20 events, and the socket of the client that does not read is still not full"
  return 1
}

# expect_page_with_script FILE: a 200 HTML page whose body is FILE (the script in its
# place), counted exactly by Content-Length.
expect_page_with_script() {
  expect_status 200
  expect_header_match Content-Type '^text/html'
  expect_length_matches_body
  cmp "$1" "$BODY" || { echo "expected:"; cat "$1"; echo; echo "got:"; cat "$BODY"; return 1; }
}

# script_count: how many times the script is in the body.
script_count() {
  grep -a -o -F "$SNIPPET" "$BODY" | wc -l
}

# ---------------------------------------------------------------- one change, one event

one_change() {
  watch_server "$1"
  mark_change
  printf '<p>edited</p>\n' >>"$DOC/page.html"
  expect_change ev 1 '{"path":"/page.html","paths":["/page.html"],"css":false}'
  no_more ev 1
  wait_for_grep "$SERVER_ERR" '^live: /page\.html changed: event 1$'
  # The next change is the next event, with the next id.
  mark_change
  printf 'NEW\n' >"$DOC/fresh.txt"
  expect_change ev 2 '{"path":"/fresh.txt","paths":["/fresh.txt"],"css":false}'
  no_more ev 2
}

# A name with a line feed, a carriage return and an ESC: the stderr line says it escaped,
# on one line, so that a file cannot forge log lines or recolour the terminal.
# bats test_tags=stage:05-watch,watch,inotify
@test "a changed file's name on stderr has its controls escaped (LF, CR, ESC)" {
  watch_server inotify
  mark_change
  printf 'x\n' >"$DOC/$(printf 'a\nlive: forged changed: event 9\r\033[31mb.txt')"
  expect_change ev 1
  wait_for_grep "$SERVER_ERR" '^live: /a\\x0alive: forged changed: event 9\\x0d\\x1b\[31mb\.txt changed: event 1$'
  [ "$(grep -a -c 'forged' "$SERVER_ERR")" = 1 ] || { cat -A "$SERVER_ERR"; echo "the name took more than one line"; false; }
  [ "$(grep -a -c $'\033' "$SERVER_ERR")" = 0 ] || { cat -A "$SERVER_ERR"; echo "a raw ESC reached stderr"; false; }
}

# bats test_tags=stage:05-watch,watch,inotify
@test "inotify: one change is one event, after the debounce and soon; the next is event 2" {
  one_change inotify
}

# bats test_tags=stage:05-watch,watch,poll
@test "poll: one change is one event, after the debounce and soon; the next is event 2" {
  one_change poll
}

# An editor's save: a temporary file written, renamed over the page, its mode set; and
# vim's way (4913 probe, backup~, new file, chmod, backup removed). Each step here is a
# process of its own, and a loaded machine can leave a gap of 100 ms between two: a
# longer debounce keeps the burst one burst (the lesson of --debounce).
editor_save() {
  local debounce=400
  [ "$1" = inotify ] || debounce=500
  watch_server "$1" --debounce "$debounce"
  DEBOUNCE=$debounce
  mark_change
  printf '<p>saved</p>\n' >"$DOC/page.html.tmp"
  mv -f "$DOC/page.html.tmp" "$DOC/page.html"
  chmod 600 "$DOC/page.html"
  # The temporary is gone by the time the burst ends: the event names the page alone.
  expect_change ev 1 '{"path":"/page.html","paths":["/page.html"],"css":false}'
  no_more ev 1

  mark_change
  : >"$DOC/4913"
  rm "$DOC/4913"
  mv "$DOC/page.html" "$DOC/page.html~"
  printf '<p>saved by vim</p>\n' >"$DOC/page.html"
  chmod 644 "$DOC/page.html"
  rm "$DOC/page.html~"
  expect_change ev 2 '{"path":"/page.html","paths":["/page.html"],"css":false}'
  no_more ev 2
}

# bats test_tags=stage:05-watch,watch,inotify,debounce
@test "inotify: an editor's save (write a temporary, rename over, chmod) is one event" {
  editor_save inotify
}

# bats test_tags=stage:05-watch,watch,poll,debounce
@test "poll: an editor's save (write a temporary, rename over, chmod) is one event" {
  editor_save poll
}

# ---------------------------------------------------------------- what is ignored

# Changes to ignored files, then at once a real one. Had any ignored change been
# reported, it would be in that same burst (its paths) or in an earlier event (then
# event 1 would not be the page's): either way the check below sees it.
ignored_files() {
  watch_server "$1"
  mark_change
  (cd "$DOC" &&
    printf x >.hidden && printf y >>.hidden &&
    printf x >page.html~ && printf x >.page.html.swp && printf x >'#page.html#' &&
    printf x >./4913 && printf x >.#page.html &&
    printf 'ref: refs/heads/other\n' >.git/HEAD && printf x >.git/objects/ab/new &&
    mkdir -p .cache/deep && printf x >.cache/deep/file.html && printf x >.cache/top.css &&
    chmod 600 .hidden page.html~ &&
    rm -f 4913 '#page.html#' .#page.html && mv .page.html.swp .page.html.swx &&
    rm -rf .git/objects/ab)
  printf '<p>real</p>\n' >>"$DOC/page.html"
  expect_change ev 1 '{"path":"/page.html","paths":["/page.html"],"css":false}'
  no_more ev 1
}

# bats test_tags=stage:05-watch,watch,inotify,ignore
@test "inotify: dotfiles, editor temporaries and .git/ make no event; a real change then does" {
  ignored_files inotify
}

# bats test_tags=stage:05-watch,watch,poll,ignore
@test "poll: dotfiles, editor temporaries and .git/ make no event; a real change then does" {
  ignored_files poll
}

# ---------------------------------------------------------------- what the event says

css_and_dirs() {
  watch_server "$1"
  mark_change
  printf 'p { color: red }\n' >>"$DOC/style.css"
  expect_change ev 1 '{"path":"/style.css","paths":["/style.css"],"css":true}'
  mark_change
  printf '<p>html</p>\n' >>"$DOC/page.html"
  expect_change ev 2 '{"path":"/page.html","paths":["/page.html"],"css":false}'
  # A stylesheet and a page in one burst: the page must reload, so css is false.
  mark_change
  printf 'a { color: blue }\n' >>"$DOC/style.css"
  printf '<p>both</p>\n' >>"$DOC/page.html"
  expect_change ev 3
  local data
  data=$(event_data ev 3)
  [[ $data == *'"/style.css"'* && $data == *'"/page.html"'* && $data == *'"css":false}' ]] ||
    { echo "expected both paths and css:false"; false; }

  # A new directory, then a file in it: inotify must have started watching it.
  mark_change
  mkdir "$DOC/newdir"
  expect_change ev 4 '{"path":"/newdir","paths":["/newdir"],"css":false}'
  mark_change
  printf '<p>new</p>\n' >"$DOC/newdir/new.html"
  expect_change ev 5 '{"path":"/newdir/new.html","paths":["/newdir/new.html"],"css":false}'
  # Two levels at once, then a stylesheet two levels down.
  mark_change
  mkdir -p "$DOC/a/b"
  expect_change ev 6
  [[ $(event_data ev 6) == '{"path":"/a",'* ]] || { echo "expected the event to name /a first"; false; }
  mark_change
  printf 'b {}\n' >"$DOC/a/b/deep.css"
  expect_change ev 7 '{"path":"/a/b/deep.css","paths":["/a/b/deep.css"],"css":true}'
  # A deletion is a change too.
  mark_change
  rm "$DOC/newdir/new.html"
  expect_change ev 8 '{"path":"/newdir/new.html","paths":["/newdir/new.html"],"css":false}'
  no_more ev 8
}

# bats test_tags=stage:05-watch,watch,inotify,css
@test "inotify: css:true only for a stylesheet-only burst; new directories are watched" {
  css_and_dirs inotify
}

# bats test_tags=stage:05-watch,watch,poll,css
@test "poll: css:true only for a stylesheet-only burst; new directories are watched" {
  css_and_dirs poll
}

# Our own access log under the root: every request writes to it, which is no change to
# the site (else every page would reload after every request, its own included). A
# stylesheet changed between requests still makes a stylesheet-only event.
log_in_root() {
  watch_server "$1" -l "$BATS_TEST_TMPDIR/root/access.log"	# own_root's $DOC, not yet set
  quick_get
  mark_change
  quick_get
  printf 'p { color: green }\n' >>"$DOC/style.css"
  quick_get
  expect_change ev 1 '{"path":"/style.css","paths":["/style.css"],"css":true}'
  quick_get
  no_more ev 1
  grep -q -F 'GET /file.txt' "$DOC/access.log" ||
    { echo "nothing in the access log:"; cat "$DOC/access.log"; false; }
}

# bats test_tags=stage:05-watch,watch,inotify,ignore
@test "inotify: our own access log under the root makes no event; a stylesheet among requests does" {
  log_in_root inotify
}

# bats test_tags=stage:05-watch,watch,poll,ignore
@test "poll: our own access log under the root makes no event; a stylesheet among requests does" {
  log_in_root poll
}

# More than the 16 paths an event lists, and names too long for one: the event still
# comes, and tells the pages to reload (a page swaps only the stylesheets listed).
big_bursts() {
  local i dir name
  watch_server "$1"
  mark_change
  for ((i = 10; i < 30; i++)); do printf 'b {}\n' >"$DOC/s$i.css"; done
  expect_change ev 1
  [[ $(event_data ev 1) == *'"css":false}' ]] || { echo "20 stylesheets, not all listed: css must be false"; false; }
  # A path of 300 bytes, reported whole.
  dir=$(printf 'd%.0s' {1..200}) name=$(printf 'n%.0s' {1..95}).css
  mkdir "$DOC/$dir"
  quiet_for ev $((DEBOUNCE + INTERVAL + 200))
  mark_change
  printf 'b {}\n' >"$DOC/$dir/$name"
  expect_change ev 3 "{\"path\":\"/$dir/$name\",\"paths\":[\"/$dir/$name\"],\"css\":true}"
  # 16 names of 240 quotes: JSON doubles them, past what one event holds. Pages reload.
  mark_change
  for ((i = 10; i < 26; i++)); do name=$(printf '"%.0s' {1..240}); : >"$DOC/$name$i.html"; done
  expect_change ev 4 '{"path":"/","paths":["/"],"css":false}'
}

# bats test_tags=stage:05-watch,watch,inotify
@test "inotify: a burst past 16 paths reloads pages; a 300-byte path comes whole; an event too long says /" {
  big_bursts inotify
}

# bats test_tags=stage:05-watch,watch,poll
@test "poll: a burst past 16 paths reloads pages; a 300-byte path comes whole; an event too long says /" {
  big_bursts poll
}

# The kernel's queue of inotify events overflows while the server is stopped, and a
# directory is made meanwhile: the server reports "/" and watches the tree again, so a
# later change in that directory is seen.
# bats test_tags=stage:05-watch,watch,inotify
@test "inotify: after the event queue overflows, directories made meanwhile are watched" {
  local max n
  max=$(cat /proc/sys/fs/inotify/max_queued_events 2>/dev/null) || skip "no /proc/sys/fs/inotify"
  [ "$max" -le 100000 ] || skip "max_queued_events is $max: too many events to make in a test"
  command -v python3 >/dev/null || skip "needs python3 (to make the events quickly)"
  watch_server inotify
  kill -STOP "$SERVER_PID"
  # Two files in turn: the kernel merges an event with an identical one just before it.
  timeout 60 python3 -c '
import sys
a, b, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(n):
    open(a if i % 2 else b, "a").close()' "$DOC/page.html" "$DOC/file.txt" $((max + 2000))
  mkdir "$DOC/made-meanwhile"
  kill -CONT "$SERVER_PID"
  wait_until 15 count_at_least "$(stream_file ev)" '^data: .*"/"' 1 ||
    { echo "no event naming / after the overflow:"; cat "$(stream_file ev)"; false; }
  quiet_for ev $((DEBOUNCE + 300))
  n=$(changes ev)
  mark_change
  printf '<p>new</p>\n' >"$DOC/made-meanwhile/new.html"
  expect_change ev $((n + 1)) '{"path":"/made-meanwhile/new.html","paths":["/made-meanwhile/new.html"],"css":false}'
}

# bats test_tags=stage:05-watch,cli
@test "-r / with live reload: refused with a message that says why and what to do" {
  run --separate-stderr timeout 10 "$SERVER" -q -p 0 -r / 3>&-
  echo "exit $status; stderr: $stderr"
  [ "$status" -eq 1 ] || { echo "expected exit 1"; false; }
  [[ $stderr == *"whole file system"*"--no-watch"* ]] || { echo "the message does not say why and what to do"; false; }
  # A script waits for the URL line to know the server started: it must not come.
  [ -z "$output" ] || { echo "stdout has '$output': the URL line came before the refusal"; false; }
}

# ---------------------------------------------------------------- many streams

fifty_streams() {
  local n=50 i same
  watch_server "$1" -q
  for ((i = 1; i <= n; i++)); do
    in_background "s$i" curl -sS -N --noproxy '*' --max-time 60 "${URL}_/events"
  done
  wait_until 30 every_stream_has "$n" '^event: hello$' ||
    { echo "$(streams_with '^event: hello$') of $n streams got their hello; threads: $(threads "$SERVER_PID")"; false; }
  echo "$n streams open; the server has $(threads "$SERVER_PID") threads"
  quick_get
  mark_change
  printf '<p>for everyone</p>\n' >>"$DOC/page.html"
  expect_change ev 1 '{"path":"/page.html","paths":["/page.html"],"css":false}'
  wait_until 15 every_stream_has "$n" '^data: \{"path"' ||
    { echo "$(streams_with '^data: \{"path"') of $n streams got the event"; false; }
  # Each stream: one event, id 1, the same data as ev's.
  if grep -c -x 'event: change' "$BATS_TEST_TMPDIR"/s[0-9]*.out | grep -v ':1$'; then
    echo "^ not one event each"
    false
  fi
  if grep -L -x 'id: 1' "$BATS_TEST_TMPDIR"/s[0-9]*.out | grep .; then
    echo "^ lack id: 1"
    false
  fi
  same=$(grep -h -x -F "data: $(event_data ev 1)" "$BATS_TEST_TMPDIR"/s[0-9]*.out | wc -l)
  [ "$same" -eq "$n" ] || { echo "$same streams got ev's data"; false; }
  quick_get
  quick_get "${URL}page.html"
}

# bats test_tags=stage:05-watch,streams,inotify
@test "inotify: 50 streams all get the same event; a GET is answered at once meanwhile" {
  fifty_streams inotify
}

# bats test_tags=stage:05-watch,streams,poll
@test "poll: 50 streams all get the same event; a GET is answered at once meanwhile" {
  fifty_streams poll
}

# bats test_tags=stage:05-watch,streams,heartbeat
@test "--heartbeat 1: an idle stream gets ': heartbeat' comment lines" {
  watch_server inotify --heartbeat 1
  wait_until 10 count_at_least "$(stream_file ev)" '^: heartbeat$' 2 ||
    { echo "stream ev:"; cat "$(stream_file ev)"; echo "no two heartbeats within 10 s"; false; }
  cat "$(stream_file ev)"
  [ "$(changes ev)" -eq 0 ]
  # Heartbeats are comments between events: a change still comes as usual.
  mark_change
  printf 'x\n' >>"$DOC/file.txt"
  expect_change ev 1 '{"path":"/file.txt","paths":["/file.txt"],"css":false}'
}

# bats test_tags=stage:05-watch,streams,http
@test "/_/events: an SSE stream: its headers, retry, hello with the server id; HEAD does not stream" {
  in_background sse curl -sS -N --noproxy '*' --max-time 60 -D "$HEAD" -o "$BODY" "${URL}_/events"
  wait_for_grep "$BODY" '^data: ' 15
  cat -v "$HEAD" "$BODY"
  STATUS=$(head -n 1 "$HEAD" | cut -d' ' -f2)
  expect_status 200
  expect_header Content-Type text/event-stream
  expect_header Cache-Control no-store
  expect_closing
  expect_no_header Content-Length
  [ "$(sed -n 1p "$BODY")" = 'retry: 1000' ] && [ "$(sed -n 2p "$BODY")" = 'event: hello' ] ||
    { echo "expected retry: 1000, then event: hello"; false; }
  sed -n 3p "$BODY" | grep -q -E '^data: \{"server":"[^"]+"\}$' || { echo "no server id in the hello"; false; }
  running sse
  # HEAD: GET's header, then nothing: no stream follows, the connection closes.
  grep -a -v -i '^date:' "$HEAD" >"$BATS_TEST_TMPDIR/get-head"
  req HEAD /_/events
  expect_status 200
  grep -a -v -i '^date:' "$HEAD" >"$BATS_TEST_TMPDIR/head-head"
  diff "$BATS_TEST_TMPDIR/get-head" "$BATS_TEST_TMPDIR/head-head" || { echo "HEAD and GET headers differ"; false; }
  expect_empty_body
  expect_reply_lacks 'retry:'
}

# ---------------------------------------------------------------- the injected script

# bats test_tags=stage:05-watch,inject
@test "the script goes before the last </body>, else </head>, else at the end; Content-Length counts it" {
  local case name page
  for case in "${INJECT_CASES[@]}"; do
    name=${case%%|*} page=${case#*|}
    # shellcheck disable=SC2059
    printf "${page//@/$SNIPPET}" >"$BATS_TEST_TMPDIR/expected"
    fetch "/$name"
    expect_page_with_script "$BATS_TEST_TMPDIR/expected"
    [ "$(script_count)" -eq 1 ] || { echo "the script is in /$name $(script_count) times"; false; }
    expect_header_match ETag '-live"$'
  done
}

# bats test_tags=stage:05-watch,inject,http
@test "injected pages: HEAD has GET's headers; a Range gets the whole page (200); If-None-Match -> 304" {
  local name etag
  for name in body.html neither.html upper.html; do
    fetch "/$name"
    expect_status 200
    grep -a -v -i '^date:' "$HEAD" >"$BATS_TEST_TMPDIR/get-head"
    cp "$BODY" "$BATS_TEST_TMPDIR/whole"
    etag=$(hdr ETag)
    fetch "/$name" -I
    expect_status 200
    grep -a -v -i '^date:' "$HEAD" >"$BATS_TEST_TMPDIR/head-head"
    diff "$BATS_TEST_TMPDIR/get-head" "$BATS_TEST_TMPDIR/head-head" || { echo "HEAD and GET headers differ"; false; }
    # A range of the injected page would be a range of bytes no file holds: the whole
    # page comes instead, as a 200.
    fetch "/$name" -r 0-9
    expect_status 200
    expect_no_header Content-Range
    expect_length_matches_body
    expect_body_is "$BATS_TEST_TMPDIR/whole"
    fetch "/$name" -H "If-None-Match: $etag"
    expect_status 304
    expect_empty_body
    fetch "/$name" -H 'If-None-Match: "something-else"'
    expect_status 200
  done
}

# bats test_tags=stage:05-watch,inject
@test "other files are served byte for byte: CSS and text (even holding </body>), a Range of them, a 9 MiB page" {
  local name
  for name in style.css notes.txt file.txt list/a.txt; do
    fetch "/$name"
    expect_served "$WWW/$name"
    expect_reply_lacks live.js
    [[ $(hdr ETag) != *-live\" ]] || { echo "a file served as it is has the live ETag"; false; }
  done
  fetch /notes.txt -r 0-9
  expect_status 206
  expect_header Content-Range "bytes 0-9/$(wc -c <"$WWW/notes.txt")"
  [ "$(cat "$BODY")" = "$(head -c 10 "$WWW/notes.txt")" ]
  # A page too big to read into memory is served as it is (a stated limit).
  fetch /big.html
  expect_served "$WWW/big.html"
}

# bats test_tags=stage:05-watch,inject
@test "listings, error pages, redirects and built-in pages carry the script, once, before </body>" {
  local path code length
  for path in /list/ /no-such-page.html /list /_/info /_/history; do
    case $path in /list/ | /_/*) code=200 ;; /list) code=301 ;; *) code=404 ;; esac
    fetch "$path"
    expect_status "$code"
    expect_header_match Content-Type '^text/html'
    expect_length_matches_body
    [ "$(script_count)" -eq 1 ] || { echo "the script is in $path $(script_count) times"; false; }
    # The 301 page has no </body> (nor </head>): the script ends it.
    if [ "$code" = 301 ]; then
      [ "$(tail -c ${#SNIPPET} "$BODY")" = "$SNIPPET" ] || { echo "the body does not end with the script"; false; }
    else
      [ "$(tail -c $((${#SNIPPET} + 15)) "$BODY")" = "$SNIPPET</body></html>" ] ||
        { echo "the body does not end with the script and </body></html>"; false; }
    fi
    # HEAD: the same length, no body (the built-in pages change from one request to
    # the next: the thread that served, the history itself).
    case $path in /_/*) continue ;; esac
    length=$(wc -c <"$BODY")
    fetch "$path" -I
    expect_status "$code"
    expect_header Content-Length "$length"
  done
  # The script itself: served, not injected into.
  fetch /_/live.js
  expect_status 200
  expect_header Content-Type 'text/javascript; charset=utf-8'
  expect_length_matches_body
  expect_body_is "$ROOT/05-watch/live.js"
}

# bats test_tags=stage:05-watch,inject,no-watch
@test "--no-watch: pages as they are, the file's own ETag (not the live one), no /_/events, no /_/live.js" {
  local live_etag raw_etag name
  fetch /body.html
  live_etag=$(hdr ETag)
  start_server -t 5 -r "$WWW" --no-watch
  for name in body.html neither.html empty.html; do
    fetch "/$name"
    expect_served "$WWW/$name"
    expect_reply_lacks live.js
  done
  fetch /body.html
  raw_etag=$(hdr ETag)
  echo "ETag with live reload: $live_etag; without: $raw_etag"
  [ "$live_etag" != "$raw_etag" ] || { echo "the injected page has the file's own ETag"; false; }
  [ "$live_etag" = "${raw_etag%\"}-live\"" ] || { echo "expected the file's ETag with -live"; false; }
  fetch /no-such-page.html
  expect_error_page 404
  expect_reply_lacks live.js
  fetch /_/events
  expect_status 404
  fetch /_/live.js
  expect_status 404
  ! grep -q 'live reload' "$SERVER_ERR" || { cat "$SERVER_ERR"; false; }
  # Neither validator stands for the other representation.
  fetch /body.html -H "If-None-Match: $live_etag"
  expect_status 200
  URL=$FILE_URL
  fetch /body.html -H "If-None-Match: $raw_etag"
  expect_status 200
}

# ---------------------------------------------------------------- bad input

# bats test_tags=stage:05-watch,streams,slow-client
@test "a stream whose client never reads holds up neither the watcher nor the other streams" {
  watch_server inotify
  # The request, and not one byte read: the server's writes pile up in the socket.
  exec 7<>"/dev/tcp/127.0.0.1/$PORT"
  printf 'GET /_/events HTTP/1.1\r\nHost: t\r\n\r\n' >&7
  wait_until 10 count_at_least "$SERVER_ERR" '"GET /_/events HTTP/1\.1" 200 ' 2 || { cat "$SERVER_ERR"; false; }
  local i
  for i in 1 2 3; do
    mark_change
    printf '<p>change %s</p>\n' "$i" >>"$DOC/page.html"
    expect_change ev "$i" '{"path":"/page.html","paths":["/page.html"],"css":false}'
    quick_get
  done
  # A stream opened now gets the next event too.
  open_stream late
  mark_change
  printf 'p {}\n' >>"$DOC/style.css"
  expect_change late 1 '{"path":"/style.css","paths":["/style.css"],"css":true}' 4
  expect_change ev 4
}

# bats test_tags=stage:05-watch,streams,threads
@test "200 clients that open /_/events and vanish: the server serves on, its threads come back down" {
  watch_server inotify --heartbeat 1
  local base n=200
  # main, signals, the watcher and ev's stream (and a sanitizer's own, if any).
  base=$(threads "$SERVER_PID")
  echo "baseline: $base threads"
  timeout 60 bash -c '
    for ((i = 0; i < $2; i++)); do
      exec 8<>"/dev/tcp/127.0.0.1/$1" || continue
      printf "GET /_/events HTTP/1.1\r\nHost: t\r\n\r\n" >&8
      exec 8>&-
    done' vanish "$PORT" "$n" 3>&-
  # Each was answered (the log line comes after the header went out) ...
  wait_until 30 count_at_least "$SERVER_ERR" '"GET /_/events HTTP/1\.1" 200 ' $((n + 1)) ||
    { echo "$(grep -c '/_/events' "$SERVER_ERR") answered"; false; }
  echo "all answered; now $(threads "$SERVER_PID") threads"
  quick_get
  # ... and no thread is left behind: a stream's connection thread ends once it has
  # handed the socket over, and the event thread closes each stream as its client leaves.
  wait_until 20 threads_at_most "$SERVER_PID" $((base + 2)) ||
    { echo "$(threads "$SERVER_PID") threads, baseline $base"; false; }
  echo "back to $(threads "$SERVER_PID") threads"
  kill -0 "$SERVER_PID"
  running ev
  open_stream late
  mark_change
  printf '<p>after the crowd</p>\n' >>"$DOC/page.html"
  expect_change ev 1 '{"path":"/page.html","paths":["/page.html"],"css":false}'
  expect_change late 1 '{"path":"/page.html","paths":["/page.html"],"css":false}'
  quick_get
}

# ---------------------------------------------------------------- a stream is not a thread

# The event thread holds every stream; a connection's thread only sends the head. So
# 1100 streams that never read (more than --max-threads, 1024) take no thread each, and
# a page is served at once among them. The default --max-streams, half the descriptor
# limit, must let them in: the server raises its limit to the hard one (64 Ki at most).
# bats test_tags=stage:05-watch,streams,threads
@test "1100 streams that never read hold no thread each: pages and events go on, SIGTERM exits 0" {
  local hard base_fds base_threads n=1100 start
  hard=$(ulimit -Hn)
  [ "$hard" = unlimited ] || [ "$hard" -ge 2400 ] ||
    skip "needs a hard descriptor limit (ulimit -Hn) of 2400 or more, here $hard"
  watch_server inotify -q
  base_fds=$(fd_count "$SERVER_PID") base_threads=$(threads "$SERVER_PID")
  echo "baseline: $base_fds descriptors, $base_threads threads"
  unread crowd "$n"
  wait_until 30 fds_at_least "$SERVER_PID" $((base_fds + n)) ||
    { echo "the server holds $(fd_count "$SERVER_PID") descriptors, $(threads "$SERVER_PID") threads"; false; }
  # The connection threads have sent their heads and ended.
  wait_until 10 threads_at_most "$SERVER_PID" $((base_threads + 2)) ||
    { echo "$(threads "$SERVER_PID") threads for $n streams (baseline $base_threads)"; false; }
  echo "$n streams: $(fd_count "$SERVER_PID") descriptors, $(threads "$SERVER_PID") threads"
  quick_get
  quick_get "${URL}page.html"
  mark_change
  printf '<p>among the crowd</p>\n' >>"$DOC/page.html"
  expect_change ev 1 '{"path":"/page.html","paths":["/page.html"],"css":false}'
  fds_at_least "$SERVER_PID" $((base_fds + n)) ||
    { echo "the streams were not held: $(fd_count "$SERVER_PID") descriptors"; false; }
  running crowd
  start=$(now_ms)
  stop_server TERM
  echo "exit $SERVER_STATUS after $(($(now_ms) - start)) ms"
  [ "$SERVER_STATUS" -eq 0 ] || { cat "$SERVER_ERR"; false; }
  wait_for_grep "$SERVER_DIR/stdout" '^summary:'
}

# A stream's client that leaves is seen at once (its socket turns readable, a read
# gives 0), not at the next write that fails: the heartbeat is 15 s here.
# bats test_tags=stage:05-watch,streams
@test "streams closed by their clients give back their descriptors within a second or two" {
  local base i start
  watch_server inotify
  base=$(fd_count "$SERVER_PID")
  for i in 1 2 3 4 5 6 7 8 9 10; do
    open_stream "s$i"
  done
  wait_until 5 fds_at_least "$SERVER_PID" $((base + 10))
  echo "10 streams: $(fd_count "$SERVER_PID") descriptors (were $base)"
  start=$(now_ms)
  for i in 1 2 3 4 5 6 7 8 9 10; do
    kill "${BG[s$i]}"
  done
  wait_until 2 fds_below "$SERVER_PID" $((base + 1)) ||
    { echo "still $(fd_count "$SERVER_PID") descriptors (were $base)"; false; }
  echo "back to $(fd_count "$SERVER_PID") descriptors after $(($(now_ms) - start)) ms"
  running ev
  mark_change
  printf 'x\n' >>"$DOC/file.txt"
  expect_change ev 1 '{"path":"/file.txt","paths":["/file.txt"],"css":false}'
}

# The cap: beyond it, /_/events answers 503 (HEAD too); pages are served as usual; and a
# stream that closes makes room for the next.
# bats test_tags=stage:05-watch,streams,cli
@test "--max-streams 3: a fourth stream gets 503, pages do not; when one closes, a new one is taken" {
  local base
  watch_server inotify --max-streams 3
  open_stream s2
  open_stream s3
  base=$(fd_count "$SERVER_PID")
  fetch /_/events
  expect_status 503
  fetch /_/events -I
  expect_status 503
  quick_get
  kill "${BG[s2]}"
  wait_until 2 fds_below "$SERVER_PID" "$base" ||
    { echo "still $(fd_count "$SERVER_PID") descriptors (were $base with 3 streams)"; false; }
  open_stream s4
  fetch /_/events
  expect_status 503
  mark_change
  printf 'x\n' >>"$DOC/file.txt"
  expect_change s4 1 '{"path":"/file.txt","paths":["/file.txt"],"css":false}'
  expect_change ev 1
  expect_change s3 1
}

# The hand-over and the cap alone (no event, no stream closing): a stream that gets its
# hello is held by the event thread; with --max-streams of them open, /_/events answers
# 503 (HEAD too), and pages are served as usual.
# bats test_tags=stage:05-watch,streams,cli
@test "--max-streams 2: two streams get their hello; a third gets 503, HEAD too; pages are served" {
  watch_server inotify --max-streams 2
  open_stream s2
  fetch /_/events
  expect_status 503
  fetch /_/events -I
  expect_status 503
  quick_get
  running ev
  running s2
}

# A client that never reads, with a small receive buffer: once its socket (kept small by
# the server) is full, events queue up for it, and -t seconds (1 here) without a byte
# taken close it. Big events (16 long names each) fill it in a few.
# bats test_tags=stage:05-watch,streams,slow-client
@test "a stream that takes nothing for -t seconds once its socket is full is closed; the others miss nothing" {
  local base i j name
  watch_server inotify -t 1
  base=$(fd_count "$SERVER_PID")
  unread stuck 1 1024
  wait_until 5 fds_at_least "$SERVER_PID" $((base + 1))
  name=$(printf 'n%.0s' {1..200})
  for ((i = 1; i <= 30; i++)); do
    for j in {10..25}; do : >"$DOC/$name-$i-$j.html"; done
    wait_until 10 count_at_least "$(stream_file ev)" '^event: change$' "$i"
    if fds_below "$SERVER_PID" $((base + 1)); then
      break
    fi
  done
  echo "after $i events of $(event_data ev 1 | wc -c) bytes: $(fd_count "$SERVER_PID") descriptors (were $base)"
  fds_below "$SERVER_PID" $((base + 1)) || { echo "the stream that never reads is still held"; false; }
  [ "$(changes ev)" -eq "$i" ] || { echo "ev got $(changes ev) events, expected $i"; false; }
  running stuck
  quick_get
}

# A client that stops reading: once its socket is full, what does not fit waits in its
# stream's queue (a write() may take half an event), and when the client reads again,
# poll() says the socket has room, and the rest goes: every event, whole, in order.
# bats test_tags=stage:05-watch,streams,slow-client
@test "a client that stops reading until its socket is full, then reads again, gets every event whole and in order" {
  local n rc=0
  command -v python3 >/dev/null || skip "needs python3 (for a client that pauses)"
  watch_server inotify
  in_background paused python3 -c "$PAUSE_PY" "$PORT" "$BATS_TEST_TMPDIR/go"
  wait_until 15 count_at_least "$(stream_file paused)" '^event: hello$' 1 ||
    { echo "the client that pauses:"; cat "$(stream_file paused)"; echo "no hello for the client that pauses"; false; }
  fill_socket
  printf '%s\n' "$EVENTS" >"$BATS_TEST_TMPDIR/go.tmp"
  mv "$BATS_TEST_TMPDIR/go.tmp" "$BATS_TEST_TMPDIR/go"
  wait "${BG[paused]}" || rc=$?
  unset "BG[paused]"
  echo "the client read again: $(changes paused) events of $EVENTS, exit $rc"
  [ "$rc" -eq 0 ] || { echo "the client that paused: $(tail -n 1 "$(stream_file paused)")"; false; }
  [ "$(changes paused)" -eq "$EVENTS" ] || { echo "the client that paused got $(changes paused) events, not $EVENTS"; false; }
  for ((n = 1; n <= EVENTS; n++)); do
    [ "$(event_data paused "$n")" = "$(event_data ev "$n")" ] ||
      { echo "event $n is not what stream ev got:"; event_data paused "$n" | cut -c 1-200; false; }
  done
  [ "$(grep -a '^id: ' "$(stream_file paused)" | tr '\n' ' ')" = "$(seq -f 'id: %g' 1 "$EVENTS" | tr '\n' ' ')" ] ||
    { echo "the ids are not 1 to $EVENTS in order:"; grep -a '^id: ' "$(stream_file paused)"; false; }
  quick_get
}

# A client that never reads: once its socket is full, the rest of an event waits, and
# -t seconds (1 here) after the socket last took a byte the stream is closed, even with
# no event after it: its deadline is one of the times poll() wakes up for.
# bats test_tags=stage:05-watch,streams,slow-client
@test "a stream whose socket is full is closed -t seconds after it last took a byte, with no event after" {
  local base start
  watch_server inotify -t 1
  base=$(fd_count "$SERVER_PID")
  unread stuck 1 1024
  wait_until 5 fds_at_least "$SERVER_PID" $((base + 1))
  fill_socket
  start=$(now_ms)
  wait_until 4 fds_below "$SERVER_PID" $((base + 1)) ||
    { echo "4 s after its socket was full, the stream that never reads is still held"; false; }
  echo "closed $(($(now_ms) - start)) ms after its socket was seen full"
  running stuck
  quick_get
  mark_change
  printf 'x\n' >>"$DOC/file.txt"
  expect_change ev $((EVENTS + 1)) '{"path":"/file.txt","paths":["/file.txt"],"css":false}'
}

# Files and directories created and deleted as fast as a shell can, for 2 s, while the
# watcher scans (polling every 50 ms) or follows new directories (inotify).
churn() {
  local n
  if [ "$1" = poll ]; then
    watch_server poll -q --interval 50 --debounce 100
    DEBOUNCE=100 INTERVAL=50
  else
    watch_server inotify -q
  fi
  mkdir "$DOC/churn"
  # The churn's 2 s are the stimulus, not a wait for the server.
  timeout 2 bash -c '
    cd "$1" || exit 1
    while :; do
      for i in 0 1 2 3 4 5 6 7 8 9; do
        printf x >"c$i.html"; mkdir -p "d$i/e/f"; printf y >"d$i/e/f/g.css"; mv "c$i.html" "d$i/e/"
      done
      rm -rf c? d?
    done' churn "$DOC/churn" 3>&- || true
  kill -0 "$SERVER_PID" || { echo "the server died"; cat "$SERVER_ERR"; false; }
  quick_get
  running ev
  # The churn's last burst ends; then a real change is an event of its own.
  quiet_for ev 1000 20
  n=$(changes ev)
  echo "the churn made $n events"
  [ "$n" -ge 1 ] || { echo "the churn made no event"; false; }
  mark_change
  printf '<p>after the churn</p>\n' >>"$DOC/page.html"
  expect_change ev $((n + 1)) '{"path":"/page.html","paths":["/page.html"],"css":false}'
  ! grep -q 'live reload has stopped' "$SERVER_ERR" || { cat "$SERVER_ERR"; false; }
}

# bats test_tags=stage:05-watch,watch,inotify,churn
@test "inotify: files and directories appearing and vanishing for 2 s do not hurt it" {
  churn inotify
}

# bats test_tags=stage:05-watch,watch,poll,churn
@test "poll --interval 50: files and directories appearing and vanishing for 2 s do not hurt it" {
  churn poll
}

# ere_quote TEXT: TEXT with the characters special in an ERE escaped.
ere_quote() {
  printf '%s' "$1" | sed 's/[][\\.*^$+?(){}|]/\\&/g'
}

# root_lost_then WHY-ERE: the report on stderr, then requests still answered (with any
# status: the root is not there any more) and a clean exit on SIGTERM.
root_lost_then() {
  wait_for_grep "$SERVER_ERR" "^server: the document root $(ere_quote "$DOC") ($1): live reload has stopped; restart the server\$" 6
  local code
  code=$(curl -sS --noproxy '*' --max-time 5 -o /dev/null -w '%{http_code}' "${URL}file.txt") || true
  echo "GET /file.txt after the root was lost: $code"
  [[ $code =~ ^[1-5][0-9][0-9]$ ]] || { echo "no answer"; false; }
  code=$(curl -sS --noproxy '*' --max-time 5 -o /dev/null -w '%{http_code}' "${URL}") || true
  [[ $code =~ ^[1-5][0-9][0-9]$ ]] || { echo "no answer for /"; false; }
  kill -0 "$SERVER_PID"
  stop_server TERM
  [ "$SERVER_STATUS" -eq 0 ] || { echo "exit status $SERVER_STATUS"; cat "$SERVER_ERR"; false; }
  wait_for_grep "$SERVER_DIR/stdout" '^summary:'
}

# bats test_tags=stage:05-watch,watch,inotify,root
@test "inotify: the root deleted: reported, still answering, exit 0 on SIGTERM" {
  watch_server inotify
  rm -rf "$DOC"
  root_lost_then 'is gone \(No such file or directory\)'
}

# bats test_tags=stage:05-watch,watch,poll,root
@test "poll: the root deleted: reported, still answering, exit 0 on SIGTERM" {
  watch_server poll
  rm -rf "$DOC"
  root_lost_then 'is gone \(No such file or directory\)'
}

# Renamed away and a new directory made at its path: two steps, so the watcher may look
# in between (gone) or after (replaced). Then a new directory renamed onto an empty root
# in one step: replaced, for certain.
root_replaced() {
  watch_server "$1"
  mv "$DOC" "$DOC.old"
  mkdir "$DOC"
  printf 'NEW-ROOT\n' >"$DOC/file.txt"
  root_lost_then 'is gone \(No such file or directory\)|was replaced by another directory'
  kill "${BG[ev]}" 2>/dev/null || true

  DOC=$BATS_TEST_TMPDIR/empty-root
  mkdir "$DOC" "$BATS_TEST_TMPDIR/new-root"
  printf 'NEW-ROOT\n' >"$BATS_TEST_TMPDIR/new-root/file.txt"
  start_server -t 5 -r "$DOC" "${WATCH_OPTS[@]}"
  open_stream ev2
  mv -T "$BATS_TEST_TMPDIR/new-root" "$DOC"
  root_lost_then 'was replaced by another directory'
}

# bats test_tags=stage:05-watch,watch,inotify,root
@test "inotify: the root replaced by another directory: reported, still answering, exit 0" {
  root_replaced inotify
}

# bats test_tags=stage:05-watch,watch,poll,root
@test "poll: the root replaced by another directory: reported, still answering, exit 0" {
  root_replaced poll
}

# bats test_tags=stage:05-watch,cli
@test "bad watcher options: exit 2, nothing on stdout, one line on stderr naming option and value" {
  local args option
  for args in '--watch bogus' '--watch=kqueue' '--interval 0' '--interval 10x' '--interval -5' \
    '--debounce abc' '--debounce 0' '--heartbeat 0' '--heartbeat 3601' '--watch'; do
    # shellcheck disable=SC2086 # ARGS is a list of words
    run -2 --separate-stderr timeout 10 "$SERVER" -p 0 -r "$WWW" $args 3>&-
    printf -- '--- %s: exit %s\nstdout: %s\nstderr: %s\n' "$args" "$status" "$output" "$stderr"
    [ -z "$output" ] || { echo "expected nothing on stdout"; false; }
    [ "${#stderr_lines[@]}" -eq 1 ] || { echo "expected one line on stderr"; false; }
    option=${args%%[ =]*}
    [[ $stderr == *"'$option'"* ]] || { echo "the message does not name the option $option"; false; }
    case $args in
      --watch) ;;
      *=*) [[ $stderr == *"${args#*=}"* ]] || { echo "the message does not name the value"; false; } ;;
      *) [[ $stderr == *"${args#* }"* ]] || { echo "the message does not name the value"; false; } ;;
    esac
  done
}
