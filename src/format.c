/* Text forms of addresses, timestamps and JSON lines. Hand-rolled because
 * the coordinator formats every reported probe: no locale, no gmtime(), no
 * printf on the hot path. Pure functions. */
#include <arpa/inet.h>
#include <string.h>

#include "ringscan/classify.h"
#include "ringscan/sink.h"

static char *put_str(char *d, const char *s)
{
	size_t n = strlen(s);
	memcpy(d, s, n);
	return d + n;
}

static char *put_u64(char *d, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*d++ = tmp[--n];
	return d;
}

/* v with exactly w digits, zero-padded. */
static char *put_pad(char *d, uint64_t v, int w)
{
	for (int i = w - 1; i >= 0; i--) {
		d[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return d + w;
}

size_t rs_fmt_ip(char *dst, const struct rs_endpoint *ep)
{
	if (ep->family == AF_INET6) {
		inet_ntop(AF_INET6, ep->addr, dst, INET6_ADDRSTRLEN);
		return strlen(dst);
	}
	char *d = dst;
	for (int i = 0; i < 4; i++) {
		if (i)
			*d++ = '.';
		d = put_u64(d, ep->addr[i]);
	}
	*d = 0;
	return (size_t)(d - dst);
}

/* Days since 1970-01-01 → civil date (H. Hinnant's algorithm). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

size_t rs_fmt_ts(char *dst, uint64_t ts_ns)
{
	uint64_t secs = ts_ns / 1000000000ULL, us = (ts_ns / 1000) % 1000000;
	uint64_t sod = secs % 86400;
	int64_t y;
	unsigned m, d;
	char *p = dst;

	civil_from_days((int64_t)(secs / 86400), &y, &m, &d);
	p = put_pad(p, (uint64_t)y, 4);
	*p++ = '-';
	p = put_pad(p, m, 2);
	*p++ = '-';
	p = put_pad(p, d, 2);
	*p++ = 'T';
	p = put_pad(p, sod / 3600, 2);
	*p++ = ':';
	p = put_pad(p, sod / 60 % 60, 2);
	*p++ = ':';
	p = put_pad(p, sod % 60, 2);
	*p++ = '.';
	p = put_pad(p, us, 6);
	*p++ = 'Z';
	*p = 0;
	return (size_t)(p - dst);
}

size_t rs_fmt_jsonl(char *dst, const struct rs_result *r)
{
	char *d = dst;

	d = put_str(d, "{\"ip\":\"");
	d += rs_fmt_ip(d, &r->ep);
	d = put_str(d, "\",\"port\":");
	d = put_u64(d, r->ep.port);
	d = put_str(d, ",\"proto\":\"tcp\",\"state\":\"");
	d = put_str(d, rs_state_name((enum rs_state)r->state));
	d = put_str(d, "\",\"reason\":\"");
	d = put_str(d, rs_reason((enum rs_state)r->state, r->err));
	d = put_str(d, "\",\"rtt_us\":");
	d = put_u64(d, r->rtt_us);
	d = put_str(d, ",\"attempts\":");
	d = put_u64(d, r->attempts);
	d = put_str(d, ",\"ts\":\"");
	d += rs_fmt_ts(d, r->ts_ns);
	d = put_str(d, "\"}\n");
	return (size_t)(d - dst);
}
