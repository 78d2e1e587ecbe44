/* check: the smallest test harness. Each suite walks a table of cases and calls
 * check() once per case; main() prints "N passed, N failed" last. */
#ifndef CHECK_H
#define CHECK_H

#include <stdbool.h>

bool check(bool ok, const char *suite, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

void test_http(void);
void test_path(void);
void test_file(void);
void test_buf(void);
void test_text(void);
void test_sock(void);
void test_live(void);
void test_history(void);
void test_options(void);

#endif
