/* The summary: human lines on stderr and the --stats JSON object. */
#include <errno.h>
#include <stdio.h>

#include "ringscan/scan.h"

static uint64_t answered(const struct rs_summary *s)
{
	uint64_t n = 0;
	for (int i = 0; i < RS_NSTATES; i++)
		n += s->count[i];
	return n;
}

/* Probes answered by this run per second: a stopped scan does not claim
 * the rest, a resumed one not what earlier runs answered. */
static double rate(const struct rs_summary *s)
{
	return s->elapsed_s > 0 ? (double)(answered(s) - s->resumed) / s->elapsed_s : 0;
}

void rs_summary_from_checkpoint(struct rs_summary *sum, const struct rs_checkpoint *ck)
{
	sum->seed = ck->fp.seed;
	sum->shard_index = ck->fp.shard_index;
	sum->shard_count = ck->fp.shard_count;
	sum->targets = ck->end - ck->first;
	for (int i = 0; i < RS_NSTATES; i++)
		sum->count[i] = ck->count[i];
	sum->resumed = answered(sum);
	sum->retries = ck->retries;
	sum->local_errors = ck->local_errors;
}

static const char *const state_name[RS_NSTATES] = {
	[RS_OPEN] = "open",	    [RS_CLOSED] = "closed",
	[RS_FILTERED] = "filtered", [RS_UNREACHABLE] = "unreachable",
	[RS_ERROR] = "error",
};

/* The fraction of first attempts that timed out. */
static double first_timeouts(const struct rs_sending *g)
{
	uint64_t n = g->ans1 + g->tmo1;
	return n ? (double)g->tmo1 / (double)n : 0;
}

/* How the scan sent, and its round trips per state, as two lines. */
static void print_sending(const struct rs_summary *s, int fd)
{
	const struct rs_sending *g = &s->sending;
	char rtt[256];
	size_t off = 0;

	if (s->adaptive)
		dprintf(fd,
			"ringscan: sending: adaptive, peak %llu/s, last %llu/s, %llu cuts; "
			"first attempts timed out %.2f%%; timeout %.0f ms, up to %u attempts\n",
			(unsigned long long)s->trace.peak_rate, (unsigned long long)g->rate,
			(unsigned long long)g->cuts, 100 * first_timeouts(g), g->rto_us / 1e3,
			g->attempts);
	else if (g->rate)
		dprintf(fd,
			"ringscan: sending: fixed at %llu/s; first attempts timed out %.2f%%; "
			"timeout %.0f ms, up to %u attempts\n",
			(unsigned long long)g->rate, 100 * first_timeouts(g), g->rto_us / 1e3,
			g->attempts);
	else
		dprintf(fd,
			"ringscan: sending: unpaced; first attempts timed out %.2f%%; timeout %.0f "
			"ms, up to %u attempts\n",
			100 * first_timeouts(g), g->rto_us / 1e3, g->attempts);
	for (int i = 0; i < RS_NSTATES; i++) {
		const struct rs_rtthist *h = &s->rtt[i];
		if (!h->n || i == RS_FILTERED || off >= sizeof(rtt))
			continue;
		off += (size_t)snprintf(rtt + off, sizeof(rtt) - off, "%s%s %.1f/%.1f/%.1f/%.1f",
					off ? ", " : "", state_name[i],
					rs_rtthist_quantile(h, 0.5) / 1e3,
					rs_rtthist_quantile(h, 0.9) / 1e3,
					rs_rtthist_quantile(h, 0.99) / 1e3, h->max / 1e3);
	}
	if (off)
		dprintf(fd, "ringscan: rtt ms p50/p90/p99/max: %s\n", rtt);
}

/* "services: ssh 3, telnet 1, unrecognised 2", most frequent first. */
static void print_services(const struct rs_summary *s, int fd)
{
	char line[1024];
	size_t n = 0;
	bool done[RS_SVC_NAMES] = {false};

	if (!s->services)
		return;
	n += (size_t)snprintf(line, sizeof(line), "ringscan: services:");
	for (unsigned k = 0; k < s->nsvc && n < sizeof(line); k++) {
		unsigned best = RS_SVC_NAMES;
		for (unsigned i = 0; i < s->nsvc; i++)
			if (!done[i] && (best == RS_SVC_NAMES || s->svc[i].n > s->svc[best].n))
				best = i;
		if (best == RS_SVC_NAMES)
			break;
		done[best] = true;
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s %s %llu", k ? "," : "",
				      s->svc[best].name, (unsigned long long)s->svc[best].n);
	}
	if (n < sizeof(line))
		snprintf(line + n, sizeof(line) - n, "%s unrecognised %llu", s->nsvc ? "," : "",
			 (unsigned long long)s->svc_unknown);
	dprintf(fd, "%s\n", line);
}

void rs_summary_print(const struct rs_summary *s, int fd)
{
	char what[96];

	if (answered(s) == s->targets)
		snprintf(what, sizeof(what), "%llu probes", (unsigned long long)s->targets);
	else
		snprintf(what, sizeof(what), "INCOMPLETE%s: %llu of %llu probes answered",
			 s->interrupted ? " (interrupted)" : "", (unsigned long long)answered(s),
			 (unsigned long long)s->targets);
	dprintf(fd, "ringscan: %s in %.2f s (%.0f probes/s), seed %llu, shard %u/%u\n", what,
		s->elapsed_s, rate(s), (unsigned long long)s->seed, s->shard_index, s->shard_count);
	dprintf(fd,
		"ringscan: open %llu, closed %llu, filtered %llu, unreachable %llu, error %llu\n",
		(unsigned long long)s->count[RS_OPEN], (unsigned long long)s->count[RS_CLOSED],
		(unsigned long long)s->count[RS_FILTERED],
		(unsigned long long)s->count[RS_UNREACHABLE],
		(unsigned long long)s->count[RS_ERROR]);
	char quota[64] = "";
	if (s->cpu_limit > 0)
		snprintf(quota, sizeof(quota), " (cgroup CPU quota %.2f)", s->cpu_limit);
	dprintf(fd,
		"ringscan: retries %llu, local-error backoffs %llu, %u worker%s%s x %u in flight "
		"(%s%s%s)\n",
		(unsigned long long)s->retries, (unsigned long long)s->local_errors, s->workers,
		s->workers == 1 ? "" : "s", quota, s->concurrency, s->engine ? s->engine : "none",
		s->engine_reason ? ": " : "", s->engine_reason ? s->engine_reason : "");
	print_sending(s, fd);
	print_services(s, fd);
	if (s->resumed)
		dprintf(fd, "ringscan: resumed: %llu of these were answered by earlier runs\n",
			(unsigned long long)s->resumed);
	if (s->restarts)
		dprintf(fd,
			"ringscan: %u worker(s) died and were replaced; %llu positions handed "
			"over, %llu repeat answers dropped\n",
			s->restarts, (unsigned long long)s->requeued,
			(unsigned long long)s->duplicates);
}

/* "sending", "rtt_us" and "trace" (see docs/output-schema.md). */
/* A JSON string (null for NULL); our own messages, but escaped anyway. */
static void write_json_string(FILE *f, const char *str)
{
	if (!str) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *c = (const unsigned char *)str; *c; c++)
		if (*c == '"' || *c == '\\')
			fprintf(f, "\\%c", *c);
		else if (*c < 0x20)
			fprintf(f, "\\u%04x", *c);
		else
			fputc(*c, f);
	fputc('"', f);
}

static void write_sending_json(const struct rs_summary *s, FILE *f)
{
	const struct rs_sending *g = &s->sending;
	const struct rs_trace *t = &s->trace;
	int first = 1;

	fprintf(f,
		"\"sending\":{\"adaptive\":%s,\"rate_peak\":%llu,\"rate_last\":%llu,\"cuts\":%llu,"
		"\"first_timeouts\":%.6f,\"timeout_ms\":%.1f,\"attempts_max\":%u},\"rtt_us\":{",
		s->adaptive ? "true" : "false", (unsigned long long)t->peak_rate,
		(unsigned long long)g->rate, (unsigned long long)g->cuts, first_timeouts(g),
		g->rto_us / 1e3, g->attempts);
	for (int i = 0; i < RS_NSTATES; i++) {
		const struct rs_rtthist *h = &s->rtt[i];
		if (!h->n)
			continue;
		fprintf(f, "%s\"%s\":{\"n\":%llu,\"p50\":%u,\"p90\":%u,\"p99\":%u,\"max\":%u}",
			first ? "" : ",", state_name[i], (unsigned long long)h->n,
			rs_rtthist_quantile(h, 0.5), rs_rtthist_quantile(h, 0.9),
			rs_rtthist_quantile(h, 0.99), h->max);
		first = 0;
	}
	fprintf(f,
		"},\"trace\":{\"interval_ms\":%u,\"columns\":[\"t_s\",\"rate\",\"sent_per_s\","
		"\"first_timeouts\"],\"points\":[",
		t->interval_ms);
	for (unsigned i = 0; i < t->n; i++) {
		const struct rs_trace_point *p = &t->pt[i];
		uint64_t n = p->ans1 + p->tmo1;
		fprintf(f, "%s[%.3f,%llu,%.0f,%.4f]", i ? "," : "", p->end_ms / 1e3,
			(unsigned long long)p->rate,
			p->len_ms ? (double)p->sent * 1e3 / p->len_ms : 0.0,
			n ? (double)p->tmo1 / (double)n : 0.0);
	}
	fprintf(f, "]}");
}

int rs_summary_write_json(const struct rs_summary *s, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f,
		"{\"seed\":%llu,\"shard\":\"%u/"
		"%u\",\"targets\":%llu,\"answered\":%llu,\"open\":%llu,\"closed\":%llu,"
		"\"filtered\":%llu,\"unreachable\":%llu,\"error\":%llu,\"retries\":%llu,"
		"\"local_errors\":%llu,\"elapsed_s\":%.6f,\"probes_per_s\":%.1f,"
		"\"engine\":\"%s\",\"concurrency\":%u,\"restarts\":%u,\"requeued\":%llu,"
		"\"duplicates\":%llu,\"resumed\":%llu,\"inflight_peak\":%llu,\"workers\":[",
		(unsigned long long)s->seed, s->shard_index, s->shard_count,
		(unsigned long long)s->targets, (unsigned long long)answered(s),
		(unsigned long long)s->count[RS_OPEN], (unsigned long long)s->count[RS_CLOSED],
		(unsigned long long)s->count[RS_FILTERED],
		(unsigned long long)s->count[RS_UNREACHABLE],
		(unsigned long long)s->count[RS_ERROR], (unsigned long long)s->retries,
		(unsigned long long)s->local_errors, s->elapsed_s, rate(s),
		s->engine ? s->engine : "none", s->concurrency, s->restarts,
		(unsigned long long)s->requeued, (unsigned long long)s->duplicates,
		(unsigned long long)s->resumed, (unsigned long long)s->inflight_peak);
	for (unsigned w = 0; w < s->workers; w++)
		fprintf(f, "%s{\"id\":%u,\"pid\":%d,\"probes\":%llu,\"engine\":\"%s\"}",
			w ? "," : "", w, s->worker[w].pid, (unsigned long long)s->worker[w].probes,
			s->worker[w].engine ? s->worker[w].engine : "none");
	fprintf(f, "],\"engine_reason\":");
	write_json_string(f, s->engine_reason);
	if (s->cpu_limit > 0)
		fprintf(f, ",\"cpu_limit\":%.2f,", s->cpu_limit);
	else
		fprintf(f, ",\"cpu_limit\":null,");
	write_sending_json(s, f);
	if (s->services) {
		fprintf(f, ",\"services\":{");
		for (unsigned i = 0; i < s->nsvc; i++)
			fprintf(f, "%s\"%s\":%llu", i ? "," : "", s->svc[i].name,
				(unsigned long long)s->svc[i].n);
		fprintf(f, "%s\"unrecognised\":%llu}", s->nsvc ? "," : "",
			(unsigned long long)s->svc_unknown);
	}
	fprintf(f, "}\n");
	if (fclose(f))
		return -errno;
	return 0;
}
