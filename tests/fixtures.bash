# Fixtures and assertions for the end-to-end suites (loaded after helpers.bash).
#
#   reply_files            (in setup) points $RESP, $HEAD, $BODY into $BATS_TEST_TMPDIR
#   make_docroot           builds a document root of known files under $BATS_FILE_TMPDIR and
#                          exports DOCROOT, ERRDIR, SECRET_TEXT, SECRET2_TEXT, FILE_DATE,
#                          SOCKET (a socket in the root; empty if it could not be made)
#   send REQUEST [SECS]    raw() with `%` taken literally (printf escapes still expanded);
#                          the whole reply goes to $RESP, the first response's header section
#                          to $HEAD, the rest to $BODY, its status code to $STATUS
#   send_pieces PIECE...   like send, but writes PIECE by PIECE with a short pause between
#                          (the pause is the stimulus: a request split over several packets)
#   fetch PATH [CURL-ARG...]  GET with curl into $HEAD, $BODY and $STATUS
#   hdr NAME [FILE]        value of header NAME in $HEAD (or FILE), fails when absent
#   expect_*               assertions that say what they expected and what came
#   still_serving          a plain GET /file.txt still answers 200
#   timed_get [URL], quick_get [URL]   a GET (default /file.txt) that answers 200, sets
#                          ELAPSED in ms; quick_get: within $QUICK_MS ms (1000)
#   wait_for_grep FILE ERE [SECS]   waits (bounded) until FILE has a line matching ERE
#   start_file_server      (in setup_file) make_docroot plus huge.bin, and the file's
#                          server (-t 2) on it; its pid in FILE_SERVER_PID
#   in_background / running / finish   a client in the background, bounded, and its result
#   end_background, own_server_running   for teardown(): what a test left behind
#   wait_until SECS CMD...   runs CMD every 50 ms until it succeeds, at most SECS
#   fd_count PID, fds_at_least, fds_below, size_above, json_num, expect_json
#
# Every assertion prints the evidence on stdout: bats shows it only when the test fails.

export LC_ALL=C

# Per-test reply files; call from setup().
reply_files() {
  RESP=$BATS_TEST_TMPDIR/resp HEAD=$BATS_TEST_TMPDIR/head BODY=$BATS_TEST_TMPDIR/body
}

# A Firefox on Linux browser, for the pages that guess browser and OS.
FIREFOX_UA='Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'

# Builds the test document root, the error-page directory and the secrets outside the root.
make_docroot() {
  local t=$BATS_FILE_TMPDIR
  DOCROOT=$t/root ERRDIR=$t/errors
  SECRET_TEXT="SECRET-OUTSIDE-ROOT-$RANDOM$RANDOM"
  SECRET2_TEXT="SECRET2-OUTSIDE-ROOT-$RANDOM$RANDOM"
  mkdir -p "$DOCROOT/dir/empty" "$DOCROOT/list/sub" "$DOCROOT/links" "$DOCROOT/idxdir/index.html" \
    "$ERRDIR" "$t/outside"

  # Outside the root: what a traversal or a symlink must never reveal.
  printf '%s\n' "$SECRET_TEXT" >"$t/secret.txt"
  printf '%s\n' "$SECRET2_TEXT" >"$t/outside/secret2.txt"

  # Files of known content and size, one per content type.
  (cd "$DOCROOT" &&
    yes 'staged-httpd test file, 1 KiB in all.' | head -c 1024 >file.txt &&
    head -c 204800 /dev/urandom >big.bin &&
    printf '<!doctype html><title>page</title><p>PAGE-HTML-MARKER</p>\n' >page.html &&
    printf 'body { color: black } /* CSS-MARKER */\n' >style.css &&
    printf 'console.log("JS-MARKER");\n' >app.js &&
    printf '{"marker": "JSON-MARKER"}\n' >data.json &&
    printf 'TXT-MARKER\n' >notes.txt &&
    printf '<svg xmlns="http://www.w3.org/2000/svg"><!-- SVG-MARKER --></svg>\n' >image.svg &&
    printf '\211PNG\r\n\032\n\0\0\0\rIHDR' >image.png &&
    printf 'NOEXT-MARKER\n' >README &&
    printf 'XYZ-MARKER\n' >odd.xyz &&
    printf 'HISTORY-FIRST\n' >h-first.txt &&
    printf 'HISTORY-SECOND\n' >h-second.txt &&
    printf 'LOCKED-MARKER\n' >locked.txt && chmod 000 locked.txt &&
    printf '<!doctype html><title>dir index</title><p>DIR-INDEX-MARKER</p>\n' >dir/index.html &&
    printf 'AMP\n' >'list/a&b.txt' &&
    printf 'ANGLE\n' >'list/<x>.txt' &&
    printf 'SPACE-NAME-MARKER\n' >'list/space name.txt' &&
    printf 'ZETA\n' >list/Zeta.txt &&
    printf 'BETA\n' >list/beta.txt &&
    printf 'INNER\n' >list/sub/inner.txt &&
    ln -s file.txt alias.txt &&
    ln -s "$t/secret.txt" leak.txt &&
    ln -s ../secret.txt rel-leak.txt &&
    ln -s "$t/outside" leakdir &&
    ln -s no-such-target dangling &&
    printf 'INDEX-DIR-INNER\n' >idxdir/index.html/inner.txt &&
    ln -s ../file.txt links/file &&
    ln -s ../list/sub links/sub &&
    ln -s "$t/secret.txt" links/secret &&
    ln -s "$t/outside" links/outdir &&
    mkfifo pipe)
  # A socket in the root, if python3 can make one (SOCKET says whether it did).
  SOCKET=
  if command -v python3 >/dev/null &&
    python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$DOCROOT/sock"; then
    SOCKET=$DOCROOT/sock
  fi
  # A fixed, known modification time makes Last-Modified and If-Modified-Since exact.
  touch -d '2020-01-02 03:04:05 UTC' "$DOCROOT/file.txt"
  FILE_DATE='Thu, 02 Jan 2020 03:04:05 GMT'

  printf '<!doctype html><title>custom</title><p>CUSTOM-404-MARKER</p>\n' >"$ERRDIR/404.html"
  export DOCROOT ERRDIR SECRET_TEXT SECRET2_TEXT FILE_DATE SOCKET
}

# Milliseconds since the epoch.
now_ms() {
  date +%s%3N
}

# Splits $RESP into $HEAD (first header section, up to its empty line) and $BODY.
split_response() {
  sed -n '1,/^\r\{0,1\}$/p' "$RESP" >"$HEAD"
  tail -c +$(($(wc -c <"$HEAD") + 1)) "$RESP" >"$BODY"
  STATUS=$(head -n 1 "$RESP" | cut -d' ' -f2)
  printf -- '--- reply (%s bytes):\n' "$(wc -c <"$RESP")"
  head -c 1500 "$RESP" | cat -v
  printf -- '\n---\n'
}

send() {
  local pct=%
  printf -- '--- request: %s\n' "${1:0:300}"
  raw "${1//"$pct"/%%}" "${2:-5}" >"$RESP" 2>/dev/null
  split_response
}

send_pieces() {
  printf -- '--- request in %d pieces: %s\n' "$#" "$*"
  timeout 5 bash -c '
    exec 5<>"/dev/tcp/127.0.0.1/$1" || exit 1
    shift
    for piece; do printf "$piece" >&5; sleep 0.2; done
    cat <&5' send_pieces "$PORT" "$@" >"$RESP" 2>/dev/null 3>&- || true
  split_response
}

fetch() {
  local path=$1
  shift
  printf -- '--- curl %s %s\n' "$*" "$path"
  : >"$HEAD"
  : >"$BODY"
  curl -sS --max-time 5 -D "$HEAD" -o "$BODY" "$@" "${URL%/}$path" || true
  STATUS=$(head -n 1 "$HEAD" | cut -d' ' -f2)
  cat -v "$HEAD"
}

hdr() {
  local line
  line=$(grep -a -i -m 1 "^$1:" "${2:-$HEAD}") || return 1
  line=${line#*:}
  line=${line%$'\r'}
  line=${line#"${line%%[! 	]*}"}
  printf '%s\n' "${line%"${line##*[! 	]}"}"
}

expect_status() {
  [ "$STATUS" = "$1" ] || { echo "expected status $1, got '$STATUS'"; return 1; }
}

# expect_header NAME VALUE: header NAME is present and equal to VALUE.
expect_header() {
  local v
  v=$(hdr "$1") || { echo "expected header $1: $2, it is absent"; return 1; }
  [ "$v" = "$2" ] || { echo "expected header $1: '$2', got '$v'"; return 1; }
}

# expect_header_match NAME ERE: header NAME is present and matches ERE.
expect_header_match() {
  local v
  v=$(hdr "$1") || { echo "expected header $1 matching /$2/, it is absent"; return 1; }
  [[ $v =~ $2 ]] || { echo "expected header $1 matching /$2/, got '$v'"; return 1; }
}

expect_no_header() {
  local v
  if v=$(hdr "$1"); then echo "expected no header $1, got '$v'"; return 1; fi
}

# The connection is about to close: `Connection: close` (any letter case).
expect_closing() {
  local v
  v=$(hdr Connection) || { echo "expected Connection: close, it is absent"; return 1; }
  [ "${v,,}" = close ] || { echo "expected Connection: close, got '$v'"; return 1; }
}

expect_body_has() {
  grep -a -q -F -e "$1" "$BODY" || { echo "expected the body to contain '$1'"; return 1; }
}

expect_reply_lacks() {
  if grep -a -q -F -e "$1" "$RESP" "$HEAD" "$BODY"; then
    echo "the reply must not contain '$1'"
    return 1
  fi
}

expect_empty_body() {
  [ ! -s "$BODY" ] || { echo "expected no body, got $(wc -c <"$BODY") bytes"; return 1; }
}

# The body is byte for byte the file (or the stream) given.
expect_body_is() {
  cmp "$1" "$BODY" || { echo "the body differs from $1"; return 1; }
}

# Content-Length is present and counts exactly the body bytes received.
expect_length_matches_body() {
  local len n
  len=$(hdr Content-Length) || { echo "expected Content-Length, it is absent"; return 1; }
  n=$(wc -c <"$BODY")
  [ "$len" = "$n" ] || { echo "Content-Length $len, but the body has $n bytes"; return 1; }
}

# An error reply: status CODE, a small text/html body counted by Content-Length, and
# Connection: close for the statuses after which the server cannot go on reading.
expect_error_page() {
  expect_status "$1"
  expect_header_match Content-Type '^text/html'
  expect_length_matches_body
  [ -s "$BODY" ] && [ "$(wc -c <"$BODY")" -lt 4096 ] ||
    { echo "expected a small non-empty body, got $(wc -c <"$BODY") bytes"; return 1; }
  case $1 in 400 | 413 | 414 | 431 | 505) expect_closing ;; esac
}

# Number of responses (status lines) in the whole reply.
count_responses() {
  grep -a -o -E 'HTTP/1\.[01] [0-9]{3} ' "$RESP" | wc -l
}

# Status codes of every response in the reply, space-separated.
all_statuses() {
  grep -a -o -E 'HTTP/1\.[01] [0-9]{3} ' "$RESP" | cut -d' ' -f2 | tr '\n' ' ' | sed 's/ $//'
}

# timed_get [URL]: a plain GET (default /file.txt of the current server), 10 s at most;
# sets ELAPSED in milliseconds and fails unless the answer is 200.
timed_get() {
  local start code url=${1:-${URL}file.txt}
  start=$(now_ms)
  code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "$url") || true
  ELAPSED=$(($(now_ms) - start))
  echo "GET $url: $code in $ELAPSED ms"
  [ "$code" = 200 ]
}

# quick_get [URL]: timed_get, answered within $QUICK_MS milliseconds (1000 unless the
# file sets it): no other client held this one up.
quick_get() {
  timed_get "$@" || return 1
  [ "$ELAPSED" -lt "${QUICK_MS:-1000}" ] || { echo "answered only after $ELAPSED ms"; return 1; }
}

# still_serving: after whatever the test did, a plain GET answers 200.
still_serving() {
  timed_get || { echo "afterwards GET /file.txt did not answer 200"; return 1; }
}

# wait_for_grep FILE ERE [SECS]: until a line of FILE matches ERE (SECS, default 5, at
# most); else says what FILE holds, then, last (what lab/grade quotes), what was missing.
wait_for_grep() {
  local file=$1 ere=$2 secs=${3:-5}
  timeout "$secs" bash -c '
    until grep -a -q -E -e "$2" "$1" 2>/dev/null; do sleep 0.05; done' wait "$file" "$ere" ||
    { echo "$file holds:"; cat "$file" 2>/dev/null
      echo "no line matching /$ere/ in $file within ${secs}s (what it holds is above)"; return 1; }
}


# Offset of the first occurrence of TEXT in the body (-1 when absent).
offset_in_body() {
  local body before
  body=$(cat "$BODY")
  [[ $body == *"$1"* ]] || { echo -1; return; }
  before=${body%%"$1"*}
  echo "${#before}"
}

# req METHOD TARGET [HEADER-LINES]: one HTTP/1.1 request with Host and Connection: close
# (HEADER-LINES each end in \r\n).
req() {
  send "$1 $2 HTTP/1.1\r\nHost: t\r\n${3:-}Connection: close\r\n\r\n"
}

# expect_html_is FILE: the body is the HTML file FILE. 05-watch injects a script into HTML
# responses, so there the body need only keep the file's last line and be longer.
expect_html_is() {
  if [ "$STAGE" = 05-watch ]; then
    expect_length_matches_body
    grep -a -q -F -e "$(tail -n 1 "$1")" "$BODY" || { echo "the body lacks the content of $1"; return 1; }
    [ "$(wc -c <"$BODY")" -ge "$(wc -c <"$1")" ] || { echo "the body is shorter than $1"; return 1; }
  else
    expect_body_is "$1"
  fi
}

# expect_served FILE: a 200 whose body is FILE, counted exactly by Content-Length.
expect_served() {
  expect_status 200
  expect_header Content-Length "$(wc -c <"$1")"
  expect_body_is "$1"
}

# ---- The stage files' own server, background clients, /proc and JSON: shared by the
# stage files (02, 03, ...).

# huge.bin's size: far bigger than the socket buffers of a loopback connection (a few
# MiB each way), so a client that does not read it leaves the server with bytes it
# cannot send.
HUGE_SIZE=$((20 * 1024 * 1024))

# start_file_server: the server a stage file's request-only tests share (setup_file),
# on make_docroot's root plus huge.bin. A test that needs other options starts its own.
start_file_server() {
  make_docroot
  head -c "$HUGE_SIZE" /dev/urandom >"$DOCROOT/huge.bin"
  start_server -t 2 -r "$DOCROOT"
  export FILE_SERVER_PID=$SERVER_PID
}

# own_server_running: this test started a server of its own (not the file's), which
# its teardown() must stop.
own_server_running() {
  [ -n "${SERVER_PID:-}" ] && [ "$SERVER_PID" != "${FILE_SERVER_PID:-}" ]
}

# in_background NAME CMD...: runs CMD (60 s at most) with its output in
# $BATS_TEST_TMPDIR/NAME.out; its pid goes to BG[NAME] (teardown() kills what is left).
in_background() {
  local name=$1
  shift
  timeout 60 "$@" >"$BATS_TEST_TMPDIR/$name.out" 2>&1 3>&- &
  BG[$name]=$!
}

# end_background: kills and reaps the background commands still running (teardown()).
end_background() {
  local pid
  for pid in "${BG[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

# running NAME: the background command NAME has not ended yet.
running() {
  kill -0 "${BG[$1]}" 2>/dev/null || { echo "'$1' ended before the check"; return 1; }
}

# finish NAME: waits for the background command NAME; sets RC (its exit status) and
# OUT (its output).
finish() {
  RC=0
  wait "${BG[$1]}" || RC=$?
  unset "BG[$1]"
  OUT=$(cat "$BATS_TEST_TMPDIR/$1.out")
  printf -- '--- %s exited %s:\n%s\n' "$1" "$RC" "$OUT"
}

# Number of descriptors the process PID has open.
fd_count() {
  local fds=(/proc/"$1"/fd/*)
  [ -e "${fds[0]}" ] || { echo 0; return; }
  echo "${#fds[@]}"
}

# wait_until SECS CMD...: runs CMD every 50 ms until it succeeds; fails after SECS.
wait_until() {
  local limit=$(($(now_ms) + $1 * 1000))
  shift
  until "$@"; do
    [ "$(now_ms)" -lt "$limit" ] || { echo "not true within the time allowed: $*"; return 1; }
    sleep 0.05
  done
}

fds_at_least() { [ "$(fd_count "$1")" -ge "$2" ]; }

fds_below() { [ "$(fd_count "$1")" -lt "$2" ]; }

size_above() { [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -gt "$2" ]; }

# json_num JSON KEY: the number after "KEY": in the client's --json output (0 if absent).
json_num() {
  if [[ $1 =~ \"$2\":\ ([0-9.]+) ]]; then echo "${BASH_REMATCH[1]}"; else echo 0; fi
}

# expect_json JSON KEY VALUE
expect_json() {
  local got
  got=$(json_num "$1" "$2")
  [ "$got" = "$3" ] || { echo "expected $2: $3, got $got in: $1"; return 1; }
}

# ---- Processes and descriptors under /proc, and servers under a small descriptor limit.

# limited_server NOFILE ARGS...: start_server under `ulimit -n NOFILE`. start_server runs
# $SERVER directly, so $SERVER becomes, for this call, a script that lowers the limit
# and then execs the real server (same pid, same stdout and stderr).
limited_server() {
  local nofile=$1 wrapper=$BATS_TEST_TMPDIR/limited
  shift
  printf '#!/usr/bin/env bash\nulimit -n %s || exit 1\nexec %q "$@"\n' "$nofile" "$SERVER" >"$wrapper"
  chmod +x "$wrapper"
  SERVER=$wrapper start_server "$@"
}

# CPU time (user + system) of process PID so far, all its threads, in clock ticks. The
# second field of /proc/PID/stat is "(name)"; once it is cut off, utime and stime are
# fields 12 and 13.
cpu_ticks() {
  local stat
  stat=$(cat "/proc/$1/stat") || return 1
  stat=${stat##*) }
  awk '{ print $12 + $13 }' <<<"$stat"
}

# Number of processes whose parent is PID (03-fork's children).
child_count() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v parent="$1" '{ sub(/^.*\) /, ""); if ($2 == parent) n++ } END { print n + 0 }'
}

# Descriptors of PID that are sockets: the listener and the connections.
socket_count() {
  local f n=0
  for f in /proc/"$1"/fd/*; do
    if [[ $(readlink "$f" 2>/dev/null) == socket:* ]]; then n=$((n + 1)); fi
  done
  echo "$n"
}
