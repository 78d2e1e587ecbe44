/* server: the start-up and shut-down steps every stage shares. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "history.h"
#include "log.h"
#include "options.h"
#include "server.h"
#include "sock.h"

/* Everything before the first accept(): options, shared state, signals, the socket.
 * Any failure here ends the program with a one-line message (exit 1, or 2 for usage). */
void server_start(struct server *srv, int argc, char **argv, const struct stage_options *extra)
{
	opt_parse(srv, argc, argv, extra);
	/* Read the time zone once, now: localtime_r() would otherwise load it in every
	 * forked child (03), one open and a few reads per connection. */
	tzset();
	if (!(srv->history = history_create()))
		die(1, "cannot create the shared history (is TMPDIR writable?):");
	if (log_open(srv) != 0)
		die(1, "cannot open the access log '%s' (does its directory exist?):", srv->log_path);
	sock_signals();
	sock_listen(srv);
}

/* After the accept loop ends: close the socket, print the summary, close the log. */
void server_finish(struct server *srv)
{
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	srv->listen_fd = -1;
	close(srv->root_fd);
	log_summary(srv);
	log_close(srv);
	sock_signals_end();
}
