/* Round-trip histogram (see rtthist.h). */
#include "ringscan/rtthist.h"

static unsigned bucket_of(uint32_t us)
{
	if (us < 16)
		return us;
	unsigned e = 31 - (unsigned)__builtin_clz(us); /* 4..31 */
	return 16 + (e - 4) * 16 + ((us >> (e - 4)) & 15);
}

static uint32_t lower_edge(unsigned b)
{
	if (b < 16)
		return b;
	unsigned e = (b - 16) / 16 + 4, sub = (b - 16) % 16;
	return (uint32_t)((16u + sub) << (e - 4));
}

void rs_rtthist_add(struct rs_rtthist *h, uint32_t us)
{
	h->b[bucket_of(us)]++;
	h->n++;
	if (us > h->max)
		h->max = us;
}

uint32_t rs_rtthist_quantile(const struct rs_rtthist *h, double q)
{
	if (!h->n)
		return 0;
	uint64_t want = (uint64_t)(q * (double)h->n + 0.999999);
	uint64_t seen = 0;
	if (want < 1)
		want = 1;
	for (unsigned b = 0; b < RS_RTTHIST_BUCKETS; b++) {
		seen += h->b[b];
		if (seen >= want) {
			uint32_t v = lower_edge(b);
			return v < h->max ? v : h->max;
		}
	}
	return h->max;
}
