/* The coordinator: creates the shared region, forks the workers, feeds the
 * job ring, drains the result rings into the output sink, shows progress,
 * writes checkpoints, reaps the workers and fills in the summary. It never
 * blocks on a worker: every wait is a short nap between non-blocking looks. */
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
#include "ledger.h"
#include "progress.h"
#include "ringscan/perm.h"
#include "ringscan/scan.h"
#include "ringscan/shard.h"
#include "shm.h"
#include "worker.h"

#define JOB_SLOTS    1024
#define DRAIN_BATCH  1024
#define REQUEUE_MAX  4096 /* runs waiting to go back into the job ring */
#define MAX_RESTARTS 64	  /* worker deaths tolerated in one run */

struct coord {
	const struct rs_config *cfg;
	struct rs_summary *sum;
	struct rs_shm shm;
	struct rs_out *out;
	pid_t pid[RS_MAX_WORKERS];
	int alive[RS_MAX_WORKERS];
	uint64_t spawned_ns[RS_MAX_WORKERS];
	uint64_t first, end;		/* this shard's positions [first, end) */
	uint64_t total, next, received; /* total = end - first */
	uint64_t chunk;
	const struct rs_perm *perm;
	struct rs_ledger ledger;
	/* Unanswered runs to hand out again, ahead of new chunks, and the
	 * ranges (a dead worker's leases, a sweep) still to be split into
	 * such runs: any number, expanded as the queue empties. */
	struct rs_job requeue[REQUEUE_MAX];
	size_t nrequeue;
	struct rs_job *recheck;
	size_t nrecheck, caprecheck;
	uint64_t requeued;    /* positions handed out again */
	uint64_t duplicates;  /* answers dropped as repeats */
	unsigned restarts;    /* workers replaced */
	uint64_t stuck_since; /* job ring full but not by count, since */
	uint64_t idle_since;  /* everything handed out, nobody busy, since */
	/* Counters of workers that died (their shared ones restart at 0). */
	uint64_t dead_retries, dead_local_errors;
	/* --resume: every position below skip, and the runs pre[ipre..] above
	 * it, were answered by earlier runs; a run enters the ledger when the
	 * producer reaches it. */
	uint64_t skip;
	const struct rs_ckrun *pre;
	size_t npre, ipre;
	uint64_t ck_due; /* next periodic checkpoint (CLOCK_MONOTONIC) */
	bool ck_stale;	 /* the output failed: the last checkpoint stays */
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

/* A chunk of a resumed scan: enter what earlier runs answered in it into
 * the ledger and queue only the rest (at most chunk / 2 + 1 runs; the
 * queue is empty when this is called). */
static void enter_resumed(struct coord *c, uint64_t b, uint64_t e)
{
	while (c->ipre < c->npre && c->pre[c->ipre].begin < e) {
		const struct rs_ckrun *r = &c->pre[c->ipre];
		for (uint64_t p = r->begin > b ? r->begin : b; p < (r->end < e ? r->end : e); p++)
			rs_ledger_mark(&c->ledger, p);
		if (r->end > e)
			break;
		c->ipre++;
	}
	for (uint64_t at = b; at < e;) {
		size_t n = rs_ledger_gaps(&c->ledger, at, e, c->requeue + c->nrequeue,
					  REQUEUE_MAX - c->nrequeue, &at);
		if (!n)
			break;
		c->nrequeue += n;
	}
}

/* Hand the unanswered positions of [b, e) out again (a dead worker's
 * lease, or what a sweep found missing). Returns 0 or -ENOMEM. */
static int recheck_range(struct coord *c, uint64_t b, uint64_t e)
{
	if (c->nrecheck == c->caprecheck) {
		size_t cap = c->caprecheck ? c->caprecheck * 2 : 256;
		struct rs_job *n = realloc(c->recheck, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		c->recheck = n;
		c->caprecheck = cap;
	}
	c->recheck[c->nrecheck++] = (struct rs_job){b, e};
	return 0;
}

/* Split the last range to recheck into unanswered runs, as many as the
 * (empty) queue holds; the rest of the range waits for the next call. */
static void expand_recheck(struct coord *c)
{
	struct rs_job *r = &c->recheck[c->nrecheck - 1];
	size_t n = rs_ledger_gaps(&c->ledger, r->begin, r->end, c->requeue + c->nrequeue,
				  REQUEUE_MAX - c->nrequeue, &r->begin);

	for (size_t i = 0; i < n; i++)
		c->requeued += c->requeue[c->nrequeue + i].end - c->requeue[c->nrequeue + i].begin;
	c->nrequeue += n;
	if (r->begin >= r->end || !n)
		c->nrecheck--;
}

/* Fill the job ring: runs to hand out again first, then new chunks, never
 * past the ledger's window. A ring that refuses a push while not holding a
 * full ring of jobs has a slot that a dead worker claimed and never
 * released: after 100 ms of that, release it (the job in it is recovered by
 * the idle sweep). */
static void produce(struct coord *c)
{
	for (;;) {
		while (c->nrequeue) {
			if (!rs_jobring_push(c->shm.jobs, &c->requeue[c->nrequeue - 1]))
				goto full;
			c->nrequeue--;
		}
		if (c->nrecheck) {
			expand_recheck(c);
			continue;
		}
		if (c->next >= rs_ledger_limit(&c->ledger))
			break;
		uint64_t end = c->next + c->chunk;
		struct rs_job job = {c->next, end < c->end ? end : c->end};
		if (job.begin < c->skip || (c->ipre < c->npre && c->pre[c->ipre].begin < job.end)) {
			enter_resumed(c, job.begin, job.end);
			c->next = job.end;
			continue;
		}
		if (!rs_jobring_push(c->shm.jobs, &job))
			goto full;
		c->next = job.end;
	}
	c->stuck_since = 0;
	return;
full:
	if (rs_jobring_count(c->shm.jobs) > c->shm.jobs->mask) {
		c->stuck_since = 0;
		return;
	}
	if (!c->stuck_since)
		c->stuck_since = mono_ns();
	else if (mono_ns() - c->stuck_since > 100000000ULL)
		rs_jobring_unstick(c->shm.jobs);
}

/* The workers' probes in flight now, kept in the summary if the most yet:
 * the evidence that a scan held as many as it was given slots for. */
static void sample_inflight(const struct coord *c, struct rs_summary *sum)
{
	uint64_t n = 0;

	for (unsigned w = 0; w < c->cfg->workers; w++)
		n += atomic_load_explicit(&c->shm.w[w].inflight, memory_order_relaxed);
	if (n > sum->inflight_peak)
		sum->inflight_peak = n;
}

/* Take every answer waiting in the result rings; a position answered
 * before (handed out twice after a worker died) is dropped, so the output
 * holds each exactly once. Returns how many answers were taken. */
static uint64_t drain(struct coord *c)
{
	const struct rs_sink_ops *sink = c->cfg->sink;
	uint64_t got = 0;

	for (unsigned w = 0; w < c->cfg->workers; w++) {
		size_t n;
		while ((n = rs_resring_pop(c->shm.res[w], c->buf, DRAIN_BATCH)) > 0) {
			got += n;
			for (size_t i = 0; i < n; i++) {
				const struct rs_result *r = &c->buf[i];
				if (!rs_ledger_mark(&c->ledger, r->pos)) {
					c->duplicates++;
					continue;
				}
				c->received++;
				c->sum->count[r->state < RS_NSTATES ? r->state : RS_ERROR]++;
				c->sum->worker[w].probes++;
				if (c->cfg->all || r->state == RS_OPEN)
					sink->record(c->out, r);
			}
		}
	}
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

static int spawn_one(struct coord *c, unsigned w);

/* A worker died while the scan was running: what it published is taken,
 * the positions of the chunks it held (its leases) that have no answer go
 * back to the job ring for the others, and a new worker takes its place. */
static int hand_over(struct coord *c, unsigned w)
{
	struct rs_wshared *ws = &c->shm.w[w];

	drain(c);
	c->dead_retries += atomic_exchange(&ws->retries, 0);
	c->dead_local_errors += atomic_exchange(&ws->local_errors, 0);
	struct rs_lease *lease = rs_shm_leases(&c->shm, w);
	for (uint32_t k = 0; k < c->shm.nleases; k++) {
		uint64_t b = atomic_load(&lease[k].begin), e = atomic_load(&lease[k].end);
		if (b < e && recheck_range(c, b, e) < 0)
			return -ENOMEM;
		atomic_store(&lease[k].begin, 0);
		atomic_store(&lease[k].end, 0);
	}
	atomic_store(&ws->inflight, 0);
	c->restarts++;
	c->idle_since = 0;
	return spawn_one(c, w);
}

/* Reap workers that have exited. One that died while the scan ran has its
 * work handed over (at most MAX_RESTARTS times in a run); one that could
 * not start its engine, or died once the run is stopping, is a runtime
 * failure. Returns 0, -EINTR (a stop signal killed it), or -EIO. */
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
		if (st >= 0 && !scan_done && c->restarts < MAX_RESTARTS) {
			fprintf(stderr,
				"ringscan: worker %u (pid %d) %s %d; handing its work over\n", w,
				(int)c->pid[w],
				WIFSIGNALED(status) ? "killed by signal" : "exited with status",
				WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			if (hand_over(c, w) == 0)
				continue;
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

/* A worker's loop never blocks longer than a millisecond or so, and it
 * stamps a heartbeat every turn (also while it waits for room in its
 * result ring). One whose heartbeat stops for max(2 s, 4 x timeout x
 * attempts) is wedged: kill it, and reap() hands its work over. */
static void watchdog(struct coord *c)
{
	uint64_t now = mono_ns(),
		 limit = 4ULL * c->cfg->timeout_ms * (c->cfg->retries + 1) * 1000000ULL;

	if (limit < 2000000000ULL)
		limit = 2000000000ULL;
	for (unsigned w = 0; w < c->cfg->workers; w++) {
		if (!c->alive[w])
			continue;
		uint64_t beat =
			atomic_load_explicit(&c->shm.w[w].heartbeat_ns, memory_order_relaxed);
		if (beat < c->spawned_ns[w])
			beat = c->spawned_ns[w]; /* not started yet, or a new worker */
		if (now > beat && now - beat > limit) {
			fprintf(stderr,
				"ringscan: worker %u (pid %d) made no progress for %.1f s; "
				"killing it\n",
				w, (int)c->pid[w], (double)(now - beat) / 1e9);
			kill(c->pid[w], SIGKILL);
			c->spawned_ns[w] = now; /* once: reap() takes it from here */
		}
	}
}

/* Everything that may be handed out has been (up to the scan's end or the
 * window's limit), the ring is empty and no worker holds or runs anything,
 * yet answers are missing: a job was lost between a worker's claim and its
 * lease (it died in that instant). After 200 ms of that, hand out the
 * unanswered positions below the producer's mark again. */
static void sweep(struct coord *c)
{
	bool idle = (c->next == c->end || c->next >= rs_ledger_limit(&c->ledger)) && !c->nrequeue &&
		    !c->nrecheck && rs_jobring_count(c->shm.jobs) == 0;

	for (unsigned w = 0; idle && w < c->cfg->workers; w++) {
		const struct rs_lease *lease = rs_shm_leases(&c->shm, w);
		if (atomic_load(&c->shm.w[w].inflight))
			idle = false;
		for (uint32_t k = 0; idle && k < c->shm.nleases; k++)
			if (atomic_load(&lease[k].begin) < atomic_load(&lease[k].end))
				idle = false;
	}
	if (!idle || c->received == c->total) {
		c->idle_since = 0;
		return;
	}
	if (!c->idle_since) {
		c->idle_since = mono_ns();
		return;
	}
	if (mono_ns() - c->idle_since < 200000000ULL)
		return;
	c->idle_since = 0;
	recheck_range(c, c->first, c->next); /* on ENOMEM, the next sweep */
}

static unsigned alive_count(const struct coord *c)
{
	unsigned n = 0;
	for (unsigned w = 0; w < c->cfg->workers; w++)
		n += c->alive[w] != 0;
	return n;
}

/* Fork worker w (again, after a death: same id, same result ring). */
static int spawn_one(struct coord *c, unsigned w)
{
	const struct rs_config *cfg = c->cfg;
	struct rs_engine_params p = {
		.space = &cfg->space,
		.perm = c->perm,
		.shm = &c->shm,
		.id = w,
		.concurrency = cfg->concurrency,
		.timeout_ms = cfg->timeout_ms,
		.retries = cfg->retries,
		.rate = cfg->rate,
		.nworkers = cfg->workers,
		.mode = cfg->engine,
	};
	atomic_store(&c->shm.w[w].status, 0);
	pid_t pid = rs_worker_spawn(&p);
	if (pid < 0) {
		fprintf(stderr, "ringscan: fork: %s\n", strerror((int)-pid));
		return (int)pid;
	}
	c->pid[w] = pid;
	c->alive[w] = 1;
	c->spawned_ns[w] = mono_ns();
	return 0;
}

static int spawn_all(struct coord *c)
{
	for (unsigned w = 0; w < c->cfg->workers; w++) {
		int r = spawn_one(c, w);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The answered runs for a checkpoint: the ledger's, below what has been
 * handed out, then the resumed runs the producer has not reached yet. */
struct ck_iter {
	const struct coord *c;
	struct rs_job buf[256];
	size_t n, i, ipre;
	uint64_t at;
};

static bool ck_next(void *arg, struct rs_ckrun *run)
{
	struct ck_iter *it = arg;
	const struct coord *c = it->c;

	while (it->i == it->n && it->at < c->next) {
		it->n = rs_ledger_runs(&c->ledger, it->at, c->next, it->buf, 256, &it->at);
		it->i = 0;
		if (!it->n)
			it->at = c->next;
	}
	if (it->i < it->n) {
		*run = (struct rs_ckrun){it->buf[it->i].begin, it->buf[it->i].end};
		it->i++;
		return true;
	}
	while (it->ipre < c->npre) {
		const struct rs_ckrun *r = &c->pre[it->ipre++];
		uint64_t b = r->begin > c->next ? r->begin : c->next;
		if (b < r->end) {
			*run = (struct rs_ckrun){b, r->end};
			return true;
		}
	}
	return false;
}

static uint64_t total_retries(const struct coord *c, uint64_t *local_errors)
{
	uint64_t r = c->dead_retries, l = c->dead_local_errors;

	for (unsigned w = 0; w < c->cfg->workers; w++) {
		r += atomic_load(&c->shm.w[w].retries);
		l += atomic_load(&c->shm.w[w].local_errors);
	}
	if (c->cfg->resume) {
		r += c->cfg->resume->retries;
		l += c->cfg->resume->local_errors;
	}
	*local_errors = l;
	return r;
}

/* --resume: make the output durable, then record what it holds. After an
 * output error nothing more is recorded: the last checkpoint, whose length
 * the file still has, is the one to resume from. Returns 0 or -errno
 * (after one line on stderr). */
static int save_checkpoint(struct coord *c)
{
	const struct rs_config *cfg = c->cfg;
	struct ck_iter *it;
	int ret;

	if (!cfg->resume_path || c->ck_stale)
		return 0;
	ret = rs_out_flush(c->out);
	if (!ret && fdatasync(cfg->out_fd) < 0)
		ret = -errno;
	if (ret < 0) {
		c->ck_stale = true;
		fprintf(stderr, "ringscan: writing output: %s; '%s' still resumes the scan\n",
			strerror(-ret), cfg->resume_path);
		return ret;
	}
	struct rs_checkpoint ck = {
		.fp = cfg->fp,
		.first = c->first,
		.end = c->end,
		.low = c->first, /* the runs from first on raise it */
		.length = c->out->written,
	};
	memcpy(ck.count, c->sum->count, sizeof(ck.count));
	ck.retries = total_retries(c, &ck.local_errors);
	it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->c = c;
	it->at = c->first;
	it->ipre = c->ipre;
	ret = rs_checkpoint_save(cfg->resume_path, &ck, ck_next, it);
	free(it);
	if (ret < 0) {
		c->ck_stale = true;
		fprintf(stderr, "ringscan: --resume: cannot write '%s': %s\n", cfg->resume_path,
			strerror(-ret));
	}
	return ret;
}

/* A resumed scan starts where its checkpoint left off: the answers and
 * counts of earlier runs are taken as given, the output goes on at the
 * recorded length. */
static void resume_from(struct coord *c, const struct rs_checkpoint *ck)
{
	rs_ledger_skip(&c->ledger, ck->low);
	c->skip = ck->low;
	c->next = c->first + (ck->low - c->first) / c->chunk * c->chunk;
	c->pre = ck->runs;
	c->npre = ck->nruns;
	for (int s = 0; s < RS_NSTATES; s++) {
		c->sum->count[s] = ck->count[s];
		c->received += ck->count[s];
	}
	c->sum->resumed = c->received;
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
	c.perm = &perm;
	/* The window: how far past the oldest unfinished chunk the producer
	 * may hand out new ones: the ring's worth, a few per worker, and room
	 * for a slow chunk to finish while later ones go on. */
	ret = rs_ledger_init(&c.ledger, c.first, c.end, c.chunk,
			     JOB_SLOTS + 64 * cfg->workers + 1024);
	if (ret < 0)
		return ret;

	out = malloc(sizeof(*out)); /* a 64 KiB buffer: not on the stack */
	if (!out) {
		rs_ledger_free(&c.ledger);
		return -ENOMEM;
	}
	rs_out_init(out, cfg->out_fd);
	rs_out_wait_mask(out, cfg->wait_mask);
	out->written = cfg->out_length;
	c.out = out;
	if (cfg->resume)
		resume_from(&c, cfg->resume);

	ret = rs_shm_create(&c.shm, cfg->workers, JOB_SLOTS, cfg->workers > 8 ? 16384 : 65536,
			    cfg->concurrency + 1);
	if (ret < 0) {
		fprintf(stderr, "ringscan: shared memory: %s\n", strerror(-ret));
		free(out);
		rs_ledger_free(&c.ledger);
		return ret;
	}
	if (cfg->sink->begin && !cfg->out_length)
		cfg->sink->begin(out); /* a resumed output has its header */
	t0 = mono_ns();
	rs_progress_init(&prog, !cfg->quiet && isatty(STDERR_FILENO), t0);
	produce(&c);
	/* A checkpoint exists from the start, before any packet. */
	ret = save_checkpoint(&c);
	c.ck_due = t0 + (uint64_t)cfg->checkpoint_ms * 1000000ULL;
	if (!ret)
		ret = spawn_all(&c);
	if (ret < 0)
		goto out_kill;

	uint64_t last_check = 0;
	while (c.received < c.total) {
		produce(&c);
		uint64_t got = drain(&c);
		uint64_t now = mono_ns();
		sample_inflight(&c, sum);
		rs_progress_tick(&prog, now, c.received, c.total, sum->count[RS_OPEN]);
		if (out->err) {
			/* No point probing what cannot be reported. */
			fprintf(stderr, "ringscan: writing output: %s; stopping\n",
				strerror(out->err));
			if (cfg->resume_path)
				fprintf(stderr,
					"ringscan: '%s' resumes the scan from its last checkpoint "
					"once there is room\n",
					cfg->resume_path);
			c.ck_stale = true;
			ret = -out->err;
			goto out_kill;
		}
		/* Look for signals and after the workers when idle, and at
		 * least every 10 ms: a steady flow must not hide a dead one. */
		if (got && now - last_check < 10000000ULL)
			continue;
		last_check = now;
		int sig = pending_signal(cfg->signal_fd);
		if (sig) {
			sum->interrupted = sig;
			ret = -EINTR;
			goto out_stop;
		}
		if (cfg->resume_path && now >= c.ck_due) {
			ret = save_checkpoint(&c);
			if (ret < 0)
				goto out_kill;
			c.ck_due = now + (uint64_t)cfg->checkpoint_ms * 1000000ULL;
		}
		sweep(&c);
		watchdog(&c);
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
		if (!got)
			nap_us(250);
	}
	rs_progress_end(&prog);

	/* Every probe is answered: tell the workers to leave. */
	atomic_store_explicit(&c.shm.ctl->done, 1, memory_order_release);
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
	/* Graceful: workers start nothing new and leave once what is on the
	 * wire is answered (within a timeout); their answers are written. A
	 * second signal stops at once; either way the checkpoint below
	 * records exactly what the output holds. */
	rs_progress_end(&prog);
	if (!cfg->quiet)
		fprintf(stderr, "ringscan: stopping: answering the probes in flight (a second "
				"signal stops at once)\n");
	atomic_store(&c.shm.ctl->drain, 1);
	for (uint64_t deadline = mono_ns() + (cfg->timeout_ms + 2000ULL) * 1000000ULL;
	     alive_count(&c) && mono_ns() < deadline && !out->err;) {
		drain(&c);
		for (unsigned w = 0; w < cfg->workers; w++)
			if (c.alive[w] && waitpid(c.pid[w], NULL, WNOHANG) == c.pid[w])
				c.alive[w] = 0;
		if (pending_signal(cfg->signal_fd))
			break;
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
		if (atomic_load(&c.shm.w[w].engine) == RS_ENGINE_COMPAT)
			sum->engine = "compat";
	}
	sum->retries = total_retries(&c, &sum->local_errors);
	if (!sum->engine)
		sum->engine = "direct";
	if (cfg->sink->end && c.received == c.total)
		cfg->sink->end(out); /* a trailer only when complete: resumes append */
	int werr = rs_out_flush(out);
	if (werr < 0 && ret != werr) {
		fprintf(stderr, "ringscan: writing output: %s\n", strerror(-werr));
		ret = werr;
	}
	if (werr < 0)
		c.ck_stale = true;
	int cerr = save_checkpoint(&c);
	if (cerr < 0 && ret >= 0)
		ret = cerr;
	sum->elapsed_s = (double)(mono_ns() - t0) / 1e9;
	sum->requeued = c.requeued;
	sum->duplicates = c.duplicates;
	sum->restarts = c.restarts;
	rs_shm_destroy(&c.shm);
	rs_ledger_free(&c.ledger);
	free(c.recheck);
	free(out);
	return ret;
}
