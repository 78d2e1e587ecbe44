/* hello: the starter's stand-in server. main() calls it where the accept loop of task 1
 * goes; once your loop is there, nothing calls it, and you may delete this file.
 *
 * It is the smallest server to grow from. It takes one connection at a time, reads
 * once, answers "Hello, World!" to GET / and 404 Not Found to anything else, and
 * closes. It knows nothing of files, keep-alive, requests that come in pieces, the log
 * line or the summary's count: all that is common/'s (serve_connection()), once your
 * loop hands it the connections. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server.h"
#include "sock.h"

static const char hello[] =
	"<!doctype html>\n<title>Hello</title>\n<h1>Hello, World!</h1>\n";
static const char not_found[] =
	"<!doctype html>\n<title>404</title>\n<h1>Not Found</h1>\n";

/* Send a whole response: status line, header, body. One write() is enough for these
 * few bytes on a new connection; if it fails, the client is gone and that is all. */
static void answer(int fd, const char *status, const char *body)
{
	char out[512];
	int n = snprintf(out, sizeof out,
			 "HTTP/1.1 %s\r\n"
			 "Content-Type: text/html; charset=utf-8\r\n"
			 "Content-Length: %zu\r\n"
			 "Connection: close\r\n"
			 "\r\n"
			 "%s", status, strlen(body), body);

	if (n > 0 && (size_t)n < sizeof out && write(fd, out, (size_t)n) < 0) {
		/* nothing to do: the caller closes the connection */
	}
}

void hello_world(struct server *srv)
{
	while (!sock_stopping()) {
		/* accept() sleeps until a client connects, or until a signal comes (no
		 * SA_RESTART: it fails with EINTR, and the loop sees the stop). A signal
		 * that comes just before accept() is seen only after the next client:
		 * sock_accept() does better (docs/notes/01-iterative.md, the self-pipe trick). */
		int fd = accept(srv->listen_fd, NULL, NULL);
		if (fd < 0)
			continue;
		sock_tune(fd, srv->timeout);	/* a read() waits -t seconds at most */

		char req[4096];
		ssize_t n = read(fd, req, sizeof req);
		if (n >= 6 && memcmp(req, "GET / ", 6) == 0)
			answer(fd, "200 OK", hello);
		else if (n > 0)
			answer(fd, "404 Not Found", not_found);
		close(fd);
	}
}
