/* The command line: the getopt_long table, --help, and parsing argv into
 * a struct rs_config plus the struct rs_cli_opts that config.c validates.
 * Every refusal is one line on stderr that names the offending argument;
 * the caller exits 2 before any packet is sent (DESIGN.md invariant 7). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "cpulimit.h"
#include "errmsg.h"
#include "ringscan/inventory.h"
#include "worker.h"

#define DEFAULT_CONCURRENCY 16384
#define SHORT_OPTS	    ":p:i:o:f:w:c:r:t:qhV"

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
	OPT_FIXED_RATE,
	OPT_SERVICE,
	OPT_READ_TIMEOUT,
	OPT_SERVICE_INTENSITY,
	OPT_SERVICE_DB,
	OPT_DB,
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
	{"fixed-rate", no_argument, NULL, OPT_FIXED_RATE},
	{"timeout", required_argument, NULL, 't'},
	{"retries", required_argument, NULL, OPT_RETRIES},
	{"seed", required_argument, NULL, OPT_SEED},
	{"shard", required_argument, NULL, OPT_SHARD},
	{"resume", required_argument, NULL, OPT_RESUME},
	{"checkpoint-interval", required_argument, NULL, OPT_CHECKPOINT_INTERVAL},
	{"banner", no_argument, NULL, OPT_BANNER},
	{"service", no_argument, NULL, OPT_SERVICE},
	{"read-timeout", required_argument, NULL, OPT_READ_TIMEOUT},
	{"service-intensity", required_argument, NULL, OPT_SERVICE_INTENSITY},
	{"service-db", required_argument, NULL, OPT_SERVICE_DB},
	{"db", required_argument, NULL, OPT_DB},
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
	"  -f, --format FMT       jsonl (default), csv, list, xml (nmap's; written at the end)\n"
	"      --db FILE          also record the scan in an SQLite inventory (created if\n"
	"                         missing; docs/inventory.md); see ringscan export|merge|diff\n"
	"      --all              report closed/filtered/unreachable/error too (default: open "
	"only)\n"
	"  -w, --workers N        worker processes (default: one per CPU this process may use,\n"
	"                         within its cgroup's CPU quota)\n"
	"  -c, --concurrency N    probes in flight per worker (default 16384; capped by the\n"
	"                         open-files limit, which ringscan raises to its hard limit)\n"
	"  -r, --rate N           at most N new connects per second in all (0 = no limit);\n"
	"                         by default the rate the path carries is found and kept\n"
	"      --fixed-rate       no congestion control: start probes at -r exactly\n"
	"                         (without -r: as fast as --concurrency allows)\n"
	"  -t, --timeout MS       per-attempt connect timeout in ms (default: from measured\n"
	"                         round trips, 100-3000 ms, doubled for retries)\n"
	"      --retries N        extra attempts for probes that time out (default: 1 on a\n"
	"                         clean path, up to 9 as the loss seen calls for)\n"
	"      --seed N           permutation seed (default: random, printed in the summary)\n"
	"      --shard I/N        scan only shard I (0-based) of N; needs --seed\n"
	"      --dry-run          print the (address, port) pairs in scan order, send nothing\n"
	"      --resume FILE      checkpoint: continue the scan FILE records if it exists,\n"
	"                         else start fresh; either way keep FILE current (needs -o)\n"
	"      --checkpoint-interval MS  write the checkpoint this often (default 2000)\n"
	"  -q, --quiet            no progress line\n"
	"      --stats FILE       write the final summary as JSON to FILE\n"
	"      --engine MODE      auto (default: io_uring where it is allowed, else epoll),\n"
	"                         uring (io_uring, direct descriptors where the kernel has\n"
	"                         them), epoll, or compat (io_uring with plain fds)\n"
	"      --banner           read what an open port's service says, then recognise it:\n"
	"                         ssh (its identification), telnet (its negotiation, refused),\n"
	"                         tcpwrapped (closed unheard); adds service, banner, ssh,\n"
	"                         telnet to the JSON (docs/output-schema.md)\n"
	"      --service          --banner, and send nmap's probes (nmap-service-probes,\n"
	"                         as nmap -sV) to services that say nothing or too little;\n"
	"                         send an SSH identification to read the server's KEXINIT\n"
	"      --service-intensity N  0-9, as nmap's --version-intensity (default 7)\n"
	"      --service-db FILE  nmap's service probes (default\n"
	"                         /usr/share/nmap/nmap-service-probes; --banner uses its\n"
	"                         rules for what services say first when it is there)\n"
	"      --read-timeout MS  bound on each service read stage (default 3000); a\n"
	"                         service quiet for a sixth of it after speaking is done\n"
	"  -h, --help             this text;  -V, --version  the version\n"
	"\n"
	"Output: one JSON object per line, e.g.\n"
	"  "
	"{\"ip\":\"127.0.0.1\",\"port\":22,\"proto\":\"tcp\",\"state\":\"open\",\"reason\":\"syn-"
	"ack\",\n"
	"   \"rtt_us\":87,\"attempts\":1,\"ts\":\"2026-11-25T16:34:59.123456Z\"}\n"
	"Inventory: ringscan export --db FILE [--scan N] [-f FMT] [-o OUT]\n"
	"           ringscan merge OUT.db IN.db...\n"
	"           ringscan diff --db FILE [A B] | ringscan diff OLD NEW   (each has --help)\n"
	"Exit status: 0 done, 1 runtime failure, 2 bad usage or input,\n"
	"130/143 stopped by SIGINT/SIGTERM: in-flight probes are answered, the output\n"
	"flushed and the checkpoint written first; a second signal stops at once.\n";

int rs_cli_refuse(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rs_verrorf(fmt, ap);
	va_end(ap);
	return RS_CLI_USAGE;
}

#define refuse rs_cli_refuse

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

/* Is the long option name[0, len) the prefix of several? Their names,
 * comma-separated, into alts. */
static bool ambiguous(const char *name, int len, char *alts, size_t n)
{
	size_t at = 0;
	int found = 0;

	alts[0] = 0;
	for (const struct option *o = options; o->name; o++)
		if (!strncmp(o->name, name, (size_t)len) && at + 4 < n) {
			at += (size_t)snprintf(alts + at, n - at, "%s--%s", found ? ", " : "",
					       o->name);
			if (at >= n)
				at = n - 1;
			found++;
		}
	return found > 1;
}

/* getopt_long's '?' (unknown, ambiguous, or an argument given to an
 * option that takes none) and ':' (a missing argument), as one line that
 * names the option as the user wrote it: "-z" wherever it sat in a
 * cluster such as -zq, "--name" without any "=value". glibc sets optopt
 * to 0 for an unknown or ambiguous long option, to the option's value for
 * one that got an argument it does not take, to the character for a
 * short one; optind has stepped past a long option's element. */
static int refuse_option(int opt, char *const *argv)
{
	const char *arg = argv[optind - 1];
	int len = (int)strcspn(arg, "=");
	char alts[256];
	bool is_long = !strncmp(arg, "--", 2);

	if (opt == ':')
		return is_long ? refuse("%.*s: missing argument", len, arg)
			       : refuse("-%c: missing argument", optopt);
	if (optopt == 0 && ambiguous(arg + 2, len - 2, alts, sizeof(alts)))
		return refuse("%.*s: ambiguous option (%s)", len, arg, alts);
	if (optopt == 0)
		return refuse("%.*s: unknown option (see --help)", len, arg);
	if (optopt >= 0x100 || (optopt != ':' && strchr(SHORT_OPTS + 1, optopt)))
		return refuse("%.*s: takes no argument", len, arg);
	if (isprint(optopt))
		return refuse("-%c: unknown option (see --help)", optopt);
	return refuse("-\\x%02x: unknown option (see --help)", optopt & 0xff);
}

/* The numeric options. */
static int parse_number(int opt, struct rs_config *cfg, struct rs_cli_opts *o)
{
	static const struct {
		int opt;
		const char *name;
		uint64_t lo, hi;
	} table[] = {
		{'w', "-w/--workers", 1, RS_MAX_WORKERS},
		{'c', "-c/--concurrency", 1, 1000000},
		{'r', "-r/--rate", 0, 1000000000},
		{'t', "-t/--timeout", 1, 3600000},
		{OPT_RETRIES, "--retries", 0, 20},
		{OPT_SEED, "--seed", 0, UINT64_MAX},
		{OPT_CHECKPOINT_INTERVAL, "--checkpoint-interval", 10, 3600000},
		{OPT_READ_TIMEOUT, "--read-timeout", 10, 600000},
		{OPT_SERVICE_INTENSITY, "--service-intensity", 0, 9},
	};
	uint64_t v;
	size_t i = 0;

	while (table[i].opt != opt)
		if (++i == sizeof(table) / sizeof(table[0]))
			return refuse("%s: unknown option (see --help)", optarg);
	if (parse_num(optarg, table[i].lo, table[i].hi, &v))
		return refuse("%s: invalid value '%s' (expected %llu-%llu)", table[i].name, optarg,
			      (unsigned long long)table[i].lo, (unsigned long long)table[i].hi);
	switch (opt) {
	case 'w':
		cfg->workers = (unsigned)v;
		cfg->cpu_limit = 0; /* chosen, not defaulted */
		break;
	case 'c':
		o->concurrency = v;
		break;
	case 'r':
		cfg->rate = v;
		break;
	case 't':
		cfg->timeout_ms = (unsigned)v;
		break;
	case OPT_RETRIES:
		cfg->retries = (int)v;
		break;
	case OPT_SEED:
		cfg->seed = v;
		o->seed_set = true;
		break;
	case OPT_READ_TIMEOUT:
		cfg->read_timeout_ms = (unsigned)v;
		break;
	case OPT_SERVICE_INTENSITY:
		cfg->service_intensity = (int)v;
		break;
	default:
		cfg->checkpoint_ms = (unsigned)v;
		o->interval_set = true;
		break;
	}
	return RS_CLI_RUN;
}

/* Remember an input file's path: no output may be written over it. */
static int add_input(struct rs_cli_opts *o, const char *path)
{
	if (!strcmp(path, "-"))
		return RS_CLI_RUN;
	const char **n = realloc(o->inputs, (o->ninputs + 1) * sizeof(*n));
	if (!n)
		return refuse("out of memory");
	o->inputs = n;
	o->inputs[o->ninputs++] = path;
	return RS_CLI_RUN;
}

/* A target list from a file (-i, --exclude-file) or the command line. */
static int parse_targets(int opt, struct rs_config *cfg, struct rs_cli_opts *o)
{
	char err[256];
	int ret;

	switch (opt) {
	case 'i':
		ret = rs_target_load(&cfg->space.addrs, optarg, RS_TARGET_NAMES, err, sizeof(err));
		break;
	case OPT_EXCLUDE:
		ret = rs_target_parse_list(&cfg->exclude, optarg, 0, err, sizeof(err));
		break;
	default:
		ret = rs_target_load(&cfg->exclude, optarg, 0, err, sizeof(err));
		break;
	}
	if (ret == -ENOMEM)
		return refuse("out of memory");
	if (ret)
		return refuse("%s: %s",
			      opt == 'i'	   ? "-i/--input"
			      : opt == OPT_EXCLUDE ? "--exclude"
						   : "--exclude-file",
			      err);
	return opt == OPT_EXCLUDE ? RS_CLI_RUN : add_input(o, optarg);
}

/* One option other than the numeric ones. */
static int parse_option(int opt, char *const *argv, struct rs_config *cfg, struct rs_cli_opts *o)
{
	switch (opt) {
	case 'p':
		if (o->ports)
			return refuse("-p/--ports: given twice; list every port in one -p");
		o->ports = optarg;
		return RS_CLI_RUN;
	case 'o':
		cfg->output = optarg;
		return RS_CLI_RUN;
	case 'f':
		o->format = optarg;
		return RS_CLI_RUN;
	case OPT_ALL:
		cfg->all = true;
		return RS_CLI_RUN;
	case 'q':
		cfg->quiet = true;
		return RS_CLI_RUN;
	case OPT_STATS:
		cfg->stats_path = optarg;
		return RS_CLI_RUN;
	case OPT_DRY_RUN:
		cfg->dry_run = true;
		return RS_CLI_RUN;
	case OPT_FIXED_RATE:
		cfg->fixed_rate = true;
		return RS_CLI_RUN;
	case OPT_ALLOW_RESERVED:
		o->allow_reserved = true;
		return RS_CLI_RUN;
	case OPT_RESUME:
		o->resume = optarg;
		return RS_CLI_RUN;
	case OPT_DB:
		/* Two inventories cannot both be kept: say so, as -p does. */
		if (cfg->db_path)
			return refuse("--db: given twice; a scan keeps one inventory");
		cfg->db_path = optarg;
		return RS_CLI_RUN;
	case OPT_ENGINE:
		if (!strcmp(optarg, "auto"))
			cfg->engine = RS_ENGINE_AUTO;
		else if (!strcmp(optarg, "uring"))
			cfg->engine = RS_ENGINE_URING;
		else if (!strcmp(optarg, "epoll"))
			cfg->engine = RS_ENGINE_EPOLL;
		else if (!strcmp(optarg, "compat"))
			cfg->engine = RS_ENGINE_COMPAT;
		else
			return refuse("--engine: unknown mode '%s' (auto, uring, epoll, compat)",
				      optarg);
		return RS_CLI_RUN;
	case 'i':
	case OPT_EXCLUDE:
	case OPT_EXCLUDE_FILE:
		return parse_targets(opt, cfg, o);
	case OPT_SHARD:
		if (parse_shard(optarg, &cfg->shard_index, &cfg->shard_count))
			return refuse("--shard: invalid '%s' (expected I/N with 0 <= I < N)",
				      optarg);
		return RS_CLI_RUN;
	case OPT_BANNER:
		cfg->banner = true;
		return RS_CLI_RUN;
	case OPT_SERVICE:
		cfg->service = true;
		return RS_CLI_RUN;
	case OPT_SERVICE_DB:
		cfg->service_db = optarg;
		return add_input(o, optarg);
	case 'h':
		rs_cli_usage(stdout);
		return RS_CLI_EXIT_OK;
	case 'V':
		printf("ringscan %s\n", RS_VERSION);
		return RS_CLI_EXIT_OK;
	case ':':
	case '?':
		return refuse_option(opt, argv);
	default:
		return parse_number(opt, cfg, o);
	}
}

void rs_cli_usage(FILE *f)
{
	fputs(usage_text, f);
}

/* The command line as one string, each argument quoted for sh where it
 * needs to be ('it'\''s'), for the sinks that record it (nmap XML's args).
 * NULL when out of memory. */
static char *join_argv(int argc, char **argv)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789@%+=:,./_-";
	size_t n = 1;
	char *s, *d;

	for (int i = 0; i < argc; i++)
		n += 4 * strlen(argv[i]) + 3;
	s = d = malloc(n);
	if (!s)
		return NULL;
	for (int i = 0; i < argc; i++) {
		bool q = !argv[i][0] || argv[i][strspn(argv[i], plain)];
		if (i)
			*d++ = ' ';
		if (q)
			*d++ = '\'';
		for (const char *c = argv[i]; *c; c++) {
			if (q && *c == '\'') {
				memcpy(d, "'\\''", 4);
				d += 4;
			} else {
				*d++ = *c;
			}
		}
		if (q)
			*d++ = '\'';
	}
	*d = 0;
	return s;
}

int rs_cli_parse(int argc, char **argv, struct rs_config *cfg, struct rs_cli_opts *o)
{
	char err[256];
	int opt, ret, cpus[1024];

	memset(cfg, 0, sizeof(*cfg));
	memset(o, 0, sizeof(*o));
	rs_space_init(&cfg->space);
	rs_addrset_init(&cfg->exclude);
	/* One worker per CPU this process may run on, within its cgroup's
	 * CPU quota (a container's limit, not the node's cores). */
	unsigned ncpu = rs_online_cpus(cpus, 1024);
	double limit = rs_cpu_limit_self();
	cfg->workers = rs_default_workers(ncpu, limit);
	if (cfg->workers < ncpu)
		cfg->cpu_limit = limit;
	if (cfg->workers > RS_MAX_WORKERS)
		cfg->workers = RS_MAX_WORKERS;
	cfg->timeout_ms = 0; /* from measured round trips */
	cfg->retries = -1;   /* as the loss seen calls for */
	cfg->out_fd = STDOUT_FILENO;
	cfg->signal_fd = -1;
	cfg->checkpoint_ms = 2000;
	cfg->service_intensity = -1;
	o->format = "jsonl";
	o->concurrency = DEFAULT_CONCURRENCY;
	cfg->cmdline = join_argv(argc, argv); /* now: getopt permutes argv */
	if (!cfg->cmdline)
		return refuse("out of memory");

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, SHORT_OPTS, options, NULL)) != -1) {
		ret = parse_option(opt, argv, cfg, o);
		if (ret != RS_CLI_RUN)
			return ret;
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
	return RS_CLI_RUN;
}

void rs_cli_free(struct rs_config *cfg, struct rs_cli_opts *o)
{
	rs_space_free(&cfg->space);
	rs_addrset_free(&cfg->exclude);
	if (cfg->out_fd > STDERR_FILENO) /* -o's own, never stdout (-o FILE -h) */
		close(cfg->out_fd);
	if (cfg->signal_fd >= 0)
		close(cfg->signal_fd);
	if (cfg->resume) {
		rs_checkpoint_free(cfg->resume);
		free(cfg->resume);
	}
	rs_inv_close(cfg->db); /* after the scan: its writer thread finishes */
	cfg->db = NULL;
	if (cfg->db_tmp[0]) { /* -f xml's private store, and SQLite's files beside it */
		char side[sizeof(cfg->db_tmp) + 8];
		unlink(cfg->db_tmp);
		snprintf(side, sizeof(side), "%s-wal", cfg->db_tmp);
		unlink(side);
		snprintf(side, sizeof(side), "%s-shm", cfg->db_tmp);
		unlink(side);
		snprintf(side, sizeof(side), "%s-journal", cfg->db_tmp);
		unlink(side);
		cfg->db_tmp[0] = 0;
	}
	rs_svcdb_free((struct rs_svcdb *)cfg->svc.db);
	cfg->svc.db = NULL;
	free(o->inputs);
	o->inputs = NULL;
	free(cfg->cmdline);
	cfg->cmdline = NULL;
}
