/* The service stage's sessions, for every backend: what follows a
 * connect that is open when --banner or --service asks what speaks there.
 * ringscan/svc.h decides what to do with the bytes; the backend (its
 * svc_io, svc_reconnect and svc_hangup) moves them.
 *
 * A session is one of a per-worker pool allocated at start; a port that
 * finds none free waits in svc_q with its connection open until one is.
 * At the end the backend hangs up (RST, no TIME_WAIT), then the record
 * goes to the worker's service ring and the open result right after it.
 * Nothing here allocates or makes a syscall per probe. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

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

/* Read into slot s's session, after sending its payload when with_send. */
static void io(struct engine *e, struct slot *s, bool with_send)
{
	e->be->svc_io(e, s, with_send, rs_svc_wait_ns(&e->sess[s->sess], e->p->svc, e->now_ns));
}

/* Give slot s session k and start listening. */
static void start(struct engine *e, struct slot *s, uint32_t k)
{
	s->sess = k;
	rs_svc_begin(&e->sess[k], e->now_ns, s->ep.port, e->scratch);
	io(e, s, false);
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

/* Give the session to the next slot waiting for one. Not re-entered: a
 * stage that ends at once (epoll reads a greeting already there) frees
 * its session from inside start(), and this loop, still running, takes
 * it; recursing instead went one level deeper per waiting port. */
static void next_in_queue(struct engine *e)
{
	bool stop = eng_draining(e);

	if (e->in_queue)
		return;
	e->in_queue = true;
	while (e->svc_q.n &&
	       (stop || (e->nsess_free && (!e->be->svc_can_start || e->be->svc_can_start(e))))) {
		struct slot *w = &e->slot[e->svc_q.head];
		e->svc_q.head = w->next_wait;
		e->svc_q.n--;
		if (stop) {
			/* A stop: a port waiting for a session goes out now,
			 * open, without service data, rather than be cut off
			 * unanswered when the stop's time is up. */
			e->be->close_now(e, w);
			eng_publish(e, w, RS_OPEN, 0);
			continue;
		}
		start(e, w, e->sess_free[--e->nsess_free]);
	}
	e->in_queue = false;
}

/* The record, the open result right after it, and the session to the
 * next slot waiting for one. The two go out together: a worker that
 * waits for room in its service ring must never hold back results whose
 * records fill it (the coordinator takes records only with their
 * results). Records once went out when the hang-up began and results when
 * it ended: 512 hang-ups in progress filled the ring and the scan hung. */
void eng_svc_publish(struct engine *e, struct slot *s)
{
	put_record(e, s);
	e->sess_free[e->nsess_free++] = s->sess;
	eng_publish(e, s, RS_OPEN, 0);
	next_in_queue(e);
}

void eng_svc_read(struct engine *e, struct slot *s, int res)
{
	enum rs_svc_step step = rs_svc_on_read(&e->sess[s->sess], e->p->svc, res, e->now_ns);

	/* A graceful stop lets the reads in progress end but starts no new
	 * connection for a further probe: the port is published with what
	 * it said so far. */
	if (step == RS_SVC_RECONNECT && eng_draining(e))
		step = RS_SVC_DONE;
	switch (step) {
	case RS_SVC_READ:
		io(e, s, false);
		break;
	case RS_SVC_SEND:
		io(e, s, true);
		break;
	case RS_SVC_RECONNECT:
		/* nmap's next probe wants a new connection, within a first
		 * attempt's timeout. */
		e->be->svc_reconnect(e, s, (uint64_t)rs_rtt_attempt_us(e->rto_us, 1) * 1000);
		break;
	case RS_SVC_DONE:
		e->be->svc_hangup(e, s);
		break;
	}
}

void eng_svc_connected(struct engine *e, struct slot *s, int res)
{
	if (res == 0) {
		io(e, s, true); /* connected: the probe, then its answer */
		return;
	}
	/* No further probe: a host that refuses now would get one SYN per
	 * probe. The stage ends with what the service said so far. */
	e->be->close_now(e, s);
	eng_svc_publish(e, s);
}
