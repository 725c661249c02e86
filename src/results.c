/* A single-producer single-consumer ring of result records in shared
 * memory. The producer publishes with a release store of tail after writing
 * the record; the consumer acquires tail before reading, and releases head
 * after copying out, so the producer never overwrites an unread record. */
#include <string.h>

#include "ringscan/results.h"

size_t rs_resring_size(uint32_t cap)
{
	return sizeof(struct rs_resring) + (size_t)cap * sizeof(struct rs_result);
}

void rs_resring_init(struct rs_resring *r, uint32_t cap)
{
	memset(r, 0, sizeof(*r));
	r->mask = cap - 1;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
}

uint64_t rs_resring_space(const struct rs_resring *r)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
	return r->mask + 1 - (t - h);
}

bool rs_resring_push(struct rs_resring *r, const struct rs_result *res)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);

	if (t - h > r->mask)
		return false;
	r->rec[t & r->mask] = *res;
	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
	return true;
}

size_t rs_resring_pop(struct rs_resring *r, struct rs_result *out, size_t max)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
	size_t n = 0;

	while (h + n < t && n < max) {
		out[n] = r->rec[(h + n) & r->mask];
		n++;
	}
	atomic_store_explicit(&r->head, h + n, memory_order_release);
	return n;
}
