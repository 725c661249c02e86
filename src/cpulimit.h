/* How many CPUs' worth of time this process may use: its cgroup's CPU
 * quota (v2 cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us), the
 * smallest along the path from its cgroup to the root, as a container's
 * limit is often set on an ancestor. The default worker count follows it
 * (a pod limited to 1.5 CPUs gets 2 workers, not one per node core). */
#ifndef RS_CPULIMIT_H
#define RS_CPULIMIT_H

/* v2's cpu.max ("max 100000" or "150000 100000"): 0 and *cpus (0 for no
 * limit), or -EINVAL. */
int rs_cpu_max_parse(const char *s, double *cpus);
/* v1's cpu.cfs_quota_us and cpu.cfs_period_us (quota -1: no limit). */
int rs_cfs_parse(const char *quota, const char *period, double *cpus);
/* The limit for a process whose /proc/self/cgroup reads proc_cgroup, on a
 * cgroup file system mounted at root: CPUs, or 0 for none found. */
double rs_cgroup_cpu_limit(const char *root, const char *proc_cgroup);
/* The same for this process (/proc/self/cgroup, /sys/fs/cgroup). */
double rs_cpu_limit_self(void);
/* Workers for cpus CPUs of affinity under a limit (0: none): one per CPU,
 * no more than the limit rounded up, at least one. */
unsigned rs_default_workers(unsigned cpus, double limit);

#endif
