/* Loading the service probe database: parse (svcdb_parse.c), order the
 * probes, resolve fallbacks, index service names, JIT-compile, build the
 * prefilter (svcdb_prefilter.c). The db is immutable afterwards, so the
 * coordinator loads it once and forked workers share its pages.
 *
 * Fallbacks are nmap 7.93's AllProbes::compileFallbacks and
 * getProbeByName (service_scan.cc), verified there: a probe's chain is
 * itself, the probes its (last) fallback directive names, in order, and
 * for a TCP probe the NULL probe last. A name is looked up among the
 * probes of the same protocol first, then of any protocol: so the TCP
 * probe DNSVersionBindReqTCP falls back on the UDP probe
 * DNSVersionBindReq's rules, which we therefore keep. At most 17 names
 * (MAXFALLBACKS 20). The NULL probe's chain is itself only (nmap never
 * reads a NULL probe's fallback directive). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svcdb_int.h"

static int lfail(char *err, size_t errlen, const char *path, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* "FILE:LINE: what", -EINVAL. */
static int lfail(char *err, size_t errlen, const char *path, unsigned line, const char *fmt, ...)
{
	if (err && errlen) {
		int n = snprintf(err, errlen, "%s:%u: ", path, line);
		if (n >= 0 && (size_t)n < errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return -EINVAL;
}

/* TCP probes first, the NULL probe (empty payload) at 0, then UDP. */
static int order_probes(struct rs_svcdb *db, const char *path, char *err, size_t errlen)
{
	struct svc_probe *np = calloc(db->nprobes + 1, sizeof(*np));
	unsigned *map = calloc(db->nprobes + 1, sizeof(*map)), n = 0;
	int rc = 0;

	if (!np || !map) {
		rc = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < db->nprobes && !rc; i++)
		if (db->probes[i].tcp && db->probes[i].pub.len == 0) {
			if (n)
				rc = lfail(err, errlen, path, db->probes[i].line,
					   "a second NULL probe (empty payload)");
			map[i] = n++;
		}
	db->null_idx = n ? 0 : -1;
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < db->nprobes; i++) {
			const struct svc_probe *p = &db->probes[i];
			if (p->tcp == (pass == 0) && !(p->tcp && p->pub.len == 0))
				map[i] = n++;
		}
	for (unsigned i = 0; i < db->nprobes; i++) {
		np[map[i]] = db->probes[i];
		db->ntcp += db->probes[i].tcp;
	}
	for (unsigned i = 0; i < db->nrules; i++)
		db->rules[i].probe = (uint16_t)map[db->rules[i].probe];
	free(db->probes);
	db->probes = np;
	np = NULL;
out:
	free(np);
	free(map);
	return rc;
}

/* nmap's getProbeByName: same protocol first (the NULL probe by name for
 * TCP), then any. */
static int probe_by_name(const struct rs_svcdb *db, const char *name, bool tcp)
{
	for (int any = 0; any < 2; any++)
		for (unsigned i = 0; i < db->nprobes; i++)
			if ((any || db->probes[i].tcp == tcp) &&
			    !strcmp(db->probes[i].pub.name, name))
				return (int)i;
	return -1;
}

static void chain_add(struct svc_probe *p, unsigned idx)
{
	for (unsigned i = 0; i < p->nchain; i++)
		if (p->chain[i] == idx)
			return; /* matching the same rules twice changes nothing */
	p->chain[p->nchain++] = (uint16_t)idx;
}

static int resolve_fallbacks(struct rs_svcdb *db, const char *path, char *err, size_t errlen)
{
	for (unsigned i = 0; i < db->nprobes; i++) {
		struct svc_probe *p = &db->probes[i];
		char *save = NULL;
		unsigned named = 0;
		p->chain[0] = (uint16_t)i;
		p->nchain = 1;
		if (p->fallback && (int)i != db->null_idx) {
			for (char *t = strtok_r(p->fallback, ",\r\n\t ", &save); t;
			     t = strtok_r(NULL, ",\r\n\t ", &save)) {
				int f = probe_by_name(db, t, p->tcp);
				if (f < 0)
					return lfail(err, errlen, path, p->fallback_line,
						     "unknown fallback '%s' in probe %s", t,
						     p->pub.name);
				if (++named > SVC_MAXFALLBACK - 3)
					return lfail(err, errlen, path, p->fallback_line,
						     "more than %d fallbacks", SVC_MAXFALLBACK - 3);
				chain_add(p, (unsigned)f);
			}
		}
		if (p->tcp && db->null_idx >= 0)
			chain_add(p, (unsigned)db->null_idx);
		free(p->fallback);
		p->fallback = NULL;
	}
	for (unsigned i = 0; i < db->ntcp; i++)
		for (unsigned j = 0; j < db->probes[i].nchain; j++)
			db->probes[db->probes[i].chain[j]].used = true;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_range(const void *a, const void *b)
{
	const struct svc_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sort ranges and merge overlaps, for binary search. */
static void sort_ranges(struct svc_range *r, unsigned *n)
{
	unsigned k = 0;

	if (*n < 2)
		return;
	qsort(r, *n, sizeof(*r), cmp_range);
	for (unsigned i = 1; i < *n; i++) {
		if (r[i].lo <= r[k].hi) {
			if (r[i].hi > r[k].hi)
				r[k].hi = r[i].hi;
		} else {
			r[++k] = r[i];
		}
	}
	*n = k + 1;
}

/* Unique sorted service names; each rule's id; each probe's set. */
static int index_names(struct rs_svcdb *db)
{
	db->svcnames = calloc(db->nrules + 1, sizeof(char *));
	if (!db->svcnames)
		return -ENOMEM;
	for (unsigned i = 0; i < db->nrules; i++)
		db->svcnames[i] = db->rules[i].name;
	qsort(db->svcnames, db->nrules, sizeof(char *), cmp_str);
	for (unsigned i = 0; i < db->nrules; i++)
		if (!db->nsvc || strcmp(db->svcnames[db->nsvc - 1], db->svcnames[i]))
			db->svcnames[db->nsvc++] = db->svcnames[i];
	db->svcwords = (db->nsvc + 63) / 64;
	for (unsigned i = 0; i < db->nprobes; i++) {
		db->probes[i].svcset = calloc(db->svcwords + 1, sizeof(uint64_t));
		if (!db->probes[i].svcset)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < db->nrules; i++) {
		struct svc_rule *r = &db->rules[i];
		r->svc = (uint16_t)rs__svc_name_id(db, r->name);
		db->probes[r->probe].svcset[r->svc / 64] |= 1ULL << (r->svc % 64);
	}
	return 0;
}

/* Mark for JIT what may run (compiled on first use, svcdb_match.c);
 * free the regexes of probes nothing falls back on. */
static void compile_jit(struct rs_svcdb *db, bool jit)
{
	for (unsigned i = 0; i < db->nrules; i++) {
		struct svc_rule *r = &db->rules[i];
		uint32_t groups = 0;
		if (!db->probes[r->probe].used) {
			pcre2_code_free(r->re);
			r->re = NULL;
			continue;
		}
		r->jit = 0;
		r->jit_want = jit;
		pcre2_pattern_info(r->re, PCRE2_INFO_CAPTURECOUNT, &groups);
		if (groups + 1 > db->maxpairs)
			db->maxpairs = groups + 1;
	}
}

int rs__svcdb_load_opts(const char *path, struct rs_svcdb **out, char *err, size_t errlen,
			unsigned flags)
{
	struct rs_svcdb *db = calloc(1, sizeof(*db));
	struct svc_compile *job = NULL;
	char cerr[512];
	int rc, crc;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (!db)
		return -ENOMEM;
	db->null_idx = -1;
	rc = rs__svcdb_parse(db, path, err, errlen);
	/* the rules parsed so far (all, or those before a syntax error) */
	crc = rs__svcdb_compile_start(db, &job);
	if (rc == 0)
		rc = order_probes(db, path, err, errlen);
	if (rc == 0)
		rc = resolve_fallbacks(db, path, err, errlen);
	if (rc == 0 && db->nprobes > UINT16_MAX)
		rc = lfail(err, errlen, path, db->probes[UINT16_MAX].line, "too many probes");
	if (rc == 0)
		rc = index_names(db);
	if (rc == 0) {
		for (unsigned i = 0; i < db->nprobes; i++)
			sort_ranges(db->probes[i].ports, &db->probes[i].nports);
		sort_ranges(db->excl, &db->nexcl);
		db->rulewords = (db->nrules + 63) / 64;
		rc = rs__svc_prefilter_build(db);
	}
	if (crc == 0)
		crc = rs__svcdb_compile_finish(job, path, cerr, sizeof(cerr));
	if (crc == -EINVAL) { /* a bad regex precedes whatever else failed */
		rc = crc;
		if (err && errlen)
			snprintf(err, errlen, "%s", cerr);
	} else if (crc && rc == 0) {
		rc = crc;
	}
	if (rc == 0)
		compile_jit(db, !(flags & SVC_LOAD_NOJIT));
	if (rc == -ENOMEM && err && errlen)
		snprintf(err, errlen, "%s: out of memory", path);
	if (rc) {
		rs_svcdb_free(db);
		return rc;
	}
	*out = db;
	return 0;
}

int rs_svcdb_load(const char *path, struct rs_svcdb **out, char *err, size_t errlen)
{
	return rs__svcdb_load_opts(path, out, err, errlen, 0);
}

void rs_svcdb_free(struct rs_svcdb *db)
{
	if (!db)
		return;
	for (unsigned i = 0; i < db->nprobes; i++) {
		struct svc_probe *p = &db->probes[i];
		free((char *)p->pub.name);
		free((uint8_t *)p->pub.payload);
		free(p->ports);
		free(p->fallback);
		free(p->svcset);
	}
	for (unsigned i = 0; i < db->nrules; i++)
		rs__svc_rule_free(&db->rules[i]);
	free(db->probes);
	free(db->rules);
	free(db->svcnames);
	free(db->excl);
	free(db->keys);
	free(db->keybytes);
	free(db->key_rule0);
	free(db->key_rules);
	free(db->hstart);
	free(db->grams);
	free(db->hbitmap);
	free(db->keyless);
	free(db);
}

unsigned rs_svcdb_nprobes(const struct rs_svcdb *db)
{
	return db->ntcp;
}

const struct rs_svcprobe *rs_svcdb_probe(const struct rs_svcdb *db, unsigned idx)
{
	return idx < db->ntcp ? &db->probes[idx].pub : NULL;
}

int rs_svcdb_find_probe(const struct rs_svcdb *db, const char *name)
{
	for (unsigned i = 0; i < db->ntcp; i++)
		if (!strcmp(db->probes[i].pub.name, name))
			return (int)i;
	return -ENOENT;
}

unsigned rs_svcdb_nrules(const struct rs_svcdb *db)
{
	return db->nrules;
}

unsigned rs_svcdb_rule_line(const struct rs_svcdb *db, int32_t rule)
{
	return rule >= 0 && (unsigned)rule < db->nrules ? db->rules[rule].line : 0;
}
