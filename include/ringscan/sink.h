/* Output sinks: each format is one file implementing struct rs_sink_ops and
 * registered in src/sink.c. Output is buffered and written by size, never
 * flushed per line. */
#ifndef RINGSCAN_SINK_H
#define RINGSCAN_SINK_H

#include <stddef.h>
#include <stdint.h>
#include "ringscan/svcview.h"
#include "ringscan/types.h"

/* A buffered output file. */
struct rs_out {
	int fd;
	int stream; /* a pipe, socket or tty: writes may block indefinitely */
	/* While a stream waits for room: the stop signals' signalfd (or -1),
	 * the stop signal taken (0: none yet), and once there is one, when
	 * to give up on a reader that does not read (CLOCK_MONOTONIC). */
	int sig_fd;
	int signo;
	unsigned grace_ms;
	uint64_t give_up_ns;
	int err;	  /* first write error (positive errno), sticky */
	int service;	  /* the scan has a service stage: CSV gains its column */
	size_t len;	  /* bytes buffered */
	uint64_t written; /* bytes handed to the kernel so far */
	uint64_t sum;	  /* rs_outsum() of those bytes (a checkpoint records it) */
	char buf[1 << 16];
};

struct rs_sink_ops {
	const char *name;
	/* Each returns 0 or -errno; may be NULL when there is nothing to do. */
	int (*begin)(struct rs_out *o);
	/* sv: what the service stage found (--banner), or NULL. */
	int (*record)(struct rs_out *o, const struct rs_result *r, const struct rs_svcview *sv);
	int (*end)(struct rs_out *o);
	/* --dry-run: a header (may be NULL), then one (address, port) pair. */
	int (*pairs_begin)(struct rs_out *o);
	int (*pair)(struct rs_out *o, const struct rs_endpoint *ep);
};

/* The sink named name ("jsonl", "csv", "list"), or NULL. */
const struct rs_sink_ops *rs_sink_find(const char *name);
/* Comma-separated names of every sink, for --help. */
const char *rs_sink_names(void);

/* An empty output on fd. A resumed output that already holds bytes sets
 * written and sum to what its checkpoint records. */
void rs_out_init(struct rs_out *o, int fd);
/* While a stream output cannot take more, also watch the stop signals'
 * signalfd: a stop signal taken there is kept in o->signo (for the caller
 * to stop gracefully) and the wait goes on for at most grace_ms; then, or
 * at a second signal, the output is given up (o->err ETIME or EINTR), so
 * that a reader who never reads cannot keep a stop from finishing. */
void rs_out_signals(struct rs_out *o, int sig_fd, unsigned grace_ms);
/* The caller took stop signal signo itself: from now on, waits for room
 * end as after a signal taken while waiting. */
void rs_out_stop(struct rs_out *o, int signo);
/* Reserve n bytes (n <= sizeof buf), flushing first if needed. Returns a
 * pointer to write into, then commit with rs_out_commit(). */
char *rs_out_reserve(struct rs_out *o, size_t n);
void rs_out_commit(struct rs_out *o, size_t n);
int rs_out_puts(struct rs_out *o, const char *s);
/* Write what is buffered. Returns 0 or -errno. */
int rs_out_flush(struct rs_out *o);

/* Longest line any built-in sink writes for one record. */
#define RS_LINE_MAX 512

/* Text forms used by several sinks; each returns the length written. */
size_t rs_fmt_ip(char *dst, const struct rs_endpoint *ep); /* >= 46 bytes */
size_t rs_fmt_ts(char *dst, uint64_t ts_ns);		   /* >= 32 bytes */
/* One JSON line (with '\n') for r into dst[RS_LINE_MAX]. */
size_t rs_fmt_jsonl(char *dst, const struct rs_result *r);

#endif
