/* loop: 02-select's event loop and its connections, as main.c and accept.c share them. */
#ifndef LOOP_H
#define LOOP_H

#include <stdbool.h>

#include "conn.h"
#include "poller.h"
#include "server.h"

/* READING a request, SENDING its response, LINGERING before a close (conn_linger()). */
enum state { READING, SENDING, LINGERING };

/* A connection, and where it is in its life. */
struct client {
	struct conn c;
	enum state state;
	long long deadline;	/* ms (conn_clock_ms): when the current step gives up */
};

/* Everything the loop owns. */
struct loop {
	struct server srv;
	struct poller *poller;
	struct client **clients;	/* by descriptor: clients[fd] */
	int size;			/* entries in clients: the descriptor limit */
	int open;			/* connections open now */
	int max_fd;			/* the highest descriptor with a client, or -1 */
	int max_open;			/* the most connections at once (sock_max_clients) */
	bool warned;			/* the FD_SETSIZE explanation was printed */
	long long next_sweep;		/* when to look at every deadline again (sweep()) */
	long long resume_at;		/* accepting paused (EMFILE) until then; 0: not paused */
	long long stop_by;		/* stopping: in-flight responses end by then; 0: running */
};

void accept_all(struct loop *l);
void drop(struct loop *l, struct client *cl);

#endif
