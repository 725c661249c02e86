/* A histogram of round trips in microseconds, log-linear (16 buckets per
 * power of two: within 6.25%), for the summary's percentiles. Fixed size,
 * whatever the number of answers. */
#ifndef RINGSCAN_RTTHIST_H
#define RINGSCAN_RTTHIST_H

#include <stdint.h>

#define RS_RTTHIST_BUCKETS (16 + 28 * 16)

struct rs_rtthist {
	uint64_t n;
	uint32_t max;
	uint64_t b[RS_RTTHIST_BUCKETS];
};

void rs_rtthist_add(struct rs_rtthist *h, uint32_t us);
/* The q-quantile (0 < q <= 1): the lower edge of its bucket (exact below
 * 16 us), never above the maximum; 0 when empty. */
uint32_t rs_rtthist_quantile(const struct rs_rtthist *h, double q);

#endif
