/* pool: the prethreaded server (--pool N). Instead of a thread made for every
 * connection, N threads are made once, at start, and each serves one connection after
 * another. The main thread still accepts; it puts each connection into a queue, and
 * an idle pool thread takes it from there. Nothing is created per connection.
 *
 * The queue is bounded. When it is full, every thread is busy and connections wait
 * for one: the main thread stops accepting (pool_wait_room()), and new clients wait in
 * the kernel's listen queue, as with a thread per connection at --max-threads.
 *
 * Shared here: `pool`, all under pool.lock. The threads' count and the table of
 * connections being served are team.c's. */
#include <stdlib.h>

#include "die.h"
#include "pool.h"
#include "sock.h"

static struct {
	pthread_mutex_t lock;
	pthread_cond_t work;	/* a connection was queued, or we are stopping */
	pthread_cond_t room;	/* a place in the queue is free, or we are stopping */
	struct handover *queue;	/* accepted connections waiting for a thread: a ring */
	int head, queued, size;
} pool = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
	.room = PTHREAD_COND_INITIALIZER,
};

/* A pool thread: take a queued connection, serve it, take the next, until stopping. */
static void *pool_thread(void *arg)
{
	struct handover *h = arg;

	pthread_mutex_lock(&pool.lock);
	/* begin pool-loop */
	/* LAB 04.4c: until stopping with the queue empty: wait on pool.work, take the
	 * oldest connection into h, signal pool.room, then serve it without the lock */
	for (;;) {
		while (pool.queued == 0 && !sock_stopping())
			pthread_cond_wait(&pool.work, &pool.lock);
		if (pool.queued == 0)
			break;	/* stopping, and nothing left to take */
		struct handover *next = &pool.queue[pool.head];
		h->fd = next->fd;
		h->peer = next->peer;
		h->len = next->len;
		pool.head = (pool.head + 1) % pool.size;
		pool.queued--;
		pthread_cond_signal(&pool.room);
		pthread_mutex_unlock(&pool.lock);

		team_serve(h);
		pthread_mutex_lock(&pool.lock);
	}
	/* END LAB 04.4c */
	/* end pool-loop */
	pthread_mutex_unlock(&pool.lock);
	free(h);
	team_leave();
	return NULL;
}

/* Make the queue and the threads, numbered 1 to N. Start-up: a failure ends the server. */
void pool_start(struct server *srv, int threads, int queue_size, const pthread_attr_t *attr)
{
	pool.size = queue_size;
	if (!(pool.queue = calloc((size_t)pool.size, sizeof *pool.queue)))
		die(1, "out of memory");
	for (int i = 0; i < threads; i++) {
		struct handover *h = malloc(sizeof *h);
		pthread_t tid;
		if (!h)
			die(1, "out of memory");
		*h = (struct handover){ .srv = srv, .fd = -1, .number = (unsigned)i + 1 };
		team_enter();
		if (pthread_create(&tid, attr, pool_thread, h) != 0)
			die(1, "cannot start pool thread %d of %d", i + 1, threads);
	}
}

/* The cap: wait until the queue has a free place. False when stopping instead. */
bool pool_wait_room(void)
{
	/* LAB 04.4: sleep on pool.room while the queue is full, unless stopping */
	pthread_mutex_lock(&pool.lock);
	while (pool.queued == pool.size && !sock_stopping())
		pthread_cond_wait(&pool.room, &pool.lock);
	pthread_mutex_unlock(&pool.lock);
	/* END LAB 04.4 */
	return !sock_stopping();
}

/* Queue an accepted connection (pool_wait_room() found a place) and wake a thread. */
void pool_put(int fd, const struct sockaddr_storage *peer, socklen_t len)
{
	/* LAB 04.4b: queue the connection and signal pool.work, under the lock */
	pthread_mutex_lock(&pool.lock);
	int tail = (pool.head + pool.queued) % pool.size;
	pool.queue[tail] = (struct handover){ .fd = fd, .peer = *peer, .len = len };
	pool.queued++;
	pthread_cond_signal(&pool.work);
	pthread_mutex_unlock(&pool.lock);
	/* END LAB 04.4b */
}

/* Stopping: wake every pool thread and the main thread, so that they see it. */
void pool_wake(void)
{
	/* LAB 04.4d: wake whoever waits on pool.work or pool.room */
	pthread_mutex_lock(&pool.lock);
	pthread_cond_broadcast(&pool.work);
	pthread_cond_broadcast(&pool.room);
	pthread_mutex_unlock(&pool.lock);
	/* END LAB 04.4d */
}

/* Every pool thread has ended: free the queue. */
void pool_end(void)
{
	free(pool.queue);
	pool.queue = NULL;
}
