/* stats.c: counting requests, and the latency histogram behind the percentiles.
 *
 * Why a histogram and not the raw latencies: a --duration run at 100 000 requests a
 * second would keep (and send to the parent) hundreds of megabytes of numbers. The
 * histogram is a fixed 35 KiB whatever the run, costs no allocation per request, and
 * merging two of them is a sum. The price is precision: below 0.256 ms every
 * microsecond has its own bucket (exact); above, a percentile is the middle of a
 * bucket at most 0.8 % wide, so it is within 0.4 % of the true value. Min and max are
 * kept exactly on the side.
 */
#include "stats.h"

#include <time.h>

const char *const stats_err_name[E_COUNT] = {
	[E_CONNECT] = "connect",
	[E_RESET] = "reset",
	[E_CLOSED] = "closed",
	[E_TRUNCATED] = "truncated",
	[E_TIMEOUT] = "timeout",
	[E_BAD_RESPONSE] = "bad_response",
};

/* Latencies from 2^40 us (12 days) up share the last bucket. */
#define HIST_LIMIT (((uint64_t)1 << 40) - 1)

/* The monotonic clock in nanoseconds. */
int64_t stats_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The bucket of a latency of v us: halve v until it is under 2 * HIST_SUB; after k
 * halvings the bucket is k * HIST_SUB + what is left (so k = 0 is exact). */
static unsigned bucket_of(uint64_t v)
{
	unsigned k = 0;

	if (v > HIST_LIMIT)
		v = HIST_LIMIT;
	while (v >= 2 * HIST_SUB) {
		v >>= 1;
		k++;
	}
	return k * HIST_SUB + (unsigned)v;
}

/* The value a bucket stands for: the middle of the latencies it holds. */
static uint64_t bucket_value(unsigned b)
{
	unsigned k = b < 2 * HIST_SUB ? 0 : b / HIST_SUB - 1;
	uint64_t low = (uint64_t)(b - k * HIST_SUB) << k;
	uint64_t width = (uint64_t)1 << k;

	return low + (width - 1) / 2;
}

/* Counts one complete response: its status, body bytes and latency. */
void stats_response(struct stats *st, int status, uint64_t body, int64_t latency_ns)
{
	uint64_t us = latency_ns > 0 ? ((uint64_t)latency_ns + 500) / 1000 : 0;

	st->requests++;
	st->bytes += body;
	if (status >= 200 && status <= 399)
		st->ok++;
	else
		st->by_status[status]++;
	if (st->lat_count == 0 || us < st->lat_min)
		st->lat_min = us;
	if (us > st->lat_max)
		st->lat_max = us;
	st->lat_count++;
	st->lat_sum += us;
	st->hist[bucket_of(us)]++;
}

/* Counts one failed request that got no complete response. */
void stats_error(struct stats *st, enum stats_err kind)
{
	st->requests++;
	st->by_error[kind]++;
}

/* Counts n requests that were never sent: their connection was refused. They are
 * counted apart, not in requests: the server never saw them, so they say nothing of
 * how it answers, and a dead server must not look like a fast one (req/s). */
void stats_refused(struct stats *st, uint64_t n)
{
	st->refused += n;
}

/* Adds the counts of `from` to `into`; start and end become the span of both. */
void stats_merge(struct stats *into, const struct stats *from)
{
	size_t i;

	if (into->start_ns == 0 || from->start_ns < into->start_ns)
		into->start_ns = from->start_ns; /* 0: nothing merged yet */
	if (from->end_ns > into->end_ns)
		into->end_ns = from->end_ns;
	into->requests += from->requests;
	into->ok += from->ok;
	into->retried += from->retried;
	into->refused += from->refused;
	into->bytes += from->bytes;
	into->connections += from->connections;
	for (i = 0; i <= STATUS_MAX; i++)
		into->by_status[i] += from->by_status[i];
	for (i = 0; i < E_COUNT; i++)
		into->by_error[i] += from->by_error[i];
	if (from->lat_count > 0 && (into->lat_count == 0 || from->lat_min < into->lat_min))
		into->lat_min = from->lat_min;
	if (from->lat_max > into->lat_max)
		into->lat_max = from->lat_max;
	into->lat_count += from->lat_count;
	into->lat_sum += from->lat_sum;
	for (i = 0; i < HIST_BUCKETS; i++)
		into->hist[i] += from->hist[i];
	into->interrupted |= from->interrupted;
}

/* Failed requests: by status plus by error. */
uint64_t stats_failed(const struct stats *st)
{
	return st->requests - st->ok;
}

/* Complete responses, whatever their status: each has its latency counted. */
uint64_t stats_responses(const struct stats *st)
{
	return st->lat_count;
}

/* The latency under which `per_mille` thousandths of the responses fall (500: the
 * median, 990: p99), in microseconds; 0 when none. It is the value of the first bucket
 * where the running count reaches that share, kept within the exact min and max. */
uint64_t stats_percentile(const struct stats *st, unsigned per_mille)
{
	uint64_t rank, seen = 0, v;
	unsigned b;

	if (st->lat_count == 0)
		return 0;
	rank = (st->lat_count * per_mille + 999) / 1000; /* rounded up, in integers: no libm */
	if (rank < 1)
		rank = 1;
	for (b = 0; b < HIST_BUCKETS; b++) {
		seen += st->hist[b];
		if (seen >= rank)
			break;
	}
	v = b < HIST_BUCKETS ? bucket_value(b) : st->lat_max;
	if (v < st->lat_min)
		v = st->lat_min;
	if (v > st->lat_max)
		v = st->lat_max;
	return v;
}
