/* libFuzzer target for the checkpoint reader (make fuzz).
 *
 * A checkpoint is read back from disk, where anything may have happened to
 * it. Whatever the bytes, the reader must not crash, leak or read out of
 * bounds (ASan, UBSan); every refusal must be one NUL-terminated line; and
 * every accepted checkpoint must be self-consistent: low inside the shard,
 * runs sorted, apart and inside (low, end], counts adding up to the
 * answered positions, the output's checksum 0 when its length is. Each
 * input is also parsed with its checksum line recomputed, so that
 * mutations reach the checks behind the checksum. */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringscan/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const char *data, size_t size)
{
	struct rs_checkpoint ck;
	char err[256];

	memset(err, 0x55, sizeof(err));
	int r = rs_checkpoint_parse(data, size, &ck, err, sizeof(err));
	if (r) {
		assert(r == -EINVAL || r == -ENOMEM);
		size_t n = strnlen(err, sizeof(err));
		assert(n < sizeof(err) && n > 0);
		assert(!memchr(err, '\n', n));
		assert(!ck.runs && !ck.nruns);
		return;
	}
	assert(ck.first <= ck.low && ck.low <= ck.end && ck.end <= (1ULL << 63));
	assert(ck.fp.shard_index < ck.fp.shard_count);
	assert(ck.length || !ck.outsum); /* the checksum of nothing is 0 */
	uint64_t answered = ck.low - ck.first, prev = ck.low, sum = 0;
	for (size_t i = 0; i < ck.nruns; i++) {
		assert(ck.runs[i].begin > prev && ck.runs[i].end > ck.runs[i].begin);
		assert(ck.runs[i].end <= ck.end);
		answered += ck.runs[i].end - ck.runs[i].begin;
		prev = ck.runs[i].end;
	}
	for (int s = 0; s < RS_NSTATES; s++)
		sum += ck.count[s];
	assert(sum == answered);
	assert(rs_checkpoint_finished(&ck) == (ck.low == ck.end));
	rs_checkpoint_free(&ck);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *key = "\nchecksum ", *at = NULL;

	one((const char *)data, size);
	for (const char *p = (const char *)data;
	     (p = memmem(p, size - (size_t)(p - (const char *)data), key, 10)); p++)
		at = p;
	if (!at || (size_t)(at - (const char *)data) + 10 + 16 > size)
		return 0;
	char *copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	size_t body = (size_t)(at - (const char *)data) + 1;
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a, as the writer signs */
	for (size_t i = 0; i < body; i++)
		h = (h ^ (unsigned char)copy[i]) * 0x100000001b3ULL;
	char hex[17];
	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)h);
	memcpy(copy + body + 9, hex, 16);
	one(copy, size);
	free(copy);
	return 0;
}
