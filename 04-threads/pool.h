/* pool: 04-threads with --pool N, the prethreaded server. N threads made at start
 * take connections from a bounded queue that the main thread fills. */
#ifndef POOL_H
#define POOL_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "server.h"
#include "team.h"

void pool_start(struct server *srv, int threads, int queue_size, const pthread_attr_t *attr);
bool pool_wait_room(void);
void pool_put(int fd, const struct sockaddr_storage *peer, socklen_t len);
void pool_wake(void);
void pool_end(void);

#endif
