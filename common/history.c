/* history: a ring of request records in shared memory (see history.h for why). */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "history.h"

/* One request, as stored. */
struct record {
	int64_t when;
	int32_t status;
	char addr[48];
	char path[184];
};
enum { WORDS = 31 };
_Static_assert(sizeof(struct record) <= WORDS * sizeof(uint64_t), "record fits its slot");

/* A slot is a sequence number and the record as 64-bit words. Why the words are
 * atomics: a reader may copy a slot while a writer fills it. The writer makes seq odd,
 * stores the words, then makes seq even again; a reader that sees seq change, or odd,
 * knows its copy is torn and skips it (a "seqlock"). Atomic words keep that legal C11
 * (no data race); release stores and acquire loads of them, rather than fences, order
 * them against seq in a way ThreadSanitizer understands (it does not model fences). On
 * x86 both compile to plain moves. */
struct slot {
	_Atomic uint64_t seq;
	_Atomic uint64_t words[WORDS];
};

struct history {
	_Atomic uint64_t next;		/* requests ever recorded: the next slot number */
	_Atomic uint64_t bytes;		/* body bytes sent, for the summary */
	struct slot slots[HISTORY_SLOTS];
};

/* Map a zeroed, already-unlinked temporary file: shared with every later fork. */
struct history *history_create(void)
{
	const char *dir = getenv("TMPDIR");
	char name[4096];
	struct history *h = NULL;

	snprintf(name, sizeof name, "%s/staged-httpd-history.XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(name);
	if (fd < 0)
		return NULL;
	unlink(name);	/* nothing is left behind, whatever way the server ends */
	if (ftruncate(fd, sizeof *h) == 0) {
		h = mmap(NULL, sizeof *h, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (h == MAP_FAILED)
			h = NULL;
	}
	close(fd);	/* the mapping keeps the file alive */
	return h;
}

/* Record one request: one atomic increment claims a slot, then the seqlock write. */
void history_add(struct history *h, const char *addr, struct slice path,
		 enum status status, long long bytes, time_t when)
{
	struct record rec = { .when = when, .status = (int32_t)status };
	uint64_t words[WORDS] = { 0 };

	text_cat(rec.addr, sizeof rec.addr, addr, NULL);
	size_t n = path.n < sizeof rec.path - 1 ? path.n : sizeof rec.path - 1;
	if (n)
		memcpy(rec.path, path.p, n);
	memcpy(words, &rec, sizeof rec);

	atomic_fetch_add_explicit(&h->bytes, (uint64_t)(bytes > 0 ? bytes : 0), memory_order_relaxed);
	uint64_t i = atomic_fetch_add_explicit(&h->next, 1, memory_order_relaxed);
	struct slot *s = &h->slots[i % HISTORY_SLOTS];
	atomic_store_explicit(&s->seq, 2 * i + 1, memory_order_relaxed);
	for (int w = 0; w < WORDS; w++)	/* release: a reader that sees a word sees seq odd */
		atomic_store_explicit(&s->words[w], words[w], memory_order_release);
	atomic_store_explicit(&s->seq, 2 * i + 2, memory_order_release);
}

/* Copy record number i out of the ring; 0 if it was overwritten or is being written. */
static int read_record(struct history *h, uint64_t i, struct record *rec)
{
	struct slot *s = &h->slots[i % HISTORY_SLOTS];
	uint64_t words[WORDS];

	if (atomic_load_explicit(&s->seq, memory_order_acquire) != 2 * i + 2)
		return 0;
	for (int w = 0; w < WORDS; w++)	/* acquire: the seq check below comes after */
		words[w] = atomic_load_explicit(&s->words[w], memory_order_acquire);
	if (atomic_load_explicit(&s->seq, memory_order_relaxed) != 2 * i + 2)
		return 0;
	memcpy(rec, words, sizeof *rec);
	rec->addr[sizeof rec->addr - 1] = rec->path[sizeof rec->path - 1] = '\0';
	return 1;
}

/* A target as a link when it is a local path ("/...") made only of the characters a
 * URL may hold, else as plain text. Not "//host/..." (another site), and nothing with a
 * backslash: browsers read "/\host/..." as "//host/..." too. The history keeps every
 * target, also those refused with 400, so anyone could plant one here. */
static void html_link(struct buf *out, const char *path)
{
	static const char url_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					"0123456789-._~!$&'()*+,;=:@/?%";
	size_t n = strlen(path);

	if (path[0] != '/' || path[1] == '/' || strspn(path, url_chars) != n) {
		buf_html(out, path, n);
		return;
	}
	buf_puts(out, "<a href=\"");
	buf_html(out, path, n);
	buf_puts(out, "\">");
	buf_html(out, path, n);
	buf_puts(out, "</a>");
}

/* Table rows of the latest requests from addr, newest first. */
void history_html(struct history *h, const char *addr, struct buf *out)
{
	uint64_t next = atomic_load_explicit(&h->next, memory_order_acquire);
	uint64_t oldest = next > HISTORY_SLOTS ? next - HISTORY_SLOTS : 0;
	int rows = 0;
	struct record rec;

	for (uint64_t i = next; i-- > oldest && rows < HISTORY_PAGE_ROWS;) {
		if (!read_record(h, i, &rec) || strcmp(rec.addr, addr) != 0)
			continue;
		char when[32];
		struct tm tm;
		time_t t = (time_t)rec.when;
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
		buf_printf(out, "<tr><td>%s</td><td>%d</td><td>", when, (int)rec.status);
		html_link(out, rec.path);
		buf_puts(out, "</td></tr>\n");
		rows++;
	}
	if (rows == 0)
		buf_puts(out, "<tr><td colspan=\"3\">no requests yet</td></tr>\n");
}

/* The totals since the server started, for the exit summary. */
void history_totals(struct history *h, unsigned long long *requests, unsigned long long *bytes)
{
	*requests = atomic_load_explicit(&h->next, memory_order_acquire);
	*bytes = atomic_load_explicit(&h->bytes, memory_order_relaxed);
}
