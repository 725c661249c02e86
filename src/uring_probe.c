/* A worker's io_uring: sizes, setup, and the coordinator's check.
 *
 * Sizes. The SQ takes one iteration's chains (LAUNCH_BATCH probes of up to
 * 4 SQEs, plus the follow-ups of what completed; the engine submits early
 * if it fills), the CQ what completes between two reaps (more spills into
 * the kernel's overflow list, which is slower but loses nothing). Neither
 * bounds the probes in flight: the rings are a throughput knob, not a
 * correctness one.
 *
 * Memory. Since Linux 6.13 the ring's pages count against RLIMIT_MEMLOCK
 * (unless the process has CAP_IPC_LOCK), on a counter shared by every
 * process of the user: measured on 6.18 with a fresh uid, SQ 1024 / CQ
 * 8192 needs 200 KiB, 256 / 512 28 KiB, 64 / 128 8 KiB, exactly what
 * rs_ring_bytes() says. A ring is unaccounted only when it is freed, which
 * happens asynchronously after close (a ring of a scan that just ended, or
 * the coordinator's probe ring, may still be charged for a few ms). So a
 * limit that the rings themselves exceed is told apart by arithmetic and
 * never retried: the rings shrink to fit (down to 8 KiB), or the check
 * fails at once naming the limit and what would fit; an ENOMEM below the
 * limit is someone else's ring being released, and is waited out.
 *
 * Blocked. Docker's and containerd 2.0's default seccomp profiles make
 * io_uring_setup fail with EPERM; so does kernel.io_uring_disabled (2 for
 * everyone, 1 for all but CAP_SYS_ADMIN and kernel.io_uring_group). A
 * kernel without io_uring (or a filter that says so) gives ENOSYS. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ringscan/classify.h"
#include "uring_probe.h"

#define SQ_MAX	 1024
#define CQ_MAX	 8192
#define SQ_FLOOR 64 /* with CQ_FLOOR: one page of SQEs, one of CQEs */
#define CQ_FLOOR 128

/* The smallest power of two >= v (ring sizes are powers of two). */
static unsigned pow2_at_least(unsigned v)
{
	unsigned p = 1;
	while (p < v && p < (1u << 30))
		p <<= 1;
	return p;
}

/* Sized by --concurrency, capped (see the top of this file). */
struct rs_ring_size rs_ring_want(unsigned concurrency)
{
	struct rs_ring_size sz;
	unsigned c = concurrency;

	sz.sq = pow2_at_least(c * 3 < 8 ? 8 : c * 3);
	if (sz.sq > SQ_MAX)
		sz.sq = SQ_MAX;
	sz.cq = pow2_at_least(c * 2 > sz.sq * 2 ? c * 2 : sz.sq * 2);
	if (sz.cq > CQ_MAX)
		sz.cq = CQ_MAX;
	return sz;
}

/* v rounded up to whole pages: the kernel charges pages. */
static size_t page_align(size_t v)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	return (v + pg - 1) / pg * pg;
}

/* Two regions (6.13+ io_create_region): the SQEs, and the rings (a
 * 64-byte header, the CQEs, then the SQ index array). */
size_t rs_ring_bytes(struct rs_ring_size sz)
{
	return page_align((size_t)sz.sq * 64) + page_align(64 + (size_t)sz.cq * 16 + sz.sq * 4);
}

/* The CQ first (completions overflow losslessly), then both. */
bool rs_ring_shrink(struct rs_ring_size *sz)
{
	if (sz->cq > 2 * sz->sq && sz->cq > CQ_FLOOR) {
		sz->cq /= 2;
		return true;
	}
	if (sz->sq <= SQ_FLOOR || sz->cq <= CQ_FLOOR)
		return false;
	sz->sq /= 2;
	sz->cq /= 2;
	return true;
}

/* Does ring memory count against this process's RLIMIT_MEMLOCK? Not before
 * 6.13, nor with CAP_IPC_LOCK: ask the kernel for a one-entry ring under a
 * soft limit of 0 (and put the limit back). */
static bool ring_memory_counted(void)
{
	struct rlimit rl, zero;
	struct io_uring_params prm;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return false;
	zero = rl;
	zero.rlim_cur = 0;
	if (setrlimit(RLIMIT_MEMLOCK, &zero) < 0)
		return true;
	memset(&prm, 0, sizeof(prm));
	long fd = syscall(__NR_io_uring_setup, 1, &prm);
	int err = fd < 0 ? errno : 0;
	setrlimit(RLIMIT_MEMLOCK, &rl);
	if (fd >= 0)
		close((int)fd);
	return err == ENOMEM;
}

/* The soft RLIMIT_MEMLOCK in bytes, SIZE_MAX when unlimited. */
static size_t memlock_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return SIZE_MAX;
	return (size_t)rl.rlim_cur;
}

/* Arithmetic, not trials: other rings of the user share the counter. */
int rs_ring_fit(struct rs_ring_size *sz, unsigned nworkers)
{
	size_t limit = memlock_limit(), n = nworkers ? nworkers : 1;
	int shrunk = 0;

	if (limit == SIZE_MAX || rs_ring_bytes(*sz) * n <= limit || !ring_memory_counted())
		return 0;
	while (rs_ring_bytes(*sz) * n > limit)
		if (rs_ring_shrink(sz))
			shrunk = 1;
		else
			return -ENOMEM;
	return shrunk;
}

/* The worker's flags; the pre-6.1 fallback without DEFER_TASKRUN. */
int rs_ring_setup(struct io_uring *ring, struct rs_ring_size sz, unsigned *features)
{
	struct io_uring_params prm;
	int ret;

	memset(&prm, 0, sizeof(prm));
	prm.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP | IORING_SETUP_SUBMIT_ALL |
		    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
		    IORING_SETUP_TASKRUN_FLAG;
	prm.cq_entries = sz.cq;
	ret = io_uring_queue_init_params(sz.sq, ring, &prm);
	if (ret == -EINVAL) { /* before 6.1: no DEFER_TASKRUN */
		memset(&prm, 0, sizeof(prm));
		prm.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
		prm.cq_entries = sz.cq;
		ret = io_uring_queue_init_params(sz.sq, ring, &prm);
	}
	if (!ret)
		*features = prm.features;
	return ret;
}

/* CLOCK_MONOTONIC in milliseconds. */
static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits out ENOMEM only: anything else is final at the first try. */
int rs_ring_setup_wait(struct io_uring *ring, struct rs_ring_size *sz, unsigned *features,
		       unsigned wait_ms, bool (*keep_on)(void *), void *arg)
{
	uint64_t start = mono_ms(), shrink_at = start + 100;
	long nap_ms = 1;
	int ret;

	while ((ret = rs_ring_setup(ring, *sz, features)) == -ENOMEM) {
		uint64_t now = mono_ms();
		if (now - start >= wait_ms)
			break;
		if (keep_on && !keep_on(arg))
			return -ECANCELED;
		if (now >= shrink_at) {
			rs_ring_shrink(sz);
			shrink_at = now + 100;
		}
		struct timespec nap = {nap_ms / 1000, nap_ms % 1000 * 1000000};
		nanosleep(&nap, NULL);
		nap_ms = nap_ms * 2 > 100 ? 100 : nap_ms * 2;
	}
	return ret;
}

/* The integer after key at the start of a line of a /proc file (the
 * file's first integer when key is NULL), or def. */
static long proc_long(const char *path, const char *key, long def)
{
	char line[256];
	long v = def;
	FILE *f = fopen(path, "re");

	if (!f)
		return def;
	while (fgets(line, sizeof(line), f)) {
		size_t k = key ? strlen(key) : 0;
		if (key && strncmp(line, key, k) != 0)
			continue;
		if (sscanf(line + k, "%ld", &v) != 1)
			v = def;
		break;
	}
	fclose(f);
	return v;
}

/* Pure (the caller reads /proc), so every branch is unit-tested. */
void rs_uring_explain(int err, long seccomp, long disabled, long group, char *why, size_t n)
{
	const char *name = err == EPERM ? "EPERM" : err == ENOSYS ? "ENOSYS" : strerror(err);

	if (err == EPERM && disabled == 2)
		snprintf(why, n,
			 "io_uring is unavailable: disabled on this machine (sysctl "
			 "kernel.io_uring_disabled=2; io_uring_setup: EPERM)%s",
			 seccomp == 2 ? ", and a seccomp filter is in place" : "");
	else if (err == EPERM && disabled == 1 && seccomp != 2)
		snprintf(why, n,
			 "io_uring is unavailable: disabled for this user (sysctl "
			 "kernel.io_uring_disabled=1 allows only CAP_SYS_ADMIN and members of "
			 "kernel.io_uring_group, gid %ld; io_uring_setup: EPERM)",
			 group);
	else if ((err == EPERM || err == ENOSYS) && seccomp == 2)
		snprintf(why, n,
			 "io_uring is unavailable: blocked by this process's seccomp filter "
			 "(io_uring_setup: %s; container runtimes' default profiles do this)",
			 name);
	else if (err == ENOSYS)
		snprintf(why, n,
			 "io_uring is unavailable: this kernel has none (io_uring_setup: ENOSYS; "
			 "Linux 5.1+ with CONFIG_IO_URING needed)");
	else
		snprintf(why, n, "io_uring is unavailable: io_uring_setup: %s", name);
}

void rs_uring_reason(int err, bool memlock, long seccomp, long disabled, char *r, size_t n)
{
	const char *name = rs_errno_name(err);

	if (memlock)
		snprintf(r, n, "RLIMIT_MEMLOCK %zu KiB: too small for the rings",
			 memlock_limit() / 1024);
	else if (err == EPERM && disabled > 0)
		snprintf(r, n, "io_uring_setup: EPERM (kernel.io_uring_disabled=%ld)", disabled);
	else if (err == EPERM && seccomp == 2)
		snprintf(r, n, "io_uring_setup: EPERM (seccomp filter)");
	else if (err == EPERM)
		snprintf(r, n, "io_uring_setup: EPERM (seccomp or kernel.io_uring_disabled)");
	else if (err == ENOSYS)
		snprintf(r, n, "io_uring_setup: ENOSYS (%s)",
			 seccomp == 2 ? "seccomp filter, or no io_uring in this kernel"
				      : "no io_uring in this kernel");
	else
		snprintf(r, n, "io_uring_setup: %s", name ? name : strerror(err));
}

/* Even the smallest rings of nworkers do not fit RLIMIT_MEMLOCK. */
static void explain_memlock(unsigned nworkers, char *why, size_t n)
{
	struct rs_ring_size floor = {SQ_FLOOR, CQ_FLOOR};
	size_t limit = memlock_limit(), each = rs_ring_bytes(floor);
	size_t fit = limit / each, need = (size_t)nworkers * each;

	if (fit)
		snprintf(why, n,
			 "io_uring is unavailable: RLIMIT_MEMLOCK is %zu KiB (ulimit -l), too "
			 "small for the rings of %u workers (%zu KiB each at the least): use -w "
			 "%zu, or raise it to %zu KiB (ulimit -l %zu)",
			 limit / 1024, nworkers, each / 1024, fit, need / 1024, need / 1024);
	else
		snprintf(why, n,
			 "io_uring is unavailable: RLIMIT_MEMLOCK is %zu KiB (ulimit -l), too "
			 "small for even one ring (%zu KiB at the least; %u workers need %zu "
			 "KiB): raise it (ulimit -l %zu)",
			 limit / 1024, each / 1024, nworkers, need / 1024, need / 1024);
}

/* A no-op through the ring and back: a seccomp profile or LSM may allow
 * io_uring_setup but not io_uring_enter. 0 or -errno. */
int rs_ring_try_enter(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;

	if (!sqe)
		return -EBUSY;
	io_uring_prep_nop(sqe);
	int ret = io_uring_submit_and_wait(ring, 1);
	if (ret < 0)
		return ret;
	ret = io_uring_peek_cqe(ring, &cqe);
	if (ret < 0)
		return ret;
	io_uring_cqe_seen(ring, cqe);
	return 0;
}

/* Arithmetic first (a limit never met is named at once), then the very
 * ring a worker sets up, and a no-op through it. */
int rs_uring_check(const struct rs_config *cfg, char *why, size_t n, char *reason, size_t rn)
{
	long seccomp = proc_long("/proc/self/status", "Seccomp:", 0);
	long disabled = proc_long("/proc/sys/kernel/io_uring_disabled", NULL, 0);
	unsigned nworkers = cfg->workers ? cfg->workers : 1;
	struct rs_ring_size want = rs_ring_want(cfg->concurrency), sz = want;
	struct io_uring ring;
	unsigned features;
	int ret;

	why[0] = 0;
	int fit = rs_ring_fit(&sz, nworkers);
	if (fit < 0) {
		explain_memlock(nworkers, why, n);
		rs_uring_reason(ENOMEM, true, seccomp, disabled, reason, rn);
		return fit;
	}
	/* The very ring a worker sets up; what others still release is
	 * waited out for a while (a worker waits longer): a ring is freed
	 * by a kernel worker, which on a saturated machine took more than
	 * the 2 s once allowed here (a fresh Debian root's make test, the
	 * two suites and more at once: test_memlock's third scan). */
	struct rs_ring_size got = sz;
	ret = rs_ring_setup_wait(&ring, &got, &features, 10000, NULL, NULL);
	if (ret == -ENOMEM) {
		snprintf(why, n,
			 "io_uring is unavailable: no memory for a ring (ENOMEM) although "
			 "RLIMIT_MEMLOCK (%zu KiB) holds the %u rings (%zu KiB): other io_uring "
			 "rings of this user hold the rest, or memory is short",
			 memlock_limit() / 1024, nworkers, nworkers * rs_ring_bytes(sz) / 1024);
		rs_uring_reason(ENOMEM, false, seccomp, disabled, reason, rn);
		return ret;
	}
	if (ret < 0) {
		rs_uring_explain(-ret, seccomp, disabled,
				 proc_long("/proc/sys/kernel/io_uring_group", NULL, -1), why, n);
		rs_uring_reason(-ret, false, seccomp, disabled, reason, rn);
		return ret;
	}
	ret = rs_ring_try_enter(&ring);
	io_uring_queue_exit(&ring);
	if (ret < 0) {
		const char *name = rs_errno_name(-ret);
		snprintf(why, n,
			 "io_uring is unavailable: a ring can be set up but not used "
			 "(io_uring_enter: %s%s)",
			 name ? name : strerror(-ret),
			 seccomp == 2 ? "; this process has a seccomp filter" : "");
		snprintf(reason, rn, "io_uring_enter: %s%s", name ? name : strerror(-ret),
			 seccomp == 2 ? " (seccomp filter)" : "");
		return ret;
	}
	if (fit)
		snprintf(why, n,
			 "RLIMIT_MEMLOCK is %zu KiB: io_uring rings shrunk to fit (%u workers x "
			 "%zu KiB, %u/%u entries); full-size rings need %zu KiB (ulimit -l %zu)",
			 memlock_limit() / 1024, nworkers, rs_ring_bytes(sz) / 1024, sz.sq, sz.cq,
			 nworkers * rs_ring_bytes(want) / 1024,
			 nworkers * rs_ring_bytes(want) / 1024);
	return 0;
}

/* The same words as the coordinator's check (rs_uring_reason), for a
 * worker whose own ring failed after that check had passed. */
void rs_uring_worker_reason(int err, bool enter, bool memlock, char *r, size_t n)
{
	long seccomp = proc_long("/proc/self/status", "Seccomp:", 0);
	long disabled = proc_long("/proc/sys/kernel/io_uring_disabled", NULL, 0);
	const char *name = rs_errno_name(err);

	if (enter)
		snprintf(r, n, "io_uring_enter: %s%s", name ? name : strerror(err),
			 seccomp == 2 ? " (seccomp filter)" : "");
	else
		rs_uring_reason(err, memlock, seccomp, disabled, r, n);
}
