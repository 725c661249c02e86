/* JSON lines: one object per probe, keys in DESIGN.md's order. */
#include <stdio.h>
#include <string.h>

#include "ringscan/sink.h"

/* With service data, its members go before the closing brace. */
static int jsonl_record(struct rs_out *o, const struct rs_result *r, const struct rs_svcview *sv)
{
	if (!sv) {
		char *d = rs_out_reserve(o, RS_LINE_MAX);
		rs_out_commit(o, rs_fmt_jsonl(d, r));
		return 0;
	}
	char *d = rs_out_reserve(o, RS_LINE_MAX + RS_SVC_LINE_MAX);
	size_t n = rs_fmt_jsonl(d, r) - 2; /* without "}\n" */
	n += rs_fmt_svc_json(d + n, RS_SVC_LINE_MAX, sv);
	memcpy(d + n, "}\n", 2);
	rs_out_commit(o, n + 2);
	return 0;
}

static int jsonl_pair(struct rs_out *o, const struct rs_endpoint *ep)
{
	char ip[64];
	char *d = rs_out_reserve(o, RS_LINE_MAX);

	rs_fmt_ip(ip, ep);
	rs_out_commit(
		o, (size_t)snprintf(d, RS_LINE_MAX, "{\"ip\":\"%s\",\"port\":%u}\n", ip, ep->port));
	return 0;
}

const struct rs_sink_ops rs_sink_jsonl = {
	.name = "jsonl",
	.record = jsonl_record,
	.pair = jsonl_pair,
};
