/* watch: the two backends, polling (POSIX) and inotify (Linux), behind watch.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/inotify.h>
#endif

#include "watch.h"

enum {
	MAX_DEPTH = 64,		/* deeper directories are not watched */
	ROOT_CHECK_MS = 1000,	/* inotify: how often to make sure the root is still there */
};

/* One file or directory as a scan saw it. */
struct entry {
	char *path;		/* "/css/site.css" */
	ino_t ino;
	off_t size;
	long long mtime_ns;
	mode_t mode;
};

struct snapshot {
	struct entry *e;
	size_t n, cap;
};

struct watch {
	enum watch_kind kind;
	char root[PATH_MAX];
	dev_t dev;		/* the root directory as it was at the start: if the path */
	ino_t ino;		/* names another one later, the root was replaced */
	/* polling */
	int interval_ms;
	long long next_scan;	/* ms, monotonic */
	struct snapshot last;
	/* inotify */
	int fd;
	int root_wd;
	char **dirs;		/* by watch descriptor: the directory it watches, or NULL */
	int ndirs;
	bool full_warned;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Editors write temporaries next to the file they save: vim 4913 and *.swp, emacs
 * #file# and .#file, many others file~. Dotfiles (.git/...) are not content either. */
bool watch_ignored(const char *path)
{
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t n = strlen(name);

	if (strstr(path, "/.") || name[0] == '.' || n == 0)
		return true;
	return name[n - 1] == '~' || strcmp(name, "4913") == 0 ||
	       (n > 4 && strcmp(name + n - 4, ".swp") == 0) ||
	       (n > 1 && name[0] == '#' && name[n - 1] == '#');
}

/* Is the root still the directory we started with? If not, say what happened. */
static bool root_lost(struct watch *w, char *err, int errsize)
{
	struct stat st;

	if (stat(w->root, &st) != 0) {
		snprintf(err, (size_t)errsize, "the document root %s is gone (%s)", w->root, strerror(errno));
		return true;
	}
	if (st.st_dev != w->dev || st.st_ino != w->ino) {
		snprintf(err, (size_t)errsize, "the document root %s was replaced by another directory", w->root);
		return true;
	}
	return false;
}

/* Visit everything under root + rel that is not ignored, depth first: fn gets each
 * path (relative to the root) and its lstat(). rel is "" or "/dir", in a
 * PATH_MAX buffer that we extend and restore. Files that vanish between readdir() and
 * fstatat() are skipped: the next scan, or their own inotify event, reports them. */
typedef void visit_fn(void *ctx, const char *rel, const struct stat *st);

static void walk(const char *root, char *rel, size_t len, int depth, visit_fn *fn, void *ctx)
{
	char full[PATH_MAX];
	struct dirent *de;

	snprintf(full, sizeof full, "%s%s", root, rel);
	DIR *d = opendir(full);
	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		struct stat st;

		if (len + 1 + n >= PATH_MAX)
			continue;
		rel[len] = '/';
		memcpy(rel + len + 1, de->d_name, n + 1);
		if (!watch_ignored(rel) && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			fn(ctx, rel, &st);
			if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH)
				walk(root, rel, len + 1 + n, depth + 1, fn, ctx);
		}
		rel[len] = '\0';
	}
	closedir(d);
}

/* ---------------------------------------------------------------- polling */

static void snapshot_free(struct snapshot *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->e[i].path);
	free(s->e);
	*s = (struct snapshot){ 0 };
}

static void snapshot_add(struct snapshot *s, const char *path, const struct stat *st)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		struct entry *e = realloc(s->e, cap * sizeof *e);
		if (!e)
			return;	/* out of memory: this scan misses a file, the next may not */
		s->e = e;
		s->cap = cap;
	}
	struct entry *e = &s->e[s->n];
	if (!(e->path = strdup(path)))
		return;
	e->ino = st->st_ino;
	e->size = st->st_size;
	e->mtime_ns = (long long)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	e->mode = st->st_mode;
	s->n++;
}

static void add_entry(void *ctx, const char *rel, const struct stat *st)
{
	snapshot_add(ctx, rel, st);
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

static void scan(struct watch *w, struct snapshot *s)
{
	char rel[PATH_MAX] = "";

	walk(w->root, rel, 0, 0, add_entry, s);
	if (s->n)	/* an empty tree has no array at all, and qsort() wants one */
		qsort(s->e, s->n, sizeof *s->e, by_path);
}

/* Walk two sorted scans side by side: a path in one only was created or deleted; in
 * both, a file changed if its inode, size, time or type did (a directory's own time
 * changes with its entries, which are reported themselves). */
static int compare(const struct snapshot *old, const struct snapshot *now, watch_fn *fn, void *ctx)
{
	/* LAB 05.5: one pass over both at once, as merge sort merges:
	 * fn(ctx, path) for every path that differs, as said above; return how many. */
	size_t i = 0, j = 0;
	int changes = 0;

	while (i < old->n || j < now->n) {
		int c = i == old->n ? 1 : j == now->n ? -1 : strcmp(old->e[i].path, now->e[j].path);
		if (c < 0) {
			fn(ctx, old->e[i++].path);
			changes++;
		} else if (c > 0) {
			fn(ctx, now->e[j++].path);
			changes++;
		} else {
			const struct entry *a = &old->e[i++], *b = &now->e[j++];
			bool dir = S_ISDIR(a->mode) && S_ISDIR(b->mode);
			if (a->ino != b->ino || a->mode != b->mode ||
			    (!dir && (a->size != b->size || a->mtime_ns != b->mtime_ns))) {
				fn(ctx, b->path);
				changes++;
			}
		}
	}
	return changes;
	/* END LAB 05.5 */
}

static int poll_wait(struct watch *w, int timeout_ms, int stop_fd, watch_fn *fn, void *ctx,
		     char *err, int errsize)
{
	long long until = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;

	for (;;) {
		long long now = now_ms();
		if (now >= w->next_scan) {
			struct snapshot fresh = { 0 };
			if (root_lost(w, err, errsize))
				return -1;
			scan(w, &fresh);
			int changes = compare(&w->last, &fresh, fn, ctx);
			snapshot_free(&w->last);
			w->last = fresh;
			w->next_scan = now + w->interval_ms;
			if (changes)
				return changes;
		}
		if (until >= 0 && now >= until)
			return 0;
		long long wait = w->next_scan - now;
		if (until >= 0 && until - now < wait)
			wait = until - now;
		struct pollfd p = { stop_fd, POLLIN, 0 };
		if (poll(&p, 1, (int)wait) > 0)
			return 0;	/* stopping */
	}
}

/* ---------------------------------------------------------------- inotify */

#ifdef __linux__
enum {
	NOTIFY_MASK = IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM |
		      IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR |
		      IN_DONT_FOLLOW
};

/* Watch the directory root + rel (its path relative to the root). */
static void add_watch(struct watch *w, const char *rel)
{
	char full[PATH_MAX];

	snprintf(full, sizeof full, "%s%s", w->root, rel);
	int wd = inotify_add_watch(w->fd, full, NOTIFY_MASK);
	if (wd < 0) {
		if (errno == ENOSPC && !w->full_warned) {
			w->full_warned = true;
			fprintf(stderr, "server: inotify watch limit reached (sysctl fs.inotify.max_user_watches): "
					"%s and other directories are not watched; --watch=poll sees every change\n", full);
		}
		return;
	}
	if (wd >= w->ndirs) {
		int n = wd + 64;
		char **dirs = realloc(w->dirs, (size_t)n * sizeof *dirs);
		if (!dirs)
			return;
		memset(dirs + w->ndirs, 0, (size_t)(n - w->ndirs) * sizeof *dirs);
		w->dirs = dirs;
		w->ndirs = n;
	}
	if (rel[0] == '\0')
		w->root_wd = wd;
	free(w->dirs[wd]);
	w->dirs[wd] = strdup(rel);
}

static void add_if_dir(void *ctx, const char *rel, const struct stat *st)
{
	if (S_ISDIR(st->st_mode))
		add_watch(ctx, rel);
}

/* Watch the directory root + rel and, recursively, every directory under it. */
static void watch_tree(struct watch *w, char *rel, size_t len, int depth)
{
	add_watch(w, rel);
	walk(w->root, rel, len, depth, add_if_dir, w);
}

/* Stop watching the directory rel (n bytes) and everything under it. If it was only
 * renamed inside the root, its new name comes as IN_MOVED_TO and is watched anew. */
static void forget_tree(struct watch *w, const char *rel, size_t n)
{
	for (int wd = 0; wd < w->ndirs; wd++)
		if (w->dirs[wd] && strncmp(w->dirs[wd], rel, n) == 0 &&
		    (w->dirs[wd][n] == '\0' || w->dirs[wd][n] == '/')) {
			inotify_rm_watch(w->fd, wd);
			free(w->dirs[wd]);
			w->dirs[wd] = NULL;
		}
}

/* One inotify event: report its path, follow new directories. -1: the root is lost. */
static int notify_event(struct watch *w, const struct inotify_event *ev, watch_fn *fn, void *ctx)
{
	char path[PATH_MAX];

	if (ev->mask & IN_Q_OVERFLOW) {
		/* The kernel dropped events: something changed, and directories made
		 * meanwhile went unseen. Watch the whole tree again (a directory watched
		 * already keeps its descriptor), so that later changes in them count. */
		char rel[PATH_MAX] = "";
		watch_tree(w, rel, 0, 0);
		fn(ctx, "/");
		return 1;
	}
	if (ev->wd == w->root_wd && (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)))
		return -1;
	if (ev->wd < 0 || ev->wd >= w->ndirs || !w->dirs[ev->wd])
		return 0;
	if (ev->mask & IN_IGNORED) {	/* its directory is gone: forget the watch */
		free(w->dirs[ev->wd]);
		w->dirs[ev->wd] = NULL;
		return 0;
	}
	if (!ev->len)
		return 0;	/* about the directory itself: its parent reports it */
	size_t n = (size_t)snprintf(path, sizeof path, "%s/%s", w->dirs[ev->wd], ev->name);
	if (n >= sizeof path || watch_ignored(path))
		return 0;
	if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)))
		watch_tree(w, path, n, 1);	/* a new directory: watch it (and what it holds) */
	if ((ev->mask & IN_ISDIR) && (ev->mask & IN_MOVED_FROM))
		forget_tree(w, path, n);	/* moved away: maybe out of the root, so stop */
	fn(ctx, path);
	return 1;
}

static int notify_wait(struct watch *w, int timeout_ms, int stop_fd, watch_fn *fn, void *ctx,
		       char *err, int errsize)
{
	union {
		struct inotify_event ev;	/* for its alignment */
		char bytes[16 * 1024];
	} buf;
	struct pollfd p[2] = { { w->fd, POLLIN, 0 }, { stop_fd, POLLIN, 0 } };
	int changes = 0;

	/* Look at the root at least once a second: we keep it open (srv->root_fd), and
	 * while a directory is open the kernel does not say it was deleted (no
	 * IN_DELETE_SELF until the last reference goes), nor that another took its name. */
	if (timeout_ms < 0 || timeout_ms > ROOT_CHECK_MS)
		timeout_ms = ROOT_CHECK_MS;
	int ready = poll(p, 2, timeout_ms);
	if (ready > 0 && (p[1].revents & POLLIN))
		return 0;	/* stopping */
	if (root_lost(w, err, errsize))
		return -1;
	if (ready <= 0)
		return 0;	/* nothing happened */
	for (;;) {
		ssize_t got = read(w->fd, buf.bytes, sizeof buf.bytes);
		if (got <= 0)
			break;	/* EAGAIN: all read */
		for (char *q = buf.bytes; q < buf.bytes + got;) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)q;
			int r = notify_event(w, ev, fn, ctx);
			if (r < 0) {
				if (!root_lost(w, err, errsize))
					snprintf(err, (size_t)errsize, "the document root %s was moved or deleted", w->root);
				return -1;
			}
			changes += r;
			q += sizeof *ev + ev->len;
		}
	}
	return changes;
}

/* Start inotify on the whole tree: 0, or -1 with a message in err. */
static int notify_open(struct watch *w, char *err, int errsize)
{
	char rel[PATH_MAX] = "";

	if ((w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) {
		snprintf(err, (size_t)errsize, "inotify: %s (try --watch=poll)", strerror(errno));
		return -1;
	}
	w->root_wd = -1;
	watch_tree(w, rel, 0, 0);
	if (w->root_wd < 0) {
		snprintf(err, (size_t)errsize, "inotify cannot watch %s (try --watch=poll)", w->root);
		return -1;
	}
	return 0;
}
#else
/* Elsewhere there is no inotify: only polling. */
static int notify_open(struct watch *w, char *err, int errsize)
{
	(void)w;
	snprintf(err, (size_t)errsize, "inotify is Linux only: use --watch=poll");
	return -1;
}
#endif

/* ---------------------------------------------------------------- the interface */

struct watch *watch_open(const char *root, enum watch_kind kind, int interval_ms, char *err,
			 int errsize)
{
	struct watch *w = calloc(1, sizeof *w);
	struct stat st;

	if (!w) {
		snprintf(err, (size_t)errsize, "out of memory");
		return NULL;
	}
	w->fd = -1;
	if (strcmp(root, "/") == 0) {	/* /proc, /sys, /dev: no */
		snprintf(err, (size_t)errsize, "live reload does not watch the whole file system (-r /): "
			 "serve a smaller directory, or add --no-watch");
		goto fail;
	}
	snprintf(w->root, sizeof w->root, "%s", root);
	if (stat(root, &st) != 0) {
		snprintf(err, (size_t)errsize, "cannot watch %s: %s", root, strerror(errno));
		goto fail;
	}
	w->kind = kind;
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	w->interval_ms = interval_ms;
	if (kind == WATCH_POLL) {
		scan(w, &w->last);	/* what is there now: only later changes count */
		w->next_scan = now_ms() + interval_ms;
		return w;
	}
	if (notify_open(w, err, errsize) == 0)
		return w;
fail:
	watch_close(w);
	return NULL;
}

int watch_wait(struct watch *w, int timeout_ms, int stop_fd, watch_fn *fn, void *ctx, char *err,
	       int errsize)
{
#ifdef __linux__
	if (w->kind == WATCH_INOTIFY)
		return notify_wait(w, timeout_ms, stop_fd, fn, ctx, err, errsize);
#endif
	return poll_wait(w, timeout_ms, stop_fd, fn, ctx, err, errsize);
}

void watch_close(struct watch *w)
{
	if (!w)
		return;
	snapshot_free(&w->last);
	if (w->fd >= 0)
		close(w->fd);
	for (int i = 0; i < w->ndirs; i++)
		free(w->dirs[i]);
	free(w->dirs);
	free(w);
}
