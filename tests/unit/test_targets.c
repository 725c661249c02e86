/* Unit tests for src/targets.c: target parsing (IPv4, IPv6, prefixes,
 * ranges, hostnames), comma lists, target files and stdin, port lists, set
 * merging, counting and pick(i), and the address × port space.
 *
 * Addresses are 128-bit: IPv4 a.b.c.d is the IPv4-mapped ::ffff:a.b.c.d.
 * V4() below writes that mapping out independently of rs_addr_v4 (which
 * test_addrset checks against it), so expected IPv4 ranges here are exactly
 * rs_addr_v4(lo) .. rs_addr_v4(hi).
 *
 * Every parsed input is first copied so that its terminating NUL is the last
 * byte before a PROT_NONE page (tests/unit/guard.h): a parser that reads
 * past the end of its input crashes here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ringscan/targets.h"
#include "guard.h"
#include "own_hosts.h"

#define IP(a, b, c, d)                                                                             \
	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))
#define U128(h, l) (((rs_u128)(h) << 64) | (rs_u128)(l))
#define V4(x)	   (((rs_u128)0xffff << 32) | (rs_u128)(uint32_t)(x))
#define MAX128	   (~(rs_u128)0)
#define P2(k)	   ((rs_u128)1 << (k))
#define DB8	   U128(0x20010db800000000ULL, 0) /* 2001:db8:: */
#define NELEM(a)   (sizeof(a) / sizeof((a)[0]))
#define MAXR	   4
#define MAXS	   6
#define NAMES	   RS_TARGET_NAMES

/* Hex text of a 128-bit value, from a ring of buffers so that several can
 * appear in one message. */
/* Does err name the input? Messages are one line, so control characters
 * in the input (other than tab) are shown as '?': compare its printable
 * prefix, which must be there whole. */
static int names_input(const char *err, const char *input)
{
	char prefix[256];
	size_t n = 0;

	while (input[n] && n + 1 < sizeof(prefix) &&
	       ((unsigned char)input[n] >= 0x20 || input[n] == '\t') && input[n] != 0x7f) {
		prefix[n] = input[n];
		n++;
	}
	prefix[n] = 0;
	return n == 0 || strstr(err, prefix) != NULL;
}

static const char *hex(rs_u128 v)
{
	static char buf[8][48];
	static unsigned next;
	char *b = buf[next++ % 8];

	snprintf(b, 48, "%#" PRIx64 ":%016" PRIx64, (uint64_t)(v >> 64), (uint64_t)v);
	return b;
}

/* One target-table row: specs added in order to one set with flags. All
 * but the last must be accepted; the last must return rc. If rc == 0,
 * finalize must return frc, and when that is 0 the set must be exactly
 * ranges r[0..nr) (sorted, merged). Otherwise err must name the failing
 * spec and contain errsub (when given), nothing of the failing spec may be
 * added, and the set must hold exactly r[0..nr) from the earlier specs. */
struct tcase {
	const char *spec[MAXS];
	unsigned flags;
	int rc;
	int frc;
	size_t nr;
	struct rs_range128 r[MAXR];
	const char *errsub;
};

/* clang-format off */
#define OK4(s, lo, hi)  { { s }, 0, 0, 0, 1, { { V4(lo), V4(hi) } }, NULL }
#define OK6(s, lo, hi)  { { s }, 0, 0, 0, 1, { { lo, hi } }, NULL }
#define OKN(s, lo, hi)  { { s }, NAMES, 0, 0, 1, { { lo, hi } }, NULL }
#define BIG(s)          { { s }, 0, 0, -E2BIG, 0, { { 0, 0 } }, NULL }
#define BAD(s)          { { s }, 0, -EINVAL, 0, 0, { { 0, 0 } }, NULL }
#define BADW(s, why)    { { s }, 0, -EINVAL, 0, 0, { { 0, 0 } }, why }
#define BADN(s, why)    { { s }, NAMES, -EINVAL, 0, 0, { { 0, 0 } }, why }
#define NONAME "names are not accepted"
/* clang-format on */

static const struct tcase target_cases[] = {
	/* IPv4: single addresses and prefixes */
	OK4("127.0.0.1", IP(127, 0, 0, 1), IP(127, 0, 0, 1)),
	OK4("0.0.0.0", 0, 0),
	OK4("255.255.255.255", 0xffffffffu, 0xffffffffu),
	OK4("10.0.0.0/32", IP(10, 0, 0, 0), IP(10, 0, 0, 0)),
	OK4("10.1.2.3/32", IP(10, 1, 2, 3), IP(10, 1, 2, 3)),
	OK4("0.0.0.0/0", 0, 0xffffffffu),
	OK4("1.2.3.4/0", 0, 0xffffffffu),
	OK4("10.0.0.0/31", IP(10, 0, 0, 0), IP(10, 0, 0, 1)),
	OK4("10.0.0.3/31", IP(10, 0, 0, 2), IP(10, 0, 0, 3)),
	OK4("127.0.0.5/30", IP(127, 0, 0, 4), IP(127, 0, 0, 7)),
	OK4("192.168.1.77/24", IP(192, 168, 1, 0), IP(192, 168, 1, 255)),
	OK4("128.0.0.0/1", 0x80000000u, 0xffffffffu),
	OK4("127.255.255.255/1", 0, 0x7fffffffu),
	OK4("255.255.255.255/32", 0xffffffffu, 0xffffffffu),
	OK4("255.255.255.255/24", IP(255, 255, 255, 0), 0xffffffffu),
	OK4("255.255.255.254/31", 0xfffffffeu, 0xffffffffu),
	OK4("10.0.0.1-10.0.0.1", IP(10, 0, 0, 1), IP(10, 0, 0, 1)),
	OK4("10.0.0.250-10.0.1.5", IP(10, 0, 0, 250), IP(10, 0, 1, 5)),
	OK4("255.255.255.254-255.255.255.255", 0xfffffffeu, 0xffffffffu),
	OK4("0.0.0.0-255.255.255.255", 0, 0xffffffffu),
	/* IPv4: overlaps, duplicates and adjacency merged */
	{{"10.0.0.0/24", "10.0.0.128/25"},
	 0,
	 0,
	 0,
	 1,
	 {{V4(IP(10, 0, 0, 0)), V4(IP(10, 0, 0, 255))}},
	 NULL},
	{{"10.0.0.1", "10.0.0.1", "10.0.0.1"},
	 0,
	 0,
	 0,
	 1,
	 {{V4(IP(10, 0, 0, 1)), V4(IP(10, 0, 0, 1))}},
	 NULL},
	{{"10.0.0.0/25", "10.0.0.128/25"},
	 0,
	 0,
	 0,
	 1,
	 {{V4(IP(10, 0, 0, 0)), V4(IP(10, 0, 0, 255))}},
	 NULL},
	{{"10.0.0.3", "10.0.0.1", "10.0.0.2"},
	 0,
	 0,
	 0,
	 1,
	 {{V4(IP(10, 0, 0, 1)), V4(IP(10, 0, 0, 3))}},
	 NULL},
	{{"10.0.0.1", "10.0.0.3"},
	 0,
	 0,
	 0,
	 2,
	 {{V4(IP(10, 0, 0, 1)), V4(IP(10, 0, 0, 1))}, {V4(IP(10, 0, 0, 3)), V4(IP(10, 0, 0, 3))}},
	 NULL},
	{{"10.0.0.0-10.0.0.10", "10.0.0.5-10.0.0.20", "10.0.0.21"},
	 0,
	 0,
	 0,
	 1,
	 {{V4(IP(10, 0, 0, 0)), V4(IP(10, 0, 0, 21))}},
	 NULL},
	{{"255.255.255.255", "255.255.255.254", "0.0.0.0"},
	 0,
	 0,
	 0,
	 2,
	 {{V4(0), V4(0)}, {V4(0xfffffffeu), V4(0xffffffffu)}},
	 NULL},
	{{"10.0.0.0/8", "10.1.2.3", "10.255.255.255"},
	 0,
	 0,
	 0,
	 1,
	 {{V4(IP(10, 0, 0, 0)), V4(IP(10, 255, 255, 255))}},
	 NULL},
	{{"0.0.0.0/0", "255.255.255.255", "1.2.3.4/16"},
	 0,
	 0,
	 0,
	 1,
	 {{V4(0), V4(0xffffffffu)}},
	 NULL},
	{{"9.255.255.255", "11.0.0.0", "10.0.0.0/8"},
	 0,
	 0,
	 0,
	 1,
	 {{V4(IP(9, 255, 255, 255)), V4(IP(11, 0, 0, 0))}},
	 NULL},
	{{"10.0.0.9", "10.0.0.0-10.0.0.7", "10.0.0.8-10.0.0.8", "10.0.0.20/30"},
	 0,
	 0,
	 0,
	 2,
	 {{V4(IP(10, 0, 0, 0)), V4(IP(10, 0, 0, 9))}, {V4(IP(10, 0, 0, 20)), V4(IP(10, 0, 0, 23))}},
	 NULL},
	/* IPv4 garbage */
	BAD(""),
	BADW("garbage", NONAME),
	BAD("1.2.3"),
	BAD("1.2.3.4.5"),
	BAD("1.2.3."),
	BAD(".1.2.3"),
	BAD("1..2.3"),
	BAD("256.0.0.1"),
	BAD("1.2.3.256"),
	BAD("1.2.3.4/33"),
	BAD("1.2.3.4/99999999999"),
	BAD("1.2.3.4/4294967296"),
	BAD("1.2.3.4/4294967328"), /* 32 + 2^32 */
	BAD("1.2.3.4/"),
	BAD("/"),
	BAD("/24"),
	BAD("1.2.3.4/-1"),
	BAD("127.0.0.1/08"), /* leading zeros: refused as in 127.0.0.01 */
	BAD("127.0.0.01"),
	BAD("::1/0128"),
	BAD("127.0.0.0/00"),
	BAD("1.2.3.4/+8"),
	BAD("1.2.3.4/ 8"),
	BAD("1.2.3.4/8/8"),
	BAD("1.2.3.4/24junk"),
	BAD("-1"),
	BAD("-"),
	BAD("1.2.3.4-"),
	BAD("-1.2.3.4"),
	BAD("1.2.3.-4"),
	BAD("10.0.0.5-10.0.0.1"),
	BAD("255.255.255.255-0.0.0.0"),
	BAD("1.2.3.4-1.2.3.5-1.2.3.6"),
	BAD(" 1.2.3.4"),
	BAD("1.2.3.4 "),
	BAD("1.2.3.4\n"),
	BAD("1.2.3.4\t"),
	BADW("1.2.3.4x", NONAME),
	BADW("x1.2.3.4", NONAME),
	BAD("1.2.3.4,1.2.3.5"),
	BAD("01.2.3.4"),
	BAD("1.2.3.04"),
	BAD("99999999999.0.0.1"),
	BAD("4294967297"),
	BAD("2130706433"), /* 127.0.0.1 as one number: an inet_aton form */
	BAD("127.1"),
	BAD("127.0.1"),
	BAD("1.2.3.4/1.2.3.4"),
	BAD("0x7f.0.0.1"),
	BAD("1.2.3.4-1.2.3"),
	/* a bad spec after good ones: error, and nothing of it added */
	{{"10.0.0.1", "10.0.0.2/33"},
	 0,
	 -EINVAL,
	 0,
	 1,
	 {{V4(IP(10, 0, 0, 1)), V4(IP(10, 0, 0, 1))}},
	 "10.0.0.2/33"},
	{{"10.0.0.1", "10.0.0.9-10.0.0.3"},
	 0,
	 -EINVAL,
	 0,
	 1,
	 {{V4(IP(10, 0, 0, 1)), V4(IP(10, 0, 0, 1))}},
	 "10.0.0.9-10.0.0.3"},
	{{"::1", "fe80::1%lo"}, 0, -EINVAL, 0, 1, {{1, 1}}, "fe80::1%lo"},

	/* IPv6: forms */
	OK6("::1", 1, 1),
	OK6("::", 0, 0),
	OK6("0:0:0:0:0:0:0:1", 1, 1),
	OK6("0000:0000:0000:0000:0000:0000:0000:0000", 0, 0),
	OK6("2001:0db8:0000:0000:0000:0000:0000:0001", DB8 + 1, DB8 + 1),
	OK6("2001:db8::1", DB8 + 1, DB8 + 1),
	OK6("2001:DB8::A", DB8 + 10, DB8 + 10),
	OK6("2001:db8:0:0:1::1", DB8 + U128(0, 0x0001000000000001ULL),
	    DB8 + U128(0, 0x0001000000000001ULL)),
	OK6("fe80::1:2:3:4", U128(0xfe80000000000000ULL, 0x0001000200030004ULL),
	    U128(0xfe80000000000000ULL, 0x0001000200030004ULL)),
	OK6("1::", U128(0x0001000000000000ULL, 0), U128(0x0001000000000000ULL, 0)),
	OK6("1:2:3:4:5:6:7:8", U128(0x0001000200030004ULL, 0x0005000600070008ULL),
	    U128(0x0001000200030004ULL, 0x0005000600070008ULL)),
	OK6("1:2:3:4:5:6:7::", U128(0x0001000200030004ULL, 0x0005000600070000ULL),
	    U128(0x0001000200030004ULL, 0x0005000600070000ULL)),
	OK6("::2:3:4:5:6:7:8", U128(0x0000000200030004ULL, 0x0005000600070008ULL),
	    U128(0x0000000200030004ULL, 0x0005000600070008ULL)),
	OK6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", MAX128, MAX128),
	OK6("ff02::1", U128(0xff02000000000000ULL, 1), U128(0xff02000000000000ULL, 1)),
	/* IPv4-mapped text lands on the IPv4 value; IPv4-compatible does not */
	OK6("::ffff:1.2.3.4", V4(IP(1, 2, 3, 4)), V4(IP(1, 2, 3, 4))),
	OK6("::FFFF:127.0.0.1", V4(IP(127, 0, 0, 1)), V4(IP(127, 0, 0, 1))),
	OK6("0:0:0:0:0:ffff:7f00:1", V4(IP(127, 0, 0, 1)), V4(IP(127, 0, 0, 1))),
	OK6("::1.2.3.4", U128(0, 0x01020304), U128(0, 0x01020304)),
	OK6("::ffff:0.0.0.0/96", V4(0), V4(0xffffffffu)),
	OK6("::ffff:10.1.2.3/104", V4(IP(10, 0, 0, 0)), V4(IP(10, 255, 255, 255))),
	{{"10.0.0.1", "::ffff:10.0.0.1", "::ffff:a00:1"},
	 0,
	 0,
	 0,
	 1,
	 {{V4(IP(10, 0, 0, 1)), V4(IP(10, 0, 0, 1))}},
	 NULL},
	{{"::ffff:10.0.0.0/120", "10.0.0.128/25"},
	 0,
	 0,
	 0,
	 1,
	 {{V4(IP(10, 0, 0, 0)), V4(IP(10, 0, 0, 255))}},
	 NULL},
	/* IPv6: prefixes (host bits cleared) */
	OK6("::1/128", 1, 1),
	OK6("::/128", 0, 0),
	OK6("::/127", 0, 1),
	OK6("::3/127", 2, 3),
	OK6("2001:db8::ffff/112", DB8, DB8 + 0xffff),
	OK6("2001:db8::1234:5678/120", DB8 + 0x12345600, DB8 + 0x123456ff),
	OK6("2001:db8::/96", DB8, DB8 + 0xffffffffu),
	OK6("2001:db8::/65", DB8, DB8 + P2(63) - 1),
	OK6("2001:db8::7fff:0:0:1/65", DB8, DB8 + P2(63) - 1),
	OK6("2001:db8::ffff:0:0:1/65", DB8 + P2(63), DB8 + P2(64) - 1),
	OK6("2001:db8:0:0:8000::/65", DB8 + P2(63), DB8 + P2(64) - 1),
	OK6("2001:db8:0:0:ffff:ffff:ffff:ffff/65", DB8 + P2(63), DB8 + P2(64) - 1),
	OK6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/100", MAX128 - (P2(28) - 1), MAX128),
	BIG("2001:db8::/64"),
	BIG("2001:db8::1/64"),
	BIG("2001:db8::/63"),
	BIG("2001:db8::/32"),
	BIG("8000::/1"),
	BIG("::/0"),
	BIG("::1/0"),
	/* IPv6: ranges */
	OK6("::1-::5", 1, 5),
	OK6("::-::", 0, 0),
	OK6("2001:db8::1-2001:db8::1:0", DB8 + 1, DB8 + 0x10000),
	OK6("::ffff:1.2.3.4-::ffff:1.2.3.9", V4(IP(1, 2, 3, 4)), V4(IP(1, 2, 3, 9))),
	OK6("::fffe:ffff:fff0-::ffff:0.0.0.15", V4(0) - 16, V4(15)),
	OK6("::-::7fff:ffff:ffff:ffff", 0, P2(63) - 1),
	BIG("::-::8000:0:0:0"),
	BIG("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
	/* IPv6: merging, the IPv4 boundary, the top */
	{{"::1", "127.0.0.1", "::"},
	 0,
	 0,
	 0,
	 2,
	 {{0, 1}, {V4(IP(127, 0, 0, 1)), V4(IP(127, 0, 0, 1))}},
	 NULL},
	{{"255.255.255.255", "::1:0:0:0"},
	 0,
	 0,
	 0,
	 1,
	 {{V4(0xffffffffu), V4(0xffffffffu) + 1}},
	 NULL},
	{{"0.0.0.0", "::fffe:ffff:ffff"}, 0, 0, 0, 1, {{V4(0) - 1, V4(0)}}, NULL},
	{{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"},
	 0,
	 0,
	 0,
	 1,
	 {{MAX128 - 1, MAX128}},
	 NULL},
	{{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	  "::"},
	 0,
	 0,
	 0,
	 2,
	 {{0, 0}, {MAX128 - 255, MAX128}},
	 NULL},
	{{"2001:db8::/120", "2001:db8::80/121", "2001:db8::100"},
	 0,
	 0,
	 0,
	 1,
	 {{DB8, DB8 + 256}},
	 NULL},
	{{"2001:db8::/66", "2001:db9::/66"},
	 0,
	 0,
	 0,
	 2,
	 {{DB8, DB8 + P2(62) - 1}, {DB8 + P2(96), DB8 + P2(96) + P2(62) - 1}},
	 NULL},
	{{"2001:db8::/65", "2001:db8:0:0:8000::/65"}, 0, 0, -E2BIG, 0, {{0, 0}}, NULL},
	{{"2001:db8::/65", "::1"}, 0, 0, -E2BIG, 0, {{0, 0}}, NULL},
	/* two disjoint /65s: 2^64 addresses in all */
	{{"2001:db8::/65", "2001:db9::/65"}, 0, 0, -E2BIG, 0, {{0, 0}}, NULL},
	/* IPv6: garbage */
	BAD("::1/129"),
	BAD("::/129"),
	BAD("::1/"),
	BAD("::1/-1"),
	BAD("::1/+1"),
	BAD("::1/ 64"),
	BAD("::1/64/64"),
	BAD("2001:db8::/64x"),
	BAD("::ffff:1.2.3.4/129"),
	BAD("::5-::1"),
	BAD("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff-::"),
	BAD("::1-1.2.3.4"),
	BAD("1.2.3.4-::ffff:1.2.3.5"),
	BAD("::1-"),
	BAD("-::1"),
	BAD("::1--::2"),
	BAD("::1-::2-::3"),
	BAD("::1/64-::2"),
	BAD("fe80::1%lo"),
	BAD("fe80::1%1"),
	BAD("fe80::1%"),
	BAD("[::1]"),
	BAD("[::1]:80"),
	BAD("[::1]/128"),
	BAD(":::1"),
	BAD("1:2:3:4:5:6:7:8:9"),
	BAD("1:2:3:4:5:6:7"),
	BAD("1::2::3"),
	BAD("12345::1"),
	BAD("00000::1"),
	BAD("g::1"),
	BAD("::g"),
	BAD(":"),
	BAD("::1 "),
	BAD(" ::1"),
	BAD("::1,::2"),
	BAD("::ffff:1.2.3.256"),
	BAD("::ffff:1.2.3"),
	BAD("::ffff:01.2.3.4"),
	/* hostnames: refused without RS_TARGET_NAMES ... */
	BADW("localhost", NONAME),
	BADW("example.com", NONAME),
	BADW("no-such-host.invalid", NONAME),
	/* ... and with it, inet_aton forms are malformed addresses, not names */
	BADN("0x7f.0.0.1", NULL),
	BADN("0x7f000001", NULL),
	BADN("127.1", NULL),
	BADN("127.0.1", NULL),
	BADN("2130706433", NULL),
	BADN("017.0.0.1", NULL),
	BADN("no-such-host.invalid", "no-such-host.invalid"),
	BADN("fe80::1%lo", NULL),
	BADN("[::1]", NULL),
	BADN("", NULL),
	OKN("127.0.0.1", V4(IP(127, 0, 0, 1)), V4(IP(127, 0, 0, 1))),
	OKN("10.0.0.0/30", V4(IP(10, 0, 0, 0)), V4(IP(10, 0, 0, 3))),
	OKN("::1", 1, 1),
	OKN("2001:db8::/127", DB8, DB8 + 1),
};

/* Port rows keep the 32-bit sets. */
struct pcase {
	const char *spec[MAXS];
	int rc;
	size_t nr;
	struct rs_range32 r[MAXR];
	const char *errsub;
};

/* clang-format off */
#define POK(s, lo, hi) { { s }, 0, 1, { { lo, hi } }, NULL }
#define PBAD(s)        { { s }, -EINVAL, 0, { { 0, 0 } }, NULL }
/* clang-format on */

static const struct pcase port_cases[] = {
	POK("22", 22, 22),
	POK("1", 1, 1),
	POK("65535", 65535, 65535),
	POK("1-65535", 1, 65535),
	POK("5-5", 5, 5),
	POK("65534-65535", 65534, 65535),
	POK("80-90,85-95", 80, 95),
	POK("22,22,22", 22, 22),
	POK("22,23", 22, 23),
	POK("90-100,80-89", 80, 100),
	POK("1-10,2-3,5-20,11", 1, 20),
	POK("100-200,1-65535,300", 1, 65535),
	{{"22,80-90"}, 0, 2, {{22, 22}, {80, 90}}, NULL},
	{{"443,80,22"}, 0, 3, {{22, 22}, {80, 80}, {443, 443}}, NULL},
	{{"1-10,30,2-3,5-20"}, 0, 2, {{1, 20}, {30, 30}}, NULL},
	{{"65535,1"}, 0, 2, {{1, 1}, {65535, 65535}}, NULL},
	{{"22", "22,23", "80"}, 0, 2, {{22, 23}, {80, 80}}, NULL},
	/* invalid */
	PBAD(""),
	PBAD(","),
	PBAD("22,"),
	PBAD(",22"),
	PBAD("22,,23"),
	PBAD("0"),
	PBAD("0-10"),
	PBAD("65536"),
	PBAD("70000"),
	PBAD("1-65536"),
	PBAD("99999999999"),
	PBAD("4294967296"),
	PBAD("18446744073709551617"),
	PBAD("80-90-100"),
	PBAD(" 22"),
	PBAD("22 "),
	PBAD("22\n"),
	PBAD("-5"),
	PBAD("5-"),
	PBAD("-"),
	PBAD("-1"),
	PBAD("90-80"),
	PBAD("abc"),
	PBAD("22a"),
	PBAD("+22"),
	PBAD("22;23"),
	PBAD("2 2"),
	PBAD("0x16"),
	{{"22,70000"}, -EINVAL, 0, {{0, 0}}, "70000"},
	{{"22,90-80,443"}, -EINVAL, 0, {{0, 0}}, "90-80"},
	{{"22,x,443"}, -EINVAL, 0, {{0, 0}}, "22,x,443"},
	{{"1-3,0"}, -EINVAL, 0, {{0, 0}}, "1-3,0"},
};

/* ---- 128-bit sets ---- */

/* The k-th value of sorted disjoint ranges, by walking them. */
static rs_u128 nth128(const struct rs_range128 *r, size_t n, uint64_t k)
{
	for (size_t i = 0; i < n; i++) {
		rs_u128 len = r[i].hi - r[i].lo + 1;
		if (k < len)
			return r[i].lo + k;
		k -= (uint64_t)len;
	}
	fail_msg("nth128: k out of range");
	return 0;
}

/* The finalized set s equals the ranges r[0..n): same ranges, same count,
 * and pick(k) agrees with enumeration (every k when small, otherwise at
 * every range boundary and a sample). Prints the first difference and
 * returns 1, or returns 0. */
static int diff_set128(const char *what, const struct rs_addrset *s, const struct rs_range128 *r,
		       size_t n)
{
	rs_u128 count = 0;

	for (size_t i = 0; i < n; i++)
		count += r[i].hi - r[i].lo + 1;
	if ((rs_u128)s->count != count || s->n != n) {
		print_error("%s: count %" PRIu64 " in %zu ranges, expected %s in %zu\n", what,
			    s->count, s->n, hex(count), n);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (s->r[i].lo != r[i].lo || s->r[i].hi != r[i].hi) {
			print_error("%s: range %zu is [%s, %s], expected [%s, %s]\n", what, i,
				    hex(s->r[i].lo), hex(s->r[i].hi), hex(r[i].lo), hex(r[i].hi));
			return 1;
		}
	}
	uint64_t c = (uint64_t)count, base = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t len = (uint64_t)(r[i].hi - r[i].lo) + 1;
		uint64_t ks[] = {base, base + 1, base + len / 2, base + len - 2, base + len - 1};
		for (size_t j = 0; j < NELEM(ks); j++) {
			if (ks[j] - base >= len)
				continue;
			rs_u128 got = rs_addrset_pick(s, ks[j]), want = r[i].lo + (ks[j] - base);
			if (got != want) {
				print_error("%s: pick(%" PRIu64 ") = %s, expected %s\n", what,
					    ks[j], hex(got), hex(want));
				return 1;
			}
		}
		base += len;
	}
	uint64_t step = c <= 70000 ? 1 : c / 1000 + 13;
	for (uint64_t k = c <= 70000 ? 0 : 7; k < c; k += step) {
		rs_u128 got = rs_addrset_pick(s, k), want = nth128(r, n, k);
		if (got != want) {
			print_error("%s: pick(%" PRIu64 ") = %s, expected %s\n", what, k, hex(got),
				    hex(want));
			return 1;
		}
		if (k > c - step) /* no wrap */
			break;
	}
	return 0;
}

static void check_set128(const char *what, const struct rs_addrset *s, const struct rs_range128 *r,
			 size_t n)
{
	if (diff_set128(what, s, r, n))
		fail_msg("%s: set differs (above)", what);
}

/* Run one table row; print what is wrong and return 1, or return 0. */
static int run_target_case(size_t c, const struct tcase *tc)
{
	struct rs_addrset s;
	char what[200], err[256];
	size_t nspec = 0;
	int bad = 0;

	while (nspec < MAXS && tc->spec[nspec])
		nspec++;
	assert_true(nspec > 0);
	snprintf(what, sizeof(what), "target case %zu (\"%s\"%s%s)", c, tc->spec[nspec - 1],
		 nspec > 1 ? " after others" : "", tc->flags & NAMES ? ", names" : "");

	rs_addrset_init(&s);
	for (size_t i = 0; i < nspec && !bad; i++) {
		int want = i + 1 < nspec ? 0 : tc->rc;
		size_t before = s.n;
		strcpy(err, "(untouched)");
		int rc = rs_target_parse(&s, guard_str(tc->spec[i]), tc->flags, err, sizeof(err));
		if (rc != want) {
			print_error("%s: input \"%s\" returned %d, expected %d (err: %s)\n", what,
				    tc->spec[i], rc, want, err);
			bad = 1;
		} else if (rc) {
			if (!err[0] || !strcmp(err, "(untouched)")) {
				print_error("%s: no error text for \"%s\"\n", what, tc->spec[i]);
				bad = 1;
			} else if (tc->spec[i][0] && !names_input(err, tc->spec[i])) {
				print_error("%s: error text \"%s\" does not name \"%s\"\n", what,
					    err, tc->spec[i]);
				bad = 1;
			} else if (tc->errsub && !strstr(err, tc->errsub)) {
				print_error("%s: error text \"%s\" does not say \"%s\"\n", what,
					    err, tc->errsub);
				bad = 1;
			} else if (s.n != before) {
				print_error("%s: refused input added %zu ranges\n", what,
					    s.n - before);
				bad = 1;
			}
		}
	}
	if (!bad && (tc->rc == 0 || tc->nr)) {
		int want = tc->rc == 0 ? tc->frc : 0;
		int rc = rs_addrset_finalize(&s);
		if (rc != want) {
			print_error("%s: finalize returned %d (count %" PRIu64
				    ", %zu ranges), expected %d\n",
				    what, rc, s.count, s.n, want);
			bad = 1;
		} else if (!rc) {
			bad = diff_set128(what, &s, tc->r, tc->nr);
		}
	}
	rs_addrset_free(&s);
	return bad;
}

/* Every row runs; failures are listed, then the test fails. */
static void test_target_table(void **state)
{
	(void)state;
	size_t n = NELEM(target_cases), v6 = 0, bad = 0;

	for (size_t c = 0; c < n; c++) {
		for (size_t i = 0; i < MAXS && target_cases[c].spec[i]; i++)
			if (strchr(target_cases[c].spec[i], ':')) {
				v6++;
				break;
			}
		bad += (size_t)run_target_case(c, &target_cases[c]);
	}
	assert_true(n >= 150);
	assert_true(v6 >= 80);
	if (bad)
		fail_msg("%zu of %zu target cases failed", bad, n);
}

/* ---- 32-bit sets (ports) ---- */

static uint64_t ranges_count(const struct rs_range32 *r, size_t n)
{
	uint64_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += (uint64_t)r[i].hi - r[i].lo + 1;
	return c;
}

/* The k-th value of sorted disjoint ranges, by walking them. */
static uint32_t ranges_nth(const struct rs_range32 *r, size_t n, uint64_t k)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t len = (uint64_t)r[i].hi - r[i].lo + 1;
		if (k < len)
			return r[i].lo + (uint32_t)k;
		k -= len;
	}
	fail_msg("ranges_nth: k out of range");
	return 0;
}

/* The finalized set s equals the ranges r[0..n), pick(k) included. */
static void check_set(const char *what, struct rs_set32 *s, const struct rs_range32 *r, size_t n)
{
	uint64_t count = ranges_count(r, n);

	if (s->count != count || s->n != n)
		fail_msg("%s: count %" PRIu64 " in %zu ranges, expected %" PRIu64 " in %zu", what,
			 s->count, s->n, count, n);
	for (size_t i = 0; i < n; i++)
		if (s->r[i].lo != r[i].lo || s->r[i].hi != r[i].hi)
			fail_msg("%s: range %zu is [%#x, %#x], expected [%#x, %#x]", what, i,
				 s->r[i].lo, s->r[i].hi, r[i].lo, r[i].hi);
	if (count <= 70000) {
		for (uint64_t k = 0; k < count; k++) {
			uint32_t got = rs_set32_pick(s, k), want = ranges_nth(r, n, k);
			if (got != want)
				fail_msg("%s: pick(%" PRIu64 ") = %#x, expected %#x", what, k, got,
					 want);
		}
	} else {
		uint64_t base = 0;
		for (size_t i = 0; i < n; i++) {
			uint64_t len = (uint64_t)r[i].hi - r[i].lo + 1;
			uint64_t ks[] = {base, base + 1, base + len / 2, base + len - 2,
					 base + len - 1};
			for (size_t j = 0; j < NELEM(ks); j++) {
				if (ks[j] < base || ks[j] >= base + len)
					continue;
				uint32_t got = rs_set32_pick(s, ks[j]);
				uint32_t want = r[i].lo + (uint32_t)(ks[j] - base);
				if (got != want)
					fail_msg("%s: pick(%" PRIu64 ") = %#x, expected %#x", what,
						 ks[j], got, want);
			}
			base += len;
		}
		for (uint64_t k = 7; k < count; k += count / 1000 + 13) {
			uint32_t got = rs_set32_pick(s, k), want = ranges_nth(r, n, k);
			if (got != want)
				fail_msg("%s: pick(%" PRIu64 ") = %#x, expected %#x", what, k, got,
					 want);
		}
	}
}

static void test_port_table(void **state)
{
	(void)state;
	size_t ncases = NELEM(port_cases);

	assert_true(ncases >= 30);
	for (size_t c = 0; c < ncases; c++) {
		const struct pcase *tc = &port_cases[c];
		struct rs_set32 s;
		char what[200], err[256];
		size_t nspec = 0;

		while (nspec < MAXS && tc->spec[nspec])
			nspec++;
		assert_true(nspec > 0);
		snprintf(what, sizeof(what), "ports case %zu (\"%s\"%s)", c, tc->spec[nspec - 1],
			 nspec > 1 ? " after others" : "");

		rs_set32_init(&s);
		for (size_t i = 0; i < nspec; i++) {
			int want = i + 1 < nspec ? 0 : tc->rc;
			strcpy(err, "(untouched)");
			int rc = rs_ports_parse(&s, guard_str(tc->spec[i]), err, sizeof(err));
			if (rc != want)
				fail_msg("%s: input \"%s\" returned %d, expected %d (err: %s)",
					 what, tc->spec[i], rc, want, err);
			if (rc) {
				const char *sub = tc->errsub ? tc->errsub : tc->spec[i];
				if (!err[0] || !strcmp(err, "(untouched)"))
					fail_msg("%s: no error text for \"%s\"", what, tc->spec[i]);
				if (sub[0] && !names_input(err, sub))
					fail_msg("%s: error text \"%s\" does not name \"%s\"", what,
						 err, sub);
				if (strchr(err, '\n'))
					fail_msg("%s: error text for \"%s\" is not one line", what,
						 tc->spec[i]);
			}
		}
		if (tc->rc == 0 || tc->nr) {
			assert_int_equal(rs_set32_finalize(&s), 0);
			check_set(what, &s, tc->r, tc->nr);
		}
		rs_set32_free(&s);
	}
}

/* ---- temporary files ---- */

static char tmpdir[64];

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/rs_test_targets.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Write len bytes of data to tmpdir/name; the path goes to path[256]. */
static void write_file(const char *name, const char *data, size_t len, char *path)
{
	FILE *f;

	snprintf(path, 256, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* The error buffer is bounded and NUL-terminated: error text written into
 * buffers of several sizes that end at a guard page. */
static void test_error_buffer_bounds(void **state)
{
	(void)state;
	static const struct {
		const char *spec;
		unsigned flags;
	} tbad[] = {{"1.2.3.4/33", 0},
		    {"garbage-garbage-garbage-garbage-garbage", 0},
		    {"10.0.0.9-10.0.0.3", 0},
		    {"", 0},
		    {"::1/129", 0},
		    {"fe80::1%lo", 0},
		    {"::5-::1", 0},
		    {"0x7f.0.0.1", NAMES},
		    {"no-such-host.invalid", NAMES}};
	static const char *const pbad[] = {"70000", "22,,", "90-80", ""};
	static const char *const lbad[] = {"10.0.0.1,,10.0.0.2", ",", "10.0.0.1,garbage!", ""};
	static const char badfile[] = "10.0.0.1\n# fine\nnot/an/address\n";
	size_t lens[] = {1, 2, 7, 16, 33, 80};
	char path[256], missing[300];

	write_file("bad.txt", badfile, sizeof(badfile) - 1, path);
	snprintf(missing, sizeof(missing), "%s/no-such-file-with-a-long-name.txt", tmpdir);
	for (size_t l = 0; l < NELEM(lens); l++) {
		struct rs_addrset s;
		struct rs_set32 p;
		char *err;

		rs_addrset_init(&s);
		rs_set32_init(&p);
		for (size_t i = 0; i < NELEM(tbad); i++) {
			err = guard_buf(lens[l]);
			memset(err, 'X', lens[l]);
			assert_int_equal(rs_target_parse(&s, guard_str(tbad[i].spec), tbad[i].flags,
							 err, lens[l]),
					 -EINVAL);
			assert_non_null(memchr(err, 0, lens[l]));
		}
		for (size_t i = 0; i < NELEM(pbad); i++) {
			err = guard_buf(lens[l]);
			memset(err, 'X', lens[l]);
			assert_int_equal(rs_ports_parse(&p, guard_str(pbad[i]), err, lens[l]),
					 -EINVAL);
			assert_non_null(memchr(err, 0, lens[l]));
		}
		for (size_t i = 0; i < NELEM(lbad); i++) {
			err = guard_buf(lens[l]);
			memset(err, 'X', lens[l]);
			assert_int_equal(
				rs_target_parse_list(&s, guard_str(lbad[i]), 0, err, lens[l]),
				-EINVAL);
			assert_non_null(memchr(err, 0, lens[l]));
		}
		err = guard_buf(lens[l]);
		memset(err, 'X', lens[l]);
		assert_int_equal(rs_target_load(&s, guard_str(path), 0, err, lens[l]), -EINVAL);
		assert_non_null(memchr(err, 0, lens[l]));
		err = guard_buf(lens[l]);
		memset(err, 'X', lens[l]);
		assert_int_equal(rs_target_load(&s, guard_str(missing), 0, err, lens[l]), -ENOENT);
		assert_non_null(memchr(err, 0, lens[l]));
		rs_addrset_free(&s);
		rs_set32_free(&p);
	}
}

/* A very long input (longer than any address) is refused without reading
 * past its end or overflowing anything. */
static void test_long_inputs(void **state)
{
	(void)state;
	char big[5000];
	struct rs_addrset a;
	struct rs_set32 s;
	char err[128];

	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	rs_addrset_init(&a);
	rs_set32_init(&s);
	assert_int_equal(rs_target_parse(&a, guard_str(big), 0, err, sizeof(err)), -EINVAL);
	assert_int_equal(rs_target_parse(&a, guard_str(big), NAMES, err, sizeof(err)), -EINVAL);
	assert_int_equal(rs_ports_parse(&s, guard_str(big), err, sizeof(err)), -EINVAL);
	big[2000] = '/';
	assert_int_equal(rs_target_parse(&a, guard_str(big), 0, err, sizeof(err)), -EINVAL);
	big[2000] = '-';
	assert_int_equal(rs_target_parse(&a, guard_str(big), 0, err, sizeof(err)), -EINVAL);
	assert_int_equal(rs_ports_parse(&s, guard_str(big), err, sizeof(err)), -EINVAL);
	big[2000] = ':';
	assert_int_equal(rs_target_parse(&a, guard_str(big), 0, err, sizeof(err)), -EINVAL);
	assert_int_equal(rs_target_parse(&a, guard_str(big + 1990), 0, err, sizeof(err)), -EINVAL);
	big[2000] = '1';
	/* a long IPv6-looking string: "1:1:1:..." */
	for (size_t i = 1; i < sizeof(big) - 1; i += 2)
		big[i] = ':';
	assert_int_equal(rs_target_parse(&a, guard_str(big), 0, err, sizeof(err)), -EINVAL);
	/* a long name-looking string, refused without names */
	memset(big, 'a', sizeof(big) - 1);
	assert_int_equal(rs_target_parse(&a, guard_str(big), 0, err, sizeof(err)), -EINVAL);
	assert_true(strlen(err) < sizeof(err));
	/* a long list of one good item, and the same with one bad item */
	for (size_t i = 0; i + 9 < sizeof(big); i += 9)
		memcpy(big + i, "10.0.0.1,", 9);
	big[sizeof(big) - 1 - (sizeof(big) - 1) % 9 - 1] = 0; /* drop the last comma */
	assert_int_equal(rs_target_parse_list(&a, guard_str(big), 0, err, sizeof(err)), 0);
	big[900] = 'X';
	assert_int_equal(rs_target_parse_list(&a, guard_str(big), 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "X0.0.0.1"));
	memset(big, '1', 4000);
	for (size_t i = 1; i < 4000; i += 2)
		big[i] = ',';
	big[3999] = 0;
	assert_int_equal(rs_ports_parse(&s, guard_str(big), err, sizeof(err)), 0);
	assert_int_equal(rs_addrset_finalize(&a), 0);
	assert_int_equal(a.count, 1);
	rs_addrset_free(&a);
	rs_set32_free(&s);
}

/* Every prefix length on one address: count 2^(bits-len), aligned range;
 * IPv6 prefixes of 2^64 addresses or more are refused at finalize; and
 * ::ffff:a.b.c.d/(96+len) equals a.b.c.d/len. */
static void test_every_prefix(void **state)
{
	(void)state;
	const uint32_t a = IP(172, 31, 170, 85);
	const rs_u128 a6 = U128(0x20010db885a308d3ULL, 0x13198a2e03707348ULL);

	for (unsigned len = 0; len <= 32; len++) {
		struct rs_addrset s, m;
		char spec[64], err[128];
		uint64_t size = 1ULL << (32 - len);
		uint32_t lo = (uint32_t)(a & ~(uint32_t)(size - 1));
		struct rs_range128 r = {V4(lo), V4(lo) + size - 1};

		snprintf(spec, sizeof(spec), "172.31.170.85/%u", len);
		rs_addrset_init(&s);
		assert_int_equal(rs_target_parse(&s, guard_str(spec), 0, err, sizeof(err)), 0);
		assert_int_equal(rs_addrset_finalize(&s), 0);
		check_set128(spec, &s, &r, 1);
		snprintf(spec, sizeof(spec), "::ffff:172.31.170.85/%u", 96 + len);
		rs_addrset_init(&m);
		assert_int_equal(rs_target_parse(&m, guard_str(spec), 0, err, sizeof(err)), 0);
		assert_int_equal(rs_addrset_finalize(&m), 0);
		check_set128(spec, &m, &r, 1);
		rs_addrset_free(&s);
		rs_addrset_free(&m);
	}
	for (unsigned len = 0; len <= 128; len++) {
		struct rs_addrset s;
		char spec[80], err[128];
		rs_u128 mask = len == 0 ? MAX128 : P2(128 - len) - 1;
		struct rs_range128 r = {a6 & ~mask, (a6 & ~mask) | mask};

		snprintf(spec, sizeof(spec), "2001:db8:85a3:8d3:1319:8a2e:370:7348/%u", len);
		rs_addrset_init(&s);
		assert_int_equal(rs_target_parse(&s, guard_str(spec), 0, err, sizeof(err)), 0);
		int rc = rs_addrset_finalize(&s);
		if (len <= 64) {
			if (rc != -E2BIG)
				fail_msg("%s: finalize returned %d, expected -E2BIG", spec, rc);
		} else {
			if (rc)
				fail_msg("%s: finalize returned %d", spec, rc);
			check_set128(spec, &s, &r, 1);
		}
		rs_addrset_free(&s);
	}
}

/* The reason is one line, even when the offending input holds a newline
 * (a script passing "$(cat file)" as one target, say): header contract. */
static void test_error_one_line(void **state)
{
	(void)state;
	static const struct {
		const char *spec;
		unsigned flags;
	} cases[] = {
		{"1.2.3.4\n", 0},     {"10.0.0.1\n10.0.0.2", 0},
		{"::1\n", 0},	      {"10.0.0.1\r\n10.0.0.2", 0},
		{"10.0.0.1/8\n", 0},  {"10.0.0.1-\n10.0.0.2", 0},
		{"1.2.3.4\n", NAMES}, {"host\nname", NAMES},
	};
	int bad = 0;

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct rs_addrset s;
		char err[256];
		rs_addrset_init(&s);
		int rc = rs_target_parse(&s, guard_str(cases[i].spec), cases[i].flags, err,
					 sizeof(err));
		if (rc != -EINVAL) {
			print_error("case %zu: returned %d, expected -EINVAL\n", i, rc);
			bad++;
		} else if (strpbrk(err, "\r\n")) {
			print_error("case %zu: error text is not one line: \"%s\"\n", i, err);
			bad++;
		}
		rs_addrset_free(&s);
	}
	if (bad)
		fail_msg("%d error text(s) span several lines", bad);
}

/* The /etc/hosts main() mounts for this process (see own_hosts.h), so that
 * the name tests need no system file: "localhost" as usual, and a name with
 * three records. */
#define OWN_HOSTS                                                                                  \
	"127.0.0.1 localhost\n::1 localhost\n"                                                     \
	"127.0.0.7 rs-multi.test\n127.0.0.9 rs-multi.test\n::1 rs-multi.test\n"

/* Does NAME resolve here? */
static int resolves(const char *name)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;

	if (getaddrinfo(name, NULL, &hints, &res))
		return 0;
	freeaddrinfo(res);
	return 1;
}

/* Skip a name test when "localhost" does not resolve: no /etc/hosts, and
 * main() could not mount a private one (no user namespaces). */
static void need_localhost(void)
{
	if (resolves("localhost"))
		return;
	print_message("SKIP: \"localhost\" does not resolve (no /etc/hosts?) and no private "
		      "/etc/hosts could be mounted (see the first lines of this log)\n");
	skip();
}

/* "localhost" resolves: the set holds 127.0.0.1 and nothing but 127.0.0.1
 * and ::1 (exactly those two with the private /etc/hosts). A name given
 * twice is one target. Every record of a name is taken (private
 * /etc/hosts only). */
static void test_hostnames(void **state)
{
	(void)state;
	struct rs_addrset s;
	char err[256] = "";
	int own = resolves("rs-multi.test");

	need_localhost();
	rs_addrset_init(&s);
	assert_int_equal(rs_target_parse(&s, guard_str("localhost"), 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, NONAME));
	assert_non_null(strstr(err, "localhost"));
	assert_int_equal(s.n, 0);

	for (int round = 0; round < 2; round++) {
		int rc = rs_target_parse(&s, guard_str("localhost"), NAMES, err, sizeof(err));
		if (rc)
			fail_msg("localhost: %d (%s)", rc, err);
	}
	assert_int_equal(rs_addrset_finalize(&s), 0);
	assert_true(s.count >= 1 && s.count <= 2);
	if (own)
		assert_int_equal(s.count, 2);
	assert_true(rs_addrset_overlaps(&s, V4(IP(127, 0, 0, 1)), V4(IP(127, 0, 0, 1))));
	for (uint64_t k = 0; k < s.count; k++) {
		rs_u128 x = rs_addrset_pick(&s, k);
		if (x != V4(IP(127, 0, 0, 1)) && x != 1)
			fail_msg("localhost resolved to %s", hex(x));
	}
	/* a name next to addresses */
	assert_int_equal(rs_target_parse(&s, guard_str("127.0.0.2"), NAMES, err, sizeof(err)), 0);
	assert_int_equal(rs_addrset_finalize(&s), 0);
	assert_true(rs_addrset_overlaps(&s, V4(IP(127, 0, 0, 1)), V4(IP(127, 0, 0, 2))));
	assert_true(s.count >= 2 && s.count <= 3);

	/* an unknown name: -EINVAL naming it; nothing added */
	size_t n = s.n;
	err[0] = 0;
	assert_int_equal(
		rs_target_parse(&s, guard_str("no-such-host.invalid"), NAMES, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "no-such-host.invalid"));
	assert_int_equal(s.n, n);
	rs_addrset_free(&s);

	if (!own) {
		print_message("note: no private /etc/hosts; the three-record name is not tried\n");
		return;
	}
	rs_addrset_init(&s);
	assert_int_equal(rs_target_parse(&s, guard_str("rs-multi.test"), NAMES, err, sizeof(err)),
			 0);
	assert_int_equal(rs_addrset_finalize(&s), 0);
	const struct rs_range128 multi[] = {{1, 1},
					    {V4(IP(127, 0, 0, 7)), V4(IP(127, 0, 0, 7))},
					    {V4(IP(127, 0, 0, 9)), V4(IP(127, 0, 0, 9))}};
	check_set128("rs-multi.test", &s, multi, NELEM(multi));
	rs_addrset_free(&s);
}

/* Comma lists: every item, merged; empty items refused. */
static void test_parse_list(void **state)
{
	(void)state;
	static const struct {
		const char *list;
		size_t nr;
		struct rs_range128 r[3];
	} good[] = {
		{"10.0.0.1", 1, {{V4(IP(10, 0, 0, 1)), V4(IP(10, 0, 0, 1))}}},
		{"10.0.0.1,10.0.0.3",
		 2,
		 {{V4(IP(10, 0, 0, 1)), V4(IP(10, 0, 0, 1))},
		  {V4(IP(10, 0, 0, 3)), V4(IP(10, 0, 0, 3))}}},
		{"10.0.0.3,10.0.0.2,10.0.0.1", 1, {{V4(IP(10, 0, 0, 1)), V4(IP(10, 0, 0, 3))}}},
		{"10.0.0.0/24,::1,10.0.0.5-10.0.1.0,::",
		 2,
		 {{0, 1}, {V4(IP(10, 0, 0, 0)), V4(IP(10, 0, 1, 0))}}},
		{"2001:db8::/127,2001:db8::2-2001:db8::3,::ffff:1.2.3.4",
		 2,
		 {{V4(IP(1, 2, 3, 4)), V4(IP(1, 2, 3, 4))}, {DB8, DB8 + 3}}},
	};
	static const struct {
		const char *list;
		const char *sub;
	} bad[] = {
		{"", NULL},
		{",", NULL},
		{",,", NULL},
		{"10.0.0.1,", NULL},
		{",10.0.0.1", NULL},
		{"10.0.0.1,,10.0.0.2", NULL},
		{"10.0.0.1,garbage,10.0.0.2", "garbage"},
		{"10.0.0.1,localhost", NONAME},
		{"10.0.0.1, 10.0.0.2", "10.0.0.2"},
		{"10.0.0.1,10.0.0.300", "10.0.0.300"},
		{"::1,::1/129", "::1/129"},
		{"10.0.0.1;10.0.0.2", "10.0.0.1;10.0.0.2"},
	};
	char err[256];

	for (size_t i = 0; i < NELEM(good); i++) {
		struct rs_addrset s;
		rs_addrset_init(&s);
		int rc = rs_target_parse_list(&s, guard_str(good[i].list), 0, err, sizeof(err));
		if (rc)
			fail_msg("\"%s\": %d (%s)", good[i].list, rc, err);
		assert_int_equal(rs_addrset_finalize(&s), 0);
		check_set128(good[i].list, &s, good[i].r, good[i].nr);
		rs_addrset_free(&s);
	}
	for (size_t i = 0; i < NELEM(bad); i++) {
		struct rs_addrset s;
		rs_addrset_init(&s);
		strcpy(err, "(untouched)");
		int rc = rs_target_parse_list(&s, guard_str(bad[i].list), 0, err, sizeof(err));
		if (rc != -EINVAL)
			fail_msg("\"%s\": returned %d, expected -EINVAL", bad[i].list, rc);
		if (!err[0] || !strcmp(err, "(untouched)"))
			fail_msg("\"%s\": no error text", bad[i].list);
		if (bad[i].sub && !strstr(err, bad[i].sub))
			fail_msg("\"%s\": error \"%s\" does not say \"%s\"", bad[i].list, err,
				 bad[i].sub);
		rs_addrset_free(&s);
	}
	/* names in a list, with the flag */
	need_localhost();
	{
		struct rs_addrset s;
		rs_addrset_init(&s);
		assert_int_equal(rs_target_parse_list(&s, guard_str("localhost,::1,10.0.0.1"),
						      NAMES, err, sizeof(err)),
				 0);
		assert_int_equal(rs_addrset_finalize(&s), 0);
		assert_true(rs_addrset_overlaps(&s, 1, 1));
		assert_true(rs_addrset_overlaps(&s, V4(IP(127, 0, 0, 1)), V4(IP(127, 0, 0, 1))));
		assert_true(rs_addrset_overlaps(&s, V4(IP(10, 0, 0, 1)), V4(IP(10, 0, 0, 1))));
		assert_int_equal(s.count, 3);
		rs_addrset_free(&s);
	}
}

/* Load a file; return rc, with err. */
static int load(struct rs_addrset *s, const char *path, unsigned flags, char *err, size_t errlen)
{
	strcpy(err, "(untouched)");
	return rs_target_load(s, guard_str(path), flags, err, errlen);
}

/* Target files: comments (whole-line and trailing), blank lines, CRLF
 * ('\r' is a blank, trimmed), surrounding blanks, a last line without a
 * newline. */
static void test_load_file(void **state)
{
	(void)state;
	static const char text[] = "# whole-line comment\n"
				   "10.0.0.1\n"
				   "   10.0.0.2   \n"
				   "\t10.0.0.3\t# trailing comment\n"
				   "10.0.0.4#comment without blank\n"
				   "\n"
				   "   \t  \n"
				   "10.0.1.0/24\r\n"
				   "::1\r\n"
				   "\r\n"
				   "#\r\n"
				   "2001:db8::/126 # IPv6\n"
				   "   # indented comment\n"
				   "10.0.0.2\n"
				   "::ffff:10.0.0.5 \r\n"
				   "10.0.2.0-10.0.2.9";
	const struct rs_range128 want[] = {{1, 1},
					   {V4(IP(10, 0, 0, 1)), V4(IP(10, 0, 0, 5))},
					   {V4(IP(10, 0, 1, 0)), V4(IP(10, 0, 2, 9))},
					   {DB8, DB8 + 3}};
	char path[256], err[256];
	struct rs_addrset s;

	write_file("good.txt", text, sizeof(text) - 1, path);
	rs_addrset_init(&s);
	int rc = load(&s, path, 0, err, sizeof(err));
	if (rc)
		fail_msg("good.txt: %d (%s)", rc, err);
	assert_int_equal(rs_addrset_finalize(&s), 0);
	check_set128("good.txt", &s, want, NELEM(want));
	rs_addrset_free(&s);

	/* empty file, only comments and blanks: nothing, no error */
	static const char *const empty[] = {"", "\n", "# nothing\n\n   \n\r\n# x", "   "};
	for (size_t i = 0; i < NELEM(empty); i++) {
		write_file("empty.txt", empty[i], strlen(empty[i]), path);
		rs_addrset_init(&s);
		assert_int_equal(load(&s, path, 0, err, sizeof(err)), 0);
		assert_int_equal(s.n, 0);
		rs_addrset_free(&s);
	}

	/* names: refused without the flag (naming file and line), resolved
	 * with it */
	need_localhost();
	static const char names[] = "10.0.0.1\nlocalhost # the loopback\n";
	write_file("names.txt", names, sizeof(names) - 1, path);
	rs_addrset_init(&s);
	assert_int_equal(load(&s, path, 0, err, sizeof(err)), -EINVAL);
	char prefix[300];
	snprintf(prefix, sizeof(prefix), "%s:2:", path);
	if (strncmp(err, prefix, strlen(prefix)) || !strstr(err, NONAME))
		fail_msg("names.txt: error \"%s\"", err);
	rs_addrset_free(&s);
	rs_addrset_init(&s);
	assert_int_equal(load(&s, path, NAMES, err, sizeof(err)), 0);
	assert_int_equal(rs_addrset_finalize(&s), 0);
	assert_true(rs_addrset_overlaps(&s, V4(IP(127, 0, 0, 1)), V4(IP(127, 0, 0, 1))));
	assert_true(rs_addrset_overlaps(&s, V4(IP(10, 0, 0, 1)), V4(IP(10, 0, 0, 1))));
	rs_addrset_free(&s);
}

/* Bad lines: the error starts with "PATH:LINE:" and names the line. */
static void test_load_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		unsigned line;
		const char *sub;
	} cases[] = {
		{"10.0.0.1\n# comment\n10.0.0.999\n10.0.0.2\n", 3, "10.0.0.999"},
		{"10.0.0.1\n10.0.0.2 10.0.0.3\n", 2, "10.0.0.2"},
		{"10.0.0.1\t10.0.0.3\n", 1, "10.0.0.1"},
		{"10.0.0.1,10.0.0.3\n", 1, "10.0.0.1,10.0.0.3"},
		{"\n\n\n\n10.0.0.9-10.0.0.1\n", 5, "10.0.0.9-10.0.0.1"},
		{"::1\r\n::1/129\r\n", 2, "::1/129"},
		{"# a\n# b\n# c\nfe80::1%lo # zone\n", 4, "fe80::1%lo"},
		{"10.0.0.1\n10.0.0.2\nbad", 3, "bad"},
		{"[::1]\n", 1, "[::1]"},
		{"10.0.0.1 # fine\n  2001:db8::/64x  \n", 2, "2001:db8::/64x"},
	};
	char path[256], err[256], prefix[300];

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct rs_addrset s;
		write_file("bad.txt", cases[i].text, strlen(cases[i].text), path);
		rs_addrset_init(&s);
		int rc = load(&s, path, 0, err, sizeof(err));
		snprintf(prefix, sizeof(prefix), "%s:%u:", path, cases[i].line);
		if (rc != -EINVAL || strncmp(err, prefix, strlen(prefix)) ||
		    !strstr(err, cases[i].sub) || strchr(err, '\n'))
			fail_msg("case %zu: returned %d, error \"%s\"; expected -EINVAL, \"%s ... "
				 "%s ...\"",
				 i, rc, err, prefix, cases[i].sub);
		rs_addrset_free(&s);
	}

	/* a very long line: refused, the message bounded */
	{
		size_t n = 10000;
		char *text = malloc(n + 16);
		struct rs_addrset s;
		assert_non_null(text);
		memcpy(text, "10.0.0.1\n", 9);
		memset(text + 9, '7', n);
		strcpy(text + 9 + n, "\n");
		write_file("long.txt", text, strlen(text), path);
		free(text);
		rs_addrset_init(&s);
		assert_int_equal(load(&s, path, 0, err, sizeof(err)), -EINVAL);
		snprintf(prefix, sizeof(prefix), "%s:2:", path);
		assert_int_equal(strncmp(err, prefix, strlen(prefix)), 0);
		assert_true(strlen(err) < sizeof(err));
		rs_addrset_free(&s);
	}

	/* a missing file: -ENOENT, the path named */
	{
		struct rs_addrset s;
		snprintf(path, sizeof(path), "%s/does-not-exist.txt", tmpdir);
		rs_addrset_init(&s);
		assert_int_equal(load(&s, path, 0, err, sizeof(err)), -ENOENT);
		if (!strstr(err, path))
			fail_msg("missing file: error \"%s\" does not name %s", err, path);
		rs_addrset_free(&s);
	}

	/* a directory: a negative errno (not -EINVAL: no line is at fault),
	 * the path named */
	{
		struct rs_addrset s;
		rs_addrset_init(&s);
		int rc = load(&s, tmpdir, 0, err, sizeof(err));
		if (rc >= 0 || rc == -EINVAL || !strstr(err, tmpdir))
			fail_msg("directory: returned %d, error \"%s\"", rc, err);
		rs_addrset_free(&s);
	}

	/* an unreadable file (unless we are root) */
	if (geteuid() != 0) {
		struct rs_addrset s;
		write_file("noperm.txt", "10.0.0.1\n", 9, path);
		assert_int_equal(chmod(path, 0), 0);
		rs_addrset_init(&s);
		assert_int_equal(load(&s, path, 0, err, sizeof(err)), -EACCES);
		assert_non_null(strstr(err, path));
		rs_addrset_free(&s);
	}
}

static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* 200,000 lines of /32s and /24s (overlapping) within 10.0.0.0/12, with a
 * few comments: the exact set, against a bitmap. */
static void test_load_huge(void **state)
{
	(void)state;
	enum { U = 1 << 20, LINES = 200000 };
	uint8_t *bits = calloc(U, 1);
	uint64_t x = 0xabcdef0123456789ULL, want = 0;
	char path[256], err[256];
	struct rs_addrset s;
	FILE *f;

	assert_non_null(bits);
	snprintf(path, sizeof(path), "%s/huge.txt", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (unsigned i = 0; i < LINES; i++) {
		uint32_t v = (uint32_t)(rng_next(&x) % U), kind = (uint32_t)(rng_next(&x) % 10);
		unsigned b = v >> 16, c = (v >> 8) & 255, d = v & 255;
		if (kind == 0) {
			fprintf(f, "10.%u.%u.%u/24\n", b, c, d); /* host bits set */
			memset(bits + (v & ~255u), 1, 256);
		} else if (kind == 1) {
			fprintf(f, "10.%u.%u.0/24 # a /24\n", b, c);
			memset(bits + (v & ~255u), 1, 256);
		} else if (kind == 2) {
			fprintf(f, "  10.%u.%u.%u/32\r\n", b, c, d);
			bits[v] = 1;
		} else {
			fprintf(f, "10.%u.%u.%u\n", b, c, d);
			bits[v] = 1;
		}
		if (i % 10000 == 0)
			fprintf(f, "# line %u\n\n", i);
	}
	assert_int_equal(fclose(f), 0);
	for (uint32_t v = 0; v < U; v++)
		want += bits[v];

	rs_addrset_init(&s);
	int rc = load(&s, path, 0, err, sizeof(err));
	if (rc)
		fail_msg("huge.txt: %d (%s)", rc, err);
	assert_int_equal(rs_addrset_finalize(&s), 0);
	if (s.count != want)
		fail_msg("huge.txt: count %" PRIu64 ", expected %" PRIu64, s.count, want);
	/* the ranges are exactly the bitmap's runs */
	size_t run = 0;
	for (uint32_t v = 0; v < U; v++) {
		if (!bits[v] || (v && bits[v - 1]))
			continue;
		uint32_t e = v;
		while (e + 1 < U && bits[e + 1])
			e++;
		if (run >= s.n || s.r[run].lo != V4(IP(10, 0, 0, 0) + v) ||
		    s.r[run].hi != V4(IP(10, 0, 0, 0) + e))
			fail_msg("huge.txt: range %zu differs from the bitmap", run);
		run++;
	}
	assert_int_equal(s.n, run);
	/* spot-check pick */
	uint64_t k = 0;
	for (uint32_t v = 0; v < U; v++) {
		if (!bits[v])
			continue;
		if (k % 997 == 0 && rs_addrset_pick(&s, k) != V4(IP(10, 0, 0, 0) + v))
			fail_msg("huge.txt: pick(%" PRIu64 ") = %s", k,
				 hex(rs_addrset_pick(&s, k)));
		k++;
	}
	rs_addrset_free(&s);
	free(bits);
}

/* ---- stdin ("-") ---- */

/* What the child does with its stdin; returns its exit status. */
typedef int (*stdin_body)(void);

/* Run body in a child whose stdin is a pipe fed with data[0..len); return
 * the child's wait status. */
static int with_stdin(const char *data, size_t len, stdin_body body)
{
	int pfd[2], st;
	pid_t pid;
	void (*old)(int);

	assert_int_equal(pipe(pfd), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pfd[1]);
		if (dup2(pfd[0], STDIN_FILENO) < 0)
			_exit(90);
		close(pfd[0]);
		_exit(body());
	}
	close(pfd[0]);
	old = signal(SIGPIPE, SIG_IGN);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(pfd[1], data + off, len - off);
		if (w <= 0)
			break; /* the child stopped reading: its status says why */
		off += (size_t)w;
	}
	close(pfd[1]);
	signal(SIGPIPE, old);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static int stdin_good(void)
{
	struct rs_addrset s;
	char err[256];
	int rc;

	rs_addrset_init(&s);
	rc = rs_target_load(&s, "-", 0, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "stdin: %d (%s)\n", rc, err);
		return 3;
	}
	if (rs_addrset_finalize(&s) || s.n != 2 || s.count != 4)
		return 4;
	if (s.r[0].lo != 1 || s.r[0].hi != 1)
		return 5;
	if (s.r[1].lo != V4(IP(10, 0, 0, 1)) || s.r[1].hi != V4(IP(10, 0, 0, 3)))
		return 6;
	/* stdin is left open: a second load reads the (empty) rest */
	if (fcntl(STDIN_FILENO, F_GETFD) < 0)
		return 7;
	rc = rs_target_load(&s, "-", 0, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "stdin again: %d (%s)\n", rc, err);
		return 8;
	}
	rs_addrset_free(&s);
	return 0;
}

static int stdin_bad(void)
{
	struct rs_addrset s;
	char err[256];
	int rc;

	rs_addrset_init(&s);
	rc = rs_target_load(&s, "-", 0, err, sizeof(err));
	if (rc != -EINVAL || !strstr(err, ":2:") || !strstr(err, "10.0.0.256")) {
		fprintf(stderr, "stdin: returned %d, error \"%s\"\n", rc, err);
		return 3;
	}
	/* named as stdin: "<stdin>:2:" or "-:2:" */
	if (strncmp(err, "<stdin>:2:", 10) && strncmp(err, "-:2:", 4)) {
		fprintf(stderr, "stdin: error \"%s\" does not start with the name of stdin\n", err);
		return 4;
	}
	rs_addrset_free(&s);
	return 0;
}

/* Far more than a pipe holds: 50,000 lines, every second address from
 * 10.1.0.0 on. */
static int stdin_big(void)
{
	struct rs_addrset s;
	char err[256];
	int rc;

	rs_addrset_init(&s);
	rc = rs_target_load(&s, "-", 0, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "stdin: %d (%s)\n", rc, err);
		return 3;
	}
	if (rs_addrset_finalize(&s) || s.count != 50000 || s.n != 50000)
		return 4;
	for (uint64_t k = 0; k < 50000; k += 7)
		if (rs_addrset_pick(&s, k) != V4(IP(10, 1, 0, 0) + 2 * (uint32_t)k))
			return 5;
	rs_addrset_free(&s);
	return 0;
}

static void test_load_stdin(void **state)
{
	(void)state;
	static const char good[] = "# targets on stdin\n10.0.0.1\r\n  10.0.0.2/31 # two\n\n::1";
	static const char bad[] = "10.0.0.1\n10.0.0.256\n10.0.0.2\n";
	int st;

	st = with_stdin(good, sizeof(good) - 1, stdin_good);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail_msg("stdin, good input: child status %#x", st);
	st = with_stdin(bad, sizeof(bad) - 1, stdin_bad);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail_msg("stdin, bad line: child status %#x", st);

	size_t cap = 50000 * 20, len = 0;
	char *big = malloc(cap);
	assert_non_null(big);
	for (uint32_t i = 0; i < 50000; i++) {
		uint32_t v = IP(10, 1, 0, 0) + 2 * i;
		len += (size_t)snprintf(big + len, cap - len, "%u.%u.%u.%u\n", v >> 24,
					(v >> 16) & 255, (v >> 8) & 255, v & 255);
	}
	st = with_stdin(big, len, stdin_big);
	free(big);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail_msg("stdin, 50,000 lines: child status %#x", st);
}

/* ---- port sets ---- */

/* Random ranges over a small universe, checked against a bitmap: merge,
 * count and every pick(k). Includes values next to 0 and 2^32-1. */
static void test_set32_random_vs_bitmap(void **state)
{
	(void)state;
	enum { U = 3000 };
	static uint8_t bits[U];
	uint64_t x = 0x1234567887654321ULL;

	for (int iter = 0; iter < 300; iter++) {
		struct rs_set32 s;
		uint32_t base = iter % 3 == 0	? 0
				: iter % 3 == 1 ? 0xffffffffu - (U - 1)
						: 0x0a000000u;
		int nadd = 1 + (int)(rng_next(&x) % 40);
		uint64_t expect = 0;

		memset(bits, 0, sizeof(bits));
		rs_set32_init(&s);
		for (int i = 0; i < nadd; i++) {
			uint32_t lo = (uint32_t)(rng_next(&x) % U);
			uint32_t len = (uint32_t)(rng_next(&x) % (i % 4 == 0 ? 200 : 6));
			uint32_t hi = lo + len < U ? lo + len : U - 1;
			for (uint32_t v = lo; v <= hi; v++)
				bits[v] = 1;
			assert_int_equal(rs_set32_add(&s, base + lo, base + hi), 0);
		}
		assert_int_equal(rs_set32_finalize(&s), 0);
		for (uint32_t v = 0; v < U; v++)
			expect += bits[v];
		assert_int_equal(s.count, expect);
		/* ranges: sorted, disjoint, not adjacent */
		for (size_t i = 0; i < s.n; i++) {
			assert_true(s.r[i].lo <= s.r[i].hi);
			if (i)
				assert_true((uint64_t)s.r[i - 1].hi + 1 < s.r[i].lo);
		}
		uint64_t k = 0;
		for (uint32_t v = 0; v < U; v++) {
			if (!bits[v])
				continue;
			uint32_t got = rs_set32_pick(&s, k);
			if (got != base + v)
				fail_msg("iter %d: pick(%" PRIu64 ") = %#x, expected %#x", iter, k,
					 got, base + v);
			k++;
		}
		/* number of maximal runs in the bitmap == number of ranges */
		size_t runs = 0;
		for (uint32_t v = 0; v < U; v++)
			if (bits[v] && (v == 0 || !bits[v - 1]))
				runs++;
		assert_int_equal(s.n, runs);
		rs_set32_free(&s);
	}
}

/* Many disjoint ranges (exercises the binary search over before[]), and
 * finalize is idempotent and may be repeated after more adds. */
static void test_set32_many_ranges(void **state)
{
	(void)state;
	struct rs_set32 s;
	enum { N = 1000 };

	rs_set32_init(&s);
	for (uint32_t i = N; i-- > 0;) /* reverse order: finalize must sort */
		assert_int_equal(rs_set32_add(&s, i * 10, i * 10 + (i % 5)), 0);
	assert_int_equal(rs_set32_finalize(&s), 0);
	assert_int_equal(s.n, N);
	uint64_t k = 0;
	for (uint32_t i = 0; i < N; i++)
		for (uint32_t v = i * 10; v <= i * 10 + (i % 5); v++, k++)
			assert_int_equal(rs_set32_pick(&s, k), v);
	assert_int_equal(s.count, k);

	assert_int_equal(rs_set32_finalize(&s), 0);
	assert_int_equal(s.n, N);
	assert_int_equal(s.count, k);

	/* fill every gap: one range [0, 10*N - 6] */
	for (uint32_t i = 0; i < N - 1; i++)
		assert_int_equal(rs_set32_add(&s, i * 10 + (i % 5) + 1, i * 10 + 9), 0);
	assert_int_equal(rs_set32_finalize(&s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.r[0].lo, 0);
	assert_int_equal(s.r[0].hi, (N - 1) * 10 + 4);
	assert_int_equal(s.count, (N - 1) * 10 + 5);
	rs_set32_free(&s);
}

/* An empty set (nothing added: say, no exclusions) finalizes to count 0,
 * and so does an empty space. Run in a child so that a sanitizer abort
 * fails this test alone, with its report on stderr. */
static void test_set32_empty(void **state)
{
	(void)state;
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct rs_set32 s;
		struct rs_space sp;

		rs_set32_init(&s);
		if (rs_set32_finalize(&s) || s.count != 0)
			_exit(3);
		if (rs_set32_finalize(&s) || s.count != 0) /* twice */
			_exit(4);
		rs_set32_free(&s);
		rs_space_init(&sp);
		if (rs_space_finalize(&sp) || rs_space_count(&sp) != 0)
			_exit(5);
		rs_space_free(&sp);
		/* addresses but no ports, and ports but no addresses */
		rs_space_init(&sp);
		if (rs_addrset_add(&sp.addrs, 1, 5) || rs_space_finalize(&sp) ||
		    rs_space_count(&sp) != 0)
			_exit(6);
		rs_space_free(&sp);
		rs_space_init(&sp);
		if (rs_set32_add(&sp.ports, 1, 5) || rs_space_finalize(&sp) ||
		    rs_space_count(&sp) != 0)
			_exit(7);
		rs_space_free(&sp);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("finalizing an empty set failed (child status %#x; a sanitizer report "
			 "above would name the line)",
			 st);
}

/* Top of the 32-bit range: adjacency and overlap at 2^32 - 1 do not wrap. */
static void test_set32_top_edge(void **state)
{
	(void)state;
	struct rs_set32 s;

	rs_set32_init(&s);
	assert_int_equal(rs_set32_add(&s, 0xffffffffu, 0xffffffffu), 0);
	assert_int_equal(rs_set32_add(&s, 0, 0), 0);
	assert_int_equal(rs_set32_add(&s, 0xfffffff0u, 0xffffffffu), 0);
	assert_int_equal(rs_set32_add(&s, 0xffffffffu, 0xffffffffu), 0);
	assert_int_equal(rs_set32_add(&s, 1, 1), 0);
	assert_int_equal(rs_set32_finalize(&s), 0);
	struct rs_range32 want[] = {{0, 1}, {0xfffffff0u, 0xffffffffu}};
	check_set("top edge", &s, want, 2);
	rs_set32_free(&s);

	rs_set32_init(&s);
	assert_int_equal(rs_set32_add(&s, 0, 0xffffffffu), 0);
	assert_int_equal(rs_set32_add(&s, 0xffffffffu, 0xffffffffu), 0);
	assert_int_equal(rs_set32_add(&s, 0, 0xffffffffu), 0);
	assert_int_equal(rs_set32_finalize(&s), 0);
	assert_int_equal(s.n, 1);
	assert_true(s.count == (1ULL << 32));
	assert_int_equal(rs_set32_pick(&s, 0), 0);
	assert_int_equal(rs_set32_pick(&s, (1ULL << 32) - 1), 0xffffffffu);
	assert_int_equal(rs_set32_pick(&s, 0x80000000ULL), 0x80000000u);
	rs_set32_free(&s);
}

/* ---- the space ---- */

/* The endpoint of address a, written out here: IPv4 in addr[0..3]. */
static void expect_ep(rs_u128 a, uint16_t port, struct rs_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	if ((a >> 32) == 0xffff) {
		ep->family = AF_INET;
		for (int i = 0; i < 4; i++)
			ep->addr[i] = (uint8_t)(a >> (24 - 8 * i));
	} else {
		ep->family = AF_INET6;
		for (int i = 0; i < 16; i++)
			ep->addr[i] = (uint8_t)(a >> (120 - 8 * i));
	}
	ep->port = port;
}

static int ep_equal(const struct rs_endpoint *a, const struct rs_endpoint *b)
{
	return a->family == b->family && a->pad == b->pad && a->port == b->port &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* Build a space from target and port strings, and check pick(i) for every
 * i against a brute-force address-major enumeration of the expected sets. */
static void check_space(const char *const *targets, const char *ports, const rs_u128 *addrs,
			size_t naddrs, const uint16_t *portv, size_t nports)
{
	struct rs_space sp;
	char err[256];

	rs_space_init(&sp);
	for (size_t i = 0; targets[i]; i++)
		if (rs_target_parse(&sp.addrs, guard_str(targets[i]), 0, err, sizeof(err)))
			fail_msg("\"%s\": %s", targets[i], err);
	assert_int_equal(rs_ports_parse(&sp.ports, guard_str(ports), err, sizeof(err)), 0);
	assert_int_equal(rs_space_finalize(&sp), 0);
	assert_int_equal(rs_space_count(&sp), (uint64_t)naddrs * nports);

	uint64_t i = 0;
	for (size_t a = 0; a < naddrs; a++) {
		for (size_t p = 0; p < nports; p++, i++) {
			struct rs_endpoint ep, want;
			memset(&ep, 0xa5, sizeof(ep));
			rs_space_pick(&sp, i, &ep);
			expect_ep(addrs[a], portv[p], &want);
			if (!ep_equal(&ep, &want))
				fail_msg("pick(%" PRIu64 "): family %u port %u, expected %s:%u", i,
					 ep.family, ep.port, hex(addrs[a]), portv[p]);
		}
	}
	rs_space_free(&sp);
}

static void test_space_small(void **state)
{
	(void)state;
	{
		const char *t[] = {"10.0.0.7", "10.0.0.1-10.0.0.3", "10.0.0.2", NULL};
		const rs_u128 a[] = {V4(IP(10, 0, 0, 1)), V4(IP(10, 0, 0, 2)), V4(IP(10, 0, 0, 3)),
				     V4(IP(10, 0, 0, 7))};
		const uint16_t p[] = {22, 80, 81, 82, 443};
		check_space(t, "443,80-82,22,81", a, 4, p, 5);
	}
	{
		const char *t[] = {"127.0.0.1", NULL};
		const rs_u128 a[] = {V4(IP(127, 0, 0, 1))};
		const uint16_t p[] = {65535};
		check_space(t, "65535", a, 1, p, 1);
	}
	{
		const char *t[] = {"255.255.255.254/31", "0.0.0.0", NULL};
		const rs_u128 a[] = {V4(0), V4(0xfffffffeu), V4(0xffffffffu)};
		const uint16_t p[] = {1, 2, 65534, 65535};
		check_space(t, "65534-65535,1-2", a, 3, p, 4);
	}
	{
		const char *t[] = {"::1", "127.0.0.1", "2001:db8::/127", "::ffff:127.0.0.2", NULL};
		const rs_u128 a[] = {1, V4(IP(127, 0, 0, 1)), V4(IP(127, 0, 0, 2)), DB8, DB8 + 1};
		const uint16_t p[] = {22, 23};
		check_space(t, "23,22", a, 5, p, 2);
	}
	{
		const char *t[] = {"::fffe:ffff:fffe-::ffff:0.0.0.1",
				   "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL};
		const rs_u128 a[] = {V4(0) - 2, V4(0) - 1, V4(0), V4(1), MAX128};
		const uint16_t p[] = {80};
		check_space(t, "80", a, 5, p, 1);
	}
}

/* Text of a: dotted quad (when IPv4 and dotted) or full IPv6 form. */
static void addr_text(rs_u128 a, int dotted, char *buf, size_t len)
{
	if ((a >> 32) == 0xffff && dotted) {
		uint32_t v = (uint32_t)a;
		snprintf(buf, len, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255, (v >> 8) & 255,
			 v & 255);
		return;
	}
	snprintf(buf, len, "%x:%x:%x:%x:%x:%x:%x:%x", (unsigned)(a >> 112) & 0xffff,
		 (unsigned)(a >> 96) & 0xffff, (unsigned)(a >> 80) & 0xffff,
		 (unsigned)(a >> 64) & 0xffff, (unsigned)(a >> 48) & 0xffff,
		 (unsigned)(a >> 32) & 0xffff, (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xffff);
}

/* Random small spaces against brute force, every index: the addresses
 * come from 512 values at base, given as addresses, prefixes and ranges
 * in dotted or IPv6 text. base 10.9.0.0 is IPv4 only; base
 * ::fffe:ffff:ff00 straddles the IPv6 / IPv4 boundary. */
static void test_space_random(void **state)
{
	(void)state;
	uint64_t x = 0xfeedfacecafebeefULL;
	static uint8_t abits[512], pbits[300];
	const rs_u128 bases[] = {V4(IP(10, 9, 0, 0)), V4(0) - 256, DB8 + P2(64) - 256};

	for (int iter = 0; iter < 150; iter++) {
		struct rs_space sp;
		char spec[128], lo_s[48], hi_s[48], err[256], plist[1024];
		rs_u128 base = bases[iter % 3], addrs[512];
		uint16_t ports[300];
		size_t na = 0, np = 0, plen = 0;
		int nt = 1 + (int)(rng_next(&x) % 5), npi = 1 + (int)(rng_next(&x) % 6);

		memset(abits, 0, sizeof(abits));
		memset(pbits, 0, sizeof(pbits));
		rs_space_init(&sp);
		for (int t = 0; t < nt; t++) {
			uint32_t lo = (uint32_t)(rng_next(&x) % 512), hi;
			int dotted = (int)(rng_next(&x) % 2);
			switch (rng_next(&x) % 3) {
			case 0:
				hi = lo;
				addr_text(base + lo, dotted, spec, sizeof(spec));
				break;
			case 1: {
				unsigned host = (unsigned)(rng_next(&x) % 7); /* 1..64 addresses */
				uint32_t size = 1u << host;
				int v4 = ((base + lo) >> 32) == 0xffff && dotted;
				addr_text(base + lo, v4, lo_s, sizeof(lo_s));
				snprintf(spec, sizeof(spec), "%s/%u", lo_s,
					 v4 ? 32 - host : 128 - host);
				lo &= ~(size - 1);
				hi = lo + size - 1;
				break;
			}
			default:
				hi = lo + (uint32_t)(rng_next(&x) % 40);
				if (hi > 511)
					hi = 511;
				/* dotted only when both ends are IPv4 */
				if (((base + lo) >> 32) != 0xffff || ((base + hi) >> 32) != 0xffff)
					dotted = 0;
				addr_text(base + lo, dotted, lo_s, sizeof(lo_s));
				addr_text(base + hi, dotted, hi_s, sizeof(hi_s));
				snprintf(spec, sizeof(spec), "%s-%s", lo_s, hi_s);
				break;
			}
			for (uint32_t v = lo; v <= hi; v++)
				abits[v] = 1;
			if (rs_target_parse(&sp.addrs, guard_str(spec), 0, err, sizeof(err)))
				fail_msg("\"%s\": %s", spec, err);
		}
		for (int t = 0; t < npi; t++) {
			uint32_t lo = 1 + (uint32_t)(rng_next(&x) % 299);
			uint32_t hi = lo + (uint32_t)(rng_next(&x) % 4);
			if (hi > 299)
				hi = 299;
			for (uint32_t v = lo; v <= hi; v++)
				pbits[v] = 1;
			if (hi == lo)
				plen += (size_t)snprintf(plist + plen, sizeof(plist) - plen, "%s%u",
							 t ? "," : "", lo);
			else
				plen += (size_t)snprintf(plist + plen, sizeof(plist) - plen,
							 "%s%u-%u", t ? "," : "", lo, hi);
		}
		if (rs_ports_parse(&sp.ports, guard_str(plist), err, sizeof(err)))
			fail_msg("\"%s\": %s", plist, err);
		assert_int_equal(rs_space_finalize(&sp), 0);
		for (uint32_t v = 0; v < 512; v++)
			if (abits[v])
				addrs[na++] = base + v;
		for (uint32_t v = 0; v < 300; v++)
			if (pbits[v])
				ports[np++] = (uint16_t)v;
		assert_int_equal(rs_space_count(&sp), (uint64_t)na * np);
		for (uint64_t i = 0; i < (uint64_t)na * np; i++) {
			struct rs_endpoint ep, want;
			memset(&ep, 0xa5, sizeof(ep));
			rs_space_pick(&sp, i, &ep);
			expect_ep(addrs[i / np], ports[i % np], &want);
			if (!ep_equal(&ep, &want))
				fail_msg("iter %d (ports \"%s\"): pick(%" PRIu64
					 ") = family %u port %u, expected %s:%u",
					 iter, plist, i, ep.family, ep.port, hex(addrs[i / np]),
					 ports[i % np]);
		}
		rs_space_free(&sp);
	}
}

/* The largest spaces: every IPv4 address × every port, and 2^63 IPv6
 * pairs; no overflow, and one pair more is refused. */
static void test_space_huge(void **state)
{
	(void)state;
	struct rs_space sp;
	struct rs_endpoint ep, want;
	char err[256];
	const uint64_t n = (1ULL << 32) * 65535;

	rs_space_init(&sp);
	assert_int_equal(rs_target_parse(&sp.addrs, guard_str("0.0.0.0/0"), 0, err, sizeof(err)),
			 0);
	assert_int_equal(rs_ports_parse(&sp.ports, guard_str("1-65535"), err, sizeof(err)), 0);
	assert_int_equal(rs_space_finalize(&sp), 0);
	assert_true(rs_space_count(&sp) == n);

	const struct {
		uint64_t i;
		rs_u128 a;
		uint16_t port;
	} picks[] = {
		{0, V4(0), 1},
		{65534, V4(0), 65535},
		{65535, V4(1), 1},
		{n - 1, V4(0xffffffffu), 65535},
		{0x7f000001ULL * 65535 + 21, V4(IP(127, 0, 0, 1)), 22},
	};
	for (size_t i = 0; i < NELEM(picks); i++) {
		memset(&ep, 0xa5, sizeof(ep));
		rs_space_pick(&sp, picks[i].i, &ep);
		expect_ep(picks[i].a, picks[i].port, &want);
		if (!ep_equal(&ep, &want))
			fail_msg("IPv4 x all ports: pick(%" PRIu64 ") wrong", picks[i].i);
	}
	rs_space_free(&sp);

	/* 2^62 addresses × 2 ports = 2^63: accepted */
	rs_space_init(&sp);
	assert_int_equal(
		rs_target_parse(&sp.addrs, guard_str("2001:db8::/66"), 0, err, sizeof(err)), 0);
	assert_int_equal(rs_ports_parse(&sp.ports, guard_str("80,443"), err, sizeof(err)), 0);
	assert_int_equal(rs_space_finalize(&sp), 0);
	assert_true(rs_space_count(&sp) == 1ULL << 63);
	rs_space_pick(&sp, (1ULL << 63) - 1, &ep);
	expect_ep(DB8 + P2(62) - 1, 443, &want);
	assert_true(ep_equal(&ep, &want));
	rs_space_pick(&sp, (1ULL << 62), &ep);
	expect_ep(DB8 + P2(61), 80, &want);
	assert_true(ep_equal(&ep, &want));
	rs_space_free(&sp);

	/* 2^63 addresses × 1 port: accepted; × 2 ports: refused */
	rs_space_init(&sp);
	assert_int_equal(
		rs_target_parse(&sp.addrs, guard_str("2001:db8::/65"), 0, err, sizeof(err)), 0);
	assert_int_equal(rs_ports_parse(&sp.ports, guard_str("80"), err, sizeof(err)), 0);
	assert_int_equal(rs_space_finalize(&sp), 0);
	assert_true(rs_space_count(&sp) == 1ULL << 63);
	rs_space_pick(&sp, (1ULL << 63) - 1, &ep);
	expect_ep(DB8 + P2(63) - 1, 80, &want);
	assert_true(ep_equal(&ep, &want));
	rs_space_free(&sp);

	rs_space_init(&sp);
	assert_int_equal(
		rs_target_parse(&sp.addrs, guard_str("2001:db8::/65"), 0, err, sizeof(err)), 0);
	assert_int_equal(rs_ports_parse(&sp.ports, guard_str("80-81"), err, sizeof(err)), 0);
	assert_int_equal(rs_space_finalize(&sp), -E2BIG);
	rs_space_free(&sp);

	/* a /64 is refused whatever the ports */
	rs_space_init(&sp);
	assert_int_equal(
		rs_target_parse(&sp.addrs, guard_str("2001:db8::/64"), 0, err, sizeof(err)), 0);
	assert_int_equal(rs_ports_parse(&sp.ports, guard_str("80"), err, sizeof(err)), 0);
	assert_int_equal(rs_space_finalize(&sp), -E2BIG);
	rs_space_free(&sp);
}

int main(void)
{
	char why[200] = "";

	if (own_hosts(OWN_HOSTS, why, sizeof(why)))
		fprintf(stderr,
			"note: no private /etc/hosts (%s); the name tests use the system's\n", why);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target_table),
		cmocka_unit_test(test_port_table),
		cmocka_unit_test(test_error_buffer_bounds),
		cmocka_unit_test(test_long_inputs),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_error_one_line),
		cmocka_unit_test(test_hostnames),
		cmocka_unit_test(test_parse_list),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_load_huge),
		cmocka_unit_test(test_load_stdin),
		cmocka_unit_test(test_set32_random_vs_bitmap),
		cmocka_unit_test(test_set32_many_ranges),
		cmocka_unit_test(test_set32_top_edge),
		cmocka_unit_test(test_set32_empty),
		cmocka_unit_test(test_space_small),
		cmocka_unit_test(test_space_random),
		cmocka_unit_test(test_space_huge),
	};
	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
