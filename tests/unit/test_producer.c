/* The producer without processes: a job ring in plain memory is filled,
 * drained and answered by hand. Every position is handed out exactly once
 * in a fresh scan; a resumed scan hands out exactly what its checkpoint
 * lacks; a dead worker's lease goes out again without what was answered;
 * the sweep finds positions lost between a claim and a lease; the
 * checkpoint's runs are exactly the answered positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "producer.h"

#define SLOTS 64

struct fixture {
	struct rs_producer p;
	struct rs_jobring *ring;
	uint8_t *seen; /* times each position was handed out */
	uint64_t first, end;
};

static struct fixture *fx_new_slots(uint64_t first, uint64_t end, unsigned workers, uint64_t slots)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ring = aligned_alloc(64, (rs_jobring_size(SLOTS) + 63) / 64 * 64);
	assert_non_null(f->ring);
	rs_jobring_init(f->ring, SLOTS);
	f->seen = calloc(end, 1);
	assert_non_null(f->seen);
	f->first = first;
	f->end = end;
	assert_int_equal(rs_producer_init(&f->p, first, end, workers, slots, SLOTS), 0);
	return f;
}

static struct fixture *fx_new(uint64_t first, uint64_t end, unsigned workers)
{
	return fx_new_slots(first, end, workers, (uint64_t)workers * 100);
}

static void fx_free(struct fixture *f)
{
	rs_producer_free(&f->p);
	free(f->ring);
	free(f->seen);
	free(f);
}

/* Fill and pop until nothing more comes; answer what answer() says (all
 * when NULL). Returns how many positions were handed out. */
static uint64_t pump(struct fixture *f, bool (*answer)(uint64_t), uint64_t now)
{
	struct rs_job job;
	uint64_t n = 0;

	for (int round = 0; round < 100000; round++) {
		rs_producer_fill(&f->p, f->ring, now);
		if (!rs_jobring_pop(f->ring, &job))
			break;
		assert_true(job.begin < job.end);
		assert_true(job.begin >= f->first && job.end <= f->end);
		for (uint64_t q = job.begin; q < job.end; q++) {
			f->seen[q]++;
			n++;
			if (!answer || answer(q))
				rs_producer_answer(&f->p, q);
		}
	}
	return n;
}

/* The checkpoint's runs, as a map of answered positions. */
static void runs_map(const struct fixture *f, uint8_t *map)
{
	struct rs_producer_runs it;
	struct rs_ckrun r;
	uint64_t last = 0;

	memset(map, 0, f->end);
	rs_producer_runs_init(&it, &f->p);
	while (rs_producer_runs_next(&it, &r)) {
		assert_true(r.begin < r.end && r.begin >= last && r.end <= f->end);
		for (uint64_t q = r.begin; q < r.end; q++)
			map[q] = 1;
		last = r.end;
	}
}

static void test_fresh_exactly_once(void **state)
{
	(void)state;
	struct fixture *f = fx_new(100, 100 + 123457, 3);

	assert_int_equal(pump(f, NULL, 0), 123457);
	for (uint64_t q = f->first; q < f->end; q++)
		assert_int_equal(f->seen[q], 1);
	assert_true(rs_producer_handed_all(&f->p, f->ring));
	assert_int_equal(rs_ledger_low(&f->p.ledger), f->end);
	fx_free(f);
}

/* Jobs shrink as the scan nears its end, and the last `slots` positions
 * (what all workers may have in flight) go one to a job, so that no busy
 * worker holds back positions of the last wave of probes. */
static void test_jobs_shrink_to_singles(void **state)
{
	(void)state;
	const uint64_t n = 1048576, slots = 210000;
	struct fixture *f = fx_new_slots(0, n, 12, slots);
	struct rs_job job;
	uint64_t prev = UINT64_MAX, handed = 0, jobs = 0;

	for (int round = 0; round < 2000000; round++) {
		rs_producer_fill(&f->p, f->ring, 0);
		if (!rs_jobring_pop(f->ring, &job))
			break;
		uint64_t size = job.end - job.begin;
		assert_int_equal(job.begin, handed); /* in order, none skipped */
		assert_true(size >= 1 && size <= f->p.chunk && size <= prev);
		if (job.begin >= n - slots)
			assert_int_equal(size, 1);
		else
			assert_true(job.end <= n - slots); /* none straddles the tail */
		for (uint64_t q = job.begin; q < job.end; q++)
			rs_producer_answer(&f->p, q);
		handed = job.end;
		prev = size;
		jobs++;
	}
	assert_int_equal(handed, n);
	/* Chunks of 4,096 for most of the scan: a few thousand jobs before
	 * the tail, then the tail's singles. */
	assert_true(jobs > slots && jobs < slots + 4000);
	fx_free(f);
}

static bool odd(uint64_t q)
{
	return q & 1;
}

/* A dead worker's lease: its answered positions stay answered, only the
 * rest goes out again, once, and is counted as requeued. */
static void test_recheck_only_unanswered(void **state)
{
	(void)state;
	struct fixture *f = fx_new(0, 5000, 2);
	uint8_t *map = malloc(f->end);

	assert_non_null(map);
	assert_int_equal(pump(f, odd, 0), 5000);
	runs_map(f, map);
	for (uint64_t q = 0; q < f->end; q++)
		assert_int_equal(map[q], q & 1);
	assert_int_equal(rs_producer_recheck(&f->p, 1000, 2001), 0);
	assert_int_equal(pump(f, NULL, 0), 501); /* the even ones in [1000, 2001) */
	assert_int_equal(f->p.requeued, 501);
	for (uint64_t q = 1000; q < 2001; q++)
		assert_int_equal(f->seen[q], (q & 1) ? 1 : 2);
	free(map);
	fx_free(f);
}

/* A resumed scan hands out exactly what the checkpoint lacks, and a
 * checkpoint taken at once records exactly what the old one did. */
static void test_resume_hands_out_the_rest(void **state)
{
	(void)state;
	struct fixture *f = fx_new(0, 20000, 2);
	struct rs_ckrun runs[] = {{3000, 3100}, {7000, 9000}, {9001, 9002}, {19990, 20000}};
	struct rs_checkpoint ck = {.first = 0, .end = 20000, .low = 2500, .runs = runs, .nruns = 4};
	uint8_t *map = malloc(f->end);

	assert_non_null(map);
	rs_producer_resume(&f->p, &ck);
	runs_map(f, map);
	for (uint64_t q = 2500; q < f->end; q++) {
		bool in = (q >= 3000 && q < 3100) || (q >= 7000 && q < 9000) || q == 9001 ||
			  q >= 19990;
		assert_int_equal(map[q], in);
	}
	uint64_t n = pump(f, NULL, 0);
	assert_int_equal(n, 20000 - 2500 - 100 - 2000 - 1 - 10);
	for (uint64_t q = 0; q < f->end; q++) {
		bool before = q < 2500 || (q >= 3000 && q < 3100) || (q >= 7000 && q < 9000) ||
			      q == 9001 || q >= 19990;
		assert_int_equal(f->seen[q], before ? 0 : 1);
	}
	assert_int_equal(rs_ledger_low(&f->p.ledger), f->end);
	free(map);
	fx_free(f);
}

static bool below_400(uint64_t q)
{
	return q >= 400;
}

/* Positions lost between a claim and a lease come back through the sweep
 * after 200 ms of idleness, and not while a worker is busy. */
static void test_sweep_finds_lost(void **state)
{
	(void)state;
	struct fixture *f = fx_new(0, 3000, 1);
	const uint64_t ms = 1000000;

	assert_int_equal(pump(f, below_400, 0), 3000);
	rs_producer_sweep(&f->p, f->ring, true, false, 1 * ms);
	rs_producer_sweep(&f->p, f->ring, true, false, 500 * ms);
	assert_int_equal(pump(f, NULL, 500 * ms), 0); /* busy: nothing */
	rs_producer_sweep(&f->p, f->ring, false, false, 600 * ms);
	rs_producer_sweep(&f->p, f->ring, false, false, 700 * ms);
	assert_int_equal(pump(f, NULL, 700 * ms), 0); /* idle for 100 ms only */
	rs_producer_sweep(&f->p, f->ring, false, false, 801 * ms);
	assert_int_equal(pump(f, NULL, 801 * ms), 400);
	for (uint64_t q = 0; q < 3000; q++)
		assert_int_equal(f->seen[q], q < 400 ? 2 : 1);
	rs_producer_sweep(&f->p, f->ring, false, true, 900 * ms);
	rs_producer_sweep(&f->p, f->ring, false, true, 2000 * ms);
	assert_int_equal(pump(f, NULL, 2000 * ms), 0); /* complete: never */
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_exactly_once),
		cmocka_unit_test(test_jobs_shrink_to_singles),
		cmocka_unit_test(test_recheck_only_unanswered),
		cmocka_unit_test(test_resume_hands_out_the_rest),
		cmocka_unit_test(test_sweep_finds_lost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
