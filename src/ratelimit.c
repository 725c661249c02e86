/* Batch token bucket: credit accrues in nanoseconds of elapsed time, each
 * probe costs 1e9 / rate of it. Integer arithmetic, no drift. */
#include "ringscan/ratelimit.h"

void rs_bucket_init(struct rs_bucket *b, uint64_t rate, uint64_t burst, uint64_t now_ns)
{
	b->cost_ns = rate ? (rate >= 1000000000ULL ? 1 : 1000000000ULL / rate) : 0;
	if (!burst)
		burst = 1;
	b->cap_ns = b->cost_ns * burst;
	b->credit_ns = b->cost_ns; /* the first probe may go at once */
	b->last_ns = now_ns;
}

static void refill(struct rs_bucket *b, uint64_t now_ns)
{
	if (now_ns > b->last_ns) {
		b->credit_ns += now_ns - b->last_ns;
		if (b->credit_ns > b->cap_ns)
			b->credit_ns = b->cap_ns;
		b->last_ns = now_ns;
	}
}

uint64_t rs_bucket_take(struct rs_bucket *b, uint64_t want, uint64_t now_ns)
{
	if (!b->cost_ns)
		return want;
	refill(b, now_ns);
	uint64_t n = b->credit_ns / b->cost_ns;
	if (n > want)
		n = want;
	b->credit_ns -= n * b->cost_ns;
	return n;
}

uint64_t rs_bucket_wait_ns(const struct rs_bucket *b, uint64_t now_ns)
{
	if (!b->cost_ns)
		return 0;
	uint64_t credit = b->credit_ns + (now_ns > b->last_ns ? now_ns - b->last_ns : 0);
	return credit >= b->cost_ns ? 0 : b->cost_ns - credit;
}
