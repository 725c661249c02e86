/* Checkpoint files: a save then load gives back the same state (runs
 * folded into the low-water mark and merged); every kind of damage is
 * refused with its line number; fingerprints tell which part differs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ringscan/checkpoint.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/rs-ck-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct rs_checkpoint sample(void)
{
	struct rs_checkpoint ck = {
		.fp = {.seed = 42,
		       .shard_index = 1,
		       .shard_count = 3,
		       .targets = 0x0123456789abcdefULL,
		       .ports = 7,
		       .exclude = 0,
		       .format = "jsonl",
		       .all = true},
		.first = 1000,
		.end = 2000,
		.low = 1100,
		.length = 12345,
		.outsum = 0xfedcba9876543210ULL,
		.count = {10, 80, 5, 4, 1},
		.retries = 9,
		.local_errors = 3,
	};
	return ck;
}

/* An independent FNV-1a, to forge well-formed files with bad content. */
static uint64_t fnv(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

/* body + a correct checksum line, parsed. */
static int parse_signed(const char *body, char *err, size_t errlen)
{
	char buf[4096];
	struct rs_checkpoint ck;
	int n = snprintf(buf, sizeof(buf), "%schecksum %016llx\n", body,
			 (unsigned long long)fnv(body, strlen(body)));
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	int ret = rs_checkpoint_parse(buf, (size_t)n, &ck, err, errlen);
	rs_checkpoint_free(&ck);
	return ret;
}

#define HEAD                                                                                       \
	"ringscan-checkpoint 2\nseed 42\nshard 1/3\ntargets 0123456789abcdef\nports "              \
	"0000000000000007\nexclude 0000000000000000\nformat jsonl\nall 1\npositions 1000 2000\n"
#define TAIL "retries 9\nlocal_errors 3\n"
#define LEN  "length 5\noutput_crc64 00000000000000ab\n"

static void test_round_trip(void **state)
{
	(void)state;
	char path[128], err[256];
	struct rs_checkpoint ck = sample(), back;
	/* Runs as the coordinator may yield them: touching low, adjacent,
	 * overlapping, empty. */
	struct rs_ckrun runs[] = {{1050, 1100}, {1100, 1110}, {1120, 1130}, {1130, 1140},
				  {1135, 1150}, {1160, 1160}, {1170, 1195}};
	uint64_t in_runs = 0;

	ck.runs = runs;
	ck.nruns = sizeof(runs) / sizeof(runs[0]);
	/* counts must cover low - first + the answered runs: 100 + 10 + 30 + 25 */
	in_runs = 165;
	ck.count[RS_CLOSED] = in_runs - 20;
	snprintf(path, sizeof(path), "%s/ck", dir);
	assert_int_equal(rs_checkpoint_save(path, &ck, NULL, NULL), 0);
	assert_int_equal(access(path, F_OK), 0);
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1); /* renamed away */

	assert_int_equal(rs_checkpoint_load(path, &back, err, sizeof(err)), 0);
	assert_null(rs_fingerprint_diff(&back.fp, &ck.fp));
	assert_int_equal(back.first, 1000);
	assert_int_equal(back.end, 2000);
	assert_int_equal(back.low, 1110); /* [1100, 1110) folded in */
	assert_int_equal(back.length, 12345);
	assert_true(back.outsum == 0xfedcba9876543210ULL);
	assert_int_equal(back.retries, 9);
	assert_int_equal(back.local_errors, 3);
	assert_memory_equal(back.count, ck.count, sizeof(ck.count));
	assert_int_equal(back.nruns, 2);
	assert_int_equal(back.runs[0].begin, 1120);
	assert_int_equal(back.runs[0].end, 1150);
	assert_int_equal(back.runs[1].begin, 1170);
	assert_int_equal(back.runs[1].end, 1195);
	assert_false(rs_checkpoint_finished(&back));
	rs_checkpoint_free(&back);

	/* A finished scan. */
	ck.nruns = 0;
	ck.low = ck.end;
	memset(ck.count, 0, sizeof(ck.count));
	ck.count[RS_OPEN] = 1000;
	assert_int_equal(rs_checkpoint_save(path, &ck, NULL, NULL), 0);
	assert_int_equal(rs_checkpoint_load(path, &back, err, sizeof(err)), 0);
	assert_true(rs_checkpoint_finished(&back));
	rs_checkpoint_free(&back);
}

static void test_missing_and_unwritable(void **state)
{
	(void)state;
	char path[128], err[256] = "";
	struct rs_checkpoint ck = sample();

	snprintf(path, sizeof(path), "%s/none", dir);
	assert_int_equal(rs_checkpoint_load(path, &ck, err, sizeof(err)), -ENOENT);
	snprintf(path, sizeof(path), "%s/no/such/dir/ck", dir);
	ck = sample();
	assert_int_equal(rs_checkpoint_save(path, &ck, NULL, NULL), -ENOENT);
	/* A directory is not a checkpoint. */
	assert_int_equal(rs_checkpoint_load(dir, &ck, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
}

/* A failed save leaves the previous checkpoint as it was. */
static void test_save_keeps_old_on_failure(void **state)
{
	(void)state;
	char path[128], tmp[160], err[256];
	struct rs_checkpoint ck = sample(), back;

	snprintf(path, sizeof(path), "%s/keep", dir);
	assert_int_equal(rs_checkpoint_save(path, &ck, NULL, NULL), 0);
	/* The temp file's name is taken by a directory: the save must fail. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(mkdir(tmp, 0755), 0);
	ck.length = 99999;
	assert_true(rs_checkpoint_save(path, &ck, NULL, NULL) < 0);
	assert_int_equal(rs_checkpoint_load(path, &back, err, sizeof(err)), 0);
	assert_int_equal(back.length, 12345);
	rs_checkpoint_free(&back);
	rmdir(tmp);
}

struct bad {
	const char *body; /* checksummed unless raw */
	int raw;
	const char *want; /* substring of the error */
};

#define COUNTS "open 10\nclosed 80\nfiltered 5\nunreachable 4\nerror 1\n"

static const struct bad bads[] = {
	{"", 1, "line 1: the file ends early"},
	{"ringscan-checkpoint 4\n", 0, "line 1: not a ringscan checkpoint"},
	/* the format before the output's checksum: refused, naming the version */
	{"ringscan-checkpoint 1\nseed 1\n", 0, "line 1: checkpoint format version 1"},
	{"ringscan-checkpoint 1\nseed x\n", 1, "line 1: checkpoint format version 1"},
	{"ringscan-checkpoint 2", 1, "line 1: the last line is unterminated"},
	{"ringscan-checkpoint 2\nseed -1\n", 0, "line 2: bad number for 'seed'"},
	{"ringscan-checkpoint 2\nseed 01\n", 0, "line 2: bad number"},
	{"ringscan-checkpoint 2\nseed 18446744073709551616\n", 0, "line 2: bad number"},
	{"ringscan-checkpoint 2\nsead 1\n", 0, "line 2: expected 'seed'"},
	{"ringscan-checkpoint 2\nseed 1\nshard 3/3\n", 0, "line 3: bad shard 3/3"},
	{"ringscan-checkpoint 2\nseed 1\nshard 0/0\n", 0, "line 3: bad shard"},
	{"ringscan-checkpoint 2\nseed 1\nshard 0/1\ntargets 0123\n", 0, "line 4: bad hash"},
	{"ringscan-checkpoint 2\nseed 1\nshard 0/1\ntargets 0123456789ABCDEF\n", 0,
	 "line 4: bad hash"},
	{"ringscan-checkpoint 2\nseed\t1\n", 0, "line 2: unexpected byte 0x09"},
	/* a single digit above the maximum (all is 0 or 1) */
	{"ringscan-checkpoint 2\nseed 42\nshard 1/3\ntargets 0123456789abcdef\nports "
	 "0000000000000007\nexclude 0000000000000000\nformat jsonl\nall 7\n",
	 0, "line 8: bad number for 'all'"},
	{HEAD "low 999\n", 0, "line 10: low outside"},
	{HEAD "low 2001\n", 0, "line 10: low outside"},
	{HEAD "low 1100\nlength 9223372036854775809\n", 0, "line 11: bad number for 'length'"},
	/* the output's checksum: right after length, 16 lowercase hex digits */
	{HEAD "low 1100\nlength 5\nopen 10\n", 0, "line 12: expected 'output_crc64'"},
	{HEAD "low 1100\nlength 5\noutput_crc64 ab\n", 0, "line 12: bad hash for 'output_crc64'"},
	{HEAD "low 1100\nlength 5\noutput_crc64 00000000000000AB\n", 0, "line 12: bad hash"},
	{HEAD "low 1100\nlength 0\noutput_crc64 0000000000000001\n", 0,
	 "line 12: output_crc64 of an empty output must be 0"},
	{HEAD "low 1100\n" LEN "open 1001\n", 0, "line 13: bad number for 'open'"},
	/* counts that do not add up: 100 answered below low, 99 counted */
	{HEAD "low 1100\n" LEN "open 9\nclosed 80\nfiltered 5\nunreachable 4\nerror 1\n" TAIL, 0,
	 "counts add up to 99, the positions to 100"},
	{HEAD "low 1100\n" LEN COUNTS TAIL "run 1100 1101\n", 0,
	 "line 20: run 1100 1101 out of order"},
	{HEAD "low 1100\n" LEN COUNTS TAIL "run 1200 1201\nrun 1201 1202\n", 0,
	 "line 21: run 1201 1202 out of order"},
	{HEAD "low 1100\n" LEN COUNTS TAIL "run 1990 2001\n", 0, "line 20: run 1990 2001"},
	{HEAD "low 1100\n" LEN COUNTS TAIL "run 1300 1300\n", 0, "line 20: run 1300 1300"},
	{HEAD "low 1100\n" LEN COUNTS TAIL "run 1300 1302\n", 0,
	 "counts add up to 100, the positions to 102"},
	{HEAD "low 1100\n" LEN COUNTS TAIL "checksum 0000000000000000\n", 1,
	 "line 20: checksum mismatch"},
	{HEAD "low 1100\n" LEN COUNTS TAIL, 1, "line 20: the file ends early"},
	{HEAD "low 1100\n" LEN COUNTS TAIL "bogus\n", 0, "line 20: expected 'run'"},
};

/* Version 3: the inventory's scan (--db) after local_errors; version 2,
 * which has no such line, reads as "db 0". */
#define HEAD_REST (HEAD + sizeof("ringscan-checkpoint 2") - 1) /* after the magic */

static void test_db_line(void **state)
{
	(void)state;
	char body[1024], buf[1200], err[256], path[128];
	struct rs_checkpoint ck;
	static const struct {
		const char *line;
		int ret;
		int64_t scan;
		uint64_t token;
		const char *want;
	} cases[] = {
		{"db 0\n", 0, 0, 0, NULL},
		{"db 12 00000000000000ff\n", 0, 12, 0xff, NULL},
		{"db 12\n", -EINVAL, 0, 0, "line 20: bad value for 'db'"},
		{"db 0 00000000000000ff\n", -EINVAL, 0, 0, "line 20: bad value for 'db'"},
		{"db 12 00000000000000FF\n", -EINVAL, 0, 0, "line 20: bad value for 'db'"},
		{"", -EINVAL, 0, 0, "line 20: expected 'db'"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(body, sizeof(body), "ringscan-checkpoint 3%s%s%s", HEAD_REST,
			 "low 1100\n" LEN COUNTS TAIL, cases[i].line);
		int n = snprintf(buf, sizeof(buf), "%schecksum %016llx\n", body,
				 (unsigned long long)fnv(body, strlen(body)));
		int ret = rs_checkpoint_parse(buf, (size_t)n, &ck, err, sizeof(err));
		if (ret != cases[i].ret || (cases[i].want && !strstr(err, cases[i].want)))
			fail_msg("case %zu: ret %d, err '%s'", i, ret, err);
		if (!ret) {
			assert_int_equal(ck.db_scan, cases[i].scan);
			assert_int_equal(ck.db_token, cases[i].token);
			rs_checkpoint_free(&ck);
		}
	}
	/* Version 2: no inventory. */
	assert_int_equal(parse_signed(HEAD "low 1100\n" LEN COUNTS TAIL, err, sizeof(err)), 0);
	/* Saved and read back. */
	ck = sample();
	ck.db_scan = 3;
	ck.db_token = 0x0123456789abcdefULL;
	snprintf(path, sizeof(path), "%s/db", dir);
	assert_int_equal(rs_checkpoint_save(path, &ck, NULL, NULL), 0);
	struct rs_checkpoint back;
	assert_int_equal(rs_checkpoint_load(path, &back, err, sizeof(err)), 0);
	assert_int_equal(back.db_scan, 3);
	assert_int_equal(back.db_token, 0x0123456789abcdefULL);
	rs_checkpoint_free(&back);
}

static void test_damage_refused(void **state)
{
	(void)state;
	char err[256];

	/* The well-formed base first: the table's faults are the only ones. */
	assert_int_equal(parse_signed(HEAD "low 1100\n" LEN COUNTS TAIL, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct rs_checkpoint ck;
		int ret;
		memset(err, 0, sizeof(err));
		if (bads[i].raw) {
			ret = rs_checkpoint_parse(bads[i].body, strlen(bads[i].body), &ck, err,
						  sizeof(err));
			rs_checkpoint_free(&ck);
		} else {
			ret = parse_signed(bads[i].body, err, sizeof(err));
		}
		if (ret != -EINVAL || !strstr(err, bads[i].want))
			fail_msg("case %zu: ret %d, err '%s', want '%s'", i, ret, err,
				 bads[i].want);
		assert_null(strchr(err, '\n'));
	}
	/* Text after the checksum line. */
	const char *body = HEAD "low 1100\n" LEN COUNTS TAIL;
	char buf[2048];
	struct rs_checkpoint ck;
	int n = snprintf(buf, sizeof(buf), "%schecksum %016llx\nmore\n", body,
			 (unsigned long long)fnv(body, strlen(body)));
	assert_int_equal(rs_checkpoint_parse(buf, (size_t)n, &ck, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "line 21: text after the checksum"));
}

/* The loader names the file and line. */
static void test_load_names_file_and_line(void **state)
{
	(void)state;
	char path[128], err[256];
	struct rs_checkpoint ck;

	snprintf(path, sizeof(path), "%s/bad", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("ringscan-checkpoint 2\nseed x\n", f);
	fclose(f);
	assert_int_equal(rs_checkpoint_load(path, &ck, err, sizeof(err)), -EINVAL);
	char want[200];
	snprintf(want, sizeof(want), "%s:2: bad number for 'seed'", path);
	assert_string_equal(err, want);
}

static void test_fingerprint(void **state)
{
	(void)state;
	struct rs_space a, b;
	struct rs_addrset none;
	struct rs_fingerprint fa = {.format = "jsonl"}, fb = {.format = "jsonl"};
	char err[256];

	rs_space_init(&a);
	rs_space_init(&b);
	rs_addrset_init(&none);
	assert_int_equal(rs_target_parse(&a.addrs, "127.0.0.0/24", 0, err, sizeof(err)), 0);
	assert_int_equal(rs_target_parse(&b.addrs, "127.0.0.0-127.0.0.255", 0, err, sizeof(err)),
			 0);
	assert_int_equal(rs_ports_parse(&a.ports, "22,80", err, sizeof(err)), 0);
	assert_int_equal(rs_ports_parse(&b.ports, "80,22", err, sizeof(err)), 0);
	assert_int_equal(rs_space_finalize(&a), 0);
	assert_int_equal(rs_space_finalize(&b), 0);
	assert_int_equal(rs_addrset_finalize(&none), 0);
	/* Same sets written differently: the same fingerprint. */
	rs_fingerprint_sets(&fa, &a, &none);
	rs_fingerprint_sets(&fb, &b, &none);
	assert_null(rs_fingerprint_diff(&fa, &fb));
	struct rs_fingerprint fc = fb;
	fc.seed = 1;
	assert_string_equal(rs_fingerprint_diff(&fa, &fc), "the seed differs");
	fc = fb;
	fc.shard_count = 2;
	assert_string_equal(rs_fingerprint_diff(&fa, &fc), "the shard differs");
	fc = fb;
	strcpy(fc.format, "csv");
	assert_string_equal(rs_fingerprint_diff(&fa, &fc), "the output format differs");
	fc = fb;
	fc.all = true;
	assert_string_equal(rs_fingerprint_diff(&fa, &fc), "--all differs");
	/* One more port, one more address, one exclusion. */
	assert_int_equal(rs_ports_parse(&b.ports, "23", err, sizeof(err)), 0);
	assert_int_equal(rs_space_finalize(&b), 0);
	rs_fingerprint_sets(&fb, &b, &none);
	assert_string_equal(rs_fingerprint_diff(&fa, &fb), "the ports differ");
	assert_int_equal(rs_target_parse(&b.addrs, "127.0.1.0", 0, err, sizeof(err)), 0);
	assert_int_equal(rs_space_finalize(&b), 0);
	rs_fingerprint_sets(&fb, &b, &none);
	assert_string_equal(rs_fingerprint_diff(&fa, &fb), "the targets differ");
	assert_int_equal(rs_target_parse(&none, "127.0.0.7", 0, err, sizeof(err)), 0);
	assert_int_equal(rs_addrset_finalize(&none), 0);
	rs_fingerprint_sets(&fb, &a, &none);
	assert_string_equal(rs_fingerprint_diff(&fa, &fb), "the exclusions differ");
	rs_space_free(&a);
	rs_space_free(&b);
	rs_addrset_free(&none);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_missing_and_unwritable),
		cmocka_unit_test(test_save_keeps_old_on_failure),
		cmocka_unit_test(test_damage_refused),
		cmocka_unit_test(test_db_line),
		cmocka_unit_test(test_load_names_file_and_line),
		cmocka_unit_test(test_fingerprint),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
