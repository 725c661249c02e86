/* ringscan diff: what changed between two scans, as a sort-merge of their
 * answers in (family, address, port) order: from an inventory (two scans
 * of one database), or from two JSON lines files (each loaded first into
 * a private temporary SQLite database, so that SQLite's sorter, in
 * bounded memory, gives the order). A file is JSON lines or nmap XML
 * (inv_diff_xml.c); either way its strings are loaded decoded, as bytes,
 * so that the two formats of one scan compare equal. One JSON line per (address, port)
 * that changed; see docs/inventory.md. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inv_diff.h"
#include "inv_int.h"
#include "xmlread.h"

/* The columns every source selects, in this order, sorted. */
#define DIFF_COLS "family, addr, port, state, service, product, version, banner, ip"

struct item {
	int family;
	const void *addr;
	int alen, port;
	const char *state, *service, *product, *version, *ip;
	const void *banner;
	int blen;
};

static void item_of(sqlite3_stmt *st, struct item *it)
{
	it->family = sqlite3_column_int(st, 0);
	it->addr = sqlite3_column_blob(st, 1);
	it->alen = sqlite3_column_bytes(st, 1);
	it->port = sqlite3_column_int(st, 2);
	it->state = (const char *)sqlite3_column_text(st, 3);
	it->service = (const char *)sqlite3_column_text(st, 4);
	it->product = (const char *)sqlite3_column_text(st, 5);
	it->version = (const char *)sqlite3_column_text(st, 6);
	it->banner = sqlite3_column_blob(st, 7);
	it->blen = sqlite3_column_bytes(st, 7);
	it->ip = (const char *)sqlite3_column_text(st, 8);
}

/* Order of two items: family, address bytes, port. */
static int cmp(const struct item *a, const struct item *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	int n = a->alen < b->alen ? a->alen : b->alen;
	int c = n ? memcmp(a->addr, b->addr, (size_t)n) : 0;
	if (c || a->alen != b->alen)
		return c ? c : a->alen - b->alen;
	return a->port - b->port;
}

static bool same_text(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

/* A string as JSON. */
static void put_json(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x20 && *p != '"' && *p != '\\' && *p != 0x7f)
			fputc(*p, f);
		else if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else
			fprintf(f, "\\u%04x", *p);
	}
	fputc('"', f);
}

static void put_side(FILE *f, const char *key, const struct item *it)
{
	fprintf(f, ",\"%s\":", key);
	if (!it) {
		fputs("null", f);
		return;
	}
	fputs("{\"state\":", f);
	put_json(f, it->state);
	const char *k[] = {"service", "product", "version"};
	const char *v[] = {it->service, it->product, it->version};
	for (int i = 0; i < 3; i++)
		if (v[i] && (*v[i] || !i)) {
			fprintf(f, ",\"%s\":", k[i]);
			put_json(f, v[i]);
		}
	fputc('}', f);
}

static bool is_open(const struct item *it)
{
	return it && it->state && !strcmp(it->state, "open");
}

/* The change between old and new (either may be NULL: not in that scan),
 * or NULL. A pair that is not open in one scan and missing from the
 * other is no change: an open-only scan leaves the others out. */
static const char *change(const struct item *o, const struct item *n)
{
	if (is_open(n) && !is_open(o))
		return "newly-open";
	if (is_open(o) && !is_open(n))
		return "no-longer-open";
	if (!o || !n)
		return NULL;
	if (!same_text(o->state, n->state))
		return "state";
	if (!same_text(o->service, n->service) || !same_text(o->product, n->product) ||
	    !same_text(o->version, n->version))
		return "service";
	if (o->blen != n->blen || (o->blen && memcmp(o->banner, n->banner, (size_t)o->blen)))
		return "banner";
	return NULL;
}

/* Print the change of one pair (if any) and count it. */
static void report(struct rs_diff_counts *dc, const struct item *o, const struct item *n, FILE *out)
{
	static const char *const names[RS_DIFF_KINDS] = {"newly-open", "no-longer-open", "state",
							 "service", "banner"};
	const char *c = change(o, n);
	const struct item *any = n ? n : o;

	if (!c)
		return;
	for (int k = 0; k < RS_DIFF_KINDS; k++)
		if (!strcmp(c, names[k]))
			dc->n[k]++;
	fputs("{\"ip\":", out);
	put_json(out, any->ip);
	fprintf(out, ",\"port\":%d,\"change\":\"%s\"", any->port, c);
	put_side(out, "old", o);
	put_side(out, "new", n);
	fputs("}\n", out);
}

/* The sort-merge of two ordered statements. */
static int merge(sqlite3_stmt *a, sqlite3_stmt *b, FILE *out, struct rs_diff_counts *dc)
{
	struct item x, y;
	int ra = sqlite3_step(a), rb = sqlite3_step(b);

	while (ra == SQLITE_ROW || rb == SQLITE_ROW) {
		int c;
		if (ra == SQLITE_ROW)
			item_of(a, &x);
		if (rb == SQLITE_ROW)
			item_of(b, &y);
		c = ra != SQLITE_ROW ? 1 : rb != SQLITE_ROW ? -1 : cmp(&x, &y);
		report(dc, c <= 0 ? &x : NULL, c >= 0 ? &y : NULL, out);
		if (c <= 0) {
			dc->old++;
			ra = sqlite3_step(a);
		}
		if (c >= 0) {
			dc->new ++;
			rb = sqlite3_step(b);
		}
	}
	return ra == SQLITE_DONE && rb == SQLITE_DONE ? 0 : -EIO;
}

int rs_inv_diff_scans(struct rs_inv *db, int64_t old, int64_t new, FILE *out,
		      struct rs_diff_counts *dc)
{
	static const char sql[] = "SELECT " DIFF_COLS " FROM results WHERE scan = ?1 "
				  "ORDER BY family, addr, port";
	sqlite3_stmt *a = NULL, *b = NULL;
	int ret = inv_prepare(db, sql, &a);

	if (!ret)
		ret = inv_prepare(db, sql, &b);
	if (!ret) {
		sqlite3_bind_int64(a, 1, old);
		sqlite3_bind_int64(b, 1, new);
		if ((ret = merge(a, b, out, dc)))
			inv_fail(db, "reading the results");
	}
	sqlite3_finalize(a);
	sqlite3_finalize(b);
	return ret;
}

/* The JSON string at *p (just after its opening quote), as it is
 * (escapes kept), NUL-terminated in place; *p moves past it. NULL if it
 * does not end on the line. */
static char *json_str(char **p)
{
	char *s = *p, *q = s;

	while (*q && *q != '"')
		q += *q == '\\' && q[1] ? 2 : 1;
	if (*q != '"')
		return NULL;
	*q = 0;
	*p = q + 1;
	return s;
}

/* If *p starts with key, the string after it (json_str), else NULL. */
static char *opt_str(char **p, const char *key)
{
	size_t n = strlen(key);

	if (strncmp(*p, key, n))
		return NULL;
	*p += n;
	return json_str(p);
}

/* The four hex digits at s as a number, or -1. */
static long hex4(const char *s)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -1; /* a NUL too: never past the end */
		v = v * 16 + (isdigit((unsigned char)s[i]) ? s[i] - '0' : (s[i] | 0x20) - 'a' + 10);
	}
	return v;
}

/* The JSON string s (escapes as written) decoded in place: \uDC80 to
 * \uDCFF (a lone low surrogate) are the bytes 0x80-0xFF, as ringscan
 * writes bytes that are not UTF-8 (svcview.c), surrogate pairs one
 * character. *len: the bytes (a banner may hold NULs). 0 or -EINVAL. */
static int json_decode(char *s, size_t *len)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	char *o = s;
	const char *p = s, *e;

	while (*p) {
		if (*p != '\\') {
			*o++ = *p++;
			continue;
		}
		if (p[1] && (e = strchr(from, p[1]))) {
			*o++ = to[e - from];
			p += 2;
			continue;
		}
		long cp = p[1] == 'u' ? hex4(p + 2) : -1, lo;
		if (cp < 0)
			return -EINVAL;
		p += 6;
		if (cp >= 0xdc80 && cp <= 0xdcff) { /* surrogateescape: a byte */
			*o++ = (char)(cp & 0xff);
			continue;
		}
		if (cp >= 0xd800 && cp <= 0xdbff && p[0] == '\\' && p[1] == 'u' &&
		    (lo = hex4(p + 2)) >= 0xdc00 && lo <= 0xdfff) {
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			p += 6;
		}
		o += xml_utf8_put(o, (uint32_t)cp);
	}
	*o = 0;
	*len = (size_t)(o - s);
	return 0;
}

/* A ringscan JSON line into r (pointing into line, which is cut up). */
static bool parse_line(char *line, struct rs_diff_row *r)
{
	char *p = line, *end, *svc, *ban, *ip, *st, *f[3] = {NULL, NULL, NULL}, *banner = NULL;
	long port;
	size_t n;

	memset(r, 0, sizeof(*r));
	svc = strstr(line, ",\"service\":{\"name\":\""); /* structural: quotes in */
	ban = strstr(line, ",\"banner\":\"");		 /* strings are escaped */
	if (!(ip = opt_str(&p, "{\"ip\":\"")) || strncmp(p, ",\"port\":", 8))
		return false;
	port = strtol(p + 8, &end, 10);
	p = end;
	if (port < 0 || port > 65535 || strncmp(p, ",\"proto\":\"tcp\"", 14))
		return false;
	p += 14;
	if (!(st = opt_str(&p, ",\"state\":\"")))
		return false;
	if (svc) {
		p = svc + 20;
		if ((f[0] = json_str(&p))) {
			f[1] = opt_str(&p, ",\"product\":\"");
			f[2] = opt_str(&p, ",\"version\":\"");
		}
	}
	if (ban) {
		p = ban + 11;
		if (!(banner = json_str(&p)) || json_decode(banner, &r->blen))
			return false;
	}
	for (int i = 0; i < 3; i++)
		if (f[i] && json_decode(f[i], &n))
			return false;
	if (json_decode(ip, &n) || json_decode(st, &n))
		return false;
	*r = (struct rs_diff_row){ip, st, f[0], f[1], f[2], banner, r->blen, (int)port};
	return true;
}

/* Loading one file into table t<k> of the temporary database. */
struct loader {
	struct rs_inv *tmp;
	sqlite3_stmt *st;
};

/* One answer into the table (rs_diff_put_fn). */
static int put_row(void *arg, const struct rs_diff_row *r, char *err, size_t errlen)
{
	struct loader *ld = arg;
	sqlite3_stmt *st = ld->st;
	uint8_t addr[16];
	int family = strchr(r->ip, ':') ? 6 : 4;

	if (inet_pton(family == 6 ? AF_INET6 : AF_INET, r->ip, addr) != 1) {
		snprintf(err, errlen, "'%.64s': not an IP address", r->ip);
		return -EINVAL;
	}
	sqlite3_bind_int(st, 1, family);
	sqlite3_bind_blob(st, 2, addr, family == 6 ? 16 : 4, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, r->port);
	const char *v[] = {r->state, r->service, r->product, r->version};
	for (int c = 0; c < 4; c++)
		if (v[c])
			sqlite3_bind_text(st, 4 + c, v[c], -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 4 + c);
	if (r->banner)
		sqlite3_bind_blob(st, 8, r->banner, (int)r->blen, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 8);
	sqlite3_bind_text(st, 9, r->ip, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	snprintf(err, errlen, "the temporary database: %s", sqlite3_errmsg(ld->tmp->db));
	return -EIO;
}

/* The JSON lines on f (its first line is line no + 1) into ld. */
static int load_jsonl(FILE *f, unsigned long no, const char *path, struct loader *ld, char *err,
		      size_t errlen)
{
	char *line = NULL, why[256];
	size_t cap = 0;
	int ret = 0;

	while (!ret && getline(&line, &cap, f) > 0) {
		struct rs_diff_row r;
		no++;
		if (!parse_line(line, &r)) {
			snprintf(err, errlen, "'%s' line %lu: not a ringscan JSON line", path, no);
			ret = -EINVAL;
		} else if ((ret = put_row(ld, &r, why, sizeof(why)))) {
			snprintf(err, errlen, "'%s' line %lu: %s", path, no, why);
		}
	}
	if (!ret && ferror(f)) {
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		ret = -EIO;
	}
	free(line);
	return ret;
}

/* Past whitespace and a UTF-8 byte-order mark at the start of f: the
 * first other byte (put back), EOF, and the newlines passed in *lines. */
static int peek(FILE *f, unsigned long *lines)
{
	int c = getc(f);

	if (c == 0xef && getc(f) == 0xbb && getc(f) == 0xbf)
		c = getc(f);
	for (*lines = 0; c == ' ' || c == '\t' || c == '\r' || c == '\n'; c = getc(f))
		*lines += c == '\n';
	return c == EOF ? EOF : ungetc(c, f);
}

/* Load one file, JSON lines or nmap XML, into table t<k> of tmp. */
static int load(struct rs_inv *tmp, const char *path, int k, char *err, size_t errlen)
{
	char sql[160];
	struct loader ld = {tmp, NULL};
	FILE *f = fopen(path, "r");
	unsigned long lines;
	int ret = 0;

	if (!f) {
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		return -errno;
	}
	snprintf(sql, sizeof(sql),
		 "INSERT INTO t%d (" DIFF_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, "
		 "?6, ?7, ?8, ?9)",
		 k);
	if ((ret = inv_prepare(tmp, sql, &ld.st)))
		snprintf(err, errlen, "%s", tmp->err);
	else if (peek(f, &lines) == '<')
		ret = rs_inv_diff_xml(f, lines + 1, path, put_row, &ld, err, errlen);
	else
		ret = load_jsonl(f, lines, path, &ld, err, errlen);
	sqlite3_finalize(ld.st);
	fclose(f);
	return ret;
}

int rs_inv_diff_files(const char *old, const char *new, FILE *out, struct rs_diff_counts *dc,
		      char *err, size_t errlen)
{
	struct rs_inv tmp = {0};
	sqlite3_stmt *a = NULL, *b = NULL;
	int ret;

	/* "": a private database on disk, deleted when closed. */
	if (sqlite3_open_v2("", &tmp.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL)) {
		snprintf(err, errlen, "a temporary database: %s", sqlite3_errmsg(tmp.db));
		sqlite3_close(tmp.db);
		return -EIO;
	}
	ret = inv_exec(&tmp, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
			     "CREATE TABLE t0 (" DIFF_COLS "); CREATE TABLE t1 (" DIFF_COLS ");"
			     "BEGIN");
	if (ret)
		snprintf(err, errlen, "a temporary database: %s", tmp.err);
	if (!ret)
		ret = load(&tmp, old, 0, err, errlen);
	if (!ret)
		ret = load(&tmp, new, 1, err, errlen);
	if (!ret &&
	    (inv_prepare(&tmp, "SELECT " DIFF_COLS " FROM t0 ORDER BY family, addr, port", &a) ||
	     inv_prepare(&tmp, "SELECT " DIFF_COLS " FROM t1 ORDER BY family, addr, port", &b))) {
		snprintf(err, errlen, "%s", tmp.err);
		ret = -EIO;
	}
	if (!ret && (ret = merge(a, b, out, dc)))
		snprintf(err, errlen, "sorting: %s", sqlite3_errmsg(tmp.db));
	sqlite3_finalize(a);
	sqlite3_finalize(b);
	sqlite3_close(tmp.db);
	return ret;
}
