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
	{ "LF-only lines", "GET / HTTP/1.1\nHost: x\n\n", S_OK, true },
	{ "leading empty line", "\r\nGET /" H11 "\r\n", S_OK, true },
	{ "HTTP/1.2 is 1.x", "GET / HTTP/1.2\r\nHost: x\r\n\r\n", S_OK, true },
	{ "unknown method parses", "BREW /" H11 "\r\n", S_OK, true },
	{ "POST with body", "POST /" H11 "Content-Length: 3\r\n\r\nabc", S_OK, true },
	{ "same length twice", "POST /" H11 "Content-Length: 3\r\nContent-Length: 3\r\n\r\n", S_OK, true },
	{ "Transfer-Encoding closes", "POST /" H11 "Transfer-Encoding: chunked\r\n\r\n", S_OK, false },
	{ "value with obs-text", "GET /" H11 "X: caf\xc3\xa9\r\n\r\n", S_OK, true },
	{ "empty value", "GET /" H11 "X:\r\n\r\n", S_OK, true },
	{ "tab around value", "GET /" H11 "X:\tv\t\r\n\r\n", S_OK, true },
	{ "absolute-form", "GET http://x/a" H11 "\r\n", S_OK, true },

	{ "nothing yet", "", S_NEED_MORE, false },
	{ "half a line", "GET / HT", S_NEED_MORE, false },
	{ "no empty line", "GET /" H11, S_NEED_MORE, false },
	{ "half a header", "GET /" H11 "Accept: te", S_NEED_MORE, false },

	{ "HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n", S_BAD_REQUEST, false },
	{ "two Hosts", "GET /" H11 "Host: y\r\n\r\n", S_BAD_REQUEST, false },
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
	{ "TE and CL", "POST /" H11 "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", S_BAD_REQUEST, false },
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
}
