/* Sharding is index arithmetic: shard i of n takes a contiguous block of
 * the permuted order. Pure. */
#ifndef RINGSCAN_SHARD_H
#define RINGSCAN_SHARD_H

#include <stdint.h>

/* Positions [*lo, *hi) of shard i (0 <= i < n) of a space of total
 * positions: floor(i * total / n) to floor((i + 1) * total / n). The n
 * blocks are disjoint, cover [0, total) exactly, and differ in size by at
 * most one. Since positions are permuted, each block spreads over the whole
 * target space. */
void rs_shard_range(uint64_t total, uint32_t i, uint32_t n, uint64_t *lo, uint64_t *hi);

#endif
