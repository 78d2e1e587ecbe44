/* sock: listen, accept, socket options, and stopping on SIGINT / SIGTERM. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "die.h"
#include "server.h"
#include "sock.h"

/* Room for an address, or an address with its port: IPv6's fit with room. */
enum { SOCK_HOST_MAX = 80 };

/* Set once by a signal handler (or 04's signal thread), read by every loop. An atomic,
 * not a volatile sig_atomic_t: that type is safe between a handler and the thread it
 * interrupted, but 04 reads the flag on other threads too. A lock-free atomic is safe
 * in both cases; atomic_int is lock-free on every machine we build for. */
static atomic_int stopping;	/* 0, STOP_ASKED, then STOP_SENT (the byte is written) */
static int stop_pipe[2] = { -1, -1 };
enum { STOP_ASKED = 1, STOP_SENT = 2 };

/* Stop: note it, and wake whoever waits in sock_accept(). Why the pipe (the "self-pipe
 * trick"): a flag alone has a race. If the signal arrives after the loop checked the
 * flag but before accept() blocks, accept() sleeps on, maybe for ever. A byte in a pipe
 * stays there, so poll() on the pipe never misses it. Async-signal-safe. */
void sock_stop(void)
{
	int saved = errno;

	atomic_store(&stopping, STOP_ASKED);	/* first: whoever the byte wakes must see it */
	if (write(stop_pipe[1], "x", 1) < 0) {
		/* the pipe is full: a wake-up is already waiting */
	}
	atomic_store(&stopping, STOP_SENT);	/* then: the pipe may be closed */
	errno = saved;
}

/* SIGINT / SIGTERM. */
static void on_stop(int sig)
{
	(void)sig;
	sock_stop();
}

/* Ignore SIGPIPE (a client that hangs up makes write() fail with EPIPE instead of
 * killing us) and catch SIGINT and SIGTERM. No SA_RESTART: a blocking read() or
 * accept() returns EINTR, so a loop sees the flag promptly. */
void sock_signals(void)
{
	struct sigaction sa;

	if (pipe(stop_pipe) != 0)
		die(1, "pipe:");
	for (int i = 0; i < 2; i++) {
		fcntl(stop_pipe[i], F_SETFL, O_NONBLOCK);
		fcntl(stop_pipe[i], F_SETFD, FD_CLOEXEC);
	}
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* At the very end: SIGINT and SIGTERM are ignored from now on (a second Ctrl-C while
 * the summary is printed), and the pipe is closed, so that nothing is left open. */
void sock_signals_end(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* 04's signal thread may still be writing its byte: a matter of microseconds. */
	struct timespec ms = { 0, 1000 * 1000 };
	for (int i = 0; i < 1000 && atomic_load(&stopping) == STOP_ASKED; i++)
		nanosleep(&ms, NULL);
	for (int i = 0; i < 2; i++)
		if (stop_pipe[i] >= 0)
			close(stop_pipe[i]);
}

/* Has SIGINT or SIGTERM arrived? */
bool sock_stopping(void)
{
	return atomic_load(&stopping);
}

/* The pipe's read end: readable once the server is stopping (for event loops). */
int sock_stop_fd(void)
{
	return stop_pipe[0];
}

/* The socket address for a numeric host ("127.0.0.1", "0.0.0.0", "::1", "::") and a
 * port; 0 if the host is not one. No name lookup: -b takes an address, and a lookup
 * would tie the statically linked 03-fork to the C library's name-service modules. */
static socklen_t numeric_address(const char *host, const char *port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	in_port_t p = htons((in_port_t)strtol(port, NULL, 10));	/* options.c checked it */

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = p;
		return sizeof *v4;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = p;
		return sizeof *v6;
	}
	return 0;
}

/* Bind and listen on srv->bind:srv->port; dies with a clear message on failure.
 * Prints the line with the URL (what the tests read) once listening. */
int sock_listen(struct server *srv)
{
	struct sockaddr_storage ss;
	socklen_t len = numeric_address(srv->bind, srv->port, &ss);
	int one = 1, fd;

	if (!len)
		die(2, "bad bind address '%s': give an IPv4 or IPv6 address, such as 127.0.0.1 or ::", srv->bind);
	if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) < 0)
		die(1, "socket:");
	/* SO_REUSEADDR: restart at once on the same port, without waiting out TIME_WAIT. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, len) != 0)
		die(1, "cannot bind %s port %s (is another server using it? try -p 0):", srv->bind, srv->port);
	if (listen(fd, SOMAXCONN) != 0)
		die(1, "listen:");
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	len = sizeof ss;
	getsockname(fd, (struct sockaddr *)&ss, &len);

	char host[SOCK_HOST_MAX], where[SOCK_HOST_MAX];
	sock_names((struct sockaddr *)&ss, len, host, sizeof host, where, sizeof where);
	printf("staged-httpd %s serving %s on http://%s/\n", srv->stage, srv->root, where);
	fflush(stdout);
	return srv->listen_fd = fd;
}

/* Wait for a connection or for the stop signal, then accept. Returns the new socket,
 * or -1: errno EINTR when stopping, or accept()'s error (the caller carries on). */
int sock_accept(int listen_fd, struct sockaddr_storage *peer, socklen_t *len)
{
	struct pollfd fds[2] = { { listen_fd, POLLIN, 0 }, { stop_pipe[0], POLLIN, 0 } };

	if (sock_stopping() || poll(fds, 2, -1) < 0 || sock_stopping()) {
		errno = EINTR;
		return -1;
	}
	int fd = accept(listen_fd, (struct sockaddr *)peer, len);
	if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
		/* Out of descriptors: the connection stays queued and poll() would report
		 * it at once again. Pause briefly instead of spinning on the CPU. */
		struct timespec pause = { 0, 100 * 1000 * 1000 };
		nanosleep(&pause, NULL);
	}
	return fd;
}

/* Per-connection options: no Nagle delay, and timeouts on blocking reads and writes.
 * A read gives up after `timeout` seconds. A write gives up sooner, after
 * SOCK_SEND_SLICE_MS without room: the caller counts the time since its last byte
 * went out, and a write that blocks for the whole timeout would blur that count (a
 * call that sends a little, then waits, returns only when its timer ends). */
void sock_tune(int fd, int timeout)
{
	int one = 1;
	struct timeval rcv = { .tv_sec = timeout };
	struct timeval snd = { .tv_usec = SOCK_SEND_SLICE_MS * 1000 };

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof rcv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof snd);
}

/* The peer's address ("127.0.0.1", "::1") and address with port ("127.0.0.1:40522",
 * "[::1]:40522"). Not getnameinfo(), and for IPv4 not even inet_ntop(): both format
 * with printf() in glibc, and a child of 03-fork pays for each page of library code it
 * runs (buf_cat says why). IPv6 peers are rare enough to take the library's way. */
void sock_names(const struct sockaddr *sa, socklen_t len, char *addr, size_t asize,
		char *peer, size_t psize)
{
	const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;
	char digits[5][NUM_TEXT_LEN];	/* an IPv4 address's four bytes (or an IPv6 zone), then the port */
	const char *port = NULL;

	if (sa->sa_family == AF_INET && len >= sizeof *v4) {
		const unsigned char *b = (const unsigned char *)&v4->sin_addr;	/* network order */
		text_cat(addr, asize, num_text(digits[0], b[0], 10), ".", num_text(digits[1], b[1], 10), ".",
			 num_text(digits[2], b[2], 10), ".", num_text(digits[3], b[3], 10), NULL);
		port = num_text(digits[4], ntohs(v4->sin_port), 10);
	} else if (sa->sa_family == AF_INET6 && len >= sizeof *v6 &&
		   inet_ntop(AF_INET6, &v6->sin6_addr, addr, (socklen_t)asize)) {
		/* a link-local peer (fe80::...) is only whole with its zone: the interface
		 * number, "fe80::1%2" (RFC 4007) */
		if (v6->sin6_scope_id) {
			size_t n = strlen(addr);
			text_cat(addr + n, asize - n, "%", num_text(digits[0], v6->sin6_scope_id, 10), NULL);
		}
		port = num_text(digits[4], ntohs(v6->sin6_port), 10);
	}
	if (!port) {	/* not an IP peer, or no room for its address */
		text_cat(addr, asize, "?", NULL);
		port = "?";
	}
	if (strchr(addr, ':'))
		text_cat(peer, psize, "[", addr, "]:", port, NULL);
	else
		text_cat(peer, psize, addr, ":", port, NULL);
}

/* The descriptor limit (ulimit -n), raised first as far as the system lets a process
 * raise it alone (the soft limit up to the hard one; often 1024 up to 500000 or more),
 * but to SOCK_FD_MAX at most: 02 keeps a table entry per descriptor. */
int sock_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024;
	if (rl.rlim_cur < SOCK_FD_MAX && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < SOCK_FD_MAX ? rl.rlim_max : SOCK_FD_MAX;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur < SOCK_FD_MAX ? (int)rl.rlim_cur : SOCK_FD_MAX;
}

/* How many clients may be served at once under a descriptor limit: each needs two
 * descriptors, its socket and the file it is sent, and SOCK_FD_RESERVE stay free
 * beyond those the server holds already (the lowest free descriptor says how many).
 * Taking clients until accept() fails (EMFILE) would leave none to open files with,
 * and every client then would get an error instead of its file. At least 1. */
int sock_max_clients(int limit)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int in_use = fd > 0 ? fd : 3;

	if (fd >= 0)
		close(fd);
	int n = (limit - in_use - SOCK_FD_RESERVE) / 2;
	return n > 0 ? n : 1;
}
