/* A worker's io_uring: its sizes, its setup, and the coordinator's check,
 * before anything is forked, that such rings can be set up at all. */
#ifndef RS_URING_PROBE_H
#define RS_URING_PROBE_H

#include <liburing.h>
#include <stddef.h>

#include "ringscan/scan.h"

/* SQ and CQ entries of one worker's ring (powers of two). */
struct rs_ring_size {
	unsigned sq, cq;
};

/* The ring a worker wants for `concurrency` probes in flight. */
struct rs_ring_size rs_ring_want(unsigned concurrency);

/* What the kernel charges one ring of size sz against RLIMIT_MEMLOCK
 * (Linux 6.13+, unless the process has CAP_IPC_LOCK), in bytes. */
size_t rs_ring_bytes(struct rs_ring_size sz);

/* One step smaller (the CQ first, down to twice the SQ, then both), not
 * below the smallest useful ring. Returns false at that floor. */
bool rs_ring_shrink(struct rs_ring_size *sz);

/* The ring of each of nworkers workers that want sz: sz as it is, or
 * shrunk so that all of them fit in RLIMIT_MEMLOCK where ring memory
 * counts against it (what the coordinator and every worker compute
 * alike). Returns 0, 1 when it shrank sz, or -ENOMEM when even the
 * smallest rings cannot fit (sz is then the smallest). */
int rs_ring_fit(struct rs_ring_size *sz, unsigned nworkers);

/* Set up ring with a worker's flags (SINGLE_ISSUER, DEFER_TASKRUN, ...,
 * without them before Linux 6.1) at size sz; *features gets the kernel's
 * IORING_FEAT_ bits. One attempt: 0 or -errno. */
int rs_ring_setup(struct io_uring *ring, struct rs_ring_size sz, unsigned *features);

/* rs_ring_setup, waiting out an ENOMEM (memory that other rings of this
 * user are still releasing) for up to wait_ms, with naps from 1 ms
 * doubling to 100 ms, a step smaller (*sz) after every ~100 ms of it.
 * Between tries keep_on(arg) is called (if not NULL; a heartbeat): false
 * ends the wait with -ECANCELED. Returns 0 or -errno. */
int rs_ring_setup_wait(struct io_uring *ring, struct rs_ring_size *sz, unsigned *features,
		       unsigned wait_ms, bool (*keep_on)(void *), void *arg);

/* Why io_uring_setup failed with err (EPERM, ENOSYS, ...), in one line,
 * given /proc/self/status's Seccomp: (2 = a filter) and the sysctls
 * kernel.io_uring_disabled and kernel.io_uring_group. */
void rs_uring_explain(int err, long seccomp, long disabled, long group, char *why, size_t n);

/* Call once in the coordinator before forking: can every worker of cfg
 * set up its ring? Returns 0 (why holds "" or a one-line notice to print,
 * e.g. that the rings were shrunk to fit RLIMIT_MEMLOCK), or -errno with
 * why holding one line that says what is unavailable and why (io_uring
 * blocked by seccomp or kernel.io_uring_disabled, missing, or a memlock
 * limit too small, naming its value and what would fit). Never retries a
 * limit that cannot be met; waits out (up to 2 s) memory that other
 * rings of this user are still releasing. On failure, reason gets the short
 * form (rs_uring_reason). */
int rs_uring_check(const struct rs_config *cfg, char *why, size_t n, char *reason, size_t rn);

/* The short form of what rs_uring_check found, for a summary: which call
 * failed, its errno, and the likely cause (err a positive errno; memlock:
 * the rings did not fit RLIMIT_MEMLOCK). */
void rs_uring_reason(int err, bool memlock, long seccomp, long disabled, char *r, size_t n);

/* Send a no-op through ring and reap it: 0, or -errno when the ring can
 * be set up but not used (a filter on io_uring_enter). */
int rs_ring_try_enter(struct io_uring *ring);

/* A worker's short reason, as rs_uring_reason's, for its own ring that
 * failed with err although the coordinator's check passed (a filter or
 * limit applied since): enter: io_uring_enter failed (else
 * io_uring_setup); memlock: RLIMIT_MEMLOCK cannot hold even one smallest
 * ring. Reads this process's /proc/self/status and the sysctls. */
void rs_uring_worker_reason(int err, bool enter, bool memlock, char *r, size_t n);

#endif
