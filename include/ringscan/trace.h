/* A compact trace of how a scan sent: the rate the controller allowed,
 * what was sent and how much of it timed out, over time. Fixed size:
 * when full, neighbouring points merge and the interval doubles, so any
 * scan's trace has at most RS_TRACE_POINTS points. */
#ifndef RINGSCAN_TRACE_H
#define RINGSCAN_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#define RS_TRACE_POINTS	  64
#define RS_TRACE_FIRST_MS 100 /* the first interval */

/* Cumulative counters of all workers at one moment. */
struct rs_sending {
	uint64_t rate;	   /* probes/s allowed now, summed; 0 = unpaced */
	uint64_t sent;	   /* attempts launched (first attempts and retries) */
	uint64_t ans1;	   /* first attempts answered */
	uint64_t tmo1;	   /* first attempts timed out */
	uint64_t cuts;	   /* rate cuts for congestion */
	uint32_t rto_us;   /* largest first-attempt timeout now */
	uint32_t attempts; /* most attempts a probe gets now */
};

struct rs_trace_point {
	uint32_t end_ms; /* since the scan began */
	uint32_t len_ms; /* the interval's length */
	uint64_t rate;	 /* allowed at its end */
	uint64_t sent, ans1, tmo1;
};

struct rs_trace {
	unsigned n;
	uint32_t interval_ms;
	uint32_t last_ms;
	struct rs_sending last;
	uint64_t peak_rate;
	struct rs_trace_point pt[RS_TRACE_POINTS];
};

void rs_trace_init(struct rs_trace *t);
/* The counters at ms since the start: a point when an interval has passed
 * (or, when last, however short the interval). */
void rs_trace_tick(struct rs_trace *t, uint32_t ms, const struct rs_sending *now, bool last);

#endif
