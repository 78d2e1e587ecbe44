#!/usr/bin/env bats
# 05-watch in a real browser: Debian's chromium, headless, driven by playwright-core
# (tests/browser/live-reload.mjs says what it checks). A page is open; saving the page
# reloads it, saving its stylesheet restyles it in place, without a reload. Each test
# starts its own server on a fresh document root (the browser script edits its files),
# once per watcher backend.
#
# Skipped, saying what to install, when chromium, node or playwright-core is missing:
# tests/browser/setup installs them. Only 127.0.0.1 is ever contacted.

# bats file_tags=stage:05-watch,browser

bats_require_minimum_version 1.5.0

load helpers


setup() {
  local missing
  missing=$(browser_missing)
  [ -z "$missing" ] || skip "$missing"
  LIVE_ROOT=$BATS_TEST_TMPDIR/root
  mkdir -p "$LIVE_ROOT"
  # A heading to edit, a counter that only a reload sets back to 0, a stylesheet.
  cat >"$LIVE_ROOT/page.html" <<'EOF'
<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>live reload under test</title>
<link rel="stylesheet" href="style.css">
<link rel="icon" href="data:,">
</head>
<body>
<h1 id="title">FIRST-VERSION</h1>
<p>ticks since this page loaded: <span id="ticks">0</span></p>
<div id="marker">marker</div>
<script>
  window.ticks = 0;
  setInterval(function () {
    window.ticks++;
    document.getElementById('ticks').textContent = String(window.ticks);
  }, 50);
</script>
</body>
</html>
EOF
  printf '#marker { background-color: rgb(255, 0, 0); }\n' >"$LIVE_ROOT/style.css"
}

teardown() {
  stop_server
}

# browser_check: runs the browser script against the server (45 s at most), prints its
# lines and the server's, and fails unless the script passed.
browser_check() {
  # Not run -0: the script's own lines are the evidence, shown whatever its status.
  run timeout -k 5 45 node "$BROWSER_DIR/live-reload.mjs" "$URL" "$LIVE_ROOT" 3>&-
  printf '%s\n' "$output"
  echo "--- server stderr:"
  cat "$SERVER_ERR"
  case $status in
    0) [[ $output == *"] PASS: "* ]] || { echo "exit 0, but no PASS line"; return 1; } ;;
    124 | 137) echo "the browser script was stopped after 45 s"; return 1 ;;
    *) echo "the browser script exited $status"; return 1 ;;
  esac
}

# bats test_tags=stage:05-watch,browser,inotify
@test "browser: a saved page reloads, a saved stylesheet is swapped without a reload (inotify)" {
  start_server -r "$LIVE_ROOT"
  browser_check
}

# bats test_tags=stage:05-watch,browser,poll
@test "browser: a saved page reloads, a saved stylesheet is swapped without a reload (polling)" {
  start_server -r "$LIVE_ROOT" --watch poll --interval 200
  browser_check
}

# --max-streams 1, the place taken: the page's stream is refused (503), and EventSource
# gives up on such an answer; live.js then tries again by itself, and connects once the
# place is free (tests/browser/stream-cap.mjs).
# bats test_tags=stage:05-watch,browser
@test "browser: a page refused a stream (503, --max-streams) connects once a place is free" {
  start_server -r "$LIVE_ROOT" --max-streams 1
  run timeout -k 5 45 node "$BROWSER_DIR/stream-cap.mjs" "$URL" 3>&-
  printf '%s\n' "$output"
  [ "$status" -eq 0 ] || { echo "the browser script exited $status"; cat "$SERVER_ERR"; false; }
  [[ $output == *"] PASS: "* ]] || { echo "exit 0, but no PASS line"; false; }
}
