/* Waiting for a batch of completions without sleeping on a batch that will
 * not come: the kernel's min-wait (Linux 6.12+, IORING_FEAT_MIN_TIMEOUT)
 * waits up to min_wait_usec for wait_nr completions, then returns as soon
 * as there is one, and otherwise at the timeout. liburing 2.3 (Debian 12)
 * predates it, so the ABI is filled in by hand: min_wait_usec is what
 * liburing 2.3 calls the pad of struct io_uring_getevents_arg. */
#ifndef RS_URING_WAIT_H
#define RS_URING_WAIT_H

#include <liburing.h>
#include <signal.h>
#include <stdint.h>

#define RS_FEAT_MIN_TIMEOUT (1U << 15)

struct rs_getevents_arg {
	__u64 sigmask;
	__u32 sigmask_sz;
	__u32 min_wait_usec;
	__u64 ts;
};

/* Publish the SQEs queued since the last submission (what liburing does
 * before every io_uring_enter); returns how many the kernel has to take. */
static inline unsigned rs__flush_sq(struct io_uring *ring)
{
	struct io_uring_sq *sq = &ring->sq;
	unsigned tail = sq->sqe_tail;

	if (sq->sqe_head != tail) {
		sq->sqe_head = tail;
		io_uring_smp_store_release(sq->ktail, tail);
	}
	return tail - io_uring_smp_load_acquire(sq->khead);
}

/* Submit what is queued and wait as described above. Returns what
 * io_uring_enter returns: SQEs taken, or -errno (-ETIME at the timeout). */
static inline int rs__submit_and_wait_min(struct io_uring *ring, unsigned wait_nr,
					  struct __kernel_timespec *ts, unsigned min_wait_usec)
{
	struct rs_getevents_arg arg = {
		.sigmask_sz = _NSIG / 8,
		.min_wait_usec = min_wait_usec,
		.ts = (__u64)(uintptr_t)ts,
	};

	return io_uring_enter2(ring->ring_fd, rs__flush_sq(ring), wait_nr,
			       IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
			       (sigset_t *)(void *)&arg, sizeof(arg));
}

#endif
