/* ringscan merge: the shards of one scan (--shard i/n runs, each with its
 * own database) as one scan. Shards of one scan share the permutation, so
 * their positions are disjoint and the (scan, position) key stays unique;
 * the merged scan is complete when every shard is there and complete. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inv_int.h"

#define COLS                                                                                       \
	"pos, ip, family, addr, port, state, reason, err, rtt_us, attempts, ts_ns, "               \
	"service, product, version, info, hostname, os, device, cpe, method, probe, "              \
	"banner, svc_rec"

/* Are a and b shards of one scan? Words for what differs, or NULL. */
static const char *differs(const struct rs_inv_scan *a, const struct rs_inv_scan *b)
{
	if (a->targets_hash != b->targets_hash || a->exclude_hash != b->exclude_hash)
		return "the targets differ";
	if (a->ports_hash != b->ports_hash)
		return "the ports differ";
	if (a->space != b->space)
		return "the target spaces differ";
	if (a->seed != b->seed)
		return "the seed differs";
	if (a->shard_count != b->shard_count)
		return "the shard counts differ";
	if (a->shards || b->shards)
		return "one is a merged scan already";
	if (a->all != b->all)
		return "--all differs";
	if (a->service != b->service)
		return "the service stage differs";
	return NULL;
}

/* The merged scan's row from its shards'. */
static void combine(struct rs_inv_scan *m, const struct rs_inv_scan *sc, size_t n, char *shards,
		    size_t cap)
{
	size_t at = 0;
	bool all_done = true;

	*m = sc[0];
	m->version = (char *)RS_VERSION;
	m->shard_index = 0;
	m->shard_count = 1;
	m->positions = 0;
	memset(m->count, 0, sizeof(m->count));
	for (size_t i = 0; i < n; i++) {
		m->positions += sc[i].positions;
		for (int s = 0; s < RS_NSTATES; s++)
			m->count[s] += sc[i].count[s];
		all_done &= sc[i].complete;
		if (sc[i].started_ns < m->started_ns)
			m->started_ns = sc[i].started_ns;
		if (!sc[i].ended_ns || (m->ended_ns && sc[i].ended_ns > m->ended_ns))
			m->ended_ns = sc[i].ended_ns;
		if (sc[i].interrupted)
			m->interrupted = sc[i].interrupted;
		if (strcmp(sc[i].engine, m->engine))
			snprintf(m->engine, sizeof(m->engine), "mixed");
		at += (size_t)snprintf(shards + at, cap - at, "%s%u", i ? "," : "",
				       sc[i].shard_index);
		if (at >= cap)
			at = cap - 1;
	}
	snprintf(shards + at, cap - at, "/%u", sc[0].shard_count);
	m->shards = shards;
	m->complete = all_done && n == sc[0].shard_count;
}

/* Copy scan id's results from in into scan to of out. */
static int copy_results(struct rs_inv *out, struct rs_inv *in, int64_t id, int64_t to)
{
	sqlite3_stmt *sel = NULL, *ins = NULL;
	int rc, ret = inv_prepare(in, "SELECT " COLS " FROM results WHERE scan = ?1", &sel);

	if (!ret)
		ret = inv_prepare(
			out,
			"INSERT INTO results (scan, " COLS ") VALUES (?1, ?2, ?3, ?4, ?5, "
			"?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
			"?20, ?21, ?22, ?23, ?24)",
			&ins);
	if (ret) {
		if (!out->err[0])
			snprintf(out->err, sizeof(out->err), "%s", in->err);
		goto out;
	}
	sqlite3_bind_int64(sel, 1, id);
	sqlite3_bind_int64(ins, 1, to);
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		sqlite3_reset(ins);
		for (int c = 0; c < 23; c++)
			sqlite3_bind_value(ins, c + 2, sqlite3_column_value(sel, c));
		if (sqlite3_step(ins) != SQLITE_DONE) {
			ret = inv_fail(out, "copying an answer");
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		inv_fail(in, "reading the results");
		snprintf(out->err, sizeof(out->err), "%s", in->err);
		ret = -EIO;
	}
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	return ret;
}

/* The input scans' rows, checked to be shards of one scan. */
static int check_shards(struct rs_inv_scan *sc, size_t n, char *err, size_t errlen)
{
	for (size_t i = 1; i < n; i++) {
		const char *d = differs(&sc[0], &sc[i]);
		if (d) {
			snprintf(err, errlen, "input %zu is not a shard of input 1's scan: %s",
				 i + 1, d);
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++)
			if (sc[j].shard_index == sc[i].shard_index) {
				snprintf(err, errlen, "inputs %zu and %zu are both shard %u/%u",
					 j + 1, i + 1, sc[i].shard_index, sc[i].shard_count);
				return -EINVAL;
			}
	}
	if (sc[0].shards) {
		snprintf(err, errlen, "input 1 is a merged scan already");
		return -EINVAL;
	}
	return 0;
}

int rs_inv_merge(struct rs_inv *out, struct rs_inv *const *ins, const int64_t *ids, size_t n,
		 const char *cmdline, int64_t *merged, char *err, size_t errlen)
{
	struct rs_inv_scan *sc = calloc(n, sizeof(*sc)), m;
	char shards[1024];
	size_t got = 0;
	int ret = sc ? 0 : -ENOMEM;

	for (; !ret && got < n; got++)
		if ((ret = rs_inv_scan_get(ins[got], ids[got], &sc[got])))
			snprintf(err, errlen, "input %zu: %s", got + 1,
				 ret == -ENOENT ? "no such scan" : ins[got]->err);
	if (ret)
		goto out;
	if ((ret = check_shards(sc, n, err, errlen)))
		goto out;
	combine(&m, sc, n, shards, sizeof(shards));
	m.cmdline = (char *)cmdline;
	ret = inv_exec(out, "BEGIN IMMEDIATE");
	if (!ret)
		ret = rs_inv_scan_create(out, &m);
	for (size_t i = 0; !ret && i < n; i++)
		ret = copy_results(out, ins[i], sc[i].id, m.id);
	if (!ret)
		ret = inv_exec(out, "COMMIT");
	if (ret) {
		sqlite3_exec(out->db, "ROLLBACK", NULL, NULL, NULL);
		snprintf(err, errlen, "%s", out->err);
	} else {
		*merged = m.id;
	}
out:
	for (size_t i = 0; i < got; i++)
		rs_inv_scan_free(&sc[i]);
	free(sc);
	return ret;
}
