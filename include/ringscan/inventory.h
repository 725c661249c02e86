/* The inventory: scans and their answers kept in an SQLite database
 * (--db FILE; docs/inventory.md). A scans row per run, a results row per
 * answer written, keyed by (scan, permutation position) so that no answer
 * can be stored twice. While scanning, a thread of the coordinator's owns
 * the connection: the drain hands it answers in batches through a bounded
 * queue, and a checkpoint waits for a durable commit of everything handed
 * over before it records those answers (exactly once under --resume). */
#ifndef RINGSCAN_INVENTORY_H
#define RINGSCAN_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringscan/checkpoint.h"
#include "ringscan/svc.h"
#include "ringscan/types.h"

/* The schema version this ringscan writes (PRAGMA user_version). Older
 * databases are migrated forward when opened for writing; newer ones are
 * refused. */
#define RS_INV_SCHEMA 1

struct rs_inv; /* an open inventory */

/* A scans row. Strings are the row's own (freed by rs_inv_scan_free). */
struct rs_inv_scan {
	int64_t id;
	uint64_t token;		       /* random: a checkpoint names its scan by id and token */
	uint64_t started_ns, ended_ns; /* CLOCK_REALTIME; ended 0 while running */
	char *version, *cmdline, *ports, *shards;
	char engine[16];
	uint64_t seed;
	uint32_t shard_index, shard_count;
	uint64_t targets_hash, ports_hash, exclude_hash;
	uint64_t space;	    /* pairs in the whole target space */
	uint64_t positions; /* pairs this scan answers (its shard's) */
	bool all;	    /* --all: every state written, not just open */
	int service;	    /* 0 none, 1 --banner, 2 --service */
	uint64_t count[RS_NSTATES];
	bool complete;
	int interrupted; /* the signal that stopped the last run, or 0 */
};

/* What a running scan's row says so far (rs_inv_sync). */
struct rs_inv_progress {
	uint64_t count[RS_NSTATES];
	uint64_t ended_ns; /* 0 while running */
	bool complete;
	int interrupted;
	const char *engine; /* or NULL: unchanged */
};

enum rs_inv_mode {
	RS_INV_READ,   /* an existing database, not changed */
	RS_INV_WRITE,  /* created if missing, migrated forward */
	RS_INV_CREATE, /* a new file; refused if it exists */
};

/* Open path. Returns 0, or -errno / -EINVAL / -EPROTO (a newer schema)
 * with one line in err (without the option's name). */
int rs_inv_open(const char *path, enum rs_inv_mode mode, struct rs_inv **out, char *err,
		size_t errlen);
/* Stop the writer thread if it runs, and close. */
void rs_inv_close(struct rs_inv *db);
/* The last error's message. */
const char *rs_inv_errmsg(const struct rs_inv *db);

void rs_inv_scan_free(struct rs_inv_scan *sc);
/* argv as one string for the scans row (shell-quoted where needed);
 * malloc'd, NULL when out of memory. */
char *rs_inv_cmdline(int argc, char *const *argv);

/* Insert sc as a new scans row (id and token are filled in). */
int rs_inv_scan_create(struct rs_inv *db, struct rs_inv_scan *sc);
/* Read scan id (id < 0: the latest) into sc. -ENOENT when there is none. */
int rs_inv_scan_get(struct rs_inv *db, int64_t id, struct rs_inv_scan *sc);
/* The ids of every scan, oldest first (malloc'd; *n of them). */
int rs_inv_scan_ids(struct rs_inv *db, int64_t **ids, size_t *n);

/* --resume: make scan id hold exactly the answers ck records: the row must
 * carry ck's token and be unfinished; results at positions ck does not
 * count as answered (committed after its last checkpoint) are deleted;
 * then the number of rows must be what ck's counts say was written
 * (written: all answers with --all, else the open ones). -ESTALE with a
 * line in err when the database is not the one ck describes. */
int rs_inv_resume(struct rs_inv *db, const struct rs_checkpoint *ck, bool all, char *err,
		  size_t errlen);

/* The writer thread for scan id: from now on only rs_inv_put,
 * rs_inv_sync and rs_inv_close touch db. service: answers may carry a
 * service record. 0 or -errno. */
int rs_inv_writer_start(struct rs_inv *db, int64_t id);
/* Hand one answer (and its service record, or NULL) to the writer; waits
 * only when the queue is full. -EIO once the writer has failed. */
int rs_inv_put(struct rs_inv *db, const struct rs_result *r, const struct rs_svcrec *rec);
/* Hand the batch being filled to the writer if its first answer is
 * older than a second: readers see a slow scan's answers soon. */
void rs_inv_tick(struct rs_inv *db);
/* Everything handed over so far committed, with the scan row's progress
 * in the same transaction; durable: synced to disk before returning (a
 * checkpoint follows). -EIO when the writer has failed. */
int rs_inv_sync(struct rs_inv *db, const struct rs_inv_progress *p, bool durable);

/* Export: the answers of scan id in (family, address, port) order. Each
 * calls fn with the result and its service record (or NULL); a non-zero
 * return from fn stops the walk and is returned. */
typedef int (*rs_inv_fn)(void *arg, const struct rs_result *r, const struct rs_svcrec *rec);
int rs_inv_each(struct rs_inv *db, int64_t id, rs_inv_fn fn, void *arg);

/* Scan sc of db through sink into out: begin (told of the stored scan as
 * the live one told it), every answer in (address, port) order (what a
 * sorted sink needs: nmap XML), end, flush. 0 or -errno (-EIO: db's; an
 * output error is out's). */
struct rs_out;
struct rs_sink_ops;
int rs_inv_export(struct rs_inv *db, const struct rs_inv_scan *sc, const struct rs_sink_ops *sink,
		  struct rs_out *out);

/* Merge: the shard scans ids[n] (of the databases ins[n]) into one new scan
 * of out. Refused (-EINVAL, a line in err) unless they are shards of one
 * scan (seed, targets, ports, exclusions, --all, service stage) with
 * distinct indexes. */
int rs_inv_merge(struct rs_inv *out, struct rs_inv *const *ins, const int64_t *ids, size_t n,
		 const char *cmdline, int64_t *merged, char *err, size_t errlen);

#endif
