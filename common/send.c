/* send: the header and a memory body with one writev(), then the file range, with
 * sendfile() where Linux has it, else read() and write(). */
#include <errno.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>
#if defined(__linux__) && !defined(NO_SENDFILE)
#include <sys/sendfile.h>
#define HAVE_SENDFILE 1
#endif

#include "file.h"
#include "send.h"

/* 64 KiB a call at most. Linux's sendfile() moves a long count in 64 KiB steps anyway,
 * and on a blocking socket each step may wait SO_SNDTIMEO anew; the fallback reads
 * that much into memory at a time. */
enum { SEND_PART = 65536 };

#ifdef HAVE_SENDFILE
/* On a non-blocking socket (02-select) sendfile() stops as soon as the socket is full,
 * so it is asked for up to 2 MiB at once: a few calls fill the socket, where 64 KiB
 * parts took dozens (measured: 13 times fewer calls for a 10 MiB file). */
enum { SEND_PART_NONBLOCKING = 2 << 20 };

/* How much to ask of one sendfile() for what is left. */
static size_t part_for(int fd, off_t left)
{
	size_t part = SEND_PART;

	if (left > SEND_PART && (fcntl(fd, F_GETFL) & O_NONBLOCK))
		part = SEND_PART_NONBLOCKING;
	return left > (off_t)part ? part : (size_t)left;
}
#endif

/* Send the next piece of the file body. Returns bytes sent, or -1 (errno set). */
static ssize_t send_file_part(int fd, struct response *r)
{
#ifdef HAVE_SENDFILE
	ssize_t n = sendfile(fd, r->fd, &r->offset, part_for(fd, r->left));
	if (n == 0)
		errno = EIO;	/* the file shrank under us: the response cannot be completed */
	return n > 0 ? n : -1;
#else
	size_t want = r->left > SEND_PART ? SEND_PART : (size_t)r->left;
	if (r->chunk_sent == r->chunk.len) {	/* the chunk is out: read the next */
		buf_reset(&r->chunk);
		r->chunk_sent = 0;
		if (file_read(r->fd, r->offset, want, &r->chunk) != 0) {
			errno = EIO;
			return -1;
		}
		r->offset += (off_t)want;
	}
	ssize_t n = write(fd, r->chunk.data + r->chunk_sent, r->chunk.len - r->chunk_sent);
	if (n > 0)
		r->chunk_sent += (size_t)n;
	return n;
#endif
}

/* A write failed: only because a non-blocking socket is full (or a blocking one timed
 * out, SO_SNDTIMEO), or for good? */
static enum send_result after_error(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK ? SEND_AGAIN : SEND_FAILED;
}

/* The header and the memory body, together: one writev() for both, as far as it goes. */
static enum send_result send_memory(int fd, struct response *r)
{
	while (r->sent < r->head.len + r->body.len) {
		struct iovec iov[2];
		int n = 0;
		size_t in_body = r->sent > r->head.len ? r->sent - r->head.len : 0;
		if (r->sent < r->head.len)
			iov[n++] = (struct iovec){ r->head.data + r->sent, r->head.len - r->sent };
		if (r->body.len > in_body)
			iov[n++] = (struct iovec){ r->body.data + in_body, r->body.len - in_body };
		ssize_t w = writev(fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return after_error();
		r->sent += (size_t)w;
		if (r->sent > r->head.len)
			r->body_sent = (long long)(r->sent - r->head.len);
	}
	return SEND_DONE;
}

/* Send as much of the response as the socket takes: head and memory body, then the file. */
enum send_result send_some(int fd, struct response *r)
{
	enum send_result res = send_memory(fd, r);

	while (res == SEND_DONE && r->left > 0) {
		ssize_t w = send_file_part(fd, r);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return after_error();
		r->left -= w;
		r->body_sent += w;
	}
	return res;
}
