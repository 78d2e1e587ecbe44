/* report.h: what the client prints: the plan before the run, the summary after it. */
#ifndef CLIENT_REPORT_H
#define CLIENT_REPORT_H

#include <stdio.h>

#include "opts.h"
#include "stats.h"

/* One line saying what the run will do (not with -q or --json). */
void report_plan(const struct opts *o, FILE *f);

/* The summary, one "name: value" per line, easy to read and to grep. */
void report_text(const struct opts *o, const struct stats *st, FILE *f);

/* The summary as one JSON object on one line. */
void report_json(const struct opts *o, const struct stats *st, FILE *f);

#endif
