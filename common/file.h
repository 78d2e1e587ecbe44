/* file: what a file's response needs: its bytes, type, dates, entity tag, byte range,
 * and the HTML listing of a directory. */
#ifndef FILE_H
#define FILE_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "http.h"

enum { FILE_DATE_LEN = 30, FILE_ETAG_LEN = 64 };

/* What file_range() found in a Range header. */
enum range_result { RANGE_NONE, RANGE_OK, RANGE_UNSATISFIABLE };

int file_read(int fd, off_t from, size_t len, struct buf *out);
const char *file_mime(const char *path);
void file_date(time_t t, char out[FILE_DATE_LEN]);
bool file_parse_date(struct slice s, time_t *t);
void file_etag(const struct stat *st, char out[FILE_ETAG_LEN]);
bool file_etag_matches(struct slice list, const char *etag);
enum range_result file_range(struct slice spec, off_t size, off_t *from, off_t *len);
enum status file_listing(int fd, const char *root, int root_fd, const char *urlpath,
			struct buf *out);

#endif
