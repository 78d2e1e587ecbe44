/* conn.c: one client connection: connect, send a request, read and check the response,
 * again while requests are left, hold, close. Nothing here blocks: every socket is
 * non-blocking, and a step that cannot go on returns to the poll loop (load.c), which
 * calls back when poll() says the socket is ready or a timer is due.
 */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Takes one request from slot c's share of the work: a count, or the clock. */
static int take_request(const struct load *l, struct conn *c, int64_t now)
{
	if (l->o->duration_ns > 0)
		return now < l->end_ns;
	if (c->left == 0)
		return 0;
	c->left--;
	return 1;
}

/* Closes c's socket; the slot goes IDLE, ready for a new connection. */
static void conn_close(struct conn *c)
{
	/* No retry on EINTR: the descriptor is released whatever close() returns (POSIX
	 * leaves it unspecified, Linux always frees it), so a retry could only do harm. */
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = CS_IDLE;
	c->head = c->tail = 0;
}

/* Closes c at once, whatever it was doing, without counting anything. */
void conn_drop(struct conn *c)
{
	conn_close(c);
	c->state = CS_FREE;
}

/* Counts the current request as failed with `kind`, and closes the connection. */
static void fail(struct load *l, struct conn *c, enum err kind)
{
	stats_error(l->st, kind);
	conn_close(c);
}

/* Writes what it may of the request: all of it, or with --slow one byte when due. */
static void send_some(struct load *l, struct conn *c, int64_t now)
{
	const struct opts *o = l->o;
	size_t want = o->slow_ns > 0 ? 1 : c->t->len - c->sent;
	ssize_t n;

	if (o->slow_ns > 0 && now < c->next_byte)
		return;
	n = write(c->fd, c->t->req + c->sent, want);
	if (n < 0) {
		/* Socket buffer full: poll() says when there is room, or with --slow the
		 * byte is tried again a tick later (not at once: that would spin). */
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			c->next_byte = now + o->slow_ns;
			return;
		}
		/* EPIPE or ECONNRESET: the server has gone. SIGPIPE is ignored (main.c),
		 * so a write to a closed connection is an error we count, not our death. */
		fail(l, c, E_RESET);
		return;
	}
	c->sent += (size_t)n;
	c->next_byte = now + o->slow_ns;
	if (c->sent == c->t->len) {
		c->state = CS_READING;
		c->deadline = now + o->timeout_ns; /* the response has --timeout from now */
	}
}

/* Starts the next request on c: picks its URL, starts its clock, sends what it can. */
static void request_begin(struct load *l, struct conn *c)
{
	const struct opts *o = l->o;

	c->t = &o->targets[o->ntargets == 1 ? 0 : l->next_url++ % o->ntargets];
	c->sent = 0;
	resp_init(&c->r);
	c->started = mono_ns(); /* fresh: the loop's clock may be a batch of events old */
	c->next_byte = c->started;
	/* With --slow, sending takes as long as it takes: the timeout starts once sent. */
	c->deadline = o->slow_ns > 0 ? 0 : c->started + o->timeout_ns;
	c->state = CS_SENDING;
	send_some(l, c, c->started);
}

/* No request left for c: keep it open for --hold, or close it now. */
static void wind_down(struct load *l, struct conn *c, int64_t now)
{
	if (l->o->hold_ns == 0) {
		conn_close(c);
		return;
	}
	c->state = CS_HOLDING;
	c->deadline = now + l->o->hold_ns;
}

/* Counts the response just completed, then sends the next request or winds down. */
static void response_done(struct load *l, struct conn *c)
{
	int64_t now = mono_ns();
	uint64_t limit = l->o->requests;

	stats_response(l->st, c->r.status, c->r.body, now - c->started);
	c->done++;
	/* The server will close (or answered before the whole request was sent): this
	 * connection carries nothing more; the loop opens another if work is left. */
	if (!c->r.keep_alive || c->sent < c->t->len) {
		conn_close(c);
		return;
	}
	if ((limit == 0 || c->done < limit) && take_request(l, c, now))
		request_begin(l, c);
	else
		wind_down(l, c, now);
}

/* True while c waits for bytes of a response. */
static int awaiting(const struct conn *c)
{
	return c->state == CS_SENDING || c->state == CS_READING;
}

/* Feeds the unparsed bytes to the parser, completing responses as they come.
 * Returns true while c still waits for more bytes. */
static int parse_some(struct load *l, struct conn *c)
{
	size_t used;
	enum resp_rc rc;

	while (c->head < c->tail && awaiting(c)) {
		rc = resp_feed(&c->r, c->buf + c->head, c->tail - c->head, &used);
		c->head += used;
		if (rc == RESP_BAD) {
			fail(l, c, E_BAD_RESPONSE);
			return 0;
		}
		if (rc == RESP_MORE)
			break;
		/* We send a request only once the answer to the last one is in, so a byte
		 * after the end of this response came with it: the server sent more than
		 * its framing (Content-Length, chunks) said. That response is wrong. */
		if (c->head < c->tail) {
			fail(l, c, E_BAD_RESPONSE);
			return 0;
		}
		response_done(l, c);
	}
	if (c->head == c->tail || !awaiting(c)) {
		c->head = c->tail = 0;
	} else if (c->head > 0) { /* keep a partial header section at the front */
		memmove(c->buf, c->buf + c->head, c->tail - c->head);
		c->tail -= c->head;
		c->head = 0;
	}
	return awaiting(c);
}

/* The server closed its side: the end of a body that runs to the close, or a failure. */
static void got_eof(struct load *l, struct conn *c)
{
	if (resp_ends_at_close(&c->r)) {
		c->r.keep_alive = 0;
		response_done(l, c);
		return;
	}
	fail(l, c, c->r.seen > 0 || c->tail > c->head ? E_TRUNCATED : E_CLOSED);
}

/* Reads what the server sent and parses it. While reads fill the buffer (a large
 * body) it reads again, a few times, before going back to poll(); a short read means
 * the socket is drained, which saves the read() that would only say EAGAIN. */
static void read_some(struct load *l, struct conn *c)
{
	int round;
	size_t room;
	ssize_t n;

	for (round = 0; round < 8; round++) {
		room = CONN_BUF - c->tail;
		if (room == 0) { /* a header section larger than the whole buffer */
			fail(l, c, E_BAD_RESPONSE);
			return;
		}
		n = read(c->fd, c->buf + c->tail, room);
		if (n == 0) {
			got_eof(l, c);
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				fail(l, c, E_RESET);
			return;
		}
		c->tail += (size_t)n;
		if (!parse_some(l, c) || (size_t)n < room)
			return;
	}
}

/* While holding, the server may close (its idle timeout): that ends the hold early,
 * it is no failure. Bytes it sends are not expected and are dropped. */
static void hold_read(struct conn *c)
{
	ssize_t n = read(c->fd, c->buf, CONN_BUF);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		conn_close(c);
}

/* The connection is up: count it and send the first request. */
static void connected(struct load *l, struct conn *c)
{
	l->st->connections++;
	c->done = 0;
	request_begin(l, c);
}

/* A non-blocking connect has finished: SO_ERROR says how the handshake ended. */
static void connect_done(struct load *l, struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof err;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0)
		connected(l, c);
	else
		fail(l, c, err == ECONNREFUSED ? E_REFUSED : E_CONNECT);
}

/* Makes a new socket non-blocking, with Nagle off: with --slow each byte must leave
 * at once as its own packet, not wait to be merged with the next ones. */
static int socket_setup(int fd)
{
	int one = 1, flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -1;
	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Opens a new connection in slot c when it has work left, else frees the slot.
 * Once the work is taken, that request ends as a response or as a counted failure. */
void conn_start(struct load *l, struct conn *c, int64_t now)
{
	const struct opts *o = l->o;

	if (!take_request(l, c, now)) {
		c->state = CS_FREE;
		return;
	}
	c->fd = socket(o->addr.ss_family, SOCK_STREAM, 0);
	if (c->fd < 0 || socket_setup(c->fd) < 0) {
		fail(l, c, E_CONNECT);
		return;
	}
	/* A blocking connect() would stall every other connection of this process for a
	 * whole handshake (seconds, when the server's listen queue is full). Non-blocking,
	 * it says EINPROGRESS at once, and poll() reports the socket writable when the
	 * handshake has ended. Interrupted by a signal (EINTR), the connect goes on in the
	 * background all the same (POSIX): wait for it the same way, never call it again. */
	if (connect(c->fd, (const struct sockaddr *)&o->addr, o->addrlen) == 0) {
		connected(l, c);
	} else if (errno == EINPROGRESS || errno == EINTR) {
		c->state = CS_CONNECTING;
		c->deadline = now + o->timeout_ns;
	} else {
		fail(l, c, errno == ECONNREFUSED ? E_REFUSED : E_CONNECT);
	}
}

/* Handles what poll() reported for c. */
void conn_event(struct load *l, struct conn *c, short revents, int64_t now)
{
	switch (c->state) {
	case CS_CONNECTING:
		connect_done(l, c);
		break;
	case CS_SENDING: /* the server may answer (an error) or close before we are done */
		if (revents & (POLLIN | POLLHUP | POLLERR))
			read_some(l, c);
		if (c->state == CS_SENDING && (revents & POLLOUT))
			send_some(l, c, now);
		break;
	case CS_READING:
		read_some(l, c);
		break;
	case CS_HOLDING:
		hold_read(c);
		break;
	case CS_IDLE:
	case CS_FREE:
		break;
	}
}

/* Handles c's timer once it is due (timeout, next --slow byte, end of --hold). */
void conn_timer(struct load *l, struct conn *c, int64_t now)
{
	if (c->state == CS_SENDING && l->o->slow_ns > 0)
		send_some(l, c, now);
	else if (c->state == CS_HOLDING)
		conn_close(c);
	else if (c->state == CS_CONNECTING || awaiting(c))
		fail(l, c, E_TIMEOUT);
}

/* When c's timer is due (0: no timer). */
int64_t conn_wakeup(const struct conn *c, const struct opts *o)
{
	if (c->state == CS_SENDING && o->slow_ns > 0)
		return c->next_byte;
	if (c->state == CS_IDLE || c->state == CS_FREE)
		return 0;
	return c->deadline;
}

/* The poll() events c waits for (0: none, the slot has no socket). */
short conn_events(const struct conn *c, const struct opts *o)
{
	switch (c->state) {
	case CS_CONNECTING:
		return POLLOUT;
	case CS_SENDING:
		return o->slow_ns > 0 ? POLLIN : POLLIN | POLLOUT;
	case CS_READING:
	case CS_HOLDING:
		return POLLIN;
	case CS_IDLE:
	case CS_FREE:
		break;
	}
	return 0;
}
