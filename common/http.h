/* http: status codes, methods and the incremental request parser.
 *
 * The parser does no I/O and allocates nothing: it is handed the bytes received so
 * far and answers "need more", "complete" or an error status. The request it fills
 * points into those bytes, so they must stay put until the response is prepared. */
#ifndef HTTP_H
#define HTTP_H

#include <stdbool.h>
#include <stddef.h>

/* Limits, said plainly: a request line over 4 KiB is refused with 414 as soon as the
 * 4 KiB have arrived; a header section over 8 KiB with 431; a body over 1 MiB with 413. */
enum {
	HTTP_LINE_MAX = 4096,
	HTTP_HEADERS_MAX = 8192,
	HTTP_BODY_MAX = 1 << 20,
};

/* Status codes: each value is its HTTP number, and the one reason table is in http.c. */
enum status {
	S_NEED_MORE = 0,	/* not a status: the parser wants more bytes */
	S_OK = 200,
	S_PARTIAL_CONTENT = 206,
	S_MOVED_PERMANENTLY = 301,
	S_NOT_MODIFIED = 304,
	S_BAD_REQUEST = 400,
	S_FORBIDDEN = 403,
	S_NOT_FOUND = 404,
	S_METHOD_NOT_ALLOWED = 405,
	S_REQUEST_TIMEOUT = 408,
	S_PAYLOAD_TOO_LARGE = 413,
	S_URI_TOO_LONG = 414,
	S_RANGE_NOT_SATISFIABLE = 416,
	S_HEADER_FIELDS_TOO_LARGE = 431,
	S_INTERNAL_SERVER_ERROR = 500,
	S_NOT_IMPLEMENTED = 501,
	S_SERVICE_UNAVAILABLE = 503,
	S_VERSION_NOT_SUPPORTED = 505,
};

/* The methods RFC 9110 defines; anything else is M_UNKNOWN (501). */
enum method {
	M_UNKNOWN, M_GET, M_HEAD, M_POST, M_PUT, M_DELETE,
	M_CONNECT, M_OPTIONS, M_TRACE, M_PATCH,
};

/* A piece of the receive buffer: not NUL-terminated. */
struct slice {
	const char *p;
	size_t n;
};

/* One parsed request. The slices point into the caller's buffer. */
struct request {
	enum method method;
	struct slice method_name, target, version;
	int minor;			/* HTTP/1.minor */
	struct slice host, user_agent, referer;
	bool conn_close, conn_keep_alive;	/* Connection: said "close", "keep-alive" */
	struct slice if_none_match, if_modified_since, range, if_range;
	long long content_length;	/* -1 when absent */
	struct slice transfer_encoding;	/* only "chunked" is accepted */
	bool keep_alive;		/* the connection may carry another request */
	size_t head_len;		/* bytes of request line and header section */
};

/* A chunked request body (RFC 9112 7.1) being read and thrown away, a byte at a time
 * through a small state machine: no byte of it needs to stay in the buffer. */
struct chunked {
	int state;		/* where in the chunk grammar (0: before the first size) */
	long long left;		/* of the current chunk: digits read so far, then bytes to skip */
	long long total;	/* bytes so far, framing included: at most HTTP_BODY_MAX */
};

const char *http_reason(enum status s);
const char *http_method_name(enum method m);
enum status http_parse(struct request *r, const char *buf, size_t len);
enum status http_chunked(struct chunked *k, const char *buf, size_t len, size_t *used);
bool slice_eq(struct slice s, const char *lit);		/* case-insensitive */
bool slice_has_token(struct slice list, const char *token);	/* in a comma list */

#endif
