/* http: status and method tables, and the request parser (RFC 9112, section 2-6). */
#include <string.h>
#include <strings.h>

#include "http.h"

/* The one reason-phrase table. */
static const char *const reasons[] = {
	[S_OK] = "OK",
	[S_PARTIAL_CONTENT] = "Partial Content",
	[S_MOVED_PERMANENTLY] = "Moved Permanently",
	[S_NOT_MODIFIED] = "Not Modified",
	[S_BAD_REQUEST] = "Bad Request",
	[S_FORBIDDEN] = "Forbidden",
	[S_NOT_FOUND] = "Not Found",
	[S_METHOD_NOT_ALLOWED] = "Method Not Allowed",
	[S_REQUEST_TIMEOUT] = "Request Timeout",
	[S_PAYLOAD_TOO_LARGE] = "Content Too Large",
	[S_URI_TOO_LONG] = "URI Too Long",
	[S_RANGE_NOT_SATISFIABLE] = "Range Not Satisfiable",
	[S_HEADER_FIELDS_TOO_LARGE] = "Request Header Fields Too Large",
	[S_INTERNAL_SERVER_ERROR] = "Internal Server Error",
	[S_NOT_IMPLEMENTED] = "Not Implemented",
	[S_SERVICE_UNAVAILABLE] = "Service Unavailable",
	[S_VERSION_NOT_SUPPORTED] = "HTTP Version Not Supported",
};

static const char *const methods[] = {
	[M_GET] = "GET", [M_HEAD] = "HEAD", [M_POST] = "POST", [M_PUT] = "PUT",
	[M_DELETE] = "DELETE", [M_CONNECT] = "CONNECT", [M_OPTIONS] = "OPTIONS",
	[M_TRACE] = "TRACE", [M_PATCH] = "PATCH",
};

/* The reason phrase of a status. */
const char *http_reason(enum status s)
{
	if ((size_t)s < sizeof reasons / sizeof *reasons && reasons[s])
		return reasons[s];
	return "Unknown";
}

/* The name of a method ("-" for an unknown one). */
const char *http_method_name(enum method m)
{
	return m != M_UNKNOWN ? methods[m] : "-";
}

/* Does the slice equal a literal, ignoring case? */
bool slice_eq(struct slice s, const char *lit)
{
	return s.p && strlen(lit) == s.n && strncasecmp(s.p, lit, s.n) == 0;
}

/* Is token one of the comma-separated elements of list (case-insensitive)? */
bool slice_has_token(struct slice list, const char *token)
{
	if (!list.p)	/* absent: no tokens (and no arithmetic on a null pointer) */
		return false;
	const char *p = list.p, *end = list.p + list.n;

	while (p && p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma ? comma : end;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		const char *t = e;
		while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if (slice_eq((struct slice){ p, (size_t)(t - p) }, token))
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

/* tchar of RFC 9110 5.6.2: the characters of a method or a field name. */
static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A field-value byte: visible ASCII, space, tab or obs-text; never CR, LF, NUL, CTL. */
static bool is_value_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static enum method method_lookup(struct slice s)
{
	for (size_t m = 1; m < sizeof methods / sizeof *methods; m++)
		if (strlen(methods[m]) == s.n && memcmp(methods[m], s.p, s.n) == 0)
			return (enum method)m;	/* methods are case-sensitive */
	return M_UNKNOWN;
}

/* Parse "METHOD SP target SP HTTP/d.d" (the line without its CRLF). */
static enum status parse_request_line(struct request *r, const char *p, const char *end)
{
	const char *sp = memchr(p, ' ', (size_t)(end - p));
	if (!sp || sp == p)
		return S_BAD_REQUEST;
	for (const char *q = p; q < sp; q++)
		if (!is_tchar((unsigned char)*q))
			return S_BAD_REQUEST;
	r->method_name = (struct slice){ p, (size_t)(sp - p) };
	r->method = method_lookup(r->method_name);

	p = sp + 1;
	if (!(sp = memchr(p, ' ', (size_t)(end - p))) || sp == p)
		return S_BAD_REQUEST;
	for (const char *q = p; q < sp; q++)	/* visible ASCII only */
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
			return S_BAD_REQUEST;
	r->target = (struct slice){ p, (size_t)(sp - p) };

	p = sp + 1;
	r->version = (struct slice){ p, (size_t)(end - p) };
	if (end - p != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' ||
	    p[5] < '0' || p[5] > '9' || p[7] < '0' || p[7] > '9')
		return S_BAD_REQUEST;
	if (p[5] != '1')
		return S_VERSION_NOT_SUPPORTED;
	r->minor = p[7] - '0';
	return S_OK;
}

/* A Content-Length value: digits only, and only once. RFC 9112 6.3 lets a server take
 * repeated equal values ("5, 5", or two fields); we refuse them, since a proxy in front
 * of us may have read them differently, and that difference is request smuggling. */
static enum status parse_length(struct request *r, struct slice v)
{
	long long n = 0;

	if (r->content_length >= 0 || v.n == 0 || v.n > 18)
		return S_BAD_REQUEST;
	for (size_t i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return S_BAD_REQUEST;
		n = n * 10 + (v.p[i] - '0');
	}
	r->content_length = n;
	return S_OK;
}

/* A Host value made only of what a host and port may hold (RFC 9112 3.2, RFC 3986
 * 3.2.2: a name, an IPv4 address or a bracketed IPv6 literal, then ":port"). Empty is
 * allowed. A server must refuse anything else with 400. */
static bool valid_host(struct slice v)
{
	for (size_t i = 0; i < v.n; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c && strchr("-._~!$&'()*+,;=:[]%", c))))
			return false;
	}
	return true;
}

/* Parse one field line (without its CRLF) and keep the fields we use. */
static enum status parse_field(struct request *r, const char *p, const char *end)
{
	const char *colon = memchr(p, ':', (size_t)(end - p));

	if (!colon || colon == p)	/* no name; also catches obs-fold's leading space */
		return S_BAD_REQUEST;
	for (const char *q = p; q < colon; q++)	/* "Host :" is refused (RFC 9112 5.1) */
		if (!is_tchar((unsigned char)*q))
			return S_BAD_REQUEST;
	struct slice name = { p, (size_t)(colon - p) };

	const char *v = colon + 1, *e = end;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	for (const char *q = v; q < e; q++)
		if (!is_value_char((unsigned char)*q))
			return S_BAD_REQUEST;
	struct slice value = { v, (size_t)(e - v) };

	if (slice_eq(name, "Host")) {
		if (r->host.p || !valid_host(value))
			return S_BAD_REQUEST;	/* two Hosts (which one is meant?), or no host */
		r->host = value;
	} else if (slice_eq(name, "Content-Length")) {
		return parse_length(r, value);
	} else if (slice_eq(name, "Transfer-Encoding")) {
		if (r->transfer_encoding.p)
			return S_BAD_REQUEST;	/* one field is enough to say "chunked" */
		r->transfer_encoding = value;
	} else if (slice_eq(name, "Connection")) {
		/* a list, maybe over several lines (RFC 9110 5.3): a "close" in any counts */
		r->conn_close |= slice_has_token(value, "close");
		r->conn_keep_alive |= slice_has_token(value, "keep-alive");
	} else if (slice_eq(name, "User-Agent")) {
		r->user_agent = value;
	} else if (slice_eq(name, "Referer")) {
		r->referer = value;
	} else if (slice_eq(name, "If-None-Match")) {
		r->if_none_match = value;
	} else if (slice_eq(name, "If-Modified-Since")) {
		r->if_modified_since = value;
	} else if (slice_eq(name, "Range")) {
		r->range = value;
	} else if (slice_eq(name, "If-Range")) {
		r->if_range = value;
	}
	return S_OK;
}

/* Is the last element of a comma-separated list "chunked"? */
static bool ends_in_chunked(struct slice list)
{
	const char *e = list.p + list.n, *p = e;

	while (p > list.p && p[-1] != ',')
		p--;
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	return slice_eq((struct slice){ p, (size_t)(e - p) }, "chunked");
}

/* Rules that need the whole header section: Host, framing, persistence. */
static enum status check_request(struct request *r)
{
	if (r->minor >= 1 && !r->host.p)
		return S_BAD_REQUEST;
	if (r->transfer_encoding.p) {
		/* RFC 9112 6.1 and 6.3: with Content-Length too (the classic smuggling shape),
		 * or in HTTP/1.0, the framing is faulty; unless chunked is the last coding,
		 * the body has no end we can find. Codings before chunked (gzip, chunked)
		 * we do not implement. Only "chunked" alone is read. */
		if (r->content_length >= 0 || r->minor == 0 || !ends_in_chunked(r->transfer_encoding))
			return S_BAD_REQUEST;
		if (!slice_eq(r->transfer_encoding, "chunked"))
			return S_NOT_IMPLEMENTED;
	}
	if (r->content_length > HTTP_BODY_MAX)
		return S_PAYLOAD_TOO_LARGE;
	/* RFC 9112 9.3: "close" ends it in any version; 1.0 keeps it only when asked */
	r->keep_alive = !r->conn_close && (r->minor >= 1 || r->conn_keep_alive);
	return S_OK;
}

/* A request line still arriving: refuse at once what cannot become one (a TLS
 * handshake, binary noise) instead of waiting for the line to end. */
static enum status check_partial_line(const char *buf, size_t len)
{
	if (len > HTTP_LINE_MAX + 1)	/* + 1: room for the CR of CRLF */
		return S_URI_TOO_LONG;
	for (size_t i = 0; i < len; i++)
		if (buf[i] != '\r' && !is_value_char((unsigned char)buf[i]))
			return S_BAD_REQUEST;
	if (len > 0 && !is_tchar((unsigned char)buf[0]))
		return S_BAD_REQUEST;
	return S_NEED_MORE;
}

/* Find the end of the line starting at p: returns the LF, sets *end past the content. */
static const char *line_end(const char *p, const char *limit, const char **end)
{
	const char *nl = memchr(p, '\n', (size_t)(limit - p));
	if (nl)
		*end = (nl > p && nl[-1] == '\r') ? nl - 1 : nl;
	return nl;
}

/* Parse the request at the start of buf[0..len). Returns S_NEED_MORE, S_OK with
 * r->head_len set, or the error status to answer with (then close the connection). */
enum status http_parse(struct request *r, const char *buf, size_t len)
{
	const char *p = buf, *limit = buf + len, *end, *nl;
	enum status st;

	memset(r, 0, sizeof *r);
	r->content_length = -1;
	/* RFC 9112 2.2: ignore an empty line or two before the request line. */
	for (int i = 0; i < 2 && p < limit && (*p == '\n' || (*p == '\r' && p + 1 < limit && p[1] == '\n')); i++)
		p += *p == '\r' ? 2 : 1;
	if (p + 1 == limit && *p == '\r')
		return S_NEED_MORE;	/* the CR of an empty line, its LF still on the way */

	if (!(nl = line_end(p, limit, &end)))
		return check_partial_line(p, (size_t)(limit - p));
	if (end - p > HTTP_LINE_MAX)
		return S_URI_TOO_LONG;
	if ((st = parse_request_line(r, p, end)) != S_OK)
		return st;

	const char *fields = nl + 1;
	for (p = fields; (nl = line_end(p, limit, &end)); p = nl + 1) {
		if ((size_t)(nl + 1 - fields) > HTTP_HEADERS_MAX)
			return S_HEADER_FIELDS_TOO_LARGE;
		if (end == p) {		/* the empty line: the header section is complete */
			r->head_len = (size_t)(nl + 1 - buf);
			return check_request(r);
		}
		if ((st = parse_field(r, p, end)) != S_OK)
			return st;
	}
	if ((size_t)(limit - fields) > HTTP_HEADERS_MAX)
		return S_HEADER_FIELDS_TOO_LARGE;
	return S_NEED_MORE;
}

/* The places in a chunked body (RFC 9112 7.1):
 *   chunk   = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   body    = *chunk last-chunk trailer-section CRLF      (last-chunk: size 0)
 * Lines end in CRLF exactly: a bare CR or LF here is refused, as the different ways
 * of reading one are a known smuggling trick. */
enum {
	CH_START,	/* the first hex digit of a chunk size */
	CH_SIZE,	/* more hex digits */
	CH_BWS,		/* spaces after the size: only before ";" */
	CH_EXT,		/* ";name=value" extensions: skipped */
	CH_SIZE_LF,	/* the LF of the size line */
	CH_DATA,	/* chunk data: skipped */
	CH_DATA_CR,	/* the CRLF after the data */
	CH_DATA_LF,
	CH_TRAILER,	/* the start of a trailer line, or of the final CRLF */
	CH_FIELD,	/* inside a trailer field line: skipped */
	CH_FIELD_LF,
	CH_END_LF,	/* the LF of the final CRLF */
};

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One byte of a chunked body, other than chunk data: the next state, or -1 if the
 * byte does not fit the grammar there. */
static int chunk_step(struct chunked *k, unsigned char c)
{
	int digit = hex_value(c);

	switch (k->state) {
	case CH_START:
		return digit >= 0 ? (k->left = digit, CH_SIZE) : -1;
	case CH_SIZE:
		if (digit >= 0) {
			k->left = k->left * 16 + digit;
			return CH_SIZE;
		}
		/* fall through */
	case CH_BWS:
		if (c == ' ' || c == '\t')
			return CH_BWS;
		if (c == ';')
			return CH_EXT;
		return c == '\r' && k->state == CH_SIZE ? CH_SIZE_LF : -1;
	case CH_EXT:
		return c == '\r' ? CH_SIZE_LF : is_value_char(c) ? CH_EXT : -1;
	case CH_SIZE_LF:
		return c == '\n' ? (k->left > 0 ? CH_DATA : CH_TRAILER) : -1;
	case CH_DATA_CR:
		return c == '\r' ? CH_DATA_LF : -1;
	case CH_DATA_LF:
		return c == '\n' ? CH_START : -1;
	case CH_TRAILER:
		return c == '\r' ? CH_END_LF : is_tchar(c) ? CH_FIELD : -1;
	case CH_FIELD:
		return c == '\r' ? CH_FIELD_LF : is_value_char(c) ? CH_FIELD : -1;
	case CH_FIELD_LF:
		return c == '\n' ? CH_TRAILER : -1;
	}
	return -1;	/* CH_END_LF is handled by the caller */
}

/* Read len more bytes of a chunked body. Returns S_NEED_MORE when they were all part of
 * it, S_OK when the body ended (*used says where: the bytes after it are the next
 * request; in every case it counts the bytes looked at), 400 when the body is malformed, 413 when it adds up to more than
 * HTTP_BODY_MAX bytes (its framing, extensions and trailers count too: they cost
 * as much to read). Zero *k first. */
enum status http_chunked(struct chunked *k, const char *buf, size_t len, size_t *used)
{
	enum status st = S_NEED_MORE;
	size_t i = 0;

	while (i < len && st == S_NEED_MORE) {
		if (k->state == CH_DATA) {
			size_t n = len - i < (size_t)k->left ? len - i : (size_t)k->left;
			i += n;
			if ((k->left -= (long long)n) == 0)
				k->state = CH_DATA_CR;
		} else if (k->state == CH_END_LF) {
			st = buf[i++] == '\n' ? S_OK : S_BAD_REQUEST;
		} else {
			int next = chunk_step(k, (unsigned char)buf[i++]);
			k->total += 1 + (next == CH_DATA ? k->left : 0);
			if (next < 0)
				st = S_BAD_REQUEST;
			else if (k->left > HTTP_BODY_MAX || k->total > HTTP_BODY_MAX)
				st = S_PAYLOAD_TOO_LARGE;	/* checked per digit: no overflow */
			k->state = next;
		}
	}
	*used = i;
	return st;
}
