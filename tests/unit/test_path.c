/* Target resolution: decoding, dot segments, and containment under a real root. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include "check.h"
#include "path.h"

static const struct {
	const char *target;
	enum status want;
	const char *path, *query;	/* when S_OK */
} cases[] = {
	{ "/", S_OK, "/", "" },
	{ "/index.html", S_OK, "/index.html", "" },
	{ "/a/b/", S_OK, "/a/b/", "" },
	{ "/a?x=1&y", S_OK, "/a", "x=1&y" },
	{ "/a#frag", S_OK, "/a", "" },
	{ "/space%20name.txt", S_OK, "/space name.txt", "" },
	{ "/caf%C3%A9", S_OK, "/caf\xc3\xa9", "" },
	{ "/a/./b", S_OK, "/a/b", "" },
	{ "/a//b", S_OK, "/a/b", "" },
	{ "/a/../b", S_OK, "/b", "" },
	{ "/a/b/..", S_OK, "/a/", "" },
	{ "/a/%2e%2e/b", S_OK, "/b", "" },
	{ "/a/.", S_OK, "/a/", "" },
	{ "/..a/b..", S_OK, "/..a/b..", "" },
	{ "http://host:8080/x/y", S_OK, "/x/y", "" },
	{ "http://host?q/hello.txt", S_OK, "/", "q/hello.txt" },
	{ "http://host#f/hello.txt", S_OK, "/", "" },
	{ "http://host", S_OK, "/", "" },
	{ "HTTP://host", S_OK, "/", "" },
	{ "/%3F", S_OK, "/?", "" },

	{ "/..", S_BAD_REQUEST, NULL, NULL },
	{ "/../etc/passwd", S_BAD_REQUEST, NULL, NULL },
	{ "/a/../../etc", S_BAD_REQUEST, NULL, NULL },
	{ "/%2e%2e/x", S_BAD_REQUEST, NULL, NULL },
	{ "/%2E%2E/x", S_BAD_REQUEST, NULL, NULL },
	{ "/.%2e/x", S_BAD_REQUEST, NULL, NULL },
	{ "/a%2fb", S_BAD_REQUEST, NULL, NULL },
	{ "/a%2F..%2F..%2Fetc", S_BAD_REQUEST, NULL, NULL },
	{ "/a\\b", S_BAD_REQUEST, NULL, NULL },
	{ "/a%5cb", S_BAD_REQUEST, NULL, NULL },
	{ "/a%00b", S_BAD_REQUEST, NULL, NULL },
	{ "/a%0ab", S_BAD_REQUEST, NULL, NULL },
	{ "/%zz", S_BAD_REQUEST, NULL, NULL },
	{ "/%4", S_BAD_REQUEST, NULL, NULL },
	{ "/%", S_BAD_REQUEST, NULL, NULL },
	{ "index.html", S_BAD_REQUEST, NULL, NULL },
	{ "*", S_BAD_REQUEST, NULL, NULL },
	{ "", S_BAD_REQUEST, NULL, NULL },
};

/* A scratch root with a file, a subdirectory and links in and out of it. */
static char root[PATH_MAX + 8], outside[PATH_MAX + 8];

static int make_tree(void)
{
	static char tmpl[] = "/tmp/staged-unit.XXXXXX", real[PATH_MAX];
	char p[PATH_MAX + 64];

	if (!mkdtemp(tmpl) || !path_real(tmpl, real) || strlen(real) > PATH_MAX / 2)
		return -1;
	snprintf(root, sizeof root, "%s/root", real);
	snprintf(outside, sizeof outside, "%s/secret", real);
	mkdir(root, 0755);
	fclose(fopen(outside, "w"));
	snprintf(p, sizeof p, "%s/file.txt", root), fclose(fopen(p, "w"));
	snprintf(p, sizeof p, "%s/dir", root), mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/out", root);
	if (symlink(outside, p) != 0)
		return -1;
	snprintf(p, sizeof p, "%s/outdir", root);
	if (symlink("..", p) != 0)
		return -1;
	char target[PATH_MAX + 64];
	snprintf(p, sizeof p, "%s/abs", root);	/* absolute, but inside the root */
	snprintf(target, sizeof target, "%s/file.txt", root);
	if (symlink(target, p) != 0)
		return -1;
	snprintf(p, sizeof p, "%s/absout", root);
	if (symlink(outside, p) != 0)
		return -1;
	snprintf(p, sizeof p, "%s/in", root);
	return symlink("file.txt", p);
}

static const struct {
	const char *path;
	enum status want;
} resolve_cases[] = {
	{ "/", S_OK }, { "/file.txt", S_OK }, { "/dir/", S_OK }, { "/in", S_OK },
	{ "/missing", S_NOT_FOUND }, { "/file.txt/", S_NOT_FOUND },
	{ "/abs", S_OK }, { "/absout", S_FORBIDDEN },
	{ "/out", S_FORBIDDEN }, { "/outdir/secret", S_FORBIDDEN }, { "/outdir/", S_FORBIDDEN },
	/* missing: 403 when what exists of it leads outside, so that a symlink to a
	 * directory elsewhere does not tell which files exist there */
	{ "/outdir/nothing", S_FORBIDDEN }, { "/absout/x", S_FORBIDDEN },
	{ "/outdir/root/missing", S_NOT_FOUND }, { "/dir/missing/deeper", S_NOT_FOUND },
};

/* path_open_beneath() is given what realpath() checked; a symlink on the way means the
 * tree changed after the check (here: is one from the start) and is refused: 403 at
 * the end of the path (ELOOP), 404 where a directory should be (ENOTDIR on Linux). */
static const struct {
	const char *rel;
	enum status want;
} beneath_cases[] = {
	{ "", S_OK }, { "file.txt", S_OK }, { "dir", S_OK }, { "missing", S_NOT_FOUND },
	{ "dir/missing", S_NOT_FOUND }, { "file.txt/x", S_NOT_FOUND },
	{ "in", S_FORBIDDEN }, { "out", S_FORBIDDEN }, { "outdir/secret", S_NOT_FOUND },
	{ "outdir/root/file.txt", S_NOT_FOUND },
};

void test_path(void)
{
	char out[PATH_TARGET_MAX], real[PATH_MAX];
	struct slice q;

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct slice t = { cases[i].target, strlen(cases[i].target) };
		enum status got = path_from_target(t, out, sizeof out, &q);
		if (check(got == cases[i].want, "path", cases[i].target, "want %d, got %d", cases[i].want, got) && got == S_OK)
			check(strcmp(out, cases[i].path) == 0 && q.n == strlen(cases[i].query) &&
			      memcmp(q.p, cases[i].query, q.n) == 0, "path", cases[i].target,
			      "want '%s' '%s', got '%s' '%.*s'", cases[i].path, cases[i].query, out, (int)q.n, q.p);
	}
	if (!check(make_tree() == 0, "path", "scratch tree", "could not build it"))
		return;
	for (size_t i = 0; i < sizeof resolve_cases / sizeof *resolve_cases; i++) {
		enum status got = path_resolve(root, resolve_cases[i].path, real, sizeof real);
		check(got == resolve_cases[i].want, "path", resolve_cases[i].path, "resolve: want %d, got %d",
		      resolve_cases[i].want, got);
	}
	int root_fd = open(root, O_RDONLY | O_DIRECTORY);
	for (size_t i = 0; i < sizeof resolve_cases / sizeof *resolve_cases; i++) {
		enum status got;
		int fd = path_open(root, root_fd, resolve_cases[i].path, &got);
		check(got == resolve_cases[i].want && (fd >= 0) == (got == S_OK), "path", resolve_cases[i].path,
		      "open: want %d, got %d (fd %d)", resolve_cases[i].want, got, fd);
		if (fd >= 0)
			close(fd);
	}
	for (size_t i = 0; i < sizeof beneath_cases / sizeof *beneath_cases; i++) {
		enum status got;
		int fd = path_open_beneath(root_fd, beneath_cases[i].rel, &got);
		check(got == beneath_cases[i].want && (fd >= 0) == (got == S_OK), "path", beneath_cases[i].rel,
		      "beneath: want %d, got %d (fd %d)", beneath_cases[i].want, got, fd);
		if (fd >= 0)
			close(fd);
	}
	close(root_fd);
	path_resolve(root, "/in", real, sizeof real);
	check(strstr(real, "/root/file.txt") != NULL, "path", "/in", "resolves to %s", real);
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf %.*s", (int)(strlen(root) - 5), root);
	if (system(cmd) != 0)
		check(false, "path", "cleanup", "rm failed");
}
