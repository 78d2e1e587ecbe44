/* options: the command line every server shares, plus each stage's own options. */
#ifndef OPTIONS_H
#define OPTIONS_H

#include <getopt.h>

#include "server.h"

/* A stage's own long options (e.g. 02's --poll): its table, its lines for --help and a
 * handler that returns 0, or -1 for a bad value (then the usage error exits 2). A stage
 * built on another (05 on 04) chains its table after the base's with `more`; each
 * table's values must differ from the others' (04 uses 256..., 05 uses 300...). */
struct stage_options {
	const struct option *longopts;	/* ends with a zeroed entry; use values >= 256 */
	const char *usage;
	int (*handle)(int opt, const char *arg, void *ctx);
	void *ctx;
	const struct stage_options *more;	/* another stage's table, or NULL */
};

void opt_parse(struct server *srv, int argc, char **argv, const struct stage_options *extra);
void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

#endif
