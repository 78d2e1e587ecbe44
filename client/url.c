/* url.c: the URLs of a run: http://HOST[:PORT][/PATH], split, checked, the host looked
 * up once, and the bytes of each GET request built once for the whole run.
 */
#include "url.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The parts of one http:// URL; auth and path point into the URL string. */
struct url {
	const char *auth;    /* host[:port] as written: the Host header */
	size_t auth_len;
	char host[256];      /* without the [ ] of an IPv6 address */
	char port[6];        /* "80" when absent */
	const char *path;    /* up to a '#'; empty means "/" */
	size_t path_len;
};

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

/* Looks up host and port into s->addr. IPv4 first: "localhost" may list ::1 first,
 * and our servers listen on 127.0.0.1 by default. */
static const char *resolve(struct url_set *s, const struct url *u)
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
	memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
	s->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return NULL;
}

/* Builds the bytes of the request for URL u, once for the whole run. */
static int build_request(struct url_target *t, const struct url *u)
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

/* Checks one URL (the first one is looked up, the others must name its host and
 * port); returns NULL, or what is wrong with it. */
static const char *check_url(struct url_set *s, const char *url, struct url *first,
			     struct url *u)
{
	const char *why = parse_url(url, u);

	if (why != NULL)
		return why;
	if (u == first)
		return resolve(s, first);
	if (strcasecmp(u->host, first->host) != 0 || strcmp(u->port, first->port) != 0)
		return "every URL must name the same host and port as the first";
	return NULL;
}

/* Fills s from urls[0..n); returns NULL, or what is wrong with urls[*bad]. */
const char *url_set_init(struct url_set *s, const char *const *urls, size_t n, size_t *bad)
{
	struct url first, u;
	const char *why;
	size_t i;

	*bad = n;
	s->targets = calloc(n, sizeof *s->targets);
	if (s->targets == NULL)
		return "out of memory";
	for (i = 0; i < n; i++) {
		struct url *cur = i == 0 ? &first : &u;

		why = check_url(s, urls[i], &first, cur);
		if (why != NULL) {
			*bad = i;
			return why;
		}
		s->targets[i].url = urls[i];
		if (build_request(&s->targets[i], cur) < 0)
			return "out of memory";
		s->ntargets++;
	}
	return NULL;
}

/* Writes where every request goes, as numbers: "127.0.0.1:8080" or "[::1]:8080" (the
 * address the host name was resolved to, which is the one that refuses or answers). */
void url_set_where(const struct url_set *s, char *buf, size_t size)
{
	char host[64], port[8]; /* an IPv6 address takes 45 characters at most */

	if (getnameinfo((const struct sockaddr *)&s->addr, s->addrlen, host, sizeof host, port,
			sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(buf, size, "%s", s->targets[0].url);
	else if (s->addr.ss_family == AF_INET6)
		snprintf(buf, size, "[%s]:%s", host, port);
	else
		snprintf(buf, size, "%s:%s", host, port);
}

/* Frees what url_set_init() allocated, whatever it returned. */
void url_set_free(struct url_set *s)
{
	size_t i;

	for (i = 0; i < s->ntargets; i++)
		free(s->targets[i].req);
	free(s->targets);
	s->targets = NULL;
	s->ntargets = 0;
}
