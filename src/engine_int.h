/* The engine's insides, shared by its files. The core (engine_core.c:
 * jobs, leases, publishing, retries, backoff, pacing, heartbeats;
 * engine_svc.c: the service stage's sessions) is the same for every
 * backend; a backend (engine_uring.c with engine_uring_svc.c, and
 * engine_epoll.c) moves the bytes: it starts attempts, reaps what the
 * kernel says and hands each outcome back to the core through the eng_
 * functions below. struct eng_backend is the seam: see
 * docs/architecture.md, "Adding a backend". Not a public interface: one
 * worker's private state. */
#ifndef RS_ENGINE_INT_H
#define RS_ENGINE_INT_H

#include <liburing.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#include "engine.h"
#include "ringscan/classify.h"
#include "ringscan/ratelimit.h"
#include "ringscan/svc.h"
#include "lossy.h"
#include "rtt.h"
#include "timerheap.h"

enum slot_state {
	S_FREE,
	S_CONNECT,
	S_CONFIRM,
	S_WAIT,
	S_SOFTERR,
	S_SVC,	    /* open: in the service stage */
	S_SVC_Q,    /* open: waiting for a free service session */
	S_SVC_END,  /* open: its stage over, the socket being hung up */
	S_SVC_CONN, /* epoll: open, connecting again for nmap's next probe */
};

enum op {
	OP_SOCKET = 1,
	OP_USERTO,
	OP_CLEAR, /* SO_ERROR read before a reused socket's connect */
	OP_CONNECT,
	OP_TIMEOUT,
	OP_CONFIRM_READ, /* SO_ERROR after connect returned 0 */
	OP_CONFIRM_DISC, /* ... then the disconnect */
	OP_CONFIRM,	 /* ... then the error queue's drain */
	OP_SOFTERR_READ, /* SO_ERROR after a timeout */
	OP_SOFTERR,	 /* ... then the disconnect */
	OP_CLOSE,
	OP_SVC_CHECK, /* the error queue's drain of a confirmation that keeps the connection */
	OP_SVC_RECV,  /* a read of the service stage */
	OP_SVC_SEND,  /* ... a send, linked to the next read */
	OP_SVC_END,   /* the error queue's drain after the stage's disconnect */
	OP_SVC_CONN,  /* a new connection for nmap's next probe */
	OP_SVC_DISC, /* steps before a chain's last (CQE only on failure): the hang-up's disconnect,
		      */
	OP_SVC_RDISC, /* ... a reconnection's disconnect */
	OP_SVC_RCLR,  /* ... and its read of SO_ERROR */
	OP_MAX = OP_SVC_RCLR,
};

#define SLOT_BITS 27 /* 5 bits of op above: OP_MAX < 32 */
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
#define NO_SLOT	  UINT32_MAX

union rs_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};

struct slot {
	uint64_t pos;	/* permutation position of the probe */
	uint64_t t0_ns; /* start of the current attempt: its submission */
	union {
		uint64_t due_ns;      /* S_WAIT: when to try again */
		uint64_t ans_wall_ns; /* counted: when the answer came (CLOCK_REALTIME) */
	};
	union rs_sockaddr addr;
	struct rs_endpoint ep;
	struct __kernel_timespec to; /* io_uring: this attempt's timeout (adaptive) */
	uint32_t gen;
	uint32_t next_wait; /* S_WAIT list link */
	union {
		uint32_t epoch; /* booked: the epoch the first attempt left in (cc.h) */
		uint32_t sess;	/* S_SVC (never booked then): its service session */
	};
	uint32_t rtt_us;  /* the answer's round trip */
	uint32_t lost_ep; /* the epoch the last attempt that timed out left in */
	int fd;		  /* compat and epoll: the slot's socket, or -1 */
	int so_error;	  /* GETSOCKOPT target: must outlive the request */
	uint8_t st;
	uint8_t attempts;    /* attempts that reached the wire */
	uint8_t local_tries; /* consecutive local failures */
	uint8_t idle_family; /* direct, epoll: family of the slot's reusable socket, or 0 */
	uint8_t need_clear;  /* its SO_ERROR holds a disconnect's ECONNRESET */
	uint8_t reused;	     /* this attempt runs on a socket an earlier probe used */
	uint8_t booked;	     /* the first attempt is booked in the controller */
	uint8_t counted;     /* the answer is counted (eng_answered) before it is published */
	uint8_t has_svc;     /* a service record went out for it */
	uint8_t errq;	     /* epoll: its socket's error queue had an entry: not reused */
	uint32_t lease;	     /* the lease the position came from */
};

/* Slots waiting to be launched again, linked through next_wait. */
struct slot_list {
	uint32_t head, tail, n;
};

struct lease {
	uint64_t next, end; /* positions not yet started: [next, end) */
	uint32_t pending;   /* started, not yet answered */
	uint8_t used;
};

struct engine;

/* A backend: how attempts reach the kernel and their outcomes come back.
 * Every hook is given the worker's engine; a slot's state (st) says which
 * of its requests is pending. The core calls: */
struct eng_backend {
	const char *name;
	/* its attempts leave when launch() returns (a connect syscall), so
	 * it stamps their start itself; else they leave at the next turn's
	 * submission and the core stamps them then */
	bool stamps_launch;
	/* once, before the first probe: 0, 1 (the scan no longer needs this
	 * worker), or -errno */
	int (*setup)(struct engine *e);
	void (*free)(struct engine *e);
	/* start the next attempt of the probe in slot s (the target in
	 * s->addr): eng_launched() when it is on its way, eng_back_off() on
	 * local trouble */
	void (*launch)(struct engine *e, struct slot *s);
	/* forget slot s's socket now, whatever state it is in */
	void (*close_now)(struct engine *e, struct slot *s);
	/* send what is queued, wait up to wait_ns for outcomes and hand each
	 * to the core: 0, or -errno when the worker cannot go on */
	int (*turn)(struct engine *e, uint64_t wait_ns);
	/* nothing in flight: send what is queued (closes), before a nap */
	void (*flush)(struct engine *e);
	/* the service stage (engine_svc.c decides, the backend moves bytes):
	 * read into the session within ns (after sending its payload when
	 * with_send), then eng_svc_read(); */
	void (*svc_io)(struct engine *e, struct slot *s, bool with_send, uint64_t ns);
	/* hang up and connect again within ns, then eng_svc_connected(); */
	void (*svc_reconnect)(struct engine *e, struct slot *s, uint64_t ns);
	/* hang up (RST), then eng_svc_publish(); */
	void (*svc_hangup)(struct engine *e, struct slot *s);
	/* may a waiting port start its stage now? (NULL: yes) */
	bool (*svc_can_start)(struct engine *e);
};

extern const struct eng_backend eng_uring, eng_epoll;

/* What the epoll backend keeps (engine_epoll.c). */
struct eng_epoll {
	int fd; /* the epoll instance, or -1 */
	struct epoll_event *ev;
	struct rs_timerheap timers; /* by slot: the pending step's deadline */
	uint8_t *ready;		    /* by slot: input may be waiting (ET) */
	bool no_pwait2;		    /* epoll_pwait2 is missing or refused (seccomp) */
	bool released;		    /* free slots' sockets closed: no more work */
};

struct engine {
	const struct rs_engine_params *p;
	const struct eng_backend *be;
	/* io_uring (engine_uring.c) */
	struct io_uring ring;
	int ring_ok;
	int direct;   /* direct descriptors + socket uring_cmd */
	int min_wait; /* the kernel has IORING_FEAT_MIN_TIMEOUT */
	struct eng_epoll ep;
	struct rs_wshared *w;
	struct rs_resring *out;
	struct slot *slot;
	uint32_t *free_stack;
	uint32_t nfree;
	struct slot_list wait; /* backoffs: due in any order */
	/* Retries, by the attempts made (retry[n - 1] after attempt n, the
	 * last list for all beyond): each due in order, as its probes all
	 * wait the same gap. */
	struct slot_list retry[RS_LOSSY_ATTEMPTS];
	uint32_t nretry; /* in all of them */
	uint32_t inflight;
	uint32_t *launched; /* slots launched this turn: stamped at submission */
	uint32_t nlaunched;
	struct lease *lease; /* [shm->nleases], mirrored in shared memory */
	struct rs_lease *shared_lease;
	uint32_t *lease_free; /* stack of free leases */
	uint32_t nlease_free;
	int64_t cur; /* lease being started from, or -1 */
	bool no_pos; /* the last fill found no position to start */
	struct rs_bucket bucket;
	struct __kernel_timespec timeout;
	struct linger linger;	/* compat mode */
	struct sockaddr unspec; /* connect to it disconnects */
	struct msghdr errq;	/* no buffers: a read of the error queue drops an entry */
	unsigned user_timeout;	/* TCP_USER_TIMEOUT in ms, or 0 (see KERNEL_SYN_RTO_MS) */
	struct __kernel_timespec safety_timeout; /* the link timeout behind it */
	uint64_t now_ns;
	uint64_t wall_ns;
	/* Sending: congestion control, round trips, the retry budget. */
	struct rs_cc *cc; /* NULL: a fixed rate (or none) */
	struct rs_rtt rtt;
	struct rs_lossy *lossy;		 /* networks that answer only sometimes */
	uint64_t answers, answers_later; /* all this worker's; after a retry */
	uint32_t rto_us;		 /* first attempts' timeout (adaptive -t) */
	unsigned attempts;		 /* attempts a probe gets */
	struct rs_budget_hist budgets;	 /* and got, tick by tick (rtt.h) */
	uint64_t budget_ns;		 /* next look at the retry budget */
	uint64_t share_ns;		 /* next look at the other workers' rates */
	uint64_t start_ns;		 /* when this worker began to send */
	/* counters mirrored to shared memory after every batch */
	uint64_t retries, local_errors;
	uint64_t sent1, ans1, tmo1, nsent; /* nsent: attempts launched, retries too */
	/* Probes answered at attempt k, over the last one or two windows of
	 * OK_WINDOW answers: the retry budget follows the loss of now, not
	 * of a burst long past (a slow start's overshoot). */
	uint64_t ok[2][RS_ATTEMPTS_MAX + 1];
	unsigned ok_cur, ok_n;
	/* The service stage (engine_svc.c), when p->svc is set. */
	struct rs_svc_sess *sess; /* [nsess] */
	uint32_t *sess_free;	  /* stack of free sessions */
	uint32_t nsess, nsess_free;
	struct slot_list svc_q;	       /* open slots waiting for a session */
	bool in_queue;		       /* next_in_queue() is running */
	struct rs_svcring *svcout;     /* this worker's service records */
	struct rs_svcscratch *scratch; /* nmap's regexes' match state, or NULL */
};

static inline uint64_t ud(uint32_t slot, enum op op, uint32_t gen)
{
	return (uint64_t)gen << 32 | (uint64_t)op << SLOT_BITS | slot;
}

/* io_uring: room for a chain of need SQEs, submitting what is queued first if needed
 * (a linked chain must never be split across two submissions). False when
 * the kernel takes no more for now (memory pressure): local trouble, which
 * the caller backs off from. */
static inline bool sq_room(struct engine *e, unsigned need)
{
	if (io_uring_sq_space_left(&e->ring) < need)
		io_uring_submit(&e->ring);
	return io_uring_sq_space_left(&e->ring) >= need;
}

/* Kernel facts every backend respects (engine_core.c). */
#define KERNEL_SYN_RTO_MS 1000 /* the first SYN retransmit */
#define LINK_SLACK_MS	  250  /* io_uring: link timeout behind TCP_USER_TIMEOUT */

/* What the core does for the backends (engine_core.c). */
uint64_t eng_clock_ns(clockid_t id);
/* Has this worker started everything it will get (its leases used up,
 * nothing waiting to be retried, the job ring drained for good)? A
 * dead worker's positions may still come back. */
bool eng_no_more_work(const struct engine *e);
/* The attempt in slot s is on its way (the backend has queued it). */
void eng_launched(struct engine *e, struct slot *s);
/* The timeout of the attempt slot s is about to start, in µs: -t's, or the
 * measured one doubled for each attempt before (rtt.h). */
uint32_t eng_attempt_us(const struct engine *e, const struct slot *s);
/* An answer (not a timeout, not local trouble) for the probe in slot s. */
void eng_answered(struct engine *e, struct slot *s);
/* Hand the probe's answer to the coordinator; the slot is free after. */
void eng_publish(struct engine *e, struct slot *s, enum rs_state state, int err);
/* This machine is short of something: the same probe again later. */
void eng_back_off(struct engine *e, struct slot *s);
/* The attempt timed out (its socket closed or disconnected): retry or
 * filtered. */
void eng_timed_out(struct engine *e, struct slot *s);
/* ... with so_error what SO_ERROR held then (a soft ICMP error is final). */
void eng_after_timeout(struct engine *e, struct slot *s, int so_error);
/* An answer on a reused socket that may belong to an earlier probe: ask
 * again on a new socket, as the same attempt. */
void eng_ask_fresh(struct engine *e, struct slot *s);
/* What a classifier said, done. */
void eng_settle(struct engine *e, struct slot *s, enum rs_verdict v, enum rs_state st, int err);
/* A failed step before the connect (socket, sockopt): back off or error. */
void eng_step_failed(struct engine *e, struct slot *s, int res);
/* Is the scan stopping gracefully? Over (the coordinator says)? */
bool eng_draining(const struct engine *e);
bool eng_all_done(const struct engine *e);

/* The service stage (engine_svc.c). Sessions for up to concurrency slots:
 * 0 or -ENOMEM. */
int eng_svc_setup(struct engine *e);
void eng_svc_free(struct engine *e);
/* A connection confirmed open enters the service stage (the backend
 * calls this instead of publishing it when e->p->svc is set). */
void eng_svc_open(struct engine *e, struct slot *s);
/* A read of the stage returned res (bytes, 0 at the end, -errno; -ECANCELED
 * or -ETIME when its time was up). */
void eng_svc_read(struct engine *e, struct slot *s, int res);
/* A reconnection for nmap's next probe: 0, or -errno (then the stage ends). */
void eng_svc_connected(struct engine *e, struct slot *s, int res);
/* The stage is over and the socket hung up: its record, then the open
 * result; the session goes to the next port waiting for one. */
void eng_svc_publish(struct engine *e, struct slot *s);

/* io_uring: close the slot's socket at submission (engine_uring.c). */
void eng_close_now(struct engine *e, struct slot *s);
/* io_uring's service stage (engine_uring_svc.c). */
void eng_uring_svc_confirm(struct engine *e, struct slot *s);
void eng_uring_svc_cqe(struct engine *e, struct slot *s, enum op op, int res);
void eng_uring_svc_io(struct engine *e, struct slot *s, bool with_send, uint64_t ns);
void eng_uring_svc_reconnect(struct engine *e, struct slot *s, uint64_t ns);
void eng_uring_svc_hangup(struct engine *e, struct slot *s);
bool eng_uring_svc_can_start(struct engine *e);

#endif
