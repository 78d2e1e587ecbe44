/* poller: one small interface over select(), poll() and epoll, so the event loop reads
 * the same with any of them: say which descriptors you wait on, wait, then take the
 * ready ones one by one. */
#ifndef POLLER_H
#define POLLER_H

#include <stdbool.h>

/* epoll is Linux's; a build without it (elsewhere, or -DNO_EPOLL) still has the others. */
#if defined(__linux__) && !defined(NO_EPOLL)
#define POLLER_HAS_EPOLL 1
#endif

enum { WANT_READ = 1, WANT_WRITE = 2 };
enum poller_kind { USE_SELECT, USE_POLL, USE_EPOLL };

struct poller;

struct poller *poller_new(enum poller_kind kind, int max_fds);
void poller_free(struct poller *p);
bool poller_set(struct poller *p, int fd, int events);
void poller_del(struct poller *p, int fd);
int poller_wait(struct poller *p, int timeout_ms);
int poller_next(struct poller *p, int *ready);
const char *poller_name(const struct poller *p);

#endif
