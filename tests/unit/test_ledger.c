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
			/* Gaps of a random range equal the model's runs. */
			uint64_t b = first + rng(&s) % (limit - first), e = b + rng(&s) % 300, r;
			if (e > limit)
				e = limit;
			size_t ng = rs_ledger_gaps(&l, b, e, gaps, 64, &r);
			uint64_t p = b;
			for (size_t g = 0; g < ng; g++) {
				while (p < gaps[g].begin)
					assert_true(model[p++ - first]);
				for (; p < gaps[g].end; p++)
					assert_false(model[p - first]);
				assert_true(p == e || model[p - first]); /* maximal */
			}
			if (ng < 64) {
				while (p < e)
					assert_true(model[p++ - first]);
			}
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
