/* ringscan diff's comparison (inv_diff.c): two ordered answer sets, the
 * changes as JSON lines. */
#ifndef RS_INV_DIFF_H
#define RS_INV_DIFF_H

#include <stdint.h>
#include <stdio.h>

#include "ringscan/inventory.h"

enum { RS_DIFF_KINDS = 5 }; /* newly-open, no-longer-open, state, service, banner */

struct rs_diff_counts {
	uint64_t n[RS_DIFF_KINDS];
	uint64_t old, new; /* answers read on each side */
};

/* Scans old and new of db. 0, or -EIO (rs_inv_errmsg says why). */
int rs_inv_diff_scans(struct rs_inv *db, int64_t old, int64_t new, FILE *out,
		      struct rs_diff_counts *dc);
/* Two JSON lines files (ringscan's). 0, -EINVAL (a line that is not one of
 * ringscan's) or -errno, with a line in err. */
int rs_inv_diff_files(const char *old, const char *new, FILE *out, struct rs_diff_counts *dc,
		      char *err, size_t errlen);

#endif
