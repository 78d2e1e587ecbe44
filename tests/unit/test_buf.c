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

/* A query goes back as it came, with what a URI may not hold percent-encoded. */
static const struct {
	const char *in, *out;
} queries[] = {
	{ "a=1&b=2", "a=1&b=2" },
	{ "x=/p?q:@!$'()*+,;", "x=/p?q:@!$'()*+,;" },
	{ "\"><x>", "%22%3E%3Cx%3E" },
	{ "s p\r\n\x1b", "s%20p%0D%0A%1B" },
	{ "caf%C3%A9&100%", "caf%C3%A9&100%25" },
	{ "%4g%%", "%254g%25%25" },
	{ "a#b\\c{}|^`", "a%23b%5Cc%7B%7D%7C%5E%60" },
};

static void test_query(struct buf *b)
{
	for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {
		buf_reset(b);
		buf_url_query(b, queries[i].in, strlen(queries[i].in));
		check(strcmp(b->data, queries[i].out) == 0, "query", queries[i].in, "got %s", b->data);
	}
}

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
	test_query(&b);
	buf_reset(&b);
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "%04d", i);
	check(b.len == 4000 && memcmp(b.data + 3996, "0999", 4) == 0 && !b.failed, "buf", "grows", "len %zu", b.len);
	buf_free(&b);
}

/* Numbers and joins without printf(): what response heads and etags are made of. */
static const struct {
	unsigned long long n;
	unsigned base;
	const char *text;
} numbers[] = {
	{ 0, 10, "0" },
	{ 7, 10, "7" },
	{ 200, 10, "200" },
	{ 1024, 16, "400" },
	{ 255, 16, "ff" },
	{ 18446744073709551615ULL, 10, "18446744073709551615" },
	{ 18446744073709551615ULL, 16, "ffffffffffffffff" },
};

static const struct {
	size_t size;
	const char *text;
} joins[] = {
	{ 64, "Keep-Alive: timeout=5" },	/* fits */
	{ 22, "Keep-Alive: timeout=5" },	/* exactly, with the NUL */
	{ 11, "Keep-Alive" },		/* cut, still terminated */
	{ 1, "" },
};

void test_text(void)
{
	char digits[NUM_TEXT_LEN], out[64];
	struct buf b;

	for (size_t i = 0; i < sizeof numbers / sizeof *numbers; i++)
		check(strcmp(num_text(digits, numbers[i].n, numbers[i].base), numbers[i].text) == 0,
		      "num_text", numbers[i].text, "got %s", num_text(digits, numbers[i].n, numbers[i].base));
	for (size_t i = 0; i < sizeof joins / sizeof *joins; i++) {
		memset(out, 'x', sizeof out);
		text_cat(out, joins[i].size, "Keep-Alive", ": ", "timeout=", "5", NULL);
		check(strcmp(out, joins[i].text) == 0, "text_cat", joins[i].text, "size %zu: got %s",
		      joins[i].size, out);
	}
	buf_init(&b);
	buf_cat(&b, "HTTP/1.1 ", num_text(digits, 404, 10), " ", "Not Found", "\r\n", NULL);
	check(strcmp(b.data, "HTTP/1.1 404 Not Found\r\n") == 0, "buf_cat", "status line", "got %s", b.data);
	buf_cat(&b, NULL);
	check(b.len == 24, "buf_cat", "nothing", "len %zu", b.len);
	buf_free(&b);
}
