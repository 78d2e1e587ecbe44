/* die: the way every start-up error ends the program. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "die.h"

/* Print the message, with the errno text when fmt ends with ':', and exit. */
void die(int status, const char *fmt, ...)
{
	int err = errno;
	char msg[512], errbuf[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	size_t n = strlen(msg);
	if (n && msg[n - 1] == ':') {
		if (strerror_r(err, errbuf, sizeof errbuf) != 0)
			snprintf(errbuf, sizeof errbuf, "error %d", err);
		fprintf(stderr, "server: %s %s\n", msg, errbuf);
	} else {
		fprintf(stderr, "server: %s\n", msg);
	}
	exit(status);
}
