/* buf: a growable byte buffer, the one way common/ builds text (headers, pages). */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>

struct buf {
	char *data;
	size_t len, cap;
	int failed;		/* an allocation failed: the content is incomplete */
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);			/* empty it, keep the memory */
char *buf_reserve(struct buf *b, size_t n);	/* room for n more bytes, or NULL */
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
/* Lists of strings end with NULL: POSIX makes it a (void *)0, which va_arg() may read
 * as a char pointer (C11 7.16.1.1). */
void buf_cat(struct buf *b, ...);		/* strings, up to a NULL */
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_html(struct buf *b, const char *s, size_t n);	/* HTML-escaped */
void buf_url(struct buf *b, const char *s, size_t n);	/* percent-encoded path */
void buf_url_query(struct buf *b, const char *s, size_t n);	/* a query, made a valid URI part */

/* Short text without printf(), for what every request builds: printf() is a large
 * piece of the C library, and each of its pages costs a child of 03-fork a page fault
 * the first time it is touched (see buf_cat() in buf.c). */
enum { NUM_TEXT_LEN = 24 };	/* an unsigned long long in decimal, and the NUL */
void text_cat(char *out, size_t size, ...);	/* strings, up to a NULL, cut to fit */
const char *num_text(char out[NUM_TEXT_LEN], unsigned long long n, unsigned base);

#endif
