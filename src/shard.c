/* Shard boundaries (see shard.h). 128-bit products: total may be 2^63. */
#include "ringscan/shard.h"

void rs_shard_range(uint64_t total, uint32_t i, uint32_t n, uint64_t *lo, uint64_t *hi)
{
	*lo = (uint64_t)((unsigned __int128)total * i / n);
	*hi = (uint64_t)((unsigned __int128)total * (i + 1ULL) / n);
}
