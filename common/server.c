/* server: the start-up and shut-down steps every stage shares. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "history.h"
#include "log.h"
#include "options.h"
#include "path.h"
#include "server.h"
#include "sock.h"

/* The document root as a real path, open; and the error-page directory, checked. */
static void open_root(struct server *srv)
{
	struct stat st;

	if (!path_real(srv->root_arg, srv->root))
		die(1, "document root '%s' (give an existing directory with -r DIR):", srv->root_arg);
	if (stat(srv->root, &st) != 0 || !S_ISDIR(st.st_mode))
		die(1, "document root '%s' is not a directory: give one with -r DIR", srv->root_arg);
	if ((srv->root_fd = open(srv->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die(1, "cannot open the document root '%s':", srv->root_arg);
	if (srv->errors_dir && (stat(srv->errors_dir, &st) != 0 || !S_ISDIR(st.st_mode)))
		die(1, "error-page directory '%s' is not a directory", srv->errors_dir);
}

/* Everything before listening: options, the root, shared state, signals. Any failure
 * here ends the program with a one-line message (exit 1, or 2 for usage). */
void server_setup(struct server *srv, int argc, char **argv, const struct stage_option *own,
		  const struct stage_option *more)
{
	char err[OPT_ERR_MAX];

	srv->listen_fd = -1;
	switch (opt_parse(srv, argc, argv, own, more, err)) {
	case OPT_SERVE: break;
	case OPT_EXIT: exit(0);
	case OPT_USAGE: die(2, "%s", err);
	}
	open_root(srv);
	/* Read the time zone once, now: localtime_r() would otherwise load it in every
	 * forked child (03), one open and a few reads per connection. */
	tzset();
	if (!(srv->history = history_create()))
		die(1, "cannot create the shared history (is TMPDIR writable?):");
	if (log_open(srv) != 0)
		die(1, "cannot open the access log '%s' (does its directory exist?):", srv->log_path);
	sock_signals();
}

/* Everything before the first accept(): server_setup(), then the listening socket, which
 * prints the URL line. A stage with checks of its own calls the two apart, and checks
 * in between: a script that waits for the URL line must be able to trust it. */
void server_start(struct server *srv, int argc, char **argv, const struct stage_option *own,
		  const struct stage_option *more)
{
	server_setup(srv, argc, argv, own, more);
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
