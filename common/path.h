/* path: from a request target to a file under the document root, safely.
 *
 * Two steps, two defences. path_from_target() decodes the target and removes dot
 * segments on the decoded text, refusing anything that would climb above "/".
 * path_resolve() then asks the file system (realpath) where the path really leads
 * and refuses it unless that is inside the root: this is what stops symlinks.
 * path_open() does both and opens the file (in one system call on Linux); elsewhere
 * path_open_beneath() opens what was checked without following any symlink, so a
 * symlink swapped in after the check is refused, not followed. */
#ifndef PATH_H
#define PATH_H

#include <stddef.h>

#include "http.h"

enum { PATH_TARGET_MAX = HTTP_LINE_MAX + 2 };	/* size of a path_from_target() buffer */

enum status path_from_target(struct slice target, char *out, size_t size, struct slice *query);
char *path_real(const char *path, char *out);
enum status path_resolve(const char *root, const char *path, char *out, size_t size);
int path_open(const char *root, int root_fd, const char *path, enum status *st);
int path_open_beneath(int dir_fd, const char *rel, enum status *st);

#endif
