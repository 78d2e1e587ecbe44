/* sock: the listening socket, accepting, per-connection socket options, and the
 * signals that stop a server. */
#ifndef SOCK_H
#define SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "server.h"

void sock_signals(void);
void sock_stop(void);
void sock_signals_end(void);
bool sock_stopping(void);
int sock_stop_fd(void);
int sock_listen(struct server *srv);
int sock_accept(int listen_fd, struct sockaddr_storage *peer, socklen_t *len);
enum { SOCK_SEND_SLICE_MS = 250 };	/* a blocking write waits this long at most */
enum { SOCK_FD_RESERVE = 8 };		/* descriptors kept free beyond the clients' */
enum { SOCK_FD_MAX = 1 << 16 };		/* the most descriptors sock_fd_limit() asks for */
int sock_fd_limit(void);
int sock_max_clients(int limit);
void sock_tune(int fd, int timeout);
void sock_names(const struct sockaddr *sa, socklen_t len, char *addr, size_t asize,
		char *peer, size_t psize);

#endif
