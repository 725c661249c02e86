/* The producer: which positions of the shard go into the job ring, and in
 * what order. New chunks in permutation order, never past the ledger's
 * window; ahead of them, the unanswered runs of a dead worker's leases or
 * of a sweep; for a resumed scan, only what its checkpoint lacks. It owns
 * the ledger of answered positions, so it also knows what a checkpoint
 * records. Pure: no processes, no clock of its own (callers pass `now`). */
#ifndef RS_PRODUCER_H
#define RS_PRODUCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger.h"
#include "ringscan/checkpoint.h"
#include "ringscan/jobring.h"

#define RS_REQUEUE_MAX 4096 /* runs waiting to go back into the job ring */

struct rs_producer {
	uint64_t first, end; /* this shard's positions [first, end) */
	uint64_t next;	     /* the first position not yet handed out */
	uint64_t chunk;	     /* positions per job (fewer near the end) */
	uint64_t tail_div;   /* a job holds at most 1/tail_div of what is left */
	uint64_t slots;	     /* probes all workers may have in flight */
	struct rs_ledger ledger;
	/* Unanswered runs to hand out again, ahead of new chunks, and the
	 * ranges (a dead worker's leases, a sweep) still to be split into
	 * such runs: any number, expanded as the queue empties. */
	struct rs_job requeue[RS_REQUEUE_MAX];
	size_t nrequeue;
	struct rs_job *recheck;
	size_t nrecheck, caprecheck;
	uint64_t requeued; /* positions handed out again */
	/* --resume: every position below skip, and the runs pre[ipre..]
	 * above it, were answered by earlier runs; a run enters the ledger
	 * when the producer reaches it. */
	uint64_t skip;
	const struct rs_ckrun *pre;
	size_t npre, ipre;
	uint64_t stuck_since; /* job ring full but not by count, since */
	uint64_t idle_since;  /* everything handed out, nobody busy, since */
};

/* Positions [first, end) for workers (slots probes in flight in all)
 * claiming from a ring of ring_slots. Returns 0 or -ENOMEM. */
int rs_producer_init(struct rs_producer *p, uint64_t first, uint64_t end, unsigned workers,
		     uint64_t slots, uint32_t ring_slots);
void rs_producer_free(struct rs_producer *p);
/* Before anything is produced: what the checkpoint records is answered. */
void rs_producer_resume(struct rs_producer *p, const struct rs_checkpoint *ck);

/* Fill the job ring as far as it and the window allow. */
void rs_producer_fill(struct rs_producer *p, struct rs_jobring *ring, uint64_t now_ns);
/* Record an answer for pos: false if pos was answered before. */
static inline bool rs_producer_answer(struct rs_producer *p, uint64_t pos)
{
	return rs_ledger_mark(&p->ledger, pos);
}
/* Hand the unanswered positions of [b, e) out again (a dead worker's
 * lease). Returns 0 or -ENOMEM. */
int rs_producer_recheck(struct rs_producer *p, uint64_t b, uint64_t e);
/* Is everything that may be handed out now out of the producer's hands
 * (to the scan's end or the window's limit), and the ring empty? */
bool rs_producer_handed_all(const struct rs_producer *p, const struct rs_jobring *ring);
/* A look for lost jobs: when everything that may be handed out has been,
 * the ring is empty and no worker is busy, yet not every position is
 * answered, then after 200 ms of that the unanswered positions handed out
 * so far go out again (a job was lost between a worker's claim and its
 * lease, when it died in that instant). */
void rs_producer_sweep(struct rs_producer *p, const struct rs_jobring *ring, bool workers_busy,
		       bool complete, uint64_t now_ns);

/* The answered runs, for a checkpoint: the ledger's below what has been
 * handed out, then the resumed runs the producer has not reached yet. */
struct rs_producer_runs {
	const struct rs_producer *p;
	struct rs_job buf[256];
	size_t n, i, ipre;
	uint64_t at;
};
void rs_producer_runs_init(struct rs_producer_runs *it, const struct rs_producer *p);
/* The next run (as rs_checkpoint_save's iterator wants); false at the end. */
bool rs_producer_runs_next(void *it, struct rs_ckrun *run);

#endif
