/* A token bucket that hands out probes in batches on a monotonic clock the
 * caller passes in, so it is testable without time passing. */
#ifndef RINGSCAN_RATELIMIT_H
#define RINGSCAN_RATELIMIT_H

#include <stdint.h>

/* Credit is kept as elapsed ns × rate, and a probe costs 1e9 units (1e9 ×
 * share for one of share processes): exact for every rate, no drift. */
struct rs_bucket {
	uint64_t rate;	 /* probes per second; 0 = unlimited */
	uint64_t unit;	 /* credit one probe costs */
	uint64_t cap;	 /* most credit that may accumulate (the burst), units */
	uint64_t credit; /* units */
	uint64_t last_ns;
};

/* rate probes per second (0 = unlimited), burst probes at most at once. */
void rs_bucket_init(struct rs_bucket *b, uint64_t rate, uint64_t burst, uint64_t now_ns);
/* The bucket of one of share processes that together keep to rate: each
 * gets exactly rate / share, and process index (0 <= index < share) takes
 * its first probe at index / rate seconds, so their starts interleave
 * instead of all bursting at time 0. */
void rs_bucket_init_share(struct rs_bucket *b, uint64_t rate, uint64_t burst, unsigned share,
			  unsigned index, uint64_t now_ns);
/* Take up to want probes at time now_ns; returns how many are granted. */
uint64_t rs_bucket_take(struct rs_bucket *b, uint64_t want, uint64_t now_ns);
/* Return n probes granted by the last take but not used. */
void rs_bucket_give_back(struct rs_bucket *b, uint64_t n);
/* Change the rate (0 = unlimited) and burst from now_ns on, keeping the
 * credit earned so far (a bucket of one process: share 1). */
void rs_bucket_set(struct rs_bucket *b, uint64_t rate, uint64_t burst, uint64_t now_ns);
/* Nanoseconds from now_ns until one probe will be granted (0 = now). */
uint64_t rs_bucket_wait_ns(const struct rs_bucket *b, uint64_t now_ns);

#endif
