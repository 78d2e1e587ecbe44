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

/* Why only 256 slots (64 KiB, 16 pages): a fork() does not copy the page tables of a
 * shared mapping, so each child of 03 faults on every page of the ring the first time
 * it writes there, and a keep-alive child that serves many requests writes to all of
 * them. 4096 slots made that 256 faults per child, 16,000 for 64 children; on the
 * course's VM they took the first second of a 100-connection run (docs/notes/03-fork.md, §9).
 * The page shows at most 100 rows, so 256 records is still more than a page. */
enum { HISTORY_SLOTS = 256, HISTORY_PAGE_ROWS = 100 };

struct history;

struct history *history_create(void);
void history_add(struct history *h, const char *addr, struct slice path,
		 enum status status, long long bytes, time_t when);
void history_html(struct history *h, const char *addr, struct buf *out);
void history_totals(struct history *h, unsigned long long *requests, unsigned long long *bytes);

#endif
