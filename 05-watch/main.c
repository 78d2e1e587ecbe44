/* 05-watch: 04-threads' server, plus live reload.
 *
 * A watcher thread notices changes under the document root (watch.c: inotify on Linux,
 * or a stat() scan at an interval anywhere). A burst of changes, such as an editor's
 * save (write, rename, chmod), becomes one event once the tree has been quiet for a
 * moment (a trailing debounce). The event goes on a bulletin board, `news` below, and
 * every open /_/events stream, each on its own thread, wakes and sends it to its browser
 * as a Server-Sent Event. Every HTML page the server sends carries a small script
 * (common/response.c puts it in) that listens to that stream: it swaps a changed
 * stylesheet in place and reloads the page for anything else.
 *
 * Why on 04's threads and not on 02's event loop: a stream is a loop that waits for news
 * and writes it, which a thread can simply do, blocking. In 02 it would be one more
 * state in the state machine, and the watcher one more descriptor in the loop. The
 * server is 04's own code (threads_main()); this file only adds to it.
 *
 * What the threads share here, and what guards it:
 *   - `news` (the latest event and its number): news.lock;
 *   - the options below: written while parsing the command line, before any thread;
 *   - everything else belongs to the watcher thread alone. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conn.h"
#include "log.h"
#include "options.h"
#include "server.h"
#include "sock.h"
#include "threads.h"
#include "watch.h"

enum { BURST_PATHS = 16, EVENT_MAX = 8192 };

#ifdef __linux__
static enum watch_kind kind = WATCH_INOTIFY;
#else
static enum watch_kind kind = WATCH_POLL;
#endif
static int interval_ms = 1000;	/* --interval: polling only */
static int debounce_ms = 100;	/* --debounce: the quiet time that ends a burst */
static int heartbeat_s = 15;	/* --heartbeat: a comment on idle streams this often */
static int watching = 1;	/* --no-watch: serve exactly like 04 */

/* The bulletin board: the watcher writes, the streams read. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t changed;	/* broadcast when seq moves on, and when stopping */
	unsigned long seq;	/* events so far */
	char event[EVENT_MAX];	/* the latest, ready to send */
} news = { .lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER };

static struct watch *watch;
static pthread_t watcher_tid;
static char server_id[64];	/* changes when the server restarts: pages then reload */

/* The changes of one burst, as they come in (64 KiB, on the watcher's stack: it is
 * made with the default stack size, not with the connection threads' small one). */
struct burst {
	char paths[BURST_PATHS][PATH_MAX];
	int count;		/* different paths seen, also beyond BURST_PATHS */
};

static void stream(struct server *srv, int fd);

extern const char live_script[];
static const struct live live = {
	.snippet = "<script src=\"/_/live.js\"></script>",
	.script = live_script,
	.stream = stream,
};

/* ---------------------------------------------------------------- options */

static int on_option(int opt, const char *arg, void *ctx)
{
	char *end = NULL;
	long n = arg ? strtol(arg, &end, 10) : 0;

	(void)ctx;
	switch (opt) {
	case 300:
		if (strcmp(arg, "poll") == 0)
			kind = WATCH_POLL;
		else if (strcmp(arg, "inotify") == 0)
			kind = WATCH_INOTIFY;
		else
			return -1;
		return 0;
	case 304:
		watching = 0;
		return 0;
	}
	if (!end || *end || end == arg || n < 1 || n > 3600 * 1000)
		return -1;
	if (opt == 301)
		interval_ms = (int)n;
	else if (opt == 302)
		debounce_ms = (int)n;
	else if (opt == 303 && n <= 3600)
		heartbeat_s = (int)n;
	else
		return -1;
	return 0;
}

static const struct option longopts[] = {
	{ "watch", required_argument, NULL, 300 },
	{ "interval", required_argument, NULL, 301 },
	{ "debounce", required_argument, NULL, 302 },
	{ "heartbeat", required_argument, NULL, 303 },
	{ "no-watch", no_argument, NULL, 304 },
	{ 0 }
};
static const struct stage_options watch_opts = {
	.longopts = longopts,
	.usage = "      --watch KIND      how to notice changes: inotify (Linux, the default there)\n"
		 "                        or poll (a stat() scan every --interval; anywhere)\n"
		 "      --interval MS     polling: time between two scans (default 1000)\n"
		 "      --debounce MS     a burst of changes ends after MS quiet (default 100)\n"
		 "      --heartbeat SECS  an idle event stream gets a comment this often (default 15)\n"
		 "      --no-watch        no watching, no live reload: serve exactly like 04-threads\n",
	.handle = on_option,
};

/* ---------------------------------------------------------------- the watcher */

static bool is_css(const char *path)
{
	size_t n = strlen(path);

	return n > 4 && strcmp(path + n - 4, ".css") == 0;
}

/* watch_wait() calls this for every raw change: gather the burst's distinct paths. */
static void on_change(void *ctx, const char *path)
{
	struct burst *b = ctx;

	for (int i = 0; i < b->count && i < BURST_PATHS; i++)
		if (strcmp(b->paths[i], path) == 0)
			return;
	if (b->count < BURST_PATHS)
		snprintf(b->paths[b->count], sizeof b->paths[0], "%s", path);
	b->count++;
}

/* Can pages swap stylesheets instead of reloading? Only if every path of the burst is
 * one, and every one is listed: a page swaps only the stylesheets an event names. */
static bool only_css(const struct burst *b)
{
	if (b->count == 0 || b->count > BURST_PATHS)
		return false;
	for (int i = 0; i < b->count; i++)
		if (!is_css(b->paths[i]))
			return false;
	return true;
}

/* A path as a JSON string. */
static void json_string(struct buf *out, const char *s)
{
	buf_puts(out, "\"");
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			buf_printf(out, "\\%c", ch);
		else if (ch < 0x20)
			buf_printf(out, "\\u%04x", ch);
		else
			buf_append(out, s, 1);
	}
	buf_puts(out, "\"");
}

/* Drop the paths of the burst that are not content. First our own access log, if it is
 * under the root: every request writes to it, and every page would reload after every
 * request, its own included, for ever. Then the paths that are gone, unless all are: a
 * save through a temporary file (sed -i writes "sedXXXXXX", then renames it over the
 * file) leaves only the real file. A burst that only deleted files still reports them. */
static void drop_temporaries(struct server *srv, struct burst *b)
{
	char full[2 * PATH_MAX];
	struct stat st, log;
	bool has_log = log_stat(srv, &log), exists[BURST_PATHS];
	int n = b->count < BURST_PATHS ? b->count : BURST_PATHS, listed = 0, kept = 0;

	for (int i = 0; i < n; i++) {
		snprintf(full, sizeof full, "%s%s", srv->root, b->paths[i]);
		exists[listed] = lstat(full, &st) == 0;
		if (exists[listed] && has_log && st.st_dev == log.st_dev && st.st_ino == log.st_ino)
			continue;	/* the log */
		memmove(b->paths[listed], b->paths[i], strlen(b->paths[i]) + 1);
		kept += exists[listed++];
	}
	b->count -= n - listed;
	if (kept == 0 || kept == listed || b->count > BURST_PATHS)
		return;
	for (int i = 0, j = 0; i < listed; i++)
		if (exists[i])
			memmove(b->paths[j++], b->paths[i], strlen(b->paths[i]) + 1);
	b->count = kept;
}

/* Put the burst on the board as one event, and wake every stream. The event on the wire:
 *   id: 7
 *   event: change
 *   data: {"path":"/css/site.css","paths":["/css/site.css"],"css":true}
 *   (an empty line ends it) */
static void publish(struct server *srv, const struct burst *b, unsigned long seq)
{
	bool css = only_css(b);
	struct buf e;

	buf_init(&e);
	buf_printf(&e, "id: %lu\nevent: change\ndata: {\"path\":", seq);
	json_string(&e, b->paths[0]);
	buf_puts(&e, ",\"paths\":[");
	for (int i = 0; i < b->count && i < BURST_PATHS; i++) {
		buf_puts(&e, i ? "," : "");
		json_string(&e, b->paths[i]);
	}
	buf_printf(&e, "],\"css\":%s}\n\n", css ? "true" : "false");
	if (e.failed || e.len >= sizeof news.event) {	/* long names: say "/", pages reload */
		css = false;
		buf_free(&e);
		buf_init(&e);
		buf_printf(&e, "id: %lu\nevent: change\ndata: {\"path\":\"/\",\"paths\":[\"/\"],"
			       "\"css\":false}\n\n", seq);
	}
	if (!srv->quiet)
		fprintf(stderr, "live: %s%s changed%s: event %lu\n", b->paths[0],
			b->count > 1 ? " and others" : "", css ? " (stylesheet)" : "", seq);

	pthread_mutex_lock(&news.lock);
	if (!e.failed && e.len < sizeof news.event) {
		memcpy(news.event, e.data, e.len + 1);
		news.seq = seq;
		pthread_cond_broadcast(&news.changed);
	}
	pthread_mutex_unlock(&news.lock);
	buf_free(&e);
}

/* begin watcher */
static void *watcher(void *arg)
{
	struct server *srv = arg;
	struct burst burst = { .count = 0 };
	char err[512];
	long long quiet_at = 0;
	unsigned long seq = 0;

	while (!sock_stopping()) {
		long long now = conn_clock_ms();
		int wait = burst.count ? (int)(quiet_at > now ? quiet_at - now : 0) : -1;
		int n = watch_wait(watch, wait, sock_stop_fd(), on_change, &burst, err, sizeof err);
		if (n < 0) {
			fprintf(stderr, "server: %s: live reload has stopped; restart the server\n", err);
			break;
		}
		now = conn_clock_ms();
		if (n > 0) {
			quiet_at = now + debounce_ms;	/* trailing: every change restarts the wait */
		} else if (burst.count && now >= quiet_at) {
			drop_temporaries(srv, &burst);
			if (burst.count)	/* not only the log */
				publish(srv, &burst, ++seq);
			burst.count = 0;
		}
	}
	return NULL;
}
/* end watcher */

/* ---------------------------------------------------------------- the streams */

/* Write all of it; false when the client is gone, or took nothing for `timeout`
 * seconds (each write waits SOCK_SEND_SLICE_MS at most: SO_SNDTIMEO). */
static bool write_all(int fd, const char *p, size_t n, int timeout)
{
	long long last = conn_clock_ms();

	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && (errno == EINTR ||
			      ((errno == EAGAIN || errno == EWOULDBLOCK) &&
			       conn_clock_ms() - last < timeout * 1000LL)))
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
		last = conn_clock_ms();
	}
	return true;
}

/* /_/events, on the connection's own thread, after the header went out: say hello, then
 * send each new event, and a comment line when there was none for a while (so that
 * proxies and browsers keep an idle stream open, and so that we notice a client that
 * left: writing to it fails). Ends when the client is gone or the server stops. */
/* begin stream */
static void stream(struct server *srv, int fd)
{
	char out[EVENT_MAX];
	unsigned long seen;

	pthread_mutex_lock(&news.lock);
	seen = news.seq;
	pthread_mutex_unlock(&news.lock);
	int n = snprintf(out, sizeof out, "retry: 1000\nevent: hello\ndata: {\"server\":\"%s\"}\n\n",
			 server_id);
	while (write_all(fd, out, (size_t)n, srv->timeout)) {
		struct timespec until;
		int rc = 0;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += heartbeat_s;
		pthread_mutex_lock(&news.lock);
		while (news.seq == seen && !sock_stopping() && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&news.changed, &news.lock, &until);
		if (sock_stopping()) {
			pthread_mutex_unlock(&news.lock);
			break;
		}
		if (news.seq != seen) {
			n = snprintf(out, sizeof out, "%s", news.event);
			seen = news.seq;
		} else {
			n = snprintf(out, sizeof out, ": heartbeat\n\n");
		}
		pthread_mutex_unlock(&news.lock);
	}
}
/* end stream */

/* ---------------------------------------------------------------- start and stop */

static void started(struct server *srv)
{
	char err[512];

	if (!watching)
		return;
	snprintf(server_id, sizeof server_id, "%lld-%ld", (long long)time(NULL), (long)getpid());
	if (!(watch = watch_open(srv->root, kind, interval_ms, err, sizeof err)))
		die(1, "%s", err);
	if (pthread_create(&watcher_tid, NULL, watcher, srv) != 0)
		die(1, "cannot start the watcher thread");
	srv->live = &live;	/* from now on pages carry the script, /_/events streams */
	if (!srv->quiet)
		fprintf(stderr, "live reload: watching %s with %s%s\n", srv->root,
			kind == WATCH_INOTIFY ? "inotify" : "polling",
			kind == WATCH_POLL ? " (see --interval)" : "");
}

/* On the signal thread: wake every stream, so that it sees we are stopping. */
static void stopping(struct server *srv)
{
	(void)srv;
	pthread_mutex_lock(&news.lock);
	pthread_cond_broadcast(&news.changed);
	pthread_mutex_unlock(&news.lock);
}

static void finished(struct server *srv)
{
	(void)srv;
	if (watch) {
		pthread_join(watcher_tid, NULL);	/* it polls the stop pipe: it has ended */
		watch_close(watch);
	}
}

int main(int argc, char **argv)
{
	struct server srv = { .stage = "05-watch" };
	static const struct threads_extra extra = {
		.options = &watch_opts, .started = started, .stopping = stopping, .finished = finished,
	};

	return threads_main(&srv, argc, argv, &extra);
}
