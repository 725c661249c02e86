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
	dprintf(fd,
		"ringscan: retries %llu, local-error backoffs %llu, %u workers x %u in flight "
		"(%s)\n",
		(unsigned long long)s->retries, (unsigned long long)s->local_errors, s->workers,
		s->concurrency, s->engine ? s->engine : "direct");
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
		s->engine ? s->engine : "direct", s->concurrency, s->restarts,
		(unsigned long long)s->requeued, (unsigned long long)s->duplicates,
		(unsigned long long)s->resumed, (unsigned long long)s->inflight_peak);
	for (unsigned w = 0; w < s->workers; w++)
		fprintf(f, "%s{\"id\":%u,\"pid\":%d,\"probes\":%llu}", w ? "," : "", w,
			s->worker[w].pid, (unsigned long long)s->worker[w].probes);
	fprintf(f, "]}\n");
	if (fclose(f))
		return -errno;
	return 0;
}
