/* options: parse the shared command line and the stage's options with getopt_long.
 * Nothing here exits: opt_parse() says what to do, and server_start() does it. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

#define VERSION "0.1.0"

static const char usage_text[] =
	"usage: %s [options] [PORT]\n"
	"  -p, --port PORT     TCP port (default 8080; 0 = any free port)\n"
	"  -b, --bind ADDR     address to bind (default 127.0.0.1; 0.0.0.0 or :: for all)\n"
	"  -r, --root DIR      document root (default ./www)\n"
	"  -l, --log FILE      also append the access log (combined log format) to FILE;\n"
	"                      strftime conversions roll it, e.g. logs/access-%%Y-%%m-%%d.log\n"
	"  -e, --errors DIR    take error pages from DIR/NNN.html when present\n"
	"  -t, --timeout SECS  idle / keep-alive timeout (default 5)\n"
	"  -q, --quiet         no per-request lines on the terminal\n"
	"  -h, --help          this help\n"
	"      --version       print the version\n";

/* What getopt_long() returns for the options that have no letter: --version, then the
 * stage's options, numbered in order from OPT_STAGE. */
enum { OPT_VERSION = 256, OPT_STAGE };

static const struct option shared_options[] = {
	{ "port", required_argument, NULL, 'p' },
	{ "bind", required_argument, NULL, 'b' },
	{ "root", required_argument, NULL, 'r' },
	{ "log", required_argument, NULL, 'l' },
	{ "errors", required_argument, NULL, 'e' },
	{ "timeout", required_argument, NULL, 't' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
};
enum { N_SHARED = sizeof shared_options / sizeof *shared_options, N_STAGE_MAX = 16 };

/* The stage's options in one list (its own, then those of a stage built on it), and
 * the table getopt_long() reads: the shared options, then the stage's. */
struct options {
	const struct stage_option *stage[N_STAGE_MAX];
	int n;
	struct option table[N_SHARED + N_STAGE_MAX + 1];
};

/* Say what is wrong in err; returns OPT_USAGE, for `return usage_error(...)`. */
static enum opt_result usage_error(char err[OPT_ERR_MAX], const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static enum opt_result usage_error(char err[OPT_ERR_MAX], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, OPT_ERR_MAX, fmt, ap);
	va_end(ap);
	return OPT_USAGE;
}

/* A whole decimal number from min to max: true and *out, or false. */
bool opt_number(const char *s, long min, long max, long *out)
{
	char *end;

	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Add a stage's table to the list and to getopt_long()'s table. A stage with more
 * than N_STAGE_MAX options is a mistake in the program: say so, never drop one. */
static enum opt_result add_stage(struct options *o, const struct stage_option *list,
				 char err[OPT_ERR_MAX])
{
	for (; list && list->name; list++, o->n++) {
		if (o->n == N_STAGE_MAX)
			return usage_error(err, "more than %d stage options: raise N_STAGE_MAX", N_STAGE_MAX);
		o->stage[o->n] = list;
		o->table[N_SHARED + o->n] = (struct option){
			list->name, list->flag ? no_argument : required_argument, NULL, OPT_STAGE + o->n,
		};
	}
	return OPT_SERVE;
}

/* The usage: the shared options, then the stage's. */
static void usage(const char *prog, const struct options *o)
{
	printf(usage_text, prog);
	for (int i = 0; i < o->n; i++)
		fputs(o->stage[i]->usage, stdout);
}

/* Store the value of a stage's option, or say why it is bad. */
static enum opt_result stage_value(const struct stage_option *so, const char *arg, char err[OPT_ERR_MAX])
{
	long n;

	if (so->flag) {
		*so->value = 1;
		return OPT_SERVE;
	}
	for (int i = 0; so->words && so->words[i]; i++)
		if (strcmp(arg, so->words[i]) == 0) {
			*so->value = i;
			return OPT_SERVE;
		}
	if (so->words)
		return usage_error(err, "bad value '%s' for option '--%s' (see --help)", arg, so->name);
	if (!opt_number(arg, so->min, so->max, &n))
		return usage_error(err, "bad value '%s' for option '--%s': give a whole number from "
				   "%ld to %ld (see --help)", arg, so->name, so->min, so->max);
	*so->value = (int)n;
	return OPT_SERVE;
}

/* An option getopt_long() refused: arg is where it stands, for a long option (a short
 * one may stand inside a cluster, -qx: optopt says which). */
static enum opt_result bad_option(const char *arg, const struct option *table, char err[OPT_ERR_MAX])
{
	if (strncmp(arg, "--", 2) != 0)
		return usage_error(err, "unknown option '-%c' (see --help)", optopt);
	size_t n = strcspn(arg + 2, "=");
	for (const struct option *o = table; arg[2 + n] == '=' && o->name; o++)
		if (strlen(o->name) == n && strncmp(o->name, arg + 2, n) == 0)
			return usage_error(err, "option '--%s' takes no value (see --help)", o->name);
	return usage_error(err, "unknown option '%s' (see --help)", arg);
}

/* One option that getopt_long() returned (c), with its value in optarg. */
static enum opt_result one_option(struct server *srv, int c, char **argv, const struct options *o,
				  char err[OPT_ERR_MAX])
{
	long n;

	switch (c) {
	case 'p': srv->port = optarg; break;
	case 'b': srv->bind = optarg; break;
	case 'r': srv->root_arg = optarg; break;
	case 'l': srv->log_path = optarg; break;
	case 'e': srv->errors_dir = optarg; break;
	case 'q': srv->quiet = true; break;
	case 't':
		if (!opt_number(optarg, 1, 86400, &n))
			return usage_error(err, "bad timeout '%s': give whole seconds, 1 to 86400", optarg);
		srv->timeout = (int)n;
		break;
	case 'h': usage(argv[0], o); return OPT_EXIT;
	case OPT_VERSION: printf("staged-httpd %s (%s)\n", VERSION, srv->stage); return OPT_EXIT;
	case ':': return usage_error(err, "option '%s' needs a value (see --help)", argv[optind - 1]);
	case '?': return bad_option(argv[optind - 1], o->table, err);
	default:
		return stage_value(o->stage[c - OPT_STAGE], optarg, err);
	}
	return OPT_SERVE;
}

/* Defaults first, then the command line: the shared options and the stage's. */
enum opt_result opt_parse(struct server *srv, int argc, char **argv, const struct stage_option *own,
			  const struct stage_option *more, char err[OPT_ERR_MAX])
{
	struct options o = { .n = 0 };
	enum opt_result res;
	long port;
	int c;

	memcpy(o.table, shared_options, sizeof shared_options);
	if ((res = add_stage(&o, own, err)) != OPT_SERVE || (res = add_stage(&o, more, err)) != OPT_SERVE)
		return res;
	srv->bind = "127.0.0.1";
	srv->port = "8080";
	srv->root_arg = "www";
	srv->timeout = 5;
	opterr = 0;	/* we say what is wrong ourselves, in one line */
	while (res == OPT_SERVE && (c = getopt_long(argc, argv, ":p:b:r:l:e:t:qh", o.table, NULL)) != -1)
		res = one_option(srv, c, argv, &o, err);
	if (res != OPT_SERVE)
		return res;
	if (optind < argc)
		srv->port = argv[optind++];
	if (optind < argc)
		return usage_error(err, "unexpected argument '%s' (see --help)", argv[optind]);
	if (!opt_number(srv->port, 0, 65535, &port))
		return usage_error(err, "bad port '%s': give a number from 0 to 65535", srv->port);
	return OPT_SERVE;
}
