/* opts.h: the command line of the load client. */
#ifndef CLIENT_OPTS_H
#define CLIENT_OPTS_H

#include <stdint.h>

#include "url.h"

/* Everything the command line says. Times are in nanoseconds; 0 means "off". */
struct opts {
	unsigned clients;     /* --max-clients: processes forked */
	unsigned conns;       /* --max-conns: connections per process at a time */
	uint64_t requests;    /* --requests: per connection; 0 = no limit (--duration) */
	int64_t duration_ns;  /* --duration */
	int64_t slow_ns;      /* --slow: the pause between two bytes of a request */
	int64_t hold_ns;      /* --hold */
	int64_t timeout_ns;   /* --timeout */
	int quiet, json;
	struct url_set urls;  /* where every connection goes, what each request asks */
};

/* What opts_parse() decided. */
enum opts_rc { OPTS_RUN, OPTS_HELP, OPTS_USAGE };

/* Fills o from argv. OPTS_HELP: the usage was printed on stdout; OPTS_USAGE: a
 * one-line error was printed on stderr (exit 2). */
enum opts_rc opts_parse(struct opts *o, int argc, char **argv);

/* Frees what opts_parse() allocated, whatever it returned. */
void opts_free(struct opts *o);

#endif
