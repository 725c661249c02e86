/* The congestion controller against a model link, one epoch at a time:
 * a sender at the controller's rate, a bottleneck of C probes/s with a
 * FIFO of Q probes (tail drop), a round trip, random loss and a share of
 * filtered targets. Timeouts come a fixed lag after the send. Checks that
 * it finds a loopback's speed fast, holds a bottleneck at 80-100% of its
 * capacity with little loss, does not mistake random loss or filtered
 * ports for congestion, and keeps to its ceiling. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cc.h"
#include "lossy.h"
#include "rtt.h"

#define EPOCH_S	  ((double)(1u << RS_CC_EPOCH_SHIFT) / 1e9)
#define HORIZON	  8192 /* epochs an event may lie ahead */
#define PER_EPOCH 16
#define WORKERS	  2 /* controllers sharing one link, at most */

struct event {
	uint32_t sent; /* the epoch the probes left in */
	uint32_t n;
	uint8_t timeout;
	uint8_t who; /* the controller (worker) that sent them */
};

struct link {
	double cap;	  /* probes/s through the bottleneck, 0 = no bottleneck */
	double queue;	  /* probes the bottleneck holds */
	uint32_t rtt;	  /* epochs */
	uint32_t lag;	  /* epochs from send to timeout */
	double loss;	  /* random, per probe round trip */
	double filtered;  /* share of targets that never answer */
	int syn_queue;	  /* their SYNs take the bottleneck too (forward) */
	double retries;	  /* share of the sends that are retries (to filtered targets) */
	double far;	  /* share of targets farther away: */
	uint32_t far_rtt; /* their round trip, epochs */
	uint32_t stall_from, stall_to, stall; /* sends in [from, to) answer stall late */
	double backlog;			      /* probes in the bottleneck's queue */
	double carry[WORKERS];		      /* fractional probes not yet sent */
	bool engine_wait;		      /* wait as the engine: 0 until an answer */
	bool heard[WORKERS];		      /* ... came back to that controller */
	uint64_t sent, dropped;		      /* totals over the measured window */
	uint64_t live, live_lost;	      /* ... of probes to answering targets */
	uint64_t rng;
	struct event ev[HORIZON][PER_EPOCH];
	uint8_t nev[HORIZON];
};

static double uniform(struct link *l)
{
	l->rng ^= l->rng << 13;
	l->rng ^= l->rng >> 7;
	l->rng ^= l->rng << 17;
	return (double)(l->rng >> 11) / (double)(1ull << 53);
}

static void schedule(struct link *l, uint32_t due, uint32_t sent, uint32_t n, int timeout,
		     unsigned who)
{
	uint32_t k = due % HORIZON;

	if (!n)
		return;
	for (unsigned i = 0; i < l->nev[k]; i++)
		if (l->ev[k][i].sent == sent && l->ev[k][i].timeout == timeout &&
		    l->ev[k][i].who == who) {
			l->ev[k][i].n += n;
			return;
		}
	assert_true(l->nev[k] < PER_EPOCH);
	l->ev[k][l->nev[k]++] = (struct event){
		.sent = sent, .n = n, .timeout = (uint8_t)timeout, .who = (uint8_t)who};
}

/* What became of one epoch's probes of one controller. */
struct sends {
	uint32_t n, lost, queued, far;
	uint32_t relost; /* of lost, those to answering targets: a retry finds them */
};

/* One probe of controller c through the link, whose queue already holds
 * queued (answering) and blind (filtered) probes of this epoch. */
static void send_one(struct link *l, struct rs_cc *c, uint32_t t, int measure, struct sends *o,
		     uint32_t queued, uint32_t *blind)
{
	bool full = l->cap > 0 && l->backlog + queued + *blind + 1 > l->queue;
	if (l->retries > 0 && t > 2 * l->lag && uniform(l) < l->retries) {
		rs_cc_resent(c, t, l->lag); /* a retry: it takes its place, unjudged */
		*blind += l->syn_queue && !full;
		return;
	}
	rs_cc_sent(c, t, l->lag);
	if (uniform(l) < l->filtered) {
		o->lost++;
		*blind += l->syn_queue && !full;
		return;
	}
	l->live += measure;
	if (uniform(l) < l->loss)
		o->lost++, o->relost++;
	else if (full)
		o->lost++, o->relost++, l->dropped += measure, l->live_lost += measure;
	else if (uniform(l) < l->far)
		o->far++;
	else
		o->queued++;
}

/* One epoch t: deliver what is due, let each of the nc controllers c[]
 * (workers sharing the link) send at its rate, their probes interleaved,
 * step them. */
static void tick_n(struct link *l, struct rs_cc *const *c, unsigned nc, uint32_t t, int measure)
{
	uint32_t k = t % HORIZON;
	struct sends o[WORKERS] = {{0}};
	uint32_t queued = 0, blind = 0;

	for (unsigned i = 0; i < l->nev[k]; i++) {
		const struct event *ev = &l->ev[k][i];
		for (uint32_t j = 0; j < ev->n; j++)
			(ev->timeout == 2   ? rs_cc_late
			 : ev->timeout == 1 ? rs_cc_timed_out
					    : rs_cc_answered)(c[ev->who], ev->sent);
		l->heard[ev->who] |= !ev->timeout;
	}
	l->nev[k] = 0;

	for (unsigned w = 0; w < nc; w++) {
		l->carry[w] += c[w]->rate * EPOCH_S;
		o[w].n = (uint32_t)l->carry[w];
		l->carry[w] -= o[w].n;
	}
	/* Each worker's epoch of probes leaves as a burst (its token bucket
	 * lets up to 2 ms go at once), the bursts in a random order. */
	unsigned first = nc > 1 ? (unsigned)(uniform(l) * nc) % nc : 0;
	for (unsigned j = 0; j < nc; j++) {
		unsigned w = (first + j) % nc;
		for (uint32_t i = 0; i < o[w].n; i++) {
			uint32_t before = o[w].queued;
			send_one(l, c[w], t, measure, &o[w], queued, &blind);
			queued += o[w].queued - before;
		}
	}
	uint32_t qdelay =
		l->cap > 0 ? (uint32_t)((l->backlog + queued + blind) / (l->cap * EPOCH_S)) : 0;
	if (t >= l->stall_from && t < l->stall_to)
		qdelay += l->stall;
	for (unsigned w = 0; w < nc; w++) {
		l->sent += measure ? o[w].n : 0;
		schedule(l, t + l->far_rtt, t, o[w].far, 0, w);
		schedule(l, t + (l->rtt ? l->rtt : 1) + qdelay, t, o[w].queued, 0, w);
		schedule(l, t + l->lag, t, o[w].lost, 1, w);
		/* Retried a quarter of a timeout later, and answered. */
		schedule(l, t + l->lag + l->lag / 4 + l->rtt + 1, t, o[w].relost, 2, w);
	}
	if (l->cap > 0) {
		l->backlog += queued + blind - l->cap * EPOCH_S;
		if (l->backlog < 0)
			l->backlog = 0;
	}
	uint32_t most = l->far > 0 && l->far_rtt > l->rtt ? l->far_rtt : l->rtt;
	for (unsigned w = 0; w < nc; w++) {
		/* The engine's round trips come from answers: none yet, 0. */
		bool known = !l->engine_wait || l->heard[w];
		rs_cc_step(c[w], t + 1, known ? l->rtt : 0, known ? most + most / 8 : 0);
	}
}

static void tick(struct link *l, struct rs_cc *c, uint32_t t, int measure)
{
	tick_n(l, &c, 1, t, measure);
}

static struct link *link_new(double cap, double queue, uint32_t rtt, double loss, double filtered)
{
	struct link *l = calloc(1, sizeof(*l));
	struct rs_rtt r = {0};

	assert_non_null(l);
	l->cap = cap;
	l->queue = queue;
	l->rtt = rtt;
	l->loss = loss;
	l->filtered = filtered;
	l->rng = 88172645463325252ull;
	/* The timeout the engine would use for this round trip. */
	for (int i = 0; i < 100; i++)
		rs_rtt_sample(&r, (uint32_t)((double)rtt * EPOCH_S * 1e6));
	l->lag = (uint32_t)(rs_rtt_rto_us(&r, 10000000) / (EPOCH_S * 1e6)) + 1;
	return l;
}

/* Run for epochs, measuring the second half; returns the mean send rate
 * over it. */
static double run(struct link *l, struct rs_cc *c, uint32_t epochs)
{
	for (uint32_t t = 1; t <= epochs; t++) {
		tick(l, c, t, t > epochs / 2);
		if (getenv("CC_TRACE") && t % (unsigned)atoi(getenv("CC_TRACE")) == 0)
			print_message("t %u rate %.0f ref %.4f/%.0f base %.4f/%.0f good_max %.0f "
				      "cuts %llu\n",
				      t, c->rate, c->ref, c->ref_n, c->base, c->base_n, c->good_max,
				      (unsigned long long)c->cuts);
	}
	return (double)l->sent / ((double)(epochs - epochs / 2) * EPOCH_S);
}

/* Loopback: 500,000 probes/s within ~60 ms, with 5% of the targets
 * filtered and with 90% (and a 1 s timeout: no waiting for timeouts). */
static void ramp(double filtered, uint32_t lag)
{
	struct rs_cc *c = malloc(sizeof(*c));
	struct link *l = link_new(0, 0, 0, 0, filtered);
	uint32_t t;

	if (lag)
		l->lag = lag;
	assert_non_null(c);
	rs_cc_init(c, 1000, 0, 1);
	for (t = 1; t < 200 && c->rate < 500000; t++) {
		tick(l, c, t, 0);
		if (getenv("CC_TRACE"))
			print_message("t %u rate %.0f base %.3f/%.0f\n", t, c->rate, c->base,
				      c->base_n);
	}
	assert_true(c->rate >= 500000);
	assert_true(t < 60); /* ~60 ms */
	assert_int_equal(c->cuts, 0);
	free(l);
	free(c);
}

static void test_loopback_ramps_fast(void **state)
{
	(void)state;
	ramp(0.05, 0);
	ramp(0.9, 954);
}

/* A bottleneck: what it is offered (the sends that are not filtered nor
 * lost on the way) within 3% of its capacity, loss to its queue under 3%,
 * and it carries at least 90% of its capacity. */
static void bottleneck(double cap, double queue, uint32_t rtt, double loss, uint32_t lag)
{
	struct rs_cc *c = malloc(sizeof(*c));
	struct link *l = link_new(cap, queue, rtt, loss, 0.016);

	assert_non_null(c);
	if (lag)
		l->lag = lag;
	rs_cc_init(c, 1000, 0, 1);
	double r = run(l, c, 20000); /* ~21 s */
	double dropped = (double)l->dropped / (double)l->sent;
	double offered = r * (1 - l->filtered) * (1 - loss), carried = offered - r * dropped;
	print_message("cap %.0f queue %.0f rtt %u ep loss %.3f: rate %.0f (%.2f), offered %.2f, "
		      "carried %.2f, dropped %.4f, cuts %llu\n",
		      cap, queue, rtt, loss, r, r / cap, offered / cap, carried / cap, dropped,
		      (unsigned long long)c->cuts);
	assert_true(carried >= 0.9 * cap);
	assert_true(offered <= 1.03 * cap);
	assert_true(dropped < 0.03);
	free(l);
	free(c);
}

static void test_bottleneck_20k_q100(void **state)
{
	(void)state;
	bottleneck(20000, 100, 40, 0, 0);
}

/* -t 1000: timeouts tell of congestion a second late; answers do not. */
static void test_bottleneck_slow_timeouts(void **state)
{
	(void)state;
	bottleneck(20000, 100, 40, 0, 954);
}

static void test_bottleneck_100k_q1000_far(void **state)
{
	(void)state;
	bottleneck(100000, 1000, 290, 0.02, 0);
}

static void test_bottleneck_10k_lossy(void **state)
{
	(void)state;
	bottleneck(10000, 200, 95, 0.02, 0);
}

/* 2% random loss and 30% filtered, no bottleneck: never cut. */
static void test_random_loss_is_not_congestion(void **state)
{
	(void)state;
	struct rs_cc *c = malloc(sizeof(*c));
	struct link *l = link_new(0, 0, 20, 0.02, 0.3);

	assert_non_null(c);
	rs_cc_init(c, 1000, 200000, 1); /* a ceiling, to keep the model quick */
	run(l, c, 3000);
	assert_int_equal(c->cuts, 0);
	assert_true(c->rate >= 200000);
	free(l);
	free(c);
}

/* 10% of the targets at 300 ms, the rest at 20 ms: the far ones' late
 * answers do not hold the rate down. */
static void test_near_and_far(void **state)
{
	(void)state;
	struct rs_cc *c = malloc(sizeof(*c));
	struct link *l = link_new(0, 0, 19, 0, 0.02);

	assert_non_null(c);
	l->far = 0.1;
	l->far_rtt = 286;
	l->lag = 450;
	rs_cc_init(c, 1000, 2000000, 1);
	run(l, c, 5000);
	assert_int_equal(c->cuts, 0);
	assert_true(c->rate >= 2000000);
	free(l);
	free(c);
}

/* A burst of lag (answers to 300 ms of sends come 250 ms late, as when
 * the machine or a router stalls) cuts the rate many times; within ~3 s
 * it is back near the bottleneck's capacity. */
static void test_lag_burst(void **state)
{
	(void)state;
	struct rs_cc *c = malloc(sizeof(*c));
	struct link *l = link_new(20000, 200, 95, 0, 0.016);

	assert_non_null(c);
	l->stall_from = 5000;
	l->stall_to = 5286;
	l->stall = 238;
	rs_cc_init(c, 1000, 0, 1);
	for (uint32_t t = 1; t < 5500; t++)
		tick(l, c, t, 0);
	double low = c->rate;
	for (uint32_t t = 5500; t < 8400; t++)
		tick(l, c, t, 0);
	print_message("lag burst: rate %.0f after it, %.0f 3 s on, %llu cuts\n", low, c->rate,
		      (unsigned long long)c->cuts);
	assert_true(c->rate >= 0.7 * 20000);
	free(l);
	free(c);
}

/* Each of two workers' controllers looks at the other's, as the engine
 * does every 16 ms from shared memory (rs_cc_share). */
static void share(struct rs_cc *const *c)
{
	for (unsigned w = 0; w < 2; w++) {
		struct rs_cc_peer other = {
			.rate = c[!w]->rate, .cuts = c[!w]->cuts, .sending = true};
		rs_cc_share(c[w], &other, 1);
	}
}

/* Two workers, each with its own controller, share one bottleneck (10
 * Mbit/s, 100 packets, RTT 40 ms, bench/wan.sh's bneck10). Multiplicative
 * steps keep the ratio of their rates whatever it is, so each must be
 * pulled towards their mean (rs_cc_share, as the engine does every 16 ms
 * from the rates in shared memory), or a worker that took a few more cuts
 * could starve: on that link one ended at 240/s beside 20,000/s, and the
 * positions it held trickled out for 13 s. Over the last half: both near
 * half of the total, the total near the capacity. Without the pull: 4,146
 * and 11,524/s, 0.75 of the capacity. */
static void two_workers(uint32_t stall_from, const char *what)
{
	struct rs_cc *c[2] = {malloc(sizeof(struct rs_cc)), malloc(sizeof(struct rs_cc))};
	struct link *l = link_new(20833, 100, 38, 0, 0.016);
	double mean[2] = {0, 0}, ref_max = 0;
	const uint32_t epochs = 20000;

	assert_non_null(c[0]);
	assert_non_null(c[1]);
	l->stall_from = stall_from; /* a burst of lag that one worker's rounds see */
	l->stall_to = stall_from + 300;
	l->stall = 200;
	rs_cc_init(c[0], 1000, 0, 1);
	rs_cc_init(c[1], 1000, 0, 1);
	for (uint32_t t = 1; t <= epochs; t++) {
		tick_n(l, c, 2, t, t > epochs / 2);
		if (t % 16 == 0 && !getenv("CC_NO_SHARE"))
			share(c);
		for (int w = 0; w < 2 && t > epochs / 2; w++)
			mean[w] += c[w]->rate / (epochs - epochs / 2);
		for (int w = 0; w < 2; w++)
			if (c[w]->ref_n >= 256 && c[w]->ref > ref_max)
				ref_max = c[w]->ref;
	}
	double total = (double)l->sent / ((double)(epochs - epochs / 2) * EPOCH_S);
	print_message(
		"two workers, %s: %.0f + %.0f /s, sent %.0f/s (%.2f), dropped %.4f, cuts %llu "
		"+ %llu, answered share at most %.3f\n",
		what, mean[0], mean[1], total, total / 20833, (double)l->dropped / (double)l->sent,
		(unsigned long long)c[0]->cuts, (unsigned long long)c[1]->cuts, ref_max);
	/* 1.6% of the targets never answer: a reference above 98.4% (above
	 * 100% once: a sum started again kept the answers of the rounds it
	 * dropped) makes every round look lossy. */
	assert_true(ref_max <= 1.0);
	assert_true(mean[0] >= 0.35 * (mean[0] + mean[1]));
	assert_true(mean[1] >= 0.35 * (mean[0] + mean[1]));
	assert_true(total >= 0.8 * 20833);
	free(l);
	free(c[0]);
	free(c[1]);
}

static void test_two_workers_share(void **state)
{
	(void)state;
	two_workers(0, "alike");
	two_workers(3000, "a burst of lag");
}

/* bench/wan.sh's far link: RTT 300 ms, 2% loss each way, 100,000/s with a
 * 1,000-probe queue, 1.6% of the targets filtered. */
static struct link *far_link(void)
{
	return link_new(100000, 1000, 286, 0.04, 0.016);
}

/* A far path (RTT 300 ms, 2% loss each way, 100,000/s) whose burst of
 * lag early on cuts the rate to ~1,400/s, far below its limit: with
 * nothing lost since, the steps up grow and the limit is found again in
 * seconds. With +3% steps only it was still at 3,400/s 18 s later (and
 * on bench/wan.sh's far link took 60 s to climb back to 14,000/s). */
static void test_false_cut_recovers(void **state)
{
	(void)state;
	struct rs_cc *c = malloc(sizeof(*c));
	struct link *l = far_link();
	uint32_t t;

	assert_non_null(c);
	l->stall_from = 1000;
	l->stall_to = 1400;
	l->stall = 600;
	rs_cc_init(c, 1000, 0, 1);
	for (t = 1; t < 2500; t++)
		tick(l, c, t, 0);
	double low = c->rate;
	uint64_t cuts = c->cuts;
	for (; t < 20000 && c->rate < 50000; t++)
		tick(l, c, t, 0);
	print_message("false cut: %.0f/s at 2.6 s after %llu cut(s); %.0f/s at %.1f s\n", low,
		      (unsigned long long)cuts, c->rate, t * EPOCH_S);
	assert_true(cuts > 0 && low < 5000); /* the burst did cut it */
	assert_true(c->rate >= 50000);	     /* and it came back within 21 s */
	free(l);
	free(c);
}

/* The first rounds on a far path are judged before any answer came back
 * (the engine's wait is its largest round trip seen: none yet, 0), so
 * the first ones hold no answer. They say nothing: counted in a sum as
 * answering none, they cut both workers' first rounds at 1,000/s on
 * bench/wan.sh's far link (RTT 300 ms, 2% loss each way). Slow start
 * must run on: no cut within 3 s, 16,000/s by then. */
static void test_first_rounds_blind(void **state)
{
	(void)state;
	struct rs_cc *c = malloc(sizeof(*c));
	struct link *l = far_link();
	uint32_t t;

	assert_non_null(c);
	l->engine_wait = true;
	rs_cc_init(c, 1000, 0, 1);
	for (t = 1; t < 2860; t++)
		tick(l, c, t, 0);
	print_message("first rounds blind: %.0f/s at 3 s, %llu cuts\n", c->rate,
		      (unsigned long long)c->cuts);
	assert_int_equal(c->cuts, 0);
	assert_true(c->rate >= 16000);
	free(l);
	free(c);
}

/* Nothing answers (a wholly filtered range): no signal of the path
 * either way, so the rate goes up as on loopback, here to 200,000/s
 * within ~1.5 s (the first second waits for the first timeouts). */
static void test_nothing_answers(void **state)
{
	(void)state;
	struct rs_cc *c = malloc(sizeof(*c));
	struct link *l = link_new(0, 0, 0, 0, 1.0);
	uint32_t t;

	assert_non_null(c);
	l->lag = 954;
	rs_cc_init(c, 1000, 1000000, 1);
	for (t = 1; t < 3000 && c->rate < 200000; t++)
		tick(l, c, t, 0);
	print_message("nothing answers: %.0f/s at %u ms\n", c->rate, t);
	assert_true(c->rate >= 200000);
	assert_true(t < 1500);
	assert_int_equal(c->cuts, 0);
	free(l);
	free(c);
}

/* A sparse world behind a bottleneck: 20%, 5% or 2% of the targets
 * answer, and every SYN takes the queue, so the answered share falls
 * with the loss. Before the controller judged against the share slower
 * rounds got back (by_rate), the reference followed the loss down and
 * the rate ran to the ceiling (20x the link's capacity, 95% of the
 * answering probes lost). */
static void sparse_re(double cap, double queue, uint32_t rtt, double filtered, double retries,
		      double under, double over, double live_max)
{
	struct rs_cc *c = malloc(sizeof(*c));
	struct link *l = link_new(cap, queue, rtt, 0, filtered);

	assert_non_null(c);
	l->syn_queue = 1;
	l->retries = retries;
	rs_cc_init(c, 1000, 20 * cap, 1); /* a ceiling keeps a blind model quick */
	double r = run(l, c, 30000);	  /* ~31 s */
	double lost = (double)l->live_lost / (double)l->live;
	print_message("sparse %.3f retries %.2f cap %.0f queue %.0f rtt %u: rate %.0f (%.2f), "
		      "answering lost %.4f (%llu of %llu), cuts %llu\n",
		      1 - filtered, retries, cap, queue, rtt, r, r / cap, lost,
		      (unsigned long long)l->live_lost, (unsigned long long)l->live,
		      (unsigned long long)c->cuts);
	assert_true(r >= under * cap);
	assert_true(r <= over * cap);
	assert_true(lost < live_max);
	free(l);
	free(c);
}

static void sparse(double cap, double queue, uint32_t rtt, double filtered, double under,
		   double over, double live_max)
{
	sparse_re(cap, queue, rtt, filtered, 0, under, over, live_max);
}

static void test_sparse_bottleneck(void **state)
{
	(void)state;
	sparse(20000, 200, 95, 0.98, 0.25, 9, 1);
	sparse(20000, 200, 20, 0.8, 0.7, 1.05, 0.02);
	sparse(50000, 500, 40, 0.95, 0.7, 1.1, 0.06);
	/* 400 answers a second at the link's capacity: a sum tells neither
	 * a loss of 12-33% nor its absence from chance. Left there, the rate
	 * sat at 1.5x the capacity with a third of the answers lost; two
	 * undecided sums in a row now count as a loss (1.01x, 7.5% lost). */
	sparse(20000, 200, 95, 0.98, 0.25, 1.15, 0.15);
}

/* 90% filtered behind 10 Mbit/s (bench/wan.sh's bneck10), retries
 * (to filtered targets: 7 attempts each) 80% of the sends once the first
 * timeouts are in: few first attempts, few answers to judge. Where the
 * rate a round was sent at counted first attempts only, each cut went to
 * 0.7 of a fifth of the rate (0.55x the capacity here). Counting them
 * all, 1.16x with 13% of the answering probes lost, the reference and
 * good_max learnt from a congested start; with the drop judgment and
 * the rules that keep weak evidence from raising the rate, 1.04x and 4%.
 * Behind 2 Mbit/s, retries 90% of the sends: 3.6x and 74% lost before,
 * 0.98x and 5% now. */
static void test_sparse_retries(void **state)
{
	(void)state;
	sparse_re(20800, 100, 40, 0.9, 0.8, 0.7, 1.15, 0.08);
	sparse_re(4166, 100, 40, 0.9, 0.9, 0.7, 1.15, 0.08);
}

/* The drop judgment takes a share lost on a retry of 2% as normal until
 * slower rounds tell it more: random loss of 4% a round trip (2% each
 * way, the most issue 11 asks for) in that sparse world must not keep
 * cutting the rate (0.80x of the link's capacity; 8% gives 0.64x, 12%
 * 0.31x: a link that loses that much is slowed). */
static void test_sparse_random_loss(void **state)
{
	(void)state;
	struct rs_cc *c = malloc(sizeof(*c));
	struct link *l = link_new(20000, 1000, 40, 0.04, 0.9);

	assert_non_null(c);
	l->syn_queue = 1;
	l->retries = 0.8;
	rs_cc_init(c, 1000, 200000, 1);
	double r = run(l, c, 20000);
	print_message("sparse, 4%% random loss: sent %.0f/s (%.2f), cuts %llu\n", r, r / 20000,
		      (unsigned long long)c->cuts);
	assert_true(r >= 0.7 * 20000);
	free(l);
	free(c);
}

/* Epochs [from, to) of per first attempts and re retries each, of which
 * a share `kept` of the first comes back at once (the rest times out at
 * once); the controller stepped after each, its round trip one epoch,
 * until the first cut. Returns the rate before that cut, or 0 if none. */
static double feed_re(struct rs_cc *c, uint32_t from, uint32_t to, uint32_t per, uint32_t re,
		      double kept)
{
	for (uint32_t t = from; t < to; t++) {
		uint32_t ans = (uint32_t)(per * kept + 0.5);
		for (uint32_t i = 0; i < re; i++)
			rs_cc_resent(c, t, 1);
		for (uint32_t i = 0; i < per; i++) {
			rs_cc_sent(c, t, 1);
			(i < ans ? rs_cc_answered : rs_cc_timed_out)(c, t);
		}
		double r = c->rate;
		uint64_t cuts = c->cuts;
		rs_cc_step(c, t + 1, 1, 1);
		if (c->cuts > cuts)
			return r;
	}
	return 0;
}

static double feed(struct rs_cc *c, uint32_t from, uint32_t to, uint32_t per, double kept)
{
	return feed_re(c, from, to, per, 0, kept);
}

/* A cut takes the rate to a little below what the path delivered of the
 * round that lost (0.95 x the share kept), by 10% at least and 30% at
 * most: a round that lost 20% is cut to 0.76 of its rate at the deepest
 * (less when the round began before the loss did), one that lost 5% to
 * 0.9, one that lost half to 0.7. With a cut by 0.7 whatever was lost,
 * the 10 Mbit/s link (bench/wan.sh's bneck10) sat a third idle after each
 * cut until the steps up brought it back. */
static void cut_depth(double kept, double deepest)
{
	struct rs_cc *c = malloc(sizeof(*c));
	const uint32_t per = 20; /* ~19,000/s: below the rate by then */

	assert_non_null(c);
	rs_cc_init(c, 1000, 0, 1);
	assert_true(feed(c, 1, 3000, per, 1.0) == 0); /* nothing lost: no cut */
	double sent = per / EPOCH_S;
	assert_true(c->rate > sent);
	double before = feed(c, 3000, 3100, per, kept);
	assert_true(before > 0);
	double from = before < sent ? before : sent;
	print_message("cut: %.0f%% kept: %.0f/s -> %.0f/s (%.3f)\n", kept * 100, from, c->rate,
		      c->rate / from);
	assert_true(c->rate >= (deepest - 0.01) * from && c->rate <= 0.905 * from);
	free(c);
}

static void test_cut_to_delivered(void **state)
{
	(void)state;
	cut_depth(0.8, 0.76);
	cut_depth(0.95, 0.9);
	cut_depth(0.5, 0.7);
}

/* Slow start's exit: a worker's first cut goes as deep as the path
 * delivered (to 1/8 at most), not by 0.7 at most as later cuts: doubling
 * blind overshoots a path 2-8x. Another worker's cut ends slow start here
 * too (rs_cc_share), the rate unchanged until this worker's own rounds,
 * sent while it doubled, cut it as deep; meanwhile the one that cut
 * leaves the other's blind rate out of its mean. Before, the other
 * doubled on 2-4x until its own rounds showed the loss, and the mean
 * pulled the cut one back up: two workers at 8x a 2 Mbit/s path. */
static void test_peer_cut_ends_slow_start(void **state)
{
	(void)state;
	struct rs_cc *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	const double sent = 20 / EPOCH_S; /* feed's rate: 20 an epoch */

	assert_non_null(a);
	assert_non_null(b);
	rs_cc_init(a, 1000, 0, 1);
	rs_cc_init(b, 1000, 0, 1);
	assert_true(feed(a, 1, 3000, 20, 1.0) == 0);
	assert_true(feed(b, 1, 3000, 20, 1.0) == 0);
	assert_true(a->slow_start && b->slow_start && a->rate > sent && b->rate > sent);
	assert_true(feed(a, 3000, 3100, 20, 0.3) > 0); /* a loses 70% */
	print_message("a's exit: %.0f/s -> %.0f/s\n", sent, a->rate);
	assert_true(a->rate >= 0.125 * sent && a->rate < 0.69 * sent); /* deeper than 0.7 */
	assert_false(a->slow_start);

	b->rate = 4 * sent; /* doubled on: far above a's */
	double ra = a->rate, rb = b->rate;
	struct rs_cc_peer pa = {.rate = a->rate, .cuts = a->cuts, .sending = true};
	struct rs_cc_peer pb = {.rate = b->rate, .cuts = b->cuts, .sending = true};
	assert_false(rs_cc_share(a, &pb, 1)); /* b is blind: a keeps its rate */
	assert_true(a->rate == ra);
	assert_true(rs_cc_share(b, &pa, 1)); /* a cut: b's slow start ends */
	assert_false(b->slow_start);
	assert_int_equal(b->cuts, 0);
	assert_true(b->rate < rb && b->rate > ra); /* halfway to the mean */
	pb.rate = b->rate;
	assert_false(rs_cc_share(a, &pb, 1)); /* still blind: no cut of its own */
	assert_true(a->rate == ra);

	assert_true(feed(b, 3000, 3100, 20, 0.3) > 0); /* its own rounds lost too */
	print_message("b's exit: %.0f/s -> %.0f/s\n", sent, b->rate);
	assert_true(b->rate >= 0.125 * sent && b->rate < 0.69 * sent);
	pb = (struct rs_cc_peer){.rate = b->rate, .cuts = b->cuts, .sending = true};
	rs_cc_share(a, &pb, 1); /* now b counts */
	assert_true(a->rate >= 0.8 * (a->rate + b->rate) / 2);
	free(a);
	free(b);
}

/* Retries share the rate with first attempts, and the rate a round was
 * sent at counts them: a round of 10 first attempts and 30 retries an
 * epoch left at ~38,000/s. Its rate counted first attempts only, and a
 * cut after a burst of loss (when retries are many) went to 0.7 of a
 * quarter of the rate: on bench/wan.sh's 10 Mbit/s link, a worker cut
 * from 10,500/s to 720/s. */
static void test_cut_counts_retries(void **state)
{
	(void)state;
	struct rs_cc *c = malloc(sizeof(*c));
	const uint32_t per = 10, re = 30;

	assert_non_null(c);
	rs_cc_init(c, 1000, 0, 1);
	assert_true(feed_re(c, 1, 3000, per, re, 1.0) == 0);
	double sent = (per + re) / EPOCH_S;
	assert_true(c->rate > sent);
	double before = feed_re(c, 3000, 3100, per, re, 0.5);
	assert_true(before > 0);
	double from = before < sent ? before : sent;
	print_message("cut with retries: %.0f/s -> %.0f/s\n", from, c->rate);
	assert_true(c->rate >= 0.69 * from && c->rate <= 0.905 * from);
	free(c);
}

/* A scan's tail: every first attempt is out and only retries are sent,
 * 90% of their probes filtered (a sparse world behind 2 Mbit/s: 16,384
 * targets went out in 3 s of slow start's overshoot). The first
 * attempts' judgments have nothing left to judge, and the rate stayed
 * where the overshoot's last cut left it, 3.6x the capacity, for the 20 s
 * of retries after: 75% of them lost, every probe sent 10 times, and in
 * 3 runs of 5 up to 8 answers lost with all their attempts. Its retries'
 * own loss now cuts it, while answers last (most are in within 2 s:
 * after that, nothing answers). Each probe here has lost its first
 * attempt; a retry is lost as the path is overfull (a fluid bottleneck of
 * 4,000/s); 10 attempts at most (the engine gives more to a network that
 * answers only sometimes: lossy.h). Before: 14,400/s to the end, no cut. */
#define TAIL_LIVE 1600
#define TAIL_N	  16000
#define TAIL_T	  20000 /* epochs: ~21 s */
struct tail_probe {
	uint32_t due, lost; /* when its next attempt may go; its last lost one's epoch */
	uint8_t attempts;
};

/* Send the probes due at epoch t (FIFO by due, as many as the rate
 * lets), each lost with the share the path cannot carry; book the
 * answers at their round trip's end. Returns the probes sent. */
static uint32_t tail_epoch(struct rs_cc *c, struct link *l, struct tail_probe *p, double *tokens,
			   uint32_t t, uint32_t *answered)
{
	const uint32_t lag = 120, gap = 30, rtt = 40;
	const double cap = 4000 * EPOCH_S;
	uint32_t due[TAIL_N], n = 0;

	*tokens += c->rate * EPOCH_S;
	for (uint32_t i = 0; i < TAIL_N && n < *tokens; i++)
		if (p[i].attempts && p[i].attempts < 10 && p[i].due <= t)
			due[n++] = i;
	*tokens -= n;
	double drop = n > cap ? 1 - cap / n : 0;
	for (uint32_t k = 0; k < n; k++) {
		struct tail_probe *q = &p[due[k]];
		rs_cc_resent(c, t, lag + gap);
		q->attempts++;
		if (due[k] < TAIL_LIVE && uniform(l) >= drop) {
			/* answered at t + rtt: booked then, as the engine does */
			q->due = t + rtt;
			q->attempts |= 0x80;
			continue;
		}
		q->due = t + lag + gap;
		q->lost = t;
	}
	for (uint32_t i = 0; i < TAIL_LIVE; i++)
		if ((p[i].attempts & 0x80) && p[i].due == t) {
			unsigned k = p[i].attempts & 0x7f;
			rs_cc_retry_answered(c, t - rtt);
			if (k > 2)
				rs_cc_retry_lost(c, p[i].lost);
			p[i].attempts = 0;
			(*answered)++;
		}
	rs_cc_step(c, t + 1, rtt, rtt + rtt / 8);
	return n;
}

static void test_tail_of_retries(void **state)
{
	(void)state;
	struct rs_cc *c = malloc(sizeof(*c));
	struct tail_probe *p = calloc(TAIL_N, sizeof(*p));
	struct link *l = link_new(0, 0, 40, 0, 0);
	uint32_t answered = 0, sent = 0, late_sent = 0;
	double tokens = 0;

	assert_non_null(c);
	assert_non_null(p);
	rs_cc_init(c, 1000, 0, 1);
	c->rate = 14400; /* where the overshoot's cuts left it */
	c->slow_start = false;
	for (uint32_t i = 0; i < TAIL_N; i++)
		p[i] = (struct tail_probe){.due = 1 + i % 1000, .lost = 0, .attempts = 1};
	for (uint32_t t = 1; t < TAIL_T; t++) {
		uint32_t n = tail_epoch(c, l, p, &tokens, t, &answered);
		sent += n;
		late_sent += t >= TAIL_T / 2 ? n : 0;
	}
	uint32_t missed = TAIL_LIVE - answered;
	print_message("tail: rate %.0f/s after %llu cuts, %u sends (%.0f/s in the second half), "
		      "%u of %u answering probes lost all their attempts\n",
		      c->rate, (unsigned long long)c->cuts, sent,
		      late_sent / (TAIL_T / 2 * EPOCH_S), missed, TAIL_LIVE);
	assert_true(c->cuts >= 3);
	assert_true(c->rate <= 1.3 * 4000);
	assert_true(late_sent / (TAIL_T / 2 * EPOCH_S) <= 1.3 * 4000);
	free(l);
	free(p);
	free(c);
}

static void test_ceiling(void **state)
{
	(void)state;
	struct rs_cc *c = malloc(sizeof(*c));
	struct link *l = link_new(0, 0, 5, 0, 0);

	assert_non_null(c);
	rs_cc_init(c, 1000, 5000, 1);
	double r = run(l, c, 4000);
	assert_true(c->rate <= 5000);
	assert_true(r > 4500 && r <= 5010);
	free(l);
	free(c);
}

/* The timeouts and the retry budget. */
static void test_rto_and_attempts(void **state)
{
	(void)state;
	struct rs_rtt r = {0};

	assert_int_equal(rs_rtt_rto_us(&r, 10000000), RS_RTO_INIT_US);
	for (int i = 0; i < 100; i++)
		rs_rtt_sample(&r, 100);
	assert_int_equal(rs_rtt_rto_us(&r, 10000000), RS_RTO_MIN_US);
	/* The first second: far answers may still come. */
	assert_int_equal(rs_rtt_rto_us(&r, 500000), RS_RTO_INIT_US);
	/* 95% near (20 ms), 5% far (300 ms): the far ones fit in the timeout. */
	for (int i = 0; i < 20000; i++)
		rs_rtt_sample(&r, i % 20 ? 20000 : 300000);
	assert_true(rs_rtt_rto_us(&r, 10000000) > 300000);
	assert_true(rs_rtt_rto_us(&r, 10000000) <= 460000);
	assert_int_equal(rs_rtt_attempt_us(100000, 1), 100000);
	assert_int_equal(rs_rtt_attempt_us(100000, 2), 200000);
	assert_int_equal(rs_rtt_attempt_us(100000, 3), 200000);
	assert_int_equal(rs_rtt_attempt_us(100000, 9), 200000);
	assert_int_equal(rs_rtt_attempt_us(2000000, 3), RS_RTO_MAX_US);
	assert_int_equal(rs_rtt_attempt_us(2000000, 4), RS_RTO_MAX_US);
	/* No loss seen: one retry. 2% loss over 262,144 probes: five attempts
	 * (0.02^5 x 262,144 = 0.0008 answers lost). Little known: as many as
	 * two past the latest attempt answered. A burst that cost 5% of the
	 * first attempts and no retry: three. Nothing answered: one retry. */
	uint64_t clean[RS_ATTEMPTS_MAX + 1] = {0, 262144};
	uint64_t lossy[RS_ATTEMPTS_MAX + 1] = {0, 200000, 4000, 80, 2};
	uint64_t early[RS_ATTEMPTS_MAX + 1] = {0, 3};
	uint64_t burst[RS_ATTEMPTS_MAX + 1] = {0, 62000, 3200};
	assert_int_equal(rs_attempts_needed(clean, 262144), 2);
	assert_int_equal(rs_attempts_needed(lossy, 262144), 5);
	uint64_t none[RS_ATTEMPTS_MAX + 1] = {0};
	uint64_t late[RS_ATTEMPTS_MAX + 1] = {0, 3, 1, 0, 1};
	assert_int_equal(rs_attempts_needed(early, 262144), 3);
	assert_int_equal(rs_attempts_needed(late, 262144), 6);
	assert_int_equal(rs_attempts_needed(none, 262144), RS_ATTEMPTS_MIN);
	assert_int_equal(rs_attempts_needed(burst, 65536), 3);
}

/* A probe is judged by the largest budget of its life: a burst's budget
 * of 8 (ticks 10-12) stays with the probes that were out then, after the
 * calm brought it back to 5; one first sent after it, what came after. */
static void test_budget_of_a_life(void **state)
{
	struct rs_budget_hist h = {0};

	(void)state;
	assert_int_equal(rs_budget_since(&h, 0, 100), 0); /* nothing noted */
	rs_budget_note(&h, 3, 10, 4);			  /* the first: 4 */
	rs_budget_note(&h, 10, 4, 8);			  /* 4 held until 10 */
	rs_budget_note(&h, 10, 8, 6);			  /* the same tick: 8 stays */
	rs_budget_note(&h, 13, 6, 5);			  /* 6 held 11-12, then 5 */
	assert_int_equal(rs_budget_since(&h, 0, 20), 8);
	assert_int_equal(rs_budget_since(&h, 4, 9), 4);
	assert_int_equal(rs_budget_since(&h, 11, 20), 6);
	assert_int_equal(rs_budget_since(&h, 13, 20), 6); /* 6 and 5 in tick 13 */
	assert_int_equal(rs_budget_since(&h, 14, 20), 0); /* past the last note */
	/* After a gap longer than the history, only its last ticks count:
	 * the burst's 8 is gone, the 5 held through the gap is not. */
	const uint64_t late = 13 + 3 * RS_BUDGET_TICKS;
	rs_budget_note(&h, late, 5, 3);
	assert_int_equal(rs_budget_since(&h, 0, late), 5);
	assert_int_equal(rs_budget_since(&h, late, late), 5);
	rs_budget_note(&h, late + 1, 3, 3);
	assert_int_equal(rs_budget_since(&h, late + 1, late + 7), 3);
}

/* A probe's attempts spread out: with a budget of ten (loss, or lag read
 * as loss) at rto 150 ms, its ten attempts span 7.7 s, where a quarter of
 * rto apart they spanned 2.9 s, and the last ones start 1.3 s apart; the
 * one retry of a clean link still waits a quarter of rto; a lossy
 * network's extra attempts go on doubling, never more than a second
 * apart. */
static void test_retry_gaps(void **state)
{
	(void)state;
	const uint32_t rto = 150000;
	uint64_t start[RS_LOSSY_ATTEMPTS + 1], t = 0;

	assert_int_equal(rs_retry_gap_us(rto, 1, 2), rto / 4);
	assert_int_equal(rs_retry_gap_us(rto, 2, 10), rto / 2);
	assert_int_equal(rs_retry_gap_us(rto, 9, 10), RS_RETRY_GAP_MAX_US);
	assert_int_equal(rs_retry_gap_us(rto, 2, 2), 2 * rto); /* the first extra */
	assert_int_equal(rs_retry_gap_us(rto, 3, 2), 4 * rto);
	assert_int_equal(rs_retry_gap_us(rto, 19, 2), RS_RETRY_GAP_MAX_US);
	assert_int_equal(rs_retry_gap_us(RS_RTO_MAX_US, 40, 2), RS_RETRY_GAP_MAX_US);
	for (unsigned k = 1; k <= 10; k++) {
		start[k] = t;
		t += rs_rtt_attempt_us(rto, k) + rs_retry_gap_us(rto, k, 10);
	}
	for (unsigned k = 6; k < 10; k++)
		assert_int_equal(start[k + 1] - start[k], 1300000);
	assert_int_equal(start[10], 7712500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback_ramps_fast),
		cmocka_unit_test(test_bottleneck_20k_q100),
		cmocka_unit_test(test_bottleneck_slow_timeouts),
		cmocka_unit_test(test_bottleneck_100k_q1000_far),
		cmocka_unit_test(test_bottleneck_10k_lossy),
		cmocka_unit_test(test_random_loss_is_not_congestion),
		cmocka_unit_test(test_near_and_far),
		cmocka_unit_test(test_lag_burst),
		cmocka_unit_test(test_false_cut_recovers),
		cmocka_unit_test(test_first_rounds_blind),
		cmocka_unit_test(test_two_workers_share),
		cmocka_unit_test(test_peer_cut_ends_slow_start),
		cmocka_unit_test(test_nothing_answers),
		cmocka_unit_test(test_sparse_bottleneck),
		cmocka_unit_test(test_cut_to_delivered),
		cmocka_unit_test(test_cut_counts_retries),
		cmocka_unit_test(test_tail_of_retries),
		cmocka_unit_test(test_sparse_retries),
		cmocka_unit_test(test_sparse_random_loss),
		cmocka_unit_test(test_ceiling),
		cmocka_unit_test(test_rto_and_attempts),
		cmocka_unit_test(test_retry_gaps),
		cmocka_unit_test(test_budget_of_a_life),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
