/* ringscan export and ringscan merge: argument parsing, then the store's
 * work (inv_read.c, inv_merge.c). Each has its own usage line and --help;
 * bad usage is one line naming the argument, exit status 2. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "errmsg.h"
#include "inv_cli.h"
#include "inv_diff.h"
#include "ringscan/inventory.h"
#include "ringscan/scan.h"
#include "ringscan/sink.h"
#include "ringscan/svcview.h"

static const char export_usage[] =
	"Usage: ringscan export --db FILE [--scan N] [-f FMT] [-o OUT]\n"
	"Write a scan stored in an inventory (--db) as a scan would have written it,\n"
	"its answers in (address, port) order.\n"
	"\n"
	"      --db FILE      the inventory\n"
	"      --scan N       the scan's id (default: the latest; see the scans table)\n"
	"  -f, --format FMT   jsonl (default), csv, list, xml\n"
	"  -o, --output OUT   write to OUT (default stdout)\n"
	"  -h, --help         this text\n"
	"Exit status: 0 done, 1 runtime failure, 2 bad usage or input.\n";

static const char merge_usage[] =
	"Usage: ringscan merge OUT.db IN.db...\n"
	"Combine the inventories of the shards of one scan (--shard I/N runs, each with\n"
	"its own --db) into one scan in OUT.db, a new file. The latest scan of each\n"
	"input is taken; they must be shards of one scan (same seed, targets, ports,\n"
	"exclusions, --all and service stage) with distinct indexes. The merged scan\n"
	"is complete when every shard is there and complete.\n"
	"\n"
	"  -h, --help         this text\n"
	"Exit status: 0 done, 1 runtime failure, 2 bad usage or input.\n";

static const char diff_usage[] =
	"Usage: ringscan diff --db FILE [A B]\n"
	"       ringscan diff OLD NEW\n"
	"What changed between two scans: the last two complete scans of an inventory\n"
	"(--db), scans A and B of it, or two output files, each JSON lines or nmap XML\n"
	"(ringscan's -f xml or nmap's -oX; told apart by content, so either side may\n"
	"be either). One JSON line per (address, port) that changed on stdout, change\n"
	"one of newly-open, no-longer-open, state, service, banner; a summary on\n"
	"stderr.\n"
	"\n"
	"  -h, --help         this text\n"
	"Exit status: 0 no change, 1 changes, 2 trouble.\n";

bool rs_inv_is_cmd(int argc, char **argv)
{
	return argc > 1 && (!strcmp(argv[1], "export") || !strcmp(argv[1], "merge") ||
			    !strcmp(argv[1], "diff"));
}

/* getopt_long's complaints as one line naming the option. */
static int bad_option(const char *cmd, int opt, char *const *argv)
{
	const char *arg = argv[optind - 1];
	int len = (int)strcspn(arg, "=");

	if (opt == ':')
		return rs_cli_refuse("%s: %.*s: missing argument", cmd, len, arg);
	if (optopt && optopt < 0x100 && strncmp(arg, "--", 2))
		return rs_cli_refuse("%s: -%c: unknown option (see ringscan %s --help)", cmd,
				     optopt, cmd);
	return rs_cli_refuse("%s: %.*s: unknown option (see ringscan %s --help)", cmd, len, arg,
			     cmd);
}

struct export_opts {
	const char *db, *format, *output;
	int64_t scan;
};

/* export's arguments. RS_CLI_RUN, RS_CLI_EXIT_OK (--help) or RS_CLI_USAGE. */
static int export_args(int argc, char **argv, struct export_opts *o)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},	  {"scan", required_argument, NULL, 's'},
		{"format", required_argument, NULL, 'f'}, {"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},	  {NULL, 0, NULL, 0},
	};
	static const char *const names[] = {
		['d'] = "--db", ['s'] = "--scan", ['f'] = "-f/--format", ['o'] = "-o/--output"};
	bool seen[128] = {false};
	int opt;
	char *end;

	*o = (struct export_opts){.format = "jsonl", .scan = -1};
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":f:o:h", opts, NULL)) != -1) {
		if (opt > 0 && opt < 128 && names[opt] && seen[opt])
			return rs_cli_refuse("export: %s: given twice (it takes one value)",
					     names[opt]);
		if (opt > 0 && opt < 128)
			seen[opt] = true;
		switch (opt) {
		case 'd':
			o->db = optarg;
			break;
		case 's':
			errno = 0;
			o->scan = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || o->scan < 1 || *optarg == '+')
				return rs_cli_refuse("export: --scan: invalid id '%s' (expected "
						     "1 or more)",
						     optarg);
			break;
		case 'f':
			o->format = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'h':
			fputs(export_usage, stdout);
			return RS_CLI_EXIT_OK;
		default:
			return bad_option("export", opt, argv);
		}
	}
	if (optind < argc)
		return rs_cli_refuse("export: '%s': unexpected argument (see ringscan export "
				     "--help)",
				     argv[optind]);
	if (!o->db)
		return rs_cli_refuse("export: --db FILE is needed (see ringscan export --help)");
	return RS_CLI_RUN;
}

/* The output file: created or truncated, but never the inventory itself. */
static int export_open(const struct export_opts *o)
{
	struct stat a, b;

	if (!o->output)
		return STDOUT_FILENO;
	if (stat(o->output, &a) == 0 && stat(o->db, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino)
		return -EEXIST;
	int fd = open(o->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	return fd < 0 ? -errno : fd;
}

static int cmd_export(int argc, char **argv)
{
	struct export_opts o;
	struct rs_inv *db = NULL;
	struct rs_inv_scan sc;
	struct rs_out *out = NULL;
	char err[768];
	int fd = -1, ret = export_args(argc, argv, &o), status = 2;

	if (ret != RS_CLI_RUN)
		return ret == RS_CLI_EXIT_OK ? 0 : 2;
	const struct rs_sink_ops *sink = rs_sink_find(o.format);
	if (!sink)
		return rs_cli_refuse("export: -f/--format: unknown format '%s' (%s)", o.format,
				     rs_sink_names());
	if (rs_inv_open(o.db, RS_INV_READ, &db, err, sizeof(err)))
		return rs_cli_refuse("export: --db: %s", err);
	ret = rs_inv_scan_get(db, o.scan, &sc);
	if (ret) {
		if (ret == -ENOENT && o.scan > 0)
			rs_cli_refuse("export: --scan: '%s' holds no scan %lld", o.db,
				      (long long)o.scan);
		else if (ret == -ENOENT)
			rs_cli_refuse("export: --db: '%s' holds no scan", o.db);
		else
			rs_errorf("export: --db: '%s': %s", o.db, rs_inv_errmsg(db));
		status = ret == -ENOENT ? 2 : 1;
		goto out;
	}
	fd = export_open(&o);
	if (fd < 0) {
		rs_cli_refuse("export: -o/--output: cannot write '%s': %s", o.output,
			      fd == -EEXIST ? "it is the inventory" : strerror(-fd));
		goto out_scan;
	}
	if (!sc.complete)
		rs_errorf("export: note: scan %lld is incomplete (%s)", (long long)sc.id,
			  sc.interrupted ? "interrupted" : "still running, or killed");
	out = malloc(sizeof(*out));
	ret = out ? 0 : -ENOMEM;
	if (!ret) {
		rs_out_init(out, fd);
		ret = rs_inv_export(db, &sc, sink, out);
	}
	status = ret ? 1 : 0;
	if (ret == -EIO && !(out && out->err))
		rs_errorf("export: --db: '%s': %s", o.db, rs_inv_errmsg(db));
	else if (ret)
		rs_errorf("export: writing %s: %s", o.output ? o.output : "stdout", strerror(-ret));
	free(out);
	if (fd > STDERR_FILENO && close(fd) < 0 && !status) {
		rs_errorf("export: writing %s: %s", o.output, strerror(errno));
		status = 1;
	}
out_scan:
	rs_inv_scan_free(&sc);
out:
	rs_inv_close(db);
	return status;
}

/* merge's arguments: only --help; then OUT and at least one input. */
static int merge_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if (opt != 'h')
			return bad_option("merge", opt, argv);
		fputs(merge_usage, stdout);
		return RS_CLI_EXIT_OK;
	}
	if (argc - optind < 2)
		return rs_cli_refuse("merge: %s (usage: ringscan merge OUT.db IN.db...)",
				     argc - optind ? "no input database given"
						   : "no output database given");
	return RS_CLI_RUN;
}

/* The inputs opened and checked to be distinct from each other and OUT. */
static int merge_open(char **paths, size_t n, struct rs_inv **ins)
{
	char err[768];
	struct stat a, b;

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++)
			if (stat(paths[i], &a) == 0 && stat(paths[j], &b) == 0 &&
			    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
				return rs_cli_refuse("merge: '%s': given twice (as '%s')", paths[i],
						     paths[j]);
		if (rs_inv_open(paths[i], RS_INV_READ, &ins[i], err, sizeof(err)))
			return rs_cli_refuse("merge: %s", err);
	}
	return RS_CLI_RUN;
}

static int cmd_merge(int argc, char **argv)
{
	int ret = merge_args(argc, argv), status = 2;
	char err[768] = "out of memory";

	if (ret != RS_CLI_RUN)
		return ret == RS_CLI_EXIT_OK ? 0 : 2;
	const char *outp = argv[optind];
	char **paths = argv + optind + 1;
	size_t n = (size_t)(argc - optind - 1);
	struct rs_inv **ins = calloc(n, sizeof(*ins)), *out = NULL;
	int64_t *ids = calloc(n, sizeof(*ids)), merged = 0;

	if (!ins || !ids) {
		rs_errorf("out of memory");
		status = 1;
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		ids[i] = -1; /* each input's latest scan */
	if (merge_open(paths, n, ins) != RS_CLI_RUN)
		goto done;
	if (rs_inv_open(outp, RS_INV_CREATE, &out, err, sizeof(err))) {
		rs_cli_refuse("merge: OUT.db: %s", err);
		goto done;
	}
	char *cmd = rs_inv_cmdline(argc + 1, argv - 1); /* "ringscan merge ..." */
	ret = cmd ? rs_inv_merge(out, ins, ids, n, cmd, &merged, err, sizeof(err)) : -ENOMEM;
	free(cmd);
	if (ret) {
		rs_errorf("merge: %s", err);
		rs_inv_close(out);
		out = NULL;
		unlink(outp); /* nothing half-merged is left behind */
		status = ret == -EINVAL ? 2 : 1;
		goto done;
	}
	fprintf(stderr, "ringscan: merged %zu shard%s into scan %lld of '%s'\n", n,
		n == 1 ? "" : "s", (long long)merged, outp);
	status = 0;
done:
	for (size_t i = 0; ins && i < n; i++)
		rs_inv_close(ins[i]);
	rs_inv_close(out);
	free(ins);
	free(ids);
	return status;
}

/* diff's arguments: --db FILE and 0 or 2 scan ids, or two files. */
static int diff_args(int argc, char **argv, const char **db, int64_t ids[2])
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt, n;
	char *end;

	*db = NULL;
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(diff_usage, stdout);
			return RS_CLI_EXIT_OK;
		}
		if (opt != 'd')
			return bad_option("diff", opt, argv);
		if (*db)
			return rs_cli_refuse("diff: --db: given twice (it takes one value)");
		*db = optarg;
	}
	n = argc - optind;
	if (!*db && n != 2)
		return rs_cli_refuse("diff: two files to compare, or --db FILE (see ringscan diff "
				     "--help)");
	if (*db && n != 0 && n != 2)
		return rs_cli_refuse("diff: --db takes two scan ids or none, not %d", n);
	for (int i = 0; *db && i < n; i++) {
		errno = 0;
		ids[i] = strtoll(argv[optind + i], &end, 10);
		if (errno || *end || ids[i] < 1 || *argv[optind + i] == '+')
			return rs_cli_refuse("diff: '%s': not a scan id", argv[optind + i]);
	}
	return RS_CLI_RUN;
}

/* The last two complete scans of db into ids; -ENOENT if there are not two. */
static int last_two(struct rs_inv *db, int64_t ids[2])
{
	int64_t *all = NULL;
	size_t n = 0, found = 0;
	struct rs_inv_scan sc;
	int ret = rs_inv_scan_ids(db, &all, &n);

	for (size_t i = n; !ret && i-- > 0 && found < 2;) {
		if ((ret = rs_inv_scan_get(db, all[i], &sc)))
			break;
		if (sc.complete)
			ids[1 - found++] = sc.id;
		rs_inv_scan_free(&sc);
	}
	free(all);
	return ret ? ret : found == 2 ? 0 : -ENOENT;
}

/* diff --db: the scans, checked to exist. 0, or the exit status. */
static int diff_db(const char *path, int64_t ids[2], bool given, struct rs_diff_counts *dc)
{
	struct rs_inv *db;
	struct rs_inv_scan sc;
	char err[768];
	int ret, status = 2;

	if (rs_inv_open(path, RS_INV_READ, &db, err, sizeof(err)))
		return rs_cli_refuse("diff: --db: %s", err);
	ret = given ? 0 : last_two(db, ids);
	if (ret == -ENOENT) {
		rs_cli_refuse("diff: --db: '%s' holds fewer than two complete scans", path);
		goto out;
	}
	for (int i = 0; !ret && i < 2; i++) {
		if ((ret = rs_inv_scan_get(db, ids[i], &sc)) == -ENOENT) {
			rs_cli_refuse("diff: '%s' holds no scan %lld", path, (long long)ids[i]);
			goto out;
		}
		if (!ret)
			rs_inv_scan_free(&sc);
	}
	if (!ret)
		ret = rs_inv_diff_scans(db, ids[0], ids[1], stdout, dc);
	if (ret) {
		rs_errorf("diff: --db: '%s': %s", path, rs_inv_errmsg(db));
		goto out;
	}
	status = 0;
out:
	rs_inv_close(db);
	return status;
}

static int cmd_diff(int argc, char **argv)
{
	static const char *const kind[RS_DIFF_KINDS] = {"newly open", "no longer open",
							"state changed", "service changed",
							"banner changed"};
	struct rs_diff_counts dc = {0};
	const char *db;
	int64_t ids[2] = {0, 0};
	char err[768], what[160];
	int ret = diff_args(argc, argv, &db, ids), status;

	if (ret != RS_CLI_RUN)
		return ret == RS_CLI_EXIT_OK ? 0 : 2;
	if (db) {
		if ((status = diff_db(db, ids, argc - optind == 2, &dc)))
			return status;
		snprintf(what, sizeof(what), "scan %lld -> scan %lld", (long long)ids[0],
			 (long long)ids[1]);
	} else {
		ret = rs_inv_diff_files(argv[optind], argv[optind + 1], stdout, &dc, err,
					sizeof(err));
		if (ret) {
			rs_errorf("diff: %s", err);
			return 2;
		}
		snprintf(what, sizeof(what), "'%s' -> '%s'", argv[optind], argv[optind + 1]);
	}
	if (fflush(stdout) || ferror(stdout)) {
		rs_errorf("diff: writing stdout: %s", strerror(errno));
		return 2;
	}
	uint64_t total = 0;
	char line[512];
	int at = snprintf(line, sizeof(line), "diff: %s:", what);
	for (int k = 0; k < RS_DIFF_KINDS; k++) {
		total += dc.n[k];
		at += snprintf(line + at, sizeof(line) - (size_t)at, "%s %llu %s", k ? "," : "",
			       (unsigned long long)dc.n[k], kind[k]);
	}
	rs_errorf("%s (%llu answers -> %llu)", line, (unsigned long long)dc.old,
		  (unsigned long long)dc.new);
	return total ? 1 : 0;
}

int rs_inv_cmd(int argc, char **argv)
{
	if (!strcmp(argv[1], "export"))
		return cmd_export(argc - 1, argv + 1);
	if (!strcmp(argv[1], "diff"))
		return cmd_diff(argc - 1, argv + 1);
	return cmd_merge(argc - 1, argv + 1);
}
