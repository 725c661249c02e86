/* From a service record to its JSON members (see ringscan/svcview.h). */
#include <string.h>

#include "ringscan/svcview.h"

/* A bounded writer. Content (the bytes of strings) stops at lim, and
 * is then dropped and remembered; the JSON structure around it (quotes,
 * brackets, a member or list element once begun) is forced, into the
 * CLOSERS bytes kept beyond lim, so whatever was cut the line is valid
 * JSON. No member or element begins once content was dropped. */
struct jw {
	char *d, *lim, *end;
	bool full;
};

#define CLOSERS 256 /* the nesting is shallow, an element short */

static void put(struct jw *w, const char *s, size_t n)
{
	if (w->full || w->d > w->lim || (size_t)(w->lim - w->d) < n) {
		w->full = true;
		return;
	}
	memcpy(w->d, s, n);
	w->d += n;
}

static void force(struct jw *w, const char *s, size_t n)
{
	if ((size_t)(w->end - w->d) >= n) {
		memcpy(w->d, s, n);
		w->d += n;
	}
}

static void forces(struct jw *w, const char *s)
{
	force(w, s, strlen(s));
}

static void force_uint(struct jw *w, unsigned v)
{
	char tmp[12];
	int n = 0;

	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	force(w, tmp + sizeof(tmp) - n, (size_t)n);
}

size_t rs_utf8_len(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	size_t k;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		k = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		k = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		k = 4, cp = c & 0x07;
	else
		return 0;
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and beyond U+10FFFF are not valid. */
	if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return k;
}

/* A JSON string of bytes, lossless: valid UTF-8 as it is, control
 * characters escaped, and each byte that is not part of valid UTF-8 as
 * the lone surrogate U+DC80-U+DCFF (PEP 383's "surrogateescape": Python
 * gets the bytes back with s.encode("utf-8", "surrogateescape")). */
static void put_str(struct jw *w, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	force(w, "\"", 1);
	for (size_t i = 0; i < n && !w->full;) {
		uint8_t c = s[i];
		size_t k = rs_utf8_len(s + i, n - i);
		char esc[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
		if (k > 1) {
			put(w, (const char *)s + i, k);
			i += k;
			continue;
		}
		if (!k) {
			esc[2] = 'd';
			esc[3] = 'c';
		}
		if (c == '"' || c == '\\')
			put(w, c == '"' ? "\\\"" : "\\\\", 2);
		else if (c == '\n' || c == '\r' || c == '\t')
			put(w, c == '\n' ? "\\n" : c == '\r' ? "\\r" : "\\t", 2);
		else if (c < 0x20 || !k)
			put(w, esc, 6);
		else
			put(w, (const char *)&c, 1);
		i++;
	}
	force(w, "\"", 1);
}

static void put_cstr(struct jw *w, const char *s)
{
	put_str(w, (const uint8_t *)s, strlen(s));
}

/* ,"key": -- unless content was dropped already: then false, and the
 * member is left out. */
static bool key(struct jw *w, const char *k, bool first)
{
	if (w->full)
		return false;
	if (!first)
		force(w, ",", 1);
	force(w, "\"", 1);
	forces(w, k);
	force(w, "\":", 2);
	return true;
}

/* A comma-separated name-list as a JSON array. */
static void put_list(struct jw *w, const uint8_t *s, size_t n)
{
	force(w, "[", 1);
	for (size_t i = 0; n && i <= n && !w->full;) {
		const uint8_t *c = memchr(s + i, ',', n - i);
		size_t len = c ? (size_t)(c - (s + i)) : n - i;
		if (i)
			force(w, ",", 1);
		put_str(w, s + i, len);
		i += len + 1;
	}
	force(w, "]", 1);
}

/* Product, version and info from an SSH identification, nmap's way
 * ("OpenSSH_9.2p1" -> OpenSSH, 9.2p1; "protocol 2.0"), for when nmap's
 * database is not there. */
static void from_ident(struct rs_svcview *v, const uint8_t *d)
{
	const uint8_t *sw = d + v->id.software.off;
	const uint8_t *us = memchr(sw, '_', v->id.software.len);
	size_t plen = us ? (size_t)(us - sw) : v->id.software.len;
	size_t vlen = us ? v->id.software.len - plen - 1 : 0;
	size_t pl = v->id.proto.len < 16 ? v->id.proto.len : 16;

	memcpy(v->own[0], sw, plen < sizeof(v->own[0]) ? plen : sizeof(v->own[0]) - 1);
	if (us)
		memcpy(v->own[1], us + 1, vlen < sizeof(v->own[1]) ? vlen : sizeof(v->own[1]) - 1);
	memcpy(v->own[2], "protocol ", 9);
	memcpy(v->own[2] + 9, d + v->id.proto.off, pl);
	v->product = v->own[0];
	v->version = v->own[1];
	v->info = v->own[2];
}

void rs_svc_describe(const struct rs_svcrec *r, struct rs_svcview *v)
{
	const struct rs_svcinfo *in = &r->info;

	memset(v, 0, sizeof(*v));
	v->rec = r;
	v->method = "banner";
	v->probe = "NULL";
	v->product = v->version = v->info = v->hostname = v->os = v->device = "";
	v->truncated = r->banner.len > RS_BANNER_MAX || (r->flags & RS_SVCF_FULL);
	v->ssh = r->flags & RS_SVCF_SSH && rs_ssh_ident(r->data, r->len, &v->id) > 0;
	v->kex = v->ssh && r->flags & RS_SVCF_KEX &&
		 rs_ssh_kexinit(r->data + r->kex.off, r->kex.len, &v->kx) > 0;
	v->telnet = r->flags & RS_SVCF_TELNET;
	if (v->telnet)
		rs_telnet_feed(&v->tn, r->data, r->len, NULL, 0);
	if (r->matched != RS_SVCM_NONE) {
		v->name = in->name;
		v->method = strcmp(r->probe, "NULL") ? "probed" : "banner";
		v->probe = r->probe;
		v->product = in->product;
		v->version = in->version;
		v->info = in->info;
		v->hostname = in->hostname;
		v->os = in->os;
		v->device = in->device;
		for (unsigned k = 0; k < in->ncpe && k < 4; k++)
			v->cpe[v->ncpe++] = in->cpe[k];
	} else if (v->ssh) {
		v->name = "ssh";
		from_ident(v, r->data);
	} else if (v->telnet) {
		v->name = "telnet";
	} else if (r->flags & RS_SVCF_WRAPPED) {
		v->name = "tcpwrapped"; /* nmap's name: accepted, then closed unheard */
	}
}

static void fmt_service(struct jw *w, const struct rs_svcview *v)
{
	const char *fields[][2] = {{"product", v->product}, {"version", v->version},
				   {"info", v->info},	    {"hostname", v->hostname},
				   {"os", v->os},	    {"device", v->device}};

	if (!key(w, "service", false))
		return;
	force(w, "{", 1);
	if (key(w, "name", true))
		put_cstr(w, v->name);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (*fields[i][1] && key(w, fields[i][0], false))
			put_cstr(w, fields[i][1]);
	if (v->ncpe && key(w, "cpe", false)) {
		force(w, "[", 1);
		for (unsigned k = 0; k < v->ncpe && !w->full; k++) {
			if (k)
				force(w, ",", 1);
			put_cstr(w, v->cpe[k]);
		}
		force(w, "]", 1);
	}
	if (key(w, "method", false))
		put_cstr(w, v->method);
	if (key(w, "probe", false))
		put_cstr(w, v->probe);
	force(w, "}", 1);
}

static void fmt_ssh(struct jw *w, const struct rs_svcview *v)
{
	const uint8_t *d = v->rec->data, *k = d + v->rec->kex.off;
	const struct {
		const char *name;
		struct rs_span sp;
	} f[] = {{"proto_version", v->id.proto},
		 {"software", v->id.software},
		 {"comment", v->id.comment}};

	if (!key(w, "ssh", false))
		return;
	force(w, "{", 1);
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (key(w, f[i].name, i == 0))
			put_str(w, d + f[i].sp.off, f[i].sp.len);
	for (int l = 0; v->kex && l < RS_SSH_NLISTS; l++) {
		if ((l == RS_SSH_LANG_C2S || l == RS_SSH_LANG_S2C) && !v->kx.list[l].len)
			continue;
		if (key(w, rs_ssh_list_name((enum rs_ssh_list)l), false))
			put_list(w, k + v->kx.list[l].off, v->kx.list[l].len);
	}
	force(w, "}", 1);
}

/* "will":[{"code":1,"name":"echo"},...] */
static void fmt_options(struct jw *w, const char *name, const uint8_t m[32], bool first)
{
	bool any = false;

	if (!key(w, name, first))
		return;
	force(w, "[", 1);
	for (unsigned o = 0; o < 256 && !w->full; o++) {
		if (!rs_telnet_has(m, (uint8_t)o))
			continue;
		const char *n = rs_telnet_opt_name((uint8_t)o);
		if (w->lim - w->d < 64) {
			w->full = true; /* an element is forced whole: room for one */
			break;
		}
		forces(w, any ? ",{\"code\":" : "{\"code\":");
		any = true;
		force_uint(w, o);
		if (n) {
			forces(w, ",\"name\":\"");
			forces(w, n);
			force(w, "\"", 1);
		}
		force(w, "}", 1);
	}
	force(w, "]", 1);
}

static void fmt_telnet(struct jw *w, const struct rs_svcview *v)
{
	uint8_t text[RS_BANNER_MAX];
	size_t n = rs_telnet_text(v->rec->data, v->rec->len, text, sizeof(text));

	if (!key(w, "telnet", false))
		return;
	force(w, "{", 1);
	fmt_options(w, "will", v->tn.will, true);
	fmt_options(w, "do", v->tn.do_, false);
	if (key(w, "text", false))
		put_str(w, text, n);
	force(w, "}", 1);
}

size_t rs_fmt_svc_json(char *dst, size_t cap, const struct rs_svcview *v)
{
	struct jw w = {dst, dst + (cap > CLOSERS ? cap - CLOSERS : 0), dst + cap, false};
	const struct rs_svcrec *r = v->rec;
	size_t blen = r->banner.len < RS_BANNER_MAX ? r->banner.len : RS_BANNER_MAX;

	if (v->name)
		fmt_service(&w, v);
	if (key(&w, "banner", false))
		put_str(&w, r->data + r->banner.off, blen);
	if (v->truncated && key(&w, "banner_truncated", false))
		forces(&w, "true");
	if (v->ssh)
		fmt_ssh(&w, v);
	if (v->telnet)
		fmt_telnet(&w, v);
	return (size_t)(w.d - dst);
}
