/* A keyed bijection of [0, n): the order in which the target space is
 * visited. See src/perm.c for the construction. */
#ifndef RINGSCAN_PERM_H
#define RINGSCAN_PERM_H

#include <stdint.h>

#define RS_PERM_ROUNDS 4

struct rs_perm {
	uint64_t n;
	unsigned half_bits; /* domain is 2^(2*half_bits) >= n */
	uint64_t half_mask;
	uint64_t keys[RS_PERM_ROUNDS];
};

/* Prepare the permutation of [0, n) chosen by seed. n >= 1. */
void rs_perm_init(struct rs_perm *p, uint64_t n, uint64_t seed);
/* The index visited at position pos < n. */
uint64_t rs_perm_at(const struct rs_perm *p, uint64_t pos);

#endif
