/* Unit tests for src/jobring.c: the single-producer, multi-consumer job
 * ring. FIFO order, full and empty, wraparound over many laps, count, and
 * a cross-process run with forked consumers on MAP_SHARED memory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ringscan/jobring.h"

/* A ring allocated with its exact size (so ASan sees any overrun). */
static struct rs_jobring *ring_new(uint32_t cap)
{
	void *p = NULL;
	size_t sz = rs_jobring_size(cap);

	assert_true(sz >= sizeof(struct rs_jobring) + cap * sizeof(struct rs_jobslot));
	assert_int_equal(posix_memalign(&p, 64, sz), 0);
	memset(p, 0xa5, sz); /* init must not rely on zeroed memory */
	rs_jobring_init(p, cap);
	return p;
}

/* A job whose fields are both derived from k, to check content. */
static struct rs_job job_of(uint64_t k)
{
	return (struct rs_job){k * 1000003ULL + 17, k * 1000003ULL + 17 + 1 + k % 4096};
}

static void check_job(const struct rs_job *j, uint64_t k)
{
	struct rs_job w = job_of(k);
	if (j->begin != w.begin || j->end != w.end)
		fail_msg("job %" PRIu64 ": got [%" PRIu64 ", %" PRIu64 "), expected [%" PRIu64
			 ", %" PRIu64 ")",
			 k, j->begin, j->end, w.begin, w.end);
}

static void test_empty(void **state)
{
	(void)state;
	struct rs_jobring *r = ring_new(8);
	struct rs_job j = {77, 88};

	assert_int_equal(rs_jobring_count(r), 0);
	assert_false(rs_jobring_pop(r, &j));
	assert_false(rs_jobring_pop(r, &j));
	assert_int_equal(rs_jobring_count(r), 0);
	free(r);
}

/* Fill to capacity, one more is refused, then drain in order. */
static void test_fill_drain(void **state)
{
	(void)state;
	static const uint32_t caps[] = {2, 4, 8, 64, 1024};

	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		uint32_t cap = caps[c];
		struct rs_jobring *r = ring_new(cap);
		struct rs_job j;

		for (uint32_t lap = 0; lap < 3; lap++) {
			for (uint64_t k = 0; k < cap; k++) {
				j = job_of(lap * cap + k);
				assert_true(rs_jobring_push(r, &j));
				assert_int_equal(rs_jobring_count(r), k + 1);
			}
			j = job_of(999999);
			assert_false(rs_jobring_push(r, &j));
			assert_false(rs_jobring_push(r, &j));
			assert_int_equal(rs_jobring_count(r), cap);
			for (uint64_t k = 0; k < cap; k++) {
				assert_true(rs_jobring_pop(r, &j));
				check_job(&j, lap * cap + k);
				assert_int_equal(rs_jobring_count(r), cap - k - 1);
			}
			assert_false(rs_jobring_pop(r, &j));
			assert_int_equal(rs_jobring_count(r), 0);
		}
		/* one slot freed by a pop lets exactly one more push in */
		for (uint64_t k = 0; k < cap; k++) {
			j = job_of(k);
			assert_true(rs_jobring_push(r, &j));
		}
		assert_true(rs_jobring_pop(r, &j));
		check_job(&j, 0);
		j = job_of(cap);
		assert_true(rs_jobring_push(r, &j));
		assert_false(rs_jobring_push(r, &j));
		for (uint64_t k = 1; k <= cap; k++) {
			assert_true(rs_jobring_pop(r, &j));
			check_job(&j, k);
		}
		assert_false(rs_jobring_pop(r, &j));
		free(r);
	}
}

/* Many laps with varying batch sizes; content and order against a model. */
static void test_wraparound_model(void **state)
{
	(void)state;
	enum { CAP = 16 };
	struct rs_jobring *r = ring_new(CAP);
	uint64_t pushed = 0, popped = 0, x = 88172645463325252ULL;

	for (int op = 0; op < 1000000; op++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		unsigned k = (unsigned)(x % 7);
		struct rs_job j;

		if (x & (1ULL << 40)) {
			for (unsigned i = 0; i < k; i++) {
				j = job_of(pushed);
				bool ok = rs_jobring_push(r, &j);
				assert_int_equal(ok, pushed - popped < CAP);
				if (ok)
					pushed++;
			}
		} else {
			for (unsigned i = 0; i < k; i++) {
				bool ok = rs_jobring_pop(r, &j);
				assert_int_equal(ok, popped < pushed);
				if (ok)
					check_job(&j, popped++);
			}
		}
		assert_int_equal(rs_jobring_count(r), pushed - popped);
	}
	/* many laps really happened */
	assert_true(pushed > 100000 * CAP / 16);
	free(r);
}

/* Large 64-bit job contents survive. */
static void test_content(void **state)
{
	(void)state;
	struct rs_jobring *r = ring_new(4);
	struct rs_job in[] = {{0, 0}, {~0ULL - 1, ~0ULL}, {1ULL << 63, (1ULL << 63) + 1}, {5, 4}};
	struct rs_job out;

	for (int lap = 0; lap < 5; lap++) {
		for (int i = 0; i < 4; i++)
			assert_true(rs_jobring_push(r, &in[i]));
		for (int i = 0; i < 4; i++) {
			assert_true(rs_jobring_pop(r, &out));
			assert_true(out.begin == in[i].begin && out.end == in[i].end);
		}
	}
	free(r);
}

/* --- cross-process ---------------------------------------------------- */

enum { XJOBS = 200000, XCONSUMERS = 3 };

struct xshared {
	_Atomic int go;		      /* ring pre-filled: consumers start together */
	_Atomic int done;	      /* producer finished pushing */
	_Atomic uint32_t seen[XJOBS]; /* times job k was consumed */
	_Atomic uint64_t bad_content;
	_Atomic uint64_t out_of_order; /* a consumer saw k after a larger k */
	_Atomic uint64_t per_child[XCONSUMERS];
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

__attribute__((noreturn)) static void consumer(struct rs_jobring *r, struct xshared *sh, int id)
{
	int64_t last = -1;
	struct rs_job j;
	unsigned idle = 0;

	alarm(30); /* never outlive a broken test */
	while (!atomic_load(&sh->go))
		sched_yield();
	for (;;) {
		if (rs_jobring_pop(r, &j)) {
			uint64_t k = (j.begin - 17) / 1000003ULL;
			struct rs_job w = job_of(k);
			if (k >= XJOBS || w.begin != j.begin || w.end != j.end) {
				atomic_fetch_add(&sh->bad_content, 1);
				continue;
			}
			if ((int64_t)k <= last)
				atomic_fetch_add(&sh->out_of_order, 1);
			last = (int64_t)k;
			atomic_fetch_add(&sh->seen[k], 1);
			atomic_fetch_add(&sh->per_child[id], 1);
			idle = 0;
		} else if (atomic_load(&sh->done)) {
			/* the producer is done: one last look, then leave */
			if (!rs_jobring_pop(r, &j))
				_exit(0);
			/* got one after all: put it through the same checks */
			uint64_t k = (j.begin - 17) / 1000003ULL;
			if (k < XJOBS) {
				if ((int64_t)k <= last)
					atomic_fetch_add(&sh->out_of_order, 1);
				last = (int64_t)k;
				atomic_fetch_add(&sh->seen[k], 1);
				atomic_fetch_add(&sh->per_child[id], 1);
			} else {
				atomic_fetch_add(&sh->bad_content, 1);
			}
		} else if (++idle % 64 == 0) {
			/* spin a little first, so that consumers really race */
			sched_yield();
		}
	}
}

/* The parent pushes XJOBS jobs through a ring of cap slots to XCONSUMERS
 * forked consumers; every job must be consumed exactly once, intact, and
 * each consumer must see its jobs in push order. */
static void cross_process(uint32_t cap)
{
	size_t rsz = rs_jobring_size(cap);
	struct rs_jobring *r =
		mmap(NULL, rsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct xshared *sh =
		mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid[XCONSUMERS];
	uint64_t deadline = now_ms() + 30000, full = 0;

	assert_true(r != MAP_FAILED && sh != MAP_FAILED);
	alarm(60); /* the whole test is bounded even if waitpid() hangs */
	rs_jobring_init(r, cap);
	for (int c = 0; c < XCONSUMERS; c++) {
		pid[c] = fork();
		assert_true(pid[c] >= 0);
		if (pid[c] == 0)
			consumer(r, sh, c);
	}
	uint64_t k = 0;
	/* pre-fill the ring, then release every consumer at once */
	for (struct rs_job j = job_of(k); rs_jobring_push(r, &j); j = job_of(k))
		k++;
	assert_int_equal(k, cap);
	atomic_store(&sh->go, 1);
	while (k < XJOBS) {
		struct rs_job j = job_of(k);
		if (rs_jobring_push(r, &j)) {
			k++;
			continue;
		}
		/* spin, yielding now and then: refill a slot the moment it is
		 * released, to race with the consumer that released it */
		if ((++full & 63) == 0)
			sched_yield();
		if ((full & 1023) == 0 && now_ms() > deadline) {
			for (int c = 0; c < XCONSUMERS; c++)
				kill(pid[c], SIGKILL);
			fail_msg("producer stuck at job %" PRIu64 " (consumers not draining)", k);
		}
	}
	atomic_store(&sh->done, 1);
	for (int c = 0; c < XCONSUMERS; c++) {
		int st;
		assert_int_equal(waitpid(pid[c], &st, 0), pid[c]);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fail_msg("consumer %d did not exit cleanly (status %#x)", c, st);
	}

	alarm(0);
	if (atomic_load(&sh->bad_content))
		fail_msg("%" PRIu64 " jobs popped with wrong content (torn or overwritten slot)",
			 (uint64_t)atomic_load(&sh->bad_content));
	if (atomic_load(&sh->out_of_order))
		fail_msg("%" PRIu64 " times a consumer popped a job older than its previous one",
			 (uint64_t)atomic_load(&sh->out_of_order));
	uint64_t total = 0, missing = 0, dup = 0;
	for (uint64_t i = 0; i < XJOBS; i++) {
		uint32_t n = atomic_load(&sh->seen[i]);
		missing += n == 0;
		dup += n > 1;
	}
	for (int c = 0; c < XCONSUMERS; c++)
		total += atomic_load(&sh->per_child[c]);
	if (missing || dup || total != XJOBS)
		fail_msg("%" PRIu64 " jobs consumed for %d pushed: %" PRIu64 " missing, %" PRIu64
			 " consumed more than once",
			 total, XJOBS, missing, dup);
	assert_int_equal(rs_jobring_count(r), 0);
	munmap(r, rsz);
	munmap(sh, sizeof(*sh));
}

static void test_cross_process(void **state)
{
	(void)state;
	cross_process(4096);
}

/* Tiny rings: the producer laps the consumers constantly. */
static void test_cross_process_small_rings(void **state)
{
	(void)state;
	cross_process(2);
	cross_process(16);
}

/* More rounds of the big ring, to give races more chances. */
static void test_cross_process_repeat(void **state)
{
	(void)state;
	for (int i = 0; i < 4; i++)
		cross_process(256);
}

/* A consumer that dies between its claim (CAS on head) and its release
 * leaves a slot the producer waits on forever; rs_jobring_unstick frees it
 * and touches nothing else. */
static void test_unstick_dead_consumer(void **state)
{
	(void)state;
	const uint32_t cap = 8;
	struct rs_jobring *r = malloc(rs_jobring_size(cap));
	struct rs_job j = {0, 0}, got;
	assert_non_null(r);
	rs_jobring_init(r, cap);
	for (uint64_t i = 0; i < cap; i++) {
		j.begin = i;
		j.end = i + 1;
		assert_true(rs_jobring_push(r, &j));
	}
	/* A dies right after claiming position 0: head moves, seq stays. */
	uint64_t h = 0;
	assert_true(atomic_compare_exchange_strong(&r->head, &h, 1));
	/* Others consume the rest normally. */
	for (uint64_t i = 1; i < cap; i++) {
		assert_true(rs_jobring_pop(r, &got));
		assert_int_equal(got.begin, i);
	}
	/* The producer refills positions 8..: slot 0 (position 8) is stuck. */
	j.begin = 100;
	assert_false(rs_jobring_push(r, &j));
	rs_jobring_unstick(r);
	assert_true(rs_jobring_push(r, &j));
	for (uint64_t i = 1; i < cap; i++) {
		j.begin = 100 + i;
		assert_true(rs_jobring_push(r, &j));
	}
	assert_false(rs_jobring_push(r, &j)); /* really full now */
	/* Unstick must not disturb a healthy ring. */
	rs_jobring_unstick(r);
	assert_false(rs_jobring_push(r, &j));
	for (uint64_t i = 0; i < cap; i++) {
		assert_true(rs_jobring_pop(r, &got));
		assert_int_equal(got.begin, 100 + i);
	}
	assert_false(rs_jobring_pop(r, &got));
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unstick_dead_consumer),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_fill_drain),
		cmocka_unit_test(test_wraparound_model),
		cmocka_unit_test(test_content),
		cmocka_unit_test(test_cross_process),
		cmocka_unit_test(test_cross_process_small_rings),
		cmocka_unit_test(test_cross_process_repeat),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
