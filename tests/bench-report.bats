#!/usr/bin/env bats
# tests/bench-report: the benchmark's TSV turned into one HTML page with SVG charts.
# No benchmark runs here (speed is never a test): every test draws the report of a
# fixture, tests/bench-report.tsv, a made-up run of three rounds with every scenario,
# our stages with their variants (02-epoll, 04-pool) and four peers.
#
# The first tests read the HTML as text: the medians and spreads it prints, what a run
# without some scenario gives, the errors. Then the page is opened in a real browser:
# Debian's chromium, headless, driven by playwright-core (tests/browser/bench-report.mjs
# says what it checks: charts with a box, axes, ticks, units and legend, data drawn in
# colour, a screenshot that is not blank, nothing fetched). Last, the same browser
# script on pages broken on purpose, one way each: every check it makes must fail
# when what it checks is not there. The browser tests are skipped, saying what to
# install, when chromium, node or playwright-core is missing (tests/browser/setup).
# Nothing is served: the page is opened from the disk (file://).

# bats file_tags=bench
# shellcheck disable=SC2030,SC2031 # bats' run sets status and output for the test body

bats_require_minimum_version 1.5.0

load helpers

REPORT=$ROOT/tests/bench-report
FIXTURE=$ROOT/tests/bench-report.tsv

setup() {
  command -v python3 >/dev/null 2>&1 || skip "python3 is not installed: apt-get install python3"
  HTML=$BATS_TEST_TMPDIR/report.html
}

# The fixture's report, for the tests that only read it.
draw() {
  run -0 "$REPORT" "${1:-$FIXTURE}" "$HTML"
  [ "$output" = "report: $HTML" ]
}

# The summary table's row for SERVER and TOOL: the text of each cell after the tool's,
# tags dropped, tab-separated. (The server's name heads its first row only: rowspan.)
table_row() { # SERVER TOOL
  python3 - "$HTML" "$1" "$2" <<'EOF'
import html, re, sys
page, server, tool = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3]
text = lambda cell: " ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split())
body = page[page.index('<table class="summary">'):page.index('</table>')]
current = None
for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S):
    name = re.search(r'<th class="server"[^>]*>(.*?)</th>', tr, re.S)
    if name:
        current = text(name.group(1))
    cells = re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
    if current == server and cells and text(cells[0]) == tool:
        print("\t".join(text(c) for c in cells[1:]))
EOF
}

# The table's column headings, tags dropped, tab-separated.
table_head() {
  python3 - "$HTML" <<'EOF'
import html, re, sys
page = open(sys.argv[1]).read()
head = page[page.index('<table class="summary">'):page.index('</thead>')]
print("\t".join(" ".join(html.unescape(re.sub(r"<[^>]+>", " ", h)).split())
                for h in re.findall(r"<th>(.*?)</th>", head, re.S)))
EOF
}

# The cell of ROW (table_row's output) under the heading whose first words are HEADING.
cell() { # ROW HEADING
  local heads cells i
  IFS=$'\t' read -ra heads <<<"$(table_head)"
  IFS=$'\t' read -ra cells <<<"$1"
  for ((i = 2; i < ${#heads[@]}; i++)); do  # heads[0] server, heads[1] tool
    if [[ ${heads[i]} == "$2 "* ]]; then
      printf '%s\n' "${cells[i - 2]}"
      return 0
    fi
  done
  echo "no column '$2' in: ${heads[*]}" >&2
  return 1
}

@test "bench-report: writes the page where asked, and says so" {
  draw
  [ -s "$HTML" ]
  [ "$(head -c 15 "$HTML")" = "<!doctype html>" ]
  [[ $(tail -n 1 "$HTML") == "</body></html>" ]]
}

@test "bench-report: by default reads build/bench/results.tsv and writes report.html beside it" {
  mkdir -p "$BATS_TEST_TMPDIR/run/build/bench"
  cp "$FIXTURE" "$BATS_TEST_TMPDIR/run/build/bench/results.tsv"
  cd "$BATS_TEST_TMPDIR/run"
  run -0 "$REPORT"
  [ "$output" = "report: build/bench/report.html" ]
  [ -s build/bench/report.html ]
}

@test "bench-report: the fixture has the columns tests/bench writes, in its order" {
  local header
  header=$(grep -o "printf 'round[^']*'" "$ROOT/tests/bench" | head -n 1)
  [ -n "$header" ]
  header=${header#printf \'}
  header=${header%\'}
  printf -v header '%b' "${header%\\n}"	# \t to tabs
  [ "$header" = "$(head -n 1 "$FIXTURE")" ]
}

@test "bench-report: the page needs nothing else: no script, nothing to fetch" {
  draw
  run -1 grep -i -c '<script' "$HTML"
  run -1 grep -i -E -c 'https?://|src=|<link|@import|url\(' "$HTML"
  # every chart is an inline SVG, drawn by the script
  [ "$(grep -c '<svg class="chart"' "$HTML")" -eq 7 ]
}

@test "bench-report: a chart per tool of requests/s and of p99 against clients, idle memory, c10k" {
  draw
  local id
  for id in chart-rps-wrk chart-rps-client chart-p99-wrk chart-p99-client chart-idle-memory \
    chart-c10k-rps chart-c10k-memory; do
    grep -q "<svg class=\"chart\" id=\"$id\"" "$HTML" || { echo "no chart $id"; false; }
  done
  # the order the page gives: clients first, c10k last
  [ "$(grep -o '<svg class="chart" id="[^"]*"' "$HTML" | head -n 1)" = '<svg class="chart" id="chart-rps-wrk"' ]
  [ "$(grep -o '<svg class="chart" id="[^"]*"' "$HTML" | tail -n 1)" = '<svg class="chart" id="chart-c10k-memory"' ]
}

@test "bench-report: a table cell is the median of the rounds, the spread under it" {
  draw
  local row
  # nginx, c100, wrk: 48000, 51000 and 49500 req/s in rounds 1, 2 and 3
  row=$(table_row nginx wrk)
  [ "$(cell "$row" c100)" = "49,500 (48.0k–51.0k)" ]
  # 02-select's PSS with 1000 idle connections: 3.9, 4.0 and 4.3 MiB (the client's row)
  row=$(table_row 02-select client)
  [ "$(cell "$row" idle)" = "4.00 (3.90–4.30)" ]
  # c10k, 02-select, 9000 idle: 2800, 2600, 3100; round 2 held only 8650, a note says
  row=$(table_row 02-select wrk)
  [[ $(cell "$row" "c10k 10 active, 9,000 idle") =~ ^2,800\ ?[0-9]+\ \(2,600–3,100\)$ ]]
  grep -q '<li id="note-[0-9]*">only 8650 of 9000 held</li>' "$HTML"
  # a server without c10k has an empty cell there
  row=$(table_row 04-threads wrk)
  [ "$(cell "$row" "c10k 10 active, 0 idle")" = "-" ]
}

@test "bench-report: memory per idle connection is (PSS held - PSS at start) / held" {
  draw
  # 02-select: (3.9, 4.0, 4.3 - 0.4) x 1024 / 1000 = 3.58, 3.69, 3.99 KiB: the median 3.69
  grep -q '>3.69 KiB (1,000 held, PSS 4.00 MiB)</text>' "$HTML"
  # busybox holds none: no bar, a word instead
  grep -q '>none held (see the table' "$HTML"
}

@test "bench-report: one round: no spread, in the table or the charts" {
  awk -F'\t' 'NR == 1 || $1 == 1' "$FIXTURE" >"$BATS_TEST_TMPDIR/one.tsv"
  draw "$BATS_TEST_TMPDIR/one.tsv"
  run -1 grep -c 'class="spread"' "$HTML"
  grep -q '1 round, ' "$HTML"
  [ "$(cell "$(table_row nginx wrk)" c100)" = "48,000" ]
}

@test "bench-report: a run without idle and c10k says so rather than draw empty charts" {
  awk -F'\t' '$2 != "idle" && $2 != "c10k"' "$FIXTURE" >"$BATS_TEST_TMPDIR/part.tsv"
  draw "$BATS_TEST_TMPDIR/part.tsv"
  grep -q 'No idle measurement in this run.' "$HTML"
  grep -q 'No c10k measurement in this run.' "$HTML"
  [ "$(grep -c '<svg class="chart"' "$HTML")" -eq 4 ]
  run -1 grep -c 'c10k<br>' "$HTML"	# nor a column of the table
}

@test "bench-report: a file that is not tests/bench's TSV, or none: exit 1, and why" {
  printf 'a\tb\n1\t2\n' >"$BATS_TEST_TMPDIR/other.tsv"
  run -1 "$REPORT" "$BATS_TEST_TMPDIR/other.tsv" "$HTML"
  [[ $output == *"not a TSV of tests/bench: no column round,"* ]]
  head -n 1 "$FIXTURE" >"$BATS_TEST_TMPDIR/empty.tsv"
  run -1 "$REPORT" "$BATS_TEST_TMPDIR/empty.tsv" "$HTML"
  [[ $output == *"no measurement in it"* ]]
  run -1 "$REPORT" "$BATS_TEST_TMPDIR/missing.tsv" "$HTML"
  [[ $output == *"missing.tsv"* ]]
  [ ! -e "$HTML" ]
}

@test "bench-report: too many arguments is a usage error (exit 2)" {
  run -2 "$REPORT" a b c
  [[ $output == "usage: tests/bench-report [TSV [HTML]]" ]]
}

# ---- In the browser.

# expect_all FILE: what the fixture's page must show (tests/browser/bench-report.mjs).
expect_all() {
  cat >"$1" <<'EOF'
{ "charts": [
  { "id": "chart-rps-wrk", "title": "Requests per second against clients (wrk)",
    "x": "clients", "y": "requests/s",
    "legend": ["01-iterative", "02-select (--poll)", "02-epoll (02-select --epoll)", "03-fork",
               "04-threads", "04-pool (04-threads --pool 64)", "05-watch", "python", "nginx (1 worker)",
               "lighttpd", "busybox"],
    "series": ["01-iterative", "02-select", "02-epoll", "03-fork", "04-threads", "04-pool",
               "05-watch", "python", "nginx", "lighttpd", "busybox"] },
  { "id": "chart-rps-client", "title": "Requests per second against clients (client)",
    "x": "clients", "y": "requests/s", "legend": ["02-epoll", "nginx (1 worker)"],
    "series": ["02-select", "02-epoll", "nginx", "busybox"] },
  { "id": "chart-p99-wrk", "title": "p99 latency against clients (wrk)",
    "x": "clients", "y": "(ms", "legend": ["01-iterative", "nginx (1 worker)"],
    "series": ["01-iterative", "02-epoll", "nginx", "python"] },
  { "id": "chart-p99-client", "title": "p99 latency against clients (client)",
    "x": "clients", "y": "(ms", "legend": ["01-iterative", "nginx (1 worker)"],
    "series": ["01-iterative", "02-epoll", "nginx", "python"] },
  { "id": "chart-idle-memory", "title": "Memory per idle keep-alive connection",
    "x": "KiB", "y": "server", "bars": true, "legend": ["our stages", "peer servers"],
    "series": ["02-select", "03-fork", "04-threads", "nginx", "lighttpd"] },
  { "id": "chart-c10k-rps", "title": "C10K: requests per second of 10 active clients",
    "x": "idle keep-alive connections held (N)", "y": "requests/s",
    "legend": ["02-select (--poll)", "02-epoll (02-select --epoll)", "nginx (1 worker)"],
    "series": ["02-select", "02-epoll", "nginx"] },
  { "id": "chart-c10k-memory", "title": "C10K: server memory against idle connections",
    "x": "idle keep-alive connections held (N)", "y": "(MiB)",
    "legend": ["02-select (--poll)", "02-epoll (02-select --epoll)", "nginx (1 worker)"],
    "series": ["02-select", "02-epoll", "nginx"] } ],
  "text": ["49,500", "48.0k–51.0k", "only 8650 of 9000 held", "3.69 KiB (1,000 held"] }
EOF
}

# browser FILE EXPECT: runs the browser script on FILE (45 s at most) and shows its lines.
# Sets status and output (run).
browser() {
  run timeout -k 5 45 node "$BROWSER_DIR/bench-report.mjs" "$1" "$BATS_TEST_TMPDIR/shot.png" "$2" 3>&- # lint: ok (the caller checks $status)
  printf '%s\n' "$output"
}

# broken SED-SCRIPT MESSAGE: the fixture's page, changed by SED-SCRIPT, must fail the
# browser script with MESSAGE: the check that reports it can fail.
broken() {
  local missing
  missing=$(browser_missing)
  [ -z "$missing" ] || skip "$missing"
  draw
  sed -e "$1" "$HTML" >"$BATS_TEST_TMPDIR/broken.html"
  ! cmp -s "$HTML" "$BATS_TEST_TMPDIR/broken.html" || { echo "the sed script changed nothing"; false; }
  expect_all "$BATS_TEST_TMPDIR/expect.json"
  browser "$BATS_TEST_TMPDIR/broken.html" "$BATS_TEST_TMPDIR/expect.json"
  [ "$status" -eq 1 ] || { echo "exit $status, not 1"; false; }
  [[ $output == *"FAIL: "*"$2"* ]] || { echo "no FAIL line with '$2'"; false; }
}

# bats test_tags=browser
@test "browser: every chart has a box, a title, axes with ticks and units, a legend, its data; not blank" {
  local missing
  missing=$(browser_missing)
  [ -z "$missing" ] || skip "$missing"
  draw
  expect_all "$BATS_TEST_TMPDIR/expect.json"
  browser "$HTML" "$BATS_TEST_TMPDIR/expect.json"
  [ "$status" -eq 0 ] || { echo "the browser script exited $status"; false; }
  [[ $output == *"] PASS: "* ]] || { echo "exit 0, but no PASS line"; false; }
  [ "$(grep -c '] chart chart-.*coloured$' <<<"$output")" -eq 7 ]
  # the screenshot is a PNG, of the whole page
  [ "$(head -c 8 "$BATS_TEST_TMPDIR/shot.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
}

# bats test_tags=browser
@test "browser, broken on purpose: a chart with an empty box fails" {
  broken 's/\(id="chart-rps-wrk"\) viewBox="[^"]*" width="100%"/\1 width="0" height="0"/' \
    'chart chart-rps-wrk: bounding box 2 x 2 px, under 300 x 150'
}

# bats test_tags=browser
@test "browser, broken on purpose: an axis label without its unit fails" {
  broken 's|>requests/s</text>|>requests</text>|' 'y axis label "requests" lacks "requests/s"'
}

# bats test_tags=browser
@test "browser, broken on purpose: an axis without tick labels fails" {
  broken 's|\(<g class="tick x">.*\)<text [^>]*>[^<]*</text>|\1|' 'labelled ticks on x, fewer than 3'
}

# bats test_tags=browser
@test "browser, broken on purpose: a legend without its entries fails" {
  broken 's/class="legend-entry"/class="legend-gone"/g' 'no legend entry "01-iterative"'
}

# bats test_tags=browser
@test "browser, broken on purpose: a series with nothing drawn fails" {
  broken '/<g class="series" data-server="04-pool">/,/<\/g>/{/^<polyline\|^<circle\|^<line/d}' \
    'nothing drawn for 04-pool'
}

# bats test_tags=browser
@test "browser, broken on purpose: lines and bars drawn in grey (no data to see) fail" {
  broken 's/\(stroke\|fill\)="#[0-9a-f]\{6\}"/\1="#888888"/g' 'coloured, under 0.2%: no data drawn'
}

# bats test_tags=browser
@test "browser, broken on purpose: a page that asks for something else fails" {
  broken 's|<h1>|<img src="http://127.0.0.1:9/logo.png" alt=""><h1>|' \
    'the page asked for other things than itself: http://127.0.0.1:9/logo.png'
}

# bats test_tags=browser
@test "browser, broken on purpose: a page with a script fails" {
  broken 's|<h1>|<script>document.title = "x";</script><h1>|' 'the page has 1 script(s)'
}

# bats test_tags=browser
@test "browser, broken on purpose: a blank page fails, and a number that is not there" {
  local missing
  missing=$(browser_missing)
  [ -z "$missing" ] || skip "$missing"
  printf '<!doctype html>\n<title>blank</title>\n<body></body>\n' >"$BATS_TEST_TMPDIR/blank.html"
  printf '{ "charts": [], "text": [] }\n' >"$BATS_TEST_TMPDIR/none.json"
  browser "$BATS_TEST_TMPDIR/blank.html" "$BATS_TEST_TMPDIR/none.json"
  [ "$status" -eq 1 ]
  [[ $output == *"FAIL: the page's screenshot is blank"* ]]
  # the report itself, but a number it does not hold
  draw
  printf '{ "charts": [], "text": ["49,500", "12,345,678"] }\n' >"$BATS_TEST_TMPDIR/text.json"
  browser "$HTML" "$BATS_TEST_TMPDIR/text.json"
  [ "$status" -eq 1 ]
  [[ $output == *"FAIL: the page's text lacks \"12,345,678\""* ]]
}
