/* 04-threads: a thread per connection.
 *
 * The main thread only accepts. Each connection gets a new, detached thread that runs
 * the same keep-alive loop as 01 and ends with the connection. At most --max-threads
 * connections are served at once; past that, the main thread waits for a thread to end,
 * and new clients wait in the kernel's listen queue. (With --pool N, N threads made at
 * start serve the connections instead: pool.c.) Threads are cheaper than 03's
 * processes because they share everything: memory, descriptors, the document root.
 * That sharing is also the danger.
 *
 * What the threads share, and what guards each piece (anything else is a thread's own,
 * on its stack or in memory only it points to):
 *   - `srv` (struct server): the configuration, written before any thread starts, then
 *     only read. Its history (atomics in shared memory, history.c) and access log (a
 *     mutex, log.c) guard themselves;
 *   - the stopping flag (sock.c): an atomic, set once by the signal thread below;
 *   - the team of serving threads (team.c): their count, the table of connections being
 *     served and the count of those served, all under one lock. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "die.h"
#include "log.h"
#include "options.h"
#include "pool.h"
#include "server.h"
#include "sock.h"
#include "team.h"
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
static int stack_kib = DEFAULT_STACK_KIB; /* --stack-size */

static const struct stage_option options[] = {
	{ .name = "max-threads", .value = &max_threads, .min = 1, .max = 100000,
	  .usage = "      --max-threads N   at most N connections served at once (default 1024)\n" },
	{ .name = "pool", .value = &pool_size, .min = 0, .max = 4096,
	  .usage = "      --pool N          N threads made at start take connections from a queue\n"
		   "                        (at most 4096; default 0: a new thread for every connection)\n" },
	/* At least 32: at 16 and 20 KiB serving a request ran off the stack (x86-64, glibc). */
	{ .name = "stack-size", .value = &stack_kib, .min = 32, .max = 100000,
	  .usage = "      --stack-size KIB  each thread's stack, in KiB (default 64)\n" },
	{ 0 }
};

static pthread_attr_t attr;	/* detached, small stack: every thread we make */
static unsigned created;	/* threads made so far, by the main thread: their numbers */
static const struct threads_extra *extra;	/* what a stage built on this one adds */

/* A thread per connection: serve it, then leave the team: room for the next. */
static void *connection_thread(void *arg)
{
	struct handover *h = arg;

	/* begin connection-thread */
	/* LAB 04.1b: serve the connection, free h, then leave the team: last of all */
	team_serve(h);
	free(h);
	team_leave();
	/* END LAB 04.1b */
	/* end connection-thread */
	return NULL;
}

/* The signal thread. Every thread blocks SIGINT and SIGTERM (they inherit the mask of
 * main, which blocks them before making any thread), so the signals stay pending until
 * this thread takes them with sigwait(). It then runs ordinary code, not a handler: it
 * may take locks and wake the condition variables that the other threads sleep on. */
static void *signal_thread(void *arg)
{
	sigset_t stops;
	int sig;

	(void)arg;
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	/* begin sigwait */
	while (sigwait(&stops, &sig) != 0)
		;
	sock_stop();
	/* end sigwait */
	team_wake();
	pool_wake();
	return NULL;
}

/* Make a thread for the connection fd. The connection travels in memory of its own,
 * never as the int itself cast to void *: that cast is not portable, and a pointer to
 * a local variable here would be overwritten by the next accept() before the new
 * thread had read it. */
static void spawn(struct server *srv, int fd, const struct sockaddr_storage *peer, socklen_t len)
{
	/* begin spawn-thread */
	/* LAB 04.1: a detached thread (attr) serves fd, given a struct handover of its
	 * own (malloc; number ++created) and counted in the team before it exists; if
	 * it cannot be made, uncount it and close fd */
	struct handover *h = malloc(sizeof *h);
	pthread_t tid;
	int err = ENOMEM;

	if (h) {
		*h = (struct handover){ srv, fd, *peer, len, ++created };
		team_enter();
		err = pthread_create(&tid, &attr, connection_thread, h);
		if (err)
			team_leave();
	}
	if (err) {
		fprintf(stderr, "server: cannot start a thread (%s): connection closed\n", strerror(err));
		free(h);
		close(fd);
	}
	/* END LAB 04.1 */
	/* end spawn-thread */
}

/* A connection holds its socket and, while a file goes out, the file. Under a small
 * descriptor limit (ulimit -n), fewer connections than --max-threads fit: past it,
 * accept() would still succeed, but open() would fail and the client would get an
 * error instead of its file. So the cap comes down to what fits (sock_max_clients). A
 * pool's queue holds 4 connections per thread, as descriptors allow. */
static int fit_descriptors(void)
{
	int limit = sock_fd_limit(), fit = sock_max_clients(limit);

	if (pool_size) {
		int room = 2 * fit - 2 * pool_size;
		return pool_size * 4 < room ? pool_size * 4 : room > 1 ? room : 1;
	}
	if (max_threads > fit) {
		fprintf(stderr, "server: ulimit -n %d leaves room for %d connections at once "
			"(a socket and a file each): --max-threads lowered from %d\n",
			limit, fit, max_threads);
		max_threads = fit;
	}
	return 0;
}

/* Every thread made with `attr` is detached (nobody joins it: it says it has ended
 * through team_leave()) and has a small stack. The default stack is 8 MiB of address
 * space; only the pages a thread touches cost memory, but 1000 of them would reserve
 * 8 GiB. */
static void make_attr(void)
{
	size_t stack = (size_t)stack_kib * 1024;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (stack < PTHREAD_STACK_MIN)	/* 64 KiB is below the minimum on some machines (arm64) */
		stack = PTHREAD_STACK_MIN;
	if (pthread_attr_setstacksize(&attr, stack) != 0)
		die(2, "--stack-size %d: too small or not a multiple of the page size", stack_kib);
}

/* Before accepting: the table of connections, the signal thread, the pool. */
static void start_threads(struct server *srv)
{
	sigset_t stops;
	pthread_t tid;
	int queue = fit_descriptors();

	team_init(pool_size ? pool_size : max_threads);
	make_attr();
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stops, NULL);	/* before any thread: they inherit it */
	if (pthread_create(&tid, &attr, signal_thread, NULL) != 0)
		die(1, "cannot start the signal thread");
	if (pool_size)
		pool_start(srv, pool_size, queue, &attr);
	if (extra && extra->started)
		extra->started(srv);
}

/* The whole server; main() below, or a stage built on this one, calls it. */
int threads_main(struct server *srv, int argc, char **argv, const struct threads_extra *more)
{
	extra = more;
	server_setup(srv, argc, argv, options, extra ? extra->options : NULL);
	if (extra && extra->prepare)
		extra->prepare(srv);	/* it may refuse to start: before the URL line */
	sock_listen(srv);
	start_threads(srv);
	/* begin accept-loop */
	while (pool_size ? pool_wait_room() : team_wait_room(max_threads)) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof peer;
		int fd = sock_accept(srv->listen_fd, &peer, &len);
		if (fd < 0)
			continue;	/* stopping (the wait above then says so), or a client gone */
		if (pool_size)
			pool_put(fd, &peer, len);
		else
			spawn(srv, fd, &peer, len);
	}
	/* end accept-loop */
	close(srv->listen_fd);	/* new clients are refused from now on */
	srv->listen_fd = -1;
	int left = team_stop(srv->timeout + 1);
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
	team_end();
	pool_end();
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
