/* Congestion control for one worker (see cc.h and docs/architecture.md,
 * "Sending on a real link").
 *
 * A connect scanner has one signal a link gives it: whether a probe is
 * answered. Filtered ports never answer, so a timeout alone is not a loss;
 * but the targets are visited in a random order, so the fraction of first
 * attempts that time out is the same all through an uncongested scan (the
 * filtered share plus the link's random loss). The controller learns that
 * fraction (the base) and calls a round congested when its fraction is
 * clearly above it. Each first attempt is booked in the epoch (~1 ms) it
 * left in, so a round is judged on what its own sends became, not on what
 * happened to come back meanwhile.
 *
 * Three judgments run over the epochs:
 * - fast: a round, about one round trip of sends, is looked at the
 *   largest recent round trip after it ended; if as much of it is
 *   answered already as of the reference (the same argument as for the
 *   base: the answered share is the same all through an uncongested
 *   scan), the rate goes up; if clearly less, it is cut. The reference is
 *   what rounds sent at 70% of the rate or less got back (by_rate), which
 *   a growing loss cannot drag down with it, and thresholds are relative
 *   to it, so that a world where few targets answer is judged too; rounds
 *   at one rate are also added up until they hold SUM_ANS expected
 *   answers, and the small steps up wait for such a sum. On loopback this
 *   doubles the rate every millisecond or two; it never waits for a
 *   timeout, so a world of many filtered ports ramps up as fast as one of
 *   none. Where nothing answers at all, the reference is 0 once the base
 *   is learnt, and the rate goes up likewise.
 * - full: a round is looked at once every first attempt in it is answered
 *   or timed out; its timeout fraction updates the base, or, when clearly
 *   above it, cuts the rate (once per round trip of sends: rounds that
 *   began before a cut do not cut again).
 * - drop: once their retries have been answered, epochs are added up
 *   until they hold enough answered probes, and the share of those that
 *   needed a retry (their first attempt lost: nmap's drop detection) is
 *   judged against what slower rounds lost. It needs no answered share,
 *   so the filtered targets do not dilute it. The retries' own losses
 *   are judged with them: a scan's tail sends nothing else.
 *
 * Rates: slow start doubles per fast round sent at the current rate;
 * congestion ends it and cuts the rate that lost to a little below what
 * the path delivered of it (by 10-30%, see cut()); between cuts the
 * rate grows 25% per such round while below 80% of the rate that last
 * lost, then from 3% per round trip, growing while nothing is lost
 * (probe_step; multiplicative on both sides, so the
 * sawtooth is the same whatever the link's size); and doubles again while
 * below half the fastest loss-free round (decayed by 0.9 at each cut), so
 * that a burst of lag that cut it many times does not leave it crawling. */
#include <math.h>
#include <string.h>

#include "cc.h"

#define MASK	     (RS_CC_EPOCHS - 1)
#define ROUND_MAX    1024    /* epochs: a round is judged after ~1 s at most */
#define FAST_MIN_N   4	     /* sends a fast round needs */
#define FAST_CUT_N   32	     /* ... and to cut the rate */
#define FAST_MIN_ANS 16.0    /* answers expected in a fast round */
#define FULL_MIN_N   32	     /* resolved first attempts a full round needs */
#define BASE_MIN_N   256.0   /* first attempts the base is first learnt from */
#define BASE_CAP     50000.0 /* the base follows the last ~50,000 answers */
#define SUM_ANS	     400.0   /* answers expected in rounds judged together */
#define BIN_MIN_ANS  400.0   /* answers at slower rates to judge against */
#define DROP_MIN_N   200.0   /* answered probes a drop round needs */
#define DROP_REF_N   200.0   /* ... and slower rounds, to judge against */
#define DROP_PRIOR   0.02    /* their share lost on a retry, until known */
#define DROP_REF_MAX 0.10    /* ... and at most, once known */
#define DROP_MAX     3072    /* epochs a drop round spans at most (~3 s; the ring keeps 4,096) */
#define DROP_WAIT    (RS_CC_EPOCHS - ROUND_MAX - 1) /* ... and waits for retries at most */
#define SS_CUT_MIN   0.125 /* slow start's exit cuts to no less than this */

void rs_cc_init(struct rs_cc *c, double start, double ceiling, uint32_t epoch)
{
	memset(c, 0, sizeof(*c));
	c->floor = 10;
	c->ceiling = ceiling;
	c->rate = ceiling > 0 && start > ceiling ? ceiling : start;
	c->slow_start = true;
	c->now = epoch;
	c->changed = epoch;
	c->held = epoch;
	c->fast.begin = c->fast.end = epoch;
	c->full.begin = c->full.end = epoch;
	c->drop.begin = c->drop.end = epoch;
}

/* The entry of epoch e, reset if it held an older one (sent only). */
static struct rs_cc_epoch *slot_new(struct rs_cc *c, uint32_t e)
{
	struct rs_cc_epoch *p = &c->ep[e & MASK];

	if (p->id != e)
		*p = (struct rs_cc_epoch){.id = e};
	return p;
}

/* The entry of epoch e, or NULL when it is no longer kept. */
static struct rs_cc_epoch *slot_of(struct rs_cc *c, uint32_t e)
{
	struct rs_cc_epoch *p = &c->ep[e & MASK];

	return p->id == e ? p : NULL;
}

void rs_cc_sent(struct rs_cc *c, uint32_t e, uint32_t lag)
{
	struct rs_cc_epoch *p = slot_new(c, e);

	p->sent++;
	p->all++;
	if (lag > p->lag)
		p->lag = lag;
}

void rs_cc_resent(struct rs_cc *c, uint32_t e, uint32_t lag)
{
	struct rs_cc_epoch *p = slot_new(c, e);

	p->all++;
	if (lag > p->rlag)
		p->rlag = lag;
}

/* Where an outcome of epoch e is booked: its entry, or, once that is no
 * longer kept, the spare, which nothing reads. */
static struct rs_cc_epoch *booked(struct rs_cc *c, uint32_t e)
{
	struct rs_cc_epoch *p = slot_of(c, e);

	return p ? p : &c->spare;
}

void rs_cc_answered(struct rs_cc *c, uint32_t e)
{
	booked(c, e)->ans++;
}

void rs_cc_timed_out(struct rs_cc *c, uint32_t e)
{
	booked(c, e)->tmo++;
}

void rs_cc_gone(struct rs_cc *c, uint32_t e)
{
	booked(c, e)->gone++;
}

void rs_cc_late(struct rs_cc *c, uint32_t e)
{
	booked(c, e)->late++;
}

void rs_cc_retry_answered(struct rs_cc *c, uint32_t e)
{
	booked(c, e)->rans++;
}

void rs_cc_retry_lost(struct rs_cc *c, uint32_t e)
{
	booked(c, e)->rlate++;
}

/* Add what epoch p holds to round r. */
static void add_epoch(struct rs_cc_round *r, const struct rs_cc_epoch *p)
{
	r->sent += p->sent;
	r->ans += p->ans;
	r->tmo += p->tmo;
	r->gone += p->gone;
	r->all += p->all;
	r->late += p->late;
	r->rans += p->rans;
	r->rlate += p->rlate;
}

/* Sum the epochs [r->begin, r->end) into r. */
static void tally(const struct rs_cc *c, struct rs_cc_round *r)
{
	r->sent = r->ans = r->tmo = r->gone = r->all = r->late = r->rans = r->rlate = 0;
	for (uint32_t e = r->begin; e != r->end; e++)
		if (c->ep[e & MASK].id == e)
			add_epoch(r, &c->ep[e & MASK]);
}

static bool resolved(const struct rs_cc_epoch *p)
{
	return p->ans + p->tmo + p->gone >= p->sent;
}

static void set_rate(struct rs_cc *c, double r)
{
	if (c->ceiling > 0 && r > c->ceiling)
		r = c->ceiling;
	if (r < c->floor)
		r = c->floor;
	c->rate = r;
	c->changed = c->now;
}

/* The standard error of the difference between a fast round's answered
 * fraction (n attempts) and the reference: both are estimates, and a
 * reference of 100% from a few rounds is not a certainty. */
static double fast_sigma(const struct rs_cc *c, double n)
{
	double p = (c->ref * c->ref_n + 1) / (c->ref_n + 2);

	return sqrt(p * (1 - p) * (1 / n + 1 / (c->ref_n + 2)));
}

/* How many attempts a running share follows: the last BASE_CAP of them,
 * or more when few are answered (a sparse world's share would otherwise
 * drift with the loss it is there to show). */
static double memory(double answered)
{
	return BASE_CAP / (answered > 0.02 ? answered : 0.02);
}

static unsigned rate_bin(double rate)
{
	double b = rate > 10 ? log(rate / 10) / log(1.25) : 0;

	return b < RS_CC_RATE_BINS - 1 ? (unsigned)b : RS_CC_RATE_BINS - 1;
}

/* The answered share to judge n attempts sent at rate against: what
 * rounds sent at 70% of that rate or less got back, once they hold
 * BIN_MIN_ANS answers (congestion cannot drag that down as it grows),
 * else the running reference. Also the standard error of the difference
 * for n, and how many attempts the share stands on. */
static double reference(const struct rs_cc *c, double rate, double n, double *sigma, double *known)
{
	double ln = 0, la = 0;

	for (unsigned b = 0; b < rate_bin(rate * 0.7); b++)
		ln += c->by_rate[b].n, la += c->by_rate[b].ans;
	if (la < BIN_MIN_ANS && (c->ref_n >= BASE_MIN_N || ln < BASE_MIN_N)) {
		*sigma = fast_sigma(c, n);
		*known = c->ref_n;
		return c->ref;
	}
	double p = (la + 1) / (ln + 2);
	*sigma = sqrt(p * (1 - p) * (1 / n + 1 / (ln + 2)));
	*known = ln;
	return la / ln;
}

/* n attempts sent at rate, ans of them answered: clearly fewer than the
 * reference (by 5% of it and 3 standard errors)? */
static bool fewer(const struct rs_cc *c, double rate, double n, double ans)
{
	double sigma, known, p = reference(c, rate, n, &sigma, &known);

	return known >= BASE_MIN_N && n >= FAST_CUT_N && ans / n < p * 0.95 - 3 * sigma;
}

/* ... or as many (within 3% and k standard errors: 2 for a single
 * round, which decides a doubling; 1 for a sum, which decides the small
 * steps near the path's limit)? */
static bool as_good(const struct rs_cc *c, double rate, double n, double ans, double k)
{
	double sigma, known, p = reference(c, rate, n, &sigma, &known);

	return n > 0 && ans / n >= p * 0.97 - k * sigma;
}

/* Add n attempts with ans answered to the reference. */
static void learn_ref(struct rs_cc *c, double n, double ans)
{
	double cap = memory(c->ref);

	c->ref = (c->ref * c->ref_n + ans) / (c->ref_n + n);
	c->ref_n = c->ref_n + n < cap ? c->ref_n + n : cap;
}

/* The rate round r was sent at, probes/s: every attempt, retries too.
 * A round is judged on its first attempts, but the path carried all of
 * them: after a burst of loss, retries took most of a round (its first
 * attempts left at 937/s of a 10,500/s rate, bench/wan.sh's bneck10 at
 * 1.6 s), and a cut from that rate sent the worker to 720/s. */
static double round_rate(const struct rs_cc_round *r)
{
	return (double)r->all /
	       ((double)(r->end - r->begin) * (double)(1u << RS_CC_EPOCH_SHIFT) / 1e9);
}

/* The share of what a round of n attempts sent at rate should have got
 * back that did come back: ans against the reference. */
static double kept_share(const struct rs_cc *c, double rate, double n, double ans)
{
	double sigma, known, p = reference(c, rate, n, &sigma, &known);

	return p > 0 && n > 0 ? ans / n / p : 0;
}

/* Round r lost probes to congestion, of which it kept the share `kept`
 * (of its answers, or of its attempts not timed out): cut the rate it was
 * sent at to a little below what the path delivered of it, 0.95 x kept,
 * but by 10% at least and 30% at most. Once: rounds that began before
 * the last cut do not cut again.
 * What was delivered is the path's rate (BBR's delivery rate): a round
 * sent 5% too fast lost ~5%, and a cut by 0.7 (CUBIC's, and TCP's 0.5)
 * left the path a third idle until the steps up came back, while a cut to
 * 0.9 keeps it busy. A loss that was not the path's (a burst of lag) cuts
 * as deep as it lost, and no deeper than 0.7. Slow start's exit may go
 * deeper, to 1/8: doubling blind for a round trip or two overshoots the
 * path by 2-8x (a sparse world's rounds are long), and from 0.7 at a time
 * the cuts took seconds of judgments, with most sends lost meanwhile. A
 * cut too deep there (lag read as loss) doubles back (`collapsed`). */
static bool cut(struct rs_cc *c, const struct rs_cc_round *r, double kept)
{
	if ((int32_t)(r->begin - c->held) < 0)
		return false; /* sent before the last cut took effect */
	double sent_rate = round_rate(r);
	double from = sent_rate < c->rate ? sent_rate : c->rate;
	c->loss_rate = sent_rate;
	if (c->slow_start)
		c->ss_end = c->now;
	c->good_max *= 0.9; /* a path that really got narrower lowers it */
	double f = 0.95 * kept, least = c->slow_start || c->ss_exit ? SS_CUT_MIN : 0.7;
	set_rate(c, from * (f < least ? least : f > 0.9 ? 0.9 : f));
	c->slow_start = false;
	c->ss_exit = false;
	c->held = c->now;
	c->cuts++;
	c->streak = 0;
	c->undecided = 0; /* two in a row at the new rate */
	return true;
}

/* Add a judged round to the sum of those sent at the current rate (ours:
 * it began after the last change; any other starts the sum again, all of
 * it: answers kept from dropped rounds once lifted the reference above
 * 100%, and every round after looked lossy). A round of a sparse world
 * holds too few answers to show a loss; once the sum holds SUM_ANS
 * expected, it is judged: *lost when clearly fewer came back than at
 * slower rates, true when as many (within one standard error: a step up
 * needs evidence). Between the two, the sum is undecided; where few
 * targets answer, a loss of a sixth to a third of them leaves every sum
 * undecided, and the rate sat there. Two undecided sums in a row count
 * as a loss: the cut sends at slower rates, whose answers make the
 * reference the next sums are judged against. */
static bool add_up(struct rs_cc *c, const struct rs_cc_round *done, bool ours, double rate,
		   bool *lost, double *kept)
{
	struct rs_cc_round *s = &c->sum;

	if (!ours) {
		*s = (struct rs_cc_round){0};
		return false;
	}
	s->sent += done->sent;
	s->ans += done->ans;
	s->gone += done->gone;
	double n = (double)(s->sent - s->gone), ans = (double)s->ans;
	if (n * (c->ref > 0.01 ? c->ref : 0.01) < SUM_ANS)
		return false;
	*s = (struct rs_cc_round){0};
	bool good = as_good(c, rate, n, ans, 1);
	if (fewer(c, rate, n, ans) || (!good && ++c->undecided >= 2)) {
		c->undecided = 0;
		*lost = true;
		*kept = kept_share(c, rate, n, ans);
		return false;
	}
	if (!good)
		return false;
	c->undecided = 0;
	learn_ref(c, n, ans);
	return true;
}

/* The small step up after `streak` raises without a cut: +3%, doubling
 * every 4 raises up to +25% (CUBIC's convex side). Near the path's limit
 * the next cut still comes within a few steps of 3-6%; far below it (a
 * cut that was not the path's: random loss or a burst of lag read as
 * congestion, or a slow start that stopped early) the rate finds the
 * limit again in seconds, not minutes. */
static double probe_step(uint32_t streak)
{
	double up = 1 + 0.03 * pow(2, streak / 4.0);

	return up < 1.25 ? up : 1.25;
}

/* A fast round shorter than len epochs, or with fewer sends than it
 * needs to be judged (FAST_MIN_N, or want: FAST_MIN_ANS expected answers). */
static bool too_short(const struct rs_cc_round *r, uint32_t len, double want)
{
	return r->end - r->begin < len || r->sent < FAST_MIN_N || (double)r->sent < want;
}

/* The fast judgment: raise the rate when the last round sent at the
 * current rate is (nearly) all answered already; cut it when clearly
 * fewer answers came back than usual (lost, or late behind a queue). */
static bool judge_fast(struct rs_cc *c, uint32_t rtt_ep, uint32_t wait_ep)
{
	struct rs_cc_round *r = &c->fast;
	uint32_t len = rtt_ep > 1 ? rtt_ep : 1;

	/* Grow the round over closed epochs until it is long enough, and
	 * holds FAST_MIN_ANS expected answers: where few targets answer, a
	 * round trip's round held a few, and one that lost half of them
	 * passed as good, so slow start doubled on (to 7.7x the link's
	 * capacity in test_sparse_retries). */
	double want = c->ref_n > 0 && c->ref > 0.01 ? FAST_MIN_ANS / c->ref : 0;
	if (too_short(r, len, want)) {
		r->end = c->now;
		tally(c, r);
		if (too_short(r, len, want) && r->end - r->begin < ROUND_MAX)
			return false;
	}
	tally(c, r);
	bool all = r->ans + r->tmo + r->gone >= r->sent;
	if (!all && c->now - r->end < wait_ep + 1)
		return false; /* its answers are still on their way */
	double n = (double)(r->sent - r->gone);
	double rate = round_rate(r);
	/* No answer yet, and none ever: the first rounds are judged before
	 * any round trip is known (the engine's wait is then 0), with their
	 * answers on their way. Such a round says nothing of the rate; in a
	 * sum it counted as answering none and cut a 300 ms path's first
	 * rounds at 1,000/s (test_first_rounds_blind). It starts the sum
	 * again instead. (The rate bins keep it: without it there, two
	 * workers sharing a link settled at 0.66 of its capacity.) */
	bool blind = c->ref_n <= 0 && !r->ans;
	bool good = n > 0 && (c->ref_n <= 0 ? r->ans > 0 : as_good(c, rate, n, (double)r->ans, 2));
	if (good && c->ref_n <= 0)
		learn_ref(c, n, (double)r->ans); /* the first; then from sums */
	bool lost = fewer(c, rate, n, (double)r->ans);
	double kept = lost ? kept_share(c, rate, n, (double)r->ans) : 1;
	c->by_rate[rate_bin(rate)].n += n;
	c->by_rate[rate_bin(rate)].ans += (double)r->ans;
	bool ours = (int32_t)(r->begin - c->changed) >= 0 && !blind; /* sent at this rate */
	struct rs_cc_round done = *r;
	*r = (struct rs_cc_round){.begin = r->end, .end = r->end};
	bool proven = add_up(c, &done, ours, rate, &lost, &kept);
	if (lost)
		return cut(c, &done, kept);
	bool far_below = c->loss_rate > 0 && c->rate < 0.8 * c->loss_rate;
	/* Cut after cut (a burst of lag, say) left it far below what the
	 * path carried lately: back up as from a slow start (TCP's ssthresh). */
	bool collapsed = c->rate < 0.5 * c->good_max;
	double up = c->slow_start || collapsed ? 2.0 : far_below ? 1.25 : probe_step(c->streak);
	/* ... but not past 0.9 x the rate that last lost: a round at
	 * slow start's overshoot that a queue absorbed passed as loss-free,
	 * and on a lossy 50 Mbit/s link the rate doubled back over what had
	 * just lost, again and again (first attempts lost: 30-57% a spell). */
	if (!c->slow_start && up > probe_step(c->streak) && c->loss_rate > 0) {
		double to = 0.9 * c->loss_rate / c->rate;
		up = to > up ? up : to > probe_step(c->streak) ? to : probe_step(c->streak);
	}
	/* Doubling waits for a good round sent at the rate it steps from;
	 * the smaller steps for such rounds added up to enough answers to
	 * show a loss of a few percent. */
	if (up > 1.25 ? !good || !ours : !proven)
		return false;
	if (c->ceiling > 0 && c->rate >= c->ceiling)
		return false;
	c->raises++;
	c->streak++;
	set_rate(c, c->rate * up);
	/* The next round is sent at the new rate. */
	*r = (struct rs_cc_round){.begin = c->now, .end = c->now};
	return true;
}

/* The full judgment of one complete round: update the base, or cut. */
static bool judge_full(struct rs_cc *c, const struct rs_cc_round *r)
{
	double n = (double)(r->ans + r->tmo);

	if (n <= 0)
		return false;
	double u = (double)r->tmo / n;
	if (c->base_n < BASE_MIN_N) {
		/* The first rounds, sent at the gentle start. */
		c->base = (c->base * c->base_n + u * n) / (c->base_n + n);
		c->base_n += n;
		if (c->base_n >= BASE_MIN_N && c->ref_n <= 0) {
			/* No fast round was answered at all: the answered share
			 * is ~0 (a wholly filtered range), and a round with no
			 * answer is as good as any. */
			c->ref = 1 - c->base;
			c->ref_n = c->base_n;
		}
		return false;
	}
	/* Both the round's fraction and the base are estimates: three
	 * standard errors of their difference, and never less than 2% of
	 * the answered share (relative: a sparse world's answers count). */
	double var = c->base * (1 - c->base) * (1 / n + 1 / c->base_n);
	double margin = 3 * sqrt(var) + 3 / n;
	double least = 0.02 * (1 - c->base);
	double rate = round_rate(r);
	if (u <= c->base + (margin > least ? margin : least)) {
		/* Loss-free only where the margin could have shown a loss of
		 * a tenth: a sparse world's wide margin passed rounds at 7x
		 * the link's capacity, and the rate doubled back to them
		 * (test_sparse_retries). There the drop judgment sets it. */
		if (rate > c->good_max && margin <= 0.1 * (1 - c->base))
			c->good_max = rate;
		double cap = memory(1 - c->base);
		c->base = (c->base * c->base_n + u * n) / (c->base_n + n);
		c->base_n = c->base_n + n < cap ? c->base_n + n : cap;
		return false;
	}
	return cut(c, r, (1 - u) / (1 - c->base));
}

/* Grow the full round over complete epochs; judge it when it is big
 * enough. */
static bool step_full(struct rs_cc *c, uint32_t rtt_ep)
{
	struct rs_cc_round *r = &c->full;
	uint32_t len = rtt_ep > 1 ? rtt_ep : 1;
	bool changed = false;

	if (c->now - r->begin > RS_CC_EPOCHS - ROUND_MAX)
		*r = (struct rs_cc_round){.begin = c->now - ROUND_MAX, .end = c->now - ROUND_MAX};
	while (r->end != c->now) {
		const struct rs_cc_epoch *p = slot_of(c, r->end);
		if (p && !resolved(p) && c->now - r->end <= p->lag + 1 &&
		    c->now - r->end < RS_CC_EPOCHS - ROUND_MAX)
			break; /* not complete yet */
		r->end++;
		if (p) /* complete: what it holds now is what it is judged on */
			add_epoch(r, p);
		if ((r->end - r->begin >= len && r->ans + r->tmo >= FULL_MIN_N) ||
		    r->end - r->begin >= ROUND_MAX) {
			changed |= judge_full(c, r);
			*r = (struct rs_cc_round){.begin = r->end, .end = r->end};
		}
	}
	return changed;
}

/* The drop judgment of one round whose retries are in: of its first
 * attempts that were answered at all, the share that needed a retry is
 * the share the path lost (nmap's drop detection: a probe answered only
 * when sent again). Its retries add theirs: a retry answered is one
 * delivered, and one lost is counted only when a later retry of its
 * probe was answered, which a retry delivered is too, so that lost
 * against answered (rlate / rans) is the loss, as late / (ans + late) is
 * for first attempts, and the two add up. Where most targets are
 * filtered, that share needs no reference answered share, which few
 * answers leave unknown or learnt from congested rounds; it is judged
 * against what rounds sent at 70% of the rate or less lost (random
 * loss), or, until those hold DROP_REF_N answered probes, against
 * DROP_PRIOR. Cut when clearly above: by 3 points and 3 standard errors. */
static bool judge_drop(struct rs_cc *c, const struct rs_cc_round *r)
{
	double resp = (double)(r->ans + r->late + r->rans), ln = 0, base = DROP_PRIOR;
	double late = (double)(r->late + r->rlate);

	if (resp <= 0)
		return false;
	double rate = round_rate(r);
	for (unsigned b = 0; b < rate_bin(rate * 0.7); b++) {
		double n = c->by_rate[b].resp;
		if (n >= DROP_REF_N && (!ln || c->by_rate[b].late / n < base))
			ln = n, base = c->by_rate[b].late / n;
	}
	/* Where every rate sent was above the path's (a small sparse world
	 * behind 2 Mbit/s: slow start's overshoot, then cuts from it), the
	 * slower rounds lost to congestion too, 56% of their retries, and a
	 * tail losing 70% passed as no worse. A loss past DROP_REF_MAX is
	 * not the path's random loss. */
	if (base > DROP_REF_MAX)
		base = DROP_REF_MAX;
	if (!c->slow_start && (int32_t)(r->begin - c->ss_end) >= 0) {
		/* A round sent in slow start holds the queue its overshoot
		 * filled, whatever its own rate: no anchor. */
		c->by_rate[rate_bin(rate)].resp += resp;
		c->by_rate[rate_bin(rate)].late += late;
	}
	if (resp < DROP_MIN_N / 4)
		return false;
	bool known = ln > 0;
	double lost = late / resp < 1 ? late / resp : 1;
	double p = base > 2 * DROP_PRIOR ? base : 2 * DROP_PRIOR;
	double sigma = sqrt(p * (1 - p) * (1 / resp + (known ? 1 / ln : 0)));
	if (lost <= base + 0.03 + 3 * sigma) {
		if (lost <= base + 0.03 && rate > c->good_max)
			c->good_max = rate;
		return false;
	}
	return cut(c, r, (1 - lost) / (1 - base));
}

/* Grow the drop round over epochs old enough that a retry of their
 * attempts has been answered (the attempt's timeout, the retry's wait,
 * at most as long, its round trip: within 3 timeouts, as far back as the
 * epochs are kept); judge it once it holds DROP_MIN_N answered probes. */
static bool step_drop(struct rs_cc *c)
{
	struct rs_cc_round *r = &c->drop;
	bool changed = false;

	if (c->now - r->end > RS_CC_EPOCHS - ROUND_MAX)
		*r = (struct rs_cc_round){.begin = c->now - (RS_CC_EPOCHS - ROUND_MAX),
					  .end = c->now - (RS_CC_EPOCHS - ROUND_MAX)};
	while (r->end != c->now) {
		const struct rs_cc_epoch *p = slot_of(c, r->end);
		/* An epoch of first attempts is judged as soon as they can
		 * be (a retry lost later than that goes uncounted); one of
		 * retries only (a tail) waits for its own. */
		uint32_t lag = !p ? 0 : p->sent ? p->lag : p->rlag;
		if (r->end == c->held && r->end != r->begin)
			/* What was sent before the last cut cannot cut again: a
			 * round that began before it starts again there (in a
			 * tail of few answers, one spanning it by 40 of its
			 * 3,072 epochs was all the tail had). */
			*r = (struct rs_cc_round){.begin = r->end, .end = r->end};
		uint32_t wait = 3 * lag + 2 < DROP_WAIT ? 3 * lag + 2 : DROP_WAIT;
		if (p && c->now - r->end <= wait)
			break; /* its retries may still be answered */
		r->end++;
		if (p)
			add_epoch(r, p);
		if (r->ans + r->late + r->rans >= DROP_MIN_N || r->end - r->begin >= DROP_MAX) {
			changed |= judge_drop(c, r);
			*r = (struct rs_cc_round){.begin = r->end, .end = r->end};
		}
	}
	return changed;
}

bool rs_cc_step(struct rs_cc *c, uint32_t now, uint32_t rtt_ep, uint32_t wait_ep)
{
	if ((int32_t)(now - c->now) <= 0)
		return false;
	c->now = now;
	bool changed = step_full(c, rtt_ep);
	changed |= step_drop(c);
	return judge_fast(c, rtt_ep, wait_ep) || changed;
}

/* End slow start on another worker's cut (rs_cc_share). The rate stays:
 * this worker's own rounds, sent while it doubled, saw the loss too, and
 * the first of them to be judged cuts it to what the path delivered of
 * them, as deep as slow start's exit may; until then it has no cut, and
 * the others leave its rate out of their mean. Setting it to the other's
 * rate instead doubled the path's load: that rate was what the path
 * delivered of the other's sends while this one sent less. */
static void peer_cut(struct rs_cc *c)
{
	c->slow_start = false;
	c->ss_exit = true;
	c->ss_end = c->now;
	c->streak = 0;
	c->undecided = 0;
}

bool rs_cc_share(struct rs_cc *c, const struct rs_cc_peer *peers, unsigned n)
{
	double sum = c->rate;
	unsigned k = 1;

	for (unsigned i = 0; i < n && c->slow_start; i++)
		if (peers[i].cuts)
			peer_cut(c);
	for (unsigned i = 0; i < n; i++)
		if (peers[i].sending && peers[i].rate > 0 && (!c->cuts || peers[i].cuts))
			sum += peers[i].rate, k++;
	double mean = sum / k;
	if (k < 2 || (c->rate <= 1.25 * mean && c->rate >= 0.8 * mean))
		return false;
	set_rate(c, (c->rate + mean) / 2);
	return true;
}
