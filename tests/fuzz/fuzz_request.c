/* fuzz_request: libFuzzer harness for the request parser, http_parse(), the chunked
 * body reader, http_chunked(), and the helpers that read what a client wrote in a
 * header (Range, If-None-Match, HTTP dates, Connection's tokens, HTML escaping of
 * User-Agent and Referer).
 *
 * The input is the bytes a client sent. The helpers are fed the header values of the
 * requests the parser accepts: that is the only text they ever see in a server, and it
 * keeps the committed corpus plain HTTP. Any broken invariant calls abort(), which
 * libFuzzer reports as a crash and saves the input. Built by `make fuzz`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "buf.h"
#include "file.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stop at once and say which rule broke: the saved input shows the rest. */
#define require(cond) do { if (!(cond)) fail(#cond, __LINE__); } while (0)

static void fail(const char *what, int line)
{
	fprintf(stderr, "fuzz_request.c:%d: invariant broken: %s\n", line, what);
	abort();
}

/* A slice of the parsed request is empty, or lies inside the head buf[0..head). */
static void require_inside(struct slice s, const char *buf, size_t head)
{
	if (s.n == 0)
		return;
	require(s.p != NULL);
	require(s.p >= buf && s.p + s.n <= buf + head);
	require(memchr(s.p, '\r', s.n) == NULL && memchr(s.p, '\n', s.n) == NULL);
	require(memchr(s.p, '\0', s.n) == NULL);
}

static int same_slice(struct slice a, struct slice b)
{
	return a.n == b.n && (a.n == 0 || a.p == b.p);
}

/* Two parses of the same head found the same request. */
static int same_request(const struct request *a, const struct request *b)
{
	return a->method == b->method && a->minor == b->minor &&
	       a->content_length == b->content_length &&
	       same_slice(a->transfer_encoding, b->transfer_encoding) &&
	       a->keep_alive == b->keep_alive && a->head_len == b->head_len &&
	       same_slice(a->method_name, b->method_name) && same_slice(a->target, b->target) &&
	       same_slice(a->version, b->version) && same_slice(a->host, b->host) &&
	       same_slice(a->user_agent, b->user_agent) && same_slice(a->referer, b->referer) &&
	       a->conn_close == b->conn_close && a->conn_keep_alive == b->conn_keep_alive &&
	       same_slice(a->if_none_match, b->if_none_match) &&
	       same_slice(a->if_modified_since, b->if_modified_since) &&
	       same_slice(a->range, b->range) && same_slice(a->if_range, b->if_range);
}

/* What a parse returns: "need more" or a status the server knows how to answer. */
static void require_status(enum status st)
{
	require(st == S_NEED_MORE || (st >= 100 && st <= 599));
	require(st == S_NEED_MORE || strcmp(http_reason(st), "Unknown") != 0);
}

/* The rules every request the parser accepts must keep. */
static void check_accepted(const struct request *r, const char *buf, size_t len)
{
	size_t h = r->head_len;

	require(h > 0 && h <= len);
	/* Up to two empty lines, the request line with its CRLF, the header section. */
	require(h <= 4 + HTTP_LINE_MAX + 2 + HTTP_HEADERS_MAX);
	/* The head ends with an empty line: "\n\n" or "\n\r\n". */
	require(h >= 2 && buf[h - 1] == '\n');
	require(buf[h - 2] == '\n' || (h >= 3 && buf[h - 2] == '\r' && buf[h - 3] == '\n'));
	require_inside(r->method_name, buf, h);
	require_inside(r->target, buf, h);
	require_inside(r->version, buf, h);
	require_inside(r->host, buf, h);
	require_inside(r->user_agent, buf, h);
	require_inside(r->referer, buf, h);
	require_inside(r->if_none_match, buf, h);
	require_inside(r->if_modified_since, buf, h);
	require_inside(r->range, buf, h);
	require_inside(r->if_range, buf, h);
	require_inside(r->transfer_encoding, buf, h);
	require(r->method_name.n > 0 && r->target.n > 0 && r->version.n == 8);
	require(memcmp(r->version.p, "HTTP/1.", 7) == 0 && r->minor == r->version.p[7] - '0');
	require(memchr(r->target.p, ' ', r->target.n) == NULL);
	require(r->method == M_UNKNOWN ||
		(r->method_name.n == strlen(http_method_name(r->method)) &&
		 memcmp(r->method_name.p, http_method_name(r->method), r->method_name.n) == 0));
	require(r->minor == 0 || r->host.p != NULL);	/* HTTP/1.1 without Host is 400 */
	require(r->content_length >= -1 && r->content_length <= HTTP_BODY_MAX);
	/* Transfer-Encoding is accepted as "chunked" alone, in HTTP/1.1, without a length. */
	if (r->transfer_encoding.p)
		require(slice_eq(r->transfer_encoding, "chunked") && r->minor >= 1 &&
			r->content_length == -1);
}

/* Parse a copy of buf[0..n) in a buffer of exactly n bytes, so that ASan sees any read
 * past the bytes received so far. Returns the status; *r points into the copy, which
 * is freed: only the status, head_len and the slices' offsets are usable. */
static enum status parse_copy(const char *buf, size_t n, struct request *r)
{
	char *copy = malloc(n ? n : 1);
	require(copy != NULL);
	memcpy(copy, buf, n);
	enum status st = http_parse(r, copy, n);
	free(copy);
	return st;
}

/* The bytes arriving in two reads: the first n bytes, then all of them. A server asks
 * again only after "need more", so a prefix must answer "need more" or what the whole
 * answers: the same request (same head), or an error too (which one may differ: the
 * whole can break an earlier rule than the limit the prefix hit). */
static void check_prefix(const char *buf, size_t n, enum status whole, const struct request *w)
{
	struct request r;
	enum status st = parse_copy(buf, n, &r);

	require_status(st);
	if (st == S_NEED_MORE)
		return;
	if (st == S_OK) {
		require(whole == S_OK && r.head_len == w->head_len);
		return;
	}
	require(whole != S_OK && whole != S_NEED_MORE);
}

/* Where to split the input: the first bytes, the last ones before the end of the
 * head, and a few places picked from the data itself. */
static void check_prefixes(const char *buf, size_t len, enum status whole, const struct request *w)
{
	size_t end = whole == S_OK ? w->head_len : len;
	size_t seed = 0;

	for (size_t i = 0; i < len && i < 16; i++)
		seed = seed * 31 + (unsigned char)buf[i];
	for (size_t n = 0; n < end && n < 8; n++)
		check_prefix(buf, n, whole, w);
	for (size_t k = 1; k <= 3 && k <= end; k++)
		check_prefix(buf, end - k, whole, w);
	for (int i = 0; i < 4 && end > 0; i++, seed = seed * 1103515245 + 12345)
		check_prefix(buf, seed % end, whole, w);
}

/* Read a chunked body from a copy of buf[0..n) of exactly n bytes (see parse_copy). */
static enum status chunked_copy(struct chunked *k, const char *buf, size_t n, size_t *used)
{
	char *copy = malloc(n ? n : 1);
	require(copy != NULL);
	memcpy(copy, buf, n);
	*used = (size_t)-1;
	enum status st = http_chunked(k, copy, n, used);
	free(copy);
	require(st == S_NEED_MORE || st == S_OK || st == S_BAD_REQUEST || st == S_PAYLOAD_TOO_LARGE);
	require(*used <= n && (st != S_NEED_MORE || *used == n));
	return st;
}

/* A chunked body: read at once, in two pieces split at cut, and a byte at a time, it
 * ends (or fails) at the same byte with the same answer. Returns where it ended: the
 * next request starts there. */
static size_t check_chunked(const char *body, size_t len, size_t cut)
{
	struct chunked k = { 0 }, k2 = { 0 }, k3 = { 0 };
	size_t used, u1, u2;
	enum status st = chunked_copy(&k, body, len, &used), st2;

	if (st == S_OK)	/* it ends with the CRLF of the last chunk or trailer section */
		require(used >= 5 && body[used - 2] == '\r' && body[used - 1] == '\n');
	if (st != S_PAYLOAD_TOO_LARGE)
		require(k.total <= HTTP_BODY_MAX);

	cut = len ? cut % (len + 1) : 0;
	if ((st2 = chunked_copy(&k2, body, cut, &u1)) == S_NEED_MORE) {
		st2 = chunked_copy(&k2, body + cut, len - cut, &u2);
		u1 += u2;
	}
	require(st2 == st && u1 == used);

	size_t i = 0;
	for (st2 = S_NEED_MORE; st2 == S_NEED_MORE && i < len; i++)
		require((st2 = chunked_copy(&k3, body + i, 1, &u1)) == S_NEED_MORE || u1 == 1);
	require(st2 == st && i == used);
	return st == S_OK ? used : len;
}

/* Range: a satisfiable range lies inside the file and is not empty. */
static void check_range(struct slice spec)
{
	static const off_t sizes[] = { 0, 1, 2, 10, 4096, (off_t)1 << 40 };

	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		off_t from = -1, n = -1;
		enum range_result rr = file_range(spec, sizes[i], &from, &n);
		require(rr == RANGE_NONE || rr == RANGE_OK || rr == RANGE_UNSATISFIABLE);
		if (rr == RANGE_OK)
			require(from >= 0 && n >= 1 && from + n <= sizes[i]);
		if (rr == RANGE_UNSATISFIABLE)
			require(spec.n >= 6 && strncasecmp(spec.p, "bytes=", 6) == 0);
	}
}

/* Does the slice contain needle (case-insensitive)? */
static int contains(struct slice s, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= s.n; i++)
		if (strncasecmp(s.p + i, needle, n) == 0)
			return 1;
	return 0;
}

/* If-None-Match: a match needs the tag itself, or "*", in the list. */
static void check_etag(struct slice list)
{
	static const char *const tags[] = { "\"1-2.3\"", "\"abc\"", "\"\"" };

	for (size_t i = 0; i < sizeof tags / sizeof *tags; i++)
		if (file_etag_matches(list, tags[i]))
			require(contains(list, tags[i]) || memchr(list.p, '*', list.n));
}

/* A date we accept is not before 1970 (we refuse those years), and turns back into the
 * same instant when we write and read it again (up to the year 9999: file_date() has
 * room for four digits). */
static void check_date(struct slice s)
{
	time_t t, again;
	char text[FILE_DATE_LEN];

	if (!file_parse_date(s, &t))
		return;
	require(t >= 0);
	if (t >= (time_t)253402300800)	/* 10000-01-01 */
		return;
	file_date(t, text);
	require(file_parse_date((struct slice){ text, strlen(text) }, &again));
	require(again == t);
}

/* HTML escaping: nothing that could open a tag or end an attribute is left. */
static void check_html(struct slice s)
{
	struct buf b;

	buf_init(&b);
	buf_html(&b, s.p, s.n);
	require(!b.failed && b.len >= s.n);
	for (size_t i = 0; i < b.len; i++)
		require(b.data[i] != '<' && b.data[i] != '>' && b.data[i] != '"' && b.data[i] != '\'');
	buf_free(&b);
}

/* The helpers, on the header values of an accepted request, when present (the
 * server calls them only then). */
static void check_helpers(const struct request *r)
{
	if (r->range.p)
		check_range(r->range);
	if (r->if_none_match.p)
		check_etag(r->if_none_match);
	if (r->if_modified_since.p)
		check_date(r->if_modified_since);
	if (r->if_range.p)
		check_date(r->if_range);
	if (r->user_agent.p)
		check_html(r->user_agent);
	if (r->referer.p)
		check_html(r->referer);
	if (r->conn_close)	/* "close" wins, in any version */
		require(!r->keep_alive);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct request r, again;
	enum status st = http_parse(&r, buf, size);

	require_status(st);
	if (st == S_OK) {
		check_accepted(&r, buf, size);
		/* The head alone is the same request: what follows it plays no part. */
		require(http_parse(&again, buf, r.head_len) == S_OK && same_request(&r, &again));
		check_helpers(&r);
	}
	check_prefixes(buf, size, st, &r);
	if (st != S_OK)
		return 0;
	/* A chunked body, then pipelining: the request after this one parses as well. */
	size_t next = r.head_len;
	if (r.transfer_encoding.p)
		next += check_chunked(buf + next, size - next, r.head_len * 7919 + size);
	if (next < size)
		require_status(http_parse(&again, buf + next, size - next));
	return 0;
}
