/* Worker processes: fork one per core after the shared region exists, pin
 * each to its core, run the engine, and reap them. */
#ifndef RS_WORKER_H
#define RS_WORKER_H

#include <stddef.h>
#include <sys/types.h>

#include "engine.h"

/* Fork worker id running rs_engine_run(p) pinned to a core of the
 * coordinator's affinity mask. Returns the child's pid or -errno. */
pid_t rs_worker_spawn(const struct rs_engine_params *p);

/* The CPUs this process may run on, in order; returns how many (>= 1). */
unsigned rs_online_cpus(int *cpus, unsigned max);

/* A one-line note when `workers` is far above the CPUs this process may
 * run on (more than RS_WORKERS_PER_CPU each): workers beyond the CPUs
 * only take turns on them, each with its own ring and polling for jobs
 * when idle (3,072 refused probes on 2 CPUs: 0.02-0.05 s at -w 2,
 * 0.12-0.24 s at -w 256). Returns 1 with note set, or 0. */
#define RS_WORKERS_PER_CPU 8
int rs_workers_note(unsigned workers, char *note, size_t n);

#endif
