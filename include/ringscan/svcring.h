/* A single-producer single-consumer ring of service records (svc.h) in
 * shared memory, beside each worker's result ring. A worker pushes an open
 * port's service record before the port's result (which says it has one),
 * so the coordinator finds it here when it takes that result. The
 * consumer reads a record in place and then drops it: records are 4 KiB. */
#ifndef RINGSCAN_SVCRING_H
#define RINGSCAN_SVCRING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "ringscan/svc.h"

struct rs_svcring {
	alignas(64) _Atomic uint64_t head; /* consumer cursor */
	alignas(64) _Atomic uint64_t tail; /* producer cursor */
	alignas(64) uint64_t mask;
	struct rs_svcrec rec[];
};

/* Bytes needed for a ring of cap records (cap a power of two). */
size_t rs_svcring_size(uint32_t cap);
void rs_svcring_init(struct rs_svcring *r, uint32_t cap);
/* Producer: the record to fill next, or NULL while the ring is full ... */
struct rs_svcrec *rs_svcring_slot(struct rs_svcring *r);
/* ... and publish it. */
void rs_svcring_push(struct rs_svcring *r);
/* Consumer: the oldest record, or NULL; then drop it. */
const struct rs_svcrec *rs_svcring_peek(struct rs_svcring *r);
void rs_svcring_drop(struct rs_svcring *r);

#endif
