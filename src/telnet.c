/* Telnet option negotiation (see ringscan/telnet.h). */
#include <string.h>

#include "ringscan/telnet.h"

enum { SE = 240, SB = 250, WILL = 251, WONT = 252, DO = 253, DONT = 254, IAC = 255 };

/* Parser states: in data, after IAC, after IAC verb, in a subnegotiation,
 * after IAC within one. */
enum { T_DATA, T_IAC, T_VERB_WILL, T_VERB_WONT, T_VERB_DO, T_VERB_DONT, T_SB, T_SB_IAC };

static void set(uint8_t m[32], uint8_t opt)
{
	m[opt >> 3] |= (uint8_t)(1u << (opt & 7));
}

/* The refusal of a WILL or DO, unless this option was refused before. */
static size_t refuse(struct rs_telnet *t, uint8_t verb, uint8_t opt, uint8_t *r, size_t room)
{
	if (rs_telnet_has(t->ans, opt) || room < 3)
		return 0;
	set(t->ans, opt);
	r[0] = IAC;
	r[1] = verb == WILL ? DONT : WONT;
	r[2] = opt;
	return 3;
}

/* One byte after IAC verb: the option. */
static size_t option(struct rs_telnet *t, uint8_t opt, uint8_t *r, size_t room)
{
	size_t k = 0;

	t->cmds++;
	if (t->st == T_VERB_WILL) {
		set(t->will, opt);
		k = refuse(t, WILL, opt, r, room);
	} else if (t->st == T_VERB_DO) {
		set(t->do_, opt);
		k = refuse(t, DO, opt, r, room);
	}
	t->st = T_DATA;
	return k;
}

/* One byte of input: returns the reply bytes written; *text says whether
 * the byte is data (outside commands, or IAC IAC's second byte). */
static size_t step(struct rs_telnet *t, uint8_t c, uint8_t *r, size_t room, bool *text)
{
	*text = false;
	switch (t->st) {
	case T_DATA:
		if (c == IAC)
			t->st = T_IAC;
		else
			*text = true;
		return 0;
	case T_IAC:
		t->st = c == WILL   ? T_VERB_WILL
			: c == WONT ? T_VERB_WONT
			: c == DO   ? T_VERB_DO
			: c == DONT ? T_VERB_DONT
			: c == SB   ? T_SB
				    : T_DATA;
		if (c == IAC)
			*text = true; /* an escaped 255 */
		else if (t->st == T_DATA)
			t->cmds++; /* a two-byte command (NOP, GA, ...) */
		return 0;
	case T_SB:
		if (c == IAC)
			t->st = T_SB_IAC;
		return 0;
	case T_SB_IAC:
		t->st = c == SE ? T_DATA : T_SB;
		t->cmds += c == SE;
		return 0;
	default:
		return option(t, c, r, room);
	}
}

size_t rs_telnet_feed(struct rs_telnet *t, const uint8_t *in, size_t n, uint8_t *reply, size_t cap)
{
	size_t k = 0;
	bool text;

	for (; t->pos < n; t->pos++) {
		k += step(t, in[t->pos], reply + k, cap - k, &text);
		t->text += text;
	}
	return k;
}

bool rs_telnet_is(const uint8_t *in, size_t n)
{
	return n >= 2 && in[0] == IAC && in[1] >= SB && in[1] <= DONT;
}

size_t rs_telnet_text(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	struct rs_telnet t;
	uint8_t none[3];
	size_t k = 0;
	bool text;

	memset(&t, 0, sizeof(t));
	memset(t.ans, 0xff, sizeof(t.ans)); /* nothing to refuse here */
	for (size_t i = 0; i < n && k < cap; i++) {
		step(&t, in[i], none, sizeof(none), &text);
		if (text && in[i])
			out[k++] = in[i];
	}
	return k;
}

const char *rs_telnet_opt_name(uint8_t opt)
{
	/* IANA's telnet options registry. */
	static const char *const names[] = {
		[0] = "binary",
		[1] = "echo",
		[2] = "reconnection",
		[3] = "suppress-go-ahead",
		[4] = "approx-message-size",
		[5] = "status",
		[6] = "timing-mark",
		[7] = "rcte",
		[8] = "output-line-width",
		[9] = "output-page-size",
		[10] = "output-cr-disposition",
		[11] = "output-htab-stops",
		[12] = "output-htab-disposition",
		[13] = "output-ff-disposition",
		[14] = "output-vtab-stops",
		[15] = "output-vtab-disposition",
		[16] = "output-lf-disposition",
		[17] = "extended-ascii",
		[18] = "logout",
		[19] = "byte-macro",
		[20] = "data-entry-terminal",
		[21] = "supdup",
		[22] = "supdup-output",
		[23] = "send-location",
		[24] = "terminal-type",
		[25] = "end-of-record",
		[26] = "tacacs-user-id",
		[27] = "output-marking",
		[28] = "terminal-location-number",
		[29] = "telnet-3270-regime",
		[30] = "x3-pad",
		[31] = "naws",
		[32] = "terminal-speed",
		[33] = "toggle-flow-control",
		[34] = "linemode",
		[35] = "x-display-location",
		[36] = "environment",
		[37] = "authentication",
		[38] = "encryption",
		[39] = "new-environment",
		[40] = "tn3270e",
		[41] = "xauth",
		[42] = "charset",
		[43] = "rsp",
		[44] = "com-port-option",
		[45] = "suppress-local-echo",
		[46] = "start-tls",
		[47] = "kermit",
		[48] = "send-url",
		[49] = "forward-x",
		[138] = "tele-opt",
		[139] = "forward-x-server",
		[140] = "tele-pres",
		[255] = "extended-options-list",
	};
	return names[opt]; /* 256 entries: [255] is the last */
}
