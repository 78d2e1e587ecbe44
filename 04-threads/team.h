/* team: 04-threads' serving threads, in both modes (a thread per connection, a pool):
 * how many are alive, which socket each serves, how many connections they served. */
#ifndef TEAM_H
#define TEAM_H

#include <stdbool.h>
#include <sys/socket.h>

#include "server.h"

/* A connection on its way from the main thread to the thread that serves it. */
struct handover {
	struct server *srv;
	int fd;
	struct sockaddr_storage peer;
	socklen_t len;
	unsigned number;	/* which thread: 1, 2, 3...; shown on /_/info and in the log */
};

void team_init(int slots);
void team_enter(void);
void team_leave(void);
bool team_wait_room(int max);
void team_serve(struct handover *h);
void team_wake(void);
int team_stop(int seconds);
void team_end(void);

#endif
