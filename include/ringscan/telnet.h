/* Telnet recognition from its option negotiation (RFC 854/855): a parser
 * that walks what the server sends, records the options it offers (WILL)
 * and asks for (DO), and writes the refusal of each new request (DONT to
 * WILL, WONT to DO) so that the server goes on to its banner or login
 * prompt. Pure: bytes in, reply bytes out; state carries across calls. */
#ifndef RINGSCAN_TELNET_H
#define RINGSCAN_TELNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RS_TELNET_IAC 255

struct rs_telnet {
	uint8_t will[32]; /* bitmaps: options the server said WILL ... */
	uint8_t do_[32];  /* ... and DO */
	uint8_t ans[32];  /* options already refused (once each: RFC 854's loop rule) */
	uint32_t pos;	  /* bytes of input consumed */
	uint32_t cmds;	  /* negotiation commands seen */
	uint32_t text;	  /* bytes outside commands */
	uint8_t st;	  /* parser state between calls */
};

/* Consume in[t->pos, n), the bytes received so far, and append to reply
 * (room for cap bytes) the refusals the new requests call for. Returns the
 * reply's length; a refusal that does not fit is dropped (cap 3 x the
 * commands in a read is always enough). */
size_t rs_telnet_feed(struct rs_telnet *t, const uint8_t *in, size_t n, uint8_t *reply, size_t cap);

/* Does it speak telnet: its first bytes are a negotiation command? */
bool rs_telnet_is(const uint8_t *in, size_t n);

/* The bytes of in[0, n) outside negotiation commands, NULs dropped, into
 * out (cap bytes at most). Returns the length. */
size_t rs_telnet_text(const uint8_t *in, size_t n, uint8_t *out, size_t cap);

/* The option's name (RFC 1700's and later ones: "echo", "suppress-go-ahead",
 * "terminal-type", ...), or NULL for one without a name. */
const char *rs_telnet_opt_name(uint8_t opt);

/* Is option opt set in bitmap m? */
static inline bool rs_telnet_has(const uint8_t m[32], uint8_t opt)
{
	return m[opt >> 3] & (1u << (opt & 7));
}

#endif
