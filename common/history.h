/* history: the requests of this server run, shared by every process and thread.
 *
 * Why shared memory: 03 serves each connection in a child process and 04 on many
 * threads, yet /_/history must show requests served by any of them, and the exit
 * summary must count them all. An append-only file with one write() per record would
 * do the first, but grows without bound; instead the records go into a ring of the
 * last HISTORY_SLOTS requests in a small file mapped MAP_SHARED before any fork, so
 * every child and thread sees the same memory. Writers never wait: each takes a slot
 * number with one atomic increment. The counters for the summary live beside it. */
#ifndef HISTORY_H
#define HISTORY_H

#include <time.h>

#include "buf.h"
#include "http.h"

enum { HISTORY_SLOTS = 4096, HISTORY_PAGE_ROWS = 100 };

struct history;

struct history *history_create(void);
void history_add(struct history *h, const char *addr, struct slice path,
		 enum status status, long long bytes, time_t when);
void history_html(struct history *h, const char *addr, struct buf *out);
void history_totals(struct history *h, unsigned long long *requests, unsigned long long *bytes);

#endif
