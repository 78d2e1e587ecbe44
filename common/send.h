/* send: put a prepared response on the wire, as much as the socket takes. The
 * blocking stages call send_some() until it is done; 02-select calls it again each
 * time the socket is writable. */
#ifndef SEND_H
#define SEND_H

#include "response.h"

/* What the caller must do after send_some(). */
enum send_result {
	SEND_DONE,	/* everything is sent */
	SEND_AGAIN,	/* the socket is full: call again when it is writable */
	SEND_FAILED,	/* the client is gone (or an error): close */
};

enum send_result send_some(int fd, struct response *r);

#endif
