/* The ledger of answered positions against a brute-force model: random
 * answer orders with repeats, every chunk size, windows that slide; gaps
 * are exactly the unanswered runs; the limit never passes the window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ledger.h"

static uint64_t rng(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* rs_ledger_gaps (want false) or rs_ledger_runs (want true) over [b, e)
 * yields exactly the maximal runs of positions whose model value is want. */
static void check_runs(const struct rs_ledger *l, const uint8_t *model, uint64_t first, uint64_t b,
		       uint64_t e, bool want)
{
	struct rs_job runs[64];
	uint64_t r;
	size_t n = want ? rs_ledger_runs(l, b, e, runs, 64, &r)
			: rs_ledger_gaps(l, b, e, runs, 64, &r);
	uint64_t p = b;

	for (size_t g = 0; g < n; g++) {
		assert_true(runs[g].begin < runs[g].end);
		while (p < runs[g].begin)
			assert_true(model[p++ - first] != want);
		for (; p < runs[g].end; p++)
			assert_true(model[p - first] == want);
		assert_true(p == e || model[p - first] != want); /* maximal */
	}
	if (n < 64) {
		while (p < e)
			assert_true(model[p++ - first] != want);
	} else {
		assert_int_equal(r, runs[63].end);
	}
}

/* Answer every position of [first, end) in a random order within the
 * window, with repeats; check mark(), limit and gaps against a model. */
static void run_case(uint64_t first, uint64_t n, uint64_t chunk, uint32_t cap, uint64_t seed)
{
	struct rs_ledger l;
	uint64_t end = first + n, s = seed;
	uint8_t *model = calloc(n ? n : 1, 1);
	struct rs_job gaps[64];

	assert_non_null(model);
	assert_int_equal(rs_ledger_init(&l, first, end, chunk, cap), 0);
	uint64_t lowpos = first; /* oldest unanswered position */
	for (uint64_t answered = 0; answered < n;) {
		uint64_t limit = rs_ledger_limit(&l);
		assert_true(limit <= end && limit > first);
		/* The window never exceeds cap chunks past the oldest open one. */
		while (lowpos < end && model[lowpos - first])
			lowpos++;
		assert_true(limit - first <= ((lowpos - first) / chunk + cap) * chunk);
		uint64_t pos = first + rng(&s) % (limit - first);
		bool fresh = !model[pos - first];
		assert_int_equal(rs_ledger_mark(&l, pos), fresh);
		if (fresh) {
			model[pos - first] = 1;
			answered++;
		}
		assert_int_equal(l.answered, answered);
		if (rng(&s) % 16 == 0) {
			/* Gaps and answered runs of a random range (reaching
			 * below the window's low and past its limit) equal the
			 * model's runs. */
			uint64_t b = first + rng(&s) % (limit - first), e = b + rng(&s) % 300;
			if (e > end)
				e = end;
			check_runs(&l, model, first, b, e, false);
			check_runs(&l, model, first, b, e, true);
		}
	}
	/* Everything answered: every mark is a repeat, no gaps anywhere. */
	uint64_t r;
	assert_int_equal(rs_ledger_gaps(&l, first, end, gaps, 64, &r), 0);
	assert_false(rs_ledger_mark(&l, first));
	assert_false(rs_ledger_mark(&l, end - 1));
	assert_false(rs_ledger_mark(&l, end)); /* outside */
	rs_ledger_free(&l);
	free(model);
}

static void test_random_orders(void **state)
{
	(void)state;
	static const uint64_t chunks[] = {1, 2, 7, 64, 65, 100, 4096};
	static const uint32_t caps[] = {1, 2, 3, 16};
	uint64_t seed = 1;
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++)
		for (size_t w = 0; w < sizeof(caps) / sizeof(caps[0]); w++)
			for (int k = 0; k < 3; k++) {
				uint64_t n = 1 + rng(&seed) % 5000, first = rng(&seed) % 1000;
				run_case(first, n, chunks[c], caps[w], rng(&seed));
			}
}

/* A resumed scan: below the skip point everything is answered, the
 * window starts at its chunk, and runs see the partial chunk. */
static void test_skip(void **state)
{
	(void)state;
	struct rs_ledger l;
	struct rs_job g[8];
	uint64_t r;

	assert_int_equal(rs_ledger_init(&l, 10, 1010, 100, 3), 0);
	rs_ledger_skip(&l, 345);
	assert_int_equal(rs_ledger_low(&l), 310);
	assert_int_equal(rs_ledger_limit(&l), 610);
	assert_false(rs_ledger_mark(&l, 344));
	assert_true(rs_ledger_mark(&l, 345));
	assert_true(rs_ledger_mark(&l, 400));
	assert_int_equal(rs_ledger_runs(&l, 0, 1010, g, 8, &r), 2);
	assert_int_equal(g[0].begin, 10);
	assert_int_equal(g[0].end, 346);
	assert_int_equal(g[1].begin, 400);
	assert_int_equal(g[1].end, 401);
	assert_int_equal(rs_ledger_gaps(&l, 0, 1010, g, 8, &r), 2);
	assert_int_equal(g[0].begin, 346);
	assert_int_equal(g[0].end, 400);
	assert_int_equal(g[1].begin, 401);
	assert_int_equal(g[1].end, 1010);
	/* Finishing the partial chunk slides the window. */
	for (uint64_t p = 346; p < 410; p++)
		rs_ledger_mark(&l, p);
	assert_int_equal(rs_ledger_low(&l), 410);
	/* Skipping to the end: nothing left. */
	rs_ledger_free(&l);
	assert_int_equal(rs_ledger_init(&l, 10, 1010, 100, 3), 0);
	rs_ledger_skip(&l, 1010);
	assert_int_equal(rs_ledger_low(&l), 1010);
	assert_int_equal(rs_ledger_gaps(&l, 0, 1010, g, 8, &r), 0);
	rs_ledger_free(&l);
}

/* A dead worker's lease: the unanswered positions come back as runs. */
static void test_gaps_of_a_lease(void **state)
{
	(void)state;
	struct rs_ledger l;
	struct rs_job g[8];
	uint64_t r;
	assert_int_equal(rs_ledger_init(&l, 100, 1100, 100, 4), 0);
	for (uint64_t p = 100; p < 150; p++)
		assert_true(rs_ledger_mark(&l, p));
	assert_true(rs_ledger_mark(&l, 160));
	assert_false(rs_ledger_mark(&l, 160));
	size_t n = rs_ledger_gaps(&l, 100, 200, g, 8, &r);
	assert_int_equal(n, 2);
	assert_int_equal(g[0].begin, 150);
	assert_int_equal(g[0].end, 160);
	assert_int_equal(g[1].begin, 161);
	assert_int_equal(g[1].end, 200);
	/* Out of room: resume says where to go on. */
	n = rs_ledger_gaps(&l, 100, 200, g, 1, &r);
	assert_int_equal(n, 1);
	assert_int_equal(r, 160);
	/* Beyond the window nothing can be marked. */
	assert_false(rs_ledger_mark(&l, 100 + 4 * 100));
	assert_int_equal(rs_ledger_limit(&l), 500);
	rs_ledger_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_orders),
		cmocka_unit_test(test_gaps_of_a_lease),
		cmocka_unit_test(test_skip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
