/* The cgroup CPU quota that sets the default worker count: v2's cpu.max
 * and v1's cfs files parsed, the smallest quota on the path from the
 * process's cgroup to the root found, on trees made in a temporary
 * directory as /sys/fs/cgroup would show them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cpulimit.h"

static void test_cpu_max(void **state)
{
	(void)state;
	double c = -1;

	assert_int_equal(rs_cpu_max_parse("max 100000\n", &c), 0);
	assert_true(c == 0);
	assert_int_equal(rs_cpu_max_parse("150000 100000\n", &c), 0);
	assert_true(c == 1.5);
	assert_int_equal(rs_cpu_max_parse("50000 100000", &c), 0);
	assert_true(c == 0.5);
	assert_int_equal(rs_cpu_max_parse("", &c), -EINVAL);
	assert_int_equal(rs_cpu_max_parse("maxi 100000", &c), -EINVAL);
	assert_int_equal(rs_cpu_max_parse("0 100000", &c), -EINVAL);
	assert_int_equal(rs_cpu_max_parse("100000", &c), -EINVAL);
}

static void test_cfs(void **state)
{
	(void)state;
	double c = -1;

	assert_int_equal(rs_cfs_parse("-1\n", "100000\n", &c), 0);
	assert_true(c == 0);
	assert_int_equal(rs_cfs_parse("250000\n", "100000\n", &c), 0);
	assert_true(c == 2.5);
	assert_int_equal(rs_cfs_parse("x", "100000", &c), -EINVAL);
	assert_int_equal(rs_cfs_parse("1000", "0", &c), -EINVAL);
}

static void test_workers(void **state)
{
	(void)state;
	assert_int_equal(rs_default_workers(8, 0), 8);
	assert_int_equal(rs_default_workers(8, 1.5), 2);
	assert_int_equal(rs_default_workers(8, 0.25), 1);
	assert_int_equal(rs_default_workers(8, 2.0), 2);
	assert_int_equal(rs_default_workers(2, 16), 2); /* the quota allows more */
	assert_int_equal(rs_default_workers(0, 0), 1);
}

/* dir/sub made, and file in it written with text. */
static void put(const char *root, const char *sub, const char *file, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, sub);
	for (char *p = path + strlen(root) + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			mkdir(path, 0755);
			*p = '/';
		}
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", root, sub, file);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_tree(void **state)
{
	(void)state;
	char root[] = "/tmp/rs-cgroup-XXXXXX";

	assert_non_null(mkdtemp(root));
	/* v2: a pod's limit on the parent, the container's own unlimited. */
	put(root, "kubepods/pod1", "cpu.max", "150000 100000\n");
	put(root, "kubepods/pod1/ctr", "cpu.max", "max 100000\n");
	assert_true(rs_cgroup_cpu_limit(root, "0::/kubepods/pod1/ctr\n") == 1.5);
	/* the smaller of two along the path */
	put(root, "kubepods/pod1/ctr2", "cpu.max", "50000 100000\n");
	assert_true(rs_cgroup_cpu_limit(root, "0::/kubepods/pod1/ctr2\n") == 0.5);
	/* a cgroup namespace: the process is at "/", the limit on the view's root */
	put(root, ".", "cpu.max", "300000 100000\n");
	assert_true(rs_cgroup_cpu_limit(root, "0::/\n") == 3.0);
	/* no cgroup line, or a path that is not there: what its ancestors say */
	assert_true(rs_cgroup_cpu_limit(root, "") == 0);
	assert_true(rs_cgroup_cpu_limit(root, "0::/gone/away\n") == 3.0);
	/* v1: the cpu hierarchy (mounted with cpuacct); other controllers ignored */
	put(root, "cpu,cpuacct/docker/abc", "cpu.cfs_quota_us", "200000\n");
	put(root, "cpu,cpuacct/docker/abc", "cpu.cfs_period_us", "100000\n");
	put(root, "memory/docker/abc", "cpu.cfs_quota_us", "10000\n");
	put(root, "memory/docker/abc", "cpu.cfs_period_us", "100000\n");
	assert_true(rs_cgroup_cpu_limit(root, "4:memory:/docker/abc\n"
					      "3:cpu,cpuacct:/docker/abc\n") == 2.0);
	/* "-1": none */
	put(root, "cpu/x", "cpu.cfs_quota_us", "-1\n");
	put(root, "cpu/x", "cpu.cfs_period_us", "100000\n");
	assert_true(rs_cgroup_cpu_limit(root, "1:cpu:/x\n") == 0);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_max),
		cmocka_unit_test(test_cfs),
		cmocka_unit_test(test_workers),
		cmocka_unit_test(test_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
