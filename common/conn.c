/* conn: request framing on a connection, and the blocking keep-alive loop. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "send.h"
#include "sock.h"

/* A connection that has received nothing yet. */
void conn_init(struct conn *c, int fd, const struct sockaddr *sa, socklen_t len)
{
	memset(c, 0, sizeof *c);
	c->fd = fd;
	sock_names(sa, len, c->addr, sizeof c->addr, c->peer, sizeof c->peer);
	resp_init(&c->res);
}

/* Release the buffers (the caller closes the socket). */
void conn_free(struct conn *c)
{
	resp_free(&c->res);
	free(c->in);
	c->in = NULL;
	c->in_size = 0;
}

/* Where the next bytes from the socket go, and how many fit; NULL if out of memory.
 * The buffer starts small, since most requests are a few hundred bytes, and doubles
 * whenever it is full, up to CONN_IN_SIZE: a connection costs little memory until it
 * needs more. (Growing moves the bytes; nothing points into them between parses.) */
char *conn_space(struct conn *c, size_t *room)
{
	if (c->in_len == c->in_size && c->in_size < CONN_IN_SIZE) {
		size_t size = c->in_size ? 2 * c->in_size : CONN_IN_START;
		char *p = realloc(c->in, size);
		if (!p)
			return NULL;
		c->in = p;
		c->in_size = size;
	}
	*room = c->in_size - c->in_len;
	return c->in + c->in_len;
}

/* Drop the first n bytes of the input. With n == 0 there is nothing to do, and the
 * buffer may not exist at all (conn_idle() gave it back): memmove(NULL, NULL, 0) is
 * undefined behaviour, which UBSan reports, so it must not be called. */
static void consume(struct conn *c, size_t n)
{
	if (n == 0)
		return;
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}

static bool wait_readable(int fd, long long deadline);

/* A chunked body follows the head: read it before answering, since a body found
 * malformed or too long (400, 413) must be the answer, not a second one. Its bytes
 * are dropped as they pass (the request points only into the head), and the state
 * survives between calls. Returns false when more bytes are needed. */
static bool read_chunks(struct conn *c)
{
	size_t head = c->req.head_len, used;
	enum status st = http_chunked(&c->chunks, c->in + head, c->in_len - head, &used);

	memmove(c->in + head, c->in + head + used, c->in_len - head - used);
	c->in_len -= used;
	if (st == S_NEED_MORE)
		return false;
	if (st != S_OK)
		c->parsed = st;
	memset(&c->chunks, 0, sizeof c->chunks);	/* for the next request */
	return true;
}

/* Look at the bytes received: throw away the rest of a previous request's body,
 * then parse. Returns true when a request (or a parse error) has a response ready. */
bool conn_parse(struct server *srv, struct conn *c)
{
	if (c->discard > 0) {
		size_t n = c->in_len < (size_t)c->discard ? c->in_len : (size_t)c->discard;
		consume(c, n);
		c->discard -= (long long)n;
	}
	if (c->in_len == 0)
		return false;
	c->parsed = http_parse(&c->req, c->in, c->in_len);
	if (c->parsed == S_NEED_MORE) {
		if (c->in_len < CONN_IN_SIZE)
			return false;
		c->parsed = S_HEADER_FIELDS_TOO_LARGE;	/* cannot happen with our limits */
	}
	if (c->parsed == S_OK && c->req.transfer_encoding.p && !read_chunks(c))
		return false;
	resp_prepare(srv, &c->req, c->parsed, c->addr, &c->res);
	return true;
}

/* Answer with an error that ends the connection, before or instead of a request:
 * 408 when it did not arrive in time, 503 when the server cannot take the client.
 * The caller sends it as usual; conn_done() then says to close. */
void conn_fail(struct server *srv, struct conn *c, enum status status)
{
	memset(&c->req, 0, sizeof c->req);
	c->parsed = status;
	resp_prepare(srv, &c->req, c->parsed, c->addr, &c->res);
}

/* Between requests: give back the input buffer (up to 16 KiB) when it is empty. An event
 * loop keeps thousands of idle connections, so this is what keeps them cheap; the
 * response's buffers stay, small, for the next request. */
void conn_idle(struct conn *c)
{
	if (c->in_len == 0) {
		free(c->in);
		c->in = NULL;
		c->in_size = 0;
	}
}

/* The first line of the input, as received: what the logs show. */
static struct slice first_line(const struct conn *c)
{
	size_t i = 0, n;

	while (i < c->in_len && (c->in[i] == '\r' || c->in[i] == '\n'))
		i++;
	for (n = 0; i + n < c->in_len && c->in[i + n] != '\r' && c->in[i + n] != '\n'; n++)
		;
	return (struct slice){ c->in ? c->in + i : NULL, n };
}

/* Has the client said it sends nothing more? One request, without a body, that asked
 * to close (or HTTP/1.0 without keep-alive), and no byte after it. Otherwise a close
 * from our side must linger (conn_linger): the client may still be sending. */
static bool client_finished(const struct conn *c)
{
	const struct request *r = &c->req;

	return c->parsed == S_OK && !r->keep_alive && r->content_length <= 0 &&
	       !r->transfer_encoding.p && c->in_len == r->head_len;
}

/* The response went out (sent) or could not (the client is gone): log it, then drop
 * the request and its body from the input. Returns true to keep the connection. */
bool conn_done(struct server *srv, struct conn *c, bool sent)
{
	struct log_entry e = {
		.addr = c->addr, .peer = c->peer, .line = first_line(c),
		.target = c->req.target, .referer = c->req.referer, .user_agent = c->req.user_agent,
		.status = c->res.status, .bytes = c->res.body_sent, .when = time(NULL),
	};
	if (!e.target.p)
		e.target = e.line;
	log_request(srv, &e);

	bool keep = sent && !c->res.close;
	/* Linger before the close when the client may still be sending. Also after a kept
	 * response if the server is stopping: the caller closes then, and the client may
	 * have sent its next request already. Unread bytes make close() reset the
	 * connection, and the end of the response still queued would be lost. */
	c->linger = (!keep || sock_stopping()) && sent && !c->res.stream && !client_finished(c);
	resp_clear(&c->res);
	if (keep) {
		consume(c, c->req.head_len);
		if (c->req.content_length > 0)
			c->discard = c->req.content_length;
	}
	return keep;
}

/* Before closing a connection on which the client may still be sending (an error
 * answered before the request ended, a body not read, requests behind a "close"):
 * end our side, then read and drop what comes, until the client closes or for
 * CONN_LINGER_MS at most. Closing with bytes unread makes the kernel reset the
 * connection, and the client's send() then fails, or the reset overtakes our answer
 * (RFC 9112 9.6: a server closes in stages). */
void conn_linger(int fd)
{
	char sink[4096];
	long long until = conn_clock_ms() + CONN_LINGER_MS;

	shutdown(fd, SHUT_WR);
	while (wait_readable(fd, until) && read(fd, sink, sizeof sink) > 0)
		;
}

/* Milliseconds on a clock that never jumps (unlike time(), which follows the wall clock). */
long long conn_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until the socket is readable or the deadline passes: true if readable. The
 * first read of a request needs no poll(): SO_RCVTIMEO is the whole timeout then. */
static bool wait_readable(int fd, long long deadline)
{
	long long left = deadline - conn_clock_ms();
	struct pollfd p = { fd, POLLIN, 0 };

	return left > 0 && poll(&p, 1, (int)left) != 0;	/* an error: let read() say */
}

/* Has part of a request arrived? Not a body being thrown away, nor empty lines: a
 * client may send one after a request's body, and the parser skips them (RFC 9112 2.2).
 * An idle connection that times out is closed without a word; a started one gets 408. */
bool conn_started(const struct conn *c)
{
	for (size_t i = 0; i < c->in_len && c->discard == 0; i++)
		if (c->in[i] != '\r' && c->in[i] != '\n')
			return true;
	return false;
}

/* Is the connection idle for good, as far as a stopping server can tell? Nothing of a
 * request read, and nothing waiting unread in the kernel either (a look with poll(),
 * no waiting). A request that came just as the stop did is not idle: it is answered
 * (with Connection: close), not cut off with a reset. */
bool conn_quiet(const struct conn *c)
{
	struct pollfd p = { c->fd, POLLIN, 0 };

	return c->in_len == 0 && poll(&p, 1, 0) <= 0;
}

/* Read more of the request. Returns false when the connection should end: the client
 * closed it, an error, the server is stopping while idle, or the deadline passed
 * (then timed_out says whether part of a request had arrived: it gets a 408). */
static bool read_more(struct conn *c, long long deadline, bool *timed_out)
{
	size_t room;
	char *p = conn_space(c, &room);

	/* LAB 01.3: read once into p, never waiting past the deadline (then
	 * *timed_out says whether a request had started: conn_started()). SO_RCVTIMEO
	 * bounds a read() by the whole timeout: enough for a request's first bytes, not
	 * for the rest (wait_readable() waits for what is left). Retry after a signal,
	 * unless the server is stopping with nothing to read (conn_quiet()). */
	for (;;) {
		if (!p || (sock_stopping() && conn_quiet(c)))
			return false;
		if (conn_clock_ms() >= deadline || (c->in_len > 0 && !wait_readable(c->fd, deadline))) {
			*timed_out = conn_started(c);
			return false;
		}
		ssize_t n = read(c->fd, p, room);
		if (n > 0) {
			c->in_len += (size_t)n;
			return true;
		}
		if (n == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
			return false;	/* closed by the client, or reset */
	}
	/* END LAB 01.3 */
}

/* Send a response on a blocking socket. Each write waits SOCK_SEND_SLICE_MS at most
 * (sock_tune); the client is given up when no byte at all has gone out for the
 * timeout. A client that reads a byte now and then keeps its connection only as long
 * as the kernel finds room for more, which a trickle does not make. */
static bool send_all(struct server *srv, int fd, struct response *r)
{
	long long last = conn_clock_ms(), before = r->body_sent + (long long)r->sent;

	for (;;) {
		enum send_result res = send_some(fd, r);
		if (res != SEND_AGAIN)
			return res == SEND_DONE;
		long long now = conn_clock_ms(), done = r->body_sent + (long long)r->sent;
		if (done != before)
			last = now - SOCK_SEND_SLICE_MS;	/* its last byte went before the wait */
		else if (now - last >= srv->timeout * 1000LL)
			return false;
		before = done;
	}
}

/* Serve one connection until it closes, blocking: read, parse, send, repeat. The
 * whole of each request must arrive within the timeout, counted from when we start
 * waiting for it: an idle keep-alive client and a slow "slowloris" one both end there.
 * A stage's stream (05's /_/events) may take the socket instead, after its head. */
void serve_connection(struct server *srv, int fd, const struct sockaddr *sa, socklen_t len)
{
	struct conn *c = malloc(sizeof *c);	/* heap, not stack: 04's threads have small stacks */

	if (!c) {
		close(fd);
		return;
	}
	conn_init(c, fd, sa, len);
	sock_tune(fd, srv->timeout);
	/* begin keep-alive-loop */
	/* LAB 01.2: answer the connection's requests one after another.
	 * For each: parse what has come, and read more until a request is whole, within
	 * -t seconds of starting to wait for it (one that came only in part gets a 408:
	 * conn_fail()); send the answer; go on while conn_done() keeps the connection.
	 * (A stage's stream may take the socket after a response: lab 5.) */
	for (bool keep = true; keep;) {
		long long deadline = conn_clock_ms() + srv->timeout * 1000LL;
		bool timed_out = false;
		while (!conn_parse(srv, c))
			if (!read_more(c, deadline, &timed_out))
				break;
		if (timed_out)
			conn_fail(srv, c, S_REQUEST_TIMEOUT);
		else if (!c->res.head.len)
			break;	/* closed, idle too long, or stopping: nothing to answer */
		bool sent = send_all(srv, fd, &c->res);
		bool stream = sent && c->res.stream && c->req.method == M_GET;
		keep = conn_done(srv, c, sent) && !sock_stopping();
		if (stream && srv->ext->stream(srv, fd))
			fd = -1;	/* the stage's stream (srv->ext) took the socket: not ours */
	}
	/* END LAB 01.2 */
	/* end keep-alive-loop */
	if (fd >= 0 && c->linger)
		conn_linger(fd);
	if (fd >= 0)
		close(fd);
	conn_free(c);
	free(c);
}
