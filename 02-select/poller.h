/* poller: one small interface over select() and poll(), so the event loop reads the
 * same with either: say which descriptors you wait on, wait, ask what is ready. */
#ifndef POLLER_H
#define POLLER_H

#include <stdbool.h>

enum { WANT_READ = 1, WANT_WRITE = 2 };

struct poller;

struct poller *poller_new(bool use_poll, int max_fds);
void poller_free(struct poller *p);
bool poller_set(struct poller *p, int fd, int events);
void poller_del(struct poller *p, int fd);
int poller_wait(struct poller *p, int timeout_ms);
int poller_ready(const struct poller *p, int fd);
const char *poller_name(const struct poller *p);

#endif
