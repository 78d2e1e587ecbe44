/* 03-fork: a child process per connection.
 *
 * The parent only accepts. For each connection it forks: the child serves that one
 * client with the same keep-alive loop as 01 and exits, while the parent goes straight
 * back to accept(). A slow client now costs one process, not everyone's turn. The
 * price: a fork per connection, and two duties for the parent that 01 never had,
 * closing its copy of each connected socket and reaping each child that exits.
 *
 * Break-it builds (see the Makefile): -DBREAK_NOCLOSE skips the parent's close(),
 * -DBREAK_NOREAP never calls waitpid(). Never use them to serve anyone. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "die.h"
#include "options.h"
#include "server.h"
#include "sock.h"

static int max_children = 64;

/* Children alive now, and their pids (0: a free slot), to end the stragglers at
 * shutdown. The SIGCHLD handler lowers the count and frees slots; the parent raises
 * and fills them only with SIGCHLD blocked, so the two never touch them at once. */
static volatile sig_atomic_t live;
static volatile pid_t *pids;

static const struct stage_option options[] = {
	{ .name = "max-children", .value = &max_children, .min = 1, .max = 100000,
	  .usage = "      --max-children N  at most N children at once (default 64)\n" },
	{ 0 }
};

#ifndef BREAK_NOREAP
/* Free the slot of a child that has been reaped. */
static void forget(pid_t pid)
{
	for (int i = 0; i < max_children; i++)
		if (pids[i] == pid)
			pids[i] = 0;
}
#endif

/* begin reap */
/* SIGCHLD: a child has exited. Reap every child that has: signals are not queued,
 * so three children that exit together may raise a single SIGCHLD, and one wait()
 * here would leave two zombies. WNOHANG: stop when none is left, never block. */
static void on_child(int sig)
{
	int saved = errno, status;

	(void)sig;
#ifdef BREAK_NOREAP
	(void)status;
	live--;		/* broken on purpose: counted, never waited for: a zombie */
#else
	/* LAB 03.2: reap every child that has exited, and count it out (live, forget()) */
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		live--;
		forget(pid);
	}
	/* END LAB 03.2 */
#endif
	errno = saved;
}
/* end reap */

/* Block SIGCHLD, SIGINT and SIGTERM (block = 1), or restore the mask saved in *old
 * (block = 0). The stop signals too: wait_for_slot() looks at the stop flag as well as
 * at `live` before it sleeps, and neither look may be split from the sleep. */
static void hold_signals(int block, sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (block)
		sigprocmask(SIG_BLOCK, &set, old);
	else
		sigprocmask(SIG_SETMASK, old, NULL);
}

/* At the cap, sleep until a child exits. Why SIGCHLD is blocked while we look at the
 * count: a child exiting between the look and the sleep would wake no one. sigsuspend()
 * unblocks and sleeps in one step, so that wake-up cannot be missed. */
static void wait_for_slot(void)
{
	/* LAB 03.3: at the cap (--max-children), sleep until a child exits or we stop */
	sigset_t old;

	if (live < max_children)
		return;		/* below the cap: the count can only fall meanwhile */
	hold_signals(1, &old);
	while (live >= max_children && !sock_stopping())
		sigsuspend(&old);
	hold_signals(0, &old);
	/* END LAB 03.3 */
}

/* Fork a child to serve fd. SIGCHLD stays blocked until the parent has counted the
 * child, or a quick child could be reaped (live--) before it was counted. */
static void spawn(struct server *srv, int fd, struct sockaddr_storage *peer, socklen_t len)
{
	/* LAB 03.1: fork. The child restores the signal mask and SIGCHLD's default action,
	 * closes the listener, serves fd and exits; the parent counts it (live, pids). */
	sigset_t old;

	hold_signals(1, &old);
	pid_t pid = fork();
	if (pid == 0) {				/* the child */
		hold_signals(0, &old);
		signal(SIGCHLD, SIG_DFL);
		close(srv->listen_fd);		/* accepting is the parent's job */
		serve_connection(srv, fd, (struct sockaddr *)peer, len);
		_exit(0);	/* not exit(): stdio buffers copied from the parent stay unflushed */
	}
	if (pid > 0) {				/* the parent */
		live++;
		for (int i = 0; i < max_children; i++)
			if (!pids[i]) {
				pids[i] = pid;
				break;
			}
	} else {
		fprintf(stderr, "server: fork failed (%s): connection closed\n", strerror(errno));
	}
	hold_signals(0, &old);
	/* END LAB 03.1 */
#ifndef BREAK_NOCLOSE
	/* LAB 03.1b: the parent is done with fd: it closes its copy */
	/* Why the parent closes: fork gave the child its own descriptor for the same open
	 * connection, and the kernel ends the connection only when the last descriptor on
	 * it is closed. If the parent kept its copy, the client would never see the child's
	 * close, and the parent would run out of descriptors. */
	close(fd);
	/* END LAB 03.1b */
#endif
}

/* SIGINT/SIGTERM: pass it on to the children (an idle one exits at once, a busy one
 * after its response), give them -t seconds and one more, then kill the rest and
 * reap every child before the summary. */
static void stop_children(struct server *srv)
{
	/* LAB 03.4: SIGTERM each child, wait for them until the deadline at most, then
	 * SIGKILL the rest and reap every child, so that none outlives the parent */
	long long deadline = conn_clock_ms() + (srv->timeout + 1) * 1000LL;
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	sigset_t old;

	hold_signals(1, &old);	/* no slot is cleared, and no pid reused, while we read them */
	for (int i = 0; i < max_children; i++)
		if (pids[i])
			kill(pids[i], SIGTERM);
	hold_signals(0, &old);
	while (live > 0 && conn_clock_ms() < deadline)
		nanosleep(&nap, NULL);	/* SIGCHLD cuts each nap short */
	hold_signals(1, &old);
	for (int i = 0; i < max_children; i++)
		if (pids[i])
			kill(pids[i], SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)	/* reap all, stragglers and zombies alike */
		;
	live = 0;
	hold_signals(0, &old);
	/* END LAB 03.4 */
}

int main(int argc, char **argv)
{
	struct server srv = { .stage = "03-fork" };
	struct sigaction sa;

	server_start(&srv, argc, argv, options, NULL);
	if (!(pids = calloc((size_t)max_children, sizeof *pids)))
		die(1, "out of memory");
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_child;
	sa.sa_flags = SA_NOCLDSTOP;	/* no SA_RESTART: a blocked call returns EINTR */
	sigaction(SIGCHLD, &sa, NULL);

	/* begin accept-loop */
	while (!sock_stopping()) {
		wait_for_slot();
		struct sockaddr_storage peer;
		socklen_t len = sizeof peer;
		int fd = sock_accept(srv.listen_fd, &peer, &len);
		if (fd < 0)
			continue;	/* EINTR (SIGCHLD, or stopping): just look again */
		spawn(&srv, fd, &peer, len);
	}
	/* end accept-loop */
	close(srv.listen_fd);	/* new clients are refused from now on */
	srv.listen_fd = -1;
	stop_children(&srv);
	server_finish(&srv);
	free((void *)pids);
	return 0;
}
