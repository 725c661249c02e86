/* The producer: chunks of the shard's positions into the job ring (see
 * producer.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "producer.h"

/* Chunk size: big enough that a claim feeds a worker for a while, small
 * enough that every worker gets a fair share of a small scan. */
static uint64_t chunk_size(uint64_t total, unsigned workers)
{
	uint64_t c = total / ((uint64_t)workers * 16);
	return c < 1 ? 1 : c > 4096 ? 4096 : c;
}

int rs_producer_init(struct rs_producer *p, uint64_t first, uint64_t end, unsigned workers,
		     uint64_t slots, uint32_t ring_slots)
{
	memset(p, 0, sizeof(*p));
	p->first = first;
	p->end = end;
	p->next = first;
	p->chunk = chunk_size(end - first, workers);
	p->tail_div = (uint64_t)workers * 16;
	p->slots = slots;
	/* The window: how far past the oldest unfinished chunk new ones may
	 * go: the ring's worth, a few per worker, and room for a slow chunk
	 * to finish while later ones go on. */
	return rs_ledger_init(&p->ledger, first, end, p->chunk, ring_slots + 64 * workers + 1024);
}

void rs_producer_free(struct rs_producer *p)
{
	rs_ledger_free(&p->ledger);
	free(p->recheck);
	p->recheck = NULL;
}

void rs_producer_resume(struct rs_producer *p, const struct rs_checkpoint *ck)
{
	rs_ledger_skip(&p->ledger, ck->low);
	p->skip = ck->low;
	p->next = p->first + (ck->low - p->first) / p->chunk * p->chunk;
	p->pre = ck->runs;
	p->npre = ck->nruns;
}

/* A chunk of a resumed scan: enter what earlier runs answered in it into
 * the ledger and queue only the rest (at most chunk / 2 + 1 runs; the
 * queue is empty when this is called). */
static void enter_resumed(struct rs_producer *p, uint64_t b, uint64_t e)
{
	while (p->ipre < p->npre && p->pre[p->ipre].begin < e) {
		const struct rs_ckrun *r = &p->pre[p->ipre];
		for (uint64_t q = r->begin > b ? r->begin : b; q < (r->end < e ? r->end : e); q++)
			rs_ledger_mark(&p->ledger, q);
		if (r->end > e)
			break;
		p->ipre++;
	}
	for (uint64_t at = b; at < e;) {
		size_t n = rs_ledger_gaps(&p->ledger, at, e, p->requeue + p->nrequeue,
					  RS_REQUEUE_MAX - p->nrequeue, &at);
		if (!n)
			break;
		p->nrequeue += n;
	}
}

int rs_producer_recheck(struct rs_producer *p, uint64_t b, uint64_t e)
{
	if (p->nrecheck == p->caprecheck) {
		size_t cap = p->caprecheck ? p->caprecheck * 2 : 256;
		struct rs_job *n = realloc(p->recheck, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		p->recheck = n;
		p->caprecheck = cap;
	}
	p->recheck[p->nrecheck++] = (struct rs_job){b, e};
	return 0;
}

/* Split the last range to recheck into unanswered runs, as many as the
 * (empty) queue holds; the rest of the range waits for the next call. */
static void expand_recheck(struct rs_producer *p)
{
	struct rs_job *r = &p->recheck[p->nrecheck - 1];
	size_t n = rs_ledger_gaps(&p->ledger, r->begin, r->end, p->requeue + p->nrequeue,
				  RS_REQUEUE_MAX - p->nrequeue, &r->begin);

	for (size_t i = 0; i < n; i++)
		p->requeued += p->requeue[p->nrequeue + i].end - p->requeue[p->nrequeue + i].begin;
	p->nrequeue += n;
	if (r->begin >= r->end || !n)
		p->nrecheck--;
}

/* The end of the next new job. A worker whose slots are all busy keeps
 * the rest of the job it claimed last, which no other worker may probe:
 * with jobs of a fixed chunk, 12 workers kept up to 12 x 4,095 positions
 * out of the scan's last wave of probes while other workers' slots stood
 * free, and those positions waited a whole timeout for a wave of their
 * own (4 s on bench's filtered world, where 10,448 of 1,048,576 did). So
 * jobs shrink with what is left (guided self-scheduling: at most a
 * 1/(16 x workers) share), and the last `slots` positions, as many as
 * all workers may have in flight, go one to a job: each claimed only
 * for a free slot, none kept back. That is `slots` more claims a scan
 * (a few ms for 210,000 of them). */
static uint64_t job_end(const struct rs_producer *p)
{
	uint64_t left = p->end - p->next, size;

	if (left <= p->slots)
		return p->next + 1;
	size = left / p->tail_div;
	size = size < 1 ? 1 : size > p->chunk ? p->chunk : size;
	return p->next + (size < left - p->slots ? size : left - p->slots);
}

/* Push what is queued, then new chunks. False when the ring is full. */
static bool push_all(struct rs_producer *p, struct rs_jobring *ring)
{
	for (;;) {
		while (p->nrequeue) {
			if (!rs_jobring_push(ring, &p->requeue[p->nrequeue - 1]))
				return false;
			p->nrequeue--;
		}
		if (p->nrecheck) {
			expand_recheck(p);
			continue;
		}
		if (p->next >= rs_ledger_limit(&p->ledger))
			return true;
		uint64_t end = job_end(p);
		struct rs_job job = {p->next, end < p->end ? end : p->end};
		if (job.begin < p->skip || (p->ipre < p->npre && p->pre[p->ipre].begin < job.end)) {
			enter_resumed(p, job.begin, job.end);
			p->next = job.end;
			continue;
		}
		if (!rs_jobring_push(ring, &job))
			return false;
		p->next = job.end;
	}
}

/* A ring that refuses a push while not holding a full ring of jobs has a
 * slot that a dead worker claimed and never released: after 100 ms of
 * that, release it (the job in it is recovered by the idle sweep). */
void rs_producer_fill(struct rs_producer *p, struct rs_jobring *ring, uint64_t now_ns)
{
	if (push_all(p, ring) || rs_jobring_count(ring) > ring->mask) {
		p->stuck_since = 0;
		return;
	}
	if (!p->stuck_since)
		p->stuck_since = now_ns;
	else if (now_ns - p->stuck_since > 100000000ULL)
		rs_jobring_unstick(ring);
}

bool rs_producer_handed_all(const struct rs_producer *p, const struct rs_jobring *ring)
{
	return (p->next == p->end || p->next >= rs_ledger_limit(&p->ledger)) && !p->nrequeue &&
	       !p->nrecheck && rs_jobring_count(ring) == 0;
}

void rs_producer_sweep(struct rs_producer *p, const struct rs_jobring *ring, bool workers_busy,
		       bool complete, uint64_t now_ns)
{
	bool idle = rs_producer_handed_all(p, ring) && !workers_busy;

	if (!idle || complete) {
		p->idle_since = 0;
		return;
	}
	if (!p->idle_since) {
		p->idle_since = now_ns;
		return;
	}
	if (now_ns - p->idle_since < 200000000ULL)
		return;
	p->idle_since = 0;
	rs_producer_recheck(p, p->first, p->next); /* on ENOMEM, the next sweep */
}

void rs_producer_runs_init(struct rs_producer_runs *it, const struct rs_producer *p)
{
	it->p = p;
	it->n = it->i = 0;
	it->ipre = p->ipre;
	it->at = p->first;
}

bool rs_producer_runs_next(void *arg, struct rs_ckrun *run)
{
	struct rs_producer_runs *it = arg;
	const struct rs_producer *p = it->p;

	while (it->i == it->n && it->at < p->next) {
		it->n = rs_ledger_runs(&p->ledger, it->at, p->next, it->buf, 256, &it->at);
		it->i = 0;
		if (!it->n)
			it->at = p->next;
	}
	if (it->i < it->n) {
		*run = (struct rs_ckrun){it->buf[it->i].begin, it->buf[it->i].end};
		it->i++;
		return true;
	}
	while (it->ipre < p->npre) {
		const struct rs_ckrun *r = &p->pre[it->ipre++];
		uint64_t b = r->begin > p->next ? r->begin : p->next;
		if (b < r->end) {
			*run = (struct rs_ckrun){b, r->end};
			return true;
		}
	}
	return false;
}
