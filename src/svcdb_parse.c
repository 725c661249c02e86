/* Reading nmap-service-probes: lines, directives, Probe lines, escapes and
 * port lists (rules are svcdb_rule.c's). What is accepted and refused is
 * nmap 7.93's parse_nmap_service_probe_file, ServiceProbe::setProbeDetails,
 * setPortVector, setRarity and cstring_unescape (utils.cc), verified in
 * the source; the differences are noted where they are. Every refusal is
 * "FILE:LINE: what". */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svcdb_int.h"

#define DEFAULT_TOTALWAIT  5000 /* nmap's DEFAULT_SERVICEWAITMS */
#define DEFAULT_TCPWRAPPED 2000 /* nmap's DEFAULT_TCPWRAPPEDMS */
#define DEFAULT_RARITY	   5

struct pctx {
	struct rs_svcdb *db;
	const char *path;
	unsigned line;
	char *err;
	size_t errlen;
	int cur;       /* probe being read, -1 before the first */
	bool excluded; /* an Exclude directive was read */
	size_t pcap, rcap;
};

static int fail(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record "FILE:LINE: what" and return -EINVAL. */
static int fail(struct pctx *c, const char *fmt, ...)
{
	if (c->err && c->errlen) {
		int n = snprintf(c->err, c->errlen, "%s:%u: ", c->path, c->line);
		if (n >= 0 && (size_t)n < c->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return -EINVAL;
}

int rs__svc_unescape(char *s, size_t *len)
{
	static const char simple[] = "0\0a\ab\bf\fn\nr\rt\tv\v";
	char *d = s, *p = s;

	while (*p) {
		if (*p != '\\') {
			*d++ = *p++;
			continue;
		}
		p++;
		const char *e = *p ? memchr(simple, *p, sizeof(simple) - 1) : NULL;
		if (e && ((e - simple) % 2) == 0) {
			*d++ = e[1];
			p++;
		} else if (*p == 'x') {
			if (!isxdigit((unsigned char)p[1]) || !isxdigit((unsigned char)p[2]))
				return -EINVAL; /* nmap wants exactly two digits */
			char hex[3] = {p[1], p[2], 0};
			*d++ = (char)strtoul(hex, NULL, 16);
			p += 3;
		} else if (*p == '\0' || isalnum((unsigned char)*p)) {
			return -EINVAL; /* \1 is no octal (\015 is \0 "15"); nmap
					 * reads past a final '\' */
		} else {
			*d++ = *p++;
		}
	}
	*d = '\0';
	*len = (size_t)(d - s);
	return 0;
}

/* One number of a port list, 0-65535. */
static int port_num(const char **pp, long *v)
{
	char *end;
	if (!isdigit((unsigned char)**pp))
		return -EINVAL;
	*v = strtol(*pp, &end, 10);
	*pp = end;
	return *v > 65535 ? -ERANGE : 0;
}

int rs__svc_ports(const char *s, struct svc_range **r, unsigned *n, const char **why)
{
	const char *p = s;
	long lo, hi;

	*why = "an example of proper portlist form is \"21-25,53,80\"";
	do {
		while (isspace((unsigned char)*p))
			p++;
		int rc = port_num(&p, &lo);
		while (isspace((unsigned char)*p))
			p++;
		hi = lo;
		if (rc == 0 && *p == '-') {
			p++;
			rc = port_num(&p, &hi);
			if (rc == 0 && hi < lo)
				rc = -ERANGE;
		}
		if (rc == -ERANGE)
			*why = "ports must be between 0 and 65535 inclusive";
		while (rc == 0 && isspace((unsigned char)*p))
			p++;
		if (rc == 0 && *p && *p != ',')
			rc = -EINVAL;
		if (rc)
			return -EINVAL;
		struct svc_range *nr = realloc(*r, (*n + 1) * sizeof(**r));
		if (!nr)
			return -ENOMEM;
		*r = nr;
		nr[(*n)++] = (struct svc_range){(uint16_t)lo, (uint16_t)hi};
		if (*p == ',')
			p++;
	} while (*p);
	return 0;
}

/* Exclude: like nmap's -p (getpts_aux), "T:"/"U:"/"S:" switch the
 * protocol of the items that follow, until the next switch; items before
 * any switch count for every protocol. Only TCP is kept. */
static int parse_exclude(struct pctx *c, const char *s)
{
	char *copy = strdup(s), *save = NULL;
	int rc = 0;
	bool tcp = true;

	if (!copy)
		return -ENOMEM;
	for (char *it = strtok_r(copy, ",", &save); it && !rc; it = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*it))
			it++;
		if (*it && strchr("TUS", *it) && it[1] == ':') {
			tcp = *it == 'T';
			it += 2;
		}
		struct svc_range *r = NULL;
		unsigned n = 0;
		const char *why;
		rc = rs__svc_ports(it, &r, &n, &why);
		if (rc == -EINVAL)
			rc = fail(c, "bad Exclude list: %s", why);
		if (rc == 0 && tcp) {
			struct svc_range *nr =
				realloc(c->db->excl, (c->db->nexcl + n) * sizeof(*nr));
			if (nr) {
				c->db->excl = nr;
				memcpy(nr + c->db->nexcl, r, n * sizeof(*r));
				c->db->nexcl += n;
			} else {
				rc = -ENOMEM;
			}
		}
		free(r);
	}
	free(copy);
	return rc;
}

/* "Probe TCP|UDP NAME q<d>PAYLOAD<d> [no-payload]" after "Probe ". */
static int parse_probe(struct pctx *c, char *s)
{
	struct rs_svcdb *db = c->db;
	struct svc_probe *p;
	size_t len;

	if (db->nprobes == c->pcap) {
		size_t ncap = c->pcap ? 2 * c->pcap : 64;
		struct svc_probe *np = realloc(db->probes, ncap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		db->probes = np;
		c->pcap = ncap;
	}
	p = &db->probes[db->nprobes];
	memset(p, 0, sizeof(*p));
	p->line = c->line;
	p->rule0 = db->nrules;
	p->pub.rarity = DEFAULT_RARITY;
	p->pub.totalwait_ms = DEFAULT_TOTALWAIT;
	p->pub.tcpwrapped_ms = DEFAULT_TCPWRAPPED;
	db->nprobes++;
	c->cur = (int)db->nprobes - 1;

	if (strncmp(s, "TCP ", 4) && strncmp(s, "UDP ", 4))
		return fail(c, "invalid protocol (TCP or UDP)");
	p->tcp = s[0] == 'T';
	s += 4;
	if (!isalnum((unsigned char)*s))
		return fail(c, "bad probe name");
	char *sp = strchr(s, ' ');
	if (!sp)
		return fail(c, "nothing after probe name");
	p->pub.name = strndup(s, (size_t)(sp - s));
	if (!p->pub.name)
		return -ENOMEM;
	s = sp + 1;
	if (*s != 'q')
		return fail(c, "probe string must begin with 'q'");
	char delim = s[1];
	if (!delim || isspace((unsigned char)delim))
		return fail(c, "no delimiter after 'q'");
	char *end = strchr(s + 2, delim);
	if (!end)
		return fail(c, "no ending delimiter for probe string");
	*end = '\0';
	if (rs__svc_unescape(s + 2, &len))
		return fail(c, "bad probe string escaping");
	uint8_t *pay = malloc(len + 1);
	if (!pay)
		return -ENOMEM;
	memcpy(pay, s + 2, len + 1);
	p->pub.payload = pay;
	p->pub.len = len;
	/* After the payload nmap >= 7.94 knows one flag, no-payload (not a
	 * UDP scan payload); it ignores the rest, as 7.93 ignores it all. */
	return 0;
}

/* totalwaitms / tcpwrappedms: 100-300000 (nmap's bounds). */
static int parse_ms(struct pctx *c, const char *s, const char *what, unsigned *out)
{
	long v = strtol(s, NULL, 10);
	if (v < 100 || v > 300000)
		return fail(c, "bad %s value: must be between 100 and 300000 milliseconds", what);
	*out = (unsigned)v;
	return 0;
}

static int parse_rule_line(struct pctx *c, const char *s)
{
	struct rs_svcdb *db = c->db;
	char why[256];

	if (db->nrules == c->rcap) {
		size_t ncap = c->rcap ? 2 * c->rcap : 1024;
		struct svc_rule *nr = realloc(db->rules, ncap * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		db->rules = nr;
		c->rcap = ncap;
	}
	struct svc_rule *r = &db->rules[db->nrules];
	int rc = rs__svc_rule_parse(r, s, why, sizeof(why));
	if (rc) {
		rs__svc_rule_free(r);
		return rc == -EINVAL ? fail(c, "%s", why) : rc;
	}
	r->line = c->line;
	r->probe = (uint16_t)c->cur;
	db->nrules++;
	db->probes[c->cur].nrules++;
	return 0;
}

/* A directive inside a probe's block. */
static int parse_directive(struct pctx *c, char *s)
{
	struct svc_probe *p = &c->db->probes[c->cur];

	if (!strncmp(s, "match ", 6) || !strncmp(s, "softmatch ", 10))
		return parse_rule_line(c, s);
	if (!strncmp(s, "ports ", 6) || !strncmp(s, "sslports ", 9)) {
		/* sslports are for probes sent through TLS: checked, not kept. */
		struct svc_range *r = NULL;
		unsigned n = 0;
		const char *why;
		bool ssl = s[0] == 's';
		int rc = rs__svc_ports(s + (ssl ? 9 : 6), ssl ? &r : &p->ports,
				       ssl ? &n : &p->nports, &why);
		free(r);
		return rc == -EINVAL ? fail(c, "%s", why) : rc;
	}
	if (!strncmp(s, "rarity ", 7)) {
		long v = strtol(s + 7, NULL, 10);
		if (v < 1 || v > 9)
			return fail(c, "rarity must be between 1 and 9");
		p->pub.rarity = (unsigned)v;
		return 0;
	}
	if (!strncmp(s, "fallback ", 9)) {
		free(p->fallback); /* the last directive wins, as in nmap */
		p->fallback = strdup(s + 9);
		p->fallback_line = c->line;
		return p->fallback ? 0 : -ENOMEM;
	}
	if (!strncmp(s, "totalwaitms ", 12))
		return parse_ms(c, s + 12, "totalwaitms", &p->pub.totalwait_ms);
	if (!strncmp(s, "tcpwrappedms ", 13))
		return parse_ms(c, s + 13, "tcpwrappedms", &p->pub.tcpwrapped_ms);
	if (!strncmp(s, "Exclude ", 8))
		return fail(c, "the Exclude directive must precede all Probes");
	return fail(c, "unknown directive '%.*s'", (int)strcspn(s, " \t"), s);
}

static int parse_line(struct pctx *c, char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	if (s[0] == '#' || s[strspn(s, " \t")] == '\0')
		return 0; /* nmap skips '#' and empty lines; we also skip blank ones */
	if (!strncmp(s, "Probe ", 6))
		return parse_probe(c, s + 6);
	if (c->cur < 0) {
		if (strncmp(s, "Exclude ", 8))
			return fail(c,
				    "line was expected to begin with \"Probe \" or \"Exclude \"");
		if (c->excluded)
			return fail(c, "only 1 Exclude directive is allowed");
		c->excluded = true;
		return parse_exclude(c, s + 8);
	}
	return parse_directive(c, s);
}

int rs__svcdb_parse(struct rs_svcdb *db, const char *path, char *err, size_t errlen)
{
	struct pctx c = {.db = db, .path = path, .err = err, .errlen = errlen, .cur = -1};
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	FILE *f = fopen(path, "re");

	if (!f) {
		rc = -errno;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	while (rc == 0 && getline(&line, &cap, f) >= 0) {
		c.line++;
		rc = parse_line(&c, line);
	}
	if (rc == 0 && ferror(f)) {
		rc = -EIO;
		if (err && errlen)
			snprintf(err, errlen, "%s: read error", path);
	}
	if (rc == -ENOMEM && err && errlen)
		snprintf(err, errlen, "%s:%u: out of memory", path, c.line);
	free(line);
	fclose(f);
	return rc;
}
