/* The io_uring backend of the engine (engine_core.c is the rest).
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
 * through the ring. The service stage's chains are engine_uring_svc.c's. */
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

#include "engine_int.h"
#include "ringscan/classify.h"
#include "uring_probe.h"
#include "uring_sock.h"
#include "uring_wait.h"

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
 * set once, when the slot's socket is made, and outlives disconnects
 * (KERNEL_SYN_RTO_MS, LINK_SLACK_MS: engine_int.h). */

static void on_cqe(struct engine *e, const struct io_uring_cqe *cqe);

/* The timeout of the attempt slot s is about to start (eng_attempt_us),
 * as the kernel takes it. */
static struct __kernel_timespec *attempt_timeout(struct engine *e, struct slot *s)
{
	if (e->p->timeout_ms)
		return e->user_timeout ? &e->safety_timeout : &e->timeout;
	uint32_t us = eng_attempt_us(e, s);
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
		eng_back_off(e, s);
		return;
	}
	eng_launched(e, s);
	s->idle_family = 0; /* until the attempt ends cleanly */
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
		eng_after_timeout(e, s, v);
		return;
	}
	if (!sq_room(e, 2)) {
		eng_close_now(e, s);
		eng_timed_out(e, s);
		return;
	}
	/* No drain: a socket with a queued ICMP error does not time out (its
	 * connect "completes" at once), and one in SO_ERROR is not reused. */
	read_and_disconnect(e, s, OP_SOFTERR_READ, OP_SOFTERR, 0);
	s->st = S_SOFTERR;
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
		eng_uring_svc_confirm(e, s);
		return;
	}
	if (!sq_room(e, 3)) {
		eng_close_now(e, s);
		eng_back_off(e, s); /* probe it again from the start */
		return;
	}
	read_and_disconnect(e, s, OP_CONFIRM_READ, OP_CONFIRM_DISC, OP_CONFIRM);
	s->st = S_CONFIRM;
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
		eng_step_failed(e, s, cqe->res);
		break;
	case OP_CONFIRM_READ:
		eng_close_now(e, s); /* may be established: not disconnected */
		eng_step_failed(e, s, cqe->res);
		break;
	case OP_CONFIRM_DISC:
		eng_close_now(e, s);
		confirm_done(e, s, cqe->res);
		break;
	case OP_SOFTERR_READ:
		eng_close_now(e, s); /* not disconnected: may still be in SYN_SENT */
		eng_after_timeout(e, s, 0);
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
		eng_after_timeout(e, s, s->so_error);
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
		eng_uring_svc_cqe(e, s, op, cqe->res);
		break;
	default:
		break;
	}
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
	return !eng_all_done(e) && !eng_draining(e) &&
	       !atomic_load_explicit(&e->p->shm->ctl->stop, memory_order_relaxed);
}

/* The ring, sized and set up as rs_uring_check() checked it could be (see
 * uring_probe.c: shrunk to fit RLIMIT_MEMLOCK where it must be), and a
 * no-op through it, as that check did. ENOMEM below the limit is memory
 * other rings of this user are still releasing (a scan that just ended,
 * the coordinator's probe): local trouble, waited out up to 5 s like any
 * other. What fails for good although the check passed (a seccomp filter
 * or a lower limit applied since) is said in the worker's shared block
 * (engine_reason) for the core's fallback and the coordinator. Returns 0,
 * 1 when the scan no longer needs this worker, or -errno. */
static int setup_ring(struct engine *e)
{
	unsigned conc = e->p->concurrency, features = 0;
	struct rs_ring_size sz = rs_ring_want(conc), least = sz;
	char *why = e->w->engine_reason;
	int ret;

	if (rs_ring_fit(&least, 1) < 0) { /* not one ring: never waited for */
		rs_uring_worker_reason(ENOMEM, false, true, why, sizeof(e->w->engine_reason));
		return -ENOMEM;
	}
	rs_ring_fit(&sz, e->p->nworkers); /* at worst the smallest: try it */
	ret = rs_ring_setup_wait(&e->ring, &sz, &features, 5000, setup_keep_on, e);
	if (ret == -ECANCELED)
		return 1;
	if (ret < 0) {
		rs_uring_worker_reason(-ret, false, false, why, sizeof(e->w->engine_reason));
		return ret;
	}
	ret = rs_ring_try_enter(&e->ring);
	if (ret < 0) {
		io_uring_queue_exit(&e->ring);
		rs_uring_worker_reason(-ret, true, false, why, sizeof(e->w->engine_reason));
		return ret;
	}
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

/* A fixed -t: one timespec for every attempt, or TCP_USER_TIMEOUT with a
 * link timeout behind it (see KERNEL_SYN_RTO_MS). */
static void setup_fixed_timeout(struct engine *e)
{
	const struct rs_engine_params *p = e->p;

	e->timeout.tv_sec = p->timeout_ms / 1000;
	e->timeout.tv_nsec = (long long)(p->timeout_ms % 1000) * 1000000;
	if (e->direct && p->timeout_ms >= KERNEL_SYN_RTO_MS) {
		uint64_t ms = (uint64_t)p->timeout_ms + LINK_SLACK_MS;
		e->user_timeout = p->timeout_ms;
		e->safety_timeout.tv_sec = (long long)(ms / 1000);
		e->safety_timeout.tv_nsec = (long long)(ms % 1000) * 1000000;
	}
}

/* The ring, the direct file table, the fixed timeouts. */
static int uring_setup(struct engine *e)
{
	int ret = setup_ring(e);

	if (ret != 0)
		return ret;
	e->linger = (struct linger){.l_onoff = 1, .l_linger = 0};
	e->unspec.sa_family = AF_UNSPEC;
	if (e->p->timeout_ms)
		setup_fixed_timeout(e);
	atomic_store(&e->w->engine, e->direct ? RS_ENGINE_URING : RS_ENGINE_COMPAT);
	return 0;
}

static void uring_free(struct engine *e)
{
	if (e->ring_ok)
		io_uring_queue_exit(&e->ring); /* closes every direct socket */
	e->ring_ok = 0;
}

static void uring_flush(struct engine *e)
{
	io_uring_submit(&e->ring);
}

/* Submit, wait for a batch of completions (at most wait_ns), dispatch
 * them. */
static int uring_turn(struct engine *e, uint64_t wait_ns)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0, wait_nr;

	if (e->min_wait) {
		wait_nr = e->inflight < WAIT_BATCH ? e->inflight : WAIT_BATCH;
	} else {
		wait_nr = e->inflight / 8;
		wait_nr = wait_nr < 1 ? 1 : wait_nr > WAIT_MAX ? WAIT_MAX : wait_nr;
	}
	struct __kernel_timespec ts = {.tv_sec = 0, .tv_nsec = (long long)wait_ns};
	if (e->min_wait) {
		if (rs__submit_and_wait_min(&e->ring, wait_nr, &ts, MIN_WAIT_US) == -EINVAL)
			e->min_wait = 0; /* refused before submitting: wait the old way */
	} else {
		io_uring_submit_and_wait_timeout(&e->ring, &cqe, wait_nr, &ts, NULL);
	}
	e->now_ns = eng_clock_ns(CLOCK_MONOTONIC);
	e->wall_ns = eng_clock_ns(CLOCK_REALTIME);
	io_uring_for_each_cqe (&e->ring, head, cqe) {
		on_cqe(e, cqe);
		n++;
	}
	io_uring_cq_advance(&e->ring, n);
	/* The kernel dropped completions (it could not allocate overflow
	 * entries): some probes can never be answered. Fail loudly rather
	 * than wait for them forever. */
	return *e->ring.cq.koverflow ? -EOVERFLOW : 0;
}

const struct eng_backend eng_uring = {
	.name = "uring",
	.setup = uring_setup,
	.free = uring_free,
	.launch = launch,
	.close_now = eng_close_now,
	.turn = uring_turn,
	.flush = uring_flush,
	.svc_io = eng_uring_svc_io,
	.svc_reconnect = eng_uring_svc_reconnect,
	.svc_hangup = eng_uring_svc_hangup,
	.svc_can_start = eng_uring_svc_can_start,
};
