/* The request parser: one line per case, the bytes and the verdict. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "http.h"

#define H11 " HTTP/1.1\r\nHost: x\r\n"

static const struct {
	const char *name, *in;
	enum status want;
	bool keep_alive;	/* checked when want is S_OK */
} cases[] = {
	{ "simple GET", "GET /" H11 "\r\n", S_OK, true },
	{ "HEAD", "HEAD /a.txt" H11 "\r\n", S_OK, true },
	{ "HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", S_OK, false },
	{ "HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", S_OK, true },
	{ "Connection: close", "GET /" H11 "Connection: close\r\n\r\n", S_OK, false },
	{ "close among tokens", "GET /" H11 "Connection: foo, close\r\n\r\n", S_OK, false },
	{ "close on an earlier line", "GET /" H11 "Connection: close\r\nConnection: keep-alive\r\n\r\n",
	  S_OK, false },
	{ "HTTP/1.0 close beats keep-alive", "GET / HTTP/1.0\r\nConnection: close, keep-alive\r\n\r\n",
	  S_OK, false },
	{ "HTTP/1.0 keep-alive on a second line", "GET / HTTP/1.0\r\nConnection: foo\r\nConnection: keep-alive\r\n\r\n",
	  S_OK, true },
	{ "Host with port", "GET / HTTP/1.1\r\nHost: example.org:8080\r\n\r\n", S_OK, true },
	{ "Host IPv6 literal", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", S_OK, true },
	{ "empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", S_OK, true },
	{ "LF-only lines", "GET / HTTP/1.1\nHost: x\n\n", S_OK, true },
	{ "leading empty line", "\r\nGET /" H11 "\r\n", S_OK, true },
	{ "HTTP/1.2 is 1.x", "GET / HTTP/1.2\r\nHost: x\r\n\r\n", S_OK, true },
	{ "unknown method parses", "BREW /" H11 "\r\n", S_OK, true },
	{ "POST with body", "POST /" H11 "Content-Length: 3\r\n\r\nabc", S_OK, true },
	{ "length with leading zeros", "POST /" H11 "Content-Length: 003\r\n\r\nabc", S_OK, true },
	{ "chunked body", "POST /" H11 "Transfer-Encoding: chunked\r\n\r\n", S_OK, true },
	{ "chunked, any case", "POST /" H11 "transfer-encoding: Chunked\r\n\r\n", S_OK, true },
	{ "value with obs-text", "GET /" H11 "X: caf\xc3\xa9\r\n\r\n", S_OK, true },
	{ "empty value", "GET /" H11 "X:\r\n\r\n", S_OK, true },
	{ "tab around value", "GET /" H11 "X:\tv\t\r\n\r\n", S_OK, true },
	{ "absolute-form", "GET http://x/a" H11 "\r\n", S_OK, true },

	{ "nothing yet", "", S_NEED_MORE, false },
	{ "half a line", "GET / HT", S_NEED_MORE, false },
	{ "no empty line", "GET /" H11, S_NEED_MORE, false },
	{ "half a header", "GET /" H11 "Accept: te", S_NEED_MORE, false },
	{ "lone CR", "\r", S_NEED_MORE, false },
	{ "CRLF then CR", "\r\n\r", S_NEED_MORE, false },

	{ "HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n", S_BAD_REQUEST, false },
	{ "two Hosts", "GET /" H11 "Host: y\r\n\r\n", S_BAD_REQUEST, false },
	{ "Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", S_BAD_REQUEST, false },
	{ "Host with a path", "GET / HTTP/1.1\r\nHost: a/b@c\r\n\r\n", S_BAD_REQUEST, false },
	{ "no version", "GET /\r\n\r\n", S_BAD_REQUEST, false },
	{ "lowercase version", "GET / http/1.1\r\nHost: x\r\n\r\n", S_BAD_REQUEST, false },
	{ "short version", "GET / HTTP/1\r\nHost: x\r\n\r\n", S_BAD_REQUEST, false },
	{ "trailing space", "GET / HTTP/1.1 \r\nHost: x\r\n\r\n", S_BAD_REQUEST, false },
	{ "two spaces", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", S_BAD_REQUEST, false },
	{ "space in target", "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", S_BAD_REQUEST, false },
	{ "bad method char", "GE(T / HTTP/1.1\r\nHost: x\r\n\r\n", S_BAD_REQUEST, false },
	{ "no colon", "GET /" H11 "Broken\r\n\r\n", S_BAD_REQUEST, false },
	{ "space before colon", "GET /" H11 "Accept : x\r\n\r\n", S_BAD_REQUEST, false },
	{ "obs-fold", "GET /" H11 "X: a\r\n b\r\n\r\n", S_BAD_REQUEST, false },
	{ "bare CR in value", "GET /" H11 "X: a\rb\r\n\r\n", S_BAD_REQUEST, false },
	{ "control in value", "GET /" H11 "X: a\x01" "b\r\n\r\n", S_BAD_REQUEST, false },
	{ "empty name", "GET /" H11 ": v\r\n\r\n", S_BAD_REQUEST, false },
	{ "bad length", "POST /" H11 "Content-Length: abc\r\n\r\n", S_BAD_REQUEST, false },
	{ "negative length", "POST /" H11 "Content-Length: -1\r\n\r\n", S_BAD_REQUEST, false },
	{ "two lengths", "POST /" H11 "Content-Length: 3\r\nContent-Length: 4\r\n\r\n", S_BAD_REQUEST, false },
	{ "same length twice", "POST /" H11 "Content-Length: 3\r\nContent-Length: 3\r\n\r\n", S_BAD_REQUEST, false },
	{ "length list", "POST /" H11 "Content-Length: 3, 3\r\n\r\n", S_BAD_REQUEST, false },
	{ "length with sign", "POST /" H11 "Content-Length: +3\r\n\r\n", S_BAD_REQUEST, false },
	{ "length of 19 digits", "POST /" H11 "Content-Length: 1000000000000000000\r\n\r\n", S_BAD_REQUEST, false },
	{ "TE and CL", "POST /" H11 "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", S_BAD_REQUEST, false },
	{ "CL and TE", "POST /" H11 "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", S_BAD_REQUEST, false },
	{ "TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", S_BAD_REQUEST, false },
	{ "TE gzip: no end", "POST /" H11 "Transfer-Encoding: gzip\r\n\r\n", S_BAD_REQUEST, false },
	{ "TE chunked, gzip", "POST /" H11 "Transfer-Encoding: chunked, gzip\r\n\r\n", S_BAD_REQUEST, false },
	{ "TE identity", "POST /" H11 "Transfer-Encoding: identity\r\n\r\n", S_BAD_REQUEST, false },
	{ "TE twice", "POST /" H11 "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	  S_BAD_REQUEST, false },
	{ "TE empty", "POST /" H11 "Transfer-Encoding:\r\n\r\n", S_BAD_REQUEST, false },
	{ "TE gzip, chunked", "POST /" H11 "Transfer-Encoding: gzip, chunked\r\n\r\n", S_NOT_IMPLEMENTED, false },
	{ "TLS handshake", "\x16\x03\x01\x02", S_BAD_REQUEST, false },
	{ "body too large", "POST /" H11 "Content-Length: 1048577\r\n\r\n", S_PAYLOAD_TOO_LARGE, false },
	{ "HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", S_VERSION_NOT_SUPPORTED, false },
	{ "HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", S_VERSION_NOT_SUPPORTED, false },
	{ "h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", S_VERSION_NOT_SUPPORTED, false },
};

/* The limits need long inputs: built here rather than written out. */
static void test_limits(void)
{
	static char big[HTTP_LINE_MAX + HTTP_HEADERS_MAX + 256];
	struct request r;
	size_t n;

	/* a target of exactly the limit is fine */
	n = (size_t)sprintf(big, "GET /");
	memset(big + n, 'a', HTTP_LINE_MAX - 14);	/* "GET /" and " HTTP/1.1" are 14 */
	n += HTTP_LINE_MAX - 14;
	n += (size_t)sprintf(big + n, " HTTP/1.1\r\nHost: x\r\n\r\n");
	check(http_parse(&r, big, n) == S_OK, "http", "line at the limit", "want 200");

	/* one byte over, without even an end of line: 414 at once */
	memset(big, 'a', sizeof big);
	memcpy(big, "GET /", 5);
	check(http_parse(&r, big, HTTP_LINE_MAX + 2) == S_URI_TOO_LONG, "http", "line over the limit", "want 414");
	check(http_parse(&r, big, HTTP_LINE_MAX) == S_NEED_MORE, "http", "long line arriving", "want need-more");

	/* header section over 8 KiB, complete or not */
	n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: x\r\n");
	while (n < HTTP_HEADERS_MAX + 64)
		n += (size_t)sprintf(big + n, "X-Filler: %050d\r\n", 0);
	check(http_parse(&r, big, n) == S_HEADER_FIELDS_TOO_LARGE, "http", "headers over 8 KiB", "want 431");
	n += (size_t)sprintf(big + n, "\r\n");
	check(http_parse(&r, big, n) == S_HEADER_FIELDS_TOO_LARGE, "http", "complete, over 8 KiB", "want 431");
}

/* The fields the response needs, and head_len for pipelining. */
static void test_fields(void)
{
	static const char in[] = "GET /x?y HTTP/1.1\r\nhost: h\r\nRange: bytes=1-2\r\n"
				 "If-None-Match: \"a\"\r\nUser-Agent:  ua  \r\n\r\nGET /next";
	struct request r;

	check(http_parse(&r, in, sizeof in - 1) == S_OK, "http", "fields", "want 200");
	check(r.method == M_GET && slice_eq(r.target, "/x?y") && r.minor == 1, "http", "request line", "method/target/minor");
	check(slice_eq(r.host, "h") && slice_eq(r.range, "bytes=1-2") && slice_eq(r.if_none_match, "\"a\""),
	      "http", "field values", "host/range/inm");
	check(slice_eq(r.user_agent, "ua"), "http", "value trimmed", "got '%.*s'", (int)r.user_agent.n, r.user_agent.p);
	check(r.head_len == sizeof in - 1 - strlen("GET /next"), "http", "head_len", "got %zu", r.head_len);
	static const char cl[] = "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n";
	check(http_parse(&r, cl, sizeof cl - 1) == S_OK &&
	      r.content_length == 12, "http", "content length", "got %lld", r.content_length);
	check(r.method == M_GET && strcmp(http_reason(S_NOT_FOUND), "Not Found") == 0 &&
	      strcmp(http_method_name(M_PATCH), "PATCH") == 0, "http", "tables", "reason/method names");
}

/* Chunked bodies: each is fed whole, then a byte at a time (the verdict and where the
 * body ends must not depend on how the bytes arrive). "used" counts from the start. */
static const struct {
	const char *name, *in;
	enum status want;
	size_t used;		/* checked when want is S_OK */
} chunk_cases[] = {
	{ "last chunk only", "0\r\n\r\n", S_OK, 5 },
	{ "two chunks", "3\r\nabc\r\na\r\n0123456789\r\n0\r\n\r\n", S_OK, 28 },
	{ "next request behind", "1\r\nx\r\n0\r\n\r\nGET /", S_OK, 11 },
	{ "hex in either case", "A\r\n0123456789\r\n0\r\n\r\n", S_OK, 20 },
	{ "extensions", "3;a=b;c\r\nabc\r\n0 ; last\r\n\r\n", S_OK, 26 },
	{ "trailer fields", "0\r\nX-Sum: 1\r\nY: 2\r\n\r\n", S_OK, 21 },
	{ "leading zeros", "0003\r\nabc\r\n0\r\n\r\n", S_OK, 16 },
	{ "data with CRLF inside", "4\r\n\r\n\r\n\r\n0\r\n\r\n", S_OK, 14 },
	{ "not ended", "3\r\nabc\r\n", S_NEED_MORE, 0 },
	{ "no final CRLF", "0\r\n", S_NEED_MORE, 0 },
	{ "no size", "\r\nabc\r\n", S_BAD_REQUEST, 0 },
	{ "size not hex", "g\r\n", S_BAD_REQUEST, 0 },
	{ "signed size", "+3\r\nabc\r\n0\r\n\r\n", S_BAD_REQUEST, 0 },
	{ "space inside size", "1 2\r\n", S_BAD_REQUEST, 0 },
	{ "bare LF after size", "3\nabc\r\n0\r\n\r\n", S_BAD_REQUEST, 0 },
	{ "bare LF in extension", "3;a\nabc\r\n", S_BAD_REQUEST, 0 },
	{ "data longer than size", "3\r\nabcd\r\n0\r\n\r\n", S_BAD_REQUEST, 0 },
	{ "no CRLF after data", "3\r\nabc0\r\n\r\n", S_BAD_REQUEST, 0 },
	{ "bare LF after data", "3\r\nabc\n0\r\n\r\n", S_BAD_REQUEST, 0 },
	{ "bad trailer", "0\r\n: x\r\n\r\n", S_BAD_REQUEST, 0 },
	{ "bare LF at the end", "0\r\n\n", S_BAD_REQUEST, 0 },
	{ "over 1 MiB in one", "100001\r\n", S_PAYLOAD_TOO_LARGE, 0 },
	{ "a size that overflows", "ffffffffffffffffffff\r\n", S_PAYLOAD_TOO_LARGE, 0 },
};

static void test_chunked(void)
{
	for (size_t i = 0; i < sizeof chunk_cases / sizeof *chunk_cases; i++) {
		const char *in = chunk_cases[i].in;
		size_t len = strlen(in), used = 0, at = 0, n;
		struct chunked whole = { 0 }, bytes = { 0 };
		enum status got = http_chunked(&whole, in, len, &used), one = S_NEED_MORE;

		if (check(got == chunk_cases[i].want, "chunked", chunk_cases[i].name, "want %d, got %d",
			  chunk_cases[i].want, got) && got == S_OK)
			check(used == chunk_cases[i].used, "chunked", chunk_cases[i].name, "used %zu, want %zu",
			      used, chunk_cases[i].used);
		while (one == S_NEED_MORE && at < len) {
			one = http_chunked(&bytes, in + at, 1, &n);
			at += n;
		}
		check(one == got && (got != S_OK || at == used), "chunked", chunk_cases[i].name,
		      "a byte at a time: got %d after %zu bytes", one, at);
	}

	/* many chunks adding up to just over 1 MiB: 413 at the chunk that passes it */
	static const char kib[] = "400\r\n";	/* 1 KiB of data follows each */
	static char data[1024 + 2];
	struct chunked k = { 0 };
	enum status st = S_NEED_MORE;
	size_t n;
	memset(data, 'x', 1024);
	memcpy(data + 1024, "\r\n", 2);
	for (int i = 0; i < 1100 && st == S_NEED_MORE; i++)
		if ((st = http_chunked(&k, kib, strlen(kib), &n)) == S_NEED_MORE)
			st = http_chunked(&k, data, sizeof data, &n);
	check(st == S_PAYLOAD_TOO_LARGE, "chunked", "1 KiB chunks past 1 MiB", "got %d", st);
}

void test_http(void)
{
	struct request r;

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		enum status got = http_parse(&r, cases[i].in, strlen(cases[i].in));
		if (check(got == cases[i].want, "http", cases[i].name, "want %d, got %d", cases[i].want, got) &&
		    got == S_OK)
			check(r.keep_alive == cases[i].keep_alive, "http", cases[i].name, "keep-alive should be %d",
			      cases[i].keep_alive);
	}
	test_limits();
	test_fields();
	test_chunked();
}
