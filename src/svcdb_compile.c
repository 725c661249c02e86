/* Compiling the database's regexes, on every core while the prefilter is
 * built from the same rules' text: PCRE2's compile was half of a load
 * (nmap 7.93's 11,917 rules: ~80 of ~170 ms), all of it on one core while
 * the rest of the machine waited for the workers to fork.
 *
 * Threads take rules in chunks from a shared counter; each rule's
 * compiled code, minimum length and possible first bytes are its own
 * fields, which the prefilter (building at the same time) never touches.
 * Errors are reported as the sequential parse did: the first bad rule in
 * file order. Threads are joined before the load returns, long before
 * the coordinator forks. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "svcdb_int.h"

#define CHUNK	    32 /* rules a thread takes at a time */
#define MAX_THREADS 8

struct first_bad {
	unsigned idx; /* nrules: none */
	int code;
	PCRE2_SIZE off;
};

struct svc_compile;
struct worker {
	struct svc_compile *c;
	struct first_bad bad;
};

struct svc_compile {
	struct rs_svcdb *db;
	atomic_uint next;
	unsigned nthreads;
	pthread_t thread[MAX_THREADS];
	struct worker w[MAX_THREADS + 1]; /* the last: the caller's */
};

/* The bytes a match of an anchored rule without a literal prefix may
 * start with: PCRE2 knows them for the pattern without its '^' (it keeps
 * them only for unanchored patterns), as a first code unit or a bitmap.
 * The code unit is taken both cases (an inline (?i) would fold it). */
static void first_bytes(struct svc_rule *r, struct svc_litset *ls)
{
	uint32_t type = 0, cu = 0;
	const uint8_t *bm = NULL;
	int code;
	PCRE2_SIZE off;

	if (!rs__svc_anchored(r->pat))
		return;
	rs__svc_literals(r->pat, r->caseless, ls);
	if (ls->npfx) /* the prefilter checks the prefix itself */
		return;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)r->pat + 1, PCRE2_ZERO_TERMINATED, r->opts,
				       &code, &off, NULL);
	if (!re)
		return;
	pcre2_pattern_info(re, PCRE2_INFO_FIRSTCODETYPE, &type);
	pcre2_pattern_info(re, PCRE2_INFO_FIRSTCODEUNIT, &cu);
	pcre2_pattern_info(re, PCRE2_INFO_FIRSTBITMAP, &bm);
	if (type == 1 && cu < 256) {
		uint8_t lo = rs__svc_fold((uint8_t)cu), up = lo >= 'a' && lo <= 'z' ? lo - 32 : lo;
		memset(r->first, 0, sizeof(r->first));
		r->first[lo / 8] |= (uint8_t)(1u << (lo % 8));
		r->first[up / 8] |= (uint8_t)(1u << (up % 8));
		r->hasfirst = 1;
	} else if (type == 0 && bm) {
		memcpy(r->first, bm, sizeof(r->first));
		r->hasfirst = 1;
	}
	pcre2_code_free(re);
}

/* Compile rule r: its code and minimum length, and its first bytes for the
 * prefilter. 0, or -EINVAL with PCRE2's error code and offset. */
static int compile_rule(struct svc_rule *r, struct svc_litset *ls, int *code, PCRE2_SIZE *off)
{
	r->re = pcre2_compile((PCRE2_SPTR)r->pat, PCRE2_ZERO_TERMINATED, r->opts, code, off, NULL);
	if (!r->re)
		return -EINVAL;
	pcre2_pattern_info(r->re, PCRE2_INFO_MINLENGTH, &r->minlen);
	first_bytes(r, ls);
	return 0;
}

/* Take chunks of rules until none is left; the first failure kept in bad. */
static void work(struct svc_compile *c, struct first_bad *bad)
{
	struct svc_litset ls;
	unsigned n = c->db->nrules;

	bad->idx = n;
	for (;;) {
		unsigned i = atomic_fetch_add_explicit(&c->next, CHUNK, memory_order_relaxed);
		if (i >= n)
			break;
		for (unsigned end = i + CHUNK < n ? i + CHUNK : n; i < end; i++) {
			struct svc_rule *r = &c->db->rules[i];
			int code = 0;
			PCRE2_SIZE off = 0;
			if (compile_rule(r, &ls, &code, &off) && i < bad->idx)
				*bad = (struct first_bad){i, code, off};
		}
	}
}

static void *thread_main(void *arg)
{
	struct worker *w = arg;

	work(w->c, &w->bad);
	return NULL;
}

int rs__svcdb_compile_start(struct rs_svcdb *db, struct svc_compile **out)
{
	struct svc_compile *c = calloc(1, sizeof(*c));
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned want = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : (unsigned)cpus;

	*out = c;
	if (!c)
		return -ENOMEM;
	c->db = db;
	atomic_init(&c->next, 0);
	for (unsigned t = 0; t <= MAX_THREADS; t++)
		c->w[t] = (struct worker){c, {db->nrules, 0, 0}};
	for (; c->nthreads < want; c->nthreads++)
		if (pthread_create(&c->thread[c->nthreads], NULL, thread_main, &c->w[c->nthreads]))
			break; /* fewer threads; the caller's finish does the rest */
	return 0;
}

int rs__svcdb_compile_finish(struct svc_compile *c, const char *path, char *err, size_t errlen)
{
	struct first_bad *b;

	if (!c)
		return -ENOMEM;
	work(c, &c->w[MAX_THREADS].bad); /* what the threads have not taken */
	for (unsigned t = 0; t < c->nthreads; t++)
		pthread_join(c->thread[t], NULL);
	b = &c->w[MAX_THREADS].bad;
	for (unsigned t = 0; t < c->nthreads; t++)
		if (c->w[t].bad.idx < b->idx)
			b = &c->w[t].bad;
	int rc = 0;
	if (b->idx < c->db->nrules) {
		char msg[160];
		pcre2_get_error_message(b->code, (PCRE2_UCHAR *)msg, sizeof(msg));
		if (err && errlen)
			snprintf(err, errlen, "%s:%u: illegal regexp (at offset %zu): %s", path,
				 c->db->rules[b->idx].line, (size_t)b->off, msg);
		rc = -EINVAL;
	}
	free(c);
	return rc;
}
