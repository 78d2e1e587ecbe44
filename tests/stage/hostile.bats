#!/usr/bin/env bats
# Hostile clients against one stage ($STAGE): request smuggling shapes, odd request
# targets, oversized requests, resets, half-closed connections and slowloris. Each
# exchange has one expected answer (RFC 9112, the contract), and after each one the
# next client is served. conformance.bats has the single shapes already; this file
# has their variants and the other hostile shapes.
#
# One server for the whole file (-q -t 2). 01-iterative serves one connection at a
# time, so every exchange here closes its connection, and the tests that hold one open
# check there that the next client is served once the server is done with it.

# bats file_tags=hostile

load ../helpers
load ../fixtures
load ../hostile

setup_file() {
  make_docroot
  head -c "$HUGE_SIZE" /dev/urandom >"$DOCROOT/huge.bin"
  # What a smuggled request asks for: its marker in a reply means it was answered.
  printf 'SMUGGLED-MARKER\n' >"$DOCROOT/smuggled.txt"
  # Next to secret.txt, the parent of the root holds "secret" too (a name to aim at).
  printf '%s\n' "$SECRET_TEXT" >"$BATS_FILE_TMPDIR/secret"
  hostile_python
  start_server -q -t 2 -r "$DOCROOT"
}

teardown_file() {
  stop_server
}

setup() {
  reply_files
  # shellcheck disable=SC2034 # in_background's table (fixtures.bash)
  declare -g -A BG=()
}

teardown() {
  end_background
}

# A request pipelined behind a hostile one. If the server answers it, the bytes it was
# told were a body became a request: that is request smuggling.
SMUGGLED='GET /smuggled.txt HTTP/1.1\r\nHost: t\r\n\r\n'

# expect_refused CODE: the error page CODE, Connection: close, the connection closed at
# once, and nothing behind the request answered.
expect_refused() {
  expect_error_page "$1"
  expect_closing
  expect_one_response
  expect_reply_lacks SMUGGLED-MARKER
  expect_closed_at_once
}

# refused_table CODE FRAMING-HEADERS BODY...: for each BODY, a GET with those headers,
# then BODY, then $SMUGGLED, is refused with CODE.
refused_table() {
  local code=$1 headers=$2 body
  shift 2
  for body; do
    talk_req "GET /file.txt HTTP/1.1\r\nHost: t\r\n${headers}\r\n$body$SMUGGLED"
    expect_refused "$code"
  done
}

# ---------------------------------------------------------------- Content-Length

# bats test_tags=smuggling
@test "two Content-Length lines with the same value answer 400 and close" {
  refused_table 400 'Content-Length: 5\r\nContent-Length: 5\r\n' 'hello'
  next_served
}

# bats test_tags=smuggling
@test "Content-Length as a list (5, 5 and 5,5) answers 400 and closes" {
  refused_table 400 'Content-Length: 5, 5\r\n' 'hello'
  refused_table 400 'Content-Length: 5,5\r\n' 'hello'
  next_served
}

# bats test_tags=smuggling
@test "a malformed Content-Length (+5, 5x, 0x5, 20 digits) answers 400 and closes" {
  local value
  for value in +5 ' 5x' 0x5 12345678901234567890; do
    refused_table 400 "Content-Length: $value\r\n" 'hello'
  done
  next_served
}

# bats test_tags=smuggling
@test "Content-Length 005 is 5: the body is drained and the pipelined request answered" {
  talk_req 'GET /file.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 005\r\n\r\nhello'\
'GET /smuggled.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
  [ "$(all_statuses)" = "200 200" ] || { echo "statuses: '$(all_statuses)'"; false; }
  grep -a -q SMUGGLED-MARKER "$RESP" || { echo "no smuggled.txt in the second response"; false; }
  next_served
}

# 02-select once gave its input buffer back between requests while the body was still
# owed, then called memmove(NULL, NULL, 0) when it next looked at the input: undefined
# behaviour, which the sanitized build (make sanitize) stops on. The answer comes first,
# so what shows it is that the server is still there for the next client.
@test "a Content-Length body held back after the request: the answer comes and the server goes on" {
  talk_req 'GET /file.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\n'
  expect_status 200
  next_served
}

# ---------------------------------------------------------------- Transfer-Encoding

# bats test_tags=smuggling,chunked
@test "a chunked body (extensions, trailers) is read and discarded; the request behind is answered" {
  local shape method want body
  for shape in \
    'GET:200:5\r\nhello\r\n0\r\n\r\n' \
    'GET:200:5;a=b\r\nhello\r\n6;n=v;x\r\n world\r\n0;end=1\r\n\r\n' \
    'GET:200:5\r\nhello\r\n0\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n' \
    'GET:200:A\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n' \
    'POST:405:5\r\nhello\r\n0\r\n\r\n'; do
    IFS=: read -r method want body <<<"$shape"
    talk_req "$method /file.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n$body"\
'GET /smuggled.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
    [ "$(all_statuses)" = "$want 200" ] || { echo "statuses '$(all_statuses)', expected '$want 200'"; false; }
    grep -a -q SMUGGLED-MARKER "$RESP" || { echo "no smuggled.txt in the second response"; false; }
    local v
    if v=$(hdr Connection) && [ "${v,,}" = close ]; then echo "the first response closes"; false; fi
  done
  next_served
}

# bats test_tags=smuggling,chunked
@test "a malformed chunked body answers 400 and closes" {
  # a size that is not hex, no CRLF after the data, an empty size line, a signed size
  refused_table 400 'Transfer-Encoding: chunked\r\n' \
    'zz\r\nhello\r\n0\r\n\r\n' \
    '5\r\nhelloXX\r\n0\r\n\r\n' \
    '\r\nhello\r\n0\r\n\r\n' \
    '-5\r\nhello\r\n0\r\n\r\n'
  next_served
}

# bats test_tags=smuggling,chunked,limits
@test "a chunk announcing over 1 MiB answers 413 at once and closes" {
  # 100001 hex = 1 MiB + 1; none of its data is sent
  refused_table 413 'Transfer-Encoding: chunked\r\n' '100001\r\n'
  next_served
}

# bats test_tags=smuggling,chunked,limits
@test "chunks adding up to over 1 MiB answer 413 and close" {
  talk < <(
    printf 'GET /file.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n'
    for _ in $(seq 17); do # 17 x 64 KiB
      printf '10000\r\n'
      head -c 65536 /dev/zero | tr '\0' x
      printf '\r\n'
    done
    # shellcheck disable=SC2059 # SMUGGLED holds printf escapes
    printf "0\r\n\r\n$SMUGGLED")
  expect_refused 413
  next_served
}

# bats test_tags=smuggling
@test "a Transfer-Encoding whose last coding is not chunked (gzip; chunked, gzip; identity) answers 400 and closes" {
  local coding
  for coding in gzip 'chunked, gzip' identity; do
    refused_table 400 "Transfer-Encoding: $coding\r\n" '0\r\n\r\n'
  done
  next_served
}

# bats test_tags=smuggling
@test "Transfer-Encoding: gzip, chunked answers 501 and closes" {
  refused_table 501 'Transfer-Encoding: gzip, chunked\r\n' '0\r\n\r\n'
  next_served
}

# bats test_tags=smuggling
@test "Transfer-Encoding on an HTTP/1.0 request answers 400 and closes" {
  talk_req "GET /file.txt HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$SMUGGLED"
  expect_refused 400
  next_served
}

# ---------------------------------------------------------------- malformed field lines

# bats test_tags=smuggling,malformed
@test "obs-fold in Host, Content-Length and Transfer-Encoding answers 400" {
  local fields
  for fields in 'Host: t\r\n\tu\r\n' 'Host: t\r\nContent-Length:\r\n 5\r\n' \
    'Host: t\r\nContent-Length: 5\r\n\t5\r\n' 'Host: t\r\nTransfer-Encoding:\r\n\tchunked\r\n'; do
    talk_req "GET /file.txt HTTP/1.1\r\n${fields}\r\nhello$SMUGGLED"
    expect_refused 400
  done
  next_served
}

# bats test_tags=smuggling,malformed
@test "a bare CR in the request line or in a field value answers 400" {
  local request
  for request in \
    'GET /file.txt\rHTTP/1.1\r\nHost: t\r\n\r\n' \
    'GET /file.txt HTTP/1.1\rHost: t\r\n\r\n' \
    'GET /fi\rle.txt HTTP/1.1\r\nHost: t\r\n\r\n' \
    'GET /file.txt HTTP/1.1\r\nHost: t\rX: y\r\n\r\n' \
    'GET /file.txt HTTP/1.1\r\nHost: t\r\nX-Cr: a\r\r\n\r\n' \
    'GET /file.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r5\r\n\r\nhello'; do
    talk_req "$request$SMUGGLED"
    expect_refused 400
  done
  next_served
}

# bats test_tags=smuggling,malformed
@test "whitespace before the colon (Host<TAB>:, Content-Length :) answers 400" {
  local fields
  for fields in 'Host\t: t\r\n' 'Host: t\r\nContent-Length : 5\r\n' \
    'Host: t\r\nContent-Length\t: 5\r\n' 'Host: t\r\nTransfer-Encoding : chunked\r\n'; do
    talk_req "GET /file.txt HTTP/1.1\r\n${fields}\r\nhello$SMUGGLED"
    expect_refused 400
  done
  next_served
}

# bats test_tags=malformed
@test "a field line with an empty name (:value) or a space in the name answers 400" {
  local field
  for field in ':value' 'Bad Name: x'; do
    talk_req "GET /file.txt HTTP/1.1\r\nHost: t\r\n$field\r\n\r\n$SMUGGLED"
    expect_refused 400
  done
  next_served
}

# ---------------------------------------------------------------- request targets

# bats test_tags=targets
@test "absolute-form targets (https, uppercase scheme, a port, a query) serve the path" {
  local target
  for target in https://anything/file.txt HTTP://anything/file.txt \
    HtTpS://anything:1/file.txt 'http://anything/file.txt?a=1&b=2'; do
    req GET "$target"
    expect_served "$DOCROOT/file.txt"
  done
  next_served
}

# bats test_tags=targets
@test "an absolute-form target without a path serves /" {
  req GET /
  expect_status 200
  cp "$BODY" "$BATS_TEST_TMPDIR/root.html"
  req GET http://h
  expect_status 200
  expect_body_is "$BATS_TEST_TMPDIR/root.html"
  next_served
}

# bats test_tags=targets,security
@test "an absolute-form target climbing above the root answers 400 and reveals nothing" {
  local target
  for target in http://x/../secret.txt http://x/%2e%2e/secret HTTPS://x/list/../../secret.txt; do
    req GET "$target"
    expect_error_page 400
    expect_reply_lacks "$SECRET_TEXT"
  done
  next_served
}

# bats test_tags=targets,methods
@test "authority-form: CONNECT host:port answers 405 with Allow, GET host:port answers 400" {
  req CONNECT 127.0.0.1:80
  expect_error_page 405
  expect_header Allow 'GET, HEAD'
  req GET 127.0.0.1:80
  expect_error_page 400
  next_served
}

# bats test_tags=targets
@test "asterisk-form with GET or HEAD answers 400" {
  req GET '*'
  expect_error_page 400
  req HEAD '*'
  expect_status 400
  expect_closing
  expect_empty_body
  next_served
}

# bats test_tags=targets,malformed
@test "a raw control character (0x01, 0x1b, 0x7f, tab) in the target answers 400" {
  local ctl
  for ctl in '\001' '\033' '\177' '\t'; do
    req GET "/fi${ctl}le.txt"
    expect_error_page 400
  done
  next_served
}

# bats test_tags=targets
@test "invalid percent-encoding (%, %4, %g0, %0g, %%) answers 400" {
  local target
  for target in /% /%4 /%g0 /file.txt%0g '/%%' /fi%2.txt; do
    req GET "$target"
    expect_error_page 400
  done
  next_served
}

# bats test_tags=targets,security
@test "overlong UTF-8 for . and / answers 404 and reveals nothing" {
  local target
  # %c0%ae and %e0%80%ae are overlong '.', %c0%af overlong '/': bytes that name no file
  for target in /%c0%ae%c0%ae/secret /%c0%ae%c0%ae/secret.txt /%e0%80%ae%e0%80%ae/ \
    /%c0%af /%c0%ae%c0%ae%c0%afsecret.txt /list/%c0%ae%c0%ae/%c0%ae%c0%ae/secret; do
    req GET "$target"
    expect_error_page 404
    expect_reply_lacks "$SECRET_TEXT"
  done
  next_served
}

# bats test_tags=targets,security
@test "dot-segment variants climbing above the root answer 400 and reveal nothing" {
  local target
  for target in /../ /%2e%2e/ /.%2e/ /%2e./ /%2E%2e/secret /a/../../ /./../ //../ \
    /list/sub/../../../secret /..%00/ /../secret; do
    req GET "$target"
    expect_error_page 400
    expect_reply_lacks "$SECRET_TEXT"
    expect_reply_lacks secret.txt
  done
  next_served
}

# bats test_tags=targets
# "..;" is not a dot segment (RFC 3986 3.3: ";" may be part of a segment), and this
# server gives ";" no meaning: it is one more name, which no file has.
@test "/..., /..a and /..;/ are ordinary names: 404, and reveal nothing" {
  local target
  for target in /... /..a /list/.../beta.txt '/..;/' '/..;/secret'; do
    req GET "$target"
    expect_error_page 404
    expect_reply_lacks "$SECRET_TEXT"
  done
  next_served
}

# ---------------------------------------------------------------- sizes

# bats test_tags=limits
@test "10,000 tiny header fields (50 KB) answer 431 and close" {
  talk < <(
    printf 'GET /file.txt HTTP/1.1\r\nHost: t\r\n'
    yes 'a:b' | head -n 10000 | sed 's/$/\r/'
    # shellcheck disable=SC2059 # SMUGGLED holds printf escapes
    printf "\r\n$SMUGGLED")
  expect_refused 431
  next_served
}

# bats test_tags=limits
@test "a 1 MB request line answers 414 at once, which the client receives, and closes" {
  talk < <(
    printf 'GET /'
    head -c 1048576 /dev/zero | tr '\0' a
    printf ' HTTP/1.1\r\nHost: t\r\n\r\n')
  expect_error_page 414
  # The server closes in stages (RFC 9112 9.6): it stops sending, then drops what the
  # client still sends, so neither our send() nor the 414 is cut by a reset.
  expect_closed_at_once
  next_served
}

# ---------------------------------------------------------------- half-closed connections

# bats test_tags=connections
@test "a request then shutdown(SHUT_WR): the whole response arrives, then the server closes" {
  talk_req 'GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n' --shut
  expect_served "$DOCROOT/big.bin"
  [ "$(talk_field end)" = eof ] || { echo "the connection ended by '$(talk_field end)', expected eof"; false; }
  expect_closed_at_once
  next_served
}

# bats test_tags=connections
@test "three pipelined requests then shutdown(SHUT_WR): all three answered in order, then close" {
  talk_req 'GET /smuggled.txt HTTP/1.1\r\nHost: t\r\n\r\n'\
'GET /notes.txt HTTP/1.1\r\nHost: t\r\n\r\n'\
'GET /README HTTP/1.1\r\nHost: t\r\n\r\n' --shut
  [ "$(all_statuses)" = "200 200 200" ] || { echo "statuses: '$(all_statuses)'"; false; }
  local order
  order=$(grep -a -o -E 'SMUGGLED-MARKER|TXT-MARKER|NOEXT-MARKER' "$RESP" | tr '\n' ' ')
  [ "$order" = 'SMUGGLED-MARKER TXT-MARKER NOEXT-MARKER ' ] || { echo "bodies in order: $order"; false; }
  [ "$(talk_field end)" = eof ] || { echo "the connection ended by '$(talk_field end)', expected eof"; false; }
  expect_closed_at_once
  next_served
}

# ---------------------------------------------------------------- resets and slow clients

# bats test_tags=connections
@test "clients that reset mid-response (RST) are let go; a download beside them completes" {
  base_fds
  if [ "$STAGE" != 01-iterative ]; then # beside them: 01 would serve it before or after
    in_background big curl -sS --noproxy '*' --limit-rate 16M --max-time 30 \
      -o "$BATS_TEST_TMPDIR/huge.copy" -w '%{http_code}' "${URL}huge.bin"
  fi
  # reset before reading anything, after 4 KiB, 64 KiB and 1 MiB of huge.bin
  run -0 hostile reset "$PORT" "$BATS_TEST_TMPDIR/reset.reply" /huge.bin 0 4 64 1024
  echo "$output"
  [ "$(grep -c '^reset after' <<<"$output")" = 4 ] || { echo "expected 4 resets"; false; }
  if [ "$STAGE" != 01-iterative ]; then
    running big # the resets happened while it downloaded
    finish big
    [ "$OUT" = 200 ] || { echo "the download beside answered '$OUT'"; false; }
    cmp "$DOCROOT/huge.bin" "$BATS_TEST_TMPDIR/huge.copy" || { echo "the download beside is not huge.bin"; false; }
  fi
  wait_until 5 server_holds_no_client ||
    { echo "sockets $(socket_count "$SERVER_PID"), descriptors $(fd_count "$SERVER_PID") (base $BASE_FDS), children $(child_count "$SERVER_PID")"; false; }
  next_served
}

# bats test_tags=slowloris
@test "a request sent a byte every 0.3 s answers 408 and closes at the 2 s deadline; others are served meanwhile" {
  # 70 bytes at 0.3 s each would take 21 s: each byte must not restart the clock
  printf 'GET /file.txt HTTP/1.1\r\nHost: t\r\nX-Slow: %s\r\n\r\n' "$(printf 'x%.0s' $(seq 30))" \
    >"$BATS_TEST_TMPDIR/slow.req"
  in_background trickle "$HOSTILE_PYTHON" -S -c "$HOSTILE_PY" trickle "$PORT" "$RESP" 0.3 "$BATS_TEST_TMPDIR/slow.req"
  wait_for_grep "$BATS_TEST_TMPDIR/trickle.out" '^connected' 5
  served_meanwhile trickle
  finish trickle
  [ "$RC" = 0 ] || { echo "the trickling client failed"; false; }
  local summary first
  summary=$(tail -n 1 <<<"$OUT")
  split_response
  expect_error_page 408
  expect_closing
  [ "$(talk_field end "$summary")" = eof ] || { echo "the connection did not close: $summary"; false; }
  first=$(talk_field first_ms "$summary")
  [ "$first" -ge 1500 ] && [ "$first" -le 4000 ] ||
    { echo "the 408 came after $first ms, expected about 2000 (the -t 2 deadline)"; false; }
  next_served
}

# bats test_tags=slowloris
@test "a client reading a large response a byte every 0.3 s is dropped at the write deadline; others are served meanwhile" {
  base_fds
  local stop=$BATS_TEST_TMPDIR/stop start elapsed got
  # Once the buffers are full the client takes nothing more: the server must let go of
  # it -t seconds (2) after its last progress, as 02 does with a socket that has not
  # been writable that long. (SO_SNDTIMEO alone is not that: it bounds each wait inside
  # a send, and one sendfile() of a big file waits more than once.)
  in_background slow "$HOSTILE_PYTHON" -S -c "$HOSTILE_PY" slowread "$PORT" "$BATS_TEST_TMPDIR/slow.reply" /huge.bin 0.3 "$stop"
  wait_for_grep "$BATS_TEST_TMPDIR/slow.out" '^reading slowly' 5
  start=$(now_ms)
  served_meanwhile slow
  wait_until 10 server_holds_no_client ||
    { echo "sockets $(socket_count "$SERVER_PID"), descriptors $(fd_count "$SERVER_PID") (base $BASE_FDS), children $(child_count "$SERVER_PID")"; false; }
  elapsed=$(($(now_ms) - start))
  touch "$stop"
  finish slow
  echo "the server let go of the slow reader after $elapsed ms"
  [ "$elapsed" -le 4000 ] || { echo "expected 2000 ms (-t 2), 4000 at most"; false; }
  got=$(talk_field got "$(tail -n 1 <<<"$OUT")")
  [ "$(talk_field end "$(tail -n 1 <<<"$OUT")")" = eof ] || { echo "the slow reader's connection did not end in eof"; false; }
  [ "$got" -lt "$HUGE_SIZE" ] || { echo "the slow reader got all $got bytes: the server waited for it"; false; }
  next_served
}
