/* Unit tests for src/sink_xml.c, nmap XML: records sorted by address go
 * through begin/record/end into a file; the exact fragments are checked
 * (header, one <host> per address, every state's mapping, services, hostile
 * banners escaped), and every file is validated with xmllint against
 * nmap's DTD (skipped, saying so, only when xmllint or the DTD is absent).
 *
 * With --write DIR it only writes the files that tests/e2e/test_xml_tools.sh
 * checks with python-libnmap and ndiff: full.xml, cut.xml, old.xml, new.xml. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "ringscan/scan.h"
#include "ringscan/sink.h"
#include "ringscan/svcview.h"

#define DTD "/usr/share/nmap/nmap.dtd"
/* 2026-11-25 16:34:59 UTC (test_sink.c shows the arithmetic). */
#define T0 (1795624499ULL * 1000000000ULL)
#define S  1000000000ULL

static char tmpdir[] = "/tmp/ringscan-xml.XXXXXX";

static struct rs_result mk(const char *ip, uint16_t port, enum rs_state st, int err, uint64_t ts)
{
	struct rs_result r;

	memset(&r, 0, sizeof(r));
	r.ep.family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(r.ep.family, ip, r.ep.addr), 1);
	r.ep.port = port;
	r.state = (uint8_t)st;
	r.err = err;
	r.attempts = 1;
	r.ts_ns = ts;
	return r;
}

/* A service record holding data[0, n) as its banner. */
static void mkrec(struct rs_svcrec *rec, const void *data, size_t n, uint16_t flags)
{
	memset(rec, 0, sizeof(*rec));
	memcpy(rec->data, data, n);
	rec->len = rec->total = (uint32_t)n;
	rec->banner.len = (uint32_t)n;
	rec->flags = flags;
	memcpy(rec->probe, "NULL", 5);
}

/* The records of the "full" scan, and their service records. */
static struct rs_svcrec rec_ssh, rec_evil, rec_wrapped, rec_raw, rec_ssl;

static void mk_services(void)
{
	static const char ssh[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";
	static uint8_t evil[RS_SVC_DATA];
	static const uint8_t head[] =
		"HTTP/1.0 200 OK\r\nX: \"q\" <b> & 'a' \\ \x00\x01\x1b\x7f"
		" \xff\xc3\x28 \xc3\xa9 \xef\xbf\xbe \xed\xa0\x80 \xf4\x90\x80\x80|";

	mkrec(&rec_ssh, ssh, strlen(ssh), RS_SVCF_SSH);
	memset(evil, 'A', sizeof(evil));
	memcpy(evil, head, sizeof(head) - 1);
	mkrec(&rec_evil, evil, sizeof(evil), RS_SVCF_FULL);
	rec_evil.matched = RS_SVCM_HARD;
	memcpy(rec_evil.probe, "GetRequest", 11);
	struct rs_svcinfo *in = &rec_evil.info;
	snprintf(in->name, sizeof(in->name), "http");
	snprintf(in->product, sizeof(in->product), "Evil \"httpd\" <&> \x01\x02\xff end");
	snprintf(in->version, sizeof(in->version), "1.0'\t\n");
	snprintf(in->info, sizeof(in->info), "a]]>b");
	snprintf(in->os, sizeof(in->os), "Linux");
	snprintf(in->cpe[0], sizeof(in->cpe[0]), "cpe:/a:evil:httpd:1.0<&>");
	snprintf(in->cpe[1], sizeof(in->cpe[1]), "cpe:/o:linux:linux_kernel");
	in->ncpe = 2;
	mkrec(&rec_wrapped, "", 0, RS_SVCF_WRAPPED | RS_SVCF_EOF);
	mkrec(&rec_raw, "\x00\x01\x02 raw\r\n", 9, 0);
	mkrec(&rec_ssl, "x", 1, 0);
	rec_ssl.matched = RS_SVCM_SOFT;
	snprintf(rec_ssl.info.name, sizeof(rec_ssl.info.name), "imap");
	rec_ssl.info.ssl = true;
}

struct rec {
	struct rs_result r;
	const struct rs_svcrec *svc;
};

/* Every state, both families, every kind of service. Sorted by address. */
static size_t full_records(struct rec *v)
{
	size_t n = 0;

	mk_services();
	v[n++] = (struct rec){mk("127.0.0.1", 22, RS_OPEN, 0, T0 + 1 * S), &rec_ssh};
	v[n++] = (struct rec){mk("127.0.0.1", 23, RS_CLOSED, 0, T0 + 2 * S), NULL};
	v[n++] = (struct rec){mk("127.0.0.1", 80, RS_OPEN, 0, T0 + 3 * S), &rec_evil};
	v[n++] = (struct rec){mk("127.0.0.1", 81, RS_OPEN, 0, T0 + 1 * S), &rec_wrapped};
	v[n++] = (struct rec){mk("127.0.0.1", 82, RS_OPEN, 0, T0 + 1 * S), &rec_raw};
	v[n++] = (struct rec){mk("127.0.0.1", 993, RS_OPEN, 0, T0 + 1 * S), &rec_ssl};
	v[n++] = (struct rec){mk("127.0.0.2", 22, RS_CLOSED, 0, T0 + 5 * S), NULL};
	v[n++] = (struct rec){mk("127.0.0.2", 23, RS_FILTERED, 0, T0 + 6 * S), NULL};
	v[n++] = (struct rec){mk("127.0.0.3", 22, RS_FILTERED, 0, T0 + 7 * S), NULL};
	v[n++] = (struct rec){mk("127.0.0.4", 22, RS_UNREACHABLE, 0, T0 + 7 * S), NULL};
	v[n++] = (struct rec){mk("127.0.0.4", 23, RS_FILTERED, 0, T0 + 7 * S), NULL};
	v[n++] = (struct rec){mk("127.0.0.5", 22, RS_ERROR, EACCES, T0 + 8 * S), NULL};
	v[n++] = (struct rec){mk("127.0.0.6", 22, RS_ERROR, EPROTO, T0 + 8 * S), NULL};
	v[n++] = (struct rec){mk("::1", 22, RS_OPEN, 0, T0 + 9 * S), NULL};
	v[n++] = (struct rec){mk("::1", 23, RS_CLOSED, 0, T0 + 9 * S), NULL};
	v[n++] = (struct rec){mk("::2", 22, RS_FILTERED, 0, T0 + 9 * S), NULL};
	return n;
}

/* The context of a scan of addresses × ports "22,23,80-82,993". */
static struct rs_set32 ports;
static struct rs_summary sum;

static struct rs_sink_ctx mk_ctx(uint64_t addresses, const char *list)
{
	char err[128];

	rs_set32_free(&ports);
	rs_set32_init(&ports);
	assert_int_equal(rs_ports_parse(&ports, list, err, sizeof(err)), 0);
	assert_int_equal(rs_set32_finalize(&ports), 0);
	return (struct rs_sink_ctx){
		.version = "0.1.0",
		.cmdline = "ringscan -f xml --all -p 22,23,80-82,993 'a b' 127.0.0.0/29 ::1-::2",
		.start_ns = T0,
		.ports = &ports,
		.scan_type = "connect",
		.protocol = "tcp",
		.targets = addresses * ports.count,
		.addresses = addresses,
		.all = true,
	};
}

/* Run the sink over v into path; end with complete or why not. */
static void write_xml(const char *path, struct rs_sink_ctx *ctx, const struct rec *v, size_t n,
		      const char *incomplete)
{
	const struct rs_sink_ops *ops = rs_sink_find("xml");
	struct rs_out *o = malloc(sizeof(*o));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_non_null(ops);
	assert_true(ops->sorted);
	assert_non_null(o);
	assert_true(fd >= 0);
	rs_out_init(o, fd);
	assert_int_equal(ops->begin(o, ctx), 0);
	memset(&sum, 0, sizeof(sum));
	for (size_t i = 0; i < n; i++) {
		struct rs_svcview sv;
		if (v[i].svc)
			rs_svc_describe(v[i].svc, &sv);
		assert_int_equal(ops->record(o, &v[i].r, v[i].svc ? &sv : NULL), 0);
		sum.count[v[i].r.state]++;
	}
	ctx->end_ns = T0 + 12 * S + 346 * 1000000ULL;
	ctx->sum = &sum;
	ctx->complete = !incomplete;
	ctx->incomplete = incomplete;
	assert_int_equal(ops->end(o, ctx), 0);
	assert_null(o->sink_state);
	assert_int_equal(rs_out_flush(o), 0);
	close(fd);
	free(o);
}

static char *slurp(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0 && fstat(fd, &st) == 0);
	char *b = malloc((size_t)st.st_size + 1);
	assert_non_null(b);
	assert_int_equal(read(fd, b, (size_t)st.st_size), st.st_size);
	b[st.st_size] = 0;
	close(fd);
	return b;
}

/* Every fragment of want (NULL-terminated) is in the file, in order. */
static void expect_in_order(const char *path, const char *const *want)
{
	char *b = slurp(path), *at = b;

	assert_int_equal(strlen(b), strlen(at)); /* no NUL byte in the file */
	for (size_t i = 0; want[i]; i++) {
		char *f = strstr(at, want[i]);
		if (!f)
			fail_msg("%s: missing (in order) fragment %zu:\n%s\n--- file:\n%s", path, i,
				 want[i], b);
		at = f + strlen(want[i]);
	}
	free(b);
}

static void expect_absent(const char *path, const char *frag)
{
	char *b = slurp(path);

	if (strstr(b, frag))
		fail_msg("%s: must not hold %s", path, frag);
	free(b);
}

/* xmllint --dtdvalid with nmap's DTD; a message (not a failure) when it
 * cannot be run here. */
static void validate(const char *path)
{
	char cmd[512];

	if (system("command -v xmllint >/dev/null 2>&1") != 0 || access(DTD, R_OK) != 0) {
		static int said;
		if (!said++)
			fprintf(stderr,
				"# SKIP DTD validation: xmllint or %s missing "
				"(apt-get install libxml2-utils nmap)\n",
				DTD);
		return;
	}
	snprintf(cmd, sizeof(cmd), "xmllint --noout --dtdvalid %s '%s'", DTD, path);
	if (system(cmd) != 0)
		fail_msg("%s is not valid against %s", path, DTD);
}

static void path_of(char *dst, const char *name)
{
	snprintf(dst, 256, "%s/%s", tmpdir, name);
}

static void test_header_and_hosts(void **state)
{
	struct rec v[32];
	size_t n = full_records(v);
	struct rs_sink_ctx ctx = mk_ctx(10, "22,23,80-82,993");
	char p[256];
	const char *want[] = {
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE nmaprun>\n<!-- ringscan "
		"0.1.0 "
		"scan initiated ",
		"<nmaprun scanner=\"nmap\" args=\"ringscan -f xml --all -p 22,23,80-82,993 'a b' "
		"127.0.0.0/29 ::1-::2\" start=\"1795624499\" startstr=\"",
		"\" version=\"0.1.0\" xmloutputversion=\"1.05\">\n<scaninfo type=\"connect\" "
		"protocol=\"tcp\" numservices=\"6\" services=\"22-23,80-82,993\"/>\n<verbose "
		"level=\"0\"/>\n<debugging level=\"0\"/>\n",
		/* one host per address: up, its ports in order */
		"<host starttime=\"1795624500\" endtime=\"1795624502\"><status state=\"up\" "
		"reason=\"syn-ack\" reason_ttl=\"0\"/>\n<address addr=\"127.0.0.1\" "
		"addrtype=\"ipv4\"/>\n<hostnames>\n</hostnames>\n<ports>",
		"<port protocol=\"tcp\" portid=\"22\"><state state=\"open\" reason=\"syn-ack\" "
		"reason_ttl=\"0\"/><service name=\"ssh\" product=\"OpenSSH\" version=\"9.2p1\" "
		"extrainfo=\"protocol 2.0\" method=\"probed\" conf=\"10\"/><script id=\"banner\" "
		"output=\"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\\x0D\\x0A\"/></port>\n",
		"<port protocol=\"tcp\" portid=\"23\"><state state=\"closed\" "
		"reason=\"conn-refused\" "
		"reason_ttl=\"0\"/></port>\n",
		"<port protocol=\"tcp\" portid=\"80\"><state state=\"open\" reason=\"syn-ack\" "
		"reason_ttl=\"0\"/><service name=\"http\" product=\"Evil &quot;httpd&quot; "
		"&lt;&amp;&gt; \\x01\\x02\\xFF end\" version=\"1.0'\\x09\\x0A\" "
		"extrainfo=\"a]]&gt;b\" "
		"ostype=\"Linux\" method=\"probed\" conf=\"10\"><cpe>cpe:/a:evil:httpd:1.0&lt;&amp;"
		"&gt;</cpe><cpe>cpe:/o:linux:linux_kernel</cpe></service>",
		"<script id=\"banner\" output=\"HTTP/1.0 200 OK\\x0D\\x0AX: &quot;q&quot; "
		"&lt;b&gt; "
		"&amp; 'a' \\\\ \\x00\\x01\\x1B\\x7F \\xFF\\xC3( \xc3\xa9 \\xEF\\xBF\\xBE "
		"\\xED\\xA0\\x80 \\xF4\\x90\\x80\\x80|AAAA",
		"AAAA\"><elem key=\"truncated\">true</elem></script></port>\n",
		"<port protocol=\"tcp\" portid=\"81\"><state state=\"open\" reason=\"syn-ack\" "
		"reason_ttl=\"0\"/><service name=\"tcpwrapped\" method=\"probed\" "
		"conf=\"8\"/></port>\n",
		"<port protocol=\"tcp\" portid=\"82\"><state state=\"open\" reason=\"syn-ack\" "
		"reason_ttl=\"0\"/><script id=\"banner\" output=\"\\x00\\x01\\x02 "
		"raw\\x0D\\x0A\"/></port>\n",
		"<port protocol=\"tcp\" portid=\"993\"><state state=\"open\" reason=\"syn-ack\" "
		"reason_ttl=\"0\"/><service name=\"imap\" tunnel=\"ssl\" method=\"probed\" "
		"conf=\"8\"/><script id=\"banner\" output=\"x\"/></port>\n</ports>\n</host>\n",
		"<status state=\"up\" reason=\"conn-refused\" reason_ttl=\"0\"/>\n<address "
		"addr=\"127.0.0.2\" addrtype=\"ipv4\"/>",
		"<state state=\"filtered\" reason=\"no-response\" reason_ttl=\"0\"/>",
		"<status state=\"down\" reason=\"no-response\" reason_ttl=\"0\"/>\n<address "
		"addr=\"127.0.0.3\" addrtype=\"ipv4\"/>",
		"<status state=\"down\" reason=\"host-unreach\" reason_ttl=\"0\"/>\n<address "
		"addr=\"127.0.0.4\" addrtype=\"ipv4\"/>",
		"<port protocol=\"tcp\" portid=\"22\"><state state=\"filtered\" "
		"reason=\"host-unreach\" reason_ttl=\"0\"/></port>\n",
		"<status state=\"unknown\" reason=\"unknown-response\" "
		"reason_ttl=\"0\"/>\n<address "
		"addr=\"127.0.0.5\" addrtype=\"ipv4\"/>",
		"<state state=\"filtered\" reason=\"admin-prohibited\" reason_ttl=\"0\"/>",
		"<address addr=\"127.0.0.6\" addrtype=\"ipv4\"/>",
		"<state state=\"unknown\" reason=\"EPROTO\" reason_ttl=\"0\"/>",
		"<status state=\"up\" reason=\"syn-ack\" reason_ttl=\"0\"/>\n<address addr=\"::1\" "
		"addrtype=\"ipv6\"/>",
		"<status state=\"down\" reason=\"no-response\" reason_ttl=\"0\"/>\n<address "
		"addr=\"::2\" addrtype=\"ipv6\"/>",
		"</host>\n<runstats><finished time=\"1795624511\" timestr=\"",
		" summary=\"ringscan done at ",
		"; 10 IP addresses (3 hosts up) scanned in 12.35 seconds\" elapsed=\"12.35\" "
		"exit=\"success\"/><hosts up=\"3\" down=\"3\" total=\"10\"/>\n</runstats>\n"
		"</nmaprun>\n",
		NULL};

	(void)state;
	path_of(p, "full.xml");
	write_xml(p, &ctx, v, n, NULL);
	expect_in_order(p, want);
	expect_absent(p, "errormsg");
	validate(p);
}

/* One <host> per address however many ports; a host's starttime and
 * endtime are its first and last answers. */
static void test_one_host_per_address(void **state)
{
	struct rec v[300];
	size_t n = 0;
	struct rs_sink_ctx ctx = mk_ctx(2, "1-200");
	char p[256], *b;

	(void)state;
	for (uint16_t port = 1; port <= 200; port++)
		v[n++] = (struct rec){mk("127.0.0.9", port, port % 3 ? RS_CLOSED : RS_OPEN, 0,
					 T0 + (port == 7 ? 0 : port * S)),
				      NULL};
	v[n++] = (struct rec){mk("127.0.0.10", 1, RS_FILTERED, 0, T0), NULL};
	path_of(p, "many.xml");
	write_xml(p, &ctx, v, n, NULL);
	b = slurp(p);
	size_t hosts = 0, portn = 0;
	for (char *s = b; (s = strstr(s, "<host ")); s++)
		hosts++;
	for (char *s = b; (s = strstr(s, "<port ")); s++)
		portn++;
	assert_int_equal(hosts, 2);
	assert_int_equal(portn, 201);
	assert_non_null(strstr(b, "<host starttime=\"1795624499\" endtime=\"1795624699\">"));
	assert_non_null(strstr(b, "services=\"1-200\""));
	free(b);
	validate(p);
}

/* An interrupted scan is a closed, valid file that says it is incomplete. */
static void test_incomplete(void **state)
{
	struct rec v[32];
	size_t n = full_records(v);
	struct rs_sink_ctx ctx = mk_ctx(10, "22,23,80-82,993");
	char p[256];
	const char *want[] = {"<address addr=\"127.0.0.1\"",
			      "exit=\"error\" errormsg=\"incomplete scan: interrupted by SIGINT; 5 "
			      "of 60 probes answered\"/><hosts up=\"1\" down=\"0\" total=\"10\"/>\n"
			      "</runstats>\n</nmaprun>\n",
			      NULL};

	(void)state;
	path_of(p, "cut.xml");
	write_xml(p, &ctx, v, 5, "interrupted by SIGINT");
	expect_in_order(p, want);
	validate(p);
	(void)n;
}

/* No answer at all (an open-only scan of closed ports): still valid. */
static void test_empty(void **state)
{
	struct rs_sink_ctx ctx = mk_ctx(256, "22");
	char p[256];
	const char *want[] = {"<debugging level=\"0\"/>\n<runstats>",
			      "; 256 IP addresses (0 hosts up) scanned in 12.35 seconds",
			      "<hosts up=\"0\" down=\"0\" total=\"256\"/>", NULL};

	(void)state;
	ctx.all = false;
	path_of(p, "empty.xml");
	write_xml(p, &ctx, NULL, 0, NULL);
	expect_in_order(p, want);
	validate(p);
}

/* Random bytes in every field and banner: always a valid file. */
static void test_random_bytes(void **state)
{
	static struct rs_svcrec recs[40];
	struct rec v[40];
	struct rs_sink_ctx ctx = mk_ctx(40, "1-65535");
	char p[256];
	uint32_t x = 12345;

	(void)state;
	for (size_t i = 0; i < 40; i++) {
		uint8_t d[RS_SVC_DATA];
		size_t len = i * 97 % RS_SVC_DATA;
		for (size_t k = 0; k < len; k++)
			d[k] = (uint8_t)((x = x * 1103515245u + 12345u) >> 16);
		mkrec(&recs[i], d, len, i % 5 ? 0 : RS_SVCF_FULL);
		recs[i].matched = i % 2 ? RS_SVCM_HARD : RS_SVCM_NONE;
		char *f[] = {recs[i].info.name, recs[i].info.product,  recs[i].info.version,
			     recs[i].info.info, recs[i].info.hostname, recs[i].info.cpe[0]};
		for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
			for (size_t j = 0; j < 60; j++)
				f[k][j] = (char)(1 + ((x = x * 1103515245u + 12345u) >> 16) % 255);
			f[k][60] = 0;
		}
		recs[i].info.ncpe = 1;
		char ip[32];
		snprintf(ip, sizeof(ip), "127.0.1.%zu", i);
		v[i] = (struct rec){mk(ip, (uint16_t)(i + 1), RS_OPEN, 0, T0), &recs[i]};
	}
	ctx.cmdline = "ringscan \x01\x02 \"<&>\" \xff\xfe -- --all";
	path_of(p, "random.xml");
	write_xml(p, &ctx, v, 40, "weird \x01 \xff reason <&>");
	validate(p);
}

/* The same changes seen by two --all scans of 127.0.0.1-3, ports 22, 80,
 * 443: 80 open -> closed, 443 closed -> open, 127.0.0.3 stops answering. */
static void write_all_pair(const char *dir)
{
	static const enum rs_state a[3][3] = {{RS_OPEN, RS_OPEN, RS_CLOSED},
					      {RS_OPEN, RS_CLOSED, RS_CLOSED},
					      {RS_CLOSED, RS_CLOSED, RS_OPEN}};
	static const enum rs_state b[3][3] = {{RS_OPEN, RS_CLOSED, RS_OPEN},
					      {RS_OPEN, RS_CLOSED, RS_CLOSED},
					      {RS_FILTERED, RS_FILTERED, RS_FILTERED}};
	static const uint16_t port[3] = {22, 80, 443};
	struct rec v[9];
	char p[512], ip[32];

	for (int run = 0; run < 2; run++) {
		struct rs_sink_ctx ctx = mk_ctx(3, "22,80,443");
		ctx.cmdline = "ringscan --all -p 22,80,443 -f xml 127.0.0.1-127.0.0.3";
		ctx.start_ns += (uint64_t)run * 604800 * S;
		for (int h = 0; h < 3; h++) {
			snprintf(ip, sizeof(ip), "127.0.0.%d", h + 1);
			for (int k = 0; k < 3; k++)
				v[h * 3 + k] = (struct rec){
					mk(ip, port[k], run ? b[h][k] : a[h][k], 0, ctx.start_ns),
					NULL};
		}
		snprintf(p, sizeof(p), "%s/%s.xml", dir, run ? "new_all" : "old_all");
		write_xml(p, &ctx, v, 9, NULL);
	}
}

/* A KEXINIT packet with the given ten name-lists into b; its length
 * (RFC 4253 7.1, unencrypted, as test_svc.c builds one). */
static size_t kexinit(uint8_t *b, const char *const lists[10])
{
	size_t n = 4 + 1 + 1 + 16;

	for (int l = 0; l < 10; l++) {
		uint32_t len = (uint32_t)strlen(lists[l]);
		b[n] = (uint8_t)(len >> 24);
		b[n + 1] = (uint8_t)(len >> 16);
		b[n + 2] = (uint8_t)(len >> 8);
		b[n + 3] = (uint8_t)len;
		memcpy(b + n + 4, lists[l], len);
		n += 4 + len;
	}
	b[n++] = 0;		      /* first_kex_packet_follows */
	memset(b + n, 0, 4), n += 4;  /* reserved */
	size_t pad = 8 - (n % 8) + 4; /* at least 4 */
	memset(b + n, 0, pad), n += pad;
	uint32_t plen = (uint32_t)(n - 4);
	b[0] = (uint8_t)(plen >> 24);
	b[1] = (uint8_t)(plen >> 16);
	b[2] = (uint8_t)(plen >> 8);
	b[3] = (uint8_t)plen;
	b[4] = (uint8_t)pad;
	b[5] = 20;
	memset(b + 6, 0xab, 16);
	return n;
}

/* An SSH server's answer to --service (identification and KEXINIT),
 * through the sink into path. */
static void write_algos(const char *path)
{
	static const char id[] = "SSH-2.0-OpenSSH_9.2p1\r\n";
	static const char *const lists[10] = {"curve25519-sha256,dh<&>",
					      "ssh-ed25519",
					      "aes128-ctr",
					      "chacha20-poly1305@openssh.com,aes256-gcm",
					      "hmac-sha2-256",
					      "umac-64,hmac-sha1",
					      "none",
					      "none,zlib@openssh.com",
					      "",
					      ""};
	static struct rs_svcrec rec;
	uint8_t data[1024];
	size_t n = strlen(id);
	struct rs_sink_ctx ctx = mk_ctx(1, "22");

	memcpy(data, id, n);
	size_t k = kexinit(data + n, lists);
	mkrec(&rec, data, n + k, RS_SVCF_SSH | RS_SVCF_KEX);
	rec.banner.len = (uint32_t)n;
	rec.kex = (struct rs_span){(uint32_t)n, (uint32_t)k};
	struct rec v[] = {{mk("127.0.0.1", 22, RS_OPEN, 0, T0), &rec}};
	write_xml(path, &ctx, v, 1, NULL);
}

/* --service on SSH: the server's algorithm lists as nmap's ssh2-enum-algos
 * script writes them (text and tables), names escaped like banners. */
static void test_ssh_algos(void **state)
{
	char p[256];
	const char *want[] = {
		"<script id=\"banner\" output=\"SSH-2.0-OpenSSH_9.2p1\\x0D\\x0A\"/>"
		"<script id=\"ssh2-enum-algos\" output=\"&#xa;  kex_algorithms: (2)&#xa;      "
		"curve25519-sha256&#xa;      dh&lt;&amp;&gt;&#xa;  server_host_key_algorithms: "
		"(1)&#xa;      ssh-ed25519&#xa;  encryption_algorithms: (2)&#xa;      "
		"chacha20-poly1305@openssh.com&#xa;      aes256-gcm&#xa;  mac_algorithms: (2)&#xa;"
		"      umac-64&#xa;      hmac-sha1&#xa;  compression_algorithms: (2)&#xa;      "
		"none&#xa;      zlib@openssh.com\"><table key=\"kex_algorithms\"><elem>"
		"curve25519-sha256</elem><elem>dh&lt;&amp;&gt;</elem></table><table "
		"key=\"server_host_key_algorithms\"><elem>ssh-ed25519</elem></table><table "
		"key=\"encryption_algorithms\"><elem>chacha20-poly1305@openssh.com</elem><elem>"
		"aes256-gcm</elem></table><table key=\"mac_algorithms\"><elem>umac-64</elem><elem>"
		"hmac-sha1</elem></table><table key=\"compression_algorithms\"><elem>none</elem>"
		"<elem>zlib@openssh.com</elem></table></script></port>\n",
		NULL};

	(void)state;
	path_of(p, "algos.xml");
	write_algos(p);
	expect_in_order(p, want);
	validate(p);
}

/* A full disk: the sticky error comes back from record() or end(), and
 * end() still frees the sink's state (ASan's leak check sees to that). */
static void test_write_error(void **state)
{
	const struct rs_sink_ops *ops = rs_sink_find("xml");
	struct rs_out *o = malloc(sizeof(*o));
	struct rs_sink_ctx ctx = mk_ctx(65536, "1-1000");
	struct rs_result r;
	int fd = open("/dev/full", O_WRONLY), ret = 0;

	(void)state;
	if (fd < 0) {
		fprintf(stderr, "# SKIP test_write_error: no /dev/full\n");
		free(o);
		return;
	}
	assert_non_null(o);
	rs_out_init(o, fd);
	assert_int_equal(ops->begin(o, &ctx), 0);
	for (uint32_t k = 0; k < 65536 && !ret; k++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "127.1.%u.%u", k >> 8, k & 255);
		r = mk(ip, 80, RS_CLOSED, 0, T0);
		ret = ops->record(o, &r, NULL);
	}
	assert_int_equal(ret, -ENOSPC);
	assert_int_equal(ops->end(o, &ctx), -ENOSPC);
	assert_null(o->sink_state);
	close(fd);
	free(o);
}

/* The command line the sinks get (nmap's args): as the user typed it,
 * before getopt permutes argv, each argument quoted for sh where needed. */
static void test_cmdline(void **state)
{
	char a[][32] = {"ringscan", "127.0.0.1", "-p", "22,80", "-o", "/tmp/x y's", "--all", ""};
	char *argv[] = {a[0], a[1], a[2], a[3], a[4], a[5], a[6], NULL};
	struct rs_config cfg;
	struct rs_cli_opts opts;

	(void)state;
	assert_int_equal(rs_cli_parse(7, argv, &cfg, &opts), RS_CLI_RUN);
	assert_string_equal(cfg.cmdline, "ringscan 127.0.0.1 -p 22,80 -o '/tmp/x y'\\''s' --all");
	rs_cli_free(&cfg, &opts);
	assert_null(cfg.cmdline);
	argv[1] = a[7]; /* an empty argument: a refused target, but quoted first */
	argv[2] = NULL;
	assert_int_equal(rs_cli_parse(2, argv, &cfg, &opts), RS_CLI_USAGE);
	assert_string_equal(cfg.cmdline, "ringscan ''");
	rs_cli_free(&cfg, &opts);
}

/* The files the e2e test checks with python-libnmap and ndiff. */
static void write_tool_files(const char *dir)
{
	struct rec v[32];
	size_t n = full_records(v);
	char p[512];
	struct rs_sink_ctx ctx = mk_ctx(10, "22,23,80-82,993");

	snprintf(p, sizeof(p), "%s/full.xml", dir);
	write_xml(p, &ctx, v, n, NULL);
	ctx = mk_ctx(10, "22,23,80-82,993");
	snprintf(p, sizeof(p), "%s/cut.xml", dir);
	write_xml(p, &ctx, v, 5, "interrupted by SIGTERM");

	/* Two open-only scans a week apart: 127.0.0.1:80 no longer open,
	 * 127.0.0.1:443 newly open, 127.0.0.3 gone; 127.0.0.2 the same. */
	struct rec old[] = {
		{mk("127.0.0.1", 22, RS_OPEN, 0, T0), NULL},
		{mk("127.0.0.1", 80, RS_OPEN, 0, T0), NULL},
		{mk("127.0.0.2", 22, RS_OPEN, 0, T0), NULL},
		{mk("127.0.0.3", 8080, RS_OPEN, 0, T0), NULL},
	};
	struct rec new[] = {
		{mk("127.0.0.1", 22, RS_OPEN, 0, T0 + 604800 * S), NULL},
		{mk("127.0.0.1", 443, RS_OPEN, 0, T0 + 604800 * S), NULL},
		{mk("127.0.0.2", 22, RS_OPEN, 0, T0 + 604800 * S), NULL},
	};
	ctx = mk_ctx(4, "22,80,443,8080");
	ctx.all = false;
	ctx.cmdline = "ringscan -p 22,80,443,8080 -f xml 127.0.0.0/30";
	snprintf(p, sizeof(p), "%s/old.xml", dir);
	write_xml(p, &ctx, old, sizeof(old) / sizeof(old[0]), NULL);
	ctx = mk_ctx(4, "22,80,443,8080");
	ctx.all = false;
	ctx.cmdline = "ringscan -p 22,80,443,8080 -f xml 127.0.0.0/30";
	ctx.start_ns += 604800 * S;
	snprintf(p, sizeof(p), "%s/new.xml", dir);
	write_xml(p, &ctx, new, sizeof(new) / sizeof(new[0]), NULL);
	write_all_pair(dir);
	snprintf(p, sizeof(p), "%s/algos.xml", dir);
	write_algos(p);
}

static int setup(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	rs_set32_free(&ports);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_and_hosts),
		cmocka_unit_test(test_one_host_per_address),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_ssh_algos),
		cmocka_unit_test(test_write_error),
	};

	if (argc == 3 && !strcmp(argv[1], "--write")) {
		setenv("TZ", "UTC", 1);
		write_tool_files(argv[2]);
		rs_set32_free(&ports);
		return 0;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
