/* 05-watch: 04-threads' server, plus live reload.
 *
 * A watcher thread notices changes under the document root (watch.c: inotify on Linux,
 * or a stat() scan at an interval anywhere). A burst of changes, such as an editor's
 * save (write, rename, chmod), becomes one event once the tree has been quiet for a
 * moment (a trailing debounce). The event goes to every open /_/events stream, and on
 * to its browser as a Server-Sent Event (live.c). Every HTML page the server sends
 * carries a small script (live.js, put in by live.c through the core's extension
 * point, srv->ext) that listens to that stream: it swaps a changed stylesheet in place
 * and reloads the page for anything else.
 *
 * Two ways of serving, side by side. Requests are served as in 04, a thread per
 * connection (threads_main(): this file only adds to it), because a request is short
 * work that may block on the disk and the network. A stream is the opposite: it lasts
 * as long as its page is open, and nearly all that time it waits. A thread each would
 * take a place under --max-threads, and a descriptor that it gives back only when a
 * write fails. So a stream, once its head has gone out, passes to one event thread
 * (live.c) that holds them all in one poll() set, as 02's loop holds its connections,
 * and sees at once when a page goes away. --max-streams caps them.
 *
 * What the threads share here: the options below, written while parsing the command
 * line, before any thread; everything else in this file belongs to the watcher thread. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "conn.h"
#include "die.h"
#include "live.h"
#include "log.h"
#include "options.h"
#include "server.h"
#include "sock.h"
#include "threads.h"
#include "watch.h"

enum { BURST_PATHS = 16 };

#ifdef __linux__
static int kind = WATCH_INOTIFY;	/* --watch */
#else
static int kind = WATCH_POLL;
#endif
static int interval_ms = 1000;	/* --interval: polling only */
static int debounce_ms = 100;	/* --debounce: the quiet time that ends a burst */
static int heartbeat_s = 15;	/* --heartbeat: a comment on every stream this often */
static int max_streams;		/* --max-streams: 0 when not given (stream_cap()) */
static int no_watch;		/* --no-watch: serve exactly like 04 */

static const char *const kinds[] = { [WATCH_POLL] = "poll", [WATCH_INOTIFY] = "inotify", NULL };
static const struct stage_option options[] = {
	{ .name = "watch", .value = &kind, .words = kinds,
	  .usage = "      --watch KIND      how to notice changes: inotify (Linux, the default there)\n"
		   "                        or poll (a stat() scan every --interval; anywhere)\n" },
	{ .name = "interval", .value = &interval_ms, .min = 1, .max = 3600 * 1000,
	  .usage = "      --interval MS     polling: time between two scans (default 1000)\n" },
	{ .name = "debounce", .value = &debounce_ms, .min = 1, .max = 3600 * 1000,
	  .usage = "      --debounce MS     a burst of changes ends after MS quiet (default 100)\n" },
	{ .name = "heartbeat", .value = &heartbeat_s, .min = 1, .max = 3600,
	  .usage = "      --heartbeat SECS  every event stream gets a comment this often (default 15)\n" },
	{ .name = "max-streams", .value = &max_streams, .min = 1, .max = SOCK_FD_MAX,
	  .usage = "      --max-streams N   at most N open event streams; more get 503 (default:\n"
		   "                        half the descriptor limit: the rest stay for requests)\n" },
	{ .name = "no-watch", .value = &no_watch, .flag = true,
	  .usage = "      --no-watch        no watching, no live reload: serve exactly like 04-threads\n" },
	{ 0 }
};

static struct watch *watch;
static pthread_t watcher_tid;

/* The changes of one burst, as they come in (64 KiB, on the watcher's stack: it is
 * made with the default stack size, not with the connection threads' small one). */
struct burst {
	char paths[BURST_PATHS][PATH_MAX];
	int count;		/* different paths seen, also beyond BURST_PATHS */
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

/* Say on stderr what changed. A file name may hold any byte but '/' and NUL: written
 * raw, a line feed in one would forge a log line, and an ESC recolour the terminal, so
 * the name is escaped as the request log escapes what clients send. */
static void say_changed(const struct burst *b, bool css, unsigned long seq)
{
	struct buf line;

	buf_init(&line);
	buf_puts(&line, "live: ");
	log_escape(&line, (struct slice){ b->paths[0], strlen(b->paths[0]) }, PATH_MAX);
	buf_printf(&line, "%s changed%s: event %lu\n", b->count > 1 ? " and others" : "",
		   css ? " (stylesheet)" : "", seq);
	if (!line.failed)
		fputs(line.data, stderr);
	buf_free(&line);
}

/* Post the burst as one event, to go out on every stream. The event on the wire:
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
	if (e.failed || e.len >= LIVE_EVENT_MAX) {	/* long names: say "/", pages reload */
		css = false;
		buf_free(&e);
		buf_init(&e);
		buf_printf(&e, "id: %lu\nevent: change\ndata: {\"path\":\"/\",\"paths\":[\"/\"],"
			       "\"css\":false}\n\n", seq);
	}
	if (!srv->quiet)
		say_changed(b, css, seq);
	if (!e.failed)
		live_post(e.data);
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

	/* LAB 05.2: until the server stops: watch_wait() for changes into burst,
	 * without a limit while no burst is under way, else until quiet_at; every
	 * change sets quiet_at debounce_ms later (trailing); once quiet_at has passed
	 * with no change, drop_temporaries(), publish() what is left as event ++seq, and
	 * start a new burst. An error of watch_wait(): say so, and end the watcher. */
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
	/* END LAB 05.2 */
	return NULL;
}
/* end watcher */

/* ---------------------------------------------------------------- start and stop */

/* Before listening: open the watch, or refuse to start, before the URL line says we did. */
static void prepare(struct server *srv)
{
	char err[512];

	if (!no_watch && !(watch = watch_open(srv->root, kind, interval_ms, err, sizeof err)))
		die(1, "%s", err);
}

/* How many streams at once: --max-streams, or half the descriptor limit (ulimit -n, as
 * 04 raised it). Each stream holds a descriptor for as long as its page is open; the
 * other half is left for the requests, each of which needs a socket and a file. */
static int stream_cap(void)
{
	int half = sock_fd_limit() / 2;

	return max_streams ? max_streams : half > 1 ? half : 1;
}

/* Listening, before the first client: start the watcher and live reload. */
static void started(struct server *srv)
{
	if (no_watch)
		return;
	live_start(srv, heartbeat_s, stream_cap());	/* first: the watcher posts to it */
	if (pthread_create(&watcher_tid, NULL, watcher, srv) != 0)
		die(1, "cannot start the watcher thread");
	if (!srv->quiet)
		fprintf(stderr, "live reload: watching %s with %s%s\n", srv->root,
			kind == WATCH_INOTIFY ? "inotify" : "polling",
			kind == WATCH_POLL ? " (see --interval)" : "");
}

/* Every connection thread has ended: end the watcher and the event thread too. Both
 * poll the stop pipe, so they have ended, or are about to. */
static void finished(struct server *srv)
{
	(void)srv;
	if (watch) {
		pthread_join(watcher_tid, NULL);
		watch_close(watch);
		live_end();
	}
}

int main(int argc, char **argv)
{
	struct server srv = { .stage = "05-watch" };
	static const struct threads_extra extra = {
		.options = options, .prepare = prepare, .started = started, .finished = finished,
	};

	return threads_main(&srv, argc, argv, &extra);
}
