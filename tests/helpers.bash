# Shared by every bats file: start a server on a free port, talk to it, stop it.
#
#   start_server [ARGS...]  starts $BIN/$STAGE/server -p 0 $SERVER_ARGS ARGS, waits (10 s at most)
#                           for its URL line; sets SERVER_PID, URL (http://127.0.0.1:PORT/),
#                           PORT, SERVER_DIR (scratch dir) and SERVER_ERR (its stderr file)
#   stop_server [SIG]       sends SIG (TERM), waits 10 s at most, then KILLs;
#                           sets SERVER_STATUS to its exit status
#   raw REQUEST [SECS]      sends REQUEST (printf escapes expanded) on one connection and
#                           prints everything the server sends until it closes (5 s cap)
#   status_of RESPONSE      the status code of the first status line in RESPONSE
#
# Binaries come from $BIN (default: the repository root), so the same tests run against
# the sanitizer build (BIN=build/san). STAGE defaults to 01-iterative; SERVER_ARGS holds
# options every server of the run gets (tests/run sets --poll for 02-select's second pass).

bats_require_minimum_version 1.5.0

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${BIN:-$ROOT}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
STAGE=${STAGE:-01-iterative}
SERVER=$BIN/$STAGE/server
CLIENT=$BIN/client/client
export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-60}
# Test traffic goes straight to 127.0.0.1: never through a proxy set in the environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy='*' NO_PROXY='*'

start_server() {
  SERVER_DIR=$(mktemp -d "${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}/server.XXXXXX")
  SERVER_ERR=$SERVER_DIR/stderr
  mkfifo "$SERVER_DIR/stdout.fifo"
  # shellcheck disable=SC2086 # SERVER_ARGS is a list of options
  (cd "$ROOT" && exec "$SERVER" -p 0 ${SERVER_ARGS:-} "$@") >"$SERVER_DIR/stdout.fifo" 2>"$SERVER_ERR" 3>&- &
  SERVER_PID=$!
  local line=
  exec 4<"$SERVER_DIR/stdout.fifo"
  IFS= read -r -t 10 -u 4 line || true
  # Keep draining stdout (the exit summary) so the server never blocks on it.
  cat <&4 >"$SERVER_DIR/stdout" 3>&- &
  exec 4<&-
  URL=$(printf '%s\n' "$line" | grep -o 'http://[^ ]*/' | head -n 1)
  if [ -z "$URL" ]; then
    echo "server did not print its URL; stdout: '$line'; stderr:" >&2
    cat "$SERVER_ERR" >&2
    return 1
  fi
  PORT=${URL##*:}; PORT=${PORT%/}
  export SERVER_PID URL PORT SERVER_DIR SERVER_ERR
}

stop_server() {
  [ -n "${SERVER_PID:-}" ] || return 0
  kill -"${1:-TERM}" "$SERVER_PID" 2>/dev/null || true
  timeout 10 tail --pid="$SERVER_PID" -f /dev/null 2>/dev/null || kill -KILL "$SERVER_PID" 2>/dev/null
  SERVER_STATUS=0
  wait "$SERVER_PID" 2>/dev/null || SERVER_STATUS=$?
  SERVER_PID=
  # Under `make sanitize`, a report from ASan, UBSan or LeakSanitizer fails the suite.
  if grep -q -E 'Sanitizer|runtime error:' "$SERVER_ERR" 2>/dev/null; then
    echo "sanitizer report from the server:" >&2
    cat "$SERVER_ERR" >&2
    return 1
  fi
}

raw() {
  local request=$1 secs=${2:-5}
  printf "$request" | timeout "$secs" bash -c '
    exec 5<>"/dev/tcp/127.0.0.1/$1" || exit 1
    cat >&5
    cat <&5' raw "$PORT" 3>&- || true
}

status_of() {
  printf '%s\n' "$1" | head -n 1 | cut -d' ' -f2
}

# The browser tests (tests/browser/*.mjs: Debian's chromium driven by playwright-core).
BROWSER_DIR=$ROOT/tests/browser

# browser_missing: what the browser tests lack, as an install hint; nothing when all is there.
browser_missing() {
  if [ ! -x /usr/bin/chromium ]; then
    echo "chromium is not installed: apt-get install chromium; or run tests/browser/setup"
  elif ! command -v node >/dev/null 2>&1; then
    echo "node is not installed: apt-get install nodejs npm; or run tests/browser/setup"
  elif [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
    echo "playwright-core needs node 20 or newer, this is node $(node --version)"
  elif [ ! -f "$BROWSER_DIR/node_modules/playwright-core/package.json" ]; then
    echo "playwright-core is not installed: (cd tests/browser && npm ci); or run tests/browser/setup"
  fi
}
