/* The inventory's writer: a thread of the coordinator's that owns the
 * connection while a scan runs. The drain copies answers (and service
 * records) into the batch being filled, which goes to the thread's queue
 * when full or a second old; a batch is one transaction of prepared
 * INSERTs. The queue is bounded (INV_BATCHES): when the database cannot
 * keep up, the drain waits for a free batch. rs_inv_sync hands over the
 * batch being filled and waits for its commit, durable when a checkpoint
 * is about to count those answers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inv_int.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The answers run[0 .. n) inserted one by one (without service records). */
static int write_singly(struct rs_inv *db, const struct rs_result *const *run, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (inv_insert_result(db->ins, db->scan, run[i], NULL, 0))
			return inv_fail(db, "writing an answer");
	return 0;
}

/* The batch's answers inserted in the batch's order (of two answers for
 * one position the first is kept, the key ignores the second), and the
 * scan row's progress. Answers without a service record go INV_ROWS to a
 * statement; those held back when one with a record comes, and the last
 * few, one by one. */
static int write_rows(struct rs_inv *db, const struct inv_batch *b)
{
	const struct rs_result *run[INV_ROWS];
	size_t nrun = 0;

	for (size_t i = 0; i < b->n; i++) {
		if (b->svc_off[i] == UINT32_MAX) {
			run[nrun++] = &b->r[i];
			if (nrun < INV_ROWS)
				continue;
			nrun = 0;
			if (inv_insert_rows(db->rows, run))
				return inv_fail(db, "writing answers");
			continue;
		}
		if (write_singly(db, run, nrun))
			return -EIO;
		nrun = 0;
		const struct rs_svcrec *cut = (const void *)(b->arena + b->svc_off[i]);
		size_t len = inv_svcrec_len(cut);
		memcpy(db->scratch, cut, len); /* whole again: aligned, tail zero */
		if (inv_insert_result(db->ins, db->scan, &b->r[i], db->scratch, len))
			return inv_fail(db, "writing an answer");
	}
	if (write_singly(db, run, nrun))
		return -EIO;
	return b->progress ? inv_progress(db, &b->prog) : 0;
}

/* One batch, one transaction. A durable one is committed with
 * synchronous=FULL: in WAL mode the commit then syncs the log. */
static int write_batch(struct rs_inv *db, const struct inv_batch *b)
{
	int ret = 0;

	if (b->durable)
		ret = inv_exec(db, "PRAGMA synchronous=FULL");
	if (!ret)
		ret = inv_exec(db, "BEGIN");
	if (!ret)
		ret = write_rows(db, b);
	if (!ret)
		ret = inv_exec(db, "COMMIT");
	if (ret)
		sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	if (b->durable && !ret)
		ret = inv_exec(db, "PRAGMA synchronous=NORMAL");
	return ret;
}

static void *writer_main(void *arg)
{
	struct rs_inv *db = arg;

	pthread_setname_np(pthread_self(), "ringscan-db"); /* for top -H, perf */
	pthread_mutex_lock(&db->mu);
	for (;;) {
		while (!db->head && !db->stop)
			pthread_cond_wait(&db->cv, &db->mu);
		struct inv_batch *b = db->head;
		if (!b)
			break; /* stopped, and nothing left */
		db->head = b->next;
		if (!db->head)
			db->tail = NULL;
		bool failed = db->failed;
		pthread_mutex_unlock(&db->mu);
		int ret = failed ? 0 : write_batch(db, b);
		pthread_mutex_lock(&db->mu);
		if (ret)
			db->failed = true;
		db->done = b->seq;
		b->next = db->free;
		db->free = b;
		pthread_cond_broadcast(&db->cv);
	}
	pthread_mutex_unlock(&db->mu);
	return NULL;
}

int rs_inv_writer_start(struct rs_inv *db, int64_t id)
{
	int ret;

	db->scan = id;
	db->scratch = calloc(1, sizeof(*db->scratch));
	if (!db->scratch)
		return -ENOMEM;
	for (int i = 0; i < INV_BATCHES; i++) {
		struct inv_batch *b = malloc(sizeof(*b));
		if (!b)
			return -ENOMEM;
		b->arena = NULL;
		b->acap = 0;
		b->next = db->free;
		db->free = b;
	}
	/* The rows' scan is this scan, whose row exists (just created, or
	 * found by the resume's checks): checking the reference for every row
	 * (a lookup in scans, and a statement journal for every statement
	 * that could fail on it) was a third of the thread's work. */
	if ((ret = inv_exec(db, "PRAGMA foreign_keys=OFF")))
		return ret;
	char *rows = inv_insert_rows_sql();
	if (!rows)
		return -ENOMEM;
	ret = inv_prepare(db, rows, &db->rows);
	free(rows);
	if (ret || (ret = inv_prepare(db, inv_insert_plain_sql, &db->ins[0])) ||
	    (ret = inv_prepare(db, inv_insert_sql, &db->ins[1])))
		return ret;
	sqlite3_bind_int64(db->rows, 1, id);
	pthread_mutex_init(&db->mu, NULL);
	pthread_cond_init(&db->cv, NULL);
	ret = -pthread_create(&db->thread, NULL, writer_main, db);
	if (!ret)
		db->running = true;
	return ret;
}

/* Queue the batch being filled (under mu). */
static void push_locked(struct rs_inv *db)
{
	struct inv_batch *b = db->cur;

	db->cur = NULL;
	b->seq = ++db->pushed;
	b->next = NULL;
	if (db->tail)
		db->tail->next = b;
	else
		db->head = b;
	db->tail = b;
	pthread_cond_broadcast(&db->cv);
}

/* A free batch to fill, waiting for one if needed; NULL once failed. */
static struct inv_batch *take(struct rs_inv *db)
{
	struct inv_batch *b;

	pthread_mutex_lock(&db->mu);
	while (!db->free && !db->failed)
		pthread_cond_wait(&db->cv, &db->mu);
	b = db->failed ? NULL : db->free;
	if (b)
		db->free = b->next;
	pthread_mutex_unlock(&db->mu);
	if (b) {
		b->n = 0;
		b->alen = 0;
		b->sync = b->durable = b->progress = false;
		b->born_ns = mono_ns();
	}
	return b;
}

/* Copy rec into b's arena (cut after its data). 0 or -ENOMEM. */
static int keep_svc(struct inv_batch *b, const struct rs_svcrec *rec, uint32_t *off)
{
	size_t len = inv_svcrec_len(rec), at = (b->alen + 7) & ~(size_t)7;

	if (at + len > b->acap) {
		size_t cap = b->acap ? b->acap : 65536;
		while (cap < at + len)
			cap *= 2;
		uint8_t *a = realloc(b->arena, cap);
		if (!a)
			return -ENOMEM;
		b->arena = a;
		b->acap = cap;
	}
	memcpy(b->arena + at, rec, len);
	*off = (uint32_t)at;
	b->alen = at + len;
	return 0;
}

int rs_inv_put(struct rs_inv *db, const struct rs_result *r, const struct rs_svcrec *rec)
{
	if (!db->cur && !(db->cur = take(db)))
		return -EIO;
	struct inv_batch *b = db->cur;
	b->svc_off[b->n] = UINT32_MAX;
	if (rec && keep_svc(b, rec, &b->svc_off[b->n]) < 0)
		return -ENOMEM;
	b->r[b->n++] = *r;
	if (b->n == INV_BATCH || b->alen >= INV_ARENA_MAX) {
		pthread_mutex_lock(&db->mu);
		push_locked(db);
		pthread_mutex_unlock(&db->mu);
	}
	return 0;
}

void rs_inv_tick(struct rs_inv *db)
{
	if (!db->cur || !db->cur->n || mono_ns() - db->cur->born_ns <= INV_AGE_NS)
		return;
	pthread_mutex_lock(&db->mu);
	push_locked(db);
	pthread_mutex_unlock(&db->mu);
}

int rs_inv_sync(struct rs_inv *db, const struct rs_inv_progress *p, bool durable)
{
	if (!db->cur && !(db->cur = take(db)))
		return -EIO;
	struct inv_batch *b = db->cur;
	b->sync = true;
	b->durable = durable;
	if (p) {
		b->progress = true;
		b->prog = *p;
		if (p->engine) {
			snprintf(b->engine, sizeof(b->engine), "%s", p->engine);
			b->prog.engine = b->engine;
		}
	}
	pthread_mutex_lock(&db->mu);
	push_locked(db);
	uint64_t seq = db->pushed;
	while (db->done < seq && !db->failed)
		pthread_cond_wait(&db->cv, &db->mu);
	bool failed = db->failed;
	pthread_mutex_unlock(&db->mu);
	return failed ? -EIO : 0;
}

/* Let the thread finish what is queued, then free the queue. */
static void writer_stop(struct rs_inv *db)
{
	if (db->running) {
		pthread_mutex_lock(&db->mu);
		db->stop = true;
		pthread_cond_broadcast(&db->cv);
		pthread_mutex_unlock(&db->mu);
		pthread_join(db->thread, NULL);
		pthread_mutex_destroy(&db->mu);
		pthread_cond_destroy(&db->cv);
		db->running = false;
	}
	if (db->cur) {
		db->cur->next = db->free;
		db->free = db->cur;
		db->cur = NULL;
	}
	while (db->free) {
		struct inv_batch *b = db->free;
		db->free = b->next;
		free(b->arena);
		free(b);
	}
	for (int i = 0; i < 2; i++) {
		sqlite3_finalize(db->ins[i]);
		db->ins[i] = NULL;
	}
	sqlite3_finalize(db->rows);
	db->rows = NULL;
	free(db->scratch);
	db->scratch = NULL;
}

void rs_inv_close(struct rs_inv *db)
{
	if (!db)
		return;
	writer_stop(db);
	sqlite3_close(db->db);
	free(db);
}
