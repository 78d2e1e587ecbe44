/* log: request lines, the access log and the summary.
 *
 * Every line goes out with a single write(): lines from concurrent processes and
 * threads may come in any order, but never mixed within a line. The access-log file
 * is opened with O_APPEND, so each write lands at the end whoever writes it. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "history.h"
#include "log.h"

/* The access-log file. Its name can change with the date (strftime in -l), so which
 * file is open is shared state: the mutex guards fd and name (04 logs from many
 * threads; in 03 each child has its own copy, which is fine: O_APPEND does the rest). */
struct access_log {
	pthread_mutex_t lock;
	int fd;
	char name[PATH_MAX];
};

/* Which thread of the process is working: 0 for the main thread, set by 04. */
static _Thread_local unsigned worker_thread;

void log_set_thread(unsigned n)
{
	worker_thread = n;
}

/* "pid=123", or "pid=123 thread=4" on a worker thread: who served a request. */
void log_worker(char *out, size_t size)
{
	if (worker_thread)
		snprintf(out, size, "pid=%ld thread=%u", (long)getpid(), worker_thread);
	else
		snprintf(out, size, "pid=%ld", (long)getpid());
}

/* Open (or switch to) the access-log file named by strftime(log_path, now). */
static int switch_file(struct server *srv, struct access_log *al, time_t now)
{
	char name[PATH_MAX];
	struct tm tm;

	if (!strftime(name, sizeof name, srv->log_path, localtime_r(&now, &tm)))
		return -1;
	if (al->fd >= 0 && strcmp(name, al->name) == 0)
		return 0;
	int fd = open(name, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd < 0)
		return -1;
	if (al->fd >= 0)
		close(al->fd);
	al->fd = fd;
	strcpy(al->name, name);
	return 0;
}

/* At start-up: open the access log, if any. -1 (errno set) when it cannot be opened. */
int log_open(struct server *srv)
{
	if (!srv->log_path)
		return 0;
	struct access_log *al = calloc(1, sizeof *al);
	if (!al)
		return -1;
	pthread_mutex_init(&al->lock, NULL);
	al->fd = -1;
	srv->log = al;
	return switch_file(srv, al, time(NULL));
}

/* The access-log file now written to, as fstat() sees it; false when there is none.
 * 05-watch asks, to tell its own writes from changes to the site. */
bool log_stat(struct server *srv, struct stat *st)
{
	struct access_log *al = srv->log;
	bool open;

	if (!al)
		return false;
	pthread_mutex_lock(&al->lock);
	open = al->fd >= 0 && fstat(al->fd, st) == 0;
	pthread_mutex_unlock(&al->lock);
	return open;
}

/* At exit: close the access log and free its state. */
void log_close(struct server *srv)
{
	struct access_log *al = srv->log;

	if (!al)
		return;
	if (al->fd >= 0)
		close(al->fd);
	pthread_mutex_destroy(&al->lock);
	free(al);
	srv->log = NULL;
}

/* Append s with quotes, backslashes and controls escaped (\xHH): a client cannot
 * forge log lines. At most max bytes of s are used. */
void log_escape(struct buf *b, struct slice s, size_t max)
{
	if (!s.p || s.n == 0) {
		buf_puts(b, "-");
		return;
	}
	for (size_t i = 0; i < s.n && i < max; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			buf_printf(b, "\\x%02x", c);
		else
			buf_append(b, &s.p[i], 1);
	}
}

/* The combined log format line, written to the current file. */
static void write_access_log(struct server *srv, const struct log_entry *e)
{
	struct access_log *al = srv->log;
	struct buf b;
	struct tm tm;
	char when[64];

	strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S %z", localtime_r(&e->when, &tm));
	buf_init(&b);
	buf_printf(&b, "%s - - [%s] \"", e->addr, when);
	log_escape(&b, e->line, 1024);
	buf_printf(&b, "\" %d %lld \"", (int)e->status, e->bytes);
	log_escape(&b, e->referer, 512);
	buf_puts(&b, "\" \"");
	log_escape(&b, e->user_agent, 512);
	buf_puts(&b, "\"\n");
	pthread_mutex_lock(&al->lock);
	if (!b.failed && switch_file(srv, al, e->when) == 0 && write(al->fd, b.data, b.len) < 0) {
		/* a full disk costs log lines, never responses */
	}
	pthread_mutex_unlock(&al->lock);
	buf_free(&b);
}

/* Log one finished request: history, terminal line, access log. */
void log_request(struct server *srv, const struct log_entry *e)
{
	history_add(srv->history, e->addr, e->target, e->status, e->bytes, e->when);
	if (!srv->quiet) {
		char who[64];
		struct buf b;
		buf_init(&b);
		log_worker(who, sizeof who);
		buf_printf(&b, "%s \"", e->peer);
		log_escape(&b, e->line, 300);
		buf_printf(&b, "\" %d %lld %s\n", (int)e->status, e->bytes, who);
		if (!b.failed && write(STDERR_FILENO, b.data, b.len) < 0) {
			/* nothing sensible to do when the terminal is gone */
		}
		buf_free(&b);
	}
	if (srv->log)
		write_access_log(srv, e);
}

/* The one-line summary at exit: requests, bytes, CPU time including children. */
void log_summary(struct server *srv)
{
	struct rusage self, kids;
	unsigned long long requests, bytes;

	history_totals(srv->history, &requests, &bytes);
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	double user = (double)self.ru_utime.tv_sec + self.ru_utime.tv_usec / 1e6 +
		      (double)kids.ru_utime.tv_sec + kids.ru_utime.tv_usec / 1e6;
	double sys = (double)self.ru_stime.tv_sec + self.ru_stime.tv_usec / 1e6 +
		     (double)kids.ru_stime.tv_sec + kids.ru_stime.tv_usec / 1e6;
	printf("summary: %llu requests, %llu bytes, cpu user %.2fs sys %.2fs (children included)\n",
	       requests, bytes, user, sys);
	fflush(stdout);
}
