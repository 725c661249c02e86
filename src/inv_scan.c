/* The scans table: a new scan's row, reading one back, and --resume's
 * making a scan's results match its checkpoint. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "inv_int.h"

static const char *const count_col[RS_NSTATES] = {
	"n_open", "n_closed", "n_filtered", "n_unreachable", "n_error",
};

/* The command line as one string, arguments with anything but
 * [A-Za-z0-9,./:=_+@%-] single-quoted (shell style). */
char *rs_inv_cmdline(int argc, char *const *argv)
{
	size_t n = 1;
	for (int i = 0; i < argc; i++)
		n += 4 * strlen(argv[i]) + 3;
	char *s = malloc(n), *d = s;
	if (!s)
		return NULL;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		bool q = !*a || strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					  "0123456789,./:=_+@%-") != strlen(a);
		if (i)
			*d++ = ' ';
		if (q)
			*d++ = '\'';
		for (; *a; a++) {
			if (*a == '\'') {
				memcpy(d, "'\\''", 4);
				d += 4;
			} else {
				*d++ = *a;
			}
		}
		if (q)
			*d++ = '\'';
	}
	*d = 0;
	return s;
}

void rs_inv_scan_free(struct rs_inv_scan *sc)
{
	free(sc->version);
	free(sc->cmdline);
	free(sc->ports);
	free(sc->shards);
	sc->version = sc->cmdline = sc->ports = sc->shards = NULL;
}

int rs_inv_scan_create(struct rs_inv *db, struct rs_inv_scan *sc)
{
	static const char sql[] =
		"INSERT INTO scans (token, started, started_ns, ended, ended_ns, version, cmdline, "
		"seed, shard_index, shard_count, shards, engine, ports, targets_hash, ports_hash, "
		"exclude_hash, space, positions, all_states, service, n_open, n_closed, "
		"n_filtered, "
		"n_unreachable, n_error, complete, interrupted) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
		"?7, "
		"?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, "
		"?24, "
		"?25, ?26, ?27)";
	char t[17], th[17], ph[17], eh[17], seed[24], started[40], ended[40];
	sqlite3_stmt *st;
	int ret;

	if (getrandom(&sc->token, sizeof(sc->token), 0) != sizeof(sc->token))
		return -EIO;
	if ((ret = inv_prepare(db, sql, &st)))
		return ret;
	inv_hex(t, sc->token);
	inv_hex(th, sc->targets_hash);
	inv_hex(ph, sc->ports_hash);
	inv_hex(eh, sc->exclude_hash);
	snprintf(seed, sizeof(seed), "%" PRIu64, sc->seed);
	inv_iso(started, sc->started_ns);
	inv_iso(ended, sc->ended_ns);
	sqlite3_bind_text(st, 1, t, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, started, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (int64_t)sc->started_ns);
	if (sc->ended_ns) {
		sqlite3_bind_text(st, 4, ended, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 5, (int64_t)sc->ended_ns);
	}
	sqlite3_bind_text(st, 6, sc->version ? sc->version : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, sc->cmdline ? sc->cmdline : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, seed, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 9, sc->shard_index);
	sqlite3_bind_int64(st, 10, sc->shard_count);
	if (sc->shards)
		sqlite3_bind_text(st, 11, sc->shards, -1, SQLITE_TRANSIENT);
	if (sc->engine[0])
		sqlite3_bind_text(st, 12, sc->engine, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 13, sc->ports ? sc->ports : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 14, th, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 15, ph, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 16, eh, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 17, (int64_t)sc->space);
	sqlite3_bind_int64(st, 18, (int64_t)sc->positions);
	sqlite3_bind_int(st, 19, sc->all);
	sqlite3_bind_int(st, 20, sc->service);
	for (int s = 0; s < RS_NSTATES; s++)
		sqlite3_bind_int64(st, 21 + s, (int64_t)sc->count[s]);
	sqlite3_bind_int(st, 26, sc->complete);
	sqlite3_bind_int(st, 27, sc->interrupted);
	if (sqlite3_step(st) != SQLITE_DONE)
		ret = inv_fail(db, "adding the scan");
	else
		sc->id = sqlite3_last_insert_rowid(db->db);
	sqlite3_finalize(st);
	return ret;
}

/* A text column, copied (NULL stays NULL). */
static char *col_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);
	return s ? strdup((const char *)s) : NULL;
}

static uint64_t col_hex(sqlite3_stmt *st, int col)
{
	uint64_t v = 0;
	inv_unhex((const char *)sqlite3_column_text(st, col), &v);
	return v;
}

/* The row st stands on into sc (columns as rs_inv_scan_get selects). */
static int read_row(sqlite3_stmt *st, struct rs_inv_scan *sc)
{
	const unsigned char *seed = sqlite3_column_text(st, 7);
	const unsigned char *eng = sqlite3_column_text(st, 11);

	memset(sc, 0, sizeof(*sc));
	sc->id = sqlite3_column_int64(st, 0);
	sc->token = col_hex(st, 1);
	sc->started_ns = (uint64_t)sqlite3_column_int64(st, 2);
	sc->ended_ns = (uint64_t)sqlite3_column_int64(st, 3);
	sc->version = col_dup(st, 4);
	sc->cmdline = col_dup(st, 5);
	sc->ports = col_dup(st, 6);
	sc->seed = seed ? strtoull((const char *)seed, NULL, 10) : 0;
	sc->shard_index = (uint32_t)sqlite3_column_int64(st, 8);
	sc->shard_count = (uint32_t)sqlite3_column_int64(st, 9);
	sc->shards = col_dup(st, 10);
	snprintf(sc->engine, sizeof(sc->engine), "%s", eng ? (const char *)eng : "");
	sc->targets_hash = col_hex(st, 12);
	sc->ports_hash = col_hex(st, 13);
	sc->exclude_hash = col_hex(st, 14);
	sc->space = (uint64_t)sqlite3_column_int64(st, 15);
	sc->positions = (uint64_t)sqlite3_column_int64(st, 16);
	sc->all = sqlite3_column_int(st, 17) != 0;
	sc->service = sqlite3_column_int(st, 18);
	for (int s = 0; s < RS_NSTATES; s++)
		sc->count[s] = (uint64_t)sqlite3_column_int64(st, 19 + s);
	sc->complete = sqlite3_column_int(st, 24) != 0;
	sc->interrupted = sqlite3_column_int(st, 25);
	if (!sc->version || !sc->cmdline || !sc->ports) {
		rs_inv_scan_free(sc);
		return -ENOMEM;
	}
	return 0;
}

int rs_inv_scan_get(struct rs_inv *db, int64_t id, struct rs_inv_scan *sc)
{
	static const char sql[] =
		"SELECT id, token, started_ns, ended_ns, version, cmdline, ports, seed, "
		"shard_index, shard_count, shards, engine, targets_hash, ports_hash, exclude_hash, "
		"space, positions, all_states, service, n_open, n_closed, n_filtered, "
		"n_unreachable, n_error, complete, interrupted FROM scans WHERE ?1 < 0 OR id = ?1 "
		"ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st;
	int ret = inv_prepare(db, sql, &st);

	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		ret = read_row(st, sc);
	else if (rc == SQLITE_DONE)
		ret = -ENOENT;
	else
		ret = inv_fail(db, "reading the scans");
	sqlite3_finalize(st);
	return ret;
}

int rs_inv_scan_ids(struct rs_inv *db, int64_t **ids, size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int ret = inv_prepare(db, "SELECT id FROM scans ORDER BY id", &st), rc;

	*ids = NULL;
	*n = 0;
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			int64_t *m = realloc(*ids, (cap = cap ? 2 * cap : 16) * sizeof(*m));
			if (!m) {
				ret = -ENOMEM;
				break;
			}
			*ids = m;
		}
		(*ids)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = inv_fail(db, "reading the scans");
	sqlite3_finalize(st);
	return ret;
}

/* Is pos (>= ck->low) in one of ck's runs? */
static bool in_runs(const struct rs_checkpoint *ck, uint64_t pos)
{
	size_t lo = 0, hi = ck->nruns;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (pos >= ck->runs[mid].end)
			lo = mid + 1;
		else if (pos < ck->runs[mid].begin)
			hi = mid;
		else
			return true;
	}
	return false;
}

/* Delete the results of scan id above ck->low that ck does not count. */
static int prune(struct rs_inv *db, int64_t id, const struct rs_checkpoint *ck, uint64_t *gone)
{
	sqlite3_stmt *sel = NULL, *del = NULL;
	int ret = inv_prepare(db, "SELECT pos FROM results WHERE scan = ?1 AND pos >= ?2", &sel);

	if (!ret)
		ret = inv_prepare(db, "DELETE FROM results WHERE scan = ?1 AND pos = ?2", &del);
	if (ret)
		goto out;
	sqlite3_bind_int64(sel, 1, id);
	sqlite3_bind_int64(sel, 2, (int64_t)ck->low);
	sqlite3_bind_int64(del, 1, id);
	int rc;
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		int64_t pos = sqlite3_column_int64(sel, 0);
		if (in_runs(ck, (uint64_t)pos))
			continue;
		sqlite3_reset(del);
		sqlite3_bind_int64(del, 2, pos);
		if (sqlite3_step(del) != SQLITE_DONE) {
			ret = inv_fail(db, "deleting answers the checkpoint does not hold");
			goto out;
		}
		(*gone)++;
	}
	if (rc != SQLITE_DONE)
		ret = inv_fail(db, "reading the results");
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(del);
	return ret;
}

/* How many results scan id holds. */
static int count_rows(struct rs_inv *db, int64_t id, uint64_t *n)
{
	sqlite3_stmt *st;
	int ret = inv_prepare(db, "SELECT count(*) FROM results WHERE scan = ?1", &st);

	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		*n = (uint64_t)sqlite3_column_int64(st, 0);
	else
		ret = inv_fail(db, "counting the results");
	sqlite3_finalize(st);
	return ret;
}

/* The scan's row must be ck's: same token, unfinished. */
static int check_row(struct rs_inv *db, const struct rs_checkpoint *ck, char *err, size_t errlen)
{
	struct rs_inv_scan sc = {0};
	int ret = rs_inv_scan_get(db, ck->db_scan, &sc);

	if (ret == -ENOENT || (!ret && sc.token != ck->db_token)) {
		snprintf(err, errlen,
			 "holds no scan %lld of the checkpoint's (it records another database)",
			 (long long)ck->db_scan);
		ret = -ESTALE;
	} else if (!ret && sc.complete) {
		snprintf(err, errlen, "scan %lld is complete already", (long long)ck->db_scan);
		ret = -ESTALE;
	} else if (ret) {
		snprintf(err, errlen, "%s", db->err);
	}
	rs_inv_scan_free(&sc);
	return ret;
}

int rs_inv_resume(struct rs_inv *db, const struct rs_checkpoint *ck, bool all, char *err,
		  size_t errlen)
{
	uint64_t gone = 0, rows = 0, want = all ? 0 : ck->count[RS_OPEN];
	int ret = check_row(db, ck, err, errlen);

	if (ret)
		return ret;
	for (int s = 0; all && s < RS_NSTATES; s++)
		want += ck->count[s];
	ret = inv_exec(db, "BEGIN IMMEDIATE");
	if (!ret)
		ret = prune(db, ck->db_scan, ck, &gone);
	if (!ret)
		ret = count_rows(db, ck->db_scan, &rows);
	if (!ret && rows != want) {
		snprintf(err, errlen,
			 "scan %lld holds %llu answers where the checkpoint records %llu (an older "
			 "copy of the database?)",
			 (long long)ck->db_scan, (unsigned long long)rows,
			 (unsigned long long)want);
		sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
		return -ESTALE;
	}
	if (!ret)
		ret = inv_exec(db, "COMMIT");
	if (ret) {
		sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
		snprintf(err, errlen, "%s", db->err);
	}
	return ret;
}

int inv_progress(struct rs_inv *db, const struct rs_inv_progress *p)
{
	char sql[512], ended[40];
	size_t at;
	sqlite3_stmt *st;
	int ret;

	at = (size_t)snprintf(sql, sizeof(sql), "UPDATE scans SET ");
	for (int s = 0; s < RS_NSTATES; s++)
		at += (size_t)snprintf(sql + at, sizeof(sql) - at, "%s = ?%d, ", count_col[s],
				       s + 1);
	snprintf(sql + at, sizeof(sql) - at,
		 "ended = ?6, ended_ns = ?7, complete = ?8, interrupted = ?9, "
		 "engine = coalesce(?10, engine) WHERE id = ?11");
	if ((ret = inv_prepare(db, sql, &st)))
		return ret;
	for (int s = 0; s < RS_NSTATES; s++)
		sqlite3_bind_int64(st, s + 1, (int64_t)p->count[s]);
	if (p->ended_ns) {
		inv_iso(ended, p->ended_ns);
		sqlite3_bind_text(st, 6, ended, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 7, (int64_t)p->ended_ns);
	}
	sqlite3_bind_int(st, 8, p->complete);
	sqlite3_bind_int(st, 9, p->interrupted);
	if (p->engine)
		sqlite3_bind_text(st, 10, p->engine, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 11, db->scan);
	if (sqlite3_step(st) != SQLITE_DONE)
		ret = inv_fail(db, "updating the scan");
	sqlite3_finalize(st);
	return ret;
}
