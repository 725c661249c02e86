/* Checkpoints: what a scan has answered so far, saved so that --resume can
 * finish it after any interruption (a signal, kill -9, a full disk) with
 * every answer in the output exactly once.
 *
 * A checkpoint names the scan (a fingerprint of everything that decides
 * which pair sits at which position, and of what the output holds), the
 * answered positions of its shard (a low-water mark, below which all are
 * answered, plus sorted runs of answered positions above it), the counts
 * per state, and the length and checksum (rs_outsum) of the output file's
 * prefix that holds exactly those answers. It is text, one "key value"
 * line each, in a fixed order, and ends with a checksum of everything
 * before it. See docs/checkpoint.md. */
#ifndef RINGSCAN_CHECKPOINT_H
#define RINGSCAN_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringscan/targets.h"
#include "ringscan/types.h"

/* What must be equal for a checkpoint to continue a command line. */
struct rs_fingerprint {
	uint64_t seed;
	uint32_t shard_index, shard_count;
	uint64_t targets, ports, exclude; /* hashes of the finalized sets */
	char format[16];		  /* output format name */
	bool all;			  /* --all */
};

/* A run of answered positions [begin, end). */
struct rs_ckrun {
	uint64_t begin, end;
};

struct rs_checkpoint {
	struct rs_fingerprint fp;
	uint64_t first, end; /* the shard's positions [first, end) */
	uint64_t low;	     /* every position in [first, low) is answered */
	uint64_t length;     /* output bytes holding exactly these answers */
	uint64_t outsum;     /* rs_outsum() of those bytes */
	uint64_t count[RS_NSTATES];
	uint64_t retries, local_errors;
	/* --db: the scan's row in the inventory (id and token), or 0: none.
	 * The inventory holds every answer the checkpoint counts. */
	int64_t db_scan;
	uint64_t db_token;
	struct rs_ckrun *runs; /* answered runs above low: sorted, apart */
	size_t nruns;
};

/* Yields the answered runs above ck->low in order, one per call; false
 * when there are no more. Runs may touch or overlap low; the writer merges. */
typedef bool (*rs_ckrun_next)(void *arg, struct rs_ckrun *run);

/* Hash the target space's sets and the exclusions into fp (the caller
 * fills seed, shard, format and all). */
void rs_fingerprint_sets(struct rs_fingerprint *fp, const struct rs_space *sp,
			 const struct rs_addrset *exclude);
/* What differs between a checkpoint's fingerprint and a command line's,
 * as words for an error message ("the ports differ"), or NULL when they match. */
const char *rs_fingerprint_diff(const struct rs_fingerprint *ck, const struct rs_fingerprint *cl);

/* Parse a checkpoint from buf[len]. Returns 0, -ENOMEM, or -EINVAL with
 * "line N: reason" in err[errlen]. Validates everything: the checksum, the
 * order of keys, runs sorted and inside the shard, counts that add up. */
int rs_checkpoint_parse(const char *buf, size_t len, struct rs_checkpoint *ck, char *err,
			size_t errlen);
/* Read and parse the checkpoint at path. Returns 0, -ENOENT when there is
 * no such file (err untouched), -ENOMEM, or -EINVAL / -errno with
 * "PATH: ..." or "PATH:LINE: ..." in err. */
int rs_checkpoint_load(const char *path, struct rs_checkpoint *ck, char *err, size_t errlen);
void rs_checkpoint_free(struct rs_checkpoint *ck);
/* Is every position of the shard answered? */
bool rs_checkpoint_finished(const struct rs_checkpoint *ck);

/* Write ck atomically to path: PATH.tmp, fsync, rename, fsync of the
 * directory. The runs come from next(arg) when next is given, else from
 * ck->runs. Returns 0 or -errno (path is then left as it was). */
int rs_checkpoint_save(const char *path, const struct rs_checkpoint *ck, rs_ckrun_next next,
		       void *arg);

#endif
