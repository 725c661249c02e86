/* Targets and ports from text: command-line targets, target files, port
 * lists; and the space they span. Forms: a.b.c.d, a.b.c.d/len,
 * a.b.c.d-e.f.g.h, the IPv6 equivalents, and hostnames (resolved once, every
 * A and AAAA record). The space is addresses × ports, address-major: index
 * i is address i / nports, port i % nports. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringscan/targets.h"

/* One address of either family, strictly: inet_pton's dotted quad (no
 * leading zeros, no short forms) or any IPv6 text form. */
static int parse_addr(const char *s, size_t len, int v6, rs_u128 *out)
{
	char buf[INET6_ADDRSTRLEN];
	unsigned char b[16];

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = 0;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, b) != 1)
		return -EINVAL;
	if (!v6) {
		*out = rs_addr_v4((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
				  (uint32_t)b[2] << 8 | b[3]);
		return 0;
	}
	*out = 0;
	for (int i = 0; i < 16; i++)
		*out = *out << 8 | b[i];
	return 0;
}

/* The user's text, fit for a one-line message: control characters other
 * than tab become '?', and long input is cut with "...". */
static const char *shown(const char *in, char *buf, size_t size)
{
	size_t n = 0;

	for (; *in && n + 4 < size; in++)
		buf[n++] = ((unsigned char)*in < 0x20 && *in != '\t') || *in == 0x7f ? '?' : *in;
	if (*in)
		memcpy(buf + n, "...", 3), n += 3;
	buf[n] = 0;
	return buf;
}

/* Parse a decimal number of at most max, the whole of [s, s+len). */
static int parse_uint(const char *s, size_t len, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 10)
		return len > 10 ? -ERANGE : -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

/* A hostname: letters, digits, '-', '.', '_' and at least one letter. */
static bool is_hostname(const char *s)
{
	bool alpha = false;

	for (; *s; s++) {
		if (isalpha((unsigned char)*s))
			alpha = true;
		else if (!isdigit((unsigned char)*s) && *s != '-' && *s != '.' && *s != '_')
			return false;
	}
	return alpha;
}

/* Resolve name to every A and AAAA record, once. */
static int resolve(struct rs_addrset *s, const char *name, char *err, size_t errlen)
{
	char show[96];
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res, *ai;
	int r;

	/* getaddrinfo() also takes inet_aton's forms (0x7f.1, 127.1): those
	 * are malformed addresses here, not names. */
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(name, NULL, &hints, &res) == 0) {
		freeaddrinfo(res);
		snprintf(err, errlen, "invalid address '%s' (expected a dotted quad)",
			 shown(name, show, sizeof(show)));
		return -EINVAL;
	}
	hints.ai_flags = 0;
	r = getaddrinfo(name, NULL, &hints, &res);
	if (r) {
		snprintf(err, errlen, "cannot resolve '%s': %s", shown(name, show, sizeof(show)),
			 gai_strerror(r));
		return -EINVAL;
	}
	for (ai = res; ai && !r; ai = ai->ai_next) {
		rs_u128 a = 0;
		if (ai->ai_family == AF_INET) {
			const struct sockaddr_in *sin = (const void *)ai->ai_addr;
			a = rs_addr_v4(ntohl(sin->sin_addr.s_addr));
		} else if (ai->ai_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 = (const void *)ai->ai_addr;
			for (int i = 0; i < 16; i++)
				a = a << 8 | sin6->sin6_addr.s6_addr[i];
		} else {
			continue;
		}
		r = rs_addrset_add(s, a, a);
	}
	freeaddrinfo(res);
	return r;
}

int rs_target_parse(struct rs_addrset *s, const char *spec, unsigned flags, char *err,
		    size_t errlen)
{
	const char *slash = strchr(spec, '/'), *dash = strchr(spec, '-');
	size_t len = strlen(spec);
	int v6 = strchr(spec, ':') != NULL;
	rs_u128 lo, hi;
	uint32_t plen;
	char show[96];

	if (!v6 && is_hostname(spec)) {
		if (flags & RS_TARGET_NAMES)
			return resolve(s, spec, err, errlen);
		snprintf(err, errlen, "invalid address '%s' (names are not accepted here)",
			 shown(spec, show, sizeof(show)));
		return -EINVAL;
	}
	if (slash && dash)
		goto bad;
	if (slash) {
		unsigned bits = v6 ? 128 : 32;
		if (parse_addr(spec, (size_t)(slash - spec), v6, &lo))
			goto bad;
		/* No leading zeros, as in the dotted quad itself (127.0.0.01). */
		size_t plen_len = len - (size_t)(slash - spec) - 1;
		if ((plen_len > 1 && slash[1] == '0') ||
		    parse_uint(slash + 1, plen_len, bits, &plen)) {
			snprintf(err, errlen,
				 "invalid prefix length in '%s' (0-%u, no leading zeros)",
				 shown(spec, show, sizeof(show)), bits);
			return -EINVAL;
		}
		/* Host bits of the prefix: the low (bits - plen) bits. */
		unsigned host = bits - plen;
		rs_u128 hostmask = host == 128 ? ~(rs_u128)0 : ((rs_u128)1 << host) - 1;
		lo &= ~hostmask;
		hi = lo | hostmask;
	} else if (dash) {
		if (parse_addr(spec, (size_t)(dash - spec), v6, &lo) ||
		    parse_addr(dash + 1, len - (size_t)(dash - spec) - 1, v6, &hi))
			goto bad;
		if (hi < lo) {
			snprintf(err, errlen, "reversed range '%s'",
				 shown(spec, show, sizeof(show)));
			return -EINVAL;
		}
	} else {
		if (parse_addr(spec, len, v6, &lo))
			goto bad;
		hi = lo;
	}
	return rs_addrset_add(s, lo, hi);
bad:
	snprintf(err, errlen,
		 "invalid target '%s' (expected an address, address/len, first-last%s)",
		 shown(spec, show, sizeof(show)), flags & RS_TARGET_NAMES ? " or hostname" : "");
	return -EINVAL;
}

int rs_target_parse_list(struct rs_addrset *s, const char *list, unsigned flags, char *err,
			 size_t errlen)
{
	char *copy = strdup(list), *save = NULL, *tok;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	if (!*list || list[strlen(list) - 1] == ',' || *list == ',' || strstr(list, ",,")) {
		char show[96];
		snprintf(err, errlen, "empty item in '%s'", shown(list, show, sizeof(show)));
		r = -EINVAL;
	}
	for (tok = strtok_r(copy, ",", &save); tok && !r; tok = strtok_r(NULL, ",", &save))
		r = rs_target_parse(s, tok, flags, err, errlen);
	free(copy);
	return r;
}

/* Trim a line in place: drop a '#' comment and surrounding blanks. */
static char *trim(char *line)
{
	char *hash = strchr(line, '#'), *end;

	if (hash)
		*hash = 0;
	while (isspace((unsigned char)*line))
		line++;
	end = line + strlen(line);
	while (end > line && isspace((unsigned char)end[-1]))
		*--end = 0;
	return line;
}

#define LINE_MAX_BYTES 4096 /* a target line; far longer than any target */

/* One line of f (without its '\n') into buf[LINE_MAX_BYTES + 1]. Returns
 * 1, 0 at the end, -E2BIG for a line too long (memory stays bounded
 * whatever the file, /dev/zero included), -EILSEQ for a NUL byte in it,
 * or -errno of a read error. */
static int read_line(FILE *f, char *buf)
{
	size_t n = 0;
	int c;

	while ((c = getc(f)) != EOF && c != '\n') {
		if (n == LINE_MAX_BYTES)
			return -E2BIG;
		if (c == 0)
			return -EILSEQ;
		buf[n++] = (char)c;
	}
	buf[n] = 0;
	if (c == EOF && ferror(f))
		return errno ? -errno : -EIO;
	return c == EOF && n == 0 ? 0 : 1;
}

int rs_target_load(struct rs_addrset *s, const char *path, unsigned flags, char *err, size_t errlen)
{
	int is_stdin = !strcmp(path, "-");
	FILE *f = is_stdin ? stdin : fopen(path, "r");
	const char *name = is_stdin ? "<stdin>" : path;
	char *line, why[256];
	unsigned long lineno = 0;
	int r = 0, got;

	if (!f) {
		r = -errno;
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		return r;
	}
	line = malloc(LINE_MAX_BYTES + 1);
	if (!line) {
		r = -ENOMEM;
		goto out;
	}
	errno = 0;
	while (!r && (got = read_line(f, line)) != 0) {
		lineno++;
		if (got == -E2BIG || got == -EILSEQ) {
			snprintf(err, errlen, "%s:%lu: %s", name, lineno,
				 got == -E2BIG ? "line too long (more than 4096 bytes)"
					       : "the line holds a NUL byte");
			r = -EINVAL;
			break;
		}
		if (got < 0) {
			r = got;
			snprintf(err, errlen, "cannot read '%s': %s", path, strerror(-r));
			break;
		}
		char *t = trim(line), show[96];
		if (!*t)
			continue;
		if (strlen(t) != strcspn(t, " \t")) {
			snprintf(why, sizeof(why), "one target per line, got '%s'",
				 shown(t, show, sizeof(show)));
			r = -EINVAL;
		} else {
			r = rs_target_parse(s, t, flags, why, sizeof(why));
		}
		if (r == -EINVAL)
			snprintf(err, errlen, "%s:%lu: %s", name, lineno, why);
	}
out:
	free(line);
	if (!is_stdin)
		fclose(f);
	return r;
}

int rs_ports_parse(struct rs_set32 *ports, const char *list, char *err, size_t errlen)
{
	const char *p = list;

	char show_item[48], show_list[96];

	if (!*list) {
		snprintf(err, errlen, "empty port list");
		return -EINVAL;
	}
	for (;;) {
		const char *end = strchr(p, ','), *dash;
		size_t len = end ? (size_t)(end - p) : strlen(p);
		uint32_t lo = 0, hi = 0;
		int r;

		dash = memchr(p, '-', len);
		if (dash) {
			r = parse_uint(p, (size_t)(dash - p), 65535, &lo);
			if (!r)
				r = parse_uint(dash + 1, len - (size_t)(dash - p) - 1, 65535, &hi);
		} else {
			r = parse_uint(p, len, 65535, &lo);
			hi = lo;
		}
		if (r || lo == 0 || hi < lo) {
			const char *why = r == -ERANGE ? "out of range 1-65535"
					  : r	       ? "not a port or range"
					  : lo == 0    ? "port 0 is not scannable"
						       : "reversed range";
			char item[32];
			snprintf(item, sizeof(item), "%.*s", (int)(len < 31 ? len : 31), p);
			snprintf(err, errlen, "invalid port '%s' in '%s': %s",
				 shown(item, show_item, sizeof(show_item)),
				 shown(list, show_list, sizeof(show_list)), why);
			return -EINVAL;
		}
		r = rs_set32_add(ports, lo, hi);
		if (r)
			return r;
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

void rs_space_init(struct rs_space *sp)
{
	rs_addrset_init(&sp->addrs);
	rs_set32_init(&sp->ports);
}

void rs_space_free(struct rs_space *sp)
{
	rs_addrset_free(&sp->addrs);
	rs_set32_free(&sp->ports);
}

int rs_space_finalize(struct rs_space *sp)
{
	int r = rs_addrset_finalize(&sp->addrs);

	if (!r)
		r = rs_set32_finalize(&sp->ports);
	if (!r && sp->ports.count && sp->addrs.count > RS_SPACE_MAX / sp->ports.count)
		r = -E2BIG;
	return r;
}

uint64_t rs_space_count(const struct rs_space *sp)
{
	return sp->addrs.count * sp->ports.count; /* <= RS_SPACE_MAX: checked */
}

void rs_space_pick(const struct rs_space *sp, uint64_t i, struct rs_endpoint *ep)
{
	uint64_t np = sp->ports.count;

	rs_addr_to_endpoint(rs_addrset_pick(&sp->addrs, i / np), ep);
	ep->pad = 0;
	ep->port = (uint16_t)rs_set32_pick(&sp->ports, i % np);
}
