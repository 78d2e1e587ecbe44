/* url.h: the URLs of a run: checked, their host looked up, each turned into the bytes
 * of its request once for the whole run. */
#ifndef CLIENT_URL_H
#define CLIENT_URL_H

#include <stddef.h>
#include <sys/socket.h>

/* One URL and the bytes of its request, sent as they are every time. */
struct url_target {
	const char *url;  /* as given on the command line */
	char *req;
	size_t len;
};

/* Where every request goes, and what is requested there, in turn. */
struct url_set {
	struct sockaddr_storage addr; /* the host and port of every URL */
	socklen_t addrlen;
	struct url_target *targets;   /* one per URL */
	size_t ntargets;
};

/* Fills s from urls[0..n), which must all name the first one's host and port. Returns
 * NULL, or what is wrong with urls[*bad] (*bad == n: out of memory). */
const char *url_set_init(struct url_set *s, const char *const *urls, size_t n, size_t *bad);

/* Writes "HOST:PORT" of s->addr, in numbers ("[::1]:8080" for IPv6), into buf. */
void url_set_where(const struct url_set *s, char *buf, size_t size);

/* Frees what url_set_init() allocated, whatever it returned. */
void url_set_free(struct url_set *s);

#endif
