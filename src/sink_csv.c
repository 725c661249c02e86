/* CSV with a header line; the columns are the JSON keys, in order. */
#include <stdio.h>

#include "ringscan/classify.h"
#include "ringscan/sink.h"

static int csv_begin(struct rs_out *o, const struct rs_sink_ctx *ctx)
{
	(void)ctx;
	return rs_out_puts(o, o->service ? "ip,port,proto,state,reason,rtt_us,attempts,ts,service\n"
					 : "ip,port,proto,state,reason,rtt_us,attempts,ts\n");
}

/* With a service stage, a last column: the service's name (empty when
 * not recognised: names have no commas or quotes). */
static int csv_record(struct rs_out *o, const struct rs_result *r, const struct rs_svcview *sv)
{
	char ip[64], ts[40];
	char *d = rs_out_reserve(o, RS_LINE_MAX);

	rs_fmt_ip(ip, &r->ep);
	rs_fmt_ts(ts, r->ts_ns);
	int n = snprintf(d, RS_LINE_MAX, "%s,%u,tcp,%s,%s,%u,%u,%s%s%s\n", ip, r->ep.port,
			 rs_state_name((enum rs_state)r->state),
			 rs_reason((enum rs_state)r->state, r->err), r->rtt_us, r->attempts, ts,
			 o->service ? "," : "", sv && sv->name ? sv->name : "");
	rs_out_commit(o, (size_t)n);
	return 0;
}

static int csv_pairs_begin(struct rs_out *o)
{
	return rs_out_puts(o, "ip,port\n");
}

static int csv_pair(struct rs_out *o, const struct rs_endpoint *ep)
{
	char ip[64];
	char *d = rs_out_reserve(o, RS_LINE_MAX);

	rs_fmt_ip(ip, ep);
	rs_out_commit(o, (size_t)snprintf(d, RS_LINE_MAX, "%s,%u\n", ip, ep->port));
	return 0;
}

const struct rs_sink_ops rs_sink_csv = {
	.name = "csv",
	.begin = csv_begin,
	.record = csv_record,
	.pairs_begin = csv_pairs_begin,
	.pair = csv_pair,
};
