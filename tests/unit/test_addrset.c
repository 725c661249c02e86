/* Unit tests for src/addrset.c: 128-bit address sets (finalize merging,
 * the 2^63 limit, subtract, overlaps, pick), the IPv4-mapped form, endpoint
 * conversion, reserved ranges, and the limit on addresses × ports.
 *
 * Expected values are computed here independently: bitmaps over small
 * universes placed at interesting spots of the 128-bit line (0, the IPv4 /
 * IPv6 boundary at ::ffff:0.0.0.0, the 2^64 carry, the top value). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ringscan/targets.h"

#define U128(h, l) (((rs_u128)(h) << 64) | (rs_u128)(l))
#define MAX128	   (~(rs_u128)0)
/* ::ffff:x, written out here rather than taken from rs_addr_v4 */
#define V4(x) (((rs_u128)0xffff << 32) | (rs_u128)(uint32_t)(x))
#define IP(a, b, c, d)                                                                             \
	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))
#define P2(k)	 ((rs_u128)1 << (k))
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Hex text of a 128-bit value, from a small ring of buffers so that several
 * can appear in one message. */
static const char *hex(rs_u128 v)
{
	static char buf[8][40];
	static unsigned next;
	char *b = buf[next++ % 8];

	snprintf(b, 40, "%#" PRIx64 ":%016" PRIx64, (uint64_t)(v >> 64), (uint64_t)v);
	return b;
}

static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Sorted, disjoint, non-adjacent ranges; before[] and count consistent. */
static void check_shape(const char *what, const struct rs_addrset *s)
{
	uint64_t c = 0;

	for (size_t i = 0; i < s->n; i++) {
		if (s->r[i].lo > s->r[i].hi)
			fail_msg("%s: range %zu reversed [%s, %s]", what, i, hex(s->r[i].lo),
				 hex(s->r[i].hi));
		if (i && !(s->r[i - 1].hi < s->r[i].lo && s->r[i].lo - s->r[i - 1].hi > 1))
			fail_msg("%s: ranges %zu and %zu overlap or touch: [%s, %s] [%s, %s]", what,
				 i - 1, i, hex(s->r[i - 1].lo), hex(s->r[i - 1].hi),
				 hex(s->r[i].lo), hex(s->r[i].hi));
		if (s->before[i] != c)
			fail_msg("%s: before[%zu] = %" PRIu64 ", expected %" PRIu64, what, i,
				 s->before[i], c);
		c += (uint64_t)(s->r[i].hi - s->r[i].lo) + 1;
	}
	if (s->count != c)
		fail_msg("%s: count %" PRIu64 ", ranges hold %" PRIu64, what, s->count, c);
}

/* Finalized s equals exactly the ranges want[0..n): same ranges, count, and
 * pick at every range's first, second, middle, last-but-one and last
 * index (every index when the set is small). */
static void check_ranges(const char *what, const struct rs_addrset *s,
			 const struct rs_range128 *want, size_t n)
{
	rs_u128 total = 0;

	for (size_t i = 0; i < n; i++)
		total += want[i].hi - want[i].lo + 1;
	if (s->n != n || (rs_u128)s->count != total)
		fail_msg("%s: %zu ranges, count %" PRIu64 "; expected %zu, count %s", what, s->n,
			 s->count, n, hex(total));
	for (size_t i = 0; i < n; i++)
		if (s->r[i].lo != want[i].lo || s->r[i].hi != want[i].hi)
			fail_msg("%s: range %zu is [%s, %s], expected [%s, %s]", what, i,
				 hex(s->r[i].lo), hex(s->r[i].hi), hex(want[i].lo),
				 hex(want[i].hi));
	check_shape(what, s);
	uint64_t base = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t len = (uint64_t)(want[i].hi - want[i].lo) + 1; /* 0 if 2^64 */
		uint64_t offs[] = {0, 1, len / 2, len - 2, len - 1};
		for (size_t j = 0; j < NELEM(offs); j++) {
			if (offs[j] >= len && len)
				continue;
			rs_u128 got = rs_addrset_pick(s, base + offs[j]);
			if (got != want[i].lo + offs[j])
				fail_msg("%s: pick(%" PRIu64 ") = %s, expected %s", what,
					 base + offs[j], hex(got), hex(want[i].lo + offs[j]));
		}
		if (len <= 300)
			for (uint64_t k = 0; k < len; k++)
				if (rs_addrset_pick(s, base + k) != want[i].lo + k)
					fail_msg("%s: pick(%" PRIu64 ") = %s, expected %s", what,
						 base + k, hex(rs_addrset_pick(s, base + k)),
						 hex(want[i].lo + k));
		base += len;
	}
}

/* s (finalized) equals the bitmap bits[0..U) placed at base: ranges are
 * exactly the bitmap's maximal runs, and pick(k) is its k-th set bit. */
static void check_vs_bitmap(const char *what, const struct rs_addrset *s, const uint8_t *bits,
			    uint32_t U, rs_u128 base)
{
	size_t run = 0;
	uint64_t k = 0;

	check_shape(what, s);
	for (uint32_t v = 0; v < U; v++) {
		if (!bits[v])
			continue;
		if (v == 0 || !bits[v - 1]) {
			uint32_t e = v;
			while (e + 1 < U && bits[e + 1])
				e++;
			if (run >= s->n)
				fail_msg("%s: only %zu ranges, bitmap has more runs", what, s->n);
			if (s->r[run].lo != base + v || s->r[run].hi != base + e)
				fail_msg("%s: range %zu is [%s, %s], expected [%s, %s]", what, run,
					 hex(s->r[run].lo), hex(s->r[run].hi), hex(base + v),
					 hex(base + e));
			run++;
		}
		rs_u128 got = rs_addrset_pick(s, k);
		if (got != base + v)
			fail_msg("%s: pick(%" PRIu64 ") = %s, expected %s", what, k, hex(got),
				 hex(base + v));
		k++;
	}
	if (s->n != run || s->count != k)
		fail_msg("%s: %zu ranges holding %" PRIu64 ", bitmap has %zu runs holding %" PRIu64,
			 what, s->n, s->count, run, k);
}

#define MAXA 6
#define MAXW 4

struct fcase {
	const char *what;
	size_t nadd;
	struct rs_range128 add[MAXA];
	int rc; /* of finalize */
	size_t nwant;
	struct rs_range128 want[MAXW];
};

static const struct fcase finalize_cases[] = {
	{"overlap", 2, {{10, 20}, {15, 30}}, 0, 1, {{10, 30}}},
	{"overlap, reverse order", 2, {{15, 30}, {10, 20}}, 0, 1, {{10, 30}}},
	{"adjacent", 2, {{10, 20}, {21, 30}}, 0, 1, {{10, 30}}},
	{"adjacent, reverse order", 2, {{21, 30}, {10, 20}}, 0, 1, {{10, 30}}},
	{"gap of one", 2, {{10, 20}, {22, 30}}, 0, 2, {{10, 20}, {22, 30}}},
	{"containment", 2, {{0, 100}, {10, 20}}, 0, 1, {{0, 100}}},
	{"containment, reverse order", 2, {{10, 20}, {0, 100}}, 0, 1, {{0, 100}}},
	{"same lo", 3, {{5, 10}, {5, 7}, {5, 20}}, 0, 1, {{5, 20}}},
	{"same hi", 3, {{5, 20}, {15, 20}, {1, 20}}, 0, 1, {{1, 20}}},
	{"duplicates", 3, {{5, 5}, {5, 5}, {5, 5}}, 0, 1, {{5, 5}}},
	{"chain of singles", 5, {{1, 1}, {3, 3}, {2, 2}, {5, 5}, {4, 4}}, 0, 1, {{1, 5}}},
	{"bridge", 3, {{0, 9}, {20, 29}, {10, 19}}, 0, 1, {{0, 29}}},
	{"several kept apart",
	 4,
	 {{100, 200}, {0, 0}, {202, 300}, {2, 50}},
	 0,
	 4,
	 {{0, 0}, {2, 50}, {100, 200}, {202, 300}}},
	{"zero and max", 2, {{MAX128, MAX128}, {0, 0}}, 0, 2, {{0, 0}, {MAX128, MAX128}}},
	{"max alone", 1, {{MAX128, MAX128}}, 0, 1, {{MAX128, MAX128}}},
	{"max twice", 2, {{MAX128, MAX128}, {MAX128, MAX128}}, 0, 1, {{MAX128, MAX128}}},
	{"adjacent at max",
	 2,
	 {{MAX128, MAX128}, {MAX128 - 1, MAX128 - 1}},
	 0,
	 1,
	 {{MAX128 - 1, MAX128}}},
	{"contained after a range ending at max",
	 3,
	 {{MAX128 - 3, MAX128}, {MAX128 - 2, MAX128 - 1}, {MAX128, MAX128}},
	 0,
	 1,
	 {{MAX128 - 3, MAX128}}},
	{"near max",
	 3,
	 {{MAX128 - 5, MAX128}, {MAX128, MAX128}, {MAX128 - 10, MAX128 - 6}},
	 0,
	 1,
	 {{MAX128 - 10, MAX128}}},
	{"gap below max",
	 2,
	 {{MAX128, MAX128}, {MAX128 - 5, MAX128 - 2}},
	 0,
	 2,
	 {{MAX128 - 5, MAX128 - 2}, {MAX128, MAX128}}},
	{"IPv6 just below IPv4 merges with 0.0.0.0",
	 2,
	 {{V4(0), V4(0)}, {V4(0) - 1, V4(0) - 1}},
	 0,
	 1,
	 {{V4(0) - 1, V4(0)}}},
	{"255.255.255.255 merges with the IPv6 above",
	 2,
	 {{V4(0xffffffff) + 1, V4(0xffffffff) + 1}, {V4(0xffffffff), V4(0xffffffff)}},
	 0,
	 1,
	 {{V4(0xffffffff), V4(0xffffffff) + 1}}},
	{"all of IPv4 and its neighbours",
	 3,
	 {{V4(0), V4(0xffffffff)},
	  {V4(0) - 2, V4(0) - 1},
	  {V4(0xffffffff) + 2, V4(0xffffffff) + 2}},
	 0,
	 2,
	 {{V4(0) - 2, V4(0xffffffff)}, {V4(0xffffffff) + 2, V4(0xffffffff) + 2}}},
	{"across the 2^64 carry",
	 2,
	 {{P2(64), P2(64)}, {P2(64) - 1, P2(64) - 1}},
	 0,
	 1,
	 {{P2(64) - 1, P2(64)}}},
	{"exactly 2^63", 1, {{0, P2(63) - 1}}, 0, 1, {{0, P2(63) - 1}}},
	{"exactly 2^63 at the top",
	 1,
	 {{MAX128 - (P2(63) - 1), MAX128}},
	 0,
	 1,
	 {{MAX128 - (P2(63) - 1), MAX128}}},
	{"2^63 from overlapping pieces",
	 3,
	 {{0, P2(63) - 1}, {5, P2(63) - 1}, {0, P2(62)}},
	 0,
	 1,
	 {{0, P2(63) - 1}}},
	{"2^63 in two ranges",
	 2,
	 {{0, P2(62) - 1}, {P2(100), P2(100) + P2(62) - 1}},
	 0,
	 2,
	 {{0, P2(62) - 1}, {P2(100), P2(100) + P2(62) - 1}}},
	{"2^63 in three ranges",
	 3,
	 {{P2(65), P2(65) + P2(61) - 1}, {0, P2(62) - 1}, {P2(64), P2(64) + P2(61) - 1}},
	 0,
	 3,
	 {{0, P2(62) - 1}, {P2(64), P2(64) + P2(61) - 1}, {P2(65), P2(65) + P2(61) - 1}}},
	{"2^63 + 1 in one range", 1, {{0, P2(63)}}, -E2BIG, 0, {{0, 0}}},
	{"2^63 + 1 in two ranges",
	 2,
	 {{0, P2(62) - 1}, {P2(100), P2(100) + P2(62)}},
	 -E2BIG,
	 0,
	 {{0, 0}}},
	{"2^63 + 1 in three ranges",
	 4,
	 {{P2(65), P2(65) + P2(61) - 1},
	  {0, P2(62) - 1},
	  {P2(64), P2(64) + P2(61) - 1},
	  {P2(70), P2(70)}},
	 -E2BIG,
	 0,
	 {{0, 0}}},
	{"2^63 + 1: a 2^63 range and one more",
	 2,
	 {{P2(80), P2(80) + P2(63) - 1}, {1, 1}},
	 -E2BIG,
	 0,
	 {{0, 0}}},
	{"2^63 + 1: one more after a 2^63 range",
	 2,
	 {{P2(80), P2(80) + P2(63) - 1}, {MAX128, MAX128}},
	 -E2BIG,
	 0,
	 {{0, 0}}},
	{"2^63 and 2^63 adjacent (one 2^64 range)",
	 2,
	 {{0, P2(63) - 1}, {P2(63), P2(64) - 1}},
	 -E2BIG,
	 0,
	 {{0, 0}}},
	{"2^63 and 2^63 apart (2^64 in all)",
	 2,
	 {{0, P2(63) - 1}, {P2(100), P2(100) + P2(63) - 1}},
	 -E2BIG,
	 0,
	 {{0, 0}}},
	{"2^63, 2^63 and 5 apart",
	 3,
	 {{0, P2(63) - 1}, {P2(100), P2(100) + P2(63) - 1}, {P2(101), P2(101) + 4}},
	 -E2BIG,
	 0,
	 {{0, 0}}},
	{"2^64 (an IPv6 /64)",
	 1,
	 {{U128(0x20010db800000000ULL, 0), U128(0x20010db800000000ULL, ~0ULL)}},
	 -E2BIG,
	 0,
	 {{0, 0}}},
	{"2^64 + 1", 1, {{0, P2(64)}}, -E2BIG, 0, {{0, 0}}},
	{"everything", 1, {{0, MAX128}}, -E2BIG, 0, {{0, 0}}},
	{"everything twice", 2, {{0, MAX128}, {0, MAX128}}, -E2BIG, 0, {{0, 0}}},
};

static void test_finalize_table(void **state)
{
	(void)state;
	int bad = 0;

	for (size_t c = 0; c < NELEM(finalize_cases); c++) {
		const struct fcase *fc = &finalize_cases[c];
		struct rs_addrset s;
		char what[160];

		snprintf(what, sizeof(what), "finalize case %zu (%s)", c, fc->what);
		rs_addrset_init(&s);
		for (size_t i = 0; i < fc->nadd; i++)
			assert_int_equal(rs_addrset_add(&s, fc->add[i].lo, fc->add[i].hi), 0);
		int rc = rs_addrset_finalize(&s);
		if (rc != fc->rc) {
			/* report every such row, then fail */
			print_error("%s: finalize returned %d (count %" PRIu64
				    ", %zu ranges), expected %d\n",
				    what, rc, s.count, s.n, fc->rc);
			bad++;
		} else if (!rc) {
			check_ranges(what, &s, fc->want, fc->nwant);
			/* finalize again: nothing changes */
			assert_int_equal(rs_addrset_finalize(&s), 0);
			check_ranges(what, &s, fc->want, fc->nwant);
		}
		rs_addrset_free(&s);
	}
	if (bad)
		fail_msg("%d finalize case(s) failed", bad);
}

/* Random ranges over small universes at interesting bases, against a
 * bitmap: merge, count and every pick(k). */
static void test_finalize_random_vs_bitmap(void **state)
{
	(void)state;
	enum { U = 3000 };
	static uint8_t bits[U];
	const rs_u128 bases[] = {0,
				 MAX128 - (U - 1),
				 V4(0) - U / 2,
				 V4(0xffffffff) - U / 2,
				 P2(64) - U / 2,
				 U128(0x20010db800000000ULL, 0)};
	uint64_t x = 0x1234567887654321ULL;

	for (int iter = 0; iter < 360; iter++) {
		struct rs_addrset s;
		rs_u128 base = bases[iter % NELEM(bases)];
		int nadd = 1 + (int)(rng_next(&x) % 40);
		char what[64];

		memset(bits, 0, sizeof(bits));
		rs_addrset_init(&s);
		for (int i = 0; i < nadd; i++) {
			uint32_t lo = (uint32_t)(rng_next(&x) % U);
			uint32_t len = (uint32_t)(rng_next(&x) % (i % 4 == 0 ? 200 : 6));
			uint32_t hi = lo + len < U ? lo + len : U - 1;
			if (i == 0 && iter % 7 == 0) /* touch both ends of the universe */
				lo = 0;
			if (i == 1 && iter % 5 == 0)
				hi = U - 1;
			for (uint32_t v = lo; v <= hi; v++)
				bits[v] = 1;
			assert_int_equal(rs_addrset_add(&s, base + lo, base + hi), 0);
		}
		snprintf(what, sizeof(what), "random merge %d", iter);
		assert_int_equal(rs_addrset_finalize(&s), 0);
		check_vs_bitmap(what, &s, bits, U, base);
		/* adding a range already covered and finalizing again changes
		 * nothing */
		assert_int_equal(rs_addrset_add(&s, s.r[0].lo, s.r[0].hi), 0);
		assert_int_equal(rs_addrset_finalize(&s), 0);
		check_vs_bitmap(what, &s, bits, U, base);
		rs_addrset_free(&s);
	}
}

/* Many disjoint ranges across the 2^64 carry, added in reverse: the binary
 * search over before[] against enumeration. */
static void test_pick_many_ranges(void **state)
{
	(void)state;
	struct rs_addrset s;
	enum { N = 1000 };
	const rs_u128 base = P2(64) - 5003;

	rs_addrset_init(&s);
	for (uint32_t i = N; i-- > 0;)
		assert_int_equal(rs_addrset_add(&s, base + i * 10, base + i * 10 + (i % 7)), 0);
	assert_int_equal(rs_addrset_finalize(&s), 0);
	assert_int_equal(s.n, N);
	uint64_t k = 0;
	for (uint32_t i = 0; i < N; i++)
		for (uint32_t v = i * 10; v <= i * 10 + (i % 7); v++, k++)
			if (rs_addrset_pick(&s, k) != base + v)
				fail_msg("pick(%" PRIu64 ") = %s, expected %s", k,
					 hex(rs_addrset_pick(&s, k)), hex(base + v));
	assert_int_equal(s.count, k);
	rs_addrset_free(&s);
}

/* Build a finalized set from ranges. */
static void build(struct rs_addrset *s, const struct rs_range128 *r, size_t n)
{
	rs_addrset_init(s);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(rs_addrset_add(s, r[i].lo, r[i].hi), 0);
	assert_int_equal(rs_addrset_finalize(s), 0);
}

struct scase {
	const char *what;
	size_t ns, ne, nw;
	struct rs_range128 s[MAXW], e[MAXW], want[MAXW];
};

static const struct scase subtract_cases[] = {
	{"exclude everything", 2, 1, 0, {{10, 20}, {30, 40}}, {{0, 100}}, {{0, 0}}},
	{"exclude exactly the set", 2, 2, 0, {{10, 20}, {30, 40}}, {{10, 20}, {30, 40}}, {{0, 0}}},
	{"exclude the set in pieces",
	 1,
	 3,
	 0,
	 {{10, 40}},
	 {{10, 19}, {20, 29}, {30, 40}},
	 {{0, 0}}},
	{"exclude nothing", 2, 0, 2, {{10, 20}, {30, 40}}, {{0, 0}}, {{10, 20}, {30, 40}}},
	{"exclusions in the gaps only",
	 2,
	 3,
	 2,
	 {{10, 20}, {30, 40}},
	 {{0, 9}, {21, 29}, {41, 1000}},
	 {{10, 20}, {30, 40}}},
	{"first value", 2, 1, 2, {{10, 20}, {30, 40}}, {{10, 10}}, {{11, 20}, {30, 40}}},
	{"last value", 2, 1, 2, {{10, 20}, {30, 40}}, {{40, 40}}, {{10, 20}, {30, 39}}},
	{"first and last of each",
	 2,
	 4,
	 2,
	 {{10, 20}, {30, 40}},
	 {{10, 10}, {20, 20}, {30, 30}, {40, 40}},
	 {{11, 19}, {31, 39}}},
	{"a single-value range",
	 3,
	 1,
	 2,
	 {{10, 20}, {25, 25}, {30, 40}},
	 {{25, 25}},
	 {{10, 20}, {30, 40}}},
	{"spanning several ranges",
	 4,
	 1,
	 2,
	 {{10, 20}, {30, 40}, {50, 60}, {70, 80}},
	 {{15, 75}},
	 {{10, 14}, {76, 80}}},
	{"spanning several, from below to above",
	 4,
	 1,
	 0,
	 {{10, 20}, {30, 40}, {50, 60}, {70, 80}},
	 {{5, 85}},
	 {{0, 0}}},
	{"holes in one range",
	 1,
	 3,
	 4,
	 {{0, 100}},
	 {{10, 10}, {20, 29}, {50, 50}},
	 {{0, 9}, {11, 19}, {30, 49}, {51, 100}}},
	{"one exclusion over two ends",
	 3,
	 2,
	 3,
	 {{0, 10}, {20, 30}, {40, 50}},
	 {{8, 22}, {28, 42}},
	 {{0, 7}, {23, 27}, {43, 50}}},
	{"adjacent, not overlapping", 1, 2, 1, {{10, 20}}, {{0, 9}, {21, 30}}, {{10, 20}}},
	{"zero", 1, 1, 1, {{0, 10}}, {{0, 0}}, {{1, 10}}},
	{"max", 1, 1, 1, {{MAX128 - 10, MAX128}}, {{MAX128, MAX128}}, {{MAX128 - 10, MAX128 - 1}}},
	{"bottom of a range at max",
	 1,
	 1,
	 1,
	 {{MAX128 - 10, MAX128}},
	 {{MAX128 - 10, MAX128 - 10}},
	 {{MAX128 - 9, MAX128}}},
	{"zero and max",
	 2,
	 2,
	 2,
	 {{0, 5}, {MAX128 - 5, MAX128}},
	 {{0, 0}, {MAX128, MAX128}},
	 {{1, 5}, {MAX128 - 5, MAX128 - 1}}},
	{"an exclusion up to max",
	 2,
	 2,
	 2,
	 {{0, 5}, {MAX128 - 5, MAX128}},
	 {{3, 3}, {MAX128 - 7, MAX128}},
	 {{0, 2}, {4, 5}}},
	{"empty set", 0, 1, 0, {{0, 0}}, {{10, 20}}, {{0, 0}}},
	{"IPv4 out of mixed",
	 2,
	 1,
	 3,
	 {{1, 1}, {V4(IP(10, 0, 0, 0)), V4(IP(10, 255, 255, 255))}},
	 {{V4(IP(10, 1, 0, 0)), V4(IP(10, 1, 255, 255))}},
	 {{1, 1},
	  {V4(IP(10, 0, 0, 0)), V4(IP(10, 0, 255, 255))},
	  {V4(IP(10, 2, 0, 0)), V4(IP(10, 255, 255, 255))}}},
	{"IPv4 out of an IPv6 range over it",
	 1,
	 1,
	 2,
	 {{V4(0) - 100, V4(0xffffffff) + 100}},
	 {{V4(0), V4(0xffffffff)}},
	 {{V4(0) - 100, V4(0) - 1}, {V4(0xffffffff) + 1, V4(0xffffffff) + 100}}},
	{"2^63 minus one value",
	 1,
	 1,
	 2,
	 {{P2(90), P2(90) + P2(63) - 1}},
	 {{P2(90) + P2(62), P2(90) + P2(62)}},
	 {{P2(90), P2(90) + P2(62) - 1}, {P2(90) + P2(62) + 1, P2(90) + P2(63) - 1}}},
};

static void check_subtract_case(const struct scase *sc, size_t c)
{
	struct rs_addrset s, e;
	char what[160];

	snprintf(what, sizeof(what), "subtract case %zu (%s)", c, sc->what);
	build(&s, sc->s, sc->ns);
	build(&e, sc->e, sc->ne);
	int rc = rs_addrset_subtract(&s, &e);
	if (rc)
		fail_msg("%s: returned %d", what, rc);
	if (!s.finalized)
		fail_msg("%s: result not finalized", what);
	check_ranges(what, &s, sc->want, sc->nw);
	/* idempotent; the exclusion set is untouched */
	assert_int_equal(rs_addrset_subtract(&s, &e), 0);
	check_ranges(what, &s, sc->want, sc->nw);
	{
		struct rs_addrset e2;
		build(&e2, sc->e, sc->ne);
		assert_int_equal(e.n, e2.n);
		assert_int_equal(e.count, e2.count);
		for (size_t i = 0; i < e.n; i++)
			assert_true(e.r[i].lo == e2.r[i].lo && e.r[i].hi == e2.r[i].hi);
		rs_addrset_free(&e2);
	}
	rs_addrset_free(&s);
	rs_addrset_free(&e);
}

static void test_subtract_table(void **state)
{
	(void)state;
	for (size_t c = 0; c < NELEM(subtract_cases); c++)
		check_subtract_case(&subtract_cases[c], c);
}

/* 500 random cases over a universe of 4,096 values (up to 30 ranges in
 * each set) against a bitmap; the exclusion set sometimes reaches far
 * outside the universe. */
static void test_subtract_random_vs_bitmap(void **state)
{
	(void)state;
	enum { U = 4096 };
	static uint8_t sbits[U], ebits[U], rbits[U];
	const rs_u128 bases[] = {0, V4(0) - U / 2, P2(64) - U / 2, MAX128 - (U - 1),
				 V4(IP(10, 0, 0, 0))};
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	for (int iter = 0; iter < 500; iter++) {
		struct rs_addrset s, e;
		rs_u128 base = bases[iter % NELEM(bases)];
		int ns = (int)(rng_next(&x) % 31), ne = (int)(rng_next(&x) % 31);
		char what[64];

		snprintf(what, sizeof(what), "random subtract %d", iter);
		memset(sbits, 0, sizeof(sbits));
		memset(ebits, 0, sizeof(ebits));
		rs_addrset_init(&s);
		rs_addrset_init(&e);
		for (int pass = 0; pass < 2; pass++) {
			uint8_t *bits = pass ? ebits : sbits;
			struct rs_addrset *set = pass ? &e : &s;
			for (int i = 0; i < (pass ? ne : ns); i++) {
				uint32_t lo = (uint32_t)(rng_next(&x) % U);
				uint32_t len = (uint32_t)(rng_next(&x) % (i % 3 == 0 ? 400 : 8));
				uint32_t hi = lo + len < U ? lo + len : U - 1;
				for (uint32_t v = lo; v <= hi; v++)
					bits[v] = 1;
				assert_int_equal(rs_addrset_add(set, base + lo, base + hi), 0);
			}
		}
		/* exclusions reaching below and above the universe */
		if (iter % 4 == 1 && base >= P2(40)) {
			uint32_t to = (uint32_t)(rng_next(&x) % 64);
			memset(ebits, 1, to + 1);
			assert_int_equal(rs_addrset_add(&e, base - P2(40), base + to), 0);
		}
		if (iter % 4 == 2 && MAX128 - base - (U - 1) >= P2(40)) {
			uint32_t from = U - 1 - (uint32_t)(rng_next(&x) % 64);
			memset(ebits + from, 1, U - from);
			assert_int_equal(rs_addrset_add(&e, base + from, base + (U - 1) + P2(40)),
					 0);
		}
		if (iter % 4 == 3 && MAX128 - base - (U - 1) < P2(40)) {
			uint32_t from = U - 1 - (uint32_t)(rng_next(&x) % 64);
			memset(ebits + from, 1, U - from);
			assert_int_equal(rs_addrset_add(&e, base + from, MAX128), 0);
		}
		assert_int_equal(rs_addrset_finalize(&s), 0);
		assert_int_equal(rs_addrset_finalize(&e), 0);
		for (uint32_t v = 0; v < U; v++)
			rbits[v] = sbits[v] && !ebits[v];
		int rc = rs_addrset_subtract(&s, &e);
		if (rc)
			fail_msg("%s: returned %d", what, rc);
		if (!s.finalized)
			fail_msg("%s: result not finalized", what);
		check_vs_bitmap(what, &s, rbits, U, base);
		rs_addrset_free(&s);
		rs_addrset_free(&e);
	}
}

/* overlaps() against a bitmap on random queries, and at the edges. */
static void test_overlaps(void **state)
{
	(void)state;
	enum { U = 2048 };
	static uint8_t bits[U];
	const rs_u128 bases[] = {0, V4(0) - U / 2, MAX128 - (U - 1)};
	uint64_t x = 0x0123456789abcdefULL;

	for (int iter = 0; iter < 150; iter++) {
		struct rs_addrset s;
		rs_u128 base = bases[iter % NELEM(bases)];
		int n = (int)(rng_next(&x) % 12);

		memset(bits, 0, sizeof(bits));
		rs_addrset_init(&s);
		for (int i = 0; i < n; i++) {
			uint32_t lo = (uint32_t)(rng_next(&x) % U);
			uint32_t hi = lo + (uint32_t)(rng_next(&x) % 50);
			if (hi >= U)
				hi = U - 1;
			memset(bits + lo, 1, hi - lo + 1);
			assert_int_equal(rs_addrset_add(&s, base + lo, base + hi), 0);
		}
		assert_int_equal(rs_addrset_finalize(&s), 0);
		for (int q = 0; q < 200; q++) {
			uint32_t lo = (uint32_t)(rng_next(&x) % U);
			uint32_t hi = lo + (uint32_t)(rng_next(&x) % (q % 2 ? 3 : 300));
			bool want = false;
			if (hi >= U)
				hi = U - 1;
			for (uint32_t v = lo; v <= hi && !want; v++)
				want = bits[v];
			if (rs_addrset_overlaps(&s, base + lo, base + hi) != want)
				fail_msg("iter %d: overlaps([%s, %s]) = %d, expected %d", iter,
					 hex(base + lo), hex(base + hi), !want, want);
		}
		/* the whole line overlaps iff the set is not empty */
		assert_int_equal(rs_addrset_overlaps(&s, 0, MAX128), s.n > 0);
		/* each range touched at exactly one end, missed just outside */
		for (size_t i = 0; i < s.n; i++) {
			rs_u128 lo = s.r[i].lo, hi = s.r[i].hi;
			assert_true(rs_addrset_overlaps(&s, lo, lo));
			assert_true(rs_addrset_overlaps(&s, hi, hi));
			if (lo > 0) {
				assert_true(rs_addrset_overlaps(&s, 0, lo));
				assert_false(rs_addrset_overlaps(&s, lo - 1, lo - 1));
			}
			if (hi < MAX128) {
				assert_true(rs_addrset_overlaps(&s, hi, MAX128));
				assert_false(rs_addrset_overlaps(&s, hi + 1, hi + 1));
			}
		}
		rs_addrset_free(&s);
	}
}

/* The IPv4-mapped form: rs_addr_v4 and rs_addr_is_v4. */
static void test_addr_v4(void **state)
{
	(void)state;
	const uint32_t vals[] = {0,	      1,	   IP(127, 0, 0, 1), IP(10, 1, 2, 3),
				 0x80000000u, 0xfffffffeu, 0xffffffffu};

	for (size_t i = 0; i < NELEM(vals); i++) {
		rs_u128 a = rs_addr_v4(vals[i]);
		if (a != V4(vals[i]))
			fail_msg("rs_addr_v4(%#x) = %s, expected %s", vals[i], hex(a),
				 hex(V4(vals[i])));
		assert_true(rs_addr_is_v4(a));
	}
	assert_false(rs_addr_is_v4(0));
	assert_false(rs_addr_is_v4(1));
	assert_false(rs_addr_is_v4(V4(0) - 1));			     /* ::fffe:ffff:ffff */
	assert_false(rs_addr_is_v4(V4(0xffffffff) + 1));	     /* ::1:0:0:0 */
	assert_false(rs_addr_is_v4(U128(0, 0x0001ffff01020304ULL))); /* ::1:ffff:102:304 */
	assert_false(rs_addr_is_v4(U128(1, 0x0000ffff01020304ULL)));
	assert_false(rs_addr_is_v4(MAX128));
	assert_false(rs_addr_is_v4(U128(0xffffffffffffffffULL, 0x0000ffff7f000001ULL)));
}

/* Endpoint bytes: IPv4 in addr[0..3] (network order, the rest zero), IPv6
 * as all 16 bytes, whatever the struct held before. */
static void test_addr_to_endpoint(void **state)
{
	(void)state;
	static const char *const v6[] = {"::",
					 "::1",
					 "2001:db8::1",
					 "fe80::1:2:3:4",
					 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
					 "::fffe:ffff:ffff",
					 "::1:0:0:0",
					 "::1.2.3.4",
					 "::1:ffff:1.2.3.4",
					 "1:2:3:4:5:6:7:8",
					 "ff02::1"};
	static const char *const v4[] = {"0.0.0.0", "127.0.0.1", "1.2.3.4", "255.255.255.255",
					 "10.200.30.4"};
	struct rs_endpoint ep;

	for (size_t i = 0; i < NELEM(v6); i++) {
		uint8_t b[16];
		rs_u128 a = 0;
		assert_int_equal(inet_pton(AF_INET6, v6[i], b), 1);
		for (int j = 0; j < 16; j++)
			a = a << 8 | b[j];
		memset(&ep, 0xa5, sizeof(ep));
		rs_addr_to_endpoint(a, &ep);
		if (ep.family != AF_INET6)
			fail_msg("%s: family %u, expected AF_INET6", v6[i], ep.family);
		if (memcmp(ep.addr, b, 16))
			fail_msg("%s: wrong address bytes", v6[i]);
	}
	for (size_t i = 0; i < NELEM(v4); i++) {
		uint8_t b[4];
		assert_int_equal(inet_pton(AF_INET, v4[i], b), 1);
		rs_u128 a = V4((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
			       b[3]);
		memset(&ep, 0xa5, sizeof(ep));
		rs_addr_to_endpoint(a, &ep);
		if (ep.family != AF_INET)
			fail_msg("%s: family %u, expected AF_INET", v4[i], ep.family);
		if (memcmp(ep.addr, b, 4))
			fail_msg("%s: wrong address bytes %u.%u.%u.%u", v4[i], ep.addr[0],
				 ep.addr[1], ep.addr[2], ep.addr[3]);
		for (int j = 4; j < 16; j++)
			if (ep.addr[j])
				fail_msg("%s: addr[%d] = %#x, expected 0", v4[i], j, ep.addr[j]);
	}
}

struct rcase {
	rs_u128 lo, hi;
	const char *sub; /* NULL: not reserved; else a substring of the text */
};

static const struct rcase reserved_cases[] = {
	{V4(IP(0, 0, 0, 0)), V4(IP(0, 0, 0, 0)), "0.0.0.0"},
	{V4(IP(0, 255, 255, 255)), V4(IP(0, 255, 255, 255)), "0.0.0.0"},
	{V4(IP(0, 1, 2, 3)), V4(IP(0, 1, 2, 3)), "0.0.0.0"},
	{V4(IP(1, 0, 0, 0)), V4(IP(1, 0, 0, 0)), NULL},
	{V4(IP(127, 0, 0, 1)), V4(IP(127, 0, 0, 1)), NULL},
	{V4(IP(223, 255, 255, 255)), V4(IP(223, 255, 255, 255)), NULL},
	{V4(IP(224, 0, 0, 0)), V4(IP(224, 0, 0, 0)), "224.0.0.0"},
	{V4(IP(239, 255, 255, 255)), V4(IP(239, 255, 255, 255)), "224.0.0.0"},
	{V4(IP(230, 1, 2, 3)), V4(IP(230, 1, 2, 3)), "224.0.0.0"},
	{V4(IP(240, 0, 0, 0)), V4(IP(240, 0, 0, 0)), NULL},
	{V4(IP(255, 255, 255, 254)), V4(IP(255, 255, 255, 254)), NULL},
	{V4(IP(255, 255, 255, 255)), V4(IP(255, 255, 255, 255)), "255.255.255.255"},
	{0, 0, "::"},
	{1, 1, NULL},
	{U128(0xfe80000000000000ULL, 1), U128(0xfe80000000000000ULL, 1), NULL},
	{U128(0xff02000000000000ULL, 1), U128(0xff02000000000000ULL, 1), "ff00::"},
	{U128(0xff00000000000000ULL, 0), U128(0xff00000000000000ULL, 0), "ff00::"},
	{MAX128, MAX128, "ff00::"},
	{U128(0xfeffffffffffffffULL, ~0ULL), U128(0xfeffffffffffffffULL, ~0ULL), NULL},
	{U128(0x20010db800000000ULL, 0), U128(0x20010db800000000ULL, 0) + P2(62), NULL},
	/* ranges that reach into a reserved block at one end */
	{V4(IP(1, 0, 0, 0)), V4(IP(223, 255, 255, 255)), NULL},
	{V4(IP(200, 0, 0, 0)), V4(IP(224, 0, 0, 0)), "224.0.0.0"},
	{V4(IP(240, 0, 0, 0)), V4(IP(255, 255, 255, 254)), NULL},
	{V4(IP(240, 0, 0, 0)), V4(IP(255, 255, 255, 255)), "255.255.255.255"},
	{1, V4(0) - 1, NULL},
	{1, V4(0), "0.0.0.0"},
	{V4(0xffffffff) + 1, V4(0xffffffff) + P2(62), NULL},
	{U128(0xfeffffffffffffffULL, ~0ULL) - P2(62), U128(0xfeffffffffffffffULL, ~0ULL), NULL},
	{U128(0xfeffffffffffffffULL, ~0ULL) - P2(62), U128(0xff00000000000000ULL, 0), "ff00::"},
	{MAX128 - P2(62), MAX128, "ff00::"},
};

static void test_reserved(void **state)
{
	(void)state;
	for (size_t c = 0; c < NELEM(reserved_cases); c++) {
		const struct rcase *rc = &reserved_cases[c];
		struct rs_addrset s;
		struct rs_range128 r = {rc->lo, rc->hi};

		build(&s, &r, 1);
		const char *got = rs_addrset_reserved(&s);
		if (!rc->sub && got)
			fail_msg("case %zu [%s, %s]: reported reserved (%s)", c, hex(rc->lo),
				 hex(rc->hi), got);
		if (rc->sub && (!got || !strstr(got, rc->sub)))
			fail_msg("case %zu [%s, %s]: got %s, expected text naming %s", c,
				 hex(rc->lo), hex(rc->hi), got ? got : "NULL", rc->sub);
		rs_addrset_free(&s);
	}
	/* only the reserved part of a mixed set matters; none in a set
	 * whose ranges lie around a reserved block */
	{
		struct rs_range128 r[] = {
			{V4(IP(223, 0, 0, 0)), V4(IP(223, 255, 255, 255))},
			{V4(IP(240, 0, 0, 0)), V4(IP(240, 0, 0, 0))},
			{1, 1},
			{V4(IP(0, 255, 255, 255)) + 1, V4(IP(0, 255, 255, 255)) + 1}};
		struct rs_addrset s;
		build(&s, r, NELEM(r));
		assert_null(rs_addrset_reserved(&s));
		assert_int_equal(rs_addrset_add(&s, V4(IP(239, 0, 0, 1)), V4(IP(239, 0, 0, 1))), 0);
		assert_int_equal(rs_addrset_finalize(&s), 0);
		const char *got = rs_addrset_reserved(&s);
		assert_non_null(got);
		assert_non_null(strstr(got, "224.0.0.0"));
		rs_addrset_free(&s);
	}
}

/* Empty sets: finalize to nothing, overlap nothing, reserve nothing,
 * subtract cleanly. In a child so that a sanitizer abort fails this test
 * alone. */
static void test_empty(void **state)
{
	(void)state;
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct rs_addrset s, e;
		struct rs_range128 r = {10, 20};

		rs_addrset_init(&s);
		rs_addrset_init(&e);
		if (rs_addrset_finalize(&s) || s.count || s.n)
			_exit(3);
		if (rs_addrset_finalize(&s) || s.count || s.n) /* twice */
			_exit(4);
		if (rs_addrset_overlaps(&s, 0, MAX128) || rs_addrset_reserved(&s))
			_exit(5);
		if (rs_addrset_finalize(&e) || rs_addrset_subtract(&s, &e) || s.count || s.n)
			_exit(6);
		/* non-empty minus empty */
		if (rs_addrset_add(&s, r.lo, r.hi) || rs_addrset_finalize(&s))
			_exit(7);
		if (rs_addrset_subtract(&s, &e) || s.count != 11 || s.n != 1)
			_exit(8);
		if (rs_addrset_pick(&s, 10) != 20)
			_exit(9);
		rs_addrset_free(&s);
		rs_addrset_free(&e);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("empty sets: child status %#x (a sanitizer report above names the line)",
			 st);
}

/* Build a space directly from address ranges and port ranges. */
static int space_of(struct rs_space *sp, const struct rs_range128 *a, size_t na,
		    const struct rs_range32 *p, size_t np)
{
	rs_space_init(sp);
	for (size_t i = 0; i < na; i++)
		assert_int_equal(rs_addrset_add(&sp->addrs, a[i].lo, a[i].hi), 0);
	for (size_t i = 0; i < np; i++)
		assert_int_equal(rs_set32_add(&sp->ports, p[i].lo, p[i].hi), 0);
	return rs_space_finalize(sp);
}

/* addresses × ports: -E2BIG past 2^63, fine at exactly 2^63. */
static void test_space_limit(void **state)
{
	(void)state;
	const rs_u128 net = U128(0x20010db800000000ULL, 0);
	const uint64_t third = (1ULL << 63) / 3; /* 3 * third = 2^63 - 2 */
	const struct {
		const char *what;
		struct rs_range128 a[2];
		size_t na;
		struct rs_range32 p[2];
		size_t np;
		int rc;
		uint64_t count;
	} cases[] = {
		{"/65 x 1 port", {{net, net + P2(63) - 1}}, 1, {{22, 22}}, 1, 0, 1ULL << 63},
		{"/65 x 2 ports", {{net, net + P2(63) - 1}}, 1, {{22, 23}}, 1, -E2BIG, 0},
		{"/65 x 2 separate ports",
		 {{net, net + P2(63) - 1}},
		 1,
		 {{22, 22}, {80, 80}},
		 2,
		 -E2BIG,
		 0},
		{"/66 x 2 ports", {{net, net + P2(62) - 1}}, 1, {{22, 23}}, 1, 0, 1ULL << 63},
		{"/66 x 3 ports", {{net, net + P2(62) - 1}}, 1, {{22, 24}}, 1, -E2BIG, 0},
		{"/66 + 1 x 2 ports",
		 {{net, net + P2(62) - 1}, {1, 1}},
		 2,
		 {{22, 23}},
		 1,
		 -E2BIG,
		 0},
		{"2^63 - 1 x 1 port",
		 {{net, net + P2(63) - 2}},
		 1,
		 {{1, 1}},
		 1,
		 0,
		 (1ULL << 63) - 1},
		{"(2^63 / 3) x 3 ports", {{net, net + third - 1}}, 1, {{1, 3}}, 1, 0, third * 3},
		{"(2^63 / 3 + 1) x 3 ports", {{net, net + third}}, 1, {{1, 3}}, 1, -E2BIG, 0},
		{"2^17 x 65535 ports",
		 {{net, net + P2(17) - 1}},
		 1,
		 {{1, 65535}},
		 1,
		 0,
		 (1ULL << 17) * 65535},
		{"2^48 x 32768 ports",
		 {{net, net + P2(48) - 1}},
		 1,
		 {{1, 32768}},
		 1,
		 0,
		 1ULL << 63},
		{"2^48 x 32769 ports", {{net, net + P2(48) - 1}}, 1, {{1, 32769}}, 1, -E2BIG, 0},
		{"IPv4 x every port",
		 {{V4(0), V4(0xffffffff)}},
		 1,
		 {{1, 65535}},
		 1,
		 0,
		 (1ULL << 32) * 65535},
		{"/64 x 1 port", {{net, net + P2(64) - 1}}, 1, {{1, 1}}, 1, -E2BIG, 0},
	};

	for (size_t c = 0; c < NELEM(cases); c++) {
		struct rs_space sp;
		int rc = space_of(&sp, cases[c].a, cases[c].na, cases[c].p, cases[c].np);
		if (rc != cases[c].rc)
			fail_msg("%s: rs_space_finalize returned %d, expected %d", cases[c].what,
				 rc, cases[c].rc);
		if (!rc) {
			if (rs_space_count(&sp) != cases[c].count)
				fail_msg("%s: count %" PRIu64 ", expected %" PRIu64, cases[c].what,
					 rs_space_count(&sp), cases[c].count);
			/* the last index: last address, last port */
			struct rs_endpoint ep, want;
			const struct rs_range128 *la = &cases[c].a[cases[c].na - 1];
			rs_u128 last = la->hi;
			for (size_t i = 0; i < cases[c].na; i++)
				if (cases[c].a[i].hi > last)
					last = cases[c].a[i].hi;
			rs_space_pick(&sp, cases[c].count - 1, &ep);
			rs_addr_to_endpoint(last, &want);
			if (ep.family != want.family || memcmp(ep.addr, want.addr, 16))
				fail_msg("%s: last index has the wrong address", cases[c].what);
			assert_int_equal(ep.port, cases[c].p[cases[c].np - 1].hi);
		}
		rs_space_free(&sp);
	}
}

/* Space pick over mixed IPv4 and IPv6 addresses, every index. */
static void test_space_mixed(void **state)
{
	(void)state;
	const struct rs_range128 a[] = {{V4(0) - 2, V4(0) + 1}, {1, 1}, {MAX128, MAX128}};
	const struct rs_range32 p[] = {{443, 443}, {22, 23}};
	const rs_u128 addrs[] = {1, V4(0) - 2, V4(0) - 1, V4(0), V4(0) + 1, MAX128};
	const uint16_t ports[] = {22, 23, 443};
	struct rs_space sp;

	assert_int_equal(space_of(&sp, a, NELEM(a), p, NELEM(p)), 0);
	assert_int_equal(rs_space_count(&sp), NELEM(addrs) * NELEM(ports));
	for (uint64_t i = 0; i < rs_space_count(&sp); i++) {
		struct rs_endpoint ep, want;
		memset(&ep, 0xa5, sizeof(ep));
		memset(&want, 0, sizeof(want));
		rs_space_pick(&sp, i, &ep);
		rs_u128 w = addrs[i / NELEM(ports)];
		if (rs_addr_is_v4(w)) {
			want.family = AF_INET;
			for (int j = 0; j < 4; j++)
				want.addr[j] = (uint8_t)(w >> (24 - 8 * j));
		} else {
			want.family = AF_INET6;
			for (int j = 0; j < 16; j++)
				want.addr[j] = (uint8_t)(w >> (120 - 8 * j));
		}
		want.port = ports[i % NELEM(ports)];
		if (ep.family != want.family || ep.pad != 0 || ep.port != want.port ||
		    memcmp(ep.addr, want.addr, 16))
			fail_msg("pick(%" PRIu64 "): family %u port %u, expected %s port %u", i,
				 ep.family, ep.port, hex(w), want.port);
	}
	rs_space_free(&sp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finalize_table),
		cmocka_unit_test(test_finalize_random_vs_bitmap),
		cmocka_unit_test(test_pick_many_ranges),
		cmocka_unit_test(test_subtract_table),
		cmocka_unit_test(test_subtract_random_vs_bitmap),
		cmocka_unit_test(test_overlaps),
		cmocka_unit_test(test_addr_v4),
		cmocka_unit_test(test_addr_to_endpoint),
		cmocka_unit_test(test_reserved),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_space_limit),
		cmocka_unit_test(test_space_mixed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
