/* Messages on stderr: one line each, whatever the user typed. */
#ifndef RS_ERRMSG_H
#define RS_ERRMSG_H

#include <stdarg.h>
#include <stddef.h>

/* Copy in to out (size > 0) with every control character escaped (\n,
 * \r, \t, \e, \xNN; C1 controls as \u0080-\u009f), so that no argument can split a message or drive
 * a terminal. Truncated to fit; returns out. */
char *rs_escape(const char *in, char *out, size_t size);

/* "ringscan: " + the formatted message, escaped, + "\n", in one write. */
void rs_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rs_verrorf(const char *fmt, va_list ap);

#endif
