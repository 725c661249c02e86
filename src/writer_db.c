/* --db in the writer (writer_db.h). The inventory's writer thread takes
 * the answers; the ordering that keeps it exactly once under --resume is
 * here: a checkpoint is written only after a durable commit of every
 * answer it counts, and a resumed scan first drops what its checkpoint
 * does not count (config.c, rs_inv_resume). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "errmsg.h"
#include "ringscan/inventory.h"
#include "writer.h"
#include "writer_db.h"

static uint64_t real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The port set as "22-23,80". */
static char *ports(const struct rs_set32 *p)
{
	char *s = malloc(p->n * 12 + 1);
	size_t at = 0;

	if (!s)
		return NULL;
	s[0] = 0;
	for (size_t i = 0; i < p->n; i++) {
		if (p->r[i].lo == p->r[i].hi)
			at += (size_t)sprintf(s + at, "%s%u", i ? "," : "", p->r[i].lo);
		else
			at += (size_t)sprintf(s + at, "%s%u-%u", i ? "," : "", p->r[i].lo,
					      p->r[i].hi);
	}
	return s;
}

/* A new scans row for this command line. */
static int create_row(struct rs_writer *w)
{
	const struct rs_config *cfg = w->cfg;
	struct rs_fingerprint fp = {0};
	struct rs_inv_scan sc = {
		.started_ns = real_ns(),
		.version = (char *)RS_VERSION,
		.seed = cfg->seed,
		.shard_index = cfg->shard_index,
		.shard_count = cfg->shard_count,
		.space = rs_space_count(&cfg->space),
		.positions = w->sum->targets,
		.all = cfg->all,
		.service = cfg->service	 ? 2
			   : cfg->banner ? 1
					 : 0,
	};
	int ret;

	rs_fingerprint_sets(&fp, &cfg->space, &cfg->exclude);
	sc.targets_hash = fp.targets;
	sc.ports_hash = fp.ports;
	sc.exclude_hash = fp.exclude;
	sc.cmdline = cfg->cmdline; /* joined before getopt permuted argv */
	sc.ports = ports(&cfg->space.ports);
	ret = sc.ports ? rs_inv_scan_create(cfg->db, &sc) : -ENOMEM;
	free(sc.ports);
	if (ret < 0)
		return ret;
	w->db_scan = sc.id;
	w->db_token = sc.token;
	return 0;
}

int rs_writer_db_init(struct rs_writer *w)
{
	const struct rs_config *cfg = w->cfg;
	int ret;

	if (!cfg->db)
		return 0;
	if (cfg->resume && cfg->resume->db_scan) {
		w->db_scan = cfg->resume->db_scan;
		w->db_token = cfg->resume->db_token;
		ret = 0;
	} else {
		ret = create_row(w);
	}
	if (!ret)
		ret = rs_inv_writer_start(cfg->db, w->db_scan);
	if (ret < 0) {
		rs_errorf("--db: '%s': %s", cfg->db_path,
			  ret == -EIO ? rs_inv_errmsg(cfg->db) : strerror(-ret));
		w->db_failed = true;
	}
	return ret;
}

/* The writer thread failed: say so once. */
static void failed(struct rs_writer *w, int ret)
{
	if (!w->db_failed)
		rs_errorf("--db: '%s': %s; stopping", w->cfg->db_path,
			  ret == -EIO ? rs_inv_errmsg(w->cfg->db) : strerror(-ret));
	w->db_failed = true;
}

void rs_writer_db_put(struct rs_writer *w, const struct rs_result *r, const struct rs_svcrec *rec)
{
	int ret;

	if (w->db_failed)
		return;
	if ((ret = rs_inv_put(w->cfg->db, r, rec)) < 0)
		failed(w, ret);
}

void rs_writer_db_tick(struct rs_writer *w)
{
	if (w->cfg->db && !w->db_failed)
		rs_inv_tick(w->cfg->db);
}

/* The row's progress: the counts, and once the scan ended, how. */
static int db_sync(struct rs_writer *w)
{
	struct rs_inv_progress p = {
		.ended_ns = w->db_end_ns,
		.complete = w->db_complete,
		.interrupted = w->sum->interrupted,
		/* "none" (no worker started in this run) keeps what an earlier
		 * run of the scan recorded. */
		.engine = w->sum->engine && strcmp(w->sum->engine, "none") ? w->sum->engine : NULL,
	};
	int ret;

	if (w->db_failed)
		return -EIO;
	memcpy(p.count, w->sum->count, sizeof(p.count));
	if ((ret = rs_inv_sync(w->cfg->db, &p, true)) < 0)
		failed(w, ret);
	return ret;
}

int rs_writer_db_sync(struct rs_writer *w, struct rs_checkpoint *ck)
{
	if (!w->cfg->db)
		return 0;
	ck->db_scan = w->db_scan;
	ck->db_token = w->db_token;
	return db_sync(w);
}

int rs_writer_db_finish(struct rs_writer *w, bool complete)
{
	if (!w->cfg->db)
		return 0;
	w->db_end_ns = real_ns();
	w->db_complete = complete;
	return db_sync(w);
}
