/* From what the command line said to a validated scan configuration:
 * sets finalised, exclusions subtracted, limits applied, the checkpoint
 * read, output paths checked against each other and opened. */
#ifndef RS_CONFIG_H
#define RS_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "ringscan/scan.h"

/* What the parser collected that is not yet part of struct rs_config. */
struct rs_cli_opts {
	const char *ports;   /* -p, or NULL for the default */
	const char *format;  /* -f */
	const char *resume;  /* --resume FILE, or NULL */
	const char **inputs; /* -i and --exclude-file paths: no output may be one */
	unsigned ninputs;
	uint64_t concurrency; /* asked for, before clamping */
	bool seed_set, allow_reserved, interval_set;
};

/* Finish cfg from opts, given the open-files limit (which bounds the
 * concurrency). Returns RS_CLI_RUN, or RS_CLI_USAGE after one line on
 * stderr; no packet has been sent and no file truncated when refused. */
int rs_config_build(struct rs_config *cfg, struct rs_cli_opts *opts, uint64_t nofile);

/* The longest one attempt of a probe may take, in ms (-t, or the ceiling
 * of the measured timeout), and the most attempts a probe may get. */
unsigned rs_config_attempt_max_ms(const struct rs_config *cfg);
/* The longest a probe in flight may take to be answered once it is on the
 * wire: its attempt, then the service stage (what a graceful stop waits). */
unsigned rs_config_answer_max_ms(const struct rs_config *cfg);
unsigned rs_config_attempts_max(const struct rs_config *cfg);

/* Raise the soft open-files limit to the hard one; return it. A worker's
 * registered file table (and its fds in compat mode) may not exceed it. */
uint64_t rs_nofile_raise(void);

#endif
