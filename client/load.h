/* load.h: the work of one client process: its connections, driven by one poll() loop. */
#ifndef CLIENT_LOAD_H
#define CLIENT_LOAD_H

#include <signal.h>

#include "opts.h"
#include "stats.h"

/* Runs o->conns connections until the client's work is done (or *stop is set by a
 * signal) and counts everything in st. say_fd: the pipe whose one byte lets a single
 * client process say that the server refuses connections (-1: each may say it).
 * Returns 0, or -1 after a message on stderr (out of memory, poll() failing). */
int load_run(const struct opts *o, struct stats *st, int say_fd, volatile sig_atomic_t *stop);

#endif
