/* The region shared by the coordinator and its workers, created with
 * MAP_SHARED before fork() so every process sees it at the same address:
 * control flags, the job ring, one result ring per worker, per-worker
 * counters and lease tables. Plain data only. */
#ifndef RS_SHM_H
#define RS_SHM_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ringscan/jobring.h"
#include "ringscan/results.h"
#include "ringscan/svcring.h"
#include "ringscan/types.h"
#include "rtt.h"

/* A job a worker has claimed and not fully answered. begin == end means
 * the lease is free. A worker has one lease per probe slot, plus one: even
 * when every probe in flight comes from a different one-position job (the
 * gaps a resumed scan or a dead worker leaves), claims never wait. */
struct rs_lease {
	_Atomic uint64_t begin, end;
};

/* Written by one worker, read by the coordinator. */
struct rs_wshared {
	alignas(64) _Atomic uint64_t retries; /* timeouts re-probed */
	_Atomic uint64_t local_errors;	      /* backoffs for local trouble */
	_Atomic uint64_t inflight;
	_Atomic uint64_t heartbeat_ns; /* CLOCK_MONOTONIC */
	_Atomic int32_t status;	       /* 0 running, 1 finished, < 0 -errno of a failure */
	_Atomic int32_t engine;	       /* enum rs_engine_mode actually in use */
	/* Why this worker's io_uring failed although the coordinator's check
	 * had passed ("" if it did not): written before engine (epoll under
	 * --engine auto) or status (a failure) is stored. */
	char engine_reason[160];
	/* Sending (see cc.h, rtt.h): what the controller decided and saw. */
	_Atomic uint64_t rate;			  /* probes/s this worker may start; 0 = unpaced */
	_Atomic uint64_t sent1;			  /* first attempts launched */
	_Atomic uint64_t launched;		  /* attempts launched, retries too */
	_Atomic uint64_t ans1;			  /* ... answered */
	_Atomic uint64_t tmo1;			  /* ... timed out */
	_Atomic uint64_t ok[RS_ATTEMPTS_MAX + 1]; /* [k]: probes answered at attempt k */
	_Atomic uint32_t rto_us;		  /* first attempts' timeout now */
	_Atomic uint32_t attempts;		  /* attempts a probe gets now */
	_Atomic uint64_t cuts;			  /* rate cuts for congestion */
};

struct rs_ctl {
	alignas(64) _Atomic uint32_t done; /* every position is answered: leave */
	_Atomic uint32_t stop;		   /* abandon work and exit */
	_Atomic uint32_t drain;		   /* start nothing new; exit once idle */
	/* Every position has been handed out and taken from the job ring
	 * (a dead worker's may still come back): what a worker has not
	 * started is all it will get. */
	_Atomic uint32_t handed_all;
};

struct rs_shm {
	void *base;
	size_t len;
	unsigned nworkers;
	struct rs_ctl *ctl;
	struct rs_jobring *jobs;
	struct rs_wshared *w;	 /* [nworkers] */
	struct rs_lease *leases; /* [nworkers][nleases] */
	uint32_t nleases;	 /* per worker */
	struct rs_resring **res; /* [nworkers], pointers into base */
	struct rs_svcring **svc; /* [nworkers]; NULL entries without a service stage */
};

/* Map and initialise the region: svccap service records per worker (0:
 * no service stage). Returns 0 or -errno. */
int rs_shm_create(struct rs_shm *shm, unsigned nworkers, uint32_t jobcap, uint32_t rescap,
		  uint32_t nleases, uint32_t svccap);

/* Worker w's lease table. */
static inline struct rs_lease *rs_shm_leases(const struct rs_shm *shm, unsigned w)
{
	return shm->leases + (size_t)w * shm->nleases;
}
void rs_shm_destroy(struct rs_shm *shm);

#endif
