/* nmap's service probe database (src/svcdb*.c): a hand-written probe file
 * exercises the parser (escapes, directives, every refusal with its line
 * number), nmap's probe order at several intensities and after a soft
 * match, fallbacks, first-match-wins, every substitution form, field
 * length limits and CPEs; the prefilter's literal reader is checked
 * pattern by pattern, and every match is repeated without the prefilter
 * (the answers must be identical). Then, when nmap is installed, its real
 * database: plausible counts and the answers nmap 7.93 itself gives for
 * real banners (checked with nmap -sV against a listener in a private
 * network namespace). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ringscan/svcdb.h"
#include "svcdb_int.h"

/* A probe file of our own. Probe indices after loading: NULL 0, Early 1,
 * Alpha 2, Beta 3, Gamma 4, Delta 5, Eps 6, Zeta 7 (UDP Ping is internal). */
static const char probes[] =
	"# test probes for ringscan\n"
	"Exclude 7000,T:9100-9102,U:53,7001\n"
	"\n"
	"Probe TCP Early q|EARLY\\r\\n|\n"
	"rarity 3\n"
	"ports 80\n"
	"match early m|^EARLY OK$|\n"
	"Probe TCP NULL q||\n"
	"totalwaitms 6000\n"
	"tcpwrappedms 3000\n"
	"match ssh m|^SSH-([\\d.]+)-Acme_([\\w.]+)\\r?\\n| p/Acme sshd/ v/$2/ i/protocol $1/ "
	"cpe:/a:acme:sshd:$2/\n"
	"match ftp m|^220 Acme FTP (\\d+)\\.(\\d+)| p/Acme ftpd/ v/$1.$2/\n"
	"softmatch ftp m/^220 .*ftp/i\n"
	"match ftp m|^220 Late FTP| p/never: the softmatch comes first/\n"
	"match nul m|^\\0\\xff\\xfe(.)(.*)$|s p/binary/ v/$I(1,\">\")/ i/$P(2)/\n"
	"match boom m|^(a+)+$| p/too slow/\n"
	"match boom2 m|^a+b$| p/after the slow one/\n"
	"Probe UDP Ping q|\\x01| no-payload\n"
	"ports 53\n"
	"match pingsvc m|^PONG (\\w+)| p/Ping $1/\n"
	"Probe TCP Alpha q#ALPHA\\0\\x41\\t\\\\\\a\\b\\f\\v\\\"|# no-payload\n"
	"rarity 1\n"
	"ports 21,25\n"
	"match alpha m|^ALPHA-OK (\\S+)| p/Alpha/ v/$1/\n"
	"match ftp m|^FTPISH| p/Alpha ftp/\n"
	"Probe TCP Beta q|BETA|\n"
	"rarity 5\n"
	"ports 8000-8010\n"
	"fallback Alpha\n"
	"match beta m|^(BETA) (ALPHA-OK)| p/Beta first/\n"
	"Probe TCP Gamma q|GAMMA|\n"
	"rarity 8\n"
	"ports 21\n"
	"match nine m|^(a)(b)(c)(d)(e)(f)(g)(h)(i)$| v/$9$8$7$6$5$4$3$2$1/ i/$10/\n"
	"match subst m=^S (\\S+) (\\S+)= p|$SUBST(1,\"_\",\".\")| v=$SUBST(2,\"\\\"\",\"'\")= "
	"i'$SUBST(1,\"_\",\"\\0\")x'\n"
	"match ints m|^I(..)$|s v/$I(1,\">\")/ i/$I(1,\"<\")/ h/$I(1,\"?\")/\n"
	"match utf16 m|^U((?:.\\0)+)$|s p/$P(1)/ v/$1/\n"
	"match trim m|^T (.*)$| p/$1/ i/x, $1 ,, / o/  $1/\n"
	"match bad m|^B(x)?(y)$| p/$1/ v/$3/ i/$0/ h/$X(1)/ o/ok $2/ d/$P(1,2)/\n"
	"match long m|^L(\\w*)$| p/$1/ i/$1$1$1/ v/0123456789012345678901234567890123456789"
	"012345678901234567890123456789012345678/ h/0123456789012345678901234567890123456789"
	"0123456789012345678901234567890123456789/\n"
	"match cpe m|^C (.+)$| cpe:/a:acme:$1/ cpe:/h:first/ cpe:/h:second:$1/a cpe:/x:odd/ "
	"cpe:|o:acme:os|\n"
	"match dup m|^D| p/one/ p/two/ d/router/\n"
	"Probe TCP Delta q|DELTA|\n"
	"rarity 9\n"
	"match ftp m|^DFTP| p/Delta ftp/\n"
	"Probe TCP Eps q|EPS|\n"
	"fallback Ping\n"
	"match eps m|^EPS| p/Eps/\n"
	"Probe TCP Zeta q|ZETA|\n"
	"rarity 7\n"
	"ports 25\n"
	"sslports 443\n"
	"match zeta m|^ZETA| p/Zeta/\n"
	"match ssl/zeta m|^SZETA| p/Zeta over TLS/\n"
	"softmatch ssl/zeta m|^SOFTZ|\n";

enum { NUL_P, EARLY, ALPHA, BETA, GAMMA, DELTA, EPS, ZETA };

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/rs-svcdb-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Write text to dir/name; its path in path. */
static void put_file(const char *name, const char *text, char *path, size_t n)
{
	snprintf(path, n, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static struct rs_svcdb *load_text(const char *text)
{
	char path[128], err[256];
	struct rs_svcdb *db = NULL;
	put_file("probes", text, path, sizeof(path));
	int rc = rs_svcdb_load(path, &db, err, sizeof(err));
	if (rc)
		fail_msg("load: %d %s", rc, err);
	return db;
}

/* Match with and without the prefilter: both must give the same answer. */
static int match2(const struct rs_svcdb *db, unsigned probe, const void *resp, size_t len,
		  struct rs_svcmatch *m)
{
	struct rs_svcscratch *s;
	struct rs_svcmatch n;
	assert_int_equal(rs_svcscratch_create(db, &s), 0);
	int rc = rs_svcdb_match(db, s, probe, resp, len, m);
	rs__svcscratch_naive(s, true);
	int rn = rs_svcdb_match(db, s, probe, resp, len, &n);
	rs_svcscratch_free(s);
	assert_int_equal(rc, rn);
	assert_memory_equal(m, &n, sizeof(n));
	return rc;
}

/* Match s (a C string) and describe it. */
static int ident(const struct rs_svcdb *db, unsigned probe, const char *s, struct rs_svcinfo *info)
{
	struct rs_svcmatch m;
	int rc = match2(db, probe, s, strlen(s), &m);
	memset(info, 0, sizeof(*info));
	if (rc > 0)
		assert_int_equal(rs_svcdb_describe(db, &m, (const uint8_t *)s, strlen(s), info), 0);
	return rc;
}

static void test_parse(void **state)
{
	(void)state;
	struct rs_svcdb *db = load_text(probes);

	assert_int_equal(rs_svcdb_nprobes(db), 8);
	assert_int_equal(rs_svcdb_nrules(db), 26);
	const struct rs_svcprobe *p = rs_svcdb_probe(db, NUL_P);
	assert_string_equal(p->name, "NULL");
	assert_int_equal(p->len, 0);
	assert_int_equal(p->totalwait_ms, 6000);
	assert_int_equal(p->tcpwrapped_ms, 3000);
	assert_int_equal(p->rarity, 5);
	p = rs_svcdb_probe(db, ALPHA);
	assert_string_equal(p->name, "Alpha");
	assert_int_equal(p->len, 15);
	assert_memory_equal(p->payload, "ALPHA\0A\t\\\a\b\f\v\"|", 15);
	assert_int_equal(p->rarity, 1);
	assert_int_equal(p->totalwait_ms, 5000);
	assert_int_equal(p->tcpwrapped_ms, 2000);
	p = rs_svcdb_probe(db, EARLY);
	assert_memory_equal(p->payload, "EARLY\r\n", 7);
	assert_int_equal(rs_svcdb_probe(db, EPS)->rarity, 5);
	assert_null(rs_svcdb_probe(db, 8)); /* UDP Ping is not a TCP probe */
	assert_int_equal(rs_svcdb_find_probe(db, "Gamma"), GAMMA);
	assert_int_equal(rs_svcdb_find_probe(db, "Ping"), -ENOENT);
	assert_true(rs_svcdb_excluded(db, 9100));
	assert_true(rs_svcdb_excluded(db, 9102));
	assert_true(rs_svcdb_excluded(db, 7000));  /* before any T:/U:, every protocol */
	assert_false(rs_svcdb_excluded(db, 7001)); /* U: holds until the next prefix */
	assert_false(rs_svcdb_excluded(db, 9103));
	assert_false(rs_svcdb_excluded(db, 53)); /* U: */
	rs_svcdb_free(db);
}

static void check_plan(const struct rs_svcdb *db, uint16_t port, int intensity,
		       const uint16_t *want, size_t n)
{
	uint16_t got[32];
	size_t k = rs_svcdb_plan(db, port, intensity, got, 32);
	if (k != n || memcmp(got, want, n * sizeof(*want))) {
		char buf[256] = "";
		for (size_t i = 0; i < k; i++)
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " %u", got[i]);
		fail_msg("port %u intensity %d: got%s", port, intensity, buf);
	}
}

#define PLAN(db, port, in, ...)                                                                    \
	do {                                                                                       \
		static const uint16_t w_[] = {__VA_ARGS__};                                        \
		check_plan(db, port, in, w_, sizeof(w_) / sizeof(w_[0]));                          \
	} while (0)

static void test_plan(void **state)
{
	(void)state;
	struct rs_svcdb *db = load_text(probes);
	uint16_t out[32];

	/* NULL, the port's own probes whatever their rarity (Gamma is 8),
	 * then the others in file order up to the intensity. */
	PLAN(db, 21, 7, NUL_P, ALPHA, GAMMA, EARLY, BETA, EPS, ZETA);
	PLAN(db, 21, 0, NUL_P, ALPHA, GAMMA);
	PLAN(db, 21, 9, NUL_P, ALPHA, GAMMA, EARLY, BETA, DELTA, EPS, ZETA);
	PLAN(db, 21, 42, NUL_P, ALPHA, GAMMA, EARLY, BETA, DELTA, EPS, ZETA); /* clamped */
	PLAN(db, 22, 2, NUL_P, ALPHA);
	PLAN(db, 22, -3, NUL_P);
	PLAN(db, 80, 0, NUL_P, EARLY);
	PLAN(db, 8005, 5, NUL_P, BETA, EARLY, ALPHA, EPS);
	PLAN(db, 25, 7, NUL_P, ALPHA, ZETA, EARLY, BETA, EPS);
	PLAN(db, 443, 1, NUL_P, ALPHA); /* sslports are for TLS only */
	PLAN(db, 53, 9, NUL_P, EARLY, ALPHA, BETA, GAMMA, DELTA, EPS, ZETA);
	assert_int_equal(rs_svcdb_plan(db, 9101, 9, out, 32), 0); /* Exclude */
	assert_int_equal(rs_svcdb_plan(db, 21, 7, out, 2), 2);

	/* After a soft match of ftp: only probes with an ftp rule, and
	 * Delta despite its rarity 9; nothing left after Delta. */
	assert_true(rs_svcdb_probe_can_match(db, ALPHA, "ftp"));
	assert_true(rs_svcdb_probe_can_match(db, NUL_P, "ftp"));
	assert_true(rs_svcdb_probe_can_match(db, DELTA, "ftp"));
	assert_false(rs_svcdb_probe_can_match(db, GAMMA, "ftp"));
	assert_false(rs_svcdb_probe_can_match(db, ALPHA, "nosuch"));
	assert_false(rs_svcdb_probe_can_match(db, 99, "ftp"));
	assert_int_equal(rs_svcdb_next(db, 21, 7, "ftp", NUL_P), ALPHA);
	assert_int_equal(rs_svcdb_next(db, 21, 7, "ftp", ALPHA), DELTA);
	assert_int_equal(rs_svcdb_next(db, 21, 7, "ftp", DELTA), -1);
	assert_int_equal(rs_svcdb_next(db, 21, 0, "ftp", ALPHA), DELTA);
	assert_int_equal(rs_svcdb_next(db, 21, 7, "nosuch", NUL_P), -1);
	/* At 9 (--version-all) a soft match restricts nothing. */
	assert_int_equal(rs_svcdb_next(db, 21, 9, "ftp", ALPHA), GAMMA);
	assert_int_equal(rs_svcdb_next(db, 21, 9, "ftp", EPS), ZETA);
	/* Without a soft match, next() walks plan()'s order. */
	assert_int_equal(rs_svcdb_next(db, 21, 7, NULL, -1), NUL_P);
	assert_int_equal(rs_svcdb_next(db, 21, 7, NULL, GAMMA), EARLY);
	assert_int_equal(rs_svcdb_next(db, 21, 7, NULL, ZETA), -1);
	assert_int_equal(rs_svcdb_next(db, 21, 7, NULL, 8), -1);
	assert_int_equal(rs_svcdb_next(db, 9100, 7, NULL, -1), -1);
	rs_svcdb_free(db);
}

static void test_match_order_and_fallback(void **state)
{
	(void)state;
	struct rs_svcdb *db = load_text(probes);
	struct rs_svcinfo i;
	struct rs_svcmatch m;

	assert_int_equal(ident(db, NUL_P, "SSH-2.0-Acme_1.5\r\n", &i), 1);
	assert_string_equal(i.name, "ssh");
	assert_string_equal(i.product, "Acme sshd");
	assert_string_equal(i.version, "1.5");
	assert_string_equal(i.info, "protocol 2.0");
	assert_int_equal(i.ncpe, 1);
	assert_string_equal(i.cpe[0], "cpe:/a:acme:sshd:1.5");
	/* A hard rule before the softmatch wins; a softmatch before a hard
	 * rule wins too: the first rule that matches decides. */
	assert_int_equal(ident(db, NUL_P, "220 Acme FTP 3.4 ready", &i), 1);
	assert_string_equal(i.version, "3.4");
	assert_int_equal(ident(db, NUL_P, "220 Late FTP", &i), 2);
	assert_string_equal(i.name, "ftp");
	assert_string_equal(i.product, "");
	assert_int_equal(match2(db, NUL_P, "220 Late FTP", 12, &m), 2);
	assert_int_equal(rs_svcdb_rule_line(db, m.rule), 13);
	assert_int_equal(m.soft, 1);
	/* Fallbacks: Beta's own rules, then Alpha's, then NULL's. */
	assert_int_equal(ident(db, BETA, "BETA ALPHA-OK 7", &i), 1);
	assert_string_equal(i.product, "Beta first");
	assert_int_equal(ident(db, BETA, "ALPHA-OK 7", &i), 1);
	assert_string_equal(i.product, "Alpha");
	assert_string_equal(i.version, "7");
	assert_int_equal(ident(db, BETA, "SSH-1.99-Acme_2\n", &i), 1);
	assert_string_equal(i.name, "ssh");
	assert_int_equal(ident(db, BETA, "PONG x", &i), 0);
	/* Eps falls back on the UDP probe Ping (found by name, any protocol). */
	assert_int_equal(ident(db, EPS, "PONG abc", &i), 1);
	assert_string_equal(i.product, "Ping abc");
	/* The NULL probe has no fallback; Alpha's rules are not NULL's. */
	assert_int_equal(ident(db, NUL_P, "ALPHA-OK 7", &i), 0);
	assert_int_equal(ident(db, NUL_P, "", &i), 0);
	/* "ssl/NAME": a hard match says NAME over TLS; a soft one keeps it. */
	assert_int_equal(ident(db, ZETA, "SZETA", &i), 1);
	assert_string_equal(i.name, "zeta");
	assert_true(i.ssl);
	assert_int_equal(ident(db, ZETA, "SOFTZ", &i), 2);
	assert_string_equal(i.name, "ssl/zeta");
	assert_false(i.ssl);
	assert_int_equal(ident(db, ZETA, "ZETA", &i), 1);
	assert_false(i.ssl);
	/* Binary-safe: NULs and invalid UTF-8. */
	static const char bin[] = "\0\xff\xfe\x07W\0O\0\xc3(RK\0";
	assert_int_equal(match2(db, NUL_P, bin, sizeof(bin) - 1, &m), 1);
	assert_int_equal(rs_svcdb_describe(db, &m, (const uint8_t *)bin, sizeof(bin) - 1, &i), 0);
	assert_string_equal(i.product, "binary");
	assert_string_equal(i.version, "7");
	assert_string_equal(i.info, "WO(RK");
	assert_int_equal(m.ncap, 3);
	assert_int_equal(m.cap[2], 3);
	assert_int_equal(m.cap[3], 4);
	/* A rule that hits the match limit counts as not matching; the next
	 * rule still gets its turn. */
	char aaa[64];
	memset(aaa, 'a', 40);
	strcpy(aaa + 40, "b");
	assert_int_equal(ident(db, NUL_P, aaa, &i), 1);
	assert_string_equal(i.name, "boom2");
	/* Bad arguments. */
	assert_int_equal(rs_svcdb_match(db, NULL, 8, (const uint8_t *)"x", 1, &m), -EINVAL);
	struct rs_svcscratch *s;
	assert_int_equal(rs_svcscratch_create(db, &s), 0);
	static uint8_t big[RS_SVCDB_MAXRESP + 1];
	assert_int_equal(rs_svcdb_match(db, s, NUL_P, big, sizeof(big), &m), -EMSGSIZE);
	assert_int_equal(m.rule, -1);
	assert_int_equal(rs_svcdb_match(db, s, NUL_P, big, sizeof(big) - 1, &m), 0);
	rs_svcscratch_free(s);
	m.rule = 999;
	assert_int_equal(rs_svcdb_describe(db, &m, big, 0, &i), -EINVAL);
	rs_svcdb_free(db);
}

static void test_substitutions(void **state)
{
	(void)state;
	struct rs_svcdb *db = load_text(probes);
	struct rs_svcinfo i;
	char buf[160];

	assert_int_equal(ident(db, GAMMA, "abcdefghi", &i), 1);
	assert_string_equal(i.version, "ihgfedcba");
	assert_string_equal(i.info, "a0"); /* $10 is $1 then '0' */
	assert_int_equal(ident(db, GAMMA, "S a_b_c say\"hi\"", &i), 1);
	assert_string_equal(i.product, "a.b.c");
	assert_string_equal(i.version, "say'hi'");
	assert_string_equal(i.info, "ax"); /* a NUL ends the substitution, not the field */
	assert_int_equal(ident(db, GAMMA, "I\x01\x02", &i), 1);
	assert_string_equal(i.version, "258");
	assert_string_equal(i.info, "513");
	assert_string_equal(i.hostname, ""); /* $I wants ">" or "<" */
	/* Bytes that are not printable ASCII are reported as '.', as nmap does. */
	assert_int_equal(ident(db, GAMMA, "T a\tb\xc3\xa9", &i), 1);
	assert_string_equal(i.product, "a.b..");
	assert_int_equal(ident(db, GAMMA, "C \x01\xff", &i), 1);
	assert_string_equal(i.cpe[0], "cpe:/a:acme:..");
	static const char u16[] = "UW\0O\0R\0K\0";
	struct rs_svcmatch m;
	assert_int_equal(match2(db, GAMMA, u16, sizeof(u16) - 1, &m), 1);
	assert_int_equal(rs_svcdb_describe(db, &m, (const uint8_t *)u16, sizeof(u16) - 1, &i), 0);
	assert_string_equal(i.product, "WORK");
	assert_string_equal(i.version, "W"); /* raw copy, cut at the NUL */
	/* Trailing spaces and commas go; leading ones stay. */
	assert_int_equal(ident(db, GAMMA, "T v1 ,", &i), 1);
	assert_string_equal(i.product, "v1");
	assert_string_equal(i.info, "x, v1");
	assert_string_equal(i.os, "  v1");
	/* Failing variables empty their field only: an unset group, a group
	 * beyond those that matched, $0, an unknown command, bad arguments. */
	assert_int_equal(ident(db, GAMMA, "By", &i), 1);
	assert_string_equal(i.name, "bad");
	assert_string_equal(i.product, "");
	assert_string_equal(i.version, "");
	assert_string_equal(i.info, "");
	assert_string_equal(i.hostname, "");
	assert_string_equal(i.os, "ok y");
	assert_string_equal(i.device, "");
	assert_int_equal(ident(db, GAMMA, "Bxy", &i), 1);
	assert_string_equal(i.product, "x");
	/* Lengths, nmap's: literal text may fill 79 bytes of an 80-byte field
	 * (v: 79 fit, h: 80 do not), a substitution must end before byte 79
	 * (p: 78); info has 256 (three times 84 fit, 85 not). */
	buf[0] = 'L';
	const size_t lens[] = {78, 79, 84, 85};
	const size_t want_p[] = {78, 0, 0, 0}, want_i[] = {234, 237, 252, 0};
	for (size_t k = 0; k < 4; k++) {
		memset(buf + 1, 'w', lens[k]);
		buf[1 + lens[k]] = '\0';
		assert_int_equal(ident(db, GAMMA, buf, &i), 1);
		assert_string_equal(i.name, "long");
		assert_int_equal(strlen(i.product), want_p[k]);
		assert_int_equal(strlen(i.info), want_i[k]);
		assert_int_equal(strlen(i.version), 79);
		assert_string_equal(i.hostname, "");
	}
	/* CPEs: substitutions lower-cased and escaped, one per part (the
	 * last wins), unknown parts ignored, reported a, h, o. */
	assert_int_equal(ident(db, GAMMA, "C My Prod/1.0 (x)", &i), 1);
	assert_int_equal(i.ncpe, 3);
	assert_string_equal(i.cpe[0], "cpe:/a:acme:my_prod%2F1.0_%28x%29");
	assert_string_equal(i.cpe[1], "cpe:/h:second:my_prod%2F1.0_%28x%29");
	assert_string_equal(i.cpe[2], "cpe:/o:acme:os");
	/* A repeated template replaces the earlier one. */
	assert_int_equal(ident(db, GAMMA, "D", &i), 1);
	assert_string_equal(i.product, "two");
	assert_string_equal(i.device, "router");
	rs_svcdb_free(db);
}

struct bad {
	const char *text;
	const char *msg; /* ":LINE: what" */
};

static void test_errors(void **state)
{
	(void)state;
	static const struct bad bad[] = {
		{"Probe TCP X q|abc\n", ":1: no ending delimiter"},
		{"Probe SCTP X q||\n", ":1: invalid protocol"},
		{"Probe TCP -X q||\n", ":1: bad probe name"},
		{"Probe TCP X\n", ":1: nothing after probe name"},
		{"Probe TCP X z||\n", ":1: probe string must begin with 'q'"},
		{"Probe TCP X q|\\x4|\n", ":1: bad probe string escaping"},
		{"Probe TCP X q|\\15|\n", ":1: bad probe string escaping"},
		{"Probe TCP X q|a\\|\n", ":1: bad probe string escaping"},
		{"# c\nmatch ssh m|x|\n", ":2: line was expected to begin with \"Probe \""},
		{"Probe TCP X q||\nmatch ssh m|(x|\n", ":2: illegal regexp (at offset 2)"},
		/* regexes compile after the parse, on threads: still the first
		 * error in file order, whatever follows it, and the first of
		 * several bad regexes wherever a thread's chunk begins */
		{"Probe TCP X q||\nmatch ssh m|(x|\nfoo bar\n", ":2: illegal regexp (at offset 2)"},
		{"Probe TCP X q||\nmatch ssh m|x|\nmatch a m|[|\nfallback Nope\n",
		 ":3: illegal regexp (at offset 1)"},
		{"Probe TCP X q||\n\nmatch ssh m|x|q\n", ":3: illegal regexp option 'q'"},
		{"Probe TCP X q||\nmatch ssh m|x| z/y/\n", ":2: unknown template specifier 'z'"},
		{"Probe TCP X q||\nmatch ssh m|x| p/y\n", ":2: bad version info"},
		{"Probe TCP X q||\nmatch ssh r|x|\n", ":2: the pattern must be m<d>regex<d>"},
		{"Probe TCP X q||\nmatch ssh\n", ":2: could not find service name"},
		{"Probe TCP X q||\nrarity 0\n", ":2: rarity must be between 1 and 9"},
		{"Probe TCP X q||\nrarity 10\n", ":2: rarity must be between 1 and 9"},
		{"Probe TCP X q||\ntotalwaitms 99\n", ":2: bad totalwaitms value"},
		{"Probe TCP X q||\ntcpwrappedms 300001\n", ":2: bad tcpwrappedms value"},
		{"Probe TCP X q||\nports 80-70\n", ":2: ports must be between 0 and 65535"},
		{"Probe TCP X q||\nports 65536\n", ":2: ports must be between 0 and 65535"},
		{"Probe TCP X q||\nports 80;81\n", ":2: an example of proper portlist form"},
		{"Probe TCP X q||\nsslports x\n", ":2: an example of proper portlist form"},
		{"Probe TCP X q||\nfoo bar\n", ":2: unknown directive 'foo'"},
		{"Probe TCP X q||\n Probe TCP Y q|y|\n", ":2: unknown directive ''"},
		{"Probe TCP X q||\nExclude 1\n",
		 ":2: the Exclude directive must precede all Probes"},
		{"Exclude 1\nExclude 2\n", ":2: only 1 Exclude directive is allowed"},
		{"Exclude T:x\n", ":1: bad Exclude list"},
		{"Probe TCP X q|x|\nProbe TCP A q||\nProbe TCP B q||\n", ":3: a second NULL probe"},
		{"Probe TCP X q|x|\n\nfallback Y,Nope\nProbe TCP Y q|y|\n",
		 ":3: unknown fallback 'Nope' in probe X"},
		{"Probe TCP X q|x|\nfallback "
		 "X,X,X,X,X,X,X,X,X,X,X,X,X,X,X,X,X,X\n",
		 ":2: more than 17 fallbacks"},
	};
	char path[128], err[256];

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		struct rs_svcdb *db = (struct rs_svcdb *)&err; /* must be reset */
		put_file("bad", bad[k].text, path, sizeof(path));
		int rc = rs_svcdb_load(path, &db, err, sizeof(err));
		if (rc != -EINVAL || strncmp(err, path, strlen(path)) ||
		    strncmp(err + strlen(path), bad[k].msg, strlen(bad[k].msg)))
			fail_msg("case %zu: rc %d, err '%s', want '%s%s'", k, rc, err, path,
				 bad[k].msg);
		assert_null(db);
	}
	/* 17 fallbacks are fine; so is a file without a NULL probe. */
	put_file("ok", "Probe TCP X q|x|\nfallback X,X,X,X,X,X,X,X,X,X,X,X,X,X,X,X,X\n", path,
		 sizeof(path));
	struct rs_svcdb *db;
	assert_int_equal(rs_svcdb_load(path, &db, err, sizeof(err)), 0);
	assert_int_equal(rs_svcdb_nprobes(db), 1);
	assert_int_equal(rs_svcdb_next(db, 1, 9, NULL, -1), 0);
	assert_int_equal(rs_svcdb_next(db, 1, 9, NULL, 0), -1);
	rs_svcdb_free(db);
	put_file("empty", "# nothing\n\n", path, sizeof(path));
	assert_int_equal(rs_svcdb_load(path, &db, err, sizeof(err)), 0);
	assert_int_equal(rs_svcdb_nprobes(db), 0);
	assert_int_equal(rs_svcdb_next(db, 1, 9, NULL, -1), -1);
	rs_svcdb_free(db);
	snprintf(path, sizeof(path), "%s/none", dir);
	assert_int_equal(rs_svcdb_load(path, &db, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(rs_svcdb_load(path, &db, NULL, 0), -ENOENT);
}

/* Many rules, two bad ones in different threads' chunks: the earlier in
 * the file is named, every time, whichever thread finds its error first. */
static void test_errors_many(void **state)
{
	(void)state;
	char path[128], err[256], want[64], *text = malloc(200 * 40);
	size_t n = (size_t)sprintf(text, "Probe TCP X q||\n");

	assert_non_null(text);
	for (int i = 0; i < 200; i++) /* rule i is on line i + 2 */
		n += (size_t)sprintf(text + n, "match s%d m|%s|\n", i,
				     i == 97	? "(a"
				     : i == 170 ? "[b"
						: "a+b");
	put_file("many", text, path, sizeof(path));
	snprintf(want, sizeof(want), ":%d: illegal regexp (at offset 2)", 97 + 2);
	for (int k = 0; k < 20; k++) {
		struct rs_svcdb *db = NULL;
		assert_int_equal(rs_svcdb_load(path, &db, err, sizeof(err)), -EINVAL);
		assert_null(db);
		if (strncmp(err + strlen(path), want, strlen(want)))
			fail_msg("run %d: '%s', want '%s%s'", k, err, path, want);
	}
	free(text);
}

struct lit_case {
	const char *pat;
	bool caseless;
	const char *runs; /* runs joined by '|' */
	size_t runlen;
	const char *pfx;
	size_t pfxlen;
};

#define S(x) x, sizeof(x) - 1

/* The literal reader, pattern by pattern. */
static void test_literals(void **state)
{
	(void)state;
	static const struct lit_case cases[] = {
		{"^SSH-([\\d.]+)-OpenSSH_", false, S("SSH-|-OpenSSH_"), S("SSH-")},
		{"^abc?d", false, S("ab|d"), S("ab")},
		{"^a+bc", false, S("a|bc"), S("a")},
		{"^x{0,2}yz", false, S("yz"), S("")},
		{"^a{2}b{1,}c", false, S("a|b|c"), S("a")},
		{"ab\\{c{d}", false, S("ab{c{d}"), S("")},
		{"^\\x41\\0\\x001\\012", false,
		 S("A\0\0"
		   "1\n"),
		 S("A\0\0"
		   "1\n")},
		{"^\\x{42}\\e\\.\\|", false, S("B\033.|"), S("B\033.|")},
		{"^0123456789", false, S("0123456789"), S("01234567")},
		{"a\\1b", false, S("a|b"), S("")},
		{"a\\12b", false, S(""), S("")},
		{"foo|bar", false, S(""), S("")},
		{"^(?:a|b)cd|e", false, S(""), S("")},
		{"^(?:a|b)cd", false, S("cd"), S("")},
		{"^[ab]cd[^]x]ef", false, S("cd|ef"), S("")},
		{"(?x) a b", false, S(""), S("")},
		{"^(*UTF)abc", false, S(""), S("")},
		{"^\\Qab\\E", false, S(""), S("")},
		{"^ab\\dcd\\s*ef.gh$", false, S("ab|cd|ef|gh"), S("ab")},
		{"^ab(?#c(d)ef", false, S("ab|ef"), S("ab")},
		{"^caf\\xe9s", true, S("caf|s"), S("caf")},
		{"(?i)caf\\xe9s", false, S("caf|s"), S("")},
		{"^(a)+?bc*+d", false, S("b|d"), S("")},
	};
	struct svc_litset ls;

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct lit_case *c = &cases[k];
		char got[256];
		size_t n = 0;
		rs__svc_literals(c->pat, c->caseless, &ls);
		for (unsigned r = 0; r < ls.nrun; r++) {
			if (r)
				got[n++] = '|';
			memcpy(got + n, ls.run[r].b, ls.run[r].len);
			n += ls.run[r].len;
		}
		if (n != c->runlen || memcmp(got, c->runs, n))
			fail_msg("case %zu (%s): runs '%.*s'", k, c->pat, (int)n, got);
		if (ls.npfx != c->pfxlen || memcmp(ls.pfx, c->pfx, c->pfxlen))
			fail_msg("case %zu (%s): prefix of %u bytes", k, c->pat, ls.npfx);
	}
	assert_true(rs__svc_anchored("^ab(c|d)"));
	assert_false(rs__svc_anchored("^ab|cd"));
	assert_false(rs__svc_anchored("ab"));
	assert_true(rs__svc_anchored("^a\\|b[|]"));
}

static const char *real_path(void)
{
	return access(RS_SVCDB_DEFAULT_PATH, R_OK) == 0 ? RS_SVCDB_DEFAULT_PATH : NULL;
}

static const char http_python[] =
	"HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.2\r\n"
	"Date: Tue, 01 Apr 2025 10:00:00 GMT\r\nContent-type: text/html; charset=utf-8\r\n"
	"Content-Length: 234\r\n\r\n<!DOCTYPE HTML>\n<html lang=\"en\">\n<head>\n"
	"<meta charset=\"utf-8\">\n<title>Directory listing for /</title>\n</head>\n<body>\n"
	"<h1>Directory listing for /</h1>\n<hr>\n<ul>\n<li><a href=\"a.txt\">a.txt</a></li>\n"
	"</ul>\n<hr>\n</body>\n</html>\n";

/* nmap's real database: what nmap 7.93 -sV says for these banners. */
static void test_real_db(void **state)
{
	(void)state;
	const char *path = real_path();
	struct rs_svcdb *db;
	struct rs_svcinfo i;
	char err[256];
	uint16_t plan[256];

	if (!path)
		skip();
	assert_int_equal(rs_svcdb_load(path, &db, err, sizeof(err)), 0);
	/* nmap 7.93: 100 TCP probes (148 with UDP), 11,917 rules. */
	assert_true(rs_svcdb_nprobes(db) >= 90);
	assert_true(rs_svcdb_nrules(db) > 10000);
	assert_int_equal(rs_svcdb_probe(db, 0)->len, 0);
	assert_string_equal(rs_svcdb_probe(db, 0)->name, "NULL");
	assert_true(rs_svcdb_excluded(db, 9100));
	int get = rs_svcdb_find_probe(db, "GetRequest");
	assert_true(get > 0);
	size_t n = rs_svcdb_plan(db, 80, RS_SVCDB_INTENSITY_DEFAULT, plan, 256);
	assert_true(n > 20);
	assert_int_equal(plan[0], 0);
	bool has_get = false;
	for (size_t k = 0; k < n; k++)
		has_get |= plan[k] == get;
	assert_true(has_get);
	assert_int_equal(rs_svcdb_plan(db, 9100, 9, plan, 256), 0);

	assert_int_equal(ident(db, 0, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n", &i), 1);
	assert_string_equal(i.name, "ssh");
	assert_string_equal(i.product, "OpenSSH");
	assert_string_equal(i.version, "9.2p1 Debian 2+deb12u10");
	assert_string_equal(i.info, "protocol 2.0");
	assert_string_equal(i.os, "Linux");
	assert_int_equal(i.ncpe, 2);
	assert_string_equal(i.cpe[0], "cpe:/a:openbsd:openssh:9.2p1");
	assert_string_equal(i.cpe[1], "cpe:/o:linux:linux_kernel");
	/* The same banner answering another probe: GetRequest falls back on
	 * the NULL probe's rules. */
	assert_int_equal(
		ident(db, (unsigned)get, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n", &i), 1);
	assert_string_equal(i.product, "OpenSSH");

	assert_int_equal(ident(db, 0, "SSH-2.0-dropbear_2022.83\r\n", &i), 1);
	assert_string_equal(i.name, "ssh");
	assert_string_equal(i.product, "Dropbear sshd");
	assert_string_equal(i.version, "2022.83");
	assert_string_equal(i.cpe[0], "cpe:/a:matt_johnston:dropbear_ssh_server:2022.83");

	assert_int_equal(ident(db, 0, "220 mail.example.org ESMTP Postfix (Debian/GNU)\r\n", &i),
			 1);
	assert_string_equal(i.name, "smtp");
	assert_string_equal(i.product, "Postfix smtpd");
	assert_string_equal(i.hostname, " mail.example.org"); /* nmap keeps the space */
	assert_string_equal(i.cpe[0], "cpe:/a:postfix:postfix");

	assert_int_equal(ident(db, (unsigned)get, http_python, &i), 1);
	assert_string_equal(i.name, "http");
	assert_string_equal(i.product, "SimpleHTTPServer");
	assert_string_equal(i.version, "0.6");
	assert_string_equal(i.info, "Python 3.11.2");
	assert_string_equal(i.cpe[0], "cpe:/a:python:simplehttpserver:0.6");
	assert_int_equal(ident(db, 0, http_python, &i), 0);

	/* More of what nmap -sV printed: $SUBST in v/ and cpe:, a version
	 * too long for nmap's buffer (left out), "ssl/" (XML tunnel="ssl"), a
	 * soft match. */
	assert_int_equal(ident(db, 0, "SSH-2.0-VShell_4_5_0 VShell\r\n", &i), 1);
	assert_string_equal(i.version, "4.5.0");
	assert_string_equal(i.cpe[0], "cpe:/a:vandyke:vshell:4.5.0");
	char lng[160];
	snprintf(lng, sizeof(lng), "SSH-2.0-OpenSSH_9.2p1 Debian-%090d\r\n", 0);
	assert_int_equal(ident(db, 0, lng, &i), 1);
	assert_string_equal(i.product, "OpenSSH");
	assert_string_equal(i.version, "");
	assert_int_equal(
		ident(db, 0, "220 VMware Authentication Daemon Version 1.10: SSL Required\r\n", &i),
		1);
	assert_string_equal(i.name, "vmware-auth"); /* match ssl/vmware-auth */
	assert_true(i.ssl);
	assert_string_equal(i.version, "1.10");
	assert_int_equal(ident(db, 0, "+OK Dovecot (Debian) ready.\r\n", &i), 2);
	assert_string_equal(i.name, "pop3");
	assert_int_equal(ident(db, 0, "sSh-2.0-OpenSSH_8.4p1 Debian-5+deb11u3\r\n", &i), 0);

	/* 200 random bytes match nothing, the same with and without the
	 * prefilter (match2 compares). */
	uint8_t rnd[200];
	uint64_t x = 42;
	for (size_t k = 0; k < sizeof(rnd); k++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		rnd[k] = (uint8_t)(x >> 56);
	}
	struct rs_svcmatch m;
	assert_int_equal(match2(db, (unsigned)get, rnd, sizeof(rnd), &m), 0);
	rs_svcdb_free(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_match_order_and_fallback),
		cmocka_unit_test(test_substitutions),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_errors_many),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_real_db),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
