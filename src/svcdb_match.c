/* Matching a response: the probe's rules, then its fallbacks' (svcdb.c),
 * each in file order; the first rule that matches decides, soft or hard
 * (nmap 7.93: servicescan_read_handler walks probe->fallbacks[] and
 * ServiceProbe::testMatch returns the first rule that matches, verified
 * in service_scan.cc). The prefilter (svcdb_prefilter.c) only skips rules
 * that cannot match, so the order and the answer are unchanged.
 *
 * The mutable state of PCRE2 (match data, match context, JIT stack) is in
 * the caller's scratch, one per worker: the db stays read-only. Limits
 * are nmap 7.93's (match limit 100,000, recursion 10,000); a rule whose
 * match hits a limit or another error is taken as not matching, as nmap
 * does, and counted in the scratch. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "svcdb_int.h"

#define JIT_STACK_MIN (32 * 1024)
#define JIT_STACK_MAX (1024 * 1024)

int rs_svcscratch_create(const struct rs_svcdb *db, struct rs_svcscratch **out)
{
	struct rs_svcscratch *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->keywords = db->keywords;
	s->rulewords = db->rulewords;
	s->md = pcre2_match_data_create(db->maxpairs ? db->maxpairs : 1, NULL);
	s->mctx = pcre2_match_context_create(NULL);
	s->jstack = pcre2_jit_stack_create(JIT_STACK_MIN, JIT_STACK_MAX, NULL);
	s->present = calloc(s->keywords + 1, sizeof(uint64_t));
	s->cand = calloc(s->rulewords + 1, sizeof(uint64_t));
	s->folded = malloc(RS_SVCDB_MAXRESP + 1);
	if (!s->md || !s->mctx || !s->jstack || !s->present || !s->cand || !s->folded) {
		rs_svcscratch_free(s);
		return -ENOMEM;
	}
	pcre2_set_match_limit(s->mctx, SVC_MATCH_LIMIT);
	pcre2_set_depth_limit(s->mctx, SVC_DEPTH_LIMIT);
	pcre2_jit_stack_assign(s->mctx, NULL, s->jstack);
	*out = s;
	return 0;
}

void rs_svcscratch_free(struct rs_svcscratch *s)
{
	if (!s)
		return;
	pcre2_match_data_free(s->md);
	pcre2_match_context_free(s->mctx);
	pcre2_jit_stack_free(s->jstack);
	free(s->present);
	free(s->cand);
	free(s->folded);
	free(s);
}

void rs__svcscratch_naive(struct rs_svcscratch *s, bool naive)
{
	s->naive = naive;
}

/* Run rule i; fill m and return true on a match. */
static bool run_rule(const struct rs_svcdb *db, struct rs_svcscratch *s, uint32_t i,
		     const uint8_t *resp, size_t len, struct rs_svcmatch *m)
{
	const struct svc_rule *r = &db->rules[i];
	s->runs++;
	if (r->jit_want) {
		/* JIT on a rule's first use: of nmap's 11,917 rules a scan
		 * runs few (the prefilter rules out the rest), and compiling
		 * all at load took 243 ms of every --banner start against
		 * 120 ms without. The db is immutable in what it answers; its
		 * JIT state is per process: a worker compiles into its own
		 * copy of the db's pages, made private by fork. */
		struct svc_rule *w = (struct svc_rule *)r;
		w->jit = pcre2_jit_compile(w->re, PCRE2_JIT_COMPLETE) == 0;
		w->jit_want = 0;
	}
	int rc = r->jit ? pcre2_jit_match(r->re, resp, len, 0, 0, s->md, s->mctx)
			: pcre2_match(r->re, resp, len, 0, 0, s->md, s->mctx);

	if (rc <= 0) {
		if (rc != PCRE2_ERROR_NOMATCH)
			s->errors++;
		return false;
	}
	const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
	m->rule = (int32_t)i;
	m->soft = r->soft;
	m->ncap = (uint8_t)(rc < 10 ? rc : 10);
	for (int k = 0; k < 10; k++) {
		bool set = k < m->ncap && ov[2 * k] != PCRE2_UNSET;
		m->cap[2 * k] = set ? (uint16_t)ov[2 * k] : RS_SVCDB_NOCAP;
		m->cap[2 * k + 1] = set ? (uint16_t)ov[2 * k + 1] : RS_SVCDB_NOCAP;
	}
	return true;
}

/* The cheap tests before PCRE2: length, anchored prefix, other keys. */
static bool maybe(const struct svc_rule *r, size_t len, uint64_t raw, uint64_t folded,
		  const uint64_t *present)
{
	if (len < r->minlen || len < r->npfx)
		return false;
	if (((r->pfxfold ? folded : raw) & r->pfxmask) != r->pfx)
		return false;
	if (r->hasfirst && !(r->first[(raw & 0xff) / 8] >> (raw & 7) & 1))
		return false;
	for (unsigned k = 1; k < r->nkeys; k++)
		if (!(present[r->keys[k] / 64] >> (r->keys[k] % 64) & 1))
			return false;
	return true;
}

/* Candidates among rules [a, b) in order: first key found, or keyless. */
static bool match_range(const struct rs_svcdb *db, struct rs_svcscratch *s, uint32_t a, uint32_t b,
			const uint8_t *resp, size_t len, struct rs_svcmatch *m,
			const uint64_t head[2])
{
	if (s->naive) {
		for (uint32_t i = a; i < b; i++)
			if (run_rule(db, s, i, resp, len, m))
				return true;
		return false;
	}
	for (uint32_t w = a / 64; a < b && w <= (b - 1) / 64; w++) {
		uint64_t bits = s->cand[w] | db->keyless[w];
		if (w == a / 64)
			bits &= ~0ULL << (a % 64);
		if (w == (b - 1) / 64 && b % 64)
			bits &= ~0ULL >> (64 - b % 64);
		while (bits) {
			uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(bits);
			bits &= bits - 1;
			if (maybe(&db->rules[i], len, head[0], head[1], s->present) &&
			    run_rule(db, s, i, resp, len, m))
				return true;
		}
	}
	return false;
}

/* Find the keys in resp and mark the rules whose first key is there. */
static void prefilter(const struct rs_svcdb *db, struct rs_svcscratch *s, const uint8_t *resp,
		      size_t len, uint64_t head[2])
{
	memset(s->present, 0, s->keywords * sizeof(uint64_t));
	memset(s->cand, 0, s->rulewords * sizeof(uint64_t));
	for (size_t i = 0; i < len; i++)
		s->folded[i] = rs__svc_fold(resp[i]);
	rs__svc_prefilter_scan(db, s->folded, len, s->present);
	for (unsigned w = 0; w < s->keywords; w++)
		for (uint64_t bits = s->present[w]; bits; bits &= bits - 1) {
			uint32_t k = w * 64 + (uint32_t)__builtin_ctzll(bits);
			for (uint32_t j = db->key_rule0[k]; j < db->key_rule0[k + 1]; j++)
				s->cand[db->key_rules[j] / 64] |= 1ULL << (db->key_rules[j] % 64);
		}
	head[0] = head[1] = 0;
	for (size_t i = 0; i < len && i < SVC_PFXMAX; i++) {
		head[0] |= (uint64_t)resp[i] << (8 * i);
		head[1] |= (uint64_t)s->folded[i] << (8 * i);
	}
}

int rs_svcdb_match(const struct rs_svcdb *db, struct rs_svcscratch *s, unsigned probe,
		   const uint8_t *resp, size_t len, struct rs_svcmatch *m)
{
	uint64_t head[2] = {0, 0};

	memset(m, 0, sizeof(*m));
	m->rule = -1;
	if (probe >= db->ntcp)
		return -EINVAL;
	if (len > RS_SVCDB_MAXRESP)
		return -EMSGSIZE;
	if (!resp)
		resp = (const uint8_t *)"";
	if (!s->naive)
		prefilter(db, s, resp, len, head);
	const struct svc_probe *p = &db->probes[probe];
	for (unsigned c = 0; c < p->nchain; c++) {
		const struct svc_probe *f = &db->probes[p->chain[c]];
		if (match_range(db, s, f->rule0, f->rule0 + f->nrules, resp, len, m, head))
			return m->soft ? 2 : 1;
	}
	return 0;
}
