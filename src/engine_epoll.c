/* The epoll backend of the engine (engine_core.c is the rest), for where
 * io_uring is not allowed: seccomp profiles (Docker, containerd, k8s
 * RuntimeDefault), kernel.io_uring_disabled, old kernels.
 *
 * A slot owns a non-blocking socket, registered once with epoll
 * (edge-triggered, data = the slot) and kept from probe to probe, as the
 * io_uring backend keeps its direct descriptors: creating, registering
 * and closing a socket per probe is most of a refused probe's cost. An
 * attempt is a connect(); its answer is the socket's next event, read by
 * connecting again (connect_outcome); its timeout is the slot's entry in
 * a timer heap, so no syscall is made per timer. Then a connect to
 * AF_UNSPEC disconnects the socket (from ESTABLISHED a RST and no
 * TIME_WAIT, from SYN_SENT no more SYN retransmits) and SO_ERROR is read
 * twice to clear what that leaves (hang_up), so the next connect starts
 * clean.
 *
 * Syscalls per probe: refused 2 (the connects), open 5 (and the
 * disconnect and the two SO_ERROR reads), timed out 5 (SO_ERROR for a
 * soft error instead of the second connect), plus a share of
 * epoll_pwait2.
 *
 * What io_uring needs confirmations for does not arise here: an event is
 * only acted on with SO_ERROR and the socket's state at the time
 * epoll_wait reported it (epoll polls the socket again then), so a socket
 * in SYN_SENT that is readable for errors (an ICMP error queued by an
 * earlier probe) is not taken for connected; an error queue that has an
 * entry is drained and the socket not reused. SO_ERROR read after every
 * answer leaves no stale error for the next probe.
 *
 * The service stage reads with recv(MSG_DONTWAIT) when an event says input
 * is there (or may be: a read is tried at once after the connect's event
 * said so); the read's timeout is the slot's timer. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine_int.h"

/* Events reaped per epoll_wait at most. */
#define EPOLL_BATCH 256
/* A timer handled this long after it was due was late: the worker waited
 * for a core (connect_timed_out). */
#define LATE_NS	 2000000ULL
#define EV_INPUT (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)

static uint32_t idx(const struct engine *e, const struct slot *s)
{
	return (uint32_t)(s - e->slot);
}

static void arm(struct engine *e, struct slot *s, uint64_t ns)
{
	rs_timerheap_set(&e->ep.timers, idx(e, s), e->now_ns + ns);
}

static void disarm(struct engine *e, struct slot *s)
{
	rs_timerheap_clear(&e->ep.timers, idx(e, s));
}

/* The round trip of slot s's attempt, answered now: from the turn's clock,
 * or a fresh one for an answer within launch() (its start was stamped
 * after the turn's clock was read). */
static uint32_t rtt_us(const struct engine *e, const struct slot *s)
{
	uint64_t now = e->now_ns >= s->t0_ns ? e->now_ns : eng_clock_ns(CLOCK_MONOTONIC);

	return (uint32_t)((now - s->t0_ns) / 1000);
}

/* SO_ERROR, read (and so cleared); an error of getsockopt itself is
 * returned as the socket's. */
static int so_error(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	return getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &len) ? errno : v;
}

/* Close the slot's socket: with SO_LINGER {1,0} when it may be
 * established, so that a RST goes and no TIME_WAIT stays. */
static void epoll_close_now(struct engine *e, struct slot *s)
{
	disarm(e, s);
	s->idle_family = 0;
	if (s->fd < 0)
		return;
	if (s->st == S_SVC || s->st == S_SVC_Q || s->st == S_SVC_CONN)
		setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &e->linger, sizeof(e->linger));
	close(s->fd);
	s->fd = -1;
}

/* Slot s's probe is over and its socket clean: kept for the slot's next
 * probe, or closed now when this worker will start no more (closing the
 * sockets of thousands of slots at exit, while the coordinator waits,
 * took ~10 ms on mixed 4096; now it happens while the last probes wait
 * out their timeouts). */
static void keep(struct engine *e, struct slot *s)
{
	if (eng_no_more_work(e))
		epoll_close_now(e, s);
	else
		s->idle_family = s->ep.family;
}

/* Disconnect the slot's socket and clear what that leaves in SO_ERROR:
 * then it is kept for the next probe; if that fails, or its error queue
 * had an entry, it is closed. SO_ERROR is read twice: the first read
 * returns the disconnect's ECONNRESET, the second clears a soft error (an
 * ICMP error kept while the connection was established), which a later
 * probe would otherwise take for its own. */
static void hang_up(struct engine *e, struct slot *s)
{
	disarm(e, s);
	if (!s->errq && connect(s->fd, &e->unspec, sizeof(e->unspec)) == 0) {
		so_error(s->fd);
		so_error(s->fd);
		keep(e, s);
		return;
	}
	epoll_close_now(e, s);
}

/* A new socket for slot s, registered: 0 or -errno. */
static int new_socket(struct engine *e, struct slot *s)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
				 .data.u32 = idx(e, s)};

	if (s->fd >= 0)
		close(s->fd);
	s->errq = 0;
	s->fd = socket(s->ep.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	if (epoll_ctl(e->ep.fd, EPOLL_CTL_ADD, s->fd, &ev)) {
		int err = -errno;
		close(s->fd);
		s->fd = -1;
		return err;
	}
	return 0;
}

/* Out of descriptors: close the idle sockets that free slots keep for
 * their next probe. Otherwise, with every descriptor kept by a free slot
 * and no new position left for them, a slot that needs a socket would
 * back off for ever (a 64-descriptor limit did exactly that). Returns
 * whether any was closed. A rare path: a walk of the free slots. */
static bool release_idle(struct engine *e)
{
	bool any = false;

	for (uint32_t k = 0; k < e->nfree; k++) {
		struct slot *f = &e->slot[e->free_stack[k]];
		if (f->fd >= 0) {
			close(f->fd);
			f->fd = -1;
			f->idle_family = 0;
			any = true;
		}
	}
	return any;
}

static void connected(struct engine *e, struct slot *s, uint32_t events);

/* The connect of slot s said res at once (0, or -errno other than
 * EINPROGRESS). */
static void connect_done(struct engine *e, struct slot *s, int res)
{
	enum rs_state st = RS_ERROR;
	int err = 0;

	if (res == 0) {
		connected(e, s, EPOLLOUT);
		return;
	}
	e->inflight--;
	s->rtt_us = rtt_us(e, s);
	enum rs_verdict v = rs_classify_connect(res, &st, &err);
	if (v == RS_V_FINAL) {
		s->attempts++;
		if (res == -ECONNREFUSED)
			keep(e, s); /* closed, error read: clean */
		eng_publish(e, s, st, err);
		return;
	}
	epoll_close_now(e, s);
	if (v == RS_V_TIMEOUT) {
		eng_timed_out(e, s); /* counts the attempt */
	} else {
		eng_settle(e, s, v, st, err); /* local trouble: back off */
	}
}

/* Start one attempt of the probe in slot s. */
static void epoll_launch(struct engine *e, struct slot *s)
{
	socklen_t alen = s->ep.family == AF_INET6 ? sizeof(s->addr.v6) : sizeof(s->addr.v4);
	bool reuse = s->fd >= 0 && s->idle_family == s->ep.family;

	eng_launched(e, s);
	s->idle_family = 0; /* until the attempt ends cleanly */
	s->reused = reuse;
	if (!reuse) {
		int ret = new_socket(e, s);
		/* Out of descriptors, or of epoll watches (fs.epoll.max_user_watches:
		 * ENOSPC): this machine's limits, never a port's state. */
		bool out = ret == -EMFILE || ret == -ENFILE || ret == -ENOSPC;
		if (out && release_idle(e))
			ret = new_socket(e, s);
		if (ret == -ENOSPC)
			ret = -ENOBUFS;
		if (ret < 0) {
			e->inflight--;
			eng_step_failed(e, s, ret);
			return;
		}
	}
	int res = connect(s->fd, &s->addr.sa, alen) == 0 ? 0 : -errno;
	/* The timeout runs from the stamp (just before connect), not from the
	 * turn's clock: the turn's launches take time, and a timer armed from
	 * its start gave filtered rtt_us as short as 985 ms at -t 1000. */
	if (res == -EINPROGRESS)
		rs_timerheap_set(&e->ep.timers, idx(e, s),
				 s->t0_ns + (uint64_t)eng_attempt_us(e, s) * 1000);
	else
		connect_done(e, s, res);
}

/* The connect of slot s succeeded (SO_ERROR 0, writable): open. events
 * is what epoll said (input may already be waiting). */
static void connected(struct engine *e, struct slot *s, uint32_t events)
{
	disarm(e, s);
	e->inflight--;
	s->rtt_us = rtt_us(e, s);
	s->attempts++;
	s->local_tries = 0;
	if (e->p->svc) {
		e->ep.ready[idx(e, s)] = (events & EV_INPUT) != 0;
		eng_svc_open(e, s);
		return;
	}
	hang_up(e, s);
	eng_publish(e, s, RS_OPEN, 0);
}

/* Drop the entry an ICMP error left in the socket's error queue (it
 * keeps the socket readable for errors); such a socket is not reused. */
static void drain_errq(struct slot *s)
{
	struct msghdr m = {0};

	while (recvmsg(s->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0)
		;
	s->errq = 1;
}

/* The outcome of slot s's connect, asked by connecting again: 0 when
 * established, -EALREADY while in progress, else its error (read, so
 * cleared). Unlike SO_ERROR this also ends the socket's "connecting"
 * state after a failure; without it the next connect on the socket fails
 * with ECONNABORTED. */
static int connect_outcome(struct slot *s)
{
	socklen_t alen = s->ep.family == AF_INET6 ? sizeof(s->addr.v6) : sizeof(s->addr.v4);

	if (connect(s->fd, &s->addr.sa, alen) == 0 || errno == EISCONN)
		return 0;
	return -errno;
}

/* What connect_outcome() said (res) of a slot whose connect is in
 * progress, on an event (or a late timer's question: connect_timed_out). */
static void connect_answer(struct engine *e, struct slot *s, uint32_t events, int res)
{
	enum rs_state st = RS_ERROR;
	int errv = 0, err = -res;

	if (res == -EALREADY) {
		/* Still in SYN_SENT. An ICMP error that came while our connect
		 * held the socket (on loopback it comes within that very
		 * syscall) is only a soft error there, with an entry in the
		 * error queue that wakes us: it is the answer (as a timed-out
		 * connect's would be, eng_after_timeout), now rather than at
		 * the timeout. Otherwise wait on. */
		if (!(events & EPOLLERR))
			return;
		drain_errq(s);
		err = so_error(s->fd);
		if (!err || err == ETIMEDOUT || rs_classify_so_error(err, &st, &errv) != RS_V_FINAL)
			return;
		disarm(e, s);
		e->inflight--;
		if (s->reused) {
			/* A soft error a refused probe left on this socket
			 * would read the same: ask on a new one (as the
			 * io_uring backend does), which closes this one. */
			eng_ask_fresh(e, s);
			return;
		}
		s->rtt_us = rtt_us(e, s);
		s->attempts++;
		epoll_close_now(e, s); /* in SYN_SENT: no more SYNs; its error queue had an entry */
		eng_publish(e, s, st, errv);
		return;
	}
	if (res == 0) {
		connected(e, s, events);
		return;
	}
	disarm(e, s);
	e->inflight--;
	s->rtt_us = rtt_us(e, s);
	enum rs_verdict v = rs_classify_so_error(err, &st, &errv);
	if (v == RS_V_LOCAL) {
		epoll_close_now(e, s);
		eng_back_off(e, s);
		return;
	}
	s->local_tries = 0;
	if (err == ECONNREFUSED && !s->errq)
		keep(e, s); /* closed, its error read: clean */
	else
		epoll_close_now(e, s);
	if (v == RS_V_TIMEOUT) {
		eng_timed_out(e, s); /* the kernel gave up on the SYNs; counts the attempt */
		return;
	}
	s->attempts++;
	eng_publish(e, s, st, errv);
}

/* An event for a slot whose connect is in progress. */
static void on_connect_event(struct engine *e, struct slot *s, uint32_t events)
{
	connect_answer(e, s, events, connect_outcome(s));
}

/* The attempt of slot s timed out: what SO_ERROR holds decides (a soft
 * ICMP error is an answer), after the disconnect that stops the SYNs.
 * A late timer (the worker woke well after it was due, or the turn's
 * events filled the batch: some are still unread) first asks the socket
 * itself, as an event would: the answer may be there, unread, and a
 * worker that waited long for a core must not time out answered probes
 * (an open one's SO_ERROR is clear: it would read as a timeout). */
static void connect_timed_out(struct engine *e, struct slot *s, bool late)
{
	if (late) {
		int res = connect_outcome(s);
		if (res != -EALREADY) {
			connect_answer(e, s, EPOLLOUT, res);
			return;
		}
	}
	int err = so_error(s->fd);

	e->inflight--;
	if (s->reused && err && err != ETIMEDOUT) {
		eng_ask_fresh(e, s); /* may be a refused probe's soft error (above) */
		return;
	}
	hang_up(e, s);
	eng_after_timeout(e, s, err);
}

/* Read what the service of slot s sent; without input yet, wait on. */
static void svc_recv(struct engine *e, struct slot *s)
{
	uint32_t cap;
	uint8_t *room = rs_svc_room(&e->sess[s->sess], &cap);
	ssize_t n = recv(s->fd, room, cap, MSG_DONTWAIT);

	e->ep.ready[idx(e, s)] = 0; /* input after this read is a new event */
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	disarm(e, s);
	e->inflight--;
	eng_svc_read(e, s, n < 0 ? -errno : (int)n);
}

static void epoll_svc_io(struct engine *e, struct slot *s, bool with_send, uint64_t ns)
{
	struct rs_svc_sess *ss = &e->sess[s->sess];

	/* Never waits: the payloads fit an empty send buffer. */
	if (with_send && send(s->fd, ss->send, ss->send_len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		eng_svc_read(e, s, -errno);
		return;
	}
	s->st = S_SVC;
	e->inflight++;
	arm(e, s, ns);
	if (e->ep.ready[idx(e, s)])
		svc_recv(e, s);
}

static void epoll_svc_reconnect(struct engine *e, struct slot *s, uint64_t ns)
{
	socklen_t alen = s->ep.family == AF_INET6 ? sizeof(s->addr.v6) : sizeof(s->addr.v4);

	if (connect(s->fd, &e->unspec, sizeof(e->unspec))) {
		eng_svc_connected(e, s, -errno);
		return;
	}
	so_error(s->fd); /* the disconnect's ECONNRESET */
	int res = connect(s->fd, &s->addr.sa, alen) == 0 ? 0 : -errno;
	if (res != -EINPROGRESS) {
		eng_svc_connected(e, s, res);
		return;
	}
	s->st = S_SVC_CONN;
	e->inflight++;
	arm(e, s, ns);
}

static void epoll_svc_hangup(struct engine *e, struct slot *s)
{
	hang_up(e, s);
	eng_svc_publish(e, s);
}

/* An event for the service stage's connection for nmap's next probe. */
static void on_reconnect_event(struct engine *e, struct slot *s, uint32_t events)
{
	int err = so_error(s->fd);

	if (err == 0 && !(events & EPOLLOUT))
		return;
	disarm(e, s);
	e->inflight--;
	e->ep.ready[idx(e, s)] = (events & EV_INPUT) != 0;
	eng_svc_connected(e, s, err ? -err : 0);
}

/* One event: to the slot's state machine. */
static void on_event(struct engine *e, uint32_t i, uint32_t events)
{
	if (i >= e->p->concurrency)
		return;
	struct slot *s = &e->slot[i];
	switch (s->st) {
	case S_CONNECT:
		on_connect_event(e, s, events);
		break;
	case S_SVC:
		if (events & EV_INPUT)
			svc_recv(e, s);
		break;
	case S_SVC_Q: /* edge-triggered: remember it for when its stage starts */
		e->ep.ready[i] |= (events & EV_INPUT) != 0;
		break;
	case S_SVC_CONN:
		on_reconnect_event(e, s, events);
		break;
	default:
		break; /* a socket between probes: nothing pending */
	}
}

/* Every timer due by `asked`, the time the turn asked epoll for its
 * events (an answer that came after it may not be among them: its timer
 * waits for the next turn); full: the events filled the batch. */
static void expire(struct engine *e, uint64_t asked, bool full)
{
	uint32_t i;
	uint64_t due;

	while (rs_timerheap_first(&e->ep.timers, &i, &due) && due <= asked) {
		struct slot *s = &e->slot[i];
		rs_timerheap_clear(&e->ep.timers, i);
		switch (s->st) {
		case S_CONNECT:
			connect_timed_out(e, s, full || e->now_ns - due > LATE_NS);
			break;
		case S_SVC:
			e->inflight--;
			eng_svc_read(e, s, -ECANCELED);
			break;
		case S_SVC_CONN:
			e->inflight--;
			eng_svc_connected(e, s, -ETIMEDOUT);
			break;
		default:
			break;
		}
	}
}

/* Once this worker will start nothing more: the sockets its free slots
 * kept (see keep()), closed once, while the last probes wait out their
 * timeouts rather than at exit. */
static void release_if_done(struct engine *e)
{
	bool none = eng_no_more_work(e);

	if (none && !e->ep.released)
		release_idle(e);
	e->ep.released = none;
}

/* Wait for events up to wait_ns (with a nanosecond timeout where the
 * kernel has epoll_pwait2, else in whole milliseconds, rounded up). */
static int wait_events(struct engine *e, uint64_t wait_ns)
{
	int n;

	if (!e->ep.no_pwait2) {
		struct timespec ts = {(time_t)(wait_ns / 1000000000ULL),
				      (long)(wait_ns % 1000000000ULL)};
		n = epoll_pwait2(e->ep.fd, e->ep.ev, EPOLL_BATCH, &ts, NULL);
		if (n >= 0 || errno == EINTR)
			return n;
		/* ENOSYS before 5.11; EPERM from a seccomp profile older than
		 * the call (what Docker's returns for calls it does not know) */
		e->ep.no_pwait2 = true;
	}
	return epoll_wait(e->ep.fd, e->ep.ev, EPOLL_BATCH, (int)((wait_ns + 999999) / 1000000));
}

/* One turn: wait for events (until the first timer at most), act on
 * them, then expire the timers that fell due before the wait began. A
 * timer that falls due during the wait is expired by the next turn,
 * which does not wait: a connect answered just before its deadline, and
 * reported after the wait returned, is then an answer, not a timeout. */
static int epoll_turn(struct engine *e, uint64_t wait_ns)
{
	uint64_t asked = eng_clock_ns(CLOCK_MONOTONIC), due;
	uint32_t i;

	if (rs_timerheap_first(&e->ep.timers, &i, &due))
		wait_ns = due <= asked ? 0 : due - asked < wait_ns ? due - asked : wait_ns;
	int n = wait_events(e, wait_ns);
	if (n < 0 && errno != EINTR)
		return -errno;
	e->now_ns = eng_clock_ns(CLOCK_MONOTONIC);
	e->wall_ns = eng_clock_ns(CLOCK_REALTIME);
	for (int k = 0; k < n; k++)
		on_event(e, e->ep.ev[k].data.u32, e->ep.ev[k].events);
	expire(e, asked, n == EPOLL_BATCH);
	release_if_done(e);
	return 0;
}

static void epoll_flush(struct engine *e)
{
	release_if_done(e); /* every request went out when it was made */
}

static void epoll_free(struct engine *e)
{
	if (e->ep.fd >= 0)
		close(e->ep.fd);
	e->ep.fd = -1;
	free(e->ep.ev);
	free(e->ep.ready);
	e->ep.ev = NULL;
	e->ep.ready = NULL;
	rs_timerheap_free(&e->ep.timers);
}

static int epoll_setup(struct engine *e)
{
	unsigned conc = e->p->concurrency;

	e->ep.fd = -1;
	e->linger = (struct linger){.l_onoff = 1, .l_linger = 0};
	e->unspec.sa_family = AF_UNSPEC;
	e->ep.fd = epoll_create1(EPOLL_CLOEXEC);
	if (e->ep.fd < 0)
		return -errno;
	e->ep.ev = calloc(EPOLL_BATCH, sizeof(*e->ep.ev));
	e->ep.ready = calloc(conc, 1);
	if (!e->ep.ev || !e->ep.ready || rs_timerheap_init(&e->ep.timers, conc))
		return -ENOMEM;
	atomic_store(&e->w->engine, RS_ENGINE_EPOLL);
	return 0;
}

const struct eng_backend eng_epoll = {
	.name = "epoll",
	.stamps_launch = true,
	.setup = epoll_setup,
	.free = epoll_free,
	.launch = epoll_launch,
	.close_now = epoll_close_now,
	.turn = epoll_turn,
	.flush = epoll_flush,
	.svc_io = epoll_svc_io,
	.svc_reconnect = epoll_svc_reconnect,
	.svc_hangup = epoll_svc_hangup,
	.svc_can_start = NULL,
};
