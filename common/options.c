/* options: parse the shared command line with getopt_long; start-up errors die here. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "options.h"
#include "path.h"

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

static const struct option shared_longopts[] = {
	{ "port", required_argument, NULL, 'p' },
	{ "bind", required_argument, NULL, 'b' },
	{ "root", required_argument, NULL, 'r' },
	{ "log", required_argument, NULL, 'l' },
	{ "errors", required_argument, NULL, 'e' },
	{ "timeout", required_argument, NULL, 't' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
};
enum { N_SHARED = sizeof shared_longopts / sizeof *shared_longopts, N_EXTRA_MAX = 16 };

/* Print "server: message" (and the errno text when fmt ends with ':') and exit. */
void die(int status, const char *fmt, ...)
{
	int err = errno;
	char msg[512], errbuf[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	size_t n = strlen(msg);
	if (n && msg[n - 1] == ':') {
		if (strerror_r(err, errbuf, sizeof errbuf) != 0)
			snprintf(errbuf, sizeof errbuf, "error %d", err);
		fprintf(stderr, "server: %s %s\n", msg, errbuf);
	} else {
		fprintf(stderr, "server: %s\n", msg);
	}
	exit(status);
}

/* A whole number in [min, max], or -1. */
static long parse_number(const char *s, long min, long max)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	return v;
}

static void usage(const char *prog, const struct stage_options *extra, FILE *to)
{
	fprintf(to, usage_text, prog);
	for (; extra; extra = extra->more)
		if (extra->usage)
			fputs(extra->usage, to);
}

/* Join the shared options and the stage's into one table for getopt_long. */
static void build_table(struct option *all, const struct stage_options *extra)
{
	size_t n = 0;

	memcpy(all, shared_longopts, sizeof shared_longopts);
	n = N_SHARED;
	for (; extra; extra = extra->more)
		for (const struct option *o = extra->longopts; o && o->name; o++)
			if (n < N_SHARED + N_EXTRA_MAX)
				all[n++] = *o;
	memset(&all[n], 0, sizeof all[n]);
}

/* Give a stage's option to whichever table of the chain has it: 0 if it took it. */
static int handle_extra(int c, const char *arg, const struct stage_options *extra)
{
	for (; extra; extra = extra->more)
		for (const struct option *o = extra->longopts; o && o->name; o++)
			if (o->val == c)
				return extra->handle(c, arg, extra->ctx);
	return -1;
}

/* Set defaults, then apply the command line. Usage errors exit 2. */
static void parse_args(struct server *srv, int argc, char **argv, const struct stage_options *extra)
{
	struct option all[N_SHARED + N_EXTRA_MAX + 1];
	int c, which = -1;

	build_table(all, extra);
	opterr = 0;	/* we say what is wrong ourselves, in one line */
	while ((c = getopt_long(argc, argv, ":p:b:r:l:e:t:qh", all, &which)) != -1) {
		switch (c) {
		case 'p': srv->port = optarg; break;
		case 'b': srv->bind = optarg; break;
		case 'r': srv->root_arg = optarg; break;
		case 'l': srv->log_path = optarg; break;
		case 'e': srv->errors_dir = optarg; break;
		case 'q': srv->quiet = true; break;
		case 't':
			if ((srv->timeout = (int)parse_number(optarg, 1, 86400)) < 0)
				die(2, "bad timeout '%s': give whole seconds, 1 to 86400", optarg);
			break;
		case 'h': usage(argv[0], extra, stdout); exit(0);
		case 'V': printf("staged-httpd %s (%s)\n", VERSION, srv->stage); exit(0);
		case ':': die(2, "option '%s' needs a value (see --help)", argv[optind - 1]);
		case '?':
			if (optopt)
				die(2, "unknown option '-%c' (see --help)", optopt);
			die(2, "unknown option '%s' (see --help)", argv[optind - 1]);
		default:
			if (c >= 256 && handle_extra(c, optarg, extra) == 0)
				break;
			die(2, "bad value '%s' for option '--%s' (see --help)", optarg ? optarg : "",
			    which >= 0 ? all[which].name : "?");
		}
	}
	if (optind < argc)
		srv->port = argv[optind++];
	if (optind < argc)
		die(2, "unexpected argument '%s' (see --help)", argv[optind]);
	if (parse_number(srv->port, 0, 65535) < 0)
		die(2, "bad port '%s': give a number from 0 to 65535", srv->port);
}

/* Parse the command line into srv and check the document root. */
void opt_parse(struct server *srv, int argc, char **argv, const struct stage_options *extra)
{
	srv->bind = "127.0.0.1";
	srv->port = "8080";
	srv->root_arg = "www";
	srv->timeout = 5;
	srv->listen_fd = -1;
	parse_args(srv, argc, argv, extra);
	if (!path_real(srv->root_arg, srv->root))
		die(1, "document root '%s' (give an existing directory with -r DIR):", srv->root_arg);
	struct stat st;
	if (stat(srv->root, &st) != 0 || !S_ISDIR(st.st_mode))
		die(1, "document root '%s' is not a directory: give one with -r DIR", srv->root_arg);
	if ((srv->root_fd = open(srv->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die(1, "cannot open the document root '%s':", srv->root_arg);
	if (srv->errors_dir && (stat(srv->errors_dir, &st) != 0 || !S_ISDIR(st.st_mode)))
		die(1, "error-page directory '%s' is not a directory", srv->errors_dir);
}
