/* Micro-benchmark: nanoseconds per rs_space_pick(), the arithmetic that turns
 * an index of the target space into an (address, port) pair, and per
 * rs_perm_at() + rs_space_pick(), the step every worker takes for every
 * probe (engine.c: set_target). Spaces are built through the public parsers
 * and cover the shapes that matter: one prefix times a few ports, a /8
 * times one port, many disjoint small ranges (the binary search over
 * range starts, small and large enough to leave the cache), and an IPv6
 * prefix. Loopback and ULA addresses only.
 *
 * Every pick is checked: untimed, against an independent computation of
 * the expected endpoint (every position for spaces up to 2^24, a sample
 * beyond), with the permutation's positions covering each index once; in
 * the timed loops, cheaply (family, address prefix, port in the port
 * list). A wrong result exits 1; an xor of all results is printed so the
 * loops cannot be optimised away. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "ringscan/perm.h"
#include "ringscan/targets.h"

#define ITERS	  10000000ULL
#define FULL_MAX  (1ULL << 24) /* verify every position up to this size */
#define SAMPLE	  (1ULL << 20)
#define SEED	  42
#define NPORT_MAX 8

/* One space, and what it should hold, described independently of the
 * library: address index a is base + (a / run) * stride + a % run (run ==
 * stride for one contiguous block), port index k is ports[k]. */
struct pcase {
	const char *name;
	const char *target; /* one target, or NULL: nsub generated /30s */
	unsigned nsub;
	const char *portlist;
	uint16_t ports[NPORT_MAX];
	unsigned nports;
	int v6;
	uint32_t v4_base;
	uint64_t naddr, run, stride;
	unsigned plen; /* bytes of ep.addr every endpoint shares */
	uint8_t prefix[16];
};

static const struct pcase cases[] = {
	{.name = "127.1.0.0/16 x 4 ports",
	 .target = "127.1.0.0/16",
	 .portlist = "22,80,443,8080",
	 .ports = {22, 80, 443, 8080},
	 .nports = 4,
	 .v4_base = 0x7f010000,
	 .naddr = 1ULL << 16,
	 .run = 1,
	 .stride = 1,
	 .plen = 2,
	 .prefix = {127, 1}},
	{.name = "127.0.0.0/8 x 1 port",
	 .target = "127.0.0.0/8",
	 .portlist = "80",
	 .ports = {80},
	 .nports = 1,
	 .v4_base = 0x7f000000,
	 .naddr = 1ULL << 24,
	 .run = 1,
	 .stride = 1,
	 .plen = 1,
	 .prefix = {127}},
	{.name = "1000 disjoint /30s in 127/8 x 3 ports",
	 .nsub = 1000,
	 .portlist = "22,80,443",
	 .ports = {22, 80, 443},
	 .nports = 3,
	 .v4_base = 0x7f000000,
	 .naddr = 4000,
	 .run = 4,
	 .stride = 8,
	 .plen = 2,
	 .prefix = {127, 0}},
	{.name = "100000 disjoint /30s in 127/8 x 3 ports",
	 .nsub = 100000,
	 .portlist = "443,22,80", /* sorted by the library */
	 .ports = {22, 80, 443},
	 .nports = 3,
	 .v4_base = 0x7f000000,
	 .naddr = 400000,
	 .run = 4,
	 .stride = 8,
	 .plen = 1,
	 .prefix = {127}},
	{.name = "fd00::/96 x 2 ports",
	 .target = "fd00::/96",
	 .portlist = "22,443",
	 .ports = {22, 443},
	 .nports = 2,
	 .v6 = 1,
	 .naddr = 1ULL << 32,
	 .run = 1,
	 .stride = 1,
	 .plen = 12,
	 .prefix = {0xfd}},
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *what, const struct pcase *c, uint64_t i)
{
	fprintf(stderr, "pick_bench: %s: %s at %llu\n", c->name, what, (unsigned long long)i);
	exit(1);
}

static void build(struct rs_space *sp, const struct pcase *c)
{
	char err[256], t[32];
	int r = 0;

	rs_space_init(sp);
	if (c->target) {
		r = rs_target_parse(&sp->addrs, c->target, 0, err, sizeof(err));
	} else {
		/* /30s eight addresses apart, so that none merge. */
		for (unsigned k = 0; k < c->nsub && !r; k++) {
			uint32_t a = c->v4_base + k * 8;
			snprintf(t, sizeof(t), "%u.%u.%u.%u/30", a >> 24, a >> 16 & 255,
				 a >> 8 & 255, a & 255);
			r = rs_target_parse(&sp->addrs, t, 0, err, sizeof(err));
		}
	}
	if (!r)
		r = rs_ports_parse(&sp->ports, c->portlist, err, sizeof(err));
	if (r) {
		fprintf(stderr, "pick_bench: %s: %s\n", c->name, err);
		exit(1);
	}
	if (rs_space_finalize(sp)) {
		fprintf(stderr, "pick_bench: %s: rs_space_finalize failed\n", c->name);
		exit(1);
	}
	if (rs_space_count(sp) != c->naddr * c->nports)
		fail("wrong space size", c, rs_space_count(sp));
}

/* The endpoint at index i, computed without the library. */
static void expect(const struct pcase *c, uint64_t i, struct rs_endpoint *ep)
{
	uint64_t a = i / c->nports;
	uint64_t off = a / c->run * c->stride + a % c->run;

	memset(ep, 0, sizeof(*ep));
	ep->port = c->ports[i % c->nports];
	if (c->v6) {
		ep->family = AF_INET6;
		memcpy(ep->addr, c->prefix, c->plen);
		for (int b = 0; b < 8; b++)
			ep->addr[15 - b] = (uint8_t)(off >> (8 * b));
	} else {
		uint32_t v = c->v4_base + (uint32_t)off;
		ep->family = AF_INET;
		for (int b = 0; b < 4; b++)
			ep->addr[b] = (uint8_t)(v >> (24 - 8 * b));
	}
}

static void check_exact(const struct rs_space *sp, const struct pcase *c, uint64_t i)
{
	struct rs_endpoint got, want;

	memset(&got, 0xa5, sizeof(got));
	rs_space_pick(sp, i, &got);
	expect(c, i, &want);
	if (memcmp(&got, &want, sizeof(got)))
		fail("endpoint differs from the independent computation", c, i);
}

/* Untimed: exact endpoints, and the permutation's positions name every
 * index once (all positions when the space is small enough). */
static void verify(const struct rs_space *sp, const struct pcase *c, const struct rs_perm *p)
{
	uint64_t n = rs_space_count(sp);

	if (n <= FULL_MAX) {
		uint64_t *seen = calloc(n / 64 + 1, sizeof(*seen));
		if (!seen)
			fail("out of memory", c, 0);
		for (uint64_t pos = 0; pos < n; pos++) {
			uint64_t v = rs_perm_at(p, pos);
			if (v >= n || (seen[v / 64] >> (v % 64) & 1))
				fail("permutation repeats or leaves the space", c, pos);
			seen[v / 64] |= 1ULL << (v % 64);
			check_exact(sp, c, v);
		}
		free(seen);
		return;
	}
	for (uint64_t i = 0; i < SAMPLE; i++) {
		check_exact(sp, c, i);
		check_exact(sp, c, n - 1 - i);
		check_exact(sp, c, rs_perm_at(p, i));
	}
}

struct cheap {
	uint64_t portbits[65536 / 64];
	uint8_t family;
	unsigned plen;
	uint8_t prefix[16];
};

static inline int cheap_ok(const struct cheap *k, const struct rs_endpoint *ep)
{
	return ep->family == k->family && (k->portbits[ep->port / 64] >> (ep->port % 64) & 1) &&
	       !memcmp(ep->addr, k->prefix, k->plen);
}

static inline uint64_t fold(const struct rs_endpoint *ep)
{
	uint64_t x, y;
	memcpy(&x, ep->addr, 8);
	memcpy(&y, ep->addr + 8, 8);
	return x ^ y ^ ep->port;
}

int main(void)
{
	printf("| space | N | address ranges | rs_space_pick ns (sequential index) | "
	       "rs_perm_at ns | rs_perm_at + rs_space_pick ns | xor |\n"
	       "|---|---|---|---|---|---|---|\n");
	for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
		const struct pcase *c = &cases[ci];
		static struct cheap k;
		struct rs_space sp;
		struct rs_perm p;
		struct rs_endpoint ep;
		uint64_t n, x = 0, i, idx;

		build(&sp, c);
		n = rs_space_count(&sp);
		rs_perm_init(&p, n, SEED);
		verify(&sp, c, &p);

		memset(&k, 0, sizeof(k));
		for (unsigned j = 0; j < c->nports; j++)
			k.portbits[c->ports[j] / 64] |= 1ULL << (c->ports[j] % 64);
		k.family = c->v6 ? AF_INET6 : AF_INET;
		k.plen = c->plen;
		memcpy(k.prefix, c->prefix, sizeof(k.prefix));

		/* 1. pick alone, index after index (the order --dry-run without a
		 * permutation would take; best case for the binary search). */
		double t0 = now_s();
		for (i = 0, idx = 0; i < ITERS; i++) {
			rs_space_pick(&sp, idx, &ep);
			if (!cheap_ok(&k, &ep))
				fail("endpoint outside the space", c, idx);
			x ^= fold(&ep);
			if (++idx == n)
				idx = 0;
		}
		double t_pick = now_s() - t0;

		/* 2. the permutation alone, for subtraction. */
		t0 = now_s();
		for (i = 0, idx = 0; i < ITERS; i++) {
			uint64_t v = rs_perm_at(&p, idx);
			if (v >= n)
				fail("permuted index out of range", c, idx);
			x ^= v;
			if (++idx == n)
				idx = 0;
		}
		double t_perm = now_s() - t0;

		/* 3. what a worker does per probe: position -> index -> endpoint. */
		t0 = now_s();
		for (i = 0, idx = 0; i < ITERS; i++) {
			rs_space_pick(&sp, rs_perm_at(&p, idx), &ep);
			if (!cheap_ok(&k, &ep))
				fail("endpoint outside the space", c, idx);
			x ^= fold(&ep);
			if (++idx == n)
				idx = 0;
		}
		double t_both = now_s() - t0;

		printf("| %s | %llu | %zu | %.1f | %.1f | %.1f | %llx |\n", c->name,
		       (unsigned long long)n, sp.addrs.n, t_pick * 1e9 / (double)ITERS,
		       t_perm * 1e9 / (double)ITERS, t_both * 1e9 / (double)ITERS,
		       (unsigned long long)x);
		rs_space_free(&sp);
	}
	return 0;
}
