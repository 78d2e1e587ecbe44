/* main.c: the load client. Parses the command line, forks the client processes,
 * adds up what they send back through their pipes, prints the summary.
 *
 *   parent --fork--> client 1 .. N: each runs load_run() (load.c), then writes its
 *   struct stats down its own pipe and exits; the parent reads every pipe, merges,
 *   reaps the children and reports.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "load.h"
#include "opts.h"
#include "report.h"
#include "stats.h"

/* Set by SIGINT or SIGTERM: every loop checks it and winds up. */
static volatile sig_atomic_t stop;

/* SIGINT, SIGTERM: ask for a stop. Only sets the flag (which changes no errno); the
 * interrupted poll() or read() returns EINTR and its loop looks at the flag. */
static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Installs the handlers, and ignores SIGPIPE once for all: writing to a connection
 * the server has closed must fail with EPIPE (a counted error), not kill the client. */
static void signals_setup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal; /* no SA_RESTART: blocked calls must return EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* Makes room for `need` descriptors (a client's sockets, or the parent's pipes, plus
 * stdio): raises the soft limit on open files, up to the hard one, when it is short. */
static int fd_limit(rlim_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		fprintf(stderr, "client: this needs %llu open files per process and the limit is "
			"%llu: use fewer --max-conns and more --max-clients\n",
			(unsigned long long)need, (unsigned long long)rl.rlim_max);
		return -1;
	}
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		fprintf(stderr, "client: cannot raise the open files limit to %llu: %s\n",
			(unsigned long long)need, strerror(errno));
		return -1;
	}
	return 0;
}

/* Writes all of buf, retrying after EINTR and short writes. */
static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The life of a client process: its share of the load, then its stats down the pipe. */
static void child(const struct opts *o, int fd, int say_fd)
{
	struct stats *st = calloc(1, sizeof *st);
	int rc = st == NULL || load_run(o, st, say_fd, &stop) < 0 ||
		 write_all(fd, st, sizeof *st) < 0;

	free(st);
	_exit(rc); /* _exit: stdio was the parent's */
}

/* The token that lets a single client process say that the server refuses
 * connections, however many find it out: a pipe holding one byte, its write end closed
 * at once. The client that reads the byte speaks; the others read EOF. Returns the
 * read end, or -1 (then each client says it once). */
static int say_token(void)
{
	int p[2];

	if (pipe(p) < 0)
		return -1;
	if (write(p[1], "!", 1) != 1) {
		close(p[0]);
		p[0] = -1;
	}
	close(p[1]);
	return p[0];
}

/* Forks the clients, each with a pipe back to us and say_fd; returns how many started. */
static unsigned spawn(const struct opts *o, pid_t *pid, int *rfd, int say_fd)
{
	unsigned i, j;
	int p[2];

	for (i = 0; i < o->clients; i++) {
		if (pipe(p) < 0)
			break;
		pid[i] = fork();
		if (pid[i] < 0) {
			close(p[0]);
			close(p[1]);
			break;
		}
		if (pid[i] == 0) {
			close(p[0]);
			for (j = 0; j < i; j++) /* the other clients' pipes are not ours */
				close(rfd[j]);
			child(o, p[1], say_fd);
		}
		close(p[1]); /* only the child writes: its exit gives us EOF */
		rfd[i] = p[0];
	}
	return i;
}

/* Passes a stop (Ctrl-C, SIGTERM) on to the clients, once. A Ctrl-C reaches them
 * anyway (same process group); a `kill` of the parent alone does not. */
static void pass_stop(const pid_t *pid, unsigned n)
{
	static int passed;
	unsigned i;

	if (!stop || passed)
		return;
	passed = 1;
	for (i = 0; i < n; i++)
		kill(pid[i], SIGTERM);
}

/* Reads one client's stats from its pipe. Waits in poll() with a short timeout
 * rather than in read(): a stop that lands just before the wait is seen 0.2 s later
 * at most, instead of never being passed on. Returns -1 when the client died first. */
static int read_stats(int fd, struct stats *st, const pid_t *pid, unsigned n)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char *p = (char *)st;
	size_t got = 0;
	ssize_t k;

	while (got < sizeof *st) {
		pass_stop(pid, n);
		if (poll(&pfd, 1, 200) <= 0)
			continue; /* timeout or EINTR: look at the flag again */
		k = read(fd, p + got, sizeof *st - got);
		if (k == 0 || (k < 0 && errno != EINTR))
			return -1;
		got += k > 0 ? (size_t)k : 0;
	}
	return 0;
}

/* Waits for every client; returns how many did not exit cleanly, saying why. */
static unsigned reap(const pid_t *pid, unsigned n)
{
	unsigned i, bad = 0;
	int status;

	for (i = 0; i < n; i++) {
		while (waitpid(pid[i], &status, 0) < 0 && errno == EINTR)
			;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			continue;
		bad++;
		if (WIFSIGNALED(status))
			fprintf(stderr, "client: client %u (pid %ld) killed by signal %d\n", i + 1,
				(long)pid[i], WTERMSIG(status));
		else
			fprintf(stderr, "client: client %u (pid %ld) failed\n", i + 1, (long)pid[i]);
	}
	return bad;
}

/* Runs the clients and adds up their stats into total; returns how many went wrong. */
static unsigned run(const struct opts *o, struct stats *total)
{
	pid_t *pid = calloc(o->clients, sizeof *pid);
	int *rfd = calloc(o->clients, sizeof *rfd);
	struct stats *one = malloc(sizeof *one);
	unsigned i, n, bad = 1;
	int say_fd;

	if (pid == NULL || rfd == NULL || one == NULL) {
		fputs("client: out of memory\n", stderr);
		goto cleanup;
	}
	fflush(stdout); /* or the children would inherit, and print, the buffered plan */
	say_fd = say_token();
	n = spawn(o, pid, rfd, say_fd);
	if (say_fd >= 0)
		close(say_fd); /* the clients' now */
	bad = 0;
	if (n < o->clients) {
		fprintf(stderr, "client: cannot start client %u of %u: %s\n", n + 1, o->clients,
			strerror(errno));
		stop = 1; /* stop the others too: this run is not the one asked for */
		bad++;
	}
	for (i = 0; i < n; i++) {
		if (read_stats(rfd[i], one, pid, n) == 0)
			stats_merge(total, one);
		close(rfd[i]);
	}
	bad += reap(pid, n);
cleanup:
	free(pid);
	free(rfd);
	free(one);
	return bad;
}

/* Prints the summary; returns the exit status: 0 all ok, 1 anything failed. A refused
 * connection is a request the run did not make: that is no success either. */
static int summary(const struct opts *o, struct stats *total, unsigned bad)
{
	total->interrupted |= stop != 0;
	if (o->json)
		report_json(o, total, stdout);
	else
		report_text(o, total, stdout);
	return bad > 0 || total->interrupted || stats_failed(total) > 0 || total->refused > 0;
}

/* Parses the command line, runs the clients, prints the summary; exits 0, 1 or 2. */
int main(int argc, char **argv)
{
	struct opts o;
	struct stats *total = NULL;
	int rc = 2;

	switch (opts_parse(&o, argc, argv)) {
	case OPTS_HELP:
		rc = 0;
		goto cleanup;
	case OPTS_USAGE:
		goto cleanup;
	case OPTS_RUN:
		break;
	}
	if (fd_limit((rlim_t)(o.conns > o.clients ? o.conns : o.clients) + 16) < 0)
		goto cleanup;
	rc = 1;
	total = calloc(1, sizeof *total);
	if (total == NULL) {
		fputs("client: out of memory\n", stderr);
		goto cleanup;
	}
	signals_setup();
	if (!o.quiet && !o.json)
		report_plan(&o, stdout);
	rc = summary(&o, total, run(&o, total));
cleanup:
	free(total);
	opts_free(&o);
	return rc;
}
