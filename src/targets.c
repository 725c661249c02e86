/* Target and port sets: parse, merge, count, pick(i).
 *
 * Each set is a list of inclusive ranges, sorted and merged by finalize so
 * that a value is present once however often it was named. before[k] holds
 * the number of values in ranges [0, k), so pick(k) is a binary search. The
 * space is addresses × ports, address-major: index i is address i / nports,
 * port i % nports. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringscan/targets.h"

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
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct rs_range32 *r = realloc(s->r, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		s->r = r;
		s->cap = cap;
	}
	s->r[s->n++] = (struct rs_range32){lo, hi};
	s->finalized = 0;
	return 0;
}

static int cmp_range(const void *a, const void *b)
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
		qsort(s->r, s->n, sizeof(*s->r), cmp_range);
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
	size_t lo = 0, hi = s->n; /* find last range with before <= k */

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->before[mid] <= k)
			lo = mid;
		else
			hi = mid;
	}
	return s->r[lo].lo + (uint32_t)(k - s->before[lo]);
}

/* Strict dotted-quad parse: four decimal octets, nothing else. */
static int parse_ipv4(const char *s, size_t len, uint32_t *out)
{
	char buf[INET_ADDRSTRLEN];
	struct in_addr a;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = 0;
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	*out = ntohl(a.s_addr);
	return 0;
}

/* Parse a decimal number of at most max, the whole of [s, s+len). */
static int parse_uint(const char *s, size_t len, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 10)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

int rs_targets_add(struct rs_set32 *addrs, const char *spec, char *err, size_t errlen)
{
	const char *slash = strchr(spec, '/'), *dash = strchr(spec, '-');
	size_t len = strlen(spec);
	uint32_t lo, hi, plen;

	if (slash && dash)
		goto bad;
	if (slash) {
		if (parse_ipv4(spec, (size_t)(slash - spec), &lo))
			goto bad;
		if (parse_uint(slash + 1, len - (size_t)(slash - spec) - 1, 32, &plen)) {
			snprintf(err, errlen, "invalid prefix length in '%s' (0-32)", spec);
			return -EINVAL;
		}
		uint32_t mask = plen ? ~(uint32_t)0 << (32 - plen) : 0;
		lo &= mask;
		hi = lo | ~mask;
	} else if (dash) {
		if (parse_ipv4(spec, (size_t)(dash - spec), &lo) ||
		    parse_ipv4(dash + 1, len - (size_t)(dash - spec) - 1, &hi))
			goto bad;
		if (hi < lo) {
			snprintf(err, errlen, "reversed range '%s'", spec);
			return -EINVAL;
		}
	} else {
		if (parse_ipv4(spec, len, &lo))
			goto bad;
		hi = lo;
	}
	return rs_set32_add(addrs, lo, hi);
bad:
	snprintf(err, errlen,
		 "invalid target '%s' (expected a.b.c.d, a.b.c.d/len or a.b.c.d-e.f.g.h)", spec);
	return -EINVAL;
}

int rs_ports_parse(struct rs_set32 *ports, const char *list, char *err, size_t errlen)
{
	const char *p = list;

	if (!*list) {
		snprintf(err, errlen, "empty port list");
		return -EINVAL;
	}
	for (;;) {
		const char *end = strchr(p, ','), *dash;
		size_t len = end ? (size_t)(end - p) : strlen(p);
		uint32_t lo = 0, hi = 0;
		int r;

		dash = memchr(p, '-', len);
		if (dash) {
			r = parse_uint(p, (size_t)(dash - p), 65535, &lo);
			if (!r)
				r = parse_uint(dash + 1, len - (size_t)(dash - p) - 1, 65535, &hi);
		} else {
			r = parse_uint(p, len, 65535, &lo);
			hi = lo;
		}
		if (r || lo == 0 || hi < lo) {
			const char *why = r == -ERANGE ? "out of range 1-65535"
					  : r	       ? "not a port or range"
					  : lo == 0    ? "port 0 is not scannable"
						       : "reversed range";
			snprintf(err, errlen, "invalid port '%.*s' in '%s': %s", (int)len, p, list,
				 why);
			return -EINVAL;
		}
		r = rs_set32_add(ports, lo, hi);
		if (r)
			return r;
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

void rs_space_init(struct rs_space *sp)
{
	rs_set32_init(&sp->addrs);
	rs_set32_init(&sp->ports);
}

void rs_space_free(struct rs_space *sp)
{
	rs_set32_free(&sp->addrs);
	rs_set32_free(&sp->ports);
}

int rs_space_finalize(struct rs_space *sp)
{
	int r = rs_set32_finalize(&sp->addrs);
	return r ? r : rs_set32_finalize(&sp->ports);
}

uint64_t rs_space_count(const struct rs_space *sp)
{
	/* At most 2^32 addresses × 2^16 ports: fits in 64 bits. */
	return sp->addrs.count * sp->ports.count;
}

void rs_space_pick(const struct rs_space *sp, uint64_t i, struct rs_endpoint *ep)
{
	uint64_t np = sp->ports.count;
	uint32_t a = rs_set32_pick(&sp->addrs, i / np);

	memset(ep, 0, sizeof(*ep));
	ep->family = AF_INET;
	ep->port = (uint16_t)rs_set32_pick(&sp->ports, i % np);
	ep->addr[0] = (uint8_t)(a >> 24);
	ep->addr[1] = (uint8_t)(a >> 16);
	ep->addr[2] = (uint8_t)(a >> 8);
	ep->addr[3] = (uint8_t)a;
}
