/* Checkpoint files: fingerprint, writer and strict reader (see
 * ringscan/checkpoint.h and docs/checkpoint.md). The reader trusts nothing:
 * a checkpoint may be truncated, edited, or hostile, and every fault is
 * one line naming the line number. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ringscan/checkpoint.h"

#define CK_MAGIC    "ringscan-checkpoint 3"
#define CK_MAGIC_V2 "ringscan-checkpoint 2" /* before --db: read as "db 0" */
#define CK_MAGIC_V1 "ringscan-checkpoint 1" /* before the output's checksum */
#define CK_LINE_MAX 256
#define CK_FILE_MAX (1u << 30) /* a checkpoint is far smaller; refuse junk */
#define FNV_OFFSET  0xcbf29ce484222325ULL
#define FNV_PRIME   0x100000001b3ULL
#define SPACE_LIMIT (1ULL << 63)

static const char *const state_key[RS_NSTATES] = {
	[RS_OPEN] = "open",	    [RS_CLOSED] = "closed",
	[RS_FILTERED] = "filtered", [RS_UNREACHABLE] = "unreachable",
	[RS_ERROR] = "error",
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * FNV_PRIME;
	return h;
}

/* n bytes of v, least significant first: the hash does not depend on the
 * machine's byte order. */
static uint64_t fnv_le(uint64_t h, rs_u128 v, int n)
{
	for (int i = 0; i < n; i++)
		h = (h ^ (uint8_t)(v >> (8 * i))) * FNV_PRIME;
	return h;
}

static uint64_t hash_addrset(const struct rs_addrset *s)
{
	uint64_t h = fnv_le(FNV_OFFSET, s->n, 8);
	for (size_t i = 0; i < s->n; i++)
		h = fnv_le(fnv_le(h, s->r[i].lo, 16), s->r[i].hi, 16);
	return h;
}

void rs_fingerprint_sets(struct rs_fingerprint *fp, const struct rs_space *sp,
			 const struct rs_addrset *exclude)
{
	uint64_t h = fnv_le(FNV_OFFSET, sp->ports.n, 8);
	for (size_t i = 0; i < sp->ports.n; i++)
		h = fnv_le(fnv_le(h, sp->ports.r[i].lo, 4), sp->ports.r[i].hi, 4);
	fp->ports = h;
	fp->targets = hash_addrset(&sp->addrs);
	fp->exclude = hash_addrset(exclude);
}

const char *rs_fingerprint_diff(const struct rs_fingerprint *ck, const struct rs_fingerprint *cl)
{
	if (ck->exclude != cl->exclude) /* first: they change the targets too */
		return "the exclusions differ";
	if (ck->targets != cl->targets)
		return "the targets differ";
	if (ck->ports != cl->ports)
		return "the ports differ";
	if (ck->seed != cl->seed)
		return "the seed differs";
	if (ck->shard_index != cl->shard_index || ck->shard_count != cl->shard_count)
		return "the shard differs";
	if (strcmp(ck->format, cl->format))
		return "the output format differs";
	if (ck->all != cl->all)
		return "--all differs";
	return NULL;
}

bool rs_checkpoint_finished(const struct rs_checkpoint *ck)
{
	return ck->low == ck->end;
}

void rs_checkpoint_free(struct rs_checkpoint *ck)
{
	free(ck->runs);
	ck->runs = NULL;
	ck->nruns = 0;
}

/* ---- reader ---- */

struct reader {
	const char *p, *end;
	const char *line; /* the current line, without its '\n' */
	size_t len;
	unsigned lineno;
	char *err;
	size_t errlen;
};

static int fail(struct reader *r, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(r->err, r->errlen, "line %u: ", r->lineno);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < r->errlen)
		vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Take the next line. 0, or -EINVAL (missing, unterminated, too long,
 * or holding a control character). */
static int next_line(struct reader *r)
{
	r->lineno++;
	if (r->p == r->end)
		return fail(r, "the file ends early (truncated?)");
	const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
	if (!nl)
		return fail(r, "the last line is unterminated (truncated?)");
	r->line = r->p;
	r->len = (size_t)(nl - r->p);
	r->p = nl + 1;
	if (r->len > CK_LINE_MAX)
		return fail(r, "line too long");
	for (size_t i = 0; i < r->len; i++)
		if ((unsigned char)r->line[i] < 0x20 || (unsigned char)r->line[i] > 0x7e)
			return fail(r, "unexpected byte 0x%02x", (unsigned char)r->line[i]);
	return 0;
}

/* The line is "KEY VALUE": copy VALUE (NUL-terminated) into val. */
static int keyed(struct reader *r, const char *key, char *val, size_t cap)
{
	size_t k = strlen(key);
	if (r->len <= k || memcmp(r->line, key, k) || r->line[k] != ' ')
		return fail(r, "expected '%s'", key);
	size_t n = r->len - k - 1;
	if (n == 0 || n >= cap)
		return fail(r, "bad value for '%s'", key);
	memcpy(val, r->line + k + 1, n);
	val[n] = 0;
	return 0;
}

/* Canonical decimal (no sign, no leading zero) up to max; advances *s. */
static bool decimal(const char **s, uint64_t max, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;

	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (d > max || v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*s = p;
	*out = v;
	return true;
}

static int number(struct reader *r, const char *key, uint64_t max, uint64_t *out)
{
	char val[32];
	int ret = keyed(r, key, val, sizeof(val));
	const char *p = val;

	if (ret)
		return ret;
	if (!decimal(&p, max, out) || *p)
		return fail(r, "bad number for '%s'", key);
	return 0;
}

static int hex64(struct reader *r, const char *key, uint64_t *out)
{
	char val[32];
	int ret = keyed(r, key, val, sizeof(val));

	if (ret)
		return ret;
	if (strlen(val) != 16 || strspn(val, "0123456789abcdef") != 16)
		return fail(r, "bad hash for '%s' (16 lowercase hex digits)", key);
	*out = strtoull(val, NULL, 16);
	return 0;
}

/* Two numbers "A<sep>B". */
static int pair(struct reader *r, const char *key, char sep, uint64_t max, uint64_t *a, uint64_t *b)
{
	char val[64];
	int ret = keyed(r, key, val, sizeof(val));
	const char *p = val;

	if (ret)
		return ret;
	if (!decimal(&p, max, a) || *p++ != sep || !decimal(&p, max, b) || *p)
		return fail(r, "bad value for '%s'", key);
	return 0;
}

/* Version 3's "db 0", or "db ID TOKEN": the scan's row in --db. */
static int read_db(struct reader *r, struct rs_checkpoint *ck)
{
	char val[64];
	const char *p = val;
	uint64_t id;
	int ret;

	if ((ret = next_line(r)) || (ret = keyed(r, "db", val, sizeof(val))))
		return ret;
	if (!strcmp(val, "0"))
		return 0;
	if (!decimal(&p, INT64_MAX, &id) || !id || *p++ != ' ' || strlen(p) != 16 ||
	    strspn(p, "0123456789abcdef") != 16)
		return fail(r, "bad value for 'db' (0, or a scan id and 16 hex digits)");
	ck->db_scan = (int64_t)id;
	ck->db_token = strtoull(p, NULL, 16);
	return 0;
}

static int read_header(struct reader *r, struct rs_checkpoint *ck)
{
	uint64_t a, b;
	char val[32];
	int ret;

	if ((ret = next_line(r)))
		return ret;
	if (r->len == strlen(CK_MAGIC_V1) && !memcmp(r->line, CK_MAGIC_V1, r->len))
		return fail(r,
			    "checkpoint format version 1, from an older ringscan that did not "
			    "record the output's checksum; this one reads versions 2 and 3 only: "
			    "remove the file to scan again from the start");
	bool v2 = r->len == strlen(CK_MAGIC_V2) && !memcmp(r->line, CK_MAGIC_V2, r->len);
	if (!v2 && (r->len != strlen(CK_MAGIC) || memcmp(r->line, CK_MAGIC, r->len)))
		return fail(r, "not a ringscan checkpoint (expected '%s')", CK_MAGIC);
	if ((ret = next_line(r)) || (ret = number(r, "seed", UINT64_MAX, &ck->fp.seed)))
		return ret;
	if ((ret = next_line(r)) || (ret = pair(r, "shard", '/', UINT32_MAX, &a, &b)))
		return ret;
	if (b == 0 || a >= b)
		return fail(r, "bad shard %llu/%llu", (unsigned long long)a, (unsigned long long)b);
	ck->fp.shard_index = (uint32_t)a;
	ck->fp.shard_count = (uint32_t)b;
	if ((ret = next_line(r)) || (ret = hex64(r, "targets", &ck->fp.targets)) ||
	    (ret = next_line(r)) || (ret = hex64(r, "ports", &ck->fp.ports)) ||
	    (ret = next_line(r)) || (ret = hex64(r, "exclude", &ck->fp.exclude)))
		return ret;
	if ((ret = next_line(r)) || (ret = keyed(r, "format", val, sizeof(ck->fp.format))))
		return ret;
	if (strspn(val, "abcdefghijklmnopqrstuvwxyz0123456789+") != strlen(val))
		return fail(r, "bad format name");
	strcpy(ck->fp.format, val);
	if ((ret = next_line(r)) || (ret = number(r, "all", 1, &a)))
		return ret;
	ck->fp.all = a != 0;
	if ((ret = next_line(r)) || (ret = pair(r, "positions", ' ', SPACE_LIMIT, &a, &b)))
		return ret;
	if (a > b)
		return fail(r, "positions: first after end");
	ck->first = a;
	ck->end = b;
	if ((ret = next_line(r)) || (ret = number(r, "low", SPACE_LIMIT, &ck->low)))
		return ret;
	if (ck->low < ck->first || ck->low > ck->end)
		return fail(r, "low outside the shard's positions");
	if ((ret = next_line(r)) || (ret = number(r, "length", SPACE_LIMIT, &ck->length)) ||
	    (ret = next_line(r)) || (ret = hex64(r, "output_crc64", &ck->outsum)))
		return ret;
	if (!ck->length && ck->outsum)
		return fail(r, "output_crc64 of an empty output must be 0");
	for (int s = 0; s < RS_NSTATES; s++)
		if ((ret = next_line(r)) ||
		    (ret = number(r, state_key[s], ck->end - ck->first, &ck->count[s])))
			return ret;
	if ((ret = next_line(r)) || (ret = number(r, "retries", UINT64_MAX, &ck->retries)) ||
	    (ret = next_line(r)) ||
	    (ret = number(r, "local_errors", UINT64_MAX, &ck->local_errors)))
		return ret;
	return v2 ? 0 : read_db(r, ck);
}

static int add_run(struct rs_checkpoint *ck, size_t *cap, uint64_t b, uint64_t e)
{
	if (ck->nruns == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct rs_ckrun *n = realloc(ck->runs, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		ck->runs = n;
		*cap = ncap;
	}
	ck->runs[ck->nruns++] = (struct rs_ckrun){b, e};
	return 0;
}

int rs_checkpoint_parse(const char *buf, size_t len, struct rs_checkpoint *ck, char *err,
			size_t errlen)
{
	struct reader r = {.p = buf, .end = buf + len, .err = err, .errlen = errlen};
	uint64_t answered, sum = 0, want, prev;
	size_t cap = 0;
	int ret;

	memset(ck, 0, sizeof(*ck));
	if ((ret = read_header(&r, ck)))
		goto out;
	answered = ck->low - ck->first;
	prev = ck->low;
	for (;;) {
		uint64_t b, e;
		if ((ret = next_line(&r)))
			goto out;
		if (r.len >= 9 && !memcmp(r.line, "checksum ", 9))
			break;
		if ((ret = pair(&r, "run", ' ', SPACE_LIMIT, &b, &e)))
			goto out;
		if (b <= prev || e <= b || e > ck->end) {
			ret = fail(&r, "run %llu %llu out of order or outside the shard",
				   (unsigned long long)b, (unsigned long long)e);
			goto out;
		}
		if ((ret = add_run(ck, &cap, b, e)))
			goto out;
		answered += e - b;
		prev = e;
	}
	uint64_t body = (uint64_t)(r.line - buf);
	if ((ret = hex64(&r, "checksum", &want)))
		goto out;
	if (r.p != r.end) {
		r.lineno++;
		ret = fail(&r, "text after the checksum");
		goto out;
	}
	if (fnv(FNV_OFFSET, buf, body) != want) {
		ret = fail(&r, "checksum mismatch (the file was changed or damaged)");
		goto out;
	}
	for (int s = 0; s < RS_NSTATES; s++)
		sum += ck->count[s]; /* each <= end - first <= 2^63: no overflow */
	if (sum != answered) {
		ret = fail(&r, "counts add up to %llu, the positions to %llu",
			   (unsigned long long)sum, (unsigned long long)answered);
		goto out;
	}
	return 0;
out:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	rs_checkpoint_free(ck);
	return ret;
}

int rs_checkpoint_load(const char *path, struct rs_checkpoint *ck, char *err, size_t errlen)
{
	struct stat st;
	char msg[CK_LINE_MAX];
	char *buf = NULL;
	size_t got = 0;
	int fd, ret;

	memset(ck, 0, sizeof(*ck));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO must not block us */
	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > CK_FILE_MAX) {
		ret = -EINVAL;
		snprintf(err, errlen, "%s: not a regular file of at most 1 GiB", path);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EINVAL;
			snprintf(err, errlen, "%s: %s", path,
				 n < 0 ? strerror(errno) : "shrank while being read");
			goto out;
		}
		got += (size_t)n;
	}
	ret = rs_checkpoint_parse(buf, got, ck, msg, sizeof(msg));
	if (ret == -EINVAL)
		snprintf(err, errlen, "%s:%s", path, msg + 5); /* "line N: ..." → "PATH:N: ..." */
	else if (ret)
		snprintf(err, errlen, "%s", msg);
out:
	free(buf);
	close(fd);
	return ret;
}

/* ---- writer ---- */

struct writer {
	int fd;
	int err; /* first write error, positive errno */
	uint64_t hash;
	size_t len;
	char buf[16384];
};

static void w_flush(struct writer *w)
{
	size_t off = 0;

	while (off < w->len && !w->err) {
		ssize_t n = write(w->fd, w->buf + off, w->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			w->err = errno;
		else
			off += (size_t)n;
	}
	w->len = 0;
}

/* One line; the checksum covers every byte before the checksum line. */
static void w_line(struct writer *w, bool hashed, const char *fmt, ...)
{
	char line[CK_LINE_MAX + 2];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		w->err = EOVERFLOW;
		return;
	}
	if (hashed)
		w->hash = fnv(w->hash, line, (size_t)n);
	if (w->len + (size_t)n > sizeof(w->buf))
		w_flush(w);
	memcpy(w->buf + w->len, line, (size_t)n);
	w->len += (size_t)n;
}

static void w_header(struct writer *w, const struct rs_checkpoint *ck, uint64_t low)
{
	w_line(w, true, "%s\n", CK_MAGIC);
	w_line(w, true, "seed %llu\n", (unsigned long long)ck->fp.seed);
	w_line(w, true, "shard %u/%u\n", ck->fp.shard_index, ck->fp.shard_count);
	w_line(w, true, "targets %016llx\n", (unsigned long long)ck->fp.targets);
	w_line(w, true, "ports %016llx\n", (unsigned long long)ck->fp.ports);
	w_line(w, true, "exclude %016llx\n", (unsigned long long)ck->fp.exclude);
	w_line(w, true, "format %s\n", ck->fp.format);
	w_line(w, true, "all %d\n", ck->fp.all ? 1 : 0);
	w_line(w, true, "positions %llu %llu\n", (unsigned long long)ck->first,
	       (unsigned long long)ck->end);
	w_line(w, true, "low %llu\n", (unsigned long long)low);
	w_line(w, true, "length %llu\n", (unsigned long long)ck->length);
	w_line(w, true, "output_crc64 %016llx\n", (unsigned long long)ck->outsum);
	for (int s = 0; s < RS_NSTATES; s++)
		w_line(w, true, "%s %llu\n", state_key[s], (unsigned long long)ck->count[s]);
	w_line(w, true, "retries %llu\n", (unsigned long long)ck->retries);
	w_line(w, true, "local_errors %llu\n", (unsigned long long)ck->local_errors);
	if (ck->db_scan > 0)
		w_line(w, true, "db %lld %016llx\n", (long long)ck->db_scan,
		       (unsigned long long)ck->db_token);
	else
		w_line(w, true, "db 0\n");
}

struct array_iter {
	const struct rs_checkpoint *ck;
	size_t i;
};

static bool array_next(void *arg, struct rs_ckrun *run)
{
	struct array_iter *it = arg;
	if (it->i == it->ck->nruns)
		return false;
	*run = it->ck->runs[it->i++];
	return true;
}

/* fsync the directory that holds path, so that the rename is durable. */
static int sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, ret = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		ret = errno == EINVAL ? 0 : -errno; /* some file systems cannot */
	if (fd >= 0)
		close(fd);
	free(copy);
	return ret;
}

int rs_checkpoint_save(const char *path, const struct rs_checkpoint *ck, rs_ckrun_next next,
		       void *arg)
{
	struct array_iter it = {ck, 0};
	struct writer *w = NULL;
	struct rs_ckrun run, pend = {0, 0};
	char tmp[PATH_MAX];
	uint64_t low = ck->low;
	bool have;
	int ret;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if (!next) {
		next = array_next;
		arg = &it;
	}
	w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	/* A fresh file, never one a symlink planted at PATH.tmp points to. */
	unlink(tmp);
	w->fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		ret = -errno;
		free(w);
		return ret;
	}
	w->err = 0;
	w->len = 0;
	w->hash = FNV_OFFSET;
	/* Runs that touch the low-water mark raise it; the first that does
	 * not is held back until the header is written. */
	while ((have = next(arg, &run)) && (run.end <= run.begin || run.begin <= low))
		if (run.end > low)
			low = run.end;
	w_header(w, ck, low);
	for (pend = run; have;) {
		have = next(arg, &run);
		if (have && run.end <= run.begin)
			continue;
		if (have && run.begin <= pend.end) {
			if (run.end > pend.end)
				pend.end = run.end; /* touching: merge */
			continue;
		}
		if (pend.end > pend.begin)
			w_line(w, true, "run %llu %llu\n", (unsigned long long)pend.begin,
			       (unsigned long long)pend.end);
		pend = run;
	}
	w_line(w, false, "checksum %016llx\n", (unsigned long long)w->hash);
	w_flush(w);
	ret = -w->err;
	if (!ret && fsync(w->fd) < 0)
		ret = -errno;
	if (close(w->fd) < 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (!ret)
		ret = sync_dir(path);
	else
		unlink(tmp);
	free(w);
	return ret;
}
