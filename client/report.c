/* report.c: what the client prints: the plan before the run, the summary after it.
 *
 * Text (default, and -q without the plan line):
 *
 *   requests:    100
 *   ok:          97
 *   failed:      3  (404: 2, timeout: 1)
 *   retried:     1
 *   refused:     0
 *   responses:   99
 *   bytes:       61500
 *   connections: 10
 *   elapsed:     0.052 s
 *   req/s:       1903.8
 *   MiB/s:       1.13
 *   latency ms:  min 0.051  mean 0.260  p50 0.110  p90 0.201  p99 0.905  max 3.100
 *
 * JSON (--json): the same numbers in one object, see report_json().
 */
#include "report.h"

#include <inttypes.h>

/* Seconds from nanoseconds. */
static double secs(int64_t ns)
{
	return (double)ns / 1e9;
}

/* Milliseconds from microseconds. */
static double ms(uint64_t us)
{
	return (double)us / 1e3;
}

/* count per second over the whole run (0 for a run too short to measure). */
static double rate(const struct stats *st, uint64_t count)
{
	int64_t ns = st->end_ns - st->start_ns;

	return ns > 0 ? (double)count / secs(ns) : 0.0;
}

/* One line saying what the run will do. */
void report_plan(const struct opts *o, FILE *f)
{
	fprintf(f, "client: %u client%s x %u connection%s", o->clients, o->clients == 1 ? "" : "s",
		o->conns, o->conns == 1 ? "" : "s");
	if (o->duration_ns == 0)
		fprintf(f, " x %" PRIu64 " request%s = %" PRIu64 " in all", o->requests,
			o->requests == 1 ? "" : "s", (uint64_t)o->clients * o->conns * o->requests);
	else if (o->requests == 0)
		fprintf(f, " for %g s, keep-alive", secs(o->duration_ns));
	else
		fprintf(f, " for %g s, %" PRIu64 " requests per connection", secs(o->duration_ns),
			o->requests);
	if (o->slow_ns > 0)
		fprintf(f, ", 1 byte every %g ms", (double)o->slow_ns / 1e6);
	if (o->hold_ns > 0)
		fprintf(f, ", held %g s", secs(o->hold_ns));
	fprintf(f, ", GET %s%s\n", o->urls.targets[0].url, o->urls.ntargets > 1 ? " ..." : "");
}

/* "404: 2, timeout: 1": the failures by status, then by error. */
static void failures_text(const struct stats *st, FILE *f)
{
	const char *sep = "";
	int i;

	for (i = STATUS_MIN; i <= STATUS_MAX; i++)
		if (st->by_status[i] > 0) {
			fprintf(f, "%s%d: %" PRIu64, sep, i, st->by_status[i]);
			sep = ", ";
		}
	for (i = 0; i < E_COUNT; i++)
		if (st->by_error[i] > 0) {
			fprintf(f, "%s%s: %" PRIu64, sep, stats_err_name[i], st->by_error[i]);
			sep = ", ";
		}
}

/* One latency figure of the summary. */
struct latency {
	const char *name;
	double ms;
};
#define LATENCIES 6

/* The latency figures in the order they are printed: min, mean, p50, p90, p99, max. */
static void latencies(const struct stats *st, struct latency lat[LATENCIES])
{
	double mean = st->lat_count ? (double)st->lat_sum / (double)st->lat_count : 0.0;

	lat[0] = (struct latency){ "min", ms(st->lat_min) };
	lat[1] = (struct latency){ "mean", mean / 1e3 };
	lat[2] = (struct latency){ "p50", ms(stats_percentile(st, 500)) };
	lat[3] = (struct latency){ "p90", ms(stats_percentile(st, 900)) };
	lat[4] = (struct latency){ "p99", ms(stats_percentile(st, 990)) };
	lat[5] = (struct latency){ "max", ms(st->lat_max) };
}

/* The summary, one "name: value" per line. */
void report_text(const struct opts *o, const struct stats *st, FILE *f)
{
	struct latency lat[LATENCIES];
	int i;

	(void)o;
	fprintf(f, "requests:    %" PRIu64 "\n", st->requests);
	fprintf(f, "ok:          %" PRIu64 "\n", st->ok);
	fprintf(f, "failed:      %" PRIu64, stats_failed(st));
	if (stats_failed(st) > 0) {
		fputs("  (", f);
		failures_text(st, f);
		fputc(')', f);
	}
	fprintf(f, "\nretried:     %" PRIu64 "\n", st->retried);
	fprintf(f, "refused:     %" PRIu64 "\n", st->refused);
	fprintf(f, "responses:   %" PRIu64 "\n", stats_responses(st));
	fprintf(f, "bytes:       %" PRIu64 "\n", st->bytes);
	fprintf(f, "connections: %" PRIu64 "\n", st->connections);
	fprintf(f, "elapsed:     %.3f s\n", secs(st->end_ns - st->start_ns));
	fprintf(f, "req/s:       %.1f\n", rate(st, stats_responses(st)));
	fprintf(f, "MiB/s:       %.2f\n", rate(st, st->bytes) / 1048576.0);
	latencies(st, lat);
	fputs("latency ms: ", f);
	for (i = 0; i < LATENCIES; i++)
		fprintf(f, " %s %.3f", lat[i].name, lat[i].ms);
	fputc('\n', f);
	if (st->interrupted)
		fputs("interrupted: the totals cover the requests completed before the stop\n", f);
}

/* Writes s as a JSON string (URLs are plain ASCII, but quotes and backslashes may be). */
static void json_string(const char *s, FILE *f)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* "failed_by_status": {"404": 2}, "failed_by_error": {every kind, 0 included} */
static void failures_json(const struct stats *st, FILE *f)
{
	const char *sep = "";
	int i;

	fputs("\"failed_by_status\": {", f);
	for (i = STATUS_MIN; i <= STATUS_MAX; i++)
		if (st->by_status[i] > 0) {
			fprintf(f, "%s\"%d\": %" PRIu64, sep, i, st->by_status[i]);
			sep = ", ";
		}
	fputs("}, \"failed_by_error\": {", f);
	for (i = 0; i < E_COUNT; i++)
		fprintf(f, "%s\"%s\": %" PRIu64, i ? ", " : "", stats_err_name[i], st->by_error[i]);
	fputs("}", f);
}

/* The settings of the run, after the results: url(s), clients, conns, ... */
static void settings_json(const struct opts *o, FILE *f)
{
	size_t i;

	fputs("\"url\": ", f);
	json_string(o->urls.targets[0].url, f);
	if (o->urls.ntargets > 1) {
		fputs(", \"urls\": [", f);
		for (i = 0; i < o->urls.ntargets; i++) {
			fputs(i ? ", " : "", f);
			json_string(o->urls.targets[i].url, f);
		}
		fputc(']', f);
	}
	fprintf(f, ", \"clients\": %u, \"conns\": %u, \"requests_per_conn\": ", o->clients, o->conns);
	if (o->requests > 0)
		fprintf(f, "%" PRIu64, o->requests);
	else
		fputs("null", f);
	if (o->duration_ns > 0)
		fprintf(f, ", \"duration_s\": %g", secs(o->duration_ns));
	else
		fputs(", \"duration_s\": null", f);
}

/* The summary as one JSON object on one line. */
void report_json(const struct opts *o, const struct stats *st, FILE *f)
{
	struct latency lat[LATENCIES];
	int i;

	fprintf(f, "{\"requests\": %" PRIu64 ", \"ok\": %" PRIu64 ", \"failed\": %" PRIu64 ", ",
		st->requests, st->ok, stats_failed(st));
	failures_json(st, f);
	fprintf(f, ", \"retried\": %" PRIu64 ", \"refused\": %" PRIu64 ", \"responses\": %" PRIu64,
		st->retried, st->refused, stats_responses(st));
	fprintf(f, ", \"bytes\": %" PRIu64 ", \"connections\": %" PRIu64, st->bytes,
		st->connections);
	fprintf(f, ", \"elapsed_s\": %.6f, \"rps\": %.1f, \"mib_s\": %.3f", secs(st->end_ns - st->start_ns),
		rate(st, stats_responses(st)), rate(st, st->bytes) / 1048576.0);
	latencies(st, lat);
	fputs(", \"latency_ms\": {", f);
	for (i = 0; i < LATENCIES; i++)
		fprintf(f, "%s\"%s\": %.3f", i ? ", " : "", lat[i].name, lat[i].ms);
	fprintf(f, "}, \"interrupted\": %s, ", st->interrupted ? "true" : "false");
	settings_json(o, f);
	fputs("}\n", f);
}
