#!/usr/bin/env bats
# 01-iterative: one process, one connection at a time. The lesson these tests pin down:
# a client that connects and sends nothing holds the only server until its idle timeout
# (-t 2), and everyone else waits; a slow one, until its request's deadline; one process
# serves every request.

# bats file_tags=stage:01-iterative

load helpers
load fixtures

setup_file() {
  make_docroot
  start_server -t 2 -r "$DOCROOT"
}

teardown_file() {
  stop_server
}

setup() {
  reply_files
}

teardown() {
  exec 7>&-
}

# bats test_tags=stage:01-iterative,slow-client
@test "an idle client stalls the next one until its timeout" {
  # connect() returns once the handshake is done, so this connection is queued (and
  # accepted) before curl's: no pause needed. The server closes it after 2 s.
  exec 7<>"/dev/tcp/127.0.0.1/$PORT"
  timed_get
  exec 7>&-
  [ "$ELAPSED" -ge 1500 ] || { echo "answered in $ELAPSED ms: the idle client did not stall it"; false; }
}

# bats test_tags=stage:01-iterative,slow-client
@test "an idle client that hangs up early stalls no one" {
  exec 7<>"/dev/tcp/127.0.0.1/$PORT"
  exec 7>&-
  quick_get
}

# bats test_tags=stage:01-iterative,slow-client
@test "a slow client that finishes its request is served, then the next one" {
  send_pieces 'GET /file.txt HTTP/1.1\r\n' 'Host: t\r\n' 'Connection: close\r\n' '\r\n'
  expect_status 200
  timed_get
}

# bats test_tags=stage:01-iterative,slow-client
@test "a request that stops halfway gets its 408 at the deadline, not -t after its last byte" {
  # Half a request, the next line 1.5 s later, then silence. The whole request is due
  # 2 s after the server began to wait for it; a server that gave each read() the whole
  # -t again would answer only at 3.5 s. (The pause is the stimulus: a slow client.)
  local start elapsed
  start=$(now_ms)
  timeout 8 bash -c '
    exec 5<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "GET /file.txt HTTP/1.1\r\n" >&5
    sleep 1.5
    printf "Host: t\r\n" >&5
    cat <&5' stall "$PORT" >"$RESP" 2>/dev/null 3>&- || true
  elapsed=$(($(now_ms) - start))
  split_response
  expect_status 408
  [ "$elapsed" -lt 3000 ] || { echo "the 408 came after $elapsed ms, expected about 2000 (-t 2)"; false; }
}

# bats test_tags=stage:01-iterative,process
@test "/_/info shows the same pid, the server's, for two successive requests" {
  fetch /_/info
  expect_status 200
  grep -a -q -w -e "$SERVER_PID" "$BODY" || { echo "pid $SERVER_PID not on the first page"; false; }
  fetch /_/info
  expect_status 200
  grep -a -q -w -e "$SERVER_PID" "$BODY" || { echo "pid $SERVER_PID not on the second page"; false; }
}

# bats test_tags=stage:01-iterative,process
@test "every request is logged with the server's own pid" {
  fetch '/file.txt?one'
  fetch '/file.txt?two'
  wait_for_grep "$SERVER_ERR" '"GET /file\.txt\?two HTTP/1\.1" 200 '
  local line
  for line in one two; do
    grep -a -F "GET /file.txt?$line " "$SERVER_ERR" | grep -q -w -e "pid=$SERVER_PID" ||
      { echo "request $line not logged with pid=$SERVER_PID:"; cat "$SERVER_ERR"; false; }
  done
}
