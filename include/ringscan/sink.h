/* Output sinks: each format is one file implementing struct rs_sink_ops and
 * registered in src/sink.c. Output is buffered and written by size, never
 * flushed per line. */
#ifndef RINGSCAN_SINK_H
#define RINGSCAN_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ringscan/svcview.h"
#include "ringscan/types.h"

struct rs_set32;
struct rs_summary;

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
	void *sink_state; /* a sink's own, from its begin to its end (NULL before) */
	char buf[1 << 16];
};

/* The scan around the records, for the sinks' begin and end: what the
 * nmap XML sink writes in its header and trailer (and the inventory database
 * in its scan row); a sink takes what it needs and ignores the rest. */
struct rs_sink_ctx {
	const char *version;	      /* ringscan's (RS_VERSION) */
	const char *cmdline;	      /* the command line as one string, quoted for sh */
	uint64_t start_ns;	      /* CLOCK_REALTIME when the scan began */
	uint64_t end_ns;	      /* ... and ended; 0 at begin */
	const struct rs_set32 *ports; /* the ports probed on each address, or NULL */
	const char *scan_type;	      /* "connect" */
	const char *protocol;	      /* "tcp" */
	uint64_t targets;	      /* (address, port) pairs this scan (its shard) probes */
	uint64_t addresses;	      /* addresses in the target space */
	bool all;		      /* every state is recorded (--all), not only open */
	/* At end: counts per state, seed, shard, engine, interrupted; NULL at
	 * begin. */
	const struct rs_summary *sum;
	bool complete;		/* at end: every pair is answered */
	const char *incomplete; /* at end, when not complete: why ("interrupted by SIGINT") */
};

struct rs_sink_ops {
	const char *name;
	/* record() must be given the records sorted by address (then port):
	 * the consecutive records of one address are one host (nmap XML's
	 * <host>). The live writer, which takes answers in permuted order,
	 * cannot feed such a sink: a scan refuses it (config.c). */
	bool sorted;
	/* Each returns 0 or -errno; may be NULL when there is nothing to do.
	 * A sink that keeps state (o->sink_state) takes it in begin and gives
	 * it back in end, which must then be called, complete or not. */
	int (*begin)(struct rs_out *o, const struct rs_sink_ctx *ctx);
	/* sv: what the service stage found (--banner), or NULL. */
	int (*record)(struct rs_out *o, const struct rs_result *r, const struct rs_svcview *sv);
	int (*end)(struct rs_out *o, const struct rs_sink_ctx *ctx);
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
/* n bytes of p, however many. Returns 0 or -errno (the sticky error). */
int rs_out_write(struct rs_out *o, const void *p, size_t n);
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
