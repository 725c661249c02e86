/* The job ring: one producer (the coordinator), many consumers (workers),
 * in MAP_SHARED memory, lock-free.
 *
 * Each slot carries a sequence number that says whose turn it is: seq == pos
 * means "empty, the producer may fill position pos"; seq == pos + 1 means
 * "full, a consumer may take position pos"; taking it sets seq = pos + cap,
 * which is the empty mark for the next lap. Consumers race for head with a
 * compare-and-swap; the single producer owns tail and needs none. */
#include <string.h>

#include "ringscan/jobring.h"

size_t rs_jobring_size(uint32_t cap)
{
	return sizeof(struct rs_jobring) + (size_t)cap * sizeof(struct rs_jobslot);
}

void rs_jobring_init(struct rs_jobring *r, uint32_t cap)
{
	memset(r, 0, rs_jobring_size(cap));
	r->mask = cap - 1;
	for (uint32_t i = 0; i < cap; i++)
		atomic_init(&r->slot[i].seq, i);
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
}

bool rs_jobring_push(struct rs_jobring *r, const struct rs_job *job)
{
	uint64_t pos = atomic_load_explicit(&r->tail, memory_order_relaxed);
	struct rs_jobslot *s = &r->slot[pos & r->mask];

	if (atomic_load_explicit(&s->seq, memory_order_acquire) != pos)
		return false; /* full: a consumer has not released this slot */
	s->job = *job;
	atomic_store_explicit(&s->seq, pos + 1, memory_order_release);
	atomic_store_explicit(&r->tail, pos + 1, memory_order_relaxed);
	return true;
}

bool rs_jobring_pop(struct rs_jobring *r, struct rs_job *job)
{
	uint64_t pos = atomic_load_explicit(&r->head, memory_order_relaxed);

	for (;;) {
		struct rs_jobslot *s = &r->slot[pos & r->mask];
		uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
		int64_t diff = (int64_t)(seq - (pos + 1));

		if (diff == 0) {
			if (atomic_compare_exchange_weak_explicit(&r->head, &pos, pos + 1,
								  memory_order_relaxed,
								  memory_order_relaxed)) {
				*job = s->job;
				atomic_store_explicit(&s->seq, pos + r->mask + 1,
						      memory_order_release);
				return true;
			}
			/* pos was reloaded by the failed CAS */
		} else if (diff < 0) {
			return false; /* empty */
		} else {
			pos = atomic_load_explicit(&r->head, memory_order_relaxed);
		}
	}
}

uint64_t rs_jobring_count(const struct rs_jobring *r)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
	uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
	return t > h ? t - h : 0;
}

void rs_jobring_unstick(struct rs_jobring *r)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	uint64_t cap = r->mask + 1;

	for (uint64_t pos = head > cap ? head - cap : 0; pos < head; pos++) {
		struct rs_jobslot *s = &r->slot[pos & r->mask];
		uint64_t want = pos + 1; /* claimed by CAS, not yet released */
		atomic_compare_exchange_strong_explicit(&s->seq, &want, pos + cap,
							memory_order_release, memory_order_relaxed);
	}
}
