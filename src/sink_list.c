/* One "ip:port state" line per probe ("[v6]:port state" for IPv6): for
 * grep, cut and xargs. */
#include <arpa/inet.h>
#include <stdio.h>

#include "ringscan/classify.h"
#include "ringscan/sink.h"

/* With a service stage, the service's name follows when known. */
static int list_record(struct rs_out *o, const struct rs_result *r, const struct rs_svcview *sv)
{
	char ip[64];
	char *d = rs_out_reserve(o, RS_LINE_MAX);
	int v6 = r->ep.family == AF_INET6;

	rs_fmt_ip(ip, &r->ep);
	int n = snprintf(d, RS_LINE_MAX, "%s%s%s:%u %s%s%s\n", v6 ? "[" : "", ip, v6 ? "]" : "",
			 r->ep.port, rs_state_name((enum rs_state)r->state),
			 sv && sv->name ? " " : "", sv && sv->name ? sv->name : "");
	rs_out_commit(o, (size_t)n);
	return 0;
}

static int list_pair(struct rs_out *o, const struct rs_endpoint *ep)
{
	char ip[64];
	char *d = rs_out_reserve(o, RS_LINE_MAX);
	int v6 = ep->family == AF_INET6;

	rs_fmt_ip(ip, ep);
	rs_out_commit(o, (size_t)snprintf(d, RS_LINE_MAX, "%s%s%s:%u\n", v6 ? "[" : "", ip,
					  v6 ? "]" : "", ep->port));
	return 0;
}

const struct rs_sink_ops rs_sink_list = {
	.name = "list",
	.record = list_record,
	.pair = list_pair,
};
