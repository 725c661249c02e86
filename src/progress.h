/* The one-line progress display on stderr (only on a terminal). */
#ifndef RS_PROGRESS_H
#define RS_PROGRESS_H

#include <stdint.h>

struct rs_progress {
	int enabled;
	uint64_t start_ns, last_ns;
	uint64_t last_done;
	double rate; /* smoothed probes/s */
};

void rs_progress_init(struct rs_progress *p, int enabled, uint64_t now_ns);
/* Redraw at most four times a second. */
void rs_progress_tick(struct rs_progress *p, uint64_t now_ns, uint64_t done, uint64_t total,
		      uint64_t open);
/* Erase the line so the summary starts clean. */
void rs_progress_end(struct rs_progress *p);

#endif
