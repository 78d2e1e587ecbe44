/* sock_names(): the peer's address as the logs, /_/info and /_/history show it. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "check.h"
#include "sock.h"

static const struct {
	int family;
	const char *ip;
	unsigned port, scope;
	const char *addr, *peer;
} cases[] = {
	{ AF_INET, "127.0.0.1", 40522, 0, "127.0.0.1", "127.0.0.1:40522" },
	{ AF_INET, "0.0.0.0", 0, 0, "0.0.0.0", "0.0.0.0:0" },
	{ AF_INET, "255.10.0.9", 65535, 0, "255.10.0.9", "255.10.0.9:65535" },
	{ AF_INET6, "::1", 8080, 0, "::1", "[::1]:8080" },
	{ AF_INET6, "::ffff:127.0.0.1", 80, 0, "::ffff:127.0.0.1", "[::ffff:127.0.0.1]:80" },
	{ AF_INET6, "2001:db8::ff00:42:8329", 443, 0, "2001:db8::ff00:42:8329", "[2001:db8::ff00:42:8329]:443" },
	{ AF_INET6, "fe80::1", 8080, 2, "fe80::1%2", "[fe80::1%2]:8080" },	/* link-local: its zone */
	{ AF_UNIX, NULL, 0, 0, "?", "?:?" },	/* not an IP peer: never happens, but defined */
};

void test_sock(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof ss;
		char addr[64], peer[80];

		memset(&ss, 0, sizeof ss);
		ss.ss_family = (sa_family_t)cases[i].family;
		if (cases[i].family == AF_INET) {
			struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
			inet_pton(AF_INET, cases[i].ip, &v4->sin_addr);
			v4->sin_port = htons((in_port_t)cases[i].port);
			len = sizeof *v4;
		} else if (cases[i].family == AF_INET6) {
			struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
			inet_pton(AF_INET6, cases[i].ip, &v6->sin6_addr);
			v6->sin6_port = htons((in_port_t)cases[i].port);
			v6->sin6_scope_id = cases[i].scope;
			len = sizeof *v6;
		}
		sock_names((struct sockaddr *)&ss, len, addr, sizeof addr, peer, sizeof peer);
		check(strcmp(addr, cases[i].addr) == 0 && strcmp(peer, cases[i].peer) == 0, "sock_names",
		      cases[i].peer, "got %s and %s", addr, peer);
	}
}
