/* Micro-benchmark: the inventory's writer (--db) alone. 262,144 answers
 * (bench/run.sh's closed world: a /16 x 4 ports, positions in the order
 * the workers' chunks give them, addresses permuted) go through
 * rs_inv_put to the writer thread and are committed; reported: the wall
 * and CPU time per answer (the CPU a scan gives up for --db), for answers
 * without and with (1 in 4) a service record, into a fresh database and
 * into one that already holds 4 such scans.
 *
 * Checked: the database then holds exactly the answers put, once each. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ringscan/inventory.h"
#include "ringscan/perm.h"

#define N (1u << 18)

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* One scan of N answers into db; returns 0 or -1. */
static int one_scan(struct rs_inv *db, struct rs_perm *perm, const struct rs_svcrec *rec,
		    int svc_every, double *wall, double *cpu)
{
	struct rs_inv_scan sc = {.version = "bench",
				 .cmdline = "bench",
				 .ports = "7,9,11,13",
				 .shard_count = 1,
				 .space = N,
				 .positions = N,
				 .all = true};
	struct rs_inv_progress p = {.count = {0, N}, .complete = true, .ended_ns = 1};
	double t0 = now_s(), c0 = cpu_s();

	if (rs_inv_scan_create(db, &sc) || rs_inv_writer_start(db, sc.id))
		return -1;
	for (uint32_t i = 0; i < N; i++) {
		uint64_t k = rs_perm_at(perm, i);
		struct rs_result r = {.pos = i,
				      .ts_ns = 1795624499123456000ULL + i * 3000ULL,
				      .rtt_us = 40 + i % 900,
				      .state = RS_CLOSED,
				      .attempts = 1};
		uint32_t a = htonl(0x7f280000u | (uint32_t)(k >> 2));
		r.ep.family = AF_INET;
		memcpy(r.ep.addr, &a, 4);
		r.ep.port = (uint16_t)(7 + 2 * (k & 3));
		bool svc = svc_every && i % svc_every == 0;
		r.svc = svc;
		if (rs_inv_put(db, &r, svc ? rec : NULL))
			return -1;
	}
	if (rs_inv_sync(db, &p, true))
		return -1;
	*wall = now_s() - t0;
	*cpu = cpu_s() - c0;
	return 0;
}

static int count(void *arg, const struct rs_result *r, const struct rs_svcrec *rec)
{
	(void)r;
	(void)rec;
	(*(uint64_t *)arg)++;
	return 0;
}

int main(void)
{
	char dir[] = "/tmp/inv_bench.XXXXXX", path[64], err[256];
	struct rs_svcrec *rec = calloc(1, sizeof(*rec));
	struct rs_perm perm;
	static const char banner[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";

	if (!rec || !mkdtemp(dir))
		return 1;
	rec->len = rec->total = rec->banner.len = sizeof(banner) - 1;
	memcpy(rec->data, banner, rec->len);
	rec->flags = RS_SVCF_SSH;
	snprintf(rec->probe, sizeof(rec->probe), "NULL");
	rs_perm_init(&perm, N, 1);
	printf("| --db writer, %u answers | wall ms | CPU ms | CPU ns/answer |\n", N);
	printf("|---|---|---|---|\n");
	for (int svc = 0; svc <= 4; svc += 4) {
		snprintf(path, sizeof(path), "%s/b%d.db", dir, svc);
		for (int k = 0; k < 5; k++) {
			struct rs_inv *db;
			double wall, cpu;
			if (rs_inv_open(path, RS_INV_WRITE, &db, err, sizeof(err)) ||
			    one_scan(db, &perm, rec, svc, &wall, &cpu)) {
				fprintf(stderr, "inv_bench: %s\n", err);
				return 1;
			}
			uint64_t n = 0;
			int64_t id = -1;
			struct rs_inv_scan sc;
			if (!rs_inv_scan_get(db, -1, &sc)) {
				id = sc.id;
				rs_inv_scan_free(&sc);
			}
			rs_inv_close(db);
			if (rs_inv_open(path, RS_INV_READ, &db, err, sizeof(err)) ||
			    rs_inv_each(db, id, count, &n) || n != N) {
				fprintf(stderr, "inv_bench: scan %lld holds %llu answers, not %u\n",
					(long long)id, (unsigned long long)n, N);
				return 1;
			}
			rs_inv_close(db);
			if (k == 0 || k == 4)
				printf("| %s, %s database | %.0f | %.0f | %.0f |\n",
				       svc ? "1 in 4 with a service record" : "no service record",
				       k ? "a 4-scan" : "a fresh", wall * 1e3, cpu * 1e3,
				       cpu * 1e9 / N);
		}
	}
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	return system(path) ? 1 : 0;
}
