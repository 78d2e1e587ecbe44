/* team: the bookkeeping of the threads that serve. Everything here is shared by all
 * of them, and guarded by team.lock: no field is read or written without it.
 *
 * Break-it build (see the Makefile): -DBREAK_NOLOCK counts served connections without
 * the lock. Never use it to serve anyone. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "conn.h"
#include "die.h"
#include "log.h"
#include "sock.h"
#include "team.h"

static struct {
	pthread_mutex_t lock;
	pthread_cond_t room;	/* a thread ended, or we are stopping */
	int live;		/* threads alive that serve: per connection, or the pool's */
	int peak;		/* the most of them at once */
	unsigned long served;	/* connections served to the end */
	int *serving;		/* per slot: a socket being served, or -1 */
	int slots;		/* one per thread that may serve at once */
} team = { .lock = PTHREAD_MUTEX_INITIALIZER, .room = PTHREAD_COND_INITIALIZER };

/* The table of sockets being served, empty. Start-up: a failure ends the server. */
void team_init(int slots)
{
	team.slots = slots;
	if (!(team.serving = malloc((size_t)slots * sizeof *team.serving)))
		die(1, "out of memory");
	for (int i = 0; i < slots; i++)
		team.serving[i] = -1;
}

/* A thread that serves is about to be made: count it. */
void team_enter(void)
{
	/* LAB 04.2: count the thread in (team.live, team.peak), under the lock */
	pthread_mutex_lock(&team.lock);
	team.live++;
	if (team.live > team.peak)
		team.peak = team.live;
	pthread_mutex_unlock(&team.lock);
	/* END LAB 04.2 */
}

/* A thread that serves ends (or could not be made): there is room for another. */
void team_leave(void)
{
	/* LAB 04.2b: count the thread out and signal team.room, under the lock */
	pthread_mutex_lock(&team.lock);
	team.live--;
	pthread_cond_signal(&team.room);
	pthread_mutex_unlock(&team.lock);
	/* END LAB 04.2b */
}

/* The cap: wait until fewer than max threads serve; meanwhile new clients wait in the
 * kernel's listen queue. False when stopping instead. */
bool team_wait_room(int max)
{
	/* begin cap-wait */
	/* LAB 04.3: sleep on team.room while max threads serve, unless stopping */
	pthread_mutex_lock(&team.lock);
	while (team.live >= max && !sock_stopping())
		pthread_cond_wait(&team.room, &team.lock);
	pthread_mutex_unlock(&team.lock);
	/* END LAB 04.3 */
	/* end cap-wait */
	return !sock_stopping();
}

/* Serve one connection on this thread, listed in team.serving meanwhile (so that a stop
 * can wake it: team_stop()), and count it. */
void team_serve(struct handover *h)
{
	int slot = 0;

	log_set_thread(h->number);
	/* LAB 04.2c: list h->fd in a free slot of team.serving, under the lock */
	pthread_mutex_lock(&team.lock);
	while (team.serving[slot] >= 0)	/* one is free: there is a slot per thread */
		slot++;
	team.serving[slot] = h->fd;
	pthread_mutex_unlock(&team.lock);
	/* END LAB 04.2c */
	serve_connection(h->srv, h->fd, (struct sockaddr *)&h->peer, h->len);
	/* begin count-served */
#ifdef BREAK_NOLOCK
	team.served++;		/* BROKEN on purpose: two threads can lose an update */
#endif
	/* LAB 04.2d: free the slot and count the connection (team.served), under the
	 * lock; not in the break-it build, which has counted above, without it */
	pthread_mutex_lock(&team.lock);
	team.serving[slot] = -1;
#ifndef BREAK_NOLOCK
	team.served++;
#endif
	pthread_mutex_unlock(&team.lock);
	/* END LAB 04.2d */
	/* end count-served */
}

/* Stopping: wake the main thread if it waits for room. */
void team_wake(void)
{
	/* LAB 04.3b: wake whoever waits on team.room */
	pthread_mutex_lock(&team.lock);
	pthread_cond_broadcast(&team.room);
	pthread_mutex_unlock(&team.lock);
	/* END LAB 04.3b */
}

/* Stopping: wake the threads that wait for a client (shutting down the reading side of
 * their sockets makes a blocked read() return 0 at once), let the busy ones finish
 * their response, and wait until every thread has ended, `seconds` at most. Returns
 * how many threads are still running after that.
 * Why shutting down a socket from here is safe: the table holds a socket until its
 * thread has finished with it. A thread that has just closed its socket may still be in
 * the table; the number can meanwhile name a file another thread opened (no socket:
 * nobody accepts any more), and then shutdown() fails with ENOTSOCK and does nothing.
 * (05 hands its event streams to a thread of its own: such a socket may still be in
 * the table too, and a stream that a stop shuts down here only ends a little sooner.) */
int team_stop(int seconds)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);	/* what pthread_cond_timedwait() uses */
	deadline.tv_sec += seconds;
	pthread_mutex_lock(&team.lock);
	for (int i = 0; i < team.slots; i++)
		if (team.serving[i] >= 0)
			shutdown(team.serving[i], SHUT_RD);
	while (team.live > 0)
		if (pthread_cond_timedwait(&team.room, &team.lock, &deadline) == ETIMEDOUT)
			break;
	int left = team.live;
	printf("threads: %lu connections served, at most %d threads at once\n", team.served, team.peak);
	pthread_mutex_unlock(&team.lock);
	return left;
}

/* Every thread has ended: free the table. */
void team_end(void)
{
	free(team.serving);
	team.serving = NULL;
}
