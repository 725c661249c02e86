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
	return 0;
}
