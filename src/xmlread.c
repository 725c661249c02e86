/* A streaming XML reader (xmlread.h): byte by byte from a stdio stream
 * (getc_unlocked: buffered, and fast enough for files of GBs), one tag in
 * memory at a time. Not a validating parser: no DTD is read, so no
 * entity but the five XML predefines and no default attribute exist. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xmlread.h"

#define NAME_MAX_LEN 256 /* bytes of one element's name */

void xml_init(struct xml_reader *x, FILE *f, unsigned long line)
{
	memset(x, 0, sizeof(*x));
	x->f = f;
	x->line = line ? line : 1;
}

void xml_free(struct xml_reader *x)
{
	free(x->buf);
	x->buf = NULL;
	x->cap = x->len = 0;
}

/* Record why (printf-style) and return err. */
__attribute__((format(printf, 3, 4))) static int fail(struct xml_reader *x, int err,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->why, sizeof(x->why), fmt, ap);
	va_end(ap);
	return err;
}

/* The next byte, or EOF; counts lines. */
static int get(struct xml_reader *x)
{
	int c = getc_unlocked(x->f);

	if (c == '\n')
		x->line++;
	return c;
}

/* EOF met: a read error, or the input ended inside what. */
static int cut(struct xml_reader *x, const char *what)
{
	if (ferror(x->f))
		return fail(x, -EIO, "read error: %s", strerror(errno));
	if (x->depth)
		return fail(x, -ENODATA, "the input ends inside %s (in <%s>): cut short?", what,
			    x->names + x->at[x->depth - 1]);
	return fail(x, -ENODATA, "the input ends inside %s: cut short?", what);
}

static bool is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

size_t xml_utf8_put(char *d, uint32_t c)
{
	if (c < 0x80) {
		d[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		d[0] = (char)(0xc0 | c >> 6);
		d[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		d[0] = (char)(0xe0 | c >> 12);
		d[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		d[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	d[0] = (char)(0xf0 | c >> 18);
	d[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	d[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	d[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* The reference between '&' and ';' (ref[0, n)) as a code point, or -1. */
static long ref_char(const char *ref, size_t n)
{
	static const struct {
		const char *name;
		char c;
	} named[] = {{"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"apos", '\''}, {"quot", '"'}};
	unsigned long cp = 0;
	size_t i = 1;
	int base = 10;

	for (size_t k = 0; k < sizeof(named) / sizeof(named[0]); k++)
		if (strlen(named[k].name) == n && !memcmp(ref, named[k].name, n))
			return named[k].c;
	if (n < 2 || ref[0] != '#')
		return -1;
	if (ref[1] == 'x')
		base = 16, i = 2;
	if (i == n || n - i > 8)
		return -1;
	for (; i < n; i++) {
		int c = (unsigned char)ref[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return -1;
		cp = cp * (unsigned long)base + (unsigned long)d;
	}
	/* XML's Char: tab, LF, CR, and from space on, less the surrogates,
	 * U+FFFE and U+FFFF. */
	if ((cp < 0x20 && cp != 9 && cp != 10 && cp != 13) || (cp >= 0xd800 && cp <= 0xdfff) ||
	    cp == 0xfffe || cp == 0xffff || cp > 0x10ffff)
		return -1;
	return (long)cp;
}

int xml_unescape(char *s, size_t *len, const char **why)
{
	size_t n = *len, i = 0, o = 0;

	while (i < n) {
		if (s[i] != '&') {
			s[o++] = s[i++];
			continue;
		}
		const char *semi = memchr(s + i + 1, ';', n - i - 1 < 12 ? n - i - 1 : 12);
		if (!semi) {
			*why = "a '&' that begins no entity (write &amp;)";
			return -EINVAL;
		}
		long cp = ref_char(s + i + 1, (size_t)(semi - (s + i + 1)));
		if (cp < 0) {
			*why = "an unknown entity or a character XML does not allow";
			return -EINVAL;
		}
		o += xml_utf8_put(s + o, (uint32_t)cp); /* never longer than "&#..;" */
		i = (size_t)(semi - s) + 1;
	}
	s[o] = 0;
	*len = o;
	return 0;
}

/* A byte that may be in a name (a loose reading of XML's NameChar). */
static bool name_char(int c)
{
	return c && !is_space(c) && !strchr("=/<>\"'&!?;", c);
}

/* The name at s[*i, n): NUL-terminates nothing, returns its length. */
static size_t name_len(const char *s, size_t i, size_t n)
{
	size_t k = i;

	if (k < n && ((s[k] >= '0' && s[k] <= '9') || s[k] == '-' || s[k] == '.'))
		return 0;
	while (k < n && name_char((unsigned char)s[k]))
		k++;
	return k - i;
}

/* One attribute at s[*i, n) into a (name="value"); *i moves past it. */
static int parse_attr(char *s, size_t *i, size_t n, struct xml_attr *a, const char **why)
{
	size_t k = *i, nl = name_len(s, k, n);
	char q, *end;

	*why = "an attribute that is not name=\"value\"";
	if (!nl)
		return -EINVAL;
	a->name = s + k;
	k += nl;
	while (k < n && is_space(s[k]))
		k++;
	if (k >= n || s[k] != '=')
		return -EINVAL;
	s[a->name + nl - s] = 0; /* after the '=' was seen: it may be that byte */
	for (k++; k < n && is_space(s[k]); k++)
		;
	if (k >= n || (s[k] != '"' && s[k] != '\''))
		return -EINVAL;
	q = s[k++];
	if (!(end = memchr(s + k, q, n - k))) {
		*why = "an attribute value without its closing quote";
		return -EINVAL;
	}
	a->len = (size_t)(end - (s + k));
	a->value = s + k;
	for (char *p = s + k; p < end; p++)
		if (*p == '<') {
			*why = "'<' in an attribute value (write &lt;)";
			return -EINVAL;
		} else if (is_space(*p)) {
			*p = ' '; /* attribute-value normalisation */
		}
	*i = (size_t)(end - s) + 1;
	return xml_unescape(s + k, &a->len, why); /* overwrites the quote: done with it */
}

int xml_parse_tag(char *s, size_t len, struct xml_tag *t, const char **why)
{
	size_t i = name_len(s, 0, len);

	memset(t, 0, sizeof(*t));
	if (!i) {
		*why = "a tag without a name";
		return -EINVAL;
	}
	t->name = s;
	while (i < len) {
		size_t ws = i;
		while (i < len && is_space(s[i]))
			i++;
		s[ws] = 0; /* ends the name or the last value */
		if (i == len)
			break;
		if (i == ws) {
			*why = "attributes not separated by whitespace";
			return -EINVAL;
		}
		if (t->nattr == XML_ATTRS_MAX) {
			*why = "too many attributes";
			return -E2BIG;
		}
		struct xml_attr *a = &t->attr[t->nattr];
		int ret = parse_attr(s, &i, len, a, why);
		if (ret)
			return ret;
		for (unsigned k = 0; k < t->nattr; k++)
			if (!strcmp(t->attr[k].name, a->name)) {
				*why = "an attribute given twice";
				return -EINVAL;
			}
		t->nattr++;
	}
	s[len] = 0;
	return 0;
}

const char *xml_attr(const struct xml_tag *t, const char *name, size_t *len)
{
	for (unsigned k = 0; k < t->nattr; k++)
		if (!strcmp(t->attr[k].name, name)) {
			if (len)
				*len = t->attr[k].len;
			return t->attr[k].value;
		}
	return NULL;
}

/* Skip to the end of term (a comment's "-->", a PI's "?>", CDATA's "]]>"). */
static int skip_until(struct xml_reader *x, const char *term, const char *what)
{
	size_t n = strlen(term);
	char win[4] = {0};
	int c;

	while ((c = get(x)) != EOF) {
		if (!c)
			return fail(x, -EINVAL, "a NUL byte in %s", what);
		memmove(win, win + 1, n - 1);
		win[n - 1] = (char)c;
		if (!memcmp(win, term, n))
			return 0;
	}
	return cut(x, what);
}

/* Skip a DOCTYPE (after "<!DOCTYPE"): to its '>', past quoted strings and
 * an internal subset in [...] (whose '>'s are not the end). */
static int skip_doctype(struct xml_reader *x)
{
	int c, q = 0, depth = 0;

	if (x->seen_root)
		return fail(x, -EINVAL, "a DOCTYPE after the root element");
	while ((c = get(x)) != EOF) {
		if (q) {
			q = c == q ? 0 : q;
		} else if (c == '"' || c == '\'') {
			q = c;
		} else if (c == '[') {
			depth++;
		} else if (c == ']') {
			depth--;
		} else if (c == '>' && depth <= 0) {
			return 0;
		}
	}
	return cut(x, "the DOCTYPE");
}

/* After "<!": a comment, CDATA or the DOCTYPE, skipped. */
static int skip_bang(struct xml_reader *x)
{
	static const char *const kinds[] = {"--", "[CDATA[", "DOCTYPE"};
	char got[8] = {0};
	size_t n = 0;

	for (;;) {
		int c = get(x);
		if (c == EOF)
			return cut(x, "a '<!' declaration");
		got[n++] = (char)c;
		for (int k = 0; k < 3; k++)
			if (n == strlen(kinds[k]) && !memcmp(got, kinds[k], n)) {
				if (k == 0)
					return skip_until(x, "-->", "a comment");
				if (k == 2)
					return skip_doctype(x);
				if (!x->depth)
					return fail(x, -EINVAL, "CDATA outside the root element");
				return skip_until(x, "]]>", "a CDATA section");
			}
		if (n == 7)
			return fail(x, -EINVAL, "'<!' that begins no comment, CDATA or DOCTYPE");
	}
}

/* Text up to the next '<' (consumed; returns 0) or EOF (returns 1):
 * whitespace only outside the root, entities well-formed. */
static int skip_text(struct xml_reader *x)
{
	char ref[16];
	int c;

	while ((c = get(x)) != EOF && c != '<') {
		if (!c)
			return fail(x, -EINVAL, "a NUL byte");
		if (!x->depth && !is_space(c))
			return fail(x, -EINVAL, "text outside the root element");
		if (c == '&') {
			size_t n = 0;
			const char *why;
			ref[n++] = '&';
			while (n < sizeof(ref) - 1 && (c = get(x)) != EOF && c != ';' && c != '<')
				ref[n++] = (char)c;
			if (c == ';')
				ref[n++] = ';';
			if (xml_unescape(ref, &n, &why))
				return fail(x, -EINVAL, "%s", why);
		}
		if (c == '<')
			return 0;
	}
	if (c == EOF)
		return ferror(x->f) ? cut(x, "text") : 1;
	return 0;
}

/* Append c to the tag buffer. */
static int buf_put(struct xml_reader *x, int c)
{
	if (x->len + 2 > x->cap) {
		if (x->cap > XML_TAG_MAX)
			return fail(x, -E2BIG, "a tag longer than %u bytes", XML_TAG_MAX);
		size_t cap = x->cap ? x->cap * 2 : 4096;
		if (cap > XML_TAG_MAX + 2)
			cap = XML_TAG_MAX + 2;
		char *p = realloc(x->buf, cap);
		if (!p)
			return fail(x, -ENOMEM, "out of memory");
		x->buf = p;
		x->cap = cap;
	}
	x->buf[x->len++] = (char)c;
	return 0;
}

/* A tag's bytes after '<' up to its '>' (not kept), into x->buf. */
static int read_tag(struct xml_reader *x)
{
	int c, q = 0, ret;

	x->len = 0;
	while ((c = get(x)) != EOF) {
		if (!c)
			return fail(x, -EINVAL, "a NUL byte in a tag");
		if (q)
			q = c == q ? 0 : q;
		else if (c == '"' || c == '\'')
			q = c;
		else if (c == '>')
			break;
		else if (c == '<')
			return fail(x, -EINVAL, "'<' inside a tag");
		if ((ret = buf_put(x, c)))
			return ret;
	}
	if (c == EOF)
		return cut(x, "a tag");
	if ((ret = buf_put(x, 0)))
		return ret;
	x->len--; /* the NUL is not the tag's */
	return 0;
}

/* Open the element just read (x->tag.name): its name onto the stack. */
static int push(struct xml_reader *x)
{
	size_t n = strlen(x->tag.name), at = x->depth ? x->at[x->depth - 1] : 0;

	if (x->depth)
		at += strlen(x->names + at) + 1;
	if (!x->depth && x->seen_root)
		return fail(x, -EINVAL, "a second root element <%.40s>", x->tag.name);
	if (x->depth == XML_DEPTH_MAX || n > NAME_MAX_LEN || at + n + 1 > XML_NAMES_MAX)
		return fail(x, -E2BIG, "elements nested too deep or names too long");
	memcpy(x->names + at, x->tag.name, n + 1);
	x->at[x->depth++] = at;
	x->seen_root = true;
	return 0;
}

/* An end tag (after "</"): it must close the innermost open element. */
static int end_tag(struct xml_reader *x)
{
	int ret = read_tag(x);
	size_t n;

	if (ret)
		return ret;
	for (n = x->len; n && is_space(x->buf[n - 1]); n--)
		;
	x->buf[n] = 0;
	if (!x->depth)
		return fail(x, -EINVAL, "</%.40s> closes nothing", x->buf);
	const char *open = x->names + x->at[x->depth - 1];
	if (strcmp(open, x->buf))
		return fail(x, -EINVAL, "</%.40s> closes <%.40s>", x->buf, open);
	x->tag.name = open; /* stays there until the next push */
	x->tag.nattr = 0;
	x->tag.empty = false;
	x->depth--;
	return XML_END;
}

/* A start tag (its first byte c read): parsed and pushed. */
static int start_tag(struct xml_reader *x, int c)
{
	const char *why;
	int ret;

	if (ungetc(c, x->f) == EOF)
		return fail(x, -EIO, "read error");
	if (c == '\n')
		x->line--; /* get() counts it again */
	if ((ret = read_tag(x)))
		return ret;
	bool empty = x->len && x->buf[x->len - 1] == '/';
	if ((ret = xml_parse_tag(x->buf, x->len - empty, &x->tag, &why)))
		return fail(x, ret, "<%.40s>: %s", x->buf, why);
	x->tag.empty = empty;
	if ((ret = push(x)))
		return ret;
	x->pending_end = empty;
	return XML_START;
}

/* A byte-order mark at the start (EF BB BF) is skipped. */
static int skip_bom(struct xml_reader *x)
{
	int c = getc_unlocked(x->f);

	if (c != 0xef)
		return c == EOF || ungetc(c, x->f) != EOF ? 0 : fail(x, -EIO, "read error");
	if (getc_unlocked(x->f) != 0xbb || getc_unlocked(x->f) != 0xbf)
		return fail(x, -EINVAL, "not UTF-8 (a broken byte-order mark)");
	return 0;
}

int xml_next(struct xml_reader *x)
{
	int ret, c;

	if (x->pending_end) {
		x->pending_end = false;
		x->tag.name = x->names + x->at[--x->depth];
		x->tag.nattr = 0;
		return XML_END;
	}
	if (!x->started) {
		x->started = true;
		if ((ret = skip_bom(x)))
			return ret;
	}
	for (;;) {
		if ((ret = skip_text(x)) < 0)
			return ret;
		if (ret == 1) {
			if (!x->seen_root)
				return fail(x, -ENODATA, "no root element: empty or cut short?");
			return x->depth ? cut(x, "an element") : XML_EOF;
		}
		if ((c = get(x)) == EOF)
			return cut(x, "a tag");
		if (c == '?')
			ret = skip_until(x, "?>", "a processing instruction");
		else if (c == '!')
			ret = skip_bang(x);
		else if (c == '/')
			return end_tag(x);
		else
			return start_tag(x, c);
		if (ret)
			return ret;
	}
}
