#!/usr/bin/env bats
# The command line of one stage ($STAGE): options, start-up errors, what it prints (URL,
# per-request lines, access log, exit summary), error pages from -e, signals.
#
# The file's server is not quiet and logs to a file; tests that need other options start
# their own server and stop it before they end (teardown() stops it if a test failed).

# bats file_tags=cli

load ../helpers
load ../fixtures

setup_file() {
  make_docroot
  export ACCESS_LOG=$BATS_FILE_TMPDIR/access.log
  start_server -t 2 -r "$DOCROOT" -e "$ERRDIR" -l "$ACCESS_LOG"
  export FILE_SERVER_PID=$SERVER_PID
}

teardown_file() {
  stop_server
}

setup() {
  reply_files
}

teardown() {
  if [ -n "${SERVER_PID:-}" ] && [ "$SERVER_PID" != "$FILE_SERVER_PID" ]; then
    stop_server
  fi
  if [ -n "${BARE_PID:-}" ]; then
    kill "$BARE_PID" 2>/dev/null || true
    wait "$BARE_PID" 2>/dev/null || true
  fi
}

# launch_bare ARGS...: starts $SERVER with exactly ARGS (no -p 0 added), waits 10 s at
# most for its first stdout line; sets BARE_PID, BARE_LINE, BARE_DIR.
launch_bare() {
  BARE_DIR=$(mktemp -d "$BATS_TEST_TMPDIR/bare.XXXXXX")
  mkfifo "$BARE_DIR/stdout.fifo"
  (cd "$ROOT" && exec "$SERVER" "$@") >"$BARE_DIR/stdout.fifo" 2>"$BARE_DIR/stderr" 3>&- &
  BARE_PID=$!
  exec 6<"$BARE_DIR/stdout.fifo"
  BARE_LINE=
  IFS= read -r -t 10 -u 6 BARE_LINE || true
  cat <&6 >"$BARE_DIR/stdout" 3>&- &
  exec 6<&-
  echo "started: $SERVER $*; first line: '$BARE_LINE'"
}

# run_server STATUS ARGS...: runs $SERVER with ARGS to completion (5 s cap: a server that
# starts when it should refuse fails the test with status 124) into $status, $output,
# $stderr, and fails unless it exited with STATUS.
run_server() {
  local want=$1
  shift
  run --separate-stderr timeout 5 "$SERVER" "$@"
  printf 'ran: %s %s\nstatus %s\nstdout: %s\nstderr: %s\n' "$SERVER" "$*" "$status" "$output" "$stderr"
  [ "$status" -eq "$want" ] || { echo "expected exit $want, got $status"; return 1; }
}

# A usage error: exit 2 and exactly one line on stderr.
expect_usage_error() {
  run_server 2 "$@"
  [ "${#stderr_lines[@]}" -eq 1 ] || { echo "expected one line on stderr, got ${#stderr_lines[@]}"; return 1; }
}

# ---------------------------------------------------------------- start-up

# bats test_tags=startup
@test "the server prints its URL http://127.0.0.1:PORT/ with the real port" {
  [[ $URL =~ ^http://127\.0\.0\.1:[0-9]+/$ ]] || { echo "URL '$URL'"; false; }
  [ "$PORT" -gt 0 ]
  fetch /file.txt
  expect_status 200
}

# bats test_tags=startup
@test "long options --port --root --timeout --quiet work" {
  launch_bare --port 0 --root "$DOCROOT" --timeout 2 --quiet
  URL=$(printf '%s\n' "$BARE_LINE" | grep -o 'http://[^ ]*/' | head -n 1)
  [ -n "$URL" ]
  fetch /file.txt
  expect_status 200
  expect_body_is "$DOCROOT/file.txt"
}

# bats test_tags=startup
@test "a bare PORT argument works like -p" {
  launch_bare -r "$DOCROOT" -q 0
  local port
  port=$(printf '%s\n' "$BARE_LINE" | grep -o -E 'http://[^ ]*:[0-9]+/' | head -n 1 | grep -o -E '[0-9]+/$' | tr -d /)
  [ -n "$port" ] && [ "$port" -ne 0 ] && [ "$port" -ne 8080 ] ||
    { echo "port '$port' (0 given as PORT: expected a free port, not 0 or the default 8080)"; false; }
  URL=http://127.0.0.1:$port/
  fetch /file.txt
  expect_status 200
}

# bats test_tags=startup
@test "-b 127.0.0.1 binds that address" {
  start_server -q -t 2 -r "$DOCROOT" -b 127.0.0.1
  [[ $URL == http://127.0.0.1:* ]]
  fetch /file.txt
  expect_status 200
}

# bats test_tags=startup
@test "-b ::1 binds the IPv6 loopback, shown in brackets" {
  grep -q ' lo$' /proc/net/if_inet6 2>/dev/null || skip "no IPv6 on the loopback here"
  start_server -q -t 2 -r "$DOCROOT" -b ::1
  [[ $URL == http://\[::1\]:* ]] || { echo "URL '$URL'"; false; }
  run -0 curl -sS --noproxy '*' --max-time 5 -o /dev/null -w '%{http_code}' "${URL}file.txt"
  [ "$output" = 200 ] || { echo "curl: $output"; false; }
}

# bats test_tags=startup
@test "-h and --help print usage on stdout and exit 0" {
  local opt
  for opt in -h --help; do
    run_server 0 "$opt"
    [[ $output == *--port* ]] || { echo "$opt: no --port in the usage"; false; }
  done
}

# bats test_tags=startup
@test "--version prints staged-httpd and exits 0" {
  run_server 0 --version
  [[ $output == *staged-httpd* ]]
}

# ---------------------------------------------------------------- usage errors

# bats test_tags=startup,errors
@test "an unknown option exits 2 with one line on stderr" {
  expect_usage_error -p 0 -r "$DOCROOT" --bogus
  expect_usage_error -p 0 -r "$DOCROOT" -Z
}

# bats test_tags=startup,errors
@test "an option given a value it does not take exits 2 naming the option" {
  expect_usage_error -p 0 -r "$DOCROOT" --quiet=1
  [[ $stderr == *"'--quiet' takes no value"* ]] || { echo "expected the option named"; false; }
  expect_usage_error -p 0 -r "$DOCROOT" --version=x
  [[ $stderr == *"'--version' takes no value"* ]] || { echo "expected the option named"; false; }
}

# bats test_tags=startup,errors
@test "a port that is not a number exits 2" {
  expect_usage_error -p abc -r "$DOCROOT"
}

# bats test_tags=startup,errors
@test "a port over 65535 exits 2" {
  expect_usage_error -p 70000 -r "$DOCROOT"
}

# bats test_tags=startup,errors
@test "a bind address that is not numeric exits 2" {
  expect_usage_error -p 0 -r "$DOCROOT" -b localhost
  expect_usage_error -p 0 -r "$DOCROOT" -b 127.0.0.256
}

# bats test_tags=startup,errors
@test "a timeout that is not a number exits 2" {
  expect_usage_error -p 0 -r "$DOCROOT" -t x
}

# bats test_tags=startup,errors
@test "an option missing its value exits 2" {
  expect_usage_error -r "$DOCROOT" -p
}

# bats test_tags=startup,errors
@test "an extra argument exits 2" {
  expect_usage_error -r "$DOCROOT" 0 extra
}

# bats test_tags=startup,errors
@test "a missing root exits 1 naming the path" {
  run_server 1 -p 0 -r "$BATS_FILE_TMPDIR/no-such-root"
  [[ $stderr == *"$BATS_FILE_TMPDIR/no-such-root"* ]]
}

# bats test_tags=startup,errors
@test "a root that is not a directory exits 1 naming the path" {
  run_server 1 -p 0 -r "$DOCROOT/file.txt"
  [[ $stderr == *"$DOCROOT/file.txt"* ]]
}

# bats test_tags=startup,errors
@test "a port already in use exits 1 with a message" {
  run_server 1 -p "$PORT" -r "$DOCROOT"
  [ -n "$stderr" ]
  still_serving
}

# ---------------------------------------------------------------- what it prints

# bats test_tags=logging
@test "each request prints a line on stderr: request line, status, pid" {
  fetch '/file.txt?stderr-line'
  expect_status 200
  wait_for_grep "$SERVER_ERR" '"GET /file\.txt\?stderr-line HTTP/1\.1" 200 '
  grep -a -E '"GET /file\.txt\?stderr-line HTTP/1\.1" 200 ' "$SERVER_ERR" | grep -q 'pid=' ||
    { echo "no pid= on the line:"; cat "$SERVER_ERR"; false; }
}

# bats test_tags=logging
@test "an error is logged with its status too" {
  fetch /stderr-missing.txt
  expect_status 404
  wait_for_grep "$SERVER_ERR" '"GET /stderr-missing\.txt HTTP/1\.1" 404 '
}

# bats test_tags=logging
@test "-q prints no per-request lines" {
  start_server -q -t 2 -r "$DOCROOT"
  fetch /file.txt
  expect_status 200
  stop_server
  if grep -a -q 'GET /file.txt' "$SERVER_ERR"; then
    echo "stderr of a -q server:"; cat "$SERVER_ERR"; false
  fi
}

# bats test_tags=logging
@test "-l appends a combined log format line" {
  fetch '/file.txt?combined' -A 'bats-agent/1.0'
  expect_status 200
  wait_for_grep "$ACCESS_LOG" 'GET /file\.txt\?combined '
  local line
  line=$(grep -a -F 'GET /file.txt?combined ' "$ACCESS_LOG" | tail -n 1)
  echo "log line: $line"
  [[ $line =~ ^127\.0\.0\.1\ -\ -\ \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2}\ [+-][0-9]{4}\]\ \"GET\ /file\.txt\?combined\ HTTP/1\.1\"\ 200\ 1024\ \"-\"\ \"bats-agent/1\.0\"$ ]]
}

# bats test_tags=logging
@test "-l with strftime conversions names the file by date" {
  start_server -q -t 2 -r "$DOCROOT" -l "$BATS_TEST_TMPDIR/access-%Y.log"
  fetch /file.txt
  expect_status 200
  wait_for_grep "$BATS_TEST_TMPDIR/access-$(date +%Y).log" 'GET /file\.txt '
  [ ! -e "$BATS_TEST_TMPDIR/access-%Y.log" ]
}

# bats test_tags=signals
@test "SIGTERM: exit 0 and a summary line with requests and cpu" {
  start_server -q -t 2 -r "$DOCROOT"
  fetch /file.txt
  expect_status 200
  stop_server TERM
  [ "$SERVER_STATUS" -eq 0 ] || { echo "exit status $SERVER_STATUS"; false; }
  wait_for_grep "$SERVER_DIR/stdout" '^summary:'
  grep -a '^summary:' "$SERVER_DIR/stdout" | grep -i requests | grep -q -i cpu ||
    { echo "summary:"; cat "$SERVER_DIR/stdout"; false; }
}

# bats test_tags=signals
@test "SIGINT: exit 0 and a summary line" {
  start_server -q -t 2 -r "$DOCROOT"
  fetch /file.txt
  stop_server INT
  [ "$SERVER_STATUS" -eq 0 ] || { echo "exit status $SERVER_STATUS"; false; }
  wait_for_grep "$SERVER_DIR/stdout" '^summary:'
}

# ---------------------------------------------------------------- error pages

# bats test_tags=errors
@test "-e DIR: a 404 answers DIR/404.html" {
  req GET /no-such-file.txt
  expect_status 404
  expect_header_match Content-Type '^text/html'
  expect_length_matches_body
  expect_html_is "$ERRDIR/404.html"
}

# bats test_tags=errors
@test "-e DIR: a status without DIR/NNN.html answers the built-in page" {
  req DELETE /file.txt
  expect_error_page 405
  expect_header Allow 'GET, HEAD'
  if grep -q CUSTOM-404-MARKER "$BODY"; then echo "the 405 used 404.html"; false; fi
}
