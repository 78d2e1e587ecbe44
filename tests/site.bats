#!/usr/bin/env bats
# The sample site, www/, as a whole, served by one stage ($STAGE): a mirror of it
# (wget -r) succeeds and copies every file, the home page keeps its redirect and error
# demos, and every page has the footer that www/footer.js fills from /_/info.json (in a
# real browser too, when chromium is installed). /_/info.json itself is checked on
# every stage, in tests/stage/conformance.bats.

# bats file_tags=site

load helpers
load fixtures

# What 05-watch puts into every HTML page it sends (05-watch/live.c): a mirror made
# from 05 has it in each page, and only that differs from the file.
LIVE_TAG='<script src="/_/live.js"></script>'

setup_file() {
  start_server -q -t 2 -r "$ROOT/www"
}

teardown_file() {
  stop_server
}

setup() {
  reply_files
}

# www/'s HTML pages, relative to www/, one a line.
site_pages() {
  (cd "$ROOT/www" && find . -name '*.html' -type f -printf '%P\n' | sort)
}

# expect_copy NAME: the mirror's NAME is www/NAME, byte for byte (an HTML page from
# 05-watch without its script tag).
expect_copy() {
  local copy=$MIRROR/$1 file=$ROOT/www/$1
  [ -f "$copy" ] || { echo "the mirror has no $1"; return 1; }
  if [ "$STAGE" = 05-watch ] && [[ $1 == *.html ]]; then
    [ "$(grep -a -o -F -e "$LIVE_TAG" "$copy" | wc -l)" -eq 1 ] || { echo "$1: not one script tag of 05"; return 1; }
    sed "s#$LIVE_TAG##" "$copy" | cmp - "$file" || { echo "$1 differs from www/$1"; return 1; }
  else
    cmp "$copy" "$file" || { echo "$1 differs from www/$1"; return 1; }
  fi
}

# demo_links CLASS: the targets of the home page's demo links of that class.
demo_links() {
  grep -o "<li class=\"$1\"><a href=\"[^\"]*\"" "$ROOT/www/index.html" | sed 's/.*href="//; s/"$//'
}

@test "wget -r of www/ exits 0 with a copy of every file, and the home page keeps its 301 and 404 demos" {
  command -v wget >/dev/null || { echo "wget is not installed: tests/ensure-deps installs it"; false; }
  MIRROR=$BATS_TEST_TMPDIR/mirror
  mkdir "$MIRROR"
  run timeout 60 wget -r -np -nv -nH --tries=1 --timeout=5 -P "$MIRROR" "$URL"
  printf '%s\n' "$output"
  [ "$status" -eq 0 ] || { echo "wget -r exited $status"; false; }
  local name n=0
  while IFS= read -r name; do
    expect_copy "$name"
    n=$((n + 1))
  done < <(cd "$ROOT/www" && find . -type f -printf '%P\n' | sort)
  [ "$n" -ge 20 ] || { echo "only $n files in www/"; false; }

  # The redirect demo: a directory without its slash, 301 to the same with the slash.
  local target path query got
  target=$(demo_links status-3xx)
  [ -n "$target" ] || { echo "the home page has no redirect demo"; false; }
  path=${target%%\?*} query=${target#"$path"}
  [ -d "$ROOT/www$path" ] || { echo "the redirect demo $target is no directory of www/"; false; }
  fetch "$target"
  expect_status 301
  expect_header Location "$path/$query"
  # The error demos: each answers a 4xx.
  got=0
  for target in $(demo_links status-4xx); do
    fetch "$target"
    [[ $STATUS == 4[0-9][0-9] ]] || { echo "the error demo $target answered '$STATUS'"; false; }
    got=$((got + 1))
  done
  [ "$got" -ge 1 ] || { echo "the home page has no error demo"; false; }
}

@test "every HTML page of www/ loads footer.js and has the line it fills" {
  local page n=0
  while IFS= read -r page; do
    grep -q -F -e '<script src="/footer.js" defer></script>' "$ROOT/www/$page" ||
      { echo "$page does not load /footer.js"; false; }
    grep -q -F -e '<p id="visitor">' "$ROOT/www/$page" || { echo "$page has no footer line #visitor"; false; }
    n=$((n + 1))
  done < <(site_pages)
  [ "$n" -ge 3 ] || { echo "only $n HTML pages in www/"; false; }
}

@test "footer.js fetches /_/info.json and writes what it got as text, never as HTML" {
  local js=$ROOT/www/footer.js
  [ -f "$js" ] || { echo "there is no www/footer.js"; false; }
  grep -q -F -e "fetch('/_/info.json'" "$js" || { echo "footer.js does not fetch /_/info.json"; false; }
  grep -q -F -e '.textContent = ' "$js" || { echo "footer.js does not set textContent"; false; }
  if grep -n -E -e 'innerHTML|outerHTML|insertAdjacentHTML|document\.write' "$js"; then
    echo "footer.js writes HTML"
    false
  fi
}

@test "in a real browser (headless chromium) each page's footer names the browser, the stage and the process" {
  [ -x /usr/bin/chromium ] || skip "chromium is not installed: apt-get install chromium; or run tests/browser/setup"
  [ "$STAGE" != 05-watch ] || skip "05-watch's event stream never ends: chromium --dump-dom would wait for it"
  local page line
  while IFS= read -r page; do
    page=${page%index.html}
    # --virtual-time-budget: the DOM is dumped once the page's scripts and their
    # requests are done (5 s of the page's time at most). No proxy, no name resolves.
    run timeout -k 5 30 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
      --no-proxy-server --proxy-bypass-list='*' --host-resolver-rules='MAP * ~NOTFOUND, EXCLUDE 127.0.0.1' \
      --user-data-dir="$BATS_TEST_TMPDIR/profile" --virtual-time-budget=5000 --dump-dom "$URL$page" </dev/null
    [ "$status" -eq 0 ] || { printf '%s\n' "$output"; echo "chromium exited $status on /$page"; false; }
    line=$(grep -o '<p id="visitor">[^<]*</p>' <<<"$output") || { echo "/$page: no footer line"; false; }
    echo "/$page: $line"
    [[ $line =~ \>You:\ [A-Za-z]+\ on\ Linux,\ 127\.0\.0\.1\ ·\ served\ by\ $STAGE,\ pid=[0-9]+ ]] ||
      { echo "/$page: the footer was not filled as expected"; false; }
  done < <(site_pages)
}
