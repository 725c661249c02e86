/* Networks that answer only sometimes (lossy.h): which get more attempts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "lossy.h"

static struct rs_endpoint v4(uint8_t c, uint8_t d)
{
	struct rs_endpoint ep = {.family = AF_INET, .port = 80, .addr = {127, 60, c, d}};
	return ep;
}

/* n answers from 127.60.c.0/24, `later` of them only after a retry. */
static void note(struct rs_lossy *t, uint8_t c, unsigned n, unsigned later)
{
	for (unsigned i = 0; i < n; i++) {
		struct rs_endpoint ep = v4(c, (uint8_t)i);
		rs_lossy_note(t, &ep, i < later);
	}
}

/* A network late 81% of the time stands out from a scan late 5% of the
 * time, and still from one late 33% of the time (a lagging link: three
 * times that would be all of them); one late as often as the scan does
 * not; nor one never seen, nor one with a single late answer. */
static void test_which_networks(void **state)
{
	(void)state;
	struct rs_lossy *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	note(t, 5, 1000, 810); /* limited */
	note(t, 6, 1000, 330); /* as late as a lagging scan */
	note(t, 7, 1000, 50);  /* as late as a lossy link */
	note(t, 8, 10, 1);

	struct rs_endpoint lim = v4(5, 9), lag = v4(6, 9), loss = v4(7, 9);
	struct rs_endpoint one = v4(8, 9), none = v4(9, 9);
	assert_true(rs_lossy_seen(t, &lim, 0.05));
	assert_true(rs_lossy_seen(t, &lim, 0.33));
	assert_true(rs_lossy_seen(t, &lag, 0.05));
	assert_false(rs_lossy_seen(t, &lag, 0.33));
	assert_false(rs_lossy_seen(t, &loss, 0.05));
	assert_false(rs_lossy_seen(t, &loss, 0.0));
	assert_false(rs_lossy_seen(t, &one, 0.0));
	assert_false(rs_lossy_seen(t, &none, 0.0));
	/* 10% late with nothing else late: the floor. */
	note(t, 10, 100, 10);
	struct rs_endpoint tenth = v4(10, 200);
	assert_true(rs_lossy_seen(t, &tenth, 0.0));
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_which_networks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
