/* The service fields of a match: version templates with $1..$9, $P(n),
 * $SUBST(n,"find","repl") and $I(n,">"|"<") filled from the response.
 * Verified in nmap 7.93's service_scan.cc (dotmplsubst, substvar,
 * getsubstcommandargs, transform_cpe, getVersionStr) and written anew:
 *  - $n copies group n raw; the copy ends at its first NUL (nmap strlen()s
 *    each substitution). $P(n) keeps printable ASCII only (collapses
 *    "W\0O\0R\0K\0"). $SUBST replaces every "find" in the group by "repl"
 *    (C escapes allowed in both). $I reads the group (at most 8 bytes) as
 *    an unsigned big- (">") or little-endian ("<") integer, in decimal.
 *  - A variable fails, and with it the whole field (which is then empty),
 *    for a group number outside 1-9 or not below the number of groups
 *    that matched, an unknown command or bad arguments, and, as in nmap
 *    after 7.93, a group that took no part in the match (7.93 asserts).
 *    An empty "find" fails too (nmap would loop forever).
 *  - Each field has nmap's buffer size (80; info 256; os, device 32) and
 *    fails when the text does not fit under nmap's own rules: literal
 *    text may fill size-1 bytes, a substitution must end below size-1.
 *  - Trailing white space and commas are cut.
 *  - cpe: templates: substitutions are lower-cased, spaces become '_' and
 *    the characters CPE 2.2 reserves are %-escaped; the part (a, h, o)
 *    is the letter after "cpe:/" (others are ignored); each part keeps the
 *    last template's result, failed ones empty it; reported a, h, o.
 *  - Then, as nmap reports them (portlist.cc, cstringSanityCheck), every
 *    byte that is not printable ASCII becomes '.'. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svcdb_int.h"

#define VALMAX	  512 /* no field is longer: a longer value fails anyway */
#define MAXARGS	  5   /* nmap's SUBSTARGS_MAX_ARGS */
#define ARGSTRLEN 128 /* nmap's SUBSTARGS_STRLEN */
#define CPE_LEN	  80

static const size_t field_len[SVC_NFIELDS] = {80, 80, 256, 80, 32, 32};

struct args {
	int n;
	bool isstr[MAXARGS];
	long num[MAXARGS];
	char str[MAXARGS][ARGSTRLEN];
	size_t len[MAXARGS];
};

struct buf {
	char b[3 * VALMAX];
	size_t n;
	bool nul; /* a NUL was appended: the rest is cut */
};

static int put(struct buf *v, const void *p, size_t n)
{
	const char *s = p;
	for (size_t i = 0; i < n && !v->nul; i++) {
		if (!s[i]) {
			v->nul = true;
			break;
		}
		if (v->n >= VALMAX)
			return -1;
		v->b[v->n++] = s[i];
	}
	return 0;
}

/* A "..." argument at *pp (after the quote): nmap ends it at a quote not
 * preceded by a backslash (or preceded by "\\"), then unescapes it. */
static int str_arg(const char **pp, struct args *a)
{
	const char *p = *pp;
	char *d = a->str[a->n];
	size_t n = 0;

	for (p++; *p; p++) {
		if (*p == '"' && (p[-1] != '\\' || p[-2] == '\\'))
			break;
		if (n >= ARGSTRLEN - 1)
			return -1;
		d[n++] = *p;
	}
	if (*p != '"')
		return -1;
	d[n] = '\0';
	if (rs__svc_unescape(d, &a->len[a->n]))
		return -1;
	a->isstr[a->n++] = true;
	*pp = p + 1;
	return 0;
}

/* nmap's getsubstcommandargs, from after '(' to after ')'. */
static int parse_args(const char **pp, struct args *a)
{
	const char *p = *pp;
	char *end;

	memset(a, 0, sizeof(*a));
	while (*p && *p != ')') {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == ')')
			break;
		if (a->n == MAXARGS)
			return -1;
		if (*p == '"') {
			if (str_arg(&p, a))
				return -1;
		} else {
			a->num[a->n] = strtol(p, &end, 0);
			if (end <= p)
				return -1;
			a->isstr[a->n++] = false;
			p = end;
		}
		p = strpbrk(p, ",)");
		if (!p)
			return -1;
		if (*p == ',')
			p++;
	}
	if (*p == ')')
		p++;
	*pp = p;
	return a->n > 0 ? 0 : -1;
}

/* Group g of m, checked as nmap does. */
static int group(const struct rs_svcmatch *m, long g, size_t len, size_t *s, size_t *e)
{
	if (g < 1 || g > 9 || g >= m->ncap || m->cap[2 * g] == RS_SVCDB_NOCAP)
		return -1;
	*s = m->cap[2 * g];
	*e = m->cap[2 * g + 1];
	return *s <= *e && *e <= len ? 0 : -1;
}

static int cmd_subst(const struct args *a, const uint8_t *r, size_t len, size_t s, size_t e,
		     struct buf *v)
{
	const char *find = a->str[1], *repl = a->str[2];
	size_t fl = a->len[1], rl = a->len[2];

	if (!fl)
		return -1;
	for (size_t i = s; i < e;) {
		if (i + fl <= len && !memcmp(r + i, find, fl)) {
			if (put(v, repl, rl))
				return -1;
			i += fl;
		} else if (put(v, r + i++, 1)) {
			return -1;
		}
	}
	return 0;
}

static int cmd_int(const struct args *a, const uint8_t *r, size_t s, size_t e, struct buf *v)
{
	unsigned long long x = 0;
	char num[24];

	if (e - s > 8 || a->len[1] != 1 || (a->str[1][0] != '>' && a->str[1][0] != '<'))
		return -1;
	for (size_t i = 0; i < e - s; i++)
		x = x << 8 | r[a->str[1][0] == '>' ? s + i : e - 1 - i];
	int n = snprintf(num, sizeof(num), "%llu", x);
	return put(v, num, (size_t)n);
}

/* One variable at t ('$'): its value in v, *next after it. */
static int var(const char *t, const char **next, const struct rs_svcmatch *m, const uint8_t *r,
	       size_t len, struct buf *v)
{
	struct args a;
	size_t s, e;
	const char *p = t + 1, *paren;

	if (isdigit((unsigned char)*p)) {
		*next = p + 1;
		if (group(m, *p - '0', len, &s, &e))
			return -1;
		return put(v, r + s, e - s);
	}
	paren = strchr(p, '(');
	if (!paren || paren == p || paren - p >= 16)
		return -1;
	*next = paren + 1;
	if (parse_args(next, &a) || a.isstr[0] || group(m, a.num[0], len, &s, &e))
		return -1;
	if (paren - p == 1 && *p == 'P' && a.n == 1) {
		for (size_t i = s; i < e; i++)
			if (r[i] >= 0x20 && r[i] < 0x7f && put(v, r + i, 1))
				return -1;
		return 0;
	}
	if (paren - p == 5 && !strncmp(p, "SUBST", 5) && a.n == 3 && a.isstr[1] && a.isstr[2])
		return cmd_subst(&a, r, len, s, e, v);
	if (paren - p == 1 && *p == 'I' && a.n == 2 && a.isstr[1])
		return cmd_int(&a, r, s, e, v);
	return -1;
}

/* nmap's transform_cpe on the value (C locale: ASCII only). */
static void cpe_escape(struct buf *v)
{
	static const char hex[] = "0123456789ABCDEF";
	char out[sizeof(v->b)];
	size_t n = 0;

	if (!v->n)
		return;
	for (size_t i = 0; i < v->n; i++) {
		unsigned char c = (unsigned char)v->b[i];
		if (strchr(":/?#[]@!$&'()*+,;=%<>\"", c)) {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		} else if (strchr(" \t\n\v\f\r", c)) {
			out[n++] = '_';
		} else {
			out[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
	}
	memcpy(v->b, out, n);
	v->n = n;
}

/* nmap's dotmplsubst: template t into dst (room for size bytes). */
static int fill(const char *t, const struct rs_svcmatch *m, const uint8_t *r, size_t len,
		size_t size, bool cpe, char *dst)
{
	size_t d = 0;

	dst[0] = '\0';
	while (*t) {
		const char *dollar = strchr(t, '$');
		size_t lit = dollar ? (size_t)(dollar - t) : strlen(t);
		if (d + lit > size - 1)
			return -1;
		memcpy(dst + d, t, lit);
		d += lit;
		if (!dollar) {
			t += lit;
			break;
		}
		struct buf v = {.n = 0};
		if (var(dollar, &t, m, r, len, &v))
			return -1;
		if (cpe)
			cpe_escape(&v);
		if (d + v.n >= size - 1)
			return -1;
		memcpy(dst + d, v.b, v.n);
		d += v.n;
	}
	while (d > 0 && dst[d - 1] && strchr(" \t\n\v\f\r,", dst[d - 1]))
		d--;
	dst[d] = '\0';
	return 0;
}

/* nmap's replacenonprintable(s, '.') in the C locale. */
static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '.';
}

int rs_svcdb_describe(const struct rs_svcdb *db, const struct rs_svcmatch *m, const uint8_t *resp,
		      size_t len, struct rs_svcinfo *out)
{
	char *const dst[SVC_NFIELDS] = {out->product,  out->version, out->info,
					out->hostname, out->os,	     out->device};
	char part[3][CPE_LEN];
	static const char parts[] = "aho";

	memset(out, 0, sizeof(*out));
	if (!m || m->rule < 0 || (unsigned)m->rule >= db->nrules || !db->rules[m->rule].re)
		return -EINVAL;
	const struct svc_rule *r = &db->rules[m->rule];
	if (!resp)
		resp = (const uint8_t *)"";
	out->ssl = !r->soft && !strncmp(r->name, "ssl/", 4);
	snprintf(out->name, sizeof(out->name), "%s", r->name + (out->ssl ? 4 : 0));
	for (int f = 0; f < SVC_NFIELDS; f++) {
		if (r->tmpl[f] && fill(r->tmpl[f], m, resp, len, field_len[f], false, dst[f]))
			dst[f][0] = '\0';
		printable(dst[f]);
	}
	memset(part, 0, sizeof(part));
	for (unsigned i = 0; i < r->ncpe; i++) {
		const char *pp = strchr(parts, r->cpe[i][5]);
		if (!r->cpe[i][5] || !pp)
			continue; /* nmap warns and ignores an unknown part */
		char *slot = part[pp - parts];
		if (fill(r->cpe[i], m, resp, len, CPE_LEN, true, slot))
			slot[0] = '\0';
	}
	for (int k = 0; k < 3; k++)
		if (part[k][0]) {
			printable(part[k]);
			snprintf(out->cpe[out->ncpe++], sizeof(out->cpe[0]), "%s", part[k]);
		}
	return 0;
}
