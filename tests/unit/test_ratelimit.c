/* Unit tests for src/ratelimit.c: the token bucket, driven by a simulated
 * clock (no time passes). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <string.h>

#include "ringscan/ratelimit.h"

#define NS 1000000000ULL
#define T0 (123 * NS + 456789) /* an arbitrary monotonic start */

static void test_unlimited(void **state)
{
	(void)state;
	struct rs_bucket b;
	static const uint64_t wants[] = {0, 1, 2, 1000, 1000000, UINT64_MAX};

	rs_bucket_init(&b, 0, 0, T0);
	for (int rep = 0; rep < 3; rep++)
		for (size_t i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
			assert_int_equal(rs_bucket_take(&b, wants[i], T0), wants[i]);
			assert_int_equal(rs_bucket_wait_ns(&b, T0), 0);
		}
	/* time going nowhere or far makes no difference */
	assert_int_equal(rs_bucket_take(&b, 5, 0), 5);
	assert_int_equal(rs_bucket_take(&b, 5, UINT64_MAX), 5);
	assert_int_equal(rs_bucket_wait_ns(&b, 0), 0);
	/* a burst given with rate 0 is still unlimited */
	rs_bucket_init(&b, 0, 10, T0);
	assert_int_equal(rs_bucket_take(&b, 1000000, T0), 1000000);
}

/* 1000/s: one at once, then exactly one per elapsed millisecond, never
 * early, over a simulated second sampled every microsecond. */
static void test_1000_per_second(void **state)
{
	(void)state;
	struct rs_bucket b;
	uint64_t total = 0;

	rs_bucket_init(&b, 1000, 1, T0);
	assert_int_equal(rs_bucket_take(&b, 100, T0), 1);
	assert_int_equal(rs_bucket_take(&b, 100, T0), 0);
	for (uint64_t us = 1; us <= 1000000; us++) {
		uint64_t got = rs_bucket_take(&b, 100, T0 + us * 1000);
		if (got != (us % 1000 == 0))
			fail_msg("at +%" PRIu64 " us: granted %" PRIu64 ", expected %d", us, got,
				 us % 1000 == 0);
		total += got;
	}
	assert_int_equal(total, 1000);

	/* the same second asked once per millisecond: one each time */
	rs_bucket_init(&b, 1000, 1, T0);
	assert_int_equal(rs_bucket_take(&b, 1, T0), 1);
	for (uint64_t ms = 1; ms <= 1000; ms++) {
		assert_int_equal(rs_bucket_take(&b, 5, T0 + ms * 1000000), 1);
		assert_int_equal(rs_bucket_take(&b, 5, T0 + ms * 1000000), 0);
	}
}

/* want caps the grant, and what is not taken stays available. */
static void test_want(void **state)
{
	(void)state;
	struct rs_bucket b;

	rs_bucket_init(&b, 1000, 100, T0);
	assert_int_equal(rs_bucket_take(&b, 0, T0 + 50 * 1000000), 0);
	assert_int_equal(rs_bucket_take(&b, 20, T0 + 50 * 1000000), 20);
	assert_int_equal(rs_bucket_take(&b, 1000, T0 + 50 * 1000000), 31); /* 1 + 50 - 20 */
	assert_int_equal(rs_bucket_take(&b, 1000, T0 + 50 * 1000000), 0);
}

/* Credit saved while idle never exceeds the burst. */
static void test_burst_cap(void **state)
{
	(void)state;
	struct rs_bucket b;

	rs_bucket_init(&b, 1000, 10, T0);
	assert_int_equal(rs_bucket_take(&b, 1000, T0 + 1 * NS), 10);
	assert_int_equal(rs_bucket_take(&b, 1000, T0 + 1 * NS), 0);
	assert_int_equal(rs_bucket_take(&b, 1000, T0 + 1 * NS + 5 * 1000000), 5);
	/* a long idle spell: still 10 */
	assert_int_equal(rs_bucket_take(&b, 1000, T0 + 3600 * NS), 10);
	/* less idle than a full burst: proportional */
	assert_int_equal(rs_bucket_take(&b, 1000, T0 + 3600 * NS + 7 * 1000000), 7);

	/* burst 0 means 1 */
	rs_bucket_init(&b, 1000, 0, T0);
	assert_int_equal(rs_bucket_take(&b, 1000, T0 + 10 * NS), 1);
	assert_int_equal(rs_bucket_take(&b, 1000, T0 + 10 * NS), 0);

	/* a large burst at a high rate */
	rs_bucket_init(&b, 1000000, 50000, T0);
	assert_int_equal(rs_bucket_take(&b, UINT64_MAX, T0 + 10 * NS), 50000);
}

static void test_wait_ns(void **state)
{
	(void)state;
	struct rs_bucket b;

	rs_bucket_init(&b, 1000, 1, T0);
	assert_int_equal(rs_bucket_wait_ns(&b, T0), 0); /* first probe at once */
	assert_int_equal(rs_bucket_take(&b, 1, T0), 1);
	assert_int_equal(rs_bucket_wait_ns(&b, T0), 1000000);
	assert_int_equal(rs_bucket_wait_ns(&b, T0 + 400000), 600000);
	assert_int_equal(rs_bucket_wait_ns(&b, T0 + 999999), 1);
	assert_int_equal(rs_bucket_wait_ns(&b, T0 + 1000000), 0);
	assert_int_equal(rs_bucket_wait_ns(&b, T0 + 5 * NS), 0);
	/* wait_ns does not consume: take still works afterwards */
	assert_int_equal(rs_bucket_take(&b, 1, T0 + 1000000), 1);
	assert_int_equal(rs_bucket_wait_ns(&b, T0 + 1000000), 1000000);

	rs_bucket_init(&b, 1, 1, T0);
	assert_int_equal(rs_bucket_take(&b, 1, T0), 1);
	assert_int_equal(rs_bucket_wait_ns(&b, T0), NS);
	assert_int_equal(rs_bucket_wait_ns(&b, T0 + NS / 2), NS / 2);
}

/* Property: after any history, waiting exactly wait_ns grants at least one
 * probe, and one nanosecond less grants none. */
static void test_wait_matches_take(void **state)
{
	(void)state;
	static const uint64_t rates[] = {1, 3, 7, 1000, 12345, 1000000, 3000000};
	uint64_t x = 0x243f6a8885a308d3ULL;

	for (size_t ri = 0; ri < sizeof(rates) / sizeof(rates[0]); ri++) {
		struct rs_bucket b;
		uint64_t now = T0;

		rs_bucket_init(&b, rates[ri], 1 + ri * 3, now);
		for (int i = 0; i < 20000; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			now += x % (3 * NS / rates[ri] + 1);
			rs_bucket_take(&b, x % 4, now);
			uint64_t w = rs_bucket_wait_ns(&b, now);
			if (w) {
				struct rs_bucket c = b;
				if (rs_bucket_take(&c, 1, now + w - 1) != 0)
					fail_msg("rate %" PRIu64
						 ": granted before wait_ns (%" PRIu64 ")",
						 rates[ri], w);
			}
			struct rs_bucket c = b;
			if (rs_bucket_take(&c, 1, now + w) != 1)
				fail_msg("rate %" PRIu64 ": nothing granted after wait_ns (%" PRIu64
					 ")",
					 rates[ri], w);
		}
	}
}

/* Simulate secs seconds asking for as much as possible every step_ns, and
 * return how many probes were granted. */
static uint64_t simulate(uint64_t rate, uint64_t burst, uint64_t secs, uint64_t step_ns)
{
	struct rs_bucket b;
	uint64_t total = 0;

	rs_bucket_init(&b, rate, burst, T0);
	for (uint64_t t = T0; t <= T0 + secs * NS; t += step_ns)
		total += rs_bucket_take(&b, UINT64_MAX, t);
	return total;
}

/* Rates that divide a second evenly: exact counts. */
static void test_exact_rates(void **state)
{
	(void)state;
	/* 1 at once plus one per period over [T0, T0 + secs] */
	assert_int_equal(simulate(1, 1, 100, NS / 10), 101);
	assert_int_equal(simulate(1000, 1, 10, 1000000), 10001);
	assert_int_equal(simulate(1000, 100, 10, 7000000), 9997); /* last step at +9.996 s */
	assert_int_equal(simulate(250000, 1000, 10, 1000000), 2500001);
	assert_int_equal(simulate(10000000, 100000, 2, 1000000), 20000001);
}

/* --rate is a ceiling: over any simulated span the bucket grants at most
 * rate × seconds plus one burst, whatever the rate, and (with a burst that
 * covers a step) not much less. */
static void test_rate_is_a_ceiling(void **state)
{
	(void)state;
	static const uint64_t rates[] = {1, 3, 7, 999, 300000, 1500000, 7000000, 400000000};
	int bad = 0;

	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		uint64_t rate = rates[i], secs = 1000;
		uint64_t burst = rate / 50 + 2,
			 step = 10000000; /* 10 ms: a burst covers two steps */
		uint64_t got = simulate(rate, burst, secs, step);
		uint64_t ceiling = rate * secs + burst;

		if (got > ceiling) {
			print_error("rate %" PRIu64 "/s over %" PRIu64 " s granted %" PRIu64
				    ", more than the ceiling %" PRIu64 " (+%.3f%%)\n",
				    rate, secs, got, ceiling,
				    100.0 * (double)(got - rate * secs) / (double)(rate * secs));
			bad++;
		}
		if (got + burst < rate * secs)
			fail_msg("rate %" PRIu64 "/s over %" PRIu64 " s granted only %" PRIu64,
				 rate, secs, got);
	}
	assert_int_equal(bad, 0);
}

/* The clock standing still or stepping back grants nothing new. */
static void test_clock_not_advancing(void **state)
{
	(void)state;
	struct rs_bucket b;

	rs_bucket_init(&b, 1000, 5, T0);
	assert_int_equal(rs_bucket_take(&b, 100, T0), 1);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(rs_bucket_take(&b, 100, T0), 0);
	assert_int_equal(rs_bucket_take(&b, 100, T0 - 1000000000), 0);
	assert_int_equal(rs_bucket_take(&b, 100, T0 + 2000000), 2);
	assert_int_equal(rs_bucket_take(&b, 100, T0 + 1000000), 0);
	assert_int_equal(rs_bucket_take(&b, 100, T0 + 3000000), 1);
}

/* share buckets together keep to the global rate, and their first grants
 * interleave at 1/rate apart instead of all at time 0. */
static void test_shares_keep_global_rate(void **state)
{
	(void)state;
	static const unsigned shares[] = {1, 2, 3, 7};
	static const uint64_t rates[] = {1, 4, 1000, 999983};

	for (size_t i = 0; i < sizeof(shares) / sizeof(shares[0]); i++) {
		for (size_t j = 0; j < sizeof(rates) / sizeof(rates[0]); j++) {
			unsigned n = shares[i];
			uint64_t rate = rates[j], total = 0, first[8] = {0};
			struct rs_bucket b[8];
			const uint64_t step = 1000000, end = 10000000000ULL; /* 1 ms, 10 s */

			for (unsigned k = 0; k < n; k++)
				rs_bucket_init_share(&b[k], rate, rate / n / 100 + 1, n, k, 0);
			for (uint64_t t = 0; t <= end; t += step) {
				for (unsigned k = 0; k < n; k++) {
					uint64_t g = rs_bucket_take(&b[k], 1000000, t);
					if (g && !first[k])
						first[k] = t + 1; /* +1: t may be 0 */
					total += g;
				}
			}
			/* At most rate per second over 10 s, plus each share's burst. */
			if (total > rate * 10 + n * (rate / n / 100 + 1))
				fail_msg("rate %llu, %u shares: %llu granted in 10 s",
					 (unsigned long long)rate, n, (unsigned long long)total);
			if (total + n + rate / 100 < rate * 10)
				fail_msg("rate %llu, %u shares: only %llu granted in 10 s",
					 (unsigned long long)rate, n, (unsigned long long)total);
			/* Share k starts at k / rate (to the 1 ms step). */
			for (unsigned k = 0; k < n; k++) {
				uint64_t want = k * 1000000000ULL / rate;
				uint64_t got = first[k] - 1;
				if (got + step < want || got > want + step)
					fail_msg("rate %llu, share %u of %u: first grant at %llu "
						 "ns, want ~%llu",
						 (unsigned long long)rate, k, n,
						 (unsigned long long)got, (unsigned long long)want);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unlimited),
		cmocka_unit_test(test_1000_per_second),
		cmocka_unit_test(test_want),
		cmocka_unit_test(test_burst_cap),
		cmocka_unit_test(test_wait_ns),
		cmocka_unit_test(test_wait_matches_take),
		cmocka_unit_test(test_exact_rates),
		cmocka_unit_test(test_clock_not_advancing),
		cmocka_unit_test(test_rate_is_a_ceiling),
		cmocka_unit_test(test_shares_keep_global_rate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
