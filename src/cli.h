/* Command-line parsing into a struct rs_config. */
#ifndef RS_CLI_H
#define RS_CLI_H

#include <stdio.h>

#include "ringscan/scan.h"

enum rs_cli_result {
	RS_CLI_RUN = 0,	    /* cfg is ready: scan */
	RS_CLI_EXIT_OK = 1, /* --help or --version was printed */
	RS_CLI_USAGE = 2,   /* refused: one line was printed on stderr */
};

/* Parse argv into cfg (which rs_cli_free releases in every case). */
int rs_cli_parse(int argc, char **argv, struct rs_config *cfg);
void rs_cli_free(struct rs_config *cfg);
void rs_cli_usage(FILE *f);

#endif
