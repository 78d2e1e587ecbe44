/* opts.c: the command line of the load client: options, URLs, the request bytes.
 *
 * No getopt_long (it is GNU, not POSIX): long options are few and all alike,
 * "--name=value" or "--name value", so a table of names and one loop do it.
 */
#include "opts.h"

#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_URL "http://127.0.0.1:8080/"
#define MAX_CLIENTS 1024
#define MAX_CONNS 100000
#define MAX_REQUESTS 1000000000000000ULL /* 10^15: the digit loop cannot overflow */
#define MAX_SECONDS 1000000 /* 11 days: long enough for any lab */
#define NS 1000000000LL

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
	"Totals: without --duration the run makes exactly N x M x R requests: each of\n"
	"the N clients opens M connections and sends R requests on each. When a\n"
	"connection ends early (the server closes it, a request fails), the client\n"
	"opens another in its place for the requests left. With --duration the N x M\n"
	"connections send back to back until S seconds have passed (a connection is\n"
	"replaced after R requests, if R is given); responses still due are awaited.\n"
	"\n"
	"Each response is checked: status line, header fields, the whole body\n"
	"(Content-Length, chunked, or up to the close). A request is ok when its response\n"
	"is complete and its status 2xx or 3xx. Otherwise it failed, and is counted by\n"
	"status (404: 3) or by error:\n"
	"  refused       connection refused: nothing listens on that port\n"
	"  connect       no connection for another reason (out of sockets or local ports)\n"
	"  reset         the connection broke (reset by the server, read or write error)\n"
	"  closed        the server closed the connection before answering\n"
	"  truncated     the server closed the connection in the middle of a response\n"
	"  timeout       no connection, or no complete response, within --timeout\n"
	"  bad_response  malformed status line or header field, bad framing or chunk\n"
	"\n"
	"Every request is \"GET PATH HTTP/1.1\" with Host, keep-alive, never\n"
	"\"Connection: close\": the client itself closes a connection it is done with.\n"
	"Summary: requests = ok + failed. bytes: body bytes of the complete responses,\n"
	"whatever their status. connections: connections opened. elapsed: from the\n"
	"start until the last connection closed (--hold included). req/s = requests /\n"
	"elapsed. latency: from the first byte of a request sent to the last byte of\n"
	"its response (--slow sending included), over every complete response;\n"
	"percentiles are within 0.4 %.\n"
	"Ctrl-C stops at once and prints the summary of the requests completed so far.\n"
	"Exit status: 0 every request ok, 1 some failed (or interrupted), 2 usage error.\n";

/* The options that take a value, in the order of the usage text. */
enum value_opt { O_CLIENTS, O_CONNS, O_REQUESTS, O_DURATION, O_SLOW, O_HOLD, O_TIMEOUT, O_COUNT };
static const char *const value_opt_name[O_COUNT] = {
	"max-clients", "max-conns", "requests", "duration", "slow", "hold", "timeout",
};

/* The parts of one http:// URL; auth and path point into the URL string. */
struct url {
	const char *auth;    /* host[:port] as written: the Host header */
	size_t auth_len;
	char host[256];      /* without the [ ] of an IPv6 address */
	char port[6];        /* "80" when absent */
	const char *path;    /* up to a '#'; empty means "/" */
	size_t path_len;
};

/* Prints "client: <message>" and a hint on stderr; returns OPTS_USAGE. */
static enum opts_rc usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("client: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'client --help'.\n", stderr);
	return OPTS_USAGE;
}

/* Parses a whole number from min to max (digits only: no sign, no spaces). The loop
 * stops once n passes max, so max <= 10^18 keeps n * 10 + 9 from overflowing. */
static int parse_count(const char *name, const char *v, uint64_t min, uint64_t max,
		       uint64_t *out)
{
	uint64_t n = 0;
	const char *p;

	for (p = v; *p >= '0' && *p <= '9' && n <= max; p++)
		n = n * 10 + (uint64_t)(*p - '0');
	if (p == v || *p != '\0' || n < min || n > max) {
		usage_error("--%s=%s: expected a whole number from %llu to %llu", name, v,
			    (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = n;
	return 0;
}

/* Parses seconds with up to 9 decimals ("2", "0.25") into nanoseconds, in integers. */
static int parse_seconds(const char *name, const char *v, int64_t min_ns, int64_t *out)
{
	int64_t s = 0, frac = 0, scale = NS;
	const char *p = v;

	for (; *p >= '0' && *p <= '9' && s <= MAX_SECONDS; p++)
		s = s * 10 + (*p - '0');
	if (p > v && *p == '.' && p[1] != '\0')
		for (p++; *p >= '0' && *p <= '9' && scale > 1; p++) {
			scale /= 10;
			frac += (*p - '0') * scale;
		}
	if (p == v || *p != '\0' || s > MAX_SECONDS || s * NS + frac < min_ns) {
		usage_error("--%s=%s: expected seconds from %s to %d, like 2 or 0.5", name, v,
			    min_ns > 0 ? "0.001" : "0", MAX_SECONDS);
		return -1;
	}
	*out = s * NS + frac;
	return 0;
}

/* Stores the value of one option; returns -1 after a usage message. */
static int set_value(struct opts *o, enum value_opt which, const char *v)
{
	const char *name = value_opt_name[which];
	uint64_t n;

	switch (which) {
	case O_CLIENTS:
		if (parse_count(name, v, 1, MAX_CLIENTS, &n) < 0)
			return -1;
		o->clients = (unsigned)n;
		return 0;
	case O_CONNS:
		if (parse_count(name, v, 1, MAX_CONNS, &n) < 0)
			return -1;
		o->conns = (unsigned)n;
		return 0;
	case O_REQUESTS:
		return parse_count(name, v, 1, MAX_REQUESTS, &o->requests);
	case O_SLOW:
		if (parse_count(name, v, 0, 1000LL * MAX_SECONDS, &n) < 0)
			return -1;
		o->slow_ns = (int64_t)n * 1000000;
		return 0;
	case O_DURATION:
		return parse_seconds(name, v, 1000000, &o->duration_ns);
	case O_HOLD:
		return parse_seconds(name, v, 0, &o->hold_ns);
	case O_TIMEOUT:
		return parse_seconds(name, v, 1000000, &o->timeout_ns);
	case O_COUNT:
		break;
	}
	return -1;
}

/* Handles "--name=value" or "--name value" at argv[*i] (moving *i past the value). */
static int long_option(struct opts *o, int argc, char **argv, int *i, int *requests_set)
{
	const char *name = argv[*i] + 2, *eq = strchr(name, '='), *v;
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	int k;

	for (k = 0; k < O_COUNT; k++)
		if (strlen(value_opt_name[k]) == len && strncmp(name, value_opt_name[k], len) == 0)
			break;
	if (k == O_COUNT) {
		usage_error("unknown option '%s'", argv[*i]);
		return -1;
	}
	if (eq != NULL)
		v = eq + 1;
	else if (*i + 1 < argc)
		v = argv[++*i];
	else {
		usage_error("option --%s needs a value", value_opt_name[k]);
		return -1;
	}
	*requests_set |= k == O_REQUESTS;
	return set_value(o, (enum value_opt)k, v);
}

/* Checks that p[0..n) are visible ASCII characters (no space, no control). */
static int visible(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] <= ' ' || p[i] >= 0x7f)
			return 0;
	return 1;
}

/* Reads the ":port" after the host, if any, into u->port. */
static const char *parse_port(struct url *u, const char *p, const char *end)
{
	unsigned long port = 0;
	const char *d;

	if (p == end) {
		strcpy(u->port, "80");
		return NULL;
	}
	if (*p != ':')
		return "unexpected characters after the host";
	for (d = p + 1; d < end && *d >= '0' && *d <= '9' && port <= 65535; d++)
		port = port * 10 + (unsigned long)(*d - '0');
	if (d == p + 1 || d != end || port == 0 || port > 65535)
		return "the port must be a number from 1 to 65535";
	snprintf(u->port, sizeof u->port, "%lu", port);
	return NULL;
}

/* Splits an http:// URL; returns NULL, or what is wrong with it. */
static const char *parse_url(const char *s, struct url *u)
{
	const char *a, *host, *host_end, *end;

	if (strncasecmp(s, "http://", 7) != 0)
		return "only http:// URLs are supported";
	a = host = s + 7;
	u->auth = a;
	u->auth_len = strcspn(a, "/?#");
	end = a + u->auth_len;
	if (memchr(a, '@', u->auth_len) != NULL)
		return "user@host is not supported";
	if (!visible(a, u->auth_len))
		return "spaces or control characters in the host";
	if (*a == '[') { /* [IPv6 address] */
		host = a + 1;
		host_end = memchr(a, ']', u->auth_len);
		if (host_end == NULL)
			return "missing ']' after the IPv6 address";
	} else {
		host_end = memchr(a, ':', u->auth_len);
		host_end = host_end ? host_end : end;
	}
	if (host_end == host || (size_t)(host_end - host) >= sizeof u->host)
		return host_end == host ? "no host" : "host name too long";
	memcpy(u->host, host, (size_t)(host_end - host));
	u->host[host_end - host] = '\0';
	u->path = end;
	u->path_len = strcspn(end, "#"); /* the fragment is never sent */
	if (!visible(u->path, u->path_len))
		return "spaces or control characters in the path (percent-encode them)";
	return parse_port(u, host_end + (*a == '['), end);
}

/* Looks up host and port into o->addr. IPv4 first: "localhost" may list ::1 first,
 * and our servers listen on 127.0.0.1 by default. */
static const char *resolve(struct opts *o, const struct url *u)
{
	static const int family[] = { AF_INET, AF_UNSPEC };
	struct addrinfo hints, *res = NULL;
	size_t i;

	for (i = 0; i < 2 && res == NULL; i++) {
		memset(&hints, 0, sizeof hints);
		hints.ai_family = family[i];
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV;
		if (getaddrinfo(u->host, u->port, &hints, &res) != 0)
			res = NULL;
	}
	if (res == NULL)
		return "cannot resolve the host name";
	memcpy(&o->addr, res->ai_addr, res->ai_addrlen);
	o->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return NULL;
}

/* Builds the bytes of the request for URL u, once for the whole run. */
static int build_request(struct target *t, const struct url *u)
{
	static const char fmt[] = "GET %s%.*s HTTP/1.1\r\nHost: %.*s\r\n"
				  "User-Agent: staged-httpd-client\r\nAccept: */*\r\n\r\n";
	const char *slash = u->path_len > 0 && u->path[0] == '/' ? "" : "/";
	int n = snprintf(NULL, 0, fmt, slash, (int)u->path_len, u->path, (int)u->auth_len,
			 u->auth);

	t->req = n > 0 ? malloc((size_t)n + 1) : NULL;
	if (t->req == NULL)
		return -1;
	snprintf(t->req, (size_t)n + 1, fmt, slash, (int)u->path_len, u->path,
		 (int)u->auth_len, u->auth);
	t->len = (size_t)n;
	return 0;
}

/* Turns the URLs into targets: all must name the first one's host and port. */
static enum opts_rc set_targets(struct opts *o, const char **urls, size_t n)
{
	struct url first, u;
	const char *why;
	size_t i;

	o->targets = calloc(n, sizeof *o->targets);
	if (o->targets == NULL)
		return usage_error("out of memory");
	for (i = 0; i < n; i++) {
		why = parse_url(urls[i], i == 0 ? &first : &u);
		if (why == NULL && i == 0)
			why = resolve(o, &first);
		if (why == NULL && i > 0 &&
		    (strcasecmp(u.host, first.host) != 0 || strcmp(u.port, first.port) != 0))
			why = "every URL must name the same host and port as the first";
		if (why != NULL)
			return usage_error("bad URL '%s': %s", urls[i], why);
		o->targets[i].url = urls[i];
		if (build_request(&o->targets[i], i == 0 ? &first : &u) < 0)
			return usage_error("out of memory");
		o->ntargets++;
	}
	return OPTS_RUN;
}

/* Frees what opts_parse() allocated, whatever it returned. */
void opts_free(struct opts *o)
{
	size_t i;

	for (i = 0; i < o->ntargets; i++)
		free(o->targets[i].req);
	free(o->targets);
	o->targets = NULL;
	o->ntargets = 0;
}

/* Handles one argument starting with '-'; returns 1 for --help, -1 on error. */
static int option(struct opts *o, int argc, char **argv, int *i, int *requests_set)
{
	const char *a = argv[*i];

	if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
		return 1;
	if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
		o->quiet = 1;
	else if (strcmp(a, "--json") == 0)
		o->json = 1;
	else if (strncmp(a, "--", 2) == 0)
		return long_option(o, argc, argv, i, requests_set);
	else {
		usage_error("unknown option '%s'", a);
		return -1;
	}
	return 0;
}

/* Fills o from argv: options anywhere, URLs in between, "--" ends the options. */
enum opts_rc opts_parse(struct opts *o, int argc, char **argv)
{
	static const char *default_url[] = { DEFAULT_URL };
	const char **urls = calloc((size_t)argc + 1, sizeof *urls);
	int i, rc, only_urls = 0, requests_set = 0;
	size_t n = 0;

	memset(o, 0, sizeof *o);
	o->clients = o->conns = 1;
	o->requests = 1;
	o->timeout_ns = 10 * NS;
	if (urls == NULL)
		return usage_error("out of memory");
	for (i = 1; i < argc; i++) {
		if (only_urls || argv[i][0] != '-' || argv[i][1] == '\0') {
			urls[n++] = argv[i];
			continue;
		}
		if (strcmp(argv[i], "--") == 0) {
			only_urls = 1;
			continue;
		}
		rc = option(o, argc, argv, &i, &requests_set);
		if (rc != 0) {
			free(urls);
			if (rc > 0)
				fputs(usage_text, stdout);
			return rc > 0 ? OPTS_HELP : OPTS_USAGE;
		}
	}
	if (o->duration_ns > 0 && !requests_set)
		o->requests = 0; /* a timed run keeps its connections as long as it lasts */
	rc = n > 0 ? set_targets(o, urls, n) : set_targets(o, default_url, 1);
	free(urls);
	return (enum opts_rc)rc;
}
