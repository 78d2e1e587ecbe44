/* response: decide the answer to one request.
 *
 * resp_prepare() writes nothing to the network: it fills a struct the caller owns
 * with the header bytes and a body that is either in memory (pages, listings, errors,
 * small files) or a range of an open file. Sending it is send.c's job. */
#ifndef RESPONSE_H
#define RESPONSE_H

#include <stdbool.h>
#include <sys/types.h>

#include "buf.h"
#include "http.h"
#include "server.h"

/* Files up to this size are read into memory and sent with the header in one write.
 * A stage with an HTML filter (srv->ext) gets HTML files up to RESP_FILTER_MAX in
 * memory, to change them. */
enum { RESP_SMALL_FILE = 16 * 1024, RESP_FILTER_MAX = 8 * 1024 * 1024 };

struct response {
	enum status status;
	const char *type;	/* Content-Type, or NULL for none */
	long long length;	/* Content-Length */
	struct buf extra;	/* header lines of this kind of response (ETag, Location...) */
	struct buf head;	/* the whole header section, ready to send */
	struct buf body;	/* a body in memory */
	int fd;			/* or a file body: fd, offset, bytes left to send */
	off_t offset, left;
	bool close;		/* close the connection after this response */
	bool stream;		/* the stage's stream follows the header (srv->ext->stream) */
	size_t sent;		/* progress through head and memory body */
	long long body_sent;	/* body bytes sent so far, for the log */
	struct buf chunk;	/* without sendfile: file bytes read but not yet sent */
	size_t chunk_sent;
};

void resp_init(struct response *r);
void resp_clear(struct response *r);
void resp_free(struct response *r);
void resp_prepare(struct server *srv, const struct request *req, enum status parsed,
		  const char *addr, struct response *r);

#endif
