/* Round trips measured, and the timeouts and retries they call for: the
 * per-attempt timeout of a probe (TCP's RTO, RFC 6298, with a margin for
 * targets farther than most) and how many attempts a probe gets before it
 * is called filtered (enough that the loss seen so far leaves no answer
 * behind). Pure code. */
#ifndef RS_RTT_H
#define RS_RTT_H

#include <stdint.h>

#define RS_RTO_MIN_US	   100000u  /* never time out sooner (as nmap's --min-rtt-timeout) */
#define RS_RTO_MAX_US	   3000000u /* nor later (a retry's doubled timeout too) */
#define RS_RTO_INIT_US	   1000000u /* before RS_RTT_MIN_SAMPLES answers */
#define RS_RTT_MIN_SAMPLES 8
#define RS_ATTEMPTS_MIN	   2 /* one retry even on a perfect link */
#define RS_ATTEMPTS_MAX	   10

struct rs_rtt {
	uint32_t srtt_us;   /* smoothed round trip */
	uint32_t rttvar_us; /* its mean deviation */
	uint32_t max_us;    /* the largest recent one, decaying towards srtt */
	uint64_t samples;
};

void rs_rtt_sample(struct rs_rtt *r, uint32_t us);

/* The first attempt's timeout: 1.5 x the largest recent round trip, plus 2
 * ms for the worker's own loop (not srtt + 4 rttvar: near and far targets
 * make a wide variance, 720 ms for round trips of 20 and 300 ms), within
 * [RS_RTO_MIN_US, RS_RTO_MAX_US]. At least RS_RTO_INIT_US until enough
 * samples, and until elapsed_us (since the first probe) reaches it: the
 * first answers are the nearest targets', a farther one's cannot have
 * come back yet, and a timeout learnt from the near alone would never let
 * the far answer. */
uint32_t rs_rtt_rto_us(const struct rs_rtt *r, uint64_t elapsed_us);

/* Attempt k's timeout (k = 1 first): rto, doubled for the retries (as TCP
 * backs off: a target farther than any answer seen yet is still found,
 * and then teaches the timeout its round trip; no further, or a lossy
 * link's filtered ports would each take seconds), and at most the larger
 * of RS_RTO_MAX_US and rto. */
uint32_t rs_rtt_attempt_us(uint32_t rto_us, unsigned k);

/* How many attempts a probe gets, when ok[k] probes were answered at
 * attempt k (1 <= k <= RS_ATTEMPTS_MAX), in a scan of probes: the fewest
 * that leave less than 1% chance of one answer lost over the scan, at
 * pessimistic estimates of the loss of a first attempt and of a retry
 * (apart: a burst of losses at the start of a scan or at a rate the
 * controller then cut hits first attempts, not the retries sent later),
 * within [RS_ATTEMPTS_MIN, RS_ATTEMPTS_MAX]; and never more than two
 * past the latest attempt any probe was answered at (nmap's rule): where
 * nothing ever answers late (a wholly filtered range), more attempts
 * find nothing, and the pessimistic estimates would send each probe ten
 * times. */
unsigned rs_attempts_needed(const uint64_t ok[RS_ATTEMPTS_MAX + 1], uint64_t probes);

/* How long a probe waits, after its attempt n (n >= 1) timed out, before
 * attempt n + 1, when the retry budget is `budget` attempts: a quarter of
 * rto after the first, doubled for each later one, at most
 * RS_RETRY_GAP_MAX_US. Past the budget (a lossy network's extra attempts,
 * lossy.h) twice rto, doubled likewise. Spread out, a probe's attempts
 * meet a burst of loss or a host's SYN limit once, not all of them: ten
 * attempts a quarter of rto apart all fell within the same 2 s of a /24
 * limited to 300 SYNs/s. */
#define RS_RETRY_GAP_MAX_US 1000000u
uint32_t rs_retry_gap_us(uint32_t rto_us, unsigned n, unsigned budget);

/* The retry budgets of the last RS_BUDGET_TICKS ticks of 2^25 ns (~34 ms;
 * ~17 s in all). The budget follows the loss of now, but a probe is
 * called filtered only after as many attempts as the largest budget of
 * its own life: on a link whose loss comes in bursts, a probe whose
 * attempts met a burst was judged by the calm that followed (budget 5,
 * where the burst asked 8: closed ports read filtered, an open one
 * missed, in 3 of 6 runs). */
#define RS_BUDGET_TICK_SHIFT 25
#define RS_BUDGET_TICKS	     512 /* a power of two */
struct rs_budget_hist {
	uint64_t first, last; /* the first and last ticks noted; last 0: none yet */
	uint8_t b[RS_BUDGET_TICKS];
};

/* At tick, the budget changes from held (in force since the last note)
 * to next. */
void rs_budget_note(struct rs_budget_hist *h, uint64_t tick, unsigned held, unsigned next);

/* The largest budget noted from tick `from` to tick `now` (at most the
 * last RS_BUDGET_TICKS), or 0 if none. */
unsigned rs_budget_since(const struct rs_budget_hist *h, uint64_t from, uint64_t now);

#endif
