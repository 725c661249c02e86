/*
 * worldgen — build a deterministic loopback test world for ringscan.
 *
 *   worldgen --seed S --addrs A.B.C.D/LEN --ports LO-HI [--open PCT]
 *            [--filtered PCT] [--unreachable PCT] [--dark A.B.C.D/LEN]...
 *            [--closed-port P]... --out DIR
 *
 * Every (address, port) of addrs x ports gets one state: open, closed,
 * filtered or unreachable. The percentages are exact counts (rounded to the
 * nearest pair) dealt out by a Fisher-Yates shuffle driven by splitmix64
 * seeded with S, so the same arguments always give the same world and every
 * state with a non-zero share is present. The rest is closed. Then every
 * pair on a --closed-port is closed (so that port gets no listener), and
 * every pair inside a --dark CIDR is filtered.
 *
 * Outputs, all in DIR:
 *   world.nft   nft -f script: table inet rsworld, one input chain, three
 *               concatenated sets (ipv4_addr . inet_service) of pairs:
 *               @filtered -> drop, @unreach -> ICMP host-unreachable,
 *               @closed -> TCP reset. Rules match SYNs only (SYN set, ACK
 *               clear), so replies travelling back over lo are never hit.
 *               A named counter "syns" counts every SYN to 127.0.0.0/8.
 *               Holds at most 8192 set elements: the rest go to
 *   world-elements-NNNN.nft, to load in order after world.nft (one nft
 *               transaction each; see the comment at the element writer).
 *   listen.txt  ports with at least one open pair, one per line. A listener
 *               on 0.0.0.0:port makes them open; the pairs on those ports
 *               that must not be open are in the sets. Ports without an
 *               open pair get no listener: the kernel itself answers RST,
 *               so those closed pairs are not in @closed.
 *   truth.txt   "IP PORT STATE" per pair, in LC_ALL=C sort order.
 *
 * The world is meant for a private network namespace (unshare -rn), so
 * addrs must lie inside 127.0.0.0/8. Exit status: 0 ok, 1 I/O error,
 * 2 bad usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PAIRS (4u * 1024 * 1024)
#define MAX_DARK  64
#define NFT_CMD	  2048
#define NFT_FILE  8192

enum state { ST_CLOSED, ST_OPEN, ST_FILTERED, ST_UNREACH };
static const char *const state_name[] = {"closed", "open", "filtered", "unreachable"};

struct cidr {
	uint32_t base; /* host order, masked */
	unsigned len;
};

static const char usage_text[] =
	"usage: worldgen --seed S --addrs A.B.C.D/LEN --ports LO-HI [--open PCT]\n"
	"                [--filtered PCT] [--unreachable PCT] [--dark A.B.C.D/LEN]...\n"
	"                [--closed-port P]... --out DIR\n";

static void die_usage(const char *fmt, ...)
{
	va_list ap;
	fputs("worldgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(usage_text, stderr);
	exit(2);
}

static void die_io(const char *what, const char *path)
{
	fprintf(stderr, "worldgen: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static uint64_t sm_state;

static uint64_t splitmix64(void)
{
	uint64_t z = (sm_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0, without modulo bias. */
static uint64_t rand_below(uint64_t n)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t r;
	do
		r = splitmix64();
	while (r >= limit);
	return r % n;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_ipv4(const char *s, uint32_t *out)
{
	uint32_t a = 0;
	for (int i = 0; i < 4; i++) {
		if (*s < '0' || *s > '9')
			return -1;
		unsigned v = 0, digits = 0;
		while (*s >= '0' && *s <= '9') {
			v = v * 10 + (unsigned)(*s++ - '0');
			if (++digits > 3 || v > 255)
				return -1;
		}
		a = a << 8 | v;
		if (i < 3 && *s++ != '.')
			return -1;
	}
	if (*s)
		return -1;
	*out = a;
	return 0;
}

static void parse_cidr(const char *opt, const char *s, struct cidr *c)
{
	char buf[32];
	const char *slash = strchr(s, '/');
	uint64_t len = 32;
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n >= sizeof(buf))
		die_usage("%s '%s': not an IPv4 address or CIDR", opt, s);
	memcpy(buf, s, n);
	buf[n] = 0;
	if (parse_ipv4(buf, &c->base) || (slash && parse_u64(slash + 1, 32, &len)))
		die_usage("%s '%s': not an IPv4 address or CIDR", opt, s);
	c->len = (unsigned)len;
	uint32_t mask = c->len ? ~0u << (32 - c->len) : 0;
	if (c->base & ~mask)
		die_usage("%s '%s': host bits set (network is not aligned)", opt, s);
}

static double parse_pct(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0.0 && v <= 100.0))
		die_usage("%s '%s': want a percentage between 0 and 100", opt, s);
	return v;
}

static void fmt_ip(char *buf, uint32_t a)
{
	sprintf(buf, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

/* Sort helpers: LC_ALL=C sort of "IP PORT STATE" lines orders by the IP
 * string, then by the PORT string, bytewise (a string that is a prefix of
 * another is followed by ' ', which sorts before any digit or '.'). */
struct key {
	char s[16];
	uint32_t v;
};

static int key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct key *)a)->s, ((const struct key *)b)->s);
}

static FILE *open_out(const char *dir, const char *name, char *path, size_t pathsz)
{
	snprintf(path, pathsz, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		die_io("cannot create", path);
	return f;
}

static void close_out(FILE *f, const char *path)
{
	if (ferror(f) || fclose(f))
		die_io("cannot write", path);
}

int main(int argc, char **argv)
{
	const char *out = NULL;
	int have_seed = 0, have_addrs = 0, have_ports = 0;
	uint64_t seed = 0, plo = 0, phi = 0;
	double pct[4] = {0, 0, 0, 0};
	struct cidr addrs = {0, 0}, dark[MAX_DARK];
	unsigned ndark = 0;
	static uint8_t shut[65536]; /* --closed-port */

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (i + 1 >= argc)
			die_usage("%s: missing value (or unknown option)", o);
		const char *v = argv[++i];
		if (!strcmp(o, "--seed")) {
			if (parse_u64(v, UINT64_MAX, &seed))
				die_usage("--seed '%s': want an unsigned integer", v);
			have_seed = 1;
		} else if (!strcmp(o, "--addrs")) {
			parse_cidr(o, v, &addrs);
			have_addrs = 1;
		} else if (!strcmp(o, "--ports")) {
			char buf[16];
			const char *dash = strchr(v, '-');
			size_t n = dash ? (size_t)(dash - v) : strlen(v);
			if (n >= sizeof(buf))
				die_usage("--ports '%s': want LO-HI", v);
			memcpy(buf, v, n);
			buf[n] = 0;
			if (parse_u64(buf, 65535, &plo) ||
			    (dash ? parse_u64(dash + 1, 65535, &phi) : (phi = plo, 0)))
				die_usage("--ports '%s': want LO-HI with ports in 1..65535", v);
			if (plo < 1 || phi < plo)
				die_usage("--ports '%s': want 1 <= LO <= HI <= 65535", v);
			have_ports = 1;
		} else if (!strcmp(o, "--open")) {
			pct[ST_OPEN] = parse_pct(o, v);
		} else if (!strcmp(o, "--filtered")) {
			pct[ST_FILTERED] = parse_pct(o, v);
		} else if (!strcmp(o, "--unreachable")) {
			pct[ST_UNREACH] = parse_pct(o, v);
		} else if (!strcmp(o, "--dark")) {
			if (ndark == MAX_DARK)
				die_usage("--dark: at most %d ranges", MAX_DARK);
			parse_cidr(o, v, &dark[ndark++]);
		} else if (!strcmp(o, "--closed-port")) {
			uint64_t p;
			if (parse_u64(v, 65535, &p) || p == 0)
				die_usage("--closed-port '%s': want a port in 1..65535", v);
			shut[p] = 1;
		} else if (!strcmp(o, "--out")) {
			out = v;
		} else {
			die_usage("%s: unknown option", o);
		}
	}
	if (!have_seed || !have_addrs || !have_ports || !out)
		die_usage("--seed, --addrs, --ports and --out are required");
	if (addrs.len < 16)
		die_usage("--addrs: /%u is too wide (at most a /16)", addrs.len);
	if (addrs.len < 8 || (addrs.base >> 24) != 127)
		die_usage("--addrs: the world must lie inside 127.0.0.0/8");
	if (pct[ST_OPEN] + pct[ST_FILTERED] + pct[ST_UNREACH] > 100.0 + 1e-9)
		die_usage("--open + --filtered + --unreachable exceed 100%%");
	uint64_t naddr = 1ull << (32 - addrs.len);
	uint64_t nport = phi - plo + 1;
	uint64_t npairs = naddr * nport;
	if (npairs > MAX_PAIRS)
		die_usage("%" PRIu64 " pairs: more than the limit of %u", npairs, MAX_PAIRS);
	uint32_t amask = ~0u << (32 - addrs.len);
	for (unsigned d = 0; d < ndark; d++)
		if (dark[d].len < addrs.len || (dark[d].base & amask) != addrs.base)
			die_usage("--dark range #%u is not inside --addrs", d + 1);
	for (unsigned p = 1; p < 65536; p++)
		if ((p < plo || p > phi) && shut[p])
			die_usage("--closed-port %u is not inside --ports", p);
	if (mkdir(out, 0777) && errno != EEXIST)
		die_io("cannot create", out);

	/* Deal exact counts, then shuffle. */
	uint8_t *st = malloc(npairs);
	if (!st) {
		fprintf(stderr, "worldgen: out of memory\n");
		return 1;
	}
	uint64_t cnt[4], k = 0;
	cnt[ST_OPEN] = (uint64_t)(pct[ST_OPEN] * (double)npairs / 100.0 + 0.5);
	cnt[ST_FILTERED] = (uint64_t)(pct[ST_FILTERED] * (double)npairs / 100.0 + 0.5);
	cnt[ST_UNREACH] = (uint64_t)(pct[ST_UNREACH] * (double)npairs / 100.0 + 0.5);
	for (int s = ST_OPEN; s <= ST_UNREACH; s++)
		for (uint64_t j = 0; j < cnt[s] && k < npairs; j++)
			st[k++] = (uint8_t)s;
	while (k < npairs)
		st[k++] = ST_CLOSED;
	sm_state = seed;
	for (uint64_t j = npairs - 1; j > 0; j--) {
		uint64_t r = rand_below(j + 1);
		uint8_t t = st[j];
		st[j] = st[r];
		st[r] = t;
	}
	/* pair index = addr_offset * nport + (port - plo) */
	for (uint64_t j = 0; j < npairs; j++)
		if (shut[plo + j % nport])
			st[j] = ST_CLOSED;
	for (unsigned d = 0; d < ndark; d++) {
		uint64_t first = dark[d].base - addrs.base;
		uint64_t n = 1ull << (32 - dark[d].len);
		memset(st + first * nport, ST_FILTERED, n * nport);
	}

	/* Ports with at least one open pair get a listener. */
	uint8_t *listened = calloc(65536, 1);
	if (!listened) {
		fprintf(stderr, "worldgen: out of memory\n");
		return 1;
	}
	for (uint64_t j = 0; j < npairs; j++)
		if (st[j] == ST_OPEN)
			listened[plo + j % nport] = 1;

	char path[4096], ip[16];
	FILE *f = open_out(out, "listen.txt", path, sizeof(path));
	for (uint64_t p = plo; p <= phi; p++)
		if (listened[p])
			fprintf(f, "%" PRIu64 "\n", p);
	close_out(f, path);

	/* nft script. */
	f = open_out(out, "world.nft", path, sizeof(path));
	fprintf(f,
		"# generated by worldgen --seed %" PRIu64 " (%" PRIu64 " pairs)\n"
		"table inet rsworld\n"
		"delete table inet rsworld\n"
		"table inet rsworld {\n"
		"\tcounter syns {\n\t}\n",
		seed, npairs);
	static const struct {
		const char *set;
		enum state s;
	} sets[] = {{"filtered", ST_FILTERED}, {"unreach", ST_UNREACH}, {"closed", ST_CLOSED}};
	for (int si = 0; si < 3; si++)
		fprintf(f, "\tset %s {\n\t\ttype ipv4_addr . inet_service\n\t}\n", sets[si].set);
	fprintf(f,
		"\tchain input {\n"
		"\t\ttype filter hook input priority 0; policy accept;\n"
		"\t\tip daddr 127.0.0.0/8 tcp flags & (syn | ack) == syn counter name syns\n"
		"\t\tip daddr . tcp dport @filtered tcp flags & (syn | ack) == syn counter drop\n"
		"\t\tip daddr . tcp dport @unreach tcp flags & (syn | ack) == syn counter"
		" reject with icmp type host-unreachable\n"
		"\t\tip daddr . tcp dport @closed tcp flags & (syn | ack) == syn counter"
		" reject with tcp reset\n"
		"\t}\n"
		"}\n");
	/* Elements are added in commands of at most NFT_CMD elements, and in
	 * transactions (files) of at most NFT_FILE elements: nft sends a whole
	 * file as one netlink batch, and an unprivileged namespace cannot raise
	 * the socket buffer above net.core.wmem_max (~15k elements fit in 4 MB).
	 * The first NFT_FILE elements go in world.nft itself, the rest in
	 * world-elements-0001.nft, -0002, ... loaded after it. */
	char part[4096];
	for (unsigned i = 1;; i++) { /* forget the parts of an older world */
		snprintf(part, sizeof(part), "%s/world-elements-%04u.nft", out, i);
		if (unlink(part))
			break;
	}
	uint64_t in_set[3] = {0, 0, 0};
	unsigned in_cmd = 0, in_file = 0, nparts = 0;
	for (int si = 0; si < 3; si++) {
		for (uint64_t j = 0; j < npairs; j++) {
			if (st[j] != sets[si].s)
				continue;
			uint32_t port = (uint32_t)(plo + j % nport);
			if (sets[si].s == ST_CLOSED && !listened[port])
				continue; /* the kernel answers RST by itself */
			if (in_file == NFT_FILE) {
				if (in_cmd)
					fputs(" }\n", f);
				close_out(f, nparts ? part : path);
				snprintf(part, sizeof(part), "%s/world-elements-%04u.nft", out,
					 ++nparts);
				f = fopen(part, "w");
				if (!f)
					die_io("cannot create", part);
				in_cmd = in_file = 0;
			}
			fmt_ip(ip, addrs.base + (uint32_t)(j / nport));
			if (in_cmd == 0)
				fprintf(f, "add element inet rsworld %s { ", sets[si].set);
			fprintf(f, "%s%s . %u", in_cmd ? ", " : "", ip, port);
			in_file++;
			if (++in_cmd == NFT_CMD) {
				fputs(" }\n", f);
				in_cmd = 0;
			}
			in_set[si]++;
		}
		if (in_cmd)
			fputs(" }\n", f);
		in_cmd = 0;
	}
	close_out(f, nparts ? part : path);

	/* Ground truth in LC_ALL=C sort order. */
	struct key *ak = malloc(naddr * sizeof(*ak)), *pk = malloc(nport * sizeof(*pk));
	if (!ak || !pk) {
		fprintf(stderr, "worldgen: out of memory\n");
		return 1;
	}
	for (uint64_t a = 0; a < naddr; a++) {
		ak[a].v = (uint32_t)a;
		fmt_ip(ak[a].s, addrs.base + (uint32_t)a);
	}
	for (uint64_t p = 0; p < nport; p++) {
		pk[p].v = (uint32_t)p;
		sprintf(pk[p].s, "%" PRIu64, plo + p);
	}
	qsort(ak, naddr, sizeof(*ak), key_cmp);
	qsort(pk, nport, sizeof(*pk), key_cmp);
	f = open_out(out, "truth.txt", path, sizeof(path));
	uint64_t total[4] = {0, 0, 0, 0};
	for (uint64_t a = 0; a < naddr; a++)
		for (uint64_t p = 0; p < nport; p++) {
			uint8_t s = st[(uint64_t)ak[a].v * nport + pk[p].v];
			total[s]++;
			fprintf(f, "%s %s %s\n", ak[a].s, pk[p].s, state_name[s]);
		}
	close_out(f, path);

	fprintf(stderr,
		"worldgen: %" PRIu64 " pairs: open %" PRIu64 ", closed %" PRIu64 " (%" PRIu64
		" by nft), filtered %" PRIu64 ", unreachable %" PRIu64 "\n",
		npairs, total[ST_OPEN], total[ST_CLOSED], in_set[2], total[ST_FILTERED],
		total[ST_UNREACH]);
	free(ak);
	free(pk);
	free(listened);
	free(st);
	return 0;
}
