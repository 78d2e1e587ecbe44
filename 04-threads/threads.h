/* threads: 04-threads' server as a function, for a stage built on it. 05-watch compiles
 * 04-threads/main.c with -DTHREADS_NO_MAIN, then calls threads_main() with its extras. */
#ifndef THREADS_H
#define THREADS_H

#include "options.h"
#include "server.h"

/* What a stage built on 04 adds. Any member may be NULL. */
struct threads_extra {
	const struct stage_option *options;	/* its options, after 04's */
	void (*prepare)(struct server *srv);	/* options read, root open, before listening */
	void (*started)(struct server *srv);	/* listening, threads ready, before accepting */
	void (*finished)(struct server *srv);	/* every thread has ended, before the summary */
};

int threads_main(struct server *srv, int argc, char **argv, const struct threads_extra *extra);

#endif
