/* head: the status line and headers, and the error pages. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "head.h"

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

/* DIR/NNN.html from --errors into body: 0, or -1 when there is none we can use. */
static int custom_page(const char *dir, enum status st, struct buf *body)
{
	char name[PATH_MAX];
	struct stat sb;
	int ret = -1;

	snprintf(name, sizeof name, "%s/%d.html", dir, (int)st);
	int fd = open(name, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size <= 65536)
		ret = file_read(fd, 0, (size_t)sb.st_size, body);
	close(fd);
	if (ret != 0)
		buf_reset(body);
	return ret;
}

/* The error page instead of whatever body r had: DIR/NNN.html from --errors when there
 * is one, else a built-in page, styled by the site's /style.css as the pages of
 * pages.c are (a root without one gets the page unstyled: still readable). */
void head_error_page(struct server *srv, enum status st, struct response *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->left = 0;
	r->length = -1;
	r->type = "text/html; charset=utf-8";
	buf_reset(&r->body);
	if (srv->errors_dir && custom_page(srv->errors_dir, st, &r->body) == 0)
		return;
	const char *why = (size_t)st < sizeof explanations / sizeof *explanations ? explanations[st] : NULL;
	buf_printf(&r->body, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>%d %s</title>\n"
		   "<link rel=\"stylesheet\" href=\"/style.css\"></head>\n<body><main>\n<h1>%d %s</h1>\n"
		   "<p>%s</p>\n<hr><address>staged-httpd (%s)</address>\n</main></body></html>\n",
		   (int)st, http_reason(st), (int)st, http_reason(st), why ? why : "", srv->stage);
}

/* The header section: status line, the headers every response has, then extra. */
void head_build(struct server *srv, const struct request *req, struct response *r)
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
