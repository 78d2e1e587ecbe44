/* conn.h: one client connection as a state machine, driven by the poll loop in load.c.
 *
 *   IDLE --conn_start--> CONNECTING --connected--> SENDING --request sent--> READING
 *     ^                                              ^                          |
 *     |                                              +---- response, next one --+
 *     +-- closed (done, error, server closed) <-- HOLDING <-- no request left --+
 *
 * IDLE means "between connections": the loop calls conn_start(), which opens a new
 * connection when the slot has work left, else frees the slot (FREE) for good.
 *
 * Without --duration each slot owns R requests (c->left): its connection sends them
 * one after the other; if the connection ends early (the server closes it, a request
 * fails), the slot opens a new one for the rest. So a run is N x M x R requests, on
 * N x M connections when nothing goes wrong.
 */
#ifndef CLIENT_CONN_H
#define CLIENT_CONN_H

#include <stdint.h>

#include "opts.h"
#include "resp.h"
#include "stats.h"

/* The read buffer of a connection: a response's header section must fit in it. */
#define CONN_BUF 16384

/* What a connection is doing now. */
enum conn_state {
	CS_IDLE,       /* no connection: open one if work is left */
	CS_CONNECTING, /* non-blocking connect() under way */
	CS_SENDING,    /* request partly sent (with --slow: a byte at a time) */
	CS_READING,    /* request sent, response not complete */
	CS_HOLDING,    /* done with requests, kept open for --hold */
	CS_FREE        /* nothing left to do in this slot */
};

/* What every connection of one client process shares. */
struct load {
	const struct opts *o;
	struct stats *st;
	int64_t end_ns;     /* with --duration: no request starts after this time */
	uint64_t next_url;  /* round robin over the targets */
};

/* One connection slot. */
struct conn {
	int fd;                  /* -1 when there is no connection */
	enum conn_state state;
	int64_t deadline;        /* timeout or end of hold; 0 = none */
	int64_t next_byte;       /* --slow: when the next byte of the request goes */
	int64_t started;         /* when the request's first byte went (latency) */
	const struct target *t;  /* the request being sent / answered */
	size_t sent;             /* bytes of it sent */
	uint64_t left;           /* without --duration: requests this slot has yet to start */
	uint64_t done;           /* requests completed on this connection */
	struct resp r;
	size_t head, tail;       /* bytes not parsed yet: buf[head..tail) */
	char buf[CONN_BUF];
};

/* Opens a new connection in slot c when it has work left, else frees the slot. */
void conn_start(struct load *l, struct conn *c, int64_t now);

/* Handles what poll() reported for c. */
void conn_event(struct load *l, struct conn *c, short revents, int64_t now);

/* Handles c's timer once it is due (timeout, next --slow byte, end of --hold). */
void conn_timer(struct load *l, struct conn *c, int64_t now);

/* When c's timer is due (0: no timer). */
int64_t conn_wakeup(const struct conn *c, const struct opts *o);

/* The poll() events c waits for (0: none, the slot has no socket). */
short conn_events(const struct conn *c, const struct opts *o);

/* Closes c at once, whatever it was doing, without counting anything. */
void conn_drop(struct conn *c);

#endif
