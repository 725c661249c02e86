/* ringscan: command line → configuration → scan → summary → exit status.
 * Exit status: 0 done, 1 runtime failure, 2 bad usage or input, 128 + the
 * signal number when SIGINT (130) or SIGTERM (143) stopped the scan. */
#include <signal.h>
#include <sys/signalfd.h>
#include <stdlib.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "dryrun.h"

int main(int argc, char **argv)
{
	struct rs_config cfg;
	struct rs_summary *sum;
	int ret, status;

	ret = rs_cli_parse(argc, argv, &cfg);
	if (ret != RS_CLI_RUN) {
		rs_cli_free(&cfg);
		return ret == RS_CLI_EXIT_OK ? 0 : 2;
	}
	signal(SIGPIPE, SIG_IGN); /* a closed pipe is a write error, reported */
	/* SIGINT and SIGTERM arrive on a signalfd that the coordinator polls,
	 * so that a stop flushes what is answered (workers unblock them). */
	sigset_t stop_set, before;
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGINT);
	sigaddset(&stop_set, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop_set, &before);
	cfg.signal_fd = signalfd(-1, &stop_set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (cfg.signal_fd < 0) /* then the signals keep their default action */
		sigprocmask(SIG_SETMASK, &before, NULL);
	cfg.wait_mask = &before;
	if (cfg.dry_run) {
		uint64_t n;
		int sig;
		ret = rs_dry_run(&cfg, &n, &sig);
		if (!cfg.quiet && !ret)
			fprintf(stderr, "ringscan: dry run: %llu pairs, seed %llu, shard %u/%u\n",
				(unsigned long long)n, (unsigned long long)cfg.seed,
				cfg.shard_index, cfg.shard_count);
		rs_cli_free(&cfg);
		return ret == -EINTR ? 128 + sig : ret < 0 ? 1 : 0;
	}
	sum = calloc(1, sizeof(*sum));
	if (!sum) {
		fprintf(stderr, "ringscan: out of memory\n");
		rs_cli_free(&cfg);
		return 1;
	}
	if (cfg.resume && rs_checkpoint_finished(cfg.resume)) {
		/* Nothing to do: the output is left exactly as it is. */
		if (!cfg.quiet)
			fprintf(stderr,
				"ringscan: '%s' records a finished scan; nothing to do, '%s' is "
				"complete\n",
				cfg.resume_path, cfg.output);
		rs_summary_from_checkpoint(sum, cfg.resume);
		sum->workers = cfg.workers;
		sum->concurrency = cfg.concurrency;
		ret = 0;
	} else {
		ret = rs_scan_run(&cfg, sum);
	}
	status = ret == -EINTR ? 128 + sum->interrupted : ret < 0 ? 1 : 0;
	rs_summary_print(sum, STDERR_FILENO);
	if (cfg.stats_path) {
		int r = rs_summary_write_json(sum, cfg.stats_path);
		if (r < 0) {
			fprintf(stderr, "ringscan: --stats: cannot write '%s': %s\n",
				cfg.stats_path, strerror(-r));
			status = 1;
		}
	}
	free(sum);
	rs_cli_free(&cfg);
	return status;
}
