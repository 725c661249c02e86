/* The job ring: a bounded lock-free queue in shared memory. The coordinator
 * is its only producer; every worker process consumes. A job is a chunk of
 * consecutive permutation positions, so one claim feeds many probes.
 * (Bounded MPMC queue with a sequence number per slot, after D. Vyukov.) */
#ifndef RINGSCAN_JOBRING_H
#define RINGSCAN_JOBRING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rs_job {
	uint64_t begin, end; /* positions [begin, end) */
};

struct rs_jobslot {
	_Atomic uint64_t seq;
	struct rs_job job;
};

struct rs_jobring {
	alignas(64) _Atomic uint64_t head; /* next position consumers take */
	alignas(64) _Atomic uint64_t tail; /* next position the producer fills */
	alignas(64) uint64_t mask;
	struct rs_jobslot slot[];
};

/* Bytes needed for a ring of cap slots (cap a power of two >= 2). */
size_t rs_jobring_size(uint32_t cap);
void rs_jobring_init(struct rs_jobring *r, uint32_t cap);
/* Producer only. False when the ring is full. */
bool rs_jobring_push(struct rs_jobring *r, const struct rs_job *job);
/* Any consumer. False when the ring is empty. */
bool rs_jobring_pop(struct rs_jobring *r, struct rs_job *job);
/* Release slots that a consumer claimed and never released (it died
 * between its claim and its copy): the producer would otherwise wait on
 * them forever. Call only when such a slot has stayed so for a while. */
void rs_jobring_unstick(struct rs_jobring *r);
/* Jobs queued and not yet claimed (a snapshot). */
uint64_t rs_jobring_count(const struct rs_jobring *r);

#endif
