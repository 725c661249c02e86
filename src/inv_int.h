/* The inventory's private parts: the open database and the writer
 * thread's queue (inventory.h). */
#ifndef RS_INV_INT_H
#define RS_INV_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringscan/inventory.h"

#define INV_APP_ID    0x72736376    /* PRAGMA application_id: "rscv" */
#define INV_BATCH     4096	    /* answers per transaction, at most */
#define INV_ROWS      32	    /* answers per INSERT statement (inv_insert_rows) */
#define INV_BATCHES   8		    /* the queue's bound, the batch being filled included */
#define INV_ARENA_MAX (1u << 20)    /* service bytes per batch before it is handed over */
#define INV_AGE_NS    1000000000ULL /* a batch waits at most this long to be handed over */

/* A batch of answers on its way to the writer thread, and what to do
 * with the scan's row in the same transaction. */
struct inv_batch {
	struct inv_batch *next;
	uint64_t seq;
	uint64_t born_ns; /* its first answer (CLOCK_MONOTONIC) */
	size_t n;
	bool sync, durable, progress;
	struct rs_inv_progress prog;
	char engine[16];
	uint8_t *arena; /* service records, each cut after its data */
	size_t alen, acap;
	uint32_t svc_off[INV_BATCH]; /* into arena, or UINT32_MAX */
	struct rs_result r[INV_BATCH];
};

struct rs_inv {
	sqlite3 *db;
	char err[512];
	/* The writer thread and its queue (under mu). */
	bool running;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* any change: work queued, a batch freed, one done */
	struct inv_batch *free, *head, *tail;
	struct inv_batch *cur; /* the coordinator's, being filled (not under mu) */
	uint64_t pushed, done;
	bool stop, failed;
	int64_t scan;
	sqlite3_stmt *ins[2];	   /* without, with the service columns */
	sqlite3_stmt *rows;	   /* INV_ROWS answers without service columns */
	struct rs_svcrec *scratch; /* the thread's: a record made whole again */
};

/* Run sql (no results wanted). 0, or -EIO with the message in db->err. */
int inv_exec(struct rs_inv *db, const char *sql);
/* Prepare sql; 0 or -EIO (message in db->err). */
int inv_prepare(struct rs_inv *db, const char *sql, sqlite3_stmt **st);
/* Record SQLite's last error as "what: message"; returns -EIO. */
int inv_fail(struct rs_inv *db, const char *what);

/* How many bytes of a service record carry something: up to its data's end. */
size_t inv_svcrec_len(const struct rs_svcrec *rec);
/* Insert r (and rec, reclen bytes) as a row of scan, with st[0] (a
 * prepared inv_insert_plain_sql) or, with rec, st[1] (inv_insert_sql).
 * 0 or SQLite's error code (the statement is reset). */
int inv_insert_result(sqlite3_stmt *const st[2], int64_t scan, const struct rs_result *r,
		      const struct rs_svcrec *rec, size_t reclen);
/* The INSERT of a result row, and of one without service columns. */
extern const char inv_insert_sql[], inv_insert_plain_sql[];
/* The INSERT of INV_ROWS rows without service columns, the scan ?1 (bound
 * once), the rows' columns after it; malloc'd, NULL without memory.
 * One statement for many rows: SQLite's per-statement work (opening the
 * table's cursor, seeking to the key from its root, halting) is paid
 * once for all of them. */
char *inv_insert_rows_sql(void);
/* Insert the INV_ROWS answers r[] with st (inv_insert_rows_sql, ?1
 * bound): 0 or SQLite's error code (the statement is reset). */
int inv_insert_rows(sqlite3_stmt *st, const struct rs_result *const *r);

/* The scan row (db->scan) brought to p, in the caller's transaction. */
int inv_progress(struct rs_inv *db, const struct rs_inv_progress *p);

/* Hex text of a 64-bit value (17 bytes), and back (0 or -EINVAL). */
void inv_hex(char *dst, uint64_t v);
int inv_unhex(const char *s, uint64_t *v);
/* ISO 8601 of a CLOCK_REALTIME time, as the JSON's ts. */
void inv_iso(char *dst, uint64_t ns);

#endif
