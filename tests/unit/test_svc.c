/* The service stage's pure parts: the SSH and telnet recognisers, the
 * session state machine (fed bytes and timeouts, never a network), the
 * JSON it becomes, and the ring that carries it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ringscan/ssh.h"
#include "ringscan/svc.h"
#include "ringscan/svcring.h"
#include "ringscan/svcview.h"
#include "ringscan/telnet.h"

#define MS   1000000ULL
#define B(s) ((const uint8_t *)(s)), (sizeof(s) - 1)

static void span_is(const uint8_t *b, struct rs_span sp, const char *want)
{
	assert_int_equal(sp.len, strlen(want));
	assert_memory_equal(b + sp.off, want, sp.len);
}

static void test_ssh_ident(void **state)
{
	(void)state;
	struct rs_ssh_ident id;
	const char *d = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n";

	assert_int_equal(rs_ssh_ident((const uint8_t *)d, strlen(d), &id), 1);
	span_is((const uint8_t *)d, id.proto, "2.0");
	span_is((const uint8_t *)d, id.software, "OpenSSH_9.2p1");
	span_is((const uint8_t *)d, id.comment, "Debian-2+deb12u10");
	assert_int_equal(id.end, strlen(d));
	/* Every prefix of it wants more. */
	for (size_t n = 0; n < strlen(d); n++)
		assert_int_equal(rs_ssh_ident((const uint8_t *)d, n, &id), 0);
	/* Lines before it are skipped; LF alone ends a line; no comment. */
	const char *p = "Welcome\r\nto here\nSSH-1.99-dropbear_2022.83\n";
	assert_int_equal(rs_ssh_ident((const uint8_t *)p, strlen(p), &id), 1);
	span_is((const uint8_t *)p, id.proto, "1.99");
	span_is((const uint8_t *)p, id.software, "dropbear_2022.83");
	assert_int_equal(id.comment.len, 0);
	assert_int_equal(id.end, strlen(p));
	/* Not SSH: a NUL, a line over 255, no software version. */
	assert_int_equal(rs_ssh_ident(B("SSH-2.0-a\0b\r\n"), &id), -1);
	char longl[300];
	memset(longl, 'x', sizeof(longl));
	assert_int_equal(rs_ssh_ident((const uint8_t *)longl, sizeof(longl), &id), -1);
	memcpy(longl, "SSH-2.0-", 8);
	assert_int_equal(rs_ssh_ident((const uint8_t *)longl, sizeof(longl), &id), -1);
	assert_int_equal(rs_ssh_ident(B("SSH-2.0-\r\n"), &id), -1);
	assert_int_equal(rs_ssh_ident(B("SSH-2.0\r\n"), &id), -1);
	/* HTTP is read on until the gap: not SSH yet, not refused either. */
	assert_int_equal(rs_ssh_ident(B("HTTP/1.0 200 OK\r\nServer: x\r\n"), &id), 0);
}

/* A KEXINIT packet with the given ten name-lists into b; its length. */
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

static const char *const lists[10] = {"curve25519-sha256,diffie-hellman-group14-sha256",
				      "ssh-ed25519,rsa-sha2-512",
				      "chacha20-poly1305@openssh.com",
				      "chacha20-poly1305@openssh.com,aes128-ctr",
				      "hmac-sha2-256",
				      "hmac-sha2-256",
				      "none,zlib@openssh.com",
				      "none",
				      "",
				      ""};

static void test_ssh_kexinit(void **state)
{
	(void)state;
	uint8_t b[1024];
	struct rs_ssh_kexinit k;
	size_t n = kexinit(b, lists);

	assert_int_equal(rs_ssh_kexinit(b, n, &k), 1);
	assert_int_equal(k.end, n);
	for (int l = 0; l < 10; l++)
		span_is(b, k.list[l], lists[l]);
	for (size_t m = 0; m < n; m++)
		assert_int_equal(rs_ssh_kexinit(b, m, &k), 0);
	b[5] = 21; /* not KEXINIT */
	assert_int_equal(rs_ssh_kexinit(b, n, &k), -1);
	b[5] = 20;
	b[0] = 0x7f; /* a packet too long */
	assert_int_equal(rs_ssh_kexinit(b, n, &k), -1);
	b[0] = 0;
	b[25] = 0xff; /* a list longer than the packet */
	assert_int_equal(rs_ssh_kexinit(b, n, &k), -1);
}

static void test_telnet(void **state)
{
	(void)state;
	struct rs_telnet t = {0};
	uint8_t reply[64];
	/* DO terminal-type, WILL echo, WILL SGA, a subnegotiation, IAC IAC,
	 * DO terminal-type again (answered once only), a NOP. */
	static const uint8_t in[] = {255, 253, 24,  255, 251, 1,   255, 251, 3,	 'h', 'i', 255, 250,
				     24,  1,   255, 240, 255, 255, 255, 253, 24, 255, 241, ':'};
	size_t k = rs_telnet_feed(&t, in, 5, reply, sizeof(reply)); /* split mid-command */
	static const uint8_t want1[] = {255, 252, 24};
	assert_int_equal(k, 3);
	assert_memory_equal(reply, want1, 3);
	k = rs_telnet_feed(&t, in, sizeof(in), reply, sizeof(reply));
	static const uint8_t want2[] = {255, 254, 1, 255, 254, 3};
	assert_int_equal(k, 6);
	assert_memory_equal(reply, want2, 6);
	assert_true(rs_telnet_has(t.do_, 24));
	assert_true(rs_telnet_has(t.will, 1) && rs_telnet_has(t.will, 3));
	assert_false(rs_telnet_has(t.will, 24));
	assert_int_equal(t.text, 4); /* 'h' 'i' 255 ':' */
	assert_int_equal(t.cmds, 6);
	uint8_t text[16];
	size_t n = rs_telnet_text(in, sizeof(in), text, sizeof(text));
	assert_int_equal(n, 4);
	assert_memory_equal(text, "hi\xff:", 4);
	assert_true(rs_telnet_is(in, 2));
	assert_false(rs_telnet_is((const uint8_t *)"login:", 6));
	assert_string_equal(rs_telnet_opt_name(24), "terminal-type");
	assert_string_equal(rs_telnet_opt_name(3), "suppress-go-ahead");
	assert_null(rs_telnet_opt_name(200));
}

static struct rs_svc_cfg cfg_banner, cfg_service;

static int setup(void **state)
{
	(void)state;
	rs_svc_cfg_init(&cfg_banner, 3000, false, NULL);
	rs_svc_cfg_init(&cfg_service, 3000, true, "SSH-2.0-ringscan_test\r\n");
	return 0;
}

/* Feed data to session s as one read at now. */
static enum rs_svc_step feed(struct rs_svc_sess *s, const struct rs_svc_cfg *c, const void *d,
			     size_t n, uint64_t now)
{
	uint32_t cap;
	uint8_t *room = rs_svc_room(s, &cap);
	size_t k = n < cap ? n : cap;
	memcpy(room, d, k);
	return rs_svc_on_read(s, c, (int)k, now);
}

static void test_session_ssh(void **state)
{
	(void)state;
	struct rs_svc_sess *s = calloc(1, sizeof(*s));
	struct rs_svcrec *r = calloc(1, sizeof(*r));
	const char *id = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n";

	/* --banner: done at the end of the identification line. */
	rs_svc_begin(s, 0, 22, NULL);
	assert_int_equal(rs_svc_wait_ns(s, &cfg_banner, 0), 3000 * MS);
	assert_int_equal(feed(s, &cfg_banner, id, 10, 1 * MS), RS_SVC_READ);
	assert_int_equal(rs_svc_wait_ns(s, &cfg_banner, 1 * MS), 500 * MS); /* the gap */
	assert_int_equal(feed(s, &cfg_banner, id + 10, strlen(id) - 10, 2 * MS), RS_SVC_DONE);
	rs_svc_record(s, NULL, 42, r);
	assert_int_equal(r->pos, 42);
	assert_int_equal(r->banner.len, strlen(id));
	assert_int_equal(r->wait_ms, 1);
	assert_true(r->flags & RS_SVCF_SSH);

	/* --service: ours is sent, then the KEXINIT read within its own bound. */
	uint8_t pkt[1024];
	size_t n = kexinit(pkt, lists);
	rs_svc_begin(s, 0, 22, NULL);
	assert_int_equal(feed(s, &cfg_service, id, strlen(id), 1 * MS), RS_SVC_SEND);
	assert_int_equal(s->send_len, strlen(cfg_service.ident));
	assert_memory_equal(s->send, cfg_service.ident, s->send_len);
	assert_int_equal(rs_svc_wait_ns(s, &cfg_service, 1 * MS), 3000 * MS);
	assert_int_equal(feed(s, &cfg_service, pkt, 100, 2 * MS), RS_SVC_READ);
	assert_int_equal(feed(s, &cfg_service, pkt + 100, n - 100, 3 * MS), RS_SVC_DONE);
	rs_svc_record(s, NULL, 7, r);
	assert_true(r->flags & RS_SVCF_KEX);
	assert_int_equal(r->banner.len, strlen(id));
	assert_int_equal(r->len, strlen(id) + n);
	free(s);
	free(r);
}

static void test_session_telnet(void **state)
{
	(void)state;
	struct rs_svc_sess *s = calloc(1, sizeof(*s));
	static const uint8_t neg[] = {255, 253, 24, 255, 251, 1};

	rs_svc_begin(s, 0, 22, NULL);
	assert_int_equal(feed(s, &cfg_banner, neg, sizeof(neg), MS), RS_SVC_SEND);
	static const uint8_t refusals[] = {255, 252, 24, 255, 254, 1};
	assert_int_equal(s->send_len, sizeof(refusals));
	assert_memory_equal(s->send, refusals, sizeof(refusals));
	/* The same requests again: nothing more to say. */
	assert_int_equal(feed(s, &cfg_banner, neg, sizeof(neg), 2 * MS), RS_SVC_READ);
	assert_int_equal(feed(s, &cfg_banner, "Debian GNU/Linux 12\r\n", 21, 3 * MS), RS_SVC_READ);
	assert_int_equal(feed(s, &cfg_banner, "host login: ", 12, 4 * MS), RS_SVC_DONE);
	assert_true(s->flags & RS_SVCF_TELNET);
	free(s);
}

static void test_session_bounds(void **state)
{
	(void)state;
	struct rs_svc_sess *s = calloc(1, sizeof(*s));
	struct rs_svcrec *r = calloc(1, sizeof(*r));
	struct rs_svcview v;

	/* Accepted and closed unheard: tcpwrapped. */
	rs_svc_begin(s, 0, 22, NULL);
	assert_int_equal(rs_svc_on_read(s, &cfg_banner, 0, MS), RS_SVC_DONE);
	rs_svc_record(s, NULL, 1, r);
	rs_svc_describe(r, &v);
	assert_string_equal(v.name, "tcpwrapped");
	/* Silent: the read timeout ends it, nothing recognised. */
	rs_svc_begin(s, 0, 22, NULL);
	assert_int_equal(rs_svc_on_read(s, &cfg_banner, -ECANCELED, 3000 * MS), RS_SVC_DONE);
	rs_svc_record(s, NULL, 1, r);
	rs_svc_describe(r, &v);
	assert_null(v.name);
	assert_true(r->flags & RS_SVCF_TIMEOUT);
	/* Endless: done when the buffer is full, never more. */
	rs_svc_begin(s, 0, 22, NULL);
	uint8_t junk[1000];
	memset(junk, 0x5a, sizeof(junk));
	enum rs_svc_step st = RS_SVC_READ;
	int reads = 0;
	while (st == RS_SVC_READ && reads < 100)
		st = feed(s, &cfg_banner, junk, sizeof(junk), (uint64_t)++reads * MS);
	assert_int_equal(st, RS_SVC_DONE);
	assert_int_equal(s->len, RS_SVC_DATA);
	assert_true(s->flags & RS_SVCF_FULL);
	assert_int_equal(reads, (RS_SVC_DATA + 999) / 1000);
	/* One byte a second: never past the read timeout. */
	rs_svc_begin(s, 0, 22, NULL);
	uint64_t t = 0;
	st = RS_SVC_READ;
	while (st == RS_SVC_READ && t < 10000 * MS) {
		uint64_t wait = rs_svc_wait_ns(s, &cfg_banner, t);
		if (wait < 1000 * MS) { /* the gap ends before the next byte */
			t += wait;
			st = rs_svc_on_read(s, &cfg_banner, -ECANCELED, t);
			break;
		}
		t += 1000 * MS;
		st = feed(s, &cfg_banner, "x", 1, t);
	}
	assert_int_equal(st, RS_SVC_DONE);
	assert_true(t <= 3000 * MS);
	/* The same with a gap longer than a second: the deadline. */
	struct rs_svc_cfg slow;
	rs_svc_cfg_init(&slow, 12000, false, NULL); /* gap 2 s */
	rs_svc_begin(s, 0, 22, NULL);
	for (t = 1000 * MS, st = RS_SVC_READ; st == RS_SVC_READ; t += 1000 * MS)
		st = feed(s, &slow, "x", 1, t);
	assert_true(t - 1000 * MS <= 12000 * MS);
	assert_int_equal(s->len, 12);
	free(s);
	free(r);
}

/* The JSON members of a record holding d. */
static const char *json_of(struct rs_svcrec *r, const void *d, size_t n, uint16_t flags)
{
	static char out[RS_SVC_LINE_MAX + 1];
	struct rs_svcview v;

	memset(r, 0, sizeof(*r));
	memcpy(r->data, d, n);
	r->len = r->total = (uint32_t)n;
	r->banner = (struct rs_span){0, (uint32_t)n};
	r->flags = flags;
	rs_svc_describe(r, &v);
	size_t k = rs_fmt_svc_json(out, RS_SVC_LINE_MAX, &v);
	out[k] = 0;
	return out;
}

static void test_json(void **state)
{
	(void)state;
	struct rs_svcrec *r = calloc(1, sizeof(*r));

	assert_string_equal(
		json_of(r, B("SSH-2.0-dropbear_2022.83\r\n"), RS_SVCF_SSH),
		",\"service\":{\"name\":\"ssh\",\"product\":\"dropbear\",\"version\":\"2022.83\","
		"\"info\":\"protocol 2.0\",\"method\":\"banner\",\"probe\":\"NULL\"},"
		"\"banner\":\"SSH-2.0-dropbear_2022.83\\r\\n\",\"ssh\":{\"proto_version\":"
		"\"2.0\",\"software\":\"dropbear_2022.83\",\"comment\":\"\"}");
	/* Lossless: NUL, control bytes, quotes, valid UTF-8 as is, invalid
	 * bytes as U+DC80-U+DCFF; overlong and surrogate forms are invalid. */
	assert_string_equal(json_of(r, B("a\0\x01\"\\\xc3\xa9\xff\xc0\xaf\xed\xa0\x80"), 0),
			    ",\"banner\":\"a\\u0000\\u0001\\\"\\\\\xc3\xa9\\udcff\\udcc0\\udcaf"
			    "\\udced\\udca0\\udc80\"");
	/* Silent: an empty banner and no service. */
	assert_string_equal(json_of(r, "", 0, RS_SVCF_TIMEOUT), ",\"banner\":\"\"");
	/* A long banner is cut at RS_BANNER_MAX and says so. */
	char big[RS_BANNER_MAX + 10];
	memset(big, 'b', sizeof(big));
	const char *j = json_of(r, big, sizeof(big), 0);
	assert_int_equal(strlen(j), strlen(",\"banner\":\"\"") + RS_BANNER_MAX +
					    strlen(",\"banner_truncated\":true"));
	assert_non_null(strstr(j, "\",\"banner_truncated\":true"));
	/* Telnet: the options offered, by name, and the text. */
	static const uint8_t tn[] = {255, 253, 24, 255, 251, 1, 255, 251, 200, 'o', 'k', '\n'};
	assert_string_equal(
		json_of(r, tn, sizeof(tn), RS_SVCF_TELNET),
		",\"service\":{\"name\":\"telnet\",\"method\":\"banner\",\"probe\":\"NULL\"},"
		"\"banner\":"
		"\"\\udcff\\udcfd\\u0018\\udcff\\udcfb\\u0001\\udcff\\udcfb\\udcc8ok\\n\","
		"\"telnet\":{\"will\":[{\"code\":1,\"name\":\"echo\"},{\"code\":200}],\"do\":["
		"{\"code\":24,\"name\":\"terminal-type\"}],\"text\":\"ok\\n\"}");
	free(r);
}

/* Whatever the record, the output stays inside its bound and its
 * brackets and quotes balance (a hostile KEXINIT of 4 KiB of commas and
 * 0xff, formatted into a small buffer). */
static void test_json_bounded(void **state)
{
	(void)state;
	struct rs_svcrec *r = calloc(1, sizeof(*r));
	const char *id = "SSH-2.0-x_1\r\n";
	char *out = malloc(RS_SVC_LINE_MAX);
	struct rs_svcview v;
	uint8_t pkt[RS_SVC_DATA];
	static char junk[3000];

	for (size_t i = 0; i < sizeof(junk) - 1; i++)
		junk[i] = i % 2 ? ',' : '\xff';
	const char *const l[10] = {junk, "a", "b", "c", "d", "e", "f", "g", "", ""};
	size_t n = kexinit(pkt, l);
	memcpy(r->data, id, strlen(id));
	memcpy(r->data + strlen(id), pkt, n);
	r->banner = (struct rs_span){0, (uint32_t)strlen(id)};
	r->kex = (struct rs_span){(uint32_t)strlen(id), (uint32_t)n};
	r->len = r->total = (uint32_t)(strlen(id) + n);
	r->flags = RS_SVCF_SSH | RS_SVCF_KEX;
	rs_svc_describe(r, &v);
	assert_true(v.kex);
	for (size_t cap = 300; cap <= RS_SVC_LINE_MAX; cap *= 2) {
		memset(out, 0, RS_SVC_LINE_MAX);
		size_t k = rs_fmt_svc_json(out, cap, &v);
		assert_true(k <= cap);
		int depth = 0, quotes = 0;
		for (size_t i = 0; i < k; i++) {
			if (out[i] == '\\') {
				i++;
				continue;
			}
			if (out[i] == '"')
				quotes++;
			else if (!(quotes % 2) && (out[i] == '{' || out[i] == '['))
				depth++;
			else if (!(quotes % 2) && (out[i] == '}' || out[i] == ']'))
				depth--;
		}
		assert_int_equal(depth, 0);
		assert_int_equal(quotes % 2, 0);
	}
	free(out);
	free(r);
}

/* A small probe database of our own: nmap's file format, nmap's rules. */
static const char probes_txt[] =
	"Probe TCP NULL q||\n"
	"totalwaitms 6000\n"
	"match ftp m|^220 (\\S+) FTP ready\\r\\n| p/TestFTP/ v/$1/\n"
	"softmatch smtp m|^220 [^\\r\\n]* ESMTP|\n"
	"\n"
	"Probe TCP GetRequest q|GET / HTTP/1.0\\r\\n\\r\\n|\n"
	"rarity 1\n"
	"ports 80,8080\n"
	"match http m|^HTTP/1\\.0 200 OK\\r\\nServer: (\\w+)/([\\d.]+)| p/$1/ v/$2/\n"
	"\n"
	"Probe TCP Help q|HELP\\r\\n|\n"
	"rarity 3\n"
	"match smtp m|^220 .* ESMTP .*\\r\\n214 |s p/TestSMTP/\n";

struct dbfix {
	struct rs_svcdb *db;
	struct rs_svcscratch *scratch;
	struct rs_svc_cfg banner, service;
	struct rs_svc_sess *s;
	struct rs_svcrec *r;
};

static int db_setup(void **state)
{
	struct dbfix *f = calloc(1, sizeof(*f));
	char path[] = "/tmp/test_svc.XXXXXX", err[256];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, probes_txt, strlen(probes_txt)), (ssize_t)strlen(probes_txt));
	close(fd);
	assert_int_equal(rs_svcdb_load(path, &f->db, err, sizeof(err)), 0);
	unlink(path);
	assert_int_equal(rs_svcscratch_create(f->db, &f->scratch), 0);
	rs_svc_cfg_init(&f->banner, 3000, false, NULL);
	rs_svc_cfg_init(&f->service, 3000, true, "SSH-2.0-ringscan_test\r\n");
	f->banner.db = f->service.db = f->db;
	f->s = calloc(1, sizeof(*f->s));
	f->r = calloc(1, sizeof(*f->r));
	*state = f;
	return 0;
}

static int db_teardown(void **state)
{
	struct dbfix *f = *state;

	rs_svcscratch_free(f->scratch);
	rs_svcdb_free(f->db);
	free(f->s);
	free(f->r);
	free(f);
	return 0;
}

/* The record of session s, and its view. */
static void view(struct dbfix *f, struct rs_svcview *v)
{
	rs_svc_record(f->s, f->db, 9, f->r);
	rs_svc_describe(f->r, v);
}

static void banner_is(const struct rs_svcview *v, const char *want)
{
	assert_int_equal(v->rec->banner.len, strlen(want));
	assert_memory_equal(v->rec->data + v->rec->banner.off, want, strlen(want));
}

/* A greeting nmap's NULL rules know ends the stage, with their fields. */
static void test_nmap_greeting(void **state)
{
	struct dbfix *f = *state;
	struct rs_svcview v;

	rs_svc_begin(f->s, 0, 21, f->scratch);
	assert_int_equal(feed(f->s, &f->service, "220 box7 FTP ready\r\n", 20, MS), RS_SVC_DONE);
	view(f, &v);
	assert_string_equal(v.name, "ftp");
	assert_string_equal(v.product, "TestFTP");
	assert_string_equal(v.version, "box7");
	assert_string_equal(v.method, "banner");
	assert_string_equal(v.probe, "NULL");
	banner_is(&v, "220 box7 FTP ready\r\n");
	/* Without --service an unknown greeting is read to the gap, no probe. */
	rs_svc_begin(f->s, 0, 8080, f->scratch);
	assert_int_equal(feed(f->s, &f->banner, "hello\r\n", 7, MS), RS_SVC_READ);
	assert_int_equal(rs_svc_on_read(f->s, &f->banner, -ECANCELED, 600 * MS), RS_SVC_DONE);
	view(f, &v);
	assert_null(v.name);
	banner_is(&v, "hello\r\n");
}

/* Silent at first: the port's own probe on the same connection. */
static void test_nmap_probed(void **state)
{
	struct dbfix *f = *state;
	struct rs_svcview v;
	const char *http = "HTTP/1.0 200 OK\r\nServer: Simple/0.6\r\n\r\n";

	rs_svc_begin(f->s, 0, 8080, f->scratch);
	assert_int_equal(rs_svc_on_read(f->s, &f->service, -ECANCELED, 3000 * MS), RS_SVC_SEND);
	assert_int_equal(f->s->send_len, 18);
	assert_memory_equal(f->s->send, "GET / HTTP/1.0\r\n\r\n", 18);
	assert_int_equal(rs_svc_wait_ns(f->s, &f->service, 3000 * MS),
			 3000 * MS); /* its own bound */
	assert_int_equal(feed(f->s, &f->service, http, strlen(http), 3001 * MS), RS_SVC_DONE);
	view(f, &v);
	assert_string_equal(v.name, "http");
	assert_string_equal(v.product, "Simple");
	assert_string_equal(v.version, "0.6");
	assert_string_equal(v.method, "probed");
	assert_string_equal(v.probe, "GetRequest");
	banner_is(&v, http);
	/* A port no probe names gets those within the intensity, then done:
	 * GetRequest (rarity 1), Help (3). */
	rs_svc_begin(f->s, 0, 9999, f->scratch);
	assert_int_equal(rs_svc_on_read(f->s, &f->service, -ECANCELED, 3000 * MS), RS_SVC_SEND);
	assert_int_equal(f->s->send_len, 18);
	assert_int_equal(rs_svc_on_read(f->s, &f->service, -ECANCELED, 6000 * MS),
			 RS_SVC_RECONNECT);
	assert_memory_equal(f->s->send, "HELP\r\n", 6);
	assert_int_equal(rs_svc_on_read(f->s, &f->service, -ECANCELED, 9000 * MS), RS_SVC_DONE);
	view(f, &v);
	assert_null(v.name);
	banner_is(&v, "");
}

/* A soft match goes on with the probes that may hard-match it; the answer
 * to the one sent on the greeting's connection is matched with the
 * greeting before it (nmap appends them). */
static void test_nmap_soft(void **state)
{
	struct dbfix *f = *state;
	struct rs_svcview v;

	rs_svc_begin(f->s, 0, 25, f->scratch);
	assert_int_equal(feed(f->s, &f->service, "220 mx ESMTP x\r\n", 16, MS), RS_SVC_READ);
	assert_int_equal(f->s->matched, RS_SVCM_SOFT);
	assert_int_equal(rs_svc_on_read(f->s, &f->service, -ECANCELED, 600 * MS), RS_SVC_SEND);
	assert_memory_equal(f->s->send, "HELP\r\n", 6); /* not GetRequest: it cannot say smtp */
	assert_int_equal(feed(f->s, &f->service, "214 ok\r\n", 8, 601 * MS), RS_SVC_DONE);
	view(f, &v);
	assert_string_equal(v.name, "smtp");
	assert_string_equal(v.product, "TestSMTP");
	assert_string_equal(v.probe, "Help");
	banner_is(&v, "220 mx ESMTP x\r\n214 ok\r\n");
	/* Nothing hard: the soft match is the answer. */
	rs_svc_begin(f->s, 0, 25, f->scratch);
	feed(f->s, &f->service, "220 mx ESMTP x\r\n", 16, MS);
	rs_svc_on_read(f->s, &f->service, -ECANCELED, 600 * MS);
	assert_int_equal(rs_svc_on_read(f->s, &f->service, -ECANCELED, 3600 * MS), RS_SVC_DONE);
	view(f, &v);
	assert_string_equal(v.name, "smtp");
	assert_string_equal(v.product, "");
	assert_string_equal(v.probe, "NULL");
	banner_is(&v, "220 mx ESMTP x\r\n");
}

/* A service that closed: the next probe on a new connection, matched on
 * its own answer; the greeting stays the banner if nothing matches. */
static void test_nmap_reconnect(void **state)
{
	struct dbfix *f = *state;
	struct rs_svcview v;
	const char *http = "HTTP/1.0 200 OK\r\nServer: Other/2.1\r\n\r\n";

	rs_svc_begin(f->s, 0, 80, f->scratch);
	assert_int_equal(feed(f->s, &f->service, "hello\r\n", 7, MS), RS_SVC_READ);
	assert_int_equal(rs_svc_on_read(f->s, &f->service, 0, 2 * MS), RS_SVC_RECONNECT);
	assert_int_equal(f->s->len, 7);
	assert_int_equal(feed(f->s, &f->service, http, strlen(http), 3 * MS), RS_SVC_DONE);
	view(f, &v);
	assert_string_equal(v.product, "Other");
	banner_is(&v, http);
	/* Closed unheard: tcpwrapped, no probe sent. */
	rs_svc_begin(f->s, 0, 80, f->scratch);
	assert_int_equal(rs_svc_on_read(f->s, &f->service, -ECONNRESET, MS), RS_SVC_DONE);
	view(f, &v);
	assert_string_equal(v.name, "tcpwrapped");
}

static void test_svcring(void **state)
{
	(void)state;
	struct rs_svcring *r = malloc(rs_svcring_size(4));

	rs_svcring_init(r, 4);
	assert_null(rs_svcring_peek(r));
	for (uint64_t i = 0; i < 4; i++) {
		struct rs_svcrec *rec = rs_svcring_slot(r);
		assert_non_null(rec);
		rec->pos = i;
		rs_svcring_push(r);
	}
	assert_null(rs_svcring_slot(r)); /* full */
	for (uint64_t i = 0; i < 4; i++) {
		const struct rs_svcrec *rec = rs_svcring_peek(r);
		assert_non_null(rec);
		assert_int_equal(rec->pos, i);
		rs_svcring_drop(r);
	}
	assert_null(rs_svcring_peek(r));
	assert_non_null(rs_svcring_slot(r));
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ssh_ident),      cmocka_unit_test(test_ssh_kexinit),
		cmocka_unit_test(test_telnet),	       cmocka_unit_test(test_session_ssh),
		cmocka_unit_test(test_session_telnet), cmocka_unit_test(test_session_bounds),
		cmocka_unit_test(test_json),	       cmocka_unit_test(test_json_bounded),
		cmocka_unit_test(test_svcring),
	};
	const struct CMUnitTest nmap[] = {
		cmocka_unit_test(test_nmap_greeting),
		cmocka_unit_test(test_nmap_probed),
		cmocka_unit_test(test_nmap_soft),
		cmocka_unit_test(test_nmap_reconnect),
	};
	int ret = cmocka_run_group_tests(tests, setup, NULL);
	return ret | cmocka_run_group_tests(nmap, db_setup, db_teardown);
}
