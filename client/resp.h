/* resp.h: an incremental parser of HTTP/1.x responses, fed from a buffer.
 *
 * The caller owns the bytes: resp_feed() looks at buf[0..len), says how many it used,
 * and keeps only a few numbers of its own. A header section is used only once it is
 * complete (the caller keeps the bytes until then); body bytes are counted and
 * dropped at once, so a 10 MiB body never needs more than one read buffer.
 */
#ifndef CLIENT_RESP_H
#define CLIENT_RESP_H

#include <stddef.h>
#include <stdint.h>

/* What resp_feed() found. */
enum resp_rc {
	RESP_MORE, /* the response is not complete: read more, keep the bytes not used */
	RESP_DONE, /* one complete final response; bytes after it were not used */
	RESP_BAD   /* malformed: the connection cannot be trusted any more */
};

/* Where the parser is within the response. */
enum resp_phase {
	RP_HEAD,        /* status line and header fields, up to the blank line */
	RP_BODY,        /* `left` bytes of a Content-Length body */
	RP_UNTIL_CLOSE, /* body without length: it ends when the server closes */
	RP_CHUNK_SIZE,  /* chunked: the line with the next chunk's size */
	RP_CHUNK_DATA,  /* chunked: `left` bytes of chunk data */
	RP_CHUNK_END,   /* chunked: the CRLF after the chunk data */
	RP_TRAILER      /* chunked: trailer fields, up to the blank line */
};

/* The state of one response being parsed. */
struct resp {
	enum resp_phase phase;
	int status;      /* of the final response, once its head is parsed */
	int keep_alive;  /* may the connection carry another request after this one */
	uint64_t left;   /* RP_BODY, RP_CHUNK_DATA: bytes still to come */
	uint64_t body;   /* body bytes received (chunked: the data without the framing) */
	uint64_t seen;   /* bytes of this response used so far, head included */
	size_t scanned;  /* RP_HEAD: bytes already searched for the blank line */
};

/* Gets ready for the response to a new request. */
void resp_init(struct resp *r);

/* Parses what it can of buf[0..len); sets *used to the bytes consumed. On RESP_MORE
 * the caller keeps buf[*used..len) and calls again with those bytes first. */
enum resp_rc resp_feed(struct resp *r, const char *buf, size_t len, size_t *used);

/* True when the server closing the connection now completes the response (a body
 * without Content-Length runs until the close). */
int resp_ends_at_close(const struct resp *r);

#endif
