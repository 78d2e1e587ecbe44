/* The buffer's escaping: what listings and pages rely on to be safe. */
#include <string.h>

#include "buf.h"
#include "check.h"

static const struct {
	const char *in, *html, *url;
} cases[] = {
	{ "plain.txt", "plain.txt", "plain.txt" },
	{ "a&b.txt", "a&amp;b.txt", "a%26b.txt" },
	{ "<x>.txt", "&lt;x&gt;.txt", "%3Cx%3E.txt" },
	{ "space name", "space name", "space%20name" },
	{ "q\"'", "q&quot;&#39;", "q%22%27" },
	{ "caf\xc3\xa9", "caf\xc3\xa9", "caf%C3%A9" },
	{ "dir/sub-1_2.~", "dir/sub-1_2.~", "dir/sub-1_2.~" },
	{ "100%?#", "100%?#", "100%25%3F%23" },
};

void test_buf(void)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		buf_reset(&b);
		buf_html(&b, cases[i].in, strlen(cases[i].in));
		check(strcmp(b.data, cases[i].html) == 0, "html", cases[i].in, "got %s", b.data);
		buf_reset(&b);
		buf_url(&b, cases[i].in, strlen(cases[i].in));
		check(strcmp(b.data, cases[i].url) == 0, "url", cases[i].in, "got %s", b.data);
	}
	buf_reset(&b);
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "%04d", i);
	check(b.len == 4000 && memcmp(b.data + 3996, "0999", 4) == 0 && !b.failed, "buf", "grows", "len %zu", b.len);
	buf_free(&b);
}
