/* conn: one client connection, and the blocking keep-alive loop of 01, 03 and 04.
 *
 * The steps are separate so that an event loop (02) can drive them too:
 *   conn_space()  where to put the next bytes read from the socket;
 *   conn_parse()  after bytes arrived: is there a whole request? then the response
 *                 is prepared in c->res;
 *   send_some()   send it (all at once, or piece by piece: send.h);
 *   conn_done()   log it and drop the request's bytes; keep the connection or not. */
#ifndef CONN_H
#define CONN_H

#include <stdbool.h>
#include <sys/socket.h>

#include "http.h"
#include "response.h"
#include "server.h"

/* Room for the longest request we accept, plus pipelined bytes behind it; the input
 * buffer starts at CONN_IN_START and grows to that when needed. */
enum { CONN_IN_START = 2 * 1024, CONN_IN_SIZE = 16 * 1024 };

/* How long conn_linger() reads what a client still sends after our last response. */
enum { CONN_LINGER_MS = 1000 };

struct conn {
	int fd;
	char addr[64];		/* "127.0.0.1" */
	char peer[80];		/* "127.0.0.1:40522" */
	char *in;		/* bytes received, not yet used (allocated on demand) */
	size_t in_len;
	size_t in_size;		/* what `in` can hold: 0, CONN_IN_START... CONN_IN_SIZE */
	long long discard;	/* request-body bytes still to read and throw away */
	struct chunked chunks;	/* how far a chunked body being thrown away has come */
	bool linger;		/* closing: the client may still be sending (conn_linger) */
	struct request req;	/* the request being answered: points into `in` */
	enum status parsed;	/* what the parser said about it */
	struct response res;
};

void conn_init(struct conn *c, int fd, const struct sockaddr *sa, socklen_t len);
void conn_free(struct conn *c);
char *conn_space(struct conn *c, size_t *room);
bool conn_parse(struct server *srv, struct conn *c);
bool conn_started(const struct conn *c);
bool conn_quiet(const struct conn *c);
void conn_fail(struct server *srv, struct conn *c, enum status status);
void conn_idle(struct conn *c);
bool conn_done(struct server *srv, struct conn *c, bool sent);
void conn_linger(int fd);
long long conn_clock_ms(void);
void serve_connection(struct server *srv, int fd, const struct sockaddr *sa, socklen_t len);

#endif
