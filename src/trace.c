/* The sending trace (see trace.h). */
#include <stdbool.h>
#include <string.h>

#include "ringscan/trace.h"

void rs_trace_init(struct rs_trace *t)
{
	memset(t, 0, sizeof(*t));
	t->interval_ms = RS_TRACE_FIRST_MS;
}

/* Halve the points: each pair becomes one. */
static void merge(struct rs_trace *t)
{
	unsigned k = 0;

	for (unsigned i = 0; i + 1 < t->n; i += 2) {
		struct rs_trace_point a = t->pt[i], b = t->pt[i + 1];
		t->pt[k++] = (struct rs_trace_point){
			.end_ms = b.end_ms,
			.len_ms = a.len_ms + b.len_ms,
			.rate = b.rate,
			.sent = a.sent + b.sent,
			.ans1 = a.ans1 + b.ans1,
			.tmo1 = a.tmo1 + b.tmo1,
		};
	}
	if (t->n % 2)
		t->pt[k++] = t->pt[t->n - 1];
	t->n = k;
	t->interval_ms *= 2;
}

void rs_trace_tick(struct rs_trace *t, uint32_t ms, const struct rs_sending *now, bool last)
{
	if (now->rate > t->peak_rate)
		t->peak_rate = now->rate;
	if (ms - t->last_ms < t->interval_ms && !(last && ms > t->last_ms))
		return;
	if (t->n == RS_TRACE_POINTS)
		merge(t);
	t->pt[t->n++] = (struct rs_trace_point){
		.end_ms = ms,
		.len_ms = ms - t->last_ms,
		.rate = now->rate,
		.sent = now->sent - t->last.sent,
		.ans1 = now->ans1 - t->last.ans1,
		.tmo1 = now->tmo1 - t->last.tmo1,
	};
	t->last = *now;
	t->last_ms = ms;
}
