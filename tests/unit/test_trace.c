/* The summary's round-trip histogram and sending trace: percentiles within
 * a bucket (6.25%) below the true value and never above the maximum; a
 * trace of any length keeps at most RS_TRACE_POINTS points whose counts add
 * up to everything that was sent, with the interval doubling as points
 * merge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ringscan/rtthist.h"
#include "ringscan/trace.h"

static void test_quantiles(void **state)
{
	(void)state;
	struct rs_rtthist *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	assert_int_equal(rs_rtthist_quantile(h, 0.5), 0);
	/* 1..100000 us once each: the q-quantile is q x 100000. */
	for (uint32_t us = 1; us <= 100000; us++)
		rs_rtthist_add(h, us);
	assert_int_equal(h->n, 100000);
	assert_int_equal(h->max, 100000);
	static const double qs[] = {0.01, 0.5, 0.9, 0.99, 1.0};
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		double want = qs[i] * 100000, got = rs_rtthist_quantile(h, qs[i]);
		assert_true(got <= want);
		assert_true(got >= want * (1 - 0.0625) - 1);
	}
	/* Small values are exact; a single huge one is the maximum. */
	memset(h, 0, sizeof(*h));
	rs_rtthist_add(h, 7);
	assert_int_equal(rs_rtthist_quantile(h, 0.5), 7);
	rs_rtthist_add(h, UINT32_MAX);
	assert_int_equal(h->max, UINT32_MAX);
	assert_true(rs_rtthist_quantile(h, 1.0) >= UINT32_MAX / 16 * 15);
	free(h);
}

static void test_trace_merges(void **state)
{
	(void)state;
	struct rs_trace t;
	struct rs_sending g = {0};
	uint64_t sent = 0;

	rs_trace_init(&t);
	/* An hour, sampled every 10 ms, 1,000 attempts and 10 timeouts each. */
	for (uint32_t ms = 10; ms <= 3600000; ms += 10) {
		g.sent += 1000;
		g.ans1 += 990;
		g.tmo1 += 10;
		g.rate = ms < 1000 ? ms * 100 : 100000;
		rs_trace_tick(&t, ms, &g, ms == 3600000);
	}
	assert_true(t.n <= RS_TRACE_POINTS);
	assert_true(t.n >= RS_TRACE_POINTS / 2);
	assert_true(t.interval_ms > RS_TRACE_FIRST_MS);
	uint32_t end = 0;
	for (unsigned i = 0; i < t.n; i++) {
		assert_true(t.pt[i].end_ms > end);
		assert_int_equal(t.pt[i].end_ms - end, t.pt[i].len_ms);
		end = t.pt[i].end_ms;
		sent += t.pt[i].sent;
		assert_int_equal(t.pt[i].tmo1 * 99, t.pt[i].ans1);
	}
	assert_int_equal(end, 3600000);
	assert_int_equal(sent, g.sent);
	assert_int_equal(t.peak_rate, 100000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quantiles),
		cmocka_unit_test(test_trace_merges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
