/* live: the browser's side of live reload. Every HTML page gets a script tag; the
 * script (/_/live.js) listens to /_/events, a Server-Sent Events stream, and each
 * event posted here goes out on every open stream. The streams are held by one thread,
 * the event thread, and not by the connections' threads. */
#ifndef LIVE_H
#define LIVE_H

#include "server.h"

enum { LIVE_EVENT_MAX = 8192 };	/* one event, as sent: "id: 7\nevent: change\n..." */

void live_start(struct server *srv, int heartbeat_s, int max_streams);
void live_post(const char *event);
void live_end(void);

#endif
