/* The inventory's subcommands: ringscan export, ringscan merge, ringscan
 * diff (docs/inventory.md). */
#ifndef RS_INV_CLI_H
#define RS_INV_CLI_H

#include <stdbool.h>

/* Is argv[1] a subcommand's name? */
bool rs_inv_is_cmd(int argc, char **argv);
/* Run the subcommand argv[1]. Returns the exit status: 0 done, 1 runtime
 * failure, 2 bad usage or input (after one line naming the argument). */
int rs_inv_cmd(int argc, char **argv);

#endif
