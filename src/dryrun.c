/* --dry-run: the (address, port) pairs a scan would probe, in its order,
 * through the same permutation, shard range and pick as the workers, and
 * nothing sent. The tool for checking order, exclusions and shards. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "dryrun.h"
#include "ringscan/perm.h"
#include "ringscan/shard.h"

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
	rs_out_wait_mask(out, cfg->wait_mask);
	rs_perm_init(&perm, space, cfg->seed);
	rs_shard_range(space, cfg->shard_index, cfg->shard_count, &lo, &hi);
	if (cfg->sink->pairs_begin)
		cfg->sink->pairs_begin(out);
	for (uint64_t pos = lo; pos < hi; pos++) {
		struct rs_endpoint ep;

		rs_space_pick(&cfg->space, rs_perm_at(&perm, pos), &ep);
		cfg->sink->pair(out, &ep);
		if (((pos - lo) & 0xffff) == 0xffff) {
			struct signalfd_siginfo si;
			if (out->err)
				break;
			if (cfg->signal_fd >= 0 &&
			    read(cfg->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				ret = -EINTR;
				*signo = (int)si.ssi_signo;
				*printed = pos - lo + 1;
				goto out;
			}
		}
		*printed = pos - lo + 1;
	}
out:;
	int werr = rs_out_flush(out);
	if (werr < 0 && !ret) {
		/* As for a scan: a reader that went away (| head) leaves the
		 * output incomplete, which must not look like success. */
		fprintf(stderr, "ringscan: writing output: %s; stopping\n", strerror(-werr));
		ret = werr;
	}
	free(out);
	return ret;
}
