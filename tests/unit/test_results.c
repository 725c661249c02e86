/* Unit tests for src/results.c: the single-producer single-consumer result
 * ring. Push until full, pop order, pop with max, space, wraparound, and a
 * forked producer streaming 1,000,000 records to the parent. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ringscan/results.h"

static struct rs_resring *ring_new(uint32_t cap)
{
	void *p = NULL;
	size_t sz = rs_resring_size(cap);

	assert_true(sz >= sizeof(struct rs_resring) + cap * sizeof(struct rs_result));
	assert_int_equal(posix_memalign(&p, 64, sz), 0);
	memset(p, 0xa5, sz); /* init must not rely on zeroed memory */
	rs_resring_init(p, cap);
	return p;
}

/* A record whose every field is derived from k. */
static struct rs_result rec_of(uint64_t k)
{
	struct rs_result r;

	memset(&r, 0, sizeof(r));
	r.pos = k;
	r.ts_ns = 1700000000000000000ULL + k * 1237;
	r.rtt_us = (uint32_t)(k * 2654435761u);
	r.err = (int32_t)(k % 200);
	r.ep.family = (uint8_t)(k & 1 ? 2 : 10);
	r.ep.port = (uint16_t)(k * 31 + 1);
	for (int i = 0; i < 16; i++)
		r.ep.addr[i] = (uint8_t)(k >> (i % 8 * 8)) ^ (uint8_t)i;
	r.state = (uint8_t)(k % RS_NSTATES);
	r.attempts = (uint8_t)(1 + k % 5);
	r.worker = (uint16_t)(k % 977);
	return r;
}

static int rec_matches(const struct rs_result *got, uint64_t k)
{
	struct rs_result w = rec_of(k);
	return got->pos == w.pos && got->ts_ns == w.ts_ns && got->rtt_us == w.rtt_us &&
	       got->err == w.err && got->ep.family == w.ep.family && got->ep.port == w.ep.port &&
	       !memcmp(got->ep.addr, w.ep.addr, 16) && got->state == w.state &&
	       got->attempts == w.attempts && got->worker == w.worker;
}

static void check_rec(const struct rs_result *got, uint64_t k)
{
	if (!rec_matches(got, k))
		fail_msg("record %" PRIu64 ": content differs (got pos %" PRIu64 ")", k, got->pos);
}

static void test_empty(void **state)
{
	(void)state;
	struct rs_resring *r = ring_new(8);
	struct rs_result out[4];

	assert_int_equal(rs_resring_space(r), 8);
	assert_int_equal(rs_resring_pop(r, out, 4), 0);
	assert_int_equal(rs_resring_pop(r, out, 0), 0);
	assert_int_equal(rs_resring_space(r), 8);
	free(r);
}

/* Push until full; the refused push changes nothing; pop in order. */
static void test_fill_drain(void **state)
{
	(void)state;
	static const uint32_t caps[] = {1, 2, 8, 256};

	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		uint32_t cap = caps[c];
		struct rs_resring *r = ring_new(cap);
		struct rs_result *out = calloc(cap + 1, sizeof(*out));
		struct rs_result x;

		assert_non_null(out);
		for (uint64_t lap = 0; lap < 3; lap++) {
			for (uint64_t k = 0; k < cap; k++) {
				assert_int_equal(rs_resring_space(r), cap - k);
				x = rec_of(lap * cap + k);
				assert_true(rs_resring_push(r, &x));
			}
			assert_int_equal(rs_resring_space(r), 0);
			x = rec_of(123456789);
			assert_false(rs_resring_push(r, &x));
			assert_false(rs_resring_push(r, &x));
			assert_int_equal(rs_resring_space(r), 0);
			/* max larger than what is there: get exactly cap */
			assert_int_equal(rs_resring_pop(r, out, cap + 1), cap);
			for (uint64_t k = 0; k < cap; k++)
				check_rec(&out[k], lap * cap + k);
			assert_int_equal(rs_resring_space(r), cap);
			assert_int_equal(rs_resring_pop(r, out, cap + 1), 0);
		}
		free(out);
		free(r);
	}
}

/* pop(max) returns at most max, in order; pop(0) takes nothing. */
static void test_pop_max(void **state)
{
	(void)state;
	struct rs_resring *r = ring_new(16);
	struct rs_result out[16], x;

	for (uint64_t k = 0; k < 10; k++) {
		x = rec_of(k);
		assert_true(rs_resring_push(r, &x));
	}
	memset(out, 0, sizeof(out));
	assert_int_equal(rs_resring_pop(r, out, 0), 0);
	assert_int_equal(out[0].pos, 0);
	assert_int_equal(rs_resring_space(r), 6);
	assert_int_equal(rs_resring_pop(r, out, 3), 3);
	for (uint64_t k = 0; k < 3; k++)
		check_rec(&out[k], k);
	/* out beyond max is untouched */
	memset(out, 0xee, sizeof(out));
	assert_int_equal(rs_resring_pop(r, out, 1), 1);
	check_rec(&out[0], 3);
	assert_int_equal(out[1].pos, 0xeeeeeeeeeeeeeeeeULL);
	assert_int_equal(rs_resring_space(r), 10);
	assert_int_equal(rs_resring_pop(r, out, 16), 6);
	for (uint64_t k = 0; k < 6; k++)
		check_rec(&out[k], 4 + k);
	assert_int_equal(rs_resring_pop(r, out, 16), 0);
	free(r);
}

/* Many laps, random batch sizes on both sides, against a counter model. */
static void test_wraparound_model(void **state)
{
	(void)state;
	enum { CAP = 32 };
	struct rs_resring *r = ring_new(CAP);
	struct rs_result out[CAP + 8], x;
	uint64_t pushed = 0, popped = 0, s = 0x9e3779b97f4a7c15ULL;

	for (int op = 0; op < 300000; op++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		if (s & (1ULL << 33)) {
			unsigned k = (unsigned)(s % (CAP + 3));
			for (unsigned i = 0; i < k; i++) {
				x = rec_of(pushed);
				bool ok = rs_resring_push(r, &x);
				assert_int_equal(ok, pushed - popped < CAP);
				pushed += ok;
			}
		} else {
			size_t max = (size_t)(s % (CAP + 8));
			size_t want = pushed - popped < max ? (size_t)(pushed - popped) : max;
			size_t n = rs_resring_pop(r, out, max);
			assert_int_equal(n, want);
			for (size_t i = 0; i < n; i++)
				check_rec(&out[i], popped++);
		}
		assert_int_equal(rs_resring_space(r), CAP - (pushed - popped));
	}
	assert_true(pushed > 1000 * CAP);
	free(r);
}

/* --- cross-process ---------------------------------------------------- */

enum { XRECS = 1000000, XCAP = 1024 };

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

__attribute__((noreturn)) static void producer(struct rs_resring *r)
{
	unsigned full = 0;

	alarm(30);
	for (uint64_t k = 0; k < XRECS;) {
		struct rs_result x = rec_of(k);
		if (rs_resring_push(r, &x))
			k++;
		else if ((++full & 63) == 0) /* spin first: refill a slot as soon as it frees */
			sched_yield();
	}
	_exit(0);
}

static void test_cross_process(void **state)
{
	(void)state;
	size_t rsz = rs_resring_size(XCAP);
	struct rs_resring *r =
		mmap(NULL, rsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct rs_result out[300];
	uint64_t got = 0, deadline, spins = 0, batches = 0;
	pid_t pid;
	int st;

	assert_true(r != MAP_FAILED);
	rs_resring_init(r, XCAP);
	alarm(60);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		producer(r);
	deadline = now_ms() + 30000;
	while (got < XRECS) {
		size_t max = 1 + (size_t)(got % 300); /* vary the batch size */
		size_t n = rs_resring_pop(r, out, max);
		assert_true(n <= max);
		for (size_t i = 0; i < n; i++, got++)
			if (!rec_matches(&out[i], got)) {
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
				fail_msg("record %" PRIu64 " of the stream: got pos %" PRIu64
					 ", or its content differs",
					 got, out[i].pos);
			}
		batches += n > 0;
		if (!n) {
			if ((++spins & 1023) == 0 && now_ms() > deadline) {
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
				fail_msg("stream stalled after %" PRIu64 " records", got);
			}
			sched_yield();
		}
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	alarm(0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* nothing beyond the stream, and the ring is empty again */
	assert_int_equal(rs_resring_pop(r, out, 300), 0);
	assert_int_equal(rs_resring_space(r), XCAP);
	assert_true(batches > 0);
	munmap(r, rsz);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),	      cmocka_unit_test(test_fill_drain),
		cmocka_unit_test(test_pop_max),	      cmocka_unit_test(test_wraparound_model),
		cmocka_unit_test(test_cross_process),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
