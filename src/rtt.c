/* Round trips, timeouts and the retry budget (see rtt.h). */
#include <math.h>

#include "rtt.h"

#define LOOP_SLACK_US 2000u

void rs_rtt_sample(struct rs_rtt *r, uint32_t us)
{
	if (!r->samples++) {
		r->srtt_us = us;
		r->rttvar_us = us / 2;
		r->max_us = us;
		return;
	}
	uint32_t d = us > r->srtt_us ? us - r->srtt_us : r->srtt_us - us;
	/* RFC 6298: rttvar = 3/4 rttvar + 1/4 |d|, srtt = 7/8 srtt + 1/8 sample */
	r->rttvar_us = r->rttvar_us - r->rttvar_us / 4 + d / 4;
	r->srtt_us = r->srtt_us - r->srtt_us / 8 + us / 8;
	/* The farthest targets answer rarely when most are near: their round
	 * trip is remembered for some thousand answers. */
	if (us >= r->max_us)
		r->max_us = us;
	else if (r->max_us > r->srtt_us)
		r->max_us -= (r->max_us - r->srtt_us) / 1024 + 1;
}

uint32_t rs_rtt_rto_us(const struct rs_rtt *r, uint64_t elapsed_us)
{
	uint64_t rto = (uint64_t)r->max_us * 3 / 2 + LOOP_SLACK_US;

	if ((r->samples < RS_RTT_MIN_SAMPLES || elapsed_us < RS_RTO_INIT_US) &&
	    rto < RS_RTO_INIT_US)
		return RS_RTO_INIT_US;
	return rto < RS_RTO_MIN_US   ? RS_RTO_MIN_US
	       : rto > RS_RTO_MAX_US ? RS_RTO_MAX_US
				     : (uint32_t)rto;
}

uint32_t rs_rtt_attempt_us(uint32_t rto_us, unsigned k)
{
	uint64_t cap = rto_us > RS_RTO_MAX_US ? rto_us : RS_RTO_MAX_US;
	uint64_t t = (uint64_t)rto_us << (k > 1);

	return (uint32_t)(t < cap ? t : cap);
}

uint32_t rs_retry_gap_us(uint32_t rto_us, unsigned n, unsigned budget)
{
	uint64_t us;

	if (n < budget) /* a regular retry */
		us = ((uint64_t)rto_us / 4) << (n - 1 < 20 ? n - 1 : 20);
	else
		us = (uint64_t)rto_us << (n - budget < 20 ? n - budget + 1 : 21);
	return us < RS_RETRY_GAP_MAX_US ? (uint32_t)us : RS_RETRY_GAP_MAX_US;
}

/* An upper estimate of a loss rate from lost of n trials. */
static double loss_bound(double lost, double n)
{
	double p = (lost + 1 + 2 * sqrt(lost + 1)) / (n + 1);
	return p > 0.5 ? 0.5 : p;
}

unsigned rs_attempts_needed(const uint64_t ok[RS_ATTEMPTS_MAX + 1], uint64_t probes)
{
	/* A probe answered at attempt k lost k - 1 attempts (or was slower
	 * than their timeouts, which needs a retry just the same). */
	double first = 0, first_lost = 0, retries = 0, retries_lost = 0;
	unsigned seen = 0; /* the latest attempt anything was answered at */
	for (unsigned k = 1; k <= RS_ATTEMPTS_MAX; k++) {
		double n = (double)ok[k];
		seen = n > 0 ? k : seen;
		first += n;
		first_lost += k > 1 ? n : 0;
		retries += k > 1 ? n * (k - 1) : 0;
		retries_lost += k > 2 ? n * (k - 2) : 0;
	}
	/* Without enough retries to judge them by, a retry is taken to be
	 * lost as often as a first attempt. */
	double p1 = loss_bound(first_lost, first);
	double pr = retries < 50 ? p1 : loss_bound(retries_lost, retries);
	double left = (double)(probes < 1 ? 1 : probes) * p1; /* answers a first attempt loses */
	unsigned k = 1, most = seen + 2 > RS_ATTEMPTS_MIN ? seen + 2 : RS_ATTEMPTS_MIN;
	while (k < most && k < RS_ATTEMPTS_MAX && (k < RS_ATTEMPTS_MIN || left > 0.01)) {
		left *= pr;
		k++;
	}
	return k;
}

void rs_budget_note(struct rs_budget_hist *h, uint64_t tick, unsigned held, unsigned next)
{
	const uint64_t mask = RS_BUDGET_TICKS - 1;

	if (!h->last) {
		h->first = h->last = tick;
		h->b[tick & mask] = (uint8_t)next;
		return;
	}
	if (tick < h->last)
		return; /* a monotonic clock: cannot happen */
	for (uint64_t t = tick - h->last > RS_BUDGET_TICKS ? tick - RS_BUDGET_TICKS : h->last;
	     ++t <= tick;)
		h->b[t & mask] = (uint8_t)held;
	h->last = tick;
	if (h->b[tick & mask] < next)
		h->b[tick & mask] = (uint8_t)next;
}

unsigned rs_budget_since(const struct rs_budget_hist *h, uint64_t from, uint64_t now)
{
	const uint64_t mask = RS_BUDGET_TICKS - 1;
	uint64_t to = now < h->last ? now : h->last;
	unsigned most = 0;

	if (!h->last)
		return 0;
	if (from < h->first)
		from = h->first;
	if (to >= RS_BUDGET_TICKS && from < to - RS_BUDGET_TICKS + 1)
		from = to - RS_BUDGET_TICKS + 1;
	for (uint64_t t = from; t <= to; t++)
		most = h->b[t & mask] > most ? h->b[t & mask] : most;
	return most;
}
