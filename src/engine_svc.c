/* The service stage on io_uring: what follows a connect that is open when
 * --banner or --service asks what speaks there (ringscan/svc.h decides;
 * this file moves the bytes).
 *
 * The confirmation keeps the connection: SO_ERROR is read and the error
 * queue drained as engine.c's confirmation does, but without the
 * disconnect between them:
 *
 *   GETSOCKOPT(SO_ERROR) ─link→ RECVMSG(MSG_ERRQUEUE)
 *   [CQE only on failure]       [OP_SVC_CHECK]
 *
 * Then each read is linked to its timeout, and a send to the read after it:
 *
 *   [SEND ─link→] RECV ─link→ LINK_TIMEOUT
 *   [on failure]  [OP_SVC_RECV] [no CQE]
 *
 * into the session's fixed buffer. A session is one of a per-worker pool
 * allocated at start; a slot that finds none free waits in svc_q with its
 * connection open until one is. At the end the record goes to the
 * worker's service ring, the connection is disconnected (connect to
 * AF_UNSPEC: RST, no TIME_WAIT) and the error queue drained, as engine.c's
 * confirmation does, so that a clean socket serves the next probe:
 *
 *   CONNECT(AF_UNSPEC) ─link→ RECVMSG(MSG_ERRQUEUE)
 *   [CQE only on failure]     [OP_SVC_END]
 *
 * and then the open result is published. Nothing here allocates or makes a syscall per
 * probe (the compat mode's plain descriptors excepted). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_int.h"
#include "uring_sock.h"

/* Sessions at most per worker: 4,096 x ~4.4 KiB = 18 MiB. Enough for
 * ~1,300 silent services/s per worker at the default 3 s read timeout;
 * speaking ones are done in a few round trips. */
#define SVC_SESSIONS 4096

int eng_svc_setup(struct engine *e)
{
	const struct rs_engine_params *p = e->p;

	if (!p->svc)
		return 0;
	e->svcout = p->shm->svc[p->id];
	e->nsess = p->concurrency < SVC_SESSIONS ? p->concurrency : SVC_SESSIONS;
	e->sess = calloc(e->nsess, sizeof(*e->sess));
	e->sess_free = calloc(e->nsess, sizeof(*e->sess_free));
	if (!e->svcout || !e->sess || !e->sess_free)
		return -ENOMEM;
	for (uint32_t k = 0; k < e->nsess; k++)
		e->sess_free[k] = e->nsess - 1 - k;
	e->nsess_free = e->nsess;
	if (p->svc->db)
		return rs_svcscratch_create(p->svc->db, &e->scratch);
	return 0;
}

void eng_svc_free(struct engine *e)
{
	free(e->sess);
	free(e->sess_free);
	rs_svcscratch_free(e->scratch);
	e->sess = NULL;
	e->sess_free = NULL;
	e->scratch = NULL;
}

static int fd_of(const struct engine *e, const struct slot *s)
{
	return e->direct ? (int)(s - e->slot) : s->fd;
}

static void use_fd(const struct engine *e, struct io_uring_sqe *sqe)
{
	if (e->direct)
		sqe->flags |= IOSQE_FIXED_FILE;
}

/* The last step of a chain (the step before it is linked): read one
 * entry of the socket's error queue, posting op; the slot waits in st. */
static void drain_errq(struct engine *e, struct slot *s, enum op op, enum slot_state st)
{
	uint32_t i = (uint32_t)(s - e->slot);
	struct io_uring_sqe *sqe = io_uring_get_sqe(&e->ring);

	io_uring_prep_recvmsg(sqe, (int)i, &e->errq, MSG_ERRQUEUE | MSG_DONTWAIT);
	sqe->flags |= IOSQE_FIXED_FILE;
	sqe->user_data = ud(i, op, s->gen);
	s->st = st;
	e->inflight++;
}

void eng_svc_confirm(struct engine *e, struct slot *s)
{
	uint32_t i = (uint32_t)(s - e->slot);

	if (!sq_room(e, 2)) {
		s->attempts--;
		eng_ask_fresh(e, s); /* probe it again from the start */
		return;
	}
	struct io_uring_sqe *sqe = io_uring_get_sqe(&e->ring);
	s->so_error = 0;
	rs__prep_sockopt(sqe, SOCKET_URING_OP_GETSOCKOPT, (int)i, SOL_SOCKET, SO_ERROR,
			 &s->so_error, sizeof(s->so_error));
	sqe->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
	sqe->user_data = ud(i, OP_CONFIRM_READ, s->gen);
	drain_errq(e, s, OP_SVC_CHECK, S_CONFIRM);
}

/* The confirmation ended: drained is what the error queue's read
 * returned (-EAGAIN: empty). Open goes on to the stage; anything else is
 * what engine.c's confirmation would make of it. */
static void checked(struct engine *e, struct slot *s, int drained)
{
	enum rs_state st = RS_ERROR;
	int err = 0;

	if (s->reused && (drained != -EAGAIN || s->so_error)) {
		s->attempts--;
		eng_ask_fresh(e, s); /* an earlier probe's ICMP error (engine.c) */
		return;
	}
	enum rs_verdict v = rs_classify_so_error(s->so_error, &st, &err);
	if (v == RS_V_FINAL && st == RS_OPEN) {
		eng_svc_open(e, s);
		return;
	}
	eng_close_now(e, s);
	if (v == RS_V_TIMEOUT)
		s->attempts--; /* timed_out() counts this attempt */
	eng_settle(e, s, v, st, err);
}

static void finish(struct engine *e, struct slot *s);

/* End a chain just queued (its last SQE linked) with a timeout of ns:
 * the slot is then in the stage with one more chain in flight. */
static void timed(struct engine *e, struct slot *s, uint64_t ns)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&e->ring);

	s->to.tv_sec = (long long)(ns / 1000000000ULL);
	s->to.tv_nsec = (long long)(ns % 1000000000ULL);
	io_uring_prep_link_timeout(sqe, &s->to, 0);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	sqe->user_data = ud((uint32_t)(s - e->slot), OP_TIMEOUT, s->gen);
	s->st = S_SVC;
	e->inflight++;
}

/* Read into the session, linked to the read's timeout; after a send of
 * its reply when with_send. */
static void submit_io(struct engine *e, struct slot *s, bool with_send)
{
	uint32_t i = (uint32_t)(s - e->slot), cap;
	struct rs_svc_sess *ss = &e->sess[s->sess];
	uint64_t ns = rs_svc_wait_ns(ss, e->p->svc, e->now_ns);
	struct io_uring_sqe *sqe;

	if (!sq_room(e, 3)) {
		finish(e, s); /* the kernel takes nothing more now: what we have */
		return;
	}
	s->gen++; /* every read's user_data is its own (the timeout cancels by it) */
	if (with_send) {
		sqe = io_uring_get_sqe(&e->ring);
		/* Never waits: the payloads fit an empty send buffer, and a
		 * socket that is not connected fails at once. */
		io_uring_prep_send(sqe, fd_of(e, s), ss->send, ss->send_len,
				   MSG_NOSIGNAL | MSG_DONTWAIT);
		use_fd(e, sqe);
		sqe->flags |= IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
		sqe->user_data = ud(i, OP_SVC_SEND, s->gen);
	}
	uint8_t *room = rs_svc_room(ss, &cap);
	sqe = io_uring_get_sqe(&e->ring);
	io_uring_prep_recv(sqe, fd_of(e, s), room, cap, 0);
	use_fd(e, sqe);
	sqe->flags |= IOSQE_IO_LINK;
	sqe->user_data = ud(i, OP_SVC_RECV, s->gen);
	timed(e, s, ns);
}

/* Give slot s session k and start listening. */
static void start(struct engine *e, struct slot *s, uint32_t k)
{
	s->sess = k;
	rs_svc_begin(&e->sess[k], e->now_ns, s->ep.port, e->scratch);
	submit_io(e, s, false);
}

void eng_svc_open(struct engine *e, struct slot *s)
{
	uint32_t i = (uint32_t)(s - e->slot);

	eng_answered(e, s);
	s->counted = 1;
	s->ans_wall_ns = e->wall_ns;
	if (e->nsess_free) {
		start(e, s, e->sess_free[--e->nsess_free]);
		return;
	}
	s->st = S_SVC_Q;
	s->next_wait = NO_SLOT;
	if (e->svc_q.n++)
		e->slot[e->svc_q.tail].next_wait = i;
	else
		e->svc_q.head = i;
	e->svc_q.tail = i;
}

/* The stage's record into the worker's service ring (waiting, alive,
 * while the coordinator is behind, as eng_publish does). */
static void put_record(struct engine *e, struct slot *s)
{
	struct rs_svcrec *r;

	while (!(r = rs_svcring_slot(e->svcout))) {
		atomic_store_explicit(&e->w->heartbeat_ns, eng_clock_ns(CLOCK_MONOTONIC),
				      memory_order_relaxed);
		if (atomic_load_explicit(&e->p->shm->ctl->stop, memory_order_relaxed))
			return;
		struct timespec nap = {0, 50000};
		nanosleep(&nap, NULL);
	}
	rs_svc_record(&e->sess[s->sess], e->p->svc->db, s->pos, r);
	rs_svcring_push(e->svcout);
	s->has_svc = 1;
}

/* Give the session to the next slot waiting for one. */
static void next_in_queue(struct engine *e)
{
	bool stop = atomic_load_explicit(&e->p->shm->ctl->drain, memory_order_acquire);

	while (e->svc_q.n && (stop || (e->nsess_free && sq_room(e, 3)))) {
		struct slot *w = &e->slot[e->svc_q.head];
		e->svc_q.head = w->next_wait;
		e->svc_q.n--;
		if (stop) {
			/* A stop: a port waiting for a session goes out now,
			 * open, without service data, rather than be cut off
			 * unanswered when the stop's time is up. */
			eng_close_now(e, w);
			eng_publish(e, w, RS_OPEN, 0);
			continue;
		}
		start(e, w, e->sess_free[--e->nsess_free]);
	}
}

/* The record, the open result right after it, and the session to the
 * next slot waiting for one. The two go out together: a worker that
 * waits for room in its service ring must never hold back results whose
 * records fill it (the coordinator takes records only with their
 * results). Records once went out when the hang-up began and results when
 * it ended: 512 hang-ups in progress filled the ring and the scan hung. */
static void publish(struct engine *e, struct slot *s)
{
	put_record(e, s);
	e->sess_free[e->nsess_free++] = s->sess;
	eng_publish(e, s, RS_OPEN, 0);
	next_in_queue(e);
}

/* The stage is over: its record, then hang up -- direct: disconnect (a
 * RST) and drain the error queue, as the plain confirmation does, so that
 * a clean socket is kept for the next probe, and publish when that ends;
 * compat: close (SO_LINGER {1,0}: a RST) and publish now. The session
 * goes to the next slot waiting for one. */
static void finish(struct engine *e, struct slot *s)
{
	uint32_t i = (uint32_t)(s - e->slot);

	if (!e->direct || !sq_room(e, 2)) {
		eng_close_now(e, s); /* direct: the next SOCKET replaces it */
		publish(e, s);
		return;
	}
	struct io_uring_sqe *sqe = io_uring_get_sqe(&e->ring);
	io_uring_prep_connect(sqe, (int)i, &e->unspec, sizeof(e->unspec));
	sqe->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
	sqe->user_data = ud(i, OP_SVC_DISC, s->gen);
	drain_errq(e, s, OP_SVC_END, S_SVC_END);
}

/* The hang-up ended: drained is what the error queue's read returned
 * (-EAGAIN: empty, the socket is clean; -ECANCELED: the disconnect failed). */
static void ended(struct engine *e, struct slot *s, int drained)
{
	if (drained == -EAGAIN) {
		s->idle_family = s->ep.family;
		s->need_clear = 1; /* the disconnect left ECONNRESET in SO_ERROR */
	} else {
		eng_close_now(e, s);
	}
	publish(e, s);
}

/* nmap's next probe wants a new connection: hang up and connect again
 * on the same socket (direct) or a new one (compat), the connect linked
 * to a first attempt's timeout; OP_SVC_CONN says how it went. */
static void reconnect(struct engine *e, struct slot *s)
{
	uint32_t i = (uint32_t)(s - e->slot), us = rs_rtt_attempt_us(e->rto_us, 1);
	socklen_t alen = s->ep.family == AF_INET6 ? sizeof(s->addr.v6) : sizeof(s->addr.v4);
	struct io_uring_sqe *sqe;

	if (!sq_room(e, 4)) {
		finish(e, s);
		return;
	}
	s->gen++;
	if (e->direct) {
		sqe = io_uring_get_sqe(&e->ring);
		io_uring_prep_connect(sqe, (int)i, &e->unspec, sizeof(e->unspec));
		sqe->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
		sqe->user_data = ud(i, OP_SVC_RDISC, s->gen);
		sqe = io_uring_get_sqe(&e->ring); /* the disconnect's ECONNRESET, read away */
		rs__prep_sockopt(sqe, SOCKET_URING_OP_GETSOCKOPT, (int)i, SOL_SOCKET, SO_ERROR,
				 &s->so_error, sizeof(s->so_error));
		sqe->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
		sqe->user_data = ud(i, OP_SVC_RCLR, s->gen);
	} else {
		close(s->fd);
		s->fd = socket(s->ep.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s->fd < 0) {
			eng_svc_cqe(e, s, OP_SVC_CONN, -errno);
			return;
		}
		setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &e->linger, sizeof(e->linger));
	}
	sqe = io_uring_get_sqe(&e->ring);
	io_uring_prep_connect(sqe, fd_of(e, s), &s->addr.sa, alen);
	use_fd(e, sqe);
	sqe->flags |= IOSQE_IO_LINK;
	sqe->user_data = ud(i, OP_SVC_CONN, s->gen);
	timed(e, s, (uint64_t)us * 1000);
}

/* Do what the session asks for. A graceful stop lets the reads in
 * progress end but starts no new connection for a further probe: the port
 * is published with what it said so far. */
static void act(struct engine *e, struct slot *s, enum rs_svc_step step)
{
	if (step == RS_SVC_RECONNECT &&
	    atomic_load_explicit(&e->p->shm->ctl->drain, memory_order_acquire))
		step = RS_SVC_DONE;
	switch (step) {
	case RS_SVC_READ:
		submit_io(e, s, false);
		break;
	case RS_SVC_SEND:
		submit_io(e, s, true);
		break;
	case RS_SVC_RECONNECT:
		reconnect(e, s);
		break;
	case RS_SVC_DONE:
		finish(e, s);
		break;
	}
}

void eng_svc_cqe(struct engine *e, struct slot *s, enum op op, int res)
{
	if (op == OP_SVC_CHECK) {
		checked(e, s, res);
		return;
	}
	if (op == OP_SVC_END) {
		ended(e, s, res);
		return;
	}
	if (op == OP_SVC_DISC || op == OP_SVC_RDISC || op == OP_SVC_RCLR ||
	    (op == OP_SVC_CONN && res != 0)) {
		/* A step of a hang-up or a reconnection failed (its chain's
		 * last CQE will not come), or the new connection did: the
		 * stage ends with what the service said so far. No further
		 * probe: a host that refuses now would get one SYN per probe. */
		eng_close_now(e, s);
		publish(e, s);
		return;
	}
	if (op == OP_SVC_CONN) {
		submit_io(e, s, true); /* connected: the probe, then its answer */
		return;
	}
	act(e, s, rs_svc_on_read(&e->sess[s->sess], e->p->svc, res, e->now_ns));
}
