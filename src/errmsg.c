/* Messages on stderr. The format strings are ours, the arguments are the
 * user's (file names, option values, targets): escaping the whole message
 * keeps every refusal on one line, as DESIGN.md's invariant 7 wants. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "errmsg.h"

/* The escape for byte ch (and, for a C1 control's lead byte 0xc2, the
 * next byte in next) into e; returns its length, 1 when ch stands as is. */
static size_t escape_one(unsigned char ch, unsigned char next, char *e)
{
	static const char hex[] = "0123456789abcdef";
	static const char named[] = {['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't', [27] = 'e'};

	if (ch < sizeof(named) && named[ch]) {
		e[0] = '\\';
		e[1] = named[ch];
		return 2;
	}
	if (ch < 0x20 || ch == 0x7f) {
		memcpy(e, "\\x", 2);
		e[2] = hex[ch >> 4];
		e[3] = hex[ch & 15];
		return 4;
	}
	if (ch == 0xc2 && next >= 0x80 && next <= 0x9f) { /* U+0080-U+009F */
		memcpy(e, "\\u00", 4);
		e[4] = hex[next >> 4];
		e[5] = hex[next & 15];
		return 6;
	}
	e[0] = (char)ch;
	return 1;
}

char *rs_escape(const char *in, char *out, size_t size)
{
	size_t n = 0;
	char e[8];

	for (; *in; in++) {
		size_t k = escape_one((unsigned char)in[0], (unsigned char)in[1], e);
		if (n + k >= size)
			break;
		memcpy(out + n, e, k);
		n += k;
		in += k == 6; /* a C1 control is two bytes */
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
