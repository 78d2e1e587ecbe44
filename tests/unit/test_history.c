/* history: the ring keeps the last HISTORY_SLOTS requests, the page shows a caller's
 * newest first and at most HISTORY_PAGE_ROWS of them, and links only safe targets. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "history.h"

/* One ring, one story: each step records `add` requests from `from` (paths prefix0,
 * prefix1, ...), then looks at the page as `look` sees it. */
static const struct {
	const char *name;
	const char *from, *prefix;
	int add;
	const char *look;
	int rows;		/* rows `look` sees */
	const char *newest;	/* the first row's path, when rows > 0 */
} steps[] = {
	{ "empty ring", "10.0.0.1", "/a", 0, "10.0.0.1", 0, NULL },
	{ "three requests, newest first", "10.0.0.1", "/a", 3, "10.0.0.1", 3, "/a2" },
	{ "another address sees none of them", "10.0.0.2", "/b", 0, "10.0.0.2", 0, NULL },
	{ "one from another address", "10.0.0.2", "/b", 1, "10.0.0.2", 1, "/b0" },
	{ "the first address still sees its own", "10.0.0.2", "/b", 0, "10.0.0.1", 3, "/a2" },
	{ "a full ring from a third pushes both out", "10.0.0.3", "/c", HISTORY_SLOTS, "10.0.0.1", 0, NULL },
	{ "the page stops at its row limit", "10.0.0.1", "/d", HISTORY_PAGE_ROWS + 5, "10.0.0.1",
	  HISTORY_PAGE_ROWS, NULL },
};

/* A target as the page shows it: a link only for a local path of URL characters. */
static const struct {
	const char *target, *want, *not;
} links[] = {
	{ "/hello.txt", "<a href=\"/hello.txt\">/hello.txt</a>", NULL },
	{ "/a%20b?q=1", "<a href=\"/a%20b?q=1\">", NULL },
	{ "//evil.example/x", "//evil.example/x", "<a " },
	{ "/\\evil.example/x", "/\\evil.example/x", "<a " },
	{ "/<b>", "/&lt;b&gt;", "<a " },
	{ "/a\"b", "/a&quot;b", "<a " },
	{ "*", "<td>*</td>", "<a " },
	{ "http://example.com/", "http://example.com/", "<a " },
};

static int count(const char *s, const char *what)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

static void ring(struct history *h)
{
	unsigned long long total = 0, requests, bytes;

	for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
		struct buf page;
		char path[32];

		for (int k = 0; k < steps[i].add; k++) {
			int n = snprintf(path, sizeof path, "%s%d", steps[i].prefix, k);
			history_add(h, steps[i].from, (struct slice){ path, (size_t)n }, 200, 10, 0);
		}
		total += (unsigned long long)steps[i].add;
		buf_init(&page);
		history_html(h, steps[i].look, &page);
		buf_append(&page, "", 1);
		int rows = count(page.data, "<tr><td>");	/* not the "no requests yet" row */
		if (!check(rows == steps[i].rows, "history", steps[i].name, "%d rows, want %d", rows,
			   steps[i].rows)) {
			buf_free(&page);
			continue;
		}
		if (steps[i].rows == 0)
			check(strstr(page.data, "no requests yet") != NULL, "history", steps[i].name,
			      "no 'no requests yet' in %.200s", page.data);
		if (steps[i].newest) {
			snprintf(path, sizeof path, "<a href=\"%s\"", steps[i].newest);
			const char *first = strstr(page.data, "<a href=");
			check(first && strncmp(first, path, strlen(path)) == 0, "history", steps[i].name,
			      "first row is not %s: %.200s", steps[i].newest, page.data);
		}
		buf_free(&page);
	}
	history_totals(h, &requests, &bytes);
	check(requests == total && bytes == 10 * total, "history", "totals count every request",
	      "%llu requests, %llu bytes; want %llu, %llu", requests, bytes, total, 10 * total);
}

static void link_cases(struct history *h)
{
	for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
		char addr[32];
		struct buf page;

		snprintf(addr, sizeof addr, "10.1.0.%zu", i);
		history_add(h, addr, (struct slice){ links[i].target, strlen(links[i].target) }, 400, 0, 0);
		buf_init(&page);
		history_html(h, addr, &page);
		buf_append(&page, "", 1);
		check(strstr(page.data, links[i].want) && (!links[i].not || !strstr(page.data, links[i].not)),
		      "history link", links[i].target, "want %s%s%s in %.300s", links[i].want,
		      links[i].not ? " and no " : "", links[i].not ? links[i].not : "", page.data);
		buf_free(&page);
	}
}

void test_history(void)
{
	struct history *h = history_create();

	if (!check(h != NULL, "history", "history_create", "no shared ring"))
		return;
	ring(h);
	link_cases(h);
}
