/* The writer: result rings → output sink, and checkpoints (see writer.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "errmsg.h"
#include "replace.h"
#include "ringscan/inventory.h"
#include "writer.h"
#include "writer_db.h"

/* CLOCK_REALTIME in ns: the scan's wall-clock times for the sinks. */
static uint64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* What the sink's begin is told of the scan. */
static void ctx_init(struct rs_writer *w, const struct rs_config *cfg, const struct rs_summary *sum)
{
	w->ctx = (struct rs_sink_ctx){
		.version = RS_VERSION,
		.cmdline = cfg->cmdline ? cfg->cmdline : "",
		.start_ns = wall_ns(),
		.ports = &cfg->space.ports,
		.scan_type = "connect",
		.protocol = "tcp",
		.targets = sum->targets,
		.addresses = cfg->space.addrs.count,
		.all = cfg->all,
	};
}

int rs_writer_init(struct rs_writer *w, const struct rs_config *cfg, struct rs_summary *sum)
{
	memset(w, 0, offsetof(struct rs_writer, buf));
	w->cfg = cfg;
	w->sum = sum;
	ctx_init(w, cfg, sum);
	w->out = malloc(sizeof(*w->out)); /* a 64 KiB buffer */
	if (!w->out)
		return -ENOMEM;
	rs_out_init(w->out, cfg->out_fd);
	w->out->service = cfg->banner;
	/* After a stop signal, a reader who does not read gets as long as
	 * the probes in flight take to be answered. */
	rs_out_signals(w->out, cfg->signal_fd, rs_config_answer_max_ms(cfg) + 2000);
	w->out->written = cfg->out_length;
	if (cfg->resume) {
		const struct rs_checkpoint *ck = cfg->resume;
		w->out->sum = ck->outsum; /* goes on from the prefix config.c checked */
		for (int s = 0; s < RS_NSTATES; s++) {
			sum->count[s] = ck->count[s];
			w->received += ck->count[s];
		}
		sum->resumed = w->received;
	}
	if (cfg->sink->begin && !cfg->out_length && !cfg->sink->sorted)
		cfg->sink->begin(w->out, &w->ctx); /* a resumed output has its header */
	return rs_writer_db_init(w);
}

void rs_writer_free(struct rs_writer *w)
{
	free(w->out);
	w->out = NULL;
}

/* The service record of the answer at pos in ring r: records of answers
 * that never came (their worker died between the two) are dropped on the
 * way. NULL when there is none. */
static const struct rs_svcrec *svc_find(struct rs_svcring *r, uint64_t pos)
{
	const struct rs_svcrec *rec;

	while (r && (rec = rs_svcring_peek(r))) {
		if (rec->pos == pos)
			return rec;
		rs_svcring_drop(r);
	}
	return NULL;
}

/* Count an answer's service by name in the summary. */
static void count_service(struct rs_summary *sum, const char *name)
{
	unsigned i = 0;

	if (!name) {
		sum->svc_unknown++;
		return;
	}
	while (i < sum->nsvc && strcmp(sum->svc[i].name, name))
		i++;
	if (i == RS_SVC_NAMES) {
		sum->svc_unknown++; /* more names than the table holds */
		return;
	}
	if (i == sum->nsvc) {
		char *n = sum->svc[sum->nsvc++].name;
		snprintf(n, sizeof(sum->svc[0].name), "%s", name);
		for (; *n; n++) /* a JSON key in --stats: nothing to escape */
			if (*n == '"' || *n == '\\' || (unsigned char)*n < 0x20)
				*n = '_';
	}
	sum->svc[i].n++;
}

/* One answer to the sink, with its service data when it has some. */
static void write_one(struct rs_writer *w, const struct rs_result *r, const struct rs_svcrec *rec)
{
	struct rs_svcview sv;

	if (rec) {
		rs_svc_describe(rec, &sv);
		count_service(w->sum, sv.name);
	}
	if (w->cfg->all || r->state == RS_OPEN) {
		if (!w->cfg->sink->sorted) /* else written from the inventory at the end */
			w->cfg->sink->record(w->out, r, rec ? &sv : NULL);
		if (w->cfg->db)
			rs_writer_db_put(w, r, rec);
	}
}

uint64_t rs_writer_drain(struct rs_writer *w, const struct rs_shm *shm, struct rs_producer *p)
{
	uint64_t got = 0;

	for (unsigned k = 0; k < w->cfg->workers; k++) {
		size_t n;
		while ((n = rs_resring_pop(shm->res[k], w->buf, RS_DRAIN_BATCH)) > 0) {
			got += n;
			for (size_t i = 0; i < n; i++) {
				const struct rs_result *r = &w->buf[i];
				if (w->out->err)
					return got; /* an answer not written is not taken */
				const struct rs_svcrec *rec =
					r->svc ? svc_find(shm->svc[k], r->pos) : NULL;
				if (!rs_producer_answer(p, r->pos)) {
					w->duplicates++;
					if (rec)
						rs_svcring_drop(shm->svc[k]);
					continue;
				}
				w->received++;
				w->sum->count[r->state < RS_NSTATES ? r->state : RS_ERROR]++;
				rs_rtthist_add(
					&w->sum->rtt[r->state < RS_NSTATES ? r->state : RS_ERROR],
					r->rtt_us);
				w->sum->worker[k].probes++;
				write_one(w, r, rec);
				if (rec)
					rs_svcring_drop(shm->svc[k]);
			}
		}
	}
	rs_writer_db_tick(w);
	return got;
}

int rs_writer_checkpoint(struct rs_writer *w, const struct rs_producer *p, uint64_t retries,
			 uint64_t local_errors)
{
	const struct rs_config *cfg = w->cfg;
	struct rs_producer_runs *it;
	int ret;

	if (!cfg->resume_path || w->ck_stale)
		return 0;
	ret = rs_out_flush(w->out);
	if (!ret && fdatasync(cfg->out_fd) < 0)
		ret = -errno;
	if (ret < 0) {
		w->ck_stale = true;
		rs_errorf("writing output: %s; '%s' still resumes the scan", strerror(-ret),
			  cfg->resume_path);
		return ret;
	}
	struct rs_checkpoint ck = {
		.fp = cfg->fp,
		.first = p->first,
		.end = p->end,
		.low = p->first, /* the runs from first on raise it */
		.length = w->out->written,
		.outsum = w->out->sum,
		.retries = retries,
		.local_errors = local_errors,
	};
	memcpy(ck.count, w->sum->count, sizeof(ck.count));
	/* The inventory first: every answer the checkpoint counts is in it. */
	if (rs_writer_db_sync(w, &ck) < 0) {
		w->ck_stale = true;
		return -EIO;
	}
	it = malloc(sizeof(*it));
	if (!it)
		return -ENOMEM;
	rs_producer_runs_init(it, p);
	ret = rs_checkpoint_save(cfg->resume_path, &ck, rs_producer_runs_next, it);
	free(it);
	if (ret < 0) {
		w->ck_stale = true;
		rs_errorf("--resume: cannot write '%s': %s", cfg->resume_path, strerror(-ret));
	}
	return ret;
}

/* A sorted sink (nmap XML): the whole output, every answer of this scan
 * so far (earlier runs' too), read back from the inventory in (address,
 * port) order through a second, read-only connection (the writer thread
 * owns the first); it replaces whatever the output held, so that an
 * interrupted scan leaves a complete file that says so, and a resumed one
 * replaces it. A regular file is replaced whole once written (replace.c):
 * killed meanwhile, the scan leaves the file as it was, never cut short.
 * Returns 0 or -errno (after one line). */
static int write_sorted(struct rs_writer *w)
{
	const struct rs_config *cfg = w->cfg;
	struct rs_inv *db = NULL;
	struct rs_inv_scan sc = {0};
	struct rs_replace rep = {cfg->out_fd, NULL};
	char err[768];
	int ret = rs_inv_open(cfg->db_path, RS_INV_READ, &db, err, sizeof(err));

	if (ret) {
		rs_errorf("-f %s: %s", cfg->sink->name, err);
		goto out;
	}
	ret = rs_inv_scan_get(db, w->db_scan, &sc);
	if (!ret && cfg->output)
		rs_replace_open(&rep, cfg->output, cfg->out_fd);
	if (!ret && cfg->output && !rep.path &&
	    (ftruncate(cfg->out_fd, 0) < 0 || lseek(cfg->out_fd, 0, SEEK_SET) < 0))
		ret = -errno;
	if (!ret) {
		rs_out_init(w->out, rep.fd);
		rs_out_signals(w->out, cfg->signal_fd, rs_config_answer_max_ms(cfg) + 2000);
		ret = rs_inv_export(db, &sc, cfg->sink, w->out);
	}
	if (!ret)
		ret = rs_replace_commit(&rep);
	rs_replace_abort(&rep);
	if (ret == -EIO && !w->out->err)
		rs_errorf("-f %s: '%s': %s", cfg->sink->name, cfg->db_path, rs_inv_errmsg(db));
	else if (ret)
		rs_errorf("writing output: %s", strerror(-ret));
	w->out->fd = cfg->out_fd; /* rep.fd is closed */
	rs_inv_scan_free(&sc);
out:
	rs_inv_close(db);
	if (ret < 0)
		w->ck_stale = true;
	return ret < 0 ? ret : 0;
}

int rs_writer_finish(struct rs_writer *w, bool complete)
{
	/* The scan's end for the sink: the summary's counts are final (the
	 * engine and the interrupting signal known). */
	w->ctx.end_ns = wall_ns();
	w->ctx.sum = w->sum;
	w->ctx.complete = complete;
	const char *sig = w->sum->interrupted ? sigabbrev_np(w->sum->interrupted) : NULL;
	if (sig)
		snprintf(w->why, sizeof(w->why), "interrupted by SIG%s", sig);
	else
		snprintf(w->why, sizeof(w->why), "stopped before every probe was answered");
	w->ctx.incomplete = complete ? NULL : w->why;
	/* A trailer only when complete: resumes append. */
	if (w->cfg->sink->end && complete && !w->cfg->sink->sorted)
		w->cfg->sink->end(w->out, &w->ctx);
	int ret = rs_out_flush(w->out);
	if (ret < 0)
		w->ck_stale = true;
	/* The inventory's row says how the scan ended (a failure is said). */
	int dret = rs_writer_db_finish(w, complete);
	if (w->cfg->sink->sorted && !ret)
		ret = dret < 0 ? dret : write_sorted(w);
	return ret;
}
