/* 04-threads: a thread per connection, or a pool of threads (--pool N).
 *
 * The main thread only accepts (with helpers when many clients come at once). By
 * default each connection gets a new, detached thread that runs the same keep-alive
 * loop as 01 and ends with the connection. With --pool N, N threads made at start take
 * connections from a bounded queue instead, so nothing is created per connection.
 * Threads are cheaper than 03's processes because they share everything: memory,
 * descriptors, the document root. That sharing is also the danger.
 *
 * What the threads share, and what guards each piece (anything else is a thread's own,
 * on its stack or in memory only it points to):
 *   - `srv` (struct server): the configuration, written before any thread starts, then
 *     only read. Its history (atomics in shared memory, history.c) and access log (a
 *     mutex, log.c) guard themselves;
 *   - the stopping flag (sock.c): an atomic, set once by the signal thread below;
 *   - `team`: the counts, the table of connections being served and the pool's queue,
 *     all under team.lock. No field of it is read or written without that lock.
 *
 * Break-it build (see the Makefile): -DBREAK_NOLOCK counts served connections without
 * the lock. Never use it to serve anyone. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "options.h"
#include "server.h"
#include "sock.h"
#include "threads.h"

/* Sanitizers make every stack frame bigger (red zones, bookkeeping): give them room. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifdef SANITIZED
enum { DEFAULT_STACK_KIB = 1024 };
#else
enum { DEFAULT_STACK_KIB = 64 };
#endif

static int max_threads = 1024;	/* --max-threads: connections served at once */
static int pool_size;		/* --pool: 0 for a thread per connection */
enum { ACCEPTORS_MAX = 64 };
static int acceptors = 4;	/* --acceptors: threads that accept, the main one included */
static long stack_kib = DEFAULT_STACK_KIB; /* --stack-size */

/* A connection on its way from the acceptor to the thread that serves it. It travels in
 * memory of its own, never as the int itself cast to void *: that cast is not portable,
 * and a pointer to the acceptor's local variable would be overwritten by the next
 * accept() before the new thread had read it. */
struct handover {
	struct server *srv;
	int fd;
	struct sockaddr_storage peer;
	socklen_t len;
	int slot;		/* the thread's place in team.serving[] */
	unsigned number;	/* which thread: 1, 2, 3...; shown on /_/info and in the log */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t room;	/* a place is free, or a thread ended */
	pthread_cond_t work;	/* pool: a connection was queued, or we are stopping */
	pthread_cond_t rush;	/* more clients are waiting than the acceptors took */
	unsigned rushes;	/* how many times an acceptor found them: the helpers count */
	int taken;		/* places taken: by the connections being served (a thread per
				 * connection) or queued (pool), and by acceptors about to accept */
	int live;		/* threads alive (per connection), or pool threads alive */
	int peak;		/* the most threads alive at once */
	unsigned long served;	/* connections served to the end */
	int *serving;		/* per slot: the socket its thread serves, or -1 */
	int slots;
	unsigned created;	/* threads made so far: the next one's number */
	struct handover *queue;	/* pool: accepted connections waiting for a thread */
	int head, queued, size;
} team = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.room = PTHREAD_COND_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
	.rush = PTHREAD_COND_INITIALIZER,
};

static pthread_attr_t attr;	/* detached, small stack: every thread we make */

static int on_option(int opt, const char *arg, void *ctx)
{
	char *end;
	long n = strtol(arg, &end, 10);

	(void)ctx;
	if (*end || end == arg || n < 0 || n > 100000)
		return -1;
	if (opt == 256 && n >= 1)
		max_threads = (int)n;
	else if (opt == 257 && n <= 4096)
		pool_size = (int)n;
	else if (opt == 258 && n * 1024 >= PTHREAD_STACK_MIN)
		stack_kib = n;
	else if (opt == 259 && n >= 1 && n <= ACCEPTORS_MAX)
		acceptors = (int)n;
	else
		return -1;
	return 0;
}

static const struct option longopts[] = {
	{ "max-threads", required_argument, NULL, 256 },
	{ "pool", required_argument, NULL, 257 },
	{ "stack-size", required_argument, NULL, 258 },
	{ "acceptors", required_argument, NULL, 259 },
	{ 0 }
};
static struct stage_options stage_opts = {
	.longopts = longopts,
	.usage = "      --max-threads N   at most N connections served at once (default 1024)\n"
		 "      --pool N          N threads made at start take connections from a queue\n"
		 "                        (at most 4096; default 0: a new thread for every connection)\n"
		 "      --stack-size KIB  each thread's stack, in KiB (default 64)\n"
		 "      --acceptors N     N threads accept, the main one included (1 to 64;\n"
		 "                        default 4)\n",
	.handle = on_option,
};

static const struct threads_extra *extra;	/* what a stage built on this one adds */

/* The cap: how many places there are. A thread per connection: one per thread. A
 * pool: one per place in its queue (its threads are made at start, and never more). */
static int places(void)
{
	return pool_size ? team.size : max_threads;
}

/* A place is free again: a connection's thread ended, a pool thread took a connection
 * from the queue, or an acceptor that took a place got no connection. Wakes one
 * acceptor waiting for it. Called with team.lock held. */
static void free_place(void)
{
	team.taken--;
	pthread_cond_signal(&team.room);
}

/* The bookkeeping after a connection ends, the same in both modes. `leaving`: the
 * thread ends with its connection (a thread per connection), so a place is free. */
static void served(struct handover *h, bool leaving)
{
#ifdef BREAK_NOLOCK
	team.served++;		/* BROKEN on purpose: two threads can lose an update */
#endif
	pthread_mutex_lock(&team.lock);
	team.serving[h->slot] = -1;
#ifndef BREAK_NOLOCK
	team.served++;
#endif
	if (leaving) {
		team.live--;
		free_place();
	}
	pthread_mutex_unlock(&team.lock);
}

/* A thread per connection: serve it, then free our place for the next. */
static void *connection_thread(void *arg)
{
	struct handover *h = arg;

	/* begin connection-thread */
	log_set_thread(h->number);
	serve_connection(h->srv, h->fd, (struct sockaddr *)&h->peer, h->len);
	served(h, true);
	free(h);
	/* end connection-thread */
	return NULL;
}

/* A pool thread: take a queued connection, serve it, take the next, until stopping. */
static void *pool_thread(void *arg)
{
	struct handover *h = arg;

	log_set_thread(h->number);
	pthread_mutex_lock(&team.lock);
	/* begin pool-loop */
	for (;;) {
		while (team.queued == 0 && !sock_stopping())
			pthread_cond_wait(&team.work, &team.lock);
		if (team.queued == 0)
			break;	/* stopping, and nothing left to take */
		struct handover *next = &team.queue[team.head];
		h->fd = next->fd;
		h->peer = next->peer;
		h->len = next->len;
		team.head = (team.head + 1) % team.size;
		team.queued--;
		team.serving[h->slot] = h->fd;
		free_place();
		pthread_mutex_unlock(&team.lock);

		serve_connection(h->srv, h->fd, (struct sockaddr *)&h->peer, h->len);
		served(h, false);
		pthread_mutex_lock(&team.lock);
	}
	/* end pool-loop */
	team.live--;
	pthread_cond_signal(&team.room);
	pthread_mutex_unlock(&team.lock);
	free(h);
	return NULL;
}

/* The signal thread. Every thread blocks SIGINT and SIGTERM (they inherit the mask of
 * main, which blocks them before making any thread), so the signals stay pending until
 * this thread takes them with sigwait(). It then runs ordinary code, not a handler: it
 * may take locks and wake the condition variables that the other threads sleep on. */
static void *signal_thread(void *arg)
{
	struct server *srv = arg;
	sigset_t stops;
	int sig;

	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	/* begin sigwait */
	while (sigwait(&stops, &sig) != 0)
		;
	sock_stop();
	/* end sigwait */
	if (extra && extra->stopping)
		extra->stopping(srv);
	pthread_mutex_lock(&team.lock);
	pthread_cond_broadcast(&team.room);
	pthread_cond_broadcast(&team.work);
	pthread_cond_broadcast(&team.rush);
	pthread_mutex_unlock(&team.lock);
	return NULL;
}

/* Take a place for the next connection, before accepting it. At the cap (every thread
 * busy, or the queue full), wait until one is free: new clients wait in the kernel's
 * listen queue meanwhile. Taking the place first, under the lock, is what lets several
 * acceptors share the cap: two of them cannot both see the last place free. False
 * when stopping instead (no place taken). */
static bool take_place(void)
{
	/* begin cap-wait */
	pthread_mutex_lock(&team.lock);
	while (team.taken >= places() && !sock_stopping())
		pthread_cond_wait(&team.room, &team.lock);
	bool go = !sock_stopping();
	if (go)
		team.taken++;
	pthread_mutex_unlock(&team.lock);
	/* end cap-wait */
	return go;
}

/* Give fd to a thread: queue it for the pool, or make a thread for it. The acceptor's
 * place goes with it: to the queued connection, or to the new thread. */
static void hand_over(struct server *srv, int fd, struct sockaddr_storage *peer, socklen_t len)
{
	if (pool_size) {
		pthread_mutex_lock(&team.lock);
		int tail = (team.head + team.queued) % team.size;
		team.queue[tail] = (struct handover){ .fd = fd, .peer = *peer, .len = len };
		team.queued++;
		pthread_cond_signal(&team.work);
		pthread_mutex_unlock(&team.lock);
		return;
	}
	/* begin spawn-thread */
	struct handover *h = malloc(sizeof *h);
	pthread_t tid;
	int err = ENOMEM;
	if (h) {
		pthread_mutex_lock(&team.lock);	/* the place taken is ours: a slot is free */
		*h = (struct handover){ srv, fd, *peer, len, 0, ++team.created };
		while (team.serving[h->slot] >= 0)
			h->slot++;
		team.serving[h->slot] = fd;
		team.live++;
		if (team.live > team.peak)
			team.peak = team.live;
		pthread_mutex_unlock(&team.lock);
		/* Not under the lock: making a thread takes a while (a stack to map, a task
		 * to clone), and every thread that ends needs the lock meanwhile. */
		err = pthread_create(&tid, &attr, connection_thread, h);
		if (err) {
			pthread_mutex_lock(&team.lock);
			team.serving[h->slot] = -1;
			team.live--;
			pthread_mutex_unlock(&team.lock);
		}
	}
	if (err) {
		fprintf(stderr, "server: cannot start a thread (%s): connection closed\n", strerror(err));
		free(h);
		close(fd);
		pthread_mutex_lock(&team.lock);
		free_place();
		pthread_mutex_unlock(&team.lock);
	}
	/* end spawn-thread */
}

/* Whether more clients wait in the listen queue, right now. */
static bool more_waiting(int listen_fd)
{
	struct pollfd p = { listen_fd, POLLIN, 0 };

	return poll(&p, 1, 0) > 0;
}

/* What accept_one() did: each acceptor decides from it whether to go on. */
enum accepted {
	ACCEPTED,	/* a client, handed over */
	NOBODY,		/* no client after all: another acceptor was first, or it left */
	STOPPING,	/* the server stops */
};

/* Take a place, accept a client and hand it over; wake the helpers if more clients are
 * waiting.
 *
 * Why helpers: making a thread takes a while, and an acceptor is one thread among the
 * hundreds it has made, all asking for the CPUs. When 1000 clients come at once, a lone
 * acceptor makes their threads in a small share of the CPU time, and the last clients
 * wait for it (handout, 5.3); with helpers, the acceptors get a share each. Why they
 * sleep until clients are found waiting, instead of all waiting in sock_accept()'s
 * poll() all the time: poll() wakes every thread that waits on the socket for each
 * client, and all but one find nothing to accept. With one client at a time, four
 * acceptors that all polled made the server nearly 40% slower. */
static enum accepted accept_one(struct server *srv)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof peer;

	if (!take_place())
		return STOPPING;
	int fd = sock_accept(srv->listen_fd, &peer, &len);
	if (fd < 0) {	/* stopping, taken by another acceptor, a client gone, ... */
		pthread_mutex_lock(&team.lock);
		free_place();
		pthread_mutex_unlock(&team.lock);
		return sock_stopping() ? STOPPING : NOBODY;
	}
	/* The listening socket is non-blocking (threads_main()), and on some systems
	 * (the BSDs) an accepted socket inherits that; the connection's thread blocks. */
	fcntl(fd, F_SETFL, 0);
	/* More clients waiting: wake the helpers (with none, no need to ask the kernel). */
	if (acceptors > 1 && more_waiting(srv->listen_fd)) {
		pthread_mutex_lock(&team.lock);
		team.rushes++;
		pthread_cond_broadcast(&team.rush);
		pthread_mutex_unlock(&team.lock);
	}
	hand_over(srv, fd, &peer, len);
	return ACCEPTED;
}

/* A helper: asleep until an acceptor finds more clients waiting than it took, then it
 * accepts as the main thread does, until it finds nobody (the rush is over) or the
 * server stops. (After the rush, it may wait in poll() for one more client, which then
 * wakes it with the others: one wake-up for nothing per helper and rush.) Only the
 * signal thread's broadcast on team.rush ends its sleep at a stop. */
static void *helper_thread(void *arg)
{
	struct server *srv = arg;
	unsigned seen = 0;

	for (;;) {
		pthread_mutex_lock(&team.lock);
		while (team.rushes == seen && !sock_stopping())
			pthread_cond_wait(&team.rush, &team.lock);
		seen = team.rushes;
		pthread_mutex_unlock(&team.lock);
		if (sock_stopping())
			return NULL;
		while (accept_one(srv) == ACCEPTED)
			;
	}
}

/* A connection holds its socket and, while a file goes out, the file. Under a small
 * descriptor limit (ulimit -n), fewer connections than --max-threads fit: past it,
 * accept() would still succeed, but open() would fail and the client would get an
 * error instead of its file. So the cap comes down to what fits (sock_max_clients),
 * and for a pool, the queue of waiting sockets shrinks to what is left. */
static void fit_descriptors(void)
{
	int limit = sock_fd_limit(), fit = sock_max_clients(limit);

	if (pool_size) {
		/* 4 waiting per thread, as descriptors allow; more wait in the kernel */
		int room = 2 * fit - 2 * pool_size;
		team.size = pool_size * 4 < room ? pool_size * 4 : room > 1 ? room : 1;
	} else if (max_threads > fit) {
		fprintf(stderr, "server: ulimit -n %d leaves room for %d connections at once "
			"(a socket and a file each): --max-threads lowered from %d\n",
			limit, fit, max_threads);
		max_threads = fit;
	}
}

/* Make the pool's threads, numbered 1 to N, each with its slot. */
static void start_pool(struct server *srv)
{
	if (!(team.queue = calloc((size_t)team.size, sizeof *team.queue)))
		die(1, "out of memory");
	for (int i = 0; i < pool_size; i++) {
		struct handover *h = malloc(sizeof *h);
		pthread_t tid;
		if (!h)
			die(1, "out of memory");
		*h = (struct handover){ .srv = srv, .fd = -1, .slot = i, .number = (unsigned)i + 1 };
		pthread_mutex_lock(&team.lock);
		team.live++;
		team.peak = team.live;
		pthread_mutex_unlock(&team.lock);
		int err = pthread_create(&tid, &attr, pool_thread, h);
		if (err)
			die(1, "cannot start pool thread %d of %d (%s)", i + 1, pool_size, strerror(err));
	}
}

/* Stopping: wake the threads that wait for a client (shutting down the reading side of
 * their sockets makes a blocked read() return 0 at once), let the busy ones finish
 * their response, and wait until every thread has ended, at most -t seconds and one
 * more. Returns how many threads are still running after that.
 * Why shutting down a socket from here is safe: the table holds a socket until its
 * thread has finished with it. A thread that has just closed its socket may still be in
 * the table; the number can meanwhile name a file another thread opened (no socket:
 * nobody accepts any more), and then shutdown() fails with ENOTSOCK and does nothing. */
static int stop_threads(struct server *srv)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);	/* what pthread_cond_timedwait() uses */
	deadline.tv_sec += srv->timeout + 1;
	pthread_mutex_lock(&team.lock);
	for (int i = 0; i < team.slots; i++)
		if (team.serving[i] >= 0)
			shutdown(team.serving[i], SHUT_RD);
	pthread_cond_broadcast(&team.work);
	while (team.live > 0)
		if (pthread_cond_timedwait(&team.room, &team.lock, &deadline) == ETIMEDOUT)
			break;
	int left = team.live;
	printf("threads: %lu connections served, at most %d threads at once\n", team.served, team.peak);
	pthread_mutex_unlock(&team.lock);
	return left;
}

/* The whole server; main() below, or a stage built on this one, calls it. */
int threads_main(struct server *srv, int argc, char **argv, const struct threads_extra *more)
{
	sigset_t stops;
	pthread_t tid, helpers[ACCEPTORS_MAX - 1];

	extra = more;
	stage_opts.more = extra ? extra->options : NULL;
	server_start(srv, argc, argv, &stage_opts);
	fit_descriptors();
	team.slots = pool_size ? pool_size : max_threads;
	if (!(team.serving = malloc((size_t)team.slots * sizeof *team.serving)))
		die(1, "out of memory");
	for (int i = 0; i < team.slots; i++)
		team.serving[i] = -1;

	/* Every thread made with `attr` is detached (nobody joins it: it says it has ended
	 * through team.live) and has a small stack. The default stack is 8 MiB of address
	 * space; only the pages a thread touches cost memory, but 1000 of them would
	 * reserve 8 GiB. (The few helper acceptors keep the defaults, below.) */
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	size_t stack = (size_t)stack_kib * 1024;
	if (stack < PTHREAD_STACK_MIN)	/* 64 KiB is below the minimum on some machines (arm64) */
		stack = PTHREAD_STACK_MIN;
	if (pthread_attr_setstacksize(&attr, stack) != 0)
		die(2, "--stack-size %ld: too small or not a multiple of the page size", stack_kib);

	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stops, NULL);	/* before any thread: they inherit it */
	if (pthread_create(&tid, &attr, signal_thread, srv) != 0)
		die(1, "cannot start the signal thread");
	if (pool_size)
		start_pool(srv);
	if (extra && extra->started)
		extra->started(srv);

	/* The main thread accepts, with acceptors - 1 helpers for a rush (accept_one()).
	 * Several threads poll() the listening socket then, and one client wakes them all:
	 * it is non-blocking, so that the accept() of those that come too late fails at
	 * once instead of sleeping where the stop cannot reach it. The helpers are joinable
	 * (default attributes): the main thread waits for them at a stop. */
	fcntl(srv->listen_fd, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < acceptors - 1; i++)
		if (pthread_create(&helpers[i], NULL, helper_thread, srv) != 0)
			die(1, "cannot start acceptor %d of %d", i + 2, acceptors);
	/* begin accept-loop */
	while (accept_one(srv) != STOPPING)	/* finding nobody, it waits for the next */
		;
	/* end accept-loop */
	for (int i = 0; i < acceptors - 1; i++)
		pthread_join(helpers[i], NULL);
	close(srv->listen_fd);	/* new clients are refused from now on */
	srv->listen_fd = -1;
	int left = stop_threads(srv);
	if (left) {
		/* They may still use the log and the root: leave both open, exit without them. */
		fprintf(stderr, "server: %d threads still busy after %d s: exiting without them\n",
			left, srv->timeout + 1);
		log_summary(srv);
		return 0;
	}
	if (extra && extra->finished)
		extra->finished(srv);
	server_finish(srv);
	free(team.serving);
	free(team.queue);
	pthread_attr_destroy(&attr);
	return 0;
}

#ifndef THREADS_NO_MAIN
int main(int argc, char **argv)
{
	struct server srv = { .stage = "04-threads" };

	return threads_main(&srv, argc, argv, NULL);
}
#endif
