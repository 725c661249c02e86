/* One worker's probe engine on io_uring.
 *
 * Every probe lives in a slot; slot i owns entry i of the ring's registered
 * (direct) file table, so the per-process fd limit is not the concurrency
 * limit and no fd is ever allocated. A slot keeps its socket from probe to
 * probe: creating and destroying a socket is a third of the kernel's work
 * for a refused probe. The first probe of a slot creates it:
 *
 *   SOCKET(direct, slot) ─link→ [SETSOCKOPT(TCP_USER_TIMEOUT)] ─link→ CONNECT ─link→ LINK_TIMEOUT
 *   [CQE only on failure]        [CQE only on failure]                [the CQE]     [no CQE]
 *
 * and the next ones reuse it: after a refusal the socket is closed and the
 * error read (the next connect on it resets it, at the cost of one more
 * internal retry in the kernel), so the next probe is just
 *
 *   CONNECT ─link→ LINK_TIMEOUT
 *   [the CQE]     [no CQE]
 *
 * A connect that returns 0 is confirmed by reading SO_ERROR (an ICMP
 * unreachable can complete it with 0 while the socket is still in
 * SYN_SENT); a timed-out one reads SO_ERROR for an ICMP error kept there.
 * Then a connect to AF_UNSPEC disconnects the socket: from ESTABLISHED it
 * sends RST and leaves no TIME_WAIT (what SO_LINGER {1,0} and close would
 * do), from SYN_SENT it stops the SYN retransmits. A disconnect leaves
 * ECONNRESET in SO_ERROR, which the next probe reads away first (OP_CLEAR):
 *
 *   GETSOCKOPT(SO_ERROR) ─link→ CONNECT(AF_UNSPEC) [─link→ RECVMSG(MSG_ERRQUEUE)]
 *   [CQE only on failure]       [the CQE if last]      [the CQE]
 *
 * The error queue is why a confirmation drains it. An ICMP error that
 * reaches a socket in SYN_SENT is queued there whatever IP_RECVERR says
 * (kernel 6.18), and neither a disconnect nor a new connect removes it: it
 * keeps the socket readable for errors, and every later connect on it
 * "completes" at once with 0 (on some 6.10-6.15 kernels with ECONNRESET).
 * An ICMP error can also reach a socket while it is being read or
 * disconnected, or stay in its soft error after a refusal, and an ICMP
 * port unreachable reads as ECONNREFUSED just like a RST. So an answer on
 * a reused socket that rests on an ICMP error (SO_ERROR set, an entry in
 * the error queue, ECONNRESET) may belong to an earlier probe: the probe
 * is asked again on a new socket, as the same attempt (ask_fresh). Only
 * ECONNREFUSED and clean confirmations and timeouts keep a socket.
 *
 * The CQE a probe acts on is its chain's last, or the failure of a step
 * before it (which suppresses the rest of the chain's CQEs), so nothing of
 * the chain still runs when the slot takes its next probe. After anything else
 * (an error, a failed step) the slot forgets its socket, and the next
 * SOCKET into the slot replaces the old file (which closes it); the ring's
 * teardown closes the rest. Nothing here allocates, locks or makes a
 * syscall per probe; submissions and completions go in batches through
 * io_uring_enter().
 *
 * user_data = generation << 32 | op << 28 | slot. The generation changes at
 * every attempt, so a late CQE of an earlier attempt is recognised and
 * dropped, and every in-flight connect has a unique user_data (the link
 * timeout cancels by it).
 *
 * The compat mode (kernels without direct sockets or socket uring_cmd, or
 * --engine compat) uses a plain fd from socket(2) per probe, sockopt
 * syscalls and SO_LINGER {1,0} close; the connect and its timeout still go
 * through the ring. */
#include <errno.h>
#include <stdbool.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cc.h"
#include "engine_int.h"
#include "lossy.h"
#include "ringscan/classify.h"
#include "ringscan/ratelimit.h"
#include "rtt.h"
#include "uring_probe.h"
#include "uring_sock.h"
#include "uring_wait.h"

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

/* Without the kernel's min-wait: completions to wait for at most (before
 * the 1 ms timeout). One enter posts at most max(20, wait_nr) completions,
 * so this also caps what an iteration reaps (see docs/architecture.md,
 * "The loop"). Waiting for
 * more than a batch's fast answers makes every iteration sleep the full
 * millisecond when most of what is in flight will time out: on a mixed
 * world (5% filtered, 1 s timeout) 32 gave 36.1k probes/s against 30.9k
 * with 128, refused-only worlds within noise (medians of 3, side by side). */
#define WAIT_MAX 32
/* With the kernel's min-wait (see uring_wait.h): wait for up to WAIT_BATCH
 * completions, but once MIN_WAIT_US from the start of the wait have passed,
 * no longer than there is one. Reaping
 * every fast answer of an iteration keeps refused probes at ~770 in flight
 * whatever --concurrency: at -c 4096 on 262,144 refused probes 0.513 ->
 * 0.363 s, at -c 64 0.379 -> 0.365 s; mixed 262,144 at -c 19000 3.07 ->
 * 2.81 s (hyperfine medians, side by side). */
#define WAIT_BATCH  256
#define MIN_WAIT_US 50

/* Timeouts the kernel can enforce itself. Cancelling a connect when its
 * linked timeout fires costs a walk of io_uring's cancel hash (256 chains
 * at most): with tens of thousands of connects armed, io_poll_find took
 * 18% of all samples on a filtered world (perf record -a). With
 * TCP_USER_TIMEOUT set, a SYN that gets no answer fails the connect with
 * ETIMEDOUT from the retransmit timer, at the timeout, and the link
 * timeout (LINK_SLACK_MS later) is only a safety net. The first SYN
 * retransmit comes after the initial RTO (1 s) whatever the user timeout,
 * so shorter timeouts stay with the link timeout alone. Measured with 4 x
 * 19,000 in flight to dropped SYNs: 11.23 s before, 9.49 s after for
 * 524,288 probes (hyperfine, medians of 3, side by side). The option is
 * set once, when the slot's socket is made, and outlives disconnects. */
/* Congestion control (cc.h): all workers together start at CC_START_RATE
 * probes/s (a gentle start: ~1 Mbit/s of SYNs), each at CC_START_MIN at
 * least; without --rate each may go up to CC_RATE_MAX. */
#define CC_START_RATE 2000.0
#define CC_START_MIN  250.0
#define CC_RATE_MAX   1e7
#define OK_WINDOW     8192

#define KERNEL_SYN_RTO_MS 1000
#define LINK_SLACK_MS	  250

static void on_cqe(struct engine *e, const struct io_uring_cqe *cqe);
static void back_off(struct engine *e, struct slot *s);

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
	if (s->fd >= 0) {
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

/* The timeout of the attempt slot s is about to start: -t's, or the
 * measured one doubled for each attempt before (rtt.h). */
static struct __kernel_timespec *attempt_timeout(struct engine *e, struct slot *s)
{
	if (e->p->timeout_ms)
		return e->user_timeout ? &e->safety_timeout : &e->timeout;
	uint32_t us = rs_rtt_attempt_us(e->rto_us, s->attempts + 1u);
	s->to.tv_sec = us / 1000000;
	s->to.tv_nsec = (long long)(us % 1000000) * 1000;
	return &s->to;
}

/* Start one attempt of the probe in slot s. */
static void launch(struct engine *e, struct slot *s)
{
	uint32_t i = (uint32_t)(s - e->slot);
	socklen_t alen = s->ep.family == AF_INET6 ? sizeof(s->addr.v6) : sizeof(s->addr.v4);
	struct io_uring_sqe *sqe;

	bool reuse = s->idle_family == s->ep.family;
	unsigned need = !e->direct ? 2 : reuse ? 2 + s->need_clear : 3 + !!e->user_timeout;
	if (!sq_room(e, need)) {
		back_off(e, s);
		return;
	}
	s->gen++;
	s->t0_ns = e->now_ns; /* until stamp_launched() */
	s->st = S_CONNECT;
	s->idle_family = 0; /* until the attempt ends cleanly */
	e->inflight++;
	if (e->nlaunched < LAUNCH_BATCH)
		e->launched[e->nlaunched++] = i;
	if (!s->attempts && !s->booked) {
		s->epoch = rs_cc_epoch_of(e->now_ns);
		s->booked = 1;
		e->sent1++;
		if (e->cc)
			rs_cc_sent(e->cc, s->epoch, lag_of(e, e->rto_us));
	}
	if (e->direct && reuse) {
		if (s->need_clear) {
			sqe = io_uring_get_sqe(&e->ring);
			rs__prep_sockopt(sqe, SOCKET_URING_OP_GETSOCKOPT, (int)i, SOL_SOCKET,
					 SO_ERROR, &s->so_error, sizeof(s->so_error));
			sqe->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
			sqe->user_data = ud(i, OP_CLEAR, s->gen);
			s->need_clear = 0;
		}
		s->reused = 1;
		sqe = io_uring_get_sqe(&e->ring);
		io_uring_prep_connect(sqe, (int)i, &s->addr.sa, alen);
		sqe->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK;
	} else if (e->direct) {
		s->need_clear = 0;
		s->reused = 0;
		sqe = io_uring_get_sqe(&e->ring);
		io_uring_prep_socket_direct(sqe, s->ep.family, SOCK_STREAM, 0, i, 0);
		sqe->flags |= IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
		sqe->user_data = ud(i, OP_SOCKET, s->gen);
		if (e->user_timeout) {
			sqe = io_uring_get_sqe(&e->ring);
			rs__prep_sockopt(sqe, SOCKET_URING_OP_SETSOCKOPT, (int)i, IPPROTO_TCP,
					 TCP_USER_TIMEOUT, &e->user_timeout,
					 sizeof(e->user_timeout));
			sqe->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
			sqe->user_data = ud(i, OP_USERTO, s->gen);
		}
		sqe = io_uring_get_sqe(&e->ring);
		io_uring_prep_connect(sqe, (int)i, &s->addr.sa, alen);
		sqe->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK;
	} else {
		if (s->fd >= 0)
			close(s->fd);
		s->fd = socket(s->ep.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s->fd < 0) {
			/* Reported like the direct path's SOCKET CQE would be. */
			struct io_uring_cqe fake = {.user_data = ud(i, OP_SOCKET, s->gen),
						    .res = -errno};
			on_cqe(e, &fake);
			return;
		}
		sqe = io_uring_get_sqe(&e->ring);
		io_uring_prep_connect(sqe, s->fd, &s->addr.sa, alen);
		sqe->flags |= IOSQE_IO_LINK;
	}
	sqe->user_data = ud(i, OP_CONNECT, s->gen);
	sqe = io_uring_get_sqe(&e->ring);
	io_uring_prep_link_timeout(sqe, attempt_timeout(e, s), 0);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	sqe->user_data = ud(i, OP_TIMEOUT, s->gen);
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

/* Queue the probe in slot s for its next attempt, later than its timeout
 * by a quarter of the current one (and never before a retry queued
 * earlier, so that the list stays in time order): a burst of losses is
 * not retried as the same burst. */
static void queue_retry(struct engine *e, struct slot *s)
{
	uint64_t due = e->now_ns + (uint64_t)e->rto_us * 250;

	if (e->retry.n && due < e->slot[e->retry.tail].due_ns)
		due = e->slot[e->retry.tail].due_ns;
	enqueue(e, &e->retry, s, due);
}

/* This machine is short of something: try the same probe again later. */
static void back_off(struct engine *e, struct slot *s)
{
	unsigned shift = s->local_tries < 8 ? s->local_tries : 8;

	if (!s->attempts)
		book(e, s, rs_cc_gone);
	e->local_errors++;
	s->local_tries++;
	defer(e, s, e->now_ns + (1000000ULL << shift)); /* 1 ms … 256 ms */
}

/* Close the socket of slot s now, when it may still be in SYN_SENT and no
 * disconnect follows: the kernel would go on retransmitting SYNs until the
 * slot is reused. The close is not linked to anything, so it runs at
 * submission, before any later SOCKET into the same slot; its CQE is posted
 * only on failure, with this attempt's generation, and then ignored. */
void eng_close_now(struct engine *e, struct slot *s)
{
	uint32_t i = (uint32_t)(s - e->slot);

	s->idle_family = 0;
	if (!e->direct) {
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		return;
	}
	if (!sq_room(e, 1))
		return; /* the next SOCKET into the slot will replace it */
	struct io_uring_sqe *sqe = io_uring_get_sqe(&e->ring);
	io_uring_prep_close_direct(sqe, i);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	sqe->user_data = ud(i, OP_CLOSE, s->gen);
}

/* The attempt timed out (its socket is closed or disconnected): try again
 * or call it filtered. */
static void timed_out(struct engine *e, struct slot *s)
{
	s->attempts++;
	s->local_tries = 0;
	if (s->attempts == 1) {
		e->tmo1++;
		book(e, s, rs_cc_timed_out);
	}
	if (s->attempts < e->attempts) {
		e->retries++;
		queue_retry(e, s);
	} else if (e->p->retries < 0 && s->attempts < RS_LOSSY_ATTEMPTS &&
		   rs_lossy_seen(e->lossy, &s->ep, later_share(e))) {
		/* Its network answers only sometimes (lossy.h): more attempts,
		 * each further from the last, up to 1 s apart. */
		unsigned extra = s->attempts - e->attempts;
		uint64_t us = (uint64_t)e->rto_us << (extra < 5 ? extra + 1 : 6);
		e->retries++;
		defer(e, s, e->now_ns + (us < 1000000 ? us : 1000000) * 1000);
	} else {
		eng_publish(e, s, RS_FILTERED, 0);
	}
}

/* After a timeout, so_error is what SO_ERROR held: an ICMP error that
 * arrived while the connect held the socket lock is kept only there (a
 * soft error; the kernel would act on it at the next SYN retransmit, 1 s
 * on). Measured on ::1 behind an ICMPv6 unreachable: res -ECANCELED at
 * -t 300 while SO_ERROR held EHOSTUNREACH. Such an answer is final. */
static void after_timeout(struct engine *e, struct slot *s, int so_error)
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
	timed_out(e, s);
}

/* SO_ERROR into s->so_error, then disconnect the socket, then (with
 * drain_op) drain one entry of its error queue; the chain's last step posts
 * its CQE as op (see the top of this file). */
static void read_and_disconnect(struct engine *e, struct slot *s, enum op read_op, enum op op,
				enum op drain_op)
{
	uint32_t i = (uint32_t)(s - e->slot);
	struct io_uring_sqe *sqe = io_uring_get_sqe(&e->ring);

	s->so_error = 0;
	rs__prep_sockopt(sqe, SOCKET_URING_OP_GETSOCKOPT, (int)i, SOL_SOCKET, SO_ERROR,
			 &s->so_error, sizeof(s->so_error));
	sqe->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
	sqe->user_data = ud(i, read_op, s->gen);
	sqe = io_uring_get_sqe(&e->ring);
	io_uring_prep_connect(sqe, (int)i, &e->unspec, sizeof(e->unspec));
	sqe->flags |= IOSQE_FIXED_FILE;
	sqe->user_data = ud(i, op, s->gen);
	if (drain_op) {
		sqe->flags |= IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
		sqe = io_uring_get_sqe(&e->ring);
		io_uring_prep_recvmsg(sqe, (int)i, &e->errq, MSG_ERRQUEUE | MSG_DONTWAIT);
		sqe->flags |= IOSQE_FIXED_FILE;
		sqe->user_data = ud(i, drain_op, s->gen);
	}
	e->inflight++;
}

/* The connect timed out: read SO_ERROR first (see after_timeout). */
static void check_soft_error(struct engine *e, struct slot *s)
{
	if (!e->direct) {
		int v = 0;
		socklen_t len = sizeof(v);
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &v, &len))
			v = 0;
		eng_close_now(e, s);
		after_timeout(e, s, v);
		return;
	}
	if (!sq_room(e, 2)) {
		eng_close_now(e, s);
		timed_out(e, s);
		return;
	}
	/* No drain: a socket with a queued ICMP error does not time out (its
	 * connect "completes" at once), and one in SO_ERROR is not reused. */
	read_and_disconnect(e, s, OP_SOFTERR_READ, OP_SOFTERR, 0);
	s->st = S_SOFTERR;
}

void eng_settle(struct engine *e, struct slot *s, enum rs_verdict v, enum rs_state st, int err)
{
	switch (v) {
	case RS_V_FINAL:
		eng_publish(e, s, st, err);
		break;
	case RS_V_TIMEOUT:
		timed_out(e, s);
		break;
	case RS_V_LOCAL:
		back_off(e, s);
		break;
	case RS_V_CONFIRM:
		break; /* handled by the caller */
	}
}

/* connect returned 0: confirm with SO_ERROR before calling it open. */
static void confirm(struct engine *e, struct slot *s)
{
	enum rs_state st = RS_ERROR;
	int err = 0;

	if (!e->direct) {
		socklen_t len = sizeof(s->so_error);
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &s->so_error, &len))
			s->so_error = errno;
		setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &e->linger, sizeof(e->linger));
		enum rs_verdict v = rs_classify_so_error(s->so_error, &st, &err);
		if (v == RS_V_FINAL && st == RS_OPEN && e->p->svc) {
			eng_svc_open(e, s);
			return;
		}
		if (v == RS_V_TIMEOUT)
			s->attempts--; /* timed_out() counts this attempt */
		eng_settle(e, s, v, st, err);
		return;
	}
	if (e->p->svc) {
		eng_svc_confirm(e, s);
		return;
	}
	if (!sq_room(e, 3)) {
		eng_close_now(e, s);
		back_off(e, s); /* probe it again from the start */
		return;
	}
	read_and_disconnect(e, s, OP_CONFIRM_READ, OP_CONFIRM_DISC, OP_CONFIRM);
	s->st = S_CONFIRM;
}

/* A failed step that is not the connect itself (socket, sockopt). A step
 * that failed with -ECANCELED was cancelled because a later SQE of its
 * chain failed at submission (its own CQE is suppressed): local trouble. */
static void step_failed(struct engine *e, struct slot *s, int res)
{
	if (res == -ECANCELED || rs_is_local_error(-res))
		back_off(e, s);
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
	eng_close_now(e, s);
	defer(e, s, e->now_ns);
}

/* The confirmation chain ended: s->so_error holds SO_ERROR, drained what
 * the drain of the error queue returned (-EAGAIN: it was empty; anything
 * else when it held an entry or did not run). */
static void confirm_done(struct engine *e, struct slot *s, int drained)
{
	enum rs_state st = RS_ERROR;
	int err = 0;

	if (s->reused && (drained != -EAGAIN || s->so_error)) {
		s->attempts--;
		eng_ask_fresh(e, s);
		return;
	}
	if (drained == -EAGAIN && !s->so_error) {
		s->idle_family = s->ep.family;
		s->need_clear = 1;
	}
	enum rs_verdict v = rs_classify_so_error(s->so_error, &st, &err);
	if (v == RS_V_TIMEOUT)
		s->attempts--; /* timed_out() counts this attempt */
	eng_settle(e, s, v, st, err);
}

/* Dispatch one completion to its slot's state machine. */
static void on_cqe(struct engine *e, const struct io_uring_cqe *cqe)
{
	uint32_t i = (uint32_t)(cqe->user_data & SLOT_MASK);
	enum op op = (enum op)((cqe->user_data >> SLOT_BITS) & 0x1f);
	enum rs_state st = RS_ERROR;
	enum rs_verdict v;
	struct slot *s;
	int err = 0;

	if (i >= e->p->concurrency)
		return;
	s = &e->slot[i];
	if ((uint32_t)(cqe->user_data >> 32) != s->gen)
		return; /* a late CQE of an earlier attempt */

	/* The state a slot is in while each op of its chain is pending. */
	static const uint8_t pending_in[OP_MAX + 1] = {
		[OP_SOCKET] = S_CONNECT,       [OP_USERTO] = S_CONNECT,
		[OP_CLEAR] = S_CONNECT,	       [OP_CONNECT] = S_CONNECT,
		[OP_CONFIRM_READ] = S_CONFIRM, [OP_CONFIRM_DISC] = S_CONFIRM,
		[OP_CONFIRM] = S_CONFIRM,      [OP_SOFTERR_READ] = S_SOFTERR,
		[OP_SOFTERR] = S_SOFTERR,      [OP_SVC_CHECK] = S_CONFIRM,
		[OP_SVC_RECV] = S_SVC,	       [OP_SVC_SEND] = S_SVC,
		[OP_SVC_END] = S_SVC_END,      [OP_SVC_CONN] = S_SVC,
		[OP_SVC_DISC] = S_SVC_END,     [OP_SVC_RDISC] = S_SVC,
		[OP_SVC_RCLR] = S_SVC,
	};
	if (op == OP_TIMEOUT || op == OP_CLOSE || op > OP_MAX || s->st != pending_in[op])
		return;
	/* The steps before a chain's last post a CQE only on failure, which
	 * cancels the rest of the chain and suppresses its CQEs (those that
	 * still come find the slot in another state, or another generation,
	 * and are dropped). */
	bool step = op == OP_SOCKET || op == OP_USERTO || op == OP_CLEAR || op == OP_CONFIRM_READ ||
		    op == OP_CONFIRM_DISC || op == OP_SOFTERR_READ || op == OP_SVC_SEND ||
		    op == OP_SVC_DISC || op == OP_SVC_RDISC || op == OP_SVC_RCLR;
	if (step && cqe->res >= 0)
		return;
	e->inflight--;

	switch (op) {
	case OP_SOCKET:
	case OP_USERTO:
	case OP_CLEAR:
		step_failed(e, s, cqe->res);
		break;
	case OP_CONFIRM_READ:
		eng_close_now(e, s); /* may be established: not disconnected */
		step_failed(e, s, cqe->res);
		break;
	case OP_CONFIRM_DISC:
		eng_close_now(e, s);
		confirm_done(e, s, cqe->res);
		break;
	case OP_SOFTERR_READ:
		eng_close_now(e, s); /* not disconnected: may still be in SYN_SENT */
		after_timeout(e, s, 0);
		break;
	case OP_CONNECT:
		s->rtt_us = (uint32_t)((e->now_ns - s->t0_ns) / 1000);
		v = rs_classify_connect(cqe->res, &st, &err);
		if (v == RS_V_CONFIRM) {
			s->attempts++;
			s->local_tries = 0;
			confirm(e, s);
		} else if (v == RS_V_FINAL) {
			if (s->reused && cqe->res == -ECONNRESET) {
				eng_ask_fresh(e, s); /* see the top of this file */
				break;
			}
			/* Refused: the kernel has read the error; the socket
			 * is closed and ready for the next probe. */
			if (e->direct && cqe->res == -ECONNREFUSED)
				s->idle_family = s->ep.family;
			s->attempts++;
			eng_publish(e, s, st, err);
		} else if (v == RS_V_TIMEOUT) {
			check_soft_error(e, s);
		} else {
			eng_settle(e, s, v, st, err);
		}
		break;
	case OP_SOFTERR:
		if (s->reused && s->so_error && s->so_error != ETIMEDOUT) {
			eng_ask_fresh(e, s); /* see the top of this file */
			break;
		}
		if (cqe->res < 0)
			eng_close_now(e, s); /* not disconnected */
		else if (!s->so_error) {
			s->idle_family = s->ep.family;
			s->need_clear = 1;
		}
		after_timeout(e, s, s->so_error);
		break;
	case OP_CONFIRM:
		confirm_done(e, s, cqe->res);
		break;
	case OP_SVC_CHECK:
	case OP_SVC_RECV:
	case OP_SVC_SEND:
	case OP_SVC_END:
	case OP_SVC_CONN:
	case OP_SVC_DISC:
	case OP_SVC_RDISC:
	case OP_SVC_RCLR:
		eng_svc_cqe(e, s, op, cqe->res);
		break;
	default:
		break;
	}
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

	if (!e->nfree && !e->wait.n && !e->retry.n)
		return;
	want = e->nfree + e->wait.n + e->retry.n;
	budget = rs_bucket_take(&e->bucket, want < LAUNCH_BATCH ? want : LAUNCH_BATCH, e->now_ns);
	while (e->retry.n && budget && e->slot[e->retry.head].due_ns <= e->now_ns) {
		struct slot *s = &e->slot[e->retry.head];
		e->retry.head = s->next_wait;
		e->retry.n--;
		budget--;
		launch(e, s);
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
			launch(e, s);
		} else {
			prev = i;
		}
		i = next;
	}
	while (e->nfree && budget) {
		uint64_t pos;
		uint32_t lease;
		if (!next_pos(e, &pos, &lease))
			break;
		struct slot *s = &e->slot[e->free_stack[--e->nfree]];
		s->pos = pos;
		s->lease = lease;
		s->attempts = 0;
		s->local_tries = 0;
		set_target(e, s);
		budget--;
		launch(e, s);
	}
	rs_bucket_give_back(&e->bucket, budget); /* granted but not used */
}

/* The coordinator says when the scan is over: until then a worker with
 * nothing to do waits, since work of a worker that died may come back. */
static int all_done(struct engine *e)
{
	return atomic_load_explicit(&e->p->shm->ctl->done, memory_order_acquire) != 0;
}

/* A graceful stop: launch nothing more (no new position, no retry, no
 * probe waiting out a backoff), answer what is on the wire, then leave.
 * What was not answered stays unanswered, for --resume. */
static int draining(struct engine *e)
{
	return atomic_load_explicit(&e->p->shm->ctl->drain, memory_order_acquire) != 0;
}

/* Does this kernel have what the direct path needs? */
static int probe_direct(struct engine *e)
{
	struct io_uring_probe *pr = io_uring_get_probe_ring(&e->ring);
	int ok = pr && io_uring_opcode_supported(pr, IORING_OP_SOCKET) &&
		 io_uring_opcode_supported(pr, IORING_OP_URING_CMD);
	int fd = -1, val = -1, res = -1;

	if (pr)
		io_uring_free_probe(pr);
	if (!ok)
		return 0;
	/* SOCKET_URING_OP_GETSOCKOPT exists from 6.7: ask it once. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&e->ring);
	struct io_uring_cqe *cqe;
	rs__prep_sockopt(sqe, SOCKET_URING_OP_GETSOCKOPT, fd, SOL_SOCKET, SO_ERROR, &val,
			 sizeof(val));
	sqe->user_data = 0;
	if (io_uring_submit_and_wait(&e->ring, 1) >= 0 && !io_uring_peek_cqe(&e->ring, &cqe)) {
		res = cqe->res;
		io_uring_cqe_seen(&e->ring, cqe);
	}
	close(fd);
	return res == (int)sizeof(int) && val == 0;
}

/* Between two tries of a ring setup that found no memory: the worker is
 * alive (the watchdog must not take it for wedged), and a scan that
 * ended or is stopping needs no ring. */
static bool setup_keep_on(void *arg)
{
	struct engine *e = arg;

	atomic_store_explicit(&e->w->heartbeat_ns, eng_clock_ns(CLOCK_MONOTONIC),
			      memory_order_relaxed);
	return !all_done(e) && !draining(e) &&
	       !atomic_load_explicit(&e->p->shm->ctl->stop, memory_order_relaxed);
}

/* The ring, sized and set up as rs_uring_check() checked it could be (see
 * uring_probe.c: shrunk to fit RLIMIT_MEMLOCK where it must be). ENOMEM
 * below the limit is memory other rings of this user are still releasing
 * (a scan that just ended, the coordinator's probe): local trouble, waited
 * out up to 5 s like any other. Returns 0, 1 when the scan no longer needs
 * this worker, or -errno. */
static int setup_ring(struct engine *e)
{
	unsigned conc = e->p->concurrency, features = 0;
	struct rs_ring_size sz = rs_ring_want(conc);
	int ret;

	rs_ring_fit(&sz, e->p->nworkers); /* at worst the smallest: try it */
	ret = rs_ring_setup_wait(&e->ring, &sz, &features, 5000, setup_keep_on, e);
	if (ret == -ECANCELED)
		return 1;
	if (ret < 0)
		return ret;
	e->ring_ok = 1;
	e->min_wait = (features & RS_FEAT_MIN_TIMEOUT) != 0;
	e->direct = e->p->mode != RS_ENGINE_COMPAT && probe_direct(e);
	if (e->direct) {
		ret = io_uring_register_files_sparse(&e->ring, conc);
		if (ret < 0)
			e->direct = 0;
	}
	return 0;
}

static void engine_free(struct engine *e)
{
	if (e->ring_ok)
		io_uring_queue_exit(&e->ring); /* closes every direct socket */
	if (e->slot)
		for (unsigned i = 0; i < e->p->concurrency; i++)
			if (e->slot[i].fd >= 0)
				close(e->slot[i].fd);
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

/* A fixed -t: one timespec for every attempt, or TCP_USER_TIMEOUT with a
 * link timeout behind it (see KERNEL_SYN_RTO_MS). */
static void setup_fixed_timeout(struct engine *e)
{
	const struct rs_engine_params *p = e->p;

	e->rto_us = p->timeout_ms * 1000;
	e->timeout.tv_sec = p->timeout_ms / 1000;
	e->timeout.tv_nsec = (long long)(p->timeout_ms % 1000) * 1000000;
	if (e->direct && p->timeout_ms >= KERNEL_SYN_RTO_MS) {
		uint64_t ms = (uint64_t)p->timeout_ms + LINK_SLACK_MS;
		e->user_timeout = p->timeout_ms;
		e->safety_timeout.tv_sec = (long long)(ms / 1000);
		e->safety_timeout.tv_nsec = (long long)(ms % 1000) * 1000000;
	}
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
	e->ans1 = atomic_load(&e->w->ans1);
	e->tmo1 = atomic_load(&e->w->tmo1);
	if (p->timeout_ms)
		setup_fixed_timeout(e);
	else
		e->rto_us = RS_RTO_INIT_US;
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
	rs_bucket_set(&e->bucket, (uint64_t)e->cc->rate, burst_of(e->cc->rate), e->now_ns);
	atomic_store(&e->w->rate, (uint64_t)e->cc->rate);
	return 0;
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
			rs_bucket_set(&e->bucket, (uint64_t)e->cc->rate, burst_of(e->cc->rate),
				      e->now_ns);
			atomic_store_explicit(&e->w->rate, (uint64_t)e->cc->rate,
					      memory_order_relaxed);
			atomic_store_explicit(&e->w->cuts, e->cc->cuts, memory_order_relaxed);
		}
	}
	if (p->retries < 0 && e->now_ns >= e->budget_ns) {
		uint64_t ok[RS_ATTEMPTS_MAX + 1] = {0};
		for (unsigned w = 0; w < p->shm->nworkers; w++)
			for (unsigned k = 1; k <= RS_ATTEMPTS_MAX; k++)
				ok[k] += atomic_load_explicit(&p->shm->w[w].ok[k],
							      memory_order_relaxed);
		e->attempts = rs_attempts_needed(ok, p->probes);
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

int rs_engine_run(const struct rs_engine_params *p)
{
	struct engine e = {.p = p, .cur = -1};
	int ret;

	e.w = &p->shm->w[p->id];
	e.out = p->shm->res[p->id];
	e.linger = (struct linger){.l_onoff = 1, .l_linger = 0};
	e.unspec.sa_family = AF_UNSPEC;
	e.slot = calloc(p->concurrency, sizeof(*e.slot));
	e.free_stack = calloc(p->concurrency, sizeof(*e.free_stack));
	e.lease = calloc(p->shm->nleases, sizeof(*e.lease));
	e.lease_free = calloc(p->shm->nleases, sizeof(*e.lease_free));
	e.launched = calloc(LAUNCH_BATCH, sizeof(*e.launched));
	e.lossy = calloc(1, sizeof(*e.lossy));
	ret = -ENOMEM;
	if (!e.slot || !e.free_stack || !e.lease || !e.lease_free || !e.launched || !e.lossy)
		goto out;
	e.shared_lease = rs_shm_leases(p->shm, p->id);
	for (uint32_t k = 0; k < p->shm->nleases; k++)
		e.lease_free[k] = p->shm->nleases - 1 - k;
	e.nlease_free = p->shm->nleases;
	for (unsigned i = 0; i < p->concurrency; i++) {
		e.slot[i].fd = -1;
		e.free_stack[i] = p->concurrency - 1 - i;
	}
	e.nfree = p->concurrency;
	ret = setup_ring(&e);
	if (ret > 0)
		ret = 0; /* done or stopping before it had a ring */
	if (ret < 0 || !e.ring_ok)
		goto out;
	atomic_store(&e.w->engine, e.direct ? RS_ENGINE_AUTO : RS_ENGINE_COMPAT);
	ret = eng_svc_setup(&e);
	if (ret < 0)
		goto out;
	e.now_ns = eng_clock_ns(CLOCK_MONOTONIC);
	ret = setup_sending(&e);
	if (ret < 0)
		goto out;

	unsigned idle = 0; /* turns in a row with nothing in flight */
	while (!atomic_load_explicit(&p->shm->ctl->stop, memory_order_relaxed)) {
		struct io_uring_cqe *cqe;
		unsigned head, n = 0, wait_nr = 0;
		uint64_t wait_ns = 1000000; /* 1 ms: look for new jobs this often */

		e.now_ns = eng_clock_ns(CLOCK_MONOTONIC);
		int drain = draining(&e);
		if (!drain)
			fill(&e);
		stamp_launched(&e);
		if (all_done(&e) || (drain && !e.inflight))
			break;
		/* What is on the wire while this worker waits (for --stats). */
		atomic_store_explicit(&e.w->inflight, e.inflight, memory_order_relaxed);
		if (e.inflight && e.min_wait) {
			wait_nr = e.inflight < WAIT_BATCH ? e.inflight : WAIT_BATCH;
		} else if (e.inflight) {
			wait_nr = e.inflight / 8;
			wait_nr = wait_nr < 1 ? 1 : wait_nr > WAIT_MAX ? WAIT_MAX : wait_nr;
		}
		uint64_t tok = rs_bucket_wait_ns(&e.bucket, e.now_ns);
		if (tok && tok < wait_ns)
			wait_ns = tok;
		struct __kernel_timespec ts = {.tv_sec = 0, .tv_nsec = (long long)wait_ns};
		if (wait_nr && e.min_wait) {
			ret = rs__submit_and_wait_min(&e.ring, wait_nr, &ts, MIN_WAIT_US);
			if (ret == -EINVAL)
				e.min_wait = 0; /* refused before submitting: wait the old way */
		} else if (wait_nr) {
			ret = io_uring_submit_and_wait_timeout(&e.ring, &cqe, wait_nr, &ts, NULL);
		} else {
			/* Nothing in flight: no job, or probes backing off. A
			 * worker idle turn after turn naps longer (up to 2 ms):
			 * 256 idle workers on 2 CPUs napping 0.1 ms kept both
			 * busy polling: 3.2-5.3 s for 3,072 probes, now 0.1-0.2 s. */
			io_uring_submit(&e.ring);
			bool waiting = e.wait.n || e.retry.n;
			long ns = waiting ? 200000 : 100000;
			if (!waiting && idle < 5)
				idle++;
			ns <<= waiting ? 0 : idle - 1;
			struct timespec nap = {0, ns};
			nanosleep(&nap, NULL);
		}
		if (e.inflight || e.wait.n || e.retry.n)
			idle = 0;
		e.now_ns = eng_clock_ns(CLOCK_MONOTONIC);
		e.wall_ns = eng_clock_ns(CLOCK_REALTIME);
		io_uring_for_each_cqe (&e.ring, head, cqe) {
			on_cqe(&e, cqe);
			n++;
		}
		io_uring_cq_advance(&e.ring, n);
		steer(&e);
		sync_counters(&e);
		if (*e.ring.cq.koverflow) {
			/* The kernel dropped completions (it could not allocate
			 * overflow entries): some probes can never be answered.
			 * Fail loudly rather than wait for them forever. */
			ret = -EOVERFLOW;
			goto out;
		}
	}
	ret = 0;
out:
	sync_counters(&e);
	engine_free(&e);
	return ret;
}
