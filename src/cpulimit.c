/* The CPU quota of this process's cgroup (see cpulimit.h). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpulimit.h"

#define PATH_MAXLEN 4096

int rs_cpu_max_parse(const char *s, double *cpus)
{
	char *end;
	double quota, period;

	*cpus = 0;
	if (!strncmp(s, "max", 3) && (s[3] == ' ' || s[3] == '\n' || !s[3]))
		return 0;
	quota = strtod(s, &end);
	if (end == s || *end != ' ')
		return -EINVAL;
	period = strtod(end + 1, &end);
	if (quota <= 0 || period <= 0 || (*end && *end != '\n'))
		return -EINVAL;
	*cpus = quota / period;
	return 0;
}

int rs_cfs_parse(const char *quota, const char *period, double *cpus)
{
	char *end;
	double q = strtod(quota, &end), p;

	*cpus = 0;
	if (end == quota || (*end && *end != '\n'))
		return -EINVAL;
	if (q < 0)
		return 0; /* -1: no limit */
	p = strtod(period, &end);
	if (end == period || (*end && *end != '\n') || q == 0 || p <= 0)
		return -EINVAL;
	*cpus = q / p;
	return 0;
}

/* A small file's text (NUL-terminated) into buf; 0 or -errno. */
static int read_small(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t got;

	if (fd < 0)
		return -errno;
	got = read(fd, buf, n - 1);
	close(fd);
	if (got < 0)
		return -EIO;
	buf[got] = 0;
	return 0;
}

/* The limit set in directory dir (v2 when v1 is false), or 0. */
static double limit_in(const char *dir, bool v1)
{
	char path[PATH_MAXLEN + 32], a[64], b[64];
	double cpus = 0;

	if (!v1) {
		snprintf(path, sizeof(path), "%s/cpu.max", dir);
		if (!read_small(path, a, sizeof(a)))
			rs_cpu_max_parse(a, &cpus);
		return cpus;
	}
	snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us", dir);
	if (read_small(path, a, sizeof(a)))
		return 0;
	snprintf(path, sizeof(path), "%s/cpu.cfs_period_us", dir);
	if (!read_small(path, b, sizeof(b)))
		rs_cfs_parse(a, b, &cpus);
	return cpus;
}

/* The smallest limit from base + cg up to base (each ancestor), or 0. */
static double walk(const char *base, const char *cg, size_t cglen, bool v1)
{
	char dir[PATH_MAXLEN];
	double best = 0;

	if (strlen(base) + cglen >= sizeof(dir))
		return 0;
	snprintf(dir, sizeof(dir), "%s%.*s", base, (int)cglen, cg);
	for (size_t keep = strlen(base);;) {
		double c = limit_in(dir, v1);
		if (c > 0 && (best == 0 || c < best))
			best = c;
		char *slash = strrchr(dir + keep, '/');
		if (!slash)
			break;
		*slash = 0; /* the parent; "" after base is base itself */
	}
	return best;
}

/* Does the comma-separated list name controller cpu? */
static bool names_cpu(const char *list, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && list[j] != ',')
			j++;
		if (j - i == 3 && !strncmp(list + i, "cpu", 3))
			return true;
		i = j + 1;
	}
	return false;
}

/* One line of /proc/self/cgroup ("ID:CONTROLLERS:PATH"): its limit. */
static double line_limit(const char *root, const char *line, size_t n)
{
	const char *c1 = memchr(line, ':', n), *c2;
	char base[PATH_MAXLEN];
	double best = 0;

	if (!c1 || !(c2 = memchr(c1 + 1, ':', (size_t)(line + n - c1 - 1))))
		return 0;
	const char *cg = c2 + 1;
	size_t cglen = (size_t)(line + n - cg);
	if (cglen && cg[cglen - 1] == '/')
		cglen--;  /* "/" itself: the root */
	if (c2 == c1 + 1) /* v2: "0::PATH" */
		return walk(root, cg, cglen, false);
	if (!names_cpu(c1 + 1, (size_t)(c2 - c1 - 1)))
		return 0;
	/* v1: the cpu hierarchy, mounted as cpu or with cpuacct beside it. */
	const char *mounts[] = {"cpu", "cpu,cpuacct", "cpuacct,cpu"};
	for (size_t i = 0; i < sizeof(mounts) / sizeof(*mounts); i++) {
		snprintf(base, sizeof(base), "%s/%s", root, mounts[i]);
		double c = walk(base, cg, cglen, true);
		if (c > 0 && (best == 0 || c < best))
			best = c;
	}
	return best;
}

double rs_cgroup_cpu_limit(const char *root, const char *proc_cgroup)
{
	double best = 0;

	for (const char *p = proc_cgroup; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		double c = line_limit(root, p, n);
		if (c > 0 && (best == 0 || c < best))
			best = c;
		p += n + (nl != NULL);
	}
	return best;
}

double rs_cpu_limit_self(void)
{
	char buf[8192];

	if (read_small("/proc/self/cgroup", buf, sizeof(buf)))
		return 0;
	return rs_cgroup_cpu_limit("/sys/fs/cgroup", buf);
}

unsigned rs_default_workers(unsigned cpus, double limit)
{
	if (limit > 0 && limit < cpus)
		cpus = (unsigned)ceil(limit - 1e-9);
	return cpus ? cpus : 1;
}
