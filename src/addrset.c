/* Range sets: sorted, merged, disjoint inclusive ranges with a prefix count,
 * so that a value is present once however often it was named and the k-th
 * value is a binary search away. 32-bit sets hold ports; 128-bit sets hold
 * addresses (IPv4 as ::ffff:a.b.c.d). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ringscan/targets.h"

#define U128_MAX (~(rs_u128)0)

/* Grow an array of n elements of size sz to hold one more. */
static int grow(void **arr, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 16;
	void *p = realloc(*arr, ncap * sz);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* Index of the range holding the k-th value: last k with before[k] <= k. */
static size_t find(const uint64_t *before, size_t n, uint64_t k)
{
	size_t lo = 0, hi = n;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (before[mid] <= k)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

void rs_set32_init(struct rs_set32 *s)
{
	memset(s, 0, sizeof(*s));
}

void rs_set32_free(struct rs_set32 *s)
{
	free(s->r);
	free(s->before);
	rs_set32_init(s);
}

int rs_set32_add(struct rs_set32 *s, uint32_t lo, uint32_t hi)
{
	if (grow((void **)&s->r, &s->cap, s->n, sizeof(*s->r)))
		return -ENOMEM;
	s->r[s->n++] = (struct rs_range32){lo, hi};
	s->finalized = 0;
	return 0;
}

static int cmp32(const void *a, const void *b)
{
	const struct rs_range32 *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (x->hi > y->hi) - (x->hi < y->hi);
}

int rs_set32_finalize(struct rs_set32 *s)
{
	size_t out = 0;

	if (s->n) /* qsort(NULL, 0, ...) is undefined behaviour */
		qsort(s->r, s->n, sizeof(*s->r), cmp32);
	for (size_t i = 0; i < s->n; i++) {
		/* Merge overlapping and adjacent ranges (hi + 1 may wrap). */
		if (out && (uint64_t)s->r[i].lo <= (uint64_t)s->r[out - 1].hi + 1) {
			if (s->r[i].hi > s->r[out - 1].hi)
				s->r[out - 1].hi = s->r[i].hi;
			continue;
		}
		s->r[out++] = s->r[i];
	}
	s->n = out;
	free(s->before);
	s->before = malloc((out ? out : 1) * sizeof(*s->before));
	if (!s->before)
		return -ENOMEM;
	s->count = 0;
	for (size_t i = 0; i < out; i++) {
		s->before[i] = s->count;
		s->count += (uint64_t)s->r[i].hi - s->r[i].lo + 1;
	}
	s->finalized = 1;
	return 0;
}

uint32_t rs_set32_pick(const struct rs_set32 *s, uint64_t k)
{
	size_t i = find(s->before, s->n, k);
	return s->r[i].lo + (uint32_t)(k - s->before[i]);
}

void rs_addrset_init(struct rs_addrset *s)
{
	memset(s, 0, sizeof(*s));
}

void rs_addrset_free(struct rs_addrset *s)
{
	free(s->r);
	free(s->before);
	rs_addrset_init(s);
}

int rs_addrset_add(struct rs_addrset *s, rs_u128 lo, rs_u128 hi)
{
	if (grow((void **)&s->r, &s->cap, s->n, sizeof(*s->r)))
		return -ENOMEM;
	s->r[s->n++] = (struct rs_range128){lo, hi};
	s->finalized = 0;
	return 0;
}

static int cmp128(const void *a, const void *b)
{
	const struct rs_range128 *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (x->hi > y->hi) - (x->hi < y->hi);
}

/* Rebuild the prefix counts. -E2BIG past RS_SPACE_MAX addresses. */
static int index128(struct rs_addrset *s)
{
	free(s->before);
	s->before = malloc((s->n ? s->n : 1) * sizeof(*s->before));
	if (!s->before)
		return -ENOMEM;
	s->count = 0;
	for (size_t i = 0; i < s->n; i++) {
		rs_u128 size_m1 = s->r[i].hi - s->r[i].lo; /* size - 1, no overflow */
		s->before[i] = s->count;
		/* The size alone may be 2^128 (::/0); and in 128 bits, since
		 * count + size reaches 2^64 when both are 2^63. */
		if (size_m1 >= RS_SPACE_MAX || (rs_u128)s->count + size_m1 + 1 > RS_SPACE_MAX)
			return -E2BIG;
		s->count += (uint64_t)size_m1 + 1;
	}
	s->finalized = 1;
	return 0;
}

int rs_addrset_finalize(struct rs_addrset *s)
{
	size_t out = 0;

	if (s->n)
		qsort(s->r, s->n, sizeof(*s->r), cmp128);
	for (size_t i = 0; i < s->n; i++) {
		struct rs_range128 *last = out ? &s->r[out - 1] : NULL;
		if (last && (last->hi == U128_MAX || s->r[i].lo <= last->hi + 1)) {
			if (s->r[i].hi > last->hi)
				last->hi = s->r[i].hi;
			continue;
		}
		s->r[out++] = s->r[i];
	}
	s->n = out;
	return index128(s);
}

int rs_addrset_subtract(struct rs_addrset *s, const struct rs_addrset *excl)
{
	struct rs_range128 *out = NULL;
	size_t n = 0, cap = 0, j = 0;

	for (size_t i = 0; i < s->n; i++) {
		rs_u128 lo = s->r[i].lo, hi = s->r[i].hi;
		int gone = 0;

		/* Exclusions wholly below this range cannot touch later ones. */
		while (j < excl->n && excl->r[j].hi < lo)
			j++;
		for (size_t k = j; k < excl->n && excl->r[k].lo <= hi; k++) {
			if (excl->r[k].lo > lo) { /* keep [lo, excl.lo - 1] */
				if (grow((void **)&out, &cap, n, sizeof(*out)))
					goto nomem;
				out[n++] = (struct rs_range128){lo, excl->r[k].lo - 1};
			}
			if (excl->r[k].hi >= hi) {
				gone = 1;
				break;
			}
			lo = excl->r[k].hi + 1;
		}
		if (!gone) {
			if (grow((void **)&out, &cap, n, sizeof(*out)))
				goto nomem;
			out[n++] = (struct rs_range128){lo, hi};
		}
	}
	free(s->r);
	s->r = out;
	s->n = n;
	s->cap = cap;
	return index128(s); /* a subset: cannot exceed the limit */
nomem:
	free(out);
	return -ENOMEM;
}

bool rs_addrset_overlaps(const struct rs_addrset *s, rs_u128 lo, rs_u128 hi)
{
	size_t a = 0, b = s->n; /* first range with r.hi >= lo */

	while (a < b) {
		size_t mid = a + (b - a) / 2;
		if (s->r[mid].hi < lo)
			a = mid + 1;
		else
			b = mid;
	}
	return a < s->n && s->r[a].lo <= hi;
}

rs_u128 rs_addrset_pick(const struct rs_addrset *s, uint64_t k)
{
	size_t i = find(s->before, s->n, k);
	return s->r[i].lo + (k - s->before[i]);
}

rs_u128 rs_addr_v4(uint32_t a)
{
	return (rs_u128)0xffff << 32 | a;
}

bool rs_addr_is_v4(rs_u128 a)
{
	return (a >> 32) == 0xffff;
}

void rs_addr_to_endpoint(rs_u128 a, struct rs_endpoint *ep)
{
	memset(ep->addr, 0, sizeof(ep->addr));
	if (rs_addr_is_v4(a)) {
		ep->family = AF_INET;
		for (int i = 0; i < 4; i++)
			ep->addr[i] = (uint8_t)(a >> (24 - 8 * i));
		return;
	}
	ep->family = AF_INET6;
	for (int i = 0; i < 16; i++)
		ep->addr[i] = (uint8_t)(a >> (120 - 8 * i));
}

/* Reserved ranges never scanned without --allow-reserved. */
static const struct {
	uint8_t v4, len;
	uint32_t v4addr;
	uint64_t v6hi; /* top 64 bits of an IPv6 prefix */
	const char *what;
} reserved[] = {
	{1, 8, 0x00000000, 0, "0.0.0.0/8 (this network)"},
	{1, 4, 0xe0000000, 0, "224.0.0.0/4 (multicast)"},
	{1, 32, 0xffffffff, 0, "255.255.255.255 (broadcast)"},
	{0, 128, 0, 0, ":: (unspecified)"},
	{0, 8, 0, 0xff00000000000000ULL, "ff00::/8 (multicast)"},
};

const char *rs_addrset_reserved(const struct rs_addrset *s)
{
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		rs_u128 lo, size_m1;
		if (reserved[i].v4) {
			lo = rs_addr_v4(reserved[i].v4addr);
			size_m1 = ((rs_u128)1 << (32 - reserved[i].len)) - 1;
		} else {
			lo = (rs_u128)reserved[i].v6hi << 64;
			size_m1 = reserved[i].len == 128
					  ? 0
					  : ((rs_u128)1 << (128 - reserved[i].len)) - 1;
		}
		if (rs_addrset_overlaps(s, lo, lo + size_m1))
			return reserved[i].what;
	}
	return NULL;
}
