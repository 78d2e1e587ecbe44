#!/usr/bin/env bats
# HTTP conformance of one stage ($STAGE): the HTTP part of the contract, request by
# request. One server for the whole file (-q -t 2) on a document root built here.
#
# The 01-iterative server serves one connection at a time, so every request here closes
# its connection (curl at exit, raw requests with `Connection: close` or HTTP/1.0);
# otherwise the next test would wait for the 2 s idle timeout.

# bats file_tags=conformance

load ../helpers
load ../fixtures

setup_file() {
  make_docroot
  start_server -q -t 2 -r "$DOCROOT"
}

teardown_file() {
  stop_server
}

setup() {
  reply_files
}

# ---------------------------------------------------------------- files and headers

# bats test_tags=files
@test "GET a file answers 200 with the file's exact bytes" {
  fetch /file.txt
  expect_status 200
  expect_body_is "$DOCROOT/file.txt"
}

# bats test_tags=files
@test "GET a 200 KiB binary file answers all of it" {
  fetch /big.bin
  expect_status 200
  expect_header Content-Length 204800
  expect_body_is "$DOCROOT/big.bin"
}

# bats test_tags=headers
@test "a 200 response has Date and Server: staged-httpd" {
  fetch /file.txt
  expect_header_match Date '^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT$'
  expect_header_match Server 'staged-httpd'
}

# bats test_tags=headers
@test "Content-Length is the file size" {
  fetch /file.txt
  expect_header Content-Length 1024
  expect_length_matches_body
}

# bats test_tags=headers
@test "Last-Modified is the file's mtime as an IMF-fixdate" {
  fetch /file.txt
  expect_header Last-Modified "$FILE_DATE"
}

# bats test_tags=headers
@test "ETag is a quoted string, the same on two requests" {
  fetch /file.txt
  expect_header_match ETag '^(W/)?"[^"]+"$'
  local first
  first=$(hdr ETag)
  fetch /file.txt
  expect_header ETag "$first"
}

# bats test_tags=headers
@test "Accept-Ranges: bytes" {
  fetch /file.txt
  expect_header Accept-Ranges bytes
}

# bats test_tags=headers,mime
@test "Content-Type of .html is text/html; charset=utf-8" {
  fetch /page.html
  expect_header Content-Type 'text/html; charset=utf-8'
  expect_html_is "$DOCROOT/page.html"
}

# bats test_tags=headers,mime
@test "Content-Type of .css is text/css; charset=utf-8" {
  fetch /style.css
  expect_header Content-Type 'text/css; charset=utf-8'
  expect_served "$DOCROOT/style.css"
}

# bats test_tags=headers,mime
@test "Content-Type of .js is text/javascript; charset=utf-8" {
  fetch /app.js
  expect_header Content-Type 'text/javascript; charset=utf-8'
  expect_served "$DOCROOT/app.js"
}

# bats test_tags=headers,mime
@test "Content-Type of .json is application/json" {
  fetch /data.json
  expect_header Content-Type 'application/json'
  expect_served "$DOCROOT/data.json"
}

# bats test_tags=headers,mime
@test "Content-Type of .txt is text/plain; charset=utf-8" {
  fetch /notes.txt
  expect_header Content-Type 'text/plain; charset=utf-8'
  expect_served "$DOCROOT/notes.txt"
}

# bats test_tags=headers,mime
@test "Content-Type of .svg is image/svg+xml" {
  fetch /image.svg
  expect_header Content-Type 'image/svg+xml'
  expect_served "$DOCROOT/image.svg"
}

# bats test_tags=headers,mime
@test "Content-Type of .png is image/png" {
  fetch /image.png
  expect_header Content-Type 'image/png'
  expect_served "$DOCROOT/image.png"
}

# bats test_tags=headers,mime
@test "Content-Type of a file without extension is application/octet-stream" {
  fetch /README
  expect_header Content-Type 'application/octet-stream'
  expect_served "$DOCROOT/README"
}

# bats test_tags=headers,mime
@test "Content-Type of an unknown extension is application/octet-stream" {
  fetch /odd.xyz
  expect_header Content-Type 'application/octet-stream'
  expect_served "$DOCROOT/odd.xyz"
}

# bats test_tags=methods
@test "HEAD answers the same headers as GET and no body" {
  fetch /file.txt
  local type etag modified
  type=$(hdr Content-Type) etag=$(hdr ETag) modified=$(hdr Last-Modified)
  req HEAD /file.txt
  expect_status 200
  expect_header Content-Length 1024
  expect_header Content-Type "$type"
  expect_header ETag "$etag"
  expect_header Last-Modified "$modified"
  expect_empty_body
}

# bats test_tags=methods,errors
@test "HEAD of a missing file answers 404 without body" {
  req HEAD /no-such-file.txt
  expect_status 404
  expect_empty_body
  still_serving
}

# bats test_tags=errors
@test "a missing file answers 404 with a small HTML error page" {
  req GET /no-such-file.txt
  expect_error_page 404
  still_serving
}

# bats test_tags=errors
@test "the built-in error page links the site's stylesheet, /style.css" {
  req GET /no-such-file.txt
  expect_error_page 404
  expect_body_has '<link rel="stylesheet" href="/style.css">'
}

# ---------------------------------------------------------------- methods

# bats test_tags=methods
@test "POST PUT DELETE OPTIONS PATCH CONNECT TRACE answer 405 with Allow: GET, HEAD" {
  local method
  for method in POST PUT DELETE OPTIONS PATCH CONNECT TRACE; do
    req "$method" /file.txt
    expect_error_page 405
    expect_header Allow 'GET, HEAD'
  done
  still_serving
}

# bats test_tags=methods,bodies
@test "after a 405 with a body the connection answers the next pipelined request" {
  send 'POST /file.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello'\
'GET /file.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
  [ "$(all_statuses)" = "405 200" ] || { echo "statuses: $(all_statuses)"; false; }
  expect_header Allow 'GET, HEAD'
}

# bats test_tags=methods
@test "an unknown method (BREW) answers 501" {
  req BREW /file.txt
  expect_error_page 501
  still_serving
}

# bats test_tags=methods
@test "methods are case-sensitive: lowercase get answers 501" {
  req get /file.txt
  expect_error_page 501
  still_serving
}

# ---------------------------------------------------------------- request line and version

# bats test_tags=host
@test "HTTP/1.1 without Host answers 400" {
  send 'GET /file.txt HTTP/1.1\r\nConnection: close\r\n\r\n'
  expect_error_page 400
  still_serving
}

# bats test_tags=host
@test "two Host headers answer 400" {
  send 'GET /file.txt HTTP/1.1\r\nHost: t\r\nHost: u\r\nConnection: close\r\n\r\n'
  expect_error_page 400
  still_serving
}

# bats test_tags=host
@test "HTTP/1.0 without Host is served" {
  send 'GET /file.txt HTTP/1.0\r\n\r\n'
  expect_status 200
  expect_length_matches_body
}

# bats test_tags=version
@test "HTTP/2.0, HTTP/3.0 and HTTP/0.9 answer 505 HTTP Version Not Supported" {
  local version line
  for version in HTTP/2.0 HTTP/3.0 HTTP/0.9; do
    send "GET /file.txt $version\r\nHost: t\r\nConnection: close\r\n\r\n"
    line=$(head -n 1 "$RESP" | tr -d '\r')
    [ "$line" = 'HTTP/1.1 505 HTTP Version Not Supported' ] ||
      { echo "$version: status line '$line'"; false; }
    expect_error_page 505
  done
  still_serving
}

# bats test_tags=version
@test "HTTP/1.2 is served as HTTP/1.1" {
  send 'GET /file.txt HTTP/1.2\r\nHost: t\r\nConnection: close\r\n\r\n'
  expect_status 200
  expect_body_is "$DOCROOT/file.txt"
}

# bats test_tags=version,malformed
@test "a malformed version (HTTP/1, http/1.1) answers 400" {
  local version
  for version in HTTP/1 http/1.1 HTTP/1.1x HTTP/ 1.1; do
    send "GET /file.txt $version\r\nHost: t\r\nConnection: close\r\n\r\n"
    expect_error_page 400
  done
  still_serving
}

# bats test_tags=version,malformed
@test "a request line without version (GET /) answers 400" {
  send 'GET /file.txt\r\nHost: t\r\nConnection: close\r\n\r\n'
  expect_error_page 400
  still_serving
}

# bats test_tags=malformed
@test "a request line with a part after the version answers 400" {
  send 'GET /file.txt HTTP/1.1 extra\r\nHost: t\r\nConnection: close\r\n\r\n'
  expect_error_page 400
  still_serving
}

# bats test_tags=connections,errors
@test "after 400, 431 or 505 the server closes even on a keep-alive connection" {
  local bad start next='GET /file.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
  for bad in 'GET /file.txt HTTP/1.1\r\n\r\n:400' \
    "GET /file.txt HTTP/1.1\r\nHost: t\r\nX-Big: $(printf 'b%.0s' $(seq 9000))\r\n\r\n:431" \
    'GET /file.txt HTTP/2.0\r\nHost: t\r\n\r\n:505'; do
    start=$(now_ms)
    send "${bad%:*}$next"
    [ "$(all_statuses)" = "${bad##*:}" ] || { echo "statuses '$(all_statuses)', expected only ${bad##*:}"; false; }
    expect_closing
    [ $(($(now_ms) - start)) -lt 1500 ] ||
      { echo "the connection closed only after $(($(now_ms) - start)) ms"; false; }
  done
  still_serving
}

# ---------------------------------------------------------------- limits

# bats test_tags=limits
@test "a request line over 4096 bytes answers 414 as soon as the limit passes, without its end" {
  local target start
  target=/$(printf 'a%.0s' $(seq 5000))
  start=$(now_ms)
  send "GET $target"
  expect_error_page 414
  [ $(($(now_ms) - start)) -lt 1500 ] ||
    { echo "the 414 came only after $(($(now_ms) - start)) ms"; false; }
  still_serving
}

# bats test_tags=limits
@test "a complete request line over 4096 bytes answers 414" {
  send "GET /file.txt?$(printf 'q%.0s' $(seq 4200)) HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
  expect_error_page 414
  still_serving
}

# bats test_tags=limits
@test "a request line just under the limit is served" {
  # "GET " + target + " HTTP/1.1" = 4000 bytes
  send "GET /file.txt?$(printf 'q%.0s' $(seq 3977)) HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
  expect_status 200
  expect_header Content-Length 1024
}

# bats test_tags=limits
@test "a header section over 8 KiB (one big field) answers 431" {
  send "GET /file.txt HTTP/1.1\r\nHost: t\r\nX-Big: $(printf 'b%.0s' $(seq 9000))\r\nConnection: close\r\n\r\n"
  expect_error_page 431
  still_serving
}

# bats test_tags=limits
@test "a header section over 8 KiB (many fields) answers 431" {
  local i fields=
  for i in $(seq 300); do fields+="X-Field-$i: some value of forty bytes or so\r\n"; done
  send "GET /file.txt HTTP/1.1\r\nHost: t\r\n${fields}Connection: close\r\n\r\n"
  expect_error_page 431
  still_serving
}

# bats test_tags=limits
@test "100 short header fields are accepted" {
  local i fields=
  for i in $(seq 100); do fields+="X-Field-$i: v$i\r\n"; done
  req GET /file.txt "$fields"
  expect_status 200
  expect_body_is "$DOCROOT/file.txt"
}

# ---------------------------------------------------------------- malformed headers

# bats test_tags=malformed
@test "a header line without colon answers 400" {
  req GET /file.txt 'NoColonHere\r\n'
  expect_error_page 400
  still_serving
}

# bats test_tags=malformed
@test "whitespace between field name and colon answers 400" {
  req GET /file.txt 'X-Spaced : value\r\n'
  expect_error_page 400
  still_serving
}

# bats test_tags=malformed
@test "an obs-fold continuation line answers 400" {
  req GET /file.txt 'X-Folded: first\r\n  second\r\n'
  expect_error_page 400
  req GET /file.txt 'X-Folded: first\r\n\tsecond\r\n'
  expect_error_page 400
  still_serving
}

# bats test_tags=malformed
@test "a bare CR inside a header line answers 400" {
  req GET /file.txt 'X-Cr: a\rb\r\n'
  expect_error_page 400
  still_serving
}

# bats test_tags=malformed
@test "a control character in a field value answers 400" {
  req GET /file.txt 'X-Ctl: a\001b\r\n'
  expect_error_page 400
  req GET /file.txt 'X-Del: a\177b\r\n'
  expect_error_page 400
  still_serving
}

# bats test_tags=malformed
@test "LF-only line endings are accepted" {
  send 'GET /file.txt HTTP/1.1\nHost: t\nConnection: close\n\n'
  expect_status 200
  expect_header Content-Length 1024
}

# ---------------------------------------------------------------- request bodies

# bats test_tags=bodies
@test "a Content-Length body is drained and the pipelined next request answered" {
  send 'GET /file.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nBREW '\
'GET /page.html HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
  [ "$(all_statuses)" = "200 200" ] || { echo "statuses: '$(all_statuses)'"; false; }
  grep -a -q PAGE-HTML-MARKER "$RESP" || { echo "no page.html in the second response"; false; }
}

# bats test_tags=bodies
@test "Content-Length abc answers 400" {
  req GET /file.txt 'Content-Length: abc\r\n'
  expect_error_page 400
  still_serving
}

# bats test_tags=bodies
@test "Content-Length -1 answers 400" {
  req GET /file.txt 'Content-Length: -1\r\n'
  expect_error_page 400
  still_serving
}

# bats test_tags=bodies
@test "two different Content-Length values answer 400" {
  send 'GET /file.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello!'
  expect_error_page 400
  still_serving
}

# bats test_tags=bodies
@test "a Content-Length over 1 MiB answers 413 and closes without waiting for the body" {
  local start
  start=$(now_ms)
  send 'GET /file.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\n'
  expect_error_page 413
  [ $(($(now_ms) - start)) -lt 1500 ] ||
    { echo "the connection closed only after $(($(now_ms) - start)) ms"; false; }
  still_serving
}

# bats test_tags=bodies
@test "Transfer-Encoding with Content-Length answers 400 and closes" {
  send 'GET /file.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n'\
'GET /file.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
  expect_error_page 400
  [ "$(count_responses)" = 1 ] || { echo "$(count_responses) responses, expected 1 then close"; false; }
  still_serving
}

# ---------------------------------------------------------------- targets

# bats test_tags=targets
@test "the target is percent-decoded (%20 serves 'space name.txt')" {
  req GET /list/space%20name.txt
  expect_status 200
  expect_body_is "$DOCROOT/list/space name.txt"
}

# bats test_tags=targets
@test "the query string is ignored for files" {
  req GET '/file.txt?x=1&y=2'
  expect_status 200
  expect_body_is "$DOCROOT/file.txt"
}

# bats test_tags=targets
@test "a dot segment inside the root is normalized (/list/../file.txt)" {
  req GET /list/../file.txt
  expect_status 200
  expect_body_is "$DOCROOT/file.txt"
  req GET /./list/./beta.txt
  expect_status 200
  expect_body_is "$DOCROOT/list/beta.txt"
}

# bats test_tags=targets,security
@test "dot segments climbing above the root answer 400 and reveal nothing" {
  local target
  for target in /../secret.txt /%2e%2e/secret.txt /%2E%2E/secret.txt /.%2e/secret.txt \
    /list/../../secret.txt /list/%2e%2e/%2e%2e/secret.txt /..; do
    req GET "$target"
    expect_error_page 400
    expect_reply_lacks "$SECRET_TEXT"
  done
  still_serving
}

# bats test_tags=targets
@test "invalid percent-encoding (%zz, %4) answers 400" {
  req GET /file%zz.txt
  expect_error_page 400
  req GET /file.tx%4
  expect_error_page 400
  still_serving
}

# bats test_tags=targets,security
@test "an encoded NUL (%00) answers 400" {
  req GET /file.txt%00.html
  expect_error_page 400
  still_serving
}

# bats test_tags=targets,security
@test "an encoded slash (%2f, %2F) answers 400" {
  req GET /list%2fbeta.txt
  expect_error_page 400
  req GET /list%2Fbeta.txt
  expect_error_page 400
  still_serving
}

# bats test_tags=targets,security
@test "a backslash, raw or %5c, answers 400" {
  req GET '/list\\beta.txt'
  expect_error_page 400
  req GET /list%5cbeta.txt
  expect_error_page 400
  req GET /list%5Cbeta.txt
  expect_error_page 400
  still_serving
}

# bats test_tags=targets
@test "a target not starting with / answers 400" {
  req GET file.txt
  expect_error_page 400
  still_serving
}

# bats test_tags=targets
@test "a Host value that is no host answers 400" {
  send 'GET /file.txt HTTP/1.1\r\nHost: a b\r\n\r\n'
  expect_error_page 400
  still_serving
}

# bats test_tags=targets
@test "an absolute-form target serves the path" {
  req GET "http://127.0.0.1:$PORT/file.txt"
  expect_status 200
  expect_body_is "$DOCROOT/file.txt"
}

# bats test_tags=targets,methods
@test "OPTIONS * answers 405" {
  req OPTIONS '*'
  expect_error_page 405
  expect_header Allow 'GET, HEAD'
  still_serving
}

# bats test_tags=targets,security
@test "a symlink to a file outside the root answers 403 and reveals nothing" {
  local target
  for target in /leak.txt /rel-leak.txt; do
    req GET "$target"
    expect_error_page 403
    expect_reply_lacks "$SECRET_TEXT"
  done
  still_serving
}

# bats test_tags=targets,security
@test "a symlink to a directory outside the root answers 403 and reveals nothing" {
  local target
  for target in /leakdir/secret2.txt /leakdir/; do
    req GET "$target"
    expect_error_page 403
    expect_reply_lacks "$SECRET2_TEXT"
    expect_reply_lacks secret2.txt
  done
  still_serving
}

# bats test_tags=targets,security
@test "a missing file behind a symlink to a directory outside the root answers 403, as an existing one" {
  req GET /leakdir/no-such-file.txt
  expect_error_page 403
  req GET /links/outdir/no-such-file.txt
  expect_error_page 403
  still_serving
}

# bats test_tags=targets
@test "a FIFO or a socket in the root answers 403 at once" {
  local target
  for target in /pipe ${SOCKET:+/sock}; do
    req GET "$target" 5
    expect_error_page 403
  done
  [ -n "$SOCKET" ] || echo "# no socket: python3 could not make one" >&3
  still_serving
}

# bats test_tags=targets
@test "a symlink inside the root to a file inside is served" {
  req GET /alias.txt
  expect_status 200
  expect_body_is "$DOCROOT/file.txt"
}

# bats test_tags=targets
@test "a dangling symlink answers 404" {
  req GET /dangling
  expect_error_page 404
  still_serving
}

# bats test_tags=targets
@test "an unreadable file answers 403" {
  if [ "$(id -u)" -eq 0 ]; then
    skip "running as root: file permissions cannot make a file unreadable"
  fi
  req GET /locked.txt
  expect_error_page 403
  expect_reply_lacks LOCKED-MARKER
  still_serving
}

# ---------------------------------------------------------------- directories

# bats test_tags=directories
@test "a directory without trailing slash answers 301 to path/" {
  req GET /dir
  expect_status 301
  expect_header Location /dir/
  still_serving
}

# bats test_tags=directories
@test "the 301 to path/ keeps the query" {
  req GET '/dir?a=1'
  expect_status 301
  expect_header Location '/dir/?a=1'
}

# A query holding what a URI may not ('"', '<', '>', a space) goes back percent-encoded:
# copied raw, it would make the Location an invalid URI (and one a careless page might
# echo into HTML). Escapes and sub-delimiters stay as they came.
# bats test_tags=directories
@test "the 301 to path/ percent-encodes what a URI may not hold in the query" {
  req GET '/dir?"><x>%20&a=1;b'
  expect_status 301
  expect_header Location '/dir/?%22%3E%3Cx%3E%20&a=1;b'
}

# bats test_tags=directories
@test "a directory with index.html serves it" {
  fetch /dir/
  expect_status 200
  expect_header Content-Type 'text/html; charset=utf-8'
  expect_html_is "$DOCROOT/dir/index.html"
}

# bats test_tags=directories,listing
@test "a directory without index.html answers an HTML listing" {
  fetch /list/
  expect_status 200
  expect_header_match Content-Type '^text/html'
  expect_length_matches_body
  expect_body_has beta.txt
  expect_body_has Zeta.txt
}

# bats test_tags=directories,listing
@test "the listing escapes names for HTML" {
  fetch /list/
  expect_body_has 'a&amp;b.txt'
  expect_body_has '&lt;x&gt;.txt'
  if grep -a -q -F -e '<x>' -e 'a&b' "$BODY"; then
    echo "a name appears unescaped"
    false
  fi
}

# bats test_tags=directories,listing
@test "the listing percent-encodes hrefs" {
  fetch /list/
  expect_body_has 'space%20name.txt'
  expect_body_has 'space name.txt'
}

# bats test_tags=directories,listing
@test "the listing puts .. first, then names sorted byte-wise, subdirectories with /" {
  fetch /list/
  expect_body_has 'sub/'
  local name previous=-1 at
  for name in .. '&lt;x&gt;.txt' Zeta.txt 'a&amp;b.txt' beta.txt 'space name.txt' sub/; do
    at=$(offset_in_body "$name")
    [ "$at" -gt "$previous" ] || { echo "'$name' at $at, not after the previous at $previous"; false; }
    previous=$at
  done
}

# bats test_tags=directories,listing
@test "an empty directory answers a listing with only the way up" {
  fetch /dir/empty/
  expect_status 200
  expect_length_matches_body
  expect_body_has 'href="../"'
  [ "$(grep -a -o 'href="' "$BODY" | wc -l)" -eq 1 ] || { echo "links other than the way up"; false; }
}

# bats test_tags=directories,listing,security
@test "the listing shows where symlinks lead inside the root, and nothing of outside" {
  fetch /links/
  expect_status 200
  expect_body_has '<a href="./file">file</a></td><td class="n">1024</td><td>'"$FILE_DATE"'</td>'
  expect_body_has '<a href="./sub/">sub/</a>'
  expect_body_has '<a href="./secret">secret</a></td><td class="n"></td><td></td>'
  expect_body_has '<a href="./outdir">outdir</a></td><td class="n"></td><td></td>'
}

# bats test_tags=directories,listing
@test "a directory named index.html is listed, not served as the index" {
  fetch /idxdir/
  expect_status 200
  expect_body_has '<a href="./index.html/">index.html/</a>'
}

# bats test_tags=directories
@test "a subdirectory of a listed directory without slash answers 301" {
  req GET /list/sub
  expect_status 301
  expect_header Location /list/sub/
}

# bats test_tags=directories,listing
@test "the root's listing offers no way up; a subdirectory's offers ../ first" {
  fetch /
  expect_status 200
  expect_body_has '<a href="./file.txt">file.txt</a>'
  if grep -a -q -F -e 'href="../"' "$BODY"; then
    echo "the root's listing offers ../"
    false
  fi
  fetch /list/
  expect_status 200
  local first
  first=$(grep -a -o -m 1 'href="[^"]*"' "$BODY" | head -n 1)
  [ "$first" = 'href="../"' ] || { echo "the first link of /list/ is '$first', not ../"; false; }
}

# ---------------------------------------------------------------- conditional requests

# bats test_tags=conditional
@test "If-None-Match with the ETag answers 304 without body, with the ETag" {
  fetch /file.txt
  local etag
  etag=$(hdr ETag)
  req GET /file.txt "If-None-Match: $etag\r\n"
  expect_status 304
  expect_header ETag "$etag"
  expect_empty_body
}

# bats test_tags=conditional
@test "If-None-Match with a list containing the ETag answers 304" {
  fetch /file.txt
  local etag
  etag=$(hdr ETag)
  req GET /file.txt "If-None-Match: \"nope\", $etag, \"other\"\r\n"
  expect_status 304
  expect_empty_body
}

# bats test_tags=conditional
@test "If-None-Match: * answers 304" {
  req GET /file.txt 'If-None-Match: *\r\n'
  expect_status 304
  expect_empty_body
}

# bats test_tags=conditional
@test "If-None-Match not matching answers 200" {
  req GET /file.txt 'If-None-Match: "does-not-match"\r\n'
  expect_status 200
  expect_body_is "$DOCROOT/file.txt"
}

# bats test_tags=conditional
@test "If-Modified-Since equal to Last-Modified answers 304" {
  req GET /file.txt "If-Modified-Since: $FILE_DATE\r\n"
  expect_status 304
  expect_empty_body
}

# bats test_tags=conditional
@test "If-Modified-Since after Last-Modified answers 304" {
  req GET /file.txt 'If-Modified-Since: Fri, 01 Jan 2021 00:00:00 GMT\r\n'
  expect_status 304
  expect_empty_body
}

# bats test_tags=conditional
@test "If-Modified-Since before Last-Modified answers 200" {
  req GET /file.txt 'If-Modified-Since: Tue, 01 Jan 2019 00:00:00 GMT\r\n'
  expect_status 200
  expect_body_is "$DOCROOT/file.txt"
}

# RFC 9110 13.1.3: a date later than the server's clock is invalid; the field is ignored.
# bats test_tags=conditional
@test "If-Modified-Since later than the server's clock is ignored: 200" {
  req GET /file.txt "If-Modified-Since: $(TZ=GMT date -d '+1 day' '+%a, %d %b %Y %H:%M:%S GMT')\r\n"
  expect_status 200
  expect_body_is "$DOCROOT/file.txt"
}

# bats test_tags=conditional
@test "If-None-Match takes precedence over If-Modified-Since" {
  req GET /file.txt 'If-None-Match: "does-not-match"\r\nIf-Modified-Since: Fri, 01 Jan 2021 00:00:00 GMT\r\n'
  expect_status 200
  expect_body_is "$DOCROOT/file.txt"
}

# ---------------------------------------------------------------- ranges

# bats test_tags=range
@test "Range bytes=0-99 answers 206 with those bytes" {
  fetch /big.bin -H 'Range: bytes=0-99'
  expect_status 206
  expect_header Content-Range 'bytes 0-99/204800'
  expect_header Content-Length 100
  expect_body_is <(head -c 100 "$DOCROOT/big.bin")
}

# bats test_tags=range
@test "Range bytes=1000-1999 answers the middle bytes" {
  fetch /big.bin -H 'Range: bytes=1000-1999'
  expect_status 206
  expect_header Content-Range 'bytes 1000-1999/204800'
  expect_body_is <(tail -c +1001 "$DOCROOT/big.bin" | head -c 1000)
}

# bats test_tags=range
@test "Range bytes=100- answers to the end" {
  fetch /big.bin -H 'Range: bytes=100-'
  expect_status 206
  expect_header Content-Range 'bytes 100-204799/204800'
  expect_header Content-Length 204700
  expect_body_is <(tail -c +101 "$DOCROOT/big.bin")
}

# bats test_tags=range
@test "Range bytes=-100 answers the last 100 bytes" {
  fetch /big.bin -H 'Range: bytes=-100'
  expect_status 206
  expect_header Content-Range 'bytes 204700-204799/204800'
  expect_header Content-Length 100
  expect_body_is <(tail -c 100 "$DOCROOT/big.bin")
}

# bats test_tags=range
@test "a Range ending past the end is clamped to the size" {
  fetch /big.bin -H 'Range: bytes=0-999999'
  expect_status 206
  expect_header Content-Range 'bytes 0-204799/204800'
  expect_body_is "$DOCROOT/big.bin"
}

# bats test_tags=range
@test "a Range starting at or past the end answers 416 with bytes */SIZE" {
  local range
  for range in 204800- 999999-1000000; do
    fetch /big.bin -H "Range: bytes=$range"
    expect_status 416
    expect_header Content-Range 'bytes */204800'
  done
  still_serving
}

# bats test_tags=range
@test "several ranges answer 200 with the whole file" {
  fetch /big.bin -H 'Range: bytes=0-1,5-6'
  expect_status 200
  expect_body_is "$DOCROOT/big.bin"
}

# bats test_tags=range
@test "a malformed Range is ignored: 200 with the whole file" {
  fetch /big.bin -H 'Range: bytes=x-y'
  expect_status 200
  expect_body_is "$DOCROOT/big.bin"
}

# bats test_tags=range,methods
@test "HEAD with Range answers the 206 headers and no body" {
  req HEAD /big.bin 'Range: bytes=0-99\r\n'
  expect_status 206
  expect_header Content-Range 'bytes 0-99/204800'
  expect_header Content-Length 100
  expect_empty_body
}

# ---------------------------------------------------------------- connections

# bats test_tags=connections
@test "HTTP/1.1 is persistent by default and says Keep-Alive: timeout=N" {
  send 'GET /file.txt HTTP/1.1\r\nHost: t\r\n\r\nGET /page.html HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
  [ "$(all_statuses)" = "200 200" ] || { echo "statuses: '$(all_statuses)'"; false; }
  expect_header_match Keep-Alive '^timeout=2([^0-9]|$)'
  local v
  if v=$(hdr Connection) && [ "${v,,}" = close ]; then echo "the first response says Connection: close"; false; fi
}

# bats test_tags=connections
@test "Connection: close is answered with Connection: close and the server closes" {
  local start
  start=$(now_ms)
  req GET /file.txt
  expect_status 200
  expect_closing
  [ $(($(now_ms) - start)) -lt 1500 ] ||
    { echo "the server held the connection $(($(now_ms) - start)) ms"; false; }
}

# bats test_tags=connections
@test "HTTP/1.0 without keep-alive: one response, then the server closes" {
  local start
  start=$(now_ms)
  send 'GET /file.txt HTTP/1.0\r\n\r\nGET /page.html HTTP/1.0\r\n\r\n'
  expect_status 200
  [ "$(count_responses)" = 1 ] || { echo "$(count_responses) responses, expected 1"; false; }
  [ $(($(now_ms) - start)) -lt 1500 ] ||
    { echo "the server held the connection $(($(now_ms) - start)) ms"; false; }
  still_serving
}

# bats test_tags=connections
@test "HTTP/1.0 with Connection: keep-alive stays open" {
  send 'GET /file.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /page.html HTTP/1.0\r\n\r\n'
  [ "$(all_statuses)" = "200 200" ] || { echo "statuses: '$(all_statuses)'"; false; }
  local v
  v=$(hdr Connection) || { echo "no Connection header on the kept-alive 1.0 response"; false; }
  [ "${v,,}" = keep-alive ] || { echo "Connection: '$v', expected keep-alive"; false; }
}

# bats test_tags=connections
@test "close on any of several Connection lines wins: the server closes" {
  local start
  start=$(now_ms)
  send 'GET /file.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n'
  expect_status 200
  expect_closing
  [ $(($(now_ms) - start)) -lt 1500 ] ||
    { echo "the server held the connection $(($(now_ms) - start)) ms"; false; }
}

# bats test_tags=connections
@test "an empty line after a request starts no request: the idle close comes without a 408" {
  send 'GET /file.txt HTTP/1.1\r\nHost: t\r\n\r\n\r\n' 6
  [ "$(all_statuses)" = 200 ] || { echo "statuses: '$(all_statuses)', expected the 200 alone"; false; }
}

# bats test_tags=connections
@test "three pipelined requests in one write are answered in order" {
  send 'GET /page.html HTTP/1.1\r\nHost: t\r\n\r\n'\
'GET /style.css HTTP/1.1\r\nHost: t\r\n\r\n'\
'GET /README HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
  [ "$(all_statuses)" = "200 200 200" ] || { echo "statuses: '$(all_statuses)'"; false; }
  local order
  order=$(grep -a -o -E 'PAGE-HTML-MARKER|CSS-MARKER|NOEXT-MARKER' "$RESP" | tr '\n' ' ')
  [ "$order" = 'PAGE-HTML-MARKER CSS-MARKER NOEXT-MARKER ' ] || { echo "bodies in order: $order"; false; }
}

# bats test_tags=connections
@test "a request split over several writes is served" {
  send_pieces 'GE' 'T /fi' 'le.txt HTTP/1.1\r' '\nHost: t\r\nConn' 'ection: close\r\n' '\r\n'
  expect_status 200
  expect_body_is "$DOCROOT/file.txt"
}

# bats test_tags=connections
@test "an idle connection is closed after the timeout" {
  local start elapsed rc=0
  start=$(now_ms)
  timeout 5 bash -c 'exec 5<>"/dev/tcp/127.0.0.1/$1" && cat <&5 >/dev/null' idle "$PORT" 3>&- || rc=$?
  elapsed=$(($(now_ms) - start))
  [ "$rc" -ne 124 ] || { echo "still open after 5 s (server started with -t 2)"; false; }
  [ "$elapsed" -ge 1000 ] || { echo "closed after $elapsed ms, before the 2 s timeout"; false; }
  still_serving
}

# bats test_tags=connection,hostile
@test "a request that never completes answers 408 and closes at the timeout (slowloris)" {
  local start elapsed
  start=$(now_ms)
  # Half a request line, then silence: the whole request must arrive within -t 2.
  send 'GET /file.txt HTTP/1.1\r\nHost: x\r\nX-Slow: ' 6
  elapsed=$(($(now_ms) - start))
  expect_status 408
  grep -a -qi '^Connection: close' "$HEAD" || { echo "no Connection: close"; cat "$HEAD"; false; }
  [ "$elapsed" -lt 5500 ] || { echo "answered after $elapsed ms"; false; }
  still_serving
}

# bats test_tags=hostile
@test "a TLS handshake on the plain port answers 400 at once and closes" {
  send '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03'
  expect_status 400
  still_serving
}

# ---------------------------------------------------------------- built-in pages

# bats test_tags=builtin
@test "/_/info names the stage, the caller, its browser and OS, and the process" {
  fetch /_/info -A "$FIREFOX_UA"
  expect_status 200
  expect_header_match Content-Type '^text/html'
  expect_body_has "$STAGE"
  expect_body_has 127.0.0.1
  expect_body_has Firefox
  expect_body_has Linux
  if [ "$STAGE" != 03-fork ]; then # 03 serves from a child, whose pid is not known here
    grep -a -q -w -e "$SERVER_PID" "$BODY" || { echo "the server's pid $SERVER_PID is not on the page"; false; }
  fi
}

# json_value KEY: the value of KEY in $BODY, which must be one JSON object (RFC 8259)
# and nothing else: strings as UTF-8 text, null as "null". python3, else jq, parses it.
json_value() {
  if command -v python3 >/dev/null; then
    python3 -c 'import json, sys
v = json.load(open(sys.argv[1], encoding="utf-8"))[sys.argv[2]]
sys.stdout.buffer.write(b"null" if v is None else v.encode("utf-8"))' "$BODY" "$1" ||
      { echo "not a JSON object with \"$1\": $(head -c 600 "$BODY")"; return 1; }
  else
    jq -j -e --arg k "$1" 'if has($k) then .[$k] // "null" else error("no key") end' "$BODY" ||
      { echo "not a JSON object with \"$1\": $(head -c 600 "$BODY")"; return 1; }
  fi
}

# expect_json_value KEY VALUE: $BODY is a JSON object whose KEY is the string VALUE.
expect_json_value() {
  local v
  v=$(json_value "$1") || return 1
  [ "$v" = "$2" ] || { echo "expected \"$1\": \"$2\", got \"$v\""; return 1; }
}

# No python3 nor jq: nothing here can read JSON.
need_json_parser() {
  command -v python3 >/dev/null || command -v jq >/dev/null || skip "needs python3 or jq to parse JSON"
}

# bats test_tags=builtin
@test "/_/info.json answers the facts of /_/info as JSON: stage, caller, browser and OS, process" {
  need_json_parser
  fetch /_/info.json -A "$FIREFOX_UA"
  expect_status 200
  expect_header Content-Type application/json
  expect_header Cache-Control no-store
  expect_length_matches_body
  expect_json_value address 127.0.0.1
  expect_json_value browser Firefox
  expect_json_value system Linux
  expect_json_value user_agent "$FIREFOX_UA"
  expect_json_value stage "$STAGE"
  local who
  who=$(json_value served_by)
  [[ $who =~ ^pid=([0-9]+)( thread=[0-9]+)?$ ]] || { echo "served_by '$who' is not pid=N [thread=N]"; false; }
  if [ "$STAGE" != 03-fork ]; then # 03 serves from a child, whose pid is not known here
    [ "${BASH_REMATCH[1]}" = "$SERVER_PID" ] || { echo "served_by '$who', the server is pid $SERVER_PID"; false; }
  fi
}

# bats test_tags=builtin,security
@test "/_/info.json escapes a hostile User-Agent: valid ASCII JSON, the same text back, no markup" {
  need_json_parser
  # Quotes, backslashes, markup, a tab (the one control character a field may hold) and
  # two bytes over 0x7f (read as ISO-8859-1: e9 is U+00E9).
  req GET /_/info.json 'User-Agent: Evil "quoted" \\back\\slash </script><b>&\tx \xe9t\xe9\r\n'
  expect_status 200
  expect_json_value user_agent "$(printf 'Evil "quoted" \\back\\slash </script><b>&\tx \xc3\xa9t\xc3\xa9')"
  expect_json_value browser unknown
  [ "$(tr -d '\000-\177' <"$BODY" | wc -c)" -eq 0 ] || { echo "bytes over 0x7f in the JSON"; false; }
  if grep -a -q -e '[<>&]' "$BODY"; then
    echo "a raw <, > or & in the JSON: it could close a <script> it is put in"
    false
  fi
}

# bats test_tags=builtin
@test "/_/history lists this address's earlier requests, newest first" {
  fetch /h-first.txt
  expect_status 200
  fetch /h-second.txt
  expect_status 200
  fetch /_/history
  expect_status 200
  expect_header_match Content-Type '^text/html'
  local first second
  first=$(offset_in_body /h-first.txt) second=$(offset_in_body /h-second.txt)
  [ "$first" -ge 0 ] && [ "$second" -ge 0 ] || { echo "missing: first at $first, second at $second"; false; }
  [ "$second" -lt "$first" ] || { echo "/h-second.txt (at $second) is not before /h-first.txt (at $first)"; false; }
}

# bats test_tags=builtin,security
@test "/_/history links only local paths: a target with a backslash is shown as text" {
  send 'GET /\\evil.example/x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
  expect_status 400
  fetch /_/history
  expect_status 200
  expect_body_has '<td>/\evil.example/x</td>'
  expect_reply_lacks 'href="/\'
}

# bats test_tags=builtin
@test "an unknown built-in page /_/nope answers 404" {
  req GET /_/nope
  expect_error_page 404
}
