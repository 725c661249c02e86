/* Congestion control for one worker: the rate at which it may start new
 * probes, found from what its probes came back with. Pure code: the engine
 * tells it of sends, answers and timeouts by the epoch (~1 ms) an attempt
 * left in, and steps it with the clock; unit tests drive it with a model
 * link. See docs/architecture.md, "Sending on a real link". */
#ifndef RS_CC_H
#define RS_CC_H

#include <stdbool.h>
#include <stdint.h>

#define RS_CC_EPOCH_SHIFT 20   /* an epoch is 2^20 ns, ~1.05 ms */
#define RS_CC_EPOCHS	  4096 /* epochs of history (~4.3 s); a power of two */
#define RS_CC_RATE_BINS	  64   /* 10/s to ~10^7/s, 25% apart */

/* What became of the attempts that left in one epoch. */
struct rs_cc_epoch {
	uint32_t id;	/* which epoch this entry holds now */
	uint32_t sent;	/* first attempts launched */
	uint32_t ans;	/* ... answered (any answer: syn-ack, rst, icmp) */
	uint32_t tmo;	/* ... timed out */
	uint32_t gone;	/* ... abandoned (asked again, local trouble) */
	uint32_t lag;	/* the longest first-attempt timeout among them, epochs */
	uint32_t all;	/* attempts launched, first and later: the rate sent */
	uint32_t late;	/* first attempts timed out, then answered on a retry */
	uint32_t rans;	/* retries answered */
	uint32_t rlate; /* retries timed out, then answered on a later retry */
	uint32_t rlag;	/* the longest retry timeout and wait among them, epochs */
};

/* A run of consecutive epochs judged together. */
struct rs_cc_round {
	uint32_t begin, end; /* epochs [begin, end) */
	uint64_t sent, ans, tmo, gone, all, late, rans, rlate;
};

struct rs_cc {
	double rate;	  /* probes per second this worker may start */
	double ceiling;	  /* its share of --rate, or 0 */
	double floor;	  /* never slower than this */
	double loss_rate; /* the rate that last lost probes, or 0 */
	double good_max;  /* the fastest round sent without loss (decays at cuts) */
	double base;	  /* timeout fraction of first attempts when uncongested */
	double base_n;	  /* first attempts behind base (0: not known yet) */
	double ref;	  /* answered fraction of a fast round when uncongested */
	double ref_n;	  /* first attempts behind ref (0: none yet) */
	bool slow_start;
	bool ss_exit;		 /* slow start ended on another's cut: the next is its exit */
	uint32_t now;		 /* current epoch */
	uint32_t changed;	 /* epoch of the last rate change */
	uint32_t held;		 /* rounds that began before it cannot cut the rate */
	uint32_t ss_end;	 /* epoch of the first cut, which ended slow start */
	struct rs_cc_round fast; /* being filled; judged on answers so far */
	struct rs_cc_round full; /* being filled; judged once complete */
	struct rs_cc_round sum;	 /* fast rounds sent at this rate, added up */
	struct rs_cc_round drop; /* being filled; judged once its retries are in */
	/* Answered shares of fast rounds by the rate they were sent at (bins
	 * 25% apart): what slower rounds got back is the reference a
	 * congested one falls short of, one that congestion cannot drag
	 * down as it grows. */
	struct {
		double n, ans;	   /* first attempts, answered by the fast judgment */
		double resp, late; /* answered at all, of which on a retry */
	} by_rate[RS_CC_RATE_BINS];
	uint64_t cuts, raises; /* decisions taken, for the trace */
	uint32_t streak;       /* raises since the last cut */
	uint32_t undecided;    /* sums neither as good nor clearly worse */
	struct rs_cc_epoch ep[RS_CC_EPOCHS];
	struct rs_cc_epoch spare; /* outcomes of epochs no longer kept, unread */
};

/* start: the first rate (probes/s); ceiling: the most, 0 for none. */
void rs_cc_init(struct rs_cc *c, double start, double ceiling, uint32_t epoch);

static inline uint32_t rs_cc_epoch_of(uint64_t mono_ns)
{
	return (uint32_t)(mono_ns >> RS_CC_EPOCH_SHIFT);
}

/* A first attempt left in epoch e with a timeout of lag epochs / was
 * answered / timed out / was given up (it will be launched again and
 * counted again). */
void rs_cc_sent(struct rs_cc *c, uint32_t e, uint32_t lag);
/* A later attempt (a retry) left in epoch e: it takes its share of the
 * rate, and the rate a round was sent at counts it. lag: epochs of its
 * timeout and of the wait before the next attempt, whose answer would
 * show it lost (rs_cc_retry_lost). */
void rs_cc_resent(struct rs_cc *c, uint32_t e, uint32_t lag);
void rs_cc_answered(struct rs_cc *c, uint32_t e);
void rs_cc_timed_out(struct rs_cc *c, uint32_t e);
void rs_cc_gone(struct rs_cc *c, uint32_t e);
/* The probe whose first attempt left in epoch e and timed out was
 * answered on a retry: that attempt was lost (nmap's drop detection). */
void rs_cc_late(struct rs_cc *c, uint32_t e);
/* A retry that left in epoch e was answered. */
void rs_cc_retry_answered(struct rs_cc *c, uint32_t e);
/* The retry that left in epoch e timed out, and a later one of the same
 * probe was answered: that retry was lost. With rs_cc_retry_answered,
 * the drop judgment sees the loss of the retries too: when the first
 * attempts are all out (a small scan's or a sparse world's tail, which
 * is retries only), they are the only sends it can judge. */
void rs_cc_retry_lost(struct rs_cc *c, uint32_t e);

/* Judge what can be judged at epoch now: rtt_ep is the smoothed round trip
 * (a round's length) and wait_ep the largest recent one (by when a round's
 * answers are in), in epochs. Returns true when the rate changed. */
bool rs_cc_step(struct rs_cc *c, uint32_t now, uint32_t rtt_ep, uint32_t wait_ep);

/* What a controller knows of another worker's: from shared memory. */
struct rs_cc_peer {
	double rate;   /* its rate, probes/s (0: none yet) */
	uint64_t cuts; /* its cuts so far */
	bool sending;  /* it has probes in flight (it is on the path now) */
};

/* The workers' controllers share one path; every 16 ms each looks at the
 * others' (peers[n]):
 * - One still in slow start ends it once another has cut: a loss one saw
 *   is all of theirs. Doubling on blind until its own rounds showed the
 *   loss a round trip or two later, two workers overshot a 2 Mbit/s path
 *   8x. Its own rounds then cut its rate.
 * - One whose rate is far from the mean of the sending workers' rates
 *   (its own among them) moves halfway to it. Each worker's steps are
 *   multiplicative (x0.7, +3%, +25%, x2), which keep the ratio of two
 *   workers' rates whatever it is, where TCP's additive increase evens
 *   them out: a worker that took a few more cuts could starve beside
 *   another holding the path (docs/architecture.md). Once this one has
 *   cut, a worker still in slow start is left out of the mean: its rate
 *   is blind, and pulled the cut ones back up 2-4x.
 * Returns true when the rate changed. */
bool rs_cc_share(struct rs_cc *c, const struct rs_cc_peer *peers, unsigned n);

#endif
