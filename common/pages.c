/* pages: /_/info and /_/history, built in memory for each request. */
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

/* /_/history: this address's requests during this run, newest first. */
static void history_page(struct server *srv, const char *addr, struct buf *b)
{
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

/* The built-in page at path, as HTML in body; S_NOT_FOUND if there is none. */
enum status pages_serve(struct server *srv, const struct request *req, const char *addr,
			const char *path, struct buf *body)
{
	if (strcmp(path, "/_/info") == 0)
		info_page(srv, req, addr, body);
	else if (strcmp(path, "/_/history") == 0)
		history_page(srv, addr, body);
	else
		return S_NOT_FOUND;
	return S_OK;
}
