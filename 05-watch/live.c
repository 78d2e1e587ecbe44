/* live: /_/live.js, the script in every page, and the /_/events streams.
 *
 * The watcher posts each event on a bulletin board, `news` below, and every open
 * /_/events stream, each on its own connection thread, wakes and sends it to its
 * browser. What the threads share here, and what guards it: `news`, under news.lock;
 * `heartbeat_s` and `server_id`, written before the first request, then only read. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "inject.h"
#include "live.h"
#include "response.h"
#include "sock.h"

extern const char live_script[];	/* live.js, made into a C string by the Makefile */
static const char script_tag[] = "<script src=\"/_/live.js\"></script>";

/* The bulletin board: the watcher writes, the streams read. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t changed;	/* broadcast when seq moves on, and when stopping */
	unsigned long seq;	/* events so far */
	char event[LIVE_EVENT_MAX];	/* the latest, ready to send */
} news = { .lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER };

static int heartbeat_s;
static char server_id[64];	/* changes when the server restarts: pages then reload */

/* Put an event on the board, and wake every stream. */
void live_post(const char *event)
{
	pthread_mutex_lock(&news.lock);
	snprintf(news.event, sizeof news.event, "%s", event);
	news.seq++;
	pthread_cond_broadcast(&news.changed);
	pthread_mutex_unlock(&news.lock);
}

/* On the signal thread: wake every stream, so that it sees we are stopping. */
void live_wake(void)
{
	pthread_mutex_lock(&news.lock);
	pthread_cond_broadcast(&news.changed);
	pthread_mutex_unlock(&news.lock);
}

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

/* Wait for the next event after *seen, at most heartbeat_s: its text in out, or a
 * heartbeat comment. False when the server is stopping. */
static bool next_news(unsigned long *seen, char out[LIVE_EVENT_MAX])
{
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += heartbeat_s;
	pthread_mutex_lock(&news.lock);
	while (news.seq == *seen && !sock_stopping() && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&news.changed, &news.lock, &until);
	bool go = !sock_stopping();
	if (news.seq != *seen) {
		memcpy(out, news.event, sizeof news.event);
		*seen = news.seq;
	} else {
		snprintf(out, LIVE_EVENT_MAX, ": heartbeat\n\n");
	}
	pthread_mutex_unlock(&news.lock);
	return go;
}

/* /_/events, on the connection's own thread, after the header went out: say hello, then
 * send each new event, and a comment line when there was none for a while (so that
 * proxies and browsers keep an idle stream open, and so that we notice a client that
 * left: writing to it fails). Ends when the client is gone or the server stops. */
/* begin stream */
static void stream(struct server *srv, int fd)
{
	char out[LIVE_EVENT_MAX];
	unsigned long seen;

	pthread_mutex_lock(&news.lock);
	seen = news.seq;
	pthread_mutex_unlock(&news.lock);
	snprintf(out, sizeof out, "retry: 1000\nevent: hello\ndata: {\"server\":\"%s\"}\n\n", server_id);
	while (write_all(fd, out, strlen(out), srv->timeout) && next_news(&seen, out))
		;
}
/* end stream */

/* Live reload's own paths: the script, and the head of the event stream. */
static enum status page(struct server *srv, const struct request *req, const char *path,
			struct response *r)
{
	(void)srv, (void)req;
	if (strcmp(path, "/_/live.js") == 0) {
		r->type = "text/javascript; charset=utf-8";
		buf_puts(&r->body, live_script);
	} else if (strcmp(path, "/_/events") == 0) {
		r->type = "text/event-stream";	/* the stream itself follows the header */
		r->stream = true;		/* (HEAD: the same header, then nothing) */
	} else {
		return S_NOT_FOUND;
	}
	return S_OK;
}

/* Every HTML page loads the script. */
static void filter(struct buf *html)
{
	inject_script(html, script_tag);
}

static const struct extension live = {
	.page = page,
	.filter = filter,
	.tag = "live",
	/* a reload must ask again for every file: any may have changed */
	.headers = "Cache-Control: no-cache\r\n",
	.stream = stream,
};

/* From now on pages carry the script, and /_/events streams. */
void live_start(struct server *srv, int heartbeat)
{
	heartbeat_s = heartbeat;
	snprintf(server_id, sizeof server_id, "%lld-%ld", (long long)time(NULL), (long)getpid());
	srv->ext = &live;
}
