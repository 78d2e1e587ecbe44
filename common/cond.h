/* cond: the rules of conditional requests and ranges (RFC 9110, 13 and 14). */
#ifndef COND_H
#define COND_H

#include <stdbool.h>
#include <sys/stat.h>

#include "buf.h"
#include "http.h"

enum status cond_check(const struct request *req, const struct stat *sb, const char *etag,
		       bool ranges, off_t *from, off_t *len, struct buf *extra);

#endif
