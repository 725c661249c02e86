/* The coordinator: creates the shared region, forks the workers, feeds the
 * job ring, drains the result rings into the output sink, shows progress,
 * reaps the workers and fills in the summary. It never blocks on a worker:
 * every wait is a short nap between non-blocking looks. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "progress.h"
#include "ringscan/perm.h"
#include "ringscan/scan.h"
#include "ringscan/shard.h"
#include "shm.h"
#include "worker.h"

#define JOB_SLOTS   1024
#define DRAIN_BATCH 1024

struct coord {
	const struct rs_config *cfg;
	struct rs_summary *sum;
	struct rs_shm shm;
	struct rs_out *out;
	pid_t pid[RS_MAX_WORKERS];
	int alive[RS_MAX_WORKERS];
	uint64_t first, end;		/* this shard's positions [first, end) */
	uint64_t total, next, received; /* total = end - first */
	uint64_t chunk;
	struct rs_result buf[DRAIN_BATCH];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void nap_us(long us)
{
	struct timespec ts = {0, us * 1000};
	nanosleep(&ts, NULL);
}

/* Chunk size: big enough that a claim feeds a worker for a while, small
 * enough that every worker gets a fair share of a small scan. */
static uint64_t chunk_size(uint64_t total, unsigned workers)
{
	uint64_t c = total / ((uint64_t)workers * 16);
	return c < 1 ? 1 : c > 4096 ? 4096 : c;
}

static void produce(struct coord *c)
{
	while (c->next < c->end) {
		uint64_t end = c->next + c->chunk;
		struct rs_job job = {c->next, end < c->end ? end : c->end};
		if (!rs_jobring_push(c->shm.jobs, &job))
			return;
		c->next = job.end;
	}
	if (!atomic_load_explicit(&c->shm.ctl->no_more_jobs, memory_order_relaxed))
		atomic_store_explicit(&c->shm.ctl->no_more_jobs, 1, memory_order_release);
}

/* Take every answer waiting in the result rings. Returns how many. */
static uint64_t drain(struct coord *c)
{
	const struct rs_sink_ops *sink = c->cfg->sink;
	uint64_t got = 0;

	for (unsigned w = 0; w < c->cfg->workers; w++) {
		size_t n;
		while ((n = rs_resring_pop(c->shm.res[w], c->buf, DRAIN_BATCH)) > 0) {
			for (size_t i = 0; i < n; i++) {
				const struct rs_result *r = &c->buf[i];
				c->sum->count[r->state < RS_NSTATES ? r->state : RS_ERROR]++;
				c->sum->worker[w].probes++;
				if (c->cfg->all || r->state == RS_OPEN)
					sink->record(c->out, r);
			}
			got += n;
		}
	}
	c->received += got;
	return got;
}

/* The signal waiting on the signalfd, or 0. */
static int pending_signal(int fd)
{
	struct signalfd_siginfo si;

	if (fd < 0 || read(fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}

static void kill_workers(struct coord *c)
{
	atomic_store(&c->shm.ctl->stop, 1);
	for (unsigned w = 0; w < c->cfg->workers; w++)
		if (c->alive[w])
			kill(c->pid[w], SIGKILL);
}

/* Reap workers that have exited. A worker that ends before the scan is
 * answered, or by a signal, is a runtime failure (hand-over of its jobs to
 * the others is not implemented yet). Returns 0 or -EIO. */
static int reap(struct coord *c, int scan_done)
{
	for (unsigned w = 0; w < c->cfg->workers; w++) {
		int status;
		if (!c->alive[w] || waitpid(c->pid[w], &status, WNOHANG) != c->pid[w])
			continue;
		c->alive[w] = 0;
		int32_t st = atomic_load(&c->shm.w[w].status);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && st == 1)
			continue;
		if (scan_done && WIFEXITED(status) && WEXITSTATUS(status) == 0)
			continue;
		if (WIFSIGNALED(status) &&
		    (WTERMSIG(status) == SIGTERM || WTERMSIG(status) == SIGINT)) {
			/* Sent to the whole process group: ours is pending too. */
			int sig = pending_signal(c->cfg->signal_fd);
			if (sig) {
				c->sum->interrupted = sig;
				return -EINTR;
			}
		}
		if (WIFSIGNALED(status))
			fprintf(stderr, "ringscan: worker %u (pid %d) killed by signal %d\n", w,
				(int)c->pid[w], WTERMSIG(status));
		else if (st < 0)
			fprintf(stderr, "ringscan: worker %u failed: %s\n", w, strerror(-st));
		else
			fprintf(stderr, "ringscan: worker %u (pid %d) exited early, status %d\n", w,
				(int)c->pid[w], WEXITSTATUS(status));
		return -EIO;
	}
	return 0;
}

static unsigned alive_count(const struct coord *c)
{
	unsigned n = 0;
	for (unsigned w = 0; w < c->cfg->workers; w++)
		n += c->alive[w] != 0;
	return n;
}

static int spawn_all(struct coord *c, const struct rs_perm *perm)
{
	const struct rs_config *cfg = c->cfg;

	for (unsigned w = 0; w < cfg->workers; w++) {
		struct rs_engine_params p = {
			.space = &cfg->space,
			.perm = perm,
			.shm = &c->shm,
			.id = w,
			.concurrency = cfg->concurrency,
			.timeout_ms = cfg->timeout_ms,
			.retries = cfg->retries,
			.rate = cfg->rate,
			.nworkers = cfg->workers,
			.mode = cfg->engine,
		};
		pid_t pid = rs_worker_spawn(&p);
		if (pid < 0) {
			fprintf(stderr, "ringscan: fork: %s\n", strerror((int)-pid));
			return (int)pid;
		}
		c->pid[w] = pid;
		c->alive[w] = 1;
	}
	return 0;
}

int rs_scan_run(const struct rs_config *cfg, struct rs_summary *sum)
{
	struct coord c = {.cfg = cfg, .sum = sum};
	struct rs_perm perm;
	struct rs_progress prog;
	struct rs_out *out = NULL;
	uint64_t t0;
	int ret;

	memset(sum, 0, sizeof(*sum));
	uint64_t space = rs_space_count(&cfg->space);
	rs_shard_range(space, cfg->shard_index, cfg->shard_count, &c.first, &c.end);
	c.next = c.first;
	c.total = c.end - c.first;
	c.chunk = chunk_size(c.total, cfg->workers);
	sum->seed = cfg->seed;
	sum->shard_index = cfg->shard_index;
	sum->shard_count = cfg->shard_count;
	sum->targets = c.total;
	sum->workers = cfg->workers;
	sum->concurrency = cfg->concurrency;
	rs_perm_init(&perm, space, cfg->seed); /* the whole space: shards share it */

	out = malloc(sizeof(*out)); /* a 64 KiB buffer: not on the stack */
	if (!out)
		return -ENOMEM;
	rs_out_init(out, cfg->out_fd);
	rs_out_wait_mask(out, cfg->wait_mask);
	c.out = out;

	ret = rs_shm_create(&c.shm, cfg->workers, JOB_SLOTS, cfg->workers > 8 ? 16384 : 65536);
	if (ret < 0) {
		fprintf(stderr, "ringscan: shared memory: %s\n", strerror(-ret));
		free(out);
		return ret;
	}
	if (cfg->sink->begin)
		cfg->sink->begin(out);
	t0 = mono_ns();
	rs_progress_init(&prog, !cfg->quiet && isatty(STDERR_FILENO), t0);
	produce(&c);
	ret = spawn_all(&c, &perm);
	if (ret < 0)
		goto out_kill;

	while (c.received < c.total) {
		produce(&c);
		uint64_t got = drain(&c);
		uint64_t now = mono_ns();
		rs_progress_tick(&prog, now, c.received, c.total, sum->count[RS_OPEN]);
		if (out->err) {
			/* No point probing what cannot be reported. */
			fprintf(stderr, "ringscan: writing output: %s; stopping\n",
				strerror(out->err));
			ret = -out->err;
			goto out_kill;
		}
		int sig = pending_signal(cfg->signal_fd);
		if (sig) {
			/* Stop now, keep what is answered (issue 4 adds draining
			 * in-flight probes and a checkpoint). */
			sum->interrupted = sig;
			atomic_store(&c.shm.ctl->stop, 1);
			ret = -EINTR;
			goto out_stop;
		}
		if (got)
			continue;
		ret = reap(&c, 0);
		if (!ret && !alive_count(&c)) {
			drain(&c);
			if (c.received < c.total) {
				fprintf(stderr,
					"ringscan: every worker exited with %llu of %llu probes "
					"unanswered\n",
					(unsigned long long)(c.total - c.received),
					(unsigned long long)c.total);
				ret = -EIO;
			}
		}
		if (ret == -EINTR)
			goto out_stop;
		if (ret < 0)
			goto out_kill;
		nap_us(250);
	}
	rs_progress_end(&prog);

	/* Every probe is answered: the workers see the empty ring and leave. */
	for (uint64_t deadline = mono_ns() + 10000000000ULL; alive_count(&c);) {
		ret = reap(&c, 1);
		if (ret < 0)
			goto out_kill;
		if (mono_ns() > deadline) {
			fprintf(stderr, "ringscan: workers did not exit; killing them\n");
			kill_workers(&c);
			break;
		}
		nap_us(1000);
	}
	ret = 0;
	goto out;
out_stop:
	/* A second signal now ends the process at once (default action). */
	if (cfg->wait_mask)
		sigprocmask(SIG_SETMASK, cfg->wait_mask, NULL);
	/* Workers see stop and leave within a loop iteration; take what they
	 * published meanwhile, bounded in time. */
	for (uint64_t deadline = mono_ns() + 2000000000ULL;
	     alive_count(&c) && mono_ns() < deadline;) {
		drain(&c);
		for (unsigned w = 0; w < cfg->workers; w++)
			if (c.alive[w] && waitpid(c.pid[w], NULL, WNOHANG) == c.pid[w])
				c.alive[w] = 0;
		nap_us(1000);
	}
	drain(&c);
out_kill:
	rs_progress_end(&prog);
	kill_workers(&c);
out:
	for (unsigned w = 0; w < cfg->workers; w++) {
		if (c.alive[w])
			waitpid(c.pid[w], NULL, 0);
		sum->worker[w].pid = c.pid[w];
		sum->retries += atomic_load(&c.shm.w[w].retries);
		sum->local_errors += atomic_load(&c.shm.w[w].local_errors);
		if (atomic_load(&c.shm.w[w].engine) == RS_ENGINE_COMPAT)
			sum->engine = "compat";
	}
	if (!sum->engine)
		sum->engine = "direct";
	if (cfg->sink->end)
		cfg->sink->end(out);
	int werr = rs_out_flush(out);
	if (werr < 0 && ret != werr) {
		fprintf(stderr, "ringscan: writing output: %s\n", strerror(-werr));
		ret = werr;
	}
	sum->elapsed_s = (double)(mono_ns() - t0) / 1e9;
	rs_shm_destroy(&c.shm);
	free(out);
	return ret;
}
