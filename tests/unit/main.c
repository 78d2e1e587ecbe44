/* Unit tests of common/ (and of 05-watch's inject.c): runs every suite, prints
 * failures, then the totals. */
#include <stdarg.h>
#include <stdio.h>

#include "check.h"

static int passed, failed;

/* Count one case; print it when it failed, with what was expected. */
bool check(bool ok, const char *suite, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		passed++;
		return true;
	}
	failed++;
	printf("FAIL %s: %s: ", suite, name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return false;
}

int main(void)
{
	test_http();
	test_path();
	test_file();
	test_buf();
	test_text();
	test_sock();
	test_live();
	test_history();
	test_options();
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
