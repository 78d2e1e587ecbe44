/* stats.h: what one client process counts, and how the parent adds the counts up.
 *
 * Each child fills one struct stats and writes it whole down a pipe to the parent
 * (same program, same layout: the raw bytes are a fine format). The parent merges
 * them with stats_merge() and computes percentiles over the merged histogram, so the
 * percentiles are over every request of every child, not an average of averages.
 */
#ifndef CLIENT_STATS_H
#define CLIENT_STATS_H

#include <stdint.h>

/* Why a request failed when no complete response came back. A connection the server
 * refused is not among them: no request went out, and it is counted apart (refused). */
enum stats_err {
	E_CONNECT,      /* no connection, not refused: no socket, no local port */
	E_RESET,        /* the connection broke: reset by the peer, a read/write error */
	E_CLOSED,       /* the server closed before sending a byte of the response */
	E_TRUNCATED,    /* the server closed in the middle of the response */
	E_TIMEOUT,      /* no connection or no complete response within --timeout */
	E_BAD_RESPONSE, /* malformed status line, header, framing or chunk */
	E_COUNT
};

/* The name of each error kind, as printed in the summary and used as a JSON key. */
extern const char *const stats_err_name[E_COUNT];

/* Status codes are three digits, 100 to 599 (anything else is a bad response). */
#define STATUS_MIN 100
#define STATUS_MAX 599

/* Latency histogram: values in microseconds. Below 2 * HIST_SUB each value has its own
 * bucket; above, every power of two is cut into HIST_SUB buckets, so a bucket is never
 * wider than 1/HIST_SUB of its values (0.8 %). 34 powers of two reach 2^40 us (12 days). */
#define HIST_SUB 128
#define HIST_BUCKETS (HIST_SUB * 34)

/* The counts of one client process, or of all of them once merged. */
struct stats {
	int64_t start_ns, end_ns;   /* CLOCK_MONOTONIC: the same clock in every process */
	uint64_t requests;          /* ok + failed: sent, or given up for want of a connection */
	uint64_t ok;                /* complete responses with status 2xx or 3xx */
	uint64_t retried;           /* requests sent again after a reused connection closed */
	uint64_t refused;           /* requests not sent: the server refused their connection */
	uint64_t bytes;             /* body bytes received, of every complete response */
	uint64_t connections;       /* connections established */
	uint64_t by_status[STATUS_MAX + 1]; /* failed requests by status (complete, not 2xx/3xx) */
	uint64_t by_error[E_COUNT]; /* failed requests without a complete response */
	uint64_t lat_count;         /* complete responses, whatever their status */
	uint64_t lat_min, lat_max;  /* exact, in microseconds */
	uint64_t lat_sum;
	uint64_t hist[HIST_BUCKETS];
	int interrupted;            /* stopped by a signal before the end */
};

/* The monotonic clock in nanoseconds. */
int64_t stats_clock_ns(void);

/* Counts one complete response: its status, body bytes and latency. */
void stats_response(struct stats *st, int status, uint64_t body, int64_t latency_ns);

/* Counts one failed request that got no complete response. */
void stats_error(struct stats *st, enum stats_err kind);

/* Counts n requests that were never sent: their connection was refused. */
void stats_refused(struct stats *st, uint64_t n);

/* Adds the counts of `from` to `into`; start/end become the span of both (a zeroed
 * `into` takes those of `from`). */
void stats_merge(struct stats *into, const struct stats *from);

/* Failed requests: by status plus by error. */
uint64_t stats_failed(const struct stats *st);

/* Complete responses, whatever their status: what req/s counts. */
uint64_t stats_responses(const struct stats *st);

/* The latency under which per_mille / 1000 of the responses fall, in microseconds
 * (500: the median, 990: p99, 1000: the max); 0 when there was no response. */
uint64_t stats_percentile(const struct stats *st, unsigned per_mille);

#endif
