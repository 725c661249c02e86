/* A scan's configuration and summary: what the CLI builds and what the
 * coordinator reports. */
#ifndef RINGSCAN_SCAN_H
#define RINGSCAN_SCAN_H

#include <stdbool.h>
#include <stdint.h>
#include "ringscan/checkpoint.h"
#include "ringscan/rtthist.h"
#include "ringscan/sink.h"
#include "ringscan/svc.h"
#include "ringscan/targets.h"
#include "ringscan/trace.h"
#include "ringscan/types.h"

#define RS_MAX_WORKERS 256
#define RS_SVC_NAMES   64 /* distinct service names the summary counts */

/* --engine, and (after the coordinator's probe) the engine a worker runs:
 * a worker's is one of URING (direct descriptors), COMPAT, EPOLL. */
enum rs_engine_mode {
	RS_ENGINE_AUTO = 0, /* io_uring where it is allowed, else epoll */
	RS_ENGINE_COMPAT,   /* io_uring with plain fds and sockopt syscalls */
	RS_ENGINE_URING,    /* io_uring: direct descriptors where the kernel has them */
	RS_ENGINE_EPOLL,    /* non-blocking sockets and epoll */
};

struct rs_config {
	struct rs_space space;		   /* targets minus exclusions, × ports */
	struct rs_addrset exclude;	   /* what was subtracted */
	uint32_t shard_index, shard_count; /* --shard I/N (0/1 = everything) */
	bool dry_run;
	uint64_t seed;
	unsigned workers;
	double cpu_limit;     /* the cgroup CPU quota that set the default workers, or 0 */
	unsigned concurrency; /* per worker */
	unsigned timeout_ms;  /* -t per attempt, or 0: from measured round trips */
	int retries;	      /* --retries, or -1: as many as the loss seen calls for */
	uint64_t rate;	      /* new connects per second, all workers; 0 = none */
	bool fixed_rate;      /* --fixed-rate: no congestion control */
	bool all;
	bool quiet;
	enum rs_engine_mode engine;
	char engine_reason[160]; /* why auto chose epoll, or "" */
	const char *output;	 /* NULL = stdout */
	char *cmdline;		 /* the command line as one string (sink.h's rs_sink_ctx) */
	int out_fd;		 /* opened by the CLI before anything is sent */
	int signal_fd;		 /* signalfd for SIGINT/SIGTERM, or -1 */
	const char *stats_path;
	const struct rs_sink_ops *sink;
	/* --resume FILE: the checkpoint kept current while scanning, and
	 * what it held when the scan began (NULL when it did not exist). */
	const char *resume_path;
	struct rs_checkpoint *resume;
	unsigned checkpoint_ms;	  /* how often to write it */
	struct rs_fingerprint fp; /* what a checkpoint of this scan records */
	uint64_t out_length;	  /* bytes already in the output (resumed) */
	/* The service stage: --banner (and --service, which implies it). */
	bool banner;
	bool service;
	unsigned read_timeout_ms;
	int service_intensity;	/* --service-intensity, or -1 */
	const char *service_db; /* --service-db, or NULL: nmap's, if installed */
	struct rs_svc_cfg svc;	/* svc.db: loaded here, freed by rs_cli_free */
	/* --db FILE: the inventory, opened (and for --resume made to match
	 * the checkpoint) by config.c, closed by rs_cli_free. */
	const char *db_path;
	struct rs_inv *db;
	/* -f xml without --db: a private inventory in $TMPDIR holds the
	 * answers until the end sorts them by host; removed by rs_cli_free. */
	char db_tmp[256];
};

struct rs_inv;

struct rs_worker_summary {
	int pid;
	uint64_t probes;
	const char *engine; /* "direct", "compat", "epoll" or "none" (never started) */
};

struct rs_summary {
	uint64_t seed;
	uint32_t shard_index, shard_count;
	uint64_t targets;
	uint64_t count[RS_NSTATES];
	uint64_t retries;
	uint64_t local_errors;
	double elapsed_s;
	unsigned workers;
	double cpu_limit;		   /* the cgroup CPU quota that set workers, or 0 */
	unsigned concurrency;		   /* per worker, after clamping to limits */
	const char *engine;		   /* "direct", "compat", "epoll" or "none" */
	const char *engine_reason;	   /* why auto chose it (why none ran), or NULL */
	char engine_why[256];		   /* a reason the workers gave, for engine_reason */
	int interrupted;		   /* the signal that stopped the scan, or 0 */
	unsigned restarts;		   /* workers that died and were replaced */
	uint64_t requeued;		   /* positions handed out again after a death */
	uint64_t duplicates;		   /* answers dropped as repeats */
	uint64_t resumed;		   /* answered by earlier runs (--resume) */
	uint64_t inflight_peak;		   /* most probes in flight at once, as sampled */
	bool adaptive;			   /* congestion control on */
	struct rs_sending sending;	   /* the workers' sending counters at the end */
	struct rs_trace trace;		   /* ... and over time */
	struct rs_rtthist rtt[RS_NSTATES]; /* this run's answers' rtt_us */
	/* Open ports by the service found there (--banner), this run's. */
	struct {
		char name[64]; /* a copy: names may live in a record that goes */
		uint64_t n;
	} svc[RS_SVC_NAMES];
	unsigned nsvc;
	uint64_t svc_unknown; /* not recognised (or beyond the table) */
	bool services;	      /* the scan had a service stage */
	struct rs_worker_summary worker[RS_MAX_WORKERS];
};

/* Run the scan described by cfg, writing results to its sink and the
 * summary to sum. Returns 0, -EINTR when a signal on cfg->signal_fd stopped
 * it (sum->interrupted says which; what was answered is written), or
 * -errno for a runtime failure (after printing one line on stderr). */
int rs_scan_run(const struct rs_config *cfg, struct rs_summary *sum);

/* The summary of a finished scan as its checkpoint records it. */
void rs_summary_from_checkpoint(struct rs_summary *sum, const struct rs_checkpoint *ck);

/* Write the summary as a JSON object (no trailing newline) into f-style
 * output, and as human lines on stderr. */
int rs_summary_write_json(const struct rs_summary *sum, const char *path);
void rs_summary_print(const struct rs_summary *sum, int fd);

#endif
