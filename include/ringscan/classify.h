/* Mapping of connect outcomes to port states (DESIGN.md invariant 3) and of
 * local resource errors to "retry later" (invariant 2). Pure functions. */
#ifndef RINGSCAN_CLASSIFY_H
#define RINGSCAN_CLASSIFY_H

#include <stdbool.h>
#include "ringscan/types.h"

/* What the engine does with one finished connect attempt. */
enum rs_verdict {
	RS_V_FINAL,   /* state is known: publish it */
	RS_V_CONFIRM, /* connect said 0: read SO_ERROR before calling it open */
	RS_V_TIMEOUT, /* linked timeout fired: retry or call it filtered */
	RS_V_LOCAL,   /* this machine is short of something: back off, retry */
};

/* True for errors that describe the local machine, not the target. */
bool rs_is_local_error(int err);

/* Classify a connect CQE result (0 or -errno). *state and *err are set when
 * the verdict is RS_V_FINAL (err is the positive errno for RS_ERROR). */
enum rs_verdict rs_classify_connect(int res, enum rs_state *state, int *err);

/* Classify the SO_ERROR value read after a connect that returned 0. */
enum rs_verdict rs_classify_so_error(int so_error, enum rs_state *state, int *err);

/* The JSON "reason" of a result: syn-ack, rst, timeout, unreachable or an
 * errno name such as "EACCES". Never NULL. */
const char *rs_reason(enum rs_state state, int err);

/* Symbolic name of a positive errno ("ECONNREFUSED"), or NULL if unknown. */
const char *rs_errno_name(int err);

#endif
