/* path: percent-decoding, dot segments (RFC 3986 5.2.4) and containment in the root. */

/* realpath() is POSIX.1-2008, but glibc declares it only for the X/Open level. */
#define _XOPEN_SOURCE 700

#if defined(__linux__) && !defined(NO_OPENAT2)
#define _DEFAULT_SOURCE		/* for syscall(): glibc has no openat2() wrapper */
#include <linux/openat2.h>
#include <sys/syscall.h>
#define HAVE_OPENAT2 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "path.h"

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Skip "http://authority" of an absolute-form target (RFC 9112 3.2.2). The authority
 * ends at the first '/', '?' or '#' (RFC 3986 3.2); what is left may have no path at
 * all ("http://host?q"), and *absolute then says that the path is "/". */
static struct slice origin_form(struct slice t, bool *absolute)
{
	size_t skip = 0;

	if (t.n >= 7 && strncasecmp(t.p, "http://", 7) == 0)
		skip = 7;
	else if (t.n >= 8 && strncasecmp(t.p, "https://", 8) == 0)
		skip = 8;
	*absolute = skip > 0;
	while (skip && skip < t.n && t.p[skip] != '/' && t.p[skip] != '?' && t.p[skip] != '#')
		skip++;
	return (struct slice){ t.p + skip, t.n - skip };
}

/* Percent-decode the path part into out. Refuses what could smuggle a separator or
 * end a C string early: bad escapes, NUL and other controls, %2F, and backslashes. */
static enum status decode(struct slice s, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c == '%') {
			int hi = i + 2 < s.n ? hex_value(s.p[i + 1]) : -1;
			int lo = i + 2 < s.n ? hex_value(s.p[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return S_BAD_REQUEST;
			c = (unsigned char)(hi * 16 + lo);
			if (c == '/')
				return S_BAD_REQUEST;
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || c == '\\')
			return S_BAD_REQUEST;
		if (o + 1 >= size)
			return S_URI_TOO_LONG;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return S_OK;
}

/* Copy path to out without empty, "." and ".." segments; ".." above the root is
 * refused. out has room for strlen(path) + 1 bytes; a trailing slash is kept. */
static enum status remove_dot_segments(const char *path, char *out)
{
	char *o = out;
	const char *p = path;
	int trailing = 0;

	*o++ = '/';
	while (*p) {
		while (*p == '/')
			p++;
		size_t n = strcspn(p, "/");
		trailing = p[n] == '/' || n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.');
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (o == out + 1)
				return S_BAD_REQUEST;	/* would climb out of the root */
			for (o--; o > out + 1 && o[-1] != '/'; o--)
				;
		} else if (n > 0 && !(n == 1 && p[0] == '.')) {
			memcpy(o, p, n);
			o += n;
			*o++ = '/';
		}
		p += n;
	}
	if (!trailing && o > out + 1)
		o--;
	*o = '\0';
	return S_OK;
}

/* Turn a target into a clean absolute path in out ("/", "/a/b.html", "/dir/"), and
 * point *query at what follows '?'. Returns S_OK or S_BAD_REQUEST. */
enum status path_from_target(struct slice target, char *out, size_t size, struct slice *query)
{
	bool absolute;
	struct slice t = origin_form(target, &absolute);
	size_t n = 0;
	enum status st;

	while (n < t.n && t.p[n] != '?' && t.p[n] != '#')
		n++;
	*query = (struct slice){ t.p + n, t.n - n };
	if (query->n && query->p[0] == '?') {
		query->p++;
		query->n--;
	} else {
		query->n = 0;
	}
	struct slice path = { t.p, n };
	if (absolute && n == 0)
		path = (struct slice){ "/", 1 };	/* "http://host", "http://host?q" */
	if (path.n == 0 || path.p[0] != '/')
		return S_BAD_REQUEST;
	char decoded[PATH_TARGET_MAX];
	if (size < PATH_TARGET_MAX)
		return S_URI_TOO_LONG;
	if ((st = decode(path, decoded, sizeof decoded)) != S_OK)
		return st;
	return remove_dot_segments(decoded, out);
}

/* Whether real, a real path, is root or below it. */
static bool inside(const char *root, size_t rn, const char *real)
{
	return rn == 1 || (strncmp(real, root, rn) == 0 && (real[rn] == '\0' || real[rn] == '/'));
}

/* A missing path: 404 if it would have been inside the root, 403 if the part of it
 * that exists already leads outside (a symlink to a directory elsewhere). Without
 * this, /link-to-etc/passwd (403) and /link-to-etc/nothing (404) would tell a client
 * which files exist outside the root. full is ours to cut: drop the last component
 * until what is left exists, and check where that is. */
static enum status missing(const char *root, size_t rn, char *full)
{
	char real[PATH_MAX];

	for (char *slash; (slash = strrchr(full, '/')) && slash > full + rn;) {
		*slash = '\0';
		if (realpath(full, real))
			return inside(root, rn, real) ? S_NOT_FOUND : S_FORBIDDEN;
	}
	return S_NOT_FOUND;	/* nothing below the root exists on the way */
}

/* Resolve root + path with realpath() into out and check it stays inside root, which
 * must itself be a real path. 404 when missing, 403 when it leads outside. */
enum status path_resolve(const char *root, const char *path, char *out, size_t size)
{
	char full[PATH_MAX], real[PATH_MAX];
	size_t rn = strlen(root);

	if ((size_t)snprintf(full, sizeof full, "%s%s", root, path) >= sizeof full)
		return S_NOT_FOUND;
	if (!realpath(full, real)) {
		if (errno == EACCES)
			return S_FORBIDDEN;
		if (errno == ENOMEM || errno == EIO)
			return S_INTERNAL_SERVER_ERROR;
		if (errno == ENOENT || errno == ENOTDIR)
			return missing(root, rn, full);
		return S_NOT_FOUND;	/* ELOOP, ENAMETOOLONG */
	}
	if (!inside(root, rn, real))
		return S_FORBIDDEN;
	if (strlen(real) >= size)
		return S_NOT_FOUND;
	strcpy(out, real);
	return S_OK;
}

/* realpath(), in one place: out must hold PATH_MAX bytes. */
char *path_real(const char *path, char *out)
{
	return realpath(path, out);
}

#ifndef NAME_MAX		/* POSIX lets <limits.h> leave it out where it varies */
#define NAME_MAX 255
#endif

/* Open rel, a path under dir_fd with no symlink in it ("" for dir_fd itself), one
 * component at a time and following no symlink (O_NOFOLLOW on each). open() of the
 * whole path would follow a symlink that someone put in place of a directory after
 * realpath() checked the path; here that open fails instead: ELOOP (403) for the last
 * component, ENOTDIR (404 on Linux) where a directory should be. Directories on the
 * way are opened for search only where the system has O_SEARCH; elsewhere they must
 * be readable. */
int path_open_beneath(int dir_fd, const char *rel, enum status *st)
{
#ifdef O_SEARCH
	const int dir_flags = O_SEARCH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
#else
	const int dir_flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
#endif
	/* O_NONBLOCK: opening a FIFO someone left in the root must not hang the server. */
	const int file_flags = O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC;
	char name[NAME_MAX + 1];	/* one component: a whole path would cost PATH_MAX of stack */
	int fd = dir_fd;

	for (;;) {
		size_t n = strcspn(rel, "/");
		bool last = rel[n] == '\0';
		int next = -1;
		if (n >= sizeof name) {
			errno = ENAMETOOLONG;	/* no such name in any directory: 404 below */
		} else {
			memcpy(name, rel, n);
			name[n] = '\0';
			next = openat(fd, n ? name : ".", last ? file_flags : dir_flags);
		}
		int saved = errno;
		if (fd != dir_fd)
			close(fd);	/* the directory we came through */
		errno = saved;
		if ((fd = next) < 0 || last)
			break;
		rel += n + 1;
	}
	*st = S_OK;
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE)
			*st = S_SERVICE_UNAVAILABLE;	/* out of descriptors: try again later */
		else if (errno == EACCES || errno == ELOOP || errno == EMLINK)	/* EMLINK: BSD's ELOOP */
			*st = S_FORBIDDEN;
		else if (errno == ENXIO || errno == ENODEV || errno == EOPNOTSUPP)
			*st = S_FORBIDDEN;	/* a socket or a device: not a file to serve */
		else if (errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG)
			*st = S_NOT_FOUND;
		else
			*st = S_INTERNAL_SERVER_ERROR;
	}
	return fd;
}

/* The portable way: resolve with realpath(), check, then open what was checked without
 * following any symlink, so what is opened is what was checked. */
static int open_checked(const char *root, int root_fd, const char *path, enum status *st)
{
	char real[PATH_MAX];
	size_t rn = strlen(root);

	if ((*st = path_resolve(root, path, real, sizeof real)) != S_OK)
		return -1;
	/* real is root, or root + "/" + the rest (for the root "/", "/" + the rest) */
	const char *rel = real + rn;
	if (*rel == '/')
		rel++;
	return path_open_beneath(root_fd, rel, st);
}

/* Open what the clean path names under the root: an fd, or -1 with *st saying why
 * (404, 403, 503 when out of descriptors, 500). root_fd is the root opened as a directory.
 *
 * On Linux, openat2() with RESOLVE_BENEATH opens and checks in one system call: the
 * kernel refuses (EXDEV) any path that would leave root_fd, through ".." or through
 * a symlink. It also refuses absolute symlinks that stay inside, so on EXDEV (and on
 * kernels older than 5.6, ENOSYS) we ask realpath() as everywhere else, and that
 * answer decides. The portable path alone is built with -DNO_OPENAT2. */
int path_open(const char *root, int root_fd, const char *path, enum status *st)
{
#ifdef HAVE_OPENAT2
	struct open_how how = {
		.flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, root_fd, path[1] ? path + 1 : ".", &how, sizeof how);

	*st = S_OK;
	if (fd >= 0)
		return fd;
	if (errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG) {
		*st = S_NOT_FOUND;
		return -1;
	}
	if (errno == EACCES) {
		*st = S_FORBIDDEN;
		return -1;
	}
#endif
	return open_checked(root, root_fd, path, st);
}
