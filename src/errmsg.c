/* Messages on stderr. The format strings are ours, the arguments are the
 * user's (file names, option values, targets): escaping the whole message
 * keeps every refusal on one line, as DESIGN.md's invariant 7 wants. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "errmsg.h"

/* Code points that print as nothing or as a plain space, so that a
 * refused '127.0.0.1<U+200B>' would look like a good one: no-break and
 * other spaces, joiners, direction marks, variation selectors, BOM. */
static int invisible(unsigned c)
{
	return c == 0xa0 || c == 0xad || c == 0x34f || c == 0x61c || (c >= 0x115f && c <= 0x1160) ||
	       (c >= 0x17b4 && c <= 0x17b5) || (c >= 0x180b && c <= 0x180f) ||
	       (c >= 0x2000 && c <= 0x200f) || (c >= 0x2028 && c <= 0x202f) ||
	       (c >= 0x205f && c <= 0x206f) || c == 0x3000 || c == 0x3164 ||
	       (c >= 0xfe00 && c <= 0xfe0f) || c == 0xfeff || c == 0xffa0 ||
	       (c >= 0xfff9 && c <= 0xfffb);
}

/* The UTF-8 sequence at p (2 or 3 bytes, well formed), as its code point
 * in *c; returns its length, 0 for anything else. */
static size_t utf8_at(const unsigned char *p, unsigned *c)
{
	if (p[0] >= 0xc2 && p[0] <= 0xdf && (p[1] & 0xc0) == 0x80) {
		*c = (p[0] & 0x1fu) << 6 | (p[1] & 0x3fu);
		return 2;
	}
	if ((p[0] & 0xf0) == 0xe0 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80) {
		*c = (p[0] & 0x0fu) << 12 | (p[1] & 0x3fu) << 6 | (p[2] & 0x3fu);
		return *c >= 0x800 ? 3 : 0;
	}
	return 0;
}

/* The escape of what starts at p into e (up to 7 bytes); *used gets the
 * bytes of p it stands for. Control characters (C0, DEL, C1) and
 * invisible ones are escaped, the rest stands as is. */
static size_t escape_one(const unsigned char *p, size_t *used, char *e)
{
	static const char hex[] = "0123456789abcdef";
	static const char named[] = {['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't', [27] = 'e'};
	unsigned c;

	*used = 1;
	if (p[0] < sizeof(named) && named[p[0]]) {
		e[0] = '\\';
		e[1] = named[p[0]];
		return 2;
	}
	if (p[0] < 0x20 || p[0] == 0x7f) {
		memcpy(e, "\\x", 2);
		e[2] = hex[p[0] >> 4];
		e[3] = hex[p[0] & 15];
		return 4;
	}
	size_t n = p[0] >= 0x80 ? utf8_at(p, &c) : 0;
	if (n && ((c >= 0x80 && c <= 0x9f) || invisible(c))) {
		*used = n;
		memcpy(e, "\\u", 2);
		for (int i = 0; i < 4; i++)
			e[2 + i] = hex[c >> (12 - 4 * i) & 15];
		return 6;
	}
	e[0] = (char)p[0];
	return 1;
}

char *rs_escape(const char *in, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t n = 0, used;
	char e[8];

	while (*p) {
		size_t k = escape_one(p, &used, e);
		if (n + k >= size)
			break;
		memcpy(out + n, e, k);
		n += k;
		p += used;
	}
	out[n] = 0;
	return out;
}

void rs_verrorf(const char *fmt, va_list ap)
{
	char raw[4096], line[4096 + 16];
	size_t n;

	vsnprintf(raw, sizeof(raw), fmt, ap);
	memcpy(line, "ringscan: ", 10);
	rs_escape(raw, line + 10, sizeof(line) - 11);
	n = strlen(line);
	line[n++] = '\n';
	/* One write: messages of concurrent processes do not interleave. */
	if (write(STDERR_FILENO, line, n) < 0)
		return; /* nowhere left to say it */
}

void rs_errorf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rs_verrorf(fmt, ap);
	va_end(ap);
}
