/* reply.c: an incremental parser of HTTP/1.x responses (RFC 9112), fed from a buffer.
 *
 * Strict where a load tool should be (a malformed status line or header, two framings
 * at once, a bad chunk: the response is bad), lenient where RFC 9112 lets a recipient
 * be (a bare LF ends a line). Interim 1xx responses (100 Continue, 103 Early Hints)
 * are skipped: the request's response is the final one that follows.
 */
#include "reply.h"

#include <string.h>
#include <strings.h>

/* A chunk-size or trailer line longer than this is not a line we will wait for. */
#define LINE_LIMIT 8192

/* What the header fields of one response say about its framing. */
struct fields {
	int64_t length;  /* Content-Length, -1 when absent */
	int te;          /* Transfer-Encoding present */
	int chunked;     /* ... and its last coding is chunked */
	int close;       /* Connection: close */
	int keep_alive;  /* Connection: keep-alive */
};

/* Gets ready for the response to a new request. */
void reply_init(struct reply *r)
{
	memset(r, 0, sizeof *r);
	r->phase = RP_HEAD;
	r->keep_alive = 1;
}

/* True when the server closing the connection now completes the response. */
int reply_ends_at_close(const struct reply *r)
{
	return r->phase == RP_UNTIL_CLOSE;
}

/* A digit, without the locale and sign traps of isdigit(char). */
static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The value of a hexadecimal digit, or -1. */
static int hex_value(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A character allowed in a header name (RFC 9110 tchar). */
static int is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* True when p[0..n) has no control character but tab (status reason, field value). */
static int printable(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
	}
	return 1;
}

/* True when p[0..n) is `word`, ignoring case. */
static int same(const char *p, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(p, word, n) == 0;
}

/* Drops spaces and tabs at both ends of p[0..*n); returns the new start. */
static const char *trim(const char *p, size_t *n)
{
	while (*n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		(*n)--;
	}
	while (*n > 0 && (p[*n - 1] == ' ' || p[*n - 1] == '\t'))
		(*n)--;
	return p;
}

/* The length of the line at p without its LF or CRLF; *next is the line after it.
 * Only called where an LF is known to come before end. */
static size_t line_len(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n = (size_t)(nl - p);

	*next = nl + 1;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	return n;
}

/* The length of the header section at the start of buf (it ends with an empty line),
 * or 0 when it is not all there yet. r->scanned saves the search between calls. */
static size_t head_end(struct reply *r, const char *buf, size_t len)
{
	size_t i = r->scanned;
	const char *nl;

	while (i < len && (nl = memchr(buf + i, '\n', len - i)) != NULL) {
		size_t j = (size_t)(nl - buf) + 1; /* just after this LF */
		if (j < len && buf[j] == '\n')
			return j + 1;
		if (j + 1 < len && buf[j] == '\r' && buf[j + 1] == '\n')
			return j + 2;
		if (j == len || (j + 1 == len && buf[j] == '\r')) {
			r->scanned = j - 1; /* undecided: look at this LF again next time */
			return 0;
		}
		i = j;
	}
	r->scanned = len;
	return 0;
}

/* Parses "HTTP/1.x NNN reason"; sets the minor version and the status. */
static int parse_status_line(const char *p, size_t n, int *minor, int *status)
{
	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || !is_digit(p[7]) || p[8] != ' ')
		return -1;
	if (!is_digit(p[9]) || !is_digit(p[10]) || !is_digit(p[11]))
		return -1;
	if (n > 12 && p[12] != ' ')
		return -1;
	*minor = p[7] - '0';
	*status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (*status < 100 || *status > 599)
		return -1;
	return printable(p + 12, n - 12) ? 0 : -1;
}

/* Content-Length: digits only; a second one must say the same. */
static int field_length(struct fields *f, const char *v, size_t n)
{
	int64_t len = 0;
	size_t i;

	if (n == 0 || n > 18) /* 18 digits cannot overflow int64_t */
		return -1;
	for (i = 0; i < n; i++) {
		if (!is_digit(v[i]))
			return -1;
		len = len * 10 + (v[i] - '0');
	}
	if (f->length >= 0 && f->length != len)
		return -1;
	f->length = len;
	return 0;
}

/* Transfer-Encoding: what counts is whether the last coding is chunked. */
static void field_te(struct fields *f, const char *v, size_t n)
{
	const char *comma = v + n;
	size_t last;

	while (comma > v && comma[-1] != ',')
		comma--;
	last = n - (size_t)(comma - v);
	comma = trim(comma, &last);
	f->te = 1;
	f->chunked = same(comma, last, "chunked");
}

/* Connection: a comma-separated list of tokens; we care about two. */
static void field_connection(struct fields *f, const char *v, size_t n)
{
	while (n > 0) {
		const char *comma = memchr(v, ',', n);
		size_t len = comma ? (size_t)(comma - v) : n;
		size_t tlen = len;
		const char *tok = trim(v, &tlen);

		if (same(tok, tlen, "close"))
			f->close = 1;
		if (same(tok, tlen, "keep-alive"))
			f->keep_alive = 1;
		v += comma ? len + 1 : len;
		n -= comma ? len + 1 : len;
	}
}

/* Parses one "Name: value" line and notes what matters for framing. A line starting
 * with a space (obsolete line folding) has no name, so it is refused like garbage. */
static int parse_field(struct fields *f, const char *p, size_t n)
{
	size_t name = 0, vlen;
	const char *v;

	while (name < n && is_tchar(p[name]))
		name++;
	if (name == 0 || name == n || p[name] != ':')
		return -1;
	vlen = n - name - 1;
	v = trim(p + name + 1, &vlen);
	if (!printable(v, vlen))
		return -1;
	if (same(p, name, "content-length"))
		return field_length(f, v, vlen);
	if (same(p, name, "transfer-encoding"))
		field_te(f, v, vlen);
	else if (same(p, name, "connection"))
		field_connection(f, v, vlen);
	return 0;
}

/* Decides, from status and fields, how the body is delimited (RFC 9112 6.3). */
static enum reply_rc frame(struct reply *r, const struct fields *f, int minor)
{
	r->keep_alive = minor == 0 ? f->keep_alive && !f->close : !f->close;
	if (r->status == 101) /* Switching Protocols: no more HTTP on this connection */
		r->keep_alive = 0;
	if (r->status < 200 || r->status == 204 || r->status == 304)
		return REPLY_DONE; /* never a body, whatever the fields say */
	if (f->te && f->length >= 0)
		return REPLY_BAD; /* a server must not send both: a smuggling smell */
	if (f->te && f->chunked) {
		r->phase = RP_CHUNK_SIZE;
		return REPLY_MORE;
	}
	if (!f->te && f->length >= 0) {
		r->left = (uint64_t)f->length;
		r->phase = RP_BODY;
		return f->length == 0 ? REPLY_DONE : REPLY_MORE;
	}
	r->phase = RP_UNTIL_CLOSE; /* no length (or an unknown coding): read to the close */
	r->keep_alive = 0;
	return REPLY_MORE;
}

/* Parses a complete header section buf[0..n), which ends with an empty line. */
static enum reply_rc parse_head(struct reply *r, const char *buf, size_t n)
{
	struct fields f = { .length = -1 };
	const char *p = buf, *end = buf + n, *next;
	size_t len;
	int minor;

	len = line_len(p, end, &next);
	if (parse_status_line(p, len, &minor, &r->status) < 0)
		return REPLY_BAD;
	for (p = next; (len = line_len(p, end, &next)) > 0; p = next)
		if (parse_field(&f, p, len) < 0)
			return REPLY_BAD;
	if (r->status < 200 && r->status != 101)
		return REPLY_MORE; /* interim response: the final one comes next */
	return frame(r, &f, minor);
}

/* RP_HEAD: waits for the whole header section, then parses it. */
static enum reply_rc step_head(struct reply *r, const char *p, size_t n, size_t *used)
{
	size_t end = head_end(r, p, n);

	if (end == 0)
		return REPLY_MORE;
	*used = end;
	r->scanned = 0; /* the next head, if any, starts after this one */
	return parse_head(r, p, end);
}

/* RP_BODY and RP_CHUNK_DATA: counts up to `left` body bytes. */
static enum reply_rc step_data(struct reply *r, size_t n, size_t *used)
{
	uint64_t take = r->left < n ? r->left : n;

	r->left -= take;
	r->body += take;
	*used = (size_t)take;
	if (r->left > 0)
		return REPLY_MORE;
	if (r->phase == RP_BODY)
		return REPLY_DONE;
	r->phase = RP_CHUNK_END;
	return REPLY_MORE;
}

/* RP_CHUNK_SIZE: "1a2b[;extension]" then a line end. */
static enum reply_rc step_chunk_size(struct reply *r, const char *p, size_t n, size_t *used)
{
	const char *nl = memchr(p, '\n', n), *next;
	uint64_t size = 0;
	size_t len, i;
	int d;

	if (nl == NULL)
		return n > LINE_LIMIT ? REPLY_BAD : REPLY_MORE;
	len = line_len(p, p + n, &next);
	for (i = 0; i < len && (d = hex_value(p[i])) >= 0; i++) {
		if (i == 15) /* 15 hex digits cannot overflow */
			return REPLY_BAD;
		size = size * 16 + (uint64_t)d;
	}
	if (i == 0 || (i < len && p[i] != ';' && p[i] != ' ' && p[i] != '\t'))
		return REPLY_BAD;
	*used = (size_t)(next - p);
	r->left = size;
	r->phase = size > 0 ? RP_CHUNK_DATA : RP_TRAILER;
	return REPLY_MORE;
}

/* RP_CHUNK_END: the CRLF (or LF) that closes a chunk's data. */
static enum reply_rc step_chunk_end(struct reply *r, const char *p, size_t n, size_t *used)
{
	if (n >= 1 && p[0] == '\n')
		*used = 1;
	else if (n >= 2 && p[0] == '\r' && p[1] == '\n')
		*used = 2;
	else if (n == 0 || (n == 1 && p[0] == '\r'))
		return REPLY_MORE;
	else
		return REPLY_BAD;
	r->phase = RP_CHUNK_SIZE;
	return REPLY_MORE;
}

/* RP_TRAILER: trailer fields are skipped, line by line, up to the empty line. */
static enum reply_rc step_trailer(const char *p, size_t n, size_t *used)
{
	const char *next;
	size_t len;

	if (memchr(p, '\n', n) == NULL)
		return n > LINE_LIMIT ? REPLY_BAD : REPLY_MORE;
	len = line_len(p, p + n, &next);
	*used = (size_t)(next - p);
	return len == 0 ? REPLY_DONE : REPLY_MORE;
}

/* One step of the parser in its current phase; *used is set to the bytes it took. */
static enum reply_rc step(struct reply *r, const char *p, size_t n, size_t *used)
{
	switch (r->phase) {
	case RP_HEAD:
		return step_head(r, p, n, used);
	case RP_BODY:
	case RP_CHUNK_DATA:
		return step_data(r, n, used);
	case RP_UNTIL_CLOSE:
		r->body += n;
		*used = n;
		return REPLY_MORE;
	case RP_CHUNK_SIZE:
		return step_chunk_size(r, p, n, used);
	case RP_CHUNK_END:
		return step_chunk_end(r, p, n, used);
	case RP_TRAILER:
		return step_trailer(p, n, used);
	}
	return REPLY_BAD;
}

/* Parses what it can of buf[0..len); sets *used to the bytes consumed. */
enum reply_rc reply_feed(struct reply *r, const char *buf, size_t len, size_t *used)
{
	enum reply_rc rc = REPLY_MORE;
	size_t off = 0, n;

	while (rc == REPLY_MORE) {
		n = 0;
		rc = step(r, buf + off, len - off, &n);
		off += n;
		r->seen += n;
		if (rc == REPLY_MORE && n == 0)
			break; /* this phase needs bytes that have not come yet */
	}
	*used = off;
	return rc;
}
