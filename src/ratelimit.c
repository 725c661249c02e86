/* Batch token bucket: credit accrues as elapsed nanoseconds × rate, and each
 * probe costs 1e9 of it (1e9 × share for one of share processes), so a rate that does not divide
 * 1e9 is still exact (1e9 / rate in whole ns would round the cost down and overshoot, by 25 % at
 * 400M/s). Integer arithmetic only. */
#include "ringscan/ratelimit.h"

#define NS 1000000000ULL /* credit units per probe for a whole-rate bucket */

void rs_bucket_init_share(struct rs_bucket *b, uint64_t rate, uint64_t burst, unsigned share,
			  unsigned index, uint64_t now_ns)
{
	if (!share)
		share = 1;
	if (index >= share)
		index = share - 1;
	b->unit = NS * share;
	if (!burst)
		burst = 1;
	if (burst > UINT64_MAX / b->unit / 2)
		burst = UINT64_MAX / b->unit / 2;
	b->rate = rate;
	b->cap = burst * b->unit;
	b->credit = b->unit - (uint64_t)index * NS; /* first probe at index / rate s */
	b->last_ns = now_ns;
}

void rs_bucket_init(struct rs_bucket *b, uint64_t rate, uint64_t burst, uint64_t now_ns)
{
	rs_bucket_init_share(b, rate, burst, 1, 0, now_ns);
}

/* Credit at now_ns, without exceeding the cap (and without overflow: the
 * elapsed time is clamped to what fills the bucket). */
static uint64_t credit_at(const struct rs_bucket *b, uint64_t now_ns)
{
	uint64_t dt = now_ns > b->last_ns ? now_ns - b->last_ns : 0;
	uint64_t fill = b->cap / b->rate + 1;

	if (dt > fill)
		dt = fill;
	uint64_t c = b->credit + dt * b->rate;
	return c > b->cap ? b->cap : c;
}

uint64_t rs_bucket_take(struct rs_bucket *b, uint64_t want, uint64_t now_ns)
{
	if (!b->rate)
		return want;
	b->credit = credit_at(b, now_ns);
	if (now_ns > b->last_ns)
		b->last_ns = now_ns;
	uint64_t n = b->credit / b->unit;
	if (n > want)
		n = want;
	b->credit -= n * b->unit;
	return n;
}

void rs_bucket_give_back(struct rs_bucket *b, uint64_t n)
{
	if (!b->rate)
		return;
	b->credit += n * b->unit;
	if (b->credit > b->cap)
		b->credit = b->cap;
}

void rs_bucket_set(struct rs_bucket *b, uint64_t rate, uint64_t burst, uint64_t now_ns)
{
	if (b->rate) {
		b->credit = credit_at(b, now_ns); /* earned at the old rate */
		if (now_ns > b->last_ns)
			b->last_ns = now_ns;
	} else {
		b->unit = NS;
		b->credit = NS;
		b->last_ns = now_ns;
	}
	b->rate = rate;
	if (!burst)
		burst = 1;
	b->cap = burst * b->unit;
	if (b->credit > b->cap)
		b->credit = b->cap;
}

uint64_t rs_bucket_wait_ns(const struct rs_bucket *b, uint64_t now_ns)
{
	if (!b->rate)
		return 0;
	uint64_t c = credit_at(b, now_ns);
	return c >= b->unit ? 0 : (b->unit - c + b->rate - 1) / b->rate;
}
