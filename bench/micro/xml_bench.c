/* Micro-benchmark: what -f xml costs against jsonl in the coordinator, per
 * record: the xml and jsonl sinks, found with rs_sink_find() as main does,
 * take the same records sorted by address (65536 hosts x 16 ports: a /16,
 * --all, a quarter of the ports open) into an rs_out on /dev/null; then the
 * same with a service view (an SSH banner) on every open port.
 *
 * Checked: each run writes as many bytes as a second run into a memfd, and
 * the xml file holds exactly one <host> per address and one <port> per
 * record (counted); any difference exits 1. Validity against nmap's DTD is
 * the unit test's business (tests/unit/test_sink_xml.c). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ringscan/scan.h"
#include "ringscan/sink.h"
#include "ringscan/svcview.h"

#define HOSTS 65536
#define PORTS 16

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *what)
{
	fprintf(stderr, "xml_bench: %s\n", what);
	exit(1);
}

/* Record k of the scan: host k / PORTS (127.1.x.y), port 20 + k % PORTS. */
static void rec_at(uint64_t k, struct rs_result *r)
{
	uint32_t a = 0x7f010000u | (uint32_t)(k / PORTS);

	memset(r, 0, sizeof(*r));
	r->ep.family = AF_INET;
	r->ep.port = (uint16_t)(20 + k % PORTS);
	for (int b = 0; b < 4; b++)
		r->ep.addr[b] = (uint8_t)(a >> (24 - 8 * b));
	r->state = k % 4 == 0 ? RS_OPEN : k % 4 == 1 ? RS_FILTERED : RS_CLOSED;
	r->attempts = 1;
	r->rtt_us = (uint32_t)(k % 1000);
	r->ts_ns = 1795624499ULL * 1000000000ULL + k * 1000;
}

/* Run sink over the whole scan into fd; returns the seconds taken. */
static double run(const struct rs_sink_ops *sink, int fd, const struct rs_svcview *sv,
		  struct rs_out *o)
{
	struct rs_set32 ports;
	struct rs_sink_ctx ctx = {.version = "bench",
				  .cmdline = "ringscan --all -p 20-35 127.1.0.0/16",
				  .start_ns = 1795624499ULL * 1000000000ULL,
				  .ports = &ports,
				  .scan_type = "connect",
				  .protocol = "tcp",
				  .targets = (uint64_t)HOSTS * PORTS,
				  .addresses = HOSTS,
				  .all = true};
	struct rs_result r;

	rs_set32_init(&ports);
	if (rs_set32_add(&ports, 20, 20 + PORTS - 1) || rs_set32_finalize(&ports))
		fail("port set");
	rs_out_init(o, fd);
	double t0 = now_s();
	if (sink->begin && sink->begin(o, &ctx))
		fail("begin() failed");
	for (uint64_t k = 0; k < (uint64_t)HOSTS * PORTS; k++) {
		rec_at(k, &r);
		if (sink->record(o, &r, sv && r.state == RS_OPEN ? sv : NULL))
			fail("record() failed");
	}
	ctx.end_ns = ctx.start_ns + 1000000000ULL;
	ctx.complete = true;
	if (sink->end && sink->end(o, &ctx))
		fail("end() failed");
	if (rs_out_flush(o))
		fail("flush failed");
	double dt = now_s() - t0;
	rs_set32_free(&ports);
	return dt;
}

/* How many times needle occurs in the file fd. */
static uint64_t count_in(int fd, const char *needle, uint64_t len)
{
	char *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	uint64_t n = 0;

	if (m == MAP_FAILED)
		fail("mmap failed");
	for (const char *p = m; (p = memmem(p, len - (uint64_t)(p - m), needle, strlen(needle)));
	     p++)
		n++;
	munmap(m, len);
	return n;
}

int main(void)
{
	static struct rs_out out;
	static struct rs_svcrec rec;
	static const char ssh[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";
	struct rs_svcview sv;
	const char *names[] = {"jsonl", "xml"};
	uint64_t recs = (uint64_t)HOSTS * PORTS;

	memcpy(rec.data, ssh, sizeof(ssh) - 1);
	rec.len = rec.total = rec.banner.len = sizeof(ssh) - 1;
	rec.flags = RS_SVCF_SSH;
	memcpy(rec.probe, "NULL", 5);
	rs_svc_describe(&rec, &sv);
	printf("| sink (%d hosts x %d ports, sorted, --all) | records | bytes/record | "
	       "ns/record |\n|---|---|---|---|\n",
	       HOSTS, PORTS);
	for (int with_sv = 0; with_sv < 2; with_sv++)
		for (int s = 0; s < 2; s++) {
			const struct rs_sink_ops *sink = rs_sink_find(names[s]);
			int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
			if (!sink || fd < 0)
				fail("no sink or no /dev/null");
			double dt = run(sink, fd, with_sv ? &sv : NULL, &out);
			uint64_t bytes = out.written;
			close(fd);
			fd = memfd_create("xml_bench", MFD_CLOEXEC);
			if (fd < 0)
				fail("memfd_create failed");
			run(sink, fd, with_sv ? &sv : NULL, &out);
			if (out.written != bytes)
				fail("a second run wrote another length");
			if (s == 1 && (count_in(fd, "<host ", bytes) != HOSTS ||
				       count_in(fd, "<port ", bytes) != recs))
				fail("not one <host> per address and one <port> per record");
			close(fd);
			printf("| %s%s -> /dev/null | %llu | %.1f | %.1f |\n", names[s],
			       with_sv ? ", ssh banner on open ports" : "",
			       (unsigned long long)recs, (double)bytes / (double)recs,
			       dt * 1e9 / (double)recs);
		}
	return 0;
}
