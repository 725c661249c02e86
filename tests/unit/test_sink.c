/* Unit tests for src/format.c, src/sink.c and src/sink_*.c: the JSON line
 * of DESIGN.md byte for byte, timestamps against gmtime_r, addresses
 * against inet_ntop, the RS_LINE_MAX bound, rs_out buffering through a pipe
 * and a file, and the csv and list sinks' lines. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ringscan/classify.h"
#include "ringscan/sink.h"
#include "guard.h"

/* 2026-11-25T16:34:59Z, by hand: 56 years from 1970 with 14 leap days
 * (1972..2024) = 20454 days to 2026-01-01; Jan..Oct of 2026 = 304 days,
 * plus 24 = day 328; 20782 days = 1795564800 s; 16:34:59 = 59699 s. */
#define DESIGN_SECS  1795624499ULL
#define DESIGN_TS_NS (DESIGN_SECS * 1000000000ULL + 123456000ULL)

static struct rs_result mk(const char *ip, uint16_t port, enum rs_state st, int err, uint32_t rtt,
			   uint8_t attempts, uint64_t ts_ns)
{
	struct rs_result r;

	memset(&r, 0, sizeof(r));
	if (strchr(ip, ':')) {
		r.ep.family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, ip, r.ep.addr), 1);
	} else {
		r.ep.family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, ip, r.ep.addr), 1);
	}
	r.ep.port = port;
	r.state = (uint8_t)st;
	r.err = err;
	r.rtt_us = rtt;
	r.attempts = attempts;
	r.ts_ns = ts_ns;
	return r;
}

/* rs_fmt_jsonl into a buffer of exactly RS_LINE_MAX bytes that ends at a
 * guard page; returns a NUL-terminated copy in out. */
static size_t jsonl(const struct rs_result *r, char *out)
{
	char *d = guard_buf(RS_LINE_MAX);
	size_t n = rs_fmt_jsonl(d, r);

	assert_true(n > 0 && n <= RS_LINE_MAX);
	memcpy(out, d, n);
	out[n] = 0;
	return n;
}

static void test_design_line(void **state)
{
	(void)state;
	char line[RS_LINE_MAX + 1];
	struct rs_result r = mk("127.0.0.1", 22, RS_OPEN, 0, 87, 1, DESIGN_TS_NS);
	const char *want = "{\"ip\":\"127.0.0.1\",\"port\":22,\"proto\":\"tcp\",\"state\":\"open\","
			   "\"reason\":\"syn-ack\",\"rtt_us\":87,\"attempts\":1,"
			   "\"ts\":\"2026-11-25T16:34:59.123456Z\"}\n";

	/* the hand computation agrees with the C library */
	struct tm tm = {.tm_year = 126,
			.tm_mon = 10,
			.tm_mday = 25,
			.tm_hour = 16,
			.tm_min = 34,
			.tm_sec = 59};
	assert_int_equal((uint64_t)timegm(&tm), DESIGN_SECS);

	assert_int_equal(jsonl(&r, line), strlen(want));
	assert_string_equal(line, want);

	/* sub-microsecond nanoseconds are dropped, not rounded */
	r.ts_ns = DESIGN_TS_NS + 999;
	jsonl(&r, line);
	assert_string_equal(line, want);
	r.ts_ns = DESIGN_SECS * 1000000000ULL + 999999999ULL;
	jsonl(&r, line);
	assert_non_null(strstr(line, "\"ts\":\"2026-11-25T16:34:59.999999Z\""));
}

static void test_state_lines(void **state)
{
	(void)state;
	char line[RS_LINE_MAX + 1];
	static const struct {
		const char *ip;
		uint16_t port;
		enum rs_state st;
		int err;
		uint32_t rtt;
		uint8_t att;
		uint64_t ts;
		const char *want;
	} t[] = {
		{"127.0.0.2", 23, RS_CLOSED, 0, 5, 1, 0,
		 "{\"ip\":\"127.0.0.2\",\"port\":23,\"proto\":\"tcp\",\"state\":\"closed\","
		 "\"reason\":\"rst\","
		 "\"rtt_us\":5,\"attempts\":1,\"ts\":\"1970-01-01T00:00:00.000000Z\"}\n"},
		{"0.0.0.0", 65535, RS_FILTERED, 0, 0, 2, 1000,
		 "{\"ip\":\"0.0.0.0\",\"port\":65535,\"proto\":\"tcp\",\"state\":\"filtered\","
		 "\"reason\":\"timeout\",\"rtt_us\":0,\"attempts\":2,\"ts\":\"1970-01-01T00:00:00."
		 "000001Z\"}\n"},
		{"255.255.255.255", 1, RS_UNREACHABLE, 0, 4294967295u, 255,
		 951782400ULL * 1000000000ULL,
		 "{\"ip\":\"255.255.255.255\",\"port\":1,\"proto\":\"tcp\",\"state\":"
		 "\"unreachable\","
		 "\"reason\":\"unreachable\",\"rtt_us\":4294967295,\"attempts\":255,"
		 "\"ts\":\"2000-02-29T00:00:00.000000Z\"}\n"},
		{"10.20.30.40", 443, RS_ERROR, EACCES, 12, 1,
		 1709164800ULL * 1000000000ULL + 500000000ULL,
		 "{\"ip\":\"10.20.30.40\",\"port\":443,\"proto\":\"tcp\",\"state\":\"error\","
		 "\"reason\":\"EACCES\",\"rtt_us\":12,\"attempts\":1,\"ts\":\"2024-02-29T00:00:00."
		 "500000Z\"}\n"},
		{"127.0.0.1", 80, RS_ERROR, EHOSTDOWN, 1000000, 3,
		 1704067199ULL * 1000000000ULL + 999999000ULL,
		 "{\"ip\":\"127.0.0.1\",\"port\":80,\"proto\":\"tcp\",\"state\":\"error\","
		 "\"reason\":\"EHOSTDOWN\",\"rtt_us\":1000000,\"attempts\":3,"
		 "\"ts\":\"2023-12-31T23:59:59.999999Z\"}\n"},
		{"::1", 22, RS_OPEN, 0, 1, 1, 0,
		 "{\"ip\":\"::1\",\"port\":22,\"proto\":\"tcp\",\"state\":\"open\",\"reason\":"
		 "\"syn-ack\","
		 "\"rtt_us\":1,\"attempts\":1,\"ts\":\"1970-01-01T00:00:00.000000Z\"}\n"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct rs_result r =
			mk(t[i].ip, t[i].port, t[i].st, t[i].err, t[i].rtt, t[i].att, t[i].ts);
		jsonl(&r, line);
		if (strcmp(line, t[i].want))
			fail_msg("case %zu:\n got  %s want %s", i, line, t[i].want);
	}
}

/* Our own rendering of a timestamp, through gmtime_r. */
static void ref_ts(char *dst, size_t len, uint64_t ts_ns)
{
	time_t secs = (time_t)(ts_ns / 1000000000ULL);
	struct tm tm;
	size_t n;

	assert_non_null(gmtime_r(&secs, &tm));
	n = strftime(dst, len, "%Y-%m-%dT%H:%M:%S", &tm);
	assert_true(n > 0);
	snprintf(dst + n, len - n, ".%06uZ", (unsigned)(ts_ns / 1000 % 1000000));
}

static void check_ts(uint64_t ts_ns)
{
	char want[64];
	char *got = guard_buf(33);
	size_t n;

	ref_ts(want, sizeof(want), ts_ns);
	memset(got, 'Z', 33);
	n = rs_fmt_ts(got, ts_ns);
	if (n != strlen(want) || memcmp(got, want, n))
		fail_msg("ts_ns %" PRIu64 ": got %.*s, expected %s", ts_ns, (int)n, got, want);
}

static void test_timestamps(void **state)
{
	(void)state;
	static const char *const named[] = {
		"1970-01-01T00:00:00", "1970-01-01T23:59:59", "1970-12-31T23:59:59",
		"1972-02-29T12:00:00", "1999-12-31T23:59:59", "2000-01-01T00:00:00",
		"2000-02-28T23:59:59", "2000-02-29T00:00:00", "2000-03-01T00:00:00",
		"2001-03-01T00:00:00", "2023-12-31T23:59:59", "2024-01-01T00:00:00",
		"2024-02-29T00:00:00", "2024-02-29T23:59:59", "2024-03-01T00:00:00",
		"2024-12-31T23:59:59", "2038-01-19T03:14:07", "2038-01-19T03:14:08",
		"2100-02-28T23:59:59", "2100-03-01T00:00:00", "2106-02-07T06:28:16",
		"2400-02-29T12:00:00", "2554-07-21T23:34:33",
	};

	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		struct tm tm;
		memset(&tm, 0, sizeof(tm));
		assert_non_null(strptime(named[i], "%Y-%m-%dT%H:%M:%S", &tm));
		uint64_t s = (uint64_t)timegm(&tm);
		char got[64];
		size_t n = rs_fmt_ts(got, s * 1000000000ULL + 654321000ULL);
		char want[64];
		snprintf(want, sizeof(want), "%s.654321Z", named[i]);
		if (n != strlen(want) || memcmp(got, want, n))
			fail_msg("%s: got %.*s", want, (int)n, got);
		check_ts(s * 1000000000ULL);
	}
	check_ts(0);
	check_ts(1);
	check_ts(999999999);
	check_ts(UINT64_MAX);
	check_ts(UINT64_MAX - UINT64_MAX % 1000000000ULL - 1);
	/* every day boundary for 1970..2110, and a spread of instants up to the
	 * end of the uint64 nanosecond range */
	for (uint64_t d = 0; d < 51500; d++) {
		check_ts(d * 86400ULL * 1000000000ULL);
		check_ts((d * 86400ULL + 86399) * 1000000000ULL + 999999999ULL);
	}
	uint64_t x = 0x853c49e6748fea9bULL;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		check_ts(x);
	}
}

static void test_fmt_ip(void **state)
{
	(void)state;
	struct rs_endpoint ep;
	char want[INET6_ADDRSTRLEN];
	uint64_t x = 0x2545f4914f6cdd1dULL;
	static const char *const v4[] = {"0.0.0.0", "255.255.255.255", "127.0.0.1",   "10.0.0.1",
					 "1.2.3.4", "100.200.10.0",    "9.99.199.255"};
	static const char *const v6[] = {"::1",
					 "::",
					 "fe80::1",
					 "2001:db8::ff00:42:8329",
					 "1111:2222:3333:4444:5555:6666:7777:8888",
					 "::ffff:255.255.255.255"};

	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		memset(&ep, 0, sizeof(ep));
		ep.family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, v4[i], ep.addr), 1);
		char *d = guard_buf(47);
		assert_int_equal(rs_fmt_ip(d, &ep), strlen(v4[i]));
		assert_string_equal(d, v4[i]);
	}
	for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		memset(&ep, 0, sizeof(ep));
		ep.family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, v6[i], ep.addr), 1);
		char *d = guard_buf(46);
		assert_int_equal(rs_fmt_ip(d, &ep), strlen(v6[i]));
		assert_string_equal(d, v6[i]);
	}
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memset(&ep, 0, sizeof(ep));
		ep.family = AF_INET;
		memcpy(ep.addr, &x, 4);
		inet_ntop(AF_INET, ep.addr, want, sizeof(want));
		char got[64];
		assert_int_equal(rs_fmt_ip(got, &ep), strlen(want));
		assert_string_equal(got, want);
	}
}

static const char *const state_str[] = {"open", "closed", "filtered", "unreachable", "error"};
static const char *const reason_str[] = {"syn-ack", "rst", "timeout", "unreachable"};

/* Random records: every line equals an independent rendering, fits in
 * RS_LINE_MAX, has exactly one newline (at the end). */
static void test_jsonl_random(void **state)
{
	(void)state;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	static const int errs[] = {EACCES, EPERM, EHOSTDOWN, ECONNABORTED, EPROTO, EINVAL};

	for (int i = 0; i < 50000; i++) {
		struct rs_result r;
		char line[RS_LINE_MAX + 1], want[1024], ip[64], ts[64];
		const char *reason;

		memset(&r, 0, sizeof(r));
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		r.ep.family = AF_INET;
		memcpy(r.ep.addr, &x, 4);
		r.ep.port = (uint16_t)(x >> 32);
		r.state = (uint8_t)((x >> 48) % RS_NSTATES);
		r.err = r.state == RS_ERROR ? errs[(x >> 52) % 6] : 0;
		r.rtt_us = (uint32_t)(x * 31);
		r.attempts = (uint8_t)(x >> 56);
		r.ts_ns = x >> (x % 8);
		reason = r.state == RS_ERROR ? rs_errno_name(r.err) : reason_str[r.state];
		inet_ntop(AF_INET, r.ep.addr, ip, sizeof(ip));
		ref_ts(ts, sizeof(ts), r.ts_ns);
		snprintf(want, sizeof(want),
			 "{\"ip\":\"%s\",\"port\":%u,\"proto\":\"tcp\",\"state\":\"%s\",\"reason\":"
			 "\"%s\","
			 "\"rtt_us\":%u,\"attempts\":%u,\"ts\":\"%s\"}\n",
			 ip, r.ep.port, state_str[r.state], reason, r.rtt_us, r.attempts, ts);
		size_t n = jsonl(&r, line);
		if (strcmp(line, want))
			fail_msg("record %d:\n got  %s want %s", i, line, want);
		assert_ptr_equal(memchr(line, '\n', n), line + n - 1);
	}
}

/* The longest possible records stay within RS_LINE_MAX (the buffer ends at
 * a guard page, so an overrun faults). */
static void test_line_max(void **state)
{
	(void)state;
	static const char *const ips[] = {
		"255.255.255.255", "1111:2222:3333:4444:5555:6666:7777:8888",
		"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", "::ffff:255.255.255.255"};
	static const int errs[] = {0, EACCES, EPROTONOSUPPORT, 4000, -1, 2147483647};
	char line[RS_LINE_MAX + 1];

	for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++)
		for (int st = 0; st <= RS_NSTATES + 1; st++)
			for (size_t e = 0; e < sizeof(errs) / sizeof(errs[0]); e++) {
				struct rs_result r = mk(ips[i], 65535, (enum rs_state)st, errs[e],
							4294967295u, 255, UINT64_MAX);
				size_t n = jsonl(&r, line);
				assert_true(n <= RS_LINE_MAX);
				assert_int_equal(line[n - 1], '\n');
				assert_int_equal(line[0], '{');
			}
}

/* --- rs_out and the sinks --------------------------------------------- */

static struct rs_out *out_new(int fd)
{
	struct rs_out *o = malloc(sizeof(*o));
	assert_non_null(o);
	memset(o, 0x5a, sizeof(*o));
	rs_out_init(o, fd);
	assert_int_equal(o->len, 0);
	assert_int_equal(o->written, 0);
	assert_int_equal(o->err, 0);
	return o;
}

/* The whole content of fd (a file), from offset 0. */
static char *slurp(int fd, size_t *len)
{
	struct stat st;
	char *b;

	assert_int_equal(fstat(fd, &st), 0);
	b = malloc((size_t)st.st_size + 1);
	assert_non_null(b);
	assert_int_equal(pread(fd, b, (size_t)st.st_size, 0), st.st_size);
	b[st.st_size] = 0;
	*len = (size_t)st.st_size;
	return b;
}

static int tmpfd(void)
{
	int fd = memfd_create("ringscan-test", 0);
	assert_true(fd >= 0);
	return fd;
}

static int emit(const struct rs_sink_ops *ops, struct rs_out *o, const struct rs_result *r,
		size_t n)
{
	struct rs_sink_ctx ctx = {.version = "test", .cmdline = "ringscan", .complete = true};
	int rc = ops->begin ? ops->begin(o, &ctx) : 0;
	for (size_t i = 0; i < n && !rc; i++)
		rc = ops->record(o, &r[i], NULL);
	if (!rc && ops->end)
		rc = ops->end(o, &ctx);
	if (!rc)
		rc = rs_out_flush(o);
	return rc;
}

static void test_sink_registry(void **state)
{
	(void)state;
	static const char *const names[] = {"jsonl", "csv", "list"};

	for (size_t i = 0; i < 3; i++) {
		const struct rs_sink_ops *ops = rs_sink_find(names[i]);
		assert_non_null(ops);
		assert_string_equal(ops->name, names[i]);
		assert_non_null(ops->record);
		assert_non_null(strstr(rs_sink_names(), names[i]));
	}
	assert_null(rs_sink_find(""));
	assert_null(rs_sink_find("json"));
	assert_null(rs_sink_find("jsonlx"));
	assert_null(rs_sink_find("JSONL"));
	assert_null(rs_sink_find("nope"));
	assert_ptr_not_equal(rs_sink_find("csv"), rs_sink_find("list"));
}

static void test_sink_lines(void **state)
{
	(void)state;
	struct rs_result r[] = {
		mk("127.0.0.1", 22, RS_OPEN, 0, 87, 1, DESIGN_TS_NS),
		mk("0.0.0.0", 65535, RS_CLOSED, 0, 0, 2, 0),
		mk("255.255.255.255", 1, RS_ERROR, EACCES, 4294967295u, 255,
		   951782400ULL * 1000000000ULL),
		mk("::1", 8080, RS_FILTERED, 0, 3, 2, 1000),
	};
	static const struct {
		const char *sink, *want;
	} t[] = {
		{"jsonl",
		 "{\"ip\":\"127.0.0.1\",\"port\":22,\"proto\":\"tcp\",\"state\":\"open\","
		 "\"reason\":\"syn-ack\","
		 "\"rtt_us\":87,\"attempts\":1,\"ts\":\"2026-11-25T16:34:59.123456Z\"}\n"
		 "{\"ip\":\"0.0.0.0\",\"port\":65535,\"proto\":\"tcp\",\"state\":\"closed\","
		 "\"reason\":\"rst\","
		 "\"rtt_us\":0,\"attempts\":2,\"ts\":\"1970-01-01T00:00:00.000000Z\"}\n"
		 "{\"ip\":\"255.255.255.255\",\"port\":1,\"proto\":\"tcp\",\"state\":\"error\","
		 "\"reason\":\"EACCES\","
		 "\"rtt_us\":4294967295,\"attempts\":255,\"ts\":\"2000-02-29T00:00:00.000000Z\"}\n"
		 "{\"ip\":\"::1\",\"port\":8080,\"proto\":\"tcp\",\"state\":\"filtered\","
		 "\"reason\":\"timeout\","
		 "\"rtt_us\":3,\"attempts\":2,\"ts\":\"1970-01-01T00:00:00.000001Z\"}\n"},
		{"csv",
		 "ip,port,proto,state,reason,rtt_us,attempts,ts\n"
		 "127.0.0.1,22,tcp,open,syn-ack,87,1,2026-11-25T16:34:59.123456Z\n"
		 "0.0.0.0,65535,tcp,closed,rst,0,2,1970-01-01T00:00:00.000000Z\n"
		 "255.255.255.255,1,tcp,error,EACCES,4294967295,255,2000-02-29T00:00:00.000000Z\n"
		 "::1,8080,tcp,filtered,timeout,3,2,1970-01-01T00:00:00.000001Z\n"},
		{"list", "127.0.0.1:22 open\n"
			 "0.0.0.0:65535 closed\n"
			 "255.255.255.255:1 error\n"
			 "[::1]:8080 filtered\n"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const struct rs_sink_ops *ops = rs_sink_find(t[i].sink);
		int fd = tmpfd();
		struct rs_out *o = out_new(fd);
		size_t len;

		assert_non_null(ops);
		assert_int_equal(emit(ops, o, r, 4), 0);
		char *got = slurp(fd, &len);
		if (len != strlen(t[i].want) || memcmp(got, t[i].want, len))
			fail_msg("sink %s:\n got:\n%s\n want:\n%s", t[i].sink, got, t[i].want);
		assert_int_equal(o->written, len);
		assert_int_equal(o->len, 0);
		free(got);
		free(o);
		close(fd);
	}
}

/* Nothing reaches the kernel per line: small output stays buffered until
 * flush. Through a pipe. */
static void test_out_buffered_pipe(void **state)
{
	(void)state;
	int p[2];
	const struct rs_sink_ops *ops = rs_sink_find("list");
	struct rs_result r = mk("10.0.0.1", 22, RS_OPEN, 0, 1, 1, 0);
	char buf[4096];

	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	struct rs_out *o = out_new(p[1]);
	for (int i = 0; i < 100; i++)
		assert_int_equal(ops->record(o, &r, NULL), 0);
	assert_int_equal(o->written, 0);
	assert_int_equal(read(p[0], buf, sizeof(buf)), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(rs_out_flush(o), 0);
	assert_int_equal(o->written, 100 * strlen("10.0.0.1:22 open\n"));
	ssize_t n = read(p[0], buf, sizeof(buf));
	assert_int_equal(n, 100 * strlen("10.0.0.1:22 open\n"));
	for (int i = 0; i < 100; i++)
		assert_memory_equal(buf + i * 17, "10.0.0.1:22 open\n", 17);
	/* an empty flush writes nothing */
	assert_int_equal(rs_out_flush(o), 0);
	assert_int_equal(o->written, 1700);
	free(o);
	close(p[0]);
	close(p[1]);
}

/* Many records through each sink into a file: the bytes equal the
 * concatenation of the lines, and written counts them all. */
static void test_out_many_records(void **state)
{
	(void)state;
	enum { N = 200000 };
	static const char *const sinks[] = {"jsonl", "csv", "list"};
	struct rs_result *r = malloc(N * sizeof(*r));
	size_t cap = (size_t)N * 200 + 100, elen;
	char *expect = malloc(cap);

	assert_non_null(r);
	assert_non_null(expect);
	for (uint64_t i = 0; i < N; i++) {
		r[i] = mk("127.0.0.1", (uint16_t)(1 + i % 65535), (enum rs_state)(i % RS_NSTATES),
			  i % RS_NSTATES == RS_ERROR ? EACCES : 0, (uint32_t)(i * 7),
			  (uint8_t)(1 + i % 3), DESIGN_TS_NS + i * 1000);
		r[i].ep.addr[2] = (uint8_t)(i >> 8);
		r[i].ep.addr[3] = (uint8_t)i;
	}
	for (size_t s = 0; s < 3; s++) {
		const struct rs_sink_ops *ops = rs_sink_find(sinks[s]);
		int fd = tmpfd();
		struct rs_out *o = out_new(fd);
		size_t len;

		elen = 0;
		if (s == 1)
			elen += (size_t)snprintf(expect, cap,
						 "ip,port,proto,state,reason,rtt_us,attempts,ts\n");
		for (size_t i = 0; i < N; i++) {
			char ip[32], ts[40];
			const char *reason =
				r[i].state == RS_ERROR ? "EACCES" : reason_str[r[i].state];
			inet_ntop(AF_INET, r[i].ep.addr, ip, sizeof(ip));
			ref_ts(ts, sizeof(ts), r[i].ts_ns);
			if (s == 0)
				elen += (size_t)snprintf(expect + elen, cap - elen,
							 "{\"ip\":\"%s\",\"port\":%u,\"proto\":"
							 "\"tcp\",\"state\":\"%s\","
							 "\"reason\":\"%s\",\"rtt_us\":%u,"
							 "\"attempts\":%u,\"ts\":\"%s\"}\n",
							 ip, r[i].ep.port, state_str[r[i].state],
							 reason, r[i].rtt_us, r[i].attempts, ts);
			else if (s == 1)
				elen += (size_t)snprintf(expect + elen, cap - elen,
							 "%s,%u,tcp,%s,%s,%u,%u,%s\n", ip,
							 r[i].ep.port, state_str[r[i].state],
							 reason, r[i].rtt_us, r[i].attempts, ts);
			else
				elen += (size_t)snprintf(expect + elen, cap - elen, "%s:%u %s\n",
							 ip, r[i].ep.port, state_str[r[i].state]);
		}
		assert_true(elen < cap);
		assert_int_equal(emit(ops, o, r, N), 0);
		char *got = slurp(fd, &len);
		assert_int_equal(len, elen);
		if (memcmp(got, expect, len)) {
			size_t k = 0;
			while (got[k] == expect[k])
				k++;
			fail_msg("sink %s: first difference at byte %zu", sinks[s], k);
		}
		assert_int_equal(o->written, elen);
		free(got);
		free(o);
		close(fd);
	}
	free(expect);
	free(r);
}

/* rs_out_puts of strings larger than the buffer, and reserve/commit. */
static void test_out_puts_reserve(void **state)
{
	(void)state;
	int fd = tmpfd();
	struct rs_out *o = out_new(fd);
	size_t big = sizeof(o->buf) * 3 + 12345, len;
	char *s = malloc(big + 1), *want = malloc(big * 2 + 100);

	assert_non_null(s);
	assert_non_null(want);
	for (size_t i = 0; i < big; i++)
		s[i] = (char)('a' + i % 26);
	s[big] = 0;
	assert_int_equal(rs_out_puts(o, "head\n"), 0);
	assert_int_equal(rs_out_puts(o, s), 0);
	assert_int_equal(rs_out_puts(o, ""), 0);
	char *d = rs_out_reserve(o, 10);
	memcpy(d, "0123456789", 10);
	rs_out_commit(o, 4); /* only "0123" */
	assert_int_equal(rs_out_puts(o, s), 0);
	/* reserve near the end of the buffer forces a flush first */
	d = rs_out_reserve(o, sizeof(o->buf));
	assert_ptr_equal(d, o->buf);
	assert_int_equal(o->len, 0);
	memcpy(d, "tail\n", 5);
	rs_out_commit(o, 5);
	assert_int_equal(rs_out_flush(o), 0);

	size_t wl = 0;
	memcpy(want + wl, "head\n", 5), wl += 5;
	memcpy(want + wl, s, big), wl += big;
	memcpy(want + wl, "0123", 4), wl += 4;
	memcpy(want + wl, s, big), wl += big;
	memcpy(want + wl, "tail\n", 5), wl += 5;
	char *got = slurp(fd, &len);
	assert_int_equal(len, wl);
	assert_true(memcmp(got, want, wl) == 0);
	assert_int_equal(o->written, wl);
	free(got);
	free(want);
	free(s);
	free(o);
	close(fd);
}

/* A write error is reported and sticky. */
static void test_out_error(void **state)
{
	(void)state;
	int fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);
	struct rs_out *o = out_new(fd);

	assert_int_equal(rs_out_puts(o, "x\n"), 0); /* buffered: no error yet */
	assert_int_equal(rs_out_flush(o), -EBADF);
	assert_int_equal(o->err, EBADF);
	assert_int_equal(o->written, 0);
	assert_int_equal(rs_out_puts(o, "y\n"), -EBADF);
	assert_int_equal(rs_out_flush(o), -EBADF);
	free(o);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_design_line),	  cmocka_unit_test(test_state_lines),
		cmocka_unit_test(test_timestamps),	  cmocka_unit_test(test_fmt_ip),
		cmocka_unit_test(test_jsonl_random),	  cmocka_unit_test(test_line_max),
		cmocka_unit_test(test_sink_registry),	  cmocka_unit_test(test_sink_lines),
		cmocka_unit_test(test_out_buffered_pipe), cmocka_unit_test(test_out_many_records),
		cmocka_unit_test(test_out_puts_reserve),  cmocka_unit_test(test_out_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
