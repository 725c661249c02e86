/* The target space: a set of addresses times a set of ports, each kept as
 * sorted, merged, disjoint ranges, indexed by arithmetic so that nothing is
 * materialised. Index i maps to address i / nports and port i % nports
 * (address-major). Memory grows with the number of ranges the user gave,
 * never with the number of targets. Pure: no network, no globals. */
#ifndef RINGSCAN_TARGETS_H
#define RINGSCAN_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ringscan/types.h"

/* An address as a 128-bit number. IPv6 addresses are themselves; an IPv4
 * address a.b.c.d is the IPv4-mapped ::ffff:a.b.c.d, so one sorted list of
 * ranges holds both families. */
typedef unsigned __int128 rs_u128;

/* The largest target space ringscan accepts (addresses × ports). */
#define RS_SPACE_MAX (1ULL << 63)

struct rs_range32 {
	uint32_t lo, hi; /* inclusive */
};

/* A set of 32-bit values (ports) as disjoint ranges. */
struct rs_set32 {
	struct rs_range32 *r;
	uint64_t *before; /* before[k] = values in ranges [0, k) */
	size_t n, cap;
	uint64_t count;
	int finalized;
};

struct rs_range128 {
	rs_u128 lo, hi; /* inclusive */
};

/* A set of addresses as disjoint ranges. */
struct rs_addrset {
	struct rs_range128 *r;
	uint64_t *before; /* before[k] = addresses in ranges [0, k) */
	size_t n, cap;
	uint64_t count;
	int finalized;
};

struct rs_space {
	struct rs_addrset addrs;
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

void rs_addrset_init(struct rs_addrset *s);
void rs_addrset_free(struct rs_addrset *s);
/* Add [lo, hi] (lo <= hi). Returns 0 or -ENOMEM. */
int rs_addrset_add(struct rs_addrset *s, rs_u128 lo, rs_u128 hi);
/* Sort and merge, build the index. Returns 0, -ENOMEM, or -E2BIG when the
 * set holds more than RS_SPACE_MAX addresses (the ranges are then sorted
 * and merged, which is all rs_addrset_subtract needs of an exclusion set,
 * but the index is unusable). */
int rs_addrset_finalize(struct rs_addrset *s);
/* Remove every address of excl (finalized) from s (finalized); s stays
 * finalized. Returns 0 or -ENOMEM. */
int rs_addrset_subtract(struct rs_addrset *s, const struct rs_addrset *excl);
/* Does finalized s hold any address of [lo, hi]? */
bool rs_addrset_overlaps(const struct rs_addrset *s, rs_u128 lo, rs_u128 hi);
/* The k-th smallest address, k < count. */
rs_u128 rs_addrset_pick(const struct rs_addrset *s, uint64_t k);

/* The 128-bit form of an IPv4 address (host order) and back. */
rs_u128 rs_addr_v4(uint32_t a);
bool rs_addr_is_v4(rs_u128 a);
/* Fill ep's family and address bytes from a. */
void rs_addr_to_endpoint(rs_u128 a, struct rs_endpoint *ep);

/* Flags for the target parsers. */
#define RS_TARGET_NAMES 1u /* resolve hostnames (else they are an error) */

/* Parse one target into s: an IPv4 or IPv6 address, prefix (a.b.c.d/len,
 * x::y/len), range (first-last, same family) or, with RS_TARGET_NAMES, a
 * hostname, resolved now to every A and AAAA record. Returns 0, -ENOMEM, or
 * -EINVAL with a one-line reason in err[errlen]. */
int rs_target_parse(struct rs_addrset *s, const char *spec, unsigned flags, char *err,
		    size_t errlen);
/* Parse a comma-separated list of targets. Same returns. */
int rs_target_parse_list(struct rs_addrset *s, const char *list, unsigned flags, char *err,
			 size_t errlen);
/* Read targets from a file ("-" = stdin), one per line; '#' starts a
 * comment, blank lines are skipped, surrounding blanks trimmed. Errors name
 * the file and line ("FILE:LINE: ..."). Returns 0, -ENOMEM, -EINVAL, or
 * -errno when the file cannot be read. */
int rs_target_load(struct rs_addrset *s, const char *path, unsigned flags, char *err,
		   size_t errlen);

/* Parse a port list "22,80-90" into the set. Returns 0 or -EINVAL (with a
 * reason in err): empty items, 0, > 65535, reversed ranges, junk. */
int rs_ports_parse(struct rs_set32 *ports, const char *list, char *err, size_t errlen);

void rs_space_init(struct rs_space *sp);
void rs_space_free(struct rs_space *sp);
/* Finalize both sets. Returns 0, -ENOMEM, or -E2BIG when addresses ×
 * ports exceeds RS_SPACE_MAX. */
int rs_space_finalize(struct rs_space *sp);
/* Number of (address, port) pairs. */
uint64_t rs_space_count(const struct rs_space *sp);
/* The endpoint at index i < count. */
void rs_space_pick(const struct rs_space *sp, uint64_t i, struct rs_endpoint *ep);

/* A reserved range that finalized s overlaps (0.0.0.0/8, 224.0.0.0/4,
 * 255.255.255.255, ::/128, ff00::/8), as text with what it is, or NULL. */
const char *rs_addrset_reserved(const struct rs_addrset *s);

#endif
