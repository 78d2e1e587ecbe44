/* buf: a growable byte buffer. Every append either succeeds or marks the buffer
 * failed (out of memory), so callers check once at the end instead of at each step. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Make an empty buffer that owns no memory yet. */
void buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
}

/* Release the memory. */
void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

/* Empty the buffer but keep its memory for the next use. */
void buf_reset(struct buf *b)
{
	b->len = 0;
	b->failed = 0;
}

/* Make room for n more bytes (plus a NUL); returns where they go, or NULL. */
char *buf_reserve(struct buf *b, size_t n)
{
	if (b->failed)
		return NULL;
	if (b->cap - b->len <= n) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap - b->len <= n)
			cap *= 2;
		char *p = realloc(b->data, cap);
		if (!p) {
			b->failed = 1;
			return NULL;
		}
		b->data = p;
		b->cap = cap;
	}
	return b->data + b->len;
}

/* Append n bytes; the content stays NUL-terminated. */
void buf_append(struct buf *b, const void *p, size_t n)
{
	char *dst = buf_reserve(b, n);
	if (!dst || n == 0)
		return;
	memcpy(dst, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Append a C string. */
void buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

/* Append the strings that follow, up to a NULL. With num_text(), what a response head
 * is built with: printf() is a large piece of the C library, and each of its pages a
 * child of 03-fork touches first costs that child a page fault (docs/notes/03-fork.md, §9). */
void buf_cat(struct buf *b, ...)
{
	va_list ap;
	const char *s;

	va_start(ap, b);
	while ((s = va_arg(ap, const char *)))
		buf_puts(b, s);
	va_end(ap);
}

/* The same into a fixed array of size bytes: cut to fit, always terminated. */
void text_cat(char *out, size_t size, ...)
{
	va_list ap;
	const char *s;
	size_t len = 0;

	va_start(ap, size);
	while ((s = va_arg(ap, const char *)))
		for (; *s && len + 1 < size; s++)
			out[len++] = *s;
	va_end(ap);
	if (size)
		out[len] = '\0';
}

/* n in base 10 or 16 (lower case), written into out; returns where the digits start. */
const char *num_text(char out[NUM_TEXT_LEN], unsigned long long n, unsigned base)
{
	char *p = out + NUM_TEXT_LEN - 1;

	*p = '\0';
	do
		*--p = "0123456789abcdef"[n % base];
	while (n /= base);
	return p;
}

/* Append formatted text. */
void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *dst = buf_reserve(b, 128);
	if (!dst)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(dst, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = 1;
		return;
	}
	if ((size_t)n >= b->cap - b->len) {	/* did not fit: grow and format again */
		if (!(dst = buf_reserve(b, (size_t)n)))
			return;
		va_start(ap, fmt);
		vsnprintf(dst, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

/* Append text with the five HTML specials escaped, safe in elements and attributes. */
void buf_html(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '&': buf_puts(b, "&amp;"); break;
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		case '\'': buf_puts(b, "&#39;"); break;
		default: buf_append(b, &s[i], 1);
		}
	}
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Append s percent-encoded, but for letters, digits and the characters in keep; with
 * escapes, a "%XX" already there stays as it is (any other '%' becomes "%25"). */
static void percent_encode(struct buf *b, const char *s, size_t n, const char *keep, bool escapes)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    (c && strchr(keep, c)) ||
		    (escapes && c == '%' && i + 2 < n && is_hex(s[i + 1]) && is_hex(s[i + 2]))) {
			buf_append(b, &s[i], 1);
		} else {
			char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
			buf_append(b, esc, 3);
		}
	}
}

/* Append a path with everything but unreserved characters and '/' percent-encoded. */
void buf_url(struct buf *b, const char *s, size_t n)
{
	percent_encode(b, s, n, "-._~/", false);
}

/* Append a query as it came, with what a URI may not hold there percent-encoded (RFC
 * 3986 3.4: unreserved, sub-delims, ':', '@', '/', '?' and escapes may stay). A client's
 * query goes back in a Location field: quotes, '<', spaces or controls must not. */
void buf_url_query(struct buf *b, const char *s, size_t n)
{
	percent_encode(b, s, n, "-._~!$&'()*+,;=:@/?", true);
}
