/* 01-iterative: one connection at a time.
 *
 * The whole concurrency model is the loop below: accept a connection, serve it until
 * it closes or idles out, then accept the next. While one client is being served,
 * every other client waits in the kernel's listen queue. A client that connects and
 * says nothing (a browser's preconnect does exactly that) stalls everyone until the
 * idle timeout (-t, 5 s by default) closes it: that timeout is all that rescues us. */
#include <sys/socket.h>

#include "conn.h"
#include "server.h"
#include "sock.h"

int main(int argc, char **argv)
{
	struct server srv = { .stage = "01-iterative" };

	server_start(&srv, argc, argv, NULL, NULL);
	/* begin accept-loop */
	/* LAB 01.1: until the server stops, take the next connection in the
	 * listen queue (sock_accept()) and serve it to its end: serve_connection(). */
	while (!sock_stopping()) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof peer;
		int fd = sock_accept(srv.listen_fd, &peer, &len);
		if (fd < 0)
			continue;	/* stopping (EINTR), or a client gone before accept */
		serve_connection(&srv, fd, (struct sockaddr *)&peer, len);
	}
	/* END LAB 01.1 */
	/* end accept-loop */
	server_finish(&srv);
	return 0;
}
