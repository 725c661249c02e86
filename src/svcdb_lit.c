/* The literals a regex's every match must contain, read from its text, for
 * the prefilter (svcdb_prefilter.c). Only the pattern's top level is read:
 * a run of literal characters there, none of them optional, is in every
 * match; groups, classes, '.', and escapes such as \d end a run; a
 * quantifier that allows zero drops its character, one that allows more
 * keeps it once and ends the run. A top-level '|', a back reference, \Q,
 * (*VERB) or an (?x) option makes the whole pattern unreadable: no
 * literal, no prefix (conservative: the rule is then always tried). The
 * syntax is PCRE2's (pcre2pattern(3)): \0 takes up to two more octal
 * digits, \x up to two hex digits or \x{...}, '{' is literal unless it
 * forms {n}, {n,} or {n,m}.
 *
 * Caseless rules end a run at bytes >= 0x80 (the prefilter folds ASCII
 * only). The anchored prefix is the first run when the pattern starts
 * with '^' and that run starts right after it. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "svcdb_int.h"

enum atom { A_LIT, A_BREAK, A_ABORT };

struct lx {
	const char *p;
	struct svc_litset *out;
	bool caseless;
	uint32_t start; /* of the current run in out->buf */
	bool pfx_open;	/* the current run is the anchored prefix */
};

static void end_run(struct lx *x)
{
	struct svc_litset *o = x->out;
	uint32_t len = o->used - x->start;

	if (len && x->pfx_open) {
		o->npfx = len < SVC_PFXMAX ? len : SVC_PFXMAX;
		memcpy(o->pfx, o->buf + x->start, o->npfx);
	}
	x->pfx_open = false;
	if (len && o->nrun < sizeof(o->run) / sizeof(o->run[0]))
		o->run[o->nrun++] = (struct svc_lit){o->buf + x->start, len};
	x->start = o->used;
}

/* {n}, {n,}, {n,m} at p: its length and minimum, or 0 if '{' is literal. */
static size_t brace_quant(const char *p, unsigned *min)
{
	const char *q = p + 1;
	if (!isdigit((unsigned char)*q))
		return 0;
	*min = 0;
	for (; isdigit((unsigned char)*q); q++)
		if (*min < 65536)
			*min = *min * 10 + (unsigned)(*q - '0');
	if (*q == ',')
		for (q++; isdigit((unsigned char)*q); q++)
			;
	return *q == '}' ? (size_t)(q + 1 - p) : 0;
}

/* Consume a quantifier after an atom: 0 none, 1 may repeat (min >= 1),
 * 2 optional (min 0). */
static int quant(struct lx *x)
{
	unsigned min = 1;
	size_t n = 0;
	int kind = 0;

	if (*x->p == '?' || *x->p == '*')
		kind = 2, n = 1;
	else if (*x->p == '+')
		kind = 1, n = 1;
	else if (*x->p == '{' && (n = brace_quant(x->p, &min)))
		kind = min ? 1 : 2;
	x->p += n;
	if (kind && (*x->p == '?' || *x->p == '+'))
		x->p++; /* lazy or possessive */
	return kind;
}

/* Skip a character class starting at '['. */
static int skip_class(struct lx *x)
{
	const char *p = x->p + 1;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	for (; *p && *p != ']'; p++) {
		if (*p == '\\') {
			if (p[1] == 'Q' || !p[1])
				return -1;
			p++;
		} else if (*p == '[' && p[1] == ':') {
			const char *e = strstr(p + 2, ":]");
			if (!e)
				return -1;
			p = e + 1;
		}
	}
	if (*p != ']')
		return -1;
	x->p = p + 1;
	return 0;
}

/* Skip a group starting at '(' (nested groups, classes, escapes). */
static int skip_group(struct lx *x)
{
	int depth = 0;

	while (*x->p) {
		const char *p = x->p;
		if (p[0] == '(' && p[1] == '?' && p[2] == '#') {
			const char *e = strchr(p, ')');
			if (!e)
				return -1;
			x->p = e + 1;
			if (depth == 0)
				return 0;
			continue;
		}
		if (*p == '\\') {
			if (p[1] == 'Q' || !p[1])
				return -1;
			x->p += 2;
		} else if (*p == '[') {
			if (skip_class(x))
				return -1;
		} else {
			depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
			x->p++;
			if (depth == 0)
				return 0;
		}
	}
	return -1;
}

/* A top-level "(?opts)" or "(?opts:": 'x' changes how literals read
 * (refused); 'i' makes what follows caseless. */
static bool group_ok(struct lx *x)
{
	const char *p = x->p;
	bool on = true;

	if (p[1] != '?')
		return true;
	for (p += 2; isalpha((unsigned char)*p) || *p == '-' || *p == '^'; p++) {
		if (*p == 'x')
			return false;
		if (*p == '-')
			on = false;
		if (*p == 'i' && on)
			x->caseless = true;
	}
	return true;
}

/* An escape after '\': a literal byte in *c, a break, or abort. */
static enum atom escape(struct lx *x, uint8_t *c)
{
	const char *p = x->p + 1;
	const char *e;
	unsigned v = 0;

	x->p = p + 1;
	if (*p == '0') {
		for (int i = 0; i < 2 && *x->p >= '0' && *x->p <= '7'; i++)
			v = v * 8 + (unsigned)(*x->p++ - '0');
		*c = (uint8_t)v;
		return A_LIT;
	}
	if (*p == 'x') {
		if (*x->p == '{') {
			e = x->p + 1;
			for (; isxdigit((unsigned char)*e) && v < 0x100; e++)
				v = v * 16 + (unsigned)(isdigit((unsigned char)*e)
								? *e - '0'
								: (*e | 32) - 'a' + 10);
			if (*e != '}' || e == x->p + 1 || v > 0xff)
				return A_ABORT;
			x->p = e + 1;
		} else {
			for (int i = 0; i < 2 && isxdigit((unsigned char)*x->p); i++, x->p++)
				v = v * 16 + (unsigned)(isdigit((unsigned char)*x->p)
								? *x->p - '0'
								: (*x->p | 32) - 'a' + 10);
		}
		*c = (uint8_t)v;
		return A_LIT;
	}
	static const char ctl[] = "n\nr\rt\tf\fe\033a\a";
	if (*p && (e = strchr(ctl, *p)) && (e - ctl) % 2 == 0) {
		*c = (uint8_t)e[1];
		return A_LIT;
	}
	if (*p && strchr("dDwWsShHvVRNXCbBAZzGK", *p))
		return A_BREAK;
	if (*p >= '1' && *p <= '9' && !isdigit((unsigned char)p[1]))
		return A_BREAK; /* \1-\9 alone are always back references */
	if (!*p || isalnum((unsigned char)*p))
		return A_ABORT; /* back references, \c, \g, \k, \p, \Q, \E, \o ... */
	*c = (uint8_t)*p;
	return A_LIT;
}

/* One top-level atom at x->p. */
static enum atom atom(struct lx *x, uint8_t *c)
{
	const char *p = x->p;
	unsigned min;

	switch (*p) {
	case '|':
	case ')':
	case '*':
	case '+':
	case '?':
		return A_ABORT;
	case '(':
		if (!group_ok(x) || skip_group(x))
			return A_ABORT;
		return A_BREAK;
	case '[':
		return skip_class(x) ? A_ABORT : A_BREAK;
	case '.':
	case '^':
	case '$':
		x->p++;
		return A_BREAK;
	case '\\':
		return escape(x, c);
	case '{':
		if (brace_quant(p, &min))
			return A_ABORT;
		break;
	default:
		break;
	}
	*c = (uint8_t)*p;
	x->p++;
	return A_LIT;
}

bool rs__svc_anchored(const char *pat)
{
	struct svc_litset dummy;
	struct lx x = {.p = pat + 1, .out = &dummy};

	if (*pat != '^')
		return false;
	while (*x.p) {
		if (*x.p == '|')
			return false;
		if (*x.p == '\\') {
			if (x.p[1] == 'Q' || !x.p[1])
				return false;
			x.p += 2;
		} else if (*x.p == '(') {
			if (skip_group(&x))
				return false;
		} else if (*x.p == '[') {
			if (skip_class(&x))
				return false;
		} else {
			x.p++;
		}
	}
	return true;
}

int rs__svc_literals(const char *pat, bool caseless, struct svc_litset *out)
{
	struct lx x = {.p = pat, .out = out, .caseless = caseless};
	uint8_t c = 0;

	out->used = 0;
	out->nrun = 0;
	out->npfx = 0;
	if (strstr(pat, "(*"))
		return 0; /* verbs such as (*ACCEPT) end a match early */
	if (*x.p == '^') {
		x.p++;
		x.pfx_open = true;
	}
	while (*x.p) {
		enum atom a = atom(&x, &c);
		if (a == A_ABORT) {
			out->nrun = 0;
			out->npfx = 0;
			return 0;
		}
		int q = quant(&x);
		if (a == A_BREAK || q == 2 || (x.caseless && c >= 0x80)) {
			end_run(&x);
			x.pfx_open = false;
			continue;
		}
		if (out->used == sizeof(out->buf)) {
			end_run(&x);
			x.pfx_open = false;
			continue;
		}
		out->buf[out->used++] = c;
		if (q == 1) {
			end_run(&x);
			x.pfx_open = false;
		}
	}
	end_run(&x);
	return (int)out->nrun;
}
