/* --dry-run (see dryrun.c). */
#ifndef RS_DRYRUN_H
#define RS_DRYRUN_H

#include "ringscan/scan.h"

/* Print this shard's pairs in scan order to cfg's output. Returns 0, -EINTR
 * when a signal on cfg->signal_fd stopped it (*signo says which), or -errno
 * of a write error. *printed is how many pairs were formatted. */
int rs_dry_run(const struct rs_config *cfg, uint64_t *printed, int *signo);

#endif
