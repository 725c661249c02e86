/* Unit tests for src/perm.c: rs_perm_at is a bijection of [0, n) for every
 * n, determined by the seed, and spreads consecutive positions. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ringscan/perm.h"

static const uint64_t seeds[] = {0, 1, 42, 0xdeadbeefcafef00dULL, ~0ULL};
#define NSEEDS (sizeof(seeds) / sizeof(seeds[0]))

/* Every position of [0, n) maps into [0, n), and every index is hit once. */
static void check_bijection(uint64_t n, uint64_t seed, uint8_t *bitmap)
{
	struct rs_perm p;

	memset(bitmap, 0, (size_t)((n + 7) / 8));
	rs_perm_init(&p, n, seed);
	for (uint64_t pos = 0; pos < n; pos++) {
		uint64_t x = rs_perm_at(&p, pos);
		if (x >= n)
			fail_msg("n=%" PRIu64 " seed=%#" PRIx64 ": pos %" PRIu64 " -> %" PRIu64
				 " out of range",
				 n, seed, pos, x);
		if (bitmap[x / 8] & (1u << (x % 8)))
			fail_msg("n=%" PRIu64 " seed=%#" PRIx64 ": index %" PRIu64
				 " visited twice (at pos %" PRIu64 ")",
				 n, seed, x, pos);
		bitmap[x / 8] |= (uint8_t)(1u << (x % 8));
	}
	/* n distinct values in [0, n): all of them. Check anyway. */
	for (uint64_t x = 0; x < n; x++)
		if (!(bitmap[x / 8] & (1u << (x % 8))))
			fail_msg("n=%" PRIu64 " seed=%#" PRIx64 ": index %" PRIu64 " never visited",
				 n, seed, x);
}

static void test_bijection_small_n(void **state)
{
	(void)state;
	static uint8_t bitmap[5000 / 8 + 1];

	for (uint64_t n = 1; n <= 5000; n++) /* every N up to 5,000 (issue 3) */
		for (size_t s = 0; s < NSEEDS; s++)
			check_bijection(n, seeds[s], bitmap);
}

static void test_bijection_large_n(void **state)
{
	(void)state;
	static const uint64_t ns[] = {
		65535, 65536, 65537, 1000003, 1ULL << 20, (1ULL << 20) + 1, (1ULL << 22) - 1};
	uint8_t *bitmap = malloc(((1ULL << 22) + 7) / 8);

	assert_non_null(bitmap);
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		check_bijection(ns[i], seeds[i % NSEEDS], bitmap);
	check_bijection(1000003, 7, bitmap);
	free(bitmap);
}

/* n = 1: the only position maps to 0. */
static void test_n_one(void **state)
{
	(void)state;
	for (size_t s = 0; s < NSEEDS; s++) {
		struct rs_perm p;
		rs_perm_init(&p, 1, seeds[s]);
		assert_int_equal(rs_perm_at(&p, 0), 0);
	}
}

/* Same seed, same order (also from an independently initialised struct);
 * the order does not depend on earlier calls. */
static void test_deterministic(void **state)
{
	(void)state;
	static const uint64_t ns[] = {2, 10, 1000, 65536, 1000003, 1ULL << 32, (1ULL << 48) - 1};

	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		for (size_t s = 0; s < NSEEDS; s++) {
			struct rs_perm a, b;
			memset(&a, 0x00, sizeof(a));
			memset(&b, 0xff, sizeof(b));
			rs_perm_init(&a, ns[i], seeds[s]);
			rs_perm_init(&b, ns[i], seeds[s]);
			uint64_t lim = ns[i] < 5000 ? ns[i] : 5000;
			for (uint64_t pos = 0; pos < lim; pos++)
				assert_int_equal(rs_perm_at(&a, pos), rs_perm_at(&b, pos));
			/* backwards, and again: pure function of (perm, pos) */
			for (uint64_t pos = lim; pos-- > 0;) {
				uint64_t x = rs_perm_at(&a, pos);
				assert_int_equal(x, rs_perm_at(&a, pos));
				assert_int_equal(x, rs_perm_at(&b, pos));
			}
		}
	}
}

/* Different seeds give unrelated orders. */
static void test_different_seeds_differ(void **state)
{
	(void)state;
	static const uint64_t ns[] = {100, 3000, 65536, 1000003, 1ULL << 32, (1ULL << 48) - 1};

	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		for (size_t s = 0; s < NSEEDS; s++) {
			for (size_t t = s + 1; t < NSEEDS; t++) {
				struct rs_perm a, b;
				uint64_t lim = ns[i] < 1000 ? ns[i] : 1000, same = 0;
				rs_perm_init(&a, ns[i], seeds[s]);
				rs_perm_init(&b, ns[i], seeds[t]);
				for (uint64_t pos = 0; pos < lim; pos++)
					same += rs_perm_at(&a, pos) == rs_perm_at(&b, pos);
				/* two independent orders agree in about lim/n places */
				if (same > lim / 10 + 2)
					fail_msg("n=%" PRIu64 ": seeds %#" PRIx64 " and %#" PRIx64
						 " agree at %" PRIu64 " of %" PRIu64 " positions",
						 ns[i], seeds[s], seeds[t], same, lim);
			}
		}
	}
	/* Nearby seeds too (a seed counter must not give related orders). */
	for (uint64_t seed = 100; seed < 110; seed++) {
		struct rs_perm a, b;
		uint64_t same = 0;
		rs_perm_init(&a, 1000000, seed);
		rs_perm_init(&b, 1000000, seed + 1);
		for (uint64_t pos = 0; pos < 10000; pos++)
			same += rs_perm_at(&a, pos) == rs_perm_at(&b, pos);
		assert_true(same < 100);
	}
	/* Seeds differing only in high bits (all 64 bits of the seed count). */
	for (unsigned bit = 0; bit < 64; bit++) {
		struct rs_perm a, b;
		uint64_t same = 0;
		rs_perm_init(&a, 100000, 12345);
		rs_perm_init(&b, 100000, 12345 ^ (1ULL << bit));
		for (uint64_t pos = 0; pos < 1000; pos++)
			same += rs_perm_at(&a, pos) == rs_perm_at(&b, pos);
		if (same > 50)
			fail_msg("seeds differing in bit %u agree at %" PRIu64 " of 1000 positions",
				 bit, same);
	}
}

/* The order is not the identity nor a near-sequential walk: consecutive
 * positions land on scattered indices (so one host is not hammered). */
static void test_spreads(void **state)
{
	(void)state;
	static const uint64_t ns[] = {256, 4096, 65536, 1000003};

	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		for (size_t s = 0; s < NSEEDS; s++) {
			struct rs_perm p;
			uint64_t n = ns[i], fixed = 0, step1 = 0, near = 0, prev;
			uint64_t lim = n < 65536 ? n : 65536;

			rs_perm_init(&p, n, seeds[s]);
			prev = rs_perm_at(&p, 0);
			fixed += prev == 0;
			for (uint64_t pos = 1; pos < lim; pos++) {
				uint64_t x = rs_perm_at(&p, pos);
				uint64_t d = x > prev ? x - prev : prev - x;
				fixed += x == pos;
				step1 += d == 1;
				near += d < n / 64;
				prev = x;
			}
			/* a random order: ~1 fixed point, ~2 unit steps, ~3% near */
			if (fixed > 10 + lim / 500 || step1 > 10 + lim / 500 || near > lim / 10)
				fail_msg("n=%" PRIu64 " seed=%#" PRIx64 ": fixed=%" PRIu64
					 " step1=%" PRIu64 " near=%" PRIu64 " of %" PRIu64,
					 n, seeds[s], fixed, step1, near, lim);
		}
	}
}

/* Comparator for the collision check. */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Huge n: sampled positions stay < n and never collide. */
static void check_huge(uint64_t n, uint64_t seed)
{
	enum { SAMPLE = 100000 };
	uint64_t *v = malloc(SAMPLE * 2 * sizeof(*v));
	struct rs_perm p;
	size_t k = 0;
	uint64_t stride = (n - SAMPLE) / SAMPLE; /* first half stays below n - SAMPLE */

	assert_non_null(v);
	rs_perm_init(&p, n, seed);
	/* half spread evenly over [0, n), half consecutive at the very end */
	for (uint64_t i = 0; i < SAMPLE; i++)
		v[k++] = rs_perm_at(&p, i * stride + (i * 7919) % stride);
	for (uint64_t i = 0; i < SAMPLE; i++)
		v[k++] = rs_perm_at(&p, n - 1 - i);
	for (size_t i = 0; i < k; i++)
		if (v[i] >= n)
			fail_msg("n=%" PRIu64 ": result %" PRIu64 " out of range", n, v[i]);
	qsort(v, k, sizeof(*v), cmp_u64);
	for (size_t i = 1; i < k; i++)
		if (v[i] == v[i - 1])
			fail_msg("n=%" PRIu64 " seed=%#" PRIx64 ": collision on %" PRIu64, n, seed,
				 v[i]);
	/* and the images are spread: both halves of [0, n) are hit */
	assert_true(v[0] < n / 2 && v[k - 1] >= n / 2);
	free(v);
}

static void test_huge_n(void **state)
{
	(void)state;
	check_huge(1ULL << 32, 1);
	check_huge((1ULL << 32) + 1, 2);
	check_huge((1ULL << 48) - 1, 3);
	check_huge((1ULL << 32) * 65535, 4); /* the whole IPv4 × port space */
	check_huge((1ULL << 48) - 1, ~0ULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_n_one),
		cmocka_unit_test(test_bijection_small_n),
		cmocka_unit_test(test_bijection_large_n),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_different_seeds_differ),
		cmocka_unit_test(test_spreads),
		cmocka_unit_test(test_huge_n),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
