/* --dry-run: the (address, port) pairs a scan would probe, in its order,
 * through the same permutation, shard range and pick as the workers, and
 * nothing sent. The tool for checking order, exclusions and shards. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dryrun.h"
#include "ringscan/perm.h"
#include "ringscan/shard.h"
#include "stopsig.h"

int rs_dry_run(const struct rs_config *cfg, uint64_t *printed, int *signo)
{
	struct rs_perm perm;
	struct rs_out *out = malloc(sizeof(*out));
	uint64_t lo, hi, space = rs_space_count(&cfg->space);
	int ret = 0;

	*printed = 0;
	*signo = 0;
	if (!out)
		return -ENOMEM;
	rs_out_init(out, cfg->out_fd);
	rs_out_signals(out, cfg->signal_fd, 1000);
	rs_perm_init(&perm, space, cfg->seed);
	rs_shard_range(space, cfg->shard_index, cfg->shard_count, &lo, &hi);
	if (cfg->sink->pairs_begin)
		cfg->sink->pairs_begin(out);
	for (uint64_t pos = lo; pos < hi; pos++) {
		struct rs_endpoint ep;

		rs_space_pick(&cfg->space, rs_perm_at(&perm, pos), &ep);
		cfg->sink->pair(out, &ep);
		if (((pos - lo) & 0xffff) == 0xffff || out->signo) {
			int sig = out->signo ? out->signo : rs_stopsig_take(cfg->signal_fd);
			if (sig) {
				ret = -EINTR;
				*signo = sig;
				*printed = pos - lo + 1;
				goto out;
			}
			if (out->err)
				break;
		}
		*printed = pos - lo + 1;
	}
out:;
	if (*signo) /* a stalled reader gets a second more, not forever */
		rs_out_stop(out, *signo);
	int werr = rs_out_flush(out);
	if (out->signo && !ret) {
		ret = -EINTR;
		*signo = out->signo;
	} else if (werr < 0 && !ret) {
		/* As for a scan: a reader that went away (| head) leaves the
		 * output incomplete, which must not look like success. */
		fprintf(stderr, "ringscan: writing output: %s; stopping\n", strerror(-werr));
		ret = werr;
	}
	free(out);
	return ret;
}
