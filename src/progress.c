/* Progress: done/total, rate (smoothed), open so far, ETA. */
#include <stdio.h>
#include <unistd.h>

#include "progress.h"

void rs_progress_init(struct rs_progress *p, int enabled, uint64_t now_ns)
{
	*p = (struct rs_progress){.enabled = enabled, .start_ns = now_ns, .last_ns = now_ns};
}

void rs_progress_tick(struct rs_progress *p, uint64_t now_ns, uint64_t done, uint64_t total,
		      uint64_t open)
{
	char line[160];

	if (!p->enabled || now_ns - p->last_ns < 250000000ULL)
		return;
	double dt = (double)(now_ns - p->last_ns) / 1e9;
	double inst = (double)(done - p->last_done) / dt;
	p->rate = p->rate ? 0.7 * p->rate + 0.3 * inst : inst;
	p->last_ns = now_ns;
	p->last_done = done;
	double eta = p->rate > 0 ? (double)(total - done) / p->rate : 0;
	unsigned es = (unsigned)eta;
	int n = snprintf(line, sizeof(line),
			 "\r\033[K%llu/%llu (%.1f%%)  %.0f probes/s  open %llu  ETA %u:%02u:%02u",
			 (unsigned long long)done, (unsigned long long)total,
			 total ? 100.0 * (double)done / (double)total : 100.0, p->rate,
			 (unsigned long long)open, es / 3600, es / 60 % 60, es % 60);
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		p->enabled = 0;
}

void rs_progress_end(struct rs_progress *p)
{
	if (p->enabled && p->last_ns != p->start_ns && write(STDERR_FILENO, "\r\033[K", 4) < 0)
		p->enabled = 0;
}
