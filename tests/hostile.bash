# Helpers of tests/stage/hostile.bats (loaded after helpers.bash and fixtures.bash): a
# small python3 client for what bash's /dev/tcp cannot do (half-close, reset, reading
# or writing one byte at a time), and the check that follows every hostile exchange.
#
#   talk [--shut]          sends stdin on one connection, reads the reply (until the server
#                          closes, 5 s at most) into $RESP, split like send(); $TALK says
#                          how it went: "sent=N got=N end=eof|reset|timeout ms=N"
#   talk_req REQUEST [--shut]   the same with REQUEST (printf escapes, `%` literal)
#   expect_closed_at_once  the server closed the connection of that exchange within 1.5 s,
#                          cleanly: a FIN (eof), not a reset, and the request went out whole
#   expect_one_response    exactly one response came (nothing pipelined behind it was answered)
#   next_served            a new client's GET /file.txt answers 200 with the file's bytes
#   served_meanwhile NAME  the next client is served while the background client NAME is
#                          connected (01-iterative: as soon as the server is done with NAME)
#   base_fds               (before a test's clients) waits until the server holds no client,
#                          then notes its descriptor count in BASE_FDS
#   server_holds_no_client no client socket, no 03 child, and no more descriptors than BASE_FDS
#   hostile MODE ARGS...   runs the python3 client (below) with a 15 s cap
#   hostile_python         (in setup_file) finds the python3 interpreter once

# The client. Modes (PORT first, then OUT, the file that receives the reply):
#   send PORT OUT [--shut]    stdin is the request; optionally shutdown(SHUT_WR) after it
#   trickle PORT OUT SECS REQUEST-FILE   the request, sent one byte every SECS seconds
#                             until the server answers; prints first_ms, when the answer began
#   slowread PORT OUT PATH SECS STOP   GET PATH with a small receive buffer (so that most of
#                             the file cannot wait in the client's kernel), read 1 KiB, print
#                             "reading slowly", then one byte every SECS seconds until the
#                             file STOP exists (20 s at most); then read the rest at full speed
#   reset PORT OUT PATH KIB...   for each KIB: GET PATH, read KIB KiB of the reply, close with
#                             SO_LINGER 0 (the kernel sends RST instead of FIN)
# Every mode prints "connected" once connected, then one summary line.
HOSTILE_PY='
import os, socket, struct, sys, time

def connect(port, rcvbuf=0):
    s = socket.socket()
    if rcvbuf:  # before connect(): the window is agreed on at the handshake
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    print("connected", flush=True)
    return s

def read_all(s, out, secs):
    """Read until the server closes (eof), resets, or secs pass; return how it ended."""
    limit = time.monotonic() + secs
    while True:
        left = limit - time.monotonic()
        if left <= 0:
            return "timeout"
        s.settimeout(left)
        try:
            b = s.recv(65536)
        except socket.timeout:
            return "timeout"
        except ConnectionResetError:
            return "reset"
        if not b:
            return "eof"
        out.write(b)
        out.flush()

def send(port, out, shut=False):
    data = sys.stdin.buffer.read()
    start = time.monotonic()
    s = connect(port)
    note = ""
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
    except OSError as e:  # the server may answer and close before reading it all
        note = " send-error=" + (e.strerror or str(e)).replace(" ", "-")
    end = read_all(s, out, 5)
    ms = int((time.monotonic() - start) * 1000)
    print("sent=%d got=%d end=%s ms=%d%s" % (len(data), out.tell(), end, ms, note))

def trickle(port, out, secs, request):
    with open(request, "rb") as f:  # a file: a background job has no stdin
        data = f.read()
    start = time.monotonic()
    s = connect(port)
    sent = 0
    for i in range(len(data)):
        s.settimeout(secs)
        try:
            b = s.recv(65536, socket.MSG_PEEK)  # the stimulus: a pause, cut short by an answer
            break
        except socket.timeout:
            pass
        except OSError:
            break
        try:
            s.send(data[i:i + 1])
            sent += 1
        except OSError:
            break
    first = int((time.monotonic() - start) * 1000)
    end = read_all(s, out, 5)
    ms = int((time.monotonic() - start) * 1000)
    print("sent=%d got=%d end=%s first_ms=%d ms=%d" % (sent, out.tell(), end, first, ms))

def slowread(port, out, path, secs, stop):
    s = connect(port, 16384)
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    got = 0
    while got < 1024:
        b = s.recv(1024 - got)
        if not b:
            break
        got += len(b)
    print("reading slowly", flush=True)
    limit = time.monotonic() + 20
    while not os.path.exists(stop) and time.monotonic() < limit:
        if not s.recv(1):
            break
        got += 1
        time.sleep(secs)  # the stimulus: a client that reads one byte at a time
    end = read_all(s, out, 10)
    print("got=%d end=%s" % (got + out.tell(), end))

def reset(port, out, path, kibs):
    for kib in kibs:
        s = connect(port)
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n\r\n")
        got = 0
        while got < kib * 1024:
            b = s.recv(min(65536, kib * 1024 - got))
            if not b:
                break
            got += len(b)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        print("reset after %d bytes" % got, flush=True)

mode, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
args = sys.argv[4:]
with open(name, "wb") as out:
    if mode == "send":
        send(port, out, args == ["--shut"])
    elif mode == "trickle":
        trickle(port, out, float(args[0]), args[1])
    elif mode == "slowread":
        slowread(port, out, args[0], float(args[1]), args[2])
    elif mode == "reset":
        reset(port, out, args[0], [int(a) for a in args[1:]])
'

# The python3 to run: pyenv's shim, if that is what python3 is, costs a shell and 0.2 s
# per start; setup_file() puts the interpreter itself in HOSTILE_PYTHON. -S: no site
# packages to look for, the client uses the standard library only.
hostile_python() {
  HOSTILE_PYTHON=$(python3 -c 'import sys; print(sys.executable)')
  export HOSTILE_PYTHON
}

hostile() {
  timeout 15 "${HOSTILE_PYTHON:-python3}" -S -c "$HOSTILE_PY" "$@" 3>&-
}

talk() {
  local rc=0
  TALK=$(hostile send "$PORT" "$RESP" "$@") || rc=$?
  TALK=${TALK#connected$'\n'}
  printf -- '--- %s (exit %s)\n' "$TALK" "$rc"
  split_response
}

talk_req() {
  local pct=%
  printf -- '--- request: %s\n' "${1:0:300}"
  # shellcheck disable=SC2059 # the request holds printf escapes on purpose
  talk "${@:2}" < <(printf -- "${1//"$pct"/%%}")
}

# The value of KEY=... in $TALK (or in the line given).
talk_field() {
  local line=${2:-$TALK} re=" $1=([^ ]*) "
  [[ " $line " =~ $re ]] && printf '%s\n' "${BASH_REMATCH[1]}"
}

expect_closed_at_once() {
  local end ms
  end=$(talk_field end) ms=$(talk_field ms)
  [ "$end" = eof ] || { echo "the connection ended by '$end', expected the server's close (eof)"; return 1; }
  [ "$ms" -lt 1500 ] || { echo "the connection closed only after $ms ms"; return 1; }
  [[ $TALK != *send-error* ]] || { echo "the client's send() failed: $TALK"; return 1; }
}

expect_one_response() {
  [ "$(count_responses)" = 1 ] ||
    { echo "$(count_responses) responses ($(all_statuses)), expected 1 then close"; return 1; }
}

next_served() {
  local code body=$BATS_TEST_TMPDIR/next.body
  code=$(curl -sS --max-time "${1:-5}" -o "$body" -w '%{http_code}' "${URL}file.txt") || true
  [ "$code" = 200 ] || { echo "the next client's GET /file.txt answered '$code', expected 200"; return 1; }
  cmp -s "$DOCROOT/file.txt" "$body" || { echo "the next client's body differs from file.txt"; return 1; }
}

served_meanwhile() {
  if [ "$STAGE" = 01-iterative ]; then
    # One connection at a time: this client waits in the listen queue until the server
    # is done with NAME (within its deadline), then it must be served.
    next_served 10
  else
    next_served
    running "$1" || { echo "(the next client must be served while '$1' is still connected)"; return 1; }
  fi
}

# base_fds: once the server holds no client (only its listening socket, and for 03 no
# child), its descriptor count goes to BASE_FDS: what server_holds_no_client compares with.
base_fds() {
  wait_until 5 no_client_socket || return 1
  BASE_FDS=$(fd_count "$SERVER_PID")
  echo "the server holds $BASE_FDS descriptors with no client"
}

no_client_socket() {
  [ "$(socket_count "$SERVER_PID")" -le 1 ] && [ "$(child_count "$SERVER_PID")" -eq 0 ]
}

server_holds_no_client() {
  no_client_socket && [ "$(fd_count "$SERVER_PID")" -le "$BASE_FDS" ]
}
