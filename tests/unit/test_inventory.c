/* Unit tests for the inventory (src/inv_*.c): the schema made and its
 * version refused when newer, a database of the first schema (written
 * out here as that version's SQL) used as it is, answers through the
 * writer thread with repeated positions stored once (also many of them,
 * 32 to a statement, the first answer kept), export order
 * (family, address, port), a service record back byte for byte, --resume
 * cutting the rows back to what a checkpoint counts (and refusing a
 * database that is not the checkpoint's), and merging shards. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ringscan/inventory.h"

static char dir[] = "/tmp/test_inventory.XXXXXX";

static const char *path(const char *name)
{
	static char buf[4][256];
	static int k;
	char *p = buf[k++ & 3];
	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

static struct rs_result mk(const char *ip, uint16_t port, uint64_t pos, enum rs_state st)
{
	struct rs_result r;

	memset(&r, 0, sizeof(r));
	r.ep.family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(r.ep.family, ip, r.ep.addr), 1);
	r.ep.port = port;
	r.pos = pos;
	r.state = (uint8_t)st;
	r.rtt_us = (uint32_t)(100 + pos);
	r.attempts = 1;
	r.ts_ns = 1795624499123456000ULL + pos * 1000;
	return r;
}

static struct rs_inv_scan scan_of(uint64_t seed, uint32_t index, uint32_t count)
{
	struct rs_inv_scan sc = {
		.started_ns = 1795624499000000000ULL,
		.version = "test",
		.cmdline = "ringscan test",
		.ports = "1-3",
		.seed = seed,
		.shard_index = index,
		.shard_count = count,
		.targets_hash = 1,
		.ports_hash = 2,
		.exclude_hash = 3,
		.space = 100,
		.positions = 100 / count,
		.all = true,
	};
	return sc;
}

static struct rs_inv *open_db(const char *name, enum rs_inv_mode mode)
{
	struct rs_inv *db = NULL;
	char err[512];

	if (rs_inv_open(path(name), mode, &db, err, sizeof(err)))
		fail_msg("open %s: %s", name, err);
	return db;
}

struct seen {
	char line[64][80];
	unsigned n;
	struct rs_svcrec rec;
	bool had_rec;
};

static int collect(void *arg, const struct rs_result *r, const struct rs_svcrec *rec)
{
	struct seen *s = arg;
	char ip[64];

	inet_ntop(r->ep.family, r->ep.addr, ip, sizeof(ip));
	assert_true(s->n < 64);
	snprintf(s->line[s->n++], 80, "%s %u %llu %s", ip, r->ep.port, (unsigned long long)r->pos,
		 rs_state_name((enum rs_state)r->state));
	if (rec) {
		s->rec = *rec;
		s->had_rec = true;
	}
	return 0;
}

/* A database of one scan written through the writer thread. */
static int64_t write_scan(struct rs_inv *db, const struct rs_result *rs, size_t n)
{
	struct rs_inv_scan sc = scan_of(7, 0, 1);
	struct rs_inv_progress p = {.count = {n}, .complete = true, .ended_ns = 1};

	assert_int_equal(rs_inv_scan_create(db, &sc), 0);
	assert_int_equal(rs_inv_writer_start(db, sc.id), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(rs_inv_put(db, &rs[i], NULL), 0);
	assert_int_equal(rs_inv_sync(db, &p, true), 0);
	return sc.id;
}

static void test_create_and_order(void **state)
{
	(void)state;
	struct rs_result rs[] = {
		mk("::1", 22, 5, RS_OPEN),	    mk("127.0.0.10", 22, 1, RS_OPEN),
		mk("127.0.0.9", 80, 2, RS_CLOSED),  mk("127.0.0.9", 22, 3, RS_FILTERED),
		mk("127.0.0.10", 22, 1, RS_CLOSED), /* position 1 again: ignored */
	};
	struct rs_inv *db = open_db("a.db", RS_INV_WRITE);
	int64_t id = write_scan(db, rs, 5);
	rs_inv_close(db);

	db = open_db("a.db", RS_INV_READ);
	struct rs_inv_scan sc;
	assert_int_equal(rs_inv_scan_get(db, -1, &sc), 0);
	assert_int_equal(sc.id, id);
	assert_int_equal(sc.seed, 7);
	assert_true(sc.complete);
	assert_string_equal(sc.cmdline, "ringscan test");
	rs_inv_scan_free(&sc);
	struct seen s = {0};
	assert_int_equal(rs_inv_each(db, id, collect, &s), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.line[0], "127.0.0.9 22 3 filtered");
	assert_string_equal(s.line[1], "127.0.0.9 80 2 closed");
	assert_string_equal(s.line[2], "127.0.0.10 22 1 open"); /* the first answer kept */
	assert_string_equal(s.line[3], "::1 22 5 open");
	assert_int_equal(rs_inv_scan_get(db, id + 1, &sc), -ENOENT);
	rs_inv_close(db);
}

static void test_service_record(void **state)
{
	(void)state;
	struct rs_svcrec *rec = calloc(1, sizeof(*rec));
	struct rs_result r = mk("127.0.0.1", 22, 0, RS_OPEN);
	static const char banner[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";

	rec->len = rec->total = sizeof(banner) - 1;
	memcpy(rec->data, banner, rec->len);
	rec->banner.len = rec->len;
	rec->flags = RS_SVCF_SSH;
	snprintf(rec->probe, sizeof(rec->probe), "NULL");
	r.svc = 1;
	struct rs_inv *db = open_db("s.db", RS_INV_WRITE);
	struct rs_inv_scan sc = scan_of(1, 0, 1);
	assert_int_equal(rs_inv_scan_create(db, &sc), 0);
	assert_int_equal(rs_inv_writer_start(db, sc.id), 0);
	assert_int_equal(rs_inv_put(db, &r, rec), 0);
	assert_int_equal(rs_inv_sync(db, NULL, false), 0);
	struct seen *s = calloc(1, sizeof(*s));
	rs_inv_close(db);
	db = open_db("s.db", RS_INV_READ);
	assert_int_equal(rs_inv_each(db, sc.id, collect, s), 0);
	assert_true(s->had_rec);
	assert_memory_equal(&s->rec, rec, sizeof(*rec)); /* the tail past len is zero in both */
	rs_inv_close(db);
	/* The description's columns, for queries. */
	sqlite3 *q;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(path("s.db"), &q), SQLITE_OK);
	assert_int_equal(
		sqlite3_prepare_v2(q, "SELECT service, banner FROM results", -1, &st, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ssh");
	assert_int_equal(sqlite3_column_bytes(st, 1), (int)sizeof(banner) - 1);
	sqlite3_finalize(st);
	sqlite3_close(q);
	free(s);
	free(rec);
}

/* Many answers through the writer: 32 to an INSERT and the rest one by
 * one, a service record now and then, every position twice (the second
 * answer differs and must be ignored, whichever path each took): each
 * position once, with its first answer's columns. */
static void test_many_rows(void **state)
{
	(void)state;
	enum { N = 300 };
	struct rs_svcrec *rec = calloc(1, sizeof(*rec));
	struct rs_inv *db = open_db("m.db", RS_INV_WRITE);
	struct rs_inv_scan sc = scan_of(3, 0, 1);
	char ip[64];

	rec->len = rec->total = rec->banner.len = 4;
	memcpy(rec->data, "HELO", 4);
	assert_int_equal(rs_inv_scan_create(db, &sc), 0);
	assert_int_equal(rs_inv_writer_start(db, sc.id), 0);
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < N; i++) {
			unsigned pos = (i * 7) % N; /* out of order */
			snprintf(ip, sizeof(ip), pos % 5 ? "127.1.%u.%u" : "fd00::%x:%x",
				 pos / 256 + 1, pos % 256);
			struct rs_result r =
				mk(ip, (uint16_t)(1000 + pos), pos, pass ? RS_CLOSED : RS_OPEN);
			bool svc = pos % 37 == (pass ? 1u : 0u);
			r.svc = svc;
			assert_int_equal(rs_inv_put(db, &r, svc ? rec : NULL), 0);
		}
	assert_int_equal(rs_inv_sync(db, NULL, true), 0);
	rs_inv_close(db);
	sqlite3 *q;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(path("m.db"), &q), SQLITE_OK);
	assert_int_equal(
		sqlite3_prepare_v2(q,
				   "SELECT pos, ip, port, state, rtt_us, svc_rec IS NOT NULL "
				   "FROM results WHERE scan = ?1 ORDER BY pos",
				   -1, &st, NULL),
		SQLITE_OK);
	sqlite3_bind_int64(st, 1, sc.id);
	for (unsigned pos = 0; pos < N; pos++) {
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int64(st, 0), pos);
		snprintf(ip, sizeof(ip), pos % 5 ? "127.1.%u.%u" : "fd00::%x:%x", pos / 256 + 1,
			 pos % 256);
		assert_string_equal((const char *)sqlite3_column_text(st, 1), ip);
		assert_int_equal(sqlite3_column_int(st, 2), 1000 + pos);
		assert_string_equal((const char *)sqlite3_column_text(st, 3), "open");
		assert_int_equal(sqlite3_column_int64(st, 4), 100 + pos);
		assert_int_equal(sqlite3_column_int(st, 5), pos % 37 == 0);
	}
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(q);
	free(rec);
}

/* Run sql on the file name directly. */
static void raw(const char *name, const char *sql)
{
	sqlite3 *q;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path(name), &q), SQLITE_OK);
	if (sqlite3_exec(q, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(q);
}

static void test_refusals(void **state)
{
	(void)state;
	struct rs_inv *db = NULL;
	char err[512];

	raw("newer.db", "PRAGMA application_id=1920164726; CREATE TABLE t(x); "
			"PRAGMA user_version=99");
	assert_int_equal(rs_inv_open(path("newer.db"), RS_INV_WRITE, &db, err, sizeof(err)),
			 -EPROTO);
	assert_non_null(strstr(err, "schema version 99, newer than this ringscan's"));
	raw("other.db", "CREATE TABLE t(x)");
	assert_int_equal(rs_inv_open(path("other.db"), RS_INV_WRITE, &db, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "not a ringscan inventory"));
	FILE *f = fopen(path("junk.db"), "w");
	fputs("this is not a database, just text that is long enough to be read as one.......", f);
	fclose(f);
	assert_int_not_equal(rs_inv_open(path("junk.db"), RS_INV_WRITE, &db, err, sizeof(err)), 0);
	assert_int_equal(rs_inv_open(path("none.db"), RS_INV_READ, &db, err, sizeof(err)), -ENOENT);
	assert_int_equal(rs_inv_open(path("other.db"), RS_INV_CREATE, &db, err, sizeof(err)),
			 -EEXIST);
	assert_null(db);
}

/* The first schema, as version 1 wrote it: a database made by that
 * ringscan must open, take scans and export with every later one. */
static const char schema_v1[] =
	"PRAGMA application_id=1920164726; PRAGMA user_version=1;"
	"CREATE TABLE scans (id INTEGER PRIMARY KEY, token TEXT NOT NULL, started TEXT NOT NULL,"
	" started_ns INTEGER NOT NULL, ended TEXT, ended_ns INTEGER, version TEXT NOT NULL,"
	" cmdline TEXT NOT NULL, seed TEXT NOT NULL, shard_index INTEGER NOT NULL,"
	" shard_count INTEGER NOT NULL, shards TEXT, engine TEXT, ports TEXT NOT NULL,"
	" targets_hash TEXT NOT NULL, ports_hash TEXT NOT NULL, exclude_hash TEXT NOT NULL,"
	" space INTEGER NOT NULL, positions INTEGER NOT NULL, all_states INTEGER NOT NULL,"
	" service INTEGER NOT NULL, n_open INTEGER NOT NULL DEFAULT 0,"
	" n_closed INTEGER NOT NULL DEFAULT 0, n_filtered INTEGER NOT NULL DEFAULT 0,"
	" n_unreachable INTEGER NOT NULL DEFAULT 0, n_error INTEGER NOT NULL DEFAULT 0,"
	" complete INTEGER NOT NULL DEFAULT 0, interrupted INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE results (scan INTEGER NOT NULL REFERENCES scans(id), pos INTEGER NOT NULL,"
	" ip TEXT NOT NULL, family INTEGER NOT NULL, addr BLOB NOT NULL, port INTEGER NOT NULL,"
	" state TEXT NOT NULL, reason TEXT NOT NULL, err INTEGER NOT NULL,"
	" rtt_us INTEGER NOT NULL, attempts INTEGER NOT NULL,"
	" ts_ns INTEGER NOT NULL, service TEXT, product TEXT, version TEXT, info TEXT,"
	" hostname TEXT, os TEXT, device TEXT, cpe TEXT, method TEXT, probe TEXT, banner BLOB,"
	" svc_rec BLOB, PRIMARY KEY (scan, pos)) WITHOUT ROWID;"
	"CREATE VIEW answers AS SELECT scan, pos, ip, port, state, reason, rtt_us, attempts,"
	" strftime('%Y-%m-%dT%H:%M:%S', ts_ns / 1000000000, 'unixepoch') ||"
	" printf('.%06dZ', ts_ns / 1000 % 1000000) AS ts,"
	" service, product, version, info, hostname, os, device, cpe, method, probe, banner"
	" FROM results;"
	"INSERT INTO scans VALUES (1, '00000000000000aa', '2026-11-25T16:34:59.000000Z',"
	" 1795624499000000000, NULL, NULL, '0.1.0', 'ringscan 127.0.0.1', '5', 0, 1, NULL,"
	" 'direct', '22', '0000000000000001', '0000000000000002', '0000000000000003', 1, 1, 0,"
	" 0, 1, 0, 0, 0, 0, 1, 0);"
	"INSERT INTO results VALUES (1, 0, '127.0.0.1', 4, x'7f000001', 22, 'open', 'syn-ack',"
	" 0, 87, 1, 1795624499123456000, NULL, NULL, NULL, NULL,"
	" NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);";

static void test_first_schema(void **state)
{
	(void)state;
	raw("v1.db", schema_v1);
	struct rs_inv *db = open_db("v1.db", RS_INV_WRITE);
	struct seen s = {0};
	assert_int_equal(rs_inv_each(db, 1, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.line[0], "127.0.0.1 22 0 open");
	struct rs_result r = mk("127.0.0.2", 22, 0, RS_OPEN);
	int64_t id = write_scan(db, &r, 1);
	assert_int_equal(id, 2);
	rs_inv_close(db);
}

static void test_resume(void **state)
{
	(void)state;
	struct rs_result rs[8];
	char ip[32], err[512];

	for (int i = 0; i < 8; i++) {
		snprintf(ip, sizeof(ip), "127.0.0.%d", i + 1);
		rs[i] = mk(ip, 22, (uint64_t)i, RS_OPEN);
	}
	struct rs_inv *db = open_db("r.db", RS_INV_WRITE);
	struct rs_inv_scan sc = scan_of(7, 0, 1);
	assert_int_equal(rs_inv_scan_create(db, &sc), 0);
	assert_int_equal(rs_inv_writer_start(db, sc.id), 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(rs_inv_put(db, &rs[i], NULL), 0);
	assert_int_equal(rs_inv_sync(db, NULL, false), 0);
	rs_inv_close(db);
	/* The checkpoint counts [0, 3) and the run [5, 6): 3, 4, 6, 7 go. */
	struct rs_ckrun run = {5, 6};
	struct rs_checkpoint ck = {.first = 0, .end = 8, .low = 3, .runs = &run, .nruns = 1};
	ck.count[RS_OPEN] = 4;
	ck.db_scan = sc.id;
	ck.db_token = sc.token ^ 1;
	db = open_db("r.db", RS_INV_WRITE);
	assert_int_equal(rs_inv_resume(db, &ck, false, err, sizeof(err)), -ESTALE);
	assert_non_null(strstr(err, "holds no scan"));
	ck.db_token = sc.token;
	ck.count[RS_OPEN] = 5; /* more than the database can hold */
	assert_int_equal(rs_inv_resume(db, &ck, false, err, sizeof(err)), -ESTALE);
	assert_non_null(strstr(err, "holds 4 answers where the checkpoint records 5"));
	ck.count[RS_OPEN] = 4;
	assert_int_equal(rs_inv_resume(db, &ck, false, err, sizeof(err)), 0);
	struct seen s = {0};
	assert_int_equal(rs_inv_each(db, sc.id, collect, &s), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.line[0], "127.0.0.1 22 0 open");
	assert_string_equal(s.line[3], "127.0.0.6 22 5 open");
	rs_inv_close(db);
}

static void test_merge(void **state)
{
	(void)state;
	struct rs_inv *in[3], *out;
	int64_t ids[3] = {-1, -1, -1}, merged;
	char err[512];
	const char *names[3] = {"m0.db", "m1.db", "m2.db"};

	for (uint32_t k = 0; k < 3; k++) {
		struct rs_inv_scan sc = scan_of(9, k < 2 ? k : 0, 2);
		struct rs_result r = mk(k ? "127.0.0.2" : "127.0.0.1", 22, k, RS_OPEN);
		in[k] = open_db(names[k], RS_INV_WRITE);
		sc.complete = true;
		assert_int_equal(rs_inv_scan_create(in[k], &sc), 0);
		assert_int_equal(rs_inv_writer_start(in[k], sc.id), 0);
		assert_int_equal(rs_inv_put(in[k], &r, NULL), 0);
		assert_int_equal(rs_inv_sync(in[k], NULL, false), 0);
		rs_inv_close(in[k]);
		in[k] = open_db(names[k], RS_INV_READ);
	}
	out = open_db("merged.db", RS_INV_CREATE);
	struct rs_inv *dup[2] = {in[0], in[2]}; /* both shard 0/2 */
	assert_int_equal(rs_inv_merge(out, dup, ids, 2, "m", &merged, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "both shard 0/2"));
	assert_int_equal(rs_inv_merge(out, in, ids, 2, "m", &merged, err, sizeof(err)), 0);
	struct rs_inv_scan sc;
	assert_int_equal(rs_inv_scan_get(out, merged, &sc), 0);
	assert_true(sc.complete);
	assert_int_equal(sc.shard_count, 1);
	assert_string_equal(sc.shards, "0,1/2");
	assert_int_equal(sc.positions, 100);
	rs_inv_scan_free(&sc);
	struct seen s = {0};
	assert_int_equal(rs_inv_each(out, merged, collect, &s), 0);
	assert_int_equal(s.n, 2);
	rs_inv_close(out);
	for (int k = 0; k < 3; k++)
		rs_inv_close(in[k]);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_and_order), cmocka_unit_test(test_service_record),
		cmocka_unit_test(test_refusals),	 cmocka_unit_test(test_first_schema),
		cmocka_unit_test(test_resume),		 cmocka_unit_test(test_merge),
		cmocka_unit_test(test_many_rows),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
