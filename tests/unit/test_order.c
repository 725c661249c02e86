/* The scan order spreads probes over hosts: no host sees a burst. On a
 * space of 4,096 hosts x 64 ports (address-major indices, so the
 * unpermuted order probes each host 64 times in a row), the permuted order
 * must put the same host back to back about as rarely as a random order
 * does, and give no host more than a few probes in any window of 256
 * consecutive positions. The unpermuted order is the control: it must fail
 * both checks, or the checks prove nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ringscan/perm.h"
#include "ringscan/targets.h"

#define HOSTS  4096
#define PORTS  64
#define WINDOW 256

struct spread {
	uint64_t same_host_pairs; /* consecutive positions on one host */
	unsigned max_in_window;	  /* most probes one host got in a window */
};

/* host_of(pos) for the permuted (seed >= 0) or identity order. */
static struct spread measure(const struct rs_space *sp, int64_t seed)
{
	uint64_t n = rs_space_count(sp);
	struct rs_perm p;
	struct spread r = {0, 0};
	uint32_t *host = malloc(n * sizeof(*host));
	unsigned *count = calloc(HOSTS, sizeof(*count));

	assert_non_null(host);
	assert_non_null(count);
	if (seed >= 0)
		rs_perm_init(&p, n, (uint64_t)seed);
	for (uint64_t pos = 0; pos < n; pos++) {
		struct rs_endpoint ep;
		rs_space_pick(sp, seed >= 0 ? rs_perm_at(&p, pos) : pos, &ep);
		host[pos] = (uint32_t)ep.addr[2] << 8 | ep.addr[3];
		assert_true(host[pos] < HOSTS);
		if (pos && host[pos] == host[pos - 1])
			r.same_host_pairs++;
	}
	/* Sliding window of WINDOW positions. */
	for (uint64_t pos = 0; pos < n; pos++) {
		if (++count[host[pos]] > r.max_in_window)
			r.max_in_window = count[host[pos]];
		if (pos >= WINDOW - 1)
			count[host[pos - (WINDOW - 1)]]--;
	}
	free(host);
	free(count);
	return r;
}

static void space(struct rs_space *sp)
{
	char err[128];
	rs_space_init(sp);
	assert_int_equal(rs_target_parse(&sp->addrs, "127.0.0.0/20", 0, err, sizeof(err)), 0);
	assert_int_equal(rs_ports_parse(&sp->ports, "1000-1063", err, sizeof(err)), 0);
	assert_int_equal(rs_space_finalize(sp), 0);
	assert_int_equal(rs_space_count(sp), HOSTS * PORTS);
}

static void test_permuted_order_spreads(void **state)
{
	struct rs_space sp;
	(void)state;
	space(&sp);
	/* A uniform order repeats a host with probability (PORTS-1)/(N-1):
	 * about 63 of 262,143 pairs. Allow 3x that, over several seeds. */
	for (int64_t seed = 1; seed <= 5; seed++) {
		struct spread r = measure(&sp, seed);
		print_message("seed %lld: %llu back-to-back pairs on one host (random: ~63), "
			      "at most %u probes of a host in %d positions\n",
			      (long long)seed, (unsigned long long)r.same_host_pairs,
			      r.max_in_window, WINDOW);
		if (r.same_host_pairs > 3 * (PORTS - 1) || r.max_in_window > 4)
			fail_msg("seed %lld: %llu back-to-back pairs on one host, up to %u "
				 "probes of one host in %d positions",
				 (long long)seed, (unsigned long long)r.same_host_pairs,
				 r.max_in_window, WINDOW);
	}
	rs_space_free(&sp);
}

static void test_identity_order_is_caught(void **state)
{
	struct rs_space sp;
	(void)state;
	space(&sp);
	struct spread r = measure(&sp, -1);
	assert_true(r.same_host_pairs > 3 * (PORTS - 1));
	assert_true(r.max_in_window > 4);
	rs_space_free(&sp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_permuted_order_spreads),
		cmocka_unit_test(test_identity_order_is_caught),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
