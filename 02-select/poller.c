/* poller: select() and poll() behind one interface.
 *
 * select() takes bitmaps (fd_set) of FD_SETSIZE bits, usually 1024: a descriptor at
 * or above that cannot be watched at all (FD_SET on it writes outside the bitmap), so
 * poller_set() refuses it and the loop answers that client 503. select() also
 * overwrites the sets it is given, so we keep master sets and copy them before every
 * call. poll() takes an array of struct pollfd instead: no limit but memory, and
 * nothing to copy. Both make the kernel look at every descriptor on every call,
 * which is why servers with very many connections use epoll or kqueue instead. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include "poller.h"

struct poller {
	bool use_poll;
	int max_fds;
	/* select(): what we wait for, and what the last select() said is ready */
	fd_set want_rd, want_wr, ready_rd, ready_wr;
	int max_fd;
	/* poll(): the array, and where each descriptor sits in it (-1: not there) */
	struct pollfd *fds;
	int *slot;
	int nfds;
};

/* An empty poller for descriptors below max_fds, using poll() or select(). */
struct poller *poller_new(bool use_poll, int max_fds)
{
	struct poller *p = calloc(1, sizeof *p);

	if (!p)
		return NULL;
	p->use_poll = use_poll;
	p->max_fds = max_fds;
	p->max_fd = -1;
	FD_ZERO(&p->want_rd);
	FD_ZERO(&p->want_wr);
	FD_ZERO(&p->ready_rd);
	FD_ZERO(&p->ready_wr);
	/* LAB 02.3: poll(): the array of struct pollfd, and slot[], where
	 * each descriptor sits in it: room for max_fds each; no descriptor is in
	 * the array yet */
	if (use_poll) {
		p->fds = malloc((size_t)max_fds * sizeof *p->fds);
		p->slot = malloc((size_t)max_fds * sizeof *p->slot);
		if (!p->fds || !p->slot) {
			poller_free(p);
			return NULL;
		}
		memset(p->slot, -1, (size_t)max_fds * sizeof *p->slot);
	}
	/* END LAB 02.3 */
	return p;
}

void poller_free(struct poller *p)
{
	if (p) {
		free(p->fds);
		free(p->slot);
		free(p);
	}
}

const char *poller_name(const struct poller *p)
{
	return p->use_poll ? "poll" : "select";
}

/* Wait on fd for events (WANT_READ, WANT_WRITE, or both). False when the backend
 * cannot watch fd: with select(), any fd >= FD_SETSIZE. */
bool poller_set(struct poller *p, int fd, int events)
{
	if (fd < 0 || fd >= p->max_fds || (!p->use_poll && fd >= FD_SETSIZE))
		return false;
	if (p->use_poll) {
		/* LAB 02.3b: poll(): fd's entry, appended to the array if
		 * it has none yet, now asks for exactly these events */
		if (p->slot[fd] < 0) {
			p->slot[fd] = p->nfds++;
			p->fds[p->slot[fd]].fd = fd;
		}
		struct pollfd *pf = &p->fds[p->slot[fd]];
		pf->events = (short)((events & WANT_READ ? POLLIN : 0) | (events & WANT_WRITE ? POLLOUT : 0));
		pf->revents = 0;
		return true;
		/* END LAB 02.3b */
	}
	FD_CLR(fd, &p->want_rd);
	FD_CLR(fd, &p->want_wr);
	if (events & WANT_READ)
		FD_SET(fd, &p->want_rd);
	if (events & WANT_WRITE)
		FD_SET(fd, &p->want_wr);
	if (fd > p->max_fd)
		p->max_fd = fd;
	return true;
}

/* Stop waiting on fd (before it is closed). */
void poller_del(struct poller *p, int fd)
{
	if (fd < 0 || fd >= p->max_fds)
		return;
	if (p->use_poll) {
		/* LAB 02.3c: poll(): take fd's entry out of the array,
		 * which stays without gaps */
		int i = p->slot[fd];
		if (i < 0)
			return;
		p->fds[i] = p->fds[--p->nfds];	/* the last entry fills the hole */
		p->slot[p->fds[i].fd] = i;
		p->slot[fd] = -1;
		return;
		/* END LAB 02.3c */
	}
	if (fd >= FD_SETSIZE)
		return;
	FD_CLR(fd, &p->want_rd);
	FD_CLR(fd, &p->want_wr);
	FD_CLR(fd, &p->ready_rd);
	FD_CLR(fd, &p->ready_wr);
	while (p->max_fd >= 0 && !FD_ISSET(p->max_fd, &p->want_rd) && !FD_ISSET(p->max_fd, &p->want_wr))
		p->max_fd--;
}

/* Wait until something is ready or timeout_ms pass (-1: no limit). Returns how many
 * descriptors are ready, 0 on timeout, -1 on error (EINTR: a signal came). */
int poller_wait(struct poller *p, int timeout_ms)
{
	if (p->use_poll) {
		/* begin poll-wait */
		/* LAB 02.3d: poll() the entries of the array */
		return poll(p->fds, (nfds_t)p->nfds, timeout_ms);
		/* END LAB 02.3d */
		/* end poll-wait */
	}
	/* begin select-wait */
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	p->ready_rd = p->want_rd;	/* select() overwrites its sets: give it copies */
	p->ready_wr = p->want_wr;
	int n = select(p->max_fd + 1, &p->ready_rd, &p->ready_wr, NULL, timeout_ms < 0 ? NULL : &tv);
	if (n <= 0) {
		FD_ZERO(&p->ready_rd);
		FD_ZERO(&p->ready_wr);
	}
	return n;
	/* end select-wait */
}

/* What the last wait found ready on fd: WANT_READ, WANT_WRITE, both or none. An
 * error or hang-up counts as both, so the owner tries and finds out. */
int poller_ready(const struct poller *p, int fd)
{
	if (fd < 0 || fd >= p->max_fds)
		return 0;
	if (p->use_poll) {
		/* LAB 02.3e: poll(): what revents of fd's entry says, as
		 * WANT_ bits */
		int i = p->slot[fd];
		if (i < 0)
			return 0;
		short r = p->fds[i].revents;
		if (r & (POLLERR | POLLHUP | POLLNVAL))
			return WANT_READ | WANT_WRITE;
		return (r & POLLIN ? WANT_READ : 0) | (r & POLLOUT ? WANT_WRITE : 0);
		/* END LAB 02.3e */
	}
	if (fd >= FD_SETSIZE)
		return 0;
	return (FD_ISSET(fd, &p->ready_rd) ? WANT_READ : 0) | (FD_ISSET(fd, &p->ready_wr) ? WANT_WRITE : 0);
}
