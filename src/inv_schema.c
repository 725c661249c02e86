/* The inventory's database: opening it, its schema and the schema's
 * versions (PRAGMA user_version), migrated forward one step at a time.
 * docs/inventory.md documents every table and column. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inv_int.h"
#include "ringscan/sink.h"

/* steps[v] takes a database of schema version v to v + 1 (version 0: an
 * empty file). A new version appends a step; none is ever edited. */
static const char *const steps[RS_INV_SCHEMA] = {
	/* 0 -> 1 */
	"CREATE TABLE scans ("
	" id INTEGER PRIMARY KEY,"
	" token TEXT NOT NULL,"
	" started TEXT NOT NULL, started_ns INTEGER NOT NULL,"
	" ended TEXT, ended_ns INTEGER,"
	" version TEXT NOT NULL, cmdline TEXT NOT NULL,"
	" seed TEXT NOT NULL, shard_index INTEGER NOT NULL, shard_count INTEGER NOT NULL,"
	" shards TEXT,"
	" engine TEXT, ports TEXT NOT NULL,"
	" targets_hash TEXT NOT NULL, ports_hash TEXT NOT NULL, exclude_hash TEXT NOT NULL,"
	" space INTEGER NOT NULL, positions INTEGER NOT NULL,"
	" all_states INTEGER NOT NULL, service INTEGER NOT NULL,"
	" n_open INTEGER NOT NULL DEFAULT 0, n_closed INTEGER NOT NULL DEFAULT 0,"
	" n_filtered INTEGER NOT NULL DEFAULT 0, n_unreachable INTEGER NOT NULL DEFAULT 0,"
	" n_error INTEGER NOT NULL DEFAULT 0,"
	" complete INTEGER NOT NULL DEFAULT 0, interrupted INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE results ("
	" scan INTEGER NOT NULL REFERENCES scans(id),"
	" pos INTEGER NOT NULL,"
	" ip TEXT NOT NULL, family INTEGER NOT NULL, addr BLOB NOT NULL,"
	" port INTEGER NOT NULL,"
	" state TEXT NOT NULL, reason TEXT NOT NULL, err INTEGER NOT NULL,"
	" rtt_us INTEGER NOT NULL, attempts INTEGER NOT NULL,"
	" ts_ns INTEGER NOT NULL,"
	" service TEXT, product TEXT, version TEXT, info TEXT, hostname TEXT,"
	" os TEXT, device TEXT, cpe TEXT, method TEXT, probe TEXT,"
	" banner BLOB, svc_rec BLOB,"
	" PRIMARY KEY (scan, pos)) WITHOUT ROWID;"
	/* For people and their queries: times as the JSON writes them. */
	"CREATE VIEW answers AS SELECT scan, pos, ip, port, state, reason, rtt_us, attempts,"
	" strftime('%Y-%m-%dT%H:%M:%S', ts_ns / 1000000000, 'unixepoch') ||"
	" printf('.%06dZ', ts_ns / 1000 % 1000000) AS ts,"
	" service, product, version, info, hostname, os, device, cpe, method, probe, banner"
	" FROM results;",
};

int inv_fail(struct rs_inv *db, const char *what)
{
	snprintf(db->err, sizeof(db->err), "%s: %s", what, sqlite3_errmsg(db->db));
	return -EIO;
}

int inv_exec(struct rs_inv *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(db->err, sizeof(db->err), "%s", msg ? msg : sqlite3_errmsg(db->db));
	sqlite3_free(msg);
	return -EIO;
}

int inv_prepare(struct rs_inv *db, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db->db, sql, -1, st, NULL) == SQLITE_OK)
		return 0;
	*st = NULL;
	return inv_fail(db, "preparing a statement");
}

const char *rs_inv_errmsg(const struct rs_inv *db)
{
	return db->err;
}

void inv_hex(char *dst, uint64_t v)
{
	snprintf(dst, 17, "%016" PRIx64, v);
}

int inv_unhex(const char *s, uint64_t *v)
{
	char *end;

	if (!s || strlen(s) != 16 || strspn(s, "0123456789abcdef") != 16)
		return -EINVAL;
	*v = strtoull(s, &end, 16);
	return 0;
}

void inv_iso(char *dst, uint64_t ns)
{
	dst[rs_fmt_ts(dst, ns)] = 0;
}

/* One integer from a PRAGMA. */
static int pragma_int(struct rs_inv *db, const char *sql, int64_t *v)
{
	sqlite3_stmt *st;
	int ret = inv_prepare(db, sql, &st);

	if (ret)
		return ret;
	if (sqlite3_step(st) == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	else
		ret = inv_fail(db, "reading the schema");
	sqlite3_finalize(st);
	return ret;
}

/* Is this a database of ours (or an empty one)? Its schema version. */
static int schema_version(struct rs_inv *db, int64_t *version)
{
	int64_t app = 0, tables = 0;
	int ret = pragma_int(db, "PRAGMA application_id", &app);

	if (!ret)
		ret = pragma_int(db, "SELECT count(*) FROM sqlite_master", &tables);
	if (!ret)
		ret = pragma_int(db, "PRAGMA user_version", version);
	if (ret)
		return ret;
	if (tables && app != INV_APP_ID) {
		snprintf(db->err, sizeof(db->err),
			 "an SQLite database, but not a ringscan inventory");
		return -EINVAL;
	}
	if (*version > RS_INV_SCHEMA) {
		snprintf(db->err, sizeof(db->err),
			 "schema version %lld, newer than this ringscan's (%d): use a newer "
			 "ringscan",
			 (long long)*version, RS_INV_SCHEMA);
		return -EPROTO;
	}
	return 0;
}

/* Bring the schema from version v to RS_INV_SCHEMA, one step per
 * transaction, each recording its version. */
static int migrate(struct rs_inv *db, int64_t v)
{
	char sql[96];
	int ret = 0;

	for (; v < RS_INV_SCHEMA && !ret; v++) {
		snprintf(sql, sizeof(sql), "PRAGMA application_id=%d; PRAGMA user_version=%lld;",
			 INV_APP_ID, (long long)v + 1);
		ret = inv_exec(db, "BEGIN IMMEDIATE");
		if (!ret)
			ret = inv_exec(db, steps[v]);
		if (!ret)
			ret = inv_exec(db, sql);
		if (!ret)
			ret = inv_exec(db, "COMMIT");
		else
			sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	}
	return ret;
}

/* The file's state before SQLite sees it: RS_INV_READ needs one,
 * RS_INV_CREATE must make a new one (exclusively, against a race). */
static int check_file(const char *path, enum rs_inv_mode mode, char *err, size_t errlen)
{
	struct stat st;

	if (mode == RS_INV_CREATE) {
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0) {
			int e = errno;
			snprintf(err, errlen, "cannot create '%s': %s", path,
				 e == EEXIST ? "it exists (give a new file)" : strerror(e));
			return -e;
		}
		close(fd);
		return 0;
	}
	if (stat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "'%s' is not a regular file", path);
			return -EINVAL;
		}
		return 0;
	}
	if (mode == RS_INV_READ || errno != ENOENT) {
		int e = errno;
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(e));
		return -e;
	}
	return 0;
}

/* Settings of a writing connection: WAL (readers never block the scan,
 * and see only committed batches), commits not synced except where a
 * checkpoint needs them (rs_inv_sync), foreign keys checked (but not by
 * the writer thread, for its own rows: inv_write.c). Pages of 16
 * KiB for a new database (a quarter of the writes of 4 KiB pages, the
 * same bytes). synchronous=NORMAL comes before journal_mode=WAL: turning
 * a new file into a WAL database is a rollback-journal transaction, and
 * NORMAL syncs it (journal, then database) without FULL's extra syncs of
 * the journal's header.
 *
 * The WAL is folded into the database every 128 pages (2 MiB), by the
 * writer thread after the commit that crosses that size, while the scan
 * runs: what is left for the close (which folds in the rest, syncs the
 * database and removes the WAL, all on the scan's way out) stays small
 * whatever the scan's size, and the WAL, restarted after each fold, does
 * not grow. With 2,048 pages (32 MiB) a 65,536-row scan's whole WAL was
 * folded in at the close: about 30 ms of its end. */
static int setup_writer(struct rs_inv *db)
{
	return inv_exec(db, "PRAGMA page_size=16384; PRAGMA synchronous=NORMAL;"
			    "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;"
			    "PRAGMA wal_autocheckpoint=128;");
}

int rs_inv_open(const char *path, enum rs_inv_mode mode, struct rs_inv **out, char *err,
		size_t errlen)
{
	struct rs_inv *db;
	int64_t version = 0;
	int ret = check_file(path, mode, err, errlen);

	*out = NULL;
	if (ret)
		return ret;
	/* No memory statistics: they take a global mutex on every
	 * allocation. Refused (harmlessly) once SQLite is initialised. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	db = calloc(1, sizeof(*db));
	if (!db) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int flags = mode == RS_INV_READ ? SQLITE_OPEN_READONLY
					: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &db->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		ret = inv_fail(db, "cannot open");
		goto out;
	}
	sqlite3_busy_timeout(db->db, 10000);
	if (mode != RS_INV_READ && sqlite3_db_readonly(db->db, "main") == 1) {
		snprintf(db->err, sizeof(db->err), "cannot write it (read-only)");
		ret = -EACCES;
		goto out;
	}
	ret = schema_version(db, &version);
	if (!ret && mode == RS_INV_READ && version < RS_INV_SCHEMA) {
		snprintf(db->err, sizeof(db->err), "%s",
			 version ? "an older schema: open it once with --db to migrate it"
				 : "an empty database, not a ringscan inventory");
		ret = -EINVAL;
	}
	if (!ret && mode != RS_INV_READ)
		ret = setup_writer(db);
	if (!ret && mode != RS_INV_READ)
		ret = migrate(db, version);
	if (!ret) {
		*out = db;
		return 0;
	}
out:
	snprintf(err, errlen, "'%s': %s", path, db->err);
	if (mode == RS_INV_CREATE)
		unlink(path); /* ours, and unusable */
	rs_inv_close(db);
	return ret;
}
