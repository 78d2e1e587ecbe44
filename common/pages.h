/* pages: the built-in pages under /_/: info (who served you, in HTML and in JSON) and
 * history. */
#ifndef PAGES_H
#define PAGES_H

#include "http.h"
#include "buf.h"
#include "server.h"

enum status pages_serve(struct server *srv, const struct request *req, const char *addr,
			const char *path, struct buf *body);
const char *pages_type(const char *path);	/* the Content-Type pages_serve() writes */

#endif
