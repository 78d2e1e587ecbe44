/* file: MIME types, HTTP dates, entity tags, ranges, reading, directory listings. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "file.h"
#include "path.h"

/* Append len bytes of the file, from offset `from`, to out: 0, or -1 when they cannot
 * be read (an error, the file shrank under us, or out of memory). */
int file_read(int fd, off_t from, size_t len, struct buf *out)
{
	char *dst = buf_reserve(out, len);
	size_t got = 0;

	if (!dst)
		return -1;
	while (got < len) {
		ssize_t n = pread(fd, dst + got, len - got, from + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	out->len += got;
	return 0;
}

/* The MIME table: extension, type. Text types say their charset. */
static const struct {
	const char *ext, *type;
} mime_types[] = {
	{ "html", "text/html; charset=utf-8" }, { "htm", "text/html; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" }, { "js", "text/javascript; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" }, { "json", "application/json" },
	{ "txt", "text/plain; charset=utf-8" }, { "md", "text/markdown; charset=utf-8" },
	{ "csv", "text/csv; charset=utf-8" }, { "xml", "application/xml" },
	{ "svg", "image/svg+xml" }, { "png", "image/png" }, { "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" }, { "gif", "image/gif" }, { "webp", "image/webp" },
	{ "avif", "image/avif" }, { "ico", "image/x-icon" }, { "bmp", "image/bmp" },
	{ "pdf", "application/pdf" }, { "wasm", "application/wasm" },
	{ "mp3", "audio/mpeg" }, { "ogg", "audio/ogg" }, { "wav", "audio/wav" },
	{ "mp4", "video/mp4" }, { "webm", "video/webm" }, { "woff", "font/woff" },
	{ "woff2", "font/woff2" }, { "ttf", "font/ttf" }, { "otf", "font/otf" },
	{ "zip", "application/zip" }, { "gz", "application/gzip" },
	{ "tar", "application/x-tar" }, { "c", "text/plain; charset=utf-8" },
	{ "h", "text/plain; charset=utf-8" }, { "sh", "text/plain; charset=utf-8" },
};

/* The Content-Type for a file name, by its extension (any case). */
const char *file_mime(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash : path, '.');

	if (dot && dot[1])
		for (size_t i = 0; i < sizeof mime_types / sizeof *mime_types; i++)
			if (strcasecmp(dot + 1, mime_types[i].ext) == 0)
				return mime_types[i].type;
	return "application/octet-stream";
}

static const char months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};
/* t as an IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT". The names are English
 * because no server ever calls setlocale(): strftime() stays in the "C" locale. */
void file_date(time_t t, char out[FILE_DATE_LEN])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, FILE_DATE_LEN, "%a, %d %b %Y %H:%M:%S GMT", &tm))
		strcpy(out, "Thu, 01 Jan 1970 00:00:00 GMT");
}

/* Days since 1970-01-01 of a civil date (a proleptic Gregorian calendar): timegm()
 * is not POSIX, so we count ourselves. */
static long long days_from_civil(long long y, int m, int d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	long long yoe = y - era * 400;
	long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int month_number(const char *name)
{
	for (int m = 0; m < 12; m++)
		if (strcmp(name, months[m]) == 0)
			return m + 1;
	return 0;
}

/* Parse an HTTP date in any of its three forms (RFC 9110 5.6.7). */
bool file_parse_date(struct slice s, time_t *t)
{
	char text[64], mon[4] = "", wday[16] = "", zone[4] = "";
	int d, y, hh, mm, ss, n = 0;

	if (s.n == 0 || s.n >= sizeof text)
		return false;
	memcpy(text, s.p, s.n);
	text[s.n] = '\0';
	if (sscanf(text, "%3s, %2d %3s %4d %2d:%2d:%2d %3s%n", wday, &d, mon, &y, &hh, &mm, &ss, zone, &n) == 8 && n == (int)s.n) {
		/* IMF-fixdate */
	} else if (sscanf(text, "%15[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d %3s%n", wday, &d, mon, &y, &hh, &mm, &ss, zone, &n) == 8 && n == (int)s.n) {
		y += y < 70 ? 2000 : 1900;	/* RFC 850, two-digit year */
	} else if (sscanf(text, "%3s %3s %d %2d:%2d:%2d %4d%n", wday, mon, &d, &hh, &mm, &ss, &y, &n) == 7 && n == (int)s.n) {
		strcpy(zone, "GMT");		/* asctime() */
	} else {
		return false;
	}
	int m = month_number(mon);
	if (!m || strcmp(zone, "GMT") != 0 || d < 1 || d > 31 || hh < 0 || hh > 23 || mm < 0 || mm > 59 ||
	    ss < 0 || ss > 60 || y < 1970)	/* %2d takes a sign: "-1:00:00" */
		return false;
	*t = (time_t)(days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss);
	return true;
}

/* A strong entity tag from the size and the modification time (to the nanosecond),
 * in hex: "size-seconds.nanoseconds". */
void file_etag(const struct stat *st, char out[FILE_ETAG_LEN])
{
	char size[NUM_TEXT_LEN], sec[NUM_TEXT_LEN], nsec[NUM_TEXT_LEN];

	text_cat(out, FILE_ETAG_LEN, "\"", num_text(size, (unsigned long long)st->st_size, 16), "-",
		 num_text(sec, (unsigned long long)st->st_mtim.tv_sec, 16), ".",
		 num_text(nsec, (unsigned long long)st->st_mtim.tv_nsec, 16), "\"", NULL);
}

/* Does an If-None-Match list name etag, or say "*"? Weak comparison (RFC 9110 13.1.2). */
bool file_etag_matches(struct slice list, const char *etag)
{
	const char *p = list.p, *end = list.p + list.n;
	size_t n = strlen(etag);

	while (p && p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		if (p < end && *p == '*')
			return true;
		if (end - p >= 2 && p[0] == 'W' && p[1] == '/')
			p += 2;
		if ((size_t)(end - p) >= n && memcmp(p, etag, n) == 0 &&
		    (p + n == end || p[n] == ',' || p[n] == ' ' || p[n] == '\t'))
			return true;
		p = memchr(p, ',', (size_t)(end - p));
	}
	return false;
}

/* Read a decimal number from *p; -1 when there is none or it is too large. */
static long long read_number(const char **p, const char *end)
{
	long long n = -1;

	while (*p < end && **p >= '0' && **p <= '9') {
		if (n > (1LL << 60) / 10)
			return -1;
		n = (n < 0 ? 0 : n * 10) + (**p - '0');
		(*p)++;
	}
	return n;
}

/* Interpret "bytes=a-b", "bytes=a-" or "bytes=-n" against a file of size bytes.
 * Anything else, several ranges included, is RANGE_NONE: the whole file is sent. */
enum range_result file_range(struct slice spec, off_t size, off_t *from, off_t *len)
{
	const char *p = spec.p, *end = spec.p + spec.n;

	if (spec.n < 7 || strncasecmp(p, "bytes=", 6) != 0 || memchr(p, ',', spec.n))
		return RANGE_NONE;
	p += 6;
	long long a = read_number(&p, end);
	if (p >= end || *p++ != '-')
		return RANGE_NONE;
	long long b = read_number(&p, end);
	if (p != end || (a < 0 && b < 0) || (a >= 0 && b >= 0 && b < a))
		return RANGE_NONE;
	if (a < 0) {		/* the last b bytes */
		if (b == 0 || size == 0)
			return RANGE_UNSATISFIABLE;
		a = b > size ? 0 : size - b;
		b = size - 1;
	} else {
		if (a >= size)
			return RANGE_UNSATISFIABLE;
		if (b < 0 || b >= size)
			b = size - 1;
	}
	*from = (off_t)a;
	*len = (off_t)(b - a + 1);
	return RANGE_OK;
}

/* One entry of a listing. */
struct entry {
	char *name;
	bool dir;
	off_t size;
	time_t mtime;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* What the symlink urlpath + name leads to, as a click on it would find it: through
 * path_open(), so only if that is inside the root. A link that leads outside, or
 * nowhere, gets no size, kind or date (all zero): a listing must not tell what lies
 * outside the root any more than a request may. */
static void link_target(const char *root, int root_fd, const char *urlpath, const char *name,
			struct stat *st)
{
	char path[PATH_TARGET_MAX];
	enum status ignored;
	int fd = -1;

	if ((size_t)snprintf(path, sizeof path, "%s%s", urlpath, name) < sizeof path)
		fd = path_open(root, root_fd, path, &ignored);
	if (fd < 0 || fstat(fd, st) != 0)
		memset(st, 0, sizeof *st);
	if (fd >= 0)
		close(fd);
}

/* Read the entries of urlpath's directory (all but "." and ".."), with their stat data. */
static int read_entries(DIR *d, const char *root, int root_fd, const char *urlpath,
			struct entry **list, size_t *count)
{
	size_t cap = 0;
	struct dirent *de;
	struct stat st;

	*list = NULL;
	*count = 0;
	while ((de = readdir(d))) {	/* our own DIR stream: safe on any thread */
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			memset(&st, 0, sizeof st);	/* gone meanwhile: list it anyway */
		else if (S_ISLNK(st.st_mode))
			link_target(root, root_fd, urlpath, de->d_name, &st);
		if (*count == cap) {
			cap = cap ? cap * 2 : 32;
			struct entry *more = realloc(*list, cap * sizeof **list);
			if (!more)
				return -1;
			*list = more;
		}
		char *name = strdup(de->d_name);
		if (!name)
			return -1;
		(*list)[(*count)++] = (struct entry){ name, S_ISDIR(st.st_mode), st.st_size, st.st_mtime };
	}
	return 0;
}

/* Write the listing's HTML: "../" first, except at the root, where the way up would
 * only lead back to the root itself; then the entries sorted byte-wise. */
static void listing_html(const char *urlpath, struct entry *list, size_t count, struct buf *out)
{
	buf_puts(out, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Index of ");
	buf_html(out, urlpath, strlen(urlpath));
	buf_puts(out, "</title>\n<style>body{font-family:sans-serif;margin:2em}"
		      "td{padding:.1em 1.5em .1em 0}td.n{text-align:right}</style></head>\n<body><h1>Index of ");
	buf_html(out, urlpath, strlen(urlpath));
	buf_puts(out, "</h1>\n<table>\n<tr><th>Name</th><th>Size</th><th>Modified</th></tr>\n");
	if (strcmp(urlpath, "/") != 0)
		buf_puts(out, "<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n");
	for (size_t i = 0; i < count; i++) {
		const char *name = list[i].name, *slash = list[i].dir ? "/" : "";
		char when[FILE_DATE_LEN] = "";
		if (list[i].mtime)	/* zero: nothing known, a link that leads outside or nowhere */
			file_date(list[i].mtime, when);
		buf_puts(out, "<tr><td><a href=\"./");
		buf_url(out, name, strlen(name));
		buf_printf(out, "%s\">", slash);
		buf_html(out, name, strlen(name));
		buf_printf(out, "%s</a></td><td class=\"n\">", slash);
		if (list[i].mtime && !list[i].dir)
			buf_printf(out, "%lld", (long long)list[i].size);
		buf_printf(out, "</td><td>%s</td></tr>\n", when);
	}
	buf_puts(out, "</table>\n</body></html>\n");
}

/* The HTML listing of the directory open on fd (which this closes), shown as urlpath,
 * under the root that root and root_fd name (as for path_open). */
enum status file_listing(int fd, const char *root, int root_fd, const char *urlpath, struct buf *out)
{
	struct entry *list = NULL;
	size_t count = 0;
	enum status st = S_OK;
	DIR *d = fdopendir(fd);	/* from now on, closedir() closes fd */

	if (!d) {
		close(fd);
		return S_FORBIDDEN;
	}
	if (read_entries(d, root, root_fd, urlpath, &list, &count) != 0) {
		st = S_INTERNAL_SERVER_ERROR;
		goto cleanup;
	}
	if (count > 1)	/* an empty directory has no list: qsort() must not get NULL */
		qsort(list, count, sizeof *list, by_name);
	listing_html(urlpath, list, count, out);
cleanup:
	closedir(d);
	for (size_t i = 0; i < count; i++)
		free(list[i].name);
	free(list);
	return st;
}
