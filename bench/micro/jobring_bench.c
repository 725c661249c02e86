/* Micro-benchmark: throughput of the job ring across processes, as the
 * scanner uses it: the ring lives in MAP_SHARED memory, the parent (the
 * coordinator's role) is the only producer, and 1 or 2 fork()ed consumers
 * (the workers' role) pop until each takes a stop job. Reported: ns per
 * push/pop pair and jobs per second, with a single-process push-then-pop
 * row as the uncontended floor.
 *
 * Checked: each consumer checks every job it pops (end == begin + CHUNK, so
 * a torn copy fails; begins strictly increasing, as the ring is FIFO) and
 * marks it in its own bitmap in shared memory; the parent then demands
 * that every job was popped by exactly one consumer (the bitmaps are
 * disjoint and cover all), and that counts and sums of begins add up.
 * Every wait is bounded (TIMEOUT_S, then exit 1) and children are reaped. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ringscan/jobring.h"

#define CAP	      1024 /* scan.c's JOB_SLOTS */
#define JOBS	      50000000ULL
#define CHUNK	      256 /* positions per job, as a claim of a chunk */
#define STOP	      UINT64_MAX
#define TIMEOUT_S     30.0
#define MAX_CONSUMERS 2
#define SPINS	      64 /* polls of an empty/full ring before sched_yield() */

/* What a consumer reports, in shared memory. */
struct report {
	alignas(64) _Atomic int state; /* 0 starting, 1 ready, 2 done, -1 failed */
	uint64_t count, sum, xor;
};

struct shared {
	alignas(64) _Atomic int go;
	alignas(64) _Atomic int abort;
	struct report rep[MAX_CONSUMERS];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

/* Wait a little; false once the deadline has passed. */
static bool backoff(unsigned *spins, double deadline)
{
	if (++*spins % SPINS) {
		relax();
		return true;
	}
	sched_yield();
	return *spins % (SPINS * 64) || now_s() < deadline;
}

static void *map_shared(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("jobring_bench: mmap");
		exit(1);
	}
	return p;
}

static void consume(struct rs_jobring *ring, struct shared *sh, struct report *rep, uint64_t *bits)
{
	uint64_t count = 0, sum = 0, x = 0, last = 0;
	unsigned spins = 0;
	double deadline = now_s() + TIMEOUT_S;
	struct rs_job job;

	atomic_store_explicit(&rep->state, 1, memory_order_release);
	for (;;) {
		if (!rs_jobring_pop(ring, &job)) {
			if (atomic_load_explicit(&sh->abort, memory_order_relaxed) ||
			    !backoff(&spins, deadline))
				goto fail;
			continue;
		}
		spins = 0;
		if (job.begin == STOP)
			break;
		uint64_t k = job.begin / CHUNK;
		if (job.end != job.begin + CHUNK || job.begin % CHUNK || k >= JOBS ||
		    (count && job.begin <= last)) {
			fprintf(stderr, "jobring_bench: bad job [%llu, %llu) after %llu\n",
				(unsigned long long)job.begin, (unsigned long long)job.end,
				(unsigned long long)last);
			goto fail;
		}
		bits[k / 64] |= 1ULL << (k % 64);
		last = job.begin;
		count++;
		sum += job.begin;
		x ^= job.end;
	}
	rep->count = count;
	rep->sum = sum;
	rep->xor = x;
	atomic_store_explicit(&rep->state, 2, memory_order_release);
	_exit(0);
fail:
	atomic_store_explicit(&rep->state, -1, memory_order_release);
	_exit(1);
}

static void die(const char *what, pid_t *pid, int n, struct shared *sh)
{
	fprintf(stderr, "jobring_bench: %s\n", what);
	atomic_store(&sh->abort, 1);
	for (int i = 0; i < n; i++)
		if (pid[i] > 0) {
			kill(pid[i], SIGKILL);
			waitpid(pid[i], NULL, 0);
		}
	exit(1);
}

/* Has a consumer failed, or exited without reporting? (WNOWAIT: look,
 * do not reap.) */
static bool consumers_bad(const pid_t *pid, int n, struct shared *sh)
{
	for (int i = 0; i < n; i++) {
		siginfo_t si = {0};
		int state = atomic_load(&sh->rep[i].state);
		if (state < 0)
			return true;
		if (waitid(P_PID, (id_t)pid[i], &si, WEXITED | WNOHANG | WNOWAIT) != 0 ||
		    (si.si_pid != 0 && state != 2))
			return true;
	}
	return false;
}

/* One run with n consumers; returns seconds from the first push until every
 * consumer has reported. */
static double run(struct rs_jobring *ring, struct shared *sh, uint64_t **bits, int n)
{
	pid_t pid[MAX_CONSUMERS] = {0};
	size_t words = JOBS / 64 + 1;
	double deadline, t0, t;
	unsigned spins = 0;

	rs_jobring_init(ring, CAP);
	memset(sh, 0, sizeof(*sh));
	for (int i = 0; i < n; i++)
		memset(bits[i], 0, words * sizeof(uint64_t));
	for (int i = 0; i < n; i++) {
		pid[i] = fork();
		if (pid[i] < 0)
			die("fork failed", pid, i, sh);
		if (pid[i] == 0)
			consume(ring, sh, &sh->rep[i], bits[i]);
	}
	deadline = now_s() + TIMEOUT_S;
	for (int i = 0; i < n; i++)
		while (atomic_load(&sh->rep[i].state) != 1)
			if (!backoff(&spins, deadline) || consumers_bad(pid, n, sh))
				die("a consumer did not start", pid, n, sh);

	t0 = now_s();
	for (uint64_t j = 0; j < JOBS + (uint64_t)n; j++) {
		struct rs_job job = {j * CHUNK, j * CHUNK + CHUNK};
		if (j >= JOBS)
			job = (struct rs_job){STOP, STOP};
		spins = 0;
		while (!rs_jobring_push(ring, &job))
			if (!backoff(&spins, deadline) ||
			    (spins % (SPINS * 64) == 0 && consumers_bad(pid, n, sh)))
				die("timed out or a consumer failed while pushing", pid, n, sh);
	}
	spins = 0;
	for (int i = 0; i < n; i++)
		while (atomic_load_explicit(&sh->rep[i].state, memory_order_acquire) != 2)
			if (!backoff(&spins, deadline) || atomic_load(&sh->rep[i].state) < 0)
				die("a consumer failed or timed out", pid, n, sh);
	t = now_s() - t0;

	for (int i = 0; i < n; i++) {
		int st;
		if (waitpid(pid[i], &st, 0) != pid[i] || !WIFEXITED(st) || WEXITSTATUS(st)) {
			pid[i] = 0;
			die("a consumer exited badly", pid, n, sh);
		}
	}

	/* Exactly once: the bitmaps are disjoint and cover [0, JOBS). */
	uint64_t count = 0, sum = 0, x = 0;
	for (int i = 0; i < n; i++) {
		count += sh->rep[i].count;
		sum += sh->rep[i].sum;
		x ^= sh->rep[i].xor ;
	}
	for (size_t w = 0; w < words; w++) {
		uint64_t all = 0, dup = 0;
		for (int i = 0; i < n; i++) {
			dup |= all & bits[i][w];
			all |= bits[i][w];
		}
		uint64_t want = w < JOBS / 64 ? ~0ULL : (1ULL << (JOBS % 64)) - 1;
		if (dup || all != want) {
			fprintf(stderr, "jobring_bench: job %zu.. popped %s\n", w * 64,
				dup ? "twice" : "never");
			exit(1);
		}
	}
	uint64_t want_x = 0;
	for (uint64_t j = 0; j < JOBS; j++)
		want_x ^= j * CHUNK + CHUNK;
	if (count != JOBS || sum != CHUNK * (JOBS * (JOBS - 1) / 2) || x != want_x ||
	    rs_jobring_count(ring) != 0) {
		fprintf(stderr, "jobring_bench: %d consumers: count %llu, sums differ\n", n,
			(unsigned long long)count);
		exit(1);
	}
	return t;
}

/* The floor: one process pushes a batch and pops it back, no sharing. */
static double run_local(struct rs_jobring *ring)
{
	uint64_t sum = 0, j = 0;
	struct rs_job job;
	double t0;

	rs_jobring_init(ring, CAP);
	t0 = now_s();
	while (j < JOBS) {
		uint64_t b = j;
		for (; j < JOBS && j - b < CAP; j++) {
			job = (struct rs_job){j * CHUNK, j * CHUNK + CHUNK};
			if (!rs_jobring_push(ring, &job)) {
				fprintf(stderr, "jobring_bench: push failed below capacity\n");
				exit(1);
			}
		}
		for (uint64_t k = b; k < j; k++) {
			if (!rs_jobring_pop(ring, &job) || job.begin != k * CHUNK ||
			    job.end != job.begin + CHUNK) {
				fprintf(stderr, "jobring_bench: local pop %llu wrong\n",
					(unsigned long long)k);
				exit(1);
			}
			sum += job.begin;
		}
	}
	double t = now_s() - t0;
	if (sum != CHUNK * (JOBS * (JOBS - 1) / 2) || rs_jobring_pop(ring, &job)) {
		fprintf(stderr, "jobring_bench: local sums differ\n");
		exit(1);
	}
	return t;
}

int main(void)
{
	struct rs_jobring *ring = map_shared(rs_jobring_size(CAP));
	struct shared *sh = map_shared(sizeof(struct shared));
	uint64_t *bits[MAX_CONSUMERS];

	for (int i = 0; i < MAX_CONSUMERS; i++)
		bits[i] = map_shared((JOBS / 64 + 1) * sizeof(uint64_t));

	printf("| consumers (%ld CPUs, ring of %d, %llu jobs) | ns per push/pop pair | jobs/s | "
	       "jobs per consumer |\n"
	       "|---|---|---|---|\n",
	       sysconf(_SC_NPROCESSORS_ONLN), CAP, (unsigned long long)JOBS);
	double t = run_local(ring);
	printf("| 0 (one process: push %d, pop %d) | %.1f | %.3g | - |\n", CAP, CAP,
	       t * 1e9 / (double)JOBS, (double)JOBS / t);
	for (int n = 1; n <= MAX_CONSUMERS; n++) {
		t = run(ring, sh, bits, n);
		printf("| %d (fork()ed) | %.1f | %.3g | %llu", n, t * 1e9 / (double)JOBS,
		       (double)JOBS / t, (unsigned long long)sh->rep[0].count);
		for (int i = 1; i < n; i++)
			printf(" + %llu", (unsigned long long)sh->rep[i].count);
		printf(" |\n");
	}
	return 0;
}
