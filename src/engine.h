/* One worker's probe engine: an io_uring that keeps up to concurrency
 * connects in flight, fed from the shared job ring, answering into the
 * worker's result ring. */
#ifndef RS_ENGINE_H
#define RS_ENGINE_H

#include <stdbool.h>

#include "ringscan/perm.h"
#include "ringscan/scan.h"
#include "ringscan/svc.h"
#include "ringscan/targets.h"
#include "shm.h"

struct rs_engine_params {
	const struct rs_space *space;
	const struct rs_perm *perm;
	struct rs_shm *shm;
	unsigned id;	      /* worker index */
	unsigned concurrency; /* probes in flight at most */
	unsigned timeout_ms;  /* per attempt; 0: from measured round trips */
	int retries;	      /* -1: as many as the loss seen calls for */
	uint64_t rate;	      /* --rate, all workers together; 0 = none */
	bool adaptive;	      /* congestion control (--rate is then a ceiling) */
	uint64_t probes;      /* the scan's size, for the retry budget */
	unsigned nworkers;    /* how many share it */
	enum rs_engine_mode mode;
	const struct rs_svc_cfg *svc; /* the service stage, or NULL for none */
};

/* Scan until the job ring is drained and every claimed probe answered, or
 * until ctl->stop. Returns 0 or -errno (setup failure). */
int rs_engine_run(const struct rs_engine_params *p);

#endif
