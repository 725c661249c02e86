/* The supervisor: forks the workers, reaps them, kills one whose heartbeat
 * stops, and replaces one that dies mid-scan after handing the positions
 * it held (its leases) back to the producer. */
#ifndef RS_SUPERVISOR_H
#define RS_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "producer.h"
#include "ringscan/perm.h"
#include "ringscan/scan.h"
#include "shm.h"

#define RS_MAX_RESTARTS 64 /* worker deaths tolerated in one run */

struct rs_supervisor {
	const struct rs_config *cfg;
	struct rs_shm *shm;
	const struct rs_perm *perm;
	pid_t pid[RS_MAX_WORKERS];
	bool alive[RS_MAX_WORKERS];
	uint64_t spawned_ns[RS_MAX_WORKERS];
	uint64_t probes;   /* in the scan (its shard), for the retry budget */
	unsigned restarts; /* workers replaced */
	/* Counters of workers that died (their shared ones restart at 0). */
	uint64_t dead_retries, dead_local_errors;
	int signo;	    /* the stop signal that killed a worker (reap's -EINTR) */
	bool said_fallback; /* a worker's fallback to epoll is said (once) */
};

/* The workers' sending counters, summed (rates, counts) or the largest
 * (timeout, attempts). */
void rs_supervisor_sending(const struct rs_supervisor *sv, struct rs_sending *out);

void rs_supervisor_init(struct rs_supervisor *sv, const struct rs_config *cfg, struct rs_shm *shm,
			const struct rs_perm *perm);
/* Fork every worker. Returns 0 or -errno (after one line on stderr). */
int rs_supervisor_spawn_all(struct rs_supervisor *sv);

/* What reap() calls for a worker that died while the scan ran: take what
 * it published, then rs_supervisor_replace(). Returns 0 or -errno. */
typedef int (*rs_hand_over_fn)(void *arg, unsigned w);

/* Reap workers that have exited. One that died while the scan ran is
 * handed over (at most RS_MAX_RESTARTS times in a run); one that could not
 * start its engine, or died once the scan is done, is a runtime failure.
 * Returns 0, -EINTR (a stop signal killed it: sv->signo), or -EIO. */
int rs_supervisor_reap(struct rs_supervisor *sv, bool scan_done, rs_hand_over_fn hand_over,
		       void *arg);
/* Worker w is dead: its leases' positions go to p to be handed out again,
 * and a new worker takes its place. Returns 0 or -errno. */
int rs_supervisor_replace(struct rs_supervisor *sv, unsigned w, struct rs_producer *p);
/* Kill a worker whose heartbeat stopped for max(2 s, 4 x timeout x
 * attempts): reap() then hands its work over. */
void rs_supervisor_watchdog(struct rs_supervisor *sv, uint64_t now_ns);
/* Tell the workers to stop and kill them. */
void rs_supervisor_kill(struct rs_supervisor *sv);
/* Under --engine auto, once per run: one line on stderr when a worker's
 * io_uring failed although the coordinator's check had passed, and it
 * runs epoll instead (its reason from the worker's shared block). */
void rs_supervisor_say_fallback(struct rs_supervisor *sv);
/* Wait for every worker to be gone (after kill or leave), filling in the
 * summary's pids and engine: the least capable one a worker ran, and in
 * engine_reason why workers fell back to epoll (see sum_engines). */
void rs_supervisor_wait(struct rs_supervisor *sv, struct rs_summary *sum);

unsigned rs_supervisor_alive(const struct rs_supervisor *sv);
/* Does any worker hold a lease or have a probe in flight? */
bool rs_supervisor_busy(const struct rs_supervisor *sv);
/* Probes in flight now, in all workers. */
uint64_t rs_supervisor_inflight(const struct rs_supervisor *sv);
/* Timeouts re-probed and local-error backoffs, dead workers' included. */
uint64_t rs_supervisor_retries(const struct rs_supervisor *sv, uint64_t *local_errors);

#endif
