/* Live reload's injection (05-watch/inject.c): where the script goes in a page; and the
 * input buffer that starts small and grows, which every stage relies on. */
#include <netinet/in.h>
#include <string.h>

#include "check.h"
#include "conn.h"
#include "inject.h"

static const struct {
	const char *name, *page, *want;
} cases[] = {
	{ "before </body>", "<html><body>hi</body></html>", "<html><body>hi<S></body></html>" },
	{ "any case", "<BODY>hi</BODY >", "<BODY>hi<S></BODY >" },
	{ "the last </body>", "<p>&lt;/body&gt; </body> x </body>", "<p>&lt;/body&gt; </body> x <S></body>" },
	{ "</head> without </body>", "<head><title>t</title></head>text", "<head><title>t</title><S></head>text" },
	{ "</body> wins over </head>", "<head></head><body></body>", "<head></head><body><S></body>" },
	{ "neither: appended", "just text", "just text<S>" },
	{ "empty page", "", "<S>" },
	{ "a tag at the very end", "x</body", "x<S></body" },
	{ "another tag: </bodyguard>", "</bodyguard>", "</bodyguard><S>" },
	{ "a tag split by a newline", "x</body\n>", "x<S></body\n>" },
	{ "too short to be one", "x</bod", "x</bod<S>" },
	{ "not in a comment after it", "<body>x</body><!-- </body> -->", "<body>x<S></body><!-- </body> -->" },
	{ "not in a comment before it", "<!-- </body> --><body>x</body>", "<!-- </body> --><body>x<S></body>" },
	{ "only tags in comments: at the end", "x<!-- </body> -->", "x<!-- </body> --><S>" },
	{ "not into a comment left open", "<p>x</p><!-- </body>", "<p>x</p><S><!-- </body>" },
	{ "</head> when </body> is in a comment", "<head></head><!--</body>-->", "<head><S></head><!--</body>-->" },
};

void test_live(void)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		buf_reset(&b);
		buf_puts(&b, cases[i].page);
		inject_script(&b, "<S>");
		check(b.len == strlen(cases[i].want) && memcmp(b.data, cases[i].want, b.len) == 0,
		      "inject", cases[i].name, "got %.*s", (int)b.len, b.data);
	}
	buf_free(&b);

	/* The input buffer: CONN_IN_START at first, doubling while full, never past CONN_IN_SIZE. */
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct conn c;
	size_t room, sizes = 0;
	conn_init(&c, -1, (struct sockaddr *)&sin, sizeof sin);
	char *p = conn_space(&c, &room);
	check(p && room == CONN_IN_START, "input", "starts small", "room %zu", room);
	while ((p = conn_space(&c, &room)) && room > 0) {
		memset(p, 'x', room);	/* fill it: the next call must grow it */
		c.in_len += room;
		sizes++;
	}
	check(c.in_len == CONN_IN_SIZE && room == 0, "input", "grows to CONN_IN_SIZE and stops",
	      "len %zu after %zu rounds", c.in_len, sizes);
	conn_free(&c);
}
