/* inject: where the script tag goes in a page, and putting it there. */
#include <string.h>
#include <strings.h>

#include "inject.h"

/* Where the tag goes: before the last </body>, else before the last </head>, else at
 * the end: a page without those tags must reload too. Tags match in any case, and not
 * inside a comment (<!-- </body> -->), where the script would never run; nor does it
 * go into a comment left open at the end. */
static size_t inject_at(const char *p, size_t n)
{
	static const char *const tags[] = { "</body", "</head" };
	size_t found[2] = { n, n }, open = n;	/* open: where a comment still open began */

	for (size_t i = 0; i < n; i++) {
		if (open < n) {
			if (n - i >= 3 && memcmp(p + i, "-->", 3) == 0) {
				open = n;
				i += 2;
			}
		} else if (n - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
			open = i;
			i += 3;
		} else if (p[i] == '<' && n - i >= 6) {
			for (size_t t = 0; t < 2; t++)
				if (strncasecmp(p + i, tags[t], 6) == 0 &&
				    (n - i == 6 || strchr("> \t\r\n", p[i + 6])))	/* not </bodyx> */
					found[t] = i;
		}
	}
	return found[0] < n ? found[0] : found[1] < n ? found[1] : open;
}

/* Put tag into the HTML page held in `page` (unchanged if out of memory: page->failed). */
void inject_script(struct buf *page, const char *tag)
{
	size_t n = strlen(tag), at = inject_at(page->data ? page->data : "", page->len);

	if (!buf_reserve(page, n))
		return;
	memmove(page->data + at + n, page->data + at, page->len - at);
	memcpy(page->data + at, tag, n);
	page->len += n;
	page->data[page->len] = '\0';	/* buf_reserve() left room for it */
}
