/* accept: 02-select takes new clients, as many as its descriptors allow. Each new
 * socket is made non-blocking and registered with the poller; one that select() cannot
 * watch (past FD_SETSIZE) is told 503 and closed; out of descriptors, accepting pauses. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loop.h"
#include "send.h"

/* A client select() cannot watch (its descriptor is >= FD_SETSIZE): tell it 503,
 * as far as one non-blocking write goes, and close. */
static void refuse(struct loop *l, struct client *cl)
{
	/* LAB 02.5: explain on stderr, once, why such clients get 503;
	 * prepare the 503 (conn_fail()), send it with one send_some(), log it
	 * (conn_done()); then close and free the client */
	if (!l->warned)		/* once: each 503 is in the request log anyway */
		fprintf(stderr, "server: descriptor %d is past FD_SETSIZE (%d), which select() cannot "
			"watch: such clients get 503 (--poll has no such limit)\n", cl->c.fd, FD_SETSIZE);
	l->warned = true;
	conn_fail(&l->srv, &cl->c, S_SERVICE_UNAVAILABLE);
	conn_done(&l->srv, &cl->c, send_some(cl->c.fd, &cl->c.res) == SEND_DONE);
	close(cl->c.fd);
	conn_free(&cl->c);
	free(cl);
	/* END LAB 02.5 */
}

/* Make a client for a new socket: non-blocking, no Nagle delay, waiting to read. */
static struct client *new_client(struct loop *l, int fd, struct sockaddr_storage *peer, socklen_t len)
{
	struct client *cl = malloc(sizeof *cl);
	int one = 1;

	if (!cl)
		return NULL;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	conn_init(&cl->c, fd, (struct sockaddr *)peer, len);
	cl->state = READING;
	cl->deadline = conn_clock_ms() + l->srv.timeout * 1000LL;
	return cl;
}

/* Stop accepting for 100 ms, or until a connection closes. The listener stays
 * readable while connections wait, so waiting on it now would spin. */
static void pause_accepting(struct loop *l)
{
	/* LAB 02.4b: stop watching the listener; the event loop watches it
	 * again at resume_at, 100 ms from now (drop() brings that forward) */
	poller_del(l->poller, l->srv.listen_fd);
	l->resume_at = conn_clock_ms() + 100;
	/* END LAB 02.4b */
}

/* Take every waiting connection, as many as the descriptors allow. */
void accept_all(struct loop *l)
{
	for (;;) {
		/* LAB 02.4: at the cap (l->max_open connections open),
		 * stop: pause accepting */
		if (l->open >= l->max_open) {
			pause_accepting(l);
			return;
		}
		/* END LAB 02.4 */
		struct sockaddr_storage peer;
		socklen_t len = sizeof peer;
		int fd = accept(l->srv.listen_fd, (struct sockaddr *)&peer, &len);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				pause_accepting(l);	/* something else took descriptors */
			return;	/* EAGAIN: no one else is waiting */
		}
		struct client *cl = fd < l->size ? new_client(l, fd, &peer, len) : NULL;
		if (!cl) {
			close(fd);
			continue;
		}
		if (!poller_set(l->poller, fd, WANT_READ)) {
			refuse(l, cl);
			continue;
		}
		l->clients[fd] = cl;
		l->open++;
		if (fd > l->max_fd)
			l->max_fd = fd;
	}
}
