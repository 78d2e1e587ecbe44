/* reply.h: an incremental parser of HTTP/1.x responses, fed from a buffer.
 *
 * The caller owns the bytes: reply_feed() looks at buf[0..len), says how many it used,
 * and keeps only a few numbers of its own. A header section is used only once it is
 * complete (the caller keeps the bytes until then); body bytes are counted and
 * dropped at once, so a 10 MiB body never needs more than one read buffer.
 */
#ifndef CLIENT_REPLY_H
#define CLIENT_REPLY_H

#include <stddef.h>
#include <stdint.h>

/* What reply_feed() found. */
enum reply_rc {
	REPLY_MORE, /* the response is not complete: read more, keep the bytes not used */
	REPLY_DONE, /* one complete final response; bytes after it were not used */
	REPLY_BAD   /* malformed: the connection cannot be trusted any more */
};

/* Where the parser is within the response. */
enum reply_phase {
	RP_HEAD,        /* status line and header fields, up to the blank line */
	RP_BODY,        /* `left` bytes of a Content-Length body */
	RP_UNTIL_CLOSE, /* body without length: it ends when the server closes */
	RP_CHUNK_SIZE,  /* chunked: the line with the next chunk's size */
	RP_CHUNK_DATA,  /* chunked: `left` bytes of chunk data */
	RP_CHUNK_END,   /* chunked: the CRLF after the chunk data */
	RP_TRAILER      /* chunked: trailer fields, up to the blank line */
};

/* The state of one response being parsed. */
struct reply {
	enum reply_phase phase;
	int status;      /* of the final response, once its head is parsed */
	int keep_alive;  /* may the connection carry another request after this one */
	uint64_t left;   /* RP_BODY, RP_CHUNK_DATA: bytes still to come */
	uint64_t body;   /* body bytes received (chunked: the data without the framing) */
	uint64_t seen;   /* bytes of this response used so far, head included */
	size_t scanned;  /* RP_HEAD: bytes already searched for the blank line */
};

/* Gets ready for the response to a new request. */
void reply_init(struct reply *r);

/* Parses what it can of buf[0..len); sets *used to the bytes consumed. On REPLY_MORE
 * the caller keeps buf[*used..len) and calls again with those bytes first. */
enum reply_rc reply_feed(struct reply *r, const char *buf, size_t len, size_t *used);

/* True when the server closing the connection now completes the response (a body
 * without Content-Length runs until the close). */
int reply_ends_at_close(const struct reply *r);

#endif
