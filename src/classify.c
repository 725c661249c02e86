/* Connect outcome → port state (DESIGN.md invariants 2 and 3). */
#include <errno.h>
#include <stddef.h>

#include "ringscan/classify.h"

static const char *const state_names[RS_NSTATES] = {
	[RS_OPEN] = "open",	    [RS_CLOSED] = "closed",
	[RS_FILTERED] = "filtered", [RS_UNREACHABLE] = "unreachable",
	[RS_ERROR] = "error",
};

const char *rs_state_name(enum rs_state s)
{
	return (unsigned)s < RS_NSTATES ? state_names[s] : "error";
}

/* Errors that say this machine ran short of something: never a port state. */
bool rs_is_local_error(int err)
{
	switch (err) {
	case EMFILE:
	case ENFILE:
	case EADDRNOTAVAIL:
	case EADDRINUSE:
	case ENOBUFS:
	case ENOMEM:
	case EAGAIN:
	case EINTR:
	case ENOSR:
		return true;
	default:
		return false;
	}
}

/* Final state for a connect error that is not local and not a timeout. */
static enum rs_verdict final_error(int err, enum rs_state *state, int *perr)
{
	*perr = 0;
	switch (err) {
	case ECONNREFUSED:
	case ECONNRESET:
		*state = RS_CLOSED;
		break;
	case EHOSTUNREACH:
	case ENETUNREACH:
		*state = RS_UNREACHABLE;
		break;
	default:
		*state = RS_ERROR;
		*perr = err;
		break;
	}
	return RS_V_FINAL;
}

enum rs_verdict rs_classify_connect(int res, enum rs_state *state, int *err)
{
	if (res == 0)
		return RS_V_CONFIRM;
	if (res == -ECANCELED || res == -ETIME || res == -ETIMEDOUT)
		return RS_V_TIMEOUT;
	if (rs_is_local_error(-res))
		return RS_V_LOCAL;
	return final_error(-res, state, err);
}

enum rs_verdict rs_classify_so_error(int so_error, enum rs_state *state, int *err)
{
	if (so_error == 0) {
		*state = RS_OPEN;
		*err = 0;
		return RS_V_FINAL;
	}
	if (so_error == ETIMEDOUT)
		return RS_V_TIMEOUT;
	if (rs_is_local_error(so_error))
		return RS_V_LOCAL;
	return final_error(so_error, state, err);
}

const char *rs_reason(enum rs_state state, int err)
{
	switch (state) {
	case RS_OPEN:
		return "syn-ack";
	case RS_CLOSED:
		return "rst";
	case RS_FILTERED:
		return "timeout";
	case RS_UNREACHABLE:
		return "unreachable";
	default:
		break;
	}
	const char *n = rs_errno_name(err);
	return n ? n : "EUNKNOWN";
}
