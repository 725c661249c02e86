/* A stored scan through an output sink (inventory.h): ringscan export,
 * and -f xml, whose answers are sorted by host here. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringscan/inventory.h"
#include "ringscan/scan.h"
#include "ringscan/sink.h"
#include "ringscan/svcview.h"
#include "ringscan/targets.h"

struct export_ctx {
	const struct rs_sink_ops *sink;
	struct rs_out *out;
	struct rs_svcview sv;
};

static int export_one(void *arg, const struct rs_result *r, const struct rs_svcrec *rec)
{
	struct export_ctx *x = arg;

	if (rec)
		rs_svc_describe(rec, &x->sv);
	x->sink->record(x->out, r, rec ? &x->sv : NULL);
	return x->out->err ? -x->out->err : 0;
}

/* What a sink's begin and end are told of a stored scan, as the live
 * scan told them: its row's times, command line, ports and counts. */
struct stored_ctx {
	struct rs_sink_ctx ctx;
	struct rs_summary sum;
	struct rs_set32 ports;
	char why[64];
};

static int stored_ctx(struct stored_ctx *c, const struct rs_inv_scan *sc)
{
	char err[256];
	const char *sig = sc->interrupted ? sigabbrev_np(sc->interrupted) : NULL;

	rs_set32_init(&c->ports);
	if (rs_ports_parse(&c->ports, sc->ports, err, sizeof(err)) || rs_set32_finalize(&c->ports))
		return -EINVAL;
	memcpy(c->sum.count, sc->count, sizeof(c->sum.count));
	c->sum.seed = sc->seed;
	c->sum.shard_index = sc->shard_index;
	c->sum.shard_count = sc->shard_count;
	c->sum.targets = sc->positions;
	c->sum.interrupted = sc->interrupted;
	c->sum.engine = sc->engine;
	if (sc->ended_ns > sc->started_ns)
		c->sum.elapsed_s = (double)(sc->ended_ns - sc->started_ns) / 1e9;
	snprintf(c->why, sizeof(c->why), sig ? "interrupted by SIG%s" : "%s",
		 sig ? sig : "stopped before every probe was answered");
	c->ctx = (struct rs_sink_ctx){
		.version = sc->version,
		.cmdline = sc->cmdline,
		.start_ns = sc->started_ns,
		.end_ns = sc->ended_ns,
		.ports = &c->ports,
		.scan_type = "connect",
		.protocol = "tcp",
		.targets = sc->positions,
		.addresses = c->ports.count ? sc->space / c->ports.count : 0,
		.all = sc->all,
		.sum = &c->sum,
		.complete = sc->complete,
		.incomplete = sc->complete ? NULL : c->why,
	};
	return 0;
}

int rs_inv_export(struct rs_inv *db, const struct rs_inv_scan *sc, const struct rs_sink_ops *sink,
		  struct rs_out *out)
{
	struct export_ctx x = {.sink = sink, .out = out};
	struct stored_ctx *c = calloc(1, sizeof(*c)); /* a summary is large */
	int ret = c ? stored_ctx(c, sc) : -ENOMEM;

	out->service = sc->service != 0;
	if (!ret && sink->begin)
		ret = sink->begin(out, &c->ctx);
	if (!ret)
		ret = rs_inv_each(db, sc->id, export_one, &x);
	if (sink->end && c && (!ret || out->sink_state)) { /* a sink's state goes back */
		int e = sink->end(out, &c->ctx);
		if (!ret)
			ret = e;
	}
	if (!ret)
		ret = rs_out_flush(out);
	if (c)
		rs_set32_free(&c->ports);
	free(c);
	return ret;
}
