/* Buffered output and the sink registry. Adding a format is one file plus
 * one line in the table below. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ringscan/outsum.h"
#include "ringscan/sink.h"
#include "stopsig.h"

extern const struct rs_sink_ops rs_sink_jsonl, rs_sink_csv, rs_sink_list, rs_sink_xml;

static const struct rs_sink_ops *const sinks[] = {
	&rs_sink_jsonl,
	&rs_sink_csv,
	&rs_sink_list,
	&rs_sink_xml,
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
	o->sig_fd = -1;
	o->signo = 0;
	o->grace_ms = 0;
	o->give_up_ns = 0;
	o->err = 0;
	o->service = 0;
	o->len = 0;
	o->written = 0;
	o->sum = 0;
	o->sink_state = NULL;
}

void rs_out_signals(struct rs_out *o, int sig_fd, unsigned grace_ms)
{
	o->sig_fd = sig_fd;
	o->grace_ms = grace_ms;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void rs_out_stop(struct rs_out *o, int signo)
{
	if (o->signo)
		return;
	o->signo = signo;
	o->give_up_ns = now_ns() + (uint64_t)o->grace_ms * 1000000ULL;
}

/* Wait until a stream has room. Returns 0, or -1 with errno EINTR (a
 * second stop signal) or ETIME (the grace after the first ran out). */
static int wait_room(struct rs_out *o)
{
	struct pollfd p[2] = {{.fd = o->fd, .events = POLLOUT},
			      {.fd = o->sig_fd, .events = POLLIN}};

	for (;;) {
		int ms = -1;
		if (o->signo) {
			uint64_t now = now_ns();
			if (now >= o->give_up_ns) {
				errno = ETIME;
				return -1;
			}
			ms = (int)((o->give_up_ns - now + 999999) / 1000000);
		}
		int r = poll(p, o->sig_fd >= 0 ? 2 : 1, ms);
		if (r < 0 && errno != EINTR)
			return -1;
		if (r > 0 && (p[1].revents & POLLIN)) {
			int sig = rs_stopsig_take(o->sig_fd);
			if (sig && o->signo) {
				errno = EINTR;
				return -1;
			}
			if (sig)
				rs_out_stop(o, sig);
		}
		if (r > 0 && p[0].revents)
			return 0; /* room, or an error that write() will tell */
	}
}

/* Write some of buf. A stream is written PIPE_BUF at a time once poll says
 * it has room, so the wait happens in poll(), watching the stop signals,
 * never inside a write() that no signal can interrupt. */
static ssize_t write_some(struct rs_out *o, const char *buf, size_t n)
{
	if (o->stream) {
		if (wait_room(o) < 0)
			return -1;
		if (n > PIPE_BUF)
			n = PIPE_BUF;
	}
	return write(o->fd, buf, n);
}

/* Write what is buffered. The checksum follows exactly the bytes the
 * kernel took, so that written and sum always describe the same prefix of
 * the file, however the writes were cut short. */
int rs_out_flush(struct rs_out *o)
{
	size_t off = 0;

	while (off < o->len && !o->err) {
		ssize_t n = write_some(o, o->buf + off, o->len - off);
		if (n < 0) {
			/* The stop signals are blocked, so EINTR is wait_room()
			 * giving up at a second signal: an error like any other. */
			if (errno == EAGAIN)
				continue;
			o->err = errno;
			break;
		}
		o->sum = rs_outsum(o->sum, o->buf + off, (size_t)n);
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
	return rs_out_write(o, s, strlen(s));
}

int rs_out_write(struct rs_out *o, const void *p, size_t n)
{
	const char *s = p;

	while (n) {
		size_t k = n < sizeof(o->buf) ? n : sizeof(o->buf);
		memcpy(rs_out_reserve(o, k), s, k);
		rs_out_commit(o, k);
		s += k;
		n -= k;
	}
	return o->err ? -o->err : 0;
}
