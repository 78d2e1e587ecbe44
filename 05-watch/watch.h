/* watch: notice changes under the document root, with one of two backends.
 *
 *   WATCH_POLL     portable (POSIX): scan the whole tree with stat() every interval and
 *                  compare with the last scan. Costs a stat() per file per interval, and
 *                  a change is seen up to one interval late.
 *   WATCH_INOTIFY  Linux: the kernel tells us about each change as it happens. Costs
 *                  one watch per directory (new directories are watched as they come).
 *
 * Both report paths relative to the root ("/css/site.css"), raw: one call per change
 * the backend saw. Collecting a burst of them into one event (debouncing) is the
 * caller's job. Dotfiles and editor temporaries never reach the caller. */
#ifndef WATCH_H
#define WATCH_H

#include <stdbool.h>

enum watch_kind { WATCH_POLL, WATCH_INOTIFY };

struct watch;
typedef void watch_fn(void *ctx, const char *path);

/* Start watching root; NULL with a message in err when that cannot be done. */
struct watch *watch_open(const char *root, enum watch_kind kind, int interval_ms, char *err,
			 int errsize);

/* Wait at most timeout_ms (-1: no limit) for changes, or until stop_fd is readable, and
 * call fn for each changed path. Returns the number of changes, 0 when none (timeout or
 * stopping), or -1 when the root itself was deleted or replaced (err says so); the
 * watch is useless after that. */
int watch_wait(struct watch *w, int timeout_ms, int stop_fd, watch_fn *fn, void *ctx, char *err,
	       int errsize);

void watch_close(struct watch *w);

/* Does a change to this file name matter? No for dotfiles and editor temporaries
 * ("*~", "*.swp", "#*#", "4913", ".#*"), and none under a dot-directory. */
bool watch_ignored(const char *path);

#endif
