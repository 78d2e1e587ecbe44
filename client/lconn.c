/* lconn.c: one client connection: connect, send a request, read and check the response,
 * again while requests are left, hold, close. Nothing here blocks: every socket is
 * non-blocking, and a step that cannot go on returns to the poll loop (load.c), which
 * calls back when poll() says the socket is ready or a timer is due.
 */
#include "lconn.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The wait after a failed connection attempt: the first, and the longest. */
#define BACKOFF_MIN 10000000LL   /* 10 ms */
#define BACKOFF_MAX 1000000000LL /* 1 s */

/* Takes one request from slot c's share of the work: a count, or the clock. */
static int take_request(const struct lconn_shared *sh, struct lconn *c, int64_t now)
{
	if (sh->o->duration_ns > 0)
		return now < sh->end_ns;
	if (c->left == 0)
		return 0;
	c->left--;
	return 1;
}

/* Closes c's socket; the slot goes IDLE, ready for a new connection. */
static void lconn_close(struct lconn *c)
{
	/* No retry on EINTR: the descriptor is released whatever close() returns (POSIX
	 * leaves it unspecified, Linux always frees it), so a retry could only do harm. */
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = LC_IDLE;
	c->deadline = 0;
	c->head = c->tail = 0;
}

/* Closes c at once, whatever it was doing, without counting anything. */
void lconn_drop(struct lconn *c)
{
	lconn_close(c);
	c->state = LC_FREE;
}

/* Counts the current request as failed with `kind`, and closes the connection. */
static void fail(struct lconn_shared *sh, struct lconn *c, enum stats_err kind)
{
	stats_error(sh->st, kind);
	c->resend = 0;
	lconn_close(c);
}

/* True when the server has dropped the current request before a byte of its response,
 * on a connection that had carried a response already. That is the one case where HTTP
 * lets a client send a request again by itself (RFC 9112 9.3.1; a GET is idempotent,
 * RFC 9110 9.2.2): the server may have closed the idle connection just as the request
 * left, without ever reading it. On a new connection there is no such excuse. */
static int may_retry(const struct lconn *c)
{
	return c->done > 0 && c->r.seen == 0 && c->head == c->tail;
}

/* The server closed or reset the connection and the request has no answer: when
 * may_retry(), it goes again as the first request of a new connection, which the loop
 * opens at once; otherwise it failed with `kind`. */
static void dropped(struct lconn_shared *sh, struct lconn *c, enum stats_err kind)
{
	if (!may_retry(c)) {
		fail(sh, c, kind);
		return;
	}
	lconn_close(c);
	c->resend = 1;
	c->resend_why = kind;
}

/* Writes what it may of the request: all of it, or with --slow one byte when due. */
static void send_some(struct lconn_shared *sh, struct lconn *c, int64_t now)
{
	const struct opts *o = sh->o;
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
		/* EPIPE or ECONNRESET: the server has closed the connection, maybe an idle
		 * one as this request left (dropped() sees whether it goes again). SIGPIPE
		 * is ignored (main.c): a write to a closed connection is an error, not our
		 * death. */
		if (errno == EPIPE || errno == ECONNRESET)
			dropped(sh, c, E_RESET);
		else
			fail(sh, c, E_RESET);
		return;
	}
	c->sent += (size_t)n;
	c->next_byte = now + o->slow_ns;
	if (c->sent == c->t->len) {
		c->state = LC_READING;
		c->deadline = now + o->timeout_ns; /* the response has --timeout from now */
	}
}

/* Sends the request c->t from its first byte, with a fresh parser and timeout: a new
 * request, or one sent again. Its latency clock (c->started) is the caller's. */
static void request_send(struct lconn_shared *sh, struct lconn *c, int64_t now)
{
	const struct opts *o = sh->o;

	c->sent = 0;
	reply_init(&c->r);
	c->next_byte = now;
	/* With --slow, sending takes as long as it takes: the timeout starts once sent. */
	c->deadline = o->slow_ns > 0 ? 0 : now + o->timeout_ns;
	c->state = LC_SENDING;
	send_some(sh, c, now);
}

/* Starts the next request on c: picks its URL, starts its clock, sends what it can. */
static void request_begin(struct lconn_shared *sh, struct lconn *c)
{
	const struct url_set *u = &sh->o->urls;

	c->t = &u->targets[u->ntargets == 1 ? 0 : sh->next_url++ % u->ntargets];
	c->started = stats_clock_ns(); /* fresh: the loop's clock may be a batch of events old */
	request_send(sh, c, c->started);
}

/* No request left for c: keep it open for --hold, or close it now. */
static void wind_down(struct lconn_shared *sh, struct lconn *c, int64_t now)
{
	if (sh->o->hold_ns == 0) {
		lconn_close(c);
		return;
	}
	c->state = LC_HOLDING;
	c->deadline = now + sh->o->hold_ns;
}

/* Counts the response just completed, then sends the next request or winds down. */
static void response_done(struct lconn_shared *sh, struct lconn *c)
{
	int64_t now = stats_clock_ns();
	uint64_t limit = sh->o->requests;

	stats_response(sh->st, c->r.status, c->r.body, now - c->started);
	c->done++;
	/* The server will close (or answered before the whole request was sent): this
	 * connection carries nothing more; the loop opens another if work is left. */
	if (!c->r.keep_alive || c->sent < c->t->len) {
		lconn_close(c);
		return;
	}
	if ((limit == 0 || c->done < limit) && take_request(sh, c, now))
		request_begin(sh, c);
	else
		wind_down(sh, c, now);
}

/* True while c waits for bytes of a response. */
static int awaiting(const struct lconn *c)
{
	return c->state == LC_SENDING || c->state == LC_READING;
}

/* Feeds the unparsed bytes to the parser, completing responses as they come.
 * Returns true while c still waits for more bytes. */
static int parse_some(struct lconn_shared *sh, struct lconn *c)
{
	size_t used;
	enum reply_rc rc;

	while (c->head < c->tail && awaiting(c)) {
		rc = reply_feed(&c->r, c->buf + c->head, c->tail - c->head, &used);
		c->head += used;
		if (rc == REPLY_BAD) {
			fail(sh, c, E_BAD_RESPONSE);
			return 0;
		}
		if (rc == REPLY_MORE)
			break;
		/* We send a request only once the answer to the last one is in, so a byte
		 * after the end of this response came with it: the server sent more than
		 * its framing (Content-Length, chunks) said. That response is wrong. */
		if (c->head < c->tail) {
			fail(sh, c, E_BAD_RESPONSE);
			return 0;
		}
		response_done(sh, c);
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
static void got_eof(struct lconn_shared *sh, struct lconn *c)
{
	if (reply_ends_at_close(&c->r)) {
		c->r.keep_alive = 0;
		response_done(sh, c);
		return;
	}
	if (c->r.seen > 0 || c->tail > c->head)
		fail(sh, c, E_TRUNCATED);
	else
		dropped(sh, c, E_CLOSED);
}

/* Reads what the server sent and parses it. While reads fill the buffer (a large
 * body) it reads again, a few times, before going back to poll(); a short read means
 * the socket is drained, which saves the read() that would only say EAGAIN. */
static void read_some(struct lconn_shared *sh, struct lconn *c)
{
	int round;
	size_t room;
	ssize_t n;

	for (round = 0; round < 8; round++) {
		room = LCONN_BUF - c->tail;
		if (room == 0) { /* a header section larger than the whole buffer */
			fail(sh, c, E_BAD_RESPONSE);
			return;
		}
		n = read(c->fd, c->buf + c->tail, room);
		if (n == 0) {
			got_eof(sh, c);
			return;
		}
		if (n < 0) {
			if (errno == ECONNRESET)
				dropped(sh, c, E_RESET);
			else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				fail(sh, c, E_RESET);
			return;
		}
		c->tail += (size_t)n;
		if (!parse_some(sh, c) || (size_t)n < room)
			return;
	}
}

/* While holding, the server may close (its idle timeout): that ends the hold early,
 * it is no failure. Bytes it sends are not expected and are dropped. */
static void hold_read(struct lconn *c)
{
	ssize_t n = read(c->fd, c->buf, LCONN_BUF);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		lconn_close(c);
}

/* The connection is up: count it, forget the failed attempts before it, and send its
 * first request: the one to send again if there is one, else a new one. */
static void connected(struct lconn_shared *sh, struct lconn *c)
{
	sh->st->connections++;
	c->done = 0;
	c->backoff = 0;
	c->refused_since = 0;
	if (!c->resend) {
		request_begin(sh, c);
		return;
	}
	c->resend = 0;
	sh->st->retried++;
	request_send(sh, c, stats_clock_ns()); /* same target, and latency from the first try */
}

/* True for the errors of a connection attempt that say the server is not there:
 * refused (nothing listens on the port: the server stopped, or was killed), reset or
 * aborted during the handshake, no route to it. Other errors are the client's own (no
 * socket, no local port left). */
static int is_refusal(int err)
{
	return err == ECONNREFUSED || err == ECONNRESET || err == ECONNABORTED ||
	       err == EHOSTUNREACH || err == ENETUNREACH || err == ENETDOWN;
}

/* Says on stderr, once for the whole run, that the server refuses connections. Each
 * client process finds it out on its own; the one that takes the single byte from the
 * pipe main.c filled (say_fd) speaks, the others read EOF and stay silent. `more`: the
 * slot will try again. */
static void say_refused(struct lconn_shared *sh, int err, int more)
{
	char token, where[80];
	ssize_t n = 1;

	if (sh->said)
		return;
	sh->said = 1;
	if (sh->say_fd >= 0)
		while ((n = read(sh->say_fd, &token, 1)) < 0 && errno == EINTR)
			;
	if (n != 1)
		return;
	url_set_where(&sh->o->urls, where, sizeof where);
	fprintf(stderr, "client: the server at %s %s (%s)%s\n", where,
		sh->st->connections > 0 ? "stopped answering" : "does not answer", strerror(err),
		more ? "; backing off" : "");
}

/* The request taken for slot c was not sent: its connection was refused. Without
 * --duration, once the server has refused the slot for --timeout, the slot gives up
 * the rest of its share as refused too, so that a run against a server gone for good
 * ends. With --duration the clock ends the run, and the server may come back. */
static void refused(struct lconn_shared *sh, struct lconn *c, int64_t now)
{
	stats_refused(sh->st, 1);
	if (c->refused_since == 0)
		c->refused_since = now;
	if (sh->o->duration_ns == 0 && now - c->refused_since >= sh->o->timeout_ns) {
		stats_refused(sh->st, c->left);
		c->left = 0;
	}
}

/* After a failed connection attempt, slot c waits before its next one: 10 ms, then
 * twice as long after each failure in a row, 1 s at most. With --duration the wait
 * ends with the run at the latest (the slot is then freed); a slot with nothing left
 * to send does not wait at all. */
static void back_off(struct lconn_shared *sh, struct lconn *c, int64_t now)
{
	if (sh->o->duration_ns == 0 && c->left == 0)
		return;
	c->backoff = c->backoff == 0 ? BACKOFF_MIN : 2 * c->backoff;
	if (c->backoff > BACKOFF_MAX)
		c->backoff = BACKOFF_MAX;
	c->deadline = now + c->backoff;
	if (sh->o->duration_ns > 0 && c->deadline > sh->end_ns)
		c->deadline = sh->end_ns;
}

/* A connection attempt failed with errno err (0: no handshake within --timeout). A
 * request being sent again fails the way it did the first time. Otherwise a refusal
 * means no request went out (counted apart), and any other failure is the request's.
 * The slot then backs off. */
static void connect_failed(struct lconn_shared *sh, struct lconn *c, int err, int64_t now)
{
	int refusal = is_refusal(err);

	if (c->resend)
		stats_error(sh->st, c->resend_why);
	else if (refusal)
		refused(sh, c, now);
	else
		stats_error(sh->st, err == 0 ? E_TIMEOUT : E_CONNECT);
	c->resend = 0;
	lconn_close(c);
	back_off(sh, c, now);
	if (refusal)
		say_refused(sh, err, c->deadline != 0);
}

/* A non-blocking connect has finished: SO_ERROR says how the handshake ended. */
static void connect_done(struct lconn_shared *sh, struct lconn *c, int64_t now)
{
	int err = 0;
	socklen_t len = sizeof err;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0)
		connected(sh, c);
	else
		connect_failed(sh, c, err, now);
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
 * Once the work is taken, that request ends as a response, as a counted failure, or
 * refused. A request to send again was taken already, and is due even once the
 * --duration is over: it is a response still awaited. */
void lconn_start(struct lconn_shared *sh, struct lconn *c, int64_t now)
{
	const struct opts *o = sh->o;

	if (!c->resend && !take_request(sh, c, now)) {
		c->state = LC_FREE;
		return;
	}
	c->fd = socket(o->urls.addr.ss_family, SOCK_STREAM, 0);
	if (c->fd < 0 || socket_setup(c->fd) < 0) {
		connect_failed(sh, c, errno, now);
		return;
	}
	/* A blocking connect() would stall every other connection of this process for a
	 * whole handshake (seconds, when the server's listen queue is full). Non-blocking,
	 * it says EINPROGRESS at once, and poll() reports the socket writable when the
	 * handshake has ended. Interrupted by a signal (EINTR), the connect goes on in the
	 * background all the same (POSIX): wait for it the same way, never call it again. */
	if (connect(c->fd, (const struct sockaddr *)&o->urls.addr, o->urls.addrlen) == 0) {
		connected(sh, c);
	} else if (errno == EINPROGRESS || errno == EINTR) {
		c->state = LC_CONNECTING;
		c->deadline = now + o->timeout_ns;
	} else {
		connect_failed(sh, c, errno, now);
	}
}

/* Handles what poll() reported for c. */
void lconn_event(struct lconn_shared *sh, struct lconn *c, short revents, int64_t now)
{
	switch (c->state) {
	case LC_CONNECTING:
		connect_done(sh, c, now);
		break;
	case LC_SENDING: /* the server may answer (an error) or close before we are done */
		if (revents & (POLLIN | POLLHUP | POLLERR))
			read_some(sh, c);
		if (c->state == LC_SENDING && (revents & POLLOUT))
			send_some(sh, c, now);
		break;
	case LC_READING:
		read_some(sh, c);
		break;
	case LC_HOLDING:
		hold_read(c);
		break;
	case LC_IDLE:
	case LC_FREE:
		break;
	}
}

/* Handles c's timer once it is due (timeout, next --slow byte, end of --hold). The end
 * of a back-off needs nothing here: the loop starts IDLE slots whose time has come. */
void lconn_timer(struct lconn_shared *sh, struct lconn *c, int64_t now)
{
	if (c->state == LC_SENDING && sh->o->slow_ns > 0)
		send_some(sh, c, now);
	else if (c->state == LC_HOLDING)
		lconn_close(c);
	else if (c->state == LC_CONNECTING)
		connect_failed(sh, c, 0, now);
	else if (awaiting(c))
		fail(sh, c, E_TIMEOUT);
}

/* When c's timer is due (0: no timer); for an IDLE slot, when its back-off ends. */
int64_t lconn_wakeup(const struct lconn *c, const struct opts *o)
{
	if (c->state == LC_SENDING && o->slow_ns > 0)
		return c->next_byte;
	if (c->state == LC_FREE)
		return 0;
	return c->deadline;
}

/* The poll() events c waits for (0: none, the slot has no socket). */
short lconn_events(const struct lconn *c, const struct opts *o)
{
	switch (c->state) {
	case LC_CONNECTING:
		return POLLOUT;
	case LC_SENDING:
		return o->slow_ns > 0 ? POLLIN : POLLIN | POLLOUT;
	case LC_READING:
	case LC_HOLDING:
		return POLLIN;
	case LC_IDLE:
	case LC_FREE:
		break;
	}
	return 0;
}
