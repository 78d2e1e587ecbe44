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

#include "http.h"

struct buf;
struct history;
struct access_log;
struct response;
struct server;
struct stage_option;

/* What a stage may add to the HTTP core, through srv->ext (05-watch does). The other
 * stages leave srv->ext NULL. Any member may be NULL. */
struct extension {
	/* A path under /_/ that is not a built-in page: fill r's type and body (or set
	 * r->stream) and return S_OK, or return S_NOT_FOUND. */
	enum status (*page)(struct server *srv, const struct request *req, const char *path,
			    struct response *r);
	/* Change an HTML body before it is sent (pages, listings, errors, and HTML files up
	 * to RESP_FILTER_MAX, which are then read into memory whole and never in ranges). */
	void (*filter)(struct buf *html);
	const char *tag;	/* with a filter, required: marks such a file's ETag, "...-TAG" */
	const char *headers;	/* header lines for every file response, or NULL */
	/* After the head of a response with r->stream is sent (GET only): take the
	 * connection's socket, to go on with the stream elsewhere. True when the stage owns
	 * fd now (the connection's thread must not close it), false when it refused (the
	 * caller closes it). */
	bool (*stream)(struct server *srv, int fd);
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
	const struct extension *ext;	/* a stage's additions, or NULL */
};

/* Start-up: options (the stage's own, and `more` for a stage built on it), shared
 * state, signals, the listening socket. Any failure ends the program (die()). */
void server_start(struct server *srv, int argc, char **argv, const struct stage_option *own,
		  const struct stage_option *more);
/* server_start() in two steps, for a stage that checks more before listening. */
void server_setup(struct server *srv, int argc, char **argv, const struct stage_option *own,
		  const struct stage_option *more);
void server_finish(struct server *srv);

#endif
