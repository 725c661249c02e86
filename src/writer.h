/* The writer: takes answers from the workers' result rings into the output
 * sink exactly once, counts them, and keeps the --resume checkpoint
 * current with what the output durably holds. */
#ifndef RS_WRITER_H
#define RS_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "producer.h"
#include "ringscan/scan.h"
#include "shm.h"

#define RS_DRAIN_BATCH 1024

struct rs_writer {
	const struct rs_config *cfg;
	struct rs_summary *sum;
	struct rs_out *out;
	uint64_t received;	/* positions answered, earlier runs' included */
	uint64_t duplicates;	/* answers dropped as repeats */
	uint64_t ck_due;	/* next periodic checkpoint (CLOCK_MONOTONIC) */
	bool ck_stale;		/* the output failed: the last checkpoint stays */
	struct rs_sink_ctx ctx; /* the scan, for the sink's begin and end */
	char why[64];		/* ctx.incomplete's text */
	/* --db (writer_db.c): the scan's row, and how the scan ended. */
	int64_t db_scan;
	uint64_t db_token, db_end_ns;
	bool db_complete, db_failed;
	struct rs_result buf[RS_DRAIN_BATCH];
};

/* Returns 0 or -ENOMEM. A resumed scan's counts and output length come
 * from cfg->resume and cfg->out_length. */
int rs_writer_init(struct rs_writer *w, const struct rs_config *cfg, struct rs_summary *sum);
void rs_writer_free(struct rs_writer *w);

/* Take every answer waiting in the result rings; a position answered
 * before (handed out twice after a worker died) is dropped, so the output
 * holds each exactly once. Once the output has failed nothing more is
 * taken (or counted). Returns how many answers were popped. */
uint64_t rs_writer_drain(struct rs_writer *w, const struct rs_shm *shm, struct rs_producer *p);

/* --resume: make the output durable, then record what it holds, with the
 * retry counts given. After an output error nothing more is recorded: the
 * last checkpoint, whose length the file still has, is the one to resume
 * from. Returns 0 or -errno (after one line on stderr). */
int rs_writer_checkpoint(struct rs_writer *w, const struct rs_producer *p, uint64_t retries,
			 uint64_t local_errors);

/* The end of the run: the sink's trailer when every position is answered,
 * then the buffered rest. Returns 0 or -errno (after one line). */
int rs_writer_finish(struct rs_writer *w, bool complete);

#endif
