/* Messages on stderr. The format strings are ours, the arguments are the
 * user's (file names, option values, targets): escaping the whole message
 * keeps every refusal on one line, as DESIGN.md's invariant 7 wants. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "errmsg.h"

char *rs_escape(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (; *in; in++) {
		unsigned char ch = (unsigned char)*in;
		char e = ch == '\n'   ? 'n'
			 : ch == '\r' ? 'r'
			 : ch == '\t' ? 't'
			 : ch == 27   ? 'e'
				      : 0;
		size_t need = e ? 2 : ch < 0x20 || ch == 0x7f ? 4 : 1;
		if (n + need >= size)
			break;
		if (e) {
			out[n++] = '\\';
			out[n++] = e;
		} else if (need == 4) {
			out[n++] = '\\';
			out[n++] = 'x';
			out[n++] = hex[ch >> 4];
			out[n++] = hex[ch & 15];
		} else {
			out[n++] = (char)ch;
		}
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
