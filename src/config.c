/* A validated scan configuration from what the command line said: target
 * and exclusion sets finalised and subtracted, reserved ranges refused,
 * the checkpoint read and compared, the concurrency clamped to the limits,
 * output paths checked against each other and the inputs, and the files
 * opened last, so that a refused command line touches nothing. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "rtt.h"
#include "errmsg.h"
#include "ringscan/inventory.h"
#include "ringscan/outsum.h"
#include "ringscan/shard.h"

#define DEFAULT_PORTS		"22,23"
#define DEFAULT_READ_TIMEOUT_MS 3000 /* --read-timeout: nmap waits 6 s for a banner */

#define refuse rs_cli_refuse

uint64_t rs_nofile_raise(void)
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
 * same resolved directory and name? A character device (/dev/null, a
 * terminal) may take several outputs. */
static bool same_place(const char *a, const char *b)
{
	struct stat sa, sb;
	char ca[2 * PATH_MAX], cb[2 * PATH_MAX];

	if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino && !S_ISCHR(sa.st_mode);
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
static int check_resume(struct rs_config *cfg, const char *path, bool *seed_set)
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
	/* The checkpoint's place must be writable: found out now, without
	 * touching any file, not at the first checkpoint. */
	if (!dir_writable(path))
		return refuse("--resume: cannot write '%s': %s", tmp, strerror(errno));
	cfg->resume_path = path;
	cfg->fp.shard_index = cfg->shard_index;
	cfg->fp.shard_count = cfg->shard_count;
	/* A service stage changes what a line holds: part of the format. */
	snprintf(cfg->fp.format, sizeof(cfg->fp.format), "%s%s", cfg->sink->name,
		 cfg->service  ? "+service"
		 : cfg->banner ? "+banner"
			       : "");
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
		*seed_set = true;
	}
	return RS_CLI_RUN;
}

/* The output's first ck->length bytes must have the checksum the
 * checkpoint records: the output is the one the checkpoint describes. */
static int check_output_sum(const struct rs_config *cfg)
{
	const struct rs_checkpoint *ck = cfg->resume;
	uint64_t sum;
	int ret = rs_outsum_file(cfg->output, ck->length, &sum);

	if (ret)
		return refuse("-o/--output: cannot read '%s': %s", cfg->output, strerror(-ret));
	if (sum != ck->outsum)
		return refuse(
			"--resume: -o/--output '%s' is not the output '%s' records: its first "
			"%llu bytes differ from those checkpointed (it was replaced or "
			"changed), so the scan cannot be resumed",
			cfg->output, cfg->resume_path, (unsigned long long)ck->length);
	return RS_CLI_RUN;
}

/* With --resume, before any file is touched: the output must be a regular
 * file (or not exist yet, for a fresh start) and hold at least what the
 * checkpoint records, and those bytes must be the ones it records (their
 * checksum, read once: an output replaced by other content of at least
 * that length would otherwise be kept and appended to). */
static int check_resumed_output(const struct rs_config *cfg)
{
	const struct rs_checkpoint *ck = cfg->resume;
	struct stat st;
	bool exists = stat(cfg->output, &st) == 0;

	if (exists && !S_ISREG(st.st_mode))
		return refuse("-o/--output: '%s' is not a regular file, which --resume needs",
			      cfg->output);
	if (cfg->sink->sorted)
		return RS_CLI_RUN; /* written whole from the inventory at the end */
	if (ck && (uint64_t)(exists ? st.st_size : 0) < ck->length)
		return refuse("--resume: '%s' holds %lld bytes, fewer than the %llu that '%s' "
			      "records: it was truncated or replaced, so the scan cannot be "
			      "resumed",
			      cfg->output, exists ? (long long)st.st_size : 0LL,
			      (unsigned long long)ck->length, cfg->resume_path);
	return ck ? check_output_sum(cfg) : RS_CLI_RUN;
}

/* With --resume, the output (opened without truncation): cut back to what
 * the checkpoint records (left as it is when the scan is finished), or
 * emptied for a fresh start. */
static int open_resumed_output(struct rs_config *cfg)
{
	const struct rs_checkpoint *ck = cfg->resume;
	off_t len = ck ? (off_t)ck->length : 0;

	if ((ck && rs_checkpoint_finished(ck)) || cfg->sink->sorted)
		return RS_CLI_RUN; /* leave the output as it is (a sorted one: until the end) */
	if (ftruncate(cfg->out_fd, len) < 0 || lseek(cfg->out_fd, len, SEEK_SET) < 0)
		return refuse("-o/--output: cannot truncate '%s': %s", cfg->output,
			      strerror(errno));
	cfg->out_length = (uint64_t)len;
	return RS_CLI_RUN;
}

/* No two outputs (-o, --stats, --resume and its temporary file) may name
 * one file, nor may an output be an input (-i, --exclude-file) or, for
 * --stats, the standard output that results go to without -o. Checked
 * before any file is created or truncated (DESIGN.md invariant 7). */
static int check_outputs(const struct rs_config *cfg, const struct rs_cli_opts *o)
{
	char tmp[PATH_MAX + 8] = "", wal[PATH_MAX + 8] = "", shm[PATH_MAX + 8] = "";
	struct {
		const char *opt, *path;
	} out[7];
	unsigned n = 0;

	if (cfg->output)
		out[n++] = (typeof(out[0])){"-o/--output", cfg->output};
	if (cfg->stats_path)
		out[n++] = (typeof(out[0])){"--stats", cfg->stats_path};
	if (o->resume) {
		if (snprintf(tmp, sizeof(tmp), "%s.tmp", o->resume) >= (int)sizeof(tmp))
			return refuse("--resume: path too long");
		out[n++] = (typeof(out[0])){"--resume", o->resume};
		out[n++] = (typeof(out[0])){"--resume (its temporary file)", tmp};
	}
	if (cfg->db_path) { /* SQLite's write-ahead log and shared memory beside it */
		if (snprintf(wal, sizeof(wal), "%s-wal", cfg->db_path) >= (int)sizeof(wal) ||
		    snprintf(shm, sizeof(shm), "%s-shm", cfg->db_path) >= (int)sizeof(shm))
			return refuse("--db: path too long");
		out[n++] = (typeof(out[0])){"--db", cfg->db_path};
		out[n++] = (typeof(out[0])){"--db (its write-ahead log)", wal};
		out[n++] = (typeof(out[0])){"--db (its shared-memory file)", shm};
	}
	for (unsigned i = 0; i < n; i++) {
		for (unsigned j = i + 1; j < n; j++)
			if (same_place(out[i].path, out[j].path))
				return refuse("%s: '%s' is the same file as %s '%s'; each output "
					      "needs a file of its own",
					      out[j].opt, out[j].path, out[i].opt, out[i].path);
		for (unsigned k = 0; k < o->ninputs; k++)
			if (same_place(out[i].path, o->inputs[k]))
				return refuse("%s: '%s' is an input file (-i/--exclude-file); it "
					      "would be overwritten",
					      out[i].opt, out[i].path);
	}
	struct stat so, ss;
	if (!cfg->output && cfg->stats_path && fstat(STDOUT_FILENO, &so) == 0 &&
	    S_ISREG(so.st_mode) && stat(cfg->stats_path, &ss) == 0 && so.st_dev == ss.st_dev &&
	    so.st_ino == ss.st_ino)
		return refuse("--stats: '%s' is the standard output, where the results go "
			      "without -o; each output needs a file of its own",
			      cfg->stats_path);
	return RS_CLI_RUN;
}

/* --db FILE, after every other check and before the output is touched:
 * the inventory opened (created, or migrated forward), and for --resume
 * made to hold exactly what the checkpoint counts. A checkpoint and the
 * command line must agree on whether there is an inventory. */
static int open_db(struct rs_config *cfg)
{
	const struct rs_checkpoint *ck = cfg->resume;
	char err[768];
	int ret;

	if (ck && ck->db_scan && !cfg->db_path)
		return refuse("--resume: '%s' records a scan kept in an inventory (--db); give "
			      "the same --db FILE",
			      cfg->resume_path);
	if (!cfg->db_path)
		return RS_CLI_RUN;
	if (cfg->dry_run)
		return refuse("--db: a --dry-run sends nothing, so there is no scan to record");
	if (ck && !ck->db_scan)
		return refuse("--db: '%s' records a scan begun without --db, whose earlier "
			      "answers the inventory would lack; resume it without --db",
			      cfg->resume_path);
	struct stat st;
	if (ck && stat(cfg->db_path, &st) < 0 && errno == ENOENT)
		return refuse("--db: '%s' does not exist, but '%s' records a scan kept in one",
			      cfg->db_path, cfg->resume_path);
	ret = rs_inv_open(cfg->db_path, RS_INV_WRITE, &cfg->db, err, sizeof(err));
	if (ret)
		return refuse("--db: %s", err);
	if (ck && !rs_checkpoint_finished(ck) &&
	    rs_inv_resume(cfg->db, ck, cfg->all, err, sizeof(err)))
		return refuse("--db: '%s' %s", cfg->db_path, err);
	return RS_CLI_RUN;
}

/* nmap XML groups the answers by host, and they come in permuted order:
 * they go to the inventory (--db, or a private one in $TMPDIR), which
 * hands them back sorted at the end. A resumed scan needs them kept, so
 * it needs --db. */
static int sorted_store(struct rs_config *cfg, const struct rs_cli_opts *o)
{
	const char *dir = getenv("TMPDIR");

	if (cfg->dry_run)
		return refuse("-f/--format %s: not for --dry-run (use jsonl, csv or list)",
			      o->format);
	if (cfg->db_path)
		return RS_CLI_RUN;
	if (o->resume)
		return refuse("-f/--format %s with --resume: give --db FILE too (the answers wait "
			      "there between runs; the file is written from it at the end)",
			      o->format);
	if (snprintf(cfg->db_tmp, sizeof(cfg->db_tmp), "%s/ringscan-%s.XXXXXX",
		     dir && *dir ? dir : "/tmp", o->format) >= (int)sizeof(cfg->db_tmp))
		return refuse("TMPDIR: '%s' is too long", dir);
	int fd = mkstemp(cfg->db_tmp);
	if (fd < 0) {
		int err = errno;
		cfg->db_tmp[0] = 0;
		return refuse("-f/--format %s: cannot create its sorting store in '%s': %s",
			      o->format, dir && *dir ? dir : "/tmp", strerror(err));
	}
	close(fd);
	cfg->db_path = cfg->db_tmp;
	return RS_CLI_RUN;
}

/* The target space: exclusions subtracted before indexing (an excluded
 * address has no index, so no option can ever send it a packet), the
 * ports parsed, reserved ranges refused unless allowed. */
static int build_space(struct rs_config *cfg, const struct rs_cli_opts *o)
{
	char err[256];
	int ret = rs_ports_parse(&cfg->space.ports, o->ports ? o->ports : DEFAULT_PORTS, err,
				 sizeof(err));

	if (ret == -ENOMEM)
		return refuse("out of memory");
	if (ret)
		return refuse("-p/--ports: %s", err);
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
	if (res && !o->allow_reserved)
		return refuse("target: the targets include reserved %s; --exclude it, or pass "
			      "--allow-reserved",
			      res);
	return RS_CLI_RUN;
}

/* A resumed scan must be the checkpoint's: same fingerprint, same shard
 * positions. */
static int match_checkpoint(const struct rs_config *cfg, const char *path)
{
	const char *diff = rs_fingerprint_diff(&cfg->resume->fp, &cfg->fp);
	uint64_t first, end;

	if (diff)
		return refuse("--resume: '%s' is the checkpoint of another scan: %s from this "
			      "command line",
			      path, diff);
	rs_shard_range(rs_space_count(&cfg->space), cfg->shard_index, cfg->shard_count, &first,
		       &end);
	if (cfg->resume->first != first || cfg->resume->end != end)
		return refuse("--resume: '%s' is the checkpoint of another scan: its positions "
			      "differ from this command line's",
			      path);
	return RS_CLI_RUN;
}

/* No use for more slots than a worker's share of the probes, nor for more
 * than the open-files limit allows (keep a few for ourselves). */
static unsigned clamp_concurrency(const struct rs_config *cfg, uint64_t conc, uint64_t lim)
{
	uint64_t per = rs_space_count(&cfg->space) / cfg->workers + 1;

	if (conc > per)
		conc = per;
	if (lim > 64 && conc > lim - 32)
		conc = lim - 32;
	else if (lim <= 64 && conc > lim / 2)
		conc = lim / 2 ? lim / 2 : 1;
	return (unsigned)conc;
}

/* Files last, after everything else is known to be valid: a refused
 * command line must not truncate the output. --stats is created (not
 * truncated) now so that an unwritable path is refused before the scan,
 * not discovered after it. */
static int open_files(struct rs_config *cfg, bool resume)
{
	bool made_stats = false;

	if (cfg->stats_path) {
		int fd = open(cfg->stats_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		made_stats = fd >= 0;
		if (fd < 0 && errno == EEXIST)
			fd = open(cfg->stats_path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return refuse("--stats: cannot write '%s': %s", cfg->stats_path,
				      strerror(errno));
		close(fd);
	}
	if (cfg->output) {
		int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (resume ? 0 : O_TRUNC);
		cfg->out_fd = open(cfg->output, flags, 0644);
		if (cfg->out_fd < 0) {
			int err = errno;
			if (made_stats) /* a refused command line leaves nothing behind */
				unlink(cfg->stats_path);
			return refuse("-o/--output: cannot open '%s': %s", cfg->output,
				      strerror(err));
		}
	}
	return resume ? open_resumed_output(cfg) : RS_CLI_RUN;
}

/* The service stage: --service implies --banner; nmap's database is
 * loaded here, before the workers fork (they share it), when it is given,
 * or needed (--service), or just there (--banner uses its rules too). */
static int setup_service(struct rs_config *cfg)
{
	static const char ident[] = "SSH-2.0-ringscan_" RS_VERSION "\r\n";
	const char *path = cfg->service_db ? cfg->service_db : RS_SVCDB_DEFAULT_PATH;
	struct rs_svcdb *db = NULL;
	char err[512];

	if (cfg->read_timeout_ms && !cfg->banner && !cfg->service)
		return refuse("--read-timeout: only with --banner or --service");
	if (cfg->service_db && !cfg->banner && !cfg->service)
		return refuse("--service-db: only with --banner or --service");
	if (cfg->service_intensity >= 0 && !cfg->service)
		return refuse("--service-intensity: only with --service");
	cfg->banner |= cfg->service;
	if (!cfg->banner)
		return RS_CLI_RUN;
	if (!cfg->read_timeout_ms)
		cfg->read_timeout_ms = DEFAULT_READ_TIMEOUT_MS;
	rs_svc_cfg_init(&cfg->svc, cfg->read_timeout_ms, cfg->service, ident);
	if (cfg->service_intensity >= 0)
		cfg->svc.intensity = cfg->service_intensity;
	int ret = rs_svcdb_load(path, &db, err, sizeof(err));
	if (ret == -ENOENT && !cfg->service_db && !cfg->service)
		return RS_CLI_RUN; /* --banner without nmap: ssh, telnet, tcpwrapped */
	if (ret == -ENOENT && !cfg->service_db)
		return refuse("--service: no nmap service database at '%s' (install nmap, or "
			      "give --service-db FILE)",
			      path);
	if (ret == -EINVAL)
		return refuse("--service-db: %s", err);
	if (ret < 0)
		return refuse("--service-db: cannot read '%s': %s", path, strerror(-ret));
	cfg->svc.db = db;
	return RS_CLI_RUN;
}

int rs_config_build(struct rs_config *cfg, struct rs_cli_opts *o, uint64_t nofile)
{
	int ret;

	if (cfg->shard_count && !o->seed_set)
		return refuse("--shard needs --seed: every shard must use the same order");
	ret = build_space(cfg, o);
	if (ret != RS_CLI_RUN)
		return ret;
	if (!cfg->shard_count) {
		cfg->shard_index = 0;
		cfg->shard_count = 1;
	}
	cfg->sink = rs_sink_find(o->format);
	if (!cfg->sink)
		return refuse("-f/--format: unknown format '%s' (%s)", o->format, rs_sink_names());
	if (cfg->sink->sorted && (ret = sorted_store(cfg, o)) != RS_CLI_RUN)
		return ret;
	if (cfg->dry_run && cfg->stats_path)
		return refuse("--stats: a --dry-run sends nothing, so there is no scan summary to "
			      "write");
	if (o->interval_set && !o->resume)
		return refuse("--checkpoint-interval: only with --resume FILE");
	ret = setup_service(cfg);
	if (ret != RS_CLI_RUN)
		return ret;
	ret = check_outputs(cfg, o);
	if (ret == RS_CLI_RUN && o->resume)
		ret = check_resume(cfg, o->resume, &o->seed_set);
	if (ret != RS_CLI_RUN)
		return ret;
	if (!o->seed_set && getrandom(&cfg->seed, sizeof(cfg->seed), 0) != sizeof(cfg->seed))
		return refuse("--seed: no randomness available; give a seed");
	cfg->fp.seed = cfg->seed;
	if (cfg->resume && (ret = match_checkpoint(cfg, o->resume)) != RS_CLI_RUN)
		return ret;
	cfg->concurrency = clamp_concurrency(cfg, o->concurrency, nofile);
	if (o->resume && (ret = check_resumed_output(cfg)) != RS_CLI_RUN)
		return ret;
	if ((ret = open_db(cfg)) != RS_CLI_RUN)
		return ret;
	return open_files(cfg, o->resume != NULL);
}

unsigned rs_config_attempt_max_ms(const struct rs_config *cfg)
{
	return cfg->timeout_ms ? cfg->timeout_ms : RS_RTO_MAX_US / 1000;
}

unsigned rs_config_answer_max_ms(const struct rs_config *cfg)
{
	/* The service stage: a greeting, then (--service) a KEXINIT. */
	return rs_config_attempt_max_ms(cfg) + (cfg->banner ? 2 * cfg->read_timeout_ms : 0);
}

unsigned rs_config_attempts_max(const struct rs_config *cfg)
{
	return cfg->retries >= 0 ? (unsigned)cfg->retries + 1 : RS_ATTEMPTS_MAX;
}
