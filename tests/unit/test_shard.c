/* Unit tests for src/shard.c: rs_shard_range splits [0, total) into n
 * contiguous, disjoint blocks that cover it exactly, differ in size by at
 * most one, and are floor(i * total / n) .. floor((i + 1) * total / n) as
 * shard.h promises (so every machine computes the same split). And the
 * property that matters: over the permutation, the shards visit every
 * index of the space exactly once. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ringscan/perm.h"
#include "ringscan/shard.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* floor(i * total / n) without 128-bit arithmetic: with total = q n + r,
 * i total / n = i q + i r / n, and i r < n^2 < 2^64 since n < 2^32. */
static uint64_t expect_lo(uint64_t total, uint64_t i, uint32_t n)
{
	uint64_t q = total / n, r = total % n;

	return i * q + (i * r) / n;
}

/* Shard i of (total, n): exact bounds, sizes within one of each other,
 * and empty only when total < n. */
static void check_one(uint64_t total, uint32_t i, uint32_t n, uint64_t *lo, uint64_t *hi)
{
	uint64_t q = total / n;

	*lo = *hi = 0xdeadbeefdeadbeefULL;
	rs_shard_range(total, i, n, lo, hi);
	if (*lo != expect_lo(total, i, n) || *hi != expect_lo(total, (uint64_t)i + 1, n))
		fail_msg("total %" PRIu64 ", shard %" PRIu32 "/%" PRIu32 ": [%" PRIu64 ", %" PRIu64
			 "), expected [%" PRIu64 ", %" PRIu64 ")",
			 total, i, n, *lo, *hi, expect_lo(total, i, n),
			 expect_lo(total, (uint64_t)i + 1, n));
	if (*hi < *lo || *hi > total)
		fail_msg("total %" PRIu64 ", shard %" PRIu32 "/%" PRIu32 ": bad block [%" PRIu64
			 ", %" PRIu64 ")",
			 total, i, n, *lo, *hi);
	if (*hi - *lo != q && *hi - *lo != q + 1)
		fail_msg("total %" PRIu64 ", shard %" PRIu32 "/%" PRIu32 ": size %" PRIu64
			 ", expected %" PRIu64 " or %" PRIu64,
			 total, i, n, *hi - *lo, q, q + 1);
	if (*hi == *lo && total >= n)
		fail_msg("total %" PRIu64 ", shard %" PRIu32 "/%" PRIu32 " is empty", total, i, n);
}

/* Every shard: contiguous from 0 to total, no gap, no overlap; the number
 * of empty shards is n - total when total < n, else 0. */
static void check_all(uint64_t total, uint32_t n)
{
	uint64_t prev = 0, empty = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t lo, hi;
		check_one(total, i, n, &lo, &hi);
		if (lo != prev)
			fail_msg("total %" PRIu64 ", n %" PRIu32 ": shard %" PRIu32
				 " starts at %" PRIu64 ", previous ended at %" PRIu64,
				 total, n, i, lo, prev);
		prev = hi;
		empty += lo == hi;
	}
	if (prev != total)
		fail_msg("total %" PRIu64 ", n %" PRIu32 ": shards end at %" PRIu64, total, n,
			 prev);
	if (empty != (total < n ? n - total : 0))
		fail_msg("total %" PRIu64 ", n %" PRIu32 ": %" PRIu64 " empty shards", total, n,
			 empty);
}

static const uint64_t totals[] = {0,
				  1,
				  2,
				  3,
				  7,
				  10,
				  97,
				  1000,
				  65536,
				  1000003,
				  4294967291ULL, /* largest prime < 2^32 */
				  4294967295ULL,
				  4294967296ULL,
				  4294967297ULL,
				  281474976710655ULL,	  /* 2^48 - 1 */
				  2305843009213693951ULL, /* 2^61 - 1, prime */
				  (1ULL << 63) - 25,	  /* prime */
				  (1ULL << 63) - 1,
				  1ULL << 63,
				  (1ULL << 63) + 1,
				  18446744073709551557ULL, /* largest prime < 2^64 */
				  UINT64_MAX};

/* Every shard of every total for shard counts small enough to walk. */
static void test_all_shards(void **state)
{
	(void)state;
	static const uint32_t ns[] = {1,  2,   3,   4,	  5,	7,     8,     10,    16,
				      31, 100, 257, 1000, 4096, 65521, 65536, 100003};

	for (size_t t = 0; t < NELEM(totals); t++)
		for (size_t k = 0; k < NELEM(ns); k++)
			check_all(totals[t], ns[k]);
	/* and every n up to 300 over every total up to 300 */
	for (uint64_t total = 0; total <= 300; total++)
		for (uint32_t n = 1; n <= 300; n++)
			check_all(total, n);
}

/* Shard counts up to 2^32 - 1: sampled shards, each checked exactly, and
 * neighbours meet. */
static void test_huge_shard_counts(void **state)
{
	(void)state;
	static const uint32_t ns[] = {4294967295u, 4294967294u, 4294967291u, 2147483648u,
				      2147483647u, 16777216u,	1000000007u};
	uint64_t x = 0x5eed5eed5eed5eedULL;

	for (size_t t = 0; t < NELEM(totals); t++) {
		for (size_t k = 0; k < NELEM(ns); k++) {
			uint32_t n = ns[k];
			uint32_t is[40] = {0, 1, 2, n / 2 - 1, n / 2, n - 3, n - 2, n - 1};
			size_t m = 8;
			while (m < NELEM(is))
				is[m++] = (uint32_t)(rng_next(&x) % n);
			for (size_t j = 0; j < m; j++) {
				uint64_t lo, hi, lo2, hi2;
				check_one(totals[t], is[j], n, &lo, &hi);
				if (is[j] == 0 && lo != 0)
					fail_msg("shard 0 starts at %" PRIu64, lo);
				if (is[j] == n - 1 && hi != totals[t])
					fail_msg("total %" PRIu64 ", n %" PRIu32
						 ": last shard ends at %" PRIu64,
						 totals[t], n, hi);
				if (is[j] + 1 < n) {
					check_one(totals[t], is[j] + 1, n, &lo2, &hi2);
					if (lo2 != hi)
						fail_msg("total %" PRIu64 ", n %" PRIu32
							 ": shard %" PRIu32 " ends at %" PRIu64
							 ", next starts at %" PRIu64,
							 totals[t], n, is[j], hi, lo2);
				}
			}
		}
	}
	/* one position, 2^32 - 1 shards: only the last holds it */
	{
		uint64_t lo, hi;
		rs_shard_range(1, 4294967294u, 4294967295u, &lo, &hi);
		assert_true(lo == 0 && hi == 1);
		rs_shard_range(1, 4294967293u, 4294967295u, &lo, &hi);
		assert_true(lo == 0 && hi == 0);
		rs_shard_range(1, 0, 4294967295u, &lo, &hi);
		assert_true(lo == 0 && hi == 0);
	}
	/* 2^63 over 2^32 - 1 shards, worked out by hand: 2^63 = 2^31 (2^32 - 1)
	 * + 2^31, so blocks hold 2^31 or 2^31 + 1; 2^63 / n = 2^31 + 0.5...,
	 * so the first block holds 2^31 and the last 2^31 + 1 */
	{
		uint64_t lo, hi, q = 1ULL << 31;
		rs_shard_range(1ULL << 63, 0, 4294967295u, &lo, &hi);
		assert_true(lo == 0 && hi == q);
		rs_shard_range(1ULL << 63, 1, 4294967295u, &lo, &hi);
		assert_true(lo == q && hi == 2 * q + 1);
		rs_shard_range(1ULL << 63, 4294967294u, 4294967295u, &lo, &hi);
		assert_true(hi == 1ULL << 63);
		assert_true(hi - lo == q + 1);
	}
	/* the largest 64-bit total, halved */
	{
		uint64_t lo, hi;
		rs_shard_range(UINT64_MAX, 0, 2, &lo, &hi);
		assert_true(lo == 0 && hi == UINT64_MAX / 2);
		rs_shard_range(UINT64_MAX, 1, 2, &lo, &hi);
		assert_true(lo == UINT64_MAX / 2 && hi == UINT64_MAX);
	}
}

/* The shards of a permuted space visit every index exactly once, and
 * each shard's indices spread over the whole space. */
static void check_cover(uint64_t total, uint64_t seed, uint32_t n, uint8_t *seen)
{
	struct rs_perm p;
	uint64_t visited = 0;

	memset(seen, 0, (size_t)total);
	rs_perm_init(&p, total, seed);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t lo, hi, min = UINT64_MAX, max = 0;
		rs_shard_range(total, i, n, &lo, &hi);
		for (uint64_t pos = lo; pos < hi; pos++) {
			uint64_t x = rs_perm_at(&p, pos);
			if (x >= total)
				fail_msg("total %" PRIu64 " seed %" PRIu64 ": pos %" PRIu64
					 " -> %" PRIu64 " out of range",
					 total, seed, pos, x);
			if (seen[x])
				fail_msg("total %" PRIu64 " seed %" PRIu64 " n %" PRIu32
					 ": index %" PRIu64
					 " visited by shard %u and shard %" PRIu32,
					 total, seed, n, x, seen[x] - 1u, i);
			seen[x] = (uint8_t)(i % 250 + 1);
			visited++;
			min = x < min ? x : min;
			max = x > max ? x : max;
		}
		/* a shard of at least 1,000 positions out of >= 10,000 must
		 * reach both the first and the last tenth of the space */
		if (total >= 10000 && hi - lo >= 1000 &&
		    (min >= total / 10 || max < total - total / 10))
			fail_msg("total %" PRIu64 " seed %" PRIu64 ": shard %" PRIu32 "/%" PRIu32
				 " only covers indices %" PRIu64 "..%" PRIu64,
				 total, seed, i, n, min, max);
	}
	if (visited != total)
		fail_msg("total %" PRIu64 " seed %" PRIu64 " n %" PRIu32 ": %" PRIu64
			 " positions visited",
			 total, seed, n, visited);
	for (uint64_t x = 0; x < total; x++)
		if (!seen[x])
			fail_msg("total %" PRIu64 " seed %" PRIu64 " n %" PRIu32 ": index %" PRIu64
				 " never visited",
				 total, seed, n, x);
}

static void test_shards_cover_permutation(void **state)
{
	(void)state;
	static const uint64_t ts[] = {1, 2, 3, 17, 100, 255, 256, 257, 1000, 4099, 65536, 100003};
	static const uint64_t seeds[] = {0, 1, 42, 0xdeadbeefcafef00dULL};
	static const uint32_t ns[] = {1, 2, 3, 4, 7, 10, 64, 1000, 5000};
	uint8_t *seen = malloc(100003);

	assert_non_null(seen);
	for (size_t t = 0; t < NELEM(ts); t++)
		for (size_t s = 0; s < NELEM(seeds); s++)
			for (size_t k = 0; k < NELEM(ns); k++)
				check_cover(ts[t], seeds[s], ns[k], seen);
	free(seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_shards),
		cmocka_unit_test(test_huge_shard_counts),
		cmocka_unit_test(test_shards_cover_permutation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
