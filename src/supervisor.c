/* The supervisor: the workers' lives (see supervisor.h). It never blocks
 * on a worker while the scan runs: reaping is WNOHANG, and a worker that
 * hangs is found by its heartbeat. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "config.h"
#include "errmsg.h"
#include "stopsig.h"
#include "supervisor.h"
#include "worker.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void rs_supervisor_init(struct rs_supervisor *sv, const struct rs_config *cfg, struct rs_shm *shm,
			const struct rs_perm *perm)
{
	memset(sv, 0, sizeof(*sv));
	sv->cfg = cfg;
	sv->shm = shm;
	sv->perm = perm;
}

/* Fork worker w (again, after a death: same id, same result ring). */
static int spawn_one(struct rs_supervisor *sv, unsigned w)
{
	const struct rs_config *cfg = sv->cfg;
	struct rs_engine_params p = {
		.space = &cfg->space,
		.perm = sv->perm,
		.shm = sv->shm,
		.id = w,
		.concurrency = cfg->concurrency,
		.timeout_ms = cfg->timeout_ms,
		.retries = cfg->retries,
		.rate = cfg->rate,
		.adaptive = !cfg->fixed_rate,
		.probes = sv->probes,
		.nworkers = cfg->workers,
		.mode = cfg->engine,
		.svc = cfg->banner ? &cfg->svc : NULL,
	};
	atomic_store(&sv->shm->w[w].status, 0);
	atomic_store(&sv->shm->w[w].engine, RS_ENGINE_AUTO); /* none yet */
	sv->shm->w[w].engine_reason[0] = 0;
	pid_t pid = rs_worker_spawn(&p);
	if (pid < 0) {
		rs_errorf("fork: %s", strerror((int)-pid));
		return (int)pid;
	}
	sv->pid[w] = pid;
	sv->alive[w] = true;
	sv->spawned_ns[w] = mono_ns();
	return 0;
}

int rs_supervisor_spawn_all(struct rs_supervisor *sv)
{
	for (unsigned w = 0; w < sv->cfg->workers; w++) {
		int r = spawn_one(sv, w);
		if (r < 0)
			return r;
	}
	return 0;
}

int rs_supervisor_replace(struct rs_supervisor *sv, unsigned w, struct rs_producer *p)
{
	struct rs_wshared *ws = &sv->shm->w[w];
	struct rs_lease *lease = rs_shm_leases(sv->shm, w);

	sv->dead_retries += atomic_exchange(&ws->retries, 0);
	sv->dead_local_errors += atomic_exchange(&ws->local_errors, 0);
	for (uint32_t k = 0; k < sv->shm->nleases; k++) {
		uint64_t b = atomic_load(&lease[k].begin), e = atomic_load(&lease[k].end);
		if (b < e && rs_producer_recheck(p, b, e) < 0)
			return -ENOMEM;
		atomic_store(&lease[k].begin, 0);
		atomic_store(&lease[k].end, 0);
	}
	atomic_store(&ws->inflight, 0);
	sv->restarts++;
	p->idle_since = 0;
	return spawn_one(sv, w);
}

/* Say why worker w ended the run. */
static void report_death(const struct rs_supervisor *sv, unsigned w, int status, int32_t st)
{
	if (WIFSIGNALED(status))
		rs_errorf("worker %u (pid %d) killed by signal %d", w, (int)sv->pid[w],
			  WTERMSIG(status));
	else if (st < 0 && sv->shm->w[w].engine_reason[0])
		rs_errorf("worker %u: io_uring unavailable (%s), and --engine %s needs it", w,
			  sv->shm->w[w].engine_reason,
			  sv->cfg->engine == RS_ENGINE_COMPAT ? "compat" : "uring");
	else if (st < 0)
		rs_errorf("worker %u failed: %s", w, strerror(-st));
	else
		rs_errorf("worker %u (pid %d) exited early, status %d", w, (int)sv->pid[w],
			  WEXITSTATUS(status));
}

int rs_supervisor_reap(struct rs_supervisor *sv, bool scan_done, rs_hand_over_fn hand_over,
		       void *arg)
{
	for (unsigned w = 0; w < sv->cfg->workers; w++) {
		int status;
		if (!sv->alive[w] || waitpid(sv->pid[w], &status, WNOHANG) != sv->pid[w])
			continue;
		sv->alive[w] = false;
		int32_t st = atomic_load(&sv->shm->w[w].status);
		bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
		if (clean && (st == 1 || scan_done))
			continue;
		if (WIFSIGNALED(status) &&
		    (WTERMSIG(status) == SIGTERM || WTERMSIG(status) == SIGINT)) {
			/* Sent to the whole process group: ours is pending too. */
			sv->signo = rs_stopsig_take(sv->cfg->signal_fd);
			if (sv->signo)
				return -EINTR;
		}
		if (st >= 0 && !scan_done && sv->restarts < RS_MAX_RESTARTS) {
			rs_errorf("worker %u (pid %d) %s %d; handing its work over", w,
				  (int)sv->pid[w],
				  WIFSIGNALED(status) ? "killed by signal" : "exited with status",
				  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			if (hand_over(arg, w) == 0)
				continue;
		}
		report_death(sv, w, status, st);
		return -EIO;
	}
	return 0;
}

void rs_supervisor_watchdog(struct rs_supervisor *sv, uint64_t now)
{
	const struct rs_config *cfg = sv->cfg;
	uint64_t limit =
		4ULL * rs_config_attempt_max_ms(cfg) * rs_config_attempts_max(cfg) * 1000000ULL;

	if (limit < 2000000000ULL)
		limit = 2000000000ULL;
	for (unsigned w = 0; w < cfg->workers; w++) {
		if (!sv->alive[w])
			continue;
		uint64_t beat =
			atomic_load_explicit(&sv->shm->w[w].heartbeat_ns, memory_order_relaxed);
		if (beat < sv->spawned_ns[w])
			beat = sv->spawned_ns[w]; /* not started yet, or a new worker */
		if (now > beat && now - beat > limit) {
			rs_errorf("worker %u (pid %d) made no progress for %.1f s; killing it", w,
				  (int)sv->pid[w], (double)(now - beat) / 1e9);
			kill(sv->pid[w], SIGKILL);
			sv->spawned_ns[w] = now; /* once: reap() takes it from here */
		}
	}
}

void rs_supervisor_kill(struct rs_supervisor *sv)
{
	atomic_store(&sv->shm->ctl->stop, 1);
	for (unsigned w = 0; w < sv->cfg->workers; w++)
		if (sv->alive[w])
			kill(sv->pid[w], SIGKILL);
}

void rs_supervisor_say_fallback(struct rs_supervisor *sv)
{
	for (unsigned w = 0; w < sv->cfg->workers && !sv->said_fallback; w++) {
		struct rs_wshared *ws = &sv->shm->w[w];
		if (atomic_load(&ws->engine) != RS_ENGINE_EPOLL || !ws->engine_reason[0])
			continue;
		rs_errorf("io_uring unavailable in worker %u (%s): it uses epoll", w,
			  ws->engine_reason);
		sv->said_fallback = true;
	}
}

static const char *engine_name(int used)
{
	return used == RS_ENGINE_URING	  ? "direct"
	       : used == RS_ENGINE_COMPAT ? "compat"
	       : used == RS_ENGINE_EPOLL  ? "epoll"
					  : "none";
}

/* How capable an engine a worker reported: direct, compat, epoll; 0 for
 * none (not started, or its setup failed). */
static int rank(int used)
{
	return used == RS_ENGINE_URING	  ? 1
	       : used == RS_ENGINE_COMPAT ? 2
	       : used == RS_ENGINE_EPOLL  ? 3
					  : 0;
}

static const int by_rank[] = {RS_ENGINE_AUTO, RS_ENGINE_URING, RS_ENGINE_COMPAT, RS_ENGINE_EPOLL};

/* The summary's engine: the least capable one a worker ran (as one
 * compat worker always made it "compat"), and for workers whose io_uring
 * failed after the coordinator's check (epoll under auto), why (the first
 * one's reason) and, if not all, how many and what the others ran. No
 * engine at all: "none", and why if a worker's io_uring failed. */
static void sum_engines(const struct rs_supervisor *sv, struct rs_summary *sum)
{
	unsigned ran = 0, fell = 0;
	int worst = 0, others = 0;
	const char *fell_why = NULL, *fail_why = NULL;

	for (unsigned w = 0; w < sv->cfg->workers; w++) {
		const char *why = sv->shm->w[w].engine_reason;
		int used = atomic_load(&sv->shm->w[w].engine), r = rank(used);
		sum->worker[w].engine = engine_name(used);
		if (!r) {
			fail_why = fail_why || !why[0] ? fail_why : why;
			continue;
		}
		ran++;
		worst = r > worst ? r : worst;
		if (used == RS_ENGINE_EPOLL && why[0]) {
			fell++;
			fell_why = fell_why ? fell_why : why;
		} else if (!others || r < others) {
			others = r;
		}
	}
	sum->engine = engine_name(by_rank[worst]);
	sum->engine_why[0] = 0;
	if (fell && fell == ran)
		snprintf(sum->engine_why, sizeof(sum->engine_why), "%s", fell_why);
	else if (fell)
		snprintf(sum->engine_why, sizeof(sum->engine_why),
			 "%s, in %u of %u workers (the others %s)", fell_why, fell, ran,
			 engine_name(by_rank[others]));
	else if (!ran && fail_why)
		snprintf(sum->engine_why, sizeof(sum->engine_why), "%s", fail_why);
	sum->engine_reason = sum->engine_why[0] ? sum->engine_why : NULL;
}

void rs_supervisor_wait(struct rs_supervisor *sv, struct rs_summary *sum)
{
	for (unsigned w = 0; w < sv->cfg->workers; w++) {
		if (sv->alive[w])
			waitpid(sv->pid[w], NULL, 0);
		sv->alive[w] = false;
		sum->worker[w].pid = sv->pid[w];
	}
	sum_engines(sv, sum);
}

unsigned rs_supervisor_alive(const struct rs_supervisor *sv)
{
	unsigned n = 0;

	for (unsigned w = 0; w < sv->cfg->workers; w++)
		n += sv->alive[w];
	return n;
}

bool rs_supervisor_busy(const struct rs_supervisor *sv)
{
	for (unsigned w = 0; w < sv->cfg->workers; w++) {
		const struct rs_lease *lease = rs_shm_leases(sv->shm, w);
		if (atomic_load(&sv->shm->w[w].inflight))
			return true;
		for (uint32_t k = 0; k < sv->shm->nleases; k++)
			if (atomic_load(&lease[k].begin) < atomic_load(&lease[k].end))
				return true;
	}
	return false;
}

uint64_t rs_supervisor_inflight(const struct rs_supervisor *sv)
{
	uint64_t n = 0;

	for (unsigned w = 0; w < sv->cfg->workers; w++)
		n += atomic_load_explicit(&sv->shm->w[w].inflight, memory_order_relaxed);
	return n;
}

void rs_supervisor_sending(const struct rs_supervisor *sv, struct rs_sending *out)
{
	*out = (struct rs_sending){0};
	/* The timeout and budget of the workers that sent: one that never
	 * did still has its first (1 s, 10 attempts), which a scan of one
	 * probe reported as its own. If none sent, every worker's. */
	bool any = false;
	for (unsigned w = 0; w < sv->cfg->workers; w++)
		any |= atomic_load_explicit(&sv->shm->w[w].launched, memory_order_relaxed) != 0;
	for (unsigned w = 0; w < sv->cfg->workers; w++) {
		struct rs_wshared *ws = &sv->shm->w[w];
		uint32_t rto = atomic_load_explicit(&ws->rto_us, memory_order_relaxed);
		uint32_t att = atomic_load_explicit(&ws->attempts, memory_order_relaxed);
		out->rate += atomic_load_explicit(&ws->rate, memory_order_relaxed);
		out->sent += atomic_load_explicit(&ws->launched, memory_order_relaxed);
		out->ans1 += atomic_load_explicit(&ws->ans1, memory_order_relaxed);
		out->tmo1 += atomic_load_explicit(&ws->tmo1, memory_order_relaxed);
		out->cuts += atomic_load_explicit(&ws->cuts, memory_order_relaxed);
		if (any && !atomic_load_explicit(&ws->launched, memory_order_relaxed))
			continue;
		out->rto_us = rto > out->rto_us ? rto : out->rto_us;
		out->attempts = att > out->attempts ? att : out->attempts;
	}
}

uint64_t rs_supervisor_retries(const struct rs_supervisor *sv, uint64_t *local_errors)
{
	uint64_t r = sv->dead_retries, l = sv->dead_local_errors;

	for (unsigned w = 0; w < sv->cfg->workers; w++) {
		r += atomic_load(&sv->shm->w[w].retries);
		l += atomic_load(&sv->shm->w[w].local_errors);
	}
	*local_errors = l;
	return r;
}
