/* response: routing, files, directories, conditionals, ranges, errors, and sending. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__) && !defined(NO_SENDFILE)
#include <sys/sendfile.h>
#define HAVE_SENDFILE 1
#endif

#include "file.h"
#include "pages.h"
#include "path.h"
#include "response.h"
#include "sock.h"

static const char html_type[] = "text/html; charset=utf-8";

/* One line of explanation under each error page's title. */
static const char *const explanations[] = {
	[S_BAD_REQUEST] = "The server could not understand this request.",
	[S_FORBIDDEN] = "You may not see this.",
	[S_NOT_FOUND] = "Nothing here has that name.",
	[S_METHOD_NOT_ALLOWED] = "This server only reads files: GET and HEAD.",
	[S_REQUEST_TIMEOUT] = "The request did not arrive in time.",
	[S_PAYLOAD_TOO_LARGE] = "The request body is larger than this server accepts (1 MiB).",
	[S_URI_TOO_LONG] = "The request line is longer than this server accepts (4 KiB).",
	[S_RANGE_NOT_SATISFIABLE] = "The requested bytes are outside the file.",
	[S_HEADER_FIELDS_TOO_LARGE] = "The request headers are larger than this server accepts (8 KiB).",
	[S_INTERNAL_SERVER_ERROR] = "Something went wrong inside the server.",
	[S_NOT_IMPLEMENTED] = "This server does not know that method.",
	[S_SERVICE_UNAVAILABLE] = "The server is too busy right now: try again.",
	[S_VERSION_NOT_SUPPORTED] = "This server speaks HTTP/1.0 and HTTP/1.1 only.",
};

/* An empty response that owns nothing. */
void resp_init(struct response *r)
{
	memset(r, 0, sizeof *r);
	buf_init(&r->extra);
	buf_init(&r->head);
	buf_init(&r->body);
	buf_init(&r->chunk);
	r->fd = -1;
	r->length = -1;
}

/* Forget one response, ready for the next; large buffers are given back. */
void resp_clear(struct response *r)
{
	struct buf *bufs[] = { &r->extra, &r->head, &r->body, &r->chunk };

	if (r->fd >= 0)
		close(r->fd);
	for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) {
		if (bufs[i]->cap > 2 * RESP_SMALL_FILE)
			buf_free(bufs[i]);
		buf_reset(bufs[i]);
	}
	struct buf keep[4] = { r->extra, r->head, r->body, r->chunk };
	memset(r, 0, sizeof *r);
	r->extra = keep[0], r->head = keep[1], r->body = keep[2], r->chunk = keep[3];
	r->fd = -1;
	r->length = -1;
}

/* Release everything; the response stays valid, empty, for another use. */
void resp_free(struct response *r)
{
	resp_clear(r);
	buf_free(&r->extra);
	buf_free(&r->head);
	buf_free(&r->body);
	buf_free(&r->chunk);
}

/* Start an HTML body in memory. */
void resp_html(struct response *r)
{
	r->type = html_type;
	buf_reset(&r->body);
}

/* Read a whole small file into out; -1 if it cannot be read or is over max bytes. */
static int read_small_file(int fd, off_t from, size_t len, struct buf *out)
{
	char *dst = buf_reserve(out, len);
	size_t got = 0;

	while (dst && got < len) {
		ssize_t n = pread(fd, dst + got, len - got, from + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;	/* an error, or the file shrank under us */
		got += (size_t)n;
	}
	if (!dst)
		return -1;
	out->len += got;
	return 0;
}

/* The error page: DIR/NNN.html from --errors when there is one, else a built-in page. */
static void error_page(struct server *srv, enum status st, struct response *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->left = 0;
	r->length = -1;
	resp_html(r);
	if (srv->errors_dir) {
		char name[PATH_MAX];
		struct stat sb;
		snprintf(name, sizeof name, "%s/%d.html", srv->errors_dir, (int)st);
		int fd = open(name, O_RDONLY | O_NONBLOCK);
		if (fd >= 0) {
			int ok = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size <= 65536 &&
				 read_small_file(fd, 0, (size_t)sb.st_size, &r->body) == 0;
			close(fd);
			if (ok)
				return;
			buf_reset(&r->body);
		}
	}
	const char *why = (size_t)st < sizeof explanations / sizeof *explanations ? explanations[st] : NULL;
	buf_printf(&r->body, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>%d %s</title></head>\n"
		   "<body><h1>%d %s</h1>\n<p>%s</p>\n<hr><address>staged-httpd (%s)</address></body></html>\n",
		   (int)st, http_reason(st), (int)st, http_reason(st), why ? why : "", srv->stage);
}

/* 304 rules (RFC 9110 13.2.2): If-None-Match decides when present, else If-Modified-Since. */
static bool not_modified(const struct request *req, const struct stat *sb, const char *etag)
{
	time_t since;

	if (req->if_none_match.p)
		return file_etag_matches(req->if_none_match, etag);
	if (req->if_modified_since.p && file_parse_date(req->if_modified_since, &since))
		return sb->st_mtime <= since;
	return false;
}

/* If-Range: the range applies only if the validator still matches (RFC 9110 13.1.5). */
static bool range_applies(const struct request *req, const struct stat *sb, const char *etag)
{
	time_t t;

	if (!req->if_range.p)
		return true;
	if (req->if_range.p[0] == '"')
		return req->if_range.n == strlen(etag) && memcmp(req->if_range.p, etag, req->if_range.n) == 0;
	return file_parse_date(req->if_range, &t) && t == sb->st_mtime;
}

/* 05-watch: is this a page to put the live-reload snippet into? HTML, and not so big
 * that reading it into memory would hurt (bigger pages are served as they are). */
static bool live_html(const struct server *srv, const char *type, long long size)
{
	return srv->live && type && strncmp(type, "text/html", 9) == 0 && size <= RESP_LIVE_HTML;
}

/* Where the snippet goes: before the last </body>, else before the last </head>, else
 * at the end: a page without those tags must reload too. Tags match in any case, and
 * not inside a comment (<!-- </body> -->), where the script would never run; nor does
 * it go into a comment left open at the end. */
static size_t inject_at(const char *p, size_t n)
{
	static const char *const tags[] = { "</body", "</head" };
	size_t found[2] = { n, n }, open = n;	/* open: where a comment still open began */

	for (size_t i = 0; i < n; i++) {
		if (open < n) {
			if (n - i >= 3 && memcmp(p + i, "-->", 3) == 0) {
				open = n;
				i += 2;
			}
		} else if (n - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
			open = i;
			i += 3;
		} else if (p[i] == '<' && n - i >= 6) {
			for (size_t t = 0; t < 2; t++)
				if (strncasecmp(p + i, tags[t], 6) == 0 &&
				    (n - i == 6 || strchr("> \t\r\n", p[i + 6])))	/* not </bodyx> */
					found[t] = i;
		}
	}
	return found[0] < n ? found[0] : found[1] < n ? found[1] : open;
}

/* Put snippet into the HTML page held in body. */
void live_inject(struct buf *body, const char *snippet)
{
	size_t n = strlen(snippet), at = inject_at(body->data ? body->data : "", body->len);

	if (!buf_reserve(body, n))
		return;
	memmove(body->data + at + n, body->data + at, body->len - at);
	memcpy(body->data + at, snippet, n);
	body->len += n;
}

/* A regular file: validators, conditionals, range, then the body (in memory if small). */
static enum status serve_file(struct server *srv, const struct request *req, int fd,
			      const struct stat *sb, const char *name, struct response *r)
{
	char etag[FILE_ETAG_LEN], modified[FILE_DATE_LEN];
	enum status st = S_OK;
	off_t from = 0, len = sb->st_size;
	const char *type = file_mime(name);
	bool inject = live_html(srv, type, sb->st_size);

	file_etag(sb, etag);
	if (inject)	/* not the file's bytes: another validator, and never a range of them */
		strcpy(etag + strlen(etag) - 1, "-live\"");
	file_date(sb->st_mtime, modified);
	buf_cat(&r->extra, "Last-Modified: ", modified, "\r\nETag: ", etag, "\r\nAccept-Ranges: bytes\r\n", NULL);
	if (srv->live)	/* a reload must ask again for every file: any may have changed */
		buf_puts(&r->extra, "Cache-Control: no-cache\r\n");
	if (not_modified(req, sb, etag)) {
		close(fd);
		return S_NOT_MODIFIED;
	}
	if (req->range.p && !inject && range_applies(req, sb, etag)) {
		switch (file_range(req->range, sb->st_size, &from, &len)) {
		case RANGE_UNSATISFIABLE:
			close(fd);
			buf_reset(&r->extra);
			buf_printf(&r->extra, "Content-Range: bytes */%lld\r\n", (long long)sb->st_size);
			return S_RANGE_NOT_SATISFIABLE;
		case RANGE_OK:
			st = S_PARTIAL_CONTENT;
			buf_printf(&r->extra, "Content-Range: bytes %lld-%lld/%lld\r\n", (long long)from,
				   (long long)(from + len - 1), (long long)sb->st_size);
			break;
		case RANGE_NONE:
			break;
		}
	}
	r->type = type;
	r->length = len;
	if (inject) {
		r->length = len + (off_t)strlen(srv->live->snippet);	/* HEAD: the same length */
		int failed = req->method == M_GET && read_small_file(fd, 0, (size_t)len, &r->body);
		close(fd);
		if (failed)
			return S_INTERNAL_SERVER_ERROR;
		if (req->method == M_GET)
			live_inject(&r->body, srv->live->snippet);
	} else if (req->method == M_HEAD) {
		close(fd);
	} else if (len <= RESP_SMALL_FILE) {
		int failed = read_small_file(fd, from, (size_t)len, &r->body);
		close(fd);
		if (failed)
			return S_INTERNAL_SERVER_ERROR;
	} else {
		r->fd = fd;
		r->offset = from;
		r->left = len;
	}
	return st;
}

/* Open a clean path inside the root and fstat() it: an fd, or -1 with *st saying why
 * (404, 403, 503 when out of descriptors, 500). */
static int open_stat(struct server *srv, const char *path, struct stat *sb, enum status *st)
{
	int fd = path_open(srv->root, srv->root_fd, path, st);

	if (fd >= 0 && fstat(fd, sb) != 0) {
		close(fd);
		*st = S_INTERNAL_SERVER_ERROR;
		return -1;
	}
	return fd;
}

/* A directory (fd is open on it, and ours to close): 301 without the trailing slash,
 * else its index.html, else a listing. */
static enum status serve_dir(struct server *srv, const struct request *req, const char *path,
			     struct slice query, int fd, struct response *r)
{
	size_t n = strlen(path);

	if (path[n - 1] != '/') {
		close(fd);
		buf_puts(&r->extra, "Location: ");
		buf_url(&r->extra, path, n);
		buf_puts(&r->extra, "/");
		if (query.n) {
			buf_puts(&r->extra, "?");
			buf_append(&r->extra, query.p, query.n);
		}
		buf_puts(&r->extra, "\r\n");
		resp_html(r);
		buf_puts(&r->body, "<!doctype html>\n<title>301 Moved Permanently</title>\n"
				   "<p>This is a directory: its address ends with a slash.</p>\n");
		return S_MOVED_PERMANENTLY;
	}
	/* The index page, if there is one and it is a file (a directory can be called
	 * index.html too: that one gets listed with the rest). */
	char index[PATH_TARGET_MAX + 16];
	struct stat sb;
	enum status st;
	snprintf(index, sizeof index, "%sindex.html", path);
	int page = open_stat(srv, index, &sb, &st);
	if (page >= 0 && S_ISREG(sb.st_mode)) {
		close(fd);
		return serve_file(srv, req, page, &sb, index, r);
	}
	if (page >= 0)
		close(page);
	else if (st != S_NOT_FOUND) {
		close(fd);
		return st;	/* 403 (unreadable), 503 (out of descriptors), 500 */
	}
	resp_html(r);
	return file_listing(fd, srv->root, srv->root_fd, path, &r->body);
}

/* Open a clean path inside the root and serve what is there. */
static enum status serve_path(struct server *srv, const struct request *req, const char *path,
			      struct slice query, struct response *r)
{
	struct stat sb;
	enum status st;
	int fd = open_stat(srv, path, &sb, &st);

	if (fd < 0)
		return st;
	if (S_ISDIR(sb.st_mode))
		return serve_dir(srv, req, path, query, fd, r);
	if (!S_ISREG(sb.st_mode)) {	/* devices, FIFOs, sockets: not ours to serve */
		close(fd);
		return S_FORBIDDEN;
	}
	return serve_file(srv, req, fd, &sb, path, r);
}

/* Which method may go on: GET and HEAD; 405 for the others of RFC 9110; 501 else. */
static enum status check_method(const struct request *req, struct response *r)
{
	if (req->method == M_GET || req->method == M_HEAD)
		return S_OK;
	if (req->method == M_UNKNOWN)
		return S_NOT_IMPLEMENTED;
	buf_puts(&r->extra, "Allow: GET, HEAD\r\n");
	return S_METHOD_NOT_ALLOWED;
}

/* From a parsed request to the status and body of the answer. */
static enum status route(struct server *srv, const struct request *req, const char *addr,
			 struct response *r)
{
	char path[PATH_TARGET_MAX];
	struct slice query;
	enum status st = check_method(req, r);

	if (st == S_OK)
		st = path_from_target(req->target, path, sizeof path, &query);
	if (st != S_OK)
		return st;
	if (strncmp(path, "/_/", 3) == 0)
		return pages_serve(srv, req, addr, path, r);
	return serve_path(srv, req, path, query, r);
}

/* The header section: status line, the headers every response has, then extra. */
static void build_head(struct server *srv, const struct request *req, struct response *r)
{
	char date[FILE_DATE_LEN], status[NUM_TEXT_LEN], length[NUM_TEXT_LEN], timeout[NUM_TEXT_LEN];
	const char *secs = num_text(timeout, (unsigned)srv->timeout, 10);

	file_date(time(NULL), date);
	buf_cat(&r->head, "HTTP/1.1 ", num_text(status, (unsigned)r->status, 10), " ",
		http_reason(r->status), "\r\nDate: ", date, "\r\nServer: staged-httpd (",
		srv->stage, ")\r\n", NULL);
	if (r->type && r->status != S_NOT_MODIFIED)
		buf_cat(&r->head, "Content-Type: ", r->type, "\r\n", NULL);
	if (r->status != S_NOT_MODIFIED && !r->stream)	/* a stream ends when we close */
		buf_cat(&r->head, "Content-Length: ", num_text(length, (unsigned long long)r->length, 10),
			"\r\n", NULL);
	buf_append(&r->head, r->extra.data, r->extra.len);
	if (r->close)
		buf_puts(&r->head, "Connection: close\r\n");
	else if (req->minor == 0)
		buf_cat(&r->head, "Connection: keep-alive\r\nKeep-Alive: timeout=", secs, "\r\n", NULL);
	else
		buf_cat(&r->head, "Keep-Alive: timeout=", secs, "\r\n", NULL);
	buf_puts(&r->head, "\r\n");
}

/* Decide the whole response to req. parsed is the parser's verdict: an error status
 * there means the request could not be read, and the connection will close. */
void resp_prepare(struct server *srv, const struct request *req, enum status parsed,
		  const char *addr, struct response *r)
{
	enum status st = parsed == S_OK ? route(srv, req, addr, r) : parsed;

	r->status = st;
	r->close = parsed != S_OK || !req->keep_alive || sock_stopping() || r->stream;
	if (st >= 400)
		error_page(srv, st, r);
	if (r->length < 0) {	/* not a file: the body in memory is the content */
		if (live_html(srv, r->type, (long long)r->body.len))
			live_inject(&r->body, srv->live->snippet);
		r->length = (long long)r->body.len;
	}
	if (req->method == M_HEAD || st == S_NOT_MODIFIED)
		buf_reset(&r->body);	/* the same headers, no body */
	build_head(srv, req, r);
	if (r->head.failed || r->body.failed || r->extra.failed) {	/* out of memory */
		resp_clear(r);
		r->status = S_INTERNAL_SERVER_ERROR;
		r->close = true;
		buf_printf(&r->head, "HTTP/1.1 500 %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
			   http_reason(S_INTERNAL_SERVER_ERROR));
	}
}

/* Send the next piece of the file body: sendfile() where Linux has it, else read a
 * chunk into memory and write it. Returns bytes sent, or -1 (errno set). */
static ssize_t send_file_part(int fd, struct response *r)
{
#ifdef HAVE_SENDFILE
	/* 64 KiB a call, as the fallback below: Linux's sendfile() moves a long count in
	 * 64 KiB steps, and on a blocking socket each step may wait SO_SNDTIMEO anew. */
	size_t want = r->left > 65536 ? 65536 : (size_t)r->left;
	ssize_t n = sendfile(fd, r->fd, &r->offset, want);
	if (n == 0)
		errno = EIO;	/* the file shrank under us: the response cannot be completed */
	return n > 0 ? n : -1;
#else
	if (r->chunk_sent == r->chunk.len) {	/* the chunk is out: read the next */
		size_t want = r->left > 65536 ? 65536 : (size_t)r->left;
		buf_reset(&r->chunk);
		r->chunk_sent = 0;
		if (read_small_file(r->fd, r->offset, want, &r->chunk) != 0) {
			errno = EIO;
			return -1;
		}
		r->offset += (off_t)want;
	}
	ssize_t n = write(fd, r->chunk.data + r->chunk_sent, r->chunk.len - r->chunk_sent);
	if (n > 0)
		r->chunk_sent += (size_t)n;
	return n;
#endif
}

/* Did a write fail only because a non-blocking socket is full (or a blocking one
 * timed out, SO_SNDTIMEO)? */
static bool would_block(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK;
}

/* Send as much of the response as the socket takes: the header and a memory body
 * together with one writev(), then the file range. Returns 1 when everything is sent,
 * 0 when the socket would block (call again when it is writable), -1 on error. */
int resp_send(int fd, struct response *r)
{
	while (r->sent < r->head.len + r->body.len) {
		struct iovec iov[2];
		int n = 0;
		size_t in_body = r->sent > r->head.len ? r->sent - r->head.len : 0;
		if (r->sent < r->head.len)
			iov[n++] = (struct iovec){ r->head.data + r->sent, r->head.len - r->sent };
		if (r->body.len > in_body)
			iov[n++] = (struct iovec){ r->body.data + in_body, r->body.len - in_body };
		ssize_t w = writev(fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return would_block() ? 0 : -1;
		r->sent += (size_t)w;
		if (r->sent > r->head.len)
			r->body_sent = (long long)(r->sent - r->head.len);
	}
	while (r->left > 0) {
		ssize_t w = send_file_part(fd, r);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return would_block() ? 0 : -1;
		r->left -= w;
		r->body_sent += w;
	}
	return 1;
}
