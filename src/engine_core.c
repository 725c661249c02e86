/* One worker's probe engine: the core every backend shares.
 *
 * A worker keeps up to --concurrency probes in flight, each in a slot. The
 * core claims jobs from the shared job ring into leases (so that a dead
 * worker's work is handed over), turns positions into targets, decides
 * when each attempt may start (retries later than their timeout, backoffs
 * after local trouble, the congestion controller's rate), and hands every
 * answer to the coordinator through the worker's result ring. A backend
 * (struct eng_backend, engine_int.h) starts attempts and reports how they
 * ended: engine_uring.c (io_uring, direct descriptors or plain ones) and
 * engine_epoll.c (non-blocking sockets and epoll, where io_uring is not
 * allowed). The service stage's sessions are engine_svc.c's. Nothing here
 * allocates, locks or makes a syscall per probe. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cc.h"
#include "engine_int.h"
#include "lossy.h"
#include "ringscan/classify.h"
#include "ringscan/ratelimit.h"
#include "rtt.h"

/* Attempts launched per loop iteration at most. The kernel runs a batch's
 * connects inline, back to back, so a huge batch only queues probes behind
 * each other: on a 131,072-probe refused world, 64 gave ~126k probes/s and
 * an rtt_us median of ~4 ms against ~94k/s and ~72 ms uncapped (c=4096, 2
 * workers, medians of 3 side by side); 16-128 were within noise. Refilling
 * at once instead of waiting for completions brought the 72 ms back: the
 * gain is in keeping in flight only what the targets need. Fast answers
 * are reaped in the iteration that launched them (see WAIT_BATCH), so they
 * settle near a few batches in flight; slow ones accumulate up to
 * --concurrency at LAUNCH_BATCH per iteration. */
#define LAUNCH_BATCH 64

/* Congestion control (cc.h): all workers together start at CC_START_RATE
 * probes/s (a gentle start: ~1 Mbit/s of SYNs), each at CC_START_MIN at
 * least; without --rate each may go up to CC_RATE_MAX. */
#define CC_START_RATE 2000.0
#define CC_START_MIN  250.0
#define CC_RATE_MAX   1e7
#define OK_WINDOW     8192

uint64_t eng_clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sync_counters(struct engine *e)
{
	struct rs_wshared *w = e->w;

	atomic_store_explicit(&w->retries, e->retries, memory_order_relaxed);
	atomic_store_explicit(&w->local_errors, e->local_errors, memory_order_relaxed);
	atomic_store_explicit(&w->inflight, e->inflight, memory_order_relaxed);
	atomic_store_explicit(&w->heartbeat_ns, e->now_ns, memory_order_relaxed);
	atomic_store_explicit(&w->sent1, e->sent1, memory_order_relaxed);
	atomic_store_explicit(&w->launched, e->nsent, memory_order_relaxed);
	atomic_store_explicit(&w->ans1, e->ans1, memory_order_relaxed);
	atomic_store_explicit(&w->tmo1, e->tmo1, memory_order_relaxed);
	for (unsigned k = 1; k <= RS_ATTEMPTS_MAX; k++)
		atomic_store_explicit(&w->ok[k], e->ok[0][k] + e->ok[1][k], memory_order_relaxed);
}

/* The first attempt of slot s ended: tell the controller how. */
static void book(struct engine *e, struct slot *s, void (*how)(struct rs_cc *, uint32_t))
{
	if (!s->booked)
		return;
	s->booked = 0;
	if (e->cc)
		how(e->cc, s->epoch);
}

/* An answer (not a timeout, not local trouble) ended the probe in slot s. */
void eng_answered(struct engine *e, struct slot *s)
{
	if (s->attempts == 1) {
		e->ans1++;
		book(e, s, rs_cc_answered);
	} else if (e->cc) {
		rs_cc_late(e->cc, s->epoch); /* its first attempt was lost */
		rs_cc_retry_answered(e->cc, rs_cc_epoch_of(s->t0_ns));
		if (s->attempts > 2)
			rs_cc_retry_lost(e->cc, s->lost_ep); /* and its last retry */
	}
	e->ok[e->ok_cur][s->attempts < RS_ATTEMPTS_MAX ? s->attempts : RS_ATTEMPTS_MAX]++;
	rs_lossy_note(e->lossy, &s->ep, s->attempts > 1);
	e->answers++;
	e->answers_later += s->attempts > 1;
	if (++e->ok_n == OK_WINDOW) {
		e->ok_cur ^= 1;
		memset(e->ok[e->ok_cur], 0, sizeof(e->ok[e->ok_cur]));
		e->ok_n = 0;
	}
	/* Karn: past the kernel's first SYN retransmit the answer may be to
	 * the retransmit, and the round trip is unknown. */
	if (s->rtt_us < KERNEL_SYN_RTO_MS * 1000)
		rs_rtt_sample(&e->rtt, s->rtt_us);
}

/* Hand one answer to the coordinator, waiting while its ring is full. */
void eng_publish(struct engine *e, struct slot *s, enum rs_state state, int err)
{
	struct rs_result r = {
		.pos = s->pos,
		.ts_ns = s->counted ? s->ans_wall_ns : e->wall_ns,
		.rtt_us = state == RS_FILTERED ? (uint32_t)((e->now_ns - s->t0_ns) / 1000)
					       : s->rtt_us,
		.err = err,
		.ep = s->ep,
		.state = (uint8_t)state,
		.attempts = s->attempts,
		.svc = s->has_svc,
		.worker = (uint16_t)e->p->id,
	};

	if (s->counted)
		; /* counted when it came, before its service stage */
	else if (state == RS_OPEN || state == RS_CLOSED || state == RS_UNREACHABLE)
		eng_answered(e, s);
	else
		book(e, s, rs_cc_gone); /* an error: no word on the path */
	while (!rs_resring_push(e->out, &r)) {
		sync_counters(e);
		/* Waiting on the coordinator is not being wedged. */
		atomic_store_explicit(&e->w->heartbeat_ns, eng_clock_ns(CLOCK_MONOTONIC),
				      memory_order_relaxed);
		if (atomic_load_explicit(&e->p->shm->ctl->stop, memory_order_relaxed))
			break;
		struct timespec nap = {0, 50000};
		nanosleep(&nap, NULL);
	}

	struct lease *l = &e->lease[s->lease];
	if (--l->pending == 0 && l->next == l->end) {
		struct rs_lease *sl = &e->shared_lease[s->lease];
		atomic_store_explicit(&sl->begin, 0, memory_order_relaxed);
		atomic_store_explicit(&sl->end, 0, memory_order_release);
		l->used = 0;
		e->lease_free[e->nlease_free++] = s->lease;
	}
	if (s->fd >= 0 && !s->idle_family) { /* plain descriptors: kept only to reuse */
		close(s->fd);
		s->fd = -1;
	}
	s->st = S_FREE;
	s->counted = s->has_svc = 0;
	e->free_stack[e->nfree++] = (uint32_t)(s - e->slot);
}

/* A first attempt's timeout in controller epochs (cc.h), rounded up. */
static uint32_t lag_of(const struct engine *e, uint32_t rto_us)
{
	uint64_t ns = (uint64_t)rto_us * 1000;

	if (e->user_timeout)
		ns += LINK_SLACK_MS * 1000000ULL;
	return (uint32_t)(ns >> RS_CC_EPOCH_SHIFT) + 1;
}

/* Of this worker's answers, the share that came only after a retry: what
 * a network's share is compared with (lossy.h). Over the whole scan, as
 * the networks' counts are: a burst of loss an hour ago (a slow start's
 * overshoot) is in both or in neither. */
static double later_share(const struct engine *e)
{
	return e->answers ? (double)e->answers_later / (double)e->answers : 0;
}

uint32_t eng_attempt_us(const struct engine *e, const struct slot *s)
{
	return e->p->timeout_ms ? e->rto_us : rs_rtt_attempt_us(e->rto_us, s->attempts + 1u);
}

/* The attempt in slot s is on its way: its bookkeeping. */
void eng_launched(struct engine *e, struct slot *s)
{
	s->gen++;
	s->t0_ns = e->now_ns; /* until stamp_launched() */
	s->st = S_CONNECT;
	e->inflight++;
	e->nsent++;
	if (e->be->stamps_launch)
		s->t0_ns = eng_clock_ns(CLOCK_MONOTONIC);
	else if (e->nlaunched < LAUNCH_BATCH)
		e->launched[e->nlaunched++] = (uint32_t)(s - e->slot);
	if (!s->attempts && !s->booked) {
		s->epoch = rs_cc_epoch_of(e->now_ns);
		s->booked = 1;
		e->sent1++;
		if (e->cc)
			rs_cc_sent(e->cc, s->epoch, lag_of(e, e->rto_us));
	} else if (e->cc) {
		/* Its loss is known once the next attempt is answered: after
		 * its timeout and the wait before that one. */
		rs_cc_resent(e->cc, rs_cc_epoch_of(e->now_ns),
			     lag_of(e, eng_attempt_us(e, s) + rs_retry_gap_us(e->rto_us,
									      s->attempts + 1u,
									      e->attempts)));
	}
}

/* Append slot s, due at due_ns, to list l (S_WAIT slots linked by
 * next_wait); fill() launches it when due, through the rate limiter. */
static void enqueue(struct engine *e, struct slot_list *l, struct slot *s, uint64_t due_ns)
{
	uint32_t i = (uint32_t)(s - e->slot);

	s->st = S_WAIT;
	s->due_ns = due_ns;
	s->next_wait = NO_SLOT;
	if (l->n++)
		e->slot[l->tail].next_wait = i;
	else
		l->head = i;
	l->tail = i;
}

/* Queue the probe in slot s to be launched again at due_ns. */
static void defer(struct engine *e, struct slot *s, uint64_t due_ns)
{
	enqueue(e, &e->wait, s, due_ns);
}

/* Queue the probe in slot s, whose attempt s->attempts timed out, for its
 * next attempt (rtt.h: rs_retry_gap_us), and never before a probe queued
 * earlier after as many attempts, so that each list stays in time order. */
static void queue_retry(struct engine *e, struct slot *s)
{
	unsigned i = s->attempts ? s->attempts - 1u : 0; /* it made one at least */
	struct slot_list *l = &e->retry[i < RS_LOSSY_ATTEMPTS ? i : RS_LOSSY_ATTEMPTS - 1];
	uint64_t due =
		e->now_ns + (uint64_t)rs_retry_gap_us(e->rto_us, s->attempts, e->attempts) * 1000;

	if (l->n && due < e->slot[l->tail].due_ns)
		due = e->slot[l->tail].due_ns;
	enqueue(e, l, s, due);
	e->nretry++;
}

/* This machine is short of something: try the same probe again later. */
void eng_back_off(struct engine *e, struct slot *s)
{
	unsigned shift = s->local_tries < 8 ? s->local_tries : 8;

	if (!s->attempts)
		book(e, s, rs_cc_gone);
	e->local_errors++;
	s->local_tries++;
	defer(e, s, e->now_ns + (1000000ULL << shift)); /* 1 ms … 256 ms */
}

/* The attempts the probe in slot s gets: the largest retry budget since
 * its first attempt (rtt.h: rs_budget_since), or the fixed --retries. */
static unsigned budget_of(const struct engine *e, const struct slot *s)
{
	if (e->p->retries >= 0)
		return e->attempts;
	uint32_t age = rs_cc_epoch_of(e->now_ns) - s->epoch; /* of its first attempt */
	uint64_t first_ns = e->now_ns - ((uint64_t)age << RS_CC_EPOCH_SHIFT);
	unsigned most = rs_budget_since(&e->budgets, first_ns >> RS_BUDGET_TICK_SHIFT,
					e->now_ns >> RS_BUDGET_TICK_SHIFT);
	return most > e->attempts ? most : e->attempts;
}

/* The attempt timed out (its socket is closed or disconnected): try again
 * or call it filtered. */
void eng_timed_out(struct engine *e, struct slot *s)
{
	s->attempts++;
	s->lost_ep = rs_cc_epoch_of(s->t0_ns);
	s->local_tries = 0;
	if (s->attempts == 1) {
		e->tmo1++;
		book(e, s, rs_cc_timed_out);
	}
	/* budget_of() includes e->attempts; asked first, it spares the
	 * history's walk to every attempt but a would-be verdict. */
	if (s->attempts < e->attempts || s->attempts < budget_of(e, s) ||
	    /* Its network answers only sometimes (lossy.h): more attempts. */
	    (e->p->retries < 0 && s->attempts < RS_LOSSY_ATTEMPTS &&
	     rs_lossy_seen(e->lossy, &s->ep, later_share(e)))) {
		e->retries++;
		queue_retry(e, s);
	} else {
		eng_publish(e, s, RS_FILTERED, 0);
	}
}

/* After a timeout, so_error is what SO_ERROR held: an ICMP error that
 * arrived while the connect held the socket lock is kept only there (a
 * soft error; the kernel would act on it at the next SYN retransmit, 1 s
 * on). Measured on ::1 behind an ICMPv6 unreachable: res -ECANCELED at
 * -t 300 while SO_ERROR held EHOSTUNREACH. Such an answer is final. */
void eng_after_timeout(struct engine *e, struct slot *s, int so_error)
{
	enum rs_state st = RS_ERROR;
	int err = 0;

	if (so_error && so_error != ETIMEDOUT &&
	    rs_classify_so_error(so_error, &st, &err) == RS_V_FINAL) {
		s->attempts++;
		s->rtt_us = (uint32_t)((e->now_ns - s->t0_ns) / 1000);
		eng_publish(e, s, st, err);
		return;
	}
	eng_timed_out(e, s);
}

void eng_settle(struct engine *e, struct slot *s, enum rs_verdict v, enum rs_state st, int err)
{
	switch (v) {
	case RS_V_FINAL:
		eng_publish(e, s, st, err);
		break;
	case RS_V_TIMEOUT:
		eng_timed_out(e, s);
		break;
	case RS_V_LOCAL:
		eng_back_off(e, s);
		break;
	case RS_V_CONFIRM:
		break; /* handled by the caller */
	}
}

/* A failed step that is not the connect itself (socket, sockopt). A step
 * that failed with -ECANCELED was cancelled because a later SQE of its
 * chain failed at submission (its own CQE is suppressed): local trouble. */
void eng_step_failed(struct engine *e, struct slot *s, int res)
{
	if (res == -ECANCELED || rs_is_local_error(-res))
		eng_back_off(e, s);
	else
		eng_publish(e, s, RS_ERROR, -res);
}

/* An answer on a reused socket rested on an ICMP error that may belong to
 * an earlier probe (see the top of this file): probe again, at once, on a
 * new socket. The caller has not counted the attempt. */
void eng_ask_fresh(struct engine *e, struct slot *s)
{
	if (!s->attempts)
		book(e, s, rs_cc_gone);
	e->be->close_now(e, s);
	defer(e, s, e->now_ns);
}

/* Next position to probe, claiming a job from the job ring if needed. */
static int next_pos(struct engine *e, uint64_t *pos, uint32_t *lease)
{
	if (e->cur < 0 || e->lease[e->cur].next == e->lease[e->cur].end) {
		struct rs_job job;

		e->cur = -1;
		if (!e->nlease_free || !rs_jobring_pop(e->p->shm->jobs, &job))
			return 0;
		/* Record the claim in the lease table as soon as it is ours. */
		uint32_t k = e->lease_free[--e->nlease_free];
		struct rs_lease *sl = &e->shared_lease[k];
		atomic_store_explicit(&sl->begin, job.begin, memory_order_relaxed);
		atomic_store_explicit(&sl->end, job.end, memory_order_release);
		e->lease[k] = (struct lease){.next = job.begin, .end = job.end, .used = 1};
		e->cur = k;
	}
	struct lease *l = &e->lease[e->cur];
	*pos = l->next++;
	l->pending++;
	*lease = (uint32_t)e->cur;
	return 1;
}

static void set_target(struct engine *e, struct slot *s)
{
	rs_space_pick(e->p->space, rs_perm_at(e->p->perm, s->pos), &s->ep);
	memset(&s->addr, 0, sizeof(s->addr));
	if (s->ep.family == AF_INET6) {
		s->addr.v6.sin6_family = AF_INET6;
		s->addr.v6.sin6_port = htons(s->ep.port);
		memcpy(&s->addr.v6.sin6_addr, s->ep.addr, 16);
	} else {
		s->addr.v4.sin_family = AF_INET;
		s->addr.v4.sin_port = htons(s->ep.port);
		memcpy(&s->addr.v4.sin_addr, s->ep.addr, 4);
	}
}

/* Fill free slots: retries that are due first, then probes due after a
 * backoff, then new positions, at most LAUNCH_BATCH per loop iteration. */
static void fill(struct engine *e)
{
	uint64_t budget, want;

	if (!e->nfree && !e->wait.n && !e->nretry)
		return;
	want = e->nfree + e->wait.n + e->nretry;
	budget = rs_bucket_take(&e->bucket, want < LAUNCH_BATCH ? want : LAUNCH_BATCH, e->now_ns);
	for (unsigned n = 0; n < RS_LOSSY_ATTEMPTS && e->nretry && budget; n++) {
		struct slot_list *l = &e->retry[n];
		while (l->n && budget && e->slot[l->head].due_ns <= e->now_ns) {
			struct slot *s = &e->slot[l->head];
			l->head = s->next_wait;
			l->n--;
			e->nretry--;
			budget--;
			e->be->launch(e, s);
		}
	}
	/* Due backoffs (the list is short unless this machine is starved). */
	for (uint32_t prev = NO_SLOT, i = e->wait.n ? e->wait.head : NO_SLOT;
	     i != NO_SLOT && budget;) {
		struct slot *s = &e->slot[i];
		uint32_t next = s->next_wait;
		if (s->due_ns <= e->now_ns) {
			if (prev == NO_SLOT)
				e->wait.head = next;
			else
				e->slot[prev].next_wait = next;
			if (i == e->wait.tail)
				e->wait.tail = prev;
			e->wait.n--;
			budget--;
			e->be->launch(e, s);
		} else {
			prev = i;
		}
		i = next;
	}
	while (e->nfree && budget) {
		uint64_t pos;
		uint32_t lease;
		if (!next_pos(e, &pos, &lease)) {
			e->no_pos = true;
			break;
		}
		e->no_pos = false;
		struct slot *s = &e->slot[e->free_stack[--e->nfree]];
		s->pos = pos;
		s->lease = lease;
		s->attempts = 0;
		s->local_tries = 0;
		set_target(e, s);
		budget--;
		e->be->launch(e, s);
	}
	rs_bucket_give_back(&e->bucket, budget); /* granted but not used */
}

/* Nothing left to start for now: no position at the last fill, none
 * waiting or to retry, and the coordinator has handed out every job (a
 * dead worker's positions may still come back: fill() then clears it). */
bool eng_no_more_work(const struct engine *e)
{
	return e->no_pos && !e->wait.n && !e->nretry &&
	       atomic_load_explicit(&e->p->shm->ctl->handed_all, memory_order_relaxed);
}

/* The coordinator says when the scan is over: until then a worker with
 * nothing to do waits, since work of a worker that died may come back. */
bool eng_all_done(const struct engine *e)
{
	return atomic_load_explicit(&e->p->shm->ctl->done, memory_order_acquire) != 0;
}

/* A graceful stop: launch nothing more (no new position, no retry, no
 * probe waiting out a backoff), answer what is on the wire, then leave.
 * What was not answered stays unanswered, for --resume. */
bool eng_draining(const struct engine *e)
{
	return atomic_load_explicit(&e->p->shm->ctl->drain, memory_order_acquire) != 0;
}

static void engine_free(struct engine *e)
{
	/* Plain descriptors through the backend first (established ones
	 * with a RST: no TIME_WAIT even at a hard stop), then the backend
	 * (io_uring: its teardown closes every direct socket). */
	for (unsigned i = 0; e->slot && i < e->p->concurrency; i++) {
		if (e->slot[i].fd < 0)
			continue;
		if (e->be)
			e->be->close_now(e, &e->slot[i]);
		else
			close(e->slot[i].fd);
	}
	if (e->be)
		e->be->free(e);
	free(e->slot);
	free(e->free_stack);
	free(e->lease);
	free(e->lease_free);
	free(e->launched);
	free(e->lossy);
	free(e->cc);
	eng_svc_free(e);
}

/* Bursts of at most ~2 ms of the rate (a bottleneck's queue may be small;
 * at 1 ms a loop turn that came late lost credit: 35k/s sent of 42k/s
 * allowed on two busy cores), and never more than a batch. */
static uint64_t burst_of(double rate)
{
	uint64_t b = (uint64_t)(rate / 500);
	return b < 1 ? 1 : b > LAUNCH_BATCH ? LAUNCH_BATCH : b;
}

/* The controller's rate, now: the token bucket's, and shared memory's
 * (the other workers steer towards the mean of them, --stats reports it). */
static void use_rate(struct engine *e)
{
	rs_bucket_set(&e->bucket, (uint64_t)e->cc->rate, burst_of(e->cc->rate), e->now_ns);
	atomic_store_explicit(&e->w->rate, (uint64_t)e->cc->rate, memory_order_relaxed);
}

/* How this worker sends: congestion control with --rate as a ceiling, or
 * a fixed rate (--fixed-rate); timeouts and attempts from -t/--retries or
 * from what is measured. Counters go on from a dead predecessor's. */
static int setup_sending(struct engine *e)
{
	const struct rs_engine_params *p = e->p;
	unsigned n = p->nworkers ? p->nworkers : 1;

	e->start_ns = e->now_ns;
	e->sent1 = atomic_load(&e->w->sent1);
	e->nsent = atomic_load(&e->w->launched);
	e->ans1 = atomic_load(&e->w->ans1);
	e->tmo1 = atomic_load(&e->w->tmo1);
	e->rto_us = p->timeout_ms ? p->timeout_ms * 1000 : RS_RTO_INIT_US;
	e->attempts = p->retries >= 0 ? (unsigned)p->retries + 1 : RS_ATTEMPTS_MAX;
	atomic_store(&e->w->attempts, e->attempts);
	atomic_store(&e->w->rto_us, e->rto_us);
	if (!p->adaptive) {
		/* Bursts of at most ~10 ms of this worker's share, and of a batch. */
		uint64_t burst = p->rate / n / 100;
		rs_bucket_init_share(&e->bucket, p->rate,
				     burst < 1		    ? 1
				     : burst > LAUNCH_BATCH ? LAUNCH_BATCH
							    : burst,
				     n, p->id, e->now_ns);
		atomic_store(&e->w->rate, p->rate / n);
		return 0;
	}
	e->cc = malloc(sizeof(*e->cc));
	if (!e->cc)
		return -ENOMEM;
	double start = CC_START_RATE / n > CC_START_MIN ? CC_START_RATE / n : CC_START_MIN;
	double ceiling = p->rate ? (double)p->rate / n : CC_RATE_MAX;
	rs_cc_init(e->cc, start, ceiling, rs_cc_epoch_of(e->now_ns));
	use_rate(e);
	return 0;
}

/* The controller's rate from the other workers' (rs_cc_share: they share
 * the path), every 16 ms, read from shared memory. A worker is sending
 * while it has something in flight: one with nothing (its work done, or
 * not yet begun) keeps a rate that says nothing of the path now. */
static void share_rate(struct engine *e)
{
	const struct rs_shm *shm = e->p->shm;
	struct rs_cc_peer peer[RS_MAX_WORKERS];
	unsigned n = 0;

	for (unsigned w = 0; w < shm->nworkers && n < RS_MAX_WORKERS; w++) {
		const struct rs_wshared *ws = &shm->w[w];
		if (ws == e->w)
			continue;
		peer[n++] = (struct rs_cc_peer){
			.rate = (double)atomic_load_explicit(&ws->rate, memory_order_relaxed),
			.cuts = atomic_load_explicit(&ws->cuts, memory_order_relaxed),
			.sending = atomic_load_explicit(&ws->inflight, memory_order_relaxed) &&
				   !atomic_load_explicit(&ws->status, memory_order_relaxed),
		};
	}
	if (rs_cc_share(e->cc, peer, n))
		use_rate(e);
	e->share_ns = e->now_ns + 16000000;
}

/* After each batch of completions: the timeout from the round trips seen,
 * the controller's rate, and (every 16 ms) the attempts a probe gets from
 * the loss all workers have seen. */
static void steer(struct engine *e)
{
	const struct rs_engine_params *p = e->p;

	if (!p->timeout_ms)
		e->rto_us = rs_rtt_rto_us(&e->rtt, (e->now_ns - e->start_ns) / 1000);
	if (e->cc) {
		uint32_t rtt_ep =
			(uint32_t)(((uint64_t)e->rtt.srtt_us * 1000) >> RS_CC_EPOCH_SHIFT);
		uint32_t wait_ep =
			(uint32_t)(((uint64_t)e->rtt.max_us * 1000) >> RS_CC_EPOCH_SHIFT);
		if (rs_cc_step(e->cc, rs_cc_epoch_of(e->now_ns), rtt_ep, wait_ep)) {
			use_rate(e);
			atomic_store_explicit(&e->w->cuts, e->cc->cuts, memory_order_relaxed);
		}
	}
	if (e->cc && p->shm->nworkers > 1 && e->now_ns >= e->share_ns)
		share_rate(e);
	if (p->retries < 0 && e->now_ns >= e->budget_ns) {
		uint64_t ok[RS_ATTEMPTS_MAX + 1] = {0};
		for (unsigned w = 0; w < p->shm->nworkers; w++)
			for (unsigned k = 1; k <= RS_ATTEMPTS_MAX; k++)
				ok[k] += atomic_load_explicit(&p->shm->w[w].ok[k],
							      memory_order_relaxed);
		unsigned next = rs_attempts_needed(ok, p->probes);
		rs_budget_note(&e->budgets, e->now_ns >> RS_BUDGET_TICK_SHIFT, e->attempts, next);
		e->attempts = next;
		e->budget_ns = e->now_ns + 16000000;
		atomic_store_explicit(&e->w->attempts, e->attempts, memory_order_relaxed);
	}
	atomic_store_explicit(&e->w->rto_us, e->rto_us, memory_order_relaxed);
}

/* The attempts launched this turn start when they are submitted, which is
 * now: their round trips are measured from here. */
static void stamp_launched(struct engine *e)
{
	if (!e->nlaunched)
		return;
	uint64_t t = eng_clock_ns(CLOCK_MONOTONIC);
	for (uint32_t k = 0; k < e->nlaunched; k++)
		e->slot[e->launched[k]].t0_ns = t;
	e->nlaunched = 0;
}

/* Nothing in flight: no job, or probes backing off. A worker idle turn
 * after turn naps longer (up to 2 ms): 256 idle workers on 2 CPUs napping
 * 0.1 ms kept both busy polling: 3.2-5.3 s for 3,072 probes, now 0.1-0.2 s. */
static void nap(struct engine *e, unsigned *idle)
{
	e->be->flush(e);
	bool waiting = e->wait.n || e->nretry;
	long ns = waiting ? 200000 : 100000;
	if (!waiting && *idle < 5)
		(*idle)++;
	ns <<= waiting ? 0 : *idle - 1;
	struct timespec ts = {0, ns};
	nanosleep(&ts, NULL);
	e->now_ns = eng_clock_ns(CLOCK_MONOTONIC);
}

/* The worker's state before its backend starts: slots, leases. */
static int engine_init(struct engine *e)
{
	const struct rs_engine_params *p = e->p;

	e->w = &p->shm->w[p->id];
	e->out = p->shm->res[p->id];
	e->slot = calloc(p->concurrency, sizeof(*e->slot));
	e->free_stack = calloc(p->concurrency, sizeof(*e->free_stack));
	e->lease = calloc(p->shm->nleases, sizeof(*e->lease));
	e->lease_free = calloc(p->shm->nleases, sizeof(*e->lease_free));
	e->launched = calloc(LAUNCH_BATCH, sizeof(*e->launched));
	e->lossy = calloc(1, sizeof(*e->lossy));
	if (!e->slot || !e->free_stack || !e->lease || !e->lease_free || !e->launched || !e->lossy)
		return -ENOMEM;
	e->shared_lease = rs_shm_leases(p->shm, p->id);
	for (uint32_t k = 0; k < p->shm->nleases; k++)
		e->lease_free[k] = p->shm->nleases - 1 - k;
	e->nlease_free = p->shm->nleases;
	for (unsigned i = 0; i < p->concurrency; i++) {
		e->slot[i].fd = -1;
		e->free_stack[i] = p->concurrency - 1 - i;
	}
	e->nfree = p->concurrency;
	return 0;
}

/* The backend p->mode asks for; under --engine auto, epoll when this
 * worker's io_uring fails although the coordinator's check passed (a
 * filter or a limit applied since, or memory that never came back: the
 * uring backend put the reason in the worker's shared block, which the
 * coordinator says and reports). 0, 1 or -errno as eng_backend.setup. */
static int setup_backend(struct engine *e)
{
	e->be = e->p->mode == RS_ENGINE_EPOLL ? &eng_epoll : &eng_uring;
	int ret = e->be->setup(e);

	if (ret >= 0 || e->be == &eng_epoll || e->p->mode != RS_ENGINE_AUTO)
		return ret;
	e->be->free(e);
	e->be = &eng_epoll;
	return e->be->setup(e);
}

int rs_engine_run(const struct rs_engine_params *p)
{
	struct engine e = {.p = p, .cur = -1};
	int ret = engine_init(&e);

	if (ret < 0)
		goto out;
	ret = setup_backend(&e);
	if (ret != 0) {
		if (ret > 0)
			ret = 0; /* done or stopping before it could start */
		goto out;
	}
	ret = eng_svc_setup(&e);
	if (ret < 0)
		goto out;
	e.now_ns = eng_clock_ns(CLOCK_MONOTONIC);
	ret = setup_sending(&e);
	if (ret < 0)
		goto out;

	unsigned idle = 0; /* turns in a row with nothing in flight */
	while (!atomic_load_explicit(&p->shm->ctl->stop, memory_order_relaxed)) {
		uint64_t wait_ns = 1000000; /* 1 ms: look for new jobs this often */

		e.now_ns = eng_clock_ns(CLOCK_MONOTONIC);
		e.wall_ns = eng_clock_ns(CLOCK_REALTIME); /* answers may come at launch */
		bool drain = eng_draining(&e);
		if (!drain)
			fill(&e);
		stamp_launched(&e);
		if (eng_all_done(&e) || (drain && !e.inflight))
			break;
		/* What is on the wire while this worker waits (for --stats). */
		atomic_store_explicit(&e.w->inflight, e.inflight, memory_order_relaxed);
		uint64_t tok = rs_bucket_wait_ns(&e.bucket, e.now_ns);
		if (tok && tok < wait_ns)
			wait_ns = tok;
		bool busy = e.inflight || e.wait.n || e.nretry;
		if (e.inflight)
			ret = e.be->turn(&e, wait_ns);
		else
			nap(&e, &idle);
		if (ret < 0)
			goto out;
		if (busy)
			idle = 0;
		steer(&e);
		sync_counters(&e);
	}
	ret = 0;
out:
	sync_counters(&e);
	engine_free(&e);
	return ret;
}
