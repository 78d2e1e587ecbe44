/* options: the command line every server shares, plus each stage's own options.
 *
 * A stage lists its own options in a table and says where each value goes; the
 * parsing, the bounds and the usage errors are done here, once, for every stage. */
#ifndef OPTIONS_H
#define OPTIONS_H

#include <stdbool.h>

#include "server.h"

/* One option of a stage's own, given as --name. Its value is a number from min to max,
 * or one of `words` (the value is then the word's index), or nothing at all (a flag:
 * the value becomes 1). A table ends with an entry whose name is NULL. */
struct stage_option {
	const char *name;		/* "max-threads" */
	int *value;			/* where the value goes */
	long min, max;			/* a number: its bounds */
	const char *const *words;	/* a word: the list, NULL at the end */
	bool flag;			/* a flag: no value */
	const char *usage;		/* its lines for --help */
};

/* What the command line says to do next. */
enum opt_result {
	OPT_SERVE,	/* start the server */
	OPT_EXIT,	/* --help or --version is printed: exit 0 */
	OPT_USAGE,	/* a usage error, described in err: exit 2 */
};

enum { OPT_ERR_MAX = 256 };

/* Parse argv into srv: the shared options, then the stage's (`own`), then those of a
 * stage built on it (`more`, 05 on 04). Either table may be NULL. */
enum opt_result opt_parse(struct server *srv, int argc, char **argv, const struct stage_option *own,
			  const struct stage_option *more, char err[OPT_ERR_MAX]);

/* A whole decimal number from min to max, nothing else: true and *out, or false. */
bool opt_number(const char *s, long min, long max, long *out);

#endif
