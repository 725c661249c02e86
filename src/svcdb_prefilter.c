/* The prefilter: which rules are worth running on a response, without
 * running them. Each rule needs up to SVC_MAXKEYS literals (svcdb_lit.c,
 * ASCII-folded, >= 4 bytes), the rarest first (fewest rules share it), and
 * may need an anchored prefix and a minimum length (PCRE2_INFO_MINLENGTH).
 * One pass over the response finds every key it holds: each key is
 * indexed under one 4-byte gram of its own (the gram whose hash bucket
 * was least loaded when the key was placed), so at each position one
 * hash, one bitmap test and, rarely, a short bucket walk and a compare.
 * A rule is run when its first key was found (or it has none) and its
 * prefix, length and other keys agree. The filter only ever says "maybe":
 * rules it lets through are run by PCRE2 in file order, so the answer is
 * the same as running every rule (test_svcdb checks it on the real DB). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "svcdb_int.h"

#define MAXRUNS 32 /* literals a rule may offer before choosing */

struct kmap {
	uint32_t *slot; /* key id + 1, 0 empty */
	uint32_t mask;
	uint32_t *freq;
	uint32_t cap;
};

static uint32_t fnv32(const uint8_t *b, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static inline uint32_t gram_hash(uint32_t g, uint32_t bits)
{
	return (g * 2654435761u) >> (32 - bits);
}

/* calloc, but written: calloc's fresh pages map the shared zero page on
 * their first read, and the write after it copies the page and flushes
 * the TLB of every core running this process -- the compile threads
 * (svcdb_compile.c) run meanwhile, so each such fault sent them an IPI:
 * a fifth of a load's time went there. explicit_bzero, because the
 * compiler turns malloc + memset back into calloc. */
static void *zalloc(size_t n, size_t size)
{
	void *p = n && size > SIZE_MAX / n ? NULL : malloc(n * size);

	if (p)
		explicit_bzero(p, n * size);
	return p;
}

/* The id of key b[0..n) (folded), added if new; -ENOMEM. */
static int64_t key_id(struct rs_svcdb *db, struct kmap *m, const uint8_t *b, uint32_t n)
{
	uint32_t h = fnv32(b, n) & m->mask;

	for (;; h = (h + 1) & m->mask) {
		uint32_t s = m->slot[h];
		if (!s)
			break;
		const struct svc_key *k = &db->keys[s - 1];
		if (k->len == n && !memcmp(db->keybytes + k->off, b, n))
			return s - 1;
	}
	if (db->nkeys == m->cap)
		return -ENOMEM; /* sized for every run: cannot happen */
	uint32_t off = db->keys[db->nkeys ? db->nkeys - 1 : 0].off +
		       (db->nkeys ? db->keys[db->nkeys - 1].len : 0);
	memcpy(db->keybytes + off, b, n);
	db->keys[db->nkeys] = (struct svc_key){off, n};
	m->slot[h] = ++db->nkeys;
	return db->nkeys - 1;
}

/* Prefix and candidate keys of rule r from its literals. */
static int rule_literals(struct rs_svcdb *db, struct kmap *m, struct svc_rule *r,
			 struct svc_litset *ls, uint32_t *ids, unsigned *nids)
{
	uint8_t f[sizeof(ls->buf)];

	rs__svc_literals(r->pat, r->caseless, ls);
	r->npfx = (uint8_t)ls->npfx;
	r->pfxfold = r->caseless;
	r->pfx = r->pfxmask = 0;
	for (unsigned i = 0; i < ls->npfx; i++) {
		uint8_t c = r->caseless ? rs__svc_fold(ls->pfx[i]) : ls->pfx[i];
		r->pfx |= (uint64_t)c << (8 * i);
		r->pfxmask |= (uint64_t)0xff << (8 * i);
	}
	*nids = 0;
	for (unsigned i = 0; i < ls->nrun && *nids < MAXRUNS; i++) {
		const struct svc_lit *l = &ls->run[i];
		if (l->len < SVC_KEYMIN)
			continue;
		for (uint32_t j = 0; j < l->len; j++)
			f[j] = rs__svc_fold(l->b[j]);
		int64_t id = key_id(db, m, f, l->len);
		if (id < 0)
			return (int)id;
		bool dup = false;
		for (unsigned j = 0; j < *nids; j++)
			dup |= ids[j] == (uint32_t)id;
		if (!dup) {
			ids[(*nids)++] = (uint32_t)id;
			m->freq[id]++;
		}
	}
	return 0;
}

/* Keep a rule's rarest keys (ties: the longer), rarest first. */
static void choose_keys(struct rs_svcdb *db, const uint32_t *freq, struct svc_rule *r,
			uint32_t *ids, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0; j--) {
			uint32_t a = ids[j - 1], b = ids[j];
			if (freq[b] > freq[a] ||
			    (freq[b] == freq[a] && db->keys[b].len <= db->keys[a].len))
				break;
			ids[j - 1] = b;
			ids[j] = a;
		}
	r->nkeys = (uint8_t)(n < SVC_MAXKEYS ? n : SVC_MAXKEYS);
	memcpy(r->keys, ids, r->nkeys * sizeof(*ids));
}

/* Rules by first key (CSR), and the keyless rules' bitset. */
static int index_rules(struct rs_svcdb *db)
{
	db->key_rule0 = zalloc(db->nkeys + 1, sizeof(uint32_t));
	db->key_rules = zalloc(db->nrules + 1, sizeof(uint32_t));
	db->keyless = zalloc(db->rulewords, sizeof(uint64_t));
	if (!db->key_rule0 || !db->key_rules || !db->keyless)
		return -ENOMEM;
	for (unsigned i = 0; i < db->nrules; i++)
		if (db->rules[i].nkeys)
			db->key_rule0[db->rules[i].keys[0] + 1]++;
		else
			db->keyless[i / 64] |= 1ULL << (i % 64);
	for (unsigned k = 0; k < db->nkeys; k++)
		db->key_rule0[k + 1] += db->key_rule0[k];
	uint32_t *fill = zalloc(db->nkeys + 1, sizeof(uint32_t));
	if (!fill)
		return -ENOMEM;
	for (unsigned i = 0; i < db->nrules; i++)
		if (db->rules[i].nkeys) {
			uint32_t k = db->rules[i].keys[0];
			db->key_rules[db->key_rule0[k] + fill[k]++] = i;
		}
	free(fill);
	return 0;
}

static inline uint32_t gram_at(const uint8_t *q)
{
	return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

/* How often each gram occurs in the keys, approximately: a count per hash
 * of the gram, saturating. Grams that share a hash add up, which only
 * makes a gram look commoner than it is: the choice it guides is one of
 * speed (which gram indexes a key), never of answers, and an exact table
 * (open addressing, 8 MiB) took a sixth of the whole load in cache misses. */
#define GCOUNT_BITS 18 /* 512 KiB */

struct gcount {
	uint16_t *n;
};

static uint16_t *gcount_slot(struct gcount *t, uint32_t g)
{
	return &t->n[gram_hash(g, GCOUNT_BITS)];
}

static int gram_counts(const struct rs_svcdb *db, struct gcount *t)
{
	t->n = zalloc(1u << GCOUNT_BITS, sizeof(uint16_t));
	if (!t->n)
		return -ENOMEM;
	for (unsigned k = 0; k < db->nkeys; k++) {
		const uint8_t *b = db->keybytes + db->keys[k].off;
		for (uint32_t o = 0; o + 4 <= db->keys[k].len; o++) {
			uint16_t *c = gcount_slot(t, gram_at(b + o));
			*c += *c != UINT16_MAX;
		}
	}
	return 0;
}

/* Each key's gram: the one fewest keys contain (likely rare in responses
 * too: "ginx" rather than "\r\nSe"), then the least crowded bucket. */
static void pick_grams(const struct rs_svcdb *db, struct gcount *t, uint32_t *cnt, uint32_t *pick)
{
	for (unsigned k = 0; k < db->nkeys; k++) {
		const uint8_t *b = db->keybytes + db->keys[k].off;
		uint64_t best = UINT64_MAX;
		for (uint32_t o = 0; o + 4 <= db->keys[k].len; o++) {
			uint32_t g = gram_at(b + o);
			uint64_t score =
				(uint64_t)*gcount_slot(t, g) << 32 | cnt[gram_hash(g, db->hbits)];
			if (score < best)
				best = score, pick[k] = o;
		}
		cnt[gram_hash(gram_at(b + pick[k]), db->hbits)]++;
	}
}

/* The gram table: CSR buckets by hash of each key's gram. */
static int index_grams(struct rs_svcdb *db)
{
	struct gcount t = {0};
	uint32_t bits = 10;
	while ((1u << bits) < 4 * db->nkeys && bits < 24)
		bits++;
	uint32_t nb = 1u << bits, *cnt = zalloc(nb + 1, sizeof(uint32_t));
	uint32_t *pick = zalloc(db->nkeys + 1, sizeof(uint32_t));
	int rc = -ENOMEM;
	db->hbits = bits;
	db->hstart = zalloc(nb + 1, sizeof(uint32_t));
	db->grams = zalloc(db->nkeys + 1, sizeof(struct svc_gram));
	db->hbitmap = zalloc(nb / 64, sizeof(uint64_t));
	if (!cnt || !pick || !db->hstart || !db->grams || !db->hbitmap || gram_counts(db, &t))
		goto out;
	pick_grams(db, &t, cnt, pick);
	for (uint32_t h = 0; h < nb; h++) {
		db->hstart[h + 1] = db->hstart[h] + cnt[h];
		if (cnt[h])
			db->hbitmap[h / 64] |= 1ULL << (h % 64);
		cnt[h] = 0;
	}
	for (unsigned k = 0; k < db->nkeys; k++) {
		uint32_t g = gram_at(db->keybytes + db->keys[k].off + pick[k]);
		uint32_t h = gram_hash(g, bits);
		db->grams[db->hstart[h] + cnt[h]++] = (struct svc_gram){g, k, pick[k]};
	}
	rc = 0;
out:
	free(t.n);
	free(cnt);
	free(pick);
	return rc;
}

/* Give back what was reserved for the worst case. */
static void shrink(struct rs_svcdb *db)
{
	size_t bytes = db->nkeys ? db->keys[db->nkeys - 1].off + db->keys[db->nkeys - 1].len : 0;
	struct svc_key *k = realloc(db->keys, (db->nkeys + 1) * sizeof(*k));
	uint8_t *b = realloc(db->keybytes, bytes + 1);
	if (k)
		db->keys = k;
	if (b)
		db->keybytes = b;
}

int rs__svc_prefilter_build(struct rs_svcdb *db)
{
	size_t total = 0;
	int rc = -ENOMEM;
	struct kmap m = {0};
	struct svc_litset *ls = malloc(sizeof(*ls));
	uint32_t *ids = malloc(sizeof(uint32_t) * MAXRUNS * (db->nrules + 1));
	uint8_t *nids = zalloc(db->nrules + 1, 1);

	for (unsigned i = 0; i < db->nrules; i++)
		total += db->rules[i].pat ? strlen(db->rules[i].pat) : 0;
	m.cap = (uint32_t)(db->nrules * MAXRUNS + 1);
	uint32_t sz = 1024;
	while (sz < 2 * m.cap)
		sz *= 2;
	m.mask = sz - 1;
	m.slot = zalloc(sz, sizeof(uint32_t));
	m.freq = zalloc(m.cap, sizeof(uint32_t));
	db->keys = zalloc(m.cap, sizeof(*db->keys));
	db->keybytes = malloc(total + 1);
	if (!ls || !ids || !nids || !m.slot || !m.freq || !db->keys || !db->keybytes)
		goto out;
	for (unsigned i = 0; i < db->nrules; i++) {
		struct svc_rule *r = &db->rules[i];
		unsigned n = 0;
		if (r->pat && db->probes[r->probe].used) {
			rc = rule_literals(db, &m, r, ls, ids + (size_t)i * MAXRUNS, &n);
			if (rc)
				goto out;
		}
		nids[i] = (uint8_t)n;
	}
	for (unsigned i = 0; i < db->nrules; i++)
		choose_keys(db, m.freq, &db->rules[i], ids + (size_t)i * MAXRUNS, nids[i]);
	shrink(db);
	db->keywords = (db->nkeys + 63) / 64;
	rc = index_rules(db);
	if (rc == 0)
		rc = index_grams(db);
out:
	free(ls);
	free(ids);
	free(nids);
	free(m.slot);
	free(m.freq);
	return rc;
}

void rs__svc_prefilter_scan(const struct rs_svcdb *db, const uint8_t *folded, size_t len,
			    uint64_t *present)
{
	uint32_t g = 0, bits = db->hbits;

	for (size_t i = 0; i < len; i++) {
		g = g << 8 | folded[i];
		if (i < 3)
			continue;
		uint32_t h = gram_hash(g, bits);
		if (!(db->hbitmap[h / 64] >> (h % 64) & 1))
			continue;
		for (uint32_t e = db->hstart[h]; e < db->hstart[h + 1]; e++) {
			const struct svc_gram *gr = &db->grams[e];
			if (gr->gram != g || present[gr->key / 64] >> (gr->key % 64) & 1)
				continue;
			size_t at = i - 3;
			const struct svc_key *k = &db->keys[gr->key];
			if (at < gr->off || at - gr->off + k->len > len)
				continue;
			if (!memcmp(folded + at - gr->off, db->keybytes + k->off, k->len))
				present[gr->key / 64] |= 1ULL << (gr->key % 64);
		}
	}
}
