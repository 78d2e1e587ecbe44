/* response: from a parsed request to a prepared response: routing, files, directories. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cond.h"
#include "file.h"
#include "head.h"
#include "pages.h"
#include "path.h"
#include "response.h"
#include "sock.h"

static const char html_type[] = "text/html; charset=utf-8";

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

/* Does the stage change this body before it goes (srv->ext->filter)? HTML only, and
 * not so big that holding it in memory would hurt (bigger files go as they are). */
static bool filtered(const struct server *srv, const char *type, long long size)
{
	return srv->ext && srv->ext->filter && type && strncmp(type, "text/html", 9) == 0 &&
	       size <= RESP_FILTER_MAX;
}

/* The body of a file: in memory when small or to be filtered, else the open file (sent
 * after the header). A filtered body keeps r->length at -1: resp_prepare() measures it
 * once the filter has run. A HEAD reads nothing, unless for the filter. */
static enum status file_body(const struct request *req, int fd, off_t from, off_t len,
			     bool filter, struct response *r)
{
	if (!filter)
		r->length = len;
	if (filter || (req->method == M_GET && len <= RESP_SMALL_FILE)) {
		int failed = file_read(fd, from, (size_t)len, &r->body);
		close(fd);
		return failed ? S_INTERNAL_SERVER_ERROR : S_OK;
	}
	if (req->method == M_HEAD) {
		close(fd);
		return S_OK;
	}
	r->fd = fd;
	r->offset = from;
	r->left = len;
	return S_OK;
}

/* A regular file (fd is open on it, and ours to close): validators, conditionals,
 * range, then the body. */
static enum status serve_file(struct server *srv, const struct request *req, int fd,
			      const struct stat *sb, const char *name, struct response *r)
{
	char etag[FILE_ETAG_LEN], modified[FILE_DATE_LEN];
	off_t from, len;
	const char *type = file_mime(name);
	bool filter = filtered(srv, type, sb->st_size);

	file_etag(sb, etag);
	if (filter) {	/* not the file's bytes: another validator, and never a range of them */
		size_t quote = strlen(etag) - 1;
		snprintf(etag + quote, sizeof etag - quote, "-%s\"", srv->ext->tag);
	}
	file_date(sb->st_mtime, modified);
	buf_cat(&r->extra, "Last-Modified: ", modified, "\r\nETag: ", etag, "\r\nAccept-Ranges: bytes\r\n", NULL);
	enum status st = cond_check(req, sb, etag, !filter, &from, &len, &r->extra);
	if (srv->ext && srv->ext->headers)
		buf_puts(&r->extra, srv->ext->headers);
	if (st != S_OK && st != S_PARTIAL_CONTENT) {
		close(fd);
		return st;
	}
	r->type = type;
	enum status got = file_body(req, fd, from, len, filter, r);
	return got == S_OK ? st : got;
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

/* 301 to the same path with a slash, and the query as it came (made a valid URI). */
static enum status redirect_to_dir(const char *path, struct slice query, struct response *r)
{
	buf_puts(&r->extra, "Location: ");
	buf_url(&r->extra, path, strlen(path));
	buf_puts(&r->extra, "/");
	if (query.n) {
		buf_puts(&r->extra, "?");
		buf_url_query(&r->extra, query.p, query.n);
	}
	buf_puts(&r->extra, "\r\n");
	r->type = html_type;
	buf_puts(&r->body, "<!doctype html>\n<title>301 Moved Permanently</title>\n"
			   "<p>This is a directory: its address ends with a slash.</p>\n");
	return S_MOVED_PERMANENTLY;
}

/* A directory (fd is open on it, and ours to close): 301 without the trailing slash,
 * else its index.html, else a listing. */
static enum status serve_dir(struct server *srv, const struct request *req, const char *path,
			     struct slice query, int fd, struct response *r)
{
	char index[PATH_TARGET_MAX + 16];
	struct stat sb;
	enum status st;
	int page = -1;

	if (path[strlen(path) - 1] != '/') {
		st = redirect_to_dir(path, query, r);
		goto cleanup;
	}
	/* The index page, if there is one and it is a file (a directory can be called
	 * index.html too: that one gets listed with the rest). */
	snprintf(index, sizeof index, "%sindex.html", path);
	page = open_stat(srv, index, &sb, &st);
	if (page >= 0 && S_ISREG(sb.st_mode)) {
		st = serve_file(srv, req, page, &sb, index, r);
		page = -1;	/* serve_file() has closed it, or keeps it for the body */
		goto cleanup;
	}
	if (page < 0 && st != S_NOT_FOUND)
		goto cleanup;	/* 403 (unreadable), 503 (out of descriptors), 500 */
	r->type = html_type;
	st = file_listing(fd, srv->root, srv->root_fd, path, &r->body);
	fd = -1;	/* file_listing() has closed it */
cleanup:
	if (page >= 0)
		close(page);
	if (fd >= 0)
		close(fd);
	return st;
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

/* A path under /_/: a built-in page, else the stage's (srv->ext), else 404. */
static enum status serve_builtin(struct server *srv, const struct request *req, const char *addr,
				 const char *path, struct response *r)
{
	enum status st = pages_serve(srv, req, addr, path, &r->body);

	r->type = pages_type(path);
	if (st == S_NOT_FOUND && srv->ext && srv->ext->page)
		st = srv->ext->page(srv, req, path, r);
	if (st == S_OK)
		buf_puts(&r->extra, "Cache-Control: no-store\r\n");
	return st;
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
		return serve_builtin(srv, req, addr, path, r);
	return serve_path(srv, req, path, query, r);
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
		head_error_page(srv, st, r);
	if (r->length < 0) {	/* no length yet: the body in memory, filtered, is the content */
		if (filtered(srv, r->type, (long long)r->body.len))
			srv->ext->filter(&r->body);
		r->length = (long long)r->body.len;
	}
	bool no_memory = r->body.failed || r->extra.failed;	/* before HEAD drops the body */
	if (req->method == M_HEAD || st == S_NOT_MODIFIED)
		buf_reset(&r->body);	/* the same headers, no body */
	head_build(srv, req, r);
	if (no_memory || r->head.failed) {
		resp_clear(r);
		r->status = S_INTERNAL_SERVER_ERROR;
		r->close = true;
		buf_printf(&r->head, "HTTP/1.1 500 %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
			   http_reason(S_INTERNAL_SERVER_ERROR));
	}
}
