/* Micro-benchmark: nanoseconds per JSON line, the work the coordinator does
 * for every reported probe (scan.c: drain() -> sink->record): the jsonl
 * sink, found with rs_sink_find() as main does, formats a result record
 * into a buffered rs_out that is written 64 KiB at a time. Rows: the
 * formatter alone (rs_fmt_jsonl into a line buffer), the sink into an
 * rs_out on /dev/null (formatting + buffering + write syscalls without a
 * disk), and the sink into an rs_out on a memfd (a real file: the writes
 * copy into the page cache).
 *
 * Checked: four records are first compared byte for byte with lines
 * written out by hand in DESIGN.md's schema (IPv4 127.x and ::1, open and
 * closed). Then a table of 4096 varied records (addresses, ports, states,
 * rtt, attempts, timestamps crossing a year boundary) is formatted
 * independently (inet_ntop, gmtime_r, snprintf); the memfd run's whole
 * output is read back and compared with it, and the other runs must
 * produce exactly as many bytes. Any difference exits 1. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ringscan/sink.h"

#define PERIOD	     4096 /* records in the table, cycled */
#define NULL_PERIODS 2500 /* 10.24 M lines to /dev/null and through the formatter */
#define FILE_PERIODS 250  /* 1.02 M lines (~130 MB) to the memfd */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *what)
{
	fprintf(stderr, "jsonl_bench: %s\n", what);
	exit(1);
}

static uint64_t epoch_ns(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = {.tm_year = y - 1900,
			.tm_mon = mo - 1,
			.tm_mday = d,
			.tm_hour = h,
			.tm_min = mi,
			.tm_sec = s};
	return (uint64_t)timegm(&tm) * 1000000000ULL;
}

static struct rs_result v4_rec(uint32_t a, uint16_t port, enum rs_state st, uint32_t rtt,
			       uint8_t attempts, uint64_t ts)
{
	struct rs_result r = {
		.ts_ns = ts, .rtt_us = rtt, .state = (uint8_t)st, .attempts = attempts};
	r.ep.family = AF_INET;
	r.ep.port = port;
	for (int b = 0; b < 4; b++)
		r.ep.addr[b] = (uint8_t)(a >> (24 - 8 * b));
	return r;
}

static struct rs_result v6_loopback_rec(uint16_t port, enum rs_state st, uint32_t rtt,
					uint8_t attempts, uint64_t ts)
{
	struct rs_result r = {
		.ts_ns = ts, .rtt_us = rtt, .state = (uint8_t)st, .attempts = attempts};
	r.ep.family = AF_INET6;
	r.ep.port = port;
	r.ep.addr[15] = 1;
	return r;
}

/* The line for r, written without the library. */
static size_t ref_line(char *dst, size_t cap, const struct rs_result *r)
{
	char ip[INET6_ADDRSTRLEN], date[32];
	time_t secs = (time_t)(r->ts_ns / 1000000000ULL);
	struct tm tm;
	int n;

	if (!inet_ntop(r->ep.family, r->ep.addr, ip, sizeof(ip)) || !gmtime_r(&secs, &tm) ||
	    !strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm))
		fail("cannot format the reference line");
	n = snprintf(dst, cap,
		     "{\"ip\":\"%s\",\"port\":%u,\"proto\":\"tcp\",\"state\":\"%s\",\"reason\":"
		     "\"%s\",\"rtt_us\":%u,\"attempts\":%u,\"ts\":\"%s.%06uZ\"}\n",
		     ip, r->ep.port, r->state == RS_OPEN ? "open" : "closed",
		     r->state == RS_OPEN ? "syn-ack" : "rst", r->rtt_us, r->attempts, date,
		     (unsigned)(r->ts_ns / 1000 % 1000000));
	if (n <= 0 || (size_t)n >= cap)
		fail("reference line too long");
	return (size_t)n;
}

static int open_memfd(void)
{
	int fd = memfd_create("jsonl_bench", MFD_CLOEXEC);
	if (fd < 0)
		fail("memfd_create failed");
	return fd;
}

/* The whole content of fd, which must be exactly want[len]. */
static void check_file(int fd, const char *want, size_t len, size_t period_len)
{
	static char buf[1 << 16];
	size_t off = 0;
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), (off_t)off)) > 0) {
		/* want is one period: the file is that period repeated. */
		for (size_t i = 0; i < (size_t)n; i++)
			if (buf[i] != want[(off + i) % period_len])
				fail("sink output differs from the reference lines");
		off += (size_t)n;
	}
	if (n < 0 || off != len)
		fail("sink output has the wrong length");
}

/* Exact lines in DESIGN.md's schema for four records. */
static void check_design_lines(const struct rs_sink_ops *sink, struct rs_out *o)
{
	static const char want[] =
		"{\"ip\":\"127.0.0.1\",\"port\":22,\"proto\":\"tcp\",\"state\":\"open\","
		"\"reason\":\"syn-ack\",\"rtt_us\":87,\"attempts\":1,"
		"\"ts\":\"2026-11-25T16:34:59.123456Z\"}\n"
		"{\"ip\":\"127.255.3.41\",\"port\":65535,\"proto\":\"tcp\",\"state\":\"closed\","
		"\"reason\":\"rst\",\"rtt_us\":1234567,\"attempts\":2,"
		"\"ts\":\"2026-11-25T16:34:59.123457Z\"}\n"
		"{\"ip\":\"::1\",\"port\":443,\"proto\":\"tcp\",\"state\":\"open\","
		"\"reason\":\"syn-ack\",\"rtt_us\":0,\"attempts\":1,"
		"\"ts\":\"2026-11-25T16:35:00.000000Z\"}\n"
		"{\"ip\":\"::1\",\"port\":8080,\"proto\":\"tcp\",\"state\":\"closed\","
		"\"reason\":\"rst\",\"rtt_us\":4294967295,\"attempts\":3,"
		"\"ts\":\"2026-11-25T16:34:59.000001Z\"}\n";
	uint64_t t = epoch_ns(2026, 11, 25, 16, 34, 59);
	struct rs_result r[4] = {
		v4_rec(0x7f000001, 22, RS_OPEN, 87, 1, t + 123456789),
		v4_rec(0x7fff0329, 65535, RS_CLOSED, 1234567, 2, t + 123457000),
		v6_loopback_rec(443, RS_OPEN, 0, 1, t + 1000000000),
		v6_loopback_rec(8080, RS_CLOSED, 4294967295u, 3, t + 1999),
	};
	int fd = open_memfd();

	if (t != 1795624499ULL * 1000000000ULL)
		fail("timegm() disagrees with the expected epoch");
	rs_out_init(o, fd);
	for (int i = 0; i < 4; i++)
		if (sink->record(o, &r[i], NULL))
			fail("record() failed");
	if (rs_out_flush(o) || o->written != sizeof(want) - 1)
		fail("flush failed or wrote the wrong length");
	check_file(fd, want, sizeof(want) - 1, sizeof(want) - 1);
	close(fd);
}

/* PERIOD varied records: 127.x.y.z and ::1, six ports, open and closed,
 * rtt 0..299999 us, 1-3 attempts, a timestamp 1.23 s apart from
 * 2026-12-31T23:00 into 2027. */
static void fill_table(struct rs_result *tab)
{
	static const uint16_t ports[] = {22, 80, 443, 8080, 1, 65535};
	uint64_t t = epoch_ns(2026, 12, 31, 23, 0, 0);

	for (uint32_t i = 0; i < PERIOD; i++) {
		uint32_t h = i * 2654435761u;
		enum rs_state st = (i >> 2) & 1 ? RS_CLOSED : RS_OPEN;
		uint16_t port = ports[i % 6];
		uint32_t rtt = (h >> 8) % 300000;
		uint8_t att = (uint8_t)(1 + i % 3);
		uint64_t ts = t + i * 1234567891ULL;

		tab[i] = i % 4 == 3 ? v6_loopback_rec(port, st, rtt, att, ts)
				    : v4_rec(0x7f000000 | (h & 0xffffff), port, st, rtt, att, ts);
	}
}

int main(void)
{
	const struct rs_sink_ops *sink = rs_sink_find("jsonl");
	static struct rs_result tab[PERIOD];
	static struct rs_out out;
	char *ref, line[RS_LINE_MAX];
	size_t plen = 0;
	double t0, dt;
	int fd;

	if (!sink || !sink->record)
		fail("no jsonl sink");
	check_design_lines(sink, &out);

	fill_table(tab);
	ref = malloc((size_t)PERIOD * RS_LINE_MAX);
	if (!ref)
		fail("out of memory");
	for (size_t i = 0; i < PERIOD; i++)
		plen += ref_line(ref + plen, RS_LINE_MAX, &tab[i]);

	printf("| path (%d records cycled) | lines | bytes/line | ns/line | MB/s |\n"
	       "|---|---|---|---|---|\n",
	       PERIOD);

	/* 1. The formatter alone. */
	uint64_t total = 0;
	t0 = now_s();
	for (size_t k = 0; k < NULL_PERIODS; k++)
		for (size_t i = 0; i < PERIOD; i++) {
			size_t n = rs_fmt_jsonl(line, &tab[i]);
			if (n < 2 || n > RS_LINE_MAX || line[n - 1] != '\n' || line[0] != '{')
				fail("rs_fmt_jsonl wrote a malformed line");
			total += n;
		}
	dt = now_s() - t0;
	if (total != (uint64_t)plen * NULL_PERIODS)
		fail("rs_fmt_jsonl wrote the wrong number of bytes");
	uint64_t lines = (uint64_t)PERIOD * NULL_PERIODS;
	printf("| rs_fmt_jsonl into a line buffer | %llu | %.1f | %.1f | %.0f |\n",
	       (unsigned long long)lines, (double)plen / PERIOD, dt * 1e9 / (double)lines,
	       (double)total / dt / 1e6);

	/* 2. The sink into an rs_out on /dev/null. */
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		fail("cannot open /dev/null");
	rs_out_init(&out, fd);
	t0 = now_s();
	for (size_t k = 0; k < NULL_PERIODS; k++)
		for (size_t i = 0; i < PERIOD; i++)
			if (sink->record(&out, &tab[i], NULL))
				fail("record() failed");
	if (rs_out_flush(&out))
		fail("flush to /dev/null failed");
	dt = now_s() - t0;
	close(fd);
	if (out.written != (uint64_t)plen * NULL_PERIODS)
		fail("the sink wrote the wrong number of bytes to /dev/null");
	printf("| jsonl sink -> rs_out -> /dev/null | %llu | %.1f | %.1f | %.0f |\n",
	       (unsigned long long)lines, (double)plen / PERIOD, dt * 1e9 / (double)lines,
	       (double)out.written / dt / 1e6);

	/* 3. The sink into an rs_out on a memfd; every byte checked after. */
	fd = open_memfd();
	rs_out_init(&out, fd);
	t0 = now_s();
	for (size_t k = 0; k < FILE_PERIODS; k++)
		for (size_t i = 0; i < PERIOD; i++)
			if (sink->record(&out, &tab[i], NULL))
				fail("record() failed");
	if (rs_out_flush(&out))
		fail("flush to the memfd failed");
	dt = now_s() - t0;
	check_file(fd, ref, plen * FILE_PERIODS, plen);
	close(fd);
	lines = (uint64_t)PERIOD * FILE_PERIODS;
	printf("| jsonl sink -> rs_out -> memfd (page cache) | %llu | %.1f | %.1f | %.0f |\n",
	       (unsigned long long)lines, (double)plen / PERIOD, dt * 1e9 / (double)lines,
	       (double)out.written / dt / 1e6);
	free(ref);
	return 0;
}
