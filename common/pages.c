/* pages: /_/info, /_/info.json and /_/history, built in memory for each request.
 *
 * /_/info.json is /_/info for scripts (www/footer.js fills each page's footer from it):
 * one JSON object (RFC 8259) of strings, user_agent null when the request had none:
 *
 *   {"address": "127.0.0.1", "browser": "Firefox", "system": "Linux",
 *    "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) ...",
 *    "stage": "04-threads", "served_by": "pid=4242 thread=3"}
 *
 * browser and system are the guesses of /_/info ("unknown" when nothing matched);
 * served_by is what the log says (log_worker()): a process, and a thread on 04 and 05. */
#include <string.h>
#include <time.h>

#include "history.h"
#include "log.h"
#include "pages.h"

/* What to look for in a User-Agent, in order: the first match names it. Order
 * matters because browsers borrow each other's names (Edge says "Chrome" too). */
struct ua_rule {
	const char *needle, *name;
};
static const struct ua_rule browsers[] = {
	{ "Edg/", "Microsoft Edge" }, { "OPR/", "Opera" }, { "Firefox/", "Firefox" },
	{ "Chromium/", "Chromium" }, { "Chrome/", "Chrome" }, { "Safari/", "Safari" },
	{ "curl/", "curl" }, { "Wget/", "Wget" }, { "staged-httpd-client", "staged-httpd client" },
	{ "python", "Python" },
}, systems[] = {
	{ "Android", "Android" }, { "iPhone", "iOS" }, { "iPad", "iPadOS" },
	{ "CrOS", "ChromeOS" }, { "Windows", "Windows" }, { "Mac OS X", "macOS" },
	{ "Linux", "Linux" }, { "BSD", "BSD" },
};

/* The name of the first entry whose needle occurs in the User-Agent. */
#define GUESS(table, ua) guess(table, sizeof table / sizeof *table, ua)
static const char *guess(const struct ua_rule *t, size_t n, struct slice ua)
{
	char text[512];
	size_t len = ua.n < sizeof text - 1 ? ua.n : sizeof text - 1;

	memcpy(text, ua.p ? ua.p : "", len);
	text[len] = '\0';
	for (size_t i = 0; i < n; i++)
		if (strstr(text, t[i].needle))
			return t[i].name;
	return "unknown";
}

/* Append n bytes of s as a JSON string, quotes included. The User-Agent is the client's
 * to choose: '"' and '\\' are escaped, and so is every byte outside printable ASCII, as
 * \u00XX. Bytes from 0x80 up are thus read as ISO-8859-1, the historical charset of
 * header fields (RFC 9110, 5.5): whatever came, the output is valid JSON, and ASCII.
 * '<', '>' and '&' go as \u00XX too: the text can neither close a <script> element nor
 * start markup, wherever a careless page puts it. */
static void json_string(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	buf_puts(b, "\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			buf_append(b, esc, 2);
		} else if (c < 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '&') {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			buf_append(b, esc, 6);
		} else {
			buf_append(b, &s[i], 1);
		}
	}
	buf_puts(b, "\"");
}

/* Append the member "name": value to the object b is writing (a comma before all but
 * the first); a NULL value is JSON's null. */
static void json_member(struct buf *b, const char *name, const char *value, size_t n)
{
	if (b->len > 0 && b->data[b->len - 1] != '{')
		buf_puts(b, ", ");
	json_string(b, name, strlen(name));
	buf_puts(b, ": ");
	if (value)
		json_string(b, value, n);
	else
		buf_puts(b, "null");
}

/* The top of every built-in page. */
static void page_start(struct buf *b, const char *title)
{
	buf_printf(b, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>%s</title>\n"
		      "<link rel=\"stylesheet\" href=\"/style.css\"></head>\n<body><main>\n<h1>%s</h1>\n",
		   title, title);
}

static void page_end(struct buf *b)
{
	buf_puts(b, "<p><a href=\"/\">home</a> · <a href=\"/_/info\">info</a> · "
		    "<a href=\"/_/history\">history</a></p>\n</main></body></html>\n");
}

/* /_/info: who is asking, with what, and who answered. */
static void info_page(struct server *srv, const struct request *req, const char *addr, struct buf *b)
{
	char who[64];

	log_worker(who, sizeof who);
	page_start(b, "Who served you");
	buf_puts(b, "<table>\n<tr><th>your address</th><td>");
	buf_html(b, addr, strlen(addr));
	buf_printf(b, "</td></tr>\n<tr><th>your browser</th><td>%s</td></tr>\n"
		      "<tr><th>your system</th><td>%s</td></tr>\n<tr><th>User-Agent</th><td>",
		   GUESS(browsers, req->user_agent), GUESS(systems, req->user_agent));
	buf_html(b, req->user_agent.p ? req->user_agent.p : "-", req->user_agent.p ? req->user_agent.n : 1);
	buf_printf(b, "</td></tr>\n<tr><th>stage</th><td>%s</td></tr>\n"
		      "<tr><th>served by</th><td>%s</td></tr>\n</table>\n",
		   srv->stage, who);
	page_end(b);
}

/* /_/info.json: the same as /_/info, as JSON (the form is at the top of this file). */
static void info_json(struct server *srv, const struct request *req, const char *addr, struct buf *b)
{
	const char *browser = GUESS(browsers, req->user_agent), *os = GUESS(systems, req->user_agent);
	char who[64];

	log_worker(who, sizeof who);
	buf_puts(b, "{");
	json_member(b, "address", addr, strlen(addr));
	json_member(b, "browser", browser, strlen(browser));
	json_member(b, "system", os, strlen(os));
	json_member(b, "user_agent", req->user_agent.p, req->user_agent.n);
	json_member(b, "stage", srv->stage, strlen(srv->stage));
	json_member(b, "served_by", who, strlen(who));
	buf_puts(b, "}\n");
}

/* /_/history: this address's requests during this run, newest first. */
static void history_page(struct server *srv, const struct request *req, const char *addr, struct buf *b)
{
	(void)req;	/* not needed here: pages[] gives every page the same parameters */
	page_start(b, "Your requests");
	buf_puts(b, "<p>Requests from ");
	buf_html(b, addr, strlen(addr));
	buf_printf(b, " since this server started (the latest %d, newest first; "
		      "every process and thread of the server writes here).</p>\n"
		      "<table>\n<tr><th>time</th><th>status</th><th>target</th></tr>\n",
		   HISTORY_PAGE_ROWS);
	history_html(srv->history, addr, b);
	buf_puts(b, "</table>\n");
	page_end(b);
}

static const char html_type[] = "text/html; charset=utf-8";

/* Every built-in page: its path, its Content-Type and what writes its body. */
static const struct page {
	const char *path, *type;
	void (*write)(struct server *srv, const struct request *req, const char *addr, struct buf *b);
} pages[] = {
	{ "/_/info", html_type, info_page },
	{ "/_/info.json", "application/json", info_json },
	{ "/_/history", html_type, history_page },
};

/* The entry for path, or NULL. */
static const struct page *find_page(const char *path)
{
	for (size_t i = 0; i < sizeof pages / sizeof *pages; i++)
		if (strcmp(path, pages[i].path) == 0)
			return &pages[i];
	return NULL;
}

/* The built-in page at path, in body; S_NOT_FOUND if there is none. */
enum status pages_serve(struct server *srv, const struct request *req, const char *addr,
			const char *path, struct buf *body)
{
	const struct page *p = find_page(path);

	if (!p)
		return S_NOT_FOUND;
	p->write(srv, req, addr, body);
	return S_OK;
}

/* The Content-Type of the built-in page at path: HTML unless the page is something
 * else (/_/info.json); HTML too for a path that is no built-in page. */
const char *pages_type(const char *path)
{
	const struct page *p = find_page(path);

	return p ? p->type : html_type;
}
