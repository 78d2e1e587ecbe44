/* server: what every stage shares about one running server: its configuration from
 * the command line and the state that lives as long as the server does.
 *
 * Shared state and its guards (04 runs common/ on many threads, 03 in many processes):
 *   - the configuration is written once at start-up, then only read;
 *   - `history` lives in shared memory and is updated with atomic operations;
 *   - `log` (the access-log file) is guarded by its own mutex, see log.c. */
#ifndef SERVER_H
#define SERVER_H

#include <limits.h>
#include <stdbool.h>

struct history;
struct access_log;
struct server;

/* 05-watch's live reload: what the shared code does for it when the stage sets
 * srv->live (the other stages leave it NULL, and none of this happens). */
struct live {
	const char *snippet;	/* put into every HTML response, so the page loads... */
	const char *script;	/* ...this script, served as /_/live.js */
	/* /_/events: called on the connection once the stream's header is sent; returns
	 * when the client is gone or the server stops, and the connection closes. */
	void (*stream)(struct server *srv, int fd);
};

struct server {
	const char *stage;	/* "01-iterative": shown in pages and the Server header */
	const char *bind;	/* -b: address to listen on */
	const char *port;	/* -p: port, "0" for any free one */
	const char *root_arg;	/* -r: the document root as given */
	char root[PATH_MAX];	/* ... and as a real path: what containment checks use */
	int root_fd;		/* ... and open, for opening files beneath it */
	const char *log_path;	/* -l: access log file name, may hold strftime conversions */
	const char *errors_dir;	/* -e: DIR/NNN.html error pages */
	int timeout;		/* -t: idle / keep-alive timeout in seconds */
	bool quiet;		/* -q: no per-request lines on stderr */

	int listen_fd;
	struct history *history;
	struct access_log *log;
	const struct live *live;	/* 05-watch only, else NULL */
};

struct stage_options;

void server_start(struct server *srv, int argc, char **argv, const struct stage_options *extra);
void server_finish(struct server *srv);

#endif
