/* Unit tests for src/uring_probe.c's pure parts: the ring a worker wants,
 * what the kernel charges for it against RLIMIT_MEMLOCK (the figures
 * measured on Linux 6.18 with a fresh uid), the shrinking order and its
 * floor, and the one-line reasons for a blocked io_uring, including the
 * kernel.io_uring_disabled cases that a test cannot provoke without
 * changing the whole machine. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "uring_probe.h"

static void test_want(void **state)
{
	(void)state;
	struct rs_ring_size a = rs_ring_want(1), b = rs_ring_want(13), c = rs_ring_want(513),
			    d = rs_ring_want(16384);
	assert_int_equal(a.sq, 8);
	assert_int_equal(a.cq, 16);
	assert_int_equal(b.sq, 64);
	assert_int_equal(b.cq, 128);
	assert_int_equal(c.sq, 1024);
	assert_int_equal(c.cq, 2048);
	assert_int_equal(d.sq, 1024);
	assert_int_equal(d.cq, 8192);
}

/* Measured: the smallest RLIMIT_MEMLOCK under which one ring sets up. */
static void test_bytes(void **state)
{
	(void)state;
	if (sysconf(_SC_PAGESIZE) != 4096)
		skip();
	static const struct {
		unsigned sq, cq;
		size_t kib;
	} m[] = {{64, 128, 8},	    {128, 256, 16},    {256, 512, 28},	 {512, 1024, 52},
		 {1024, 2048, 104}, {1024, 4096, 136}, {1024, 8192, 200}};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		struct rs_ring_size sz = {m[i].sq, m[i].cq};
		assert_int_equal(rs_ring_bytes(sz), m[i].kib * 1024);
	}
}

static void test_shrink(void **state)
{
	(void)state;
	struct rs_ring_size sz = rs_ring_want(16384);
	static const unsigned want[][2] = {{1024, 4096}, {1024, 2048}, {512, 1024},
					   {256, 512},	 {128, 256},   {64, 128}};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_true(rs_ring_shrink(&sz));
		assert_int_equal(sz.sq, want[i][0]);
		assert_int_equal(sz.cq, want[i][1]);
	}
	assert_false(rs_ring_shrink(&sz));
	assert_int_equal(sz.sq, 64);
	assert_int_equal(sz.cq, 128);
	struct rs_ring_size small = rs_ring_want(1); /* already below the floor */
	assert_false(rs_ring_shrink(&small));
	assert_int_equal(small.sq, 8);
}

static void test_explain(void **state)
{
	(void)state;
	char why[400];

	rs_uring_explain(EPERM, 2, 0, -1, why, sizeof(why));
	assert_non_null(strstr(why, "seccomp"));
	assert_non_null(strstr(why, "EPERM"));
	rs_uring_explain(ENOSYS, 2, 0, -1, why, sizeof(why));
	assert_non_null(strstr(why, "seccomp"));
	assert_non_null(strstr(why, "ENOSYS"));
	rs_uring_explain(ENOSYS, 0, 0, -1, why, sizeof(why));
	assert_non_null(strstr(why, "kernel has none"));
	rs_uring_explain(EPERM, 0, 2, -1, why, sizeof(why));
	assert_non_null(strstr(why, "kernel.io_uring_disabled=2"));
	assert_null(strstr(why, "seccomp"));
	rs_uring_explain(EPERM, 2, 2, -1, why, sizeof(why));
	assert_non_null(strstr(why, "kernel.io_uring_disabled=2"));
	assert_non_null(strstr(why, "seccomp"));
	rs_uring_explain(EPERM, 0, 1, 1234, why, sizeof(why));
	assert_non_null(strstr(why, "kernel.io_uring_disabled=1"));
	assert_non_null(strstr(why, "gid 1234"));
	rs_uring_explain(EPERM, 0, 0, -1, why, sizeof(why));
	assert_non_null(strstr(why, "io_uring"));
	for (const char *p = why; *p; p++)
		assert_true(*p != '\n');
}

/* The short form a summary and --stats carry when auto chose epoll. */
static void test_reason(void **state)
{
	(void)state;
	char r[160];

	rs_uring_reason(EPERM, false, 2, 0, r, sizeof(r));
	assert_string_equal(r, "io_uring_setup: EPERM (seccomp filter)");
	rs_uring_reason(EPERM, false, 0, 0, r, sizeof(r));
	assert_string_equal(r, "io_uring_setup: EPERM (seccomp or kernel.io_uring_disabled)");
	rs_uring_reason(EPERM, false, 2, 2, r, sizeof(r));
	assert_string_equal(r, "io_uring_setup: EPERM (kernel.io_uring_disabled=2)");
	rs_uring_reason(ENOSYS, false, 0, 0, r, sizeof(r));
	assert_string_equal(r, "io_uring_setup: ENOSYS (no io_uring in this kernel)");
	rs_uring_reason(ENOMEM, true, 0, 0, r, sizeof(r));
	assert_non_null(strstr(r, "RLIMIT_MEMLOCK"));
	rs_uring_reason(EOPNOTSUPP, false, 0, 0, r, sizeof(r));
	assert_string_equal(r, "io_uring_setup: EOPNOTSUPP");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_want),   cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_shrink), cmocka_unit_test(test_explain),
		cmocka_unit_test(test_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
