/* The service stage on io_uring: its chains (engine_svc.c keeps the
 * sessions and decides what comes next; ringscan/svc.h reads the bytes).
 *
 * The confirmation keeps the connection: SO_ERROR is read and the error
 * queue drained as engine_uring.c's confirmation does, but without the
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
 * into the session's fixed buffer. At the end the connection is
 * disconnected (connect to AF_UNSPEC: RST, no TIME_WAIT) and the error
 * queue drained, as engine_uring.c's confirmation does, so that a clean
 * socket serves the next probe:
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

/* Direct mode: connect said 0 and a service stage follows: confirm it
 * without disconnecting. */
void eng_uring_svc_confirm(struct engine *e, struct slot *s)
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
 * what engine_uring.c's confirmation would make of it. */
static void checked(struct engine *e, struct slot *s, int drained)
{
	enum rs_state st = RS_ERROR;
	int err = 0;

	if (s->reused && (drained != -EAGAIN || s->so_error)) {
		s->attempts--;
		eng_ask_fresh(e, s); /* an earlier probe's ICMP error (engine_uring.c) */
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

/* Read into the session, linked to the read's timeout of ns; after a
 * send of its payload when with_send. */
void eng_uring_svc_io(struct engine *e, struct slot *s, bool with_send, uint64_t ns)
{
	uint32_t i = (uint32_t)(s - e->slot), cap;
	struct rs_svc_sess *ss = &e->sess[s->sess];
	struct io_uring_sqe *sqe;

	if (!sq_room(e, 3)) {
		eng_uring_svc_hangup(e, s); /* the kernel takes nothing more now: what we have */
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

/* The stage is over: hang up -- direct: disconnect (a RST) and drain
 * the error queue, as the plain confirmation does, so that a clean socket
 * is kept for the next probe, and publish when that ends; compat: close
 * (SO_LINGER {1,0}: a RST) and publish now. */
void eng_uring_svc_hangup(struct engine *e, struct slot *s)
{
	uint32_t i = (uint32_t)(s - e->slot);

	if (!e->direct || !sq_room(e, 2)) {
		eng_close_now(e, s); /* direct: the next SOCKET replaces it */
		eng_svc_publish(e, s);
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
	eng_svc_publish(e, s);
}

/* nmap's next probe wants a new connection: hang up and connect again
 * on the same socket (direct) or a new one (compat), the connect linked
 * to a timeout of ns; OP_SVC_CONN says how it went. */
void eng_uring_svc_reconnect(struct engine *e, struct slot *s, uint64_t ns)
{
	uint32_t i = (uint32_t)(s - e->slot);
	socklen_t alen = s->ep.family == AF_INET6 ? sizeof(s->addr.v6) : sizeof(s->addr.v4);
	struct io_uring_sqe *sqe;

	if (!sq_room(e, 4)) {
		eng_uring_svc_hangup(e, s);
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
			eng_svc_connected(e, s, -errno);
			return;
		}
		setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &e->linger, sizeof(e->linger));
	}
	sqe = io_uring_get_sqe(&e->ring);
	io_uring_prep_connect(sqe, fd_of(e, s), &s->addr.sa, alen);
	use_fd(e, sqe);
	sqe->flags |= IOSQE_IO_LINK;
	sqe->user_data = ud(i, OP_SVC_CONN, s->gen);
	timed(e, s, ns);
}

/* May a port waiting for a session start its stage now? Only with room
 * for its first chain: a start that found none would end the stage
 * before a byte was read. */
bool eng_uring_svc_can_start(struct engine *e)
{
	return sq_room(e, 3);
}

/* A completion of the service stage's chains. */
void eng_uring_svc_cqe(struct engine *e, struct slot *s, enum op op, int res)
{
	if (op == OP_SVC_CHECK) {
		checked(e, s, res);
		return;
	}
	if (op == OP_SVC_END) {
		ended(e, s, res);
		return;
	}
	if (op == OP_SVC_DISC || op == OP_SVC_RDISC || op == OP_SVC_RCLR) {
		/* A step of a hang-up or a reconnection failed (its chain's
		 * last CQE will not come): the stage ends with what the
		 * service said so far. */
		eng_svc_connected(e, s, res < 0 ? res : -EIO);
		return;
	}
	if (op == OP_SVC_CONN) {
		eng_svc_connected(e, s, res);
		return;
	}
	eng_svc_read(e, s, res);
}
