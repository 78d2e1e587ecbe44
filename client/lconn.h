/* lconn.h: one client connection as a state machine, driven by the poll loop in load.c.
 *
 *   IDLE --lconn_start--> CONNECTING --connected--> SENDING --request sent--> READING
 *     ^                                              ^                          |
 *     |                                              +---- response, next one --+
 *     +-- closed (done, error, server closed) <-- HOLDING <-- no request left --+
 *
 * IDLE means "between connections": the loop calls lconn_start(), which opens a new
 * connection when the slot has work left, else frees the slot (FREE) for good.
 *
 * Without --duration each slot owns R requests (c->left): its connection sends them
 * one after the other; if the connection ends early (the server closes it, a request
 * fails), the slot opens a new one for the rest. So a run is N x M x R requests
 * (refused ones included), on N x M connections when nothing goes wrong.
 *
 * Two cases change when, and with what, an IDLE slot opens its next connection:
 *  - after a connection attempt that failed, the slot waits (c->deadline): 10 ms,
 *    then twice as long after each failure in a row, up to 1 s. A server that has
 *    gone away costs a few attempts a second, not a tight loop;
 *  - after the server dropped a request unanswered on a reused connection, the slot
 *    reconnects at once and sends that request again, first (c->resend).
 */
#ifndef CLIENT_LCONN_H
#define CLIENT_LCONN_H

#include <stdint.h>

#include "opts.h"
#include "reply.h"
#include "stats.h"

/* The read buffer of a connection: a response's header section must fit in it. */
#define LCONN_BUF 16384

/* What a connection is doing now. */
enum lconn_state {
	LC_IDLE,       /* no connection: open one if work is left (after c->deadline) */
	LC_CONNECTING, /* non-blocking connect() under way */
	LC_SENDING,    /* request partly sent (with --slow: a byte at a time) */
	LC_READING,    /* request sent, response not complete */
	LC_HOLDING,    /* done with requests, kept open for --hold */
	LC_FREE        /* nothing left to do in this slot */
};

/* What every connection of one client process shares. */
struct lconn_shared {
	const struct opts *o;
	struct stats *st;
	int64_t end_ns;     /* with --duration: no request starts after this time */
	uint64_t next_url;  /* round robin over the targets */
	int say_fd;         /* the token that lets one process say the server is gone (main.c) */
	int said;           /* this process has tried to say it */
};

/* One connection slot. */
struct lconn {
	int fd;                      /* -1 when there is no connection */
	enum lconn_state state;
	int64_t deadline;            /* timeout, end of hold or of back-off; 0 = none */
	int64_t next_byte;           /* --slow: when the next byte of the request goes */
	int64_t started;             /* when the request's first byte went (latency) */
	const struct url_target *t;  /* the request being sent / answered */
	size_t sent;                 /* bytes of it sent */
	uint64_t left;               /* without --duration: requests the slot has yet to start */
	uint64_t done;               /* requests completed on this connection */
	int64_t backoff;             /* the last wait after a failed connection attempt */
	int64_t refused_since;       /* when this run of refused attempts began; 0 = none */
	int resend;                  /* c->t goes again as the next connection's first request */
	enum stats_err resend_why;   /* how it failed the first time: its failure if no retry */
	struct reply r;
	size_t head, tail;           /* bytes not parsed yet: buf[head..tail) */
	char buf[LCONN_BUF];
};

/* Opens a new connection in slot c when it has work left, else frees the slot. */
void lconn_start(struct lconn_shared *sh, struct lconn *c, int64_t now);

/* Handles what poll() reported for c. */
void lconn_event(struct lconn_shared *sh, struct lconn *c, short revents, int64_t now);

/* Handles c's timer once it is due (timeout, next --slow byte, end of --hold). */
void lconn_timer(struct lconn_shared *sh, struct lconn *c, int64_t now);

/* When c's timer is due (0: no timer); for an IDLE slot, when its back-off ends. */
int64_t lconn_wakeup(const struct lconn *c, const struct opts *o);

/* The poll() events c waits for (0: none, the slot has no socket). */
short lconn_events(const struct lconn *c, const struct opts *o);

/* Closes c at once, whatever it was doing, without counting anything. */
void lconn_drop(struct lconn *c);

#endif
