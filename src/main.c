/* ringscan: command line → configuration → scan → summary → exit status.
 * Exit status: 0 done, 1 runtime failure, 2 bad usage or input, 128 + the
 * signal number when SIGINT (130) or SIGTERM (143) stopped the scan. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "dryrun.h"
#include "errmsg.h"
#include "inv_cli.h"
#include "stopsig.h"
#include "uring_probe.h"
#include "worker.h"

/* Descriptors 0, 1 and 2 open before anything else is: a closed one would
 * otherwise be taken by the output file (and the summary written into it)
 * or by the signalfd (and the results written there). As daemons do, a
 * closed one gets /dev/null. Returns 0 or -errno. */
static int std_fds_open(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		int n = open("/dev/null", fd ? O_WRONLY : O_RDONLY);
		if (n < 0)
			return -errno;
		if (n != fd) { /* a lower one was closed too and is taken now */
			close(n);
			return -EBADF;
		}
	}
	return 0;
}

/* --dry-run: the pairs in order, nothing sent. */
static int dry_run(const struct rs_config *cfg)
{
	uint64_t n;
	int sig, ret = rs_dry_run(cfg, &n, &sig);

	if (!cfg->quiet && !ret)
		fprintf(stderr, "ringscan: dry run: %llu pairs, seed %llu, shard %u/%u\n",
			(unsigned long long)n, (unsigned long long)cfg->seed, cfg->shard_index,
			cfg->shard_count);
	return ret == -EINTR ? 128 + sig : ret < 0 ? 1 : 0;
}

/* Before any fork or packet: can the workers run here? With --engine
 * auto, epoll where io_uring cannot (one line says why); with uring or
 * compat, one line if not (and exit status 1). A notice if they can, but
 * shrunk or crowded. (uring_probe.h, worker.h; issues 10 and 13.) */
static int preflight(struct rs_config *cfg)
{
	char why[400] = "", reason[sizeof(cfg->engine_reason)] = "";
	int ret = 0;

	if (cfg->engine != RS_ENGINE_EPOLL)
		ret = rs_uring_check(cfg, why, sizeof(why), reason, sizeof(reason));
	if (ret < 0 && cfg->engine == RS_ENGINE_AUTO) {
		cfg->engine = RS_ENGINE_EPOLL;
		snprintf(cfg->engine_reason, sizeof(cfg->engine_reason), "%s", reason);
		rs_errorf("io_uring unavailable (%s): using epoll", reason);
		ret = 0;
		why[0] = 0;
	}
	if (why[0])
		rs_errorf("%s", why);
	if (!ret && rs_workers_note(cfg->workers, why, sizeof(why)))
		rs_errorf("%s", why);
	return ret;
}

/* The scan (or nothing, for a finished checkpoint), then the summary on
 * stderr and in --stats. Returns the exit status. */
static int scan(struct rs_config *cfg)
{
	struct rs_summary *sum = calloc(1, sizeof(*sum));
	int ret, status;

	if (!sum) {
		rs_errorf("out of memory");
		return 1;
	}
	if (cfg->resume && rs_checkpoint_finished(cfg->resume)) {
		/* Nothing to do: the output is left exactly as it is. */
		if (!cfg->quiet)
			rs_errorf("'%s' records a finished scan; nothing to do, '%s' is complete",
				  cfg->resume_path, cfg->output);
		rs_summary_from_checkpoint(sum, cfg->resume);
		/* No engine ran in this run (a checkpoint does not record
		 * which ones its runs used, and --engine may change between them). */
		sum->engine = "none";
		sum->engine_reason = "finished checkpoint: no probe to send";
		sum->workers = cfg->workers;
		sum->concurrency = cfg->concurrency;
		ret = 0;
	} else if (preflight(cfg) < 0) {
		free(sum);
		return 1;
	} else {
		ret = rs_scan_run(cfg, sum);
	}
	status = ret == -EINTR ? 128 + sum->interrupted : ret < 0 ? 1 : 0;
	rs_summary_print(sum, STDERR_FILENO);
	if (cfg->stats_path) {
		int r = rs_summary_write_json(sum, cfg->stats_path);
		if (r < 0) {
			rs_errorf("--stats: cannot write '%s': %s", cfg->stats_path, strerror(-r));
			status = 1;
		}
	}
	free(sum);
	return status;
}

int main(int argc, char **argv)
{
	struct rs_config cfg;
	struct rs_cli_opts opts;
	int ret, status;

	if (std_fds_open() < 0)
		return 1; /* not even /dev/null: nowhere to say so */
	if (rs_inv_is_cmd(argc, argv))
		return rs_inv_cmd(argc, argv); /* export, merge: their own options */
	ret = rs_cli_parse(argc, argv, &cfg, &opts);
	if (ret == RS_CLI_RUN)
		ret = rs_config_build(&cfg, &opts, rs_nofile_raise());
	if (ret != RS_CLI_RUN) {
		rs_cli_free(&cfg, &opts);
		return ret == RS_CLI_EXIT_OK ? 0 : 2;
	}
	signal(SIGPIPE, SIG_IGN); /* a closed pipe is a write error, reported */
	/* SIGINT and SIGTERM arrive on a signalfd that the coordinator polls,
	 * so that a stop flushes what is answered (workers unblock them). */
	cfg.signal_fd = rs_stopsig_open();
	status = cfg.dry_run ? dry_run(&cfg) : scan(&cfg);
	rs_cli_free(&cfg, &opts);
	return status;
}
