/* The timer heap against a brute-force model: random sets, moves and
 * clears; the earliest timer is always the model's earliest, and popping
 * everything yields every timer in due order, each once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "timerheap.h"

#define CAP 300

static uint64_t rng(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The model's earliest due (UINT64_MAX: none). */
static uint64_t model_min(const uint64_t *due)
{
	uint64_t m = UINT64_MAX;
	for (int i = 0; i < CAP; i++)
		if (due[i] < m)
			m = due[i];
	return m;
}

static void test_against_model(void **state)
{
	(void)state;
	struct rs_timerheap h;
	uint64_t due[CAP], seed = 7;

	assert_int_equal(rs_timerheap_init(&h, CAP), 0);
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < CAP; i++)
			due[i] = UINT64_MAX;
		for (int step = 0; step < 2000; step++) {
			uint32_t id = (uint32_t)(rng(&seed) % CAP);
			if (rng(&seed) % 3 == 0) {
				rs_timerheap_clear(&h, id);
				due[id] = UINT64_MAX;
			} else {
				/* few distinct values: ties are the hard case */
				due[id] = rng(&seed) % (round % 2 ? 16 : 1000000);
				rs_timerheap_set(&h, id, due[id]);
			}
			uint32_t fid;
			uint64_t fdue, m = model_min(due);
			if (m == UINT64_MAX) {
				assert_false(rs_timerheap_first(&h, &fid, &fdue));
				continue;
			}
			assert_true(rs_timerheap_first(&h, &fid, &fdue));
			assert_int_equal(fdue, m);
			assert_int_equal(due[fid], m);
		}
		/* Drain in order: each timer once, none missing. */
		uint64_t last = 0;
		uint32_t id;
		uint64_t d;
		while (rs_timerheap_first(&h, &id, &d)) {
			assert_true(d >= last);
			assert_int_equal(due[id], d);
			due[id] = UINT64_MAX;
			last = d;
			rs_timerheap_clear(&h, id);
		}
		assert_int_equal(model_min(due), UINT64_MAX);
		assert_int_equal(h.n, 0);
	}
	rs_timerheap_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
