/* Buffered output and the sink registry. Adding a format is one file plus
 * one line in the table below. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ringscan/sink.h"

extern const struct rs_sink_ops rs_sink_jsonl, rs_sink_csv, rs_sink_list;

static const struct rs_sink_ops *const sinks[] = {
	&rs_sink_jsonl,
	&rs_sink_csv,
	&rs_sink_list,
};

const struct rs_sink_ops *rs_sink_find(const char *name)
{
	for (size_t i = 0; i < sizeof(sinks) / sizeof(sinks[0]); i++)
		if (!strcmp(sinks[i]->name, name))
			return sinks[i];
	return NULL;
}

const char *rs_sink_names(void)
{
	return "jsonl, csv, list";
}

void rs_out_init(struct rs_out *o, int fd)
{
	struct stat st;

	o->fd = fd;
	o->stream =
		fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || isatty(fd));
	o->wait_mask = NULL;
	o->err = 0;
	o->len = 0;
	o->written = 0;
}

void rs_out_wait_mask(struct rs_out *o, const sigset_t *mask)
{
	o->wait_mask = mask;
}

/* Write some of buf. A stream is written PIPE_BUF at a time once poll says
 * it has room, so the wait happens in ppoll() under wait_mask, never
 * inside a write() that no signal can interrupt. */
static ssize_t write_some(struct rs_out *o, const char *buf, size_t n)
{
	if (o->stream) {
		struct pollfd p = {.fd = o->fd, .events = POLLOUT};
		if (ppoll(&p, 1, NULL, o->wait_mask) < 0)
			return -1;
		if (n > PIPE_BUF)
			n = PIPE_BUF;
	}
	return write(o->fd, buf, n);
}

int rs_out_flush(struct rs_out *o)
{
	size_t off = 0;

	while (off < o->len && !o->err) {
		ssize_t n = write_some(o, o->buf + off, o->len - off);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			o->err = errno;
			break;
		}
		off += (size_t)n;
		o->written += (uint64_t)n;
	}
	o->len = 0;
	return o->err ? -o->err : 0;
}

char *rs_out_reserve(struct rs_out *o, size_t n)
{
	if (o->len + n > sizeof(o->buf))
		rs_out_flush(o);
	return o->buf + o->len;
}

void rs_out_commit(struct rs_out *o, size_t n)
{
	o->len += n;
}

int rs_out_puts(struct rs_out *o, const char *s)
{
	size_t n = strlen(s);

	while (n) {
		size_t k = n < sizeof(o->buf) ? n : sizeof(o->buf);
		memcpy(rs_out_reserve(o, k), s, k);
		rs_out_commit(o, k);
		s += k;
		n -= k;
	}
	return o->err ? -o->err : 0;
}
