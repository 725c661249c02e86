/* The ledger of answered positions (see ledger.h). Chunk k of the shard
 * covers positions first + k * chunk ... and lives in window slot k % cap
 * while low <= k < low + cap. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"

int rs_ledger_init(struct rs_ledger *l, uint64_t first, uint64_t end, uint64_t chunk, uint32_t cap)
{
	memset(l, 0, sizeof(*l));
	l->first = first;
	l->end = end;
	l->chunk = chunk ? chunk : 1;
	l->cap = cap ? cap : 1;
	l->words = (uint32_t)((l->chunk + 63) / 64);
	l->count = calloc(l->cap, sizeof(*l->count));
	l->bits = calloc((size_t)l->cap * l->words, sizeof(*l->bits));
	if (!l->count || !l->bits) {
		rs_ledger_free(l);
		return -ENOMEM;
	}
	return 0;
}

void rs_ledger_free(struct rs_ledger *l)
{
	free(l->count);
	free(l->bits);
	l->count = NULL;
	l->bits = NULL;
}

static uint64_t chunk_len(const struct rs_ledger *l, uint64_t k)
{
	uint64_t b = l->first + k * l->chunk, e = b + l->chunk;
	return (e < l->end ? e : l->end) - b;
}

bool rs_ledger_mark(struct rs_ledger *l, uint64_t pos)
{
	if (pos < l->first || pos >= l->end)
		return false;
	uint64_t k = (pos - l->first) / l->chunk, off = (pos - l->first) % l->chunk;
	if (k < l->low || k >= l->low + l->cap)
		return false; /* below: long complete; above: never handed out */
	uint32_t slot = (uint32_t)(k % l->cap);
	uint64_t *w = &l->bits[(size_t)slot * l->words + off / 64], bit = 1ULL << (off % 64);
	if (*w & bit)
		return false;
	*w |= bit;
	l->count[slot]++;
	l->answered++;
	/* Slide past complete chunks, clearing their slots for reuse. */
	while (l->first + l->low * l->chunk < l->end) {
		uint32_t s = (uint32_t)(l->low % l->cap);
		if (l->count[s] != chunk_len(l, l->low))
			break;
		l->count[s] = 0;
		memset(&l->bits[(size_t)s * l->words], 0, l->words * sizeof(*l->bits));
		l->low++;
	}
	return true;
}

uint64_t rs_ledger_limit(const struct rs_ledger *l)
{
	uint64_t lim = l->first + (l->low + l->cap) * l->chunk;
	return lim < l->end ? lim : l->end;
}

void rs_ledger_skip(struct rs_ledger *l, uint64_t pos)
{
	if (pos > l->end)
		pos = l->end;
	if (pos <= l->first)
		return;
	l->low = (pos - l->first) / l->chunk;
	for (uint64_t p = l->first + l->low * l->chunk; p < pos; p++)
		rs_ledger_mark(l, p);
}

uint64_t rs_ledger_low(const struct rs_ledger *l)
{
	uint64_t lo = l->first + l->low * l->chunk;
	return lo < l->end ? lo : l->end;
}

/* The first position in [p, e) whose answered() differs from v. lo and
 * hi are the window's positions: below lo all are answered, from hi on
 * none is. */
static uint64_t run_end(const struct rs_ledger *l, uint64_t lo, uint64_t hi, uint64_t p, uint64_t e,
			bool v)
{
	if (p < lo) {
		if (!v)
			return p;
		p = lo < e ? lo : e;
	}
	uint64_t stop = e < hi ? e : hi;
	while (p < stop) {
		uint64_t k = (p - l->first) / l->chunk, off = (p - l->first) % l->chunk;
		uint64_t w = l->bits[(size_t)(k % l->cap) * l->words + off / 64];
		if (off % 64 == 0 && off + 64 <= l->chunk && p + 64 <= stop &&
		    w == (v ? ~0ULL : 0ULL)) {
			p += 64;
			continue;
		}
		if ((bool)(w >> (off % 64) & 1) != v)
			return p;
		p++;
	}
	if (p >= e)
		return e;
	return v ? p : e; /* from hi on, nothing is answered */
}

/* Maximal runs of positions in [b, e) whose answered() is want. Whole
 * 64-bit words are skipped at once: a checkpoint walks the window. */
static size_t runs_of(const struct rs_ledger *l, bool want, uint64_t b, uint64_t e,
		      struct rs_job *out, size_t max, uint64_t *resume)
{
	size_t n = 0;
	uint64_t lo = rs_ledger_low(l), hi = rs_ledger_limit(l);

	if (b < l->first)
		b = l->first;
	if (e > l->end)
		e = l->end;
	while (b < e && n < max) {
		b = run_end(l, lo, hi, b, e, !want);
		if (b == e)
			break;
		uint64_t stop = run_end(l, lo, hi, b, e, want);
		out[n++] = (struct rs_job){b, stop};
		b = stop;
	}
	*resume = b;
	return n;
}

size_t rs_ledger_gaps(const struct rs_ledger *l, uint64_t b, uint64_t e, struct rs_job *out,
		      size_t max, uint64_t *resume)
{
	return runs_of(l, false, b, e, out, max, resume);
}

size_t rs_ledger_runs(const struct rs_ledger *l, uint64_t b, uint64_t e, struct rs_job *out,
		      size_t max, uint64_t *resume)
{
	return runs_of(l, true, b, e, out, max, resume);
}
