/* poller: select(), poll() and epoll behind one interface.
 *
 * select() takes bitmaps (fd_set) of FD_SETSIZE bits, usually 1024: a descriptor at
 * or above that cannot be watched at all (FD_SET on it writes outside the bitmap), so
 * poller_set() refuses it and the loop answers that client 503. select() also
 * overwrites the sets it is given, so we keep master sets and copy them before every
 * call. poll() takes an array of struct pollfd instead: no limit but memory, and
 * nothing to copy. Both hand the kernel every descriptor on every call, and both leave
 * the caller to look through them all for the few that are ready: a turn of the loop
 * costs in proportion to the descriptors watched, not to those ready.
 *
 * epoll (Linux) keeps the set in the kernel instead: epoll_ctl() adds, changes or
 * removes one descriptor when its wishes change, and epoll_wait() returns only the
 * ready ones. A turn then costs in proportion to what is ready, however many idle
 * connections wait. Other systems have kqueue (the BSDs, macOS) or event ports
 * (Solaris); this file has epoll only, where <sys/epoll.h> exists, and not when built
 * with -DNO_EPOLL (the sanitizer build), so that the build without it is tested too:
 * there --epoll says it is not available. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include "poller.h"

#ifdef POLLER_HAS_EPOLL
#include <sys/epoll.h>
#endif

enum { EPOLL_BATCH = 256 };	/* ready descriptors taken per epoll_wait(); the rest next turn */

struct poller {
	enum poller_kind kind;
	int max_fds;
	int nready;	/* what the last wait found ready, not yet taken by poller_next() */
	int next;	/* where poller_next() goes on: a descriptor, or an index */
	/* select(): what we wait for, and what the last select() said is ready */
	fd_set want_rd, want_wr, ready_rd, ready_wr;
	int max_fd;
	/* poll(): the array, and where each descriptor sits in it (-1: not there) */
	struct pollfd *fds;
	int *slot;
	int nfds;
	/* epoll: its descriptor, what each descriptor is registered for (0: it is not),
	 * and what the last epoll_wait() returned */
	int epfd;
	unsigned char *want;
#ifdef POLLER_HAS_EPOLL
	struct epoll_event ready[EPOLL_BATCH];
#endif
};

/* An empty poller for descriptors below max_fds. NULL with errno set on failure
 * (ENOSYS: epoll asked for, and this build has none). */
struct poller *poller_new(enum poller_kind kind, int max_fds)
{
	struct poller *p;

#ifndef POLLER_HAS_EPOLL
	if (kind == USE_EPOLL) {
		errno = ENOSYS;
		return NULL;
	}
#endif
	if (!(p = calloc(1, sizeof *p)))
		return NULL;
	p->kind = kind;
	p->max_fds = max_fds;
	p->max_fd = -1;
	p->epfd = -1;
	FD_ZERO(&p->want_rd);
	FD_ZERO(&p->want_wr);
	FD_ZERO(&p->ready_rd);
	FD_ZERO(&p->ready_wr);
	/* LAB 02.3: poll(): the array of struct pollfd, and slot[], where
	 * each descriptor sits in it: room for max_fds each; no descriptor is in
	 * the array yet */
	if (kind == USE_POLL) {
		p->fds = malloc((size_t)max_fds * sizeof *p->fds);
		p->slot = malloc((size_t)max_fds * sizeof *p->slot);
		if (!p->fds || !p->slot) {
			poller_free(p);
			return NULL;
		}
		memset(p->slot, -1, (size_t)max_fds * sizeof *p->slot);
	}
	/* END LAB 02.3 */
#ifdef POLLER_HAS_EPOLL
	if (kind == USE_EPOLL) {
		p->epfd = epoll_create1(EPOLL_CLOEXEC);
		p->want = calloc((size_t)max_fds, 1);
		if (p->epfd < 0 || !p->want) {
			poller_free(p);
			return NULL;
		}
	}
#endif
	return p;
}

void poller_free(struct poller *p)
{
	if (p) {
		int saved = errno;
		if (p->epfd >= 0)
			close(p->epfd);
		free(p->want);
		free(p->fds);
		free(p->slot);
		free(p);
		errno = saved;
	}
}

const char *poller_name(const struct poller *p)
{
	static const char *const names[] = { [USE_SELECT] = "select", [USE_POLL] = "poll", [USE_EPOLL] = "epoll" };
	return names[p->kind];
}

#ifdef POLLER_HAS_EPOLL
/* epoll: register fd, or change what it waits for; no system call when nothing
 * changes (advance() asks for WANT_READ again after every response). */
static bool epoll_set(struct poller *p, int fd, int events)
{
	struct epoll_event ev = { .events = (events & WANT_READ ? EPOLLIN : 0u) | (events & WANT_WRITE ? EPOLLOUT : 0u),
				  .data.fd = fd };

	if (p->want[fd] == events)
		return true;
	if (epoll_ctl(p->epfd, p->want[fd] ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0)
		return false;
	p->want[fd] = (unsigned char)events;
	return true;
}
#endif

/* Wait on fd for events (WANT_READ, WANT_WRITE, or both). False when the backend
 * cannot watch fd: with select(), any fd >= FD_SETSIZE. */
bool poller_set(struct poller *p, int fd, int events)
{
	if (fd < 0 || fd >= p->max_fds || (p->kind == USE_SELECT && fd >= FD_SETSIZE))
		return false;
	switch (p->kind) {
	case USE_SELECT:
		FD_CLR(fd, &p->want_rd);
		FD_CLR(fd, &p->want_wr);
		if (events & WANT_READ)
			FD_SET(fd, &p->want_rd);
		if (events & WANT_WRITE)
			FD_SET(fd, &p->want_wr);
		if (fd > p->max_fd)
			p->max_fd = fd;
		return true;
	case USE_POLL: {
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
	case USE_EPOLL:
#ifdef POLLER_HAS_EPOLL
		return epoll_set(p, fd, events);
#endif
		break;
	}
	return false;
}

/* Stop waiting on fd (before it is closed). */
void poller_del(struct poller *p, int fd)
{
	if (fd < 0 || fd >= p->max_fds)
		return;
	switch (p->kind) {
	case USE_SELECT:
		if (fd >= FD_SETSIZE)
			return;
		FD_CLR(fd, &p->want_rd);
		FD_CLR(fd, &p->want_wr);
		FD_CLR(fd, &p->ready_rd);
		FD_CLR(fd, &p->ready_wr);
		while (p->max_fd >= 0 && !FD_ISSET(p->max_fd, &p->want_rd) && !FD_ISSET(p->max_fd, &p->want_wr))
			p->max_fd--;
		return;
	case USE_POLL: {
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
	case USE_EPOLL:
#ifdef POLLER_HAS_EPOLL
		if (p->want[fd])
			epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, NULL);
		p->want[fd] = 0;
#endif
		return;
	}
}

/* Wait until something is ready or timeout_ms pass (-1: no limit). Returns how many
 * descriptors are ready, 0 on timeout, -1 on error (EINTR: a signal came). Then
 * poller_next() gives them one by one. */
int poller_wait(struct poller *p, int timeout_ms)
{
	int n = -1;

	switch (p->kind) {
	case USE_SELECT: {
		/* begin select-wait */
		struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
		p->ready_rd = p->want_rd;	/* select() overwrites its sets: give it copies */
		p->ready_wr = p->want_wr;
		n = select(p->max_fd + 1, &p->ready_rd, &p->ready_wr, NULL, timeout_ms < 0 ? NULL : &tv);
		/* end select-wait */
		break;
	}
	case USE_POLL:
		/* begin poll-wait */
		/* LAB 02.3d: poll() the entries of the array */
		n = poll(p->fds, (nfds_t)p->nfds, timeout_ms);
		/* END LAB 02.3d */
		/* end poll-wait */
		break;
	case USE_EPOLL:
#ifdef POLLER_HAS_EPOLL
		/* begin epoll-wait */
		n = epoll_wait(p->epfd, p->ready, EPOLL_BATCH, timeout_ms);
		/* end epoll-wait */
#endif
		break;
	}
	p->nready = n > 0 ? n : 0;
	p->next = 0;
	return n;
}

/* The next descriptor the last wait found ready, and in *ready what it is ready for
 * (WANT_READ, WANT_WRITE or both); -1 when there is none left. An error or a hang-up
 * counts as both, so the owner tries and finds out. Descriptors deleted meanwhile are
 * not returned (with epoll: the caller checks that it still knows them). */
int poller_next(struct poller *p, int *ready)
{
	switch (p->kind) {
	case USE_SELECT:
		/* begin select-next */
		while (p->nready > 0 && p->next <= p->max_fd) {
			int fd = p->next++;
			int r = (FD_ISSET(fd, &p->ready_rd) ? WANT_READ : 0) | (FD_ISSET(fd, &p->ready_wr) ? WANT_WRITE : 0);
			if (r) {
				p->nready -= r == (WANT_READ | WANT_WRITE) ? 2 : 1;	/* select() counts bits */
				*ready = r;
				return fd;
			}
		}
		return -1;
		/* end select-next */
	case USE_POLL:
		/* begin poll-next */
		/* LAB 02.3e: poll(): the next entry of the array that has
		 * revents, from p->next on; its events as WANT_ bits */
		while (p->nready > 0 && p->next < p->nfds) {
			const struct pollfd *pf = &p->fds[p->next++];
			if (!pf->revents)
				continue;
			p->nready--;
			if (pf->revents & (POLLERR | POLLHUP | POLLNVAL))
				*ready = WANT_READ | WANT_WRITE;
			else
				*ready = (pf->revents & POLLIN ? WANT_READ : 0) | (pf->revents & POLLOUT ? WANT_WRITE : 0);
			return pf->fd;
		}
		return -1;
		/* END LAB 02.3e */
		/* end poll-next */
	case USE_EPOLL:
#ifdef POLLER_HAS_EPOLL
		/* begin epoll-next */
		if (p->next < p->nready) {
			const struct epoll_event *ev = &p->ready[p->next++];
			if (ev->events & (EPOLLERR | EPOLLHUP))
				*ready = WANT_READ | WANT_WRITE;
			else
				*ready = (ev->events & EPOLLIN ? WANT_READ : 0) | (ev->events & EPOLLOUT ? WANT_WRITE : 0);
			return ev->data.fd;
		}
		/* end epoll-next */
#endif
		return -1;
	}
	return -1;
}
