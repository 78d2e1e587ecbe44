/* cond: 304 Not Modified, 206 Partial Content and 416, decided from the request's
 * conditional and Range fields and the file's validators. */
#include <string.h>
#include <time.h>

#include "cond.h"
#include "file.h"

/* 304 rules (RFC 9110 13.2.2): If-None-Match decides when present, else If-Modified-Since.
 * A date later than our clock is invalid and the field ignored (13.1.3): a client with
 * its clock ahead must not be told that a file changed a minute ago is unchanged. */
static bool not_modified(const struct request *req, const struct stat *sb, const char *etag)
{
	time_t since;

	if (req->if_none_match.p)
		return file_etag_matches(req->if_none_match, etag);
	if (req->if_modified_since.p && file_parse_date(req->if_modified_since, &since) &&
	    since <= time(NULL))
		return sb->st_mtime <= since;
	return false;
}

/* If-Range: the range applies only if the validator still matches (RFC 9110 13.1.5). */
static bool range_applies(const struct request *req, const struct stat *sb, const char *etag)
{
	time_t t;

	if (!req->if_range.p)
		return true;
	if (req->if_range.p[0] == '"')
		return req->if_range.n == strlen(etag) && memcmp(req->if_range.p, etag, req->if_range.n) == 0;
	return file_parse_date(req->if_range, &t) && t == sb->st_mtime;
}

/* What to answer for a file with validators sb and etag: S_NOT_MODIFIED; S_OK for the
 * whole file; or, when ranges may be served, S_PARTIAL_CONTENT for *len bytes from
 * *from, or S_RANGE_NOT_SATISFIABLE. The Content-Range line goes into extra (a 416's
 * replaces what extra held: the validators describe no body there). */
enum status cond_check(const struct request *req, const struct stat *sb, const char *etag,
		       bool ranges, off_t *from, off_t *len, struct buf *extra)
{
	*from = 0;
	*len = sb->st_size;
	if (not_modified(req, sb, etag))
		return S_NOT_MODIFIED;
	if (!ranges || !req->range.p || !range_applies(req, sb, etag))
		return S_OK;
	switch (file_range(req->range, sb->st_size, from, len)) {
	case RANGE_UNSATISFIABLE:
		buf_reset(extra);
		buf_printf(extra, "Content-Range: bytes */%lld\r\n", (long long)sb->st_size);
		return S_RANGE_NOT_SATISFIABLE;
	case RANGE_OK:
		buf_printf(extra, "Content-Range: bytes %lld-%lld/%lld\r\n", (long long)*from,
			   (long long)(*from + *len - 1), (long long)sb->st_size);
		return S_PARTIAL_CONTENT;
	case RANGE_NONE:
		break;
	}
	return S_OK;
}
