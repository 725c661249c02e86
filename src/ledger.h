/* The coordinator's ledger of answered positions: a sliding window of
 * per-chunk bitmaps over the shard's positions. It makes the output exactly
 * once (a position answered twice, after a worker's jobs were handed on,
 * is recognised and dropped), finds what a dead worker left unanswered,
 * and bounds how far ahead of the oldest unfinished chunk the producer may
 * run, so its memory is fixed whatever the number of targets. Pure. */
#ifndef RS_LEDGER_H
#define RS_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringscan/jobring.h"

struct rs_ledger {
	uint64_t first, end; /* positions [first, end) */
	uint64_t chunk;	     /* positions per chunk (<= 4096) */
	uint64_t low;	     /* oldest chunk not fully answered */
	uint32_t cap;	     /* chunks in the window */
	uint32_t words;	     /* 64-bit words per chunk bitmap */
	uint32_t *count;     /* answered positions per window slot */
	uint64_t *bits;	     /* cap * words */
	uint64_t answered;
};

/* Returns 0 or -ENOMEM. chunk <= 4096. */
int rs_ledger_init(struct rs_ledger *l, uint64_t first, uint64_t end, uint64_t chunk, uint32_t cap);
void rs_ledger_free(struct rs_ledger *l);
/* Record pos as answered: true if it was not yet, false for a repeat (or a
 * position outside the window, which the producer never hands out). */
bool rs_ledger_mark(struct rs_ledger *l, uint64_t pos);
/* Before anything is marked: every position below pos is answered (a
 * resumed scan's low-water mark). */
void rs_ledger_skip(struct rs_ledger *l, uint64_t pos);
/* Every position below this one is answered. */
uint64_t rs_ledger_low(const struct rs_ledger *l);
/* The first position the producer may not hand out yet (window end). */
uint64_t rs_ledger_limit(const struct rs_ledger *l);
/* Store up to max maximal runs of unanswered positions inside [b, e) as
 * jobs; returns how many. *resume is where to continue when out filled. */
size_t rs_ledger_gaps(const struct rs_ledger *l, uint64_t b, uint64_t e, struct rs_job *out,
		      size_t max, uint64_t *resume);
/* The same for runs of answered positions (for checkpoints). */
size_t rs_ledger_runs(const struct rs_ledger *l, uint64_t b, uint64_t e, struct rs_job *out,
		      size_t max, uint64_t *resume);

#endif
