/* Micro-benchmark: nanoseconds per rs_perm_at() for several space sizes,
 * including the worst case for cycle walking (N just above a power of 4,
 * where the Feistel domain is ~4N). Every result is checked (< N), and an
 * xor of all results is printed so the loop cannot be optimised away. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ringscan/perm.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* zmap's order for comparison: x <- x * g mod p over (Z/pZ)*, p prime
 * above n, skipping values past n. Sequential only (position k needs
 * g^k mod p), and p must come from a table of primes with factored p - 1:
 * zmap's largest is 2^32 + 15, with primitive root 3. */
static double cyclic_ns(uint64_t n, uint64_t p, uint64_t g, uint64_t iters, uint64_t *xor_out)
{
	uint64_t x = 1, acc = 0;
	double t0 = now_s();

	for (uint64_t i = 0; i < iters; i++) {
		do
			x = (uint64_t)((unsigned __int128)x * g % p);
		while (x > n); /* elements 1..n map to indices 0..n-1 */
		if (x - 1 >= n) {
			fprintf(stderr, "perm_bench: cyclic value out of range\n");
			exit(1);
		}
		acc ^= x - 1;
	}
	*xor_out = acc;
	return (now_s() - t0) * 1e9 / (double)iters;
}

int main(void)
{
	static const struct {
		const char *name;
		uint64_t n;
	} cases[] = {
		{"2^16", 1ULL << 16},
		{"4^8+1 (worst walk)", (1ULL << 16) + 1},
		{"2^24", 1ULL << 24},
		{"2^32", 1ULL << 32},
		{"2^32 x 2^16 - 1", (1ULL << 48) - 1},
		{"4^24+1 (worst walk)", (1ULL << 48) + 1},
		{"2^63", 1ULL << 63},
	};
	const uint64_t iters = 20000000;

	printf("| N | ns/index | walk steps/index |\n|---|---|---|\n");
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct rs_perm p;
		uint64_t x = 0, n = cases[c].n;
		rs_perm_init(&p, n, 42);
		double t0 = now_s();
		for (uint64_t i = 0; i < iters; i++) {
			uint64_t v = rs_perm_at(&p, i % n);
			if (v >= n) {
				fprintf(stderr, "perm_bench: %llu out of range\n",
					(unsigned long long)v);
				return 1;
			}
			x ^= v;
		}
		double dt = now_s() - t0;
		/* Expected walk: domain / n (the domain is 4^h >= n). */
		double domain = (double)(1ULL << (2 * p.half_bits - 1)) * 2.0;
		printf("| %s | %.1f | %.2f | (xor %llx)\n", cases[c].name, dt * 1e9 / (double)iters,
		       domain / (double)n, (unsigned long long)x);
	}

	/* Side by side with zmap's cyclic group on its own best case (N = 2^32,
	 * p = 2^32 + 15) and on a size between its primes (N = 2^28 + 4 must
	 * use p = 2^32 + 15 too: ~16 steps per index). */
	static const struct {
		const char *name;
		uint64_t n;
	} cmp[] = {{"2^32", 1ULL << 32}, {"2^28+4", (1ULL << 28) + 4}};
	printf("\n| N | Feistel ns/index (random access) | cyclic group ns/index (sequential) |\n"
	       "|---|---|---|\n");
	for (size_t c = 0; c < sizeof(cmp) / sizeof(cmp[0]); c++) {
		struct rs_perm p;
		uint64_t x = 0, xc = 0, n = cmp[c].n;
		rs_perm_init(&p, n, 42);
		double t0 = now_s();
		for (uint64_t i = 0; i < iters; i++)
			x ^= rs_perm_at(&p, i);
		double feistel = (now_s() - t0) * 1e9 / (double)iters;
		double cyc = cyclic_ns(n, (1ULL << 32) + 15, 3, iters, &xc);
		printf("| %s | %.1f | %.1f | (xor %llx %llx)\n", cmp[c].name, feistel, cyc,
		       (unsigned long long)x, (unsigned long long)xc);
	}
	return 0;
}
