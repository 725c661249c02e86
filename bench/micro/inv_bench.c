/* Micro-benchmark: the inventory's writer (--db) alone. 262,144 answers
 * (bench/run.sh's closed world: a /16 x 4 ports, positions in the order
 * the workers' chunks give them, addresses permuted) go through
 * rs_inv_put to the writer thread and are committed; reported: the wall
 * and CPU time from opening the database to closing it (the CPU a scan
 * gives up for --db), per answer, and the part of it the drain's thread
 * pays (copying answers into batches), for answers without and with (1 in
 * 4) a service record, into a fresh database and into one that already
 * holds 4 such scans. `inv_bench 0` (or 4) runs only that case.
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

static double thread_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* N answers as bench/run.sh's closed world gives them. */
static struct rs_result *answers(void)
{
	struct rs_result *rs = calloc(N, sizeof(*rs));
	struct rs_perm perm;

	if (!rs)
		return NULL;
	rs_perm_init(&perm, N, 1);
	for (uint32_t i = 0; i < N; i++) {
		uint64_t k = rs_perm_at(&perm, i);
		struct rs_result *r = &rs[i];
		uint32_t a = htonl(0x7f280000u | (uint32_t)(k >> 2));
		r->pos = i;
		r->ts_ns = 1795624499123456000ULL + i * 3000ULL;
		r->rtt_us = 40 + i % 900;
		r->state = RS_CLOSED;
		r->attempts = 1;
		r->ep.family = AF_INET;
		memcpy(r->ep.addr, &a, 4);
		r->ep.port = (uint16_t)(7 + 2 * (k & 3));
	}
	return rs;
}

struct cost {
	double wall, cpu, drain; /* seconds: open to close; all threads; the puts' thread */
};

/* One scan of the N answers rs into the database at path, from its
 * opening to its closing (the WAL folded in), as a scan pays for it;
 * returns 0 or -1 (err says why). */
static int one_scan(const char *path, struct rs_result *rs, const struct rs_svcrec *rec,
		    int svc_every, struct cost *c, char *err, size_t errlen)
{
	struct rs_inv_scan sc = {.version = "bench",
				 .cmdline = "bench",
				 .ports = "7,9,11,13",
				 .shard_count = 1,
				 .space = N,
				 .positions = N,
				 .all = true};
	struct rs_inv_progress p = {.count = {0, N}, .complete = true, .ended_ns = 1};
	double t0 = now_s(), c0 = cpu_s(), d0;
	struct rs_inv *db;

	if (rs_inv_open(path, RS_INV_WRITE, &db, err, errlen))
		return -1;
	if (rs_inv_scan_create(db, &sc) || rs_inv_writer_start(db, sc.id))
		goto fail;
	d0 = thread_cpu_s();
	for (uint32_t i = 0; i < N; i++) {
		bool svc = svc_every && i % svc_every == 0;
		rs[i].svc = svc;
		if (rs_inv_put(db, &rs[i], svc ? rec : NULL))
			goto fail;
	}
	c->drain = thread_cpu_s() - d0;
	if (rs_inv_sync(db, &p, true))
		goto fail;
	rs_inv_close(db);
	c->wall = now_s() - t0;
	c->cpu = cpu_s() - c0;
	return 0;
fail:
	snprintf(err, errlen, "%s", rs_inv_errmsg(db));
	rs_inv_close(db);
	return -1;
}

static int count(void *arg, const struct rs_result *r, const struct rs_svcrec *rec)
{
	(void)r;
	(void)rec;
	(*(uint64_t *)arg)++;
	return 0;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/inv_bench.XXXXXX", path[64], err[256] = "";
	struct rs_svcrec *rec = calloc(1, sizeof(*rec));
	struct rs_result *rs = answers();
	static const char banner[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";

	if (!rec || !rs || !mkdtemp(dir))
		return 1;
	rec->len = rec->total = rec->banner.len = sizeof(banner) - 1;
	memcpy(rec->data, banner, rec->len);
	rec->flags = RS_SVCF_SSH;
	snprintf(rec->probe, sizeof(rec->probe), "NULL");
	printf("| --db writer, %u answers, open to close | wall ms | CPU ms | CPU ns/answer | "
	       "of which the drain's |\n",
	       N);
	printf("|---|---|---|---|---|\n");
	for (int svc = 0; svc <= 4; svc += 4) {
		if (argc > 1 && atoi(argv[1]) != svc)
			continue; /* only the case asked for: inv_bench 0 or 4 */
		snprintf(path, sizeof(path), "%s/b%d.db", dir, svc);
		for (int k = 0; k < 5; k++) {
			struct rs_inv *db;
			struct cost c;
			if (one_scan(path, rs, rec, svc, &c, err, sizeof(err))) {
				fprintf(stderr, "inv_bench: %s\n", err);
				return 1;
			}
			uint64_t n = 0;
			int64_t id = -1;
			struct rs_inv_scan sc;
			if (rs_inv_open(path, RS_INV_READ, &db, err, sizeof(err)))
				return 1;
			if (!rs_inv_scan_get(db, -1, &sc)) {
				id = sc.id;
				rs_inv_scan_free(&sc);
			}
			if (rs_inv_each(db, id, count, &n) || n != N) {
				fprintf(stderr, "inv_bench: scan %lld holds %llu answers, not %u\n",
					(long long)id, (unsigned long long)n, N);
				return 1;
			}
			rs_inv_close(db);
			if (k == 0 || k == 4)
				printf("| %s, %s database | %.0f | %.0f | %.0f | %.0f |\n",
				       svc ? "1 in 4 with a service record" : "no service record",
				       k ? "a 4-scan" : "a fresh", c.wall * 1e3, c.cpu * 1e3,
				       c.cpu * 1e9 / N, c.drain * 1e9 / N);
		}
	}
	free(rs);
	free(rec);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	return system(path) ? 1 : 0;
}
