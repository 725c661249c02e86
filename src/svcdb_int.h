/* Private layout of the service probe database (include/ringscan/svcdb.h),
 * shared by src/svcdb*.c: parse, prefilter literals, plan, match and
 * substitute. Everything here is written once by rs_svcdb_load and read
 * only afterwards. */
#ifndef RINGSCAN_SVCDB_INT_H
#define RINGSCAN_SVCDB_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringscan/svcdb.h"

#define SVC_MAXFALLBACK 20 /* nmap's MAXFALLBACKS: the chain is self, up to 17 named, NULL */
#define SVC_MAXKEYS	8  /* literals a rule's prefilter requires at most */
#define SVC_KEYMIN	4  /* shortest literal worth indexing (the hash reads 4 bytes) */
#define SVC_PFXMAX	8  /* bytes of an anchored prefix compared in one word */

/* nmap 7.93's limits (service_scan.cc, ServiceProbeMatch::InitMatch). */
#define SVC_MATCH_LIMIT 100000
#define SVC_DEPTH_LIMIT 10000

enum svc_field { SVC_P, SVC_V, SVC_I, SVC_H, SVC_O, SVC_D, SVC_NFIELDS };

struct svc_range {
	uint16_t lo, hi;
};

struct svc_rule {
	pcre2_code *re;
	char *name; /* service */
	char *pat;  /* regex text, for the prefilter */
	uint32_t line;
	uint16_t svc; /* index into db->svcnames */
	uint16_t probe;
	uint8_t soft;
	uint8_t caseless;
	uint8_t hasfirst; /* first[] holds the possible first bytes */
	uint32_t opts;	  /* PCRE2 compile options */
	uint8_t jit;	  /* JIT code made (on first use: see run_rule) */
	uint8_t jit_want; /* ... to be made on first use */
	uint8_t nkeys;
	char *tmpl[SVC_NFIELDS]; /* p v i h o d templates, NULL when absent */
	char **cpe;		 /* "cpe:/..." templates in file order */
	unsigned ncpe;
	/* Prefilter (src/svcdb_lit.c, svcdb_prefilter.c): a match needs at
	 * least minlen bytes, starts with pfx under pfxmask (ASCII-folded
	 * when pfxfold), starts with a byte in first[] (when hasfirst: rules
	 * without a literal prefix, from PCRE2's own analysis), and contains
	 * every key (ASCII-folded). */
	uint32_t minlen;
	uint64_t pfx, pfxmask;
	uint8_t npfx, pfxfold;
	uint8_t first[32];
	uint32_t keys[SVC_MAXKEYS];
};

struct svc_probe {
	struct rs_svcprobe pub;
	bool tcp;
	uint32_t line;
	uint32_t rule0, nrules; /* its rules: db->rules[rule0 .. rule0+nrules) */
	struct svc_range *ports;
	unsigned nports;
	char *fallback; /* the directive's text until resolved */
	uint32_t fallback_line;
	uint16_t chain[SVC_MAXFALLBACK + 1]; /* probes whose rules match its responses */
	unsigned nchain;
	uint64_t *svcset; /* bit per service name its rules can give */
	bool used;	  /* TCP, or a TCP probe's fallback: compiled */
};

/* One literal of the prefilter: ASCII-folded bytes. */
struct svc_key {
	uint32_t off, len; /* in db->keybytes */
};

/* Hash entry: key k may start at the scan position minus off. */
struct svc_gram {
	uint32_t gram; /* the 4 folded bytes, first byte most significant */
	uint32_t key;
	uint32_t off;
};

struct rs_svcdb {
	struct svc_probe *probes; /* TCP probes first (NULL probe at 0), then UDP */
	unsigned nprobes, ntcp;
	int null_idx;
	struct svc_rule *rules;
	unsigned nrules;
	char **svcnames; /* sorted, unique */
	unsigned nsvc, svcwords;
	struct svc_range *excl; /* Exclude directive, TCP ports */
	unsigned nexcl;
	uint32_t maxpairs; /* most capture groups of a rule, plus one */
	/* Prefilter tables. */
	struct svc_key *keys;
	unsigned nkeys;
	uint8_t *keybytes;
	uint32_t *key_rule0, *key_rules; /* rules whose first key is k: CSR */
	uint32_t hbits;
	uint32_t *hstart; /* 1 << hbits buckets + 1, into grams */
	struct svc_gram *grams;
	uint64_t *hbitmap; /* bucket is not empty */
	uint64_t *keyless; /* bit per rule that has no key */
	unsigned rulewords, keywords;
};

/* Per-worker state. */
struct rs_svcscratch {
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jstack;
	uint64_t *present; /* bit per key found in the response */
	uint64_t *cand;	   /* bit per rule whose first key was found */
	uint8_t *folded;   /* the response, ASCII-folded */
	unsigned keywords, rulewords;
	uint64_t errors; /* PCRE2 errors other than no match, counted */
	uint64_t runs;	 /* regexes run (benchmarks) */
	bool naive;	 /* tests and benchmarks: every rule, no prefilter */
};

/* ASCII lower case, the prefilter's folding. */
static inline uint8_t rs__svc_fold(uint8_t c)
{
	return (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c);
}

/* src/svcdb_parse.c: the file into db (probes, rules' text, fallbacks). */
int rs__svcdb_parse(struct rs_svcdb *db, const char *path, char *err, size_t errlen);
/* nmap's cstring_unescape: \0 \a \b \f \n \r \t \v \xHH, other
 * non-alphanumerics as themselves. In place; -EINVAL on a bad escape. */
int rs__svc_unescape(char *s, size_t *len);
/* Bytes of a port list "21-25,53,80" (nmap's setPortVector) as ranges. */
int rs__svc_ports(const char *s, struct svc_range **r, unsigned *n, const char **why);

/* src/svcdb_rule.c: a match/softmatch line into r (templates, the
 * regex's text and options: svcdb_compile.c compiles it). -EINVAL with
 * *why set on a syntax error. */
int rs__svc_rule_parse(struct svc_rule *r, const char *line, char *why, size_t whylen);
void rs__svc_rule_free(struct svc_rule *r);

/* src/svcdb_lit.c: the literals every match of pattern contains and its
 * anchored prefix, found without running it. Conservative: a pattern it
 * cannot read yields no literal. Returns the number of runs stored. */
struct svc_lit {
	const uint8_t *b; /* into buf */
	uint32_t len;
};
struct svc_litset {
	uint8_t buf[2048];
	uint32_t used;
	struct svc_lit run[32];
	unsigned nrun;
	uint8_t pfx[SVC_PFXMAX];
	unsigned npfx; /* bytes of anchored prefix (0: none) */
};
int rs__svc_literals(const char *pat, bool caseless, struct svc_litset *out);
/* Does pattern start with '^' and have no top-level '|' (so that every
 * match starts at offset 0)? */
bool rs__svc_anchored(const char *pat);

/* src/svcdb_compile.c: compile every rule's regex (code, minimum length,
 * first bytes) on threads of their own, while the caller goes on (the
 * prefilter reads only the rules' text). finish() helps, joins, frees
 * the job and reports the first rule in file order that did not compile
 * ("FILE:LINE: illegal regexp ...", -EINVAL); -ENOMEM if start could not
 * allocate. Rules left uncompiled have re NULL. */
struct svc_compile;
int rs__svcdb_compile_start(struct rs_svcdb *db, struct svc_compile **c);
int rs__svcdb_compile_finish(struct svc_compile *c, const char *path, char *err, size_t errlen);

/* src/svcdb_prefilter.c: build the tables from every rule's literals, and
 * find the keys in a response, ASCII-folded (bits in present). */
int rs__svc_prefilter_build(struct rs_svcdb *db);
void rs__svc_prefilter_scan(const struct rs_svcdb *db, const uint8_t *folded, size_t len,
			    uint64_t *present);

/* src/svcdb_plan.c */
int rs__svc_name_id(const struct rs_svcdb *db, const char *name);

/* Test and benchmark hooks: load without JIT (the interpreter runs the
 * rules); match every rule one by one (no prefilter). */
#define SVC_LOAD_NOJIT 1u
int rs__svcdb_load_opts(const char *path, struct rs_svcdb **db, char *err, size_t errlen,
			unsigned flags);
void rs__svcscratch_naive(struct rs_svcscratch *s, bool naive);

#endif
