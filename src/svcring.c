/* The service records' ring (see ringscan/svcring.h): release on the
 * cursor a side moves, acquire on the one it reads, as results.c. */
#include <string.h>

#include "ringscan/svcring.h"

size_t rs_svcring_size(uint32_t cap)
{
	return sizeof(struct rs_svcring) + (size_t)cap * sizeof(struct rs_svcrec);
}

void rs_svcring_init(struct rs_svcring *r, uint32_t cap)
{
	memset(r, 0, sizeof(*r));
	r->mask = cap - 1;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
}

struct rs_svcrec *rs_svcring_slot(struct rs_svcring *r)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);

	return t - h > r->mask ? NULL : &r->rec[t & r->mask];
}

void rs_svcring_push(struct rs_svcring *r)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
}

const struct rs_svcrec *rs_svcring_peek(struct rs_svcring *r)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);

	return h == t ? NULL : &r->rec[h & r->mask];
}

void rs_svcring_drop(struct rs_svcring *r)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);

	atomic_store_explicit(&r->head, h + 1, memory_order_release);
}
