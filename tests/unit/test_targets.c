/* Unit tests for src/targets.c: target and port parsing, set merging,
 * counting and pick(i), and the address × port space.
 *
 * Every parsed input is first copied so that its terminating NUL is the last
 * byte before a PROT_NONE page (tests/unit/guard.h): a parser that reads
 * past the end of its input crashes here. */
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
#include <sys/wait.h>
#include <unistd.h>

#include "ringscan/targets.h"
#include "guard.h"

#define IP(a, b, c, d)                                                                             \
	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))
#define MAXR 4
#define MAXS 6

/* One table row: specs added in order to one set. All but the last must be
 * accepted; the last must return rc. If rc == 0 the finalized set must be
 * exactly ranges r[0..nr) (sorted, merged); otherwise err must contain
 * errsub (or the last spec itself when errsub is NULL), and the set must hold
 * exactly r[0..nr) built from the earlier specs. */
struct tcase {
	const char *spec[MAXS];
	int rc;
	size_t nr;
	struct rs_range32 r[MAXR];
	const char *errsub;
};

/* clang-format off */
#define OK1(s, lo, hi) { { s }, 0, 1, { { lo, hi } }, NULL }
#define BAD(s)         { { s }, -EINVAL, 0, { { 0, 0 } }, NULL }
/* clang-format on */

static const struct tcase target_cases[] = {
	/* single addresses and prefixes */
	OK1("127.0.0.1", IP(127, 0, 0, 1), IP(127, 0, 0, 1)),
	OK1("0.0.0.0", 0, 0),
	OK1("255.255.255.255", 0xffffffffu, 0xffffffffu),
	OK1("10.0.0.0/32", IP(10, 0, 0, 0), IP(10, 0, 0, 0)),
	OK1("10.1.2.3/32", IP(10, 1, 2, 3), IP(10, 1, 2, 3)),
	OK1("0.0.0.0/0", 0, 0xffffffffu),
	OK1("1.2.3.4/0", 0, 0xffffffffu),
	OK1("10.0.0.0/31", IP(10, 0, 0, 0), IP(10, 0, 0, 1)),
	OK1("10.0.0.3/31", IP(10, 0, 0, 2), IP(10, 0, 0, 3)),
	OK1("127.0.0.5/30", IP(127, 0, 0, 4), IP(127, 0, 0, 7)),
	OK1("192.168.1.77/24", IP(192, 168, 1, 0), IP(192, 168, 1, 255)),
	OK1("128.0.0.0/1", 0x80000000u, 0xffffffffu),
	OK1("127.255.255.255/1", 0, 0x7fffffffu),
	OK1("255.255.255.255/32", 0xffffffffu, 0xffffffffu),
	OK1("255.255.255.255/24", IP(255, 255, 255, 0), 0xffffffffu),
	OK1("255.255.255.254/31", 0xfffffffeu, 0xffffffffu),
	OK1("10.0.0.1-10.0.0.1", IP(10, 0, 0, 1), IP(10, 0, 0, 1)),
	OK1("10.0.0.250-10.0.1.5", IP(10, 0, 0, 250), IP(10, 0, 1, 5)),
	OK1("255.255.255.254-255.255.255.255", 0xfffffffeu, 0xffffffffu),
	OK1("0.0.0.0-255.255.255.255", 0, 0xffffffffu),
	/* overlaps, duplicates and adjacency merged */
	{{"10.0.0.0/24", "10.0.0.128/25"}, 0, 1, {{IP(10, 0, 0, 0), IP(10, 0, 0, 255)}}, NULL},
	{{"10.0.0.1", "10.0.0.1", "10.0.0.1"}, 0, 1, {{IP(10, 0, 0, 1), IP(10, 0, 0, 1)}}, NULL},
	{{"10.0.0.0/25", "10.0.0.128/25"}, 0, 1, {{IP(10, 0, 0, 0), IP(10, 0, 0, 255)}}, NULL},
	{{"10.0.0.3", "10.0.0.1", "10.0.0.2"}, 0, 1, {{IP(10, 0, 0, 1), IP(10, 0, 0, 3)}}, NULL},
	{{"10.0.0.1", "10.0.0.3"},
	 0,
	 2,
	 {{IP(10, 0, 0, 1), IP(10, 0, 0, 1)}, {IP(10, 0, 0, 3), IP(10, 0, 0, 3)}},
	 NULL},
	{{"10.0.0.0-10.0.0.10", "10.0.0.5-10.0.0.20", "10.0.0.21"},
	 0,
	 1,
	 {{IP(10, 0, 0, 0), IP(10, 0, 0, 21)}},
	 NULL},
	{{"255.255.255.255", "255.255.255.254", "0.0.0.0"},
	 0,
	 2,
	 {{0, 0}, {0xfffffffeu, 0xffffffffu}},
	 NULL},
	{{"10.0.0.0/8", "10.1.2.3", "10.255.255.255"},
	 0,
	 1,
	 {{IP(10, 0, 0, 0), IP(10, 255, 255, 255)}},
	 NULL},
	{{"0.0.0.0/0", "255.255.255.255", "1.2.3.4/16"}, 0, 1, {{0, 0xffffffffu}}, NULL},
	{{"9.255.255.255", "11.0.0.0", "10.0.0.0/8"},
	 0,
	 1,
	 {{IP(9, 255, 255, 255), IP(11, 0, 0, 0)}},
	 NULL},
	{{"10.0.0.9", "10.0.0.0-10.0.0.7", "10.0.0.8-10.0.0.8", "10.0.0.20/30"},
	 0,
	 2,
	 {{IP(10, 0, 0, 0), IP(10, 0, 0, 9)}, {IP(10, 0, 0, 20), IP(10, 0, 0, 23)}},
	 NULL},
	/* garbage */
	BAD(""),
	BAD("garbage"),
	BAD("1.2.3"),
	BAD("1.2.3.4.5"),
	BAD("1.2.3."),
	BAD(".1.2.3"),
	BAD("1..2.3"),
	BAD("256.0.0.1"),
	BAD("1.2.3.256"),
	BAD("1.2.3.4/33"),
	BAD("1.2.3.4/99999999999"),
	BAD("1.2.3.4/4294967296"),
	BAD("1.2.3.4/"),
	BAD("/"),
	BAD("/24"),
	BAD("1.2.3.4/-1"),
	BAD("1.2.3.4/+8"),
	BAD("1.2.3.4/ 8"),
	BAD("1.2.3.4/8/8"),
	BAD("1.2.3.4/24junk"),
	BAD("-1"),
	BAD("-"),
	BAD("1.2.3.4-"),
	BAD("-1.2.3.4"),
	BAD("1.2.3.-4"),
	BAD("10.0.0.5-10.0.0.1"),
	BAD("255.255.255.255-0.0.0.0"),
	BAD("1.2.3.4-1.2.3.5-1.2.3.6"),
	BAD(" 1.2.3.4"),
	BAD("1.2.3.4 "),
	BAD("1.2.3.4\n"),
	BAD("1.2.3.4x"),
	BAD("x1.2.3.4"),
	BAD("1.2.3.4,1.2.3.5"),
	BAD("01.2.3.4"),
	BAD("99999999999.0.0.1"),
	BAD("4294967297"),
	BAD("1.2.3.4/1.2.3.4"),
	BAD("0x7f.0.0.1"),
	BAD("1.2.3.4-1.2.3"),
	/* a bad spec after good ones: error, and nothing of it added */
	{{"10.0.0.1", "10.0.0.2/33"},
	 -EINVAL,
	 1,
	 {{IP(10, 0, 0, 1), IP(10, 0, 0, 1)}},
	 "10.0.0.2/33"},
	{{"10.0.0.1", "10.0.0.9-10.0.0.3"},
	 -EINVAL,
	 1,
	 {{IP(10, 0, 0, 1), IP(10, 0, 0, 1)}},
	 "10.0.0.9-10.0.0.3"},
};

static const struct tcase port_cases[] = {
	OK1("22", 22, 22),
	OK1("1", 1, 1),
	OK1("65535", 65535, 65535),
	OK1("1-65535", 1, 65535),
	OK1("5-5", 5, 5),
	OK1("65534-65535", 65534, 65535),
	OK1("80-90,85-95", 80, 95),
	OK1("22,22,22", 22, 22),
	OK1("22,23", 22, 23),
	OK1("90-100,80-89", 80, 100),
	OK1("1-10,2-3,5-20,11", 1, 20),
	OK1("100-200,1-65535,300", 1, 65535),
	{{"22,80-90"}, 0, 2, {{22, 22}, {80, 90}}, NULL},
	{{"443,80,22"}, 0, 3, {{22, 22}, {80, 80}, {443, 443}}, NULL},
	{{"1-10,30,2-3,5-20"}, 0, 2, {{1, 20}, {30, 30}}, NULL},
	{{"65535,1"}, 0, 2, {{1, 1}, {65535, 65535}}, NULL},
	{{"22", "22,23", "80"}, 0, 2, {{22, 23}, {80, 80}}, NULL},
	/* invalid */
	BAD(""),
	BAD(","),
	BAD("22,"),
	BAD(",22"),
	BAD("22,,23"),
	BAD("0"),
	BAD("0-10"),
	BAD("65536"),
	BAD("70000"),
	BAD("1-65536"),
	BAD("99999999999"),
	BAD("4294967296"),
	BAD("18446744073709551617"),
	BAD("80-90-100"),
	BAD(" 22"),
	BAD("22 "),
	BAD("22\n"),
	BAD("-5"),
	BAD("5-"),
	BAD("-"),
	BAD("-1"),
	BAD("90-80"),
	BAD("abc"),
	BAD("22a"),
	BAD("+22"),
	BAD("22;23"),
	BAD("2 2"),
	BAD("0x16"),
	{{"22,70000"}, -EINVAL, 0, {{0, 0}}, "70000"},
	{{"22,90-80,443"}, -EINVAL, 0, {{0, 0}}, "90-80"},
	{{"22,x,443"}, -EINVAL, 0, {{0, 0}}, "22,x,443"},
	{{"1-3,0"}, -EINVAL, 0, {{0, 0}}, "1-3,0"},
};

static uint64_t ranges_count(const struct rs_range32 *r, size_t n)
{
	uint64_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += (uint64_t)r[i].hi - r[i].lo + 1;
	return c;
}

/* The k-th value of sorted disjoint ranges, by walking them. */
static uint32_t ranges_nth(const struct rs_range32 *r, size_t n, uint64_t k)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t len = (uint64_t)r[i].hi - r[i].lo + 1;
		if (k < len)
			return r[i].lo + (uint32_t)k;
		k -= len;
	}
	fail_msg("ranges_nth: k out of range");
	return 0;
}

/* The finalized set s equals the ranges r[0..n): same ranges, same count,
 * and pick(k) agrees with enumeration (every k when small, otherwise at
 * every range boundary and a sample). */
static void check_set(const char *what, struct rs_set32 *s, const struct rs_range32 *r, size_t n)
{
	uint64_t count = ranges_count(r, n);

	if (s->count != count || s->n != n)
		fail_msg("%s: count %" PRIu64 " in %zu ranges, expected %" PRIu64 " in %zu", what,
			 s->count, s->n, count, n);
	for (size_t i = 0; i < n; i++)
		if (s->r[i].lo != r[i].lo || s->r[i].hi != r[i].hi)
			fail_msg("%s: range %zu is [%#x, %#x], expected [%#x, %#x]", what, i,
				 s->r[i].lo, s->r[i].hi, r[i].lo, r[i].hi);
	if (count <= 70000) {
		for (uint64_t k = 0; k < count; k++) {
			uint32_t got = rs_set32_pick(s, k), want = ranges_nth(r, n, k);
			if (got != want)
				fail_msg("%s: pick(%" PRIu64 ") = %#x, expected %#x", what, k, got,
					 want);
		}
	} else {
		uint64_t base = 0;
		for (size_t i = 0; i < n; i++) {
			uint64_t len = (uint64_t)r[i].hi - r[i].lo + 1;
			uint64_t ks[] = {base, base + 1, base + len / 2, base + len - 2,
					 base + len - 1};
			for (size_t j = 0; j < sizeof(ks) / sizeof(ks[0]); j++) {
				if (ks[j] < base || ks[j] >= base + len)
					continue;
				uint32_t got = rs_set32_pick(s, ks[j]);
				uint32_t want = r[i].lo + (uint32_t)(ks[j] - base);
				if (got != want)
					fail_msg("%s: pick(%" PRIu64 ") = %#x, expected %#x", what,
						 ks[j], got, want);
			}
			base += len;
		}
		for (uint64_t k = 7; k < count; k += count / 1000 + 13) {
			uint32_t got = rs_set32_pick(s, k), want = ranges_nth(r, n, k);
			if (got != want)
				fail_msg("%s: pick(%" PRIu64 ") = %#x, expected %#x", what, k, got,
					 want);
		}
	}
}

typedef int (*parse_fn)(struct rs_set32 *, const char *, char *, size_t);

static void run_cases(const char *kind, parse_fn parse, const struct tcase *cases, size_t ncases)
{
	for (size_t c = 0; c < ncases; c++) {
		const struct tcase *tc = &cases[c];
		struct rs_set32 s;
		char what[200], err[256];
		size_t nspec = 0;

		while (nspec < MAXS && tc->spec[nspec])
			nspec++;
		assert_true(nspec > 0);
		snprintf(what, sizeof(what), "%s case %zu (\"%s\"%s)", kind, c, tc->spec[nspec - 1],
			 nspec > 1 ? " after others" : "");

		rs_set32_init(&s);
		for (size_t i = 0; i < nspec; i++) {
			int want = i + 1 < nspec ? 0 : tc->rc;
			strcpy(err, "(untouched)");
			int rc = parse(&s, guard_str(tc->spec[i]), err, sizeof(err));
			if (rc != want)
				fail_msg("%s: input \"%s\" returned %d, expected %d (err: %s)",
					 what, tc->spec[i], rc, want, err);
			if (rc) {
				const char *sub = tc->errsub ? tc->errsub : tc->spec[i];
				if (!err[0] || !strcmp(err, "(untouched)"))
					fail_msg("%s: no error text for \"%s\"", what, tc->spec[i]);
				if (sub[0] && !strstr(err, sub))
					fail_msg("%s: error text \"%s\" does not name \"%s\"", what,
						 err, sub);
			}
		}
		if (tc->rc == 0 || tc->nr) {
			assert_int_equal(rs_set32_finalize(&s), 0);
			check_set(what, &s, tc->r, tc->nr);
		}
		rs_set32_free(&s);
	}
}

static void test_target_table(void **state)
{
	(void)state;
	size_t n = sizeof(target_cases) / sizeof(target_cases[0]);
	assert_true(n >= 30);
	run_cases("target", rs_targets_add, target_cases, n);
}

static void test_port_table(void **state)
{
	(void)state;
	size_t n = sizeof(port_cases) / sizeof(port_cases[0]);
	assert_true(n >= 30);
	run_cases("ports", rs_ports_parse, port_cases, n);
}

/* The error text is truncated to errlen and NUL-terminated: written into a
 * buffer that ends at a guard page, for long offending inputs. */
static void test_error_buffer_bounds(void **state)
{
	(void)state;
	static const char *const tbad[] = {"1.2.3.4/33", "garbage-garbage-garbage-garbage-garbage",
					   "10.0.0.9-10.0.0.3", ""};
	static const char *const pbad[] = {"70000", "22,,", "90-80", ""};
	size_t lens[] = {1, 2, 7, 16, 33};

	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
		for (size_t i = 0; i < 4; i++) {
			struct rs_set32 s;
			char *err;

			rs_set32_init(&s);
			err = guard_buf(lens[l]);
			memset(err, 'X', lens[l]);
			assert_int_equal(rs_targets_add(&s, guard_str(tbad[i]), err, lens[l]),
					 -EINVAL);
			assert_non_null(memchr(err, 0, lens[l]));
			err = guard_buf(lens[l]);
			memset(err, 'X', lens[l]);
			assert_int_equal(rs_ports_parse(&s, guard_str(pbad[i]), err, lens[l]),
					 -EINVAL);
			assert_non_null(memchr(err, 0, lens[l]));
			rs_set32_free(&s);
		}
	}
}

/* A very long input (longer than any address) is refused without reading
 * past its end or overflowing anything. */
static void test_long_inputs(void **state)
{
	(void)state;
	char big[5000];
	struct rs_set32 s;
	char err[128];

	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	rs_set32_init(&s);
	assert_int_equal(rs_targets_add(&s, guard_str(big), err, sizeof(err)), -EINVAL);
	assert_int_equal(rs_ports_parse(&s, guard_str(big), err, sizeof(err)), -EINVAL);
	big[2000] = '/';
	assert_int_equal(rs_targets_add(&s, guard_str(big), err, sizeof(err)), -EINVAL);
	big[2000] = '-';
	assert_int_equal(rs_targets_add(&s, guard_str(big), err, sizeof(err)), -EINVAL);
	assert_int_equal(rs_ports_parse(&s, guard_str(big), err, sizeof(err)), -EINVAL);
	big[2000] = '1';
	for (size_t i = 1; i < sizeof(big) - 1; i += 2)
		big[i] = ',';
	assert_int_equal(rs_ports_parse(&s, guard_str(big), err, sizeof(err)), 0);
	rs_set32_free(&s);
}

/* Every prefix length on one address: count 2^(32-len), aligned range. */
static void test_every_prefix(void **state)
{
	(void)state;
	const uint32_t a = IP(172, 31, 170, 85);

	for (unsigned len = 0; len <= 32; len++) {
		struct rs_set32 s;
		char spec[32], err[128];
		uint64_t size = 1ULL << (32 - len);
		uint32_t lo = (uint32_t)(a & ~(uint32_t)(size - 1));

		snprintf(spec, sizeof(spec), "172.31.170.85/%u", len);
		rs_set32_init(&s);
		assert_int_equal(rs_targets_add(&s, guard_str(spec), err, sizeof(err)), 0);
		assert_int_equal(rs_set32_finalize(&s), 0);
		struct rs_range32 r = {lo, (uint32_t)(lo + size - 1)};
		check_set(spec, &s, &r, 1);
		rs_set32_free(&s);
	}
}

/* A tiny deterministic generator for the randomised tests. */
static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Random ranges over a small universe, checked against a bitmap: merge,
 * count and every pick(k). Includes values next to 0 and 2^32-1. */
static void test_set32_random_vs_bitmap(void **state)
{
	(void)state;
	enum { U = 3000 };
	static uint8_t bits[U];
	uint64_t x = 0x1234567887654321ULL;

	for (int iter = 0; iter < 300; iter++) {
		struct rs_set32 s;
		uint32_t base = iter % 3 == 0	? 0
				: iter % 3 == 1 ? 0xffffffffu - (U - 1)
						: 0x0a000000u;
		int nadd = 1 + (int)(rng_next(&x) % 40);
		uint64_t expect = 0;

		memset(bits, 0, sizeof(bits));
		rs_set32_init(&s);
		for (int i = 0; i < nadd; i++) {
			uint32_t lo = (uint32_t)(rng_next(&x) % U);
			uint32_t len = (uint32_t)(rng_next(&x) % (i % 4 == 0 ? 200 : 6));
			uint32_t hi = lo + len < U ? lo + len : U - 1;
			for (uint32_t v = lo; v <= hi; v++)
				bits[v] = 1;
			assert_int_equal(rs_set32_add(&s, base + lo, base + hi), 0);
		}
		assert_int_equal(rs_set32_finalize(&s), 0);
		for (uint32_t v = 0; v < U; v++)
			expect += bits[v];
		assert_int_equal(s.count, expect);
		/* ranges: sorted, disjoint, not adjacent */
		for (size_t i = 0; i < s.n; i++) {
			assert_true(s.r[i].lo <= s.r[i].hi);
			if (i)
				assert_true((uint64_t)s.r[i - 1].hi + 1 < s.r[i].lo);
		}
		uint64_t k = 0;
		for (uint32_t v = 0; v < U; v++) {
			if (!bits[v])
				continue;
			uint32_t got = rs_set32_pick(&s, k);
			if (got != base + v)
				fail_msg("iter %d: pick(%" PRIu64 ") = %#x, expected %#x", iter, k,
					 got, base + v);
			k++;
		}
		/* number of maximal runs in the bitmap == number of ranges */
		size_t runs = 0;
		for (uint32_t v = 0; v < U; v++)
			if (bits[v] && (v == 0 || !bits[v - 1]))
				runs++;
		assert_int_equal(s.n, runs);
		rs_set32_free(&s);
	}
}

/* Many disjoint ranges (exercises the binary search over before[]), and
 * finalize is idempotent and may be repeated after more adds. */
static void test_set32_many_ranges(void **state)
{
	(void)state;
	struct rs_set32 s;
	enum { N = 1000 };

	rs_set32_init(&s);
	for (uint32_t i = N; i-- > 0;) /* reverse order: finalize must sort */
		assert_int_equal(rs_set32_add(&s, i * 10, i * 10 + (i % 5)), 0);
	assert_int_equal(rs_set32_finalize(&s), 0);
	assert_int_equal(s.n, N);
	uint64_t k = 0;
	for (uint32_t i = 0; i < N; i++)
		for (uint32_t v = i * 10; v <= i * 10 + (i % 5); v++, k++)
			assert_int_equal(rs_set32_pick(&s, k), v);
	assert_int_equal(s.count, k);

	assert_int_equal(rs_set32_finalize(&s), 0);
	assert_int_equal(s.n, N);
	assert_int_equal(s.count, k);

	/* fill every gap: one range [0, 10*N - 6] */
	for (uint32_t i = 0; i < N - 1; i++)
		assert_int_equal(rs_set32_add(&s, i * 10 + (i % 5) + 1, i * 10 + 9), 0);
	assert_int_equal(rs_set32_finalize(&s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.r[0].lo, 0);
	assert_int_equal(s.r[0].hi, (N - 1) * 10 + 4);
	assert_int_equal(s.count, (N - 1) * 10 + 5);
	rs_set32_free(&s);
}

/* An empty set (nothing added: say, no exclusions) finalizes to count 0,
 * and so does an empty space. Run in a child so that a sanitizer abort
 * fails this test alone, with its report on stderr. */
static void test_set32_empty(void **state)
{
	(void)state;
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct rs_set32 s;
		struct rs_space sp;

		rs_set32_init(&s);
		if (rs_set32_finalize(&s) || s.count != 0)
			_exit(3);
		if (rs_set32_finalize(&s) || s.count != 0) /* twice */
			_exit(4);
		rs_set32_free(&s);
		rs_space_init(&sp);
		if (rs_space_finalize(&sp) || rs_space_count(&sp) != 0)
			_exit(5);
		rs_space_free(&sp);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("finalizing an empty set failed (child status %#x; a sanitizer report "
			 "above "
			 "would name the line)",
			 st);
}

/* Top of the address space: adjacency and overlap at 2^32 - 1 do not wrap. */
static void test_set32_top_edge(void **state)
{
	(void)state;
	struct rs_set32 s;

	rs_set32_init(&s);
	assert_int_equal(rs_set32_add(&s, 0xffffffffu, 0xffffffffu), 0);
	assert_int_equal(rs_set32_add(&s, 0, 0), 0);
	assert_int_equal(rs_set32_add(&s, 0xfffffff0u, 0xffffffffu), 0);
	assert_int_equal(rs_set32_add(&s, 0xffffffffu, 0xffffffffu), 0);
	assert_int_equal(rs_set32_add(&s, 1, 1), 0);
	assert_int_equal(rs_set32_finalize(&s), 0);
	struct rs_range32 want[] = {{0, 1}, {0xfffffff0u, 0xffffffffu}};
	check_set("top edge", &s, want, 2);
	rs_set32_free(&s);

	rs_set32_init(&s);
	assert_int_equal(rs_set32_add(&s, 0, 0xffffffffu), 0);
	assert_int_equal(rs_set32_add(&s, 0xffffffffu, 0xffffffffu), 0);
	assert_int_equal(rs_set32_add(&s, 0, 0xffffffffu), 0);
	assert_int_equal(rs_set32_finalize(&s), 0);
	assert_int_equal(s.n, 1);
	assert_true(s.count == (1ULL << 32));
	assert_int_equal(rs_set32_pick(&s, 0), 0);
	assert_int_equal(rs_set32_pick(&s, (1ULL << 32) - 1), 0xffffffffu);
	assert_int_equal(rs_set32_pick(&s, 0x80000000ULL), 0x80000000u);
	rs_set32_free(&s);
}

static uint32_t ep_addr(const struct rs_endpoint *ep)
{
	return ((uint32_t)ep->addr[0] << 24) | ((uint32_t)ep->addr[1] << 16) |
	       ((uint32_t)ep->addr[2] << 8) | ep->addr[3];
}

static void check_ep_clean(const struct rs_endpoint *ep)
{
	assert_int_equal(ep->family, AF_INET);
	assert_int_equal(ep->pad, 0);
	for (int i = 4; i < 16; i++)
		assert_int_equal(ep->addr[i], 0);
}

/* Build a space from target and port strings, and check pick(i) for every
 * i against a brute-force address-major enumeration of the expected sets. */
static void check_space(const char *const *targets, const char *ports, const uint32_t *addrs,
			size_t naddrs, const uint16_t *portv, size_t nports)
{
	struct rs_space sp;
	char err[256];

	rs_space_init(&sp);
	for (size_t i = 0; targets[i]; i++)
		assert_int_equal(rs_targets_add(&sp.addrs, guard_str(targets[i]), err, sizeof(err)),
				 0);
	assert_int_equal(rs_ports_parse(&sp.ports, guard_str(ports), err, sizeof(err)), 0);
	assert_int_equal(rs_space_finalize(&sp), 0);
	assert_int_equal(rs_space_count(&sp), (uint64_t)naddrs * nports);

	uint64_t i = 0;
	for (size_t a = 0; a < naddrs; a++) {
		for (size_t p = 0; p < nports; p++, i++) {
			struct rs_endpoint ep;
			memset(&ep, 0xa5, sizeof(ep));
			rs_space_pick(&sp, i, &ep);
			check_ep_clean(&ep);
			if (ep_addr(&ep) != addrs[a] || ep.port != portv[p])
				fail_msg("pick(%" PRIu64 ") = %#x:%u, expected %#x:%u", i,
					 ep_addr(&ep), ep.port, addrs[a], portv[p]);
		}
	}
	rs_space_free(&sp);
}

static void test_space_small(void **state)
{
	(void)state;
	{
		const char *t[] = {"10.0.0.7", "10.0.0.1-10.0.0.3", "10.0.0.2", NULL};
		const uint32_t a[] = {IP(10, 0, 0, 1), IP(10, 0, 0, 2), IP(10, 0, 0, 3),
				      IP(10, 0, 0, 7)};
		const uint16_t p[] = {22, 80, 81, 82, 443};
		check_space(t, "443,80-82,22,81", a, 4, p, 5);
	}
	{
		const char *t[] = {"127.0.0.1", NULL};
		const uint32_t a[] = {IP(127, 0, 0, 1)};
		const uint16_t p[] = {65535};
		check_space(t, "65535", a, 1, p, 1);
	}
	{
		const char *t[] = {"255.255.255.254/31", "0.0.0.0", NULL};
		const uint32_t a[] = {0, 0xfffffffeu, 0xffffffffu};
		const uint16_t p[] = {1, 2, 65534, 65535};
		check_space(t, "65534-65535,1-2", a, 3, p, 4);
	}
}

/* Random small spaces against brute force: every index. */
static void test_space_random(void **state)
{
	(void)state;
	uint64_t x = 0xfeedfacecafebeefULL;
	static uint8_t abits[512], pbits[300];

	for (int iter = 0; iter < 100; iter++) {
		struct rs_space sp;
		char spec[64], err[256], plist[1024];
		uint32_t addrs[512];
		uint16_t ports[300];
		size_t na = 0, np = 0, plen = 0;
		int nt = 1 + (int)(rng_next(&x) % 5), npi = 1 + (int)(rng_next(&x) % 6);

		memset(abits, 0, sizeof(abits));
		memset(pbits, 0, sizeof(pbits));
		rs_space_init(&sp);
		for (int t = 0; t < nt; t++) {
			uint32_t lo = (uint32_t)(rng_next(&x) % 512), hi;
			switch (rng_next(&x) % 3) {
			case 0:
				hi = lo;
				snprintf(spec, sizeof(spec), "10.9.%u.%u", lo >> 8, lo & 255);
				break;
			case 1: {
				unsigned len = 26 + (unsigned)(rng_next(&x) % 7);
				uint32_t size = 1u << (32 - len);
				snprintf(spec, sizeof(spec), "10.9.%u.%u/%u", lo >> 8, lo & 255,
					 len);
				lo &= ~(size - 1);
				hi = lo + size - 1;
				break;
			}
			default:
				hi = lo + (uint32_t)(rng_next(&x) % 40);
				if (hi > 511)
					hi = 511;
				snprintf(spec, sizeof(spec), "10.9.%u.%u-10.9.%u.%u", lo >> 8,
					 lo & 255, hi >> 8, hi & 255);
				break;
			}
			for (uint32_t v = lo; v <= hi; v++)
				abits[v] = 1;
			if (rs_targets_add(&sp.addrs, guard_str(spec), err, sizeof(err)))
				fail_msg("\"%s\": %s", spec, err);
		}
		for (int t = 0; t < npi; t++) {
			uint32_t lo = 1 + (uint32_t)(rng_next(&x) % 299);
			uint32_t hi = lo + (uint32_t)(rng_next(&x) % 4);
			if (hi > 299)
				hi = 299;
			for (uint32_t v = lo; v <= hi; v++)
				pbits[v] = 1;
			if (hi == lo)
				plen += (size_t)snprintf(plist + plen, sizeof(plist) - plen, "%s%u",
							 t ? "," : "", lo);
			else
				plen += (size_t)snprintf(plist + plen, sizeof(plist) - plen,
							 "%s%u-%u", t ? "," : "", lo, hi);
		}
		if (rs_ports_parse(&sp.ports, guard_str(plist), err, sizeof(err)))
			fail_msg("\"%s\": %s", plist, err);
		assert_int_equal(rs_space_finalize(&sp), 0);
		for (uint32_t v = 0; v < 512; v++)
			if (abits[v])
				addrs[na++] = IP(10, 9, 0, 0) + v;
		for (uint32_t v = 0; v < 300; v++)
			if (pbits[v])
				ports[np++] = (uint16_t)v;
		assert_int_equal(rs_space_count(&sp), (uint64_t)na * np);
		for (uint64_t i = 0; i < (uint64_t)na * np; i++) {
			struct rs_endpoint ep;
			rs_space_pick(&sp, i, &ep);
			check_ep_clean(&ep);
			if (ep_addr(&ep) != addrs[i / np] || ep.port != ports[i % np])
				fail_msg("iter %d (ports \"%s\"): pick(%" PRIu64
					 ") = %#x:%u, expected %#x:%u",
					 iter, plist, i, ep_addr(&ep), ep.port, addrs[i / np],
					 ports[i % np]);
		}
		rs_space_free(&sp);
	}
}

/* The largest space: every address × every port, no overflow. */
static void test_space_huge(void **state)
{
	(void)state;
	struct rs_space sp;
	struct rs_endpoint ep;
	char err[256];
	const uint64_t n = (1ULL << 32) * 65535;

	rs_space_init(&sp);
	assert_int_equal(rs_targets_add(&sp.addrs, guard_str("0.0.0.0/0"), err, sizeof(err)), 0);
	assert_int_equal(rs_ports_parse(&sp.ports, guard_str("1-65535"), err, sizeof(err)), 0);
	assert_int_equal(rs_space_finalize(&sp), 0);
	assert_true(rs_space_count(&sp) == n);

	rs_space_pick(&sp, 0, &ep);
	assert_int_equal(ep_addr(&ep), 0);
	assert_int_equal(ep.port, 1);
	rs_space_pick(&sp, 65534, &ep);
	assert_int_equal(ep_addr(&ep), 0);
	assert_int_equal(ep.port, 65535);
	rs_space_pick(&sp, 65535, &ep);
	assert_int_equal(ep_addr(&ep), 1);
	assert_int_equal(ep.port, 1);
	rs_space_pick(&sp, n - 1, &ep);
	check_ep_clean(&ep);
	assert_int_equal(ep_addr(&ep), 0xffffffffu);
	assert_int_equal(ep.port, 65535);
	uint64_t i = 0x7f000001ULL * 65535 + 21;
	rs_space_pick(&sp, i, &ep);
	assert_int_equal(ep_addr(&ep), IP(127, 0, 0, 1));
	assert_int_equal(ep.port, 22);
	rs_space_free(&sp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target_table),
		cmocka_unit_test(test_port_table),
		cmocka_unit_test(test_error_buffer_bounds),
		cmocka_unit_test(test_long_inputs),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_set32_random_vs_bitmap),
		cmocka_unit_test(test_set32_many_ranges),
		cmocka_unit_test(test_set32_top_edge),
		cmocka_unit_test(test_set32_empty),
		cmocka_unit_test(test_space_small),
		cmocka_unit_test(test_space_random),
		cmocka_unit_test(test_space_huge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
