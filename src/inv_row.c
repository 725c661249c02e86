/* A results row: from an answer (and its service record) to the row's
 * columns, and back. The service record itself is kept whole (svc_rec,
 * cut after its data) so that export regenerates every JSON member with
 * rs_svc_describe(), as the live scan did; the other service columns are
 * its description, for queries. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "inv_int.h"
#include "ringscan/classify.h"
#include "ringscan/sink.h"
#include "ringscan/svcview.h"

const char inv_insert_sql[] =
	"INSERT OR IGNORE INTO results (scan, pos, ip, family, addr, port, state, reason, err, "
	"rtt_us, attempts, ts, ts_ns, service, product, version, info, hostname, os, device, "
	"cpe, method, probe, banner, svc_rec) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
	"?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)";

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
	sqlite3_bind_text(st, 14, v.name ? v.name : "", -1, SQLITE_TRANSIENT);
	bind_text(st, 15, v.product);
	bind_text(st, 16, v.version);
	bind_text(st, 17, v.info);
	bind_text(st, 18, v.hostname);
	bind_text(st, 19, v.os);
	bind_text(st, 20, v.device);
	for (unsigned i = 0; i < v.ncpe && i < 4; i++) {
		size_t n = strnlen(v.cpe[i], 256);
		if (at)
			cpe[at++] = ' ';
		memcpy(cpe + at, v.cpe[i], n);
		at += n;
	}
	cpe[at] = 0;
	bind_text(st, 21, cpe);
	bind_text(st, 22, v.method);
	bind_text(st, 23, v.probe);
	uint32_t off = rec->banner.off, len = rec->banner.len;
	if (off <= rec->len && len <= rec->len - off && rec->len <= RS_SVC_DATA)
		sqlite3_bind_blob(st, 24, rec->data + off, (int)len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 24);
	sqlite3_bind_blob(st, 25, rec, (int)reclen, SQLITE_TRANSIENT);
}

int inv_bind_result(sqlite3_stmt *st, int64_t scan, const struct rs_result *r,
		    const struct rs_svcrec *rec, size_t reclen)
{
	char ip[64], ts[40];
	enum rs_state s = r->state < RS_NSTATES ? (enum rs_state)r->state : RS_ERROR;
	int fam = r->ep.family == AF_INET6 ? 6 : 4;

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	rs_fmt_ip(ip, &r->ep);
	inv_iso(ts, r->ts_ns);
	sqlite3_bind_int64(st, 1, scan);
	sqlite3_bind_int64(st, 2, (int64_t)r->pos);
	sqlite3_bind_text(st, 3, ip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 4, fam);
	sqlite3_bind_blob(st, 5, r->ep.addr, fam == 6 ? 16 : 4, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 6, r->ep.port);
	sqlite3_bind_text(st, 7, rs_state_name(s), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, rs_reason(s, r->err), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 9, r->err);
	sqlite3_bind_int64(st, 10, r->rtt_us);
	sqlite3_bind_int(st, 11, r->attempts);
	sqlite3_bind_text(st, 12, ts, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 13, (int64_t)r->ts_ns);
	if (rec)
		bind_service(st, rec, reclen);
	return 0;
}
