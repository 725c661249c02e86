/* ringscan diff's nmap XML input: the answers of an -f xml file of
 * ringscan's or an `nmap -sT/-sV -oX` file, as the same rows a JSON lines
 * file gives (inv_diff.c), so that either side of a diff may be either
 * format. Per <host>, its first IPv4 or IPv6 <address>; per TCP <port>,
 * its <state> (mapped back to ringscan's states: filtered for an ICMP
 * unreachable is "unreachable", unknown "error"), its <service> unless
 * nmap only guessed it from the port number (method="table"), and the
 * bytes of its banner script's output. <extraports> are counts without
 * pairs: such a file compares as an open-only one. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inv_diff.h"
#include "xmlread.h"

#define IP_MAX 64 /* bytes of an address's text */

/* The port being read: its fields, the row's own copies. */
struct xport {
	bool in, skip;
	int port;
	char *state, *service, *product, *version, *banner;
	size_t blen;
};

struct xload {
	struct xml_reader x;
	char ip[IP_MAX];
	bool in_host;
	struct xport p;
};

static void port_clear(struct xport *p)
{
	free(p->state);
	free(p->service);
	free(p->product);
	free(p->version);
	free(p->banner);
	memset(p, 0, sizeof(*p));
}

/* A copy of t's attribute name (NULL when absent); -ENOMEM. */
static int dup_attr(const struct xml_tag *t, const char *name, char **dst)
{
	const char *v = xml_attr(t, name, NULL);

	free(*dst);
	*dst = v ? strdup(v) : NULL;
	return v && !*dst ? -ENOMEM : 0;
}

/* The value of the hex digit c, or -1. */
static int hexval(int c)
{
	return c >= '0' && c <= '9'			? c - '0'
	       : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10
							: -1;
}

/* A banner script's output back to bytes, in place: \xNN is the byte NN
 * and \\ a backslash (how ringscan writes them losslessly, and nmap's
 * scripts the bytes that are not printable); its length. */
size_t rs_diff_banner_bytes(char *s, size_t n)
{
	size_t i = 0, o = 0;

	while (i < n) {
		if (s[i] == '\\' && i + 1 < n && s[i + 1] == '\\') {
			s[o++] = '\\';
			i += 2;
		} else if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x' && hexval(s[i + 2]) >= 0 &&
			   hexval(s[i + 3]) >= 0) {
			s[o++] = (char)(hexval(s[i + 2]) << 4 | hexval(s[i + 3]));
			i += 4;
		} else {
			s[o++] = s[i++];
		}
	}
	return o;
}

/* ringscan's state for an nmap <state>: nmap's connect scan calls an
 * ICMP unreachable "filtered" (reason host-unreach or net-unreach), a
 * refused connect() EACCES/EPERM "filtered" (admin-prohibited), and
 * ringscan writes its errors as "unknown". */
static const char *state_of(const char *state, const char *reason)
{
	if (!strcmp(state, "filtered") && reason &&
	    (!strcmp(reason, "host-unreach") || !strcmp(reason, "net-unreach")))
		return "unreachable";
	if ((!strcmp(state, "filtered") && reason && !strcmp(reason, "admin-prohibited")) ||
	    !strcmp(state, "unknown"))
		return "error";
	return state;
}

/* A <port>'s start: protocol tcp (others are skipped), portid a number. */
static int port_start(struct xload *l, const struct xml_tag *t, char *err, size_t errlen)
{
	const char *proto = xml_attr(t, "protocol", NULL), *id = xml_attr(t, "portid", NULL);
	char *end;
	long port = id ? strtol(id, &end, 10) : -1;

	port_clear(&l->p);
	l->p.in = true;
	l->p.skip = !proto || strcmp(proto, "tcp");
	if (l->p.skip)
		return 0;
	if (!id || *end || port < 0 || port > 65535 || !*id || *id == '+' || *id == '-') {
		snprintf(err, errlen, "<port portid=\"%.20s\">: not a port number", id ? id : "");
		return -EINVAL;
	}
	if (!*l->ip) {
		snprintf(err, errlen, "a <port> of a <host> without an IPv4 or IPv6 <address>");
		return -EINVAL;
	}
	l->p.port = (int)port;
	return 0;
}

/* An element inside a <port>: its state, service and banner. */
static int port_child(struct xport *p, const struct xml_tag *t)
{
	int ret = 0;

	if (!strcmp(t->name, "state")) {
		const char *st = xml_attr(t, "state", NULL);
		free(p->state);
		p->state = st ? strdup(state_of(st, xml_attr(t, "reason", NULL))) : NULL;
		ret = st && !p->state ? -ENOMEM : 0;
	} else if (!strcmp(t->name, "service")) {
		const char *m = xml_attr(t, "method", NULL);
		if (m && !strcmp(m, "table")) /* nmap's guess from the port number */
			return 0;
		if (!(ret = dup_attr(t, "name", &p->service)) &&
		    !(ret = dup_attr(t, "product", &p->product)))
			ret = dup_attr(t, "version", &p->version);
	} else if (!strcmp(t->name, "script")) {
		const char *id = xml_attr(t, "id", NULL);
		size_t n;
		const char *out = xml_attr(t, "output", &n);
		if (!id || strcmp(id, "banner") || !out)
			return 0;
		free(p->banner);
		if (!(p->banner = malloc(n + 1)))
			return -ENOMEM;
		memcpy(p->banner, out, n + 1);
		p->blen = rs_diff_banner_bytes(p->banner, n);
	}
	return ret;
}

/* One start tag. */
static int on_start(struct xload *l, const struct xml_tag *t, char *err, size_t errlen)
{
	if (l->x.depth == 1 && strcmp(t->name, "nmaprun")) {
		snprintf(err, errlen, "not nmap XML (its root is <%.40s>, not <nmaprun>)", t->name);
		return -EINVAL;
	}
	if (!strcmp(t->name, "host") && l->x.depth == 2) {
		l->in_host = true;
		*l->ip = 0;
		return 0;
	}
	if (!l->in_host)
		return 0;
	if (l->p.in)
		return l->p.skip ? 0 : port_child(&l->p, t);
	if (!strcmp(t->name, "port"))
		return port_start(l, t, err, errlen);
	if (!strcmp(t->name, "address") && !*l->ip) {
		const char *type = xml_attr(t, "addrtype", NULL), *a = xml_attr(t, "addr", NULL);
		if (type && a && (!strcmp(type, "ipv4") || !strcmp(type, "ipv6")))
			snprintf(l->ip, sizeof(l->ip), "%s", a);
	}
	return 0;
}

/* One end tag: a port's row goes to put. */
static int on_end(struct xload *l, const struct xml_tag *t, rs_diff_put_fn put, void *arg,
		  char *err, size_t errlen)
{
	int ret = 0;

	if (!strcmp(t->name, "host") && l->x.depth == 1) {
		l->in_host = false;
	} else if (l->p.in && !strcmp(t->name, "port")) {
		struct xport *p = &l->p;
		struct rs_diff_row r = {l->ip,	    p->state,  p->service, p->product,
					p->version, p->banner, p->blen,	   p->port};
		if (!p->skip && !p->state) {
			snprintf(err, errlen, "a <port> without a <state>");
			ret = -EINVAL;
		} else if (!p->skip) {
			ret = put(arg, &r, err, errlen);
		}
		port_clear(p);
	}
	return ret;
}

int rs_inv_diff_xml(FILE *f, unsigned long line, const char *path, rs_diff_put_fn put, void *arg,
		    char *err, size_t errlen)
{
	struct xload *l = calloc(1, sizeof(*l));
	char why[256] = "";
	int ret = 0, ev = 0;

	if (!l) {
		snprintf(err, errlen, "reading '%s': out of memory", path);
		return -ENOMEM;
	}
	xml_init(&l->x, f, line);
	while (!ret && (ev = xml_next(&l->x)) > 0)
		ret = ev == XML_START ? on_start(l, &l->x.tag, why, sizeof(why))
				      : on_end(l, &l->x.tag, put, arg, why, sizeof(why));
	if (!ret && ev < 0) {
		ret = ev;
		snprintf(why, sizeof(why), "%s", l->x.why);
	}
	if (ret == -ENOMEM)
		snprintf(why, sizeof(why), "out of memory");
	if (ret)
		snprintf(err, errlen, "'%s' line %lu: %s", path, l->x.line, why);
	port_clear(&l->p);
	xml_free(&l->x);
	free(l);
	return ret;
}
