/* The command line: the getopt_long table, validation and --help. Every
 * refusal is one line on stderr that names the offending argument; the
 * caller exits 2 before any packet is sent (DESIGN.md invariant 7). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "ringscan/shard.h"
#include "worker.h"

#define DEFAULT_PORTS	    "22,23"
#define DEFAULT_CONCURRENCY 16384

enum {
	OPT_ALL = 0x100,
	OPT_RETRIES,
	OPT_SEED,
	OPT_STATS,
	OPT_ENGINE,
	OPT_EXCLUDE,
	OPT_EXCLUDE_FILE,
	OPT_SHARD,
	OPT_RESUME,
	OPT_BANNER,
	OPT_DRY_RUN,
	OPT_ALLOW_RESERVED,
	OPT_CHECKPOINT_INTERVAL,
};

static const struct option options[] = {
	{"ports", required_argument, NULL, 'p'},
	{"input", required_argument, NULL, 'i'},
	{"exclude", required_argument, NULL, OPT_EXCLUDE},
	{"exclude-file", required_argument, NULL, OPT_EXCLUDE_FILE},
	{"output", required_argument, NULL, 'o'},
	{"format", required_argument, NULL, 'f'},
	{"all", no_argument, NULL, OPT_ALL},
	{"workers", required_argument, NULL, 'w'},
	{"concurrency", required_argument, NULL, 'c'},
	{"rate", required_argument, NULL, 'r'},
	{"timeout", required_argument, NULL, 't'},
	{"retries", required_argument, NULL, OPT_RETRIES},
	{"seed", required_argument, NULL, OPT_SEED},
	{"shard", required_argument, NULL, OPT_SHARD},
	{"resume", required_argument, NULL, OPT_RESUME},
	{"checkpoint-interval", required_argument, NULL, OPT_CHECKPOINT_INTERVAL},
	{"banner", no_argument, NULL, OPT_BANNER},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{"allow-reserved", no_argument, NULL, OPT_ALLOW_RESERVED},
	{"quiet", no_argument, NULL, 'q'},
	{"stats", required_argument, NULL, OPT_STATS},
	{"engine", required_argument, NULL, OPT_ENGINE},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

static const char usage_text[] =
	"Usage: ringscan [OPTIONS] TARGET...\n"
	"TCP connect scanner on io_uring: which (address, port) pairs accept a connection.\n"
	"\n"
	"  TARGET                 address, CIDR (127.0.0.0/8), range (a.b.c.d-e.f.g.h),\n"
	"                         hostname, IPv6 address, prefix or range\n"
	"  -p, --ports LIST       ports and ranges, e.g. 22,23,80-90 (default 22,23)\n"
	"  -i, --input FILE       targets from FILE ('-' = stdin), one per line, '#' comments\n"
	"      --exclude LIST     comma-separated targets never to touch\n"
	"      --exclude-file FILE  likewise, one per line, '#' comments\n"
	"      --allow-reserved   allow 0.0.0.0/8, 224.0.0.0/4, 255.255.255.255, ::, ff00::/8\n"
	"  -o, --output FILE      write results to FILE (default stdout)\n"
	"  -f, --format FMT       jsonl (default), csv, list\n"
	"      --all              report closed/filtered/unreachable/error too (default: open "
	"only)\n"
	"  -w, --workers N        worker processes, one per core (default: online cores)\n"
	"  -c, --concurrency N    probes in flight per worker (default 16384; capped by the\n"
	"                         open-files limit, which ringscan raises to its hard limit)\n"
	"  -r, --rate N           at most N new connects per second in all (0 = no limit)\n"
	"  -t, --timeout MS       per-attempt connect timeout in ms (default 1000)\n"
	"      --retries N        extra attempts for probes that time out (default 1)\n"
	"      --seed N           permutation seed (default: random, printed in the summary)\n"
	"      --shard I/N        scan only shard I (0-based) of N; needs --seed\n"
	"      --dry-run          print the (address, port) pairs in scan order, send nothing\n"
	"      --resume FILE      checkpoint: continue the scan FILE records if it exists,\n"
	"                         else start fresh; either way keep FILE current (needs -o)\n"
	"      --checkpoint-interval MS  write the checkpoint this often (default 2000)\n"
	"  -q, --quiet            no progress line\n"
	"      --stats FILE       write the final summary as JSON to FILE\n"
	"      --engine MODE      auto (default: direct descriptors where the kernel has them)\n"
	"                         or compat (plain fds and sockopt syscalls)\n"
	"  -h, --help             this text;  -V, --version  the version\n"
	"\n"
	"Not yet implemented (refused with exit status 2): --banner.\n"
	"\n"
	"Output: one JSON object per line, e.g.\n"
	"  "
	"{\"ip\":\"127.0.0.1\",\"port\":22,\"proto\":\"tcp\",\"state\":\"open\",\"reason\":\"syn-"
	"ack\",\n"
	"   \"rtt_us\":87,\"attempts\":1,\"ts\":\"2026-11-25T16:34:59.123456Z\"}\n"
	"Exit status: 0 done, 1 runtime failure, 2 bad usage or input,\n"
	"130/143 stopped by SIGINT/SIGTERM: in-flight probes are answered, the output\n"
	"flushed and the checkpoint written first; a second signal stops at once.\n";

/* One line on stderr, then the caller returns RS_CLI_USAGE. */
static int refuse(const char *fmt, ...)
{
	va_list ap;

	fputs("ringscan: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return RS_CLI_USAGE;
}

/* Strict decimal in [min, max]. */
static int parse_num(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

#define NUM(optname, lo, hi, dst)                                                                  \
	do {                                                                                       \
		uint64_t v_;                                                                       \
		if (parse_num(optarg, (lo), (hi), &v_))                                            \
			return refuse("%s: invalid value '%s' (expected %llu-%llu)", optname,      \
				      optarg, (unsigned long long)(lo), (unsigned long long)(hi)); \
		(dst) = v_;                                                                        \
	} while (0)

/* The open-files limit bounds a worker's registered file table (and fds
 * in compat mode): raise the soft limit to the hard one and return it. */
static uint64_t nofile_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur;
}

/* "I/N" with 0 <= I < N <= 2^32. Returns 0 or -EINVAL. */
static int parse_shard(const char *s, uint32_t *index, uint32_t *count)
{
	const char *slash = strchr(s, '/');
	uint64_t i, n;
	char buf[32];

	if (!slash || (size_t)(slash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = 0;
	if (parse_num(buf, 0, UINT32_MAX - 1, &i) || parse_num(slash + 1, 1, UINT32_MAX, &n) ||
	    i >= n)
		return -EINVAL;
	*index = (uint32_t)i;
	*count = (uint32_t)n;
	return 0;
}

/* path's directory, resolved, and its last component, into out. */
static void canonical(const char *path, char *out, size_t n)
{
	char d[PATH_MAX], b[PATH_MAX], real[PATH_MAX];

	snprintf(d, sizeof(d), "%s", path);
	snprintf(b, sizeof(b), "%s", path);
	if (realpath(dirname(d), real))
		snprintf(out, n, "%s/%s", real, basename(b));
	else
		snprintf(out, n, "%s", path);
}

/* Do a and b name the same file: the same inode if both exist, else the
 * same resolved directory and name? */
static bool same_place(const char *a, const char *b)
{
	struct stat sa, sb;
	char ca[2 * PATH_MAX], cb[2 * PATH_MAX];

	if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	canonical(a, ca, sizeof(ca));
	canonical(b, cb, sizeof(cb));
	return !strcmp(ca, cb);
}

/* Can a file be created next to path? An unnamed O_TMPFILE tries it for
 * real without touching any name; where the file system has none,
 * access(2) answers. False with errno set. */
static bool dir_writable(const char *path)
{
	char d[PATH_MAX];

	snprintf(d, sizeof(d), "%s", path);
	const char *dir = dirname(d);
	int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd >= 0) {
		close(fd);
		return true;
	}
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return false;
	return access(dir, W_OK) == 0;
}

/* --resume FILE, before the seed is drawn: it needs -o FILE; an existing
 * checkpoint is read (refused when damaged) and, without --seed, gives its
 * seed; the fingerprint of this command line is computed for comparing. */
static int check_resume(struct rs_config *cfg, const char *path, int *seed_set)
{
	char err[512], tmp[PATH_MAX];
	int ret;

	if (cfg->dry_run)
		return refuse("--resume: a --dry-run sends nothing, so there is nothing to resume");
	if (!cfg->output)
		return refuse("--resume needs -o FILE: a resumed scan truncates its output back to "
			      "what the checkpoint records, which stdout cannot be");
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return refuse("--resume: path too long");
	if (same_place(path, cfg->output) || same_place(tmp, cfg->output))
		return refuse("--resume: the checkpoint '%s' (and '%s') cannot also be the "
			      "-o/--output file",
			      path, tmp);
	/* The checkpoint's place must be writable: found out now, without
	 * touching any file, not at the first checkpoint. */
	if (!dir_writable(path))
		return refuse("--resume: cannot write '%s': %s", tmp, strerror(errno));
	cfg->resume_path = path;
	cfg->fp.shard_index = cfg->shard_index;
	cfg->fp.shard_count = cfg->shard_count;
	snprintf(cfg->fp.format, sizeof(cfg->fp.format), "%s", cfg->sink->name);
	cfg->fp.all = cfg->all;
	rs_fingerprint_sets(&cfg->fp, &cfg->space, &cfg->exclude);

	struct rs_checkpoint *ck = calloc(1, sizeof(*ck));
	if (!ck)
		return refuse("out of memory");
	ret = rs_checkpoint_load(path, ck, err, sizeof(err));
	if (ret == -ENOENT) {
		free(ck);
		return RS_CLI_RUN; /* start fresh */
	}
	if (ret) {
		free(ck);
		return refuse("--resume: %s", err);
	}
	cfg->resume = ck;
	if (!*seed_set) {
		cfg->seed = ck->fp.seed;
		*seed_set = 1;
	}
	return RS_CLI_RUN;
}

/* With --resume, before any file is touched: the output must be a regular
 * file (or not exist yet, for a fresh start) and hold at least what the
 * checkpoint records. */
static int check_resumed_output(const struct rs_config *cfg)
{
	const struct rs_checkpoint *ck = cfg->resume;
	struct stat st;
	bool exists = stat(cfg->output, &st) == 0;

	if (exists && !S_ISREG(st.st_mode))
		return refuse("-o/--output: '%s' is not a regular file, which --resume needs",
			      cfg->output);
	if (ck && (uint64_t)(exists ? st.st_size : 0) < ck->length)
		return refuse("--resume: '%s' holds %lld bytes, fewer than the %llu that '%s' "
			      "records: it was truncated or replaced, so the scan cannot be "
			      "resumed",
			      cfg->output, exists ? (long long)st.st_size : 0LL,
			      (unsigned long long)ck->length, cfg->resume_path);
	return RS_CLI_RUN;
}

/* With --resume, the output (opened without truncation): cut back to what
 * the checkpoint records (left as it is when the scan is finished), or
 * emptied for a fresh start. */
static int open_resumed_output(struct rs_config *cfg)
{
	const struct rs_checkpoint *ck = cfg->resume;
	off_t len = ck ? (off_t)ck->length : 0;

	if (ck && rs_checkpoint_finished(ck))
		return RS_CLI_RUN; /* nothing to do: leave the output as it is */
	if (ftruncate(cfg->out_fd, len) < 0 || lseek(cfg->out_fd, len, SEEK_SET) < 0)
		return refuse("-o/--output: cannot truncate '%s': %s", cfg->output,
			      strerror(errno));
	cfg->out_length = (uint64_t)len;
	return RS_CLI_RUN;
}

void rs_cli_usage(FILE *f)
{
	fputs(usage_text, f);
}

int rs_cli_parse(int argc, char **argv, struct rs_config *cfg)
{
	const char *ports = NULL, *format = "jsonl", *resume = NULL;
	uint64_t conc = DEFAULT_CONCURRENCY;
	char err[256];
	int seed_set = 0, allow_reserved = 0, interval_set = 0, opt, ret;
	int cpus[1024];

	memset(cfg, 0, sizeof(*cfg));
	rs_space_init(&cfg->space);
	rs_addrset_init(&cfg->exclude);
	cfg->workers = rs_online_cpus(cpus, 1024);
	if (cfg->workers > RS_MAX_WORKERS)
		cfg->workers = RS_MAX_WORKERS;
	cfg->timeout_ms = 1000;
	cfg->retries = 1;
	cfg->out_fd = STDOUT_FILENO;
	cfg->signal_fd = -1;
	cfg->checkpoint_ms = 2000;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":p:i:o:f:w:c:r:t:qhV", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (ports)
				return refuse("-p/--ports: given twice; list every port in one -p");
			ports = optarg;
			break;
		case 'o':
			cfg->output = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case OPT_ALL:
			cfg->all = true;
			break;
		case 'w':
			NUM("-w/--workers", 1, RS_MAX_WORKERS, cfg->workers);
			break;
		case 'c':
			NUM("-c/--concurrency", 1, 1000000, conc);
			break;
		case 'r':
			NUM("-r/--rate", 0, 1000000000, cfg->rate);
			break;
		case 't':
			NUM("-t/--timeout", 1, 3600000, cfg->timeout_ms);
			break;
		case OPT_RETRIES:
			NUM("--retries", 0, 20, cfg->retries);
			break;
		case OPT_SEED:
			NUM("--seed", 0, UINT64_MAX, cfg->seed);
			seed_set = 1;
			break;
		case 'q':
			cfg->quiet = true;
			break;
		case OPT_STATS:
			cfg->stats_path = optarg;
			break;
		case OPT_ENGINE:
			if (!strcmp(optarg, "auto"))
				cfg->engine = RS_ENGINE_AUTO;
			else if (!strcmp(optarg, "compat"))
				cfg->engine = RS_ENGINE_COMPAT;
			else
				return refuse("--engine: unknown mode '%s' (auto, compat)", optarg);
			break;
		case 'i':
			ret = rs_target_load(&cfg->space.addrs, optarg, RS_TARGET_NAMES, err,
					     sizeof(err));
			if (ret == -ENOMEM)
				return refuse("out of memory");
			if (ret)
				return refuse("-i/--input: %s", err);
			break;
		case OPT_EXCLUDE:
			ret = rs_target_parse_list(&cfg->exclude, optarg, 0, err, sizeof(err));
			if (ret == -ENOMEM)
				return refuse("out of memory");
			if (ret)
				return refuse("--exclude: %s", err);
			break;
		case OPT_EXCLUDE_FILE:
			ret = rs_target_load(&cfg->exclude, optarg, 0, err, sizeof(err));
			if (ret == -ENOMEM)
				return refuse("out of memory");
			if (ret)
				return refuse("--exclude-file: %s", err);
			break;
		case OPT_SHARD:
			if (parse_shard(optarg, &cfg->shard_index, &cfg->shard_count))
				return refuse(
					"--shard: invalid '%s' (expected I/N with 0 <= I < N)",
					optarg);
			break;
		case OPT_DRY_RUN:
			cfg->dry_run = true;
			break;
		case OPT_ALLOW_RESERVED:
			allow_reserved = 1;
			break;
		case OPT_RESUME:
			resume = optarg;
			break;
		case OPT_CHECKPOINT_INTERVAL:
			NUM("--checkpoint-interval", 10, 3600000, cfg->checkpoint_ms);
			interval_set = 1;
			break;
		case OPT_BANNER:
			return refuse("%s: not implemented yet", argv[optind - 1]);
		case 'h':
			rs_cli_usage(stdout);
			return RS_CLI_EXIT_OK;
		case 'V':
			printf("ringscan %s\n", RS_VERSION);
			return RS_CLI_EXIT_OK;
		case ':':
			return refuse("%s: missing argument", argv[optind - 1]);
		default:
			return refuse("%s: unknown option (see --help)", argv[optind - 1]);
		}
	}

	if (optind >= argc && !cfg->space.addrs.n)
		return refuse("no targets given (see --help)");
	for (int i = optind; i < argc; i++) {
		ret = rs_target_parse(&cfg->space.addrs, argv[i], RS_TARGET_NAMES, err,
				      sizeof(err));
		if (ret == -ENOMEM)
			return refuse("out of memory");
		if (ret)
			return refuse("target: %s", err);
	}
	ret = rs_ports_parse(&cfg->space.ports, ports ? ports : DEFAULT_PORTS, err, sizeof(err));
	if (ret == -ENOMEM)
		return refuse("out of memory");
	if (ret)
		return refuse("-p/--ports: %s", err);
	if (cfg->shard_count && !seed_set)
		return refuse("--shard needs --seed: every shard must use the same order");

	/* Exclusions are subtracted before indexing: an excluded address has
	 * no index, so no option can ever send it a packet. */
	ret = rs_addrset_finalize(&cfg->exclude);
	if (ret == -E2BIG)
		ret = 0; /* a huge exclusion is fine: only its ranges are used */
	if (!ret)
		ret = rs_addrset_finalize(&cfg->space.addrs);
	if (!ret)
		ret = rs_addrset_subtract(&cfg->space.addrs, &cfg->exclude);
	if (!ret)
		ret = rs_space_finalize(&cfg->space);
	if (ret == -E2BIG)
		return refuse("target: the target space is too large (more than 2^63 "
			      "address-port pairs)");
	if (ret)
		return refuse("out of memory");
	if (rs_space_count(&cfg->space) == 0)
		return refuse("the target set is empty%s",
			      cfg->exclude.n ? " (everything is excluded)" : "");
	const char *res = rs_addrset_reserved(&cfg->space.addrs);
	if (res && !allow_reserved)
		return refuse("target: the targets include reserved %s; --exclude it, or pass "
			      "--allow-reserved",
			      res);
	if (!cfg->shard_count) {
		cfg->shard_index = 0;
		cfg->shard_count = 1;
	}

	cfg->sink = rs_sink_find(format);
	if (!cfg->sink)
		return refuse("-f/--format: unknown format '%s' (%s)", format, rs_sink_names());

	if (interval_set && !resume)
		return refuse("--checkpoint-interval: only with --resume FILE");
	if (resume) {
		ret = check_resume(cfg, resume, &seed_set);
		if (ret != RS_CLI_RUN)
			return ret;
	}
	if (!seed_set && getrandom(&cfg->seed, sizeof(cfg->seed), 0) != sizeof(cfg->seed))
		return refuse("--seed: no randomness available; give a seed");
	cfg->fp.seed = cfg->seed;
	if (cfg->resume) {
		const char *diff = rs_fingerprint_diff(&cfg->resume->fp, &cfg->fp);
		if (diff)
			return refuse("--resume: '%s' is the checkpoint of another scan: %s from "
				      "this command line",
				      resume, diff);
		uint64_t first, end;
		rs_shard_range(rs_space_count(&cfg->space), cfg->shard_index, cfg->shard_count,
			       &first, &end);
		if (cfg->resume->first != first || cfg->resume->end != end)
			return refuse("--resume: '%s' is the checkpoint of another scan: its "
				      "positions differ from this command line's",
				      resume);
	}

	/* No use for more slots than a worker's share of the probes, nor for
	 * more than the open-files limit allows (keep a few for ourselves). */
	uint64_t lim = nofile_limit(), per = rs_space_count(&cfg->space) / cfg->workers + 1;
	if (conc > per)
		conc = per;
	if (lim > 64 && conc > lim - 32)
		conc = lim - 32;
	else if (lim <= 64 && conc > lim / 2)
		conc = lim / 2 ? lim / 2 : 1;
	cfg->concurrency = (unsigned)conc;

	if (resume) {
		ret = check_resumed_output(cfg);
		if (ret != RS_CLI_RUN)
			return ret;
	}
	/* Files last, after everything else is known to be valid: a refused
	 * command line must not truncate the output. --stats is created (not
	 * truncated) now so that an unwritable path is refused before the
	 * scan, not discovered after it. */
	if (cfg->stats_path) {
		int fd = open(cfg->stats_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return refuse("--stats: cannot write '%s': %s", cfg->stats_path,
				      strerror(errno));
		close(fd);
	}
	if (cfg->output) {
		int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (resume ? 0 : O_TRUNC);
		cfg->out_fd = open(cfg->output, flags, 0644);
		if (cfg->out_fd < 0)
			return refuse("-o/--output: cannot open '%s': %s", cfg->output,
				      strerror(errno));
	}
	return resume ? open_resumed_output(cfg) : RS_CLI_RUN;
}

void rs_cli_free(struct rs_config *cfg)
{
	rs_space_free(&cfg->space);
	rs_addrset_free(&cfg->exclude);
	if (cfg->output && cfg->out_fd >= 0)
		close(cfg->out_fd);
	if (cfg->signal_fd >= 0)
		close(cfg->signal_fd);
	if (cfg->resume) {
		rs_checkpoint_free(cfg->resume);
		free(cfg->resume);
	}
}
