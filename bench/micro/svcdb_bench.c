/* Micro-benchmark: nmap's service probe database (src/svcdb*.c) against
 * the real file, /usr/share/nmap/nmap-service-probes (skipped, exit 0,
 * when it is absent). Rows:
 *  - load: parse + compile every regex (+ JIT) + build the prefilter, in
 *    ms, with and without JIT, and the memory it takes (RSS growth);
 *  - match: microseconds per response for realistic banners (OpenSSH,
 *    SMTP, FTP, two HTTP responses, 200 random bytes) against the NULL
 *    and GetRequest probes (GetRequest falls back on NULL: both rule
 *    sets), with the prefilter and naively (every regex in turn, as nmap
 *    does), JIT and not; then describe() for the matches. Each figure is
 *    the median of 5 windows (the machine is shared: one stall must not
 *    make a figure).
 * Checked: every banner must give the expected service (none for the
 * random one) and the naive and prefiltered matchers the same rule and
 * captures; any difference exits 1. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ringscan/svcdb.h"
#include "svcdb_int.h"

#define MIN_SECONDS 0.03 /* per timing window */
#define WINDOWS	    5

static const char http_python[] =
	"HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.2\r\n"
	"Date: Tue, 01 Apr 2025 10:00:00 GMT\r\nContent-type: text/html; charset=utf-8\r\n"
	"Content-Length: 318\r\n\r\n<!DOCTYPE HTML>\n<html lang=\"en\">\n<head>\n"
	"<meta charset=\"utf-8\">\n<title>Directory listing for /</title>\n</head>\n<body>\n"
	"<h1>Directory listing for /</h1>\n<hr>\n<ul>\n<li><a href=\"index.txt\">index.txt</a>"
	"</li>\n<li><a href=\"notes/\">notes/</a></li>\n</ul>\n<hr>\n</body>\n</html>\n";

static const char http_nginx[] =
	"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 01 Apr 2025 10:00:00 GMT\r\n"
	"Content-Type: text/html\r\nContent-Length: 615\r\n"
	"Last-Modified: Mon, 31 Mar 2025 08:00:00 GMT\r\nConnection: close\r\n"
	"ETag: \"67ea4c40-267\"\r\nAccept-Ranges: bytes\r\n\r\n<!DOCTYPE html>\n<html>\n"
	"<head>\n<title>Welcome to nginx!</title>\n<style>\nhtml { color-scheme: light dark; }\n"
	"body { width: 35em; margin: 0 auto;\nfont-family: Tahoma, Verdana, Arial, sans-serif; }\n"
	"</style>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n<p>If you see this page, the "
	"nginx web server is successfully installed and\nworking. Further configuration is "
	"required.</p>\n\n<p>For online documentation and support please refer to\n"
	"<a href=\"http://nginx.org/\">nginx.org</a>.<br/>\nCommercial support is available at\n"
	"<a href=\"http://nginx.com/\">nginx.com</a>.</p>\n\n<p><em>Thank you for using "
	"nginx.</em></p>\n</body>\n</html>\n";

struct banner {
	const char *label;
	const uint8_t *b;
	size_t len;
	const char *want[2]; /* service for NULL, for GetRequest ("" none) */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Best of three loads, in ms; *heap the malloc'd bytes a db holds, *rss
 * what the first load added to the process (heap, and PCRE2's JIT code,
 * which it maps itself). */
static double load_ms(const char *path, unsigned flags, size_t *heap, long *rss)
{
	double best = 1e9;
	for (int i = 0; i < 3; i++) {
		struct rs_svcdb *db;
		char err[256];
		long before = rss_kb();
		size_t h0 = mallinfo2().uordblks;
		double t0 = now_s();
		if (rs__svcdb_load_opts(path, &db, err, sizeof(err), flags)) {
			fprintf(stderr, "svcdb_bench: %s\n", err);
			exit(1);
		}
		double dt = (now_s() - t0) * 1e3;
		best = dt < best ? dt : best;
		*heap = mallinfo2().uordblks - h0;
		if (i == 0)
			*rss = rss_kb() - before;
		rs_svcdb_free(db);
	}
	return best;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Microseconds per call of what(): the median of WINDOWS windows of at
 * least MIN_SECONDS each, so that one stall of this shared machine
 * spoils one window, not the figure. */
struct job {
	const struct rs_svcdb *db;
	struct rs_svcscratch *s;
	int probe;
	const struct banner *b;
	struct rs_svcmatch *m;
	struct rs_svcinfo *info;
};

static void do_match(const struct job *j)
{
	if (rs_svcdb_match(j->db, j->s, (unsigned)j->probe, j->b->b, j->b->len, j->m) < 0)
		exit(1);
}

static void do_describe(const struct job *j)
{
	rs_svcdb_describe(j->db, j->m, j->b->b, j->b->len, j->info);
}

static double time_us(void (*what)(const struct job *), const struct job *j)
{
	double w[WINDOWS];
	for (int k = 0; k < WINDOWS; k++) {
		long n = 0;
		double t0 = now_s(), dt;
		do {
			for (int i = 0; i < 10; i++, n++)
				what(j);
			dt = now_s() - t0;
		} while (dt < MIN_SECONDS);
		w[k] = dt * 1e6 / (double)n;
	}
	qsort(w, WINDOWS, sizeof(w[0]), cmp_double);
	return w[WINDOWS / 2];
}

/* One row: prefiltered, then naive; both must agree with each other and
 * with the expected service. */
static int row(const struct rs_svcdb *db, const struct rs_svcdb *nojit, struct rs_svcscratch *s,
	       struct rs_svcscratch *s2, const struct banner *b, int pi)
{
	static const char *const pname[2] = {"NULL", "GetRequest"};
	struct rs_svcmatch m, mn, mj;
	struct rs_svcinfo info = {0};
	int probe = rs_svcdb_find_probe(db, pname[pi]);
	if (probe < 0)
		return fprintf(stderr, "svcdb_bench: no %s probe\n", pname[pi]), 1;

	struct job j = {db, s, probe, b, &m, &info}, jj = {nojit, s2, probe, b, &mj, &info};
	struct job jn = {db, s, probe, b, &mn, &info};
	rs__svcscratch_naive(s, false);
	double fast = time_us(do_match, &j);
	double fast_nojit = time_us(do_match, &jj);
	rs__svcscratch_naive(s, true);
	double naive = time_us(do_match, &jn);
	rs__svcscratch_naive(s, false);
	double desc = m.rule >= 0 ? time_us(do_describe, &j) : 0;
	if (memcmp(&m, &mn, sizeof(m)) || memcmp(&m, &mj, sizeof(m)) ||
	    strcmp(info.name, b->want[pi])) {
		fprintf(stderr,
			"svcdb_bench: %s/%s: got '%s' (line %u), naive line %u, want '%s'\n",
			b->label, pname[pi], info.name, rs_svcdb_rule_line(db, m.rule),
			rs_svcdb_rule_line(db, mn.rule), b->want[pi]);
		return 1;
	}
	printf("| %s | %s | %s%s%s | %.2f | %.2f | %.0f | %.0fx | %.2f |\n", b->label, pname[pi],
	       m.rule >= 0 ? info.name : "(none)", info.product[0] ? " " : "", info.product, fast,
	       fast_nojit, naive, naive / fast, desc);
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : RS_SVCDB_DEFAULT_PATH;
	struct rs_svcdb *db, *nojit;
	struct rs_svcscratch *s, *s2;
	uint8_t rnd[200];
	char err[256];
	size_t heap, heap_nojit;
	long rss, rss_nojit;
	int rc = 0;

	if (access(path, R_OK)) {
		printf("skipped: no %s (nmap's service probe database)\n", path);
		return 0;
	}
	double ms = load_ms(path, 0, &heap, &rss);
	double ms_nojit = load_ms(path, SVC_LOAD_NOJIT, &heap_nojit, &rss_nojit);
	if (rs_svcdb_load(path, &db, err, sizeof(err)) ||
	    rs__svcdb_load_opts(path, &nojit, err, sizeof(err), SVC_LOAD_NOJIT)) {
		fprintf(stderr, "svcdb_bench: %s\n", err);
		return 1;
	}
	printf("%s: %u TCP probes, %u rules\n\n", path, rs_svcdb_nprobes(db), rs_svcdb_nrules(db));
	printf("| load (best of 3) | ms | heap MiB | RSS growth of the first load, MiB |\n"
	       "|---|---|---|---|\n");
	printf("| parse + compile + JIT + prefilter | %.0f | %.1f | %.1f |\n", ms,
	       (double)heap / 1048576.0, (double)rss / 1024.0);
	printf("| parse + compile + prefilter (no JIT) | %.0f | %.1f | (heap reused) |\n\n",
	       ms_nojit, (double)heap_nojit / 1048576.0);

	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < sizeof(rnd); i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		rnd[i] = (uint8_t)x;
	}
#define B(l, s, w0, w1)                                                                            \
	{                                                                                          \
		l, (const uint8_t *)(s), sizeof(s) - 1,                                            \
		{                                                                                  \
			w0, w1                                                                     \
		}                                                                                  \
	}
	const struct banner banners[] = {
		B("OpenSSH", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n", "ssh", "ssh"),
		B("SMTP", "220 mail.example.org ESMTP Postfix (Debian/GNU)\r\n", "smtp", "smtp"),
		B("FTP", "220 (vsFTPd 3.0.3)\r\n", "ftp", "ftp"),
		B("HTTP python", http_python, "", "http"),
		B("HTTP nginx", http_nginx, "", "http"),
		{"random 200 B", rnd, sizeof(rnd), {"", ""}},
	};
	if (rs_svcscratch_create(db, &s) || rs_svcscratch_create(nojit, &s2))
		return 1;
	printf("| response | probe | answer | µs prefiltered (JIT) | µs prefiltered (no JIT) "
	       "| µs naive (JIT) | speed-up | µs describe |\n|---|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < sizeof(banners) / sizeof(banners[0]) && !rc; i++)
		for (int p = 0; p < 2 && !rc; p++)
			rc = row(db, nojit, s, s2, &banners[i], p);
	rs_svcscratch_free(s);
	rs_svcscratch_free(s2);
	rs_svcdb_free(db);
	rs_svcdb_free(nojit);
	return rc;
}
