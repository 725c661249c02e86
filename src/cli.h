/* Command-line parsing: the option table, --help, argv into a struct
 * rs_config and a struct rs_cli_opts. */
#ifndef RS_CLI_H
#define RS_CLI_H

#include <stdio.h>

#include "ringscan/scan.h"

enum rs_cli_result {
	RS_CLI_RUN = 0,	    /* cfg is ready: scan */
	RS_CLI_EXIT_OK = 1, /* --help or --version was printed */
	RS_CLI_USAGE = 2,   /* refused: one line was printed on stderr */
};

struct rs_cli_opts;

/* Parse argv into cfg and opts, which rs_config_build() (config.h) turns
 * into a validated configuration; rs_cli_free releases both in every case.
 * Returns an enum rs_cli_result. */
int rs_cli_parse(int argc, char **argv, struct rs_config *cfg, struct rs_cli_opts *opts);
void rs_cli_free(struct rs_config *cfg, struct rs_cli_opts *opts);
void rs_cli_usage(FILE *f);
/* One line on stderr naming what was refused (escaped, see errmsg.h);
 * returns RS_CLI_USAGE for the caller to pass on. */
int rs_cli_refuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
