/* ringscan: command line → configuration → scan → summary → exit status.
 * Exit status: 0 done, 1 runtime failure, 2 bad usage or input. */
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

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
	sum = calloc(1, sizeof(*sum));
	if (!sum) {
		fprintf(stderr, "ringscan: out of memory\n");
		rs_cli_free(&cfg);
		return 1;
	}
	ret = rs_scan_run(&cfg, sum);
	status = ret < 0 ? 1 : 0;
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
