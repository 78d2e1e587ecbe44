/* live: /_/live.js, the script in every page, and the /_/events streams.
 *
 * A stream is not a thread here. The connection's thread sends the head of
 * /_/events, hands the socket over (hand_over() below) and is free for the next
 * client. One thread, the event thread, holds every stream: non-blocking, each an
 * entry in one poll() set, as lab 2's event loop holds its connections. poll() wakes
 * it when the watcher has news (a byte in the wake pipe), when a client leaves (its
 * socket turns readable: a read of 0), when a full socket has room again, for the
 * heartbeat, and to stop.
 *
 * What the threads share here, and what guards it: `board`, under board.lock; the wake
 * pipe (a write() of one byte is atomic); `heartbeat_s`, `max_streams`, `timeout_ms`
 * and `server_id`, written before the first request, then only read. The table of
 * streams and the poll set are the event thread's alone. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conn.h"
#include "die.h"
#include "inject.h"
#include "live.h"
#include "response.h"
#include "sock.h"

extern const char live_script[];	/* live.js, made into a C string by the Makefile */
static const char script_tag[] = "<script src=\"/_/live.js\"></script>";

/* Room for a stream's bytes not yet taken by its client: in the kernel (the socket's
 * send buffer), then queued here. A few events each: a stream carries little, and TCP
 * would let an unread socket hold megabytes before a write() said it was full. */
enum { STREAM_SNDBUF = 2 * LIVE_EVENT_MAX, STREAM_OUT_MAX = 4 * LIVE_EVENT_MAX };

/* What the other threads leave for the event thread. */
static struct {
	pthread_mutex_t lock;
	unsigned long seq;		/* events so far */
	char event[LIVE_EVENT_MAX];	/* the latest, ready to send */
	int *arrived;			/* sockets handed over, not yet in the poll set */
	int n_arrived;
	int open;			/* streams: those arrived, and those in the poll set */
	bool closed;			/* the event thread has ended: take no more */
} board = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int wake[2] = { -1, -1 };	/* a byte in it: look at the board */
static int heartbeat_s, max_streams;
static long long timeout_ms;		/* -t: a stream that takes nothing that long goes */
static char server_id[64];		/* changes when the server restarts: pages then reload */
static pthread_t event_tid;

/* A stream, as the event thread holds it. */
struct stream {
	int fd;
	struct buf out;		/* queued for it, not sent yet (no memory while empty) */
	long long give_up;	/* while bytes are queued: dropped if none has gone by then */
};

/* The event thread's own: its streams, and the poll set made from them. */
static struct stream *streams;
static int n_streams;
static struct pollfd *set;
enum { WAKE, STOP, FIRST_STREAM };	/* the set: the two pipes, then each stream */

/* ---------------------------------------------------------------- other threads */

/* Wake the event thread. A full pipe is fine: a wake-up is waiting already. */
static void wake_up(void)
{
	if (write(wake[1], "x", 1) < 0) {
		/* full: the event thread has bytes to read */
	}
}

/* On the watcher's thread: put an event on the board, for every stream. */
void live_post(const char *event)
{
	pthread_mutex_lock(&board.lock);
	snprintf(board.event, sizeof board.event, "%s", event);
	board.seq++;
	pthread_mutex_unlock(&board.lock);
	wake_up();
}

/* Is there room for one more stream? page() answers 503 when there is none. */
static bool room_for_a_stream(void)
{
	/* LAB 05.1b: under board.lock: is the board still open, with fewer
	 * than max_streams streams? */
	pthread_mutex_lock(&board.lock);
	bool room = !board.closed && board.open < max_streams;
	pthread_mutex_unlock(&board.lock);
	return room;
	/* END LAB 05.1b */
}

/* The extension's stream, on the connection's thread, once the head of /_/events has
 * gone out: hand the socket to the event thread. False, and the caller closes it, when
 * the server is stopping, or when the last place went to another stream since page()
 * looked. */
/* begin hand-over */
static bool hand_over(struct server *srv, int fd)
{
	/* LAB 05.1: make fd non-blocking, its send buffer STREAM_SNDBUF;
	 * then, under board.lock, if the board is open and below the cap, add fd to
	 * board.arrived and count it open; if it was taken, wake the event thread. */
	bool taken = false;
	int sndbuf = STREAM_SNDBUF;

	(void)srv;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);	/* while it is still ours */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	pthread_mutex_lock(&board.lock);
	if (!board.closed && board.open < max_streams) {
		board.arrived[board.n_arrived++] = fd;
		board.open++;
		taken = true;
	}
	pthread_mutex_unlock(&board.lock);
	if (taken)
		wake_up();
	return taken;
	/* END LAB 05.1 */
}
/* end hand-over */

/* ---------------------------------------------------------------- the event thread */

/* Send what the socket takes now, without waiting. False when the client is gone. */
static bool flush(struct stream *s)
{
	/* LAB 05.4: one write() of s->out, EAGAIN being no failure; keep
	 * what it did not take; free the buffer once empty, else give the stream
	 * timeout_ms more from now (give_up). */
	ssize_t n = write(s->fd, s->out.data, s->out.len);

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
	s->out.len -= (size_t)n;
	memmove(s->out.data, s->out.data + n, s->out.len);
	if (s->out.len == 0)
		buf_free(&s->out);	/* an idle stream holds no buffer */
	else
		s->give_up = conn_clock_ms() + timeout_ms;	/* it took some: more time */
	return true;
	/* END LAB 05.4 */
}

/* Queue text for stream s, and send what its socket takes now. False when the stream
 * must go: its client is gone, or has left STREAM_OUT_MAX bytes untaken. */
static bool queue(struct stream *s, const char *text)
{
	/* LAB 05.4b: refuse what would pass STREAM_OUT_MAX; append text to
	 * s->out, starting its deadline (give_up) if it was empty; then flush(). */
	size_t n = strlen(text);

	if (s->out.len + n > STREAM_OUT_MAX)
		return false;
	if (s->out.len == 0)
		s->give_up = conn_clock_ms() + timeout_ms;
	buf_append(&s->out, text, n);
	return !s->out.failed && flush(s);
	/* END LAB 05.4b */
}

/* Close stream i. The last one takes its place: walk the table backwards. */
static void drop(int i)
{
	close(streams[i].fd);
	buf_free(&streams[i].out);
	streams[i] = streams[--n_streams];
	pthread_mutex_lock(&board.lock);
	board.open--;
	pthread_mutex_unlock(&board.lock);
}

/* Queue text for every stream; drop those that must go. */
static void send_to_all(const char *text)
{
	for (int i = n_streams - 1; i >= 0; i--)
		if (!queue(&streams[i], text))
			drop(i);
}

/* A stream's socket is readable: its client has left (a read of 0, or an error), or has
 * sent bytes, which nobody asked for and which are dropped. False when it has left. */
static bool still_there(struct stream *s)
{
	char sink[512];
	ssize_t n = read(s->fd, sink, sizeof sink);

	return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
}

/* What poll() said about stream s, then its deadline. False when it must go. */
static bool serve(struct stream *s, short revents, long long now)
{
	/* LAB 05.3b: readable, hung up or in error: is its client
	 * still_there()? Writable: flush(). Then, bytes queued past give_up: it goes. */
	if ((revents & (POLLIN | POLLHUP | POLLERR)) && !still_there(s))
		return false;
	if ((revents & POLLOUT) && !flush(s))
		return false;
	return s->out.len == 0 || now < s->give_up;
	/* END LAB 05.3b */
}

/* The board has news: send it to every stream held until now. (Copied under the lock,
 * sent after it: a drop() takes the lock too.) */
static void send_news(void)
{
	static unsigned long seen;	/* the last event sent */
	char event[LIVE_EVENT_MAX];
	bool news;

	pthread_mutex_lock(&board.lock);
	news = board.seq != seen;
	if (news) {
		memcpy(event, board.event, sizeof event);
		seen = board.seq;
	}
	pthread_mutex_unlock(&board.lock);
	if (news)
		send_to_all(event);
}

/* Streams handed over: into the table, each with the hello first. They get no older
 * news: their page has just loaded. */
static void welcome_streams(void)
{
	char hello[128];
	int first = n_streams;

	pthread_mutex_lock(&board.lock);
	for (int i = 0; i < board.n_arrived; i++)
		streams[n_streams++] = (struct stream){ .fd = board.arrived[i] };
	board.n_arrived = 0;
	pthread_mutex_unlock(&board.lock);
	snprintf(hello, sizeof hello, "retry: 1000\nevent: hello\ndata: {\"server\":\"%s\"}\n\n", server_id);
	for (int i = n_streams - 1; i >= first; i--)
		if (!queue(&streams[i], hello))
			drop(i);
}

/* The wake pipe is readable: empty it, then take what the board holds. */
static void on_wake(void)
{
	char sink[64];

	while (read(wake[0], sink, sizeof sink) > 0)
		;
	send_news();
	welcome_streams();
}

/* The poll set: the wake pipe, the stop pipe, then every stream, readable (its client
 * leaving shows as that) and, while bytes wait for it, writable. */
static nfds_t fill_set(void)
{
	set[WAKE] = (struct pollfd){ wake[0], POLLIN, 0 };
	set[STOP] = (struct pollfd){ sock_stop_fd(), POLLIN, 0 };
	for (int i = 0; i < n_streams; i++)
		set[FIRST_STREAM + i] = (struct pollfd){ streams[i].fd,
			(short)(streams[i].out.len ? POLLIN | POLLOUT : POLLIN), 0 };
	return (nfds_t)(FIRST_STREAM + n_streams);
}

/* How long poll() may sleep: until the heartbeat, or the first deadline of a stream
 * with bytes queued. */
static int next_wait(long long beat_at)
{
	long long now = conn_clock_ms(), next = beat_at;

	for (int i = 0; i < n_streams; i++)
		if (streams[i].out.len && streams[i].give_up < next)
			next = streams[i].give_up;
	return next > now ? (int)(next - now) : 0;
}

/* The server is stopping: take no more streams, and close every one. */
static void close_all(void)
{
	pthread_mutex_lock(&board.lock);
	board.closed = true;
	for (int i = 0; i < board.n_arrived; i++)
		close(board.arrived[i]);
	board.open -= board.n_arrived;
	board.n_arrived = 0;
	pthread_mutex_unlock(&board.lock);
	while (n_streams > 0)
		drop(n_streams - 1);
}

/* Every stream, on one thread: wait in poll(), then serve what it reports. */
/* begin event-thread */
static void *event_thread(void *arg)
{
	long long beat_at = conn_clock_ms() + heartbeat_s * 1000LL;

	(void)arg;
	/* LAB 05.3: until the server stops: poll() the set of fill_set(),
	 * for at most next_wait(beat_at); serve() each stream that was in the set, and
	 * drop() those that must go; on a wake-up, on_wake(); when beat_at has come, a
	 * heartbeat comment to every stream. A poll() error but EINTR: say so, and end. */
	while (!sock_stopping()) {
		int n = n_streams;	/* in the set: those taken below wait for the next turn */
		if (poll(set, fill_set(), next_wait(beat_at)) < 0 && errno != EINTR) {
			fputs("server: poll() failed: live reload has stopped; restart the server\n", stderr);
			break;
		}
		long long now = conn_clock_ms();
		for (int i = n - 1; i >= 0; i--)	/* backwards: see drop() */
			if (!serve(&streams[i], set[FIRST_STREAM + i].revents, now))
				drop(i);
		if (set[WAKE].revents)
			on_wake();
		if (now >= beat_at) {	/* a comment: keeps proxies from closing idle streams */
			send_to_all(": heartbeat\n\n");
			beat_at = now + heartbeat_s * 1000LL;
		}
	}
	/* END LAB 05.3 */
	close_all();
	return NULL;
}
/* end event-thread */

/* ---------------------------------------------------------------- the extension */

/* Live reload's own paths: the script, and the head of the event stream. */
static enum status page(struct server *srv, const struct request *req, const char *path,
			struct response *r)
{
	(void)srv, (void)req;
	if (strcmp(path, "/_/live.js") == 0) {
		r->type = "text/javascript; charset=utf-8";
		buf_puts(&r->body, live_script);
	} else if (strcmp(path, "/_/events") == 0) {
		if (!room_for_a_stream())
			return S_SERVICE_UNAVAILABLE;	/* as many as --max-streams are open */
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
	.stream = hand_over,
};

/* From now on pages carry the script, and /_/events streams, at most `most` of them,
 * held by the event thread. Start-up: a failure ends the server. */
void live_start(struct server *srv, int heartbeat, int most)
{
	heartbeat_s = heartbeat;
	max_streams = most;
	timeout_ms = srv->timeout * 1000LL;
	snprintf(server_id, sizeof server_id, "%lld-%ld", (long long)time(NULL), (long)getpid());
	streams = calloc((size_t)most, sizeof *streams);
	set = calloc((size_t)most + FIRST_STREAM, sizeof *set);
	board.arrived = calloc((size_t)most, sizeof *board.arrived);
	if (!streams || !set || !board.arrived)
		die(1, "out of memory for %d streams (--max-streams)", most);
	if (pipe(wake) != 0)
		die(1, "pipe:");
	for (int i = 0; i < 2; i++) {
		fcntl(wake[i], F_SETFL, O_NONBLOCK);
		fcntl(wake[i], F_SETFD, FD_CLOEXEC);
	}
	if (pthread_create(&event_tid, NULL, event_thread, NULL) != 0)
		die(1, "cannot start the event thread");
	srv->ext = &live;
}

/* The server has stopped: wait for the event thread (it polls the stop pipe, and has
 * closed every stream), then free what it used. */
void live_end(void)
{
	pthread_join(event_tid, NULL);
	close(wake[0]);
	close(wake[1]);
	free(streams);
	free(set);
	free(board.arrived);
}
