/* load.c: one client process: o->conns connection slots and one poll() loop.
 *
 * Each turn of the loop: start the slots that are between connections, ask poll()
 * about every socket at once (waiting no longer than the earliest timer), then hand
 * each slot what poll() said and fire the timers that are due. One process, many
 * state machines, no threads: the same design as the event-driven servers it loads.
 */
#include "load.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lconn.h"

/* The earlier of two timers, where 0 means "no timer". */
static int64_t earliest(int64_t a, int64_t b)
{
	return a == 0 || (b != 0 && b < a) ? b : a;
}

/* The poll() timeout in ms until `wake`; -1 (wait for events only) when 0. Rounded
 * up, so that poll() never returns just before a timer is due and spins. */
static int poll_timeout(int64_t wake, int64_t now)
{
	int64_t ms;

	if (wake == 0)
		return -1;
	if (wake <= now)
		return 0;
	ms = (wake - now + 999999) / 1000000;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Starts the IDLE slots whose back-off is over (or that have none) and fills pfd for
 * poll(). Returns how many slots are still in use, and the earliest timer in *wake. */
static unsigned prepare(struct lconn_shared *sh, struct lconn *c, struct pollfd *pfd, int64_t now,
			int64_t *wake)
{
	unsigned i, busy = 0;
	int64_t w;

	*wake = 0;
	for (i = 0; i < sh->o->conns; i++) {
		if (c[i].state == LC_IDLE && lconn_wakeup(&c[i], sh->o) <= now)
			lconn_start(sh, &c[i], now);
		pfd[i].fd = c[i].fd;
		pfd[i].events = lconn_events(&c[i], sh->o);
		pfd[i].revents = 0;
		if (c[i].state == LC_FREE)
			continue;
		busy++;
		/* IDLE without a back-off: the connection ended at once (a failed first write,
		 * a request to send again); start the next one without waiting */
		w = lconn_wakeup(&c[i], sh->o);
		*wake = earliest(*wake, c[i].state == LC_IDLE && w == 0 ? now : w);
	}
	return busy;
}

/* Hands each slot what poll() reported, then fires the timers that are due. */
static void dispatch(struct lconn_shared *sh, struct lconn *c, const struct pollfd *pfd)
{
	int64_t now = stats_clock_ns(), w;
	unsigned i;

	for (i = 0; i < sh->o->conns; i++) {
		if (pfd[i].revents != 0)
			lconn_event(sh, &c[i], pfd[i].revents, now);
		w = lconn_wakeup(&c[i], sh->o);
		if (w != 0 && w <= now)
			lconn_timer(sh, &c[i], now);
	}
}

/* The poll() loop: runs until no slot is busy or *stop is set. Returns 0, or -1 after
 * a message when poll() fails. */
static int poll_loop(struct lconn_shared *sh, struct lconn *c, struct pollfd *pfd,
		     volatile sig_atomic_t *stop)
{
	int64_t now = sh->st->start_ns, wake;

	/* A signal (Ctrl-C) interrupts poll() with EINTR; the loop then sees *stop. */
	while (!*stop && prepare(sh, c, pfd, now, &wake) > 0) {
		if (poll(pfd, sh->o->conns, poll_timeout(wake, now)) >= 0) {
			dispatch(sh, c, pfd);
		} else if (errno != EINTR && errno != EAGAIN) {
			fprintf(stderr, "client: poll: %s\n", strerror(errno));
			return -1;
		}
		now = stats_clock_ns();
	}
	return 0;
}

/* Runs the connections until the work is done or *stop is set; counts into st. */
int load_run(const struct opts *o, struct stats *st, int say_fd, volatile sig_atomic_t *stop)
{
	struct lconn_shared sh = { .o = o, .st = st, .say_fd = say_fd };
	struct lconn *c = calloc(o->conns, sizeof *c);
	struct pollfd *pfd = calloc(o->conns, sizeof *pfd);
	unsigned i;
	int rc = -1;

	if (c == NULL || pfd == NULL) {
		fputs("client: out of memory\n", stderr);
		goto cleanup;
	}
	for (i = 0; i < o->conns; i++) {
		c[i].fd = -1; /* state LC_IDLE (0): each slot opens its first connection */
		c[i].left = o->requests;
	}
	st->start_ns = stats_clock_ns();
	sh.end_ns = st->start_ns + o->duration_ns;
	rc = poll_loop(&sh, c, pfd, stop);
	for (i = 0; i < o->conns; i++)
		lconn_drop(&c[i]); /* after a stop: requests in flight are not counted */
	st->end_ns = stats_clock_ns();
	st->interrupted = *stop != 0;
cleanup:
	free(c);
	free(pfd);
	return rc;
}
