/* The coordinator's loop: it ties the producer (jobs into the ring), the
 * writer (answers into the output, checkpoints) and the supervisor (the
 * workers' lives) together, shows progress, notices stop signals, and
 * fills in the summary. It never blocks on a worker: every wait is a
 * short nap between non-blocking looks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "errmsg.h"
#include "producer.h"
#include "progress.h"
#include "ringscan/perm.h"
#include "ringscan/scan.h"
#include "ringscan/shard.h"
#include "shm.h"
#include "stopsig.h"
#include "supervisor.h"
#include "writer.h"

#define JOB_SLOTS 1024
/* Service records per worker (4 KiB each): the coordinator drains them
 * with the results, every few ms; a worker that finds its ring full waits. */
#define SVC_SLOTS 512

struct scan {
	const struct rs_config *cfg;
	struct rs_summary *sum;
	struct rs_shm shm;
	struct rs_perm perm;
	struct rs_producer prod;
	struct rs_supervisor sv;
	struct rs_writer wr;
	struct rs_progress prog;
	uint64_t t0, last_check;
	bool handed_all; /* said in ctl->handed_all */
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

static uint64_t total(const struct scan *s)
{
	return s->prod.end - s->prod.first;
}

static uint64_t drain(struct scan *s)
{
	return rs_writer_drain(&s->wr, &s->shm, &s->prod);
}

/* A worker died mid-scan: take what it published, then hand its unanswered
 * positions over and replace it. */
static int hand_over(void *arg, unsigned w)
{
	struct scan *s = arg;

	drain(s);
	return rs_supervisor_replace(&s->sv, w, &s->prod);
}

/* Retries and local-error backoffs: this run's and the checkpoint's. */
static uint64_t retries(const struct scan *s, uint64_t *local_errors)
{
	uint64_t r = rs_supervisor_retries(&s->sv, local_errors);

	if (s->cfg->resume) {
		r += s->cfg->resume->retries;
		*local_errors += s->cfg->resume->local_errors;
	}
	return r;
}

static int checkpoint(struct scan *s)
{
	uint64_t local, r = retries(s, &local);

	return rs_writer_checkpoint(&s->wr, &s->prod, r, local);
}

/* A stop signal, taken by the output while it waited for room or from the
 * signalfd now, or 0. Once there is one, waits for output room end. */
static int stop_signal(struct scan *s)
{
	int sig = s->wr.out->signo ? s->wr.out->signo : rs_stopsig_take(s->cfg->signal_fd);

	if (sig) {
		rs_out_stop(s->wr.out, sig);
		s->sum->interrupted = sig;
	}
	return sig;
}

/* The workers' sending counters into the trace (every interval, or now). */
static void sample_sending(struct scan *s, uint64_t now, bool last)
{
	struct rs_trace *t = &s->sum->trace;
	uint32_t ms = (uint32_t)((now - s->t0) / 1000000);

	rs_supervisor_sending(&s->sv, &s->sum->sending);
	rs_trace_tick(t, ms, &s->sum->sending, last);
}

/* The looks taken when idle and at least every 10 ms: signals, the
 * periodic checkpoint, lost jobs, wedged and dead workers. Returns 0,
 * -EINTR (a stop signal) or -errno (a runtime failure, said on stderr). */
static int look_around(struct scan *s, uint64_t now)
{
	int ret;

	if (stop_signal(s))
		return -EINTR;
	if (s->cfg->resume_path && now >= s->wr.ck_due) {
		ret = checkpoint(s);
		if (ret < 0)
			return ret;
		s->wr.ck_due = now + (uint64_t)s->cfg->checkpoint_ms * 1000000ULL;
	}
	bool busy = !rs_producer_handed_all(&s->prod, s->shm.jobs) || rs_supervisor_busy(&s->sv);
	rs_producer_sweep(&s->prod, s->shm.jobs, busy, s->wr.received == total(s), now);
	rs_supervisor_watchdog(&s->sv, now);
	sample_sending(s, now, false);
	rs_supervisor_say_fallback(&s->sv);
	ret = rs_supervisor_reap(&s->sv, false, hand_over, s);
	if (ret == -EINTR)
		s->sum->interrupted = s->sv.signo;
	if (ret || rs_supervisor_alive(&s->sv))
		return ret;
	drain(s);
	if (s->wr.received < total(s)) {
		rs_errorf("every worker exited with %llu of %llu probes unanswered",
			  (unsigned long long)(total(s) - s->wr.received),
			  (unsigned long long)total(s));
		return -EIO;
	}
	return 0;
}

/* Until every position is answered: produce, drain, look around. */
static int run(struct scan *s)
{
	struct rs_out *out = s->wr.out;

	for (;;) {
		rs_producer_fill(&s->prod, s->shm.jobs, mono_ns());
		if (!s->handed_all && s->prod.next == s->prod.end &&
		    !rs_jobring_count(s->shm.jobs)) {
			s->handed_all = true; /* once: workers read it every turn */
			atomic_store_explicit(&s->shm.ctl->handed_all, 1, memory_order_relaxed);
		}
		uint64_t got = drain(s);
		uint64_t now = mono_ns();
		uint64_t inflight = rs_supervisor_inflight(&s->sv);
		if (inflight > s->sum->inflight_peak)
			s->sum->inflight_peak = inflight;
		rs_progress_tick(&s->prog, now, s->wr.received, total(s), s->sum->count[RS_OPEN]);
		if (out->signo)
			return stop_signal(s), -EINTR;
		if (out->err) {
			/* No point probing what cannot be reported. */
			rs_errorf("writing output: %s; stopping", strerror(out->err));
			if (s->cfg->resume_path)
				rs_errorf("'%s' resumes the scan from its last checkpoint once "
					  "there is room",
					  s->cfg->resume_path);
			s->wr.ck_stale = true;
			return -out->err;
		}
		if (s->wr.db_failed) /* said once by writer_db.c */
			return -EIO;
		if (s->wr.received == total(s))
			return 0;
		/* A steady flow must not hide a dead worker or a signal. */
		if (got && now - s->last_check < 10000000ULL)
			continue;
		s->last_check = now;
		int ret = look_around(s, now);
		if (ret)
			return ret;
		if (!got)
			nap_us(250);
	}
}

/* Every probe is answered: let the workers leave (10 s at most). */
static int leave(struct scan *s)
{
	atomic_store_explicit(&s->shm.ctl->done, 1, memory_order_release);
	for (uint64_t deadline = mono_ns() + 10000000000ULL; rs_supervisor_alive(&s->sv);) {
		int ret = rs_supervisor_reap(&s->sv, true, hand_over, s);
		if (ret < 0)
			return ret;
		if (mono_ns() > deadline) {
			rs_errorf("workers did not exit; killing them");
			break;
		}
		nap_us(1000);
	}
	return 0;
}

/* Graceful stop: workers start nothing new and leave once what is on the
 * wire is answered (within a timeout); their answers are written, unless
 * the output takes nothing for as long. A second signal stops at once. */
static void stop(struct scan *s)
{
	struct rs_out *out = s->wr.out;

	rs_progress_end(&s->prog);
	if (!s->cfg->quiet)
		rs_errorf("stopping: answering the probes in flight (a second signal stops at "
			  "once)");
	atomic_store(&s->shm.ctl->drain, 1);
	for (uint64_t deadline =
		     mono_ns() + (rs_config_answer_max_ms(s->cfg) + 2000ULL) * 1000000ULL;
	     rs_supervisor_alive(&s->sv) && mono_ns() < deadline && !out->err;) {
		drain(s);
		rs_supervisor_reap(&s->sv, true, hand_over, s);
		if (rs_stopsig_take(s->cfg->signal_fd))
			break;
		nap_us(1000);
	}
	drain(s);
	if (out->err == ETIME)
		rs_errorf("the output took nothing for %u ms after the stop signal; the answers "
			  "it did not take are lost",
			  out->grace_ms);
}

/* Whatever the ending: workers gone, output flushed, the checkpoint
 * recording exactly what the output holds, the summary filled in. */
static int finish(struct scan *s, int ret)
{
	struct rs_summary *sum = s->sum;

	rs_progress_end(&s->prog);
	sample_sending(s, mono_ns(), true);
	rs_supervisor_kill(&s->sv);
	rs_supervisor_wait(&s->sv, sum);
	rs_supervisor_say_fallback(&s->sv); /* a scan too short to have said it */
	sum->retries = retries(s, &sum->local_errors);
	/* The coordinator's check chose epoll for all, or what the workers
	 * said (rs_supervisor_wait: what they ran, "none" if none started). */
	if (s->cfg->engine_reason[0])
		sum->engine_reason = s->cfg->engine_reason;
	int werr = rs_writer_finish(&s->wr, s->wr.received == total(s));
	if (werr < 0 && ret != werr && !s->wr.out->signo) {
		rs_errorf("writing output: %s", strerror(-werr));
		ret = werr;
	}
	int cerr = checkpoint(s);
	if (cerr < 0 && ret >= 0)
		ret = cerr;
	sum->elapsed_s = (double)(mono_ns() - s->t0) / 1e9;
	sum->requeued = s->prod.requeued;
	sum->duplicates = s->wr.duplicates;
	sum->restarts = s->sv.restarts;
	return ret;
}

/* The summary's fixed fields, the permutation, the producer and writer
 * (resumed where the checkpoint says), the shared region. Returns 0 or
 * -errno. */
static int setup(struct scan *s)
{
	const struct rs_config *cfg = s->cfg;
	struct rs_summary *sum = s->sum;
	uint64_t space = rs_space_count(&cfg->space), first, end;
	int ret;

	rs_shard_range(space, cfg->shard_index, cfg->shard_count, &first, &end);
	sum->seed = cfg->seed;
	sum->shard_index = cfg->shard_index;
	sum->shard_count = cfg->shard_count;
	sum->targets = end - first;
	sum->workers = cfg->workers;
	sum->cpu_limit = cfg->cpu_limit;
	sum->adaptive = !cfg->fixed_rate;
	sum->services = cfg->banner;
	rs_trace_init(&sum->trace);
	sum->concurrency = cfg->concurrency;
	rs_perm_init(&s->perm, space, cfg->seed); /* the whole space: shards share it */
	ret = rs_producer_init(&s->prod, first, end, cfg->workers,
			       (uint64_t)cfg->workers * cfg->concurrency, JOB_SLOTS);
	if (ret < 0)
		return ret;
	if (cfg->resume)
		rs_producer_resume(&s->prod, cfg->resume);
	ret = rs_writer_init(&s->wr, cfg, sum);
	if (ret < 0)
		return ret;
	ret = rs_shm_create(&s->shm, cfg->workers, JOB_SLOTS, cfg->workers > 8 ? 16384 : 65536,
			    cfg->concurrency + 1, cfg->banner ? SVC_SLOTS : 0);
	if (ret < 0) {
		rs_errorf("shared memory: %s", strerror(-ret));
		return ret;
	}
	rs_supervisor_init(&s->sv, cfg, &s->shm, &s->perm);
	s->sv.probes = end - first;
	return 0;
}

int rs_scan_run(const struct rs_config *cfg, struct rs_summary *sum)
{
	struct scan *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	memset(sum, 0, sizeof(*sum));
	s->cfg = cfg;
	s->sum = sum;
	ret = setup(s);
	if (ret < 0)
		goto out;
	s->t0 = mono_ns();
	rs_progress_init(&s->prog, !cfg->quiet && isatty(STDERR_FILENO), s->t0);
	rs_producer_fill(&s->prod, s->shm.jobs, s->t0);
	/* A checkpoint exists from the start, before any packet. */
	ret = checkpoint(s);
	s->wr.ck_due = s->t0 + (uint64_t)cfg->checkpoint_ms * 1000000ULL;
	if (!ret)
		ret = rs_supervisor_spawn_all(&s->sv);
	if (!ret)
		ret = run(s);
	if (!ret)
		ret = leave(s);
	else if (ret == -EINTR)
		stop(s);
	ret = finish(s, ret);
	rs_shm_destroy(&s->shm);
out:
	rs_writer_free(&s->wr);
	rs_producer_free(&s->prod);
	free(s);
	return ret;
}
