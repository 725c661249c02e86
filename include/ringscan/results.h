/* A result ring: single producer (one worker), single consumer (the
 * coordinator), fixed-size plain records in shared memory. One per worker,
 * so workers never contend with each other. */
#ifndef RINGSCAN_RESULTS_H
#define RINGSCAN_RESULTS_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ringscan/types.h"

struct rs_resring {
	alignas(64) _Atomic uint64_t head; /* consumer cursor */
	alignas(64) _Atomic uint64_t tail; /* producer cursor */
	alignas(64) uint64_t mask;
	struct rs_result rec[];
};

/* Bytes needed for a ring of cap records (cap a power of two). */
size_t rs_resring_size(uint32_t cap);
void rs_resring_init(struct rs_resring *r, uint32_t cap);
/* Free records the producer may still write (a snapshot). */
uint64_t rs_resring_space(const struct rs_resring *r);
/* Producer: append one record. False when full. */
bool rs_resring_push(struct rs_resring *r, const struct rs_result *res);
/* Consumer: take up to max records into out. Returns how many. */
size_t rs_resring_pop(struct rs_resring *r, struct rs_result *out, size_t max);

#endif
