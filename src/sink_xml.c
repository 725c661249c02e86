/* nmap XML (-f xml): what `nmap -sT -oX` writes, valid against nmap's DTD
 * (/usr/share/nmap/nmap.dtd), for the tools that read nmap's XML (ndiff,
 * python-libnmap, Metasploit's db_import...). The mapping is documented in
 * docs/output-schema.md ("nmap XML").
 *
 * Records must come sorted by address (rs_sink_ops.sorted): the records of
 * one address make one <host>. Its <status> comes first but depends on
 * every port of the host, so the host's <port> elements are kept in memory
 * until the address changes: memory is bounded by one host's ports (at
 * most 65536 of them, ~110 bytes each, a few KiB with a banner), never by
 * the scan. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "ringscan/classify.h"
#include "ringscan/scan.h"
#include "ringscan/sink.h"

/* nmap's DTD allows no other scanner="..." (an enumeration of one value):
 * ringscan says who it is in the comment above <nmaprun> and in args. */
#define XML_SCANNER "nmap"
#define XML_VERSION "1.05"     /* xmloutputversion of nmap 7.93 */
#define HOST_KEEP   (1u << 20) /* a host buffer larger than this is freed after use */

/* A growing byte buffer; a failed allocation is remembered, not fatal. */
struct xbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

struct xml_state {
	bool in_host;
	struct rs_endpoint ep;	  /* the host being gathered */
	uint64_t n[RS_NSTATES];	  /* its ports per state */
	uint64_t t_first, t_last; /* its answers' times (ns) */
	uint64_t up, down, other; /* hosts written, by status */
	struct xbuf ports;	  /* its <port> elements */
};

/* Append s[0, n). */
static void xb_put(struct xbuf *b, const void *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* Append the string s. */
static void xb_puts(struct xbuf *b, const char *s)
{
	xb_put(b, s, strlen(s));
}

/* printf into the buffer, however long the result. */
__attribute__((format(printf, 2, 3))) static void xb_printf(struct xbuf *b, const char *fmt, ...)
{
	char tmp[256], *p = tmp;
	va_list ap, again;

	va_start(ap, fmt);
	va_copy(again, ap);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	if (n >= (int)sizeof(tmp)) {
		p = malloc((size_t)n + 1);
		if (p)
			vsnprintf(p, (size_t)n + 1, fmt, again);
	}
	va_end(again);
	va_end(ap);
	if (n < 0 || !p)
		b->oom = true;
	else
		xb_put(b, p, (size_t)n);
	if (p != tmp)
		free(p);
}
/* Length of the XML 1.0 character at s (n bytes left), or 0 when the byte
 * at s does not begin one: control characters other than tab, LF and CR,
 * bytes that are not valid UTF-8, U+FFFE and U+FFFF. */
static size_t xml_char_len(const uint8_t *s, size_t n)
{
	if (s[0] < 0x20)
		return s[0] == '\t' || s[0] == '\n' || s[0] == '\r';
	size_t k = rs_utf8_len(s, n);
	if (k == 3 && s[0] == 0xef && s[1] == 0xbf && s[2] >= 0xbe)
		return 0;
	return k;
}

/* s[0, n) as the text of an attribute value or element: &, <, >, " as
 * entities; tab, LF, CR, DEL and every byte that is not part of an XML
 * character as the four characters \xNN (nmap's NSE scripts write bytes
 * so), and with lossless a backslash as \\, so that the bytes can be told
 * back exactly. Whatever the bytes, the file stays well-formed. */
static void xb_esc(struct xbuf *b, const uint8_t *s, size_t n, bool lossless)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n && !b->oom;) {
		size_t run = i;
		while (run < n && s[run] >= 0x20 && s[run] < 0x7f && s[run] != '&' &&
		       s[run] != '<' && s[run] != '>' && s[run] != '"' && s[run] != '\\')
			run++;
		if (run > i) { /* plain ASCII: as it is, at once */
			xb_put(b, s + i, run - i);
			i = run;
			continue;
		}
		uint8_t c = s[i];
		size_t k = xml_char_len(s + i, n - i);
		if (k > 1) {
			xb_put(b, s + i, k);
			i += k;
			continue;
		}
		if (c == '&')
			xb_puts(b, "&amp;");
		else if (c == '<')
			xb_puts(b, "&lt;");
		else if (c == '>')
			xb_puts(b, "&gt;");
		else if (c == '"')
			xb_puts(b, "&quot;");
		else if (c == '\\' && lossless)
			xb_puts(b, "\\\\");
		else if (!k || c < 0x20 || c == 0x7f)
			xb_put(b, (char[]){'\\', 'x', hex[c >> 4], hex[c & 15]}, 4);
		else
			xb_put(b, &c, 1);
		i++;
	}
}

/* ` name="value"`, the value escaped. */
static void xb_attr(struct xbuf *b, const char *name, const char *v)
{
	xb_puts(b, " ");
	xb_puts(b, name);
	xb_puts(b, "=\"");
	xb_esc(b, (const uint8_t *)v, strlen(v), false);
	xb_puts(b, "\"");
}

/* nmap's names for a port's state and why (docs/output-schema.md). */
static void port_state(const struct rs_result *r, const char **state, const char **reason)
{
	switch (r->state) {
	case RS_OPEN:
		*state = "open", *reason = "syn-ack";
		return;
	case RS_CLOSED:
		*state = "closed", *reason = "conn-refused";
		return;
	case RS_FILTERED:
		*state = "filtered", *reason = "no-response";
		return;
	case RS_UNREACHABLE:
		*state = "filtered", *reason = "host-unreach";
		return;
	default:
		break;
	}
	if (r->err == EACCES || r->err == EPERM) { /* as nmap's connect scan */
		*state = "filtered", *reason = "admin-prohibited";
		return;
	}
	*state = "unknown";
	*reason = rs_reason(RS_ERROR, r->err); /* "EPROTO": ringscan's name */
}

/* <service .../> from what the service stage recognised: method "probed"
 * (nmap's for anything learnt on the wire; ringscan has no port table to
 * guess from), conf 10 for a hard match of nmap's rules or ringscan's own
 * ssh and telnet recognisers, 8 for a soft match and tcpwrapped (as nmap). */
static void put_service(struct xbuf *b, const struct rs_svcview *sv)
{
	const struct rs_svcrec *rec = sv->rec;
	const char *fields[][2] = {{"product", sv->product}, {"version", sv->version},
				   {"extrainfo", sv->info},  {"hostname", sv->hostname},
				   {"ostype", sv->os},	     {"devicetype", sv->device}};
	bool soft = rec->matched == RS_SVCM_SOFT || !strcmp(sv->name, "tcpwrapped");

	xb_puts(b, "<service");
	xb_attr(b, "name", sv->name);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (*fields[i][1])
			xb_attr(b, fields[i][0], fields[i][1]);
	if (rec->matched != RS_SVCM_NONE && rec->info.ssl)
		xb_puts(b, " tunnel=\"ssl\"");
	xb_printf(b, " method=\"probed\" conf=\"%d\"", soft ? 8 : 10);
	if (!sv->ncpe) {
		xb_puts(b, "/>");
		return;
	}
	xb_puts(b, ">");
	for (unsigned k = 0; k < sv->ncpe; k++) {
		xb_puts(b, "<cpe>");
		xb_esc(b, (const uint8_t *)sv->cpe[k], strlen(sv->cpe[k]), false);
		xb_puts(b, "</cpe>");
	}
	xb_puts(b, "</service>");
}

/* What the service said, as nmap's banner script shows it:
 * <script id="banner" output="..."/>, escaped losslessly, the first
 * RS_BANNER_MAX bytes; a longer one also gets <elem key="truncated">. */
static void put_banner(struct xbuf *b, const struct rs_svcview *sv)
{
	const struct rs_svcrec *rec = sv->rec;
	size_t n = rec->banner.len < RS_BANNER_MAX ? rec->banner.len : RS_BANNER_MAX;

	if (!n)
		return;
	xb_puts(b, "<script id=\"banner\" output=\"");
	xb_esc(b, rec->data + rec->banner.off, n, true);
	xb_puts(b, sv->truncated ? "\"><elem key=\"truncated\">true</elem></script>" : "\"/>");
}

/* The server's KEXINIT (--service), as nmap's ssh2-enum-algos script
 * shows it: the text in output (names one per line), and a table of
 * <elem>s per list. The server-to-client lists stand for both directions,
 * as nmap's script does. */
static void put_ssh_algos(struct xbuf *b, const struct rs_svcview *sv)
{
	static const struct {
		const char *key;
		enum rs_ssh_list l;
	} lists[] = {{"kex_algorithms", RS_SSH_KEX},
		     {"server_host_key_algorithms", RS_SSH_HOSTKEY},
		     {"encryption_algorithms", RS_SSH_CIPHER_S2C},
		     {"mac_algorithms", RS_SSH_MAC_S2C},
		     {"compression_algorithms", RS_SSH_COMP_S2C}};
	const uint8_t *k = sv->rec->data + sv->rec->kex.off;

	for (int pass = 0; pass < 2; pass++) { /* the text, then the tables */
		xb_puts(b, pass ? "\">" : "<script id=\"ssh2-enum-algos\" output=\"");
		for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
			const uint8_t *s = k + sv->kx.list[lists[i].l].off;
			size_t n = sv->kx.list[lists[i].l].len, count = n > 0;
			for (size_t j = 0; j < n; j++)
				count += s[j] == ',';
			if (pass)
				xb_printf(b, "<table key=\"%s\">", lists[i].key);
			else
				xb_printf(b, "&#xa;  %s: (%zu)", lists[i].key, count);
			for (size_t j = 0; j < n;) {
				const uint8_t *c = memchr(s + j, ',', n - j);
				size_t len = c ? (size_t)(c - (s + j)) : n - j;
				xb_puts(b, pass ? "<elem>" : "&#xa;      ");
				xb_esc(b, s + j, len, true);
				if (pass)
					xb_puts(b, "</elem>");
				j += len + 1;
			}
			if (pass)
				xb_puts(b, "</table>");
		}
	}
	xb_puts(b, "</script>");
}

/* One <port> element into the host's buffer. */
static void put_port(struct xbuf *b, const struct rs_result *r, const struct rs_svcview *sv)
{
	const char *state, *reason;
	char num[8], *d = num + sizeof(num);
	unsigned port = r->ep.port;

	port_state(r, &state, &reason);
	do /* the port number, without printf's cost */
		*--d = (char)('0' + port % 10);
	while (port /= 10);
	xb_puts(b, "<port protocol=\"tcp\" portid=\"");
	xb_put(b, d, (size_t)(num + sizeof(num) - d));
	xb_puts(b, "\"><state state=\"");
	xb_puts(b, state);
	xb_puts(b, "\"");
	xb_attr(b, "reason", reason);
	xb_puts(b, " reason_ttl=\"0\"/>");
	if (sv && sv->name)
		put_service(b, sv);
	if (sv)
		put_banner(b, sv);
	if (sv && sv->kex)
		put_ssh_algos(b, sv);
	xb_puts(b, "</port>\n");
}

/* A host's <status>: up when a port answered (open or closed, as nmap's
 * connect ping would say), else down: an ICMP unreachable, or nothing at
 * all heard (nmap without -Pn calls such a host down too); unknown when
 * every port ended in an error. */
static void host_status(const uint64_t n[RS_NSTATES], const char **state, const char **reason)
{
	*state = n[RS_OPEN] || n[RS_CLOSED]	       ? "up"
		 : n[RS_UNREACHABLE] || n[RS_FILTERED] ? "down"
						       : "unknown";
	*reason = n[RS_OPEN]	      ? "syn-ack"
		  : n[RS_CLOSED]      ? "conn-refused"
		  : n[RS_UNREACHABLE] ? "host-unreach"
		  : n[RS_FILTERED]    ? "no-response"
				      : "unknown-response";
}

/* Write the host gathered so far: <host>, <status>, <address>, its ports. */
static void host_flush(struct rs_out *o, struct xml_state *x)
{
	char ip[64], head[512];
	const char *state, *reason;

	rs_fmt_ip(ip, &x->ep);
	host_status(x->n, &state, &reason);
	x->up += !strcmp(state, "up");
	x->down += !strcmp(state, "down");
	x->other += !strcmp(state, "unknown");
	int n = snprintf(
		head, sizeof(head),
		"<host starttime=\"%llu\" endtime=\"%llu\"><status state=\"%s\" "
		"reason=\"%s\" reason_ttl=\"0\"/>\n<address addr=\"%s\" addrtype=\"%s\"/>\n"
		"<hostnames>\n</hostnames>\n<ports>",
		(unsigned long long)(x->t_first / 1000000000ULL),
		(unsigned long long)(x->t_last / 1000000000ULL), state, reason, ip,
		x->ep.family == AF_INET6 ? "ipv6" : "ipv4");
	rs_out_write(o, head, (size_t)n);
	rs_out_write(o, x->ports.p, x->ports.len);
	rs_out_puts(o, "</ports>\n</host>\n");
	x->in_host = false;
	x->ports.len = 0;
	if (x->ports.cap > HOST_KEEP) { /* one huge host does not keep its memory */
		free(x->ports.p);
		x->ports = (struct xbuf){0};
	}
}

/* The same address (the port aside)? */
static bool same_addr(const struct rs_endpoint *a, const struct rs_endpoint *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

static int xml_record(struct rs_out *o, const struct rs_result *r, const struct rs_svcview *sv)
{
	struct xml_state *x = o->sink_state;

	if (!x)
		return -EINVAL; /* no begin */
	if (x->in_host && !same_addr(&x->ep, &r->ep))
		host_flush(o, x);
	if (!x->in_host) {
		x->in_host = true;
		x->ep = r->ep;
		memset(x->n, 0, sizeof(x->n));
		x->t_first = x->t_last = r->ts_ns;
	}
	x->n[r->state < RS_NSTATES ? r->state : RS_ERROR]++;
	if (r->ts_ns < x->t_first)
		x->t_first = r->ts_ns;
	if (r->ts_ns > x->t_last)
		x->t_last = r->ts_ns;
	put_port(&x->ports, r, sv);
	if (x->ports.oom && !o->err)
		o->err = ENOMEM; /* sticky, like a write error: the writer stops */
	return o->err ? -o->err : 0;
}

/* nmap's time text: ctime's form, local time ("Tue Dec  1 18:43:22 2026"). */
static void fmt_time(char *dst, size_t cap, uint64_t ns)
{
	time_t t = (time_t)(ns / 1000000000ULL);
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(dst, cap, "%a %b %e %H:%M:%S %Y", &tm))
		snprintf(dst, cap, "%llu", (unsigned long long)t);
}

/* scaninfo's services: the port set as nmap writes it ("22,80-90"). */
static void put_services(struct xbuf *b, const struct rs_set32 *p)
{
	for (size_t i = 0; p && i < p->n; i++) {
		if (p->r[i].lo == p->r[i].hi)
			xb_printf(b, "%s%u", i ? "," : "", p->r[i].lo);
		else
			xb_printf(b, "%s%u-%u", i ? "," : "", p->r[i].lo, p->r[i].hi);
	}
}

static int xml_begin(struct rs_out *o, const struct rs_sink_ctx *ctx)
{
	struct xml_state *x = calloc(1, sizeof(*x));
	struct xbuf b = {0};
	char when[64];

	if (!x)
		return -ENOMEM;
	fmt_time(when, sizeof(when), ctx->start_ns);
	xb_printf(&b,
		  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE nmaprun>\n"
		  "<!-- ringscan %s scan initiated %s -->\n<nmaprun scanner=\"" XML_SCANNER "\"",
		  ctx->version, when);
	xb_attr(&b, "args", ctx->cmdline ? ctx->cmdline : "");
	xb_printf(&b, " start=\"%llu\"", (unsigned long long)(ctx->start_ns / 1000000000ULL));
	xb_attr(&b, "startstr", when);
	xb_attr(&b, "version", ctx->version);
	xb_printf(&b,
		  " xmloutputversion=\"" XML_VERSION "\">\n<scaninfo type=\"%s\" protocol=\"%s\" "
		  "numservices=\"%llu\" services=\"",
		  ctx->scan_type, ctx->protocol,
		  (unsigned long long)(ctx->ports ? ctx->ports->count : 0));
	put_services(&b, ctx->ports);
	xb_puts(&b, "\"/>\n<verbose level=\"0\"/>\n<debugging level=\"0\"/>\n");
	int ret = b.oom ? -ENOMEM : rs_out_write(o, b.p, b.len);
	free(b.p);
	if (ret < 0) {
		free(x);
		return ret;
	}
	o->sink_state = x;
	return 0;
}

/* <runstats>: when and how it ended, and the hosts. An incomplete scan
 * says so as nmap does when it stops on an error: exit="error" and why. */
static void put_runstats(struct xbuf *b, const struct xml_state *x, const struct rs_sink_ctx *ctx)
{
	char when[64];
	uint64_t end = ctx->end_ns ? ctx->end_ns : ctx->start_ns;
	double elapsed = end > ctx->start_ns ? (double)(end - ctx->start_ns) / 1e9 : 0;
	uint64_t hosts = x->up + x->down + x->other;
	uint64_t total = ctx->addresses > hosts ? ctx->addresses : hosts;

	fmt_time(when, sizeof(when), end);
	xb_printf(b, "<runstats><finished time=\"%llu\"",
		  (unsigned long long)(end / 1000000000ULL));
	xb_attr(b, "timestr", when);
	xb_printf(b,
		  " summary=\"ringscan done at %s; %llu IP address%s (%llu host%s up) scanned in "
		  "%.2f seconds\" elapsed=\"%.2f\"",
		  when, (unsigned long long)total, total == 1 ? "" : "es",
		  (unsigned long long)x->up, x->up == 1 ? "" : "s", elapsed, elapsed);
	if (ctx->complete) {
		xb_puts(b, " exit=\"success\"/>");
	} else {
		uint64_t answered = 0;
		for (int s = 0; ctx->sum && s < RS_NSTATES; s++)
			answered += ctx->sum->count[s];
		xb_puts(b, " exit=\"error\" errormsg=\"incomplete scan: ");
		xb_esc(b, (const uint8_t *)(ctx->incomplete ? ctx->incomplete : "stopped"),
		       strlen(ctx->incomplete ? ctx->incomplete : "stopped"), false);
		if (ctx->sum)
			xb_printf(b, "; %llu of %llu probes answered", (unsigned long long)answered,
				  (unsigned long long)ctx->targets);
		xb_puts(b, "\"/>");
	}
	xb_printf(b, "<hosts up=\"%llu\" down=\"%llu\" total=\"%llu\"/>\n</runstats>\n</nmaprun>\n",
		  (unsigned long long)x->up, (unsigned long long)x->down,
		  (unsigned long long)total);
}

static int xml_end(struct rs_out *o, const struct rs_sink_ctx *ctx)
{
	struct xml_state *x = o->sink_state;
	struct xbuf b = {0};

	if (!x)
		return -EINVAL;
	if (x->in_host)
		host_flush(o, x);
	put_runstats(&b, x, ctx);
	int ret = b.oom ? -ENOMEM : rs_out_write(o, b.p, b.len);
	free(b.p);
	free(x->ports.p);
	free(x);
	o->sink_state = NULL;
	return ret;
}

const struct rs_sink_ops rs_sink_xml = {
	.name = "xml",
	.sorted = true,
	.begin = xml_begin,
	.record = xml_record,
	.end = xml_end,
};
