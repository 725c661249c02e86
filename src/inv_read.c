/* Reading a scan's answers back, in (family, address, port) order (the
 * results_order index), as the records the live scan wrote: every JSON
 * member comes out the same through the same sinks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "inv_int.h"

/* The state named s. */
static uint8_t state_of(const unsigned char *s)
{
	for (int i = 0; i < RS_NSTATES; i++)
		if (s && !strcmp((const char *)s, rs_state_name((enum rs_state)i)))
			return (uint8_t)i;
	return RS_ERROR;
}

/* The row st stands on as a result, and its service record (into rec,
 * whole) when it has one. */
static bool read_result(sqlite3_stmt *st, struct rs_result *r, struct rs_svcrec *rec)
{
	const void *addr = sqlite3_column_blob(st, 2);
	int alen = sqlite3_column_bytes(st, 2);
	const void *svc = sqlite3_column_blob(st, 9);
	int slen = sqlite3_column_bytes(st, 9);

	memset(r, 0, sizeof(*r));
	r->pos = (uint64_t)sqlite3_column_int64(st, 0);
	r->ep.family = sqlite3_column_int(st, 1) == 6 ? AF_INET6 : AF_INET;
	if (addr && alen > 0 && alen <= 16)
		memcpy(r->ep.addr, addr, (size_t)alen);
	r->ep.port = (uint16_t)sqlite3_column_int(st, 3);
	r->state = state_of(sqlite3_column_text(st, 4));
	r->err = sqlite3_column_int(st, 5);
	r->rtt_us = (uint32_t)sqlite3_column_int64(st, 6);
	r->attempts = (uint8_t)sqlite3_column_int(st, 7);
	r->ts_ns = (uint64_t)sqlite3_column_int64(st, 8);
	if (!svc || slen < (int)offsetof(struct rs_svcrec, data) || slen > (int)sizeof(*rec))
		return false;
	memset(rec, 0, sizeof(*rec));
	memcpy(rec, svc, (size_t)slen);
	if (rec->len > (uint32_t)slen - offsetof(struct rs_svcrec, data))
		rec->len = (uint32_t)(slen - (int)offsetof(struct rs_svcrec, data));
	r->svc = 1;
	return true;
}

int rs_inv_each(struct rs_inv *db, int64_t id, rs_inv_fn fn, void *arg)
{
	static const char sql[] = "SELECT pos, family, addr, port, state, err, rtt_us, attempts, "
				  "ts_ns, svc_rec FROM results WHERE scan = ?1 "
				  "ORDER BY family, addr, port";
	struct rs_svcrec *rec = malloc(sizeof(*rec));
	struct rs_result r;
	sqlite3_stmt *st = NULL;
	int ret = rec ? inv_prepare(db, sql, &st) : -ENOMEM, rc;

	if (ret)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		bool has = read_result(st, &r, rec);
		if ((ret = fn(arg, &r, has ? rec : NULL)))
			goto out;
	}
	if (rc != SQLITE_DONE)
		ret = inv_fail(db, "reading the results");
out:
	sqlite3_finalize(st);
	free(rec);
	return ret;
}
