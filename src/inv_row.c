/* A results row: from an answer (and its service record) to the row's
 * columns, and back. The service record itself is kept whole (svc_rec,
 * cut after its data) so that export regenerates every JSON member with
 * rs_svc_describe(), as the live scan did; the other service columns are
 * its description, for queries. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "inv_int.h"
#include "ringscan/classify.h"
#include "ringscan/sink.h"
#include "ringscan/svcview.h"

/* Without the service columns (NULL): fewer instructions per row for
 * the answers that have none, nearly all of them. */
const char inv_insert_plain_sql[] =
	"INSERT OR IGNORE INTO results (scan, pos, ip, family, addr, port, state, reason, err, "
	"rtt_us, attempts, ts_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

const char inv_insert_sql[] =
	"INSERT OR IGNORE INTO results (scan, pos, ip, family, addr, port, state, reason, err, "
	"rtt_us, attempts, ts_ns, service, product, version, info, hostname, os, device, "
	"cpe, method, probe, banner, svc_rec) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
	"?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)";

size_t inv_svcrec_len(const struct rs_svcrec *rec)
{
	size_t n = rec->len < RS_SVC_DATA ? rec->len : RS_SVC_DATA;
	return offsetof(struct rs_svcrec, data) + n;
}

/* A text column, NULL when empty. */
static void bind_text(sqlite3_stmt *st, int col, const char *s)
{
	if (s && *s)
		sqlite3_bind_text(st, col, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, col);
}

/* The service columns 14-25 from the record's description. */
static void bind_service(sqlite3_stmt *st, const struct rs_svcrec *rec, size_t reclen)
{
	struct rs_svcview v;
	char cpe[4 * 257] = "";
	size_t at = 0;

	rs_svc_describe(rec, &v);
	sqlite3_bind_text(st, 13, v.name ? v.name : "", -1, SQLITE_TRANSIENT);
	bind_text(st, 14, v.product);
	bind_text(st, 15, v.version);
	bind_text(st, 16, v.info);
	bind_text(st, 17, v.hostname);
	bind_text(st, 18, v.os);
	bind_text(st, 19, v.device);
	for (unsigned i = 0; i < v.ncpe && i < 4; i++) {
		size_t n = strnlen(v.cpe[i], 256);
		if (at)
			cpe[at++] = ' ';
		memcpy(cpe + at, v.cpe[i], n);
		at += n;
	}
	cpe[at] = 0;
	bind_text(st, 20, cpe);
	bind_text(st, 21, v.method);
	bind_text(st, 22, v.probe);
	uint32_t off = rec->banner.off, len = rec->banner.len;
	if (off <= rec->len && len <= rec->len - off && rec->len <= RS_SVC_DATA)
		sqlite3_bind_blob(st, 23, rec->data + off, (int)len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 23);
	sqlite3_bind_blob(st, 24, rec, (int)reclen, SQLITE_TRANSIENT);
}

/* r's answer columns, parameters at .. at + 10 (pos .. ts_ns), ip the
 * buffer its address is formatted into (it and r live until the step). */
static void bind_answer(sqlite3_stmt *st, int at, const struct rs_result *r, char *ip)
{
	enum rs_state s = r->state < RS_NSTATES ? (enum rs_state)r->state : RS_ERROR;
	int fam = r->ep.family == AF_INET6 ? 6 : 4;

	/* Every column is bound again, from buffers that live until the
	 * step: no copies. */
	int iplen = (int)rs_fmt_ip(ip, &r->ep);
	sqlite3_bind_int64(st, at, (int64_t)r->pos);
	sqlite3_bind_text(st, at + 1, ip, iplen, SQLITE_STATIC);
	sqlite3_bind_int(st, at + 2, fam);
	sqlite3_bind_blob(st, at + 3, r->ep.addr, fam == 6 ? 16 : 4, SQLITE_STATIC);
	sqlite3_bind_int(st, at + 4, r->ep.port);
	sqlite3_bind_text(st, at + 5, rs_state_name(s), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, at + 6, rs_reason(s, r->err), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, at + 7, r->err);
	sqlite3_bind_int64(st, at + 8, r->rtt_us);
	sqlite3_bind_int(st, at + 9, r->attempts);
	sqlite3_bind_int64(st, at + 10, (int64_t)r->ts_ns);
}

int inv_insert_result(sqlite3_stmt *const st2[2], int64_t scan, const struct rs_result *r,
		      const struct rs_svcrec *rec, size_t reclen)
{
	sqlite3_stmt *st = st2[rec != NULL];
	char ip[64];
	int rc;

	sqlite3_bind_int64(st, 1, scan);
	bind_answer(st, 2, r, ip);
	if (rec)
		bind_service(st, rec, reclen);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : rc;
}

char *inv_insert_rows_sql(void)
{
	static const char head[] = "INSERT OR IGNORE INTO results (scan, pos, ip, family, addr, "
				   "port, state, reason, err, rtt_us, attempts, ts_ns) VALUES ";
	size_t cap = sizeof(head) + INV_ROWS * 64, at;
	char *sql = malloc(cap);

	if (!sql)
		return NULL;
	at = (size_t)snprintf(sql, cap, "%s", head);
	for (int i = 0; i < INV_ROWS; i++) {
		int p = 2 + 11 * i;
		at += (size_t)snprintf(sql + at, cap - at,
				       "%s(?1,?%d,?%d,?%d,?%d,?%d,?%d,?%d,?%d,?%d,?%d,?%d)",
				       i ? "," : "", p, p + 1, p + 2, p + 3, p + 4, p + 5, p + 6,
				       p + 7, p + 8, p + 9, p + 10);
	}
	return sql;
}

int inv_insert_rows(sqlite3_stmt *st, const struct rs_result *const *r)
{
	char ip[INV_ROWS][64];
	int rc;

	for (int i = 0; i < INV_ROWS; i++)
		bind_answer(st, 2 + 11 * i, r[i], ip[i]);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : rc;
}
