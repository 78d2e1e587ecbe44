/* opts.c: the command line of the load client, read with getopt_long(): the options,
 * each number checked against its bounds, and the URLs handed to url.c.
 */
#include "opts.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_URL "http://127.0.0.1:8080/"
#define MAX_CLIENTS 1024
#define MAX_CONNS 100000
#define MAX_REQUESTS 1000000000000000ULL /* 10^15 */
#define MAX_SECONDS 1000000ULL /* 11 days: long enough for any lab */
#define NS 1000000000ULL

static const char usage_text[] =
	"usage: client [options] [URL...]\n"
	"Sends GET requests over many connections at once, checks every response and\n"
	"prints a summary. URL: http://HOST[:PORT][/PATH], by default\n"
	DEFAULT_URL "; HOST is an IPv4 address, [IPv6], localhost or a\n"
	"name. Several URLs (same host and port) are requested in turn.\n"
	"\n"
	"  --max-clients=N  client processes forked (default 1)\n"
	"  --max-conns=M    connections each client holds open at once (default 1)\n"
	"  --requests=R     requests sent one after the other on each connection,\n"
	"                   keep-alive (default 1; with --duration, no limit unless given)\n"
	"  --duration=S     keep sending for S seconds instead of a fixed count\n"
	"  --slow=MS        send each request one byte every MS milliseconds\n"
	"  --hold=S         keep each connection open S seconds after its last response\n"
	"  --timeout=S      give up on a connect, or on a response once its request is\n"
	"                   sent, after S seconds (default 10)\n"
	"  -q, --quiet      print the summary only\n"
	"      --json       print the summary only, as one JSON object\n"
	"  -h, --help       print this help\n"
	"S may have decimals (0.5). An option's value may also be the next argument.\n"
	"\n"
	"Totals: without --duration the run makes exactly N x M x R requests, refused\n"
	"ones included: each of the N clients opens M connections and sends R requests\n"
	"on each. When a connection ends early (the server closes it, a request fails),\n"
	"the client opens another in its place for the requests left. With --duration\n"
	"the N x M connections send back to back until S seconds have passed (a\n"
	"connection is replaced after R requests, if R is given); responses still due\n"
	"are awaited.\n"
	"\n"
	"Each response is checked: status line, header fields, the whole body\n"
	"(Content-Length, chunked, or up to the close). A request is ok when its response\n"
	"is complete and its status 2xx or 3xx. Otherwise it failed, and is counted by\n"
	"status (404: 3) or by error:\n"
	"  connect       no connection, not refused (out of sockets or local ports)\n"
	"  reset         the connection broke (reset by the server, read or write error)\n"
	"  closed        the server closed the connection before answering\n"
	"  truncated     the server closed the connection in the middle of a response\n"
	"  timeout       no connection, or no complete response, within --timeout\n"
	"  bad_response  malformed status line or header field, bad framing or chunk\n"
	"\n"
	"A connection refused (nothing listens on the port: the server has stopped, or\n"
	"is unreachable) carries no request: it is counted apart, as refused, and not in\n"
	"requests. The client says so once on stderr, and each connection waits before\n"
	"its next try: 10 ms, then twice as long after each failed try in a row, 1 s at\n"
	"most. With --duration it keeps trying until the time is up, and carries on if\n"
	"the server comes back. Without, each refusal uses up one request, and once a\n"
	"connection has been refused for --timeout its requests left count as refused.\n"
	"\n"
	"A request sent on a reused keep-alive connection that the server closes before\n"
	"any byte of the response (it may have closed the idle connection just as the\n"
	"request left) is sent once more on a new connection, as HTTP allows for a GET:\n"
	"it counts once in requests, as ok or failed, and in retried. Dropped again, or\n"
	"without a new connection, it failed.\n"
	"\n"
	"Every request is \"GET PATH HTTP/1.1\" with Host, keep-alive, never\n"
	"\"Connection: close\": the client itself closes a connection it is done with.\n"
	"Summary: requests = ok + failed: the requests sent, and those that failed for\n"
	"want of a connection (connect, timeout). retried, refused: as above. responses:\n"
	"complete responses, whatever their status. bytes: their body bytes.\n"
	"connections: connections opened. elapsed: from the start until the last\n"
	"connection closed (--hold included). req/s = responses / elapsed. latency: from\n"
	"the first byte of a request sent (the first time, if retried) to the last byte\n"
	"of its response (--slow sending included), over every complete response;\n"
	"percentiles are within 0.4 %.\n"
	"Ctrl-C stops at once and prints the summary of the requests completed so far.\n"
	"Exit status: 0 every request ok, 1 some failed or refused (or interrupted),\n"
	"2 usage error.\n";

/* What getopt_long() returns for each long option. All are 256 or more, so when it
 * refuses an option, its optopt tells a letter (-x, below 256) from a long option. The
 * numeric options come first, in the order of numeric[]. */
enum {
	OPT_MAX_CLIENTS = 256,
	OPT_MAX_CONNS,
	OPT_REQUESTS,
	OPT_DURATION,
	OPT_SLOW,
	OPT_HOLD,
	OPT_TIMEOUT,
	OPT_QUIET,
	OPT_JSON,
	OPT_HELP,
};

/* The long options, the numeric ones first; a value is "--name=value" or "--name value". */
static const struct option long_options[] = {
	{ "max-clients", required_argument, NULL, OPT_MAX_CLIENTS },
	{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },
	{ "requests", required_argument, NULL, OPT_REQUESTS },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "slow", required_argument, NULL, OPT_SLOW },
	{ "hold", required_argument, NULL, OPT_HOLD },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* What a numeric option accepts. A value is stored in units of 1/scale of what the
 * user writes: times in seconds are stored in nanoseconds (scale NS), and only they
 * may have decimals, as many as scale has zeros (0.001 s: 1000000). */
struct bounds {
	uint64_t scale;     /* 1: a whole number */
	uint64_t min, max;  /* as stored */
};

/* The numeric options' bounds, in the order of their codes from OPT_MAX_CLIENTS (and
 * of long_options[], which has their names). */
static const struct bounds numeric[] = {
	{ 1, 1, MAX_CLIENTS },                  /* --max-clients */
	{ 1, 1, MAX_CONNS },                    /* --max-conns */
	{ 1, 1, MAX_REQUESTS },                 /* --requests */
	{ NS, NS / 1000, MAX_SECONDS * NS },    /* --duration */
	{ 1, 0, 1000 * MAX_SECONDS },           /* --slow, in milliseconds */
	{ NS, 0, MAX_SECONDS * NS },            /* --hold */
	{ NS, NS / 1000, MAX_SECONDS * NS },    /* --timeout */
};
_Static_assert(sizeof numeric / sizeof *numeric == OPT_TIMEOUT - OPT_MAX_CLIENTS + 1,
	       "one entry of numeric[] per numeric option");

/* Prints "client: <message> (see --help)" on stderr, one line; returns OPTS_USAGE. */
__attribute__((format(printf, 1, 2)))
static enum opts_rc usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("client: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see --help)\n", stderr);
	return OPTS_USAGE;
}

/* A digit, without the locale and sign traps of isdigit(char). */
static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads v, the value of option --name, within bounds b: digits, and when b has a
 * scale maybe a '.' and more digits ("0.25" seconds: 250000000 ns). Returns 0 and
 * *out, or -1 after a message naming the option, v and the range allowed. */
static int parse_number(const char *name, const char *v, const struct bounds *b,
			uint64_t *out)
{
	uint64_t whole = 0, frac = 0, digit = b->scale, n;
	const char *p = v;

	/* The loop stops once whole passes max: no bound here is near overflowing. */
	for (; is_digit(*p) && whole <= b->max / b->scale; p++)
		whole = whole * 10 + (uint64_t)(*p - '0');
	if (b->scale > 1 && p > v && *p == '.' && is_digit(p[1]))
		for (p++; is_digit(*p) && digit > 1; p++) {
			digit /= 10;
			frac += (uint64_t)(*p - '0') * digit;
		}
	n = whole * b->scale + frac;
	if (p > v && *p == '\0' && n >= b->min && n <= b->max) {
		*out = n;
		return 0;
	}
	/* %.16g: every bound exactly, without trailing zeros (1024, 0.001, 1000000) */
	usage_error("--%s=%s: expected %s from %.16g to %.16g%s", name, v,
		    b->scale > 1 ? "seconds" : "a whole number", (double)b->min / (double)b->scale,
		    (double)b->max / (double)b->scale, b->scale > 1 ? ", like 2 or 0.5" : "");
	return -1;
}

/* Reads the value of numeric option `code` into its place in o. */
static enum opts_rc set_number(struct opts *o, int code, const char *v)
{
	int i = code - OPT_MAX_CLIENTS;
	uint64_t n;

	if (parse_number(long_options[i].name, v, &numeric[i], &n) < 0)
		return OPTS_USAGE;
	switch (code) {
	case OPT_MAX_CLIENTS:
		o->clients = (unsigned)n;
		break;
	case OPT_MAX_CONNS:
		o->conns = (unsigned)n;
		break;
	case OPT_REQUESTS:
		o->requests = n;
		break;
	case OPT_DURATION:
		o->duration_ns = (int64_t)n;
		break;
	case OPT_SLOW:
		o->slow_ns = (int64_t)n * 1000000;
		break;
	case OPT_HOLD:
		o->hold_ns = (int64_t)n;
		break;
	case OPT_TIMEOUT:
		o->timeout_ns = (int64_t)n;
		break;
	}
	return OPTS_RUN;
}

/* Says what getopt_long() refused at argv[optind - 1]: an unknown option, or a value
 * given to an option that takes none ("--json=1"). */
static enum opts_rc refused(char **argv)
{
	if (optopt > 0 && optopt < OPT_MAX_CLIENTS)
		return usage_error("unknown option '-%c'", optopt);
	if (optopt >= OPT_MAX_CLIENTS)
		return usage_error("option '%s' takes no value", argv[optind - 1]);
	return usage_error("unknown option '%s'", argv[optind - 1]);
}

/* Handles one option as getopt_long() returned it, with its value in optarg. */
static enum opts_rc one_option(struct opts *o, int code, char **argv)
{
	switch (code) {
	case 'h':
	case OPT_HELP:
		fputs(usage_text, stdout);
		return OPTS_HELP;
	case 'q':
	case OPT_QUIET:
		o->quiet = 1;
		return OPTS_RUN;
	case OPT_JSON:
		o->json = 1;
		return OPTS_RUN;
	case ':':
		return usage_error("option %s needs a value", argv[optind - 1]);
	case '?':
		return refused(argv);
	}
	return set_number(o, code, optarg);
}

/* Turns the URLs into o->urls: the address to connect to and each request's bytes. */
static enum opts_rc set_urls(struct opts *o, const char *const *urls, size_t n)
{
	size_t bad;
	const char *why = url_set_init(&o->urls, urls, n, &bad);

	if (why == NULL)
		return OPTS_RUN;
	if (bad < n)
		return usage_error("bad URL '%s': %s", urls[bad], why);
	return usage_error("%s", why);
}

/* Fills o from argv: options anywhere (getopt_long() moves the URLs after them), and
 * "--" ends the options. */
enum opts_rc opts_parse(struct opts *o, int argc, char **argv)
{
	static const char *const default_url[] = { DEFAULT_URL };
	enum opts_rc rc = OPTS_RUN;
	int code;

	memset(o, 0, sizeof *o);
	o->clients = o->conns = 1;
	o->timeout_ns = 10 * NS;
	opterr = 0; /* we say what is wrong ourselves, in one line */
	while (rc == OPTS_RUN && (code = getopt_long(argc, argv, ":qh", long_options, NULL)) != -1)
		rc = one_option(o, code, argv);
	if (rc != OPTS_RUN)
		return rc;
	/* Without --requests: 1 per connection, or with --duration no limit (a timed run
	 * keeps its connections as long as it lasts). */
	if (o->requests == 0 && o->duration_ns == 0)
		o->requests = 1;
	if (optind == argc)
		return set_urls(o, default_url, 1);
	return set_urls(o, (const char *const *)argv + optind, (size_t)(argc - optind));
}

/* Frees what opts_parse() allocated, whatever it returned. */
void opts_free(struct opts *o)
{
	url_set_free(&o->urls);
}
