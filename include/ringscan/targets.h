/* The target space: a set of addresses times a set of ports, each kept as
 * sorted, merged, disjoint ranges, indexed by arithmetic so that nothing is
 * materialised. Index i maps to address i / nports and port i % nports
 * (address-major). Pure: no network, no globals. */
#ifndef RINGSCAN_TARGETS_H
#define RINGSCAN_TARGETS_H

#include <stddef.h>
#include <stdint.h>
#include "ringscan/types.h"

struct rs_range32 {
	uint32_t lo, hi; /* inclusive, host order */
};

/* A set of 32-bit values (IPv4 addresses or ports) as disjoint ranges. */
struct rs_set32 {
	struct rs_range32 *r;
	uint64_t *before; /* before[k] = values in ranges [0, k) */
	size_t n, cap;
	uint64_t count;
	int finalized;
};

struct rs_space {
	struct rs_set32 addrs; /* IPv4, host order */
	struct rs_set32 ports;
};

void rs_set32_init(struct rs_set32 *s);
void rs_set32_free(struct rs_set32 *s);
/* Add [lo, hi] (lo <= hi). Returns 0 or -ENOMEM. */
int rs_set32_add(struct rs_set32 *s, uint32_t lo, uint32_t hi);
/* Sort and merge ranges, build the index. Returns 0 or -ENOMEM. */
int rs_set32_finalize(struct rs_set32 *s);
/* The k-th smallest value, k < count. Requires a finalized set. */
uint32_t rs_set32_pick(const struct rs_set32 *s, uint64_t k);

/* Parse one target (a.b.c.d, a.b.c.d/len, a.b.c.d-e.f.g.h) into the set.
 * Returns 0, or -EINVAL with a reason in err[errlen]. */
int rs_targets_add(struct rs_set32 *addrs, const char *spec, char *err, size_t errlen);

/* Parse a port list "22,80-90" into the set. Returns 0 or -EINVAL (with a
 * reason in err): empty items, 0, > 65535, reversed ranges, junk. */
int rs_ports_parse(struct rs_set32 *ports, const char *list, char *err, size_t errlen);

void rs_space_init(struct rs_space *sp);
void rs_space_free(struct rs_space *sp);
/* Finalize both sets. Returns 0 or -ENOMEM. */
int rs_space_finalize(struct rs_space *sp);
/* Number of (address, port) pairs. */
uint64_t rs_space_count(const struct rs_space *sp);
/* The endpoint at index i < count. */
void rs_space_pick(const struct rs_space *sp, uint64_t i, struct rs_endpoint *ep);

#endif
