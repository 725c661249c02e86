/* One match/softmatch line: service name, m<d>regex<d>[is] and the version
 * templates p/ v/ i/ h/ o/ d/ cpe:/. The grammar is nmap 7.93's
 * ServiceProbeMatch::InitMatch and next_template (service_scan.cc),
 * verified there: after the service name, each item is a word of letters
 * or ':' ("m", "p", ..., "cpe:"), then any delimiter character, the text
 * up to the next occurrence of that character, then a run of letters
 * (flags: i and s for m, ignored for the others, such as cpe's "a"). A
 * repeated p/v/i/h/o/d replaces the earlier one; cpe: may repeat and gets
 * "cpe:/" put in front. The regex is compiled with CASELESS for i and
 * DOTALL for s, nothing else (no UTF: responses are bytes). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svcdb_int.h"

struct item {
	char mode[8];
	const char *txt;
	size_t len;
	char flags[8];
};

/* nmap's next_template: 1 and *it filled, 0 at the end of the line, -1 on
 * a syntax error. */
static int next_item(const char **pp, struct item *it)
{
	const char *p = *pp, *q;
	size_t n;

	while (isspace((unsigned char)*p))
		p++;
	if (!*p)
		return 0;
	for (q = p; isalpha((unsigned char)*q) || *q == ':'; q++)
		;
	n = (size_t)(q - p);
	if (!*q || isspace((unsigned char)*q) || n >= sizeof(it->mode))
		return -1;
	memcpy(it->mode, p, n);
	it->mode[n] = '\0';
	it->txt = q + 1;
	q = strchr(it->txt, *q);
	if (!q)
		return -1;
	it->len = (size_t)(q - it->txt);
	p = q + 1;
	for (n = 0; isalpha((unsigned char)p[n]); n++)
		if (n < sizeof(it->flags) - 1)
			it->flags[n] = p[n];
	it->flags[n < sizeof(it->flags) ? n : sizeof(it->flags) - 1] = '\0';
	*pp = p + n;
	return 1;
}

/* The pattern's text and options; svcdb_compile.c compiles it. */
static int pattern(struct svc_rule *r, const struct item *it, char *why, size_t whylen)
{
	uint32_t opts = PCRE2_NEVER_UTF | PCRE2_NEVER_UCP;

	for (const char *f = it->flags; *f; f++) {
		if (*f == 'i')
			opts |= PCRE2_CASELESS;
		else if (*f == 's')
			opts |= PCRE2_DOTALL;
		else
			return snprintf(why, whylen, "illegal regexp option '%c'", *f), -EINVAL;
	}
	r->caseless = (opts & PCRE2_CASELESS) != 0;
	r->opts = opts;
	r->pat = strndup(it->txt, it->len);
	return r->pat ? 0 : -ENOMEM;
}

/* A version template: p v i h o d, or cpe: (kept as "cpe:/..."). */
static int add_template(struct svc_rule *r, const struct item *it, char *why, size_t whylen)
{
	static const char modes[SVC_NFIELDS] = {'p', 'v', 'i', 'h', 'o', 'd'};
	const char *m = memchr(modes, it->mode[0], sizeof(modes));
	char *t;

	if (!strcmp(it->mode, "cpe:")) {
		char **nc = realloc(r->cpe, (r->ncpe + 1) * sizeof(*nc));
		if (!nc)
			return -ENOMEM;
		r->cpe = nc;
		if (asprintf(&t, "cpe:/%.*s", (int)it->len, it->txt) < 0)
			return -ENOMEM;
		nc[r->ncpe++] = t;
		return 0;
	}
	if (!m || !it->mode[0] || it->mode[1])
		return snprintf(why, whylen, "unknown template specifier '%s'", it->mode), -EINVAL;
	t = strndup(it->txt, it->len);
	if (!t)
		return -ENOMEM;
	free(r->tmpl[m - modes]);
	r->tmpl[m - modes] = t;
	return 0;
}

int rs__svc_rule_parse(struct svc_rule *r, const char *line, char *why, size_t whylen)
{
	struct item it;
	int rc;

	memset(r, 0, sizeof(*r));
	if (!strncmp(line, "softmatch ", 10)) {
		r->soft = 1;
		line += 10;
	} else {
		line += 6; /* "match " */
	}
	const char *sp = strchr(line, ' ');
	if (!sp || sp == line)
		return snprintf(why, whylen, "could not find service name"), -EINVAL;
	if (sp - line >= (long)sizeof(((struct rs_svcinfo *)0)->name))
		return snprintf(why, whylen, "service name too long"), -EINVAL;
	r->name = strndup(line, (size_t)(sp - line));
	if (!r->name)
		return -ENOMEM;
	line = sp;
	rc = next_item(&line, &it);
	if (rc <= 0 || strcmp(it.mode, "m"))
		return snprintf(why, whylen, "the pattern must be m<d>regex<d>"), -EINVAL;
	rc = pattern(r, &it, why, whylen);
	while (rc == 0 && (rc = next_item(&line, &it)) > 0)
		rc = add_template(r, &it, why, whylen);
	if (rc < 0 && rc != -EINVAL && rc != -ENOMEM) {
		snprintf(why, whylen, "bad version info (want p/.../ v/.../ i/.../ cpe:/.../)");
		rc = -EINVAL;
	}
	return rc;
}

void rs__svc_rule_free(struct svc_rule *r)
{
	pcre2_code_free(r->re);
	free(r->name);
	free(r->pat);
	for (int i = 0; i < SVC_NFIELDS; i++)
		free(r->tmpl[i]);
	for (unsigned i = 0; i < r->ncpe; i++)
		free(r->cpe[i]);
	free(r->cpe);
	memset(r, 0, sizeof(*r));
}
