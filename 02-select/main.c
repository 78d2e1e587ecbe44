/* 02-select: one process, one thread, every connection at once.
 *
 * Nothing here ever blocks on one client. Every socket is non-blocking; one call,
 * select(), poll() or epoll_wait(), waits for whichever socket is ready first; and each
 * connection remembers where it is in its life, so the loop can leave it and come back:
 *
 *     READING --a whole request--> SENDING --all sent, keep-alive--> READING
 *        |                            |
 *        +-- deadline, idle: close    +-- deadline (client stopped reading): close
 *        +-- deadline, half a request: 408, then close
 *                                     +-- all sent, closing, the client may still send:
 *                                         LINGERING --end of file, or 1 s--> close
 *
 * The HTTP work is the same as 01's (conn_parse, send_some, conn_done from common/);
 * only who waits, and where, has changed. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "die.h"
#include "loop.h"
#include "options.h"
#include "poller.h"
#include "send.h"
#include "server.h"
#include "sock.h"

static int use_poll, use_epoll;	/* --poll, --epoll */

static const struct stage_option options[] = {
	{ .name = "poll", .value = &use_poll, .flag = true,
	  .usage = "      --poll          use poll() instead of select() (no FD_SETSIZE limit)\n" },
#ifdef POLLER_HAS_EPOLL
	{ .name = "epoll", .value = &use_epoll, .flag = true,
	  .usage = "      --epoll         use epoll (Linux): a wait costs what is ready, not what is watched\n" },
#else
	{ .name = "epoll", .value = &use_epoll, .flag = true,
	  .usage = "      --epoll         not in this build (epoll is Linux only)\n" },
#endif
	{ 0 }
};

/* Deadlines are checked by a sweep over every connection, once every SWEEP_MS: one is
 * met up to that late. Checking them all on every turn of the loop would cost in
 * proportion to the connections open, the cost that epoll takes out of the wait. */
enum { SWEEP_MS = 100 };

/* Close a connection and forget it. A paused accept may go on: a descriptor is free. */
void drop(struct loop *l, struct client *cl)
{
	int fd = cl->c.fd;

	poller_del(l->poller, fd);
	close(fd);
	conn_free(&cl->c);
	free(cl);
	l->clients[fd] = NULL;
	l->open--;
	while (l->max_fd >= 0 && !l->clients[l->max_fd])
		l->max_fd--;
	if (l->resume_at)
		l->resume_at = 1;	/* resume at the next turn of the loop */
}

/* Close in stages, as conn_linger() does in the blocking stages: end our side now,
 * then drop what the client still sends until it closes or CONN_LINGER_MS pass. */
static void linger(struct loop *l, struct client *cl)
{
	shutdown(cl->c.fd, SHUT_WR);
	cl->state = LINGERING;
	cl->deadline = conn_clock_ms() + CONN_LINGER_MS;
	poller_set(l->poller, cl->c.fd, WANT_READ);
}

/* A lingering connection is readable: drop what came (a few reads at most, so that a
 * client sending fast cannot hold the loop); close when it ends. */
static void on_lingering(struct loop *l, struct client *cl)
{
	static char sink[4096];

	for (int i = 0; i < 16; i++) {
		ssize_t n = read(cl->c.fd, sink, sizeof sink);
		if (n > 0)
			continue;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			drop(l, cl);
		return;
	}
}

/* Move a connection as far as it can go without waiting: answer every complete
 * request in its input, until the socket is full or more bytes are needed. */
static void advance(struct loop *l, struct client *cl)
{
	/* LAB 02.1: the transitions. READING: conn_parse(); no whole
	 * request yet: wait to read. A request (or a bad one, answered 4xx):
	 * SENDING, with a new deadline. SENDING: send_some(); the socket is full:
	 * wait to write. All sent, or the write failed: conn_done(); not kept, or
	 * stopping: linger() if c.linger says the client may still be sending, else
	 * drop(). Kept: conn_idle(), READING with a new deadline, and round again:
	 * the next request may be in the buffer already. */
	for (;;) {
		if (cl->state == READING) {
			if (!conn_parse(&l->srv, &cl->c)) {
				poller_set(l->poller, cl->c.fd, WANT_READ);
				return;
			}
			cl->state = SENDING;
			cl->deadline = conn_clock_ms() + l->srv.timeout * 1000LL;
		}
		enum send_result sent = send_some(cl->c.fd, &cl->c.res);
		if (sent == SEND_AGAIN) {	/* the socket is full: wait until it drains */
			poller_set(l->poller, cl->c.fd, WANT_WRITE);
			return;
		}
		if (!conn_done(&l->srv, &cl->c, sent == SEND_DONE) || l->stop_by) {
			if (cl->c.linger)
				linger(l, cl);
			else
				drop(l, cl);
			return;
		}
		conn_idle(&cl->c);
		cl->state = READING;	/* keep-alive: the next request must come in time */
		cl->deadline = conn_clock_ms() + l->srv.timeout * 1000LL;
	}
	/* END LAB 02.1 */
}

/* The socket has bytes (or an end of file): read what fits, then advance. */
static void on_readable(struct loop *l, struct client *cl)
{
	/* LAB 02.1b: read once, into the free space of the input buffer
	 * (conn_space()). EAGAIN: nothing to read after all, wait again. End of
	 * file or an error: close. Bytes: count them in (c.in_len), then advance(). */
	size_t room;
	char *p = conn_space(&cl->c, &room);
	ssize_t n = p ? read(cl->c.fd, p, room) : -1;

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {		/* closed by the client (or reset) before a whole request */
		drop(l, cl);
		return;
	}
	cl->c.in_len += (size_t)n;
	advance(l, cl);
	/* END LAB 02.1b */
}

/* The deadline of the current step passed. */
static void on_deadline(struct loop *l, struct client *cl)
{
	/* LAB 02.2: READING with part of a request in: 408 (conn_fail()),
	 * sent as any response is, then close. SENDING: the client stopped reading:
	 * log what it got (conn_done()), then close. Otherwise (idle, lingering):
	 * close. */
	if (cl->state == READING && conn_started(&cl->c)) {
		conn_fail(&l->srv, &cl->c, S_REQUEST_TIMEOUT);	/* half a request: say 408 */
		cl->state = SENDING;
		cl->c.res.close = true;
		advance(l, cl);
		return;
	}
	if (cl->state == SENDING)	/* the client stopped reading: log what it got */
		conn_done(&l->srv, &cl->c, false);
	drop(l, cl);
	/* END LAB 02.2 */
}

/* SIGINT/SIGTERM: stop accepting, close the idle (conn_quiet: a request that came
 * while the loop was busy elsewhere is still answered), give the rest -t seconds. */
static void begin_stop(struct loop *l)
{
	poller_del(l->poller, sock_stop_fd());
	poller_del(l->poller, l->srv.listen_fd);
	l->resume_at = 0;
	l->stop_by = conn_clock_ms() + l->srv.timeout * 1000LL;
	for (int fd = 0; fd <= l->max_fd; fd++) {
		struct client *cl = l->clients[fd];
		if (cl && cl->state == READING && conn_quiet(&cl->c))
			drop(l, cl);
	}
}

/* How long the loop may sleep: until the next sweep (at most a second with no one to
 * sweep), or until accepting resumes. */
static int next_wait(struct loop *l)
{
	long long now = conn_clock_ms(), next = l->open > 0 ? l->next_sweep : now + 1000;

	if (l->resume_at && l->resume_at < next)
		next = l->resume_at;
	return next > now ? (int)(next - now) : 0;
}

/* Serve one connection: what it is ready for (0 when a sweep asks), or its deadline. */
static void serve(struct loop *l, struct client *cl, int ready, long long now)
{
	if (l->stop_by && now >= l->stop_by) {
		on_deadline(l, cl);	/* stopping, and its time is up */
	} else if (cl->state == SENDING && (ready & WANT_WRITE)) {
		cl->deadline = now + l->srv.timeout * 1000LL;	/* it reads: more time */
		advance(l, cl);
	} else if (now >= cl->deadline) {
		on_deadline(l, cl);	/* checked before reading: a trickle cannot dodge it */
	} else if (cl->state == READING && (ready & WANT_READ)) {
		on_readable(l, cl);
	} else if (cl->state == LINGERING && (ready & WANT_READ)) {
		on_lingering(l, cl);
	}
}

/* Every connection whose deadline passed, ready or not. */
static void sweep(struct loop *l, long long now)
{
	for (int fd = 0; fd <= l->max_fd; fd++)
		if (l->clients[fd])
			serve(l, l->clients[fd], 0, now);
	l->next_sweep = now + SWEEP_MS;
}

int main(int argc, char **argv)
{
	struct loop l = { .srv = { .stage = "02-select" }, .max_fd = -1 };

	server_setup(&l.srv, argc, argv, options, NULL);
	if (use_poll && use_epoll)
		die(2, "--poll and --epoll: give one of the two");
#ifndef POLLER_HAS_EPOLL
	if (use_epoll)
		die(2, "--epoll: not in this build (epoll is Linux only): use --poll");
#endif
	/* A table entry for every descriptor; at most half of those still free once the
	 * poller and the listener have theirs as clients, since each may hold its file
	 * open too: the rest wait in the kernel's listen queue. */
	l.size = sock_fd_limit();
	l.clients = calloc((size_t)l.size, sizeof *l.clients);
	if (!l.clients || !(l.poller = poller_new(use_epoll ? USE_EPOLL : use_poll ? USE_POLL : USE_SELECT, l.size)))
		die(1, "cannot watch %d descriptors:", l.size);
	sock_listen(&l.srv);
	l.max_open = sock_max_clients(l.size);
	fcntl(l.srv.listen_fd, F_SETFL, O_NONBLOCK);
	poller_set(l.poller, l.srv.listen_fd, WANT_READ);
	poller_set(l.poller, sock_stop_fd(), WANT_READ);

	/* begin event-loop */
	while (!l.stop_by || l.open > 0) {
		if (poller_wait(l.poller, next_wait(&l)) < 0 && errno != EINTR)
			die(1, "%s:", poller_name(l.poller));
		if (sock_stopping() && !l.stop_by)
			begin_stop(&l);
		long long now = conn_clock_ms();
		bool incoming = false;
		int fd, ready;
		while ((fd = poller_next(l.poller, &ready)) >= 0) {
			if (fd == l.srv.listen_fd)
				incoming = true;
			else if (l.clients[fd])	/* not the stop pipe, nor one closed this turn */
				serve(&l, l.clients[fd], ready, now);
		}
		if (now >= l.next_sweep)
			sweep(&l, now);
		if (l.resume_at && now >= l.resume_at) {
			l.resume_at = 0;	/* try accepting again after EMFILE */
			poller_set(l.poller, l.srv.listen_fd, WANT_READ);
		} else if (incoming && !l.stop_by && !l.resume_at) {
			accept_all(&l);	/* after serving: no descriptor is reused mid-turn */
		}
	}
	/* end event-loop */
	poller_free(l.poller);
	free(l.clients);
	server_finish(&l.srv);
	return 0;
}
