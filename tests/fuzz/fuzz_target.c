/* fuzz_target: libFuzzer harness for target resolution: percent-decoding and dot
 * segments (path_from_target) and containment in the root (path_resolve, path_open).
 *
 * Once, it builds a scratch tree under /tmp: a root with files, directories, odd names
 * and symlinks that stay inside or lead out (to a secret file next to the root, to the
 * root's parent, to a sibling directory whose name starts like the root's, to /). Each
 * input is a request target. A file opened anywhere but inside the root aborts, as does
 * any other broken rule: libFuzzer saves the input. Built twice by `make fuzz`: with
 * openat2() and with the realpath() fallback (-DNO_OPENAT2 on common/path.c). */
#define _XOPEN_SOURCE 700	/* realpath() */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"
#include "path.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define require(cond) do { if (!(cond)) fail(#cond, __LINE__); } while (0)

static void fail(const char *what, int line)
{
	fprintf(stderr, "fuzz_target.c:%d: invariant broken: %s\n", line, what);
	abort();
}

static char base[PATH_MAX];	/* the scratch directory: the root and what is outside it */
static char root[PATH_MAX];	/* base/root, a real path as the servers keep it */
static int root_fd = -1;
static int free_fd = -1;	/* the lowest free descriptor between two inputs */

/* Every file and directory inside the root (not the symlinks): by device and inode. */
static struct { dev_t dev; ino_t ino; } inside[64];
static size_t ninside;

/* Call fn on each entry under dir (depth first, children before their directory),
 * without following symlinks. */
static void walk(const char *dir, void (*fn)(const char *path, const struct stat *st))
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[PATH_MAX];
	struct stat st;

	require(d != NULL);
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		require((size_t)snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < sizeof p);
		require(lstat(p, &st) == 0);
		if (S_ISDIR(st.st_mode))
			walk(p, fn);
		fn(p, &st);
	}
	closedir(d);
}

static void note_inside(const char *path, const struct stat *st)
{
	(void)path;
	if (S_ISLNK(st->st_mode))
		return;
	require(ninside < sizeof inside / sizeof *inside);
	inside[ninside].dev = st->st_dev;
	inside[ninside++].ino = st->st_ino;
}

static void remove_entry(const char *path, const struct stat *st)
{
	if (S_ISDIR(st->st_mode))
		rmdir(path);
	else
		unlink(path);
}

static void remove_tree(void)
{
	if (!base[0])
		return;
	walk(base, remove_entry);
	rmdir(base);
}

/* Make base/name: a directory (kind 'd'), a file ('f'), a FIFO ('p') or a symlink to
 * to ('l'; "%B" in to stands for base, "%R" for the root). */
static void make(char kind, const char *name, const char *to)
{
	char p[PATH_MAX], link[PATH_MAX];

	require((size_t)snprintf(p, sizeof p, "%s/%s", base, name) < sizeof p);
	switch (kind) {
	case 'd': require(mkdir(p, 0755) == 0); break;
	case 'p': require(mkfifo(p, 0644) == 0); break;
	case 'f': {
		FILE *f = fopen(p, "w");
		require(f != NULL);
		fputs(name, f);
		require(fclose(f) == 0);
		break;
	}
	case 'l':
		if (strncmp(to, "%B", 2) == 0)
			snprintf(link, sizeof link, "%s%s", base, to + 2);
		else if (strncmp(to, "%R", 2) == 0)
			snprintf(link, sizeof link, "%s/root%s", base, to + 2);
		else
			snprintf(link, sizeof link, "%s", to);
		require(symlink(link, p) == 0);
		break;
	}
}

/* The scratch tree. Outside the root: secret, root2/ (a name that starts like the
 * root's: a plain prefix test would let it in). */
static void make_tree(void)
{
	static const struct { char kind; const char *name, *to; } tree[] = {
		{ 'f', "secret", NULL }, { 'd', "root2", NULL }, { 'f', "root2/file.txt", NULL },
		{ 'd', "root", NULL },
		{ 'f', "root/index.html", NULL }, { 'f', "root/file.txt", NULL },
		{ 'f', "root/style.css", NULL }, { 'f', "root/.hidden", NULL },
		{ 'd', "root/dir", NULL }, { 'f', "root/dir/index.html", NULL },
		{ 'f', "root/dir/inner.txt", NULL }, { 'd', "root/dir/sub", NULL },
		{ 'f', "root/dir/sub/deep.js", NULL }, { 'd', "root/empty", NULL },
		{ 'd', "root/a b", NULL }, { 'f', "root/a b/50% off.txt", NULL },
		{ 'f', "root/caf\xc3\xa9.txt", NULL }, { 'f', "root/q?mark#hash.txt", NULL },
		{ 'f', "root/%41.txt", NULL }, { 'p', "root/pipe", NULL },
		{ 'l', "root/link-in", "file.txt" },		/* inside, relative */
		{ 'l', "root/link-dir", "dir" },
		{ 'l', "root/abs-in", "%R/file.txt" },		/* inside, absolute */
		{ 'l', "root/abs-dir", "%R/dir" },
		{ 'l', "root/dir/in-up", ".." },		/* the root itself */
		{ 'l', "root/dir/up2", "../.." },		/* the root's parent */
		{ 'l', "root/out", "%B/secret" },		/* a file outside */
		{ 'l', "root/out-rel", "../secret" },
		{ 'l', "root/outdir", ".." },			/* a directory outside */
		{ 'l', "root/sibling", "../root2" },
		{ 'l', "root/slash", "/" },
		{ 'l', "root/dangling", "missing" },
		{ 'l', "root/loop", "loop" },
		{ 'l', "root/chain", "link-in" },
		{ 'l', "root/chain-out", "out" },
	};
	static char tmpl[] = "/tmp/staged-fuzz.XXXXXX";

	require(mkdtemp(tmpl) != NULL);
	require(realpath(tmpl, base) != NULL);
	/* Removed at exit; after a crash, tests/fuzz/run removes it (it reads this line). */
	atexit(remove_tree);
	fprintf(stderr, "fuzz_target: scratch tree %s\n", base);
	for (size_t i = 0; i < sizeof tree / sizeof *tree; i++)
		make(tree[i].kind, tree[i].name, tree[i].to);
	require((size_t)snprintf(root, sizeof root, "%s/root", base) < sizeof root);
	struct stat st;
	require(stat(root, &st) == 0);
	note_inside(root, &st);
	walk(root, note_inside);
}

/* The lowest free descriptor, found by taking it. */
static int lowest_free_fd(void)
{
	int fd = dup(root_fd);

	require(fd >= 0);
	close(fd);
	return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	make_tree();
	root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	require(root_fd >= 0);
	free_fd = lowest_free_fd();
	return 0;
}

static int is_inside_inode(const struct stat *st)
{
	for (size_t i = 0; i < ninside; i++)
		if (inside[i].dev == st->st_dev && inside[i].ino == st->st_ino)
			return 1;
	return 0;
}

/* Is the text a real path inside the root (the root itself, or root + "/...")? */
static int is_inside_text(const char *real)
{
	size_t n = strlen(root);

	return strncmp(real, root, n) == 0 && (real[n] == '\0' || real[n] == '/');
}

/* An open descriptor is one of the root's files or directories. On Linux, /proc also
 * says where it is, and that must be what path_resolve() found (when it found one). */
static void require_fd_inside(int fd, const char *resolved)
{
	struct stat st;

	require(fstat(fd, &st) == 0);
	require(is_inside_inode(&st));
#ifdef __linux__
	char proc[64], where[PATH_MAX];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(proc, where, sizeof where - 1);
	if (n < 0)
		return;		/* no /proc mounted: the inode test above stands */
	where[n] = '\0';
	require(is_inside_text(where));
	if (resolved)
		require(strcmp(where, resolved) == 0);
#else
	(void)resolved;
#endif
}

/* What path_from_target() promises about a path it returns. */
static void require_clean(const char *path)
{
	size_t n = strlen(path);

	require(n < PATH_TARGET_MAX && path[0] == '/');
	require(strstr(path, "//") == NULL);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)path[i];
		require(c >= 0x20 && c != 0x7f && c != '\\');
	}
	/* No "." or ".." segment: each segment starts after a '/'. */
	for (const char *s = path + 1; s && *s; s = strchr(s, '/') ? strchr(s, '/') + 1 : NULL) {
		size_t len = strcspn(s, "/");
		require(!(len == 1 && s[0] == '.'));
		require(!(len == 2 && s[0] == '.' && s[1] == '.'));
	}
}

/* The path percent-encoded again (as a 301's Location is) decodes to itself. */
static void require_reencodes(const char *path)
{
	struct buf b;
	char again[PATH_TARGET_MAX];
	struct slice q;

	buf_init(&b);
	buf_url(&b, path, strlen(path));
	require(!b.failed);
	require(path_from_target((struct slice){ b.data, b.len }, again, sizeof again, &q) == S_OK);
	require(strcmp(again, path) == 0 && q.n == 0);
	buf_free(&b);
}

/* Open the path as a server would and resolve it on its own: both answers agree, and
 * whatever they found is inside the root. */
static void check_open(const char *path)
{
	char real[PATH_MAX];
	enum status opened, resolved = path_resolve(root, path, real, sizeof real);
	int fd = path_open(root, root_fd, path, &opened);

	require(resolved == S_OK || resolved == S_FORBIDDEN || resolved == S_NOT_FOUND);
	if (resolved == S_OK) {
		struct stat st;
		require(is_inside_text(real));
		require(stat(real, &st) == 0 && is_inside_inode(&st));
	}
	if (fd >= 0) {
		require(opened == S_OK);
		require_fd_inside(fd, resolved == S_OK ? real : NULL);
		close(fd);
	}
	/* Both say the same, but for paths too long for realpath(): root + path must fit
	 * in PATH_MAX there, while openat2() takes a path of PATH_MAX from the root. */
	if (strlen(root) + strlen(path) < PATH_MAX) {
		require((fd >= 0) == (resolved == S_OK));
		require(fd >= 0 || opened == resolved);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data;
	char path[PATH_TARGET_MAX];
	struct slice q;
	enum status st = path_from_target((struct slice){ t, size }, path, sizeof path, &q);

	require(st == S_OK || st == S_BAD_REQUEST || st == S_URI_TOO_LONG);
	require(q.n == 0 || (q.p > t && q.p + q.n == t + size && q.p[-1] == '?'));
	if (st == S_OK) {
		require_clean(path);
		require_reencodes(path);
		check_open(path);
		require(file_mime(path) != NULL);
	}
	/* The second defence alone: path_resolve() and path_open() keep an uncleaned
	 * path ("/../secret", "/outdir/x") inside too. path_open() wants a leading '/'. */
	if (size > 0 && t[0] == '/' && size < PATH_TARGET_MAX && !memchr(t, '\0', size)) {
		char raw[PATH_TARGET_MAX];
		memcpy(raw, t, size);
		raw[size] = '\0';
		check_open(raw);
	}
	require(lowest_free_fd() == free_fd);	/* no descriptor left open */
	return 0;
}
