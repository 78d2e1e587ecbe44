#!/usr/bin/env bats
# The load client (client/client) against one of our servers ($STAGE, 01-iterative by
# default), serving www/: totals, exit status, output formats and each option; and
# against a server that goes away (killed mid-run, or dropping a request on a reused
# keep-alive connection): refusals counted apart, back-off, retry once.
#
# 01-iterative serves one connection at a time, so runs with several connections queue
# up: the counts stay small. Every client run has its own `timeout` on top of the
# per-test BATS_TEST_TIMEOUT, and no test sleeps: the client's own clock (its
# "elapsed:" line) is what the timing tests check, and a test that must act mid-run
# waits (bounded) for what it can see, lines in the server's log.

# bats file_tags=client

bats_require_minimum_version 1.5.0

load helpers
load fixtures

# A test-only server (python3) that answers each path with canned bytes, to check what
# our servers never send: chunked bodies, interim 1xx, truncated or malformed responses.
# Three paths drop requests the way a server closing keep-alive connections may:
#   /drop-reused   answers a connection's first request, then closes on the next one
#                  without a byte of answer (the retry's new connection is answered)
#   /drop-later?K  answers the first request for this target (pick a new K per test),
#                  then closes on every later one, on any connection
#   /cut-reused    answers a connection's first request, then sends the next response
#                  in part and closes
# It prints its port, then serves each connection in a thread until the test ends.
CANNED_SERVER='
import socket, sys, threading
R = {
  "/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: t\r\n\r\n",
  "/to-close": b"HTTP/1.1 200 OK\r\n\r\nbody until the close",
  "/interim": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n\r\n"
              b"HTTP/1.1 204 No Content\r\n\r\n",
  "/bare-lf": b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
  "/truncated": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
  "/silent": b"",
  "/bad-status": b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
  "/bad-field": b"HTTP/1.1 200 OK\r\nNo Colon\r\nContent-Length: 0\r\n\r\n",
  "/te-and-cl": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                b"Content-Length: 5\r\n\r\n0\r\n\r\n",
  "/bad-chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  "/excess": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello, and more than it said",
}
CLOSE = ("/to-close", "/truncated", "/silent", "/bad-chunk")
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
CUT = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok"
ANSWERED = set()
def dropping(path, n):
    """The reply to the nth request on a connection for the dropping paths: None to
    close without a byte, else (bytes, close after them?); False for the other paths."""
    if path == "/drop-reused":
        return (OK, False) if n == 1 else None
    if path.startswith("/drop-later?"):
        if path in ANSWERED:
            return None
        ANSWERED.add(path)
        return (OK, False)
    if path == "/cut-reused":
        return (OK, False) if n == 1 else (CUT, True)
    return False
def serve(c):
    data = b""
    n = 0
    with c:
        while True:
            while b"\r\n\r\n" not in data:
                more = c.recv(4096)
                if not more:
                    return
                data += more
            head, data = data.split(b"\r\n\r\n", 1)
            path = head.split(b" ")[1].decode()
            n += 1
            how = dropping(path, n)
            if how is None:
                return
            if how:
                c.sendall(how[0])
                if how[1]:
                    return
                continue
            c.sendall(R.get(path, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
            if path in CLOSE:
                return
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
while True:
    threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
'

# Starts the canned server when python3 is here; sets CANNED_URL and CANNED_PID.
start_canned() {
  local dir=$BATS_FILE_TMPDIR/canned port=
  command -v python3 >/dev/null || return 0
  mkdir -p "$dir"
  mkfifo "$dir/out"
  python3 -c "$CANNED_SERVER" >"$dir/out" 2>"$dir/err" 3>&- &
  CANNED_PID=$!
  exec 5<"$dir/out"
  IFS= read -r -t 10 -u 5 port || true
  exec 5<&-
  if [ -n "$port" ]; then
    CANNED_URL=http://127.0.0.1:$port
  fi
  export CANNED_PID CANNED_URL
}

setup_file() {
  # A port where nothing listens: a server's, once it has stopped.
  start_server -q
  export DEAD_URL=$URL DEAD_PORT=$PORT
  stop_server
  start_server -q -t 2
  export FILE_SERVER_PID=$SERVER_PID
  start_canned
}

teardown_file() {
  stop_server
  if [ -n "${CANNED_PID:-}" ]; then
    kill "$CANNED_PID" 2>/dev/null || true
    wait "$CANNED_PID" 2>/dev/null || true
  fi
}

setup() {
  declare -g -A BG=()
}

teardown() {
  exec 7>&- # the idle connection of the timeout test, if a test left it open
  end_background
  if own_server_running; then
    stop_server KILL
  fi
}

# client ARGS...: runs the client, 20 s at most.
client() {
  timeout 20 "$CLIENT" "$@" 3>&-
}

# value NAME: the value on the summary line "NAME: value" of $output.
value() {
  printf '%s\n' "$output" | awk -v k="$1:" '$1 == k { print $2; exit }'
}

# expect NAME VALUE: the summary line "NAME: ..." says VALUE.
expect() {
  local got
  got=$(value "$1")
  [ "$got" = "$2" ] || { echo "expected $1: $2, got '$got' in:"; echo "$output"; false; }
}

# need_canned: skips the test without python3, fails it if the canned server is not up.
need_canned() {
  command -v python3 >/dev/null || skip "needs python3 for the canned-response server"
  [ -n "${CANNED_URL:-}" ] ||
    { echo "the canned-response server did not start:"; cat "$BATS_FILE_TMPDIR/canned/err"; false; }
}

# log_lines_at_least FILE ERE N: FILE has N lines or more matching ERE.
log_lines_at_least() {
  [ "$(grep -a -c -E -e "$2" "$1")" -ge "$3" ]
}

# at_least NAME MIN: the summary's NAME (a number, maybe with decimals) is >= MIN.
at_least() {
  local got
  got=$(value "$1")
  awk -v v="$got" -v m="$2" 'BEGIN { exit !(v != "" && v + 0 >= m + 0) }' ||
    { echo "expected $1 >= $2, got '$got' in:"; echo "$output"; false; }
}

@test "a plain run makes one request, exits 0 and says so" {
  run -0 client "${URL}index.html"
  [[ ${lines[0]} == "client: "*"GET ${URL}index.html" ]]
  expect requests 1
  expect ok 1
  expect failed 0
  expect connections 1
  at_least bytes 1
  [[ $output =~ latency\ ms:\ +min\ [0-9.]+\ .*p50\ [0-9.]+\ +p90\ [0-9.]+\ +p99\ [0-9.]+\ +max ]]
}

@test "-q prints the summary only" {
  run -0 client -q "${URL}index.html"
  [[ ${lines[0]} == "requests: "* ]]
}

@test "totals: 5 clients x 2 connections x 1 request = 10 requests on 10 connections" {
  run -0 client -q --max-clients=5 --max-conns=2 "${URL}index.html"
  expect requests 10
  expect ok 10
  expect connections 10
}

@test "--requests: 2 clients x 2 connections x 3 keep-alive requests = 12 on 4 connections" {
  run -0 client -q --max-clients=2 --max-conns=2 --requests=3 "${URL}index.html"
  expect requests 12
  expect ok 12
  expect connections 4
}

@test "--json prints one object with the documented keys" {
  run -0 client --json --max-conns=3 "${URL}index.html"
  [ "${#lines[@]}" -eq 1 ]
  if command -v python3 >/dev/null; then
    python3 -c '
import json, sys
j = json.loads(sys.argv[1])
for k in ("requests", "ok", "failed", "retried", "refused", "responses", "bytes",
          "elapsed_s", "rps", "latency_ms"):
    assert k in j, k
for k in ("min", "p50", "p90", "p99", "max"):
    assert k in j["latency_ms"], k
assert j["requests"] == 3 and j["ok"] == 3 and j["failed"] == 0, j
assert j["retried"] == 0 and j["refused"] == 0 and j["responses"] == 3, j
assert j["latency_ms"]["min"] <= j["latency_ms"]["p50"] <= j["latency_ms"]["max"], j
' "$output"
  else
    for k in requests ok failed retried refused responses bytes elapsed_s rps latency_ms \
      min p50 p90 p99 max; do
      [[ $output == *"\"$k\": "* ]] || { echo "no key $k"; false; }
    done
  fi
}

@test "a 404 makes exit 1 and is counted by status" {
  run -1 client -q --requests=3 "${URL}no-such-file"
  expect requests 3
  expect ok 0
  [[ $output == *"failed:      3  (404: 3)"* ]]
  run -1 client --json --requests=2 "${URL}no-such-file"
  [[ $output == *'"failed": 2'* && $output == *'"failed_by_status": {"404": 2}'* ]]
}

@test "several URLs are requested in turn, each response checked" {
  run -1 client -q --requests=4 "${URL}index.html" "${URL}no-such-file"
  expect requests 4
  expect ok 2
  [[ $output == *"(404: 2)"* ]]
}

@test "a refused connection sends no request: counted apart as refused, said once, exit 1" {
  # 2 clients x 2 connections x 3 requests: 12 refused, and one line on stderr from
  # the four connections of the two processes.
  run -1 --separate-stderr client -q --max-clients=2 --max-conns=2 --requests=3 "$DEAD_URL"
  expect requests 0
  expect failed 0
  expect refused 12
  expect connections 0
  expect req/s 0.0
  [ "${#stderr_lines[@]}" -eq 1 ] || { echo "expected one line on stderr:"; echo "$stderr"; false; }
  [[ $stderr == "client: the server at 127.0.0.1:$DEAD_PORT does not answer ("*"); backing off" ]] ||
    { echo "unexpected stderr: $stderr"; false; }
}

@test "without --duration, a connection refused for --timeout gives up its requests left" {
  # Tries at 0, 10, 30, 70, 150, 310 ms (the back-off): past --timeout, the 994 others
  # are counted refused at once, untried.
  run -1 client -q --requests=1000 --timeout=0.3 "$DEAD_URL"
  expect requests 0
  expect refused 1000
  at_least elapsed 0.3
  awk -v e="$(value elapsed)" 'BEGIN { exit !(e < 5) }' || { echo "ran too long:"; echo "$output"; false; }
}

@test "a server killed mid-run: refusals apart, said once, backed off; req/s counts responses" {
  local json rps elapsed ok failed refused responses
  # A server of its own, that logs each request on stderr and that SIGKILL stops whole:
  # one process, so 01-iterative when it is built (03-fork's children would serve on),
  # else the stage under test (a sanitizer run builds only some stages).
  local one=$BIN/01-iterative/server
  [ -x "$one" ] || one=$SERVER
  [ "$one" != "$BIN/03-fork/server" ] || skip "needs a server that is one process"
  SERVER=$one start_server
  # 2 processes, 1 connection each, 3 s; the server dies once it has answered 20.
  in_background run "$CLIENT" --json --duration=3 --max-clients=2 "${URL}index.html"
  wait_until 10 log_lines_at_least "$SERVER_ERR" '" 200 ' 20
  stop_server KILL
  finish run
  [ "$RC" -eq 1 ] || { echo "expected exit 1 (refused), got $RC"; false; }
  # One line on stderr, from one of the two processes, then the JSON summary.
  [ "$(grep -c -F "client: the server at 127.0.0.1:$PORT stopped answering (" <<<"$OUT")" -eq 1 ] ||
    { echo "expected the 'stopped answering' line once"; false; }
  json=$(grep -F '{"requests": ' <<<"$OUT") || { echo "no JSON summary"; false; }
  [ "$(wc -l <<<"$OUT")" -eq 2 ] || { echo "expected that line and the summary, nothing else"; false; }
  rps=$(json_num "$json" rps)
  elapsed=$(json_num "$json" elapsed_s)
  ok=$(json_num "$json" ok)
  failed=$(json_num "$json" failed)
  refused=$(json_num "$json" refused)
  responses=$(json_num "$json" responses)
  echo "rps $rps elapsed $elapsed ok $ok failed $failed refused $refused responses $responses"
  # The duration still ends the run: the back-off does not outlast it.
  awk -v e="$elapsed" 'BEGIN { exit !(e >= 3 && e < 4) }' || { echo "elapsed: $elapsed"; false; }
  [ "$ok" -ge 10 ] || { echo "expected the responses before the kill"; false; }
  [ "$responses" -eq "$ok" ] || { echo "every response was a 200: responses = ok"; false; }
  # At most one request per connection was in flight when the server died.
  [ "$failed" -le 2 ] || { echo "refusals were counted as failed requests"; false; }
  # Refused attempts: counted, but a few a second per connection (10 ms doubling to
  # 1 s), not the tight loop's tens of thousands.
  [ "$refused" -ge 1 ] || { echo "no refused attempt counted"; false; }
  [ "$refused" -lt 200 ] || { echo "$refused refused attempts: no back-off"; false; }
  # req/s is complete responses over the elapsed time, to the rounding of both.
  awk -v r="$rps" -v e="$elapsed" -v n="$responses" \
    'BEGIN { d = r * e - n; if (d < 0) d = -d; exit !(d <= 0.05 * e + 1) }' ||
    { echo "rps x elapsed_s = $(awk -v r="$rps" -v e="$elapsed" 'BEGIN { print r * e }'), responses $responses"; false; }
}

@test "a request dropped unanswered on a reused connection is sent again once: retried, ok" {
  need_canned
  # The server closes the keep-alive connection as the second request arrives (as a
  # server stopping gracefully may): the request goes again on a new connection.
  run -0 client -q --requests=2 "$CANNED_URL/drop-reused"
  expect requests 2
  expect ok 2
  expect failed 0
  expect retried 1
  expect connections 2
  run -0 client --json --requests=3 "$CANNED_URL/drop-reused"
  expect_json "$output" requests 3
  expect_json "$output" ok 3
  expect_json "$output" retried 2
  expect_json "$output" failed 0
}

@test "a retried request dropped again failed; a response cut short is not retried" {
  need_canned
  run -1 client -q --requests=2 "$CANNED_URL/drop-later?$BATS_TEST_NUMBER-$$-$RANDOM"
  expect requests 2
  expect ok 1
  expect retried 1
  expect connections 2
  [[ $output == *"failed:      1  (closed: 1)"* ]] || { echo "expected closed: 1"; false; }
  run -1 client -q --requests=2 "$CANNED_URL/cut-reused"
  expect ok 1
  expect retried 0
  expect connections 1
  [[ $output == *"failed:      1  (truncated: 1)"* ]] || { echo "expected truncated: 1"; false; }
}

@test "bad options and bad URLs exit 2 with a message" {
  local bad
  for bad in --bogus -x --max-clients=0 --max-conns=abc --requests=-1 --duration=0 \
    --timeout=1s --slow=x --hold=-1 --max-conns ftp://127.0.0.1/ http://:80/ \
    http://127.0.0.1:99999/ http://user@127.0.0.1/ 'http://127.0.0.1/a b'; do
    run -2 client "$bad"
    [[ $output == *"client: "* ]] || { echo "no message for '$bad': $output"; false; }
  done
}

@test "-h prints the usage on stdout and exits 0" {
  run -0 --separate-stderr client -h
  [[ $output == "usage: client "* && $output == *"--max-clients=N"* ]]
  [[ $output == *"N x M x R"* ]]
  [ -z "$stderr" ]
}

@test "--slow sends the request a byte at a time" {
  # About 100 bytes at 2 ms each: the response cannot be complete before 0.15 s.
  run -0 client -q --slow=2 "${URL}index.html"
  expect ok 1
  at_least elapsed 0.15
}

@test "--duration keeps sending for that long" {
  run -0 client -q --duration=1 "${URL}index.html"
  at_least elapsed 1
  at_least requests 2
  expect failed 0
  expect connections 1
}

@test "--hold keeps the connection open after its last response" {
  run -0 client -q --hold=1 "${URL}index.html"
  expect requests 1
  expect ok 1
  at_least elapsed 1
}

@test "--timeout gives up on a response that does not come" {
  [ "$STAGE" = 01-iterative ] || skip "needs a server that serves one connection at a time"
  # This idle connection holds the only server for 2 s (-t 2): the client's request
  # waits in the listen queue, unanswered, longer than its --timeout.
  exec 7<>"/dev/tcp/127.0.0.1/$PORT"
  run -1 client -q --timeout=0.3 "${URL}index.html"
  exec 7>&-
  [[ $output == *"(timeout: 1)"* ]]
}

@test "an interrupted run still prints its summary, and exits 1" {
  run -1 timeout --preserve-status -s INT 1 "$CLIENT" -q --duration=10 "${URL}index.html" 3>&-
  [[ $output == *"interrupted"* ]]
  at_least requests 1
}

@test "responses are checked: framing, interim 1xx, truncation, excess bytes, malformed heads" {
  need_canned
  local path status want
  # path          exit  what the summary must say (2 requests on each)
  while read -r path status want; do
    run -"$status" client -q --requests=2 "$CANNED_URL$path"
    [[ $output == *"$want"* ]] || { echo "$path: expected '$want' in:"; echo "$output"; false; }
  done <<'CASES'
/chunked      0  bytes:       22
/to-close     0  connections: 2
/interim      0  ok:          2
/bare-lf      0  bytes:       4
/truncated    1  (truncated: 2)
/silent       1  (closed: 2)
/bad-status   1  (bad_response: 2)
/bad-field    1  (bad_response: 2)
/te-and-cl    1  (bad_response: 2)
/bad-chunk    1  (bad_response: 2)
/excess       1  (bad_response: 2)
CASES
}
