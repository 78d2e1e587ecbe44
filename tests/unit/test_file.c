/* MIME types, HTTP dates, entity tags and byte ranges. */
#include <string.h>

#include "check.h"
#include "file.h"

static const struct {
	const char *name, *type;
} mimes[] = {
	{ "index.html", "text/html; charset=utf-8" }, { "A.HTM", "text/html; charset=utf-8" },
	{ "s.css", "text/css; charset=utf-8" }, { "app.js", "text/javascript; charset=utf-8" },
	{ "m.mjs", "text/javascript; charset=utf-8" }, { "d.json", "application/json" },
	{ "t.txt", "text/plain; charset=utf-8" }, { "r.md", "text/markdown; charset=utf-8" },
	{ "x.xml", "application/xml" }, { "i.svg", "image/svg+xml" }, { "i.png", "image/png" },
	{ "i.jpg", "image/jpeg" }, { "i.jpeg", "image/jpeg" }, { "i.gif", "image/gif" },
	{ "i.webp", "image/webp" }, { "favicon.ico", "image/x-icon" }, { "d.pdf", "application/pdf" },
	{ "m.wasm", "application/wasm" }, { "a.mp3", "audio/mpeg" }, { "v.mp4", "video/mp4" },
	{ "v.webm", "video/webm" }, { "f.woff", "font/woff" }, { "f.woff2", "font/woff2" },
	{ "noext", "application/octet-stream" }, { "dir.d/noext", "application/octet-stream" },
	{ "trailing.", "application/octet-stream" }, { ".bashrc", "application/octet-stream" },
	{ "x.unknown", "application/octet-stream" },
};

static const struct {
	const char *text;
	bool ok;
	time_t t;
} dates[] = {
	{ "Sun, 06 Nov 1994 08:49:37 GMT", true, 784111777 },
	{ "Sunday, 06-Nov-94 08:49:37 GMT", true, 784111777 },
	{ "Sun Nov  6 08:49:37 1994", true, 784111777 },
	{ "Thu, 01 Jan 1970 00:00:00 GMT", true, 0 },
	{ "Tue, 29 Feb 2028 12:00:00 GMT", true, 1835438400 },
	{ "Sun, 06 Nov 1994 08:49:37 PST", false, 0 },
	{ "Sun, 06 Foo 1994 08:49:37 GMT", false, 0 },
	{ "Sun, 06 Nov 1994 08:49:37 GMT junk", false, 0 },
	{ "Thu, 01 Jan 1970 -1:00:00 GMT", false, 0 },
	{ "Sun, 06 Nov 1994 -8:-9:-7 GMT", false, 0 },
	{ "yesterday", false, 0 },
	{ "", false, 0 },
};

static const struct {
	const char *list;
	bool match;
} etags[] = {
	{ "\"abc\"", true }, { "W/\"abc\"", true }, { "\"x\", \"abc\"", true }, { "\"x\",\"abc\"", true },
	{ "*", true }, { "\"abcd\"", false }, { "\"ab\"", false }, { "\"x\"", false }, { "", false },
};

static const struct {
	const char *spec;
	enum range_result want;
	long long from, len;	/* for a file of 1000 bytes */
} ranges[] = {
	{ "bytes=0-99", RANGE_OK, 0, 100 }, { "bytes=100-", RANGE_OK, 100, 900 },
	{ "bytes=-100", RANGE_OK, 900, 100 }, { "bytes=0-999999", RANGE_OK, 0, 1000 },
	{ "bytes=999-", RANGE_OK, 999, 1 }, { "bytes=-5000", RANGE_OK, 0, 1000 },
	{ "bytes=5-5", RANGE_OK, 5, 1 }, { "BYTES=1-2", RANGE_OK, 1, 2 },
	{ "bytes=1000-", RANGE_UNSATISFIABLE, 0, 0 }, { "bytes=1000-2000", RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=-0", RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=0-1,5-6", RANGE_NONE, 0, 0 }, { "bytes=x-y", RANGE_NONE, 0, 0 },
	{ "bytes=5-1", RANGE_NONE, 0, 0 }, { "bytes=-", RANGE_NONE, 0, 0 },
	{ "items=0-1", RANGE_NONE, 0, 0 }, { "bytes=1-2x", RANGE_NONE, 0, 0 },
	{ "bytes=99999999999999999999-", RANGE_NONE, 0, 0 },
};

void test_file(void)
{
	for (size_t i = 0; i < sizeof mimes / sizeof *mimes; i++)
		check(strcmp(file_mime(mimes[i].name), mimes[i].type) == 0, "mime", mimes[i].name,
		      "want %s, got %s", mimes[i].type, file_mime(mimes[i].name));

	for (size_t i = 0; i < sizeof dates / sizeof *dates; i++) {
		time_t t = 0;
		bool ok = file_parse_date((struct slice){ dates[i].text, strlen(dates[i].text) }, &t);
		check(ok == dates[i].ok && (!ok || t == dates[i].t), "date", dates[i].text,
		      "want %d %lld, got %d %lld", dates[i].ok, (long long)dates[i].t, ok, (long long)t);
	}
	char text[FILE_DATE_LEN];
	file_date(784111777, text);
	check(strcmp(text, "Sun, 06 Nov 1994 08:49:37 GMT") == 0, "date", "format", "got %s", text);

	struct stat st = { .st_size = 1024 };
	char etag[FILE_ETAG_LEN];
	st.st_mtim.tv_sec = 784111777;
	st.st_mtim.tv_nsec = 999999999;
	file_etag(&st, etag);
	check(strcmp(etag, "\"400-2ebc98a1.3b9ac9ff\"") == 0, "etag", "format", "got %s", etag);

	for (size_t i = 0; i < sizeof etags / sizeof *etags; i++)
		check(file_etag_matches((struct slice){ etags[i].list, strlen(etags[i].list) }, "\"abc\"") == etags[i].match,
		      "etag", etags[i].list, "want %d", etags[i].match);

	for (size_t i = 0; i < sizeof ranges / sizeof *ranges; i++) {
		off_t from = 0, len = 0;
		enum range_result got = file_range((struct slice){ ranges[i].spec, strlen(ranges[i].spec) }, 1000, &from, &len);
		check(got == ranges[i].want && (got != RANGE_OK || (from == ranges[i].from && len == ranges[i].len)),
		      "range", ranges[i].spec, "want %d %lld+%lld, got %d %lld+%lld", ranges[i].want, ranges[i].from,
		      ranges[i].len, got, (long long)from, (long long)len);
	}
	off_t from, len;
	check(file_range((struct slice){ "bytes=0-", 8 }, 0, &from, &len) == RANGE_UNSATISFIABLE, "range",
	      "empty file", "want unsatisfiable");
}
