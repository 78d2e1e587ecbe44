/* log: a line per request on stderr, the access log file (-l), and the exit summary. */
#ifndef LOG_H
#define LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

#include "http.h"
#include "server.h"

/* What one request leaves in the logs. */
struct log_entry {
	const char *addr;	/* the client's address, "127.0.0.1" */
	const char *peer;	/* address and port, "127.0.0.1:40522" */
	struct slice line;	/* the request line as received (may be empty) */
	struct slice target, referer, user_agent;
	enum status status;
	long long bytes;	/* body bytes sent */
	time_t when;
};

int log_open(struct server *srv);
void log_close(struct server *srv);
void log_request(struct server *srv, const struct log_entry *e);
void log_escape(struct buf *b, struct slice s, size_t max);	/* controls, quotes as \xHH */
void log_set_thread(unsigned n);
void log_worker(char *out, size_t size);
void log_summary(struct server *srv);
bool log_stat(struct server *srv, struct stat *st);

#endif
