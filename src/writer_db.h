/* The writer's side of --db: the scan's row, answers into the inventory's
 * writer thread, and the commits a checkpoint waits for (writer.c). */
#ifndef RS_WRITER_DB_H
#define RS_WRITER_DB_H

#include <stdbool.h>

#include "ringscan/checkpoint.h"
#include "ringscan/svc.h"
#include "ringscan/types.h"

struct rs_writer;

/* The scan's row (a new one, or the checkpoint's for a resumed scan) and
 * the writer thread. 0 or -errno after one line. */
int rs_writer_db_init(struct rs_writer *w);
/* One answer written to the output goes to the inventory too. */
void rs_writer_db_put(struct rs_writer *w, const struct rs_result *r, const struct rs_svcrec *rec);
/* After a drain: a batch waiting for more than a second goes to the
 * writer thread (readers see a slow scan's answers soon). */
void rs_writer_db_tick(struct rs_writer *w);
/* Everything handed over committed durably, with the counts (a checkpoint
 * is about to record them); fills ck's db fields. 0 or -EIO after one line. */
int rs_writer_db_sync(struct rs_writer *w, struct rs_checkpoint *ck);
/* The scan's end: its row says when, whether complete, and the engine. */
int rs_writer_db_finish(struct rs_writer *w, bool complete);

#endif
